// Cluster policies: a passing container, then one changed property per case with the exact violation.
import type { PolicyResourceOptions, ResourceValidationArgs, ResourceValidationPolicy } from "@pulumi/policy";
import { describe, expect, test } from "vitest";
import { CONTAINER_TYPE, clusterPolicies } from "../../policies/cluster";
import { allPolicies } from "../../policies/registry";

interface Case {
    type?: string;
    props?: Record<string, unknown>;
    opts?: Partial<PolicyResourceOptions>;
}

/** A data-holding container exactly as the cluster component declares it. */
function args({ type = CONTAINER_TYPE, props = {}, opts = {} }: Case = {}): ResourceValidationArgs {
    return {
        type,
        name: "cluster-psa-db-master",
        urn: `urn:pulumi:test::release-platform::${type}::cluster-psa-db-master`,
        props: { vmId: 200, unprivileged: true, protection: true, tags: ["db", "postgresql", "psa"], ...props },
        opts: {
            protect: true,
            deleteBeforeReplace: true,
            ignoreChanges: ["operatingSystem", "initialization.userAccount"],
            aliases: [],
            customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
            additionalSecretOutputs: [],
            ...opts,
        },
        stackTags: new Map(),
        isType: () => false,
        asType: () => undefined,
        getConfig: <T extends object>() => ({}) as T,
        notApplicable: (reason?: string): never => {
            throw new Error(`not applicable: ${reason ?? ""}`);
        },
    };
}

async function violations(input: ResourceValidationArgs): Promise<string[]> {
    const found: string[] = [];
    for (const policy of clusterPolicies) {
        await (policy as ResourceValidationPolicy & { validateResource: (a: ResourceValidationArgs, r: (m: string) => void) => void | Promise<void> }).validateResource(input, (message) =>
            found.push(`${policy.name}: ${message}`),
        );
    }
    return found;
}

describe("cluster policies", () => {
    test("every policy is registered in the pack, mandatory, with a description", () => {
        for (const policy of clusterPolicies) {
            expect(allPolicies).toContain(policy);
            expect(policy.enforcementLevel).toBe("mandatory");
            expect(policy.description.length).toBeGreaterThan(20);
        }
    });

    test.each<[string, Case]>([
        ["a data-holding container as the component declares it", {}],
        ["an app container: no protect, no ignoreChanges", { props: { vmId: 100, protection: false, tags: ["app", "psa"] }, opts: { protect: false, ignoreChanges: [] } }],
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
});
