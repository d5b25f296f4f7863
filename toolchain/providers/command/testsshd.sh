#!/usr/bin/env bash
# A throwaway sshd for the remote tests: 127.0.0.1:${CMD_SSHD_PORT:-2222}, its own
# config, host key and client key under ${CMD_SSHD_DIR:-/tmp/cmd-sshd}. It never
# touches /etc/ssh or the system sshd. Logs in as the current user with the key.
#   testsshd.sh start   # prints the env for `go test` (CMD_TEST_SSH_*)
#   testsshd.sh env     # prints the env again
#   testsshd.sh stop
set -euo pipefail
dir=${CMD_SSHD_DIR:-/tmp/cmd-sshd}
port=${CMD_SSHD_PORT:-2222}
sshd=${SSHD:-/usr/sbin/sshd}

print_env() {
  echo "export CMD_TEST_SSH_HOST=127.0.0.1 CMD_TEST_SSH_PORT=$port CMD_TEST_SSH_USER=$(id -un)"
  echo "export CMD_TEST_SSH_KEY=$dir/client_ed25519 CMD_TEST_SSH_KEY_PASSPHRASE_FILE=$dir/client_rsa_pw"
  echo "export CMD_TEST_SSH_KEY_WITH_PASSPHRASE=$dir/client_rsa CMD_TEST_SSH_HOSTKEY=$dir/ssh_host_ed25519_key.pub"
}

case "${1:-}" in
start)
  [ -x "$sshd" ] || { echo "no $sshd: apt-get install openssh-server" >&2; exit 1; }
  mkdir -p "$dir" && chmod 700 "$dir"
  [ -f "$dir/ssh_host_ed25519_key" ] || ssh-keygen -q -t ed25519 -N '' -f "$dir/ssh_host_ed25519_key"
  [ -f "$dir/ssh_host_rsa_key" ] || ssh-keygen -q -t rsa -b 2048 -N '' -f "$dir/ssh_host_rsa_key"
  [ -f "$dir/client_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -f "$dir/client_ed25519"
  [ -f "$dir/client_rsa_pw" ] || echo "test-passphrase" > "$dir/client_rsa_pw"
  [ -f "$dir/client_rsa" ] || ssh-keygen -q -t rsa -b 2048 -N "$(cat "$dir/client_rsa_pw")" -f "$dir/client_rsa"
  cat "$dir/client_ed25519.pub" "$dir/client_rsa.pub" > "$dir/authorized_keys"
  chmod 600 "$dir/authorized_keys"
  cat > "$dir/sshd_config" <<CFG
Port $port
ListenAddress 127.0.0.1
HostKey $dir/ssh_host_ed25519_key
HostKey $dir/ssh_host_rsa_key
PidFile $dir/sshd.pid
AuthorizedKeysFile $dir/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
UsePAM no
StrictModes no
AcceptEnv PULUMI_COMMAND_STDOUT PULUMI_COMMAND_STDERR CMDTEST_*
Subsystem sftp internal-sftp
CFG
  mkdir -p /run/sshd
  if [ -f "$dir/sshd.pid" ] && kill -0 "$(cat "$dir/sshd.pid")" 2>/dev/null; then
    echo "already running (pid $(cat "$dir/sshd.pid"))" >&2
  else
    "$sshd" -t -f "$dir/sshd_config"
    "$sshd" -f "$dir/sshd_config" -E "$dir/sshd.log"
    for _ in $(seq 50); do [ -s "$dir/sshd.pid" ] && break; sleep 0.1; done
    echo "sshd started (pid $(cat "$dir/sshd.pid")) on 127.0.0.1:$port" >&2
  fi
  print_env
  ;;
env) print_env ;;
stop)
  if [ -f "$dir/sshd.pid" ]; then
    kill "$(cat "$dir/sshd.pid")" 2>/dev/null || true
    rm -f "$dir/sshd.pid"
    echo "sshd stopped" >&2
  fi
  ;;
*) echo "usage: $0 start|env|stop" >&2; exit 2 ;;
esac
