#!/usr/bin/env bash
# Starts or stops the private Postgres cluster the integration tests use:
#   pg.sh start DIR   (initdb when new; unix socket in DIR, port 5499)
#   pg.sh stop DIR
# As root, the cluster runs as the `postgres` user.
set -euo pipefail
cmd=$1 dir=$2 port=5499
bindir=$(pg_config --bindir 2>/dev/null || true)
[ -x "$bindir/initdb" ] || bindir=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n1)
as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
case $cmd in
start)
  mkdir -p "$dir"
  [ "$(id -u)" = 0 ] && chown postgres: "$dir"
  if [ ! -f "$dir/data/PG_VERSION" ]; then
    as_pg "$bindir/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 >"$dir/initdb.log" 2>&1
  fi
  as_pg "$bindir/pg_ctl" -D "$dir/data" stop -m immediate >/dev/null 2>&1 || true
  as_pg "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start \
    -o "-k $dir -p $port -c listen_addresses='' -c max_connections=300 -c fsync=on" >/dev/null
  echo "postgres ready: host=$dir port=$port"
  ;;
stop)
  [ -f "$dir/data/PG_VERSION" ] && as_pg "$bindir/pg_ctl" -D "$dir/data" stop -m fast -w >/dev/null 2>&1 || true
  echo "postgres stopped"
  ;;
*) echo "usage: pg.sh start|stop DIR" >&2; exit 2 ;;
esac
