#!/usr/bin/env bash
# A private Docker Engine for tests and benchmarks, kept off the host's
# networking (no bridge, no iptables) and out of the system engine's way:
# its data, state and socket all live under one directory.
#
#   scripts/docker-engine.sh start DIR     start dockerd (DIR is created; keep it short,
#                                          e.g. /tmp/mnd.XXXX: unix socket paths are
#                                          limited to 107 bytes), wait until it answers,
#                                          print its socket path
#   scripts/docker-engine.sh halt DIR      stop dockerd only; with --live-restore (always
#                                          on here) containers keep running; `start DIR`
#                                          brings the same engine back
#   scripts/docker-engine.sh teardown DIR  remove every container, stop dockerd, its
#                                          containerd and shims, unmount and delete DIR
#
# Needs root and Debian's docker.io (dockerd, containerd, runc).
set -euo pipefail

usage() { echo "usage: $0 start|halt|teardown DIR" >&2; exit 2; }
[ $# -eq 2 ] || usage
cmd=$1 dir=$2
sock=$dir/docker.sock

alive() { [ -n "$1" ] && kill -0 "$1" 2>/dev/null; }
pid_of() { cat "$1" 2>/dev/null || true; }

# wait_gone PID SECONDS: 0 once PID has exited
wait_gone() {
  local pid=$1 end=$(( $(date +%s%N) / 1000000 + $2 * 1000 ))
  while alive "$pid"; do
    [ $(( $(date +%s%N) / 1000000 )) -lt $end ] || return 1
    sleep 0.05
  done
}

ping_engine() { curl -sf --max-time 2 --unix-socket "$sock" http://engine/_ping >/dev/null 2>&1; }

start() {
  command -v dockerd >/dev/null || { echo "error: dockerd not found (apt-get install docker.io)" >&2; exit 1; }
  [ "$(id -u)" = 0 ] || { echo "error: a private dockerd needs root" >&2; exit 1; }
  if [ ${#sock} -gt 100 ]; then echo "error: \"$dir\" is too long for a unix socket path" >&2; exit 1; fi
  mkdir -p "$dir"
  if alive "$(pid_of "$dir/pid")"; then echo "$sock"; return; fi
  setsid dockerd --data-root "$dir/root" --exec-root "$dir/exec" --pidfile "$dir/pid" \
    -H "unix://$sock" --bridge=none --iptables=false --ip-forward=false --ip-masq=false \
    --ip6tables=false --live-restore --log-level warn \
    </dev/null >>"$dir/dockerd.log" 2>&1 &
  local pid=$! end=$(( $(date +%s%N) / 1000000 + 60000 ))
  until ping_engine; do
    if ! alive "$pid" || [ $(( $(date +%s%N) / 1000000 )) -ge $end ]; then
      tail -n 20 "$dir/dockerd.log" >&2
      echo "error: dockerd in \"$dir\" did not start" >&2
      exit 1
    fi
    sleep 0.05
  done
  echo "$sock"
}

halt() {
  local pid; pid=$(pid_of "$dir/pid")
  alive "$pid" || return 0
  kill -TERM "$pid"
  wait_gone "$pid" 30 || { kill -KILL "$pid" 2>/dev/null || true; wait_gone "$pid" 5 || true; }
}

# pids of the processes started for this engine (containerd, its shims): their
# command lines name $dir
engine_pids() {
  local p c
  for p in /proc/[0-9]*; do
    c=$(tr '\0' ' ' 2>/dev/null <"$p/cmdline") || continue
    [[ $c == *"$dir/"* ]] && echo "${p#/proc/}"
  done
  return 0
}

teardown() {
  [ -d "$dir" ] || return 0
  if ping_engine; then # containers first: their processes die with them
    local ids
    ids=$(curl -s --max-time 10 --unix-socket "$sock" 'http://engine/containers/json?all=1' |
      python3 -c 'import json,sys; print(" ".join(c["Id"] for c in json.load(sys.stdin)))' || true)
    for id in $ids; do
      curl -s --max-time 30 --unix-socket "$sock" -X DELETE "http://engine/containers/$id?force=1" >/dev/null || true
    done
  fi
  halt
  local cpid; cpid=$(pid_of "$dir/exec/containerd/containerd.pid")
  alive "$cpid" && { kill -TERM "$cpid" 2>/dev/null || true; wait_gone "$cpid" 10 || kill -KILL "$cpid" 2>/dev/null || true; }
  local p
  for p in $(engine_pids); do
    [ "$p" = $$ ] || kill -KILL "$p" 2>/dev/null || true
  done
  # mount points under $dir, deepest first
  awk -v d="$dir/" 'index($5, d) == 1 { print $5 }' /proc/self/mountinfo | sort -r |
    while read -r m; do umount -l "$m" 2>/dev/null || true; done
  rm -rf "$dir" 2>/dev/null || { sleep 0.2; rm -rf "$dir"; }
}

case $cmd in
start) start ;;
halt) halt ;;
teardown) teardown ;;
*) usage ;;
esac
