// Release policies: the weights of every service, one ladder step per update, traffic only behind a health gate, and a drain for the losing colour.
import type { ReportViolation, ResourceValidationArgs } from "@pulumi/policy";
import type { ServiceVersions } from "../components/release/evidence";
import type { ReleaseGateInputs } from "../components/release/gate-inputs";
import { checkWeightMove, COLOURS, type Colour, type Weights } from "../components/release/ladder";
import type { ShiftInputs } from "../components/release/shift";
import { changedCommands } from "./gates";
import { gateInputs, gatePolicy, listed, policyConfig, resourcePolicy } from "./support";

// The traffic resources' type tokens (components/release/{haproxy,nginx}/weights.ts; the pack does
// not import those modules, which carry the dynamic providers). test/policies/release.test.ts checks them.
export const HAPROXY_WEIGHTS_TYPE = "pulumi-nodejs:dynamic/release:HaproxyWeights";
export const NGINX_WEIGHTS_TYPE = "pulumi-nodejs:dynamic/release:NginxWeights";

/** What every traffic resource declares (its inputs), with the drain time the release gives a colour losing its traffic. */
export type TrafficInputs = Omit<ShiftInputs, "drainSeconds"> & { drainSeconds?: number };

/** The traffic resource's inputs, or undefined for any other resource. */
export function trafficInputs(args: ResourceValidationArgs): TrafficInputs | undefined {
    return args.type === HAPROXY_WEIGHTS_TYPE || args.type === NGINX_WEIGHTS_TYPE ? (args.props as TrafficInputs) : undefined;
}

/** What is wrong with a pair of weights, or undefined. */
export function weightsProblem(weights: Weights): string | undefined {
    const { blue, green } = weights;
    const percent = (n: number): boolean => Number.isInteger(n) && n >= 0 && n <= 100;
    if (!percent(blue) || !percent(green)) return `weights must be whole percentages from 0 to 100 (blue ${blue}, green ${green})`;
    if (blue + green !== 100) return `blue + green must be 100 (${blue} + ${green} = ${blue + green})`;
    return undefined;
}

function reportWeights(service: string, weights: Weights, report: ReportViolation): void {
    const problem = weightsProblem(weights);
    if (problem) report(`${service}: ${problem}: set services.${service}.weights so that blue + green = 100`);
}

export const weightsSum100 = resourcePolicy(
    {
        name: "release-weights-sum-100",
        description: "The weights of every service, on its traffic resource and in the release gate's desired state, are whole percentages that sum to 100.",
        severity: "high",
        remediationSteps: "Set `release-platform:services.<service>.weights` so that blue + green = 100 (`npm run release:next` and `npm run rollback` always do).",
    },
    (args, report) => {
        const traffic = trafficInputs(args);
        if (traffic) {
            reportWeights(traffic.service, traffic.weights, report);
            return;
        }
        const gate = gateInputs(args, report);
        for (const [service, desired] of Object.entries(gate?.release.services ?? {})) reportWeights(service, desired.weights, report);
    },
);

export const oneLadderStep = gatePolicy(
    {
        name: "release-one-ladder-step",
        description:
            "Per service, green's weight moves at most one step of `release.ladder` per update, compared with what the last deployment recorded; a rollback to 0 is always allowed, and a new service starts on a step of the ladder.",
        severity: "high",
        remediationSteps: "Move green one step with `npm run release:next -- --stack <stack> --service <service>`, one `up` per step; to go back at once, roll back to 0 (`npm run rollback`).",
    },
    (gate, _args, report) => {
        const { ladder, services, deployed } = gate.release;
        for (const [service, desired] of Object.entries(services)) {
            const to = desired.weights.green;
            const from = deployed?.[service]?.weights.green ?? to;
            const move = checkWeightMove(ladder, from, to);
            if (!move.ok) {
                report(`${service}: ${move.reason}: move green with \`npm run release:next -- --stack ${gate.stack} --service ${service}\`, or set it to 0 to roll back`);
            }
        }
    },
);

/** What stops a colour's health gate from judging it, or undefined. */
function healthGateSettingsProblem(settings: ShiftInputs["healthGate"] | undefined): string | undefined {
    const { timeoutSeconds, intervalSeconds, retries } = settings ?? {};
    const wrong: string[] = [];
    if (!(typeof timeoutSeconds === "number" && timeoutSeconds >= 1)) wrong.push(`timeoutSeconds ${String(timeoutSeconds)} (at least 1)`);
    if (!(typeof intervalSeconds === "number" && intervalSeconds >= 1)) wrong.push(`intervalSeconds ${String(intervalSeconds)} (at least 1)`);
    if (!(typeof retries === "number" && Number.isInteger(retries) && retries >= 0)) wrong.push(`retries ${String(retries)} (a whole number, 0 or more)`);
    return wrong.length > 0 ? listed(wrong) : undefined;
}

export const weightNeedsHealthGate = resourcePolicy(
    {
        name: "release-weight-needs-health-gate",
        description:
            "A colour gets weight above 0 only behind a health gate that can pass: the traffic resource names the version it must report and an http(s) health URL, and the gate's settings allow at least one attempt. " +
            "The providers open the gate during the update, before any weight rises; the traffic resources output no health record, so this is checked on their inputs.",
        severity: "high",
        remediationSteps: "Give the colour its version and health URL (`services.<service>.<colour>`), and keep `release.healthGate` at timeoutSeconds ≥ 1, intervalSeconds ≥ 1, retries ≥ 0.",
    },
    (args, report) => {
        const traffic = trafficInputs(args);
        if (!traffic) return;
        const weighted = COLOURS.filter((colour) => (traffic.weights?.[colour] ?? 0) > 0);
        for (const colour of weighted) {
            const target = traffic[colour];
            const where = `${traffic.service} ${colour} has weight ${traffic.weights[colour]}`;
            if (!target?.version) report(`${where} but no version for its health gate to expect: set services.${traffic.service}.${colour}.version`);
            if (!/^https?:\/\/[^/\s]+/.test(target?.healthUrl ?? "")) {
                report(`${where} but no http(s) health URL (${JSON.stringify(target?.healthUrl ?? "")}): give the colour an address whose /health the gate can ask`);
            }
        }
        const settings = weighted.length > 0 ? healthGateSettingsProblem(traffic.healthGate) : undefined;
        if (settings) report(`${traffic.service}: the health gate cannot judge a colour with ${settings}: fix release.healthGate`);
    },
);

interface DrainConfig {
    minDrainSeconds: number;
}

/** Colours that lose their last traffic in this update and run another version at the same time. */
function redeployedWhileDraining(service: string, desired: ServiceVersions, deployed: ServiceVersions | undefined): string[] {
    if (!deployed) return [];
    return COLOURS.filter((colour: Colour) => deployed.weights[colour] > 0 && desired.weights[colour] === 0 && deployed[colour] !== desired[colour]).map(
        (colour) =>
            `${service} ${colour} loses its traffic in this update and would change from ${deployed[colour]} to ${desired[colour]} at once: ` +
            `keep ${deployed[colour]} running for the drain time and change its version in a later update`,
    );
}

function checkGateDrain(gate: ReleaseGateInputs, report: ReportViolation): void {
    for (const [service, desired] of Object.entries(gate.release.services)) {
        for (const message of redeployedWhileDraining(service, desired, gate.release.deployed?.[service])) report(message);
    }
}

export const drainLosingColour = resourcePolicy(
    {
        name: "release-drain-losing-colour",
        description:
            "A colour losing its traffic keeps running for the drain time: traffic resources drain for at least `minDrainSeconds` (default 30), " +
            "and the release gate refuses an update that takes a colour's last traffic and changes its version at once.",
        severity: "medium",
        remediationSteps: "Set `release.drainSeconds` to at least the policy's `minDrainSeconds`; change the version of a colour that just lost its traffic in a later update.",
        configSchema: {
            properties: {
                minDrainSeconds: { type: "integer", minimum: 0, default: 30, description: "The shortest drain time a traffic resource may declare." },
            },
        },
    },
    (args, report) => {
        const traffic = trafficInputs(args);
        if (!traffic) {
            const gate = gateInputs(args, report);
            if (gate) checkGateDrain(gate, report);
            return;
        }
        const { minDrainSeconds } = policyConfig<DrainConfig>(args, { minDrainSeconds: 30 });
        const drain = traffic.drainSeconds;
        if (typeof drain !== "number") {
            report(`${traffic.service} declares no drainSeconds: a colour losing its traffic must keep serving in-flight requests; set release.drainSeconds (at least ${minDrainSeconds})`);
        } else if (drain < minDrainSeconds) {
            report(`${traffic.service} drains for ${drain} s, at least ${minDrainSeconds} s needed for in-flight requests: raise release.drainSeconds`);
        }
    },
);

export const commandsChanged = gatePolicy(
    {
        name: "release-commands-changed",
        description:
            "Lists every command by design that an update changes (a service's `migrationCommand`, nginx's `testCommand` and `reloadCommand`), compared with the last deployment: config that runs as a command is shown in the preview, and such an update is a release (never a rollback), so every gate applies to it.",
        severity: "medium",
        remediationSteps: "Review the command as code: it runs on the machine that runs Pulumi (migration) or on the nginx host. The change needs the same approvals and gates as a release.",
    },
    (gate, _args, report) => {
        if (gate.release.deployed === null) return;
        for (const [service, wanted] of Object.entries(gate.release.services)) {
            for (const change of changedCommands(wanted, gate.release.deployed[service])) {
                const from = change.from === undefined ? "nothing" : `\`${change.from}\``;
                const to = change.to === undefined ? "nothing" : `\`${change.to}\``;
                report(`${service}: the ${change.name} command changes from ${from} to ${to}: it runs as a command, review it like code`);
            }
        }
    },
);

export const releasePolicies = [weightsSum100, oneLadderStep, weightNeedsHealthGate, drainLosingColour, commandsChanged];
