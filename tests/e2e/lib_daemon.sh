# Running a real multinoded for shell end-to-end tests. Source after lib.sh.
#
#   daemon_config NAME [EXTRA_YAML]   writes $MN_WORK/NAME.yaml (embedded Postgres
#                                     in $MN_WORK/data, local provider, a free port)
#   daemon_start NAME                 starts it, waits until GET / answers
#   daemon_kill NAME [SIGNAL]         signals it (default TERM) and waits for it
#   api METHOD PATH [BODY]            calls the API of the last started daemon
#                                     (or the one daemon_use picked); prints the
#                                     body; `last_status` prints its HTTP status
#   jget JSON EXPR                    evaluates a python expression on `j`
#   wait_until SECONDS DESCRIPTION CMD...   polls CMD (every 50 ms) until it
#                                     succeeds; fails the test on the deadline
#
#   on_exit CMD                       runs the shell command CMD at exit, after
#                                     the daemons are killed (last added first)
#
# Every daemon started is killed at exit; $MN_WORK is removed.
: "${MN_BIN_DIR:?}"
MN_WORK=$(new_workdir)
MN_KEY=e2e-key
declare -A MN_PIDS=() MN_PORTS=()
MN_URL=
MN_ON_EXIT=()

on_exit() { MN_ON_EXIT+=("$1"); }

daemons_cleanup() {
  local pid
  for pid in "${MN_PIDS[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
  local pgpid
  pgpid=$(head -n1 "$MN_WORK/data/postgres/data/postmaster.pid" 2>/dev/null || true)
  [ -n "$pgpid" ] && kill -9 "$pgpid" 2>/dev/null || true
  local i
  for ((i = ${#MN_ON_EXIT[@]} - 1; i >= 0; i--)); do eval "${MN_ON_EXIT[i]}" || true; done
  # workers the local provider left (each leads its own session)
  pkill -9 -f "$MN_WORK" 2>/dev/null || true
  [ -n "${MN_KEEP_WORK:-}" ] || rm -rf "$MN_WORK"
}
trap daemons_cleanup EXIT

daemon_config() {
  local name=$1 extra=${2:-} port
  port=$(free_port)
  MN_PORTS[$name]=$port
  cat >"$MN_WORK/$name.yaml" <<YAML
server:
  listen: 127.0.0.1:$port
  api_key: $MN_KEY
data_dir: $MN_WORK/data
log_level: debug
$extra
YAML
}

daemon_start() {
  local name=$1
  [ -f "$MN_WORK/$name.yaml" ] || daemon_config "$name"
  "$MN_BIN_DIR/multinoded" --config "$MN_WORK/$name.yaml" >>"$MN_WORK/$name.log" 2>&1 &
  MN_PIDS[$name]=$!
  MN_URL=http://127.0.0.1:${MN_PORTS[$name]}
  wait_for 180 curl -sf --max-time 5 "$MN_URL/" || { tail -n 40 "$MN_WORK/$name.log"; fail "daemon $name did not answer"; }
}

daemon_use() { MN_URL=http://127.0.0.1:${MN_PORTS[$1]}; }

daemon_kill() {
  local name=$1 sig=${2:-TERM} pid=${MN_PIDS[$1]}
  kill -"$sig" "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  unset "MN_PIDS[$name]"
}

api() {
  local method=$1 path=$2 body=${3:-} out
  out=$(mktemp "$MN_WORK/resp.XXXXXX")
  if [ -n "$body" ]; then
    curl -s --max-time 30 -o "$out" -w '%{http_code}' -X "$method" -H "Authorization: Bearer $MN_KEY" \
      -H 'Content-Type: application/json' --data-binary "$body" "$MN_URL$path" >"$MN_WORK/.status"
  else
    curl -s --max-time 30 -o "$out" -w '%{http_code}' -X "$method" -H "Authorization: Bearer $MN_KEY" \
      "$MN_URL$path" >"$MN_WORK/.status"
  fi
  cat "$out"; rm -f "$out"
}

last_status() { cat "$MN_WORK/.status"; }

jget() {
  python3 -c 'import json,sys; j=json.loads(sys.argv[1]); r=eval(sys.argv[2]); print(json.dumps(r) if isinstance(r,(dict,list)) or r is None else r)' "$1" "$2"
}

wait_until() {
  local secs=$1 what=$2; shift 2
  wait_for "$secs" "$@" || fail "timed out after ${secs}s waiting for: $what"
}
