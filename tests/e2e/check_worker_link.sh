#!/usr/bin/env bash
# worker.link: multinode-worker is linked as configure decided
# (cmake/worker_static.cmake). Static: no dynamic section, no interpreter, so
# it starts without loading any shared library (bench/README.md, "Worker
# CPU"); otherwise it names the shared libcurl. Either way it runs.
#   check_worker_link.sh WORKER STATIC(ON|OFF) [PIE(ON|OFF), default ON] [LIBC(musl|glibc)]
set -euo pipefail
worker=$1 static=$2 pie=${3:-ON} libc=${4:-glibc}
fail() { echo "FAIL: $*" >&2; exit 1; }
needed=$(readelf -d "$worker" 2>/dev/null | grep NEEDED || true)
interp=$(readelf -l "$worker" | grep -c 'program interpreter' || true)
if [ "$static" = ON ]; then
  [ -z "$needed" ] || fail "a static worker needs shared libraries: $needed"
  [ "$interp" = 0 ] || fail "a static worker names a program interpreter"
  if [ "$pie" = ON ]; then
    readelf -h "$worker" | grep -q 'DYN (Position-Independent Executable' ||
      fail "the static worker is not position-independent (static-pie)"
  else
    readelf -h "$worker" | grep -q 'EXEC (Executable file)' ||
      fail "MN_WORKER_PIE=OFF but the static worker is not a plain executable"
  fi
  # each libc's own start-up function (the build's binary keeps its symbols)
  syms=$(nm "$worker")
  case $libc in musl) own=__init_libc other=_dl_non_dynamic_init ;;
    *) own=_dl_non_dynamic_init other=__init_libc ;; esac
  grep -qw "$own" <<<"$syms" || fail "the worker was to be linked with $libc, but has no $own"
  ! grep -qw "$other" <<<"$syms" || fail "the worker was to be linked with $libc, but has $other"
else
  case $needed in *libcurl.so*) ;; *) fail "the shared-link worker does not name libcurl.so: $needed" ;; esac
fi
out=$(env -i "$worker" true 2>&1) && fail "ran without MULTINODE_API_URL"
case $out in *"MULTINODE_API_URL is not set"*) ;; *) fail "unexpected: $out" ;; esac
if [ "$static" = ON ]; then echo "ok: static worker ($libc, PIE $pie), no shared library"; else echo "ok: worker with the shared libcurl"; fi
