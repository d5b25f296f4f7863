// Reads what the last deployment of this very stack recorded, so a refused change stops the program before any resource.
import * as pulumi from "@pulumi/pulumi";
import type { ClusterSpec } from "../config";
import { checkClusterReplacements, ReplacementRefusedError } from "./guard";

/** The stack output that records the guarded fields of the data-holding containers (index.ts exports it under this name). */
export const REPLACEMENT_GUARD_OUTPUT = "clusterReplacementGuard";

/** This stack, as a StackReference names it (`organization/release-platform/production`). */
export function ownStackName(): string {
    return `${pulumi.getOrganization()}/${pulumi.getProject()}/${pulumi.getStack()}`;
}

/**
 * The outputs of this stack's last deployment, read once per run and shared by everyone who
 * compares against it (the replacement guard, the release gate). Its outputs are known at preview.
 */
export function previousDeployment(name: string, opts: pulumi.CustomResourceOptions = {}): pulumi.StackReference {
    return new pulumi.StackReference(name, { name: ownStackName() }, opts);
}

/**
 * An Output to pass as `dependsOn` to every part of the platform. It resolves (to no resources)
 * once the record of the last deployment has been read and the new cluster spec found safe; if a
 * data-holding container would be replaced it rejects, so no dependent resource is ever
 * registered, in `preview` and `up` alike.
 */
export function replacementGate(previous: pulumi.StackReference, cluster: ClusterSpec): pulumi.Output<pulumi.Resource[]> {
    return previous.getOutput(REPLACEMENT_GUARD_OUTPUT).apply((record: unknown) => {
        const problems = checkClusterReplacements(record, cluster);
        if (problems.length > 0) throw new GateClosedError(new ReplacementRefusedError(problems).message);
        return [] as pulumi.Resource[];
    });
}

/**
 * A RunError, so the CLI prints the message without a stack trace. Its message is fixed: the SDK
 * prefixes `error serializing property "x": ` to a rejection each time it passes through another
 * resource's input, and the one error the CLI prints must stay the list of refused fields.
 */
class GateClosedError extends pulumi.RunError {
    constructor(text: string) {
        super(text);
        Object.defineProperty(this, "message", { get: () => text, set: () => undefined, enumerable: false, configurable: true });
    }
}
