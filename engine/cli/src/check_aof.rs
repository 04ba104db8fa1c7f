//! `check` for AOFs: `redis_persist_engine::check::aof`'s verdict printed with `redis-check-aof`'s
//! figures, `--fix` (the cut bytes are kept beside the file) and `--truncate-to-timestamp`.
use crate::dump::{read_options, shown, CheckArgs};
use crate::out::plural;
use crate::{note, say, ReadFlags};
use redis_persist_engine::check::aof::{self, AofCheck, FileCheck, Fix, Role};
use serde_json::json;
use std::io::{BufRead, IsTerminal, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

fn confirm(question: &str) -> bool {
    let _ = write!(std::io::stderr(), "{question} [y/N]: ");
    let _ = std::io::stderr().flush();
    let mut s = String::new();
    std::io::stdin().lock().read_line(&mut s).is_ok() && matches!(s.trim(), "y" | "Y" | "yes")
}

fn file_json(f: &FileCheck) -> serde_json::Value {
    json!({
        "file": f.path.display().to_string(),
        "role": match f.role { Role::Single => "single", Role::Base => "base", Role::Incr => "incr" },
        "size": f.size,
        "preamble_end": f.preamble_end,
        "ok_up_to": f.ok_up_to,
        "ok_up_to_line": f.ok_up_to_line,
        "diff": f.size - f.ok_up_to.min(f.size),
        "valid": f.valid(),
        "problem": f.problem.as_ref().map(|p| p.to_string()),
    })
}

fn print_file(f: &FileCheck) {
    if f.size == 0 && f.valid() {
        say!("{}: empty", f.path.display());
        return;
    }
    say!(
        "AOF analyzed: filename={}, size={}, ok_up_to={}, ok_up_to_line={}, diff={}",
        f.path.display(),
        f.size,
        f.ok_up_to,
        f.ok_up_to_line,
        f.size - f.ok_up_to.min(f.size)
    );
    if let Some(p) = &f.problem {
        say!("{}: invalid: {p}", f.path.display());
    }
}

/// The verdict on an AOF read as a stream (a pipe, a FIFO): what `redis-check-aof` would print.
pub fn report_stream(path: &Path, f: &FileCheck, json_out: bool) -> ExitCode {
    if json_out {
        let doc = json!({"file": shown(path), "format": "aof", "layout": "single", "valid": f.valid(), "files": [file_json(f)]});
        say!("{doc:#}");
    } else {
        print_file(f);
        if f.valid() {
            say!("{}: valid AOF", shown(path));
        }
    }
    if f.valid() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// `redis-persist check` on an AOF file, directory or manifest.
pub fn check(path: &Path, a: &CheckArgs, read: &ReadFlags) -> ExitCode {
    let c = match aof::check(path, read_options(read)) {
        Ok(c) => c,
        Err(e) => {
            if a.json {
                say!(
                    "{:#}",
                    json!({"file": shown(path), "valid": false, "error": {"kind": e.kind.as_str(), "offset": e.offset, "message": e.to_string()}})
                );
            } else {
                say!("{}: invalid: {e}", shown(path));
            }
            return ExitCode::from(1);
        }
    };
    if a.json {
        let doc = json!({
            "file": shown(path),
            "format": "aof",
            "layout": if c.layout.is_multi() { "multi" } else { "single" },
            "valid": c.valid(),
            "files": c.files.iter().map(file_json).collect::<Vec<_>>(),
        });
        say!("{doc:#}");
    } else {
        c.files.iter().for_each(print_file);
    }
    if let Some(t) = a.truncate_to {
        return match aof::timestamp_cut(&c, t) {
            Err(why) => {
                note!("redis-persist: {}: not cut: {why}", shown(path));
                ExitCode::from(1)
            }
            Ok(None) => {
                say!(
                    "{}: nothing after timestamp {t}; nothing to cut",
                    shown(path)
                );
                verdict(&c)
            }
            Ok(Some((file, at))) => cut(&file, at, a.yes, &format!("what follows timestamp {t}")),
        };
    }
    if c.valid() {
        if !a.json {
            say!(
                "{}: valid AOF ({})",
                shown(path),
                plural(c.files.len(), "file", "files")
            );
        }
        return ExitCode::SUCCESS;
    }
    match aof::fix_plan(&c) {
        Fix::Nothing => ExitCode::SUCCESS,
        Fix::Refuse(why) => {
            if a.fix {
                note!("redis-persist: {}: not fixed: {why}", shown(path));
            }
            ExitCode::from(1)
        }
        Fix::Truncate { path: file, to, .. } if a.fix => cut(&file, to, a.yes, "the invalid tail"),
        Fix::Truncate { path: file, to, .. } => {
            note!(
                "redis-persist: --fix would cut {} to {to} bytes (the cut bytes kept beside it)",
                file.display()
            );
            ExitCode::from(1)
        }
    }
}

fn verdict(c: &AofCheck) -> ExitCode {
    if c.valid() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// Cuts `file` to `to` bytes after asking (unless `yes`), keeping the cut bytes in a new file
/// beside it, so nothing is destroyed.
fn cut(file: &Path, to: u64, yes: bool, what: &str) -> ExitCode {
    let size = std::fs::metadata(file).map(|m| m.len()).unwrap_or(0);
    let ok = yes
        || (std::io::stdin().is_terminal()
            && confirm(&format!(
                "This will cut {what} of {} from {size} to {to} bytes (the {} bytes cut are kept in a file beside it). Continue?",
                file.display(),
                size - to.min(size)
            )));
    if !ok {
        note!(
            "redis-persist: {}: not changed (answer y, or pass --yes)",
            file.display()
        );
        return ExitCode::from(1);
    }
    match keep_tail_then_cut(file, to) {
        Ok(kept) => {
            say!(
                "{}: cut from {size} to {to} bytes; the cut bytes are in {}",
                file.display(),
                kept.display()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            note!("redis-persist: {}: not changed: {e}", file.display());
            ExitCode::from(1)
        }
    }
}

/// Writes bytes `to..` of `file` to a new `<file>.tail-<to>` (created exclusively, fsynced),
/// then cuts the file and fsyncs it.
fn keep_tail_then_cut(file: &Path, to: u64) -> std::io::Result<PathBuf> {
    let mut name = file.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".tail-{to}"));
    let kept = file.with_file_name(name);
    let mut src = std::fs::File::open(file)?;
    src.seek(SeekFrom::Start(to))?;
    let mut out = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&kept)?;
    std::io::copy(&mut src, &mut out)?;
    out.sync_all()?;
    let f = std::fs::OpenOptions::new().write(true).open(file)?;
    f.set_len(to)?;
    f.sync_all()?;
    Ok(kept)
}
