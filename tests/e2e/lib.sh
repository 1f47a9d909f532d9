# Helpers for the shell end-to-end tests. Source it; needs MN_BIN_DIR.
set -euo pipefail

# Debian's python3 for the harness's own small scripts (JSON fields, ports):
# a version manager's shim first on PATH (pyenv's, on the machines here)
# runs a shell script and another exec before Python, 360 ms of CPU a call
# against 46 ms on a slow machine; test_lifecycle_crash spent 108 s of its
# 134 s in such calls. Debian's is also the one with python3-jsonpickle.
if [ -x /usr/bin/python3 ]; then
  python3() { /usr/bin/python3 "$@"; }
  export -f python3
fi

fail() { echo "FAIL: $*" >&2; exit 1; }
pass() { echo "ok: $*"; }

# wait_for DEADLINE_S CMD...: runs CMD until it succeeds or the deadline passes.
wait_for() {
  local deadline=$(( $(date +%s%N) / 1000000 + $1 * 1000 )); shift
  until "$@" >/dev/null 2>&1; do
    [ $(( $(date +%s%N) / 1000000 )) -lt $deadline ] || return 1
    sleep 0.05
  done
}

# A free TCP port on loopback.
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# new_workdir: a temp dir the postgres user can reach, and where the local
# provider's tasks (run as nobody when the daemon is root) may leave files,
# as /tmp itself (1777); removed at exit.
new_workdir() {
  MN_WORK=$(mktemp -d /tmp/mn-e2e.XXXXXX)
  chmod 1777 "$MN_WORK"
  echo "$MN_WORK"
}

# http METHOD URL [BODY]: prints "STATUS BODY"
http() {
  local method=$1 url=$2 body=${3:-}
  if [ -n "$body" ]; then
    curl -s -o /tmp/mn-e2e-body.$$ -w '%{http_code}' -X "$method" -H "Authorization: Bearer ${MN_KEY:-}" \
      -H 'Content-Type: application/json' --data "$body" "$url"
  else
    curl -s -o /tmp/mn-e2e-body.$$ -w '%{http_code}' -X "$method" -H "Authorization: Bearer ${MN_KEY:-}" "$url"
  fi
  echo " $(cat /tmp/mn-e2e-body.$$)"
  rm -f /tmp/mn-e2e-body.$$
}
