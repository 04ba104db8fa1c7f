#!/usr/bin/env bash
# Gathers the seeds for a target from the project's corpus into fuzz/seeds/<target>/ (ignored by
# git): every RDB file the corpus holds. Usage: fuzz/seed.sh rdb_parse
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
target=${1:?usage: seed.sh TARGET}
out="$here/seeds/$target"
mkdir -p "$out"
case "$target" in
  rdb_parse) find "$here/../corpus" -type f -name '*.rdb' -exec cp {} "$out/" \; ;;
  # The generator reads raw entropy; the corpus files are varied bytes that make varied datasets.
  rdb_roundtrip) find "$here/../corpus" -type f -name '*.rdb' -size -64k -exec cp {} "$out/" \; ;;
  *) echo "seed.sh: no seed rule for $target" >&2; exit 2 ;;
esac
echo "$(ls "$out" | wc -l) seeds in $out"
