// Every policy of the pack, by domain. Kept apart from index.ts, which starts the policy server.
import type { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { clusterPolicies } from "./cluster";

export type PlatformPolicy = ResourceValidationPolicy | StackValidationPolicy;

/** The policies of all domains, in the order they are reported. Domains register here. */
export const allPolicies: PlatformPolicy[] = [...clusterPolicies];
