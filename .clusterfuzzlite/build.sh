#!/bin/bash -eu
# Builds every fuzz target for ClusterFuzzLite / OSS-Fuzz: the list comes from `cargo fuzz list`,
# each binary goes to $OUT with its dictionary (<target>.dict) and a seed corpus
# (<target>_seed_corpus.zip) made by fuzz/seed.sh from the project's own corpus.
cd "$SRC/redis-persist/fuzz"
cargo fuzz build -O --debug-assertions
triple=$(rustc -vV | sed -n 's/^host: //p')
for target in $(cargo fuzz list); do
    cp "target/$triple/release/$target" "$OUT/"
    dict="dict/${target%%_*}.dict"
    if [ -f "$dict" ]; then cp "$dict" "$OUT/$target.dict"; fi
    bash seed.sh "$target" >/dev/null
    (cd "seeds/$target" && zip -q -r "$OUT/${target}_seed_corpus.zip" .)
done
