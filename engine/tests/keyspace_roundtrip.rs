//! `Keyspace::from_dataset` then `to_dataset` is the identity on every corpus expectation
//! (`corpus/rdb/*/*.json`), and `to_dataset(Some(now))` leaves out exactly what has expired.
use redis_persist_engine::dataset::{
    first_difference, from_json_str, Dataset, Entry, HashField, Value,
};
use redis_persist_engine::keyspace::Keyspace;
use std::path::Path;

fn expectations() -> Vec<(String, Dataset)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../corpus/rdb");
    let mut out = Vec::new();
    for build in std::fs::read_dir(&root).expect("corpus/rdb") {
        let build = build.expect("dir entry").path();
        for f in std::fs::read_dir(&build).expect("build dir") {
            let f = f.expect("dir entry").path();
            // `<case>.dumps.json` holds recorded DUMP payloads, not an expectation.
            let dumps = f.to_string_lossy().ends_with(".dumps.json");
            if f.extension().is_some_and(|e| e == "json") && !dumps {
                let text = std::fs::read_to_string(&f).expect("readable");
                let d = from_json_str(&text).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
                out.push((f.display().to_string(), d));
            }
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

#[test]
fn every_corpus_expectation_round_trips() {
    let cases = expectations();
    // Exactly the expectations corpus/index.json lists under corpus/rdb.
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../corpus");
    let index = redis_persist_engine::corpus::Index::load(&corpus).expect("corpus index");
    let canon = |p: &Path| std::fs::canonicalize(p).expect("an existing file");
    let listed: std::collections::BTreeSet<_> = index
        .cases
        .iter()
        .filter_map(|c| c.expect.as_ref())
        .map(|e| canon(&index.dir.join(e)))
        .filter(|p| p.starts_with(canon(&corpus.join("rdb"))))
        .collect();
    let found: std::collections::BTreeSet<_> =
        cases.iter().map(|(n, _)| canon(Path::new(n))).collect();
    assert!(
        !listed.is_empty(),
        "the index lists no expectation under corpus/rdb"
    );
    assert_eq!(found, listed, "expectations found vs listed in the index");
    let mut failures = Vec::new();
    for (name, d) in &cases {
        let back = Keyspace::from_dataset(d).to_dataset(None);
        if let Some(diff) = first_difference(d, &back) {
            failures.push(format!("{name}: {diff}"));
        } else if d != &back {
            failures.push(format!("{name}: datasets differ"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} round-trip failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn loading_at_a_time_drops_expired_keys_and_fields() {
    let key = |k: &str, expire_ms: Option<i64>, value: Value| Entry {
        db: 0,
        key: k.into(),
        expire_ms,
        idle_s: None,
        freq: None,
        value,
        attrs: Default::default(),
    };
    let field = |f: &str, e: Option<i64>| HashField {
        field: f.into(),
        value: b"v".to_vec(),
        expire_ms: e,
    };
    let mut d = Dataset {
        source: None,
        functions: vec![],
        keys: vec![
            key("gone", Some(999), Value::String(b"x".to_vec())),
            key("edge", Some(1000), Value::String(b"x".to_vec())),
            key("kept", None, Value::String(b"x".to_vec())),
            key(
                "h",
                None,
                Value::Hash(vec![
                    field("old", Some(999)),
                    field("now", Some(1000)),
                    field("plain", None),
                ]),
            ),
            key("h2", None, Value::Hash(vec![field("old", Some(5))])),
        ],
    };
    d.canonicalize();
    let k = Keyspace::from_dataset(&d);
    assert_eq!(k.to_dataset(None), d);
    let at = k.to_dataset(Some(1000));
    let names: Vec<&[u8]> = at.keys.iter().map(|e| e.key.as_slice()).collect();
    // A key expires when now > expire; a field when expire < now (Redis's rules).
    assert_eq!(names, vec![&b"edge"[..], b"h", b"kept"]);
    let Value::Hash(fields) = &at.keys[1].value else {
        panic!("hash")
    };
    let fnames: Vec<&[u8]> = fields.iter().map(|f| f.field.as_slice()).collect();
    assert_eq!(fnames, vec![&b"now"[..], b"plain"]);
}
