#!/usr/bin/env bash
# Cancellation cascade through real workers (docs/compatibility.md §3.5 step 3a, with
# the improvement of core/scheduler/classify.h: a parent that has ENDED also
# cancels its children, so no child is orphaned).
#  1. grandparent -> parent -> child, each started from the command of the
#     level above, which then waits for it with `multinode wait`; cancelling
#     the grandparent gives all three a cancellation_request_time, a
#     termination signal, and ends all three TERMINATED with ABORTED.
#  2. a parent that SUCCEEDS while its child is still running: the child is
#     cancelled, signalled and ends TERMINATED (ABORTED).
#  3. the same for a parent that FAILS.
#  An unrelated invocation running meanwhile is never cancelled.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_daemon.sh"
. "$(dirname "$0")/lib_lifecycle.sh"

gate=$MN_WORK/gate
mkdir -p -m 1777 "$gate"
daemon_config d "$LC_SCHED_YAML"
daemon_start d

# level: input d > 0 starts a child with input d-1 and waits for it;
# input 0 waits on its go-file. Each records the child's id.
level='d=$(cat)
if [ "$d" -gt 0 ]; then
  c=$(multinode start level --input $((d-1))) || exit 3
  echo $c > '"$gate"'/$MULTINODE_INVOCATION_ID.child
  touch '"$gate"'/$MULTINODE_INVOCATION_ID.started
  multinode wait --quiet --function level $c; exit 4
fi
'"$(lc_gate "$gate")"'
echo leaf done'
# early: starts a child of `level` (input 0), waits until it runs, then
# ends with exit code = its input, leaving the child running.
early='x=$(cat); c=$(multinode start level --input 0) || exit 3
echo $c > '"$gate"'/$MULTINODE_INVOCATION_ID.child
i=0; while [ ! -f '"$gate"'/$c.started ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i+1)); done
echo "started $c"; exit $x'
lc_deploy cascade "[$(lc_fn level "$level" 10 0 120), $(lc_fn early "$early" 10 0 120)]"

bystander=$(lc_start level 0)
wait_until 30 "the bystander to run" test -f "$gate/$bystander.started"

# all executions of invocation ($1 $2) ABORTED, one each, signal sent
expect_aborted() {
  local fn=$1 id=$2 what=$3 inv
  inv=$(lc_inv "$fn" "$id")
  [ "$(jget "$inv" 'j["invocation_status"]')" = TERMINATED ] || fail "$what: not TERMINATED"
  [ "$(jget "$inv" 'j["cancellation_request_time"] is not None')" = True ] ||
    fail "$what: no cancellation_request_time"
  [ "$(jget "$inv" '[e["outcome"] for e in j["executions"]]')" = '["ABORTED"]' ] ||
    fail "$what: outcomes $(jget "$inv" '[(e["outcome"], e["error_message"]) for e in j["executions"]]')"
  [ "$(jget "$inv" 'j["executions"][0]["termination_signal_time"] is not None')" = True ] ||
    fail "$what: no termination_signal_time"
  [ "$(jget "$inv" 'j["executions"][0]["worker_status"]')" = TERMINATED ] ||
    fail "$what: execution not TERMINATED"
}

# ---- 1. grandparent -> parent -> child, cancel the grandparent
gp=$(lc_start level 2)
wait_until 30 "the grandparent to start the parent" test -f "$gate/$gp.started"
p=$(cat "$gate/$gp.child")
wait_until 30 "the parent to start the child" test -f "$gate/$p.started"
c=$(cat "$gate/$p.child")
wait_until 30 "the child to run" test -f "$gate/$c.started"
[ "$(lc_field level "$c" 'j["parent_invocation"]["invocation_id"]')" = "$p" ] || fail "child's parent"
[ "$(lc_field level "$p" 'j["parent_invocation"]["invocation_id"]')" = "$gp" ] || fail "parent's parent"
for id in "$gp" "$p" "$c"; do
  [ "$(lc_field level "$id" 'j["cancellation_request_time"]')" = null ] ||
    fail "$id cancelled before anything asked for it"
done
pass "three levels running: $gp -> $p -> $c"

api PUT "$LC_BASE/functions/level/invocations/$gp/cancel" >/dev/null
[ "$(last_status)" = 200 ] || fail "cancel the grandparent: HTTP $(last_status)"
lc_wait_terminated 30 level "$gp" "$p" "$c"
expect_aborted level "$gp" grandparent
expect_aborted level "$p" parent
expect_aborted level "$c" child
[ ! -f "$gate/$c.go" ] || fail "the child's go-file exists: it was not the signal that ended it"
pass "cancelling the grandparent cancelled, signalled and ABORTED all three"

# ---- 2. a parent that SUCCEEDS while its child runs
par=$(lc_start early 0)
lc_wait_terminated 30 early "$par"
kid=$(cat "$gate/$par.child")
[ "$(lc_field early "$par" '[e["outcome"] for e in j["executions"]]')" = '["SUCCEEDED"]' ] ||
  fail "the early parent did not succeed"
[ "$(lc_field early "$par" 'j["executions"][0]["output"]')" = "started $kid" ] ||
  fail "the early parent did not see its child start"
[ "$(lc_field early "$par" 'j["cancellation_request_time"]')" = null ] ||
  fail "the succeeded parent got a cancellation request"
lc_wait_terminated 30 level "$kid"
expect_aborted level "$kid" "child of a succeeded parent"
pass "a parent that SUCCEEDED left no orphan: its running child was cancelled and ABORTED"

# ---- 3. a parent that FAILS while its child runs
par=$(lc_start early 5)
lc_wait_terminated 30 early "$par"
kid=$(cat "$gate/$par.child")
[ "$(lc_field early "$par" '[e["outcome"] for e in j["executions"]]')" = '["FAILED"]' ] ||
  fail "the failing parent did not fail"
lc_wait_terminated 30 level "$kid"
expect_aborted level "$kid" "child of a failed parent"
pass "a parent that FAILED left no orphan: its running child was cancelled and ABORTED"

# The bystander was never touched; it still finishes normally.
[ "$(lc_field level "$bystander" 'j["cancellation_request_time"]')" = null ] ||
  fail "an unrelated invocation got a cancellation request"
[ "$(lc_field level "$bystander" 'j["invocation_status"]')" = RUNNING ] ||
  fail "an unrelated invocation ended"
touch "$gate/$bystander.go"
lc_wait_terminated 30 level "$bystander"
[ "$(lc_field level "$bystander" '[e["outcome"] for e in j["executions"]]')" = '["SUCCEEDED"]' ] ||
  fail "the bystander did not succeed"
pass "an unrelated invocation was not cancelled and SUCCEEDED"
