//! The commands that are not about data: PING, ECHO, SELECT, and the MULTI family (whose work
//! is done in `Keyspace::execute`; they are registered here for lookup and arity).
use super::reply::{err, msg, CmdResult, Reply};
use super::{args, readonly, Cx, Keyspace, Spec, Tx};

const fn tx(name: &'static str, tx: Tx) -> Spec {
    Spec {
        name,
        arity: 1,
        run: unreachable_tx,
        tx,
        // A transaction's commands are propagated one by one (EXEC's writes wrapped in it).
        write: false,
    }
}

pub(crate) const COMMANDS: &[Spec] = &[
    readonly("ping", -1, ping),
    readonly("echo", 2, echo),
    readonly("select", 2, select),
    tx("multi", Tx::Multi),
    tx("exec", Tx::Exec),
    tx("discard", Tx::Discard),
];

fn ping(_: &mut Keyspace, _: &mut Cx, a: &[&[u8]]) -> CmdResult {
    match a.len() {
        1 => Ok(Reply::Status("PONG".into())),
        2 => Ok(Reply::bulk(a[1])),
        _ => err("ERR wrong number of arguments for 'ping' command"),
    }
}

fn echo(_: &mut Keyspace, _: &mut Cx, a: &[&[u8]]) -> CmdResult {
    Ok(Reply::bulk(a[1]))
}

fn select(k: &mut Keyspace, cx: &mut Cx, a: &[&[u8]]) -> CmdResult {
    let Some(idx) = args::parse_i64(a[1]) else {
        return err("ERR value is not an integer or out of range");
    };
    if !k.valid_db(idx) {
        return err(msg::DB_RANGE);
    }
    cx.db = idx as u64;
    Ok(Reply::Ok)
}

fn unreachable_tx(_: &mut Keyspace, _: &mut Cx, _: &[&[u8]]) -> CmdResult {
    // MULTI/EXEC/DISCARD are handled by `Keyspace::execute` before dispatch.
    err("ERR transaction command outside execute")
}
