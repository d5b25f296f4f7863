// Every policy of the pack, by domain. Kept apart from index.ts, which starts the policy server.
import { clusterPolicies } from "./cluster";
import { databasePolicies } from "./databases";
import { gatePolicies } from "./gates";
import { releasePolicies } from "./release";
import type { PlatformPolicy } from "./support";

export type { PlatformPolicy } from "./support";

/** The policy domains, in the order they are reported; each policy's name starts with its domain. */
export const policyDomains: Readonly<Record<string, readonly PlatformPolicy[]>> = {
    gates: gatePolicies,
    databases: databasePolicies,
    cluster: clusterPolicies,
    release: releasePolicies,
};

export const allPolicies: PlatformPolicy[] = Object.values(policyDomains).flat();
