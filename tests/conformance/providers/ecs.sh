# The ECS simulator (tests/sims/ecs, started as tests/e2e/providers/ecs.sh
# does); its tasks run the suite's worker.sh as their entrypoint.
. "$MN_SOURCE_DIR/tests/e2e/providers/ecs.sh"
ECS_SIM_ENTRYPOINT=$CONFORMANCE_WORKER ecs_sim_start
export ECS_SIM_URL CONFORMANCE_IMAGE=$SC_IMAGE
export CONFORMANCE_FAULT_429="curl -sf --max-time 10 -X POST --data-binary \
'{\"status\": {\"DescribeTasks\": [429, 7, 1]}}' $ECS_SIM_URL/_sim/faults >/dev/null"
