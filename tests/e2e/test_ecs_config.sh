#!/usr/bin/env bash
# Bad providers.ecs sections stop the daemon with file:line:col, the key and
# the problem; a good one starts it without reaching AWS.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_daemon.sh"
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_PROFILE
export AWS_EC2_METADATA_DISABLED=true

# bad NAME "KEY: MESSAGE" ECS_KEYS: the daemon refuses to start, naming
# NAME.yaml, the line and column of KEY's value (or of the section when KEY
# is absent; KEY[0]: of a list's first item), the key and the problem.
bad() {
  local name=$1 want=$2 out key line col
  daemon_config "$name" "providers:
  default: ecs
  ecs:
$3"
  key=${want%%:*}
  local base=${key%%\[*} # KEY[0]: the first item of a flow list, one column on
  if line=$(grep -n "^    $base:" "$MN_WORK/$name.yaml"); then
    line=${line%%:*}
    col=$(( $(sed -n "${line}p" "$MN_WORK/$name.yaml" | sed 's/^\(    [a-z_]*: \).*/\1/' | wc -c) ))
    [ "$key" = "$base" ] || col=$((col + 1))
  else
    line=$(grep -n '^  ecs:' "$MN_WORK/$name.yaml" | cut -d: -f1); line=$((line + 1)); col=5
  fi
  [ "$key" = colour ] && col=5
  want="$line:$col: providers.ecs.$want"
  set +e
  out=$(timeout 120 "$MN_BIN_DIR/multinoded" --config "$MN_WORK/$name.yaml" 2>&1)
  local rc=$?
  set -e
  [ $rc != 0 ] && [ $rc != 124 ] || fail "$name: the daemon exited $rc"
  grep -qF "$name.yaml:$want" <<<"$out" || fail "$name: want \"$want\" in: $(tail -n 3 <<<"$out")"
  pass "$name: $want"
}
good='    region: eu-west-2
    cluster: multinode
    execution_role_arn: arn:aws:iam::123456789012:role/x'
bad unknown-key "colour: unknown key" "$good
    subnets: [subnet-1]
    colour: blue"
bad subnet "subnets[0]: \"vpc-1\" is not a subnet-id" "$good
    subnets: [vpc-1]"
bad no-subnets "subnets: " "$good"
bad both-launch "capacity_provider_strategy: set either launch_type or capacity_provider_strategy" "$good
    subnets: [subnet-1]
    launch_type: FARGATE
    capacity_provider_strategy: [FARGATE_SPOT:3, FARGATE:1:1]"
bad strategy "capacity_provider_strategy[0]: \"FARGATE:x\" is not NAME[:WEIGHT[:BASE]]" "$good
    subnets: [subnet-1]
    capacity_provider_strategy: [FARGATE:x]"
bad stop-timeout "stop_timeout: must be between 1s and 2m" "$good
    subnets: [subnet-1]
    stop_timeout: 5m"
bad endpoint "endpoint: \"ftp://x\" is not an http(s) URL" "$good
    subnets: [subnet-1]
    endpoint: ftp://x"
bad public-ip "assign_public_ip: " "$good
    subnets: [subnet-1]
    assign_public_ip: maybe"

# a good section starts the daemon with no AWS credentials and no network
daemon_config ok "providers:
  default: ecs
  ecs:
$good
    subnets: [subnet-1]
    capacity_provider_strategy: [FARGATE_SPOT:3, FARGATE:1:1]
    endpoint: http://127.0.0.1:9/"
daemon_start ok
pass "a good section starts the daemon offline, without credentials"
