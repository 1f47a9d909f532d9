# The ECS simulator (tests/sims/ecs, started as tests/e2e/providers/ecs.sh
# does); its tasks run the suite's worker.sh as their entrypoint.
. "$MN_SOURCE_DIR/tests/e2e/providers/ecs.sh"
ECS_SIM_ENTRYPOINT=$CONFORMANCE_WORKER ecs_sim_start
export ECS_SIM_URL CONFORMANCE_IMAGE=$SC_IMAGE
ecs_fault() { # the next DescribeTasks fails as JSON $1 says (/_sim/faults)
  echo "curl -sf --max-time 10 -X POST --data-binary '$1' $ECS_SIM_URL/_sim/faults >/dev/null"
}
CONFORMANCE_FAULT_429=$(ecs_fault '{"status": {"DescribeTasks": [429, 7, 1]}}')
CONFORMANCE_FAULT_5XX=$(ecs_fault '{"server_error": {"DescribeTasks": 1}}')
CONFORMANCE_FAULT_AUTH=$(ecs_fault '{"deny": {"DescribeTasks": 1}}')
export CONFORMANCE_FAULT_429 CONFORMANCE_FAULT_5XX CONFORMANCE_FAULT_AUTH
export CONFORMANCE_DOWN='s#http://127.0.0.1:[0-9]*/#http://127.0.0.1:9/#'
