#!/usr/bin/env bash
# multinoded --check-config accepts the example configs and rejects a bad
# file with file:line:col: key: problem.
. "$(dirname "$0")/lib.sh"
work=$(new_workdir); trap 'rm -rf "$work"' EXIT

for f in "$MN_SOURCE_DIR"/config/*.yaml; do
  [ -e "$f" ] || continue
  ! grep -q '^apiVersion:' "$f" || continue # a Kubernetes manifest
  MULTINODE_API_KEY=a-key-of-sixteen-or-more MULTINODE_POSTGRES_DSN="host=/tmp" "$MN_BIN_DIR/multinoded" --check-config "$f" >/dev/null || fail "$f rejected"
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

# a section with many bad keys: the daemon checks it against the provider's
# key table (provider.h, "Declarative configuration") and reports every
# problem in one run, each at its own position, in file order
cat >"$work/many.yaml" <<YAML
server:
  listen: 127.0.0.1:5000
  api_key: k
providers:
  default: docker
  docker:
    sokcet: /var/run/docker.sock
    pull: maybe
    retention: soon
    max_log_bytes: 12 parsecs
    binds: [/a:/b, "relative:/c"]
    network: ""
  k8s:
    request_timeout: 2h
  ecs:
    launch_type: EC2
YAML
set +e
out=$("$MN_BIN_DIR/multinoded" --check-config "$work/many.yaml" 2>&1); rc=$?
set -e
[ $rc = 1 ] || fail "many bad keys: exit $rc, want 1: $out"
want="many.yaml:7:5: providers.docker.sokcet: unknown key (did you mean socket?)
many.yaml:8:11: providers.docker.pull: expected true or false
many.yaml:9:16: providers.docker.retention: expected a duration such as 90s, 5m or 1h
many.yaml:10:20: providers.docker.max_log_bytes: expected a size such as 67108864, 512KiB, 64MiB or 1GiB
many.yaml:11:20: providers.docker.binds[1]: \"relative:/c\" is not /HOST/PATH:/CONTAINER/PATH[:ro|:rw]
many.yaml:12:14: providers.docker.network: must not be empty
many.yaml:14:22: providers.k8s.request_timeout: must be between 1s and 1h
many.yaml:16:5: providers.ecs.cluster: missing
many.yaml:16:5: providers.ecs.subnets: missing
many.yaml:16:5: providers.ecs.execution_role_arn: missing
many.yaml:16:18: providers.ecs.launch_type: \"EC2\" is not one of: FARGATE"
got=$(grep -o 'many.yaml:[0-9].*' <<<"$out")
[ "$got" = "$want" ] || fail "many bad keys: $(diff <(echo "$want") <(echo "$got"))"
pass "11 bad provider keys in 3 sections: all reported at once, in file order"

# keys: --check-config refuses a key shorter than 16 characters; warns when
# a readable file holds one in plain text; server.api_keys entries are
# checked one by one (sha256 digits, role, key_env set and long enough)
cat >"$work/short.yaml" <<YAML
server:
  api_key: short-key
YAML
chmod 600 "$work/short.yaml"
set +e
out=$("$MN_BIN_DIR/multinoded" --check-config "$work/short.yaml" 2>&1); rc=$?
set -e
[ $rc = 1 ] && grep -q "server.api_key: the key has 9 characters; at least 16 are needed" <<<"$out" ||
  fail "a 9-character key: exit $rc: $out"
cat >"$work/plain.yaml" <<YAML
server:
  api_key: a-plain-text-key-of-length-32xx
YAML
chmod 644 "$work/plain.yaml"
out=$("$MN_BIN_DIR/multinoded" --check-config "$work/plain.yaml" 2>&1) || fail "a long key refused: $out"
grep -q "holds an API key in plain text and others can read it (mode 644)" <<<"$out" ||
  fail "no warning for a readable plain-text key: $out"
chmod 600 "$work/plain.yaml"
out=$("$MN_BIN_DIR/multinoded" --check-config "$work/plain.yaml" 2>&1) || fail "mode 600: $out"
! grep -q "plain text" <<<"$out" || fail "a warning for a private file: $out"
pass "keys: 9 characters refused, a readable plain-text key warned about, mode 600 quiet"
cat >"$work/keys.yaml" <<YAML
server:
  api_key_env: ADMIN_KEY
  api_keys:
    - name: ci
      sha256: 0123
      role: invoker
    - name: ops
      key_env: UNSET_VARIABLE_HERE
      role: boss
    - name: short
      key_env: SHORT_KEY
      role: reader
      projects: shop
    - name: both
      sha256: $(printf %064d 0)
      key_env: ADMIN_KEY
      role: reader
YAML
set +e
out=$(ADMIN_KEY=admin-key-0123456789 SHORT_KEY=tiny "$MN_BIN_DIR/multinoded" --check-config "$work/keys.yaml" 2>&1); rc=$?
set -e
[ $rc = 1 ] || fail "bad api_keys: exit $rc: $out"
for want in "keys.yaml:5:15: server.api_keys" "expected 64 hexadecimal digits" \
  "environment variable UNSET_VARIABLE_HERE is not set" "expected admin, invoker or reader" \
  "the key in SHORT_KEY has 4 characters; at least 16 are needed" \
  "expected a list of project names" "set either sha256"; do
  grep -qF -- "$want" <<<"$out" || fail "api_keys: \"$want\" not reported: $out"
done
pass "server.api_keys: every problem of every entry, with file:line:col"

# Settings from the environment (docs/deploy.md): `<key>_env: VAR` for every
# key with a value, the daemon's and the providers'. The values are used
# (a bad one is reported at the _env line); an unset variable, a key given
# both ways and a non-name are errors at file:line:col.
cat >"$work/env.yaml" <<YAML
server:
  listen_env: T_LISTEN
  api_key_env: T_KEY
  threads_env: T_THREADS
log_level_env: T_LEVEL
providers:
  default: docker
  docker:
    socket_env: T_SOCK
    pull_env: T_PULL
YAML
env_check() { env "$@" "$MN_BIN_DIR/multinoded" --check-config "$work/env.yaml" 2>&1; }
out=$(env_check T_LISTEN=127.0.0.1:5000 T_KEY=a-key-of-sixteen-or-more T_THREADS=3 T_LEVEL=debug \
  T_SOCK=/var/run/docker.sock T_PULL=false) || fail "config from the environment rejected: $out"
set +e
out=$(env_check T_LISTEN=nowhere T_KEY=a-key-of-sixteen-or-more T_THREADS=999 T_LEVEL=loud \
  T_SOCK=/var/run/docker.sock T_PULL=maybe); rc=$?
set -e
[ $rc = 1 ] || fail "bad values from the environment: exit $rc: $out"
for want in "env.yaml:2:15: server.listen_env: expected host:port" \
  "env.yaml:4:16: server.threads_env: must be between 1 and 256" \
  "env.yaml:5:16: log_level_env: expected one of"; do
  grep -qF "$want" <<<"$out" || fail "not reported: $want: $out"
done
set +e
out=$(env_check T_LISTEN=127.0.0.1:5000 T_KEY=a-key-of-sixteen-or-more T_THREADS=3 T_LEVEL=debug \
  T_SOCK=/var/run/docker.sock T_PULL=maybe); rc=$?
set -e
[ $rc = 1 ] || fail "a bad provider value from the environment: exit $rc: $out"
grep -qF "env.yaml:10:15: providers.docker.pull_env: expected true or false" <<<"$out" ||
  fail "bad provider value not reported: $out"
cat >>"$work/env.yaml" <<YAML
    socket: /var/run/docker.sock
    network_env: ""
YAML
set +e
out=$(env -u T_LISTEN T_KEY=a-key-of-sixteen-or-more T_THREADS=3 T_LEVEL=info T_PULL=true \
  "$MN_BIN_DIR/multinoded" --check-config "$work/env.yaml" 2>&1); rc=$?
set -e
[ $rc = 1 ] || fail "unset variables: exit $rc: $out"
for want in 'env.yaml:2:15: server.listen_env: environment variable "T_LISTEN" is not set' \
  "env.yaml:9:5: providers.docker.socket_env: set either socket or socket_env, not both" \
  "env.yaml:12:18: providers.docker.network_env: expected the name of an environment variable"; do
  grep -qF "$want" <<<"$out" || fail "not reported: $want: $out"
done
pass "every key from the environment (<key>_env): values used and checked, bad uses reported"
