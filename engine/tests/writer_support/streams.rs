//! The stream values of the writer snapshot cases: one with every field up to RDB 11, one with
//! the Redis 8.6+/8.8+ state (a NACKed entry, IDMP producers) on top.
use redis_persist_engine::dataset::*;

fn b(s: &str) -> Vec<u8> {
    s.as_bytes().to_vec()
}

/// A stream with one consumer group, one pending entry and every RDB 10-11 field set.
pub fn stream() -> Value {
    let id = |ms, seq| StreamId { ms, seq };
    Value::Stream(Box::new(Stream {
        length: 3,
        last_id: id(1700000000002, 0),
        first_id: Some(id(1700000000000, 0)),
        max_deleted_id: Some(id(0, 0)),
        entries_added: Some(3),
        entries: vec![
            StreamEntry {
                id: id(1700000000000, 0),
                fields: vec![(b("temp"), b("20")), (b("hum"), b("40"))],
            },
            StreamEntry {
                id: id(1700000000001, 0),
                fields: vec![(b("temp"), b("21")), (b("hum"), b("41"))],
            },
            StreamEntry {
                id: id(1700000000002, 0),
                fields: vec![(b("note"), b("x"))],
            },
        ],
        groups: vec![Group {
            name: b("g"),
            last_delivered_id: id(1700000000001, 0),
            entries_read: Some(2),
            pending: vec![PendingEntry {
                id: id(1700000000001, 0),
                consumer: b("alice"),
                delivery_time_ms: 1700000000500,
                delivery_count: 1,
            }],
            consumers: vec![Consumer {
                name: b("alice"),
                seen_time_ms: 1700000000500,
                active_time_ms: Some(1700000000500),
                pending: vec![id(1700000000001, 0)],
            }],
            nacked: None,
        }],
        idmp: None,
    }))
}

/// The stream with Redis 8.6+/8.8+ state: one NACKed entry and IDMP producers.
pub fn stream_8x() -> Value {
    let id = |ms, seq| StreamId { ms, seq };
    let Value::Stream(mut s) = stream() else {
        unreachable!()
    };
    let g = &mut s.groups[0];
    g.pending.insert(
        0,
        PendingEntry {
            id: id(1700000000000, 0),
            consumer: vec![],
            delivery_time_ms: 0,
            delivery_count: 3,
        },
    );
    g.nacked = Some(vec![id(1700000000000, 0)]);
    s.idmp = Some(Idmp {
        duration_s: 7200,
        max_entries: 1000,
        producers: vec![IdmpProducer {
            pid: b("p1"),
            entries: vec![
                (b("i1"), id(1700000000000, 0)),
                (b("i2"), id(1700000000002, 0)),
            ],
        }],
        iids_added: 2,
        iids_duplicates: 1,
    });
    Value::Stream(s)
}
