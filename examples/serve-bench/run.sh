#!/usr/bin/env bash
# redis-benchmark against Debian's redis-server 7.0.15 and redis-persist-server, both with
# appendonly yes, under each appendfsync policy, with and without pipelining (-P 16). Each line
# is the median of ROUNDS runs (default 3), the two servers taking turns, each run on a fresh
# server and directory: fsync latency on a shared virtual disk varies several-fold from minute
# to minute, and alternating spreads that over both servers.
# Usage: examples/serve-bench/run.sh [path/to/redis-persist-server] > table.md
# Build first: cargo build --release -p redis-persist-server
set -euo pipefail
OURS=${1:-target/release/redis-persist-server}
REDIS=/usr/bin/redis-server
BENCH=/usr/bin/redis-benchmark
N=${N:-200000}
ROUNDS=${ROUNDS:-3}
TESTS=set,get,incr,lpush,hset

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

run_one() { # binary fsync pipeline -> "SET=..;GET=.."
  local bin=$1 fsync=$2 pipe=$3 dir p pid out
  dir=$(mktemp -d /tmp/serve-bench.XXXXXX)
  p=$(port)
  "$bin" --port "$p" --bind 127.0.0.1 --dir "$dir" --save "" --appendonly yes \
    --appendfsync "$fsync" --daemonize no >"$dir/log" 2>&1 &
  pid=$!
  for _ in $(seq 100); do
    /usr/bin/redis-cli -p "$p" ping >/dev/null 2>&1 && break
    sleep 0.05
  done
  out=$("$BENCH" -p "$p" -q -n "$N" -c 50 -P "$pipe" -t "$TESTS" 2>/dev/null | tr '\r' '\n' \
    | grep "requests per second" | sed -E 's/^([A-Z]+).*: ([0-9.]+) requests per second.*/\1=\2/' \
    | tr '\n' ';')
  kill "$pid"; wait "$pid" 2>/dev/null || true
  rm -rf "$dir"
  echo "$out"
}

get() { echo "$1" | tr ';' '\n' | grep "^$2=" | cut -d= -f2; }
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

echo "| appendfsync | -P | test | redis-server 7.0.15 (req/s) | redis-persist-server (req/s) | ratio |"
echo "|---|---|---|---|---|---|"
for fsync in always everysec no; do
  for pipe in 1 16; do
    rs=(); os=()
    for _ in $(seq "$ROUNDS"); do
      rs+=("$(run_one "$REDIS" "$fsync" "$pipe")")
      os+=("$(run_one "$OURS" "$fsync" "$pipe")")
    done
    for t in SET GET INCR LPUSH HSET; do
      a=$(median $(for r in "${rs[@]}"; do get "$r" "$t"; done))
      b=$(median $(for o in "${os[@]}"; do get "$o" "$t"; done))
      ratio=$(python3 -c "print(f'{float($b)/float($a):.2f}')" 2>/dev/null || echo "?")
      printf '| %s | %s | %s | %.0f | %.0f | %s |\n' "$fsync" "$pipe" "$t" "$a" "$b" "$ratio"
    done
  done
done
