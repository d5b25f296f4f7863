// Impostor servers for the trust tests: they speak just enough MySQL, PostgreSQL or SSH to record what a client sends them.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { Duplex } from "node:stream";
import * as tls from "node:tls";

export interface CertificatePair {
    cert: string;
    key: string;
}

/** What an impostor saw, in order: protocol steps, and every byte that arrived after the TLS upgrade. */
export interface Impostor {
    port: number;
    /** Steps: "connect", "ssl-request", "tls-established", "handshake-response", "auth-switch-answer", "startup", "password", "tls-error: ...". */
    readonly events: string[];
    /** Everything the client sent (before and after the upgrade), to search for a password. */
    received(): Buffer;
    stop(): Promise<void>;
}

/**
 * Certificates for impostors: one self-signed for 127.0.0.1, and (when the test CA's key is readable)
 * one signed by the test CA for another name, as a stolen certificate of another server would be.
 */
export function impostorCertificates(caDir: string): { selfSigned: CertificatePair; otherName?: CertificatePair } {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rp-impostor-"));
    const make = (name: string, subject: string, san: string, ca?: { cert: string; key: string }): CertificatePair => {
        const key = path.join(dir, `${name}.key`);
        const cert = path.join(dir, `${name}.crt`);
        const ext = path.join(dir, `${name}.ext`);
        fs.writeFileSync(ext, `subjectAltName=${san}\nbasicConstraints=critical,CA:FALSE\nextendedKeyUsage=serverAuth\n`);
        if (ca) {
            const csr = path.join(dir, `${name}.csr`);
            execFileSync("openssl", ["req", "-new", "-nodes", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-subj", subject, "-keyout", key, "-out", csr], { stdio: "ignore" });
            execFileSync("openssl", ["x509", "-req", "-sha256", "-days", "1", "-in", csr, "-CA", ca.cert, "-CAkey", ca.key, "-set_serial", "0x1234", "-extfile", ext, "-out", cert], { stdio: "ignore" });
        } else {
            execFileSync(
                "openssl",
                ["req", "-x509", "-new", "-nodes", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-sha256", "-days", "1", "-subj", subject, "-addext", `subjectAltName=${san}`, "-keyout", key, "-out", cert],
                { stdio: "ignore" },
            );
        }
        return { cert: fs.readFileSync(cert, "utf8"), key: fs.readFileSync(key, "utf8") };
    };
    const selfSigned = make("self", "/CN=localhost", "DNS:localhost,IP:127.0.0.1");
    const caKey = path.join(caDir, "ca.key");
    let otherName: CertificatePair | undefined;
    try {
        fs.accessSync(caKey, fs.constants.R_OK);
        otherName = make("other", "/CN=db.other.example", "DNS:db.other.example", { cert: path.join(caDir, "ca.crt"), key: caKey });
    } catch {
        otherName = undefined;
    }
    fs.rmSync(dir, { recursive: true, force: true });
    return { selfSigned, otherName };
}

/** A server that answers each connection with `handle`, recording what it saw. */
async function listen(handle: (socket: net.Socket, record: (event: string) => void, collect: (chunk: Buffer) => void) => void): Promise<Impostor> {
    const events: string[] = [];
    const chunks: Buffer[] = [];
    const sockets = new Set<net.Socket>();
    const server = net.createServer((socket) => {
        sockets.add(socket);
        socket.on("close", () => sockets.delete(socket));
        socket.on("error", () => undefined);
        events.push("connect");
        handle(socket, (event) => events.push(event), (chunk) => chunks.push(chunk));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as net.AddressInfo).port;
    return {
        port,
        events,
        received: () => Buffer.concat(chunks),
        stop: () =>
            new Promise<void>((resolve) => {
                for (const socket of sockets) socket.destroy();
                server.close(() => resolve());
            }),
    };
}

/**
 * Upgrades a server-side socket to TLS with `pair`; records the outcome. `early` holds bytes that
 * came with the upgrade request (a client may send its TLS hello in the same segment), so the TLS
 * layer reads through a stream that yields them first.
 */
function upgrade(
    socket: net.Socket,
    pair: CertificatePair,
    early: Buffer,
    record: (event: string) => void,
    collect: (chunk: Buffer) => void,
    onData: (chunk: Buffer, secure: tls.TLSSocket) => void,
): void {
    socket.removeAllListeners("data");
    const raw = new Duplex({
        read() {},
        write(chunk: Buffer, _encoding, callback) {
            socket.write(chunk, () => callback());
        },
        final(callback) {
            socket.end();
            callback();
        },
    });
    if (early.length > 0) raw.push(early);
    socket.on("data", (chunk: Buffer) => raw.push(chunk));
    socket.on("end", () => raw.push(null));
    socket.on("close", () => raw.destroy());
    const secure = new tls.TLSSocket(raw, { isServer: true, secureContext: tls.createSecureContext({ cert: pair.cert, key: pair.key }) });
    secure.on("secure", () => record("tls-established"));
    secure.on("error", (error) => record(`tls-error: ${error.message}`));
    secure.on("data", (chunk: Buffer) => {
        collect(chunk);
        onData(chunk, secure);
    });
}

// ---------------------------------------------------------------------------------------------
// MySQL / MariaDB
// ---------------------------------------------------------------------------------------------

function mysqlPacket(sequence: number, payload: Buffer): Buffer {
    const header = Buffer.alloc(4);
    header.writeUIntLE(payload.length, 0, 3);
    header.writeUInt8(sequence, 3);
    return Buffer.concat([header, payload]);
}

/** Capabilities of the handshake: protocol 4.1, secure connection, plugin auth, and TLS. */
const CLIENT_CAPABILITIES = 0x1 | 0x4 | 0x8 | 0x200 | 0x800 | 0x2000 | 0x8000 | 0x10000 | 0x20000 | 0x80000 | 0x200000;

function mysqlHandshake(): Buffer {
    const scramble = Buffer.from("abcdefghijklmnopqrst");
    return Buffer.concat([
        Buffer.from([0x0a]),
        Buffer.from("5.5.5-10.11.19-MariaDB-impostor\0"),
        Buffer.from([1, 0, 0, 0]),
        scramble.subarray(0, 8),
        Buffer.from([0]),
        Buffer.from([CLIENT_CAPABILITIES & 0xff, (CLIENT_CAPABILITIES >> 8) & 0xff]),
        Buffer.from([45]), // utf8mb4_general_ci
        Buffer.from([2, 0]), // autocommit
        Buffer.from([(CLIENT_CAPABILITIES >> 16) & 0xff, (CLIENT_CAPABILITIES >> 24) & 0xff]),
        Buffer.from([21]),
        Buffer.alloc(10),
        scramble.subarray(8),
        Buffer.from([0]),
        Buffer.from("mysql_native_password\0"),
    ]);
}

/**
 * A MySQL-protocol impostor: it offers TLS with `certificate`, and once a client has sent its
 * handshake response it asks for `mysql_clear_password` (the client would answer with the
 * password in clear). Records "ssl-request", "tls-established", "handshake-response",
 * "auth-switch-answer".
 */
export function fakeMysqlServer(certificate: CertificatePair): Promise<Impostor> {
    return listen((socket, record, collect) => {
        socket.write(mysqlPacket(0, mysqlHandshake()));
        let secureStep = 0;
        socket.once("data", (first: Buffer) => {
            collect(first);
            // An SSL request: a 32-byte payload with sequence 1 and CLIENT_SSL set; anything else is a plain handshake response.
            const isSslRequest = first.length >= 36 && first.readUIntLE(0, 3) === 32 && first[3] === 1 && (first.readUInt32LE(4) & 0x800) !== 0;
            if (!isSslRequest) {
                record("handshake-response");
                socket.end();
                return;
            }
            record("ssl-request");
            upgrade(socket, certificate, first.subarray(36), record, collect, (_chunk, secure) => {
                secureStep += 1;
                if (secureStep === 1) {
                    record("handshake-response");
                    secure.write(mysqlPacket(3, Buffer.concat([Buffer.from([0xfe]), Buffer.from("mysql_clear_password\0"), Buffer.from("abcdefghijklmnopqrst\0")])));
                } else {
                    record("auth-switch-answer");
                    secure.write(mysqlPacket(5, Buffer.concat([Buffer.from([0xff, 0x15, 0x04]), Buffer.from("#28000Access denied")])));
                    secure.end();
                }
            });
        });
    });
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL
// ---------------------------------------------------------------------------------------------

const SSL_REQUEST_CODE = 80877103;
const GSSENC_REQUEST_CODE = 80877104;

/**
 * A PostgreSQL-protocol impostor: it accepts TLS with `certificate`, then asks for a cleartext
 * password. Records "ssl-request", "tls-established", "startup", "password".
 */
export function fakePostgresServer(certificate: CertificatePair): Promise<Impostor> {
    return listen((socket, record, collect) => {
        const onPlain = (chunk: Buffer): void => {
            collect(chunk);
            const code = chunk.length >= 8 ? chunk.readUInt32BE(4) : 0;
            if (code === GSSENC_REQUEST_CODE) {
                socket.write("N");
                return;
            }
            if (code !== SSL_REQUEST_CODE) {
                record("startup");
                socket.end();
                return;
            }
            record("ssl-request");
            socket.write("S");
            let step = 0;
            upgrade(socket, certificate, chunk.subarray(8), record, collect, (_chunk, secure) => {
                step += 1;
                if (step === 1) {
                    record("startup");
                    // AuthenticationCleartextPassword
                    const ask = Buffer.alloc(9);
                    ask.write("R", 0);
                    ask.writeUInt32BE(8, 1);
                    ask.writeUInt32BE(3, 5);
                    secure.write(ask);
                } else {
                    record("password");
                    secure.end();
                }
            });
        };
        socket.on("data", onPlain);
    });
}

// ---------------------------------------------------------------------------------------------
// SSH
// ---------------------------------------------------------------------------------------------

export interface ImpostorSshd {
    port: number;
    /** The key it presents: `<type> <base64>`. */
    hostKey: string;
    /** Whether any command ran on it (its ForceCommand leaves a mark). */
    ranSomething(): boolean;
    stop(): void;
}

/**
 * A real sshd on loopback with its own, fresh host key, that accepts `authorizedKey` and runs
 * nothing but a marker: a client that talks to it past the host key check leaves the mark.
 */
export function impostorSshd(authorizedKey: string, port: number): ImpostorSshd {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rp-impostor-sshd-"));
    fs.chmodSync(dir, 0o700);
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "impostor", "-f", path.join(dir, "host_key")]);
    fs.writeFileSync(path.join(dir, "authorized_keys"), authorizedKey, { mode: 0o600 });
    const mark = path.join(dir, "ran");
    fs.writeFileSync(
        path.join(dir, "sshd_config"),
        [
            `Port ${port}`,
            "ListenAddress 127.0.0.1",
            `HostKey ${path.join(dir, "host_key")}`,
            `PidFile ${path.join(dir, "sshd.pid")}`,
            `AuthorizedKeysFile ${path.join(dir, "authorized_keys")}`,
            "PermitRootLogin prohibit-password",
            "PasswordAuthentication no",
            "KbdInteractiveAuthentication no",
            "UsePAM no",
            // Its files sit under /tmp, which StrictModes would refuse.
            "StrictModes no",
            `ForceCommand touch ${mark}; echo ok`,
            "",
        ].join("\n"),
        { mode: 0o600 },
    );
    fs.mkdirSync("/run/sshd", { recursive: true });
    execFileSync("/usr/sbin/sshd", ["-f", path.join(dir, "sshd_config"), "-E", path.join(dir, "sshd.log")]);
    const [type = "", key = ""] = fs.readFileSync(path.join(dir, "host_key.pub"), "utf8").trim().split(/\s+/);
    return {
        port,
        hostKey: `${type} ${key}`,
        ranSomething: () => fs.existsSync(mark),
        stop: () => {
            try {
                process.kill(Number(fs.readFileSync(path.join(dir, "sshd.pid"), "utf8").trim()));
            } catch {
                // already gone
            }
            fs.rmSync(dir, { recursive: true, force: true });
        },
    };
}
