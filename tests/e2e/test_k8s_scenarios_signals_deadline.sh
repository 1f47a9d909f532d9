#!/usr/bin/env bash
# The scenarios of tests/e2e/scenarios/signals.sh through the Kubernetes
# provider with its pods' grace equal to the daemon's (1 s), so that
# terminate stops each worker by its pod's active deadline (docs/k8s.md,
# terminate) rather than by deleting it: the outcomes (ABORTED; null when
# the clean-up outlasts the grace) are those of the delete path
# (test_k8s_scenarios_signals.sh, pods' grace 120 s), and every pod that was
# signalled was patched, none deleted. No schema violation.
SC_PROVIDER=k8s
K8S_PROVIDER_KEYS="termination_grace_seconds: 1s"
. "$(dirname "$0")/scenarios/signals.sh"
s=$(k8s_stats)
jq -e '.requests["patch pods"] >= 4 and (.requests["deletecollection pods"] // 0) == 0 and
  (.requests["delete jobs"] // 0) == 0 and .podsDeadlineExceeded >= 4' <<<"$s" >/dev/null ||
  fail "terminate did not go through the active deadline: $(jq -c '{requests, podsPatched, podsDeadlineExceeded}' <<<"$s")"
pass "every signalled pod was stopped by its active deadline: $(jq -c '{patch: .requests["patch pods"], podsDeadlineExceeded}' <<<"$s")"
k8s_assert_no_violations
