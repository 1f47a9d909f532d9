#!/usr/bin/env bash
# The configuration key tables of README.md and docs/*.md, generated from
# the key tables themselves (the daemon's, core/config/config_schema.c, and
# each provider's config_keys, include/multinode/provider.h): between
#   <!-- config-keys:begin WHAT -->  and  <!-- config-keys:end -->
# goes the output of `multinoded --print-config-reference=WHAT` (WHAT is
# `daemon` or a provider plugin's name).
#
# usage: scripts/config_docs.sh [--check] MULTINODED [SOURCE_DIR]
#   rewrites the files in place; with --check, changes nothing and exits 1
#   (showing the difference) when a file differs from its tables.
# CMake: `cmake --build build --target config-docs`.
set -euo pipefail
check=0
if [ "${1:-}" = --check ]; then check=1; shift; fi
daemon=${1:?usage: config_docs.sh [--check] MULTINODED [SOURCE_DIR]}
src=${2:-$(cd "$(dirname "$0")/.." && pwd)}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
status=0 blocks=0
for f in "$src/README.md" "$src"/docs/*.md; do
  grep -q '<!-- config-keys:begin ' "$f" || continue
  out="$tmp/$(basename "$f")"
  : >"$out"
  inside=0
  while IFS= read -r line || [ -n "$line" ]; do
    if [ $inside = 1 ]; then
      if [ "$line" = '<!-- config-keys:end -->' ]; then
        inside=0
        printf '%s\n' "$line" >>"$out"
      fi
      continue
    fi
    printf '%s\n' "$line" >>"$out"
    if [[ $line =~ ^'<!-- config-keys:begin '([a-z0-9_]+)' -->'$ ]]; then
      "$daemon" --print-config-reference="${BASH_REMATCH[1]}" >>"$out" ||
        { echo "config_docs: $f: no table for \"${BASH_REMATCH[1]}\"" >&2; exit 2; }
      inside=1 blocks=$((blocks + 1))
    fi
  done <"$f"
  [ $inside = 0 ] || { echo "config_docs: $f: a config-keys block has no end marker" >&2; exit 2; }
  if ! cmp -s "$f" "$out"; then
    if [ $check = 1 ]; then
      echo "config_docs: ${f#"$src"/} differs from the key tables (run scripts/config_docs.sh):" >&2
      diff -u "$f" "$out" >&2 || true
      status=1
    else
      cat "$out" >"$f"
      echo "config_docs: ${f#"$src"/} regenerated"
    fi
  fi
done
[ $blocks -gt 0 ] || { echo "config_docs: no config-keys block found under $src" >&2; exit 2; }
exit $status
