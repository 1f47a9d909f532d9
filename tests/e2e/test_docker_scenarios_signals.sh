#!/usr/bin/env bash
# The scenarios of tests/e2e/scenarios/signals.sh through the Docker provider.
SC_PROVIDER=docker
. "$(dirname "$0")/scenarios/signals.sh"
