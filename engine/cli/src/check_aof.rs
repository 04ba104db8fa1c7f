//! `check` for AOFs, like `redis-check-aof`: a strict parse of every file (CRLF checked, MULTI and
//! EXEC balanced, RDB preambles checked deeply), `--fix` and `--truncate-to-timestamp`.
use redis_persist_engine::aof::{files, layout};
use redis_persist_engine::format::rdb::{RdbReader, ReadOptions, Visitor};
use redis_persist_engine::format::resp::{self, Item, Parsed, Strictness};
use std::io::{BufRead, IsTerminal, Write};
use std::path::Path;
use std::process::ExitCode;

/// Where a file stops being valid.
struct Verdict {
    ok_up_to: usize,
    ok_up_to_line: usize,
    problem: Option<String>,
    /// Offsets of `#TS:` annotations with their values.
    timestamps: Vec<(usize, i64)>,
}

struct Nothing;
impl Visitor for Nothing {}

fn check_file(bytes: &[u8]) -> Verdict {
    let mut v = Verdict {
        ok_up_to: 0,
        ok_up_to_line: 0,
        problem: None,
        timestamps: Vec::new(),
    };
    let mut at = 0;
    if bytes.starts_with(b"REDIS") || bytes.starts_with(b"VALKEY") {
        let ro = ReadOptions {
            total_len: Some(bytes.len() as u64),
            ..ReadOptions::default()
        };
        match RdbReader::new(bytes, ro).and_then(|mut r| r.read_all(&mut Nothing)) {
            Ok(t) => at = t.end_offset as usize,
            Err(e) => {
                v.problem = Some(format!("RDB preamble is invalid: {e}"));
                return v;
            }
        }
        v.ok_up_to = at;
    }
    let (mut line, mut multi): (usize, Option<(usize, usize)>) = (0, None);
    loop {
        match resp::parse(bytes, at, Strictness::Checker) {
            Ok(Parsed::End) => break,
            Ok(Parsed::Incomplete) => {
                v.problem = Some(format!("unexpected end of file at offset {at}"));
                break;
            }
            Err(e) => {
                v.problem = Some(e.to_string());
                break;
            }
            Ok(Parsed::Item(item, end)) => {
                let lines = bytes[at..end].iter().filter(|&&b| b == b'\n').count();
                match item {
                    Item::Annotation(a) => {
                        if let Some(ts) = resp::timestamp(a) {
                            v.timestamps.push((at, ts));
                        }
                    }
                    Item::Command(argv) if argv[0].eq_ignore_ascii_case(b"multi") => {
                        if multi.is_some() {
                            v.problem = Some(format!("unexpected MULTI at offset {at}"));
                            break;
                        }
                        multi = Some((at, line));
                    }
                    Item::Command(argv) if argv[0].eq_ignore_ascii_case(b"exec") => {
                        if multi.take().is_none() {
                            v.problem = Some(format!("unexpected EXEC at offset {at}"));
                            break;
                        }
                    }
                    Item::Command(_) => {}
                }
                at = end;
                line += lines;
                if multi.is_none() {
                    v.ok_up_to = at;
                    v.ok_up_to_line = line;
                }
            }
        }
    }
    if v.problem.is_none() && multi.is_some() {
        v.problem = Some("reached EOF before reading EXEC for MULTI".into());
    }
    v
}

fn confirm(question: &str) -> bool {
    eprint!("{question} [y/N]: ");
    let _ = std::io::stderr().flush();
    let mut s = String::new();
    std::io::stdin().lock().read_line(&mut s).is_ok() && matches!(s.trim(), "y" | "Y" | "yes")
}

/// `redis-persist check` on an AOF file, directory or manifest.
pub fn check(path: &Path, fix: bool, yes: bool, truncate_to: Option<i64>) -> ExitCode {
    let l = match layout(path) {
        Ok(l) => l,
        Err(e) => {
            println!("invalid: {e}");
            return ExitCode::from(1);
        }
    };
    let list = files(&l);
    for (i, f) in list.iter().enumerate() {
        let last = i + 1 == list.len();
        let bytes = match std::fs::read(f) {
            Ok(b) => b,
            Err(e) => {
                println!("invalid: {}: {e}", f.display());
                return ExitCode::from(1);
            }
        };
        let v = check_file(&bytes);
        let cut_to = match (truncate_to, &v.problem) {
            (Some(t), _) if last => v.timestamps.iter().find(|(_, ts)| *ts > t).map(|(o, _)| *o),
            (Some(_), _) => None,
            (None, Some(_)) => Some(v.ok_up_to),
            (None, None) => None,
        };
        println!(
            "AOF analyzed: filename={}, size={}, ok_up_to={}, ok_up_to_line={}, diff={}",
            f.display(),
            bytes.len(),
            v.ok_up_to,
            v.ok_up_to_line,
            bytes.len() - v.ok_up_to
        );
        if let (Some(t), Some(0)) = (truncate_to, cut_to) {
            println!(
                "invalid: {} has nothing before timestamp {t}; aborting",
                f.display()
            );
            return ExitCode::from(1);
        }
        let Some(cut) = cut_to else {
            if v.problem.is_none() {
                continue;
            }
            println!(
                "invalid: {}: {}",
                f.display(),
                v.problem.unwrap_or_default()
            );
            return ExitCode::from(1);
        };
        if truncate_to.is_none() {
            println!(
                "invalid: {}: {}",
                f.display(),
                v.problem.clone().unwrap_or_default()
            );
        }
        if !(fix || truncate_to.is_some()) {
            println!("use --fix to truncate {} to {cut} bytes", f.display());
            return ExitCode::from(1);
        }
        if !last {
            println!(
                "failed to truncate {}: it is not the last file",
                f.display()
            );
            return ExitCode::from(1);
        }
        let ok = yes
            || (std::io::stdin().is_terminal()
                && confirm(&format!(
                    "This will shrink {} from {} to {cut} bytes. Continue?",
                    f.display(),
                    bytes.len()
                )));
        if !ok {
            println!("not truncated (answer y, or pass --yes)");
            return ExitCode::from(1);
        }
        match std::fs::OpenOptions::new()
            .write(true)
            .open(f)
            .and_then(|h| h.set_len(cut as u64).and_then(|_| h.sync_all()))
        {
            Ok(()) => {
                println!("successfully truncated {} to {cut} bytes", f.display());
                return ExitCode::SUCCESS;
            }
            Err(e) => {
                println!("failed to truncate {}: {e}", f.display());
                return ExitCode::from(1);
            }
        }
    }
    println!("{}: valid AOF ({} files)", path.display(), list.len());
    ExitCode::SUCCESS
}
