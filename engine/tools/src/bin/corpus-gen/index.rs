//! `corpus/index.json`: one entry per case, sorted by name. Regenerating replaces only the entries
//! this run produced or retired; entries of other builds and other origins are kept untouched.
use serde_json::Value as J;
use std::collections::BTreeSet;
use std::io;
use std::path::Path;

fn bad(msg: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg.into())
}

/// Reads the index, or an empty one when the file does not exist yet.
pub fn load(out: &Path) -> io::Result<Vec<J>> {
    let path = out.join("index.json");
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    match serde_json::from_str(&text) {
        Ok(J::Array(v)) => Ok(v),
        Ok(_) => Err(bad(format!("{} is not a JSON array", path.display()))),
        Err(e) => Err(bad(format!("{}: {e}", path.display()))),
    }
}

fn str_at<'a>(v: &'a J, path: &[&str]) -> Option<&'a str> {
    path.iter().try_fold(v, |v, k| v.get(k))?.as_str()
}

/// Whether an entry was made by this generator from `build`.
fn from_server_build(e: &J, build: &str) -> bool {
    str_at(e, &["origin", "kind"]) == Some("server")
        && str_at(e, &["origin", "build"]) == Some(build)
}

/// Replaces entries: drops every server entry named in `retire` (`<build>/<scenario>`) and every
/// entry named like a new one, adds `new`, removes files of retired entries that were not
/// regenerated, and writes the sorted index.
pub fn merge(out: &Path, new: Vec<J>, retire: &BTreeSet<String>) -> io::Result<()> {
    let new_names: BTreeSet<String> = new
        .iter()
        .filter_map(|e| str_at(e, &["name"]).map(str::to_owned))
        .collect();
    let mut kept = Vec::new();
    for e in load(out)? {
        let name = str_at(&e, &["name"]).unwrap_or_default().to_owned();
        let build = name.split('/').next().unwrap_or_default();
        let retired = retire.contains(&name) && from_server_build(&e, build);
        if new_names.contains(&name) {
            continue;
        }
        if retired {
            for field in ["file", "expect"] {
                if let Some(f) = str_at(&e, &[field]) {
                    let _ = std::fs::remove_file(out.join(f));
                }
            }
            println!("  retired {name}");
            continue;
        }
        kept.push(e);
    }
    kept.extend(new);
    kept.sort_by(|a, b| str_at(a, &["name"]).cmp(&str_at(b, &["name"])));
    let mut text = serde_json::to_string_pretty(&J::Array(kept)).map_err(io::Error::other)?;
    text.push('\n');
    std::fs::write(out.join("index.json"), text)
}
