# Acceptance scenarios 5, 6 and 10 of docs/compatibility.md §7 (tests/control/
# test_end_to_end.py) with a real daemon, the provider $SC_PROVIDER and real
# multinode-worker processes (sourced by tests/e2e/test_*scenarios_queue.sh);
# termination_grace_seconds is 30 s so that a
# signalled command can keep its slot (as the original's dummy worker does):
#  5. cancelled before a worker is provisioned (queued behind concurrency 1);
#  6. timed out before a worker is provisioned;
# 10. project deletion while an invocation executes.
# Every invocation's executions are in creation order (µs).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_daemon.sh"
. "$(dirname "$0")/lib_scenarios.sh"

sc_daemon 30s
P=scen
V=$(sc_deploy $P 60)     # the original's functions (docs/compatibility.md §7)
VT=$(sc_deploy $P 3)     # the same with a 3 s timeout
pass "daemon up; versions $V (60 s) and $VT (3 s)"

queued() { check "$1" '.invocation_status == "RUNNING" and (.executions | length) == 0'; }

# ---------------------------------------------------------------------------
# 5. Cancelled before a worker is provisioned.
c1=$(invoke $P "$V" concurrency-limited hold)
wait_started "$c1"
c2=$(invoke $P "$V" concurrency-limited hold)
hold_for 1 "the second invocation stays queued (RUNNING, 0 executions)" queued "$c2"
expect_status "$c2" PENDING "5: queued"
call PUT "$(base_of "$c2")/invocations/$c2/cancel" >/dev/null
wait_inv 15 "$c2" '.invocation_status == "TERMINATED"' "the queued invocation TERMINATED"
expect "$c2" '(.executions | length) == 0 and .cancellation_request_time != null' \
  "5: cancelled while queued"
expect "$c1" '.invocation_status == "RUNNING" and .cancellation_request_time == null and
  (.executions | length) == 1 and .executions[0].worker_status == "RUNNING" and
  .executions[0].termination_signal_time == null' "5: the first invocation still running"
expect_status "$c2" CANCELLED "5: cancelled while queued"
go "$c1"
wait_inv 30 "$c1" '.invocation_status == "TERMINATED"' "the first invocation TERMINATED"
expect "$c1" '(.executions | length) == 1 and .executions[0].outcome == "SUCCEEDED" and
  .executions[0].output == "done"' "5: the first invocation's result"
expect "$c2" '(.executions | length) == 0' "5: no execution once the slot was free"
expect_status "$c1" SUCCEEDED "5: the first invocation"
pass "5: queued invocation cancelled: TERMINATED with 0 executions; the first one finished"

# ---------------------------------------------------------------------------
# 6. Timed out before a worker is provisioned. The first invocation holds the
# slot past its own timeout: its command notes SIGTERM and goes on until told.
d1=$(invoke $P "$VT" concurrency-limited hold-through-term)
wait_started "$d1"
d2=$(invoke $P "$VT" concurrency-limited hold)
hold_for 1 "the second invocation stays queued (RUNNING, 0 executions)" queued "$d2"
wait_inv 15 "$d2" '.invocation_status == "TERMINATED"' "the queued invocation TERMINATED"
expect "$d2" '(.executions | length) == 0 and .cancellation_request_time == null and
  .last_update_time > .creation_time + .execution_spec.timeout_seconds' \
  "6: timed out while queued"
expect_status "$d2" "TIMED OUT" "6: timed out while queued"
wait_inv 15 "$d1" '.executions[0].termination_signal_time != null' "the first one's signal"
wait_until 15 "SIGTERM to reach the first command" test -f "$MN_WORK/$d1.signalled"
expect "$d1" '.invocation_status == "RUNNING" and .executions[0].outcome == null' \
  "6: the first invocation holds its slot through the signal"
go "$d1"
wait_inv 30 "$d1" '.invocation_status == "TERMINATED"' "the first invocation TERMINATED"
expect "$d1" '(.executions | length) == 1 and .executions[0].outcome == "ABORTED" and
  .executions[0].termination_signal_time > .creation_time + .execution_spec.timeout_seconds' \
  "6: the first invocation ABORTED after its deadline"
expect "$d2" '(.executions | length) == 0' "6: no execution once the slot was free"
expect_status "$d1" "TIMED OUT" "6: the first invocation"
pass "6: queued invocation timed out: TERMINATED with 0 executions after creation + 3 s"

# ---------------------------------------------------------------------------
# 10. Project deletion while invocation 1 executes.
V10=$(sc_deploy s10 60)
i1=$(invoke s10 "$V10" standard hold-through-term)
wait_started "$i1"
deleted=$(call DELETE /projects/s10)
jq -e '.project_name == "s10" and .deletion_request_time != null' <<<"$deleted" >/dev/null ||
  fail "10: DELETE answered $deleted"
i2=$(invoke s10 "$V10" standard hold)
wait_inv 15 "$i2" '.invocation_status == "TERMINATED"' "the invocation created after the request"
expect "$i2" '(.executions | length) == 0' "10: nothing runs for a project being deleted"
expect_status "$i2" CANCELLED "10: created after the deletion request"
wait_inv 15 "$i1" '.cancellation_request_time != null and
  .executions[0].termination_signal_time != null' "invocation 1 cancelled and signalled"
wait_until 15 "SIGTERM to reach the command of invocation 1" test -f "$MN_WORK/$i1.signalled"
still_there() {
  check "$i1" '.invocation_status == "RUNNING"' &&
    call GET /projects/s10 | jq -e '.deletion_request_time != null' &&
    call GET /projects | jq -e 'any(.projects[]; .project_name == "s10")'
}
hold_for 1 "the project exists while invocation 1 runs" still_there
check_exec_order "$i1"
i1_worker=$(field "$i1" .executions[0].worker_details)
go "$i1"
wait_until 30 "the project to disappear from GET /projects" \
  bash -c "! curl -sf -H 'Authorization: Bearer $MN_KEY' $MN_URL/projects | jq -e 'any(.projects[]; .project_name == \"s10\")'"
api GET /projects/s10 >"$MN_WORK/s10.json"
[ "$(last_status)" = 404 ] &&
  jq -e '.detail == "A project with this name does not exist"' "$MN_WORK/s10.json" >/dev/null ||
  fail "10: GET /projects/s10 after the deletion: $(last_status) $(cat "$MN_WORK/s10.json")"
if declare -F prov_worker_log >/dev/null; then # the project and its API paths are gone
  i1_log=$(prov_worker_log "$i1_worker")
  grep -q '^multinode-worker: recorded outcome ABORTED$' <<<"$i1_log" ||
    fail "10: worker 1 did not report ABORTED: $i1_log"
fi
rm "$MN_WORK/bases/$i1" "$MN_WORK/bases/$i2" # gone with their project
pass "10: deletion waits for invocation 1 (signalled, ABORTED), then the project is gone"

# ---------------------------------------------------------------------------
for id in $(all_invocations); do check_exec_order "$id"; done
pass "every invocation's executions are in creation order (µs)"
