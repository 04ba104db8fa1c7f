//! List commands: pushes, pops (with count, LMPOP), ranges, indexing, LMOVE.
//! Index arithmetic follows Redis, including negative indices and clamping.

use crate::args::{eq, int, int_in, non_negative, window};
use crate::keyspace::{cmd, Cmd, Ctx};
use crate::reply::{err, no_such_key, syntax, Reply, Res};
use crate::value::List;

pub(crate) const COMMANDS: &[Cmd] = &[
    cmd("lpush", -3, lpush),
    cmd("rpush", -3, rpush),
    cmd("lpushx", -3, lpushx),
    cmd("rpushx", -3, rpushx),
    cmd("lpop", -2, lpop),
    cmd("rpop", -2, rpop),
    cmd("lrange", 4, lrange),
    cmd("llen", 2, llen),
    cmd("lindex", 3, lindex),
    cmd("lset", 4, lset),
    cmd("lrem", 4, lrem),
    cmd("ltrim", 4, ltrim),
    cmd("linsert", 5, linsert),
    cmd("lmove", 5, lmove),
    cmd("rpoplpush", 3, rpoplpush),
    cmd("lmpop", -4, lmpop),
];

#[derive(Clone, Copy, PartialEq)]
enum End {
    Left,
    Right,
}

fn end(arg: &[u8]) -> Result<End, Reply> {
    match () {
        _ if eq(arg, "left") => Ok(End::Left),
        _ if eq(arg, "right") => Ok(End::Right),
        _ => Err(syntax()),
    }
}

fn push(l: &mut List, at: End, v: Vec<u8>) {
    match at {
        End::Left => l.push_front(v),
        End::Right => l.push_back(v),
    }
}

fn pop(l: &mut List, at: End) -> Option<Vec<u8>> {
    match at {
        End::Left => l.pop_front(),
        End::Right => l.pop_back(),
    }
}

fn push_generic(cx: &mut Ctx<'_>, a: &[Vec<u8>], at: End, only_existing: bool) -> Res {
    if only_existing && cx.get::<List>(&a[1])?.is_none() {
        return Ok(Reply::Int(0));
    }
    let l = cx.get_or_create::<List>(&a[1])?;
    for v in &a[2..] {
        push(l, at, v.clone());
    }
    Ok(Reply::Int(l.len() as i64))
}

fn lpush(cx: &mut Ctx<'_>, a: &[Vec<u8>]) -> Res {
    push_generic(cx, a, End::Left, false)
}

fn rpush(cx: &mut Ctx<'_>, a: &[Vec<u8>]) -> Res {
    push_generic(cx, a, End::Right, false)
}

fn lpushx(cx: &mut Ctx<'_>, a: &[Vec<u8>]) -> Res {
    push_generic(cx, a, End::Left, true)
}

fn rpushx(cx: &mut Ctx<'_>, a: &[Vec<u8>]) -> Res {
    push_generic(cx, a, End::Right, true)
}

/// Pops up to `count` elements, in pop order.
fn pop_n(l: &mut List, at: End, count: usize) -> Vec<Vec<u8>> {
    (0..count).map_while(|_| pop(l, at)).collect()
}

fn pop_generic(cx: &mut Ctx<'_>, a: &[Vec<u8>], at: End, name: &str) -> Res {
    if a.len() > 3 {
        return Err(crate::reply::arity(name));
    }
    let count = a.get(2).map(|c| non_negative(c)).transpose()?;
    let Some(l) = cx.get::<List>(&a[1])? else {
        return Ok(if count.is_some() {
            Reply::NilArray
        } else {
            Reply::nil()
        });
    };
    Ok(match count {
        None => Reply::Bulk(pop(l, at)),
        Some(n) => Reply::bulks(pop_n(l, at, n as usize)),
    })
}

fn lpop(cx: &mut Ctx<'_>, a: &[Vec<u8>]) -> Res {
    pop_generic(cx, a, End::Left, "lpop")
}

fn rpop(cx: &mut Ctx<'_>, a: &[Vec<u8>]) -> Res {
    pop_generic(cx, a, End::Right, "rpop")
}

fn lrange(cx: &mut Ctx<'_>, a: &[Vec<u8>]) -> Res {
    let (start, stop) = (int(&a[2])?, int(&a[3])?);
    let Some(l) = cx.get::<List>(&a[1])? else {
        return Ok(Reply::Array(vec![]));
    };
    Ok(match window(start, stop, l.len()) {
        None => Reply::Array(vec![]),
        Some((s, e)) => Reply::bulks(l.range(s..=e).cloned()),
    })
}

fn llen(cx: &mut Ctx<'_>, a: &[Vec<u8>]) -> Res {
    Ok(Reply::Int(
        cx.get::<List>(&a[1])?.map_or(0, |l| l.len() as i64),
    ))
}

/// A list position from a possibly negative index, if in range.
fn position(index: i64, len: usize) -> Option<usize> {
    let len = len as i64;
    let i = if index < 0 { index + len } else { index };
    (0..len).contains(&i).then_some(i as usize)
}

fn lindex(cx: &mut Ctx<'_>, a: &[Vec<u8>]) -> Res {
    let Some(l) = cx.get::<List>(&a[1])? else {
        return Ok(Reply::nil());
    };
    let index = int(&a[2])?;
    Ok(Reply::Bulk(position(index, l.len()).map(|i| l[i].clone())))
}

fn lset(cx: &mut Ctx<'_>, a: &[Vec<u8>]) -> Res {
    let l = cx.get::<List>(&a[1])?.ok_or_else(no_such_key)?;
    let index = int(&a[2])?;
    let i = position(index, l.len()).ok_or_else(|| err("index out of range"))?;
    l[i] = a[3].clone();
    Ok(Reply::Ok)
}

fn lrem(cx: &mut Ctx<'_>, a: &[Vec<u8>]) -> Res {
    let count = int_in(&a[2], -i64::MAX, i64::MAX, None)?;
    let Some(l) = cx.get::<List>(&a[1])? else {
        return Ok(Reply::Int(0));
    };
    let limit = if count == 0 {
        usize::MAX
    } else {
        count.unsigned_abs() as usize
    };
    let mut removed = 0;
    // Negative counts remove from the tail; walk the chosen direction and skip matches.
    let order: Vec<usize> = if count < 0 {
        (0..l.len()).rev().collect()
    } else {
        (0..l.len()).collect()
    };
    let mut drop = vec![false; l.len()];
    for i in order {
        if removed == limit {
            break;
        }
        if l[i] == a[3] {
            drop[i] = true;
            removed += 1;
        }
    }
    let mut i = 0;
    l.retain(|_| {
        i += 1;
        !drop[i - 1]
    });
    Ok(Reply::Int(removed as i64))
}

fn ltrim(cx: &mut Ctx<'_>, a: &[Vec<u8>]) -> Res {
    let (start, stop) = (int(&a[2])?, int(&a[3])?);
    let Some(l) = cx.get::<List>(&a[1])? else {
        return Ok(Reply::Ok);
    };
    match window(start, stop, l.len()) {
        None => l.clear(),
        Some((s, e)) => {
            l.truncate(e + 1);
            l.drain(..s);
        }
    }
    Ok(Reply::Ok)
}

fn linsert(cx: &mut Ctx<'_>, a: &[Vec<u8>]) -> Res {
    let after = match () {
        _ if eq(&a[2], "after") => true,
        _ if eq(&a[2], "before") => false,
        _ => return Err(syntax()),
    };
    let Some(l) = cx.get::<List>(&a[1])? else {
        return Ok(Reply::Int(0));
    };
    let Some(i) = l.iter().position(|v| *v == a[3]) else {
        return Ok(Reply::Int(-1));
    };
    l.insert(if after { i + 1 } else { i }, a[4].clone());
    Ok(Reply::Int(l.len() as i64))
}

fn lmove_generic(cx: &mut Ctx<'_>, src: &[u8], dst: &[u8], from: End, to: End) -> Res {
    if cx.get::<List>(src)?.is_none() {
        return Ok(Reply::nil());
    }
    // The destination's type is checked before anything is popped.
    cx.check::<List>(dst)?;
    let v = pop(cx.get::<List>(src)?.expect("checked"), from).expect("lists are never empty");
    push(cx.get_or_create::<List>(dst)?, to, v.clone());
    Ok(Reply::bulk(v))
}

fn lmove(cx: &mut Ctx<'_>, a: &[Vec<u8>]) -> Res {
    let (from, to) = (end(&a[3])?, end(&a[4])?);
    lmove_generic(cx, &a[1], &a[2], from, to)
}

fn rpoplpush(cx: &mut Ctx<'_>, a: &[Vec<u8>]) -> Res {
    lmove_generic(cx, &a[1], &a[2], End::Right, End::Left)
}

fn lmpop(cx: &mut Ctx<'_>, a: &[Vec<u8>]) -> Res {
    let msg = Some("numkeys should be greater than 0");
    let numkeys = int_in(&a[1], 1, i64::MAX, msg)? as usize;
    let where_idx = numkeys.saturating_add(2);
    if where_idx >= a.len() {
        return Err(syntax());
    }
    let at = end(&a[where_idx])?;
    let mut count = None;
    let mut j = where_idx + 1;
    while j < a.len() {
        if count.is_none() && eq(&a[j], "count") && j + 1 < a.len() {
            let msg = Some("count should be greater than 0");
            count = Some(int_in(&a[j + 1], 1, i64::MAX, msg)? as usize);
            j += 2;
        } else {
            return Err(syntax());
        }
    }
    for key in &a[2..where_idx] {
        if let Some(l) = cx.get::<List>(key)? {
            let popped = pop_n(l, at, count.unwrap_or(1));
            return Ok(Reply::Array(vec![
                Reply::bulk(key.clone()),
                Reply::bulks(popped),
            ]));
        }
    }
    Ok(Reply::NilArray)
}

#[cfg(test)]
mod tests {
    use crate::keyspace::testkit::*;
    use crate::Reply;

    #[test]
    fn push_pop_and_empty_list_deletion() {
        let mut t = T::new();
        assert_eq!(t.run("LPUSHX l a"), i(0));
        assert_eq!(t.run("EXISTS l"), i(0));
        assert_eq!(t.run("RPUSH l a b c"), i(3));
        assert_eq!(t.run("LPUSH l z y"), i(5));
        assert_eq!(t.run("RPUSHX l d"), i(6));
        assert_eq!(t.run("LRANGE l 0 -1"), arr(&["y", "z", "a", "b", "c", "d"]));
        assert_eq!(t.run("LPOP l"), b("y"));
        assert_eq!(t.run("RPOP l 2"), arr(&["d", "c"]));
        assert_eq!(t.run("LPOP l 0"), arr(&[]));
        assert_eq!(
            t.run("LPOP l -1"),
            e("ERR value is out of range, must be positive")
        );
        assert_eq!(
            t.run("LPOP l 1 2"),
            e("ERR wrong number of arguments for 'lpop' command")
        );
        assert_eq!(t.run("LPOP l 10"), arr(&["z", "a", "b"]));
        assert_eq!(
            t.run("EXISTS l"),
            i(0),
            "popping the last element deletes the key"
        );
        assert_eq!(t.run("LPOP l"), Reply::nil());
        assert_eq!(t.run("LPOP l 3"), Reply::NilArray);
    }

    #[test]
    fn index_set_range_and_trim() {
        let mut t = T::new();
        t.ok("RPUSH l a b c d");
        assert_eq!(t.run("LINDEX l -1"), b("d"));
        assert_eq!(t.run("LINDEX l 4"), Reply::nil());
        assert_eq!(t.run("LSET l -2 C"), Reply::Ok);
        assert_eq!(t.run("LSET l 9 x"), e("ERR index out of range"));
        assert_eq!(t.run("LSET nope 0 x"), e("ERR no such key"));
        assert_eq!(t.run("LRANGE l 1 -2"), arr(&["b", "C"]));
        assert_eq!(t.run("LRANGE l 5 10"), arr(&[]));
        assert_eq!(t.run("LTRIM l 1 -1"), Reply::Ok);
        assert_eq!(t.run("LRANGE l 0 -1"), arr(&["b", "C", "d"]));
        assert_eq!(t.run("LLEN l"), i(3));
        assert_eq!(t.run("LTRIM l 2 1"), Reply::Ok);
        assert_eq!(
            t.run("EXISTS l"),
            i(0),
            "trimming to nothing deletes the key"
        );
        assert_eq!(t.run("LTRIM nope 0 1"), Reply::Ok);
    }

    #[test]
    fn lrem_directions_and_linsert() {
        let mut t = T::new();
        t.ok("RPUSH l x a x b x");
        assert_eq!(t.run("LREM l -2 x"), i(2));
        assert_eq!(t.run("LRANGE l 0 -1"), arr(&["x", "a", "b"]));
        t.ok("RPUSH l x x");
        assert_eq!(t.run("LREM l 1 x"), i(1));
        assert_eq!(t.run("LRANGE l 0 -1"), arr(&["a", "b", "x", "x"]));
        assert_eq!(t.run("LREM l 0 x"), i(2));
        assert_eq!(t.run("LINSERT l BEFORE b q"), i(3));
        assert_eq!(t.run("LINSERT l after b r"), i(4));
        assert_eq!(t.run("LINSERT l AFTER zz r"), i(-1));
        assert_eq!(t.run("LINSERT l MIDDLE b r"), e("ERR syntax error"));
        assert_eq!(t.run("LINSERT nope BEFORE b r"), i(0));
        assert_eq!(t.run("LRANGE l 0 -1"), arr(&["a", "q", "b", "r"]));
    }

    #[test]
    fn lmove_rotates_and_checks_destination_type_first() {
        let mut t = T::new();
        t.ok("RPUSH l a b c");
        assert_eq!(t.run("LMOVE l l LEFT RIGHT"), b("a"));
        assert_eq!(t.run("LRANGE l 0 -1"), arr(&["b", "c", "a"]));
        t.ok("SET s v");
        assert_eq!(t.run("LMOVE l s LEFT RIGHT"), e(WRONGTYPE));
        assert_eq!(t.run("LLEN l"), i(3), "nothing was popped");
        assert_eq!(t.run("RPOPLPUSH l d"), b("a"));
        assert_eq!(t.run("LMOVE l d RIGHT LEFT"), b("c"));
        assert_eq!(t.run("LRANGE d 0 -1"), arr(&["c", "a"]));
        assert_eq!(t.run("LMOVE l d UP LEFT"), e("ERR syntax error"));
        assert_eq!(t.run("RPOPLPUSH nope d"), Reply::nil());
        t.ok("LPUSH one x");
        assert_eq!(
            t.run("RPOPLPUSH one one"),
            b("x"),
            "single-element rotation keeps the list"
        );
        assert_eq!(t.run("LLEN one"), i(1));
    }

    #[test]
    fn lmpop_picks_the_first_non_empty_list() {
        let mut t = T::new();
        t.ok("RPUSH b 1 2 3");
        assert_eq!(
            t.run("LMPOP 2 a b RIGHT COUNT 2"),
            Reply::Array(vec![b("b"), arr(&["3", "2"])])
        );
        assert_eq!(
            t.run("LMPOP 2 a b LEFT"),
            Reply::Array(vec![b("b"), arr(&["1"])])
        );
        assert_eq!(t.run("LMPOP 2 a b LEFT"), Reply::NilArray);
        assert_eq!(
            t.run("LMPOP 0 a LEFT"),
            e("ERR numkeys should be greater than 0")
        );
        assert_eq!(t.run("LMPOP 3 a b LEFT"), e("ERR syntax error"));
        assert_eq!(
            t.run("LMPOP 1 a LEFT COUNT 0"),
            e("ERR count should be greater than 0")
        );
        t.ok("SET s v");
        assert_eq!(t.run("LMPOP 1 s LEFT"), e(WRONGTYPE));
    }
}
