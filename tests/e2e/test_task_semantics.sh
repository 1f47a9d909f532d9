#!/usr/bin/env bash
# Task semantics on the queue model (docs/compatibility.md, "Task semantics"):
# retry backoff, attempt / heartbeat / queue timeouts, concurrency keys,
# idempotency keys, delayed start and priority, through the REST API with the
# local provider. Every timing is read from the times the server recorded;
# the rules run side by side against one daemon (tests/e2e/task_semantics.py).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_daemon.sh"
. "$(dirname "$0")/lib_lifecycle.sh"

daemon_config d "$LC_SCHED_YAML"
daemon_start d
"${MULTINODE_PYTHON:-/usr/bin/python3}" "$(dirname "$0")/task_semantics.py" "$MN_URL" "$MN_KEY" \
  "$MN_WORK" || fail "task semantics (daemon log: $(tail -n 30 "$MN_WORK/d.log"))"
