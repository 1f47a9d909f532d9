#!/bin/sh
# sample: throws $POINTS random points (default 200000) at the unit square,
# seeded with the input, and prints "INSIDE TOTAL": how many fell inside the
# quarter circle x² + y² <= 1, and how many there were.
set -eu
seed=$(cat)
case $seed in
  '' | *[!0-9]*) echo "the input must be a whole number (the seed), got \"$seed\"" >&2; exit 1 ;;
esac
awk -v seed="$seed" -v n="${POINTS:-200000}" 'BEGIN {
  srand(seed)
  inside = 0
  for (i = 0; i < n; i++) {
    x = rand(); y = rand()
    if (x * x + y * y <= 1) inside++
  }
  printf "%d %d\n", inside, n
}'
