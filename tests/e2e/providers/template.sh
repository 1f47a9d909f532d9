# The template provider (plugins/template) against its simulator of a
# made-up compute API (tests/sims/template/compute_sim.py), which runs every
# worker as a local process: $TEMPLATE_SIM_ENTRYPOINT (default
# tests/e2e/worker-hold.sh, which becomes multinode-worker) + the command,
# with $MN_BIN_DIR on PATH. Source after lib.sh and lib_daemon.sh.
#
#   template_sim_start [FLAGS...]  starts the simulator (once; prov_setup
#                                  calls it) and sets TEMPLATE_SIM_URL;
#                                  FLAGS: --token-file F, --max-workers N,
#                                  --pending-ms MS
#   template_yaml [EXTRA]          the providers: section (EXTRA: more lines
#                                  of providers.template, indented by 4)
#   tsim_get PATH / tsim_post PATH JSON   the simulator, e.g. /_sim/counters
#   template_fault MATCH STATUS [RETRY_AFTER] [COUNT]
#                                  the next COUNT (1) calls whose
#                                  "METHOD /path" starts with MATCH answer
#                                  STATUS, e.g. template_fault "GET /v1/workers" 429 7
SC_IMAGE=registry.compute.test/multinode-e2e:1
TEMPLATE_SIM_URL=
TEMPLATE_SIM_PID=

template_sim_start() {
  [ -z "$TEMPLATE_SIM_PID" ] || return 0
  /usr/bin/python3 "$MN_SOURCE_DIR/tests/sims/template/compute_sim.py" \
    --port-file "$MN_WORK/template-sim.port" --path-prepend "$MN_BIN_DIR" \
    --entrypoint "${TEMPLATE_SIM_ENTRYPOINT:-$MN_SOURCE_DIR/tests/e2e/worker-hold.sh}" "$@" \
    >>"$MN_WORK/template-sim.log" 2>&1 &
  TEMPLATE_SIM_PID=$!
  on_exit "kill $TEMPLATE_SIM_PID 2>/dev/null; wait $TEMPLATE_SIM_PID 2>/dev/null"
  wait_until 120 "the compute simulator to listen" test -s "$MN_WORK/template-sim.port"
  TEMPLATE_SIM_URL=http://127.0.0.1:$(cat "$MN_WORK/template-sim.port")
  wait_until 120 "the compute simulator to answer" curl -sf "$TEMPLATE_SIM_URL/_sim/counters"
}

template_yaml() {
  printf 'providers:\n  default: template\n  template:\n    endpoint: %s\n' "$TEMPLATE_SIM_URL"
  [ -z "${1:-}" ] || printf '%s\n' "$1"
}

tsim_get() { curl -sf --max-time 10 "$TEMPLATE_SIM_URL$1"; }
tsim_post() { curl -sf --max-time 10 -X POST --data-binary "$2" "$TEMPLATE_SIM_URL$1"; }

template_fault() {
  tsim_post /_sim/faults "$(jq -nc --arg m "$1" --argjson s "$2" --arg r "${3:-}" \
    --argjson n "${4:-1}" '{match: $m, status: $s, count: $n} +
      (if $r == "" then {} else {retry_after: $r} end)')" >/dev/null
}

prov_setup() { template_sim_start; }
prov_yaml() { template_yaml; }
