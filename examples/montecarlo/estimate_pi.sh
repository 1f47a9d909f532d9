#!/bin/sh
# estimate_pi: starts N samples (the input, default 8) as children of this
# invocation, waits for each one, and prints 4 * inside / total.
#
# Inside a worker `multinode start` makes the current invocation the parent
# and uses this project and version; `multinode wait` prints a child's result
# (and fails when the child failed).
set -eu
n=$(cat)
n=${n:-8}
case $n in
  '' | *[!0-9]*) echo "the input must be a number of samples, got \"$n\"" >&2; exit 1 ;;
esac
if [ "$n" -lt 1 ] || [ "$n" -gt 50 ]; then
  echo "the number of samples must be from 1 to 50, got $n" >&2
  exit 1
fi

ids='' i=1
while [ "$i" -le "$n" ]; do
  ids="$ids $(multinode start sample --input "$i")"
  i=$((i + 1))
done
multinode progress "started $n samples:$ids"

inside=0 total=0 done=0
for id in $ids; do
  # an assignment, so that a failed child fails this function (set -e)
  result=$(multinode wait --quiet --function sample "$id")
  # shellcheck disable=SC2086
  set -- $result
  inside=$((inside + $1)) total=$((total + $2)) done=$((done + 1))
  multinode progress "$done/$n samples: $inside of $total points inside"
done
awk -v inside="$inside" -v total="$total" 'BEGIN { printf "%.6f\n", 4 * inside / total }'
