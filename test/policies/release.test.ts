// Release policies: a traffic resource and a release gate that pass, then one changed property per case with the exact violations.
import type { ResourceValidationArgs } from "@pulumi/policy";
import { describe, expect, test } from "vitest";
import type { ReleaseGateInputs } from "../../components/release/gate-inputs";
import { HAPROXY_WEIGHTS_TYPE as HAPROXY_CLASS_TYPE } from "../../components/release/haproxy/weights";
import { NGINX_WEIGHTS_TYPE as NGINX_CLASS_TYPE } from "../../components/release/nginx/weights";
import { HAPROXY_WEIGHTS_TYPE, NGINX_WEIGHTS_TYPE, releasePolicies, type TrafficInputs } from "../../policies/release";
import { allResourceViolations, gateArgs, resourceArgs, type PolicyConfigs } from "./support";

/** api behind HAProxy as the release declares it: green (1.1.0) at the first ladder step. */
function passingTraffic(): TrafficInputs & Record<string, unknown> {
    return {
        service: "api",
        backend: "api",
        admin: "/run/haproxy/admin.sock",
        serverStateFile: "/var/lib/haproxy/server-state",
        blue: { version: "1.0.0", address: "10.10.20.100:3000", healthUrl: "http://10.10.20.100:3000/health" },
        green: { version: "1.1.0", address: "10.10.20.100:3001", healthUrl: "http://10.10.20.100:3001/health" },
        weights: { blue: 90, green: 10 },
        ladder: [0, 10, 50, 100],
        healthGate: { timeoutSeconds: 60, intervalSeconds: 5, retries: 5 },
        drainSeconds: 30,
    };
}

type TrafficChange = (traffic: TrafficInputs) => void;

function trafficArgs(change: TrafficChange, type = HAPROXY_WEIGHTS_TYPE): ResourceValidationArgs {
    const props = passingTraffic();
    change(props);
    return resourceArgs({ type, name: "release-api-traffic", props });
}

const FIX_WEIGHTS = "set services.api.weights so that blue + green = 100";
const RELEASE_NEXT = "move green with `npm run release:next -- --stack production --service api`, or set it to 0 to roll back";

describe("release policies", () => {
    test("the type tokens are the traffic resources' own", () => {
        expect(HAPROXY_WEIGHTS_TYPE).toBe(HAPROXY_CLASS_TYPE);
        expect(NGINX_WEIGHTS_TYPE).toBe(NGINX_CLASS_TYPE);
    });

    describe("on traffic resources", () => {
        test.each<[string, TrafficChange, string?, PolicyConfigs?]>([
            ["HAProxy weights as the release declares them", () => {}],
            ["nginx weights as the release declares them", () => {}, NGINX_WEIGHTS_TYPE],
            ["a colour without weight and without a health URL or version", (t) => {
                t.weights = { blue: 100, green: 0 };
                t.green = { version: "", address: "", healthUrl: "" };
            }],
            ["all traffic on green", (t) => void (t.weights = { blue: 0, green: 100 })],
            ["the local stack's drain time under its own minimum", (t) => void (t.drainSeconds = 1), undefined, { "release-drain-losing-colour": { minDrainSeconds: 1 } }],
            ["a health gate with a single attempt", (t) => void (t.healthGate = { timeoutSeconds: 1, intervalSeconds: 1, retries: 0 })],
        ])("passes %s", async (_case, change, type, configs) => {
            expect(await allResourceViolations(releasePolicies, trafficArgs(change, type), configs)).toEqual([]);
        });

        test.each<[string, TrafficChange, string[], PolicyConfigs?]>([
            [
                "weights that sum to more than 100",
                (t) => void (t.weights = { blue: 60, green: 60 }),
                [`release-weights-sum-100: api: blue + green must be 100 (60 + 60 = 120): ${FIX_WEIGHTS}`],
            ],
            [
                "a negative weight",
                (t) => void (t.weights = { blue: 120, green: -20 }),
                [`release-weights-sum-100: api: weights must be whole percentages from 0 to 100 (blue 120, green -20): ${FIX_WEIGHTS}`],
            ],
            [
                "a fractional weight",
                (t) => void (t.weights = { blue: 89.5, green: 10.5 }),
                [`release-weights-sum-100: api: weights must be whole percentages from 0 to 100 (blue 89.5, green 10.5): ${FIX_WEIGHTS}`],
            ],
            [
                "weight for a colour without a health URL",
                (t) => void (t.green.healthUrl = ""),
                ['release-weight-needs-health-gate: api green has weight 10 but no http(s) health URL (""): give the colour an address whose /health the gate can ask'],
            ],
            [
                "weight for a colour whose health URL is no http(s) URL",
                (t) => void (t.green.healthUrl = "10.10.20.100:3001/health"),
                ['release-weight-needs-health-gate: api green has weight 10 but no http(s) health URL ("10.10.20.100:3001/health"): give the colour an address whose /health the gate can ask'],
            ],
            [
                "weight for a colour without a version to expect",
                (t) => void (t.green.version = ""),
                ["release-weight-needs-health-gate: api green has weight 10 but no version for its health gate to expect: set services.api.green.version"],
            ],
            [
                "a health gate without time",
                (t) => void (t.healthGate.timeoutSeconds = 0),
                ["release-weight-needs-health-gate: api: the health gate cannot judge a colour with timeoutSeconds 0 (at least 1): fix release.healthGate"],
            ],
            [
                "a health gate without a pause between attempts",
                (t) => void (t.healthGate.intervalSeconds = 0),
                ["release-weight-needs-health-gate: api: the health gate cannot judge a colour with intervalSeconds 0 (at least 1): fix release.healthGate"],
            ],
            [
                "a health gate with negative retries",
                (t) => void (t.healthGate.retries = -1),
                ["release-weight-needs-health-gate: api: the health gate cannot judge a colour with retries -1 (a whole number, 0 or more): fix release.healthGate"],
            ],
            [
                "a health gate without settings",
                (t) => void delete (t as Partial<TrafficInputs>).healthGate,
                [
                    "release-weight-needs-health-gate: api: the health gate cannot judge a colour with timeoutSeconds undefined (at least 1), intervalSeconds undefined (at least 1) and retries undefined (a whole number, 0 or more): fix release.healthGate",
                ],
            ],
            [
                "no drain time",
                (t) => void delete t.drainSeconds,
                ["release-drain-losing-colour: api declares no drainSeconds: a colour losing its traffic must keep serving in-flight requests; set release.drainSeconds (at least 30)"],
            ],
            [
                "a drain time under 30 s",
                (t) => void (t.drainSeconds = 15),
                ["release-drain-losing-colour: api drains for 15 s, at least 30 s needed for in-flight requests: raise release.drainSeconds"],
            ],
            [
                "a drain time under the stack's minDrainSeconds",
                (t) => void (t.drainSeconds = 0),
                ["release-drain-losing-colour: api drains for 0 s, at least 1 s needed for in-flight requests: raise release.drainSeconds"],
                { "release-drain-losing-colour": { minDrainSeconds: 1 } },
            ],
        ])("refuses %s", async (_case, change, expected, configs) => {
            expect(await allResourceViolations(releasePolicies, trafficArgs(change), configs)).toEqual(expected);
        });
    });

    describe("on the release gate", () => {
        type GateChange = (gate: ReleaseGateInputs) => void;
        /** api with blue and green at 50 each, as the last deployment recorded it. */
        const atHalf: GateChange = (g) => {
            g.release.deployed = { ...g.release.deployed, api: { blue: "1.0.0", green: "1.1.0", weights: { blue: 50, green: 50 } } };
        };

        test.each<[string, GateChange]>([
            ["green one step up (10 -> 50)", () => {}],
            ["green one step back (50 -> 10)", (g) => {
                atHalf(g);
                g.release.services.api = { blue: "1.0.0", green: "1.1.0", weights: { blue: 90, green: 10 } };
            }],
            ["a rollback from 50 straight to 0", (g) => {
                atHalf(g);
                g.release.services.api = { blue: "1.0.0", green: "1.1.0", weights: { blue: 100, green: 0 } };
            }],
            ["the first deployment on a step of the ladder", (g) => void (g.release.deployed = null)],
            ["a new service on a step of the ladder", (g) => void (g.release.services.games = { blue: "1.0.0", green: "1.0.0", weights: { blue: 100, green: 0 } })],
            ["a colour that changes version while it keeps traffic", (g) => void (g.release.services.api = { blue: "1.0.1", green: "1.1.0", weights: { blue: 50, green: 50 } })],
            ["blue's last traffic going to green, its version kept", (g) => {
                atHalf(g);
                g.release.services.api = { blue: "1.0.0", green: "1.1.0", weights: { blue: 0, green: 100 } };
            }],
        ])("passes %s", async (_case, change) => {
            expect(await allResourceViolations(releasePolicies, gateArgs(change))).toEqual([]);
        });

        test.each<[string, GateChange, string[]]>([
            [
                "desired weights that do not sum to 100",
                (g) => void (g.release.services.api = { blue: "1.0.0", green: "1.1.0", weights: { blue: 60, green: 50 } }),
                [`release-weights-sum-100: api: blue + green must be 100 (60 + 50 = 110): ${FIX_WEIGHTS}`],
            ],
            [
                "green jumping two steps (10 -> 100)",
                (g) => void (g.release.services.api = { blue: "1.0.0", green: "1.1.0", weights: { blue: 0, green: 100 } }),
                [`release-one-ladder-step: api: green moves one ladder step per up (0, 10, 50, 100): from 10 the next step is 50, not 100: ${RELEASE_NEXT}`],
            ],
            [
                "green falling two steps (100 -> 10)",
                (g) => {
                    g.release.deployed = { ...g.release.deployed, api: { blue: "1.0.0", green: "1.1.0", weights: { blue: 0, green: 100 } } };
                    g.release.services.api = { blue: "1.0.0", green: "1.1.0", weights: { blue: 90, green: 10 } };
                },
                [`release-one-ladder-step: api: green moves one ladder step per up (0, 10, 50, 100): from 100 the step back is 50 (or 0 to roll back), not 10: ${RELEASE_NEXT}`],
            ],
            [
                "green on a weight that is no step of the ladder",
                (g) => void (g.release.services.api = { blue: "1.0.0", green: "1.1.0", weights: { blue: 70, green: 30 } }),
                [`release-one-ladder-step: api: 30 is not a step of the ladder (0, 10, 50, 100): ${RELEASE_NEXT}`],
            ],
            [
                "a new service starting off the ladder",
                (g) => void (g.release.services.games = { blue: "1.0.0", green: "1.0.0", weights: { blue: 70, green: 30 } }),
                [
                    "release-one-ladder-step: games: 30 is not a step of the ladder (0, 10, 50, 100): move green with `npm run release:next -- --stack production --service games`, or set it to 0 to roll back",
                ],
            ],
            [
                "a colour losing its last traffic and changing version at once",
                (g) => {
                    atHalf(g);
                    g.release.services.api = { blue: "1.2.0", green: "1.1.0", weights: { blue: 0, green: 100 } };
                },
                [
                    "release-drain-losing-colour: api blue loses its traffic in this update and would change from 1.0.0 to 1.2.0 at once: keep 1.0.0 running for the drain time and change its version in a later update",
                ],
            ],
        ])("refuses %s", async (_case, change, expected) => {
            expect(await allResourceViolations(releasePolicies, gateArgs(change))).toEqual(expected);
        });
    });
});

describe("release-commands-changed: commands by design are listed in the preview", () => {
    const withCommands = (deployed: Record<string, string> | undefined, wanted: Record<string, string>) =>
        gateArgs((g) => {
            const api = g.release.services.api!;
            g.release.services.api = { ...api, commands: wanted };
            const had = g.release.deployed!.api!;
            g.release.deployed!.api = deployed === undefined ? { blue: had.blue, green: had.green, weights: had.weights } : { ...had, commands: deployed };
        });
    const listing = (args: ResourceValidationArgs) => allResourceViolations(releasePolicies, args).then((found) => found.filter((v) => v.startsWith("release-commands-changed")));

    test("nothing to list when the commands are as deployed", async () => {
        expect(await listing(withCommands({ migration: "alembic upgrade head" }, { migration: "alembic upgrade head" }))).toEqual([]);
    });

    test("a changed, a new and a removed command are each listed with both texts", async () => {
        expect(await listing(withCommands({ migration: "alembic upgrade head", nginxReload: "nginx -s reload" }, { migration: "alembic upgrade head && ./seed.sh", nginxTest: "nginx -t" }))).toEqual([
            "release-commands-changed: api: the migration command changes from `alembic upgrade head` to `alembic upgrade head && ./seed.sh`: it runs as a command, review it like code",
            "release-commands-changed: api: the nginxReload command changes from `nginx -s reload` to nothing: it runs as a command, review it like code",
            "release-commands-changed: api: the nginxTest command changes from nothing to `nginx -t`: it runs as a command, review it like code",
        ]);
    });

    test("a deployment from before commands were recorded: every command counts as new", async () => {
        expect(await listing(withCommands(undefined, { migration: "alembic upgrade head" }))).toEqual([
            "release-commands-changed: api: the migration command changes from nothing to `alembic upgrade head`: it runs as a command, review it like code",
        ]);
    });
});
