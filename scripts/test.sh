#!/usr/bin/env bash
# Runs every test: installs what is missing, builds twice (plain, and with
# AddressSanitizer + UndefinedBehaviorSanitizer), runs the whole suite under
# the sanitizers, the plain build's suite but for the end-to-end tests outside
# the label `shipped`, and the unit tests under valgrind. Usage: scripts/test.sh
#
# Why every end-to-end test runs once, sanitized: they were two thirds of the
# run's time and a CI run on a slow machine took 54 minutes with both. The
# sanitized daemon and worker are the same code as the plain ones; what only
# the plain build has is how the worker is linked (static, musl:
# cmake/worker_static.cmake), which the `shipped` end-to-end tests run
# through each provider path (tests/CMakeLists.txt).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
jobs=$(nproc)

# each phase says when it starts, in seconds since this script began
phase() { echo "== $1 (at ${SECONDS} s)"; }

phase deps
scripts/deps.sh

build() { # build DIR [cmake args...]
  local dir=$1; shift
  cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
  cmake --build "$dir" -j"$jobs" >/dev/null
}

phase "build (plain)"
build build
phase "ctest (plain)"
(cd build && ctest --output-on-failure -j"$jobs" -LE e2e)
(cd build && ctest --output-on-failure -j"$jobs" -L shipped)

phase "valgrind (unit tests)"
vg_fail=0
for t in build/bin/unit_test_*; do
  # env first: valgrind then checks the test itself, not env (it does not
  # follow exec without --trace-children)
  if ! env MN_TEST_DATA="$root/tests/data" MN_TEST_PLUGIN_DIR="$root/build/lib/test-plugins" \
      MN_PLUGIN_DIR="$root/build/lib/multinode" \
      valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect \
      --error-exitcode=1 "$t" >/tmp/mn-valgrind.log 2>&1; then
    echo "valgrind: $t failed"; tail -n 40 /tmp/mn-valgrind.log; vg_fail=1
  fi
done
[ $vg_fail = 0 ] || exit 1
echo "valgrind: all unit tests clean"

phase "build (ASan+UBSan)"
build build-asan -DMN_SANITIZE=ON
phase "ctest (ASan+UBSan)"
(cd build-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
   ctest --output-on-failure -j"$jobs")
phase done
