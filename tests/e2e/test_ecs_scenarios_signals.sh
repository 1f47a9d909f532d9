#!/usr/bin/env bash
# The acceptance scenarios of tests/e2e/scenarios/signals.sh through the ECS
# provider and its simulator. SC_GRACE gives the task definitions'
# stopTimeout the daemon's termination grace (ECS has no per-call grace).
SC_PROVIDER=ecs
SC_GRACE=1
. "$(dirname "$0")/scenarios/signals.sh"
