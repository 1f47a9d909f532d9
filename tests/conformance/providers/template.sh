# The template provider against its simulator of a made-up compute API
# (tests/sims/template/compute_sim.py, started as
# tests/e2e/providers/template.sh does); its workers run the suite's
# worker.sh.
. "$MN_SOURCE_DIR/tests/e2e/providers/template.sh"
TEMPLATE_SIM_ENTRYPOINT=$CONFORMANCE_WORKER template_sim_start
export TEMPLATE_SIM_URL CONFORMANCE_IMAGE=$SC_IMAGE
tpl_fault() { # the next status read answers HTTP $1 (/_sim/faults)
  echo "curl -sf --max-time 10 -X POST --data-binary '{\"match\": \"GET /v1/workers\", \
\"status\": $1, \"count\": 1${2:-}}' $TEMPLATE_SIM_URL/_sim/faults >/dev/null"
}
CONFORMANCE_FAULT_429=$(tpl_fault 429 ', "retry_after": "7"')
CONFORMANCE_FAULT_5XX=$(tpl_fault 503)
CONFORMANCE_FAULT_AUTH=$(tpl_fault 401)
export CONFORMANCE_FAULT_429 CONFORMANCE_FAULT_5XX CONFORMANCE_FAULT_AUTH
export CONFORMANCE_DOWN='s#^endpoint: .*#endpoint: http://127.0.0.1:9#'
