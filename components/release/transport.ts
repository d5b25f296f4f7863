// How the traffic providers reach a backend: on this machine directly, or on its host over ssh.
/* eslint-disable @typescript-eslint/no-require-imports -- see below */
// Dynamic providers are serialized into the state with the functions they call, so Node's modules
// are required at call time (a captured module object would be serialized by value and fail).
type Fs = typeof import("node:fs");
type Path = typeof import("node:path");
const nodeFs = (): Fs => require("node:fs") as Fs;
const nodePath = (): Path => require("node:path") as Path;

/** An ssh login with its private key (a secret: it reaches the provider only as an input). */
export interface SshAccess {
    host: string;
    port: number;
    user: string;
    privateKey: string;
}

export interface ShellResult {
    code: number;
    stdout: string;
    stderr: string;
}

/** `'text'` for a POSIX shell. */
export function shellQuote(text: string): string {
    return `'${text.replace(/'/g, `'\\''`)}'`;
}

/** Runs a shell script here (`/bin/sh -c`) or on the ssh host; never rejects on a non-zero exit. */
export async function runShell(ssh: SshAccess | undefined, script: string, stdin = ""): Promise<ShellResult> {
    if (ssh === undefined) return spawnCollect("/bin/sh", ["-c", script], stdin);
    // The key goes into a private temp dir for the one call and is removed right after.
    const fs = nodeFs();
    const path = nodePath();
    const os = require("node:os") as typeof import("node:os");
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rp-ssh-"));
    try {
        const key = path.join(dir, "key");
        fs.writeFileSync(key, ssh.privateKey.endsWith("\n") ? ssh.privateKey : `${ssh.privateKey}\n`, { mode: 0o600 });
        const args = [
            "-i", key, "-p", String(ssh.port),
            "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes", "-o", "ConnectTimeout=15",
            // As the command provider without a pinned host key: any host key is accepted.
            "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR",
            `${ssh.user}@${ssh.host}`, script,
        ];
        return await spawnCollect("ssh", args, stdin);
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

function spawnCollect(file: string, args: string[], stdin: string): Promise<ShellResult> {
    const { spawn } = require("node:child_process") as typeof import("node:child_process");
    return new Promise((resolve, reject) => {
        const child = spawn(file, args, { stdio: ["pipe", "pipe", "pipe"] });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
        child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
        child.on("error", reject);
        child.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr }));
        // A command that exits without reading its stdin (`nginx -t`, `true`) closes the pipe: not an error.
        child.stdin.on("error", () => undefined);
        if (stdin === "") child.stdin.end();
        else child.stdin.end(stdin);
    });
}

/** Like `runShell`, but a non-zero exit is an error naming what was being done. */
export async function runShellOrThrow(ssh: SshAccess | undefined, what: string, script: string, stdin = ""): Promise<string> {
    const result = await runShell(ssh, script, stdin);
    if (result.code !== 0) {
        const where = ssh ? ` on ${ssh.user}@${ssh.host}` : "";
        throw new Error(`${what}${where} failed (exit ${result.code}): ${(result.stderr || result.stdout).trim()}`);
    }
    return result.stdout;
}

/** A unix socket path, or host:port. */
function socketTarget(admin: string): { path: string } | { host: string; port: number } {
    if (admin.startsWith("/")) return { path: admin };
    const colon = admin.lastIndexOf(":");
    return { host: admin.slice(0, colon), port: Number(admin.slice(colon + 1)) };
}

/** One command on a fresh connection to HAProxy's runtime API here; resolves with its answer. */
function askLocalRuntime(admin: string, command: string, timeoutMs: number): Promise<string> {
    const net = require("node:net") as typeof import("node:net");
    return new Promise((resolve, reject) => {
        const socket = net.createConnection(socketTarget(admin));
        let answer = "";
        socket.setTimeout(timeoutMs, () => socket.destroy(new Error(`no answer from the HAProxy runtime API at ${admin} within ${timeoutMs} ms`)));
        socket.on("connect", () => socket.write(`${command}\n`));
        socket.on("data", (d: Buffer) => (answer += d.toString()));
        socket.on("error", (error) => reject(new Error(`cannot reach the HAProxy runtime API at ${admin}: ${error.message}`)));
        socket.on("close", (hadError) => {
            if (!hadError) resolve(answer);
        });
    });
}

const RECORD_SEPARATOR = "\u001e";

/**
 * Runs each command on its own connection (HAProxy answers one command per connection in
 * non-interactive mode) and returns the answers in order. Over ssh one session runs them all
 * through `socat`, which the HAProxy host needs.
 */
export async function haproxyRuntime(ssh: SshAccess | undefined, admin: string, commands: readonly string[], timeoutMs = 10_000): Promise<string[]> {
    if (ssh === undefined) {
        const answers: string[] = [];
        for (const command of commands) answers.push(await askLocalRuntime(admin, command, timeoutMs));
        return answers;
    }
    const target = admin.startsWith("/") ? `UNIX-CONNECT:${admin}` : `TCP:${admin}`;
    const script = commands
        .map((command) => `printf '%s\\n' ${shellQuote(command)} | socat -t 5 stdio ${shellQuote(target)} || exit 3; printf '\\036'`)
        .join("\n");
    const output = await runShellOrThrow(ssh, `HAProxy runtime API at ${admin}`, script);
    return output.split(RECORD_SEPARATOR).slice(0, commands.length);
}

/** One GET, here or from the ssh host (with curl there): status and body. */
export async function httpGet(ssh: SshAccess | undefined, url: string, timeoutMs: number): Promise<{ status: number; body: string }> {
    if (ssh === undefined) {
        const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), headers: { connection: "close" } });
        return { status: response.status, body: await response.text() };
    }
    const seconds = Math.max(1, Math.ceil(timeoutMs / 1000));
    const out = await runShellOrThrow(ssh, `GET ${url}`, `curl -sS -m ${seconds} -w '\\n%{http_code}' ${shellQuote(url)}`);
    const cut = out.lastIndexOf("\n");
    return { status: Number(out.slice(cut + 1)), body: out.slice(0, Math.max(0, cut)) };
}

/** Writes a file atomically (temp file, then rename), here or on the ssh host. */
export async function writeFileAtomic(ssh: SshAccess | undefined, file: string, content: string): Promise<void> {
    if (ssh === undefined) {
        const fs = nodeFs();
        fs.mkdirSync(nodePath().dirname(file), { recursive: true });
        const temp = `${file}.${process.pid}.tmp`;
        fs.writeFileSync(temp, content);
        fs.renameSync(temp, file);
        return;
    }
    await runShellOrThrow(ssh, `writing ${file}`, `cat > ${shellQuote(`${file}.tmp`)} && mv ${shellQuote(`${file}.tmp`)} ${shellQuote(file)}`, content);
}

/** A file's text, or "" when it does not exist. */
export async function readFileIfExists(ssh: SshAccess | undefined, file: string): Promise<string> {
    if (ssh === undefined) {
        const fs = nodeFs();
        return fs.existsSync(file) ? fs.readFileSync(file, "utf8") : "";
    }
    return runShellOrThrow(ssh, `reading ${file}`, `if [ -e ${shellQuote(file)} ]; then cat ${shellQuote(file)}; fi`);
}

