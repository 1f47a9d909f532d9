#!/usr/bin/env bash
# Runs the provider conformance suite (conformance.c) against one provider:
#
#   run.sh PROVIDER CONFORMANCE_BINARY [--expect-failure TEXT]
#
# providers/PROVIDER.sh, when present, is sourced first: it starts what the
# provider talks to (a private Docker Engine, a simulator) and exports the
# variables the section uses and these, all optional:
#   CONFORMANCE_IMAGE                 the image of the functions
#   CONFORMANCE_FAULT_429             a shell command after which the provider's
#                                     next backend call is answered HTTP 429 with
#                                     "Retry-After: 7"
#   CONFORMANCE_FAULT_5XX             ... answered a server error (5xx)
#   CONFORMANCE_FAULT_AUTH            ... refused for its credentials
#   CONFORMANCE_NO_RESTART=1          the provider forgets its workers at shutdown
#   CONFORMANCE_ACCEPTS_ANY_FUNCTION=1  it never refuses a function
#   CONFORMANCE_FAKE_WORKERS=1        its workers run no command
#   CONFORMANCE_DOWN                  a sed script that turns the section into one
#                                     whose backend does not answer (an outage)
# providers/PROVIDER.yaml is the providers.PROVIDER section, ${NAME}s replaced
# by the environment's values. With CONFORMANCE_PLUGIN set, the section's
# `plugin:` names that file (a copy of the provider built otherwise).
#
# --expect-failure TEXT: passes only when the suite fails and its output
# holds TEXT (a deliberately broken provider must be caught).
. "$MN_SOURCE_DIR/tests/e2e/lib.sh"
. "$MN_SOURCE_DIR/tests/e2e/lib_daemon.sh"
provider=$1 bin=$2 expect=
[ "${3:-}" != --expect-failure ] || expect=$4
here=$MN_SOURCE_DIR/tests/conformance
export CONFORMANCE_WORKER=$here/worker.sh CONFORMANCE_PROVIDER=conformance.$provider

# shellcheck source=/dev/null
[ ! -f "$here/providers/$provider.sh" ] || . "$here/providers/$provider.sh"

section() {
  [ -z "${CONFORMANCE_PLUGIN:-}" ] || echo "plugin: $CONFORMANCE_PLUGIN"
  perl -pe 's/\$\{(\w+)\}/exists $ENV{$1} ? $ENV{$1} : die "\$$1 is not set\n"/ge' \
    "$here/providers/$provider.yaml"
}
body=$(section) || fail "cannot expand providers/$provider.yaml"
config() {
  printf 'server:\n  api_key: conformance-key\ndata_dir: %s/data\n' "$MN_WORK"
  printf 'providers:\n  default: %s\n  %s:\n' "$provider" "$provider"
  sed 's/^/    /' <<<"$body"
  [ -z "${1:-}" ] || printf '    %s\n' "$1"
}
config >"$MN_WORK/conformance.yaml"
config "conformance_unknown_key: 1" >"$MN_WORK/conformance-badkey.yaml"
if [ -n "${CONFORMANCE_DOWN:-}" ]; then
  body=$(sed "$CONFORMANCE_DOWN" <<<"$body")
  config >"$MN_WORK/conformance-down.yaml"
  export CONFORMANCE_DOWN_CONFIG=$MN_WORK/conformance-down.yaml
fi

start=$(date +%s%N)
set +e
"$bin" "$MN_WORK/conformance.yaml" "$MN_WORK/conformance-badkey.yaml" "$MN_WORK" \
  >"$MN_WORK/conformance.out" 2>&1
rc=$?
set -e
cat "$MN_WORK/conformance.out"
echo "conformance.$provider: exit $rc in $(( ($(date +%s%N) - start) / 1000000 )) ms"
if [ -n "$expect" ]; then
  [ "$rc" != 0 ] || fail "the suite passed; it should have failed with \"$expect\""
  grep -qF -- "$expect" "$MN_WORK/conformance.out" ||
    fail "the suite failed (exit $rc), but not with \"$expect\""
  grep -qE -- '^\[=+\] [0-9]+ test\(s\) run\.' "$MN_WORK/conformance.out" ||
    fail "the suite did not run to its end (exit $rc)"
  pass "the suite caught the broken provider: \"$expect\""
  exit 0
fi
[ "$rc" = 0 ] || fail "conformance.$provider: the provider breaks a contract (above)"
pass "conformance.$provider"
