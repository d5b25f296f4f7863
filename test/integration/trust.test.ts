// Trust: an impostor that presents another certificate or another host key is refused before any password or script reaches it.
import * as fs from "node:fs";
import * as https from "node:https";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import * as mariadb from "mariadb";
import { Client } from "pg";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { pveRequest } from "../../components/cluster/pve-api";
import { withAdminConnection } from "../../components/databases/mariadb/connection";
import { tlsClientOptions } from "../../components/databases/tls";
import { takeBackup, type DataChangeDatabase } from "../../components/release/data-change";
import { runShell } from "../../components/remote/transport";
import { localSshdHostKey } from "../../scripts/local-secrets";
import { FixtureStack } from "../support/fixture-stack";
import { fakeMysqlServer, fakePostgresServer, impostorCertificates, impostorSshd, type CertificatePair, type Impostor } from "../support/fake-servers";
import { LOCAL_SERVER_STATE, TEST_CA_FILE } from "../support/servers";
import { RP_CACHE } from "../support/workspace";

const PASSWORD = "admin-password-the-impostor-must-never-see";
const TLS_DIR = path.dirname(TEST_CA_FILE);
const readFile = (file: string) => fs.readFileSync(file, "utf8");

/** A certificate the test CA signed for 127.0.0.1: the local MariaDB's own, as a server we trust presents it. */
const trustedCertificate = (): CertificatePair => ({ cert: readFile(path.join(TLS_DIR, "mariadb.crt")), key: readFile(path.join(TLS_DIR, "mariadb.key")) });

async function refusal(promise: Promise<unknown>): Promise<string> {
    try {
        await promise;
    } catch (error) {
        return (error as Error).message;
    }
    throw new Error("expected the client to refuse the impostor");
}

function neverSawPassword(impostor: Impostor): void {
    expect(impostor.received().includes(Buffer.from(PASSWORD))).toBe(false);
}

const certificates = impostorCertificates(TLS_DIR);
const { selfSigned } = certificates;
const otherName = certificates.otherName;
if (otherName === undefined) throw new Error(`the test CA's key in ${TLS_DIR} is not readable: run the tests as the user that ran scripts/local-servers.sh`);
const IMPOSTORS: [string, CertificatePair][] = [
    ["a self-signed certificate", selfSigned],
    ["a certificate of our CA for another name", otherName],
];

describe("Proxmox API client (the container settings)", () => {
    const TOKEN = "ops@pve!deploy=00000000-0000-4000-8000-impostorsees";

    /** An HTTPS server on loopback with `certificate`; counts the requests that got past TLS. */
    async function pveServer(certificate: CertificatePair): Promise<{ endpoint: string; requests: string[]; stop: () => Promise<void> }> {
        const requests: string[] = [];
        const server = https.createServer(certificate, (request, response) => {
            requests.push(`${request.method} ${request.url} ${request.headers.authorization ?? ""}`);
            response.setHeader("Content-Type", "application/json");
            response.end(JSON.stringify({ data: "pong" }));
        });
        await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
        const port = (server.address() as net.AddressInfo).port;
        return { endpoint: `https://127.0.0.1:${port}`, requests, stop: () => new Promise((resolve) => server.close(() => resolve())) };
    }

    test("a server with the test CA's certificate for its address is answered (the local emulator's case)", async () => {
        const server = await pveServer(trustedCertificate());
        try {
            await expect(pveRequest({ endpoint: server.endpoint, apiToken: TOKEN }, "GET", "version")).resolves.toBe("pong");
            expect(server.requests).toHaveLength(1);
        } finally {
            await server.stop();
        }
    });

    test.each(IMPOSTORS)("an impostor with %s never sees the API token", async (_what, certificate) => {
        const server = await pveServer(certificate);
        try {
            const message = await refusal(pveRequest({ endpoint: server.endpoint, apiToken: TOKEN }, "GET", "version"));
            expect(message).toMatch(/certificate|altnames|self[- ]signed|Hostname\/IP does not match/i);
            expect(server.requests).toEqual([]);
        } finally {
            await server.stop();
        }
    });
});

describe("MariaDB admin connection (the dynamic providers)", () => {
    test.each(IMPOSTORS)("an impostor with %s gets no authentication packet", async (_what, certificate) => {
        const impostor = await fakeMysqlServer(certificate);
        try {
            const message = await refusal(
                withAdminConnection({ host: "127.0.0.1", port: impostor.port, user: "admin", password: PASSWORD, tls: "verify-full", caFile: TEST_CA_FILE }, (c) => c.query("SELECT 1")),
            );
            expect(message).toMatch(/certificate|altnames|self[- ]signed|Hostname\/IP does not match/i);
            expect(impostor.events).toContain("ssl-request");
            expect(impostor.events).not.toContain("handshake-response");
            neverSawPassword(impostor);
        } finally {
            await impostor.stop();
        }
    });

    test("a server with a good certificate that asks for the password in clear (mysql_clear_password) does not get it", async () => {
        const impostor = await fakeMysqlServer(trustedCertificate());
        try {
            const message = await refusal(
                withAdminConnection({ host: "127.0.0.1", port: impostor.port, user: "admin", password: PASSWORD, tls: "verify-full", caFile: TEST_CA_FILE }, (c) => c.query("SELECT 1")),
            );
            expect(message).toContain("Unsupported authentication plugin mysql_clear_password");
            expect(impostor.events).toEqual(["connect", "ssl-request", "tls-established", "handshake-response"]);
            neverSawPassword(impostor);
        } finally {
            await impostor.stop();
        }
    });

    test("control: the same driver without restrictedAuth hands that server the password in clear (what the guard prevents)", async () => {
        const impostor = await fakeMysqlServer(trustedCertificate());
        try {
            await refusal(
                mariadb.createConnection({
                    host: "127.0.0.1",
                    port: impostor.port,
                    user: "admin",
                    password: PASSWORD,
                    ssl: tlsClientOptions("127.0.0.1", "verify-full", TEST_CA_FILE, readFile) as mariadb.ConnectionConfig["ssl"],
                }),
            );
            expect(impostor.events).toContain("auth-switch-answer");
            expect(impostor.received().includes(Buffer.from(PASSWORD))).toBe(true);
        } finally {
            await impostor.stop();
        }
    });
});

describe("the dump and restore clients (mysqldump, pg_dump) and db:check's PostgreSQL client", () => {
    const database = (engine: "mariadb" | "postgresql", port: number): DataChangeDatabase => ({
        server: "impostor",
        engine,
        database: "mo_main",
        service: "api",
        version: "1.0.0",
        host: "127.0.0.1",
        port,
        user: "admin",
        tls: "verify-full",
        caFile: TEST_CA_FILE,
        password: PASSWORD,
    });
    const location = fs.mkdtempSync(path.join(LOCAL_SERVER_STATE, "trust-backups-"));
    afterAll(() => fs.rmSync(location, { recursive: true, force: true }));

    test.each(IMPOSTORS)("mysqldump refuses an impostor with %s before authenticating", async (_what, certificate) => {
        const impostor = await fakeMysqlServer(certificate);
        try {
            const message = await refusal(takeBackup(database("mariadb", impostor.port), location, 30));
            expect(message).toMatch(/backup of mo_main on impostor failed .*(certificate|SSL|TLS)/is);
            expect(impostor.events).not.toContain("handshake-response");
            neverSawPassword(impostor);
            expect(fs.readdirSync(location)).toEqual([]);
        } finally {
            await impostor.stop();
        }
    });

    test.each(IMPOSTORS)("pg_dump refuses an impostor with %s before its startup message", async (_what, certificate) => {
        const impostor = await fakePostgresServer(certificate);
        try {
            const message = await refusal(takeBackup(database("postgresql", impostor.port), location, 30));
            expect(message).toMatch(/backup of mo_main on impostor failed .*(certificate|SSL)/is);
            expect(impostor.events).toContain("ssl-request");
            expect(impostor.events).not.toContain("startup");
            neverSawPassword(impostor);
        } finally {
            await impostor.stop();
        }
    });

    test.each(IMPOSTORS)("db:check's PostgreSQL client refuses an impostor with %s before its startup message", async (_what, certificate) => {
        const impostor = await fakePostgresServer(certificate);
        try {
            const client = new Client({
                host: "127.0.0.1",
                port: impostor.port,
                user: "svc_main",
                password: PASSWORD,
                database: "mo_main",
                ssl: tlsClientOptions("127.0.0.1", "verify-full", TEST_CA_FILE, readFile) ?? false,
            });
            client.on("error", () => undefined);
            expect(await refusal(client.connect())).toMatch(/certificate|altnames|Hostname\/IP does not match/i);
            expect(impostor.events).not.toContain("startup");
            neverSawPassword(impostor);
        } finally {
            await impostor.stop();
        }
    });
});

/** A free TCP port on loopback. */
async function freePort(): Promise<number> {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as net.AddressInfo;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    return port;
}

async function waitForPort(port: number): Promise<void> {
    for (let i = 0; i < 50; i += 1) {
        const open = await new Promise<boolean>((resolve) => {
            const socket = net.connect(port, "127.0.0.1", () => (socket.end(), resolve(true)));
            socket.on("error", () => resolve(false));
        });
        if (open) return;
        await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`nothing listens on ${port}`);
}

describe("ssh with a pinned host key (the OpenSSH transport of the traffic providers)", () => {
    const privateKey = fs.readFileSync(path.join(RP_CACHE, "local-ssh", "id_ed25519"), "utf8");
    const publicKey = fs.readFileSync(path.join(RP_CACHE, "local-ssh", "id_ed25519.pub"), "utf8");
    let impostor: ReturnType<typeof impostorSshd>;

    beforeAll(async () => {
        impostor = impostorSshd(publicKey, await freePort());
        await waitForPort(impostor.port);
    });
    afterAll(() => impostor?.stop());

    test("a host that presents another key than the pinned one gets no script", async () => {
        // The pin is the real local sshd's key; the impostor on another port answers with its own.
        const result = await runShell({ host: "127.0.0.1", port: impostor.port, user: "root", privateKey, hostKey: localSshdHostKey() }, "echo script-ran", "stdin that must not arrive");
        expect(result.code).toBe(255);
        expect(result.stderr).toMatch(/Host key verification failed|REMOTE HOST IDENTIFICATION HAS CHANGED/);
        expect(result.stdout).not.toContain("ok");
        expect(impostor.ranSomething()).toBe(false);
    });

    test("control: with its own key pinned, the same call reaches it", async () => {
        const result = await runShell({ host: "127.0.0.1", port: impostor.port, user: "root", privateKey, hostKey: impostor.hostKey }, "echo script-ran");
        expect(result.stdout.trim(), result.stderr).toBe("ok");
        expect(impostor.ranSomething()).toBe(true);
    });

    test("values that would reach ssh as options are refused before ssh starts", async () => {
        const base = { host: "127.0.0.1", port: impostor.port, user: "root", privateKey, hostKey: impostor.hostKey };
        await expect(runShell({ ...base, user: "-oProxyCommand=touch /tmp/rp-pwned" }, "true")).rejects.toThrow(/ssh\.user: .* is not an SSH user/);
        await expect(runShell({ ...base, host: "-oProxyCommand=x" }, "true")).rejects.toThrow(/ssh\.host: .* is not a host/);
        await expect(runShell({ ...base, hostKey: "" }, "true")).rejects.toThrow(/ssh\.hostKey: every ssh target needs its pinned host key/);
        expect(fs.existsSync("/tmp/rp-pwned")).toBe(false);
    });
});

describe("the PostgreSQL admin provider (the bridged plugin, through the real CLI)", () => {
    let work: string;
    let stack: FixtureStack;

    beforeAll(async () => {
        work = fs.mkdtempSync(path.join(os.tmpdir(), "rp-pg-provider-"));
        stack = new FixtureStack(path.join(work, "project"), "postgres-provider", "rp-postgres-provider-fixture");
        await stack.init();
        await stack.setSecret("adminPassword", PASSWORD);
    });
    afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

    test.each(IMPOSTORS)("an impostor with %s gets no startup message and no password: the up fails on the certificate", async (_what, certificate) => {
        const impostor = await fakePostgresServer(certificate);
        try {
            stack.writeConfig({ admin: { host: "127.0.0.1", port: impostor.port, user: "postgres", tls: { mode: "verify-full", caFile: TEST_CA_FILE } } });
            const result = await stack.up({ allowFailure: true });
            expect(result.code).not.toBe(0);
            expect(result.output).toMatch(/certificate|x509|tls/i);
            expect(impostor.events).toContain("ssl-request");
            expect(impostor.events).not.toContain("startup");
            neverSawPassword(impostor);
            expect(result.output).not.toContain(PASSWORD);
        } finally {
            await impostor.stop();
        }
    });
});
