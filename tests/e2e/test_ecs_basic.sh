#!/usr/bin/env bash
# The ECS provider end to end against the simulator: a function deployed as
# a Fargate task definition (smallest covering size, family, awslogs,
# stopTimeout), one invocation run as a task (RunTask with clientToken,
# startedBy and tags; the per-execution environment as overrides), its
# outcome read back by DescribeTasks, its log by GetLogEvents, a
# cancellation by StopTask; AccessDenied is AUTH with AWS's message, RunTask
# failures wait (CAPACITY). At exit: no signature mismatch, no model
# violation.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_daemon.sh"
. "$(dirname "$0")/providers/ecs.sh"

ecs_sim_start
daemon_config main "scheduler:
  termination_grace_seconds: 2s
$(ECS_STOP_TIMEOUT=2 ecs_yaml "    repository: 123456789012.dkr.ecr.eu-west-2.amazonaws.com/multinode")"
daemon_start main
pass "daemon up with the ecs provider against the simulator at $ECS_SIM_URL"

cat >"$MN_WORK/fn.sh" <<'SH'
input=$(cat)
case "$input" in
hello) echo "log line one" >&2; echo "log line two" >&2; echo "hello from ecs" ;;
fail) echo "it broke" >&2; exit 3 ;;
wait) trap 'echo "got TERM" >&2; exit 0' TERM; while :; do sleep 0.05; done ;;
esac
SH

fn() { # NAME VCPUS MEM
  printf '{"function_name":"%s","command":["sh","%s"],
    "resource_spec":{"virtual_cpus":%s,"memory_gbs":%s,"max_concurrency":10},
    "execution_spec":{"max_retries":0,"timeout_seconds":120}}' "$1" "$MN_WORK/fn.sh" "$2" "$3"
}
api PUT /projects/p >/dev/null
v=$(api POST /projects/p/versions "{\"default_docker_image\":\"$SC_IMAGE\",\"functions\":[
  $(fn small 0.1 0.25), $(fn big 3 14)]}" | jq -r .version_id)
[[ $v == ver-* ]] || fail "no version"
base=/projects/p/versions/$v/functions

run() { api POST "$base/$1/invocations" "$(jq -nc --arg i "$2" '{input:$i}')" | jq -r .invocation_id; }
inv_done() { api GET "$base/$1/invocations/$2" | jq -e '.invocation_status == "TERMINATED"' >/dev/null; }

i1=$(run small hello)
wait_until 60 "invocation $i1 to finish" inv_done small "$i1"
j=$(api GET "$base/small/invocations/$i1")
jq -e '.executions[0] | .outcome == "SUCCEEDED" and .output == "hello from ecs" and
  .worker_details.type == "ecs" and (.worker_details.identifier | startswith("arn:aws:ecs:eu-west-2:"))
  and (.worker_details.logs_identifier | startswith("multinode/main/"))' <<<"$j" >/dev/null ||
  fail "execution of $i1: $(jq -c .executions <<<"$j")"
pass "invocation through a Fargate task: SUCCEEDED with its output; worker_details name the task"

# the task: clientToken = execution id, startedBy names the cluster
tasks=$(sim_get /_sim/tasks)
exe=$(jq -r '.executions[0].execution_id' <<<"$j")
jq -e --arg e "$exe" '[.tasks[] | select(.executionId == $e)] | length == 1 and
  (.[0].clientToken == $e) and (.[0].startedBy | startswith("multinode/"))' <<<"$tasks" >/dev/null ||
  fail "the task of $exe: $tasks"

# logs through GetLogEvents, paged
exe_base=$base/small/invocations/$i1/executions/$exe
logs=$(api GET "$exe_base/logs?max_lines=1")
jq -e '.log_lines | length == 1' <<<"$logs" >/dev/null || fail "first log page: $logs"
all=$(jq -r '.log_lines[0]' <<<"$logs")
off=$(jq -r .next_offset <<<"$logs")
for _ in 1 2 3 4 5 6 7 8; do
  page=$(api GET "$exe_base/logs?max_lines=1&initial_offset=$off")
  n=$(jq '.log_lines | length' <<<"$page")
  [ "$n" = 0 ] && break
  all+=$'\n'$(jq -r '.log_lines[0]' <<<"$page")
  off=$(jq -r .next_offset <<<"$page")
done
grep -q '^log line one$' <<<"$all" && grep -q '^log line two$' <<<"$all" ||
  fail "the worker's log paged one line at a time: $all"
[ "$(jq -r .next_offset <<<"$page")" = "$off" ] || fail "the offset after the end moved: $page"
pass "logs: GetLogEvents paged one line at a time, the offset stays at the end"

i2=$(run big fail)
wait_until 60 "invocation $i2 to finish" inv_done big "$i2"
api GET "$base/big/invocations/$i2" | jq -e '.executions[0] | .outcome == "FAILED" and
  (.error_message | contains("it broke"))' >/dev/null || fail "$i2: $(api GET "$base/big/invocations/$i2")"
pass "a failing command: FAILED with its standard error"
fdetails=$(api GET "/projects/p/versions/$v" | jq -c '[.functions[] | {function_name, d: .prepared_function_details}]')
jq -e 'map({(.function_name): .d}) | add | (.small.cpu == 256 and .small.memory == 512) and
  (.big.cpu == 4096 and .big.memory == 14336) and
  (.small.family | test("^multinode-p-small-[0-9a-f]{8}$"))' <<<"$fdetails" >/dev/null ||
  fail "prepared details: $fdetails"
pass "task definitions: 0.1 vCPU/0.25 GB -> 256/512, 3 vCPU/14 GB -> 4096/14336; family named"

# cancellation: StopTask, SIGTERM reaches the command
i3=$(run small wait)
wait_until 60 "$i3 executing" bash -c "curl -sf -H 'Authorization: Bearer $MN_KEY' $MN_URL$base/small/invocations/$i3 | jq -e '.executions[0].execution_start_time != null'"
api PUT "$base/small/invocations/$i3/cancel" >/dev/null
wait_until 60 "$i3 to finish after the cancel" inv_done small "$i3"
api GET "$base/small/invocations/$i3" | jq -e '.executions[0].outcome == "ABORTED"' >/dev/null ||
  fail "$i3 after cancel: $(api GET "$base/small/invocations/$i3")"
[ "$(sim_get /_sim/counters | jq '.calls.StopTask // 0')" -ge 1 ] || fail "no StopTask call"
pass "cancel: StopTask, the command gets SIGTERM, ABORTED"

# RunTask failures are CAPACITY: the execution waits and then runs
sim_post /_sim/faults '{"run_failures":{"RESOURCE:MEMORY":2}}' >/dev/null
i4=$(run small hello)
wait_until 60 "invocation $i4 to finish despite 2 RunTask failures" inv_done small "$i4"
api GET "$base/small/invocations/$i4" | jq -e '(.executions | length) == 1 and
  .executions[0].outcome == "SUCCEEDED"' >/dev/null || fail "$i4: $(api GET "$base/small/invocations/$i4")"
grep -q 'RESOURCE:MEMORY' "$MN_WORK/main.log" || fail "the RunTask failure was not logged"
pass "RunTask failures (RESOURCE:MEMORY) wait as CAPACITY; one execution, no attempt spent"

# AccessDenied is AUTH with AWS's message: the attempt fails with it
sim_post /_sim/faults '{"deny":{"RunTask":1}}' >/dev/null
i5=$(run small hello)
wait_until 60 "invocation $i5 to end" inv_done small "$i5"
j5=$(api GET "$base/small/invocations/$i5")
jq -e '.executions[0].error_message | contains("AccessDeniedException") and
  contains("is not authorized to perform: ecs:RunTask")' <<<"$j5" >/dev/null ||
  fail "AccessDenied: $(jq -c .executions <<<"$j5")"
pass "AccessDenied: the attempt fails with AWS's message"

# 5xx answers are TRANSIENT: retried, nothing fails
sim_post /_sim/faults '{"server_error":{"RunTask":2,"DescribeTasks":2}}' >/dev/null
i6=$(run small hello)
wait_until 60 "invocation $i6 to finish despite 5xx answers" inv_done small "$i6"
api GET "$base/small/invocations/$i6" | jq -e '(.executions | length) == 1 and
  .executions[0].outcome == "SUCCEEDED"' >/dev/null || fail "$i6: $(api GET "$base/small/invocations/$i6")"
[ "$(tasks_of "$i6" | jq length)" = 1 ] || fail "$i6: $(tasks_of "$i6")"
pass "ServerException (500) on RunTask and DescribeTasks: retried, 1 task, SUCCEEDED"

# a task that goes MISSING ends its execution without an outcome
i7=$(run small wait)
wait_until 60 "$i7 executing" bash -c "curl -sf -H 'Authorization: Bearer $MN_KEY' $MN_URL$base/small/invocations/$i7 | jq -e '.executions[0].execution_start_time != null'"
sim_post /_sim/missing "{\"invocation_id\":\"$i7\"}" | jq -e '.tasks | length == 1' >/dev/null ||
  fail "no task of $i7 to lose"
wait_until 60 "$i7 to end after its task went MISSING" inv_done small "$i7"
api GET "$base/small/invocations/$i7" | jq -e '.executions[0] | .worker_status == "TERMINATED"
  and .outcome == null' >/dev/null || fail "$i7: $(api GET "$base/small/invocations/$i7")"
pass "a task that goes MISSING: the execution TERMINATED without an outcome"

# registry credentials for `multinode deploy`: ECR GetAuthorizationToken
creds=$(api GET /container_repository_credentials)
[ "$(last_status)" = 200 ] || fail "container_repository_credentials: $(last_status) $creds"
jq -e '.repository_name == "123456789012.dkr.ecr.eu-west-2.amazonaws.com/multinode" and
  .username == "AWS" and (.password | startswith("sim-password-")) and
  .endpoint_url == "https://123456789012.dkr.ecr.eu-west-2.amazonaws.com"' <<<"$creds" >/dev/null ||
  fail "container_repository_credentials: $creds"
pass "container repository credentials from ECR GetAuthorizationToken (token decoded to user:password)"

# a clean stop: the provider shuts down (under the sanitizers: without leaks)
daemon_kill main TERM
! grep -E "Sanitizer|runtime error" "$MN_WORK/main.log" || fail "the sanitizers reported the above"
pass "the daemon stops cleanly"
