# The per-execution key probe of the provider tests
# (tests/e2e/test_{docker,ecs,k8s}_execution_keys.sh), after the local one of
# tests/e2e/test_execution_keys.sh: a task reads its environment, reports
# what the API answers its own key (its key reversed, never the key itself:
# the output is stored), and holds until the test has looked at the
# provider's objects. Source after lib.sh and lib_daemon.sh, and set MN_KEY
# (xk_admin_key) before the daemon's config is written.
#
#   xk_admin_key             a long random admin key for the daemon (MN_KEY)
#   xk_setup IMAGE           projects "other" and "keys", each a version of
#                            probe / child / slow / quick (echo) with IMAGE; starts "slow" in
#                            "other" (the target of the forgeries) and waits
#                            until its worker runs. Sets XK_OBASE XK_OID XK_OEXE
#   xk_probe_start           starts the probe in "keys"; returns once it has
#                            asked its questions and holds. Sets XK_KBASE XK_ID
#   xk_probe_finish          lets it go, waits for its end, and checks its
#                            answers: its key is its own (mnx_…, not the
#                            admin key); 403 outside its scope; 200/201 for
#                            its own execution and version, and for starting,
#                            reading, listing and cancelling a child whose
#                            parent is its own invocation; the child ends
#                            cancelled; the other project is untouched.
#                            Sets XK_KEY (the probe's key) XK_EXE XK_CHILD
#   xk_check_ended           the probe's key is refused (403, "no longer
#                            valid") now that its execution ended
#   xk_no_key_in FILE...     none of the files holds the probe's key or the
#                            admin key
: "${MN_WORK:?source lib_daemon.sh first}"

xk_admin_key() { MN_KEY=e2e-admin-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n'); }

cat >"$MN_WORK/probe.sh" <<SH
W=$MN_WORK
SH
cat >>"$MN_WORK/probe.sh" <<'SH'
read -r other_inv other_exe
K=$MULTINODE_API_KEY U=$MULTINODE_API_URL
P=$MULTINODE_PROJECT_NAME V=$MULTINODE_VERSION_ID F=$MULTINODE_FUNCTION_NAME
I=$MULTINODE_INVOCATION_ID E=$MULTINODE_EXECUTION_ID
base=/projects/$P/versions/$V/functions
code() { # METHOD PATH [BODY]: the HTTP status
  curl -s -o /dev/null -w '%{http_code}' -X "$1" -H "Authorization: Bearer $K" \
    -H 'Content-Type: application/json' ${3:+--data "$3"} "$U$2"
}
echo "key_reversed $(printf %s "$K" | rev)" # the output is stored: never the key itself
echo "list_projects $(code GET /projects)"
echo "other_project $(code GET /projects/other)"
echo "other_invocation $(code GET "$other_inv")"
echo "other_finish $(code PUT "$other_exe/finish" '{"outcome":"SUCCEEDED","final_output":"FORGED"}')"
echo "other_cancel $(code PUT "$other_inv/cancel")"
echo "create_project $(code PUT /projects/evil)"
echo "create_version $(code POST "/projects/$P/versions" '{"default_docker_image":"x","functions":[]}')"
echo "logs $(code GET "$base/$F/invocations/$I/executions/$E/logs")"
echo "no_parent $(code POST "$base/child/invocations" '{"input":"x"}')"
echo "own_execution $(code GET "$base/$F/invocations/$I/executions/$E")"
echo "own_version $(code GET "/projects/$P/versions/$V")"
# the worker calls on its own key that do not apply (api/dispatch.c checks
# the key in the store's write, and the long way when that did not apply)
echo "own_start_again $(code PUT "$base/$F/invocations/$I/executions/$E/start")"
echo "own_start_latest $(code PUT "/projects/$P/versions/latest/functions/$F/invocations/$I/executions/$E/start")"
echo "unknown_finish $(code PUT "$base/$F/invocations/$I/executions/exe-0123456789abcdef0123456789abcdef/finish" '{"outcome":"SUCCEEDED"}')"
echo "bad_outcome $(code PUT "$base/$F/invocations/$I/executions/$E/finish" '{"outcome":"NEARLY"}')"
created=$(curl -s -w ' %{http_code}' -X POST -H "Authorization: Bearer $K" \
  -H 'Content-Type: application/json' \
  --data "{\"input\":\"x\",\"parent_invocation\":{\"function_name\":\"$F\",\"invocation_id\":\"$I\"}}" \
  "$U$base/child/invocations")
child=$(printf %s "$created" | grep -o '"invocation_id": *"inv-[0-9a-f]*"' | head -n1 | grep -o 'inv-[0-9a-f]*')
echo "start_child ${created##* }"
echo "child ${child:-none}"
echo "get_child $(code GET "$base/child/invocations/$child")"
echo "list_children $(code GET "$base/child/invocations?parent_function_name=$F&parent_invocation_id=$I")"
echo "cancel_child $(code PUT "$base/child/invocations/$child/cancel")"
touch "$W/$I.probed"
i=0
while [ ! -f "$W/$I.go" ] && [ $i -lt 225 ]; do sleep 0.2; i=$((i + 1)); done
SH

xk_fn() { # NAME COMMAND_JSON [TIMEOUT_SECONDS, default 120]
  printf '{"function_name":"%s","command":%s,
    "resource_spec":{"virtual_cpus":0.25,"memory_gbs":0.5,"max_concurrency":5},
    "execution_spec":{"max_retries":0,"timeout_seconds":%s}}' "$1" "$2" "${3:-120}"
}

# other/slow sleeps 500 s (timeout 600): it must still run when the probe,
# minutes later on a loaded machine, checks that nothing of it changed.
xk_deploy() { # PROJECT IMAGE: the version id
  api PUT "/projects/$1" >/dev/null
  api POST "/projects/$1/versions" "{\"default_docker_image\":\"$2\",\"functions\":[
    $(xk_fn probe "[\"sh\",\"$MN_WORK/probe.sh\"]"), $(xk_fn child '["sleep","60"]'),
    $(xk_fn slow '["sleep","500"]' 600), $(xk_fn quick '["sh","-c","echo quick"]')]}" | jq -r .version_id
}

xk_setup() {
  local vo
  vo=$(xk_deploy other "$1")
  XK_VK=$(xk_deploy keys "$1")
  [[ $vo == ver-* && $XK_VK == ver-* ]] || fail "no versions ($vo, $XK_VK)"
  XK_OBASE=/projects/other/versions/$vo/functions/slow
  XK_KBASE=/projects/keys/versions/$XK_VK/functions/probe
  XK_OID=$(api POST "$XK_OBASE/invocations" '{"input":""}' | jq -r .invocation_id)
  [[ $XK_OID == inv-* ]] || fail "no invocation of other/slow"
  wait_until 30 "the other project's worker to run" xk_other_running
  XK_OEXE=$(api GET "$XK_OBASE/invocations/$XK_OID" | jq -r .executions[0].execution_id)
}
xk_other_running() {
  api GET "$XK_OBASE/invocations/$XK_OID" | jq -e '.executions[0].worker_status == "RUNNING"'
}

xk_probe_start() {
  local input
  input=$(jq -cn --arg i "$XK_OBASE/invocations/$XK_OID $XK_OBASE/invocations/$XK_OID/executions/$XK_OEXE" \
    '{input: $i}')
  XK_ID=$(api POST "$XK_KBASE/invocations" "$input" | jq -r .invocation_id)
  [[ $XK_ID == inv-* ]] || fail "no probe invocation"
  wait_until 40 "the probe to ask its questions" test -f "$MN_WORK/$XK_ID.probed"
  XK_EXE=$(api GET "$XK_KBASE/invocations/$XK_ID" | jq -r .executions[0].execution_id)
}

xk_val() { awk -v k="$1" '$1 == k {print $2}' <<<"$XK_OUT"; }
xk_probe_done() { api GET "$XK_KBASE/invocations/$XK_ID" | jq -e '.invocation_status == "TERMINATED"'; }
xk_child_done() {
  api GET "/projects/keys/versions/$XK_VK/functions/child/invocations/$XK_CHILD" |
    jq -e '.invocation_status == "TERMINATED"'
}

xk_probe_finish() {
  local inv k cbase child
  touch "$MN_WORK/$XK_ID.go"
  wait_until 30 "the probe to end" xk_probe_done
  inv=$(api GET "$XK_KBASE/invocations/$XK_ID")
  jq -e '(.executions | length) == 1 and .executions[0].outcome == "SUCCEEDED"' <<<"$inv" >/dev/null ||
    fail "the probe: $inv"
  XK_OUT=$(jq -r '.executions[0].output' <<<"$inv")
  XK_KEY=$(xk_val key_reversed | rev)
  [[ $XK_KEY == mnx_* ]] && [ "$XK_KEY" != "$MN_KEY" ] || fail "the task's key is \"$XK_KEY\""
  pass "the task's MULTINODE_API_KEY is its own (mnx_…), not the daemon's admin key"

  for k in list_projects other_project other_invocation other_finish other_cancel create_project \
    create_version logs no_parent; do
    [ "$(xk_val "$k")" = 403 ] || fail "$k: $(xk_val "$k"), want 403 (all: $XK_OUT)"
  done
  pass "refused (403): another project, its invocation, its execution's /finish (forged) and" \
    "/cancel, project and version creation, logs, an invocation without its parent"
  [ "$(xk_val own_start_again)" = 409 ] && [ "$(xk_val own_start_latest)" = 403 ] &&
    [ "$(xk_val unknown_finish)" = 403 ] && [ "$(xk_val bad_outcome)" = 422 ] ||
    fail "its own worker calls: start again $(xk_val own_start_again) (want 409), through" \
      "\"latest\" $(xk_val own_start_latest) (403), another execution's /finish" \
      "$(xk_val unknown_finish) (403), a bad outcome $(xk_val bad_outcome) (422)"
  pass "its own /start again 409, through \"latest\" 403, /finish of an unknown execution 403," \
    "a bad outcome 422"
  for k in own_execution own_version get_child list_children cancel_child; do
    [ "$(xk_val "$k")" = 200 ] || fail "$k: $(xk_val "$k"), want 200 (all: $XK_OUT)"
  done
  [[ $(xk_val start_child) == 20[01] ]] || fail "start_child: $(xk_val start_child) (all: $XK_OUT)"
  XK_CHILD=$(xk_val child)
  [[ $XK_CHILD == inv-* ]] || fail "no child (all: $XK_OUT)"
  cbase=/projects/keys/versions/$XK_VK/functions/child
  child=$(api GET "$cbase/invocations/$XK_CHILD")
  jq -e --arg p "$XK_ID" '.parent_invocation.function_name == "probe" and
    .parent_invocation.invocation_id == $p and .cancellation_request_time != null' <<<"$child" \
    >/dev/null || fail "the child: $child"
  wait_until 30 "the cancelled child to end" xk_child_done
  api GET "$cbase/invocations/$XK_CHILD" | jq -e '[.executions[] | .outcome] | all(. != "SUCCEEDED")' \
    >/dev/null || fail "the cancelled child: $(api GET "$cbase/invocations/$XK_CHILD")"
  pass "allowed: its own execution and version; a child with its own invocation as parent" \
    "started, read, listed and cancelled (it ended, cancelled)"

  api GET "$XK_OBASE/invocations/$XK_OID" | jq -e '.invocation_status == "RUNNING" and
    .cancellation_request_time == null and (.executions | length == 1) and
    .executions[0].outcome == null and .executions[0].worker_status == "RUNNING"' >/dev/null ||
    fail "the other project's invocation changed: $(api GET "$XK_OBASE/invocations/$XK_OID")"
  pass "the other project's invocation is untouched: RUNNING, not cancelled, no forged outcome"
}

xk_check_ended() {
  local ended
  ended=$(curl -s -w ' %{http_code}' -H "Authorization: Bearer $XK_KEY" \
    "$MN_URL$XK_KBASE/invocations/$XK_ID/executions/$XK_EXE")
  [ "${ended##* }" = 403 ] && grep -q "no longer valid" <<<"$ended" ||
    fail "the key after its execution ended: $ended"
  pass "refused after its execution ended: ${ended% *}"
  local path=$MN_URL$XK_KBASE/invocations/$XK_ID/executions/$XK_EXE forged k
  for k in start finish; do
    ended=$(curl -s -w ' %{http_code}' -X PUT -H "Authorization: Bearer $XK_KEY" \
      -H 'Content-Type: application/json' --data '{"outcome":"SUCCEEDED"}' "$path/$k")
    [ "${ended##* }" = 403 ] && grep -q "no longer valid" <<<"$ended" ||
      fail "/$k on the key after its execution ended: $ended"
  done
  forged=mnx_$(head -c 200 /dev/urandom | tr -dc 'a-zA-Z0-9' | head -c $((${#XK_KEY} - 4)))
  ended=$(curl -s -w ' %{http_code}' -X PUT -H "Authorization: Bearer $forged" \
    -H 'Content-Type: application/json' --data '{"outcome":"SUCCEEDED"}' "$path/finish")
  [ "${ended##* }" = 403 ] && grep -q "The API key is invalid" <<<"$ended" ||
    fail "/finish with a key nobody was given: $ended"
  pass "/start and /finish refused after its execution ended (403), and with a forged key: ${ended% *}"
}

xk_no_key_in() {
  local f
  for f in "$@"; do
    [ -f "$f" ] || fail "no file $f"
    if grep -qF -e "$XK_KEY" -e "$MN_KEY" "$f"; then fail "a key is in $f"; fi
  done
}
