//! The three dataset shapes `big-bench` has a real server write, as deterministic command units:
//! unit `i` of a shape always yields the same commands, so a file is fixed by shape and unit count.
use redis_persist_engine::rng::Rng;

/// One kind of RDB file to benchmark on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// Many small string keys whose values (24 to ~400 bytes of repeated words) LZF compresses.
    Strings,
    /// Lists, hashes, sets and sorted sets whose sizes straddle the listpack/intset limits.
    Collections,
    /// Streams with consumer groups, consumers and pending entries (some acknowledged).
    Streams,
}

/// Words the generated text is drawn from: a small vocabulary repeats within a value, which is
/// what gives LZF back-references to find, as in real JSON-ish or log-ish values.
const WORDS: &[&str] = &[
    "alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet",
    "kilo", "lima", "mike", "november", "oscar", "papa", "quebec", "romeo", "sierra", "tango",
    "uniform", "victor", "whiskey", "xray", "yankee", "zulu", "status", "active", "user", "id",
    "region", "eu-west",
];

/// String keys per `Strings` unit.
const STRINGS_PER_UNIT: u64 = 100;
/// Elements per command when filling a collection, so no single command is huge.
const ELEMENTS_PER_COMMAND: usize = 500;

fn b(s: &str) -> Vec<u8> {
    s.as_bytes().to_vec()
}

/// Words joined by spaces (with a counter mixed in) until the text is at least `len` bytes.
fn words(rng: &mut Rng, len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len + 16);
    while out.len() < len {
        if !out.is_empty() {
            out.push(b' ');
        }
        out.extend_from_slice(rng.pick(WORDS).as_bytes());
        if rng.chance(1, 4) {
            out.extend_from_slice(format!("={}", rng.below(10_000)).as_bytes());
        }
    }
    out
}

impl Shape {
    /// Every shape, in the order the benchmark reports them.
    pub const ALL: [Shape; 3] = [Shape::Strings, Shape::Collections, Shape::Streams];

    /// The name used in cache file names and in the report.
    pub fn name(self) -> &'static str {
        match self {
            Shape::Strings => "strings",
            Shape::Collections => "collections",
            Shape::Streams => "streams",
        }
    }

    /// Units to load before a calibration SAVE: enough for a stable bytes-per-unit figure
    /// (roughly 10-30 MB of file), few enough to cost a few seconds.
    pub fn pilot_units(self) -> u64 {
        match self {
            Shape::Strings => 2_000,
            Shape::Collections => 1_000,
            Shape::Streams => 300,
        }
    }

    /// The commands of unit `i`. Each unit has its own generator seed, so units can be sent
    /// in any split (pilot, then the rest) and still produce the same dataset.
    pub fn unit(self, i: u64) -> Vec<Vec<Vec<u8>>> {
        let mut rng = Rng::new(0x5eed_0000_0000_0000 ^ i.wrapping_mul(0x9e37_79b9_7f4a_7c15));
        match self {
            Shape::Strings => strings(i, &mut rng),
            Shape::Collections => collection(i, &mut rng),
            Shape::Streams => stream(i, &mut rng),
        }
    }
}

fn strings(i: u64, rng: &mut Rng) -> Vec<Vec<Vec<u8>>> {
    (0..STRINGS_PER_UNIT)
        .map(|j| {
            let k = i * STRINGS_PER_UNIT + j;
            // Skewed towards short values, as caches usually are; all above LZF's 20-byte floor.
            let span = if rng.chance(1, 5) { 400 } else { 120 };
            let len = 24 + rng.below(span) as usize;
            vec![
                b("SET"),
                format!("str:{k:010}").into_bytes(),
                words(rng, len),
            ]
        })
        .collect()
}

/// A size class: 60% small (stays listpack/intset), 30% past the 128-entry listpack limit, 10%
/// large (thousands of elements, many quicklist nodes or a big hashtable/skiplist).
fn collection_size(rng: &mut Rng) -> usize {
    match rng.below(10) {
        0..=5 => 1 + rng.below(100) as usize,
        6..=8 => 100 + rng.below(900) as usize,
        _ => 1_000 + rng.below(9_000) as usize,
    }
}

/// An element: mostly short text, sometimes an integer, sometimes longer than the 64-byte
/// listpack value limit (which alone turns a small hash or zset into a hashtable or skiplist).
fn element(rng: &mut Rng, n: usize) -> Vec<u8> {
    match rng.below(20) {
        0..=3 => (rng.below(1_000_000)).to_string().into_bytes(),
        4 => {
            let len = 70 + rng.below(100) as usize;
            words(rng, len)
        }
        _ => {
            let len = 4 + rng.below(30) as usize;
            let mut v = words(rng, len);
            v.extend_from_slice(format!(":{n}").as_bytes());
            v
        }
    }
}

fn collection(i: u64, rng: &mut Rng) -> Vec<Vec<Vec<u8>>> {
    let size = collection_size(rng);
    let (verb, key) = match i % 4 {
        0 => ("RPUSH", format!("list:{i}")),
        1 => ("HSET", format!("hash:{i}")),
        2 => ("SADD", format!("set:{i}")),
        _ => ("ZADD", format!("zset:{i}")),
    };
    // Half the sets hold only integers: an intset up to 512 members, a hashtable past that.
    let int_set = i % 8 == 2;
    let mut cmds = Vec::new();
    let mut n = 0;
    while n < size {
        let mut c = vec![b(verb), key.clone().into_bytes()];
        for _ in 0..ELEMENTS_PER_COMMAND.min(size - n) {
            match verb {
                "HSET" => {
                    c.push(format!("field:{n}").into_bytes());
                    c.push(element(rng, n));
                }
                "ZADD" => {
                    c.push(format!("{}", rng.below(1_000_000) as f64 / 64.0).into_bytes());
                    c.push(element(rng, n));
                }
                "SADD" if int_set => c.push(rng.below(1 << 40).to_string().into_bytes()),
                _ => c.push(element(rng, n)),
            }
            n += 1;
        }
        cmds.push(c);
    }
    cmds
}

fn stream(i: u64, rng: &mut Rng) -> Vec<Vec<Vec<u8>>> {
    let key = format!("stream:{i}").into_bytes();
    let entries = 100 + rng.below(1_900);
    let id = |j: u64| format!("{}-{}", 1_700_000_000_000 + j / 3, j % 3).into_bytes();
    let mut cmds: Vec<Vec<Vec<u8>>> = (0..entries)
        .map(|j| {
            let mut c = vec![b("XADD"), key.clone(), id(j)];
            // Most entries repeat the master entry's fields (stored compactly); some do not.
            if rng.chance(9, 10) {
                c.extend([b("sensor"), format!("s{}", rng.below(64)).into_bytes()]);
                c.extend([b("value"), format!("{}", rng.below(100_000)).into_bytes()]);
                let len = 8 + rng.below(40) as usize;
                c.extend([b("note"), words(rng, len)]);
            } else {
                let len = 16 + rng.below(80) as usize;
                c.extend([b("event"), words(rng, len)]);
            }
            c
        })
        .collect();
    // 0 to 2 groups, each with two consumers that read a quarter of the stream apiece; the
    // first consumer acknowledges every other entry it read, so the PEL is partly drained.
    let quarter = (entries / 4).to_string().into_bytes();
    for g in 0..i % 3 {
        let group = format!("group{g}").into_bytes();
        cmds.push(vec![
            b("XGROUP"),
            b("CREATE"),
            key.clone(),
            group.clone(),
            b("0"),
        ]);
        for consumer in ["alice", "bob"] {
            cmds.push(vec![
                b("XREADGROUP"),
                b("GROUP"),
                group.clone(),
                b(consumer),
                b("COUNT"),
                quarter.clone(),
                b("STREAMS"),
                key.clone(),
                b(">"),
            ]);
        }
        let mut ack = vec![b("XACK"), key.clone(), group];
        ack.extend((0..entries / 4).step_by(2).map(id));
        cmds.push(ack);
    }
    cmds
}
