#!/bin/sh
# run_expensive_task: counts the primes below N (the input, default 100000)
# in 10 chunks, recording progress after each one with `multinode progress`.
# The result (standard output) is the count: 9592 for 100000.
#
# Runs by hand too, outside a worker (progress then goes to stderr):
#     echo 1000 | sh task.sh
set -eu

progress() {
  if [ -n "${MULTINODE_EXECUTION_ID:-}" ]; then
    multinode progress "$1"
  else
    echo "$1" >&2
  fi
}

n=$(cat)
n=${n:-100000}
case $n in
  *[!0-9]*) echo "the input must be a whole number, got \"$n\"" >&2; exit 1 ;;
esac

chunks=10 total=0 i=1
while [ "$i" -le "$chunks" ]; do
  lo=$(( (i - 1) * n / chunks )) hi=$(( i * n / chunks ))
  found=$(awk -v lo="$lo" -v hi="$hi" 'BEGIN {
    c = 0
    for (k = lo; k < hi; k++) {
      if (k < 2) continue
      p = 1
      for (d = 2; d * d <= k; d++) if (k % d == 0) { p = 0; break }
      c += p
    }
    print c
  }')
  total=$((total + found))
  progress "chunk $i/$chunks: $total primes below $hi"
  sleep 0.1 # a pause, so the progress can be watched
  i=$((i + 1))
done
echo "$total"
