#!/usr/bin/env bash
# The scenarios of tests/e2e/scenarios/signals.sh through the local provider.
SC_PROVIDER=local
. "$(dirname "$0")/scenarios/signals.sh"
