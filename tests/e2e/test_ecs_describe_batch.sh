#!/usr/bin/env bash
# Status passes over 100 running executions cost one DescribeTasks call each
# (ceil(100 / 100)), counted in the simulator: every call of a pass is
# recorded with its time and size; calls less than 300 ms apart belong to
# one pass (passes are inspect_interval_ms = 1000 apart). Then the 100
# workers are released and all succeed. At exit: no signature mismatch, no
# model violation.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_daemon.sh"
. "$(dirname "$0")/providers/ecs.sh"

N=100
ecs_sim_start
daemon_config main "scheduler:
  inspect_interval_ms: 1000
$(ecs_yaml)"
daemon_start main

echo 'echo "done $(cat)"' >"$MN_WORK/fn.sh"
api PUT /projects/p >/dev/null
v=$(api POST /projects/p/versions "{\"default_docker_image\":\"$SC_IMAGE\",\"functions\":[
  {\"function_name\":\"f\",\"command\":[\"sh\",\"$MN_WORK/fn.sh\"],
   \"env\":{\"MN_HOLD_FILE\":\"$MN_WORK/hold\"},
   \"resource_spec\":{\"virtual_cpus\":0.25,\"memory_gbs\":0.5,\"max_concurrency\":100},
   \"execution_spec\":{\"max_retries\":0,\"timeout_seconds\":300}}]}" | jq -r .version_id)
[[ $v == ver-* ]] || fail "no version"
base=/projects/p/versions/$v/functions/f/invocations

touch "$MN_WORK/hold"
for i in $(seq $N); do
  id=$(api POST "$base" "{\"input\":\"$i\"}" | jq -r .invocation_id)
  [[ $id == inv-* ]] || fail "invocation $i not created"
done
running() { sim_get /_sim/tasks | jq -e --argjson n $N '[.tasks[] | select(.lastStatus == "RUNNING")] | length == $n' >/dev/null; }
wait_until 300 "$N tasks RUNNING in the simulator" running
full_pass() { sim_get /_sim/counters | jq -e --argjson n $N 'any(.describe_sizes[]; .[1] == $n)' >/dev/null; }
wait_until 30 "a DescribeTasks call covering all $N tasks" full_pass
t0=$(sim_get /_sim/counters | jq --argjson n $N '[.describe_sizes[] | select(.[1] == $n)][0][0]')
enough() { sim_get /_sim/counters | jq -e --argjson t "$t0" '[.describe_sizes[] | select(.[0] >= $t)] | length >= 5' >/dev/null; }
wait_until 30 "5 status passes" enough
passes=$(sim_get /_sim/counters | jq -c --argjson t "$t0" '
  [.describe_sizes[] | select(.[0] >= $t)] as $c |
  reduce range(0; $c | length) as $i ([];
    if $i > 0 and ($c[$i][0] - $c[$i - 1][0]) < 0.3 then .[-1] += [$c[$i][1]] else . + [[$c[$i][1]]] end)')
echo "DescribeTasks calls per pass (their sizes): $passes"
jq -e --argjson n $N 'length >= 5 and all(.[]; . == [$n])' <<<"$passes" >/dev/null ||
  fail "status passes over $N running executions: $passes (want one call of $N each)"
pass "$(jq length <<<"$passes") status passes over $N running executions: 1 DescribeTasks call of $N tasks each"

rm "$MN_WORK/hold"
all_ok() { sim_get /_sim/tasks | jq -e --argjson n $N '[.tasks[] | select(.lastStatus == "STOPPED" and .exitCode == 0)] | length == $n' >/dev/null; }
wait_until 120 "the $N tasks to exit 0" all_ok
none_running() { api GET "$base?status=RUNNING" | jq -e '.invocations | length == 0' >/dev/null; }
wait_until 60 "the daemon to record every outcome" none_running
[ "$(sim_get /_sim/counters | jq .tasks_started)" = $N ] || fail "tasks started: $(sim_get /_sim/counters | jq .tasks_started)"
pass "the $N workers released: $N tasks exited 0, no task started twice"
