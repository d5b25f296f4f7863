// How the providers reach a host: this machine directly, or another host over OpenSSH with a pinned host key.
/* eslint-disable @typescript-eslint/no-require-imports -- see below */
// Dynamic providers are serialized into the state with the functions they call, so Node's modules
// are required at call time (a captured module object would be serialized by value and fail).
import { assertMatches, HOST, HOST_KEY, shellQuote, SOCKET_ADDRESS, SSH_USER } from "../config/patterns";

type Fs = typeof import("node:fs");
type Path = typeof import("node:path");
const nodeFs = (): Fs => require("node:fs") as Fs;
const nodePath = (): Path => require("node:path") as Path;

/**
 * An ssh login with its private key (a secret: it reaches the provider only as an input) and the
 * host's pinned public key: a host that presents another key is refused before anything is sent.
 */
export interface SshAccess {
    host: string;
    port: number;
    user: string;
    privateKey: string;
    /** `<type> <base64>` as `ssh-keyscan` prints it after the host name. */
    hostKey: string;
}

export interface ShellResult {
    code: number;
    stdout: string;
    stderr: string;
}

/**
 * The environment every child process gets: what a command needs to find its tools, never ours
 * (no passphrase, token or cloud credential of the Pulumi run reaches a script or a migration).
 */
export function childEnvironment(extra: Readonly<Record<string, string>> = {}): Record<string, string> {
    const base: Record<string, string> = { PATH: process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin", LANG: "C.UTF-8" };
    if (process.env.HOME) base.HOME = process.env.HOME;
    if (process.env.TZ) base.TZ = process.env.TZ;
    return { ...base, ...extra };
}

/** Re-checks an ssh target where it is used (the loader checked it too): nothing here reaches ssh as an option. */
export function checkSshAccess(ssh: SshAccess, where: string): void {
    assertMatches(HOST, ssh.host, `${where}.host`);
    assertMatches(SSH_USER, ssh.user, `${where}.user`);
    if (!Number.isInteger(ssh.port) || ssh.port < 1 || ssh.port > 65535) throw new Error(`${where}.port: ${ssh.port} is not a TCP port`);
    if (typeof ssh.hostKey !== "string" || ssh.hostKey === "") {
        throw new Error(`${where}.hostKey: every ssh target needs its pinned host key (ssh-keyscan -t ed25519 -p ${ssh.port} ${ssh.host}, checked against the host)`);
    }
    assertMatches(HOST_KEY, ssh.hostKey, `${where}.hostKey`);
}

/** The host key algorithms that make the server present the pinned key's type. */
function hostKeyAlgorithms(hostKey: string): string {
    const type = hostKey.split(" ")[0] ?? "";
    return type === "ssh-rsa" ? "rsa-sha2-512,rsa-sha2-256,ssh-rsa" : type;
}

/**
 * The OpenSSH arguments for one call: our key and a known_hosts file holding only the pinned key
 * (under a fixed alias, so the entry matches whatever port the host listens on), strict checking,
 * no user or system config (a ProxyCommand there would run), and the target after `--`.
 */
export function sshArguments(ssh: SshAccess, files: { key: string; knownHosts: string }, script: string): string[] {
    checkSshAccess(ssh, "ssh");
    return [
        "-F", "/dev/null",
        "-i", files.key,
        "-l", ssh.user,
        "-p", String(ssh.port),
        "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes", "-o", "ConnectTimeout=15",
        "-o", "StrictHostKeyChecking=yes", "-o", `UserKnownHostsFile=${files.knownHosts}`, "-o", "GlobalKnownHostsFile=/dev/null",
        "-o", "HostKeyAlias=release-platform-pinned", "-o", "CheckHostIP=no", "-o", `HostKeyAlgorithms=${hostKeyAlgorithms(ssh.hostKey)}`,
        "-o", "UpdateHostKeys=no", "-o", "LogLevel=ERROR",
        "--", ssh.host, script,
    ];
}

/** Runs a shell script here (`/bin/sh -c`) or on the ssh host; never rejects on a non-zero exit. */
export async function runShell(ssh: SshAccess | undefined, script: string, stdin = "", env: Readonly<Record<string, string>> = {}): Promise<ShellResult> {
    if (ssh === undefined) return spawnCollect("/bin/sh", ["-c", script], stdin, childEnvironment(env));
    if (Object.keys(env).length > 0) throw new Error("a remote script takes its values in its text or on stdin, not in the environment");
    // The key and the pinned host key go into a private temp dir for the one call and are removed right after.
    const fs = nodeFs();
    const path = nodePath();
    const os = require("node:os") as typeof import("node:os");
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rp-ssh-"));
    try {
        const files = { key: path.join(dir, "key"), knownHosts: path.join(dir, "known_hosts") };
        const args = sshArguments(ssh, files, script);
        fs.writeFileSync(files.key, ssh.privateKey.endsWith("\n") ? ssh.privateKey : `${ssh.privateKey}\n`, { mode: 0o600 });
        fs.writeFileSync(files.knownHosts, `release-platform-pinned ${ssh.hostKey}\n`, { mode: 0o600 });
        return await spawnCollect("ssh", args, stdin, childEnvironment({ HOME: dir }));
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

function spawnCollect(file: string, args: string[], stdin: string, env: Record<string, string>): Promise<ShellResult> {
    const { spawn } = require("node:child_process") as typeof import("node:child_process");
    return new Promise((resolve, reject) => {
        const child = spawn(file, args, { stdio: ["pipe", "pipe", "pipe"], env });
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

/** The last lines of a command's output: enough to act on, never a whole script or log in a message. */
export function outputTail(result: ShellResult, lines = 5): string {
    const text = (result.stderr.trim() || result.stdout.trim()).split("\n");
    return text.slice(-lines).join("\n");
}

/** Like `runShell`, but a non-zero exit is an error naming what was being done. */
export async function runShellOrThrow(ssh: SshAccess | undefined, what: string, script: string, stdin = ""): Promise<string> {
    const result = await runShell(ssh, script, stdin);
    if (result.code !== 0) {
        const where = ssh ? ` on ${ssh.user}@${ssh.host}:${ssh.port}` : "";
        throw new Error(`${what}${where} failed (exit ${result.code}): ${outputTail(result)}`);
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
 * through `socat`, which the HAProxy host needs. The address is re-checked here: socat would
 * execute an `EXEC:` address, so only a plain unix path or host:port ever reaches it.
 */
export async function haproxyRuntime(ssh: SshAccess | undefined, admin: string, commands: readonly string[], timeoutMs = 10_000): Promise<string[]> {
    assertMatches(SOCKET_ADDRESS, admin, "release.traffic.haproxy.admin");
    for (const command of commands) {
        if (/[\n\r;]/.test(command)) throw new Error(`HAProxy runtime command ${JSON.stringify(command)} must be one command on one line`);
    }
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
    if (!/^https?:\/\/[A-Za-z0-9.-]+:\d{1,5}\/[A-Za-z0-9._~/-]*$/.test(url)) throw new Error(`health URL ${JSON.stringify(url)} is not http(s)://host:port/path of plain characters`);
    if (ssh === undefined) {
        const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), headers: { connection: "close" } });
        return { status: response.status, body: await response.text() };
    }
    const seconds = Math.max(1, Math.ceil(timeoutMs / 1000));
    const out = await runShellOrThrow(ssh, `GET ${url}`, `curl -sS -m ${seconds} -w '\\n%{http_code}' -- ${shellQuote(url)}`);
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
    await runShellOrThrow(ssh, `writing ${file}`, `cat > ${shellQuote(`${file}.tmp`)} && mv -- ${shellQuote(`${file}.tmp`)} ${shellQuote(file)}`, content);
}

/** A file's text, or "" when it does not exist. */
export async function readFileIfExists(ssh: SshAccess | undefined, file: string): Promise<string> {
    if (ssh === undefined) {
        const fs = nodeFs();
        return fs.existsSync(file) ? fs.readFileSync(file, "utf8") : "";
    }
    return runShellOrThrow(ssh, `reading ${file}`, `if [ -e ${shellQuote(file)} ]; then cat -- ${shellQuote(file)}; fi`);
}
