#!/usr/bin/env bash
# A function whose preparation fails (docs/architecture.md §3 prepare: an INVALID
# failure fails the attempt that needed it, the retry policy applies, nothing
# waits forever; the original retried preparation forever and held its
# invocations, docs/compatibility.md §8). Two causes:
#  - `noprov` names a provider that is not configured (any more: one that is
#    not configured is refused at deploy, so the version is deployed while a
#    section "nope" exists and the daemon is then restarted without it);
#  - `nocmd` has no command, which the local provider's prepare refuses.
# With max_retries 1 each invocation ends TERMINATED within seconds with 2
# TERMINATED executions whose error_message names the reason; the function
# stays PENDING with preparation_error set; `multinode wait` reports FAILED
# with the reason. An invocation of such a function cancelled before the
# scheduler saw it ends TERMINATED with no execution. A healthy function of
# the same version is not affected.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_daemon.sh"
. "$(dirname "$0")/lib_lifecycle.sh"

daemon_config d "$LC_SCHED_YAML"
daemon_start d

noprov=$(lc_fn noprov 'echo should not run' 10 1 30 '{"provider":"nope"}')
nocmd=$(python3 -c 'import json,sys; s=json.loads(sys.argv[1]); del s["command"]; print(json.dumps(s))' \
  "$(lc_fn nocmd 'unused' 10 1 30)")
api PUT /projects/refused >/dev/null
out=$(api POST /projects/refused/versions "{\"default_docker_image\":\"none\",\"functions\":[$noprov]}")
[ "$(last_status)" = 422 ] || fail "a version naming provider \"nope\" was deployed: $(last_status) $out"
[[ $out == *'this daemon has \"local\", not \"nope\"'* ]] || fail "the refusal: $out"
pass "deploy of a function naming a provider that is not configured: 422"
daemon_kill d
daemon_config d "$LC_SCHED_YAML
providers:
  default: local
  local:
  nope:
    plugin: $MN_PLUGIN_DIR/mn_provider_template.so"
daemon_start d
lc_deploy prepfail "[$noprov, $nocmd, $(lc_fn good 'echo fine')]"
daemon_kill d
daemon_config d "$LC_SCHED_YAML"
daemon_start d

# check_failed FN ID REASON: the end state of an invocation of a broken function
check_failed() {
  local fn=$1 id=$2 reason=$3 inv
  inv=$(lc_inv "$fn" "$id")
  [ "$(jget "$inv" 'len(j["executions"])')" = 2 ] ||
    fail "$fn: $(jget "$inv" 'len(j["executions"])') executions, expected 2 (max_retries 1)"
  [ "$(jget "$inv" 'sorted(set(e["worker_status"] for e in j["executions"]))')" = '["TERMINATED"]' ] ||
    fail "$fn: executions not all TERMINATED"
  [ "$(jget "$inv" '[e["outcome"] for e in j["executions"]]')" = '[null, null]' ] ||
    fail "$fn: executions have outcomes: they ran"
  [ "$(jget "$inv" '[e["worker_details"] for e in j["executions"]]')" = '[null, null]' ] ||
    fail "$fn: executions got workers"
  local k msg
  for k in 0 1; do
    msg=$(jget "$inv" "j['executions'][$k]['error_message']")
    [[ $msg == *"$reason"* ]] || fail "$fn: execution $k error_message '$msg' does not name '$reason'"
  done
  [ "$(jget "$inv" 'j["function_status"]')" = PENDING ] ||
    fail "$fn: function_status $(jget "$inv" 'j["function_status"]'), expected PENDING"
  [ "$(jget "$inv" 'j["cancellation_request_time"]')" = null ] || fail "$fn: cancelled?"
}

fn_info() {
  jget "$(api GET "$LC_BASE")" "[f for f in j['functions'] if f['function_name'] == '$1'][0]"
}

for case in "noprov|provider \"nope\" is not configured" "nocmd|has no command"; do
  fn=${case%%|*} reason=${case#*|}
  t0=$(date +%s%N)
  id=$(lc_start "$fn" x)
  lc_wait_terminated 10 "$fn" "$id"
  ms=$(( ($(date +%s%N) - t0) / 1000000 ))
  check_failed "$fn" "$id" "$reason"
  info=$(fn_info "$fn")
  [ "$(jget "$info" 'j["function_status"]')" = PENDING ] || fail "$fn: version shows it $(jget "$info" 'j["function_status"]')"
  perr=$(jget "$info" 'j["preparation_error"]')
  [[ $perr == *"$reason"* ]] || fail "$fn: preparation_error is '$perr'"
  # The CLI derives FAILED and shows the reason.
  rc=0
  out=$(MULTINODE_API_URL=$MN_URL MULTINODE_API_KEY=$MN_KEY HOME=$MN_WORK \
    timeout 30 "$MN_BIN_DIR/multinode" wait --quiet --project-name "$LC_PROJECT" \
    --version-id "$LC_VERSION" --function "$fn" "$id" 2>&1) || rc=$?
  [ "$rc" != 0 ] || fail "$fn: multinode wait exited 0 for a failed invocation"
  [[ $out == *FAILED* && $out == *"$reason"* ]] || fail "$fn: multinode wait said: $out"
  pass "$fn: TERMINATED in ${ms} ms with 2 TERMINATED attempts naming '$reason'; function PENDING with preparation_error"
done
grep -q "preparation failed: .*has no command" "$MN_WORK/d.log" ||
  fail "no 'preparation failed' line in the daemon's log"

# Again, with the preparation error already recorded: the same end, fast.
id=$(lc_start noprov again)
lc_wait_terminated 10 noprov "$id"
check_failed noprov "$id" 'provider "nope" is not configured'
pass "a later invocation of the broken function also ends at once"

# The healthy function of the same version runs.
id=$(lc_start good)
lc_wait_terminated 20 good "$id"
[ "$(lc_outcomes good "$id")" = SUCCEEDED ] || fail "good: $(lc_outcomes good "$id")"
[ "$(jget "$(fn_info good)" 'j["function_status"]')" = READY ] || fail "good is not READY"
pass "a healthy function of the same version is READY and SUCCEEDED"

# Cancellation of an invocation of a broken function: created and cancelled
# while no scheduler runs, it ends TERMINATED with no execution once one does
# (the original left it RUNNING forever: its function was never READY).
daemon_kill d
daemon_config d "$LC_SCHED_YAML
  enabled: false"
daemon_start d
ids=()
for fn in noprov nocmd; do
  id=$(lc_start "$fn" cancel-me)
  api PUT "$LC_BASE/functions/$fn/invocations/$id/cancel" >/dev/null
  [ "$(last_status)" = 200 ] || fail "cancel $fn $id: HTTP $(last_status)"
  ids+=("$fn:$id")
done
[ "$(lc_field noprov "${ids[0]#*:}" 'j["invocation_status"]')" = RUNNING ] ||
  fail "an invocation ended with no scheduler"
daemon_kill d
daemon_config d "$LC_SCHED_YAML"
daemon_start d
for x in "${ids[@]}"; do
  fn=${x%%:*} id=${x#*:}
  lc_wait_terminated 10 "$fn" "$id"
  [ "$(lc_field "$fn" "$id" 'len(j["executions"])')" = 0 ] ||
    fail "$fn: the cancelled invocation got $(lc_field "$fn" "$id" 'len(j["executions"])') executions"
  [ "$(lc_field "$fn" "$id" 'j["cancellation_request_time"] is not None')" = True ] ||
    fail "$fn: cancellation_request_time lost"
done
pass "cancelled invocations of broken functions end TERMINATED with no execution"
