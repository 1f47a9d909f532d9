#!/usr/bin/env bash
# Two daemons on one database (docs/architecture.md §5: exactly one scheduler is active
# per database, any number of daemons serve the API; if the active one dies,
# another takes over). Daemon A runs the embedded Postgres; daemon B points
# store.postgres.dsn at it and shares data_dir (the local provider's records
# under data_dir/local, so B can watch the workers A started). Both tell
# workers to call B (server.public_url), which outlives A.
# Checks: exactly one daemon logs "scheduler: active"; 20 invocations created
# through both APIs (alternating) all SUCCEED with exactly one execution each
# and each command ran once; after kill -9 of A (its Postgres keeps running)
# B becomes active within seconds; invocations whose workers A started finish
# SUCCEEDED; new invocations created through B finish.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_daemon.sh"
. "$(dirname "$0")/lib_lifecycle.sh"

runs=$MN_WORK/runs gate=$MN_WORK/gate
mkdir -p -m 1777 "$runs" "$gate"
MN_PORTS[a]=$(free_port)
MN_PORTS[b]=$(free_port)
public=http://127.0.0.1:${MN_PORTS[b]}

# two_config NAME EXTRA: both daemons' configs (the same data_dir)
two_config() {
  cat >"$MN_WORK/$1.yaml" <<YAML
server:
  listen: 127.0.0.1:${MN_PORTS[$1]}
  api_key: $MN_KEY
  public_url: $public
data_dir: $MN_WORK/data
log_level: debug
$LC_SCHED_YAML
$2
YAML
}

two_config a ""
daemon_start a
wait_until 20 "daemon A to become the scheduler" grep -q "scheduler: active" "$MN_WORK/a.log"
pidfile=$MN_WORK/data/postgres/data/postmaster.pid
dsn="host=$(sed -n 5p "$pidfile") port=$(sed -n 4p "$pidfile") dbname=multinode user=postgres"
two_config b "store:
  postgres:
    dsn: \"$dsn\""
daemon_start b
# B serves the same data as A
daemon_use a
lc_deploy twod "[$(lc_fn rec 'echo $MULTINODE_EXECUTION_ID >> '"$runs"'/$MULTINODE_INVOCATION_ID; echo ok $(cat)' 20),
  $(lc_fn hold "echo \$MULTINODE_EXECUTION_ID >> $runs/\$MULTINODE_INVOCATION_ID; $(lc_gate "$gate"); echo held" 10 0 120)]"
daemon_use b
api GET "$LC_BASE" >/dev/null
[ "$(last_status)" = 200 ] || fail "B does not see the version created through A"
pass "A (embedded Postgres) and B (dsn: $dsn) serve one database"

# active_count NAME: "scheduler: active" lines in a daemon's log
active_count() { grep -c "scheduler: active" "$MN_WORK/$1.log" || true; }

# ---- 20 invocations through both APIs
ids=()
for ((k = 0; k < 20; k++)); do
  if ((k % 2)); then daemon_use b; else daemon_use a; fi
  ids+=("$(lc_start rec "$k")")
done
daemon_use b
lc_wait_terminated 30 rec "${ids[@]}"
for ((k = 0; k < 20; k++)); do
  id=${ids[$k]}
  inv=$(lc_inv rec "$id")
  [ "$(jget "$inv" '[e["outcome"] for e in j["executions"]]')" = '["SUCCEEDED"]' ] ||
    fail "$id: executions $(jget "$inv" '[(e["worker_status"], e["outcome"]) for e in j["executions"]]')"
  [ "$(jget "$inv" 'j["executions"][0]["output"]')" = "ok $k" ] || fail "$id: wrong output"
  [ "$(cat "$runs/$id")" = "$(jget "$inv" 'j["executions"][0]["execution_id"]')" ] ||
    fail "$id: its command ran $(wc -l <"$runs/$id") time(s): $(cat "$runs/$id")"
done
lines=$(cat "$runs"/inv-* | wc -l)
distinct=$(cat "$runs"/inv-* | sort -u | wc -l)
[ "$lines" = 20 ] && [ "$distinct" = 20 ] || fail "$lines command runs, $distinct distinct, expected 20"
[ "$(active_count a)" = 1 ] || fail "A logged 'scheduler: active' $(active_count a) times"
[ "$(active_count b)" = 0 ] || fail "B became active while A held the lock"
grep -q "api: POST $LC_BASE/functions/rec/invocations 200" "$MN_WORK/b.log" || fail "B created none"
pass "20 invocations through both APIs: 20 executions, 20 command runs, one scheduler (A)"

# ---- long-running ones, launched by A, then A dies
held=()
for ((k = 0; k < 3; k++)); do held+=("$(lc_start hold "h$k")"); done
for id in "${held[@]}"; do
  wait_until 30 "held invocation $id to run" test -f "$gate/$id.started"
done
pg_before=$(head -n1 "$pidfile")
t0=$(date +%s%N)
daemon_kill a KILL
kill -0 "$pg_before" || fail "Postgres died with daemon A"
wait_until 5 "B to become the scheduler" grep -q "scheduler: active" "$MN_WORK/b.log"
pass "A killed; B active after $(( ($(date +%s%N) - t0) / 1000000 )) ms"

# Invocations created now (through B) run.
fresh=()
for ((k = 0; k < 5; k++)); do fresh+=("$(lc_start rec "f$k")"); done
lc_wait_terminated 30 rec "${fresh[@]}"
for id in "${fresh[@]}"; do
  [ "$(lc_outcomes rec "$id")" = SUCCEEDED ] || fail "$id after takeover: $(lc_outcomes rec "$id")"
  [ "$(wc -l <"$runs/$id")" = 1 ] || fail "$id ran $(wc -l <"$runs/$id") times"
done
pass "5 invocations created after the takeover SUCCEEDED once each"

# The workers A started are still running; released now, they report to B.
for id in "${held[@]}"; do
  [ "$(lc_field hold "$id" 'j["invocation_status"]')" = RUNNING ] || fail "$id ended before release"
  touch "$gate/$id.go"
done
lc_wait_terminated 30 hold "${held[@]}"
for id in "${held[@]}"; do
  inv=$(lc_inv hold "$id")
  [ "$(jget "$inv" '[e["outcome"] for e in j["executions"]]')" = '["SUCCEEDED"]' ] ||
    fail "$id: executions $(jget "$inv" '[(e["outcome"], e["error_message"]) for e in j["executions"]]')"
  [ "$(jget "$inv" 'j["executions"][0]["output"]')" = held ] || fail "$id: output"
  [ "$(wc -l <"$runs/$id")" = 1 ] || fail "$id ran $(wc -l <"$runs/$id") times"
done
pass "workers started by A finished after its death and were recorded through B"

lines=$(cat "$runs"/inv-* | wc -l)
distinct=$(cat "$runs"/inv-* | sort -u | wc -l)
[ "$lines" = 28 ] && [ "$distinct" = 28 ] || fail "$lines command runs, $distinct distinct, expected 28"
[ "$(active_count b)" = 1 ] || fail "B logged 'scheduler: active' $(active_count b) times"
left=$(pgrep -af "[m]ultinode-worker.*$MN_WORK" || true)
[ -z "$left" ] || fail "workers left running: $left"
pass "28 invocations, 28 command runs, no duplicate, no worker left"
