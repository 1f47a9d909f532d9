#!/usr/bin/env bash
# The scenarios of tests/e2e/scenarios/queue.sh through the local provider.
SC_PROVIDER=local
. "$(dirname "$0")/scenarios/queue.sh"
