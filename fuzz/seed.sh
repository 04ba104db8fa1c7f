#!/usr/bin/env bash
# Gathers the seeds for a target from the project's corpus into fuzz/seeds/<target>/ (ignored by
# git): every RDB file the corpus holds. Usage: fuzz/seed.sh rdb_parse
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
target=${1:?usage: seed.sh TARGET}
out="$here/seeds/$target"
mkdir -p "$out"
# Corpus files share names across cases (appendonly.aof.1.incr.aof): prefix each with its path's hash.
copy_unique() {
  find "$here/../corpus" -type f "$@" -print0 | while IFS= read -r -d '' f; do
    cp "$f" "$out/$(printf '%s' "$f" | md5sum | cut -c1-10)-$(basename "$f")"
  done
}
case "$target" in
  rdb_parse) find "$here/../corpus" -type f -name '*.rdb' -exec cp {} "$out/" \; ;;
  # The generator reads raw entropy; the corpus files are varied bytes that make varied datasets.
  rdb_roundtrip|dataset_write) find "$here/../corpus" -type f -name '*.rdb' -size -64k -exec cp {} "$out/" \; ;;
  aof_parse) copy_unique \( -name '*.aof' -o -name '*.rdb' \)
    printf '*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n#TS:1700000000\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n' > "$out/hand-set.aof"
    printf '*1\r\n$5\r\nMULTI\r\n*2\r\n$4\r\nINCR\r\n$1\r\nn\r\n*1\r\n$4\r\nEXEC\r\n' > "$out/hand-multi.aof" ;;
  manifest_parse) copy_unique -name '*.manifest' 
    printf 'file appendonly.aof.2.base.rdb seq 2 type b\nfile appendonly.aof.1.incr.aof seq 1 type h\nfile appendonly.aof.3.incr.aof seq 3 type i\n' > "$out/hand-basic.manifest"
    printf '# comment\nfile " file seq \\n\\n.aof .2.base.rdb" seq 2 type b newkey newvalue\n' > "$out/hand-quoted.manifest" ;;
  # Histories are decoded from raw bytes with `arbitrary`: varied byte patterns make varied ones.
  engine_model) for i in 1 2 3 5 7 11 13 17; do
      python3 -c "import sys; sys.stdout.buffer.write(bytes((j * $i + j // 7) % 256 for j in range(600)))" > "$out/pattern-$i"
    done ;;
  *) echo "seed.sh: no seed rule for $target" >&2; exit 2 ;;
esac
echo "$(ls "$out" | wc -l) seeds in $out"
