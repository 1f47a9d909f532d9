# Acceptance scenarios 1, 7, 8 and 9 of docs/compatibility.md §7 (tests/control/
# test_end_to_end.py) with a real daemon, the provider $SC_PROVIDER and real
# multinode-worker processes (sourced by tests/e2e/test_*scenarios_basic.sh):
#  1. two invocations in parallel, one succeeds and one fails (start time,
#     ExecutionInfo, temporary output, final output, error, logs, status);
#  7. retry after the code throws;
#  8. retry after a hardware failure (the worker is killed with SIGKILL);
#  9. provisioning errors (a function without a command), with and without
#     retries; a provider that is not configured is refused at deploy.
# Every invocation's executions are in creation order (µs).
#
# The workers start through tests/e2e/worker-hold.sh, which holds them back
# while $MN_WORK/hold-workers exists: a worker calls /start first thing, so this
# is how "execution_start_time is null until /start" can be observed for real.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_daemon.sh"
. "$(dirname "$0")/lib_scenarios.sh"

sc_daemon 30s
P=scen
V=$(sc_deploy $P 60)
pass "daemon up; version $V of standard, concurrency-limited, retryable"

# ---------------------------------------------------------------------------
# 1. Two invocations in parallel, one succeeds and one fails.
touch "$MN_WORK/hold-workers"
ok=$(invoke $P "$V" standard progress-then-succeed)
bad=$(invoke $P "$V" standard fail)
for id in "$ok" "$bad"; do
  expect "$id" '.invocation_status == "RUNNING" and .cancellation_request_time == null' "new invocation"
  wait_inv 30 "$id" '.executions | length == 1 and .[0].worker_status == "RUNNING" and
    .[0].worker_details != null and .[0].worker_details.type == "'"$SC_PROVIDER"'" and
    (.[0].worker_details.identifier | length > 0)' "a RUNNING execution with worker details"
done
both_unstarted() {
  check "$ok" '.executions[0].execution_start_time == null' &&
    check "$bad" '.executions[0].execution_start_time == null'
}
hold_for 1 "execution_start_time stays null while the workers have not called /start" both_unstarted
ok_exe=$(field "$ok" '.executions[0].execution_id')
bad_exe=$(field "$bad" '.executions[0].execution_id')
[[ $ok_exe == exe-* && ${#ok_exe} == 36 ]] || fail "execution id $ok_exe"
info=$(execution "$ok" "$ok_exe")
jq -e --arg c "$(field "$ok" .creation_time)" '.input == "progress-then-succeed" and
  .cancellation_request_time == null and .invocation_creation_time == ($c | tonumber) and
  .execution_start_time == null and .outcome == null and .execution_spec.max_retries == 0' \
  <<<"$info" >/dev/null || fail "ExecutionInfo before /start: $info"
jq -e '.input == "fail"' <<<"$(execution "$bad" "$bad_exe")" >/dev/null || fail "ExecutionInfo input"
pass "1: both RUNNING with worker details; start time null before /start; ExecutionInfo has the input"

released_us=$(date +%s%6N)
rm "$MN_WORK/hold-workers"
wait_started "$ok"
wait_started "$bad"
for id in "$ok" "$bad"; do
  expect "$id" '.executions[0] | .execution_start_time_us >= $r and
    .execution_start_time_us >= .creation_time_us and .outcome == null' \
    "start time set by the worker's /start after its release" --argjson r "$released_us"
done
wait_until 30 "the progress of $ok" test -f "$MN_WORK/$ok.progressed"
expect "$ok" '.invocation_status == "RUNNING" and (.executions[0] |
  .output == "partial" and .outcome == null and .execution_finish_time == null)' \
  "temporary output"
pass "1: both commands run at once; start times set; temporary output visible, outcome null"

go "$ok"; go "$bad"
wait_inv 30 "$ok" '.executions[0].outcome != null' "the outcome of $ok"
expect "$ok" '.executions[0] | .outcome == "SUCCEEDED" and .output == "final output" and
  .error_message == null and .execution_finish_time != null and
  .execution_finish_time_us >= .execution_start_time_us' "final result"
wait_inv 30 "$bad" '.executions[0].outcome != null' "the outcome of $bad"
expect "$bad" '.executions[0] | .outcome == "FAILED" and .error_message == "something went wrong" and
  .execution_finish_time != null' "failure"
for id in "$ok" "$bad"; do
  wait_inv 30 "$id" '.invocation_status == "TERMINATED"' "invocation TERMINATED"
  expect "$id" '(.executions | length) == 1 and .executions[0].worker_status == "TERMINATED"' \
    "exactly one execution (max_retries 0)"
done
expect_status "$ok" SUCCEEDED "1: the succeeded invocation"
expect_status "$bad" FAILED "1: the failed invocation"
for pair in "$ok:$ok_exe" "$bad:$bad_exe"; do
  logs=$(call GET "$(base_of "${pair%%:*}")/invocations/${pair%%:*}/executions/${pair#*:}/logs")
  jq -e '.log_lines | type == "array"' <<<"$logs" >/dev/null || fail "logs: $logs"
done
jq -e 'any(.log_lines[]; contains("something went wrong"))' <<<"$logs" >/dev/null ||
  fail "1: the failed worker's log lacks its stderr: $logs"
pass "1: SUCCEEDED replaces the output; FAILED carries the stderr tail; 1 execution each; logs"

# ---------------------------------------------------------------------------
# 7. Retry after the code throws.
r7=$(invoke $P "$V" retryable fail-once)
wait_inv 30 "$r7" '.invocation_status == "TERMINATED"' "retried invocation TERMINATED"
expect "$r7" '(.executions | length) == 2 and
  (.executions[0] | .outcome == "FAILED" and .error_message == "first attempt fails" and
     .worker_status == "TERMINATED") and
  (.executions[1] | .outcome == "SUCCEEDED" and .output == "second attempt succeeds" and
     .worker_status == "TERMINATED") and
  .executions[1].creation_time_us > .executions[0].execution_finish_time_us' \
  "one FAILED then one SUCCEEDED, the retry created after the failure"
expect_status "$r7" SUCCEEDED "7"
pass "7: FAILED then SUCCEEDED, 2 executions in creation order"

# ---------------------------------------------------------------------------
# 8. Retry after a hardware failure: the worker dies after /start.
r8=$(invoke $P "$V" retryable crash-once)
wait_until 30 "the first attempt of $r8 to run" test -f "$MN_WORK/$r8.worker"
expect "$r8" '(.executions | length) == 1 and .executions[0].execution_start_time != null' \
  "started before the crash"
prov_kill_worker "$r8"
wait_inv 30 "$r8" '.invocation_status == "TERMINATED"' "crashed invocation TERMINATED"
go "$r8" # lets the orphaned first command end, if it still runs
expect "$r8" '(.executions | length) == 2 and
  (.executions[0] | .worker_status == "TERMINATED" and .outcome == null and
     .execution_start_time != null and .execution_finish_time == null) and
  (.executions[1] | .outcome == "SUCCEEDED" and .output == "after the crash")' \
  "one execution without outcome, then one SUCCEEDED"
pass "8: worker killed after /start: TERMINATED without outcome, the retry succeeds"

# ---------------------------------------------------------------------------
# 9. Provisioning errors: the provider refuses; the attempt ends TERMINATED
# with the provider's message and the retry policy applies. A provider that
# is not configured is refused earlier, when the version is created (422
# naming the providers there are), so that no invocation of it can fail later.
call PUT /projects/s9 >/dev/null
elsewhere="{\"function_name\":\"elsewhere\",\"provider\":\"nowhere\",\"command\":[\"sh\",\"$SC_FN\"],
   \"resource_spec\":{\"virtual_cpus\":1,\"memory_gbs\":4,\"max_concurrency\":100},
   \"execution_spec\":{\"max_retries\":0,\"timeout_seconds\":60}}"
out=$(api POST /projects/s9/versions "{\"default_docker_image\":\"$SC_IMAGE\",\"functions\":[
  $(prov_bad_function unpreparable 0), $elsewhere]}")
[ "$(last_status)" = 422 ] || fail "9: a function of provider \"nowhere\" deployed: $(last_status) $out"
jq -e '.detail[0].loc == ["body","functions",1,"provider"] and
  (.detail[0].msg | test("this daemon has .*not \"nowhere\""))' <<<"$out" >/dev/null ||
  fail "9: the refusal of provider \"nowhere\": $out"
V9=$(call POST /projects/s9/versions "{\"default_docker_image\":\"$SC_IMAGE\",\"functions\":[
  $(prov_bad_function unpreparable 0), $(prov_bad_function unpreparable-retried 2)]}" |
  jq -r .version_id)
n9=$(invoke s9 "$V9" unpreparable hold)
n9r=$(invoke s9 "$V9" unpreparable-retried hold)
for spec in "$n9|1|$(prov_bad_message unpreparable)" "$n9r|3|$(prov_bad_message unpreparable-retried)"; do
  IFS='|' read -r id n msg <<<"$spec"
  wait_inv 30 "$id" '.invocation_status == "TERMINATED"' "invocation that cannot be provisioned"
  expect "$id" '(.executions | length) == $n and
    all(.executions[]; .worker_status == "TERMINATED" and .error_message == $m and
      .outcome == null and .worker_details == null and .execution_start_time == null)' \
    "9: $n execution(s) failed with the provider's message" --argjson n "$n" --arg m "$msg"
  expect_status "$id" FAILED "9: $id"
done
ver=$(call GET "/projects/s9/versions/$V9")
jq -e --arg a "$(prov_bad_message unpreparable)" --arg b "$(prov_bad_message unpreparable-retried)" \
  '[.functions[] | {(.function_name): .preparation_error}] | add ==
  {"unpreparable": $a, "unpreparable-retried": $b}' <<<"$ver" >/dev/null ||
  fail "9: preparation_error of the functions: $ver"
pass "9: provisioning errors end each attempt with the provider's message (1, 3 with retries)"

# ---------------------------------------------------------------------------
for id in $(all_invocations); do check_exec_order "$id"; done
pass "every invocation's executions are in creation order (µs)"
