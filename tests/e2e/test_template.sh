#!/usr/bin/env bash
# The template provider (plugins/template, the model provider) end to end
# against its simulator of a made-up compute API: a function prepared as a
# profile (the shared worker environment, no secret), an invocation run as a
# worker (the execution's key apart from the environment, tags naming the
# cluster and execution), its output and its log paged by offset; a worker
# killed without /finish noticed through the event thread's host->wake
# (status polling is set to a minute); cancel stops the worker; 429 with
# Retry-After and 507 (CAPACITY) are waited out with no attempt spent; 400
# and 401 fail the attempt with the API's message; released workers are
# deleted; after a restart, list_owned pages through the cluster's workers
# (2 a page) and the strays are removed; the calls reuse their connections;
# --check-config reports bad keys with file:line:col.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_daemon.sh"
. "$(dirname "$0")/providers/template.sh"

echo "sim-token-$RANDOM$RANDOM" >"$MN_WORK/token"
template_sim_start --token-file "$MN_WORK/token" --page-size 2
daemon_config main "scheduler:
  termination_grace_seconds: 2s
  inspect_interval_ms: 60000
$(template_yaml "    token_file: $MN_WORK/token
    timeout: 10s")"
daemon_start main
pass "daemon up with the template provider against the simulator at $TEMPLATE_SIM_URL"

cat >"$MN_WORK/fn.sh" <<'SH'
input=$(cat)
case "$input" in
hello) echo "greeting $GREETING" >&2; echo "execution $MULTINODE_EXECUTION_ID" >&2
  echo "key ${MULTINODE_API_KEY:+set}" >&2; echo "hello from template" ;;
wait) trap 'echo "got TERM" >&2; exit 0' TERM; while :; do sleep 0.05; done ;;
esac
SH
fn() { # NAME VCPUS
  printf '{"function_name":"%s","command":["sh","%s"],"env":{"GREETING":"hi"},
    "resource_spec":{"virtual_cpus":%s,"memory_gbs":1,"max_concurrency":10},
    "execution_spec":{"max_retries":0,"timeout_seconds":60}}' "$1" "$MN_WORK/fn.sh" "$2"
}
api PUT /projects/p >/dev/null
v=$(api POST /projects/p/versions "{\"default_docker_image\":\"$SC_IMAGE\",\"functions\":[
  $(fn small 0.5), $(fn huge 16)]}" | jq -r .version_id)
[[ $v == ver-* ]] || fail "no version"
base=/projects/p/versions/$v/functions
run() { api POST "$base/$1/invocations" "$(jq -nc --arg i "$2" '{input:$i}')" | jq -r .invocation_id; }
inv() { api GET "$base/$1/invocations/$2"; }
inv_done() { inv "$1" "$2" | jq -e '.invocation_status == "TERMINATED"' >/dev/null; }

i1=$(run small hello)
wait_until 30 "invocation $i1 to finish" inv_done small "$i1"
j=$(inv small "$i1")
exe=$(jq -r '.executions[0].execution_id' <<<"$j")
jq -e '.executions[0] | .outcome == "SUCCEEDED" and .output == "hello from template" and
  .worker_details.type == "template" and (.worker_details.identifier | test("^mn-[0-9a-f]{24}$"))' \
  <<<"$j" >/dev/null || fail "execution of $i1: $(jq -c .executions <<<"$j")"
w=$(tsim_get /_sim/workers | jq -c --arg e "$exe" '[.workers[] | select(.tags.execution == $e)]')
jq -e --arg i "$i1" 'length == 1 and .[0].tags.invocation == $i and (.[0].tags.owner | length > 0) and
  .[0].secret_env_names == ["MULTINODE_API_KEY"] and (.[0].env | has("MULTINODE_API_KEY") | not) and
  .[0].env.GREETING == "hi" and .[0].env.MULTINODE_EXECUTION_ID == .[0].tags.execution' <<<"$w" \
  >/dev/null || fail "the worker of $exe: $w"
pass "an invocation as one worker: SUCCEEDED with its output; the key apart from the env, tags name cluster and execution"

# the log, one line a page; at the end the offset stays
eb=$base/small/invocations/$i1/executions/$exe
all= off=
for _ in 1 2 3 4 5 6 7 8; do
  page=$(api GET "$eb/logs?max_lines=1${off:+&initial_offset=$off}")
  [ "$(jq '.log_lines | length' <<<"$page")" = 1 ] || break
  all+=$(jq -r '.log_lines[0]' <<<"$page")$'\n'
  off=$(jq -r .next_offset <<<"$page")
done
grep -qx "greeting hi" <<<"$all" && grep -qx "execution $exe" <<<"$all" && grep -qx "key set" <<<"$all" ||
  fail "the worker's log paged one line at a time: $all"
[ "$(jq -r .next_offset <<<"$page")" = "$off" ] || fail "the offset after the end moved: $page"
api GET "$eb/logs?initial_offset=abc" >/dev/null
[ "$(last_status)" = 400 ] || fail "a made-up offset: HTTP $(last_status)"
pass "logs paged by line offset, the worker saw its env and its own key; a made-up offset is refused"

# released once exited: deleted (its log stays readable, above)
gone() { tsim_get /_sim/workers | jq -e --arg e "$1" '.workers[] | select(.tags.execution == $e) | .deleted' >/dev/null; }
wait_until 15 "the worker of $exe to be released" gone "$exe"
pass "release deletes the worker"

# a worker killed without /finish: the event thread wakes the daemon
i2=$(run small wait)
started() { inv small "$1" | jq -e '.executions[0].execution_start_time != null' >/dev/null; }
wait_until 30 "$i2 to start" started "$i2"
e2=$(inv small "$i2" | jq -r '.executions[0].execution_id')
t0=$(date +%s%N)
tsim_post /_sim/kill "{\"execution_id\":\"$e2\"}" | jq -e '.killed | length == 1' >/dev/null || fail "nothing to kill"
wait_until 20 "$i2 to fail after its worker was killed" inv_done small "$i2"
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
inv small "$i2" | jq -e '.executions[0].outcome == "FAILED" or .executions[0].outcome == null' >/dev/null ||
  fail "$i2 after the kill: $(inv small "$i2")"
[ "$ms" -lt 15000 ] || fail "the kill was noticed after $ms ms: no wake (inspect_interval_ms is 60000)"
pass "a worker killed without /finish: noticed in $ms ms through host->wake (status polling: 60 s)"

# cancel: stop, SIGTERM reaches the command
i3=$(run small wait)
wait_until 30 "$i3 to start" started "$i3"
api PUT "$base/small/invocations/$i3/cancel" >/dev/null
wait_until 30 "$i3 to end after the cancel" inv_done small "$i3"
inv small "$i3" | jq -e '.executions[0].outcome == "ABORTED"' >/dev/null || fail "$i3: $(inv small "$i3")"
[ "$(tsim_get /_sim/counters | jq '.calls["POST /v1/workers/NAME/stop"] // 0')" -ge 1 ] || fail "no stop call"
pass "cancel: the worker is stopped, ABORTED"

# 429 with Retry-After: 1, then 507: waited out, one execution, no attempt spent
template_fault "POST /v1/workers" 429 1
template_fault "POST /v1/workers" 507 "" 2
t0=$(date +%s%N)
i4=$(run small hello)
wait_until 30 "$i4 to finish despite 429 and 507" inv_done small "$i4"
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
inv small "$i4" | jq -e '(.executions | length) == 1 and .executions[0].outcome == "SUCCEEDED"' >/dev/null ||
  fail "$i4: $(inv small "$i4")"
[ "$ms" -ge 1000 ] || fail "$i4 ended in $ms ms: the Retry-After of 1 s was not waited"
grep -q 'HTTP 429' "$MN_WORK/main.log" && grep -q 'HTTP 507: no capacity\|HTTP 507' "$MN_WORK/main.log" ||
  fail "the 429 and 507 were not logged"
pass "429 (Retry-After: 1) and 507 (CAPACITY) waited out in $ms ms; one execution"

# 401 on launch: AUTH fails the attempt with the API's message
template_fault "POST /v1/workers" 401
i5=$(run small hello)
wait_until 30 "$i5 to end" inv_done small "$i5"
inv small "$i5" | jq -e '.executions[0].error_message | contains("HTTP 401")' >/dev/null ||
  fail "$i5 after a 401: $(inv small "$i5")"
# 400 from prepare: no machine fits 16 vCPUs
i6=$(run huge hello)
wait_until 30 "$i6 to end" inv_done huge "$i6"
inv huge "$i6" | jq -e '.executions[0].error_message | contains("no machine size fits 16 cpus")' >/dev/null ||
  fail "$i6 (16 vCPUs): $(inv huge "$i6")"
pass "401 on launch and 400 on prepare fail the attempt with the API's message"

c=$(tsim_get /_sim/counters)
calls=$(jq '[.calls[]] | add' <<<"$c")
conns=$(jq .connections <<<"$c")
echo "simulator: $(jq -c . <<<"$c")"
# Without reuse every call opens a connection; how many calls a run makes
# depends on its timing (the event feed's long polls), so the bound is
# relative: at most one connection for every two calls (43 calls over 11 seen).
[ "$calls" -ge 20 ] && [ $((conns * 2)) -le "$calls" ] || fail "$conns connections for $calls calls: not reused"
pass "$calls calls over $conns connections"

# a restart: list_owned reads every page of this cluster's workers (2 a
# page: the third stray is on the second page at the earliest); three
# strays (executions the database does not have) are stopped and deleted,
# another cluster's worker is left alone
cluster=$(jq -r '.[0].tags.owner' <<<"$w")
profile=$(jq -r '.[0].profile' <<<"$w")
auth="Authorization: Bearer $(cat "$MN_WORK/token")"
stray() { # NAME OWNER
  curl -sf --max-time 10 -H "$auth" -X POST --data-binary "{\"name\":\"$1\",\"profile\":\"$profile\",
    \"tags\":{\"owner\":\"$2\",\"execution\":\"exe-$1\"}}" "$TEMPLATE_SIM_URL/v1/workers" >/dev/null ||
    fail "cannot create worker $1"
}
stray stray-1 "$cluster"; stray stray-2 "$cluster"; stray stray-3 "$cluster"; stray other-1 other-cluster
daemon_kill main
daemon_start main
deleted() { tsim_get /_sim/workers | jq -e --arg n "$1" '.workers[] | select(.name == $n) | .deleted' >/dev/null; }
for n in stray-1 stray-2 stray-3; do wait_until 30 "stray $n to be removed" deleted "$n"; done
! deleted other-1 || fail "the worker of another cluster was removed"
grep -q 'removed 3 stray worker(s)' "$MN_WORK/main.log" || fail "no reconciliation logged"
pass "after a restart list_owned paged through the cluster's workers: 3 strays removed, another cluster's kept"

# --check-config: every bad key with file:line:col, nothing started
# check_bad SECTION_LINES WANT: --check-config of a template section fails with WANT
check_bad() {
  printf 'server:\n  api_key: a-key-of-sixteen-or-more\ndata_dir: %s/never-created\nproviders:
  default: template\n  template:\n%s\n' "$MN_WORK" "$1" >"$MN_WORK/bad.yaml"
  set +e
  out=$("$MN_BIN_DIR/multinoded" --check-config "$MN_WORK/bad.yaml" 2>&1); rc=$?
  set -e
  [ $rc = 1 ] && grep -qF "$2" <<<"$out" || fail "--check-config: exit $rc, not \"$2\": $out"
}
check_bad "    endpoint: ftp://compute" \
  'bad.yaml:7:15: providers.template.endpoint: "ftp://compute" is not an http(s) URL'
check_bad "    endpoint: http://compute
    colour: red" 'bad.yaml:8:5: providers.template.colour: unknown key'
check_bad "    token_file: /nonexistent/token" \
  'bad.yaml:7:17: providers.template.token_file: cannot read "/nonexistent/token": No such file or directory'
check_bad "    timeout: 0s" 'bad.yaml:7:14: providers.template.timeout: must be between 1s and 10m'
[ ! -e "$MN_WORK/never-created" ] || fail "--check-config created data_dir"
pass "--check-config: a bad endpoint, an unknown key, a missing token file, a bad timeout, each at its file:line:col"
