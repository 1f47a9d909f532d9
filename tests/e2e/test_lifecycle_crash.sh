#!/usr/bin/env bash
# Crash safety (docs/architecture.md §5 launch protocol and reconciliation; §8 "the
# daemon killed with SIGKILL mid-flight"). With invocations in every state —
# finished, RUNNING commands waiting on go-files, queued beyond capacity,
# just created/launched (PENDING, PROVISIONING, worker starting) — the daemon
# is killed with SIGKILL; some commands finish while it is down (their
# workers retry /finish); the daemon restarts with the same config.
# Variant 1 kills the daemon only (its embedded Postgres is adopted);
# variant 2 kills its Postgres too (crash recovery on restart).
# Checks: every invocation ends TERMINATED SUCCEEDED with exactly one
# execution (max_retries 2, so a lost or doubled attempt would show); each
# command ran exactly once, under that execution's id; an invocation whose
# worker completed while the daemon was down has ONE execution; no worker
# process of this test is left.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_daemon.sh"
. "$(dirname "$0")/lib_lifecycle.sh"

runs=$MN_WORK/runs gate=$MN_WORK/gate
mkdir -p -m 1777 "$runs" "$gate"
pidfile=$MN_WORK/data/postgres/data/postmaster.pid
daemon_config d "$LC_SCHED_YAML"
daemon_start d

rec='echo $MULTINODE_EXECUTION_ID >> '"$runs"'/$MULTINODE_INVOCATION_ID'
quick="$rec; echo quick \$(cat)"
# gated: runs, waits for its go-file, marks .done, then prints its result
gated="$rec; $(lc_gate "$gate"); touch $gate/\$MULTINODE_INVOCATION_ID.done; echo gated \$(cat)"
CAP=4 NFRESH=10

# SQL on the embedded database (socket dir and port from postmaster.pid)
sql() {
  psql -X -q -A -t -v ON_ERROR_STOP=1 \
    "host=$(sed -n 5p "$pidfile") port=$(sed -n 4p "$pidfile") dbname=multinode user=postgres" -c "$1"
}

# check_one FN ID EXPECTED_OUTPUT: TERMINATED, one SUCCEEDED execution whose
# id is the only line its command recorded.
check_one() {
  local fn=$1 id=$2 want=$3 inv
  inv=$(lc_inv "$fn" "$id")
  [ "$(jget "$inv" 'j["invocation_status"]')" = TERMINATED ] || fail "$fn $id not TERMINATED"
  [ "$(jget "$inv" '[(e["worker_status"], e["outcome"]) for e in j["executions"]]')" = \
    '[["TERMINATED", "SUCCEEDED"]]' ] ||
    fail "$fn $id: executions $(jget "$inv" '[(e["worker_status"], e["outcome"], e["error_message"]) for e in j["executions"]]')
worker logs of the attempts without outcome:
$(jget "$inv" '[e["worker_details"]["logs_identifier"] for e in j["executions"] if not e["outcome"] and e["worker_details"]]' |
      jq -r '.[]' | xargs -r tail -n 5)"
  [ "$(jget "$inv" 'j["executions"][0]["output"]')" = "$want" ] ||
    fail "$fn $id: output $(jget "$inv" 'j["executions"][0]["output"]'), expected $want"
  [ -f "$runs/$id" ] || fail "$fn $id: its command never ran"
  [ "$(cat "$runs/$id")" = "$(jget "$inv" 'j["executions"][0]["execution_id"]')" ] ||
    fail "$fn $id: command runs: $(tr '\n' ' ' <"$runs/$id")"
}

# check_fresh ID WANT: as check_one, but one attempt may have been spent by
# the kill itself: a worker of the dead daemon's launch that ended without
# running anything (empty log, "worker ended while the daemon was down").
# The invocation still SUCCEEDED once, and the command ran exactly once, under
# the successful execution's id. (Known gap: the local provider cannot yet
# tell every such worker from one that ran; docs/architecture.md §5.)
check_fresh() {
  local id=$1 want=$2 inv lost ok_exe
  inv=$(lc_inv fresh "$id")
  lost=$(jget "$inv" '[e for e in j["executions"][:-1] if e["worker_status"] == "TERMINATED" and
    e["outcome"] is None and "while the daemon was down" in (e["error_message"] or "")]')
  if [ "$(jget "$inv" 'len(j["executions"])')" -gt 1 ] &&
    [ "$(jget "$lost" 'len(j)')" = "$(( $(jget "$inv" 'len(j["executions"])') - 1 ))" ]; then
    for log in $(jget "$lost" '[e["worker_details"]["logs_identifier"] for e in j if e["worker_details"]]' | jq -r '.[]'); do
      [ ! -s "$log" ] || fail "fresh $id: a lost attempt's worker had run: $(tail -n 5 "$log")"
    done
    [ "$(jget "$inv" 'j["executions"][-1]["outcome"]')" = SUCCEEDED ] || fail "fresh $id: $inv"
    [ "$(jget "$inv" 'j["executions"][-1]["output"]')" = "$want" ] || fail "fresh $id: output"
    ok_exe=$(jget "$inv" 'j["executions"][-1]["execution_id"]')
    [ "$(cat "$runs/$id")" = "$ok_exe" ] || fail "fresh $id: command runs: $(tr '\n' ' ' <"$runs/$id")"
    echo "note: fresh $id: one attempt spent by the kill (its worker never ran)"
    return
  fi
  check_one fresh "$id" "$want"
}

# scenario NAME KILL_PG WHEN: WHEN is "created" (kill as soon as the last
# fresh invocation is created) or "first-run" (once one of them ran)
scenario() {
  local name=$1 kill_pg=$2 when=$3 k id
  lc_deploy "crash-$name" "[$(lc_fn quick "$quick" 10 2 120), $(lc_fn gated "$gated" $CAP 2 120),
    $(lc_fn fresh "$quick" 10 2 120)]"

  # finished
  local done_ids=()
  for ((k = 0; k < 2; k++)); do done_ids+=("$(lc_start quick "d$k")"); done
  lc_wait_terminated 30 quick "${done_ids[@]}"
  # RUNNING, waiting on go-files (all the capacity)
  local running=()
  for ((k = 0; k < CAP; k++)); do running+=("$(lc_start gated "r$k")"); done
  for id in "${running[@]}"; do
    wait_until 30 "gated $id to run" test -f "$gate/$id.started"
  done
  # queued beyond capacity; their go-files exist so they end once they run
  local queued=()
  for ((k = 0; k < 3; k++)); do
    id=$(lc_start gated "q$k"); queued+=("$id"); touch "$gate/$id.go"
  done
  # just created: the kill lands while they are decided, launched, started
  # (created all at once, the daemon killed as soon as they are)
  local fresh=() url=$MN_URL$LC_BASE/functions/fresh/invocations curls=() before
  before=$(ls "$runs" | wc -l)
  for ((k = 0; k < NFRESH; k++)); do
    curl -sf --max-time 30 -X POST -H "Authorization: Bearer $MN_KEY" -H 'Content-Type: application/json' \
      --data "{\"input\":\"f$k\"}" "$url" >"$MN_WORK/fresh.$k" &
    curls+=($!)
  done
  local pg_pid; pg_pid=$(head -n1 "$pidfile")
  wait "${curls[@]}"
  if [ "$when" = first-run ]; then # kill once the first of them has run its command
    for ((k = 0; k < 1000; k++)); do
      [ "$(ls "$runs" | wc -l)" -le "$before" ] || break
      sleep 0.01
    done
  fi
  daemon_kill d KILL
  for ((k = 0; k < NFRESH; k++)); do
    fresh+=("$(jq -r .invocation_id "$MN_WORK/fresh.$k")")
    [[ ${fresh[$k]} == inv-* ]] || fail "$name: creating fresh invocation $k failed"
  done
  # What the kill interrupted (informative: it varies from run to run)
  local caught
  caught=$(sql "SELECT st || ': ' || count(*) FROM (SELECT coalesce(e.worker_status, 'no execution') ||
      CASE WHEN e.execution_start_time IS NOT NULL THEN ' started' ELSE '' END AS st
    FROM invocations i LEFT JOIN executions e USING (project_name, version_id, function_name, invocation_id)
    WHERE i.project_name = '$LC_PROJECT' AND i.function_name = 'fresh') x GROUP BY st ORDER BY st" |
    paste -sd, -)
  if [ "$kill_pg" = yes ]; then
    kill -9 "$pg_pid"
    wait_until 10 "postgres to die" bash -c "! kill -0 $pg_pid 2>/dev/null"
  else
    kill -0 "$pg_pid" || fail "postgres died with the daemon"
  fi
  local states
  states=$(cat "$runs"/* 2>/dev/null | wc -l)
  pass "$name: daemon killed with 2 finished, $CAP running, 3 queued, $NFRESH just created ($caught; $states command runs so far)"

  # Two commands finish while the daemon is down: their workers retry /finish.
  for id in "${running[@]:0:2}"; do touch "$gate/$id.go"; done
  for id in "${running[@]:0:2}"; do
    wait_until 30 "gated $id to complete with the daemon down" test -f "$gate/$id.done"
  done
  for id in "${queued[@]}"; do
    [ ! -f "$runs/$id" ] || fail "$name: queued $id ran while the daemon was down"
  done

  daemon_start d
  if [ "$kill_pg" = yes ]; then
    [ "$(head -n1 "$pidfile")" != "$pg_pid" ] || fail "postgres was not restarted"
  else
    [ "$(head -n1 "$pidfile")" = "$pg_pid" ] || fail "postgres was not adopted"
  fi
  # The results reported while it was down land; the others go on.
  lc_wait_terminated 30 gated "${running[@]:0:2}"
  for id in "${running[@]:2}"; do touch "$gate/$id.go"; done
  lc_wait_terminated 60 gated "${running[@]}" "${queued[@]}"
  lc_wait_terminated 60 fresh "${fresh[@]}"

  for id in "${done_ids[@]}"; do check_one quick "$id" "quick $(lc_field quick "$id" 'j["input"]')"; done
  for id in "${running[@]}" "${queued[@]}"; do
    check_one gated "$id" "gated $(lc_field gated "$id" 'j["input"]')"
  done
  for id in "${fresh[@]}"; do check_fresh "$id" "quick $(lc_field fresh "$id" 'j["input"]')"; done
  pass "$name: all $((2 + CAP + 3 + NFRESH)) invocations SUCCEEDED with one execution, each command ran once"

  wait_for 10 bash -c "! pgrep -f '[m]ultinode-worker.*$MN_WORK' >/dev/null" ||
    fail "$name: worker processes left: $(pgrep -af "[m]ultinode-worker.*$MN_WORK")"
  pass "$name: no worker left"
}

scenario with-postgres yes created
scenario daemon-only no first-run
