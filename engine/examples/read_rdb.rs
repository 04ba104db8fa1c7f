//! Quick start (shown in the README): read an RDB into the logical dataset, list its keys, print
//! it as Dataset JSON and write it again as RDB 11. `cargo run -p redis-persist-engine --example read_rdb -- FILE`
use redis_persist_engine::check::checksum_phrase;
use redis_persist_engine::dataset::to_json_string;
use redis_persist_engine::format::rdb::{
    read_dataset, write_dataset, ReadOptions, Target, WriteOptions,
};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Without an argument, a file of the conformance corpus that Redis 7.0.15 wrote.
    let path = std::env::args().nth(1).unwrap_or_else(|| {
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../corpus/rdb/redis-7.0.15/lists.rdb"
        )
        .into()
    });
    let bytes = std::fs::read(&path)?;
    // A file Redis would refuse is an Err: kind, byte offset and what was being read.
    let (ds, trailer) = read_dataset(&bytes, ReadOptions::default())?;
    println!(
        "{} keys, checksum {}",
        ds.keys.len(),
        checksum_phrase(trailer.checksum)
    );
    for e in ds.keys.iter().take(3) {
        let key = String::from_utf8_lossy(&e.key);
        let ttl = e
            .expire_ms
            .map_or("no TTL".into(), |t| format!("expires at {t} ms"));
        println!("db {} {} {key:?}, {ttl}", e.db, e.value.type_name());
    }
    // The lossless JSON form of docs/dataset-json.md.
    let json = to_json_string(&ds);
    println!("Dataset JSON: {} bytes", json.len());
    // Written back at another version: refused (an Err) if RDB 11 could not hold all of it.
    let mut rdb = Vec::new();
    let target = Target::redis(11).expect("the writer supports RDB 6 to 15");
    let w = write_dataset(&ds, &WriteOptions::new(target, 0), &mut rdb)?;
    println!("{target}: {} bytes, {} keys", w.bytes, w.keys);
    Ok(())
}
