// The release fingerprint as a resource that settles last: recorded only by an update that applied everything.
import * as pulumi from "@pulumi/pulumi";

export interface ReleaseRecordInputs {
    /** `releaseFingerprint`: the whole config but the weights, and the program's sources. */
    fingerprint: string;
}

/**
 * It only stores its input, as its id: the id is what the engine answers for an applied step (a
 * resource's other outputs can resolve from its inputs even when the update fails before it), so
 * the id is what the last complete update recorded. Another fingerprint is a new record.
 */
export const releaseRecordProvider: pulumi.dynamic.ResourceProvider<ReleaseRecordInputs, ReleaseRecordInputs> = {
    async diff(_id, olds, news) {
        const changed = olds.fingerprint !== news.fingerprint;
        return { changes: changed, replaces: changed ? ["fingerprint"] : [], deleteBeforeReplace: false };
    },
    async create(inputs) {
        return { id: inputs.fingerprint, outs: inputs };
    },
    async delete() {},
};

export const RELEASE_RECORD_TYPE = "pulumi-nodejs:dynamic/release:ReleaseRecord";

/**
 * Declared with `dependsOn` every part of the platform, so it is written only once every resource
 * of the update has been applied: a failed or refused update leaves the previous fingerprint in
 * place, and a config that never went through completely can never pass for a rollback later.
 */
export class ReleaseRecord extends pulumi.dynamic.Resource {
    public declare readonly fingerprint: pulumi.Output<string>;

    /** What the last complete update recorded: the record's id. */
    get recorded(): pulumi.Output<string> {
        return this.id;
    }

    constructor(name: string, args: ReleaseRecordInputs, opts?: pulumi.CustomResourceOptions) {
        super(releaseRecordProvider, name, { ...args }, opts, "release", "ReleaseRecord");
    }
}
