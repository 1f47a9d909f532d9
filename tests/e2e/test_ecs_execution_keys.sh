#!/usr/bin/env bash
# Per-execution keys through the ECS provider and the simulator
# (docs/security.md, "Execution keys on each provider"):
#  - a task proves from inside that its key is its own, refused outside its
#    scope, allowed to start and cancel its own child, and refused once its
#    execution ended (tests/e2e/lib_execution_keys.sh);
#  - ECS itself, asked through its API (botocore, signed): the task's RunTask
#    override carries its MULTINODE_API_KEY, and no task definition (every
#    one registered, ACTIVE or not, with its tags) holds MULTINODE_API_KEY,
#    any execution's key or the admin key;
#  - neither the daemon's log nor the simulator's holds a key. At exit: no
#    signature mismatch, no model violation.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_daemon.sh"
. "$(dirname "$0")/providers/ecs.sh"
. "$(dirname "$0")/lib_execution_keys.sh"

xk_admin_key
ecs_sim_start
daemon_config main "scheduler:
  termination_grace_seconds: 2s
  inspect_interval_ms: 200
$(ECS_STOP_TIMEOUT=2 ecs_yaml)"
daemon_start main
xk_setup "$SC_IMAGE"
xk_probe_start

aws() { /usr/bin/python3 "$MN_SOURCE_DIR/tests/sims/ecs/aws_call.py" "$ECS_SIM_URL/" ecs "$@"; }
override_key() { # TASK_JSON: MULTINODE_API_KEY of its container override
  jq -r '[.overrides.containerOverrides[] | select(.name == "main") | .environment[] |
    select(.name == "MULTINODE_API_KEY") | .value] | if length == 1 then .[0] else "none" end'
}

# --- while the probe runs: its task as DescribeTasks shows it -----------------
arn=$(api GET "$XK_KBASE/invocations/$XK_ID" | jq -r .executions[0].worker_details.identifier)
task=$(aws DescribeTasks "$(jq -cn --arg a "$arn" '{cluster: "multinode", tasks: [$a]}')" |
  jq -c '.tasks[0]') || fail "DescribeTasks $arn"
task_key=$(override_key <<<"$task")
[[ $task_key == mnx_* ]] || fail "the RunTask override of $arn holds no execution key"
td_arn=$(jq -r .taskDefinitionArn <<<"$task")
td=$(aws DescribeTaskDefinition "$(jq -cn --arg a "$td_arn" '{taskDefinition: $a, include: ["TAGS"]}')") ||
  fail "DescribeTaskDefinition $td_arn"
jq -e '[.taskDefinition.containerDefinitions[].environment[]? | .name] |
  (index("MULTINODE_API_URL") != null) and (index("MULTINODE_API_KEY") == null)' <<<"$td" >/dev/null ||
  fail "the probe's task definition: $(jq -c '[.taskDefinition.containerDefinitions[].environment[]? | .name]' <<<"$td")"
pass "running: the task's RunTask override carries its MULTINODE_API_KEY; its task definition" \
  "($td_arn) has MULTINODE_API_URL and no MULTINODE_API_KEY"

xk_probe_finish
[ "$XK_KEY" = "$task_key" ] || fail "the task's MULTINODE_API_KEY is not its RunTask override's"
pass "the task's MULTINODE_API_KEY is the one of its RunTask override"
xk_check_ended

# --- every key any task got, and every task definition registered ------------
arns=()
for st in RUNNING STOPPED; do
  mapfile -t -O "${#arns[@]}" arns < <(aws ListTasks "{\"cluster\":\"multinode\",\"desiredStatus\":\"$st\"}" |
    jq -r '.taskArns[]')
done
[ "${#arns[@]}" -ge 2 ] || fail "ListTasks: ${#arns[@]} tasks"
tasks=$(aws DescribeTasks "$(printf '%s\n' "${arns[@]}" | jq -Rsc '{cluster: "multinode", tasks: split("\n") | map(select(. != ""))}')")
mapfile -t keys < <(jq -c '.tasks[]' <<<"$tasks" | while read -r t; do override_key <<<"$t"; done | sort -u)
for k in "${keys[@]}"; do [[ $k == mnx_* ]] || fail "a task without its own key in its override: $k"; done
[ "${#keys[@]}" = "${#arns[@]}" ] || fail "${#arns[@]} tasks but ${#keys[@]} distinct keys"

tds=() token=
while :; do
  page=$(aws ListTaskDefinitions "$(jq -cn --arg t "$token" '{maxResults: 1} + (if $t != "" then {nextToken: $t} else {} end)')")
  mapfile -t -O "${#tds[@]}" tds < <(jq -r '.taskDefinitionArns[]' <<<"$page")
  token=$(jq -r '.nextToken // ""' <<<"$page")
  [ -n "$token" ] || break
done
inactive=$(aws ListTaskDefinitions '{"status":"INACTIVE"}' | jq -r '.taskDefinitionArns[]')
[ -z "$inactive" ] || tds+=($inactive)
[ "${#tds[@]}" -ge 2 ] || fail "ListTaskDefinitions: ${#tds[@]}"
all=
for a in "${tds[@]}"; do
  all+=$(aws DescribeTaskDefinition "$(jq -cn --arg a "$a" '{taskDefinition: $a, include: ["TAGS"]}')") ||
    fail "DescribeTaskDefinition $a"
  all+=$'\n'
done
if grep -q MULTINODE_API_KEY <<<"$all"; then fail "MULTINODE_API_KEY is in a task definition"; fi
for k in "${keys[@]}" "$MN_KEY"; do
  if grep -qF "$k" <<<"$all"; then fail "a key is in a task definition"; fi
done
pass "${#tds[@]} task definitions registered (ListTaskDefinitions paged, DescribeTaskDefinition" \
  "with tags): none holds MULTINODE_API_KEY, any of the ${#keys[@]} execution keys of" \
  "${#arns[@]} tasks, or the admin key"

xk_no_key_in "$MN_WORK/main.log" "$MN_WORK/ecs-sim.log"
pass "neither the daemon's log nor the simulator's holds a key"
