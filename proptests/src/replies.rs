//! Engine and model replies in one comparable form: the shapes RESP2 tells apart (a null bulk and
//! a null array are both "nil" there), with the replies Redis leaves unordered put in byte order.
//!
//! Only order is forgiven: every status, integer, bulk and error text must match exactly.
use redis_persist_engine::keyspace::Reply as E;
use redis_persist_model::Reply as M;

/// A reply as a client sees it over RESP2.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Said {
    /// A simple string (`+OK` included).
    Status(String),
    /// An integer.
    Int(i64),
    /// A bulk string.
    Bulk(Vec<u8>),
    /// The null bulk string or the null array.
    Nil,
    /// An array.
    Array(Vec<Said>),
    /// An error, full text.
    Error(String),
}

/// The engine's reply.
pub fn engine(r: &E) -> Said {
    match r {
        E::Ok => Said::Status("OK".into()),
        E::Status(s) => Said::Status(s.clone()),
        E::Int(i) => Said::Int(*i),
        E::Bulk(b) => Said::Bulk(b.clone()),
        E::Array(a) => Said::Array(a.iter().map(engine).collect()),
        E::Nil => Said::Nil,
        E::Queued => Said::Status("QUEUED".into()),
        E::Error(e) => Said::Error(e.clone()),
    }
}

/// The model's reply.
pub fn model(r: &M) -> Said {
    match r {
        M::Ok => Said::Status("OK".into()),
        M::Status(s) => Said::Status(s.clone()),
        M::Int(i) => Said::Int(*i),
        M::Bulk(Some(b)) => Said::Bulk(b.clone()),
        M::Bulk(None) | M::NilArray => Said::Nil,
        M::Array(a) => Said::Array(a.iter().map(model).collect()),
        M::Error(e) => Said::Error(e.clone()),
        M::Queued => Said::Status("QUEUED".into()),
    }
}

/// `r` as the reply to `argv`, with the order Redis does not promise taken out: SMEMBERS and
/// the like sorted, HGETALL's pairs sorted by field. `queued` holds the commands an EXEC ran,
/// so each element of its reply is normalised as its own command's.
pub fn settle(argv: &[Vec<u8>], queued: &[Vec<Vec<u8>>], r: Said) -> Said {
    let name = argv
        .first()
        .map(|n| n.to_ascii_uppercase())
        .unwrap_or_default();
    match (name.as_slice(), r) {
        (b"EXEC", Said::Array(items)) if items.len() == queued.len() => Said::Array(
            items
                .into_iter()
                .zip(queued)
                .map(|(r, q)| settle(q, &[], r))
                .collect(),
        ),
        (b"SMEMBERS" | b"HKEYS" | b"HVALS", Said::Array(mut items)) => {
            items.sort();
            Said::Array(items)
        }
        (b"HGETALL", Said::Array(items)) => {
            let mut pairs: Vec<Vec<Said>> = items.chunks(2).map(<[Said]>::to_vec).collect();
            pairs.sort();
            Said::Array(pairs.into_iter().flatten().collect())
        }
        (_, r) => r,
    }
}

/// The reply in one short line for a failure report.
pub fn show(r: &Said) -> String {
    match r {
        Said::Status(s) => format!("+{s}"),
        Said::Int(i) => format!(":{i}"),
        Said::Bulk(b) if b.len() > 40 => format!("${} bytes", b.len()),
        Said::Bulk(b) => format!("\"{}\"", b.escape_ascii()),
        Said::Nil => "nil".into(),
        Said::Array(a) if a.len() > 12 => format!("[{} elements]", a.len()),
        Said::Array(a) => format!("[{}]", a.iter().map(show).collect::<Vec<_>>().join(", ")),
        Said::Error(e) => format!("-{e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<Vec<u8>> {
        s.split(' ').map(|w| w.as_bytes().to_vec()).collect()
    }

    #[test]
    fn null_forms_meet_and_order_is_forgiven_only_where_redis_gives_none() {
        assert_eq!(engine(&E::Nil), model(&M::NilArray));
        assert_eq!(engine(&E::Nil), model(&M::Bulk(None)));
        let ab = Said::Array(vec![Said::Bulk(b"b".to_vec()), Said::Bulk(b"a".to_vec())]);
        let ba = Said::Array(vec![Said::Bulk(b"a".to_vec()), Said::Bulk(b"b".to_vec())]);
        assert_eq!(settle(&words("SMEMBERS k"), &[], ab.clone()), ba);
        assert_ne!(settle(&words("LRANGE k 0 -1"), &[], ab.clone()), ba);
        let exec = settle(
            &words("EXEC"),
            &[words("SMEMBERS k")],
            Said::Array(vec![ab]),
        );
        assert_eq!(exec, Said::Array(vec![ba]));
        let pairs = |v: &[&str]| {
            Said::Array(
                v.iter()
                    .map(|s| Said::Bulk(s.as_bytes().to_vec()))
                    .collect(),
            )
        };
        assert_eq!(
            settle(&words("HGETALL h"), &[], pairs(&["g", "1", "f", "2"])),
            pairs(&["f", "2", "g", "1"])
        );
    }
}
