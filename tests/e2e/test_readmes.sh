#!/usr/bin/env bash
# README.md and every example README followed word for word (issue 19):
# their ```sh blocks (tests/e2e/readme_blocks.py) run in order, one bash
# session per README, from a copy of the repository's root (config/,
# examples/, and build/ the build tree) so nothing lands in the checkout.
# Two substitutions only: port 5000 becomes a free port, and for the
# config/docker.yaml run the docker socket is a private engine's and
# config/local.yaml in the commands becomes config/docker.yaml. A block the
# README marks <!-- readme-test: skip: REASON --> is skipped and listed.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_daemon.sh"
. "$(dirname "$0")/lib_docker.sh"
: "${MN_SOURCE_DIR:?}" "${MN_BUILD_DIR:?}"
export HOME=$MN_WORK/home; mkdir -p "$HOME"
unset MULTINODE_API_URL MULTINODE_API_KEY MULTINODE_PROJECT_NAME MULTINODE_VERSION_ID \
  MULTINODE_FUNCTION_NAME MULTINODE_INVOCATION_ID MULTINODE_EXECUTION_ID

# sandbox NAME: a copy of the repository's root for one config (its data_dir
# config/.multinode, and so its Postgres, shared by the READMEs run there)
sandbox() {
  local root=$MN_WORK/$1
  mkdir -p "$root"
  cp -r "$MN_SOURCE_DIR/config" "$MN_SOURCE_DIR/examples" "$root/"
  ln -s "$MN_BUILD_DIR" "$root/build"
  port=$(free_port)
  sed -i "s/127.0.0.1:5000/127.0.0.1:$port/" "$root"/config/*.yaml
  [ -z "${MN_DOCKER_SOCK:-}" ] || sed -i "s|/var/run/docker.sock|$MN_DOCKER_SOCK|" "$root/config/docker.yaml"
  on_exit "p=\$(head -n1 '$root/config/.multinode/postgres/data/postmaster.pid' 2>/dev/null) && kill -9 \$p"
}

# readme_run SANDBOX FILE CONFIG: the blocks of FILE in one session, the
# daemon a block starts in the background stopped at the end (SIGTERM)
readme_run() {
  local root=$MN_WORK/$1 file=$2 config=$3 script name
  name=$(basename "$(dirname "$file")")
  script=$root/$name.sh
  { echo "set -euo pipefail; cd '$root'"
    echo "stop_jobs() { local j; for j in \$(jobs -p); do kill \$j; done; wait; }"
    echo "trap stop_jobs EXIT"
    python3 "$MN_SOURCE_DIR/tests/e2e/readme_blocks.py" "$file" |
      sed "s/127.0.0.1:5000/127.0.0.1:$port/g; s|config/local.yaml|$config|g" |
      while IFS= read -r line; do
        case $line in
          "#SKIP "*) echo "echo 'skipped a block of ${file#"$MN_SOURCE_DIR"/}: ${line#\#SKIP }'" ;;
          "#END") echo "echo; echo '--- block done'" ;;
          *) printf '%s\n' "$line" ;;
        esac
      done
  } >"$script"
  local t0=$(date +%s%N) out=$root/$name.out
  timeout 300 bash "$script" >"$out" 2>"$root/$name.err" || {
    tail -n 30 "$out" "$root/$name.err"; fail "${file#"$MN_SOURCE_DIR"/} on $config failed"; }
  grep "^skipped" "$out" || true
  pass "${file#"$MN_SOURCE_DIR"/} on $config: $(grep -c '^--- block done' "$out") blocks ran in $(( ($(date +%s%N) - t0) / 1000000 )) ms"
}

sandbox local
readme_run local "$MN_SOURCE_DIR/README.md" config/local.yaml
grep -qx "9592" "$MN_WORK/local/$(basename "$MN_SOURCE_DIR").out" ||
  fail "README.md's by-hand run did not print 9592"
for ex in "$MN_SOURCE_DIR"/examples/*/README.md; do
  readme_run local "$ex" config/local.yaml
done
grep -q "status: SUCCEEDED" "$MN_WORK/local/expensive_task.out" || fail "expensive-task-app: $(cat "$MN_WORK/local/expensive_task.out")"
grep -q "^3\.1" "$MN_WORK/local/montecarlo.out" || fail "montecarlo: no estimate: $(cat "$MN_WORK/local/montecarlo.out")"

# the examples on config/docker.yaml, as shipped (a private engine)
docker_engine_up
sandbox docker
for n in expensive_task montecarlo; do
  readme_run docker "$MN_SOURCE_DIR/examples/$n/README.md" config/docker.yaml
done
grep -q "^3\.1" "$MN_WORK/docker/montecarlo.out" || fail "montecarlo on docker.yaml: no estimate"
