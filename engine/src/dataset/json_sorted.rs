//! Dataset JSON of any size: keys that arrive in file order are serialized at once and sorted
//! through [`BlobSpill`] (runs spilled past a memory budget), giving the canonical document.
//!
//! The bytes are those of [`write_json`](super::write_json) on the same dataset: each key is
//! pretty-printed alone and indented to its depth in the `keys` array, which is exactly how the
//! pretty printer lays out nested objects (JSON strings hold no raw newlines).
use super::json_write::EntryJson;
use super::*;
use crate::spill::BlobSpill;
use std::io::{self, Write};

/// Collects keys in any order; writes canonical Dataset JSON.
pub struct SortedJson {
    spill: BlobSpill,
    keys: u64,
}

impl SortedJson {
    /// A writer holding about `memory` bytes of serialized keys before it spills.
    pub fn new(memory: usize) -> SortedJson {
        SortedJson {
            spill: BlobSpill::new(memory),
            keys: 0,
        }
    }

    /// Adds a key (its value already in canonical order, as the reader's collector gives it).
    pub fn push(&mut self, e: &Entry) -> io::Result<()> {
        // (db, key bytes) order is the order of big-endian db then the key's bytes.
        let mut sort_key = e.db.to_be_bytes().to_vec();
        sort_key.extend_from_slice(&e.key);
        let text = serde_json::to_vec_pretty(&EntryJson(e)).map_err(io::Error::other)?;
        let mut indented = Vec::with_capacity(text.len() + text.len() / 8);
        for line in text.split(|b| *b == b'\n') {
            if !indented.is_empty() {
                indented.push(b'\n');
            }
            indented.extend_from_slice(b"    ");
            indented.extend_from_slice(line);
        }
        self.keys += 1;
        self.spill.push(sort_key, indented)
    }

    /// Sorted runs written to disk so far.
    pub fn runs(&self) -> usize {
        self.spill.runs()
    }

    /// Writes the document: `head`'s source and functions (sorted here), then every key in order.
    pub fn finish<W: Write>(self, head: &Dataset, mut w: W) -> io::Result<()> {
        let mut top = Dataset {
            source: head.source.clone(),
            functions: head.functions.clone(),
            keys: Vec::new(),
        };
        top.functions.sort();
        let mut text = Vec::new();
        super::write_json(&top, &mut text)?;
        // The keyless document ends in `"keys": []` and the closing brace.
        let tail = b"\"keys\": []\n}\n";
        if !text.ends_with(tail) || self.keys == 0 {
            return w.write_all(&text);
        }
        w.write_all(&text[..text.len() - tail.len()])?;
        w.write_all(b"\"keys\": [\n")?;
        let mut first = true;
        self.spill.for_each_sorted(|_, entry| {
            if !first {
                w.write_all(b",\n")?;
            }
            first = false;
            w.write_all(entry)
        })?;
        w.write_all(b"\n  ]\n}\n")
    }
}
