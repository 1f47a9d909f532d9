#!/usr/bin/env bash
# A Python project through the Docker provider, as its user deploys it: the
# Python base image built without a registry (scripts/worker-image.sh
# --python: Debian's python3, jsonpickle, this checkout's package and
# multinode-worker), then `multinode deploy` of a folder with a main.py,
# which builds the version's image FROM that base on the daemon's engine
# (GET /providers says the default provider runs containers). The task runs
# in its container with /app holding the snapshot, its .env loaded, and its
# result encoded with jsonpickle; the same content gives the same image tag
# (content-addressed).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_daemon.sh"
. "$(dirname "$0")/lib_docker.sh"

docker_engine_up
"$MN_SOURCE_DIR/scripts/worker-image.sh" --bin-dir "$MN_BIN_DIR" --python \
  >"$MN_WORK/image.log" 2>&1 || fail "scripts/worker-image.sh --python: $(tail -n 20 "$MN_WORK/image.log")"
out=$(docker run --rm --entrypoint python3 multinode-python:local -c \
  'import jsonpickle, multinode, ssl, json; print(multinode.__name__)' 2>"$MN_WORK/run.err") ||
  fail "python3 in the base image: $out $(cat "$MN_WORK/run.err")"
[ "$out" = multinode ] || fail "the base image's python3 printed \"$out\""
pass "base image multinode-python:local: python3 imports multinode and jsonpickle"

daemon_config main "$(docker_yaml)"
daemon_start main
[ "$(api GET /providers | jq -c .)" = '{"default":"docker","providers":[{"name":"docker","type":"docker"}]}' ] ||
  fail "GET /providers: $(api GET /providers)"
export MULTINODE_API_URL=$MN_URL MULTINODE_API_KEY=$MN_KEY HOME=$MN_WORK
export PYTHONPATH=$MN_SOURCE_DIR/python MULTINODE_PYTHON=/usr/bin/python3
mn=$MN_BIN_DIR/multinode

mkdir -p "$MN_WORK/pytask"
cat >"$MN_WORK/pytask/main.py" <<'PY'
import os
from multinode import Multinode

mn = Multinode()

@mn.function(cpu=0.5, memory="128 MiB")
def describe(x, scale=1):
    return {"doubled": 2 * x * scale, "cwd": os.getcwd(), "greeting": os.environ["GREETING"],
            "in_container": os.path.exists("/.dockerenv")}
PY
printf '# loaded at run time\nGREETING=hello from .env\n' >"$MN_WORK/pytask/.env"
v=$("$mn" deploy "$MN_WORK/pytask" --project-name pydock 2>"$MN_WORK/err") ||
  fail "deploy: $(cat "$MN_WORK/err")"
[[ $v == ver-* ]] || fail "deploy printed \"$v\""
grep -q "building image multinode-local:pydock-" "$MN_WORK/err" || fail "no image build: $(cat "$MN_WORK/err")"
img=$(api GET "/projects/pydock/versions/$v" | jq -r .functions[0].docker_image)
[[ $img == multinode-local:pydock-* ]] || fail "the version's image is \"$img\""
dk GET "/images/$img/json" | jq -e '.Config.Entrypoint == ["/usr/local/bin/multinode-worker"]' >/dev/null ||
  fail "image $img: $(dk GET "/images/$img/json" | jq -c .Config)"
pass "deploy built $img FROM multinode-python:local on the private engine"

base=/projects/pydock/versions/$v/functions/describe
input='[{"py/tuple": [21]}, {"scale": 1}]'
id=$(api POST "$base/invocations" "$(jq -cn --arg i "$input" '{input: $i}')" | jq -r .invocation_id)
[[ $id == inv-* ]] || fail "no invocation"
done_ok() { api GET "$base/invocations/$id" | jq -e '.invocation_status == "TERMINATED"' >/dev/null; }
wait_until 120 "the Python task in its container" done_ok
inv=$(api GET "$base/invocations/$id")
jq -e '.executions | length == 1 and .[0].outcome == "SUCCEEDED"' <<<"$inv" >/dev/null ||
  fail "the invocation: $inv"
result=$(jq -r '.executions[0].output' <<<"$inv")
/usr/bin/python3 - "$result" <<'PY' || fail "the result: $result"
import json, sys
r = json.loads(sys.argv[1])
assert r == {"doubled": 42, "cwd": "/app", "greeting": "hello from .env", "in_container": True}, r
PY
pass "the Python task ran in a container: $result"

v2=$("$mn" upgrade "$MN_WORK/pytask" --project-name pydock 2>"$MN_WORK/err") || fail "upgrade: $(cat "$MN_WORK/err")"
img2=$(api GET "/projects/pydock/versions/$v2" | jq -r .functions[0].docker_image)
[ "$img2" = "$img" ] || fail "the same content gave another image: $img2 vs $img"
pass "the same folder content gives the same image ($img2)"
