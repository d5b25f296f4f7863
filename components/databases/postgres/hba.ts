// The pg_hba.conf rules of a PostgreSQL server, rendered from its config, and the script that installs them on its host.
import { IPV4_PATTERN, shellQuote, type DatabaseSpec } from "../../config";

/** What the rules depend on (a DatabaseServerSpec is one): the app host and, per database, its name and service user. */
export interface PgHbaServer {
    name: string;
    appHost: string;
    databases: Pick<DatabaseSpec, "database" | "user">[];
}

/** pg_hba.conf keywords (`all`, `replication`, ...) must never be taken for a database or user name. */
const PG_HBA_KEYWORDS = new Set(["all", "sameuser", "samerole", "samegroup", "replication"]);
/** Names written unquoted into pg_hba.conf: what the config schema lets through for mo_x / svc_x. */
const PG_HBA_NAME = /^[a-z_][a-z0-9_]*$/;

function checkName(server: string, kind: string, name: string): void {
    if (!PG_HBA_NAME.test(name) || PG_HBA_KEYWORDS.has(name)) {
        throw new Error(`databases.servers.${server}.databases: ${kind} name ${JSON.stringify(name)} cannot be written into pg_hba.conf`);
    }
}

/**
 * The rules for one server, in pg_hba's first-match order: per database the one way in (TLS from the
 * app host with a SCRAM password), then per service user a reject for every other way (TCP without
 * TLS, another host, another database, replication, the unix socket), so that no later, broader line
 * of the file (a `trust` or a password rule for `all`) can ever let a service user in.
 */
export function renderPgHbaLines(server: PgHbaServer): string[] {
    if (!IPV4_PATTERN.test(server.appHost)) throw new Error(`databases.servers.${server.name}.appHost: ${JSON.stringify(server.appHost)} is not an IPv4 address`);
    for (const db of server.databases) {
        checkName(server.name, "database", db.database);
        checkName(server.name, "user", db.user);
    }
    const allow = server.databases.map((db) => `hostssl ${db.database} ${db.user} ${server.appHost}/32 scram-sha-256`);
    const users = [...new Set(server.databases.map((db) => db.user))];
    const reject = users.flatMap((user) => [
        `host all ${user} all reject`,
        `host replication ${user} all reject`,
        `local all ${user} reject`,
        `local replication ${user} reject`,
    ]);
    return [...allow, ...reject];
}

/**
 * The first and last line of a managed block: one block per stack and server, so stacks sharing a
 * host never clash; with a block id (the resource's own, made when it was created) so that a
 * resource only ever removes the block it wrote, never the one its replacement just put in place.
 */
export function pgHbaMarkers(stack: string, server: string, blockId?: string): { begin: string; end: string } {
    if (!/^[A-Za-z0-9._-]+$/.test(stack)) throw new Error(`stack name ${JSON.stringify(stack)} cannot mark a pg_hba.conf block`);
    if (!/^[a-z][a-z0-9-]*$/.test(server)) throw new Error(`server name ${JSON.stringify(server)} cannot mark a pg_hba.conf block`);
    if (blockId !== undefined && !/^[0-9a-f]{8,32}$/.test(blockId)) throw new Error(`block id ${JSON.stringify(blockId)} is not a hex id`);
    const owner = `stack ${stack}, server ${server}${blockId === undefined ? "" : `, block ${blockId}`}`;
    return { begin: `# BEGIN release-platform managed: ${owner}`, end: `# END release-platform managed: ${owner}` };
}

/** The managed block as it goes into pg_hba.conf (ends with a newline); empty when the server has no databases. */
export function renderPgHbaBlock(server: PgHbaServer, stack: string): string {
    const lines = renderPgHbaLines(server);
    if (lines.length === 0) return "";
    const { begin, end } = pgHbaMarkers(stack, server.name);
    const note = "# Written by `pulumi up` (release-platform); edits here are overwritten. It stays above every other rule.";
    return [begin, note, ...lines, end, ""].join("\n");
}

/** The block with its markers carrying `blockId` (as written to the file), or back without it (`blockId` undefined). */
export function markBlock(block: string, stack: string, server: string, from: string | undefined, to: string | undefined): string {
    const a = pgHbaMarkers(stack, server, from);
    const b = pgHbaMarkers(stack, server, to);
    return block
        .split("\n")
        .map((line) => (line === a.begin ? b.begin : line === a.end ? b.end : line))
        .join("\n");
}

/**
 * awk program that drops the block between the lines `begin` and `end` (variables) and prints the
 * rest; it exits 3, printing nothing useful, when a block is opened and never closed, so that a
 * damaged file is never cut short.
 */
export const PG_HBA_STRIP_AWK = [
    "$0 == begin { if (skip) exit 3; skip = 1; next }",
    "skip && $0 == end { skip = 0; next }",
    "!skip { print }",
    "END { if (skip) exit 3 }",
].join("\n");

export interface PgHbaScriptArgs {
    stack: string;
    server: string;
    /** The PostgreSQL port on the host (its unix socket is named after it). */
    port: number;
    /** The block this resource owns (see `pgHbaMarkers`). */
    blockId: string;
}

/**
 * The shell script run on the database host over SSH. It works as the postgres OS user, which owns
 * the cluster's files: directly when the SSH user is postgres, through `runuser` when it is root,
 * and through `sudo -n -u postgres` otherwise (a deploy user then needs a sudoers rule such as
 * `deploy ALL=(postgres) NOPASSWD: ALL`).
 * `install` reads the managed block on stdin and puts it at the top of the file `SHOW hba_file` names,
 * replacing its own earlier copy (and a block of this stack and server from before blocks had ids);
 * `remove` takes its own block out, nothing else; `read` prints its own block as the file holds it.
 * A file that would not change is left alone (no reload). Otherwise the new file replaces the old
 * one atomically, `pg_hba_file_rules` must show no error (else the previous file is put back and the
 * script fails), and only then the configuration is reloaded; the script waits until the postmaster
 * has loaded it. Nothing secret passes through it: the block holds names and addresses only.
 */
export function pgHbaScript(action: "install" | "remove" | "read", args: PgHbaScriptArgs): string {
    const { begin, end } = pgHbaMarkers(args.stack, args.server, args.blockId);
    const legacy = pgHbaMarkers(args.stack, args.server);
    if (!Number.isInteger(args.port) || args.port < 1 || args.port > 65535) throw new Error(`databases.servers.${args.server}.admin.port: ${args.port} is not a port`);
    // POSIX sh throughout: the command runs in the SSH user's login shell, which may be dash.
    return `# release-platform: ${action} the pg_hba.conf block of stack ${args.stack}, server ${args.server}
set -eu
cd / # the postgres OS user may not enter the SSH user's home
if [ "$(id -un)" = postgres ]; then set -- sh -c
elif [ "$(id -u)" = 0 ]; then set -- runuser -u postgres -- sh -c
else set -- sudo -n -u postgres -- sh -c
fi
exec "$@" ${shellQuote(PG_HBA_EDIT_SCRIPT)} pg-hba ${action} ${args.port} ${shellQuote(begin)} ${shellQuote(end)} ${shellQuote(legacy.begin)} ${shellQuote(legacy.end)}
`;
}

/** The part that runs as postgres: `sh -c SCRIPT pg-hba install|remove|read PORT BEGIN END LEGACY_BEGIN LEGACY_END`, the block on stdin for install. */
export const PG_HBA_EDIT_SCRIPT = `set -eu
action="$1"; export PGPORT="$2"; begin="$3"; end="$4"; legacy_begin="$5"; legacy_end="$6"
staged=""; block="$(mktemp)"; rest="$(mktemp)"; mine="$(mktemp)"
trap 'rm -f "$block" "$rest" "$mine" "$staged"' EXIT
sql() { psql -XAtq -v ON_ERROR_STOP=1 -d postgres -c "$1"; }

hba="$(sql 'SHOW hba_file')"
[ -f "$hba" ] || { echo "hba_file $hba does not exist" >&2; exit 1; }
if [ "$action" = read ]; then
  awk -v begin="$begin" -v end="$end" '$0 == begin { p = 1 } p { print } p && $0 == end { exit }' "$hba"
  exit 0
fi
# One edit at a time per file: two stacks (or two updates) editing at once would each write back the
# file they read, and one block would be lost. The lock is on the folder, which the rename below
# does not replace; a host without flock (util-linux) edits unlocked.
if command -v flock >/dev/null 2>&1; then
  exec 9<"$(dirname "$hba")"
  flock -w 120 9 || { echo "$hba: another edit held the lock for two minutes" >&2; exit 1; }
fi
if [ "$action" = install ]; then cat >"$block"; else : >"$block"; fi
awk -v begin="$begin" -v end="$end" ${shellQuote(PG_HBA_STRIP_AWK)} "$hba" >"$mine" \\
  || { echo "$hba: the block '$begin' is not closed by '$end'; fix the file by hand" >&2; exit 1; }
if [ "$action" = install ]; then
  awk -v begin="$legacy_begin" -v end="$legacy_end" ${shellQuote(PG_HBA_STRIP_AWK)} "$mine" >"$rest" \\
    || { echo "$hba: the block '$legacy_begin' is not closed by '$legacy_end'; fix the file by hand" >&2; exit 1; }
else
  cat "$mine" >"$rest"
fi
staged="$(mktemp "$hba.rp-XXXXXX")"
cat "$block" "$rest" >"$staged"
if cmp -s "$staged" "$hba"; then
  echo "$hba: nothing to $action, not rewritten or reloaded"
  exit 0
fi
chmod --reference="$hba" "$staged"
previous="$hba.rp-previous"
cp -p "$hba" "$previous"
mv -f "$staged" "$hba"
errors="$(sql "SELECT line_number || ': ' || error FROM pg_hba_file_rules WHERE error IS NOT NULL")" || errors="pg_hba_file_rules could not be read"
if [ -n "$errors" ]; then
  mv -f "$previous" "$hba"
  echo "$hba: the new rules do not load, the previous file is back in place:" >&2
  echo "$errors" >&2
  exit 1
fi
rm -f "$previous"
loaded="$(sql 'SELECT pg_conf_load_time()')"
[ "$(sql 'SELECT pg_reload_conf()')" = t ]
# pg_reload_conf only signals the postmaster: wait until new sessions see the reloaded configuration.
for _ in $(seq 1 100); do
  if [ "$(sql 'SELECT pg_conf_load_time()')" != "$loaded" ]; then
    echo "$hba: $action done, configuration reloaded"
    exit 0
  fi
  sleep 0.1
done
echo "$hba: $action done; the reload was requested but not seen within 10 s" >&2
`;
