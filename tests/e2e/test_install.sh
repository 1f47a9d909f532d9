#!/usr/bin/env bash
# `cmake --install` lays out a working system: the installed multinoded
# loads its providers from the installed plugin folder (named here through
# MULTINODE_PLUGIN_PATH, since this test installs under another prefix than
# the one compiled in) and serves the API.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_daemon.sh"
prefix="$MN_WORK/prefix"
cmake --install "$MN_BUILD_DIR" --prefix "$prefix" >/dev/null || fail "cmake --install failed"
for f in bin/multinoded bin/multinode bin/multinode-worker lib/multinode/mn_provider_local.so \
         include/multinode/provider.h include/multinode/client.h \
         include/multinode/common/worker_env.h lib/libmultinode-common.a; do
  [ -e "$prefix/$f" ] || fail "not installed: $f"
done
# a provider built outside the tree compiles against the installed headers alone
printf '#include <multinode/provider.h>\nconst char *v = MN_WORKER_ENV_API_URL;\n' |
  cc -std=c11 -fsyntax-only -I"$prefix/include" -x c - ||
  fail "the installed provider.h does not compile on its own"
pass "installed under $prefix"
daemon_config inst
MN_BIN_DIR="$prefix/bin" MULTINODE_PLUGIN_PATH="$prefix/lib/multinode" daemon_start inst
grep -q "loaded from $prefix/lib/multinode/mn_provider_local.so" "$MN_WORK/inst.log" ||
  fail "the installed daemon did not load the installed plugin: $(grep 'loaded from' "$MN_WORK/inst.log")"
pass "the installed daemon loads the installed local provider and answers GET /"
