# Acceptance scenarios 2, 3 and 4 of docs/compatibility.md §7 (tests/control/
# test_end_to_end.py) with a real daemon, the provider $SC_PROVIDER and real
# multinode-worker processes (sourced by tests/e2e/test_*scenarios_signals.sh);
# termination_grace_seconds is 1 s:
#  2. parent and child (started by the parent's command), the parent
#     cancelled while both are in flight: signals, cascade, ABORTED;
#  3. timeout while executing: the signal only after the deadline, ABORTED;
#  4. timeout while executing, the clean-up outlasts the grace period: the
#     worker is killed, the outcome stays null.
# Every invocation's executions are in creation order (µs).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_daemon.sh"
. "$(dirname "$0")/lib_scenarios.sh"

sc_daemon 1s
P=scen
V=$(sc_deploy $P 60)     # the original's functions (docs/compatibility.md §7)
VT=$(sc_deploy $P 3)     # the same with a 3 s timeout, for the timeout scenarios
pass "daemon up; versions $V (60 s) and $VT (3 s)"

# ---------------------------------------------------------------------------
# 2. Parent and child, the parent cancelled while both are in flight.
par=$(invoke $P "$V" standard parent)
wait_started "$par"
child=$(cat "$MN_WORK/$par.child")
[[ $child == inv-* ]] || fail "2: the parent's command printed \"$child\", not a child id"
adopt "$child" "/projects/$P/versions/$V/functions/standard"
expect "$child" '.parent_invocation.function_name == "standard" and
  .parent_invocation.invocation_id == $p and .parent_invocation.invocation_status == "RUNNING"' \
  "2: the child's parent" --arg p "$par"
wait_started "$child"
for id in "$par" "$child"; do
  wait_inv 30 "$id" '.executions | length == 1 and .[0].worker_status == "RUNNING" and
    .[0].execution_start_time != null' "$id executing"
done
idle() {
  check "$par" '.cancellation_request_time == null and .executions[0].termination_signal_time == null' &&
    check "$child" '.cancellation_request_time == null and .executions[0].termination_signal_time == null'
}
hold_for 1 "neither parent nor child is signalled while idle" idle
[ ! -e "$MN_WORK/$par.signalled" ] && [ ! -e "$MN_WORK/$child.signalled" ] ||
  fail "2: a command got SIGTERM while idle"
pass "2: child started by the parent's command with parent_invocation; none signalled while idle"

cancelled=$(call PUT "$(base_of "$par")/invocations/$par/cancel")
jq -e '.cancellation_request_time != null and .invocation_status == "RUNNING"' \
  <<<"$cancelled" >/dev/null || fail "2: cancel answered $cancelled"
wait_inv 30 "$par" '.executions[0].termination_signal_time != null' "the parent's signal"
wait_inv 30 "$child" '.cancellation_request_time != null' "the cascaded cancellation"
wait_inv 30 "$child" '.executions[0].termination_signal_time != null' "the child's signal"
par_cancel_us=$(field "$par" .cancellation_request_time_us)
expect "$par" '.executions[0].termination_signal_time_us >= .cancellation_request_time_us' \
  "2: the parent signalled after its cancellation"
expect "$child" '.cancellation_request_time_us >= $p and
  .executions[0].termination_signal_time_us >= .cancellation_request_time_us' \
  "2: the child cancelled after the parent, then signalled" --argjson p "$par_cancel_us"
for id in "$par" "$child"; do
  wait_inv 30 "$id" '.invocation_status == "TERMINATED"' "$id TERMINATED"
  expect "$id" '(.executions | length) == 1 and .executions[0].outcome == "ABORTED" and
    .executions[0].worker_status == "TERMINATED"' "2: ABORTED"
  [ -e "$MN_WORK/$id.signalled" ] || fail "2: the command of $id never got SIGTERM"
  expect_status "$id" CANCELLED "2: $id"
done
pass "2: parent signalled, child cancelled then signalled; both ABORTED, TERMINATED, CANCELLED"

# ---------------------------------------------------------------------------
# 3. Timeout while executing: the command traps SIGTERM and exits 0.
t3=$(invoke $P "$VT" standard trap-exit)
wait_started "$t3"
wait_inv 20 "$t3" '.invocation_status == "TERMINATED"' "timed-out invocation TERMINATED"
expect "$t3" '(.executions | length) == 1 and (.executions[0] |
  .outcome == "ABORTED" and .output == "aborted" and .worker_status == "TERMINATED") and
  .executions[0].termination_signal_time > .creation_time + .execution_spec.timeout_seconds and
  .cancellation_request_time == null' "3: signalled only after the deadline, ABORTED"
[ -e "$MN_WORK/$t3.signalled" ] || fail "3: the command never got SIGTERM"
expect_status "$t3" "TIMED OUT" "3"
pass "3: timeout while executing: signal after creation + 3 s, ABORTED, TIMED OUT"

# ---------------------------------------------------------------------------
# 4. Timeout while executing; the command ignores SIGTERM past the 1 s grace.
t4=$(invoke $P "$VT" standard ignore-term)
wait_started "$t4"
wait_inv 20 "$t4" '.invocation_status == "TERMINATED"' "invocation TERMINATED after the kill"
expect "$t4" '(.executions | length) == 1 and (.executions[0] |
  .worker_status == "TERMINATED" and .outcome == null and .execution_finish_time == null and
  .termination_signal_time > $inv.creation_time + $inv.execution_spec.timeout_seconds and
  .last_update_time_us - .termination_signal_time_us >= 1000000 and
  .last_update_time_us - .termination_signal_time_us < 15000000)' \
  "4: killed after the 1 s grace (not before, not at the end of its 60 s loop), outcome null" \
  --argjson inv "$(inv "$t4")"
wait_until 10 "the worker and the command that ignored SIGTERM to be killed" \
  prov_worker_gone "$t4"
pass "4: clean-up past the grace period: worker killed, TERMINATED, outcome null"

# ---------------------------------------------------------------------------
for id in $(all_invocations); do check_exec_order "$id"; done
pass "every invocation's executions are in creation order (µs)"
