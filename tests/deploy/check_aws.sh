#!/usr/bin/env bash
# Installs tests/deploy/package-lock.json (@aws-cdk/cfnspec, yaml) once into
# a scratch folder named after the lock file's hash, then runs check_aws.js
# and `multinoded --check-config` ($MN_BIN_DIR) on the daemon's configuration
# the template renders.
# Needs node (>= 18) and npm.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
command -v node >/dev/null || { echo "node is not installed (Debian: nodejs)" >&2; exit 1; }
command -v npm >/dev/null || { echo "npm is not installed (Debian: npm)" >&2; exit 1; }
dir=${MN_CFNSPEC_DIR:-/tmp/mn-cfnspec-$(sha256sum "$here/package-lock.json" | cut -c1-12)}
if [ ! -f "$dir/node_modules/.mn-done" ]; then
  mkdir -p "$dir"
  exec 9>"$dir/.lock"
  flock 9
  if [ ! -f "$dir/node_modules/.mn-done" ]; then
    cp "$here/package.json" "$here/package-lock.json" "$dir/"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >&2)
    touch "$dir/node_modules/.mn-done"
  fi
  exec 9>&-
fi
conf=$(mktemp /tmp/mn-aws-config.XXXXXX)
trap 'rm -f "$conf"' EXIT
node "$here/check_aws.js" "$src" "$dir/node_modules" "$conf"
# the configuration the daemon's task writes at start passes --check-config,
# with the variables the task definition sets
[ -n "${MN_BIN_DIR:-}" ] || { echo "MN_BIN_DIR is not set" >&2; exit 1; }
MULTINODE_API_KEY=0123456789abcdef0123456789abcdef MULTINODE_POSTGRES_DSN=sslmode=require \
  "$MN_BIN_DIR/multinoded" --check-config "$conf"
echo "ok: the task definition's daemon configuration passes multinoded --check-config"
