// The CrossGuard pack: `pulumi preview --policy-pack policies`. Policies live in registry.ts.
import { PolicyPack } from "@pulumi/policy";
import { allPolicies } from "./registry";

new PolicyPack("release-platform", {
    policies: allPolicies,
});
