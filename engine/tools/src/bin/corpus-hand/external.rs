//! Real RDB 13 and 15 files from other projects, kept under `external/<project>/` with the
//! project's license: the only files of these versions written by real Redis builds that this
//! machine can hold (no Redis 8.x runs here). Their expectations were written from the bytes
//! with a separate reader sharing nothing with the engine, and agree with what the projects'
//! own tests expect of them (librdb's `stream_v13.json`, Rediscope's key list).
use serde_json::{json, Value as J};
use std::path::Path;

struct External {
    name: &'static str,
    file: &'static str,
    version: u32,
    features: &'static [&'static str],
    how: &'static str,
}

const FILES: &[External] = &[
    External {
        name: "external/librdb-stream-v13-idmp",
        file: "external/librdb/stream_v13_idmp",
        version: 13,
        features: &["stream-listpacks-4", "stream-idmp", "stream-pel"],
        how: "redis/librdb test/dumps/stream_v13_idmp.rdb at cc8dd3b (\"Support RDB v13\", 2026-02-24; MIT, see external/librdb/LICENSE): written by a Redis unstable build (aux redis-ver 255.255.255) with IDMP producers; librdb's test expects test/dumps/stream_v13.json of it",
    },
    External {
        name: "external/librdb-stream-v13",
        file: "external/librdb/stream_v13",
        version: 13,
        features: &["stream-listpacks-4", "stream-idmp", "stream-pel", "stream-lzf-node"],
        how: "redis/librdb test/dumps/stream_v13.rdb at cc8dd3b (MIT, see external/librdb/LICENSE): 49 streams of 0-2 groups, 0-2 PEL rows and 0-2 IDMP producers written by a Redis unstable build (aux redis-ver 255.255.255)",
    },
    External {
        name: "external/rediscope-native-types",
        file: "external/rediscope/native-types",
        version: 15,
        features: &["stream-listpacks-5", "array", "hash-listpack", "zset-listpack", "list-quicklist-2", "set-listpack"],
        how: "KeshavJha2002/Rediscope test/testdata/native-types.rdb at ea6a26e (2026-08-16; MIT, see external/rediscope/LICENSE): written by a real server reporting redis-ver 8.9.241 (an 8.10 pre-release build, by its version): a type 27 stream with the IDMP tail and a type 28 array; Rediscope's test expects 11 keys",
    },
    External {
        name: "external/rediscope-module",
        file: "external/rediscope/module",
        version: 15,
        features: &["module", "hash-listpack"],
        how: "KeshavJha2002/Rediscope test/testdata/module.rdb at ea6a26e (MIT, see external/rediscope/LICENSE): the same 8.9.241 build with a test module's value",
    },
];

/// The index entries of the external files, after checking both files of each exist.
pub fn entries(out: &Path) -> Result<Vec<J>, String> {
    let mut v = Vec::new();
    for f in FILES {
        let (file, expect) = (format!("{}.rdb", f.file), format!("{}.json", f.file));
        for p in [&file, &expect] {
            if !out.join(p).is_file() {
                return Err(format!("{p} is missing"));
            }
        }
        println!("  + {} (accept; real file)", f.name);
        v.push(json!({
            "name": f.name,
            "file": file,
            "expect": expect,
            "outcome": "accept",
            "origin": {
                "kind": "external",
                "how": f.how,
                "command": "cargo run -p redis-persist-tools --bin corpus-hand",
            },
            "rdb_version": f.version,
            "magic": "REDIS",
            "features": f.features,
            "evidence": "real file written by a Redis build; expectation written from its bytes by a separate reader",
        }));
    }
    Ok(v)
}
