//! Keys of the plain collection types, at every encoding boundary a server has: int-encoded and
//! LZF strings, quicklist nodes, intset widths, listpacks, hashtables, skiplists, hash field TTLs.
use crate::ctx::{r, Arg, Ctx};
use crate::ctx::{BEYOND_U32_SECONDS_MS, FAR_MS, FIELD_TTL_MAX_MS, YEAR_9999_MS};
use std::io;

/// Deterministic bytes that do not compress.
pub fn noise(seed: u64, len: usize) -> Vec<u8> {
    redis_persist_engine::rng::Rng::new(seed).bytes(len)
}

/// Runs a variadic command: `cmd key items...`.
pub fn variadic(x: &mut Ctx, cmd: &str, key: impl Arg, items: Vec<Vec<u8>>) -> io::Result<()> {
    let mut a = vec![cmd.to_arg(), key.to_arg()];
    a.extend(items);
    x.call(a)?;
    Ok(())
}

/// Text items as byte arguments.
pub fn texts<I: IntoIterator<Item = S>, S: Into<String>>(items: I) -> Vec<Vec<u8>> {
    items.into_iter().map(|s| s.into().into_bytes()).collect()
}

/// Integers at every boundary of the int encodings (RDB INT8/16/32, ziplist/listpack widths)
/// and texts that look like integers but must stay strings.
const INTS: &[&str] = &[
    "0",
    "1",
    "-1",
    "12",
    "13",
    "63",
    "64",
    "127",
    "128",
    "-128",
    "-129",
    "255",
    "4095",
    "4096",
    "-4096",
    "-4097",
    "32767",
    "32768",
    "-32768",
    "-32769",
    "8388607",
    "8388608",
    "-8388608",
    "-8388609",
    "2147483647",
    "2147483648",
    "-2147483648",
    "-2147483649",
    "9223372036854775807",
    "-9223372036854775808",
    "007",
    "-0",
    "+1",
    " 1",
    "1 ",
    "18446744073709551616",
    "1.5",
];

pub fn strings(x: &mut Ctx) -> io::Result<()> {
    for v in INTS {
        r!(x, "SET", format!("int:{v}"), v)?;
    }
    r!(x, "SET", "str:short", "hello")?;
    r!(x, "SET", "str:embstr-44", "e".repeat(44))?;
    r!(x, "SET", "str:raw-45", "r".repeat(45))?;
    // LZF is only tried above 20 bytes.
    r!(x, "SET", "str:20-bytes", "a".repeat(20))?;
    r!(x, "SET", "str:21-bytes", "a".repeat(21))?;
    r!(x, "SET", "str:compressible", "abcd".repeat(100))?;
    r!(x, "SET", "str:noise", noise(1, 300))?;
    // Above 16383 bytes the length prefix takes its 32-bit form.
    r!(x, "SET", "str:long-20000", "0123456789abcdef".repeat(1250))?;
    r!(x, "INCRBY", "str:counter", "41")?;
    r!(x, "INCR", "str:counter")?;
    r!(x, "APPEND", "str:appended", "ab")?;
    r!(x, "APPEND", "str:appended", "cd")?;
    r!(x, "SET", b"bin:\x00\xff", b"\x00\x01\xff\xfe")?;
    r!(x, "SET", b"\xc3\x28", "key is invalid UTF-8")?;
    r!(x, "SET", "ctrl:\x01\x1b[0m\n\t", "\r\n\x7f\x00")?;
    r!(x, "SET", "emoji:\u{1f600}", "\u{1f389}\u{2713} na\u{ef}ve")?;
    r!(x, "SET", "", "")?;
    r!(x, "SET", "str:empty", "")?;
    r!(x, "SET", "exp:far", "v")?;
    x.pexpireat("exp:far", FAR_MS + 123)?;
    r!(x, "SET", "exp:beyond-32bit-seconds", "v")?;
    x.pexpireat("exp:beyond-32bit-seconds", BEYOND_U32_SECONDS_MS)?;
    r!(x, "SET", "exp:year-9999", "v")?;
    x.pexpireat("exp:year-9999", YEAR_9999_MS)?;
    r!(x, "SET", "exp:seconds", "v")?;
    x.expireat_s("exp:seconds", FAR_MS / 1000 + 1)?;
    r!(x, "SET", "exp:int", "12345")?;
    x.pexpireat("exp:int", FAR_MS + 7)?;
    r!(x, "SET", b"exp:\xff", b"\xfe")?;
    x.pexpireat(b"exp:\xff", FAR_MS + 8)?;
    r!(x, "SET", "shared", "db0")?;
    x.select(1)?;
    r!(x, "SET", "db1:key", "one")?;
    r!(x, "SET", "shared", "db1")?;
    r!(x, "SET", "exp:db1", "v")?;
    x.pexpireat("exp:db1", FAR_MS + 1)?;
    x.select(15)?;
    r!(x, "SET", "db15:key", "fifteen")?;
    r!(x, "SET", "shared", "db15")?;
    x.pexpireat("shared", FAR_MS + 15)?;
    x.select(0)
}

pub fn lists(x: &mut Ctx) -> io::Result<()> {
    variadic(x, "RPUSH", "list:small", texts(["a", "b", "c"]))?;
    variadic(
        x,
        "RPUSH",
        "list:small-ints",
        texts(["1", "-1", "127", "-128"]),
    )?;
    variadic(x, "RPUSH", "list:ints", texts(INTS.iter().copied()))?;
    variadic(
        x,
        "RPUSH",
        "list:multi",
        texts((0..40).map(|i| format!("e{i}"))),
    )?;
    variadic(x, "LPUSH", "list:lpush", texts(["x", "y", "z"]))?;
    let bin = vec![
        b"\x00".to_vec(),
        b"\xff\xfe".to_vec(),
        Vec::new(),
        "\u{1f600}".as_bytes().to_vec(),
        b"\r\n\x1b".to_vec(),
    ];
    variadic(x, "RPUSH", "list:binary", bin)?;
    // Around the ziplist 254-byte previous-entry-length boundary.
    let prevlen = [253, 254, 255, 300].map(|n| "p".repeat(n).into_bytes());
    variadic(x, "RPUSH", "list:prevlen", prevlen.to_vec())?;
    // Elements above 8 KB become PLAIN nodes from 7.4 on.
    let big = vec![
        b"small-1".to_vec(),
        "B".repeat(9000).into_bytes(),
        b"small-2".to_vec(),
        noise(2, 20_000),
        b"small-3".to_vec(),
    ];
    variadic(x, "RPUSH", "list:big-elements", big)?;
    x.pexpireat("list:small", FAR_MS + 2)?;
    Ok(())
}

pub fn lists_compressed(x: &mut Ctx) -> io::Result<()> {
    // Nodes of 4 compressible 70-byte elements (> 48 bytes, the smallest node LZF is tried on).
    let items = texts((0..40).map(|i| format!("compressible-element-{i:03}-{}", "z".repeat(48))));
    variadic(x, "RPUSH", "list:compressed", items)?;
    variadic(
        x,
        "RPUSH",
        "list:two-nodes",
        texts((0..8).map(|i| format!("{i}"))),
    )?;
    let ints = texts((0..24).map(|i| (i * 1_000_003i64).to_string()));
    variadic(x, "RPUSH", "list:compressed-ints", ints)?;
    Ok(())
}

pub fn sets(x: &mut Ctx) -> io::Result<()> {
    variadic(
        x,
        "SADD",
        "set:int16",
        texts(["1", "2", "3", "-5", "32767", "-32768"]),
    )?;
    let i32s = ["1", "70000", "-2147483648", "2147483647"];
    variadic(x, "SADD", "set:int32", texts(i32s))?;
    let i64s = [
        "1",
        "1099511627776",
        "-9223372036854775808",
        "9223372036854775807",
    ];
    variadic(x, "SADD", "set:int64", texts(i64s))?;
    variadic(x, "SADD", "set:small", texts(["a", "b", "c"]))?;
    variadic(x, "SADD", "set:mixed", texts(["1", "a", "2"]))?;
    variadic(
        x,
        "SADD",
        "set:many-ints",
        texts((0..40).map(|i| i.to_string())),
    )?;
    variadic(
        x,
        "SADD",
        "set:many",
        texts((0..30).map(|i| format!("m{i:02}"))),
    )?;
    variadic(
        x,
        "SADD",
        "set:long-member",
        texts(["x".repeat(100), "y".into()]),
    )?;
    let bin = vec![
        Vec::new(),
        b"\x00".to_vec(),
        b"\xff".to_vec(),
        "\u{1f600}".as_bytes().to_vec(),
    ];
    variadic(x, "SADD", "set:binary", bin)?;
    x.pexpireat("set:small", FAR_MS + 3)?;
    Ok(())
}

pub fn hashes(x: &mut Ctx) -> io::Result<()> {
    let pairs = ["f1", "v1", "f2", "123", "f3", "-7", "", ""];
    variadic(x, "HSET", "hash:small", texts(pairs))?;
    let ints = [
        "a",
        "0",
        "b",
        "127",
        "c",
        "70000",
        "d",
        "9223372036854775807",
    ];
    variadic(x, "HSET", "hash:ints", texts(ints))?;
    let many = (0..20).flat_map(|i| [format!("f{i:02}"), format!("v{i}")]);
    variadic(x, "HSET", "hash:many", texts(many))?;
    variadic(
        x,
        "HSET",
        "hash:long-value",
        texts(["f".into(), "x".repeat(100)]),
    )?;
    let bin = vec![
        b"\x00".to_vec(),
        b"\xff".to_vec(),
        "\u{1f600}".as_bytes().to_vec(),
        "\u{e9}".as_bytes().to_vec(),
    ];
    variadic(x, "HSET", "hash:binary", bin)?;
    x.pexpireat("hash:small", FAR_MS + 4)?;
    Ok(())
}

fn hpexpireat(x: &mut Ctx, key: &str, ms: i64, fields: &[&str]) -> io::Result<()> {
    let mut a = vec![
        "HPEXPIREAT".to_arg(),
        key.to_arg(),
        ms.to_arg(),
        "FIELDS".to_arg(),
    ];
    a.push(fields.len().to_arg());
    a.extend(fields.iter().map(|f| f.to_arg()));
    for set in x.call(a)?.into_array()? {
        if set.as_int()? != 1 {
            return Err(io::Error::other(format!(
                "HPEXPIREAT on {key} answered {set:?}"
            )));
        }
    }
    Ok(())
}

fn hpersist(x: &mut Ctx, key: &str, fields: &[&str]) -> io::Result<()> {
    let mut a = vec!["HPERSIST".to_arg(), key.to_arg(), "FIELDS".to_arg()];
    a.push(fields.len().to_arg());
    a.extend(fields.iter().map(|f| f.to_arg()));
    x.call(a)?;
    Ok(())
}

pub fn hash_field_ttl(x: &mut Ctx) -> io::Result<()> {
    variadic(
        x,
        "HSET",
        "hfe:small",
        texts(["a", "1", "b", "2", "c", "3"]),
    )?;
    hpexpireat(x, "hfe:small", FAR_MS + 2000, &["b"])?;
    hpexpireat(x, "hfe:small", FAR_MS + 1000, &["a"])?;
    // Redis keeps the listpack-ex encoding after the last TTL is gone.
    variadic(x, "HSET", "hfe:persisted", texts(["a", "1", "b", "2"]))?;
    hpexpireat(x, "hfe:persisted", FAR_MS, &["a", "b"])?;
    hpersist(x, "hfe:persisted", &["a", "b"])?;
    let many: Vec<String> = (0..20).map(|i| format!("f{i:02}")).collect();
    let flat = many.iter().flat_map(|f| [f.clone(), format!("v-{f}")]);
    variadic(x, "HSET", "hfe:large", texts(flat.clone()))?;
    hpexpireat(
        x,
        "hfe:large",
        FAR_MS + 3000,
        &["f00", "f01", "f02", "f03", "f04"],
    )?;
    hpexpireat(x, "hfe:large", FIELD_TTL_MAX_MS, &["f10"])?;
    variadic(x, "HSET", "hfe:large-persisted", texts(flat))?;
    hpexpireat(x, "hfe:large-persisted", FAR_MS, &["f00", "f01"])?;
    hpersist(x, "hfe:large-persisted", &["f00", "f01"])?;
    variadic(x, "HSET", "hfe:key-expire", texts(["a", "1", "b", "2"]))?;
    hpexpireat(x, "hfe:key-expire", FAR_MS + 5000, &["a"])?;
    x.pexpireat("hfe:key-expire", FAR_MS + 6000)?;
    variadic(x, "HSET", "hash:plain", texts(["x", "y"]))?;
    Ok(())
}

fn zadd(x: &mut Ctx, key: impl Arg, pairs: &[(&str, &[u8])]) -> io::Result<()> {
    let items = pairs
        .iter()
        .flat_map(|(s, m)| [s.to_arg(), m.to_vec()])
        .collect();
    variadic(x, "ZADD", key, items)
}

pub fn zsets(x: &mut Ctx) -> io::Result<()> {
    let small: &[(&str, &[u8])] = &[
        ("1", b"a"),
        ("2.5", b"b"),
        ("-3", b"c"),
        ("0.1", b"d"),
        ("1e-5", b"e"),
    ];
    zadd(x, "zset:small", small)?;
    let special: &[(&str, &[u8])] = &[
        ("inf", b"pinf"),
        ("-inf", b"ninf"),
        ("-0", b"negzero"),
        ("4503599627370496", b"two52"),
        ("9007199254740993", b"two53p1"),
        ("1e300", b"big"),
        ("5e-324", b"tiny"),
        ("123456789.125", b"frac"),
    ];
    zadd(x, "zset:special", special)?;
    let ints: &[(&str, &[u8])] = &[
        ("0", b"a"),
        ("127", b"b"),
        ("-129", b"c"),
        ("2147483648", b"d"),
        ("-9223372036854775808", b"e"),
    ];
    zadd(x, "zset:ints", ints)?;
    let ties: &[(&str, &[u8])] = &[("1", b"b"), ("1", b"a"), ("1", b"c")];
    zadd(x, "zset:ties", ties)?;
    let mut big: Vec<(String, Vec<u8>)> = (0..20)
        .map(|i| {
            (
                format!("{}", f64::from(i) * 0.1 - 0.5),
                format!("m{i:02}").into_bytes(),
            )
        })
        .collect();
    for (s, m) in [("inf", "top"), ("-inf", "bottom"), ("-0", "negzero")] {
        big.push((s.into(), m.into()));
    }
    let refs: Vec<(&str, &[u8])> = big
        .iter()
        .map(|(s, m)| (s.as_str(), m.as_slice()))
        .collect();
    zadd(x, "zset:skiplist", &refs)?;
    let long = "x".repeat(100);
    zadd(
        x,
        "zset:long-member",
        &[("1", long.as_bytes()), ("2", b"short")],
    )?;
    let bin: &[(&str, &[u8])] = &[
        ("1", b""),
        ("2", b"\x00"),
        ("3", b"\xff"),
        ("4", "\u{1f600}".as_bytes()),
    ];
    zadd(x, "zset:binary", bin)?;
    x.pexpireat("zset:small", FAR_MS + 5)?;
    Ok(())
}
