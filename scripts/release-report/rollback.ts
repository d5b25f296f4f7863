// The worst-case time to put every service's traffic back on blue after an `up`, from the gate
// and drain settings its traffic resources carry.
//
// `npm run rollback` sets blue 100 / green 0 and runs `pulumi up --target` on the traffic
// resources, which run one after another in release order (each waits for the one before). Per
// service, the rising colour (blue) must pass its health gate first: at most the gate's budget
// (`healthGate.timeoutSeconds`, which bounds all attempts and pauses); the weights change in
// milliseconds; then the resource waits `drainSeconds` for green's in-flight requests before it
// returns (components/release/shift.ts, waitForDrain), so the next service starts after that:
//
//   worst case = up overhead + sum over the services to move (gate timeout + drain)
//
// Only services that send traffic to green after this `up` need a rollback. The overhead covers
// the CLI starting the program and the plugins and writing the state: the local stack's whole
// rollback command took 4 to 11 s (README, release-local.test.ts), so 15 s bounds it.
import type { HealthGateSettings } from "../../components/release/health";

export const ROLLBACK_UP_OVERHEAD_SECONDS = 15;

export interface RollbackService {
    service: string;
    green: { weight: { after: number } };
    healthGate: HealthGateSettings;
    drainSeconds: number;
}

export interface RollbackEstimate {
    /** 0 when no service sends traffic to green after this `up`. */
    totalSeconds: number;
    overheadSeconds: number;
    /** The services a rollback would move, in release order, with their gate budget and drain. */
    services: { service: string; gateSeconds: number; drainSeconds: number }[];
}

export function worstCaseRollback(services: readonly RollbackService[]): RollbackEstimate {
    const moved = services
        .filter((s) => s.green.weight.after > 0)
        .map((s) => ({ service: s.service, gateSeconds: s.healthGate.timeoutSeconds, drainSeconds: s.drainSeconds }));
    if (moved.length === 0) return { totalSeconds: 0, overheadSeconds: 0, services: [] };
    const perService = moved.reduce((sum, s) => sum + s.gateSeconds + s.drainSeconds, 0);
    return { totalSeconds: ROLLBACK_UP_OVERHEAD_SECONDS + perService, overheadSeconds: ROLLBACK_UP_OVERHEAD_SECONDS, services: moved };
}

/** `95` -> `1 min 35 s`; `40` -> `40 s`; `3600` -> `60 min`. */
export function formatDuration(seconds: number): string {
    const whole = Math.round(seconds);
    if (whole < 60) return `${whole} s`;
    const minutes = Math.floor(whole / 60);
    const rest = whole % 60;
    return rest === 0 ? `${minutes} min` : `${minutes} min ${rest} s`;
}
