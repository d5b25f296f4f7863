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
export function emulatorCertificate(tlsDir = process.env.RP_SERVER_STATE ? `${process.env.RP_SERVER_STATE}/tls` : "/var/lib/release-platform/tls"): SelfSignedCertificate {
    const key = path.join(tlsDir, "pve-emulator.key");
    const cert = path.join(tlsDir, "pve-emulator.crt");
    try {
        return { key: fs.readFileSync(key, "utf8"), cert: fs.readFileSync(cert, "utf8") };
    } catch {
        return generateSelfSignedCertificate();
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
