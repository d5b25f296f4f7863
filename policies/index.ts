// The CrossGuard pack: `pulumi preview --policy-pack policies`. Policies live in registry.ts.
import { PolicyPack } from "@pulumi/policy";
import { startCompiled } from "../components/compiled";
import { allPolicies } from "./registry";

// The pack runs compiled into ../dist/policies: never from sources that changed since (npm run build).
startCompiled(__filename);

new PolicyPack("release-platform", {
    policies: allPolicies,
});
