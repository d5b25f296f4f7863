// The Proxmox cluster through the real CLI and the real bridged provider, against the PVE API emulator.
import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { REPLACEMENT_GUARD_OUTPUT } from "../../components/cluster";
import { readStackConfig } from "../../scripts/local-secrets";
import type { LoggedRequest, PveEmulator } from "../support/pve-emulator";
import { changingSteps, LOCAL_PVE_ENDPOINT, PROJECT_ROOT, Workspace, type PreviewStep, type StackConfigMap, LOCAL_POLICY_PACK } from "../support/workspace";

interface RawContainer {
    vmId: number;
    name: string;
    node: string;
    diskGiB?: number;
    memoryMiB?: number;
    nesting?: boolean;
}
interface RawCluster {
    template: string;
    pool?: string;
    containers: RawContainer[];
}

const CONTAINER_TYPE = "proxmoxve:index/containerLegacy:ContainerLegacy";

/** The local config with the cluster alone: no database servers or services, so only the emulator is involved. */
function clusterOnly(config: StackConfigMap): void {
    config["release-platform:databases"] = { servers: {} };
    config["release-platform:services"] = {};
    (config["release-platform:cluster"] as RawCluster).pool = "it-cluster";
}

function cluster(ws: Workspace): (edit: (c: RawCluster) => void) => void {
    return (edit) => ws.editConfig((config) => edit(config["release-platform:cluster"] as RawCluster));
}

function containerNamed(raw: RawCluster, name: string): RawContainer {
    const found = raw.containers.find((c) => c.name === name);
    if (!found) throw new Error(`no container ${name} in the config`);
    return found;
}

function indexOf(log: readonly LoggedRequest[], method: string, path: string): number {
    return log.findIndex((r) => r.method === method && r.path === path);
}

/** The checkpoint's resources, decrypted (ciphertexts get new nonces on every write) and without timestamps. */
async function managedResources(ws: Workspace): Promise<unknown[]> {
    const exported = (await ws.run(["stack", "export", "--show-secrets", ...ws.stackArgs()])).stdout;
    const doc = JSON.parse(exported) as { deployment: { resources?: { urn: string; type?: string; inputs?: unknown; outputs?: unknown }[] } };
    // The stack's reference to its own last outputs is read again by every run (even a refused one): a read, not a change.
    const resources = (doc.deployment.resources ?? [])
        .filter((r) => r.type !== "pulumi:pulumi:StackReference")
        .map((r) => ({ urn: r.urn, inputs: r.inputs, outputs: r.outputs }));
    return resources.sort((a, b) => (a.urn < b.urn ? -1 : a.urn > b.urn ? 1 : 0));
}

function containerSteps(steps: PreviewStep[]): PreviewStep[] {
    return steps.filter((s) => (s.newState ?? s.oldState)?.type === CONTAINER_TYPE);
}

describe("the Proxmox cluster, real CLI and provider against the PVE emulator", () => {
    let ws: Workspace;
    let pve: PveEmulator;

    beforeAll(async () => {
        ws = await Workspace.create("cluster", { editConfig: clusterOnly, pveEmulator: true });
        await ws.setLocalSecrets();
        if (!ws.pve) throw new Error("the workspace has no emulator");
        pve = ws.pve;
    });

    afterAll(() => ws?.remove());

    test("up creates the containers, HA resources and rules, firewall and pool of the local config", async () => {
        await ws.up();
        const { state } = pve;
        expect([...state.containers.keys()].sort()).toEqual([100, 200, 210]);

        const db = state.containers.get(200);
        expect(db?.node).toBe("pve2");
        expect(db?.status).toBe("running");
        expect(db?.config).toMatchObject({
            hostname: "psa-db-master",
            unprivileged: 1,
            onboot: 1,
            protection: 1,
            cores: 4,
            memory: 8192,
            swap: 0,
            ostype: "debian",
            rootfs: "local-lvm:vm-200-disk-0,size=100G",
            startup: "down=180,order=10,up=60",
            tags: "db;postgresql;psa",
        });
        expect(db?.config["features"]).toBeUndefined();
        expect(String(db?.config["net0"])).toMatch(/^name=eth0,bridge=vmbr0,firewall=1,gw=10\.10\.30\.1,host-managed=0,hwaddr=[0-9A-F:]{17},ip=10\.10\.30\.200\/24,tag=30,type=veth$/);
        const app = state.containers.get(100);
        expect(app?.config).toMatchObject({ protection: 0, startup: "down=30,order=30,up=5", tags: "app;psa", rootfs: "local-lvm:vm-100-disk-0,size=16G" });

        // HA: the containers with ha: true, and one node-affinity rule per role.
        expect([...state.haResources.keys()].sort()).toEqual(["ct:100", "ct:200"]);
        expect(state.haResources.get("ct:200")).toMatchObject({ type: "ct", state: "started" });
        expect(Object.fromEntries([...state.haRules].map(([name, r]) => [name, [r["type"], r["resources"], r["nodes"], r["strict"]]]))).toEqual({
            "cluster-app": ["node-affinity", "ct:100", "pve1:1", 0],
            "cluster-db": ["node-affinity", "ct:200", "pve2:1", 0],
        });

        // Firewall: on at the datacenter, DROP by default on every container, and only the role's ports open.
        expect(state.firewall.get("cluster")?.options).toMatchObject({ enable: 1, policy_in: "DROP", policy_out: "ACCEPT" });
        for (const [vmid, node] of [[100, "pve1"], [200, "pve2"], [210, "pve3"]] as const) {
            expect(state.firewall.get(`nodes/${node}/lxc/${vmid}`)?.options).toMatchObject({ enable: 1, policy_in: "DROP", ipfilter: 1 });
        }
        const rules = (vmid: number, node: string) =>
            state.firewall.get(`nodes/${node}/lxc/${vmid}`)?.rules.map((r) => [r["action"], r["proto"] ?? r["macro"], r["dport"] ?? "", r["source"]]);
        expect(rules(200, "pve2")).toEqual([
            ["ACCEPT", "tcp", "5432", "10.10.20.100"],
            ["ACCEPT", "tcp", "22", "10.10.10.0/24"],
            ["ACCEPT", "Ping", "", "10.10.10.0/24"],
        ]);
        expect(rules(210, "pve3")?.[0]).toEqual(["ACCEPT", "tcp", "6379", "10.10.20.100"]);
        expect(rules(100, "pve1")?.slice(0, 2)).toEqual([
            ["ACCEPT", "tcp", "3000", "10.10.40.0/24"],
            ["ACCEPT", "tcp", "3001", "10.10.40.0/24"],
        ]);
        expect(state.pools.get("it-cluster")?.vms.sort()).toEqual([100, 200, 210]);

        const outputs = await ws.outputs();
        expect(outputs["containers"]).toEqual([
            { name: "psa-api-gateway", vmId: 100, node: "pve1", role: "app", address: "10.10.20.100" },
            { name: "psa-db-master", vmId: 200, node: "pve2", role: "db", address: "10.10.30.200" },
            { name: "psa-redis", vmId: 210, node: "pve3", role: "cache", address: "10.10.30.210" },
        ]);
        expect(outputs["blueGreenEndpoints"]).toEqual([{ container: "psa-api-gateway", blue: "10.10.20.100:3000", green: "10.10.20.100:3001" }]);
        expect(Object.keys(outputs[REPLACEMENT_GUARD_OUTPUT] as object).sort()).toEqual(["psa-db-master", "psa-redis"]);
    });

    test("a second up shows no changes", async () => {
        expect(changingSteps(await ws.previewJson())).toEqual([]);
        pve.clearLog();
        const result = await ws.up();
        expect(result.output).not.toMatch(/created|updated|replaced|deleted/);
        expect(pve.mutations()).toEqual([]);
    });

    test("the declared cluster passes the policy pack's cluster policies", async () => {
        const result = await ws.preview(LOCAL_POLICY_PACK);
        expect(result.output).toMatch(/release-platform/);
        expect(result.output).not.toMatch(/cluster-(container|data-container)-[a-z-]+/);
    });

    test("a program that drops a data container's guards is stopped by the policy pack", async () => {
        // Edit the workspace's copy of the component: no Pulumi protect, no ignoreChanges.
        const file = path.join(ws.dir, "components", "cluster", "cluster.ts");
        const source = fs.readFileSync(file, "utf8");
        const guarded = "...(container.stateful ? { protect: true, ignoreChanges: [...CREATE_ONLY_FIELDS, FEATURES, ROOT_DISK_SIZE] } : { ignoreChanges: [FEATURES] }),";
        expect(source).toContain(guarded);
        fs.writeFileSync(file, source.replace(guarded, "ignoreChanges: [FEATURES],"));
        ws.build();
        try {
            const result = await ws.preview(LOCAL_POLICY_PACK, { allowFailure: true });
            expect(result.code).not.toBe(0);
            expect(result.output).toMatch(/cluster-data-container-guards[\s\S]*cluster-psa-db-master holds data: declare it with protect: true/);
            expect(result.output).toMatch(/cluster-psa-redis holds data: add ignoreChanges \["operatingSystem","initialization.userAccount"\]/);
        } finally {
            fs.writeFileSync(file, source);
            ws.build();
        }
    });

    test("growing the disk of a protected data container resizes it through the API alone (PVE refuses rootfs in a config update under protection)", async () => {
        cluster(ws)((c) => (containerNamed(c, "psa-db-master").diskGiB = 120));
        const steps = changingSteps(await ws.previewJson());
        // The container itself does not change (it ignores disk.size); the release gate records the new guard record.
        // The gate follows the changed config, and a new release record holds its fingerprint.
        expect(steps.map((s) => [s.op, s.urn.split("::").pop()]).sort()).toEqual([["replace", "release-record"], ["update", "cluster-psa-db-master-rootfs"], ["update", "release-gate"]]);
        pve.clearLog();
        await ws.up();
        expect(pve.mutations().map((r) => `${r.method} /${r.path}`)).toEqual(["PUT /nodes/pve2/lxc/200/resize"]);
        expect(pve.mutations()[0]?.args).toMatchObject({ disk: "rootfs", size: "120G" });
        expect(pve.state.containers.get(200)?.config).toMatchObject({ rootfs: "local-lvm:vm-200-disk-0,size=120G", protection: 1 });
        expect(changingSteps(await ws.previewJson())).toEqual([]);
        // A refresh reads the grown disk into the container's state (and inputs): still nothing to change, no replace.
        await ws.run(["refresh", "--yes", "--skip-preview", ...ws.stackArgs()]);
        expect(changingSteps(await ws.previewJson())).toEqual([]);
    });

    test("growing the disk of an unprotected app container is the provider's in-place resize", async () => {
        cluster(ws)((c) => (containerNamed(c, "psa-api-gateway").diskGiB = 20));
        const steps = containerSteps(changingSteps(await ws.previewJson()));
        expect(steps.map((s) => [s.op, s.urn.split("::").pop(), s.diffReasons])).toEqual([["update", "cluster-psa-api-gateway", ["disk"]]]);
        pve.clearLog();
        await ws.up();
        expect(pve.mutations().map((r) => `${r.method} /${r.path}`)).toEqual(["PUT /nodes/pve1/lxc/100/resize", "PUT /nodes/pve1/lxc/100/config"]);
        expect(pve.state.containers.get(100)?.config["rootfs"]).toMatch(/^local-lvm:vm-100-disk-0,(.*,)?size=20G$/);
        expect(changingSteps(await ws.previewJson())).toEqual([]);
    });

    test("turning nesting on and off on an existing container changes that flag alone, as a token may", async () => {
        cluster(ws)((c) => (containerNamed(c, "psa-redis").nesting = true));
        expect(containerSteps(changingSteps(await ws.previewJson()))).toEqual([]);
        pve.clearLog();
        await ws.up();
        expect(pve.mutations().map((r) => [`${r.method} /${r.path}`, r.args, r.status])).toEqual([["PUT /nodes/pve3/lxc/210/config", { features: "nesting=1" }, 200]]);
        expect(pve.state.containers.get(210)?.config["features"]).toBe("nesting=1");
        expect(changingSteps(await ws.previewJson())).toEqual([]);
        cluster(ws)((c) => (containerNamed(c, "psa-redis").nesting = false));
        await ws.up();
        expect(pve.state.containers.get(210)?.config["features"]).toBeUndefined();
        expect(changingSteps(await ws.previewJson())).toEqual([]);
    });

    test("changing memory is an update (applied, then the reboot PVE needs)", async () => {
        cluster(ws)((c) => (containerNamed(c, "psa-redis").memoryMiB = 6144));
        const steps = containerSteps(changingSteps(await ws.previewJson()));
        expect(steps.map((s) => [s.op, s.urn.split("::").pop(), s.diffReasons])).toEqual([["update", "cluster-psa-redis", ["memory"]]]);
        pve.clearLog();
        await ws.up();
        expect(pve.mutations().map((r) => `${r.method} /${r.path}`)).toEqual(["PUT /nodes/pve3/lxc/210/config", "POST /nodes/pve3/lxc/210/status/reboot"]);
        expect(pve.mutations()[0]?.args).toMatchObject({ memory: "6144" });
        expect(pve.state.containers.get(210)?.config["memory"]).toBe(6144);
        expect(changingSteps(await ws.previewJson())).toEqual([]);
    });

    test.each([
        [
            "the template",
            (c: RawCluster) => (c.template = "local:vztmpl/debian-13-standard_13.1-1_amd64.tar.zst"),
            /release-platform:cluster\.template: psa-db-master \(CT 200\) holds data; changing template from "local:vztmpl\/debian-12/,
        ],
        [
            "the node",
            (c: RawCluster) => (containerNamed(c, "psa-db-master").node = "pve3"),
            /release-platform:cluster\.containers\[1\]\.node: psa-db-master \(CT 200\) holds data; changing node from "pve2" to "pve3"/,
        ],
    ])("changing %s of a data-holding container is refused before anything is touched", async (_what, edit, message) => {
        let original: RawCluster | undefined;
        ws.editConfig((config) => (original = structuredClone(config["release-platform:cluster"] as RawCluster)));
        cluster(ws)(edit);
        try {
            pve.clearLog();
            const stateBefore = await managedResources(ws);
            for (const command of [["preview"], ["up", "--yes", "--skip-preview"]]) {
                const result = await ws.run([...command, ...ws.stackArgs()], { allowFailure: true });
                expect(result.code).not.toBe(0);
                expect(result.output).toMatch(message);
                // Not even the parts that do not depend on the cluster got as far as the engine.
                expect(result.output).not.toMatch(/^\s+[+~-]\s|\d+ (created|updated|replaced|deleted)/m);
            }
            expect(pve.mutations()).toEqual([]);
            expect(await managedResources(ws)).toEqual(stateBefore);
        } finally {
            ws.editConfig((config) => (config["release-platform:cluster"] = original));
        }
    });

    test("a new template with the data containers pinned rebuilds the app container delete-first and leaves them alone", async () => {
        const NEW_TEMPLATE = "local:vztmpl/debian-13-standard_13.1-1_amd64.tar.zst";
        cluster(ws)((c) => {
            const old = c.template;
            c.template = NEW_TEMPLATE;
            for (const name of ["psa-db-master", "psa-redis"]) Object.assign(containerNamed(c, name), { template: old });
        });
        const steps = containerSteps(changingSteps(await ws.previewJson()));
        expect(steps.map((s) => [s.op, s.urn.split("::").pop()])).toEqual([["replace", "cluster-psa-api-gateway"]]);
        pve.clearLog();
        await ws.up();
        const log = pve.requests;
        // The role's rule goes first and comes back last: PVE would otherwise drop the deleted HA resource from it.
        const order = [
            indexOf(log, "DELETE", "cluster/ha/rules/cluster-app"),
            indexOf(log, "DELETE", "cluster/ha/resources/ct:100"),
            indexOf(log, "DELETE", "nodes/pve1/lxc/100"),
            indexOf(log, "POST", "nodes/pve1/lxc"),
            indexOf(log, "POST", "cluster/ha/resources"),
            indexOf(log, "POST", "cluster/ha/rules"),
        ];
        expect(order.every((i) => i >= 0)).toBe(true);
        expect([...order].sort((a, b) => a - b)).toEqual(order);
        expect(log.find((r) => r.method === "POST" && r.path === "nodes/pve1/lxc")?.args).toMatchObject({ vmid: "100", ostemplate: NEW_TEMPLATE });
        expect(pve.mutations().filter((r) => /lxc\/(200|210)(\/|$)/.test(r.path))).toEqual([]);
        expect(pve.state.haRules.get("cluster-app")?.["resources"]).toBe("ct:100");
        expect(pve.state.firewall.get("nodes/pve1/lxc/100")?.rules).toHaveLength(4);
        expect(changingSteps(await ws.previewJson())).toEqual([]);
    });

    test("removing a container with an HA resource deletes the HA resource first, then the container", async () => {
        cluster(ws)((c) => (c.containers = c.containers.filter((ct) => ct.name !== "psa-api-gateway")));
        pve.clearLog();
        await ws.up();
        const log = pve.requests;
        const haDelete = indexOf(log, "DELETE", "cluster/ha/resources/ct:100");
        const ctDelete = indexOf(log, "DELETE", "nodes/pve1/lxc/100");
        expect(haDelete).toBeGreaterThanOrEqual(0);
        expect(ctDelete).toBeGreaterThan(haDelete);
        // The role's rule named only this container, so it went before its HA resource.
        expect(indexOf(log, "DELETE", "cluster/ha/rules/cluster-app")).toBeLessThan(haDelete);
        expect(log[ctDelete]?.status).toBe(200);
        expect(pve.state.containers.has(100)).toBe(false);
        expect(pve.state.haResources.has("ct:100")).toBe(false);
        expect([...pve.state.containers.keys()].sort()).toEqual([200, 210]);
        expect(changingSteps(await ws.previewJson())).toEqual([]);
    });
});

describe("the production cluster (16 containers) on a PVE 8 emulator with HA groups, real CLI and provider", () => {
    let ws: Workspace;

    beforeAll(async () => {
        const production = readStackConfig(path.join(PROJECT_ROOT, "Pulumi.production.yaml"));
        ws = await Workspace.create("cluster-production", {
            pveEmulator: true,
            editConfig: (config) => {
                clusterOnly(config);
                // Production's cluster section as it is, but for the emulator's address (its certificate is
                // signed by the local test CA, so it is verified like a real cluster's) and PVE 8.4 with HA
                // groups (it has no rules); the workspace's emulator serves the version the stack names.
                config["release-platform:cluster"] = {
                    ...(production["cluster"] as object),
                    endpoint: LOCAL_PVE_ENDPOINT,
                    insecure: false,
                    pveVersion: "8.4",
                    haAffinity: "groups",
                };
            },
        });
        await ws.setLocalSecrets();
    });

    afterAll(() => ws?.remove());

    test("up creates the 16 containers with their CT-IDs, HA resources in one group per role, and their firewalls", async () => {
        await ws.up();
        const state = ws.pve?.state;
        expect(state?.version.version).toBe("8.4.0");
        expect([...(state?.containers.keys() ?? [])].sort((a, b) => a - b)).toEqual([100, 101, 102, 103, 104, 105, 106, 107, 108, 109, 110, 200, 201, 210, 220, 230]);
        expect(state?.containers.get(201)).toMatchObject({ node: "pve2", config: { hostname: "psa-db-replica-1", rootfs: "ceph-vm:vm-201-disk-0,size=200G" } });
        // PVE 8 gets no `host-managed` flag (it would refuse the unknown key).
        expect(String(state?.containers.get(100)?.config["net0"])).not.toContain("host-managed");
        expect(state?.haResources.size).toBe(16);
        expect(Object.fromEntries([...(state?.haGroups ?? new Map())].map(([name, g]) => [name, String(g["nodes"]).split(",").sort().join(",")]))).toEqual({
            "cluster-app": "pve1:1,pve2:1,pve3:1",
            "cluster-db": "pve1:1,pve2:1",
            "cluster-cache": "pve3:1",
            "cluster-queue": "pve2:1",
            "cluster-search": "pve3:1",
        });
        expect(state?.haResources.get("ct:201")).toMatchObject({ group: "cluster-db" });
        expect(state?.haRules.size).toBe(0);
        expect(state?.firewall.get("nodes/pve1/lxc/200")?.rules[0]).toMatchObject({ dport: "5432", source: `${Array.from({ length: 11 }, (_, i) => `10.10.20.${100 + i}`).join(",")},10.10.30.201` });
        expect(state?.pools.get("release-platform")?.vms).toHaveLength(16);
    });

    test("a second preview shows no changes", async () => {
        expect(changingSteps(await ws.previewJson())).toEqual([]);
    });
});

describe("the Proxmox API certificate is verified on the local stack too", () => {
    test("an API that presents a certificate no CA of ours signed is refused before the token is used", async () => {
        const ws = await Workspace.create("cluster-impostor", { editConfig: clusterOnly, pveEmulator: { certificate: "self-signed" } });
        try {
            await ws.setLocalSecrets();
            const up = await ws.run(["up", "--yes", "--skip-preview", ...ws.stackArgs()], { allowFailure: true });
            expect(up.code).not.toBe(0);
            expect(up.output).toMatch(/x509: certificate signed by unknown authority|certificate verify failed|self[- ]signed/i);
            // Nothing reached the API: the TLS handshake failed before any request.
            expect(ws.pve?.requests ?? []).toEqual([]);
        } finally {
            ws.remove();
        }
    });
});
