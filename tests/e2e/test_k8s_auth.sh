#!/usr/bin/env bash
# The k8s provider authenticates like kubectl, each way tested against the
# API simulator (HTTPS with a test CA, or plain HTTP), one invocation run to
# SUCCEEDED (with its log) per variant:
#  - kubeconfig, bearer token, CA as certificate-authority-data;
#  - kubeconfig, client certificate and key as -data, CA as a file, a named
#    (non-current) context;
#  - kubeconfig, client certificate and key as files;
#  - in-cluster: no kubeconfig anywhere, KUBERNETES_SERVICE_HOST/PORT and the
#    service-account directory; the token file rotates and is re-read;
#  - a plain http:// server;
#  - a refused token fails the attempt with the API's 401.
# The simulator counts no schema violation.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_daemon.sh"
SC_PROVIDER=k8s
. "$(dirname "$0")/lib_scenarios.sh"

mkdir -p "$MN_WORK/sa" "$MN_WORK/home"
echo "rotating-token-1" >"$MN_WORK/accepted-token"
k8s_sim_start --token-file "$MN_WORK/accepted-token"
export HOME=$MN_WORK/home # no ~/.kube/config
unset KUBECONFIG KUBERNETES_SERVICE_HOST KUBERNETES_SERVICE_PORT

# run_variant NAME PROVIDERS_K8S_YAML: a daemon with that k8s section runs
# one invocation to SUCCEEDED and serves its log.
n=0
run_variant() {
  local name=$1 section=$2 id
  n=$((n + 1))
  daemon_config "$name" "scheduler:
  termination_grace_seconds: 5s
providers:
  default: k8s
  k8s:
$section"
  daemon_start "$name"
  export MULTINODE_API_URL=$MN_URL MULTINODE_API_KEY=$MN_KEY
  [ -n "${V:-}" ] || V=$(sc_deploy auth 60)
  id=$(invoke auth "$V" standard hold)
  wait_started "$id"
  go "$id"
  wait_inv 30 "$id" '.invocation_status == "TERMINATED"' "$name: the invocation to end"
  expect "$id" '.executions[0] | .outcome == "SUCCEEDED" and .output == "done" and
    .worker_details.type == "k8s"' "$name: SUCCEEDED through the k8s provider"
  local exe logs
  exe=$(field "$id" '.executions[0].execution_id')
  logs=$(call GET "$(base_of "$id")/invocations/$id/executions/$exe/logs")
  jq -e '.log_lines | type == "array"' <<<"$logs" >/dev/null || fail "$name: logs: $logs"
  daemon_kill "$name"
}

k8s_kubeconfig "$MN_WORK/kc-token" token
run_variant token "    kubeconfig: $MN_WORK/kc-token"
pass "kubeconfig with a bearer token and certificate-authority-data"

k8s_kubeconfig "$MN_WORK/kc-cert" cert
sed -i 's/^current-context: sim/current-context: elsewhere/' "$MN_WORK/kc-cert"
run_variant cert "    kubeconfig: $MN_WORK/kc-cert
    context: sim"
pass "kubeconfig with client-certificate-data/client-key-data, a CA file, a named context"

k8s_kubeconfig "$MN_WORK/kc-certfiles" certfiles
KUBECONFIG=$MN_WORK/kc-certfiles run_variant certfiles "    namespace: $K8S_NS"
pass "KUBECONFIG naming a kubeconfig with client-certificate/client-key files"

cp "$K8S_PKI/ca.crt" "$MN_WORK/sa/ca.crt"
echo "$K8S_NS" >"$MN_WORK/sa/namespace"
echo "rotating-token-1" >"$MN_WORK/sa/token"
export KUBERNETES_SERVICE_HOST=127.0.0.1 KUBERNETES_SERVICE_PORT=${K8S_URL##*:}
export MULTINODE_K8S_SA_DIR=$MN_WORK/sa
run_variant incluster1 "    request_timeout: 10s"
grep -q 'in-cluster' "$MN_WORK/incluster1.log" || fail "in-cluster: the daemon did not say so"
# the token rotates (a projected service-account token): the daemon re-reads it
echo "rotating-token-2" >"$MN_WORK/sa/token.new"
mv "$MN_WORK/sa/token.new" "$MN_WORK/sa/token"
echo "rotating-token-2" >"$MN_WORK/accepted-token"
daemon_config incluster2 "scheduler:
  termination_grace_seconds: 5s
providers:
  default: k8s
  k8s: {}"
daemon_start incluster2
id=$(invoke auth "$V" standard hold)
wait_started "$id"
echo "rotating-token-3" >"$MN_WORK/sa/token.new"
mv "$MN_WORK/sa/token.new" "$MN_WORK/sa/token"
echo "rotating-token-3" >"$MN_WORK/accepted-token"
go "$id"
wait_inv 30 "$id" '.invocation_status == "TERMINATED"' "in-cluster: the invocation to end"
expect "$id" '.executions[0].outcome == "SUCCEEDED"' "in-cluster: SUCCEEDED across a token rotation"
grep -q 'changed: re-read' "$MN_WORK/incluster2.log" ||
  fail "in-cluster: the rotated token was not re-read: $(grep -i token "$MN_WORK/incluster2.log" | tail -3)"
daemon_kill incluster2
pass "in-cluster (service-account token, CA, namespace; KUBERNETES_SERVICE_HOST/PORT); the rotated token is re-read"
unset KUBERNETES_SERVICE_HOST KUBERNETES_SERVICE_PORT MULTINODE_K8S_SA_DIR

# a refused token: the launch fails with AUTH and the API's message
sed "s/token: .*/token: not-the-token/" "$MN_WORK/kc-token" >"$MN_WORK/kc-bad"
daemon_config badtoken "providers:
  default: k8s
  k8s:
    kubeconfig: $MN_WORK/kc-bad"
daemon_start badtoken
id=$(invoke auth "$V" standard hold)
wait_inv 30 "$id" '.invocation_status == "TERMINATED"' "bad token: the invocation to end"
expect "$id" '.executions[0] | .worker_status == "TERMINATED" and .worker_details == null and
  (.error_message | test("answered 401: Unauthorized"))' "bad token: 401 as the error"
daemon_kill badtoken
pass "a refused token ends the attempt with the API's 401"
k8s_assert_no_violations

# plain http: a second simulator without TLS
PATH=$MN_BIN_DIR:$PATH node "$K8S_SIM_DIR/sim.js" --http --token "$K8S_TOKEN" \
  --entrypoint "$MN_SOURCE_DIR/tests/e2e/worker-hold.sh" --rbac "$MN_SOURCE_DIR/deploy/k8s/rbac.yaml" \
  --port-file "$MN_WORK/k8s-http.port" --log "$MN_WORK/k8s-http.log" &
http_pid=$!
on_exit "kill $http_pid 2>/dev/null"
wait_until 30 "the plain-http simulator to listen" test -s "$MN_WORK/k8s-http.port"
https_url=$K8S_URL
K8S_URL=http://127.0.0.1:$(cat "$MN_WORK/k8s-http.port")
k8s_kubeconfig "$MN_WORK/kc-http" http
run_variant http "    kubeconfig: $MN_WORK/kc-http"
[ "$(k8s_stats | jq .jobsCreated)" = 1 ] || fail "http: the job was not created on the http simulator"
pass "a plain http:// API server"
k8s_assert_no_violations
K8S_URL=$https_url
