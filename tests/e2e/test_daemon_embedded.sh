#!/usr/bin/env bash
# A daemon configured with only server.* and no DSN runs its own Postgres and
# answers GET / within seconds; again after kill -9 of the daemon and its
# Postgres (recovery); again after kill -9 of the daemon alone (the next start
# adopts the Postgres left running). Data written before each kill survives.
# A shared data_dir (issue 19): a second daemon on the taken port fails at
# once touching nothing; one on another port shares the Postgres, and its
# SIGTERM or kill -9 leaves it running for the first; a killed Postgres is
# started again; the last daemon out stops it.
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

# Issue 19: a shared data_dir is safe. A second daemon on the same port fails
# at once and touches nothing: the first keeps serving on the same Postgres.
second_log=$work/second.log
t0=$(date +%s%N)
if "$MN_BIN_DIR/multinoded" --config "$work/multinode.yaml" >"$second_log" 2>&1; then
  fail "a second daemon on a taken port started"
fi
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
grep -q "cannot listen on 127.0.0.1:$port: Address already in use" "$second_log" ||
  fail "second daemon's error: $(cat "$second_log")"
[ "$ms" -lt 2000 ] || fail "the second daemon took $ms ms to fail"
! grep -q "postgres" "$second_log" || fail "the second daemon touched postgres: $(cat "$second_log")"
[ "$(pg_pid)" = "$kept_pg" ] || fail "postgres changed after the refused second daemon"
[ "$(http GET "$url/projects/beta" | cut -d' ' -f1)" = 200 ] || fail "first daemon unhealthy after a refused second"
pass "a second daemon on the same data_dir and port fails in $ms ms; the first keeps serving"

# a second daemon on another port shares the cluster; its stop (SIGTERM, then
# kill -9) leaves Postgres running for the first
port2=$(free_port)
sed "s/127.0.0.1:$port/127.0.0.1:$port2/" "$work/multinode.yaml" >"$work/second.yaml"
for how in TERM KILL; do
  "$MN_BIN_DIR/multinoded" --config "$work/second.yaml" >>"$second_log" 2>&1 &
  second_pid=$!
  wait_for 30 curl -sf "http://127.0.0.1:$port2/" || { tail -n 20 "$second_log"; fail "second daemon not up"; }
  [ "$(http GET "http://127.0.0.1:$port2/projects/beta" | cut -d' ' -f1)" = 200 ] || fail "second daemon does not see beta"
  [ "$(pg_pid)" = "$kept_pg" ] || fail "the second daemon did not adopt the running postgres"
  kill -"$how" "$second_pid"; wait "$second_pid" 2>/dev/null || true
  kill -0 "$kept_pg" 2>/dev/null || fail "SIG$how of the second daemon stopped postgres"
  [ "$(http GET "$url/projects/beta" | cut -d' ' -f1)" = 200 ] || fail "first daemon unhealthy after SIG$how of the second"
  pass "second daemon on port $port2 served; after its SIG$how the first keeps serving"
done
grep -q "postgres left running: another daemon uses" "$second_log" || fail "no 'left running' in the second's log"

# the first daemon starts its Postgres again when it dies
kill -9 "$kept_pg"
wait_for 30 bash -c "p=\$(head -n1 '$work/data/postgres/data/postmaster.pid' 2>/dev/null) && [ -n \"\$p\" ] && [ \"\$p\" != $kept_pg ] && kill -0 \$p" ||
  fail "postgres not started again after kill -9"
wait_for 30 bash -c "[ \"\$(curl -s -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer $MN_KEY' $url/projects/beta)\" = 200 ]" ||
  fail "first daemon does not serve after postgres was restarted"
kept_pg=$(pg_pid)
pass "postgres killed: the daemon started it again (pid $kept_pg) and serves"

# A clean stop also stops the embedded Postgres.
kill -TERM "$daemon_pid"
wait "$daemon_pid" || fail "daemon exited non-zero on SIGTERM"
daemon_pid=
wait_for 30 bash -c "! kill -0 $kept_pg 2>/dev/null" || fail "postgres still running after daemon stop"
pass "SIGTERM stops the daemon and its postgres"
