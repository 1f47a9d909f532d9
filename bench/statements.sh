#!/usr/bin/env bash
# Statements per invocation (not a test): starts multinoded with its embedded
# Postgres and pg_stat_statements (track = all), runs mn-bench-dispatch with
# N sequential + M concurrent invocations, and prints the top-level
# statements per invocation, in all and by statement (bench/README.md,
# "Statements per invocation").
# Usage: bench/statements.sh [BUILD_DIR] [N] [M]   (default 1 500)
# MN_BENCH_STREAM=1: with one event stream (GET /events) open meanwhile.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
n=${2:-1}
m=${3:-500}
work=$(mktemp -d /tmp/mn-stmts.XXXXXX); chmod 755 "$work"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat >"$work/multinode.yaml" <<YAML
server: { listen: 127.0.0.1:$port, api_key: bench-key }
data_dir: $work/data
log_level: warn
providers: { default: local, local: { spawner: true } }
YAML
pid=
start() {
  "$build/bin/multinoded" --config "$work/multinode.yaml" 2>>"$work/daemon.log" &
  pid=$!
  for _ in $(seq 300); do curl -sf "http://127.0.0.1:$port/" >/dev/null && return 0; sleep 0.1; done
  echo "the daemon did not start:"; cat "$work/daemon.log"; exit 1
}
stop() { [ -z "$pid" ] || { kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true; pid=; }; }
trap 'stop; rm -rf "$work"' EXIT
start # creates the cluster
stop
pgdata=$work/data/postgres/data
cat >>"$pgdata/postgresql.conf" <<CONF
shared_preload_libraries = 'pg_stat_statements'
pg_stat_statements.track = all
pg_stat_statements.max = 5000
pg_stat_statements.track_planning = on
CONF
start
sock=$(sed -n 5p "$pgdata/postmaster.pid") pgport=$(sed -n 4p "$pgdata/postmaster.pid")
db=$(psql -X -At "host=$sock port=$pgport dbname=postgres user=postgres" \
  -c "SELECT datname FROM pg_database WHERE datname NOT IN ('postgres','template0','template1') LIMIT 1")
sql() { psql -X -At -F $'\t' "host=$sock port=$pgport dbname=${db:-postgres} user=postgres" -c "$1"; }
sql "CREATE EXTENSION IF NOT EXISTS pg_stat_statements" >/dev/null
sql "SELECT pg_stat_statements_reset()" >/dev/null
if [ "${MN_BENCH_STREAM:-0}" = 1 ]; then
  curl -sN -H "Authorization: Bearer bench-key" "http://127.0.0.1:$port/events" >"$work/stream.txt" &
  stream=$!
fi
# CPU (utime + stime, clock ticks) of the daemon and of Postgres (the
# postmaster and its children alive at the end: the pool's backends)
cpu_ticks() {
  local pm p t=0 d
  pm=$(head -1 "$pgdata/postmaster.pid")
  d=$(awk '{print $14 + $15}' "/proc/$pid/stat")
  for p in $pm $(pgrep -P "$pm"); do
    t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0)))
  done
  echo "$d $t"
}
read -r d0 p0 < <(cpu_ticks)
"$build/bin/mn-bench-dispatch" "http://127.0.0.1:$port" bench-key "$build/bin/mn-bench-stamp" \
  "$n" "$m" | sed 's/^/bench: /'
read -r d1 p1 < <(cpu_ticks)
hz=$(getconf CLK_TCK)
total=$((n + m))
if [ -n "${stream:-}" ]; then
  sleep 1; kill "$stream"; wait "$stream" 2>/dev/null || true
  echo "the stream got $(grep -c '^id: ' "$work/stream.txt") events"
fi
# what the daemon's own connections ran (not this script's psql)
filter="toplevel AND query NOT LIKE '%pg_stat_statements%'"
awk -v d=$((d1 - d0)) -v p=$((p1 - p0)) -v hz="$hz" -v n="$total" 'BEGIN {
  printf "CPU per invocation: daemon %.2f ms, Postgres %.2f ms (backends alive at the end)\n",
    d * 1000 / hz / n, p * 1000 / hz / n }'
echo "top-level statements per invocation ($total invocations):"
sql "SELECT round(sum(calls)::numeric / $total, 2) FROM pg_stat_statements WHERE $filter" |
  sed 's/^/  all: /'
sql "SELECT round(coalesce(sum(calls), 0)::numeric / $total, 2) FROM pg_stat_statements
     WHERE $filter AND query LIKE '%FROM events e WHERE e.id >%' AND query NOT LIKE '%<= \$2%'" |
  sed 's/^/  the event listener'"'"'s reads of the events table: /'
sql "SELECT round((sum(total_plan_time) / $total)::numeric, 3),
            round((sum(total_exec_time) / $total)::numeric, 3)
     FROM pg_stat_statements WHERE $filter" |
  awk -F'\t' '{ printf "  planning %s ms, execution %s ms per invocation (top level, wall)\n", $1, $2 }'
echo "by statement (calls per invocation, mean ms, plans per call, first words):"
sql "SELECT to_char(calls::numeric / $total, '990.99'), to_char(mean_exec_time, '990.999'),
            to_char(plans::numeric / calls, '0.99'),
            left(regexp_replace(regexp_replace(query, '\s+', ' ', 'g'),
                                '^WITH ve AS \(.*?LIMIT [0-9$]+\)\) ?', 'WITH ve '), 110)
     FROM pg_stat_statements WHERE $filter AND calls::numeric / $total >= 0.01
     ORDER BY calls DESC" | sed 's/^/  /'
echo "nested (in triggers and functions), calls per invocation:"
sql "SELECT to_char(calls::numeric / $total, '990.99'), left(regexp_replace(query, '\s+', ' ', 'g'), 110)
     FROM pg_stat_statements WHERE NOT toplevel AND calls::numeric / $total >= 0.5
     ORDER BY calls DESC LIMIT 12" | sed 's/^/  /'
