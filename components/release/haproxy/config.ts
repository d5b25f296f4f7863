// The HAProxy config of the local stack: one backend per service with a blue and a green server.

export interface LocalHaproxyBackend {
    /** HAProxy backend name (a service's `traffic.name`); requests under `/<name>/` go here. */
    name: string;
    blue: string;
    green: string;
    healthPath: string;
}

export interface LocalHaproxyConfig {
    adminSocket: string;
    serverStateFile: string;
    frontendAddress: string;
    statsAddress: string;
    pidFile: string;
    backends: readonly LocalHaproxyBackend[];
}

/**
 * Initial weights in the file never change: HAProxy restores a saved weight only while the
 * file's weight for that server is the one the state was saved with, so Pulumi's weights
 * survive a reload or restart exactly as long as these stay put. Blue 100 / green 0 is the
 * state at rest; the runtime API and the state file carry every release from there.
 */
export const CONFIG_FILE_WEIGHTS = { blue: 100, green: 0 } as const;

/** The whole haproxy.cfg, deterministic for the same input. */
export function renderLocalHaproxyConfig(config: LocalHaproxyConfig): string {
    const lines = [
        "# Rendered by scripts/local-release.sh from the stack config; weights live in the server-state file.",
        "global",
        `    stats socket ${config.adminSocket} mode 600 level admin`,
        "    stats timeout 30s",
        `    server-state-file ${config.serverStateFile}`,
        `    pidfile ${config.pidFile}`,
        "",
        "defaults",
        "    mode http",
        "    option httplog",
        "    timeout connect 2s",
        "    timeout client 60s",
        "    timeout server 60s",
        "    timeout http-keep-alive 10s",
        // A request that cannot reach its server goes to the other colour instead of failing.
        "    retries 3",
        "    option redispatch 1",
        "    retry-on conn-failure empty-response response-timeout",
        "    load-server-state-from-file global",
        "",
        "frontend release",
        `    bind ${config.frontendAddress}`,
        ...config.backends.flatMap((b) => [
            `    use_backend ${b.name} if { path_beg /${b.name}/ } || { path /${b.name} }`,
        ]),
        ...(config.backends[0] ? [`    default_backend ${config.backends[0].name}`] : []),
        "",
        "listen stats",
        `    bind ${config.statsAddress}`,
        "    stats enable",
        "    stats uri /",
        "    stats refresh 2s",
    ];
    for (const b of config.backends) {
        lines.push(
            "",
            `backend ${b.name}`,
            "    balance roundrobin",
            `    option httpchk GET ${b.healthPath}`,
            "    http-check expect status 200",
            // The service sees its own paths: /api/health reaches the app as /health.
            `    http-request replace-path ^/${b.name}/?(.*)$ /\\1`,
            `    server blue ${b.blue} weight ${CONFIG_FILE_WEIGHTS.blue} check inter 2s fall 3 rise 2`,
            `    server green ${b.green} weight ${CONFIG_FILE_WEIGHTS.green} check inter 2s fall 3 rise 2`,
        );
    }
    return `${lines.join("\n")}\n`;
}
