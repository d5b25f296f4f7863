#!/usr/bin/env bash
# `npm run preview -- --stack <stack> [pulumi preview flags]`: `pulumi preview` of a stack with the
# policy pack (policies/) at that stack's enforcement levels (policies/config/<stack>.json).
# The local stack runs from the copy of Pulumi.local.yaml that `npm start` renders (with its
# throwaway secrets) and its passphrase `local-stack`. Exits with pulumi's exit code.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"

usage="usage: npm run preview -- --stack <stack> [pulumi preview flags]"
stack=""
config_file=""
pass=()
while [ $# -gt 0 ]; do
  case "$1" in
    --stack | -s) [ $# -ge 2 ] || { echo "$usage" >&2; exit 2; }; stack="$2"; shift 2 ;;
    --stack=*) stack="${1#--stack=}"; shift ;;
    --config-file) [ $# -ge 2 ] || { echo "$usage" >&2; exit 2; }; config_file="$2"; shift 2 ;;
    --config-file=*) config_file="${1#--config-file=}"; shift ;;
    --policy-pack | --policy-pack=* | --policy-pack-config | --policy-pack-config=*)
      echo "preview: $1 is set by this script (policies/, policies/config/<stack>.json); run pulumi preview directly for another pack" >&2
      exit 2 ;;
    *) pass+=("$1"); shift ;;
  esac
done

known() { find policies/config -maxdepth 1 -name '*.json' -printf '%f\n' | sed 's/\.json$//' | sort | paste -sd' ' -; }
if [ -z "$stack" ]; then
  echo "$usage (stacks with a policy config: $(known))" >&2
  exit 2
fi
policy_config="policies/config/$stack.json"
if [ ! -f "$policy_config" ]; then
  echo "preview: no policy config for stack \"$stack\" ($policy_config); stacks with one: $(known)" >&2
  exit 2
fi
if [ ! -f "Pulumi.$stack.yaml" ]; then
  echo "preview: no stack config Pulumi.$stack.yaml for stack \"$stack\"" >&2
  exit 2
fi

if [ "$stack" = local ]; then
  # The local stack only holds throwaway secrets of loopback servers; its passphrase is not a secret.
  export PULUMI_CONFIG_PASSPHRASE="${PULUMI_CONFIG_PASSPHRASE:-local-stack}"
  if [ -z "$config_file" ]; then
    config_file=".pulumi-state/Pulumi.local.yaml"
    if [ ! -f "$config_file" ]; then
      echo "preview: $config_file does not exist: run \`npm start\` once (it renders the local stack's config with its secrets)" >&2
      exit 2
    fi
  fi
fi

. scripts/env.sh
bash scripts/build.sh
args=(preview --stack "$stack" --policy-pack policies --policy-pack-config "$policy_config")
[ -n "$config_file" ] && args+=(--config-file "$config_file")
exec pulumi "${args[@]}" "${pass[@]}"
