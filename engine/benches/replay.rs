//! Replay throughput: executes 3 M SET / RPUSH / HSET / ZADD commands (a quarter each, interleaved,
//! 1 000 collections growing to 750 elements each, 750 000 string keys) on a loading-mode keyspace,
//! as an AOF loader would: arguments are slices of one byte buffer. Prints commands per second
//! for a fresh keyspace each round. Run with `cargo bench -p redis-persist-engine --bench replay`.
use redis_persist_engine::keyspace::{Config, Keyspace, Session};
use std::hint::black_box;
use std::time::Instant;

const COMMANDS: usize = 3_000_000;

/// All arguments back to back, and per command the end offset of each argument.
struct Script {
    bytes: Vec<u8>,
    /// Per command: argument count, then that many end offsets into `bytes`.
    index: Vec<u32>,
}

fn script() -> Script {
    let mut s = Script {
        bytes: Vec::with_capacity(COMMANDS * 24),
        index: Vec::with_capacity(COMMANDS * 5),
    };
    for i in 0..COMMANDS {
        let n = i / 4;
        let coll = n % 1000;
        let args: Vec<String> = match i % 4 {
            0 => vec!["SET".into(), format!("key:{n}"), format!("value-{n}")],
            1 => vec![
                "RPUSH".into(),
                format!("list:{coll}"),
                format!("element-{n}"),
            ],
            2 => vec![
                "HSET".into(),
                format!("hash:{coll}"),
                format!("field-{n}"),
                format!("{n}"),
            ],
            _ => vec![
                "ZADD".into(),
                format!("zset:{coll}"),
                format!("{}.5", n % 9973),
                format!("member-{n}"),
            ],
        };
        s.index.push(args.len() as u32);
        for a in args {
            s.bytes.extend_from_slice(a.as_bytes());
            s.index.push(s.bytes.len() as u32);
        }
    }
    s
}

fn run(s: &Script, k: &mut Keyspace) {
    let mut session = Session::new();
    let (mut i, mut start) = (0, 0usize);
    let mut argv: [&[u8]; 8] = [&[]; 8];
    while i < s.index.len() {
        let argc = s.index[i] as usize;
        for (j, end) in s.index[i + 1..i + 1 + argc].iter().enumerate() {
            argv[j] = &s.bytes[start..*end as usize];
            start = *end as usize;
        }
        i += 1 + argc;
        black_box(
            k.execute(&mut session, 1_700_000_000_000, &argv[..argc])
                .expect("known command"),
        );
    }
}

fn main() {
    let s = script();
    let mut best = f64::MAX;
    for round in 0..3 {
        let mut k = Keyspace::with_config(Config::replay());
        let t = Instant::now();
        run(&s, &mut k);
        let secs = t.elapsed().as_secs_f64();
        best = best.min(secs);
        let keys = k.len();
        let t = Instant::now();
        drop(k);
        println!(
            "round {round}: {COMMANDS} commands in {secs:.3} s = {:.2} M commands/s ({keys} keys; dropped in {:.3} s)",
            COMMANDS as f64 / secs / 1e6,
            t.elapsed().as_secs_f64()
        );
    }
    println!(
        "replay: best {:.2} M commands/s",
        COMMANDS as f64 / best / 1e6
    );
}
