#!/usr/bin/env bash
# A daemon configured with only server.* and no DSN runs its own Postgres and
# answers GET / within seconds; again after kill -9 of the daemon and its
# Postgres (recovery); again after kill -9 of the daemon alone (the next start
# adopts the Postgres left running). Data written before each kill survives.
. "$(dirname "$0")/lib.sh"

work=$(new_workdir)
port=$(free_port)
export MN_KEY=e2e-key
cat >"$work/multinode.yaml" <<YAML
server:
  listen: 127.0.0.1:$port
  api_key: $MN_KEY
data_dir: $work/data
YAML
url=http://127.0.0.1:$port
daemon_pid=

pg_pid() { head -n1 "$work/data/postgres/data/postmaster.pid" 2>/dev/null; }
cleanup() {
  [ -n "$daemon_pid" ] && kill -9 "$daemon_pid" 2>/dev/null || true
  local p; p=$(pg_pid || true)
  [ -n "$p" ] && kill -9 "$p" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

start_daemon() {
  local t0=$(date +%s%N)
  "$MN_BIN_DIR/multinoded" --config "$work/multinode.yaml" >>"$work/daemon.log" 2>&1 &
  daemon_pid=$!
  wait_for 30 curl -sf "$url/" || { tail -n 50 "$work/daemon.log"; fail "GET / not answered within 30 s ($1)"; }
  local body; body=$(curl -s "$url/")
  [ "$body" = '{"status":"healthy"}' ] || fail "unexpected health body: $body"
  pass "$1: GET / answered after $(( ($(date +%s%N) - t0) / 1000000 )) ms"
}

start_daemon "fresh start (initdb)"
# GET /providers: the sections loaded, with their plugin's type
[ "$(http GET "$url/providers")" = '200 {"default":"local","providers":[{"name":"local","type":"local"}]}' ] ||
  fail "GET /providers: $(http GET "$url/providers")"
pass "GET /providers lists the local provider as the default"
[ "$(http PUT "$url/projects/alpha" | cut -d' ' -f1)" = 200 ] || fail "create project alpha"

# kill -9 of the daemon and its Postgres: the next start recovers the cluster.
old_pg=$(pg_pid)
kill -9 "$daemon_pid" "$old_pg"; wait "$daemon_pid" 2>/dev/null || true
start_daemon "after kill -9 of daemon and postgres"
[ "$(http GET "$url/projects/alpha" | cut -d' ' -f1)" = 200 ] || fail "project alpha lost after recovery"
[ "$(pg_pid)" != "$old_pg" ] || fail "postgres pid unchanged after it was killed"
[ "$(http PUT "$url/projects/beta" | cut -d' ' -f1)" = 200 ] || fail "create project beta"

# kill -9 of the daemon alone: the next start adopts the running Postgres.
kept_pg=$(pg_pid)
kill -9 "$daemon_pid"; wait "$daemon_pid" 2>/dev/null || true
kill -0 "$kept_pg" || fail "postgres died with the daemon"
start_daemon "after kill -9 of the daemon alone"
[ "$(pg_pid)" = "$kept_pg" ] || fail "postgres was not adopted (pid $kept_pg -> $(pg_pid))"
[ "$(http GET "$url/projects/beta" | cut -d' ' -f1)" = 200 ] || fail "project beta lost"

# A clean stop also stops the embedded Postgres.
kill -TERM "$daemon_pid"
wait "$daemon_pid" || fail "daemon exited non-zero on SIGTERM"
daemon_pid=
wait_for 30 bash -c "! kill -0 $kept_pg 2>/dev/null" || fail "postgres still running after daemon stop"
pass "SIGTERM stops the daemon and its postgres"
