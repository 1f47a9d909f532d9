#!/usr/bin/env bash
# The ECS provider's AWS credentials chain inside a running daemon, with no
# keys in its environment: credentials come from the ECS container
# credentials endpoint, then from STS AssumeRoleWithWebIdentity, both served
# by tests/sims/aws_creds/server.py. They are short-lived (2 minutes, inside
# the 5-minute refresh margin), so the chain fetches them again for every
# AWS call; the ECS simulator verifies every request's SigV4 signature and
# session token with botocore, so an invocation that succeeds proves the
# fetched credentials signed it. Without any source, an invocation fails
# with the chain's "no AWS credentials" message.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_daemon.sh"
. "$(dirname "$0")/providers/ecs.sh"

command -v python3 >/dev/null || fail "this test needs python3"
ecs_sim_start # exports the one key the ECS simulator accepts
key=$AWS_ACCESS_KEY_ID secret=$AWS_SECRET_ACCESS_KEY token=${AWS_SESSION_TOKEN:-}
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN

python3 "$MN_SOURCE_DIR/tests/sims/aws_creds/server.py" --port-file "$MN_WORK/creds-sim.port" \
  >>"$MN_WORK/creds-sim.log" 2>&1 &
creds_pid=$!
on_exit "kill $creds_pid 2>/dev/null; wait $creds_pid 2>/dev/null"
wait_until 20 "the credentials simulator to listen" test -s "$MN_WORK/creds-sim.port"
CREDS_URL=http://127.0.0.1:$(cat "$MN_WORK/creds-sim.port")
creds_get() { curl -sf --max-time 10 "$CREDS_URL$1"; }
creds_config() { curl -sf --max-time 10 -G "$CREDS_URL/_config" "$@" >/dev/null; }
creds_config --data-urlencode "fixed_key=$key" --data-urlencode "fixed_secret=$secret" \
  --data-urlencode "fixed_token=$token" --data-urlencode "ttl=120" \
  --data-urlencode "auth_token=Bearer pod-token-1"

cat >"$MN_WORK/fn.sh" <<'SH'
echo "hello with fetched credentials"
SH
fn='{"function_name":"f","command":["sh","'"$MN_WORK"'/fn.sh"],
  "resource_spec":{"virtual_cpus":0.25,"memory_gbs":0.5,"max_concurrency":10},
  "execution_spec":{"max_retries":0,"timeout_seconds":60}}'
inv_done() { api GET "$1" | jq -e '.invocation_status == "TERMINATED"' >/dev/null; }
# run_one: deploys a version of function f and runs it once; prints the invocation
run_one() {
  local v base i
  api PUT /projects/p >/dev/null
  v=$(api POST /projects/p/versions "{\"default_docker_image\":\"$SC_IMAGE\",\"functions\":[$fn]}" |
    jq -r .version_id)
  [[ $v == ver-* ]] || fail "no version"
  base=/projects/p/versions/$v/functions/f/invocations
  i=$(api POST "$base" '{"input":"x"}' | jq -r .invocation_id)
  wait_until 60 "invocation $i to finish" inv_done "$base/$i"
  api GET "$base/$i"
}
restart() {
  daemon_kill main KILL
  daemon_config main "$(ecs_yaml "${1:-}")"
  daemon_start main
}

# 1. the ECS container credentials endpoint (full URI + token file)
echo "Bearer pod-token-1" >"$MN_WORK/pod-token"
export AWS_CONTAINER_CREDENTIALS_FULL_URI=$CREDS_URL/full/v1/credentials
export AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE=$MN_WORK/pod-token
daemon_config main "$(ecs_yaml)"
daemon_start main
j=$(run_one)
jq -e '.executions[0].outcome == "SUCCEEDED" and .executions[0].output == "hello with fetched credentials"' \
  <<<"$j" >/dev/null || fail "invocation with container credentials: $j"
n=$(creds_get /_stats | jq .container)
[ "$n" -ge 3 ] || fail "expected a credentials fetch per AWS call (short-lived), got $n"
grep -q 'using AWS credentials from ECS container credentials endpoint' "$MN_WORK/main.log" ||
  fail "the daemon did not log the credentials source"
pass "container credentials endpoint: invocation SUCCEEDED, signed with fetched credentials ($n fetches, refreshed per call)"

# 2. STS AssumeRoleWithWebIdentity (token file + role; endpoint from providers.ecs.sts_endpoint)
unset AWS_CONTAINER_CREDENTIALS_FULL_URI AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE
echo "eyJhbGciOiJSUzI1NiJ9.e2e.sig" >"$MN_WORK/web-token"
export AWS_WEB_IDENTITY_TOKEN_FILE=$MN_WORK/web-token
export AWS_ROLE_ARN=arn:aws:iam::123456789012:role/multinode-control-plane
creds_config --data-urlencode "expect_token=eyJhbGciOiJSUzI1NiJ9.e2e.sig"
restart "    sts_endpoint: $CREDS_URL/"
j=$(run_one)
jq -e '.executions[0].outcome == "SUCCEEDED"' <<<"$j" >/dev/null ||
  fail "invocation with web identity credentials: $j"
st=$(creds_get /_stats)
jq -e '.sts >= 2 and (.violations | length) == 0' <<<"$st" >/dev/null ||
  fail "STS calls / model violations: $(jq -c '{sts, violations}' <<<"$st")"
pass "web identity: invocation SUCCEEDED; $(jq .sts <<<"$st") AssumeRoleWithWebIdentity calls, all valid against the STS model"

# 3. no source at all: the attempt fails with the chain's message
unset AWS_WEB_IDENTITY_TOKEN_FILE AWS_ROLE_ARN
restart
j=$(run_one)
jq -e 'tostring | contains("no AWS credentials: set AWS_ACCESS_KEY_ID")' <<<"$j" >/dev/null ||
  fail "without credentials: $j"
pass "no credentials: the invocation fails with \"no AWS credentials: ...\""
