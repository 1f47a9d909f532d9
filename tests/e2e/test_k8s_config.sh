#!/usr/bin/env bash
# Bad providers.k8s configuration stops the daemon with FILE:LINE:COL and the
# key: an unknown key, a namespace that is not a DNS-1123 label, a
# kubeconfig that does not exist, a context it does not hold, a malformed
# node selector; and with no credentials anywhere, the daemon says where it
# looked.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_daemon.sh"
SC_PROVIDER=k8s
. "$(dirname "$0")/lib_scenarios.sh"
k8s_sim_start
k8s_kubeconfig "$MN_WORK/kubeconfig" token
export HOME=$MN_WORK/home
unset KUBECONFIG KUBERNETES_SERVICE_HOST KUBERNETES_SERVICE_PORT

# refused NAME SECTION_LINES EXPECTED_REGEX
refused() {
  local name=$1 out rc
  daemon_config "$name" "providers:
  default: k8s
  k8s:
$2"
  set +e
  out=$(timeout 60 "$MN_BIN_DIR/multinoded" --config "$MN_WORK/$name.yaml" 2>&1); rc=$?
  set -e
  [ $rc != 0 ] && [ $rc != 124 ] || fail "$name: the daemon did not refuse to start (exit $rc)"
  grep -Eq "$3" <<<"$out" || fail "$name: expected /$3/ in: $(tail -n 3 <<<"$out")"
  pass "$name: $(grep -Eo "$3" <<<"$out" | head -1)"
}
f=$MN_WORK
refused unknown "    kubeconfig: $f/kubeconfig
    namespce: x" "unknown.yaml:[0-9]+:[0-9]+: .*namespce"
refused namespace "    kubeconfig: $f/kubeconfig
    namespace: Not_A_Label" "namespace.yaml:[0-9]+:[0-9]+: providers.k8s.namespace: \"Not_A_Label\" is not a valid namespace"
refused nofile "    kubeconfig: $f/missing" "nofile.yaml:[0-9]+:[0-9]+: providers.k8s.kubeconfig: cannot open \"$f/missing\""
refused context "    kubeconfig: $f/kubeconfig
    context: nope" "context.yaml:[0-9]+:[0-9]+: providers.k8s.context: .*no context named \"nope\""
refused selector "    kubeconfig: $f/kubeconfig
    node_selector: [\"no-equals-sign\"]" "selector.yaml:[0-9]+:[0-9]+: providers.k8s.node_selector\[0\]: \"no-equals-sign\" is not KEY=VALUE"
refused nocreds "    namespace: x" "providers.k8s.kubeconfig: no Kubernetes credentials"
# registry (the rule of plugins/support/registry_ref.c, as for docker), by --check-config
for bad in "127.0.0.1:5000" "registry.example.com/multinode:v1" "multinode/functions" "localhost:5000/a@sha256:0"; do
  daemon_config badreg "providers:
  default: k8s
  k8s:
    kubeconfig: $f/kubeconfig
    registry: \"$bad\""
  set +e
  out=$("$MN_BIN_DIR/multinoded" --check-config "$MN_WORK/badreg.yaml" 2>&1); rc=$?
  set -e
  [ $rc != 0 ] || fail "--check-config accepted registry: $bad"
  grep -Eq "badreg.yaml:[0-9]+:[0-9]+: providers.k8s.registry: \"$bad\" is not HOST\[:PORT\]/REPOSITORY" <<<"$out" ||
    fail "--check-config on registry: $bad: $out"
done
daemon_config goodreg "providers:
  default: k8s
  k8s:
    kubeconfig: $f/kubeconfig
    registry: localhost:5000/multinode"
sed -i "s/api_key: $MN_KEY\$/api_key: a-key-of-sixteen-or-more/" "$MN_WORK/goodreg.yaml" # --check-config wants 16+
out=$("$MN_BIN_DIR/multinoded" --check-config "$MN_WORK/goodreg.yaml" 2>&1) ||
  fail "--check-config refused registry: localhost:5000/multinode: $out"
pass "--check-config refuses registry values that are no HOST[:PORT]/REPOSITORY, with FILE:LINE:COL; accepts localhost:5000/multinode"
k8s_assert_no_violations
