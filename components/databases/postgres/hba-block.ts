// The managed pg_hba.conf block of one server as a dynamic resource: installed over ssh, read back on refresh, removed by its own id only.
import * as pulumi from "@pulumi/pulumi";
import { runShellOrThrow, type SshAccess } from "../../remote/transport";
import { markBlock, pgHbaScript } from "./hba";

export interface PgHbaBlockInputs {
    /** The database host (secret: it carries the private key), with its pinned host key. */
    ssh: SshAccess;
    stack: string;
    server: string;
    /** The PostgreSQL port on the host. */
    port: number;
    /** The block as `renderPgHbaBlock` renders it (markers without the block id). */
    block: string;
}

export interface PgHbaBlockOutputs extends PgHbaBlockInputs {
    /** Made at create: the markers in the file carry it, so a delete only ever removes this block. */
    blockId: string;
}

/** The block as the file holds it, with the id taken out of its markers; "" when it is not there. */
async function readBlock(props: PgHbaBlockOutputs): Promise<string> {
    const script = pgHbaScript("read", { stack: props.stack, server: props.server, port: props.port, blockId: props.blockId });
    const text = await runShellOrThrow(props.ssh, `reading the pg_hba.conf block of ${props.server}`, script);
    if (text.trim() === "") return "";
    return markBlock(text.endsWith("\n") ? text : `${text}\n`, props.stack, props.server, props.blockId, undefined);
}

/** Installs the block and reads it back: the update fails unless the file now holds exactly what was declared. */
async function install(props: PgHbaBlockOutputs): Promise<PgHbaBlockOutputs> {
    const script = pgHbaScript("install", { stack: props.stack, server: props.server, port: props.port, blockId: props.blockId });
    await runShellOrThrow(props.ssh, `installing the pg_hba.conf block of ${props.server}`, script, markBlock(props.block, props.stack, props.server, undefined, props.blockId));
    const installed = await readBlock(props);
    if (installed !== props.block) throw new Error(`the pg_hba.conf block of ${props.server} does not read back as written`);
    return props;
}

/**
 * A hand edit of the block, or its removal, shows in `refresh` (the block read back is the
 * resource's `block`) and `up` writes it again. A replacement creates its block (a new id) before
 * the old resource's delete, which removes only the old id's block.
 */
export const pgHbaBlockProvider: pulumi.dynamic.ResourceProvider<PgHbaBlockInputs, PgHbaBlockOutputs> = {
    async diff(_id, olds, news) {
        const replaces: string[] = [];
        if (olds.ssh.host !== news.ssh.host || olds.ssh.port !== news.ssh.port) replaces.push("ssh");
        if (olds.stack !== news.stack) replaces.push("stack");
        if (olds.server !== news.server) replaces.push("server");
        if (olds.port !== news.port) replaces.push("port");
        const changes = replaces.length > 0 || olds.block !== news.block || JSON.stringify(olds.ssh) !== JSON.stringify(news.ssh);
        return { changes, replaces, deleteBeforeReplace: false };
    },
    async create(inputs) {
        // eslint-disable-next-line @typescript-eslint/no-require-imports -- dynamic providers require Node's modules at call time
        const crypto = require("node:crypto") as typeof import("node:crypto");
        const blockId = crypto.randomBytes(6).toString("hex");
        return { id: `${inputs.stack}/${inputs.server}/${blockId}`, outs: await install({ ...inputs, blockId }) };
    },
    async update(_id, olds, news) {
        return { outs: await install({ ...news, blockId: olds.blockId }) };
    },
    async read(id, props) {
        if (!props) throw new Error(`cannot read pg_hba.conf block ${id} without its inputs (import is not supported)`);
        return { id, props: { ...props, block: await readBlock(props) } };
    },
    async delete(_id, props) {
        await runShellOrThrow(props.ssh, `removing the pg_hba.conf block of ${props.server}`, pgHbaScript("remove", { stack: props.stack, server: props.server, port: props.port, blockId: props.blockId }));
    },
};

export interface PgHbaBlockArgs {
    ssh: pulumi.Input<SshAccess>;
    stack: string;
    server: string;
    port: number;
    block: string;
}

export const PG_HBA_BLOCK_TYPE = "pulumi-nodejs:dynamic/databases:PgHbaBlock";

/** The managed block of a server's pg_hba.conf, kept as declared (drift shows in refresh, `up` repairs it). */
export class PgHbaBlock extends pulumi.dynamic.Resource {
    public declare readonly block: pulumi.Output<string>;
    public declare readonly blockId: pulumi.Output<string>;

    constructor(name: string, args: PgHbaBlockArgs, opts?: pulumi.CustomResourceOptions) {
        super(
            pgHbaBlockProvider,
            name,
            { ...args, ssh: pulumi.secret(args.ssh), blockId: undefined },
            pulumi.mergeOptions(opts, { additionalSecretOutputs: ["ssh"] }),
            "databases",
            "PgHbaBlock",
        );
    }
}
