// The release fingerprint as a resource that settles last: recorded only by an update that applied everything.
import * as pulumi from "@pulumi/pulumi";

export interface ReleaseRecordInputs {
    /** `releaseFingerprint`: the whole config but the weights, and the program's sources. */
    fingerprint: string;
}

/** It only stores its input: what the state holds is what the last complete update applied. */
export const releaseRecordProvider: pulumi.dynamic.ResourceProvider<ReleaseRecordInputs, ReleaseRecordInputs> = {
    async diff(_id, olds, news) {
        return { changes: olds.fingerprint !== news.fingerprint, replaces: [], deleteBeforeReplace: false };
    },
    async create(inputs) {
        return { id: "release-record", outs: inputs };
    },
    async update(_id, _olds, news) {
        return { outs: news };
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

    constructor(name: string, args: ReleaseRecordInputs, opts?: pulumi.CustomResourceOptions) {
        super(releaseRecordProvider, name, { ...args }, opts, "release", "ReleaseRecord");
    }
}
