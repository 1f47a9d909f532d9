#!/usr/bin/env bash
# The scenarios of tests/e2e/scenarios/basic.sh through the Docker provider.
SC_PROVIDER=docker
. "$(dirname "$0")/scenarios/basic.sh"
