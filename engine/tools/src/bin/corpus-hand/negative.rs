//! Refusal cases: each a valid file with one documented defect, modelled on Redis's corrupt-dump
//! tests (bad blob headers, unsorted intsets, odd pair counts, duplicates), on truncation at
//! structure boundaries, and on length prefixes that would make a naive reader allocate gigabytes.
use crate::bytes::{intset, len, string, ziplist, Rdb, Zl};
use crate::cases::HandCase;

fn bad(name: &str, version: u32, kind: &'static str, bytes: Vec<u8>, how: &str) -> HandCase {
    HandCase {
        name: name.into(),
        version,
        features: vec!["refuse"],
        bytes,
        expect: Err(kind),
        how: how.into(),
    }
}

fn one_key(version: u32, ty: u8, value: &[u8]) -> Vec<u8> {
    let mut r = Rdb::new(version);
    r.select(0).key(ty, b"k", value);
    r.finish()
}

/// Every refusal case; `real` is a valid RDB 10 file written by Redis 7.0.15 (the corpus's
/// `redis-7.0.15/strings.rdb`) for the truncation and checksum cases.
pub fn negatives(real: &[u8]) -> Vec<HandCase> {
    let mut v = Vec::new();
    let mut flipped = real.to_vec();
    let n = flipped.len();
    flipped[n - 3] ^= 0x40;
    v.push(bad(
        "neg-checksum-mismatch",
        10,
        "checksum_mismatch",
        flipped,
        "redis-7.0.15/strings.rdb with one bit of the stored CRC-64 flipped",
    ));
    let mut body = real.to_vec();
    body[n / 2] ^= 0x01;
    // A flip in a value's bytes keeps the structure readable: only the CRC can tell.
    v.push(bad(
        "neg-checksum-body-bit",
        10,
        "checksum_mismatch",
        body,
        "redis-7.0.15/strings.rdb with one bit flipped half way through",
    ));
    for (name, cut) in [
        ("neg-truncated-header", 5),
        ("neg-truncated-before-eof", n - 9),
        ("neg-truncated-in-crc", n - 3),
        ("neg-truncated-mid-file", n / 2),
    ] {
        v.push(bad(
            name,
            10,
            "truncated",
            real[..cut].to_vec(),
            &format!("redis-7.0.15/strings.rdb cut to {cut} bytes"),
        ));
    }
    let mut magic = real.to_vec();
    magic[..5].copy_from_slice(b"REDIZ");
    v.push(bad("neg-bad-magic", 10, "bad_magic", magic, "magic REDIZ"));
    let mut ver = real.to_vec();
    ver[5..9].copy_from_slice(b"0099");
    v.push(bad(
        "neg-version-99",
        99,
        "unsupported_version",
        ver,
        "version field 0099",
    ));
    v.push(bad(
        "neg-unknown-type-8",
        9,
        "unknown_type",
        one_key(9, 8, &string(b"x")),
        "object type 8, never used",
    ));
    v.push(bad(
        "neg-module-pre-ga",
        9,
        "unknown_type",
        one_key(9, 6, &string(b"x")),
        "object type 6 (4.0-RC module format, refused by every release)",
    ));
    // Lengths that promise more than the file holds.
    let mut huge_string = vec![0x80];
    huge_string.extend_from_slice(&0xFFFF_FFF0u32.to_be_bytes());
    huge_string.extend_from_slice(b"tiny");
    v.push(bad(
        "neg-string-length-4g",
        9,
        "truncated",
        one_key(9, 0, &huge_string),
        "a string claiming 4 GiB, followed by 4 bytes",
    ));
    // 2^31 stays under any sane element-count limit, so the only defect is the missing bytes
    // (a larger count would be just as fairly refused as over a limit: the corpus avoids the
    // ambiguity).
    let mut huge_list = vec![0x81];
    huge_list.extend_from_slice(&(1u64 << 31).to_be_bytes());
    huge_list.extend(string(b"one"));
    v.push(bad(
        "neg-list-length-2p31",
        9,
        "truncated",
        one_key(9, 1, &huge_list),
        "a list claiming 2^31 elements (64-bit length form), holding one",
    ));
    let mut lzf_bomb = vec![0xC3];
    lzf_bomb.extend(len(4));
    lzf_bomb.extend([0x80, 0x40, 0, 0, 0]); // ulen 1 GiB from 4 compressed bytes
    lzf_bomb.extend([0, b'a', 0xE0, 0xFF]);
    v.push(bad(
        "neg-lzf-ratio-bomb",
        9,
        "corrupt",
        one_key(9, 0, &lzf_bomb),
        "an LZF string declaring 1 GiB from 4 compressed bytes",
    ));
    // Blob defects, as Redis's corrupt-dump tests make them.
    let mut zl = ziplist(&[Zl::Str(b"a"), Zl::Str(b"b")]);
    zl[0] += 1; // zlbytes one larger than the blob
    v.push(bad(
        "neg-ziplist-zlbytes",
        9,
        "corrupt",
        one_key(9, 10, &string(&zl)),
        "a list ziplist whose zlbytes is one too large",
    ));
    let mut zl = ziplist(&[Zl::Str(b"a"), Zl::Str(b"b")]);
    zl[13] = 9; // the second entry's prevlen (the first entry is 3 bytes)
    v.push(bad(
        "neg-ziplist-prevlen",
        9,
        "corrupt",
        one_key(9, 10, &string(&zl)),
        "a list ziplist whose second entry's prevlen is wrong",
    ));
    let odd = ziplist(&[Zl::Str(b"f"), Zl::Str(b"v"), Zl::Str(b"g")]);
    v.push(bad(
        "neg-hash-ziplist-odd",
        9,
        "corrupt",
        one_key(9, 13, &string(&odd)),
        "a hash ziplist with an odd entry count",
    ));
    let dup = ziplist(&[Zl::Str(b"f"), Zl::Str(b"1"), Zl::Str(b"f"), Zl::Str(b"2")]);
    v.push(bad(
        "neg-hash-ziplist-duplicate",
        9,
        "corrupt",
        one_key(9, 13, &string(&dup)),
        "a hash ziplist naming one field twice",
    ));
    v.push(bad(
        "neg-intset-unsorted",
        9,
        "corrupt",
        one_key(9, 11, &string(&intset(2, &[5, 3]))),
        "an intset whose members are not ascending",
    ));
    v.push(bad(
        "neg-intset-empty",
        9,
        "corrupt",
        one_key(9, 11, &string(&intset(2, &[]))),
        "an empty intset",
    ));
    let mut w = intset(2, &[1, 2]);
    w[0] = 3;
    v.push(bad(
        "neg-intset-width-3",
        9,
        "corrupt",
        one_key(9, 11, &string(&w)),
        "an intset with encoding 3",
    ));
    let mut nan = len(1);
    nan.extend(string(b"m"));
    nan.extend_from_slice(&f64::NAN.to_le_bytes());
    v.push(bad(
        "neg-zset-nan-score",
        9,
        "corrupt",
        one_key(9, 5, &nan),
        "a zset with a NaN score",
    ));
    let mut dup_set = len(2);
    dup_set.extend(string(b"same"));
    dup_set.extend(string(b"same"));
    v.push(bad(
        "neg-set-duplicate",
        9,
        "corrupt",
        one_key(9, 2, &dup_set),
        "a hashtable set naming one member twice",
    ));
    v
}
