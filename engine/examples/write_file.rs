//! Decodes an RDB and writes it back at RDB 10, timing only the write: a profiling harness for
//! the writer (`cargo run --release -p redis-persist-engine --example write_file -- FILE [OUT]`).
use redis_persist_engine::format::rdb::{
    read_dataset, write_dataset, ReadOptions, Target, WriteOptions,
};
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let bytes = std::fs::read(&args[1]).expect("FILE");
    let (ds, _) = read_dataset(&bytes, ReadOptions::default()).expect("decodes");
    drop(bytes);
    let out = args.get(2).cloned().unwrap_or_else(|| "/dev/null".into());
    for _ in 0..3 {
        let t = Instant::now();
        let f = std::io::BufWriter::new(std::fs::File::create(&out).expect("OUT"));
        let w = write_dataset(
            &ds,
            &WriteOptions::new(Target::redis(10).expect("10"), 0),
            f,
        )
        .expect("writes");
        let s = t.elapsed().as_secs_f64();
        println!(
            "{} bytes, {} keys in {s:.2} s ({:.0} MB/s)",
            w.bytes,
            w.keys,
            w.bytes as f64 / s / 1e6
        );
    }
}
