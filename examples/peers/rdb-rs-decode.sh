#!/usr/bin/env bash
# Adapter: decode one RDB file with the crates.io `rdb` parser (rdb-rs 0.4.0, its CLI) and print
# Dataset JSON. rdb-rs prints the dataset as Redis commands (`--format protocol`: SET, RPUSH, SADD,
# HSET, ZADD, PEXPIREAT, SELECT), which keep every byte; those commands are then replayed by
# `redis-persist dump --json`, so what is compared is exactly what rdb-rs read. When rdb-rs exits
# non-zero, an {"error": ...} object is printed and the exit code is 1.
# Usage: rdb-rs-decode.sh FILE (install with examples/peers/install.sh).
set -u
file=$1
here=$(cd "$(dirname "$0")" && pwd)
rdb=${RDB_RS:-$HOME/.cache/redis-persist/peers/rdb-rs/bin/rdb}
persist=${REDIS_PERSIST:-$here/../../target/release/redis-persist}
tmp=$(mktemp)
trap 'rm -f "$tmp" "$tmp.err"' EXIT
if ! "$rdb" --format protocol "$file" > "$tmp" 2> "$tmp.err"; then
    msg=$(tail -c 300 "$tmp.err" | python3 -c 'import json,sys; print(json.dumps(sys.stdin.read().strip()))')
    echo "{\"error\": {\"kind\": \"refused\", \"offset\": null, \"message\": $msg}}"
    exit 1
fi
if [ ! -s "$tmp" ]; then
    echo '{"format": "dataset/1", "functions": [], "keys": []}'
    exit 0
fi
exec "$persist" dump --json "$tmp"
