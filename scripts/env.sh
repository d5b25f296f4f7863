# Environment for every project command: Node.js 24, the locally built Pulumi CLI and plugins,
# the project's file backend. Source it (`. scripts/env.sh`); scripts/with-env.sh wraps a command.
# Everything lives outside the repository under $RP_CACHE, keyed by toolchain/versions.env.

_rp_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export RP_ROOT="$_rp_root"
# shellcheck disable=SC1091
. "$RP_ROOT/toolchain/versions.env"
export RP_CACHE="${RP_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/release-platform}"
export RP_NODE_DIR="$RP_CACHE/node-$NODE_VERSION"
export RP_TOOLCHAIN_KEY_FILE="$RP_CACHE/toolchain.current"

# Node.js: use the system one when it is new enough, else the pinned LTS from the npm registry.
_rp_sys_major="$(command -v node >/dev/null 2>&1 && node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)"
if [ -x "$RP_NODE_DIR/node_modules/node/bin/node" ] && [ "${_rp_sys_major:-0}" -lt "$NODE_MIN_MAJOR" ]; then
  case ":$PATH:" in *":$RP_NODE_DIR/node_modules/node/bin:"*) ;; *) PATH="$RP_NODE_DIR/node_modules/node/bin:$PATH" ;; esac
fi

# Pulumi: the toolchain dir recorded by the last successful setup (see scripts/setup.sh).
if [ -f "$RP_TOOLCHAIN_KEY_FILE" ]; then
  RP_TOOLCHAIN_DIR="$(cat "$RP_TOOLCHAIN_KEY_FILE")"
  export RP_TOOLCHAIN_DIR
  case ":$PATH:" in *":$RP_TOOLCHAIN_DIR/bin:"*) ;; *) PATH="$RP_TOOLCHAIN_DIR/bin:$PATH" ;; esac
  export PULUMI_HOME="${PULUMI_HOME:-$RP_TOOLCHAIN_DIR/pulumi-home}"
fi
case ":$PATH:" in *":$RP_ROOT/node_modules/.bin:"*) ;; *) PATH="$PATH:$RP_ROOT/node_modules/.bin" ;; esac
export PATH

# V8's compile cache for every node process (Node >= 22): the program, the policy pack and the dynamic
# provider load @pulumi/pulumi and the provider SDKs from bytecode instead of compiling them on
# each preview (about a second of CPU per run). Node checks each entry against the file's content.
export NODE_COMPILE_CACHE="${NODE_COMPILE_CACHE:-$RP_CACHE/node-compile-cache}"
export PULUMI_SKIP_UPDATE_CHECK=true
export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
export PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK=true
# The local test CA (scripts/local-servers.sh) that signed the loopback servers' certificates (tests read it).
export RP_TEST_CA_FILE="${RP_TEST_CA_FILE:-${RP_SERVER_STATE:-/var/lib/release-platform}/tls/ca.crt}"
# The local stack verifies the PVE API emulator's certificate like a real cluster's (insecure: false):
# the Go provider and Node trust the local test CA besides the system's. Its key is root's, on this
# machine only; a real cluster's certificate is verified against the system store as always.
if [ -f "$RP_TEST_CA_FILE" ]; then
  export NODE_EXTRA_CA_CERTS="$RP_TEST_CA_FILE"
  export SSL_CERT_DIR="/etc/ssl/certs:$(dirname "$RP_TEST_CA_FILE")/trust"
fi
export PULUMI_BACKEND_URL="${PULUMI_BACKEND_URL:-file://$RP_ROOT/.pulumi-state}"
unset _rp_root _rp_sys_major
