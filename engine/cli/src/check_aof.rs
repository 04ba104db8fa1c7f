//! `check` for AOFs: `redis_persist_engine::check::aof`'s verdict printed with `redis-check-aof`'s
//! figures, `--fix` (the tail is kept beside the file first) and `--truncate-to-timestamp`.
use redis_persist_engine::check::aof::{self, AofCheck, Fix, Role};
use redis_persist_engine::format::rdb::ReadOptions;
use serde_json::json;
use std::io::{BufRead, IsTerminal, Seek, SeekFrom, Write};
use std::path::Path;
use std::process::ExitCode;

fn confirm(question: &str) -> bool {
    eprint!("{question} [y/N]: ");
    let _ = std::io::stderr().flush();
    let mut s = String::new();
    std::io::stdin().lock().read_line(&mut s).is_ok() && matches!(s.trim(), "y" | "Y" | "yes")
}

fn report_json(path: &Path, c: &AofCheck) -> serde_json::Value {
    let files: Vec<_> = c
        .files
        .iter()
        .map(|f| {
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
        })
        .collect();
    json!({
        "file": path.display().to_string(),
        "format": "aof",
        "layout": if c.layout.is_multi() { "multi" } else { "single" },
        "valid": c.valid(),
        "files": files,
    })
}

/// `redis-persist check` on an AOF file, directory or manifest.
pub fn check(
    path: &Path,
    fix: bool,
    yes: bool,
    truncate_to: Option<i64>,
    json_out: bool,
) -> ExitCode {
    let c = match aof::check(path, ReadOptions::default()) {
        Ok(c) => c,
        Err(e) => {
            if json_out {
                println!(
                    "{}",
                    json!({"file": path.display().to_string(), "valid": false, "error": {"kind": e.kind.as_str(), "offset": e.offset, "message": e.to_string()}})
                );
            }
            eprintln!("{}: invalid: {e}", path.display());
            return ExitCode::from(1);
        }
    };
    if json_out {
        println!("{:#}", report_json(path, &c));
    } else {
        for f in &c.files {
            if f.size == 0 {
                println!("{}: empty", f.path.display());
                continue;
            }
            println!(
                "AOF analyzed: filename={}, size={}, ok_up_to={}, ok_up_to_line={}, diff={}",
                f.path.display(),
                f.size,
                f.ok_up_to,
                f.ok_up_to_line,
                f.size - f.ok_up_to.min(f.size)
            );
            if let Some(p) = &f.problem {
                println!("{}: invalid: {p}", f.path.display());
            }
        }
    }
    if let Some(t) = truncate_to {
        return match aof::timestamp_cut(&c, t) {
            Err(why) => {
                eprintln!("{}: not truncated: {why}", path.display());
                ExitCode::from(1)
            }
            Ok(None) => {
                println!(
                    "{}: nothing after timestamp {t}; nothing to truncate",
                    path.display()
                );
                if c.valid() {
                    ExitCode::SUCCESS
                } else {
                    ExitCode::from(1)
                }
            }
            Ok(Some((file, at))) => {
                cut(&file, at, yes, &format!("annotations after timestamp {t}"))
            }
        };
    }
    if c.valid() {
        if !json_out {
            println!("{}: valid AOF ({} files)", path.display(), c.files.len());
        }
        return ExitCode::SUCCESS;
    }
    match aof::fix_plan(&c) {
        Fix::Nothing => ExitCode::SUCCESS,
        Fix::Refuse(why) if fix => {
            eprintln!("{}: not fixed: {why}", path.display());
            ExitCode::from(1)
        }
        Fix::Refuse(_) => ExitCode::from(1),
        Fix::Truncate { path: file, to, .. } if fix => cut(&file, to, yes, "the invalid tail"),
        Fix::Truncate { path: file, to, .. } => {
            eprintln!(
                "use --fix to cut {} to {to} bytes (the cut bytes are kept beside it)",
                file.display()
            );
            ExitCode::from(1)
        }
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
        eprintln!("{}: not changed (answer y, or pass --yes)", file.display());
        return ExitCode::from(1);
    }
    match keep_tail_then_cut(file, to) {
        Ok(kept) => {
            println!(
                "{}: cut from {size} to {to} bytes; the cut bytes are in {}",
                file.display(),
                kept.display()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{}: not changed: {e}", file.display());
            ExitCode::from(1)
        }
    }
}

/// Writes bytes `to..` of `file` to a new `<file>.tail-<to>` (created exclusively, fsynced),
/// then cuts the file and fsyncs it.
fn keep_tail_then_cut(file: &Path, to: u64) -> std::io::Result<std::path::PathBuf> {
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
