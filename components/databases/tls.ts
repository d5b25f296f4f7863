// The TLS options of every Node client we open to a database (the admin providers, db:check): verified against a CA file.
import type { ConnectionOptions as TlsOptions, PeerCertificate } from "node:tls";

/**
 * The TLS options for a mode, for Node's `tls.connect` as the MariaDB and PostgreSQL drivers pass
 * them on. Every verifying mode carries the CA itself (so the MariaDB driver's self-signed
 * "fingerprint" shortcut of MariaDB 11.4+ never applies) and checks the certificate's name during
 * the TLS handshake, against the host we dialled, before any authentication packet is sent (the
 * MariaDB driver's own name check runs only after authentication). There is no mode that encrypts
 * without verifying.
 */
export function tlsClientOptions(host: string, mode: string, caFile: string | undefined, readFile: (file: string) => string): TlsOptions | undefined {
    switch (mode) {
        case "disable":
            return undefined;
        case "verify-ca":
        case "verify-full": {
            if (caFile === undefined || caFile === "") throw new Error(`TLS mode ${mode} needs a CA file (admin.tls.caFile)`);
            // eslint-disable-next-line @typescript-eslint/no-require-imports -- dynamic providers require Node's modules at call time
            const tls = require("node:tls") as typeof import("node:tls");
            return {
                ca: readFile(caFile),
                rejectUnauthorized: true,
                minVersion: "TLSv1.2",
                // verify-ca: the chain only (the certificate may name another host); verify-full: the name too.
                checkServerIdentity: mode === "verify-ca" ? () => undefined : (_name: string, cert: PeerCertificate) => tls.checkServerIdentity(host, cert),
            };
        }
        default:
            throw new Error(`unknown TLS mode ${JSON.stringify(mode)}`);
    }
}
