//! FUNCTION LOAD / DELETE / FLUSH: libraries stored as opaque source keyed by name.
//! The model checks the shebang metadata only; it cannot run Lua to see what registers.

use crate::args::{eq, lower};
use crate::keyspace::{Cmd, Ctx};
use crate::reply::{err, Reply, Res};

pub(crate) const COMMANDS: &[Cmd] = &[Cmd {
    name: "function",
    arity: -2,
    run: function,
    subs: &[("load", -3), ("delete", 3), ("flush", -2)],
}];

fn function(cx: &mut Ctx<'_>, a: &[Vec<u8>]) -> Res {
    match lower(&a[1]).as_str() {
        "load" => load(cx, a),
        "delete" => match cx.ks.functions.remove(&a[2]) {
            Some(_) => Ok(Reply::Ok),
            None => Err(err("Library not found")),
        },
        _ => flush(cx, a),
    }
}

fn load(cx: &mut Ctx<'_>, a: &[Vec<u8>]) -> Res {
    let mut replace = false;
    for opt in &a[2..a.len() - 1] {
        if !eq(opt, "replace") {
            return Err(err(format!(
                "Unknown option given: {}",
                String::from_utf8_lossy(opt)
            )));
        }
        replace = true;
    }
    let code = &a[a.len() - 1];
    let name = library_name(code)?;
    if cx.ks.functions.contains_key(&name) && !replace {
        return Err(err(format!(
            "Library '{}' already exists",
            String::from_utf8_lossy(&name)
        )));
    }
    // Redis would also reject code that fails to compile or registers no function.
    cx.ks.functions.insert(name.clone(), code.clone());
    Ok(Reply::bulk(name))
}

/// Parses `#!<engine> name=<lib>` on the first line, as `functionExtractLibMetaData`
/// does (arguments split on whitespace; the model ignores Redis's quoting rules).
fn library_name(code: &[u8]) -> Result<Vec<u8>, Reply> {
    if !code.starts_with(b"#!") {
        return Err(err("Missing library metadata"));
    }
    let Some(eol) = code.iter().position(|&c| c == b'\n') else {
        return Err(err("Invalid library metadata"));
    };
    let mut parts = code[..eol]
        .split(|c| c.is_ascii_whitespace())
        .filter(|p| !p.is_empty());
    let engine = parts
        .next()
        .ok_or_else(|| err("Invalid library metadata"))?[2..]
        .to_vec();
    let mut name = None;
    for part in parts {
        let Some(value) = part.get(..5).filter(|p| eq(p, "name=")).map(|_| &part[5..]) else {
            return Err(err(format!(
                "Invalid metadata value given: {}",
                String::from_utf8_lossy(part)
            )));
        };
        if name.replace(value.to_vec()).is_some() {
            return Err(err(
                "Invalid metadata value, name argument was given multiple times",
            ));
        }
    }
    let name = name.ok_or_else(|| err("Library name was not given"))?;
    if name.is_empty() || !name.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'_') {
        return Err(err(
            "Library names can only contain letters, numbers, or underscores(_) and must be at least one character long",
        ));
    }
    if !eq(&engine, "lua") {
        return Err(err(format!(
            "Engine '{}' not found",
            String::from_utf8_lossy(&engine)
        )));
    }
    Ok(name)
}

fn flush(cx: &mut Ctx<'_>, a: &[Vec<u8>]) -> Res {
    if a.len() > 3 {
        return Err(err(format!(
            "unknown subcommand or wrong number of arguments for '{}'. Try FUNCTION HELP.",
            String::from_utf8_lossy(&a[1])
        )));
    }
    if a.len() == 3 && !eq(&a[2], "sync") && !eq(&a[2], "async") {
        return Err(err("FUNCTION FLUSH only supports SYNC|ASYNC option"));
    }
    cx.ks.functions.clear();
    Ok(Reply::Ok)
}

#[cfg(test)]
mod tests {
    use crate::keyspace::testkit::*;
    use crate::Reply;

    const LIB: &[u8] = b"#!lua name=mylib\nredis.register_function('f', function() return 1 end)";

    #[test]
    fn load_replace_delete_flush() {
        let mut t = T::new();
        assert_eq!(t.run_args(&[b"FUNCTION", b"LOAD", LIB]), b("mylib"));
        assert_eq!(t.ks.functions[&b"mylib".to_vec()], LIB);
        assert_eq!(
            t.run_args(&[b"FUNCTION", b"LOAD", LIB]),
            e("ERR Library 'mylib' already exists")
        );
        let v2 = b"#!LUA name=mylib\nreturn 2";
        assert_eq!(
            t.run_args(&[b"function", b"load", b"REPLACE", v2]),
            b("mylib")
        );
        assert_eq!(t.ks.functions[&b"mylib".to_vec()], v2);
        assert_eq!(
            t.run_args(&[b"FUNCTION", b"LOAD", b"FOO", LIB]),
            e("ERR Unknown option given: FOO")
        );
        assert_eq!(t.run("FUNCTION DELETE nope"), e("ERR Library not found"));
        assert_eq!(t.run("FUNCTION DELETE mylib"), Reply::Ok);
        assert!(t.ks.functions.is_empty());
        t.run_args(&[b"FUNCTION", b"LOAD", LIB]);
        assert_eq!(
            t.run("FUNCTION FLUSH bogus"),
            e("ERR FUNCTION FLUSH only supports SYNC|ASYNC option")
        );
        assert_eq!(t.run("function flush async x"), e("ERR unknown subcommand or wrong number of arguments for 'flush'. Try FUNCTION HELP."));
        assert_eq!(t.run("FUNCTION FLUSH ASYNC"), Reply::Ok);
        assert!(t.ks.functions.is_empty());
        assert_eq!(
            t.run("FUNCTION LOAD"),
            e("ERR wrong number of arguments for 'function|load' command")
        );
    }

    #[test]
    fn metadata_errors() {
        let mut t = T::new();
        let load = |t: &mut T, code: &[u8]| t.run_args(&[b"FUNCTION", b"LOAD", code]);
        assert_eq!(load(&mut t, b"return 1"), e("ERR Missing library metadata"));
        assert_eq!(
            load(&mut t, b"#!lua name=x"),
            e("ERR Invalid library metadata")
        );
        assert_eq!(
            load(&mut t, b"#!lua\nx"),
            e("ERR Library name was not given")
        );
        assert_eq!(
            load(&mut t, b"#!lua name=a name=b\nx"),
            e("ERR Invalid metadata value, name argument was given multiple times")
        );
        assert_eq!(
            load(&mut t, b"#!lua foo=1\nx"),
            e("ERR Invalid metadata value given: foo=1")
        );
        assert_eq!(
            load(&mut t, b"#!lua name=a-b\nx"),
            e("ERR Library names can only contain letters, numbers, or underscores(_) and must be at least one character long")
        );
        assert_eq!(
            load(&mut t, b"#!js name=a\nx"),
            e("ERR Engine 'js' not found")
        );
        assert!(t.ks.functions.is_empty());
    }
}
