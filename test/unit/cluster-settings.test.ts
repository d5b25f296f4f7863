// The two container settings the cluster changes through the PVE API itself (container-settings.ts), against the emulator.
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import {
    applyNesting,
    featuresWithNesting,
    growRootDisk,
    nestingOn,
    volumeSizeBytes,
} from "../../components/cluster/container-settings";
import type { PveConnection } from "../../components/cluster/pve-api";
import { PveEmulator } from "../support/pve-emulator";

describe("pure parts", () => {
    test.each([
        ["local-lvm:vm-200-disk-0,size=100G", 100 * 1024 ** 3],
        ["local-lvm:vm-200-disk-0,mountoptions=noatime,size=512M", 512 * 1024 ** 2],
        ["ceph:vm-1-disk-0,size=1T", 1024 ** 4],
        ["ceph:vm-1-disk-0,size=4096", 4096],
        ["/srv/data,mp=/data", undefined],
    ])("the size of %s", (volume, bytes) => {
        expect(volumeSizeBytes(volume)).toBe(bytes);
    });

    test.each<[string | undefined, boolean, string | undefined]>([
        [undefined, true, "nesting=1"],
        [undefined, false, undefined],
        ["nesting=1", false, undefined],
        ["keyctl=1,nesting=1", false, "keyctl=1"],
        ["keyctl=1", true, "keyctl=1,nesting=1"],
        ["fuse=0,keyctl=0,nesting=0,mknod=0", true, "fuse=0,keyctl=0,mknod=0,nesting=1"],
    ])("features %j with nesting %s: %j (every other flag kept)", (current, nesting, next) => {
        expect(featuresWithNesting(current, nesting)).toBe(next);
    });

    test.each([["nesting=1", true], ["nesting=on", true], ["nesting=0", false], ["keyctl=1", false], [undefined, false]] as const)("nesting in %j: %s", (features, on) => {
        expect(nestingOn(features)).toBe(on);
    });
});

describe("against the emulator, with a token that is not root@pam", () => {
    let pve: PveEmulator;
    let connection: PveConnection;

    beforeAll(async () => {
        pve = await PveEmulator.start({ taskRunningPolls: 2 });
        connection = { endpoint: pve.endpoint, apiToken: "ops@pve!deploy=00000000-0000-4000-8000-000000000000" };
        pve.state.containers.set(200, {
            vmid: 200,
            node: "pve2",
            status: "running",
            config: { rootfs: "local-lvm:vm-200-disk-0,size=100G", protection: 1, unprivileged: 1, memory: 512, ostype: "debian", hostname: "db" },
        });
    });

    afterAll(() => pve.stop());

    test("a protected container's root disk grows through resize, and the task is waited for", async () => {
        await growRootDisk({ connection, node: "pve2", vmId: 200, sizeGiB: 120 });
        expect(pve.state.containers.get(200)?.config["rootfs"]).toBe("local-lvm:vm-200-disk-0,size=120G");
        expect(pve.mutations().map((r) => `${r.method} /${r.path}`)).toEqual(["PUT /nodes/pve2/lxc/200/resize"]);
        expect(pve.requests.filter((r) => r.path.endsWith("/status") && r.path.includes("tasks/"))).toHaveLength(3);
    });

    test("the same size again is nothing to do; a smaller one is refused before PVE is asked", async () => {
        pve.clearLog();
        await growRootDisk({ connection, node: "pve2", vmId: 200, sizeGiB: 120 });
        await expect(growRootDisk({ connection, node: "pve2", vmId: 200, sizeGiB: 100 })).rejects.toThrow(
            "CT 200: its root disk is 120 GiB, more than the 100 GiB asked for; a disk can only grow",
        );
        expect(pve.mutations()).toEqual([]);
    });

    test("nesting goes on and off alone, keeping the flags root@pam set", async () => {
        const config = pve.state.containers.get(200)?.config ?? {};
        config["features"] = "keyctl=1";
        await applyNesting({ connection, node: "pve2", vmId: 200, nesting: true });
        expect(config["features"]).toBe("keyctl=1,nesting=1");
        await applyNesting({ connection, node: "pve2", vmId: 200, nesting: false });
        expect(config["features"]).toBe("keyctl=1");
        delete config["features"];
        await applyNesting({ connection, node: "pve2", vmId: 200, nesting: true });
        await applyNesting({ connection, node: "pve2", vmId: 200, nesting: false });
        expect(config["features"]).toBeUndefined();
        expect(pve.mutations().every((r) => r.status === 200)).toBe(true);
    });

    test("PVE's refusal comes back with its text", async () => {
        await expect(growRootDisk({ connection, node: "pve2", vmId: 404, sizeGiB: 8 })).rejects.toThrow(
            "GET /nodes/pve2/lxc/404/config: 500 Configuration file 'nodes/pve2/lxc/404.conf' does not exist",
        );
    });
});
