#!/usr/bin/env bash
# Per-execution keys with the local provider (docs/security.md, "Execution
# keys"): a task reads its environment and proves that its key is not the
# daemon's, that it is refused everything outside its scope (other
# projects, another execution's /finish, project and version changes,
# invocations without its parent, logs, credentials), that it may start,
# read, list and cancel its own children, and that the key is refused once
# its execution has ended (the probe of lib_execution_keys.sh, which the
# Docker, ECS and Kubernetes tests share). The store holds the key's hash,
# not the key, and the daemon's log holds neither key.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_daemon.sh"
. "$(dirname "$0")/lib_execution_keys.sh"

xk_admin_key
daemon_start main
xk_setup none
xk_probe_start
xk_probe_finish
xk_check_ended

# the store keeps the key's hash only
hash=$(printf %s "$XK_KEY" | sha256sum | cut -d' ' -f1)
pidfile=$MN_WORK/data/postgres/data/postmaster.pid
stored=$(psql -X -A -t "host=$(sed -n 5p "$pidfile") port=$(sed -n 4p "$pidfile") dbname=multinode user=postgres" \
  -c "SELECT token_hash FROM executions WHERE execution_id = '$XK_EXE'")
[ "$stored" = "$hash" ] || fail "stored \"$stored\", want the SHA-256 of the key"
if grep -rqF "$XK_KEY" "$MN_WORK/data/postgres" 2>/dev/null; then fail "the key is in the database files"; fi
xk_no_key_in "$MN_WORK/main.log"
pass "the store holds its SHA-256, not the key; no key in the daemon's log"
