// Design tier 4: `pulumi preview` of the real stacks (staging, production), as a pull request runs
// it, in a network namespace with loopback only, so any attempt to reach a server would fail it.
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { parsePlatformConfig } from "../../components/config";
import { readStackConfig } from "../../scripts/local-secrets";
import { ISOLATED_NETWORK, PROJECT_ROOT, Workspace, type PreviewJson } from "../support/workspace";

const STACKS = ["staging", "production"] as const;

describe.each(STACKS)("preview of the %s stack", (stack) => {
    let ws: Workspace;
    const spec = parsePlatformConfig(readStackConfig(path.join(PROJECT_ROOT, `Pulumi.${stack}.yaml`)));

    beforeAll(async () => {
        ws = await Workspace.create(`tier4-${stack}`, { stack, commandPrefix: ISOLATED_NETWORK });
        await ws.setLocalSecrets();
    });

    afterAll(() => ws.remove());

    test("plans the whole platform without contacting any server", async () => {
        const result = await ws.run(["preview", "--json", ...ws.stackArgs()]);
        const preview = JSON.parse(result.stdout) as PreviewJson;
        console.log(`[tier4] ${stack}: preview in ${result.seconds.toFixed(1)} s, ${preview.steps.length} steps`);
        const errors = (preview.diagnostics ?? []).filter((d) => d.severity === "error");
        expect(errors).toEqual([]);
        const created = (type: string) => preview.steps.filter((s) => s.op === "create" && s.newState?.type === type).length;
        const databases = spec.databases.servers.flatMap((server) => server.databases);
        expect(created("pulumi-nodejs:dynamic/databases:MariaDbDatabase") + created("postgresql:index/database:Database")).toBe(databases.length);
        expect(created("proxmoxve:index/containerLegacy:ContainerLegacy")).toBe(spec.cluster.containers.length);
        expect(created("pulumi-nodejs:dynamic/release:HaproxyWeights") + created("pulumi-nodejs:dynamic/release:NginxWeights")).toBe(spec.services.length);
        // Nothing in the plan is left unknown that a policy must see: the gate's inputs are plain.
        const gate = preview.steps.find((s) => s.newState?.type === "pulumi-nodejs:dynamic/release:ReleaseGate");
        expect(gate).toBeDefined();
        expect(JSON.stringify(gate?.newState?.inputs)).not.toContain("04da6b54-80e4-46f7-96ec-b56ff0331ba9");
    });
});
