// Test hosts in network namespaces, joined by a bridge: real packets through real firewalls, never the machine's own ruleset.
//
// Layout (every name starts with `rp-`):
//
//   root namespace: rp-root (e.g. 10.231.0.254/24) ──┐   the test process and the Pulumi CLI reach the hosts here
//   rp-db:    eth0 (10.231.0.1/24) ──────────────────┤
//   rp-app:   eth0 (10.231.0.2/24) ──────────────────┼── rp-sw: bridge rp-br (a switch namespace with no address)
//   rp-other: eth0 (10.231.0.3/24) ──────────────────┘
//
// The subnet exists only on these links, so test traffic never leaves them. Firewalls are applied
// inside the host namespaces only; the root namespace gets one veth and its /24 route, nothing else.
// A host may see private copies of some paths (e.g. /etc/ufw): its processes run in their own
// mount namespace with those copies bind-mounted, so the machine's files are never written.
import { execFileSync, spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

const SWITCH_NS = "rp-sw";
const BRIDGE = "rp-br";
const ROOT_LINK = "rp-root";
/**
 * Held (a directory holding the owner's pid) from create to destroy: the names and the subnet are
 * fixed, so a second test run on this machine (another `vitest run` of the integration tier) waits
 * instead of tearing down this run's hosts as leftovers.
 */
const LOCK_DIR = "/tmp/rp-netns.lock";
const LOCK_WAIT_MS = 10 * 60_000;

/** Debian packages the namespace tests need, by the command they provide. */
const REQUIRED_PACKAGES: Record<string, string> = {
    "/usr/sbin/ip": "iproute2",
    "/usr/sbin/nft": "nftables",
    "/usr/bin/socat": "socat",
    "/usr/sbin/sshd": "openssh-server",
    "/usr/bin/ssh-keygen": "openssh-client",
    "/usr/sbin/ufw": "ufw",
    "/usr/bin/nsenter": "util-linux",
};

export interface ExecResult {
    code: number;
    stdout: string;
    stderr: string;
}

export interface ExecOptions {
    input?: string;
    timeoutMs?: number;
    /** Return a non-zero exit instead of throwing. */
    allowFailure?: boolean;
}

function run(command: string, args: readonly string[], options: ExecOptions = {}): ExecResult {
    const result = spawnSync(command, args, { input: options.input ?? "", encoding: "utf8", timeout: options.timeoutMs ?? 30_000 });
    const code = result.status ?? -1;
    const out = { code, stdout: result.stdout ?? "", stderr: result.stderr ?? String(result.error ?? "") };
    if (code !== 0 && !options.allowFailure) {
        throw new Error(`${command} ${args.join(" ")} exited ${code}${result.error ? ` (${result.error.message})` : ""}:\n${out.stdout}${out.stderr}`);
    }
    return out;
}

function shellQuote(value: string): string {
    return `'${value.replace(/'/g, `'"'"'`)}'`;
}

/** Installs what is missing (one `apt-get update` first), as scripts/local-servers.sh does for the servers. */
export function ensureNetnsTools(): void {
    if (process.getuid?.() !== 0) throw new Error("the network namespace tests need root (ip netns, nft, sshd)");
    const missing = [...new Set(Object.entries(REQUIRED_PACKAGES).filter(([file]) => !fs.existsSync(file)).map(([, pkg]) => pkg))];
    if (missing.length === 0) return;
    console.log(`[netns] installing ${missing.join(" ")}`);
    run("apt-get", ["update", "-qq"], { timeoutMs: 300_000 });
    execFileSync("apt-get", ["install", "-y", "-qq", "--no-install-recommends", ...missing], {
        env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
        stdio: "ignore",
        timeout: 600_000,
    });
}

export interface TestHostSpec {
    /** Namespace name, `rp-` and at most 12 characters (it also names a veth: `<name>-p`). */
    name: string;
    /** The host's IPv4 address in the test subnet. */
    address: string;
    /** Absolute paths this host sees as private copies (taken from the machine when the network is created). */
    privatePaths?: string[];
}

export interface TestNetworkSpec {
    hosts: TestHostSpec[];
    /** The root namespace's address on the test subnet. */
    rootAddress: string;
    prefixLength: number;
    /** Holds each host's files (ssh config and keys, private copies); created if missing. */
    workDir: string;
}

/** One test host: a namespace with an address, the daemons started in it, and a way to run commands there. */
export class TestHost {
    readonly name: string;
    readonly address: string;
    readonly dir: string;
    private readonly binds: [string, string][];
    private readonly pids: number[];

    constructor(spec: TestHostSpec, dir: string, pids: number[]) {
        this.name = spec.name;
        this.address = spec.address;
        this.dir = dir;
        this.pids = pids;
        this.binds = (spec.privatePaths ?? []).map((p) => [path.join(dir, "private", p.replace(/^\/+/, "").replace(/\//g, "__")), p]);
    }

    /** Copies the private paths into the host's directory (before any process of the host starts). */
    preparePrivatePaths(): void {
        for (const [copy, original] of this.binds) {
            fs.mkdirSync(path.dirname(copy), { recursive: true });
            fs.cpSync(original, copy, { recursive: true });
        }
    }

    /** The argv that runs `args` inside this host: its network namespace and, with private paths, its own mount namespace. */
    private argv(args: readonly string[]): string[] {
        if (this.binds.length === 0) return ["netns", "exec", this.name, ...args];
        const mounts = this.binds.map(([copy, original]) => `mount --bind ${shellQuote(copy)} ${shellQuote(original)}`).join(" && ");
        return ["netns", "exec", this.name, "unshare", "--mount", "--propagation", "private", "sh", "-c", `${mounts} && exec "$@"`, "sh", ...args];
    }

    exec(args: readonly string[], options: ExecOptions = {}): ExecResult {
        return run("ip", this.argv(args), options);
    }

    /** Starts a long-running process in the host; it is ended by id when the network is destroyed. */
    spawnDaemon(args: readonly string[], logFile: string): number {
        const log = fs.openSync(logFile, "a");
        const child = spawn("ip", this.argv(args), { detached: true, stdio: ["ignore", log, log] });
        fs.closeSync(log);
        child.unref();
        if (child.pid === undefined) throw new Error(`${this.name}: could not start ${args.join(" ")}`);
        this.pids.push(child.pid);
        return child.pid;
    }

    /** A TCP listener that answers every connection with `<host name> port <port>` and closes. */
    listen(port: number): void {
        // No ':' or ',' in the reply: socat reads them as address syntax.
        this.spawnDaemon(["socat", `TCP-LISTEN:${port},reuseaddr,fork`, `SYSTEM:echo ${this.name} port ${port}`], path.join(this.dir, `listen-${port}.log`));
        this.waitFor(() => this.connect("127.0.0.1", port).connected, `${this.name}: listener on ${port}`);
    }

    /**
     * Connects from this host to host:port with a short timeout and reads the answer. A firewall
     * drop shows as a timeout, a reject or a closed port as a refusal: both are `connected: false`.
     */
    connect(host: string, port: number, timeoutSeconds = 2): { connected: boolean; reply: string; error: string } {
        const result = this.exec(["socat", "-T", String(timeoutSeconds + 1), "-u", `TCP:${host}:${port},connect-timeout=${timeoutSeconds}`, "STDOUT"], {
            allowFailure: true,
            timeoutMs: (timeoutSeconds + 5) * 1000,
        });
        const reply = result.stdout.trim();
        return { connected: result.code === 0 && reply.length > 0, reply, error: result.stderr.trim() };
    }

    /**
     * Starts an sshd on the host's address, port 22, with its own config, host key and the one
     * authorized key under the host's directory (the machine's /etc/ssh is not used). Root logs in
     * with the key only. Returns the host's public key as `<type> <base64>` (what `hostKey` pins).
     */
    startSshd(authorizedPublicKey: string): string {
        const dir = path.join(this.dir, "sshd");
        fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
        const hostKey = path.join(dir, "ssh_host_ed25519_key");
        if (!fs.existsSync(hostKey)) run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", `${this.name}-host`, "-f", hostKey]);
        fs.writeFileSync(path.join(dir, "authorized_keys"), authorizedPublicKey.trim() + "\n", { mode: 0o600 });
        const config = path.join(dir, "sshd_config");
        fs.writeFileSync(
            config,
            [
                "Port 22",
                `ListenAddress ${this.address}`,
                `HostKey ${hostKey}`,
                `PidFile ${path.join(dir, "sshd.pid")}`,
                `AuthorizedKeysFile ${path.join(dir, "authorized_keys")}`,
                "PermitRootLogin prohibit-password",
                "PasswordAuthentication no",
                "KbdInteractiveAuthentication no",
                "PubkeyAuthentication yes",
                "UsePAM no",
                "StrictModes no",
                "Subsystem sftp internal-sftp",
                "",
            ].join("\n"),
        );
        fs.mkdirSync("/run/sshd", { recursive: true }); // sshd's privilege-separation directory
        run("/usr/sbin/sshd", ["-t", "-f", config]);
        // -D keeps sshd in the foreground, so the pid we track is the daemon's own.
        this.spawnDaemon(["/usr/sbin/sshd", "-D", "-e", "-f", config], path.join(dir, "sshd.log"));
        this.waitFor(() => this.connect(this.address, 22).reply.startsWith("SSH-"), `${this.name}: sshd on ${this.address}:22`);
        const [type = "", key = ""] = fs.readFileSync(`${hostKey}.pub`, "utf8").trim().split(/\s+/);
        return `${type} ${key}`;
    }

    private waitFor(ready: () => boolean, what: string): void {
        waitUntil(ready, 15_000, `${what} did not come up`);
    }
}

function waitUntil(ready: () => boolean, timeoutMs: number, failure: string | (() => string)): void {
    const deadline = Date.now() + timeoutMs;
    while (!ready()) {
        if (Date.now() > deadline) throw new Error(typeof failure === "string" ? failure : failure());
        spawnSync("sleep", ["0.2"]);
    }
}

function isAlive(pid: number): boolean {
    try {
        process.kill(pid, 0);
        return true;
    } catch {
        return false;
    }
}

/** The pid in the lock, or undefined while there is none (being taken, or half-written by a process that died). */
function lockOwner(): number | undefined {
    try {
        const pid = Number(fs.readFileSync(path.join(LOCK_DIR, "pid"), "utf8"));
        return Number.isInteger(pid) && pid > 0 ? pid : undefined;
    } catch {
        return undefined;
    }
}

/** Takes the machine-wide lock of the test network; a lock whose owner died is taken over. */
function acquireLock(): void {
    waitUntil(
        () => {
            try {
                fs.mkdirSync(LOCK_DIR);
                fs.writeFileSync(path.join(LOCK_DIR, "pid"), String(process.pid));
                return true;
            } catch {
                const owner = lockOwner();
                if (owner === process.pid) return true;
                const age = Date.now() - (fs.statSync(LOCK_DIR, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
                if (owner === undefined ? age > 5_000 : !isAlive(owner)) fs.rmSync(LOCK_DIR, { recursive: true, force: true });
                return false;
            }
        },
        LOCK_WAIT_MS,
        () => `the test network is still in use by process ${lockOwner() ?? "?"} (${LOCK_DIR})`,
    );
}

function releaseLock(): void {
    if (lockOwner() === process.pid) fs.rmSync(LOCK_DIR, { recursive: true, force: true });
}

/** The namespaces, links and daemons of one test network; `destroy` removes all of them. */
export class TestNetwork {
    readonly hosts: Map<string, TestHost>;
    private readonly pids: number[];
    /** Every namespace this network may have created (also those a failed create left half-built). */
    private readonly names: string[];

    private constructor(hosts: Map<string, TestHost>, pids: number[], names: string[]) {
        this.hosts = hosts;
        this.pids = pids;
        this.names = names;
    }

    /**
     * Creates the network. Leftovers of an earlier run with the same names are removed first, so
     * this can be called again after a crash. Throws with the exact `ip` error where namespaces
     * cannot be created.
     */
    static create(spec: TestNetworkSpec): TestNetwork {
        for (const host of spec.hosts) {
            if (!/^rp-[a-z0-9-]{1,9}$/.test(host.name)) throw new Error(`test host name ${host.name}: must be rp- and at most 12 characters`);
        }
        const pids: number[] = [];
        const hosts = new Map<string, TestHost>();
        const network = new TestNetwork(hosts, pids, spec.hosts.map((h) => h.name));
        acquireLock();
        try {
            destroyNamespaces(network.names);
            const existing = run("ip", ["-4", "route", "show", "to", "match", spec.rootAddress]).stdout;
            if (new RegExp(`/${spec.prefixLength} `).test(existing) && !existing.includes(ROOT_LINK)) {
                throw new Error(`${spec.rootAddress}/${spec.prefixLength} is already routed on this machine (${existing.trim()}): pick another test subnet`);
            }
            const created = run("ip", ["netns", "add", SWITCH_NS], { allowFailure: true });
            if (created.code !== 0) throw new Error(`network namespaces cannot be created here: ip netns add ${SWITCH_NS}: ${created.stderr.trim()}`);
            run("ip", ["-n", SWITCH_NS, "link", "add", BRIDGE, "type", "bridge"]);
            run("ip", ["-n", SWITCH_NS, "link", "set", BRIDGE, "up"]);

            const plug = (peer: string): void => {
                run("ip", ["-n", SWITCH_NS, "link", "set", peer, "master", BRIDGE]);
                run("ip", ["-n", SWITCH_NS, "link", "set", peer, "up"]);
            };
            for (const spec_ of spec.hosts) {
                const host = new TestHost(spec_, path.join(spec.workDir, spec_.name), pids);
                fs.mkdirSync(host.dir, { recursive: true });
                host.preparePrivatePaths();
                run("ip", ["netns", "add", host.name]);
                hosts.set(host.name, host);
                run("ip", ["link", "add", `${host.name}-p`, "netns", SWITCH_NS, "type", "veth", "peer", "name", "eth0", "netns", host.name]);
                plug(`${host.name}-p`);
                run("ip", ["-n", host.name, "addr", "add", `${host.address}/${spec.prefixLength}`, "dev", "eth0"]);
                run("ip", ["-n", host.name, "link", "set", "eth0", "up"]);
                run("ip", ["-n", host.name, "link", "set", "lo", "up"]);
            }
            run("ip", ["link", "add", ROOT_LINK, "type", "veth", "peer", "name", `${ROOT_LINK}-p`, "netns", SWITCH_NS]);
            plug(`${ROOT_LINK}-p`);
            run("ip", ["addr", "add", `${spec.rootAddress}/${spec.prefixLength}`, "dev", ROOT_LINK]);
            run("ip", ["link", "set", ROOT_LINK, "up"]);
        } catch (error) {
            network.destroy();
            throw error;
        }
        return network;
    }

    host(name: string): TestHost {
        const host = this.hosts.get(name);
        if (!host) throw new Error(`no test host ${name}`);
        return host;
    }

    /** Ends the daemons we started (by id), then removes the namespaces and the root veth. Safe to call twice. */
    destroy(): void {
        for (const pid of this.pids.splice(0)) {
            try {
                process.kill(pid, "SIGTERM");
            } catch {
                // already gone
            }
        }
        destroyNamespaces(this.names);
        releaseLock();
    }
}

/**
 * Removes our namespaces and links. Processes still inside a namespace (children of the daemons
 * we started, e.g. sshd sessions or socat forks) keep it alive, so they are ended by id first.
 */
function destroyNamespaces(hostNames: readonly string[]): void {
    const present = new Set(
        run("ip", ["netns", "list"])
            .stdout.split("\n")
            .map((line) => line.split(" ")[0] ?? ""),
    );
    for (const ns of [...hostNames, SWITCH_NS]) {
        if (!ns.startsWith("rp-") || !present.has(ns)) continue;
        const pids = run("ip", ["netns", "pids", ns], { allowFailure: true }).stdout.split("\n").filter((p) => /^\d+$/.test(p));
        for (const pid of pids) {
            try {
                process.kill(Number(pid), "SIGKILL");
            } catch {
                // already gone
            }
        }
        run("ip", ["netns", "del", ns], { allowFailure: true });
    }
    // Deleting rp-sw removes the peer and with it rp-root; this covers a half-built network.
    run("ip", ["link", "del", ROOT_LINK], { allowFailure: true });
}
