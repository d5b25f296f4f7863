// Per service the versions on blue and green and the weights, as the gate and the evidence compare them.
import { z } from "zod";
import type { ReleaseSpec, ServiceSpec } from "../config";
import type { ServiceVersions } from "./evidence";

/** One service of a stack's `services` output (see `ServiceReleaseState`); only what the gates compare is checked. */
const serviceStateSchema = z.object({
    blue: z.object({ version: z.string(), weight: z.number() }),
    green: z.object({ version: z.string(), weight: z.number() }),
    commands: z.record(z.string(), z.string()).optional(),
});

function versionsOf(state: z.output<typeof serviceStateSchema>): ServiceVersions {
    return {
        blue: state.blue.version,
        green: state.green.version,
        weights: { blue: state.blue.weight, green: state.green.weight },
        ...(state.commands === undefined ? {} : { commands: state.commands }),
    };
}

/**
 * The config values that are commands by design and that a release of the service runs: its
 * migration, and nginx's test and reload commands for a service behind nginx. They are recorded
 * with the service, so a change to one is seen (and gated) like a release.
 */
export function serviceCommands(service: ServiceSpec, traffic: ReleaseSpec["traffic"]): Record<string, string> {
    const commands: Record<string, string> = {};
    if (service.migrationCommand !== undefined) commands.migration = service.migrationCommand;
    if (service.traffic.backend === "nginx" && traffic.nginx) {
        commands.nginxTest = traffic.nginx.testCommand;
        commands.nginxReload = traffic.nginx.reloadCommand;
    }
    return commands;
}

/** What the stack config asks for, per service. */
export function desiredServiceVersions(services: readonly ServiceSpec[], traffic: ReleaseSpec["traffic"]): Record<string, ServiceVersions> {
    return Object.fromEntries(
        services.map(
            (s) => [s.name, { blue: s.blue.version, green: s.green.version, weights: { blue: s.weights.blue, green: s.weights.green }, commands: serviceCommands(s, traffic) }] as const,
        ),
    );
}

/**
 * A stack's `services` output (per service: backend, and per colour version, address and weight)
 * as versions and weights. Throws naming the first service that does not have that shape.
 */
export function parseServicesOutput(raw: unknown, what = "services"): Record<string, ServiceVersions> {
    if (raw === null || typeof raw !== "object" || Array.isArray(raw)) throw new Error(`${what}: expected an object of services, got ${describe(raw)}`);
    const out: Record<string, ServiceVersions> = {};
    for (const [name, value] of Object.entries(raw as Record<string, unknown>)) {
        const parsed = serviceStateSchema.safeParse(value);
        if (!parsed.success) {
            const issue = parsed.error.issues[0];
            const at = [name, ...(issue?.path ?? []).map(String)].join(".");
            throw new Error(`${what}.${at}: ${issue?.message ?? "unexpected shape"} (expected {blue: {version, weight}, green: {version, weight}})`);
        }
        out[name] = versionsOf(parsed.data);
    }
    return out;
}

/**
 * What the last deployment recorded, for the gate: null on the first deployment (no output yet).
 * A service whose record does not parse is left out rather than failing every later `up`.
 */
export function deployedServiceVersions(raw: unknown): Record<string, ServiceVersions> | null {
    if (raw === null || typeof raw !== "object" || Array.isArray(raw)) return null;
    const out: Record<string, ServiceVersions> = {};
    for (const [name, value] of Object.entries(raw as Record<string, unknown>)) {
        const parsed = serviceStateSchema.safeParse(value);
        if (parsed.success) out[name] = versionsOf(parsed.data);
    }
    return out;
}

function describe(value: unknown): string {
    if (value === null) return "null";
    if (Array.isArray(value)) return "a list";
    return typeof value;
}
