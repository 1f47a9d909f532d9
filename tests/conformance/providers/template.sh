# The template provider. HTTP-backed (issue 17 item 6) it runs against its
# simulator, tests/sims/template/compute_sim.py, whose workers run the
# suite's worker.sh; the in-memory template before it forgets its workers
# at shutdown, runs no command and refuses no function.
if [ -f "$MN_SOURCE_DIR/tests/sims/template/compute_sim.py" ]; then
  . "$MN_SOURCE_DIR/tests/e2e/providers/template.sh"
  TEMPLATE_SIM_ENTRYPOINT=$CONFORMANCE_WORKER template_sim_start
  export CONFORMANCE_IMAGE=$SC_IMAGE TEMPLATE_SECTION="endpoint: $TEMPLATE_SIM_URL"
  tpl_fault() { # the next status read answers HTTP $1 (/_sim/faults)
    echo "curl -sf --max-time 10 -X POST --data-binary '{\"match\": \"GET /v1/workers\", \
\"status\": $1, \"count\": 1${2:-}}' $TEMPLATE_SIM_URL/_sim/faults >/dev/null"
  }
  CONFORMANCE_FAULT_429=$(tpl_fault 429 ', "retry_after": "7"')
  CONFORMANCE_FAULT_5XX=$(tpl_fault 503)
  CONFORMANCE_FAULT_AUTH=$(tpl_fault 401)
  export CONFORMANCE_FAULT_429 CONFORMANCE_FAULT_5XX CONFORMANCE_FAULT_AUTH
  export CONFORMANCE_DOWN='s#^endpoint: .*#endpoint: http://127.0.0.1:9#'
else
  export TEMPLATE_SECTION=$'exit_code: 0\nlog_lines: 5'
  export CONFORMANCE_NO_RESTART=1 CONFORMANCE_ACCEPTS_ANY_FUNCTION=1 CONFORMANCE_FAKE_WORKERS=1
fi
