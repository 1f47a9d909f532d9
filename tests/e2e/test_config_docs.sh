#!/usr/bin/env bash
# The key tables of README.md (the daemon's) and docs/*.md (each
# provider's) are the ones the daemon prints from the key tables in the
# code (scripts/config_docs.sh); no hand-kept copy that drifts. And the
# check can fail: a doc edited by hand is caught.
. "$(dirname "$0")/lib.sh"
work=$(new_workdir); trap 'rm -rf "$work"' EXIT
"$MN_SOURCE_DIR/scripts/config_docs.sh" --check "$MN_BIN_DIR/multinoded" "$MN_SOURCE_DIR" ||
  fail "README.md or docs/*.md differ from the key tables: run scripts/config_docs.sh"
for what in daemon local docker ecs k8s template; do
  grep -rqF "<!-- config-keys:begin $what -->" "$MN_SOURCE_DIR/README.md" "$MN_SOURCE_DIR/docs" ||
    fail "no generated key table for $what in README.md or docs/"
done
pass "README.md and docs/*.md key tables match the code's"

mkdir -p "$work/docs"
cp "$MN_SOURCE_DIR/docs/docker.md" "$work/docs/"
sed -i 's/| `socket` | string |/| `socket` | integer |/' "$work/docs/docker.md"
set +e
out=$("$MN_SOURCE_DIR/scripts/config_docs.sh" --check "$MN_BIN_DIR/multinoded" "$work" 2>&1); rc=$?
set -e
[ $rc = 1 ] && grep -qF 'docs/docker.md differs' <<<"$out" || fail "a hand-edited table passed (exit $rc): $out"
"$MN_SOURCE_DIR/scripts/config_docs.sh" "$MN_BIN_DIR/multinoded" "$work" >/dev/null
cmp -s "$work/docs/docker.md" "$MN_SOURCE_DIR/docs/docker.md" || fail "regenerating did not restore docs/docker.md"
pass "a hand-edited table is caught, and regenerating restores it"
