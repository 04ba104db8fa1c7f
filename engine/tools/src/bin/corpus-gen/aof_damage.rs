//! Damage done to a copy of a real AOF's last file: a cut inside a command, a cut inside an open
//! MULTI, a bad command marker, a bulk length one too large; each described for the index.
use std::io;
use std::path::Path;

/// What is done to a copy of the files before the build loads them.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Damage {
    None,
    /// The last file ends inside a command.
    CutInCommand,
    /// The last file ends after MULTI and a queued command, before EXEC.
    CutInMulti,
    /// A command's `*` in the middle of the last file becomes `!`.
    CorruptMarker,
    /// A bulk length in the middle of the last file is one too large.
    CorruptLength,
}

/// Offsets where each command (`*` at a line start) begins.
fn command_starts(bytes: &[u8]) -> Vec<usize> {
    let mut v = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        if bytes[at] == b'*' {
            v.push(at);
        }
        // Skip the header line and its bulk arguments.
        let Some(nl) = bytes[at..].iter().position(|&b| b == b'\n') else {
            break;
        };
        let line = &bytes[at..at + nl];
        at += nl + 1;
        if let Some(len) = line
            .strip_prefix(b"$")
            .and_then(|l| std::str::from_utf8(l.trim_ascii_end()).ok())
            .and_then(|l| l.parse::<usize>().ok())
        {
            at += len + 2;
        }
    }
    v
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).rposition(|w| w == needle)
}

/// Damages `file` in place; returns a description of what was done.
pub(crate) fn damage(file: &Path, how: Damage) -> io::Result<String> {
    let mut bytes = std::fs::read(file)?;
    let starts = command_starts(&bytes);
    if starts.len() < 6 {
        return Err(io::Error::other(
            "last file holds too few commands to damage",
        ));
    }
    let what = match how {
        Damage::None => return Ok(String::new()),
        Damage::CutInCommand => {
            // Inside the last command, after its header line.
            let last = *starts.last().unwrap_or(&0);
            let cut = last + (bytes.len() - last) / 2;
            bytes.truncate(cut);
            format!("cut to {cut} bytes, inside the command at {last}")
        }
        Damage::CutInMulti => {
            let multi = find(&bytes, b"*1\r\n$5\r\nMULTI\r\n")
                .ok_or_else(|| io::Error::other("no MULTI in the last file"))?;
            let i = starts.iter().position(|&s| s == multi).unwrap_or(0);
            // MULTI and its first queued command stay; EXEC and what follows go.
            let cut = *starts
                .get(i + 2)
                .ok_or_else(|| io::Error::other("MULTI at the end"))?;
            bytes.truncate(cut);
            format!("cut to {cut} bytes, after MULTI at {multi} and one queued command")
        }
        Damage::CorruptMarker => {
            let at = starts[starts.len() / 2];
            bytes[at] = b'!';
            format!("byte {at} ('*' of a command) set to '!'")
        }
        Damage::CorruptLength => {
            let cmd = starts[starts.len() / 2];
            let at = cmd
                + bytes[cmd..]
                    .iter()
                    .position(|&b| b == b'$')
                    .ok_or_else(|| io::Error::other("no bulk"))?;
            let end = at + bytes[at..].iter().position(|&b| b == b'\r').unwrap_or(0);
            let n: usize = std::str::from_utf8(&bytes[at + 1..end])
                .ok()
                .and_then(|t| t.parse().ok())
                .ok_or_else(|| io::Error::other("bad bulk length"))?;
            let new = format!("${}", n + 1);
            bytes.splice(at..end, new.bytes());
            format!("bulk length at {at} changed from {n} to {}", n + 1)
        }
    };
    std::fs::write(file, bytes)?;
    Ok(what)
}
