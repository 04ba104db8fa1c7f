use super::*;

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../corpus")
}

#[test]
fn the_index_reads_and_writes_back_byte_for_byte() {
    let text = std::fs::read_to_string(dir().join("index.json")).unwrap();
    let index = Index::parse(&dir(), &text).unwrap();
    assert!(index.cases.len() > 100, "{} cases", index.cases.len());
    assert_eq!(
        index.to_text(),
        text,
        "the index's own writer must keep it as it is"
    );
}

#[test]
fn entries_that_reach_outside_the_corpus_are_refused() {
    for bad in ["/etc/passwd", "../outside.rdb", "rdb/../../x", ""] {
        let e = serde_json::json!({"name": "x", "file": bad});
        let err = Case::from_json(&e).unwrap_err();
        assert!(err.starts_with("x: "), "{bad}: {err}");
        let e = serde_json::json!({"name": "x", "file": "ok.rdb", "expect": bad});
        assert!(Case::from_json(&e).is_err(), "expect {bad}");
    }
}

#[test]
fn duplicate_names_and_unknown_outcomes_are_refused() {
    let two = r#"[{"name":"a","file":"a.rdb"},{"name":"a","file":"b.rdb"}]"#;
    assert!(Index::parse(&dir(), two)
        .unwrap_err()
        .contains("two entries"));
    let odd = r#"[{"name":"a","file":"a.rdb","outcome":"maybe"}]"#;
    assert!(Index::parse(&dir(), odd).unwrap_err().contains("outcome"));
}

#[test]
fn replace_keeps_other_producers_entries_sorted() {
    let text = r#"[{"name":"b","file":"b.rdb","origin":{"kind":"hand"}},
                   {"name":"c","file":"c.rdb","origin":{"kind":"server","build":"x"}}]"#;
    let mut index = Index::parse(&dir(), text).unwrap();
    let new = Case::from_json(&serde_json::json!({"name":"a","file":"a.rdb"})).unwrap();
    let gone = index.replace(|c| c.origin.kind == "hand", vec![new]);
    assert_eq!(
        gone.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(),
        ["b"]
    );
    let names: Vec<&str> = index.cases.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["a", "c"]);
}
