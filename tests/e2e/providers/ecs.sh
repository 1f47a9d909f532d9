# The ECS provider in the scenario harness (tests/e2e/scenarios/*.sh) and in
# the ECS tests (tests/e2e/test_ecs_*.sh): the daemon talks to the ECS
# simulator (tests/sims/ecs/ecs_sim.py) on loopback, which checks every
# request's SigV4 signature with botocore and its body against AWS's API
# models, and runs every task as a local process: tests/e2e/worker-hold.sh
# + the container command, with $MN_BIN_DIR on PATH. The hooks are described
# in tests/e2e/lib_scenarios.sh.
#
# Besides the hooks:
#   ecs_sim_start [FLAGS...]  starts the simulator (prov_setup calls it); its
#                             tasks' entrypoint is $ECS_SIM_ENTRYPOINT when set
#   ecs_yaml [EXTRA_KEYS]     the providers: section, with extra ecs keys
#   sim_get PATH / sim_post PATH JSON   the simulator's control endpoint
#   ecs_check_counters        fails on any signature mismatch or model
#                             violation; runs at the exit of every test
#                             that passed until then
SC_IMAGE=123456789012.dkr.ecr.eu-west-2.amazonaws.com/multinode-e2e:1
ECS_SIM_URL=
ECS_SIM_PID=

command -v /usr/bin/python3 >/dev/null || fail "ecs tests need /usr/bin/python3"
/usr/bin/python3 -c 'import botocore' 2>/dev/null ||
  fail "ecs tests need botocore for /usr/bin/python3 (Debian package python3-botocore)"

ecs_sim_start() {
  [ -z "$ECS_SIM_PID" ] || return 0
  export AWS_ACCESS_KEY_ID=AKIA$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n' | tr a-f A-F)
  export AWS_SECRET_ACCESS_KEY=$(od -An -N20 -tx1 /dev/urandom | tr -d ' \n')
  export AWS_SESSION_TOKEN=${ECS_SESSION_TOKEN-sim/session/$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')}
  [ -n "$AWS_SESSION_TOKEN" ] || unset AWS_SESSION_TOKEN
  unset AWS_PROFILE AWS_DEFAULT_PROFILE AWS_WEB_IDENTITY_TOKEN_FILE AWS_ROLE_ARN \
    AWS_CONTAINER_CREDENTIALS_RELATIVE_URI AWS_CONTAINER_CREDENTIALS_FULL_URI
  export AWS_EC2_METADATA_DISABLED=true
  local args=(--port-file "$MN_WORK/ecs-sim.port" --region eu-west-2 --cluster multinode
    --access-key "$AWS_ACCESS_KEY_ID" --secret-key "$AWS_SECRET_ACCESS_KEY"
    --entrypoint "${ECS_SIM_ENTRYPOINT:-$MN_SOURCE_DIR/tests/e2e/worker-hold.sh}" --path-prepend "$MN_BIN_DIR")
  [ -z "${AWS_SESSION_TOKEN:-}" ] || args+=(--session-token "$AWS_SESSION_TOKEN")
  /usr/bin/python3 "$MN_SOURCE_DIR/tests/sims/ecs/ecs_sim.py" "${args[@]}" "$@" \
    >>"$MN_WORK/ecs-sim.log" 2>&1 &
  ECS_SIM_PID=$!
  on_exit "kill $ECS_SIM_PID 2>/dev/null; wait $ECS_SIM_PID 2>/dev/null"
  wait_until 120 "the ECS simulator to listen" test -s "$MN_WORK/ecs-sim.port"
  ECS_SIM_URL=http://127.0.0.1:$(cat "$MN_WORK/ecs-sim.port")
  wait_until 120 "the ECS simulator to answer" curl -sf "$ECS_SIM_URL/_sim/counters"
}

prov_setup() { ecs_sim_start; }

# ecs_yaml [EXTRA]: the providers section; EXTRA is more lines of providers.ecs
# (indented by 4). stop_timeout follows $SC_GRACE when the harness sets it.
ecs_yaml() {
  local grace=${SC_GRACE:-${ECS_STOP_TIMEOUT:-}}
  grace=${grace%s}
  cat <<YAML
providers:
  default: ecs
  ecs:
    region: eu-west-2
    cluster: multinode
    subnets: [subnet-0a1b2c3d4e5f60718]
    security_groups: [sg-0a1b2c3d4e5f60718]
    execution_role_arn: arn:aws:iam::123456789012:role/multinode-task-execution
    task_role_arn: arn:aws:iam::123456789012:role/multinode-worker
    log_group: /multinode/workers
    endpoint: $ECS_SIM_URL/
    logs_endpoint: $ECS_SIM_URL/
    ecr_endpoint: $ECS_SIM_URL/
YAML
  if [[ $grace =~ ^[0-9]+$ ]]; then echo "    stop_timeout: $grace"; fi
  [ -z "${1:-}" ] || printf '%s\n' "$1"
}

prov_yaml() { ecs_yaml; }

sim_get() { curl -sf --max-time 10 "$ECS_SIM_URL$1"; }
sim_post() { curl -sf --max-time 10 -X POST --data-binary "$2" "$ECS_SIM_URL$1"; }

# tasks_of INV: the simulator's tasks of invocation INV
tasks_of() { sim_get /_sim/tasks | jq -c --arg i "$1" '[.tasks[] | select(.invocationId == $i)]'; }

prov_kill_worker() {
  local hit
  hit=$(sim_post /_sim/kill "{\"invocation_id\":\"$1\"}")
  jq -e '.tasks | length == 1' <<<"$hit" >/dev/null || fail "no running task of $1 to kill: $hit"
}

prov_worker_gone() { tasks_of "$1" | jq -e 'length > 0 and all(.[]; .alive == false)' >/dev/null; }

prov_bad_function() {
  printf '{"function_name":"%s","docker_image_override":"Not A Valid Image!",
    "resource_spec":{"virtual_cpus":1,"memory_gbs":4,"max_concurrency":100},
    "execution_spec":{"max_retries":%d,"timeout_seconds":60}}' "$1" "$2"
}
prov_bad_message() {
  echo 'image "Not A Valid Image!" is not a valid container image reference (1 to 255 of letters, digits and - _ : . / @ #)'
}

prov_worker_log() {
  sim_get "/_sim/log?group=/multinode/workers&stream=$(jq -r .logs_identifier <<<"$1")" |
    jq -r '.lines[]'
}

ecs_check_counters() {
  local c
  c=$(sim_get /_sim/counters) || { echo "FAIL: the ECS simulator does not answer" >&2; return 1; }
  echo "ecs simulator: $(jq -c '{calls, throttled, tasks_started, signature_mismatches,
    model_violations, client_errors: (.client_errors | length)}' <<<"$c")"
  jq -e '.signature_mismatches == 0' <<<"$c" >/dev/null || {
    echo "FAIL: $(jq -r .signature_mismatches <<<"$c") signature mismatch(es): $(jq -c .signature_errors <<<"$c")" >&2
    return 1
  }
  jq -e '.model_violations == 0' <<<"$c" >/dev/null || {
    echo "FAIL: $(jq -r .model_violations <<<"$c") model violation(s): $(jq -c .violations <<<"$c")" >&2
    return 1
  }
}

# At exit, a test that passed so far fails on any signature mismatch or
# model violation the simulator counted.
ecs_on_exit() {
  local rc=$?
  if [ "$rc" = 0 ] && [ -n "$ECS_SIM_URL" ]; then ecs_check_counters || rc=1; fi
  daemons_cleanup
  exit "$rc"
}
trap ecs_on_exit EXIT
