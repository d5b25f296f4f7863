// Cluster policies: a passing container, then one changed property per case with the exact violation.
import type { PolicyResourceOptions } from "@pulumi/policy";
import { describe, expect, test } from "vitest";
import type { GuardedContainerFields } from "../../components/cluster/guard";
import type { ReleaseGateInputs } from "../../components/release/gate-inputs";
import { appContainersHa, CONTAINER_TYPE, clusterPolicies, HA_RESOURCE_TYPE } from "../../policies/cluster";
import { allResourceViolations, gateArgs, resourceArgs, stackArgs, stackViolations, type StackResourceCase } from "./support";

interface Case {
    type?: string;
    props?: Record<string, unknown>;
    opts?: Partial<PolicyResourceOptions>;
}

/** A data-holding container exactly as the cluster component declares it. */
function args({ type = CONTAINER_TYPE, props = {}, opts = {} }: Case = {}) {
    return resourceArgs({
        type,
        name: "cluster-psa-db-master",
        props: { vmId: 200, unprivileged: true, protection: true, tags: ["db", "postgresql", "psa"], ...props },
        opts: { protect: true, deleteBeforeReplace: true, ignoreChanges: ["operatingSystem", "initialization.userAccount", "features", "disk.size"], ...opts },
    });
}

async function violations(input: ReturnType<typeof args>): Promise<string[]> {
    return allResourceViolations(clusterPolicies, input);
}

describe("cluster policies", () => {
    test.each<[string, Case]>([
        ["a data-holding container as the component declares it", {}],
        ["an app container: no protect, only features ignored", { props: { vmId: 100, protection: false, tags: ["app", "psa"] }, opts: { protect: false, ignoreChanges: ["features"] } }],
        ["another resource type", { type: "proxmoxve:index/haresource:Haresource", props: { unprivileged: false, poolId: "x" }, opts: { deleteBeforeReplace: false } }],
    ])("passes %s", async (_case, input) => {
        expect(await violations(args(input))).toEqual([]);
    });

    test.each<[string, Case, string[]]>([
        ["a privileged container", { props: { unprivileged: false } }, ["cluster-container-unprivileged: cluster-psa-db-master is a privileged container: set unprivileged: true (changing it later replaces the container)"]],
        [
            "a fixed CT-ID without deleteBeforeReplace",
            { opts: { deleteBeforeReplace: false } },
            ['cluster-container-delete-before-replace: cluster-psa-db-master has the fixed CT-ID 200 but no deleteBeforeReplace: a create-first replace gets "already exists", which the provider takes as success before deleting the container'],
        ],
        ["a data container without protect", { opts: { protect: false } }, ["cluster-data-container-guards: cluster-psa-db-master holds data: declare it with protect: true"]],
        [
            "a data container (by role tag) without PVE protection",
            { props: { protection: false } },
            ["cluster-data-container-guards: cluster-psa-db-master holds data: set protection: true (PVE then refuses to destroy it)"],
        ],
        [
            "a data container that would be replaced by a template change",
            { opts: { ignoreChanges: ["initialization.userAccount"] } },
            ['cluster-data-container-guards: cluster-psa-db-master holds data: add ignoreChanges ["operatingSystem"] (a change to a create-only field would replace it)'],
        ],
        [
            "a container in a pool through poolId",
            { props: { poolId: "release-platform" } },
            ['cluster-container-no-pool-id: cluster-psa-db-master sets poolId "release-platform": use proxmoxve.pool.Membership instead (a poolId change replaces the container)'],
        ],
        [
            "tags as typed, not as PVE stores them",
            { props: { tags: ["PSA", "db"] } },
            ['cluster-container-tags-normalized: cluster-psa-db-master has tags ["PSA","db"]: use ["db","psa"] (PVE lowercases and sorts them)'],
        ],
    ])("refuses %s", async (_case, input, expected) => {
        expect(await violations(args(input))).toEqual(expected);
    });

    describe("cluster-app-containers-ha (stack policy, on the outputs)", () => {
        const appCt: StackResourceCase = { type: CONTAINER_TYPE, name: "cluster-psa-api-gateway", props: { vmId: 100, tags: ["app", "psa"] } };
        const dbCt: StackResourceCase = { type: CONTAINER_TYPE, name: "cluster-psa-db-master", props: { vmId: 200, tags: ["db", "postgresql", "psa"] } };
        const ha = (vmId: number, state?: string): StackResourceCase => ({
            type: HA_RESOURCE_TYPE,
            name: `cluster-ct-${vmId}-ha`,
            props: { resourceId: `ct:${vmId}`, type: "ct", ...(state === undefined ? {} : { state }) },
        });
        const urnOf = (r: StackResourceCase): string => `urn:pulumi:test::release-platform::${r.type}::${r.name}`;

        test.each<[string, StackResourceCase[]]>([
            ["every container with its HA resource", [appCt, dbCt, ha(100, "started"), ha(200, "started")]],
            ["an HA resource without an explicit state (PVE starts it)", [appCt, ha(100)]],
            ["a data container without HA (not an app)", [appCt, dbCt, ha(100, "started")]],
        ])("passes %s", async (_case, resources) => {
            expect(await stackViolations(appContainersHa, stackArgs(resources))).toEqual([]);
        });

        test.each<[string, StackResourceCase[], string]>([
            ["an app container without HA", [appCt, dbCt, ha(200, "started")], "cluster-psa-api-gateway (CT 100) is an app container without an HA resource: set ha: true on it in cluster.containers"],
            ["an HA resource for another container", [appCt, ha(101, "started")], "cluster-psa-api-gateway (CT 100) is an app container without an HA resource: set ha: true on it in cluster.containers"],
            [
                "an HA resource that is disabled",
                [appCt, ha(100, "disabled")],
                "cluster-psa-api-gateway (CT 100) has its HA resource in state disabled, not started: HA does not restart it; set the state back to started",
            ],
        ])("refuses %s", async (_case, resources, message) => {
            expect(await stackViolations(appContainersHa, stackArgs(resources))).toEqual([{ message, urn: urnOf(appCt) }]);
        });
    });

    describe("cluster-no-data-container-replacement (on the release gate)", () => {
        type Change = (desired: GuardedContainerFields, gate: ReleaseGateInputs) => void;
        const run = (change: Change): Promise<string[]> =>
            allResourceViolations(
                clusterPolicies,
                gateArgs((g) => {
                    const desired = g.cluster.desired["psa-db-master"];
                    if (!desired) throw new Error("the passing gate declares psa-db-master");
                    change(desired, g);
                }),
            );
        const LOSS = "the provider would replace the container and its data would be lost";

        test.each<[string, Change]>([
            ["the record unchanged", () => {}],
            ["the first deployment (nothing recorded)", (_d, g) => void (g.cluster.deployed = null)],
            ["a root disk that grows", (d) => void (d.diskGiB = 120)],
        ])("passes %s", async (_case, change) => {
            expect(await run(change)).toEqual([]);
        });

        test.each<[string, Change, string]>([
            [
                "a move to another node",
                (d) => void (d.node = "pve2"),
                `psa-db-master (CT 200) holds data; changing node from "pve1" to "pve2": ${LOSS}; move it with \`pct migrate\` (or HA), then record the new node in the state (see components/cluster/README.md)`,
            ],
            ["a new CT-ID", (d) => void (d.vmId = 201), `psa-db-master (CT 200) holds data; changing vmId from 200 to 201: ${LOSS}; a CT-ID never changes`],
            ["a root disk that shrinks", (d) => void (d.diskGiB = 80), `psa-db-master (CT 200) holds data; shrinking the root disk from 100 GiB to 80 GiB: ${LOSS}; a disk can only grow in place`],
            [
                "a new mount point",
                (d) => void d.mountPoints.push({ path: "/var/lib/postgresql", sizeGiB: 50 }),
                `psa-db-master (CT 200) holds data; changing the mount points from [] to [/var/lib/postgresql:50G]: ${LOSS}; add, remove or resize them by hand and record them in the state`,
            ],
            [
                "a data container dropped from the desired record",
                (_d, g) => void delete g.cluster.desired["psa-db-master"],
                "psa-db-master (CT 200) holds data and is no longer declared as a data-holding container: the update would destroy it or drop its guards; keep it, or take it out of the stack deliberately (pulumi state unprotect, then remove)",
            ],
        ])("refuses %s", async (_case, change, message) => {
            expect(await run(change)).toEqual([`cluster-no-data-container-replacement: ${message}`]);
        });
    });
});
