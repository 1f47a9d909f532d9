# The Kubernetes provider in the scenario harness (tests/e2e/scenarios/*.sh)
# and in the k8s tests (tests/e2e/test_k8s_*.sh): the daemon talks to the
# Kubernetes API simulator of tests/sims/k8s over HTTPS (a CA made here by
# openssl), which runs each Job's pod as a real local process whose
# entrypoint is tests/e2e/worker-hold.sh. The hooks are described in
# tests/e2e/lib_scenarios.sh. Source after lib.sh and lib_daemon.sh.
#
#   k8s_sim_start [--http] [SIM_ARGS...]   starts the simulator (once), sets
#                       K8S_URL (its base URL) and K8S_PKI (ca/server/client
#                       certificates); SIM_ARGS go to sim.js (e.g. --token T);
#                       pods' entrypoint is $K8S_SIM_ENTRYPOINT when set
#   k8s_kubeconfig FILE MODE   writes a kubeconfig for the running simulator;
#                       MODE: token (bearer token, CA as -data), cert (client
#                       certificate and key as -data, CA as a file),
#                       certfiles (client certificate and key as files),
#                       tokenfile FILE (a tokenFile), http (plain http)
#   k8s_ctl METHOD PATH [BODY]   calls the simulator's control endpoint
#   k8s_stats           prints the simulator's counters (JSON)
#   k8s_requests KEY    one request counter, e.g. "list jobs" (0 when none)
#   k8s_assert_no_violations   fails unless the simulator counted no schema
#                       violation and no request outside deploy/k8s/rbac.yaml
#                       (every k8s test ends with it)
: "${MN_WORK:?source lib_daemon.sh first}"
MN_SOURCE_DIR=${MN_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)}
K8S_SIM_DIR=$MN_SOURCE_DIR/tests/sims/k8s
K8S_TOKEN=e2e-k8s-token-$$
K8S_NS=mn-e2e
K8S_URL=
K8S_PKI=$MN_WORK/k8s-pki
SC_IMAGE=registry.example/multinode/worker:e2e

k8s_sim_start() {
  [ -z "$K8S_URL" ] || return 0
  local scheme=https args=()
  if [ "${1:-}" = --http ]; then scheme=http; args+=(--http); shift; fi
  command -v node >/dev/null || fail "node is not installed (Debian: nodejs, npm)"
  command -v openssl >/dev/null || fail "openssl is not installed"
  bash "$K8S_SIM_DIR/setup.sh" || fail "cannot install the k8s simulator's npm packages"
  bash "$K8S_SIM_DIR/certs.sh" "$K8S_PKI" || fail "cannot make the test PKI"
  [ $scheme = http ] || args+=(--cert "$K8S_PKI/server.crt" --key "$K8S_PKI/server.key"
    --client-ca "$K8S_PKI/ca.crt")
  PATH=$MN_BIN_DIR:$PATH node "$K8S_SIM_DIR/sim.js" "${args[@]}" --token "$K8S_TOKEN" "$@" \
    --entrypoint "${K8S_SIM_ENTRYPOINT:-$MN_SOURCE_DIR/tests/e2e/worker-hold.sh}" --rbac "$MN_SOURCE_DIR/deploy/k8s/rbac.yaml" \
    --port-file "$MN_WORK/k8s-sim.port" --log "$MN_WORK/k8s-sim.log" &
  K8S_SIM_PID=$!
  on_exit "kill $K8S_SIM_PID 2>/dev/null; [ -z \"\${MN_SHOW_SIM_LOG:-}\" ] || tail -n 60 $MN_WORK/k8s-sim.log"
  wait_until 120 "the k8s simulator to listen" test -s "$MN_WORK/k8s-sim.port"
  K8S_URL=$scheme://127.0.0.1:$(cat "$MN_WORK/k8s-sim.port")
}

k8s_kubeconfig() {
  local file=$1 mode=$2 cluster user
  local ca_data; ca_data=$(base64 -w0 <"$K8S_PKI/ca.crt" 2>/dev/null || true)
  case $mode in
  http) cluster="server: $K8S_URL" ;;
  cert) cluster="server: $K8S_URL
    certificate-authority: $K8S_PKI/ca.crt" ;;
  *) cluster="server: $K8S_URL
    certificate-authority-data: $ca_data" ;;
  esac
  case $mode in
  token | http) user="token: $K8S_TOKEN" ;;
  cert) user="client-certificate-data: $(base64 -w0 <"$K8S_PKI/client.crt")
    client-key-data: $(base64 -w0 <"$K8S_PKI/client.key")" ;;
  certfiles) user="client-certificate: $K8S_PKI/client.crt
    client-key: $K8S_PKI/client.key" ;;
  tokenfile) user="tokenFile: $3" ;;
  *) fail "k8s_kubeconfig: unknown mode $mode" ;;
  esac
  cat >"$file" <<YAML
apiVersion: v1
kind: Config
clusters:
- name: other
  cluster:
    server: https://127.0.0.1:1
- name: sim
  cluster:
    $cluster
users:
- name: sim-user
  user:
    $user
contexts:
- name: elsewhere
  context: {cluster: other, user: sim-user}
- name: sim
  context:
    cluster: sim
    user: sim-user
    namespace: $K8S_NS
current-context: sim
YAML
}

k8s_ctl() {
  local method=$1 path=$2 body=${3:-}
  if [ -n "$body" ]; then
    curl -sfk --max-time 10 -X "$method" -H 'Content-Type: application/json' --data-binary "$body" \
      "$K8S_URL$path"
  else
    curl -sfk --max-time 10 -X "$method" "$K8S_URL$path"
  fi
}

k8s_stats() { k8s_ctl GET /_sim/stats; }
k8s_requests() { k8s_stats | jq --arg k "$1" '.requests[$k] // 0'; }

k8s_assert_no_violations() {
  local s; s=$(k8s_stats) || fail "the k8s simulator does not answer"
  jq -e '.violations == 0' <<<"$s" >/dev/null ||
    fail "the k8s simulator counted schema violations: $(jq -c .violationDetails <<<"$s")"
  jq -e '(.forbidden // 0) == 0' <<<"$s" >/dev/null ||
    fail "requests outside deploy/k8s/rbac.yaml were made: $(jq -c .requests <<<"$s")"
  pass "k8s: zero schema violations in $(jq '[.requests[]] | add // 0' <<<"$s") API requests" \
    "($(jq .jobsCreated <<<"$s") jobs created)"
}

# --- the scenario harness hooks ---------------------------------------------

prov_setup() {
  k8s_sim_start
  k8s_kubeconfig "$MN_WORK/kubeconfig" token
}

prov_yaml() {
  printf 'providers:\n  default: k8s\n  k8s:\n    kubeconfig: %s\n    namespace: %s\n' \
    "$MN_WORK/kubeconfig" "$K8S_NS"
  # more keys of the section, e.g. "termination_grace_seconds: 1s"
  [ -z "${K8S_PROVIDER_KEYS:-}" ] || printf '    %s\n' "$K8S_PROVIDER_KEYS"
}

prov_kill_worker() {
  local out
  out=$(k8s_ctl POST /_sim/kill "{\"selector\":\"multinode.dev/invocation=$1\"}") ||
    fail "the k8s simulator did not kill the pod of $1"
  [ "$(jq .killed <<<"$out")" -ge 1 ] || fail "no running pod of invocation $1 to kill: $out"
}

# Nothing of the pod runs: no live process group in the simulator, and the
# processes the command recorded have exited.
prov_worker_gone() {
  local pods cmd_pid worker_pid
  pods=$(k8s_ctl GET "/_sim/pods?selector=multinode.dev/invocation%3D$1") || return 1
  jq -e 'all(.pods[]; .groupAlive == false)' <<<"$pods" >/dev/null || return 1
  if [ -f "$MN_WORK/$1.pids" ]; then
    read -r cmd_pid worker_pid <"$MN_WORK/$1.pids"
    gone "$worker_pid" && gone "$cmd_pid"
  fi
}

# An image reference Kubernetes would refuse (InvalidImageName): the
# provider's prepare rejects it before any Job exists.
prov_bad_function() {
  printf '{"function_name":"%s","docker_image_override":"Not A/valid image",
    "command":["sh","%s"],"resource_spec":{"virtual_cpus":1,"memory_gbs":4,
    "max_concurrency":100},"execution_spec":{"max_retries":%d,"timeout_seconds":60}}' \
    "$1" "$SC_FN" "$2"
}
prov_bad_message() {
  echo "function \"$1\": image \"Not A/valid image\" is not valid: character ' ' is not allowed in an image reference"
}
