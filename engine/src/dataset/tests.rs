use super::*;

fn sample() -> Dataset {
    let mut d = Dataset {
        source: None,
        functions: vec![b"#!lua name=b\n".to_vec(), b"#!lua name=a\n".to_vec()],
        keys: vec![
            Entry {
                db: 1,
                key: b"z".to_vec(),
                expire_ms: Some(1_700_000_000_000),
                idle_s: None,
                freq: None,
                value: Value::String(vec![0xff, 0x00]),
                attrs: Default::default(),
            },
            Entry {
                db: 0,
                key: b"s".to_vec(),
                expire_ms: None,
                idle_s: Some(3),
                freq: None,
                value: Value::Set(vec![b"b".to_vec(), b"a".to_vec()]),
                attrs: Default::default(),
            },
            Entry {
                db: 0,
                key: b"empty".to_vec(),
                expire_ms: None,
                idle_s: None,
                freq: None,
                value: Value::List(vec![]),
                attrs: Default::default(),
            },
            Entry {
                db: 0,
                key: b"zs".to_vec(),
                expire_ms: None,
                idle_s: None,
                freq: Some(5),
                value: Value::Zset(vec![
                    ZsetMember {
                        member: b"b".to_vec(),
                        score: 1.5,
                    },
                    ZsetMember {
                        member: b"a".to_vec(),
                        score: f64::NEG_INFINITY,
                    },
                    ZsetMember {
                        member: b"c".to_vec(),
                        score: 1e300,
                    },
                ]),
                attrs: Default::default(),
            },
        ],
    };
    d.canonicalize();
    d
}

#[test]
fn canonical_order_and_empty_keys_dropped() {
    let d = sample();
    let names: Vec<_> = d
        .keys
        .iter()
        .map(|k| (k.db, String::from_utf8_lossy(&k.key).into_owned()))
        .collect();
    assert_eq!(
        names,
        vec![(0, "s".into()), (0, "zs".into()), (1, "z".into())]
    );
    assert_eq!(d.functions[0], b"#!lua name=a\n");
}

#[test]
fn json_round_trip_and_spelling() {
    let d = sample();
    let text = to_json_string(&d);
    assert!(text.contains(r#""b64": "/wA=""#), "{text}");
    assert!(text.contains(r#""-inf""#) && text.contains(r#""1e300""#) && text.contains(r#""1.5""#));
    let back = from_json_str(&text).unwrap();
    assert_eq!(back, d);
    assert_eq!(first_difference(&d, &back), None);
}

#[test]
fn equivalent_spellings_compare_equal() {
    let a = from_json_str(r#"{"format":"dataset/1","functions":[],"keys":[{"db":0,"key":"abc","type":"zset","expire_ms":null,"value":[["m","1.50"],["n","-0"]]}]}"#).unwrap();
    let b = from_json_str(r#"{"format":"dataset/1","functions":[],"keys":[{"db":0,"key":{"b64":"YWJj"},"type":"zset","expire_ms":null,"value":[["m","1.5"],["n","-0.0"]]}]}"#).unwrap();
    assert_eq!(a, b);
    assert_eq!(first_difference(&a, &b), None);
    // -0 is not 0: every score survives bit for bit.
    let c = from_json_str(r#"{"format":"dataset/1","functions":[],"keys":[{"db":0,"key":"abc","type":"zset","expire_ms":null,"value":[["m","1.5"],["n","0"]]}]}"#).unwrap();
    assert_ne!(a, c);
    assert_eq!(
        first_difference(&a, &c).as_deref(),
        Some(r#"keys[db 0 "abc"].value[1].score: expected -0, found 0"#)
    );
}

#[test]
fn difference_names_the_path() {
    let d = sample();
    let mut e = d.clone();
    if let Value::Set(m) = &mut e.keys[0].value {
        m[1] = b"x".to_vec();
    }
    let diff = first_difference(&d, &e).unwrap();
    assert_eq!(diff, r#"keys[db 0 "s"].value[1]: expected "b", found "x""#);
    let mut f = d.clone();
    f.keys.remove(1);
    assert_eq!(
        first_difference(&d, &f).unwrap(),
        r#"keys: missing db 0 key "zs""#
    );
}

/// Differences read in users' terms: no `Some(..)`/`None`, and a hash field named with its TTL.
#[test]
fn differences_read_in_users_terms() {
    let key = |freq, value| Entry {
        db: 0,
        key: b"h".to_vec(),
        expire_ms: None,
        idle_s: None,
        freq,
        value,
        attrs: Default::default(),
    };
    let one = |keys| Dataset {
        source: None,
        functions: vec![],
        keys,
    };
    let fields = |ttl: Option<i64>, v: &[u8]| {
        Value::Hash(vec![HashField {
            field: b"f".to_vec(),
            value: v.to_vec(),
            expire_ms: ttl,
        }])
    };
    let with = fields(Some(1_700_000_000_000), b"v");
    let diff = |a, b| first_difference(&one(vec![a]), &one(vec![b])).unwrap();
    assert_eq!(
        diff(key(Some(0), with.clone()), key(None, with.clone())),
        r#"keys[db 0 "h"].freq: expected 0, found none"#
    );
    assert_eq!(
        diff(key(None, with.clone()), key(None, fields(None, b"v"))),
        r#"keys[db 0 "h"].value[0] (field "f"): TTL expected 1700000000000 ms, found none"#
    );
    assert_eq!(
        diff(key(None, with), key(None, fields(Some(5), b"w"))),
        r#"keys[db 0 "h"].value[0] (field "f"): value expected "v", found "w""#
    );
}

#[test]
fn score_text_is_shortest_round_trip() {
    for (x, s) in [
        (0.1, "0.1"),
        (1.0, "1"),
        (-0.0, "-0"),
        (1e21, "1e21"),
        (1.5e-8, "1.5e-8"),
        (123456.789, "123456.789"),
    ] {
        assert_eq!(score_text(x), s);
        assert_eq!(s.parse::<f64>().unwrap().to_bits(), x.to_bits());
    }
}

/// `SortedJson` writes, from keys in any order and through spilled runs, the very bytes
/// `write_json` writes for the canonical dataset.
#[test]
fn sorted_json_writes_the_canonical_bytes() {
    let mut d = Dataset {
        source: Some(SourceInfo {
            kind: "rdb".into(),
            magic: Some("REDIS".into()),
            version: Some(10),
            aux: vec![(b"redis-ver".to_vec(), b"7.0.15".to_vec())],
        }),
        functions: vec![b"#!lua name=b\n".to_vec(), b"#!lua name=a\n".to_vec()],
        keys: Vec::new(),
    };
    for i in (0..400u32).rev() {
        let value = match i % 4 {
            0 => Value::String(format!("v\n{i}").into_bytes()),
            1 => Value::List(vec![b"a".to_vec(), vec![0xff, i as u8]]),
            2 => Value::Set(vec![format!("m{i}").into_bytes()]),
            _ => Value::Zset(vec![ZsetMember {
                member: b"z".to_vec(),
                score: -0.5,
            }]),
        };
        d.keys.push(Entry {
            db: u64::from(i % 3),
            key: format!("k{i}").into_bytes(),
            expire_ms: (i % 5 == 0).then_some(i64::from(i)),
            idle_s: None,
            freq: None,
            value,
            attrs: KeyAttrs::default(),
        });
    }
    let mut s = SortedJson::new(2048);
    for e in &d.keys {
        s.push(e).unwrap();
    }
    assert!(s.runs() > 5, "the test must spill");
    let mut ours = Vec::new();
    s.finish(&d, &mut ours).unwrap();
    d.canonicalize();
    let mut want = Vec::new();
    write_json(&d, &mut want).unwrap();
    assert_eq!(
        String::from_utf8(ours).unwrap(),
        String::from_utf8(want).unwrap()
    );
}
