#!/usr/bin/env bash
# Postgres restarted under load (docs/architecture.md §8: "Postgres restarting under
# load ... loses nothing"). While a generator keeps creating invocations
# (each command records its execution id and reports progress 6 times, so
# workers are starting, calling the API and finishing throughout), the
# embedded Postgres is restarted with `pg_ctl restart -m fast`. API calls during the restart may
# answer 503 (counted, allowed); nothing else. Checks: every invocation whose
# creation answered 200 ends TERMINATED SUCCEEDED with one execution and its
# command ran once (max_retries 0: a lost attempt would show as FAILED); the
# daemon keeps serving and scheduling afterwards.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_daemon.sh"
. "$(dirname "$0")/lib_lifecycle.sh"

runs=$MN_WORK/runs
mkdir -p -m 1777 "$runs"
pgdata=$MN_WORK/data/postgres/data
daemon_config d "$LC_SCHED_YAML"
daemon_start d
work='echo $MULTINODE_EXECUTION_ID >> '"$runs"'/$MULTINODE_INVOCATION_ID
for i in 1 2 3 4 5 6; do multinode progress "step $i" || exit 7; sleep 0.05; done; echo w $(cat)'
lc_deploy pgrestart "[$(lc_fn work "$work" 50 0 120)]"

# The generator: one creation every ~30 ms; each line "HTTP_STATUS BODY".
created=$MN_WORK/created stop=$MN_WORK/stop-gen
: >"$created"
generate() {
  local k=0 url=$MN_URL$LC_BASE/functions/work/invocations out
  while [ ! -f "$stop" ] && [ $k -lt 2000 ]; do
    out=$(curl -s -m 30 -w ' %{http_code}' -X POST -H "Authorization: Bearer $MN_KEY" \
      -H 'Content-Type: application/json' --data "{\"input\":\"g$k\"}" "$url" | tr -d '\n')
    echo "${out##* } ${out% *}" >>"$created"
    k=$((k + 1))
    sleep 0.03
  done
}
generate &
gen=$!
count_ok() { grep -c '^200 ' "$created" || true; }
wait_until 30 "20 invocations created before the restart" bash -c "[ \$(grep -c '^200 ' $created) -ge 20 ]"

pg_old=$(head -n1 "$pgdata/postmaster.pid")
t0=$(date +%s%N)
runuser -u postgres -- pg_ctl -D "$pgdata" -l "$MN_WORK/data/postgres/server.log" -w -t 60 \
  restart -m fast >"$MN_WORK/pg_ctl.out" 2>&1 || { cat "$MN_WORK/pg_ctl.out"; fail "pg_ctl restart failed"; }
restart_ms=$(( ($(date +%s%N) - t0) / 1000000 ))
pg_new=$(head -n1 "$pgdata/postmaster.pid")
[ "$pg_new" != "$pg_old" ] || fail "the postmaster pid did not change ($pg_old)"
at_restart=$(wc -l <"$created")
pass "Postgres restarted in ${restart_ms} ms (pid $pg_old -> $pg_new) after $at_restart creations"

# Keep the load on until 20 more creations succeeded after the restart.
wait_until 60 "20 invocations created after the restart" \
  bash -c "[ \$(tail -n +$((at_restart + 1)) $created | grep -c '^200 ') -ge 20 ]"
touch "$stop"
wait "$gen" || true

total=$(wc -l <"$created")
ok=$(count_ok)
unavailable=$(grep -c '^503 ' "$created" || true)
other=$(grep -v '^200 \|^503 ' "$created" || true)
[ -z "$other" ] || fail "creations answered neither 200 nor 503:
$(head -n 5 <<<"$other")"
pass "$total creations: $ok answered 200, $unavailable answered 503 during the restart"

mapfile -t ids < <(grep '^200 ' "$created" | cut -d' ' -f2- | jq -r .invocation_id)
[ "${#ids[@]}" = "$ok" ] || fail "could not read the ids of the created invocations"
lc_wait_terminated 60 work "${ids[@]}"
bad=0
for id in "${ids[@]}"; do
  got=$(lc_inv work "$id" | jq -c '[.invocation_status, [.executions[] | [.outcome, .execution_id]]]')
  exe=$(jq -r '.[1][0][1]' <<<"$got")
  if [ "$(jq -c '[.[0], [.[1][] | .[0]]]' <<<"$got")" != '["TERMINATED",["SUCCEEDED"]]' ] ||
    [ "$(cat "$runs/$id" 2>/dev/null)" != "$exe" ]; then
    echo "$id: $(lc_inv work "$id" | jq -c '[.executions[] | [.worker_status, .outcome, .error_message]]'), runs: $(cat "$runs/$id" 2>/dev/null | tr '\n' ' ')" >&2
    bad=$((bad + 1))
  fi
done
[ "$bad" = 0 ] || fail "$bad of $ok invocations did not succeed exactly once"
retried=$(grep -c 'api: PUT .*/executions/.* 503 ' "$MN_WORK/d.log" || true)
pass "all $ok created invocations SUCCEEDED with one execution, each command ran once ($retried worker calls answered 503 and were retried)"

# The daemon still serves and schedules.
[ "$(curl -s "$MN_URL/")" = '{"status":"healthy"}' ] || fail "health check after the restart"
after=()
for k in 1 2 3; do after+=("$(lc_start work "after$k")"); done
lc_wait_terminated 30 work "${after[@]}"
for id in "${after[@]}"; do
  [ "$(lc_outcomes work "$id")" = SUCCEEDED ] || fail "$id after the restart: $(lc_outcomes work "$id")"
done
kill -0 "${MN_PIDS[d]}" || fail "the daemon died"
pass "the daemon keeps serving and scheduling after the restart"
