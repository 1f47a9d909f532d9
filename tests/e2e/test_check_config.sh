#!/usr/bin/env bash
# multinoded --check-config accepts the example configs and rejects a bad
# file with file:line:col: key: problem.
. "$(dirname "$0")/lib.sh"
work=$(new_workdir); trap 'rm -rf "$work"' EXIT

for f in "$MN_SOURCE_DIR"/config/*.yaml; do
  [ -e "$f" ] || continue
  ! grep -q '^apiVersion:' "$f" || continue # a Kubernetes manifest (k8s-rbac.yaml)
  MULTINODE_API_KEY=x MULTINODE_POSTGRES_DSN="host=/tmp" "$MN_BIN_DIR/multinoded" --check-config "$f" >/dev/null || fail "$f rejected"
  pass "$(basename "$f") accepted"
done

cat >"$work/bad.yaml" <<YAML
server:
  listen: 127.0.0.1:5000
  api_key: k
  colour: blue
scheduler:
  termination_grace_seconds: soon
YAML
set +e
out=$("$MN_BIN_DIR/multinoded" --check-config "$work/bad.yaml" 2>&1); rc=$?
set -e
[ $rc = 1 ] || fail "bad config: exit $rc, want 1"
grep -q "bad.yaml:4:3: server.colour: " <<<"$out" || fail "unknown key not reported: $out"
grep -q "bad.yaml:6:30: scheduler.termination_grace_seconds: " <<<"$out" || fail "bad duration not reported: $out"
pass "bad config reports every error with file:line:col"

# provider sections are checked by their plugins (check_config): every
# section's problem, with file:line:col and key; nothing is created
cat >"$work/bad-providers.yaml" <<YAML
server:
  listen: 127.0.0.1:5000
  api_key: k
data_dir: $work/never-created
providers:
  default: docker
  docker:
    sokcet: /var/run/docker.sock
  local:
    spawner: maybe
  ecs:
    cluster: c
    subnets: [subnet-1]
    execution_role_arn: arn:aws:iam::123456789012:role/x
    launch_rate: fast
YAML
set +e
out=$("$MN_BIN_DIR/multinoded" --check-config "$work/bad-providers.yaml" 2>&1); rc=$?
set -e
[ $rc = 1 ] || fail "bad provider sections: exit $rc, want 1: $out"
grep -q "bad-providers.yaml:8:5: providers.docker.sokcet: unknown key" <<<"$out" ||
  fail "unknown docker key not reported: $out"
grep -q "bad-providers.yaml:10:14: providers.local.spawner: " <<<"$out" ||
  fail "bad local boolean not reported: $out"
grep -q "bad-providers.yaml:15:18: providers.ecs.launch_rate: " <<<"$out" ||
  fail "bad ecs rate not reported: $out"
[ ! -e "$work/never-created" ] || fail "--check-config created data_dir"
pass "provider sections checked by their plugins: every problem with file:line:col"
