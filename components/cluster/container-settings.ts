// Two container settings the bridged provider cannot change on a real cluster, made here through the PVE API
// the way PVE allows them: growing the root disk of a protected container, and the `nesting` feature flag.
import * as pulumi from "@pulumi/pulumi";
import { pveRequest, waitForTask, type PveConnection } from "./pve-api";

const GIB = 1024 ** 3;
const UNITS: Record<string, number> = { K: 1024, M: 1024 ** 2, G: GIB, T: 1024 ** 4 };

/** The `size=` of a rootfs/mpN property string (`local-lvm:vm-200-disk-0,size=100G`) in bytes; undefined without one. */
export function volumeSizeBytes(volume: string): number | undefined {
    const size = volume.split(",").find((part) => part.startsWith("size="))?.slice(5);
    const match = size === undefined ? null : /^(\d+(?:\.\d+)?)([KMGT]?)$/.exec(size);
    return match ? Math.floor(Number(match[1]) * (UNITS[match[2] ?? ""] ?? 1)) : undefined;
}

/**
 * The `features` value with only `nesting` set to `nesting` (removed when false), every other flag
 * kept as it is; undefined when nothing is left. A token may make exactly this change: PVE's
 * check_ct_modify_config_perm lets only root@pam change any other flag, and counts an absent flag
 * as different from `0`, so the provider's update (which sends all four flags) is refused.
 */
export function featuresWithNesting(current: string | undefined, nesting: boolean): string | undefined {
    const flags = (current ?? "").split(",").filter((part) => part !== "" && !part.startsWith("nesting="));
    if (nesting) flags.push("nesting=1");
    return flags.length > 0 ? flags.join(",") : undefined;
}

/** Whether a `features` value has nesting on (PVE reads booleans as 1/on/yes/true). */
export function nestingOn(features: string | undefined): boolean {
    const value = (features ?? "").split(",").find((part) => part.startsWith("nesting="))?.slice(8) ?? "";
    return /^(1|on|yes|true)$/i.test(value);
}

async function containerConfig(connection: PveConnection, node: string, vmId: number): Promise<Record<string, unknown>> {
    return (await pveRequest(connection, "GET", `nodes/${node}/lxc/${vmId}/config`)) as Record<string, unknown>;
}

/** What every setting names: where the container is and how to reach the API. */
interface ContainerSettingInputs {
    connection: PveConnection;
    node: string;
    vmId: number;
}

/**
 * A dynamic provider that applies one setting of an existing container: create and update apply it
 * (doing nothing when PVE already has it), another container is a replace, and delete leaves the
 * setting with its container.
 */
function containerSettingProvider<T extends ContainerSettingInputs>(
    setting: string,
    apply: (inputs: T) => Promise<void>,
    valueChanged: (olds: T, news: T) => boolean,
): pulumi.dynamic.ResourceProvider<T, T> {
    return {
        async create(inputs) {
            await apply(inputs);
            return { id: `${inputs.node}/${inputs.vmId}/${setting}`, outs: inputs };
        },
        async diff(_id, olds, news) {
            const replaces = [...(olds.vmId !== news.vmId ? ["vmId"] : []), ...(olds.node !== news.node ? ["node"] : [])];
            const changes = replaces.length > 0 || valueChanged(olds, news) || JSON.stringify(olds.connection) !== JSON.stringify(news.connection);
            return { changes, replaces, deleteBeforeReplace: true };
        },
        async update(_id, _olds, news) {
            await apply(news);
            return { outs: news };
        },
        async delete() {},
    };
}

// ---------------------------------------------------------------------------------------------
// ContainerRootDisk
// ---------------------------------------------------------------------------------------------

export interface ContainerRootDiskInputs extends ContainerSettingInputs {
    sizeGiB: number;
}

/**
 * Grows the root disk to `sizeGiB` with `PUT …/resize` (which PVE allows on a protected
 * container) and waits for the task. Equal is nothing to do; smaller is refused, as PVE does.
 */
export async function growRootDisk(inputs: ContainerRootDiskInputs): Promise<void> {
    const { connection, node, vmId, sizeGiB } = inputs;
    const current = volumeSizeBytes(String((await containerConfig(connection, node, vmId))["rootfs"] ?? ""));
    if (current === undefined) throw new Error(`CT ${vmId} on ${node}: its rootfs has no size to compare with`);
    const wanted = sizeGiB * GIB;
    if (current === wanted) return;
    if (current > wanted) {
        throw new Error(`CT ${vmId}: its root disk is ${Math.ceil(current / GIB)} GiB, more than the ${sizeGiB} GiB asked for; a disk can only grow`);
    }
    const upid = await pveRequest(connection, "PUT", `nodes/${node}/lxc/${vmId}/resize`, { disk: "rootfs", size: `${sizeGiB}G` });
    await waitForTask(connection, node, String(upid));
}

/** Created right after its container (same size: nothing to do) or for an existing one; the disk goes with the container. */
export const containerRootDiskProvider = containerSettingProvider<ContainerRootDiskInputs>("rootfs", growRootDisk, (olds, news) => olds.sizeGiB !== news.sizeGiB);

interface ContainerSettingArgs {
    connection: pulumi.Input<{ [K in keyof PveConnection]: pulumi.Input<PveConnection[K]> }>;
    node: pulumi.Input<string>;
    vmId: pulumi.Input<number>;
}

/** A setting as a dynamic resource (`pulumi-nodejs:dynamic/cluster:<type>`); the connection holds the token, so it stays secret. */
abstract class ContainerSetting<T extends ContainerSettingInputs> extends pulumi.dynamic.Resource {
    protected constructor(
        provider: pulumi.dynamic.ResourceProvider<T, T>,
        type: string,
        name: string,
        args: ContainerSettingArgs & Record<string, unknown>,
        opts?: pulumi.CustomResourceOptions,
    ) {
        super(provider, name, { ...args, connection: pulumi.secret(args.connection) }, pulumi.mergeOptions(opts, { additionalSecretOutputs: ["connection"] }), "cluster", type);
    }
}

export interface ContainerRootDiskArgs extends ContainerSettingArgs {
    sizeGiB: pulumi.Input<number>;
}

/**
 * The root disk size of a protected container. PVE refuses a config update that carries `rootfs`
 * while `protection` is on, and bpg's provider sends `rootfs` in its update right after its
 * resize, so on a real cluster the update fails once the disk has grown. The container therefore
 * ignores `disk.size` after creation, and this resource grows it through the resize API alone.
 */
export class ContainerRootDisk extends ContainerSetting<ContainerRootDiskInputs> {
    public declare readonly sizeGiB: pulumi.Output<number>;

    constructor(name: string, args: ContainerRootDiskArgs, opts?: pulumi.CustomResourceOptions) {
        super(containerRootDiskProvider, "ContainerRootDisk", name, { ...args }, opts);
    }
}

// ---------------------------------------------------------------------------------------------
// ContainerNesting
// ---------------------------------------------------------------------------------------------

export interface ContainerNestingInputs extends ContainerSettingInputs {
    nesting: boolean;
}

/** Sets or clears `nesting` alone, keeping every other feature flag as root@pam left it. */
export async function applyNesting(inputs: ContainerNestingInputs): Promise<void> {
    const { connection, node, vmId, nesting } = inputs;
    const current = (await containerConfig(connection, node, vmId))["features"];
    const features = current === undefined ? undefined : String(current);
    if (nestingOn(features) === nesting) return;
    const next = featuresWithNesting(features, nesting);
    await pveRequest(connection, "PUT", `nodes/${node}/lxc/${vmId}/config`, next === undefined ? { delete: "features" } : { features: next });
}

/** The provider created the container with `nesting=1` when asked (a token may); this corrects an existing one. */
export const containerNestingProvider = containerSettingProvider<ContainerNestingInputs>("nesting", applyNesting, (olds, news) => olds.nesting !== news.nesting);

export interface ContainerNestingArgs extends ContainerSettingArgs {
    nesting: pulumi.Input<boolean>;
}

/**
 * The `nesting` feature flag of an existing container, changed the way an API token may. The
 * container sets it at creation (nesting alone is allowed) and ignores `features` afterwards.
 */
export class ContainerNesting extends ContainerSetting<ContainerNestingInputs> {
    public declare readonly nesting: pulumi.Output<boolean>;

    constructor(name: string, args: ContainerNestingArgs, opts?: pulumi.CustomResourceOptions) {
        super(containerNestingProvider, "ContainerNesting", name, { ...args }, opts);
    }
}
