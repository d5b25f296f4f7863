// A throwaway self-signed certificate for the emulator's HTTPS listener, made with the openssl CLI.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

export interface SelfSignedCertificate {
    key: string;
    cert: string;
}

/**
 * The emulator's certificate: the one the local test CA signed for it (scripts/local-servers.sh
 * makes `pve-emulator.crt`/`.key` beside the CA), so the provider verifies it as it would a real
 * cluster's; else a throwaway self-signed one (a machine without the local servers).
 */
export function emulatorCertificate(tlsDir = localTlsDir()): SelfSignedCertificate {
    return localServerCertificate("pve-emulator", tlsDir);
}

/** Where scripts/local-servers.sh keeps the test CA and the servers' certificates. */
function localTlsDir(): string {
    return process.env.RP_SERVER_STATE ? `${process.env.RP_SERVER_STATE}/tls` : "/var/lib/release-platform/tls";
}

/**
 * The certificate the local test CA signed for a test server (`<name>.crt`/`.key`, made by
 * scripts/local-servers.sh), else a throwaway self-signed one, which verifying clients refuse.
 */
export function localServerCertificate(name: string, tlsDir = localTlsDir()): SelfSignedCertificate {
    try {
        return { key: fs.readFileSync(path.join(tlsDir, `${name}.key`), "utf8"), cert: fs.readFileSync(path.join(tlsDir, `${name}.crt`), "utf8") };
    } catch {
        return generateSelfSignedCertificate(name);
    }
}

/** A P-256 key and a one-day certificate for 127.0.0.1 / localhost (node:crypto has no X.509 writer). */
export function generateSelfSignedCertificate(commonName = "pve-emulator"): SelfSignedCertificate {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pve-emulator-cert-"));
    try {
        const keyFile = path.join(dir, "key.pem");
        const certFile = path.join(dir, "cert.pem");
        execFileSync(
            "openssl",
            [
                "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                "-days", "1", "-subj", `/CN=${commonName}`,
                "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
                "-keyout", keyFile, "-out", certFile,
            ],
            { stdio: ["ignore", "ignore", "pipe"] },
        );
        return { key: fs.readFileSync(keyFile, "utf8"), cert: fs.readFileSync(certFile, "utf8") };
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}
