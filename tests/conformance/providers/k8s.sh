# The Kubernetes API simulator (tests/sims/k8s, started as
# tests/e2e/providers/k8s.sh does); its pods run the suite's worker.sh.
. "$MN_SOURCE_DIR/tests/e2e/providers/k8s.sh"
K8S_SIM_ENTRYPOINT=$CONFORMANCE_WORKER k8s_sim_start
k8s_kubeconfig "$MN_WORK/kubeconfig" token
export MN_WORK K8S_NS CONFORMANCE_IMAGE=$SC_IMAGE
k8s_fault() { # the next API call answers as JSON $1 says (/_sim/fault)
  echo "curl -sfk --max-time 10 -X POST -H 'Content-Type: application/json' --data-binary '$1' \
$K8S_URL/_sim/fault >/dev/null"
}
CONFORMANCE_FAULT_429=$(k8s_fault '{"kind": "status", "code": 429, "retry_after": 7}')
CONFORMANCE_FAULT_5XX=$(k8s_fault '{"kind": "status", "code": 503}')
CONFORMANCE_FAULT_AUTH=$(k8s_fault '{"kind": "status", "code": 401}')
export CONFORMANCE_FAULT_429 CONFORMANCE_FAULT_5XX CONFORMANCE_FAULT_AUTH
sed 's#server: https://127.0.0.1:[0-9]*$#server: https://127.0.0.1:9#' "$MN_WORK/kubeconfig" \
  >"$MN_WORK/kubeconfig-down"
export CONFORMANCE_DOWN='s#kubeconfig$#kubeconfig-down#'
