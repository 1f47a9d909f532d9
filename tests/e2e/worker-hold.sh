#!/bin/sh
# The worker entrypoint of the scenario tests, for every provider: while the
# file named by $MN_HOLD_FILE exists (at most 300 s) the worker is held back,
# then it becomes multinode-worker. A worker calls /start first thing, so this
# is how a test observes an execution whose worker has not started yet.
# It looks once a second: each look is an exec of sleep (3 ms of CPU on a
# slow machine), and a test holds up to 100 workers at once, which on such a
# machine take minutes to launch: the cap outlasts that.
i=0
while [ -n "${MN_HOLD_FILE:-}" ] && [ -f "$MN_HOLD_FILE" ] && [ $i -lt 300 ]; do
  sleep 1
  i=$((i + 1))
done
exec multinode-worker "$@"
