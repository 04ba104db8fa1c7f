//! Parser tests that need no server: replies split across reads at every byte, binary bulks,
//! nested and nil arrays, and malformed input refused with an error rather than a panic.
use super::*;
use crate::format::resp::encode_command;

/// Hands out its bytes `step` at a time, the way a slow socket does.
struct Trickle {
    data: Vec<u8>,
    pos: usize,
    step: usize,
}

impl Read for Trickle {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let n = self.step.min(out.len()).min(self.data.len() - self.pos);
        out[..n].copy_from_slice(&self.data[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

fn read_all(data: &[u8], step: usize) -> io::Result<Vec<Reply>> {
    let mut r = ReplyReader::new(Trickle {
        data: data.to_vec(),
        pos: 0,
        step,
    });
    let mut out = Vec::new();
    while r.inner.pos < data.len() || !r.buf.is_empty() {
        out.push(r.read_reply()?);
    }
    Ok(out)
}

fn bulk(b: &[u8]) -> Reply {
    Reply::Bulk(Some(b.to_vec()))
}

#[test]
fn every_kind_parses() {
    let wire = b"+OK\r\n-ERR no\r\n:-42\r\n$3\r\nabc\r\n$-1\r\n*-1\r\n*0\r\n$0\r\n\r\n";
    let got = read_all(wire, 1 << 16).unwrap();
    assert_eq!(
        got,
        vec![
            Reply::Simple("OK".into()),
            Reply::Error("ERR no".into()),
            Reply::Int(-42),
            bulk(b"abc"),
            Reply::Bulk(None),
            Reply::Array(None),
            Reply::Array(Some(vec![])),
            bulk(b""),
        ]
    );
}

#[test]
fn replies_split_at_every_byte() {
    let wire = b"*3\r\n$5\r\nhello\r\n*2\r\n:1\r\n$-1\r\n+done\r\n:7\r\n";
    let whole = read_all(wire, wire.len()).unwrap();
    for step in 1..wire.len() {
        assert_eq!(read_all(wire, step).unwrap(), whole, "step {step}");
    }
    assert_eq!(whole.len(), 2);
}

#[test]
fn binary_bulk_keeps_crlf_nul_and_high_bytes() {
    let payload = b"a\r\nb\0\xff\xfe\r\n";
    let mut wire = format!("${}\r\n", payload.len()).into_bytes();
    wire.extend_from_slice(payload);
    wire.extend_from_slice(b"\r\n");
    for step in [1, 2, 3, 100] {
        assert_eq!(read_all(&wire, step).unwrap(), vec![bulk(payload)]);
    }
}

#[test]
fn nested_arrays_with_nil_inside() {
    let wire = b"*2\r\n*2\r\n$1\r\na\r\n*1\r\n*-1\r\n$-1\r\n";
    let got = parse_reply(wire).unwrap().unwrap();
    assert_eq!(got.1, wire.len());
    assert_eq!(
        got.0,
        Reply::Array(Some(vec![
            Reply::Array(Some(vec![
                bulk(b"a"),
                Reply::Array(Some(vec![Reply::Array(None)]))
            ])),
            Reply::Bulk(None),
        ]))
    );
}

#[test]
fn incomplete_input_asks_for_more() {
    let wire = b"*2\r\n$3\r\nabc\r\n$4\r\nde";
    for cut in 0..wire.len() {
        assert!(parse_reply(&wire[..cut]).unwrap().is_none(), "cut {cut}");
    }
}

#[test]
fn malformed_input_is_an_error() {
    for bad in [
        &b"?x\r\n"[..],
        b":12a\r\n",
        b"$3\r\nabcXY",
        b"$x\r\n",
        b"*99999999999\r\n",
    ] {
        assert!(
            parse_reply(bad).is_err(),
            "{:?}",
            String::from_utf8_lossy(bad)
        );
    }
    let deep = "*1\r\n".repeat(MAX_DEPTH + 2);
    assert!(parse_reply(deep.as_bytes()).is_err());
}

/// `MAX_REPLY_BYTES` (512 MiB, Redis's default `proto-max-bulk-len`) is the largest bulk
/// accepted: a header of exactly that length waits for the body, one byte more is refused.
#[test]
fn a_bulk_of_exactly_the_limit_is_accepted() {
    let at = format!("${}\r\n", 512usize << 20);
    assert!(parse_reply(at.as_bytes()).unwrap().is_none());
    let past = format!("${}\r\n", (512usize << 20) + 1);
    assert!(parse_reply(past.as_bytes()).is_err());
}

#[test]
fn eof_inside_a_reply_is_unexpected_eof() {
    let mut r = ReplyReader::new(Trickle {
        data: b"$10\r\nabc".to_vec(),
        pos: 0,
        step: 2,
    });
    assert_eq!(
        r.read_reply().unwrap_err().kind(),
        io::ErrorKind::UnexpectedEof
    );
}

#[test]
fn command_encoding_is_binary_safe() {
    assert_eq!(
        encode_command(&[b"SET", b"k\r\n", b""]),
        b"*3\r\n$3\r\nSET\r\n$3\r\nk\r\n\r\n$0\r\n\r\n".to_vec()
    );
}

#[test]
fn helpers_convert_or_explain() {
    assert_eq!(bulk(b"12").as_int().unwrap(), 12);
    assert!(bulk(b"x").as_int().is_err());
    let m = Reply::Array(Some(vec![
        bulk(b"name"),
        bulk(b"g"),
        bulk(b"n"),
        Reply::Int(3),
    ]));
    let pairs = m.into_pairs().unwrap();
    assert_eq!(pairs[0], ("name".to_string(), bulk(b"g")));
    assert_eq!(pairs[1], ("n".to_string(), Reply::Int(3)));
    assert!(Reply::Array(Some(vec![bulk(b"x")])).into_pairs().is_err());
}
