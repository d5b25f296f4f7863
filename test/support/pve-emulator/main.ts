// `node -r ts-node/register/transpile-only test/support/pve-emulator/main.ts --port 8006 [--state-file f] [--log]`:
// the emulator as a standalone server, for the local stack (`npm start`) and manual experiments.
import { PveEmulator } from "./server";

function option(name: string): string | undefined {
    const index = process.argv.indexOf(`--${name}`);
    return index < 0 ? undefined : process.argv[index + 1];
}

async function main(): Promise<void> {
    const emulator = await PveEmulator.start({
        port: Number(option("port") ?? 8006),
        host: option("host") ?? "127.0.0.1",
        stateFile: option("state-file"),
        nodes: option("nodes")?.split(","),
    });
    // Keep the process alive: the server is unref'd for tests.
    const keepAlive = setInterval(() => undefined, 1 << 30);
    let printed = 0;
    const logging = process.argv.includes("--log");
    const flush = setInterval(() => {
        if (!logging) return;
        for (const r of emulator.requests.slice(printed)) {
            console.log(`${r.method} /${r.path} ${JSON.stringify(r.args)} -> ${r.status}${r.error ? ` ${r.error}` : ""}`);
        }
        printed = emulator.requests.length;
    }, 200);
    console.log(`[pve-emulator] listening on ${emulator.endpoint}`);
    const shutdown = (): void => {
        clearInterval(keepAlive);
        clearInterval(flush);
        void emulator.stop().then(() => process.exit(0));
    };
    process.on("SIGTERM", shutdown);
    process.on("SIGINT", shutdown);
}

void main().catch((error: unknown) => {
    console.error(`[pve-emulator] ${(error as Error).message}`);
    process.exit(1);
});
