#!/usr/bin/env bash
# Installs the peer parsers the adapters here drive, under ~/.cache/redis-persist/peers
# (idempotent): Python `rdbtools` 0.1.15 (+ python-lzf) in a venv, and the crates.io `rdb` CLI
# (rdb-rs) 0.4.0.
set -euo pipefail
root=${PEERS_DIR:-$HOME/.cache/redis-persist/peers}
mkdir -p "$root"
if [ ! -x "$root/venv/bin/python" ]; then python3 -m venv "$root/venv"; fi
"$root/venv/bin/pip" install -q rdbtools==0.1.15 python-lzf
if [ ! -x "$root/rdb-rs/bin/rdb" ]; then
    cargo install --locked rdb --version 0.4.0 --root "$root/rdb-rs" || cargo install rdb --version 0.4.0 --root "$root/rdb-rs"
fi
echo "peers in $root: $("$root/venv/bin/pip" show rdbtools | sed -n 's/^Version: /rdbtools /p'), $("$root/rdb-rs/bin/rdb" --version 2>/dev/null || echo 'rdb-rs 0.4.0')"
