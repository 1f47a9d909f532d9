#!/usr/bin/env bash
# The configuration reference in README.md is the one the daemon prints from
# its key tables (no hand-kept copy that drifts).
. "$(dirname "$0")/lib.sh"
readme="$MN_SOURCE_DIR/README.md"
documented=$(sed -n '/<!-- config-reference:begin -->/,/<!-- config-reference:end -->/p' "$readme" | sed '1d;$d')
generated=$("$MN_BIN_DIR/multinoded" --print-config-reference)
if [ "$documented" != "$generated" ]; then
  diff <(echo "$documented") <(echo "$generated") || true
  fail "README.md's configuration reference differs from multinoded --print-config-reference"
fi
pass "README.md configuration reference matches the key tables"
