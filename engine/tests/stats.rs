//! `stats` counts what the file holds: on every accepted corpus RDB, the streaming pass (the
//! reader's visitor calls) and the count over the decoded dataset agree on keys, elements and
//! expiries per type and database, and the record bytes add up within the file.
use redis_persist_engine::corpus::{Format, Index};
use redis_persist_engine::format::rdb::{read_dataset, RdbReader, ReadOptions};
use redis_persist_engine::stats::Stats;
use std::path::Path;

#[test]
fn streaming_stats_agree_with_the_decoded_dataset() {
    let index = Index::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../corpus")).unwrap();
    let (mut compared, mut prefixes_compared) = (0, 0);
    for case in index
        .cases
        .iter()
        .filter(|c| c.accept && c.format == Format::Rdb)
    {
        let bytes = std::fs::read(index.file(case)).unwrap();
        let (ds, _) = read_dataset(&bytes, ReadOptions::default()).unwrap();
        let mut s = Stats::new(5, Some(b':'), 0);
        let mut r = RdbReader::new(&bytes[..], ReadOptions::default()).unwrap();
        r.read_all(&mut s).unwrap();
        let d = Stats::of_dataset(&ds, 5, Some(b':'), 0);
        // Servers skip empty collections on load, and the dataset leaves them out: so does the
        // comparison, through the element counts of the types that can be empty.
        for (ty, a) in &d.by_type {
            let b = s
                .by_type
                .get(ty)
                .unwrap_or_else(|| panic!("{}: no {ty}", case.name));
            // An array record may repeat an index (the last one wins when loaded): the file's
            // records are counted, the dataset holds the distinct indexes.
            if *ty != "array" {
                assert_eq!(a.elements, b.elements, "{}: {ty} elements", case.name);
            }
            assert_eq!(a.expires, b.expires, "{}: {ty} expires", case.name);
            if !matches!(*ty, "list" | "set" | "hash" | "zset") {
                assert_eq!(a.keys, b.keys, "{}: {ty} keys", case.name);
            }
        }
        assert_eq!(d.expiry.1, s.expiry.1, "{}: expiry buckets", case.name);
        if !d.by_type.contains_key("array") {
            assert_eq!(
                d.top_by_elements()
                    .iter()
                    .map(|k| k.elements)
                    .collect::<Vec<_>>(),
                s.top_by_elements()
                    .iter()
                    .map(|k| k.elements)
                    .collect::<Vec<_>>(),
                "{}: largest by elements",
                case.name
            );
        }
        assert!(
            s.total.bytes < bytes.len() as u64,
            "{}: record bytes",
            case.name
        );
        assert!(s.total.keys == 0 || s.total.bytes > 0, "{}", case.name);
        let keys_by_prefix = |st: &Stats| {
            let mut v: Vec<(Vec<u8>, u64)> = st
                .by_prefix
                .iter()
                .map(|(p, a)| (p.clone(), a.keys))
                .collect();
            v.sort();
            v
        };
        if d.total.keys == s.total.keys {
            assert_eq!(
                keys_by_prefix(&d),
                keys_by_prefix(&s),
                "{}: prefixes",
                case.name
            );
            prefixes_compared += 1;
        }
        compared += 1;
    }
    let accepted_rdb = index
        .cases
        .iter()
        .filter(|c| c.accept && c.format == Format::Rdb)
        .count();
    assert_eq!(compared, accepted_rdb);
    // Files holding empty collections (skipped on load) are left out of the prefix comparison.
    assert!(
        prefixes_compared * 10 >= compared * 9,
        "{prefixes_compared} of {compared}"
    );
}
