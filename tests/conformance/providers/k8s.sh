# The Kubernetes API simulator (tests/sims/k8s, started as
# tests/e2e/providers/k8s.sh does); its pods run the suite's worker.sh.
. "$MN_SOURCE_DIR/tests/e2e/providers/k8s.sh"
K8S_SIM_ENTRYPOINT=$CONFORMANCE_WORKER k8s_sim_start
k8s_kubeconfig "$MN_WORK/kubeconfig" token
export MN_WORK K8S_NS CONFORMANCE_IMAGE=$SC_IMAGE
export CONFORMANCE_FAULT_429="curl -sfk --max-time 10 -X POST -H 'Content-Type: application/json' \
--data-binary '{\"kind\":\"status\",\"code\":429,\"retry_after\":7,\"count\":1}' \
$K8S_URL/_sim/fault >/dev/null"
