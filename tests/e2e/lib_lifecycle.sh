# Helpers for the scheduler lifecycle tests (test_lifecycle_*.sh). Source
# after lib.sh and lib_daemon.sh.
#
#   lc_deploy PROJECT FUNCTIONS_JSON   creates the project and a version with
#                                      these FunctionSpecs; sets LC_PROJECT,
#                                      LC_VERSION and LC_BASE (the version's path)
#   lc_fn NAME COMMAND [MAXCONC] [RETRIES] [TIMEOUT] [EXTRA_JSON]
#                                      prints one FunctionSpec (COMMAND is a
#                                      shell one-liner, run with sh -c)
#   lc_start FN [INPUT]                starts an invocation; prints its id
#   lc_inv FN ID                       prints the InvocationInfo (or fails)
#   lc_field FN ID EXPR                jget on the InvocationInfo
#   lc_terminated FN ID                succeeds when the invocation is TERMINATED
#   lc_wait_terminated SECS FN ID...   waits for all of them to be TERMINATED
#   lc_gate DIR                        a shell snippet for commands: touch
#                                      DIR/$MULTINODE_INVOCATION_ID.started, then
#                                      wait (bounded) for DIR/<id>.go
#   lc_daemon_yaml EXTRA               the scheduler settings the tests share
: "${MN_WORK:?source lib_daemon.sh first}"

LC_SCHED_YAML='scheduler:
  termination_grace_seconds: 1s
  inspect_interval_ms: 200'

lc_fn() {
  local name=$1 cmd=$2 conc=${3:-10} retries=${4:-0} timeout=${5:-60} extra=${6:-}
  python3 -c 'import json,sys
name,cmd,conc,retries,timeout,extra=sys.argv[1:]
spec={"function_name":name,"command":["sh","-c",cmd],
      "resource_spec":{"virtual_cpus":0.25,"memory_gbs":0.5,"max_concurrency":int(conc)},
      "execution_spec":{"max_retries":int(retries),"timeout_seconds":int(timeout)}}
if extra: spec.update(json.loads(extra))
print(json.dumps(spec))' "$name" "$cmd" "$conc" "$retries" "$timeout" "$extra"
}

lc_deploy() {
  local project=$1 functions=$2 out
  api PUT "/projects/$project" >/dev/null
  [ "$(last_status)" = 200 ] || fail "create project $project: HTTP $(last_status)"
  out=$(api POST "/projects/$project/versions" \
    "{\"default_docker_image\":\"none\",\"functions\":$functions}")
  [ "$(last_status)" = 200 ] || fail "create version: HTTP $(last_status) $out"
  LC_PROJECT=$project
  LC_VERSION=$(jget "$out" 'j["version_id"]')
  LC_BASE=/projects/$project/versions/$LC_VERSION
}

lc_start() {
  local fn=$1 input=${2:-} out
  out=$(api POST "$LC_BASE/functions/$fn/invocations" "$(jq -cn --arg i "$input" '{input: $i}')")
  [ "$(last_status)" = 200 ] || fail "start $fn: HTTP $(last_status) $out"
  jq -r .invocation_id <<<"$out"
}

lc_inv() {
  local out
  out=$(api GET "$LC_BASE/functions/$1/invocations/$2")
  [ "$(last_status)" = 200 ] || fail "get invocation $2: HTTP $(last_status) $out"
  printf '%s' "$out"
}

lc_field() { jget "$(lc_inv "$1" "$2")" "$3"; }

lc_terminated() {
  [ "$(lc_inv "$1" "$2" | jq -r .invocation_status)" = TERMINATED ]
}

lc_wait_terminated() {
  local secs=$1 fn=$2 id; shift 2
  for id in "$@"; do
    wait_until "$secs" "invocation $id of $fn to be TERMINATED" lc_terminated "$fn" "$id"
  done
}

# A shell snippet: mark started, then wait up to 120 s for the go-file.
lc_gate() {
  local dir=$1
  printf '%s' "touch $dir/\$MULTINODE_INVOCATION_ID.started; i=0; while [ ! -f $dir/\$MULTINODE_INVOCATION_ID.go ] && [ \$i -lt 600 ]; do sleep 0.2; i=\$((i+1)); done; [ -f $dir/\$MULTINODE_INVOCATION_ID.go ] || exit 9"
}

# Outcomes of an invocation's executions, space-separated ("null" for none).
lc_outcomes() {
  lc_field "$1" "$2" '" ".join(str(e["outcome"]) if e["outcome"] else "null" for e in j["executions"])'
}
