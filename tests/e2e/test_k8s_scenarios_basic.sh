#!/usr/bin/env bash
# The scenarios of tests/e2e/scenarios/basic.sh through the Kubernetes provider
# and the API simulator of tests/sims/k8s; the simulator must count no schema
# violation.
SC_PROVIDER=k8s
. "$(dirname "$0")/scenarios/basic.sh"
k8s_assert_no_violations
