//! Pins the writer's bytes: a hex dump of the RDB written for small canonical datasets, one per
//! type and encoding and per target version, so any change to what we write is a reviewed diff.
//! Each pinned file must decode to its input; a lossy one is pinned only with its loss report,
//! which must be exactly the loss listed in `writer_support/losses.rs`, and decodes to the input
//! on every key the report does not name.
#[path = "writer_support/losses.rs"]
mod losses;
#[path = "writer_support/streams.rs"]
mod streams;
use redis_persist_engine::dataset::*;
use redis_persist_engine::format::rdb::{write_dataset, Target, Thresholds, WriteOptions};
use streams::{stream, stream_8x};

fn key(k: &str, value: Value) -> Entry {
    Entry {
        db: 0,
        key: k.as_bytes().to_vec(),
        expire_ms: None,
        idle_s: None,
        freq: None,
        value,
        attrs: Default::default(),
    }
}

fn b(s: &str) -> Vec<u8> {
    s.as_bytes().to_vec()
}

fn hash(fields: &[(&str, &str, Option<i64>)]) -> Value {
    Value::Hash(
        fields
            .iter()
            .map(|(f, v, t)| HashField {
                field: b(f),
                value: b(v),
                expire_ms: *t,
            })
            .collect(),
    )
}

fn zset(m: &[(&str, f64)]) -> Value {
    Value::Zset(
        m.iter()
            .map(|(k, s)| ZsetMember {
                member: b(k),
                score: *s,
            })
            .collect(),
    )
}

/// Thresholds lowered to 2 entries so tiny values reach the large encodings.
fn tiny() -> Thresholds {
    Thresholds {
        hash_max_listpack_entries: 2,
        zset_max_listpack_entries: 2,
        set_max_intset_entries: 2,
        set_max_listpack_entries: 2,
        list_max_ziplist_entries: 2,
        list_node_bytes: 24,
        stream_node_max_entries: 2,
        ..Thresholds::default()
    }
}

fn cases() -> Vec<(&'static str, Vec<Entry>, Thresholds)> {
    let small = Thresholds::default();
    vec![
        (
            "string-int",
            vec![key("n", Value::String(b("-12345")))],
            small,
        ),
        (
            "string-raw",
            vec![key("s", Value::String(b("hello")))],
            small,
        ),
        (
            "string-lzf",
            vec![key("z", Value::String(vec![b'a'; 40]))],
            small,
        ),
        (
            "string-binary-expire",
            vec![Entry {
                expire_ms: Some(1_700_000_000_123),
                ..key("\u{1}k", Value::String(vec![0, 0xff, 0x80]))
            }],
            small,
        ),
        (
            "list-small",
            vec![key(
                "l",
                Value::List(vec![b("a"), b("7"), b("-300"), b("70000")]),
            )],
            small,
        ),
        (
            "list-large",
            vec![key(
                "l",
                Value::List(vec![b("one"), b("two"), b("three"), b("four")]),
            )],
            tiny(),
        ),
        (
            "set-intset",
            vec![key("s", Value::Set(vec![b("1"), b("70000"), b("-5")]))],
            small,
        ),
        (
            "set-listpack",
            vec![key("s", Value::Set(vec![b("a"), b("b"), b("1")]))],
            small,
        ),
        (
            "set-hashtable",
            vec![key("s", Value::Set(vec![b("a"), b("b"), b("c")]))],
            tiny(),
        ),
        (
            "hash-small",
            vec![key("h", hash(&[("f", "v", None), ("n", "12", None)]))],
            small,
        ),
        (
            "hash-large",
            vec![key(
                "h",
                hash(&[("a", "1", None), ("b", "2", None), ("c", "3", None)]),
            )],
            tiny(),
        ),
        (
            "hash-field-ttl-small",
            vec![key(
                "h",
                hash(&[("a", "1", Some(1_800_000_000_000)), ("b", "2", None)]),
            )],
            small,
        ),
        (
            "hash-field-ttl-large",
            vec![key(
                "h",
                hash(&[
                    ("a", "1", Some(1_800_000_000_000)),
                    ("b", "2", None),
                    ("c", "3", Some(1_800_000_000_001)),
                ]),
            )],
            tiny(),
        ),
        (
            "zset-small",
            vec![key(
                "z",
                zset(&[("a", 1.0), ("b", 2.5), ("c", f64::INFINITY)]),
            )],
            small,
        ),
        (
            "zset-large",
            vec![key("z", zset(&[("a", -1.5), ("b", 0.1), ("c", 3.0)]))],
            tiny(),
        ),
        ("stream", vec![key("x", stream())], tiny()),
        (
            "module",
            vec![key(
                "m",
                Value::Module(ModuleValue {
                    name: "AAAAAAAAA".into(),
                    id: 1023,
                    encver: 1023,
                    payload: vec![2, 5, 5, 0xc0, 9, 0],
                }),
            )],
            small,
        ),
        ("stream-8x", vec![key("x", stream_8x())], tiny()),
        (
            "array",
            vec![key(
                "a",
                Value::Array(Array {
                    insert_idx: Some(2),
                    elements: vec![
                        (0, b("12")),
                        (1, b("abc")),
                        (2, b("1.5")),
                        (1 << 40, b("a longer value")),
                    ],
                }),
            )],
            small,
        ),
        (
            "key-meta",
            vec![Entry {
                attrs: KeyAttrs {
                    meta: vec![KeyMeta {
                        class: "KMT1".into(),
                        version: 1,
                        flags: 1,
                        payload: vec![2, 42, 5, 0x02, b'h', b'i', 0],
                    }],
                    hash_template: false,
                },
                ..key("k", Value::String(b("v")))
            }],
            small,
        ),
        (
            "hash-template",
            vec![
                Entry {
                    attrs: KeyAttrs {
                        meta: vec![],
                        hash_template: true,
                    },
                    ..key("h1", hash(&[("name", "ann", None), ("age", "30", None)]))
                },
                Entry {
                    attrs: KeyAttrs {
                        meta: vec![],
                        hash_template: true,
                    },
                    ..key(
                        "h2",
                        hash(&[("name", "bob", None), ("age", &"x".repeat(70), None)]),
                    )
                },
            ],
            small,
        ),
        (
            "lru-lfu",
            vec![
                Entry {
                    idle_s: Some(300),
                    ..key("i", Value::String(b("1")))
                },
                Entry {
                    freq: Some(7),
                    ..key("j", Value::String(b("2")))
                },
            ],
            small,
        ),
    ]
}

fn hexdump(bytes: &[u8]) -> String {
    let mut s = String::new();
    for (i, row) in bytes.chunks(16).enumerate() {
        let hex: Vec<String> = row.iter().map(|b| format!("{b:02x}")).collect();
        let text: String = row
            .iter()
            .map(|&b| {
                if (0x20..0x7f).contains(&b) {
                    b as char
                } else {
                    '.'
                }
            })
            .collect();
        s.push_str(&format!(
            "{:06x}  {:<47}  {}\n",
            i * 16,
            hex.join(" "),
            text
        ));
    }
    s
}

#[test]
fn writer_bytes_are_pinned() {
    let functions = vec![b(
        "#!lua name=lib\nredis.register_function('f', function() return 1 end)",
    )];
    let mut problems = Vec::new();
    let (mut exact, mut lossy) = (0, 0);
    for t in Target::all() {
        for (name, keys, th) in cases() {
            let mut ds = Dataset {
                source: None,
                functions: if name == "string-raw" {
                    functions.clone()
                } else {
                    vec![]
                },
                keys,
            };
            ds.canonicalize();
            let expected = losses::expected(name, t);
            let mut opts = WriteOptions::new(t, 1_700_000_000);
            opts.thresholds = th;
            // Loss is allowed only where the table expects some: elsewhere a refusal fails.
            opts.allow_loss = expected.iter().any(|x| x.lost);
            let mut bytes = Vec::new();
            let written = match write_dataset(&ds, &opts, &mut bytes) {
                Ok(w) => w,
                Err(e) => {
                    problems.push(format!("{name} at {t}: {e}"));
                    continue;
                }
            };
            if let Err(e) = losses::check(name, t, &written.report) {
                problems.push(e);
            }
            if written.report.lost.is_empty() {
                exact += 1;
            } else {
                lossy += 1;
            }
            // A snapshot of a file that does not read back as its input is worthless.
            if let Err(e) = losses::decodes_to_input(name, t, &ds, &bytes) {
                problems.push(format!("{name} at {t} decodes otherwise: {e}"));
            }
            let snap = format!("{}__{name}", t.to_string().to_lowercase());
            insta::with_settings!({ snapshot_path => "snapshots/writer", prepend_module_to_snapshot => false, omit_expression => true }, {
                insta::assert_snapshot!(snap, hexdump(&bytes));
            });
        }
    }
    eprintln!("{exact} snapshots written without loss, {lossy} with their expected loss report");
    assert_eq!(exact + lossy, Target::all().len() * cases().len());
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Every entry of the loss table applies to some target and case, so none is dead.
#[test]
fn every_expected_loss_is_met() {
    let names: Vec<&str> = cases().into_iter().map(|c| c.0).collect();
    for x in losses::EXPECTED {
        assert!(names.contains(&x.case), "no case {}", x.case);
        assert!(
            Target::all().into_iter().any(|t| x.applies(x.case, t)),
            "{} {:?} {} applies to no target",
            x.case,
            x.key,
            x.what
        );
    }
}
