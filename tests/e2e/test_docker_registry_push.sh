#!/usr/bin/env bash
# Images on deploy (docs/docker.md "A registry"): the Docker provider names a
# registry (providers.docker.registry), GET /container_repository_credentials
# answers it, and `multinode deploy` of a Python project builds the image on
# one engine and pushes it (Engine API, X-Registry-Auth) to Debian's
# docker-registry on 127.0.0.1 with TLS (a CA made here, trusted through
# /etc/docker/certs.d/HOST:PORT) and basic auth (htpasswd, bcrypt). The
# version records the image by digest, the registry holds that digest, and
# the daemon's provider, on a second, clean engine, pulls it with its own
# login and runs an invocation. A wrong password fails the deploy with the
# registry's message and creates no version. The ECS path: the ECS
# simulator's ECR GetAuthorizationToken answers a login (user AWS) to that
# registry, the deploy pushes with it, and the task definition registered
# for the function names the pushed digest.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_daemon.sh"
. "$(dirname "$0")/lib_docker.sh"
. "$(dirname "$0")/providers/ecs.sh"

for t in docker-registry htpasswd openssl; do
  command -v $t >/dev/null || fail "$t is missing (apt-get install docker-registry apache2-utils openssl)"
done
docker_engine_up # engine A: the deployer's, where the image is built
build_sock=$MN_DOCKER_SOCK
"$MN_SOURCE_DIR/scripts/worker-image.sh" --bin-dir "$MN_BIN_DIR" --python \
  >"$MN_WORK/image.log" 2>&1 || fail "scripts/worker-image.sh --python: $(tail -n 20 "$MN_WORK/image.log")"

# -- the registry: TLS with our own CA, basic auth --------------------------
reg=$MN_WORK/reg
mkdir -p "$reg/data"
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=multinode test CA" \
  -keyout "$reg/ca.key" -out "$reg/ca.crt" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" -keyout "$reg/tls.key" \
  -out "$reg/tls.csr" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1\n' >"$reg/san.ext"
openssl x509 -req -in "$reg/tls.csr" -CA "$reg/ca.crt" -CAkey "$reg/ca.key" -CAcreateserial \
  -days 1 -extfile "$reg/san.ext" -out "$reg/tls.crt" 2>/dev/null
htpasswd -Bbn pusher 'push-secret-1' >"$reg/htpasswd"
htpasswd -Bbn AWS 'ecr-token-1' >>"$reg/htpasswd" # the ECR simulator's login
port=$(free_port)
cat >"$reg/config.yml" <<YAML
version: 0.1
log: {level: warn}
storage: {filesystem: {rootdirectory: $reg/data}}
http:
  addr: 127.0.0.1:$port
  tls: {certificate: $reg/tls.crt, key: $reg/tls.key}
auth:
  htpasswd: {realm: multinode-test, path: $reg/htpasswd}
YAML
docker-registry serve "$reg/config.yml" >"$reg/log" 2>&1 &
reg_pid=$!
on_exit "kill $reg_pid 2>/dev/null || true"
certs=/etc/docker/certs.d/127.0.0.1:$port
mkdir -p "$certs" && cp "$reg/ca.crt" "$certs/ca.crt"
on_exit "rm -rf '$certs'"
reg_up() { curl -s -o /dev/null -w '%{http_code}' --cacert "$reg/ca.crt" "https://127.0.0.1:$port/v2/" | grep -q 401; }
wait_until 20 "the registry answering 401 over TLS" reg_up
repo=127.0.0.1:$port/multinode

# -- engine B, clean: the daemon's provider runs the workers there ----------
run_dir=$(mktemp -d /tmp/mnd.XXXXXX)
on_exit "'$MN_SOURCE_DIR/scripts/docker-engine.sh' teardown '$run_dir'"
run_sock=$("$MN_SOURCE_DIR/scripts/docker-engine.sh" start "$run_dir") || fail "engine B did not start"
run_dk() { curl -s --max-time 30 --unix-socket "$run_sock" -X "$1" "http://engine/v1.41$2"; }
[ "$(run_dk GET /images/json | jq length)" = 0 ] || fail "engine B is not clean"

# a registry value that is no HOST[:PORT]/REPOSITORY is refused, with where
for bad in "127.0.0.1:$port" "127.0.0.1:$port/multinode:v1" "multinode/functions"; do
  MN_DOCKER_SOCK=$run_sock daemon_config bad "$(MN_DOCKER_SOCK=$run_sock docker_yaml "registry: $bad")"
  "$MN_BIN_DIR/multinoded" --check-config "$MN_WORK/bad.yaml" >"$MN_WORK/out" 2>&1 &&
    fail "--check-config accepted registry: $bad"
  grep -q "providers.docker.registry: \"$bad\" is not HOST\[:PORT\]/REPOSITORY" "$MN_WORK/out" ||
    fail "--check-config on registry: $bad: $(cat "$MN_WORK/out")"
done
pass "--check-config refuses registry values that are no HOST[:PORT]/REPOSITORY (at ${SECONDS}s)"

export REG_PULL_PASSWORD=push-secret-1
MN_DOCKER_SOCK=$run_sock daemon_config main "$(MN_DOCKER_SOCK=$run_sock docker_yaml "registry: $repo
registry_username: pusher
registry_password_env: REG_PULL_PASSWORD")"
daemon_start main
creds=$(api GET /container_repository_credentials)
[ "$(jq -c . <<<"$creds")" = "$(jq -cn --arg r "$repo" --arg e "https://127.0.0.1:$port" \
  '{repository_name: $r, username: "", password: "", endpoint_url: $e}')" ] ||
  fail "GET /container_repository_credentials: $creds"
pass "GET /container_repository_credentials names $repo (no login handed out) (at ${SECONDS}s)"

export MULTINODE_API_URL=$MN_URL MULTINODE_API_KEY=$MN_KEY HOME=$MN_WORK DOCKER_HOST=unix://$build_sock
export PYTHONPATH=$MN_SOURCE_DIR/python MULTINODE_PYTHON=/usr/bin/python3
mn=$MN_BIN_DIR/multinode
mkdir -p "$MN_WORK/pytask"
cat >"$MN_WORK/pytask/main.py" <<'PY'
import os
from multinode import Multinode

mn = Multinode()

@mn.function(cpu=0.5, memory="128 MiB")
def triple(x):
    return {"tripled": 3 * x, "in_container": os.path.exists("/.dockerenv")}
PY

# a wrong password: the registry's refusal, and no version
MULTINODE_REGISTRY_USERNAME=pusher MULTINODE_REGISTRY_PASSWORD=wrong \
  "$mn" deploy "$MN_WORK/pytask" --project-name pushed >"$MN_WORK/out" 2>"$MN_WORK/err" &&
  fail "deploy with a wrong password succeeded: $(cat "$MN_WORK/out")"
grep -q "cannot push image $repo:pushed-" "$MN_WORK/err" && grep -qi "unauthorized\|authentication required" "$MN_WORK/err" ||
  fail "deploy with a wrong password: $(tail -n 5 "$MN_WORK/err")"
api GET /projects/pushed >/dev/null; [ "$(cat "$MN_WORK/.status")" = 404 ] ||
  fail "a project was created by the failed deploy"
pass "a wrong registry password fails the deploy before anything is created (at ${SECONDS}s)"

# a Docker config whose login is broken: a clear error, nothing created
mkdir -p "$MN_WORK/.docker"
jq -n --arg h "127.0.0.1:$port" '{auths: {($h): {auth: "bm8="}}}' >"$MN_WORK/.docker/config.json"
"$mn" deploy "$MN_WORK/pytask" --project-name pushed >"$MN_WORK/out" 2>"$MN_WORK/err" &&
  fail "deploy with a broken Docker config succeeded"
grep -q "config.json: the \"auth\" of 127.0.0.1:$port is not base64 of user:password" "$MN_WORK/err" ||
  fail "deploy with a broken Docker config: $(cat "$MN_WORK/err")"
api GET /projects/pushed >/dev/null; [ "$(cat "$MN_WORK/.status")" = 404 ] ||
  fail "a project was created by the failed deploy"

# the login from the Docker config this time
jq -n --arg h "127.0.0.1:$port" --arg a "$(printf pusher:push-secret-1 | base64)" \
  '{auths: {($h): {auth: $a}}}' >"$MN_WORK/.docker/config.json"
t0=$(date +%s%N)
v=$("$mn" deploy "$MN_WORK/pytask" --project-name pushed 2>"$MN_WORK/err") ||
  fail "deploy: $(tail -n 20 "$MN_WORK/err")"
t1=$(date +%s%N)
grep -q "login: the Docker config" "$MN_WORK/err" || fail "not the Docker config's login: $(cat "$MN_WORK/err")"
img=$(api GET "/projects/pushed/versions/$v" | jq -r .functions[0].docker_image)
[[ $img =~ ^$repo@sha256:[0-9a-f]{64}$ ]] || fail "the version's image is \"$img\""
tag=$(sed -n "s|^building image $repo:\(pushed-[0-9a-f]*\) from .*|\1|p" "$MN_WORK/err")
[ -n "$tag" ] || fail "no build line: $(cat "$MN_WORK/err")"
served=$(curl -sI --cacert "$reg/ca.crt" -u pusher:push-secret-1 \
  -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
  "https://127.0.0.1:$port/v2/multinode/manifests/$tag" | tr -d '\r' |
  sed -n 's/^[Dd]ocker-[Cc]ontent-[Dd]igest: //p')
[ "$img" = "$repo@$served" ] || fail "the registry serves $tag as \"$served\", the version runs $img"
pass "deploy pushed $tag in $(( (t1 - t0) / 1000000 )) ms; the version runs $img, the digest the registry serves (at ${SECONDS}s)"

base=/projects/pushed/versions/$v/functions/triple
id=$(api POST "$base/invocations" '{"input": "[[14], {}]"}' | jq -r .invocation_id)
[[ $id == inv-* ]] || fail "no invocation"
done_ok() { api GET "$base/invocations/$id" | jq -e '.invocation_status == "TERMINATED"' >/dev/null; }
wait_until 120 "the invocation on engine B" done_ok
out=$(api GET "$base/invocations/$id" | jq -r '.executions[0].output')
[ "$(jq -c . <<<"$out")" = '{"tripled": 42, "in_container": true}' ] ||
  [ "$(jq -c . <<<"$out")" = '{"tripled":42,"in_container":true}' ] ||
  fail "output \"$out\"; $(api GET "$base/invocations/$id" | jq -c .executions)"
run_dk GET "/images/$img/json" | jq -e --arg d "$repo@${img#*@}" '.RepoDigests | index($d) != null' >/dev/null ||
  fail "engine B has no image $img"
pass "the daemon's engine pulled $img with its own login and ran the invocation: $out (at ${SECONDS}s)"

# a multinode.yaml folder with its own Dockerfile: built from the folder (a
# reproducible tar: an upgrade of the same content gives the same tag),
# pushed, run by digest on engine B
mkdir -p "$MN_WORK/own"
printf 'FROM multinode-python:local\nCOPY task.sh /opt/task.sh\n' >"$MN_WORK/own/Dockerfile"
printf 'echo "own image says: $(cat)"\n' >"$MN_WORK/own/task.sh"
printf 'functions:\n  shout:\n    command: ["sh", "/opt/task.sh"]\n' >"$MN_WORK/own/multinode.yaml"
v=$("$mn" deploy "$MN_WORK/own" --project-name own 2>"$MN_WORK/err") ||
  fail "deploy of a Dockerfile folder: $(tail -n 20 "$MN_WORK/err")"
tag=$(sed -n "s|^building image $repo:\(own-[0-9a-f]\{24\}\) from $MN_WORK/own/Dockerfile$|\1|p" "$MN_WORK/err")
[ -n "$tag" ] || fail "no build of the Dockerfile: $(cat "$MN_WORK/err")"
img=$(api GET "/projects/own/versions/$v" | jq -r .functions[0].docker_image)
[[ $img =~ ^$repo@sha256:[0-9a-f]{64}$ ]] || fail "the Dockerfile version's image is \"$img\""
mkdir -p "$MN_WORK/broken" # a Dockerfile that does not build: the engine's message, nothing created
printf 'FROM multinode-python:local\nCOPY missing.txt /opt/\n' >"$MN_WORK/broken/Dockerfile"
cp "$MN_WORK/own/multinode.yaml" "$MN_WORK/broken/"
"$mn" deploy "$MN_WORK/broken" --project-name broken >/dev/null 2>"$MN_WORK/err2" && fail "a broken Dockerfile deployed"
grep -q "cannot build the image of $MN_WORK/broken: .*missing.txt" "$MN_WORK/err2" || fail "broken Dockerfile: $(cat "$MN_WORK/err2")"
api GET /projects/broken >/dev/null; [ "$(cat "$MN_WORK/.status")" = 404 ] || fail "a broken Dockerfile created its project"
touch "$MN_WORK/own/task.sh" # a new mtime, the same content
"$mn" upgrade "$MN_WORK/own" --project-name own >/dev/null 2>"$MN_WORK/err2" || fail "upgrade: $(cat "$MN_WORK/err2")"
grep -q "^building image $repo:$tag from" "$MN_WORK/err2" || fail "the same content, another tag: $(cat "$MN_WORK/err2")"
base=/projects/own/versions/$v/functions/shout
id=$(api POST "$base/invocations" '{"input": "hi"}' | jq -r .invocation_id)
wait_until 120 "the invocation of the Dockerfile image" done_ok
out=$(api GET "$base/invocations/$id" | jq -r '.executions[0].output')
[ "$out" = "own image says: hi" ] || fail "output \"$out\": $(api GET "$base/invocations/$id" | jq -c .executions)"
pass "a folder's own Dockerfile: built as $repo:$tag (same tag again for the same content), run by digest: $out (at ${SECONDS}s)"

# -- the ECS path: the login comes from ECR GetAuthorizationToken ------------
rm -f "$MN_WORK/.docker/config.json"
daemon_kill main # the ecs daemon takes over the same database (and its scheduler lock)
ecs_sim_start --ecr-registry "127.0.0.1:$port" --ecr-password ecr-token-1
daemon_config ecs "$(ecs_yaml "    repository: $repo-ecs")"
daemon_start ecs
export MULTINODE_API_URL=$MN_URL
v=$("$mn" deploy "$MN_WORK/pytask" --project-name onecs 2>"$MN_WORK/err") ||
  fail "deploy on ecs: $(tail -n 20 "$MN_WORK/err")"
grep -q "login: the daemon's login" "$MN_WORK/err" || fail "not the daemon's login: $(cat "$MN_WORK/err")"
[ "$(sim_get /_sim/counters | jq '.calls.GetAuthorizationToken')" = 1 ] ||
  fail "GetAuthorizationToken calls: $(sim_get /_sim/counters | jq -c .calls)"
img=$(api GET "/projects/onecs/versions/$v" | jq -r .functions[0].docker_image)
[[ $img =~ ^$repo-ecs@sha256:[0-9a-f]{64}$ ]] || fail "the version's image is \"$img\""
api POST "/projects/onecs/versions/$v/functions/triple/invocations" '{"input": "[[1], {}]"}' >/dev/null
aws() { /usr/bin/python3 "$MN_SOURCE_DIR/tests/sims/ecs/aws_call.py" "$ECS_SIM_URL/" ecs "$@"; }
registered() { [ "$(aws ListTaskDefinitions '{}' | jq '.taskDefinitionArns | length')" -ge 1 ]; }
wait_until 30 "the function's task definition" registered
arn=$(aws ListTaskDefinitions '{}' | jq -r '.taskDefinitionArns[0]')
named=$(aws DescribeTaskDefinition "$(jq -cn --arg a "$arn" '{taskDefinition: $a}')" |
  jq -r '.taskDefinition.containerDefinitions[0].image')
[ "$named" = "$img" ] || fail "the task definition names \"$named\", the version $img"
curl -sf -o /dev/null --cacert "$reg/ca.crt" -u AWS:ecr-token-1 \
  -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
  "https://127.0.0.1:$port/v2/multinode-ecs/manifests/${img#*@}" ||
  fail "the registry does not serve ${img#*@} in multinode-ecs"
pass "ecs: pushed with the login of ECR GetAuthorizationToken; the task definition names $img (at ${SECONDS}s)"

# -- the Kubernetes path: providers.k8s.registry names the repository, the
# deploy pushes with the deployer's login, the Job names the pushed digest
# and pulls it with the cluster's Secret (image_pull_secrets) -------------
daemon_kill ecs
. "$(dirname "$0")/providers/k8s.sh"
k8s_sim_start
k8s_kubeconfig "$MN_WORK/kubeconfig" token
daemon_config k8s "providers:
  default: k8s
  k8s:
    kubeconfig: $MN_WORK/kubeconfig
    namespace: $K8S_NS
    registry: $repo-k8s
    image_pull_secrets: [regcred]"
daemon_start k8s
creds=$(api GET /container_repository_credentials)
[ "$(jq -c . <<<"$creds")" = "$(jq -cn --arg r "$repo-k8s" --arg e "https://127.0.0.1:$port" \
  '{repository_name: $r, username: "", password: "", endpoint_url: $e}')" ] ||
  fail "k8s: GET /container_repository_credentials: $creds"
export MULTINODE_API_URL=$MN_URL
v=$(MULTINODE_REGISTRY_USERNAME=pusher MULTINODE_REGISTRY_PASSWORD=push-secret-1 \
  "$mn" deploy "$MN_WORK/pytask" --project-name onk8s 2>"$MN_WORK/err") ||
  fail "deploy on k8s: $(tail -n 20 "$MN_WORK/err")"
img=$(api GET "/projects/onk8s/versions/$v" | jq -r .functions[0].docker_image)
[[ $img =~ ^$repo-k8s@sha256:[0-9a-f]{64}$ ]] || fail "k8s: the version's image is \"$img\""
curl -sf -o /dev/null --cacert "$reg/ca.crt" -u pusher:push-secret-1 \
  -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
  "https://127.0.0.1:$port/v2/multinode-k8s/manifests/${img#*@}" ||
  fail "the registry does not serve ${img#*@} in multinode-k8s"
api POST "/projects/onk8s/versions/$v/functions/triple/invocations" '{"input": "[[1], {}]"}' >/dev/null
k8s_job() { k8s_ctl GET /_sim/objects | jq -c '[.jobs[].obj | select(.metadata.labels["multinode.dev/project"] == "onk8s")][0] // empty'; }
has_job() { [ -n "$(k8s_job)" ]; }
wait_until 30 "the function's Job" has_job
job=$(k8s_job)
jq -e --arg i "$img" '.spec.template.spec | .containers[0].image == $i and .imagePullSecrets == [{name: "regcred"}]' \
  <<<"$job" >/dev/null || fail "the Job does not pull $img with regcred: $(jq -c .spec.template.spec <<<"$job")"
k8s_assert_no_violations
pass "k8s: GET /container_repository_credentials names $repo-k8s; the Job names the pushed $img, pulled with regcred (at ${SECONDS}s)"
