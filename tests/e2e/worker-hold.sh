#!/bin/sh
# The worker entrypoint of the scenario tests, for every provider: while the
# file named by $MN_HOLD_FILE exists (at most 60 s) the worker is held back,
# then it becomes multinode-worker. A worker calls /start first thing, so this
# is how a test observes an execution whose worker has not started yet.
# It looks twice a second: each look is an exec of sleep, and a test holds
# up to 100 workers at once.
i=0
while [ -n "${MN_HOLD_FILE:-}" ] && [ -f "$MN_HOLD_FILE" ] && [ $i -lt 120 ]; do
  sleep 0.5
  i=$((i + 1))
done
exec multinode-worker "$@"
