//! The generator's use of `corpus/index.json`: regenerating replaces only the entries this run
//! produced or retired; entries of other builds and other origins are kept untouched.
use redis_persist_engine::corpus::{Case, Index};
use serde_json::Value as J;
use std::collections::BTreeSet;
use std::io;
use std::path::Path;

fn bad(msg: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg.into())
}

/// The names of the cases already in the index (none when there is no index yet).
pub fn names(out: &Path) -> io::Result<Vec<String>> {
    let index = Index::load_or_empty(out).map_err(|e| bad(e.to_string()))?;
    Ok(index.cases.into_iter().map(|c| c.name).collect())
}

/// Replaces entries: drops every server entry named in `retire` (`<build>/<scenario>`) and every
/// entry named like a new one, adds `new`, removes files of retired entries that were not
/// regenerated, and writes the sorted index.
pub fn merge(out: &Path, new: Vec<J>, retire: &BTreeSet<String>) -> io::Result<()> {
    let new: Vec<Case> = new
        .iter()
        .map(Case::from_json)
        .collect::<Result<_, _>>()
        .map_err(bad)?;
    let mut index = Index::load_or_empty(out).map_err(|e| bad(e.to_string()))?;
    let retired = index.replace(
        |c| {
            retire.contains(&c.name)
                && c.origin.kind == "server"
                && c.build() == c.name.split('/').next()
        },
        new,
    );
    for c in retired {
        for f in [Some(&c.file), c.expect.as_ref()].into_iter().flatten() {
            let _ = std::fs::remove_file(out.join(f));
        }
        println!("  retired {}", c.name);
    }
    index.save()
}
