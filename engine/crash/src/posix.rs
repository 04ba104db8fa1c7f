//! The pessimistic POSIX model: a file's bytes are durable up to its last completed fsync, a name
//! only once its directory (or everything) was fsynced after it; anything else may be lost.
use crate::replay::{Event, FileId, Replay, SyncTarget};
use crate::state::{capped, coin, range, show, DirState, Image, Model, Options};
use crate::trace::SyncKind;
use crate::tree::{parent, Tree};
use redis_persist_engine::rng::Rng;
use std::collections::BTreeMap;

/// What survives of one file's bytes: its durable state and its state at the end of the trace.
struct Content {
    current: Vec<u8>,
    durable: Vec<u8>,
}

impl Content {
    /// Unsynced bytes appended after the durable bytes, when that is all that changed.
    fn appended(&self) -> Option<usize> {
        self.current
            .starts_with(&self.durable)
            .then(|| self.current.len() - self.durable.len())
    }
}

/// A durable snapshot: a prefix of the current bytes while nothing rewrote it, else a copy.
#[derive(Clone)]
enum Snap {
    Prefix(usize),
    Owned(Vec<u8>),
}

/// Each file's bytes at the start of its last completed flush, and at the end.
fn contents(rp: &Replay<'_>) -> Vec<Content> {
    let mut begins: BTreeMap<usize, Vec<&SyncTarget>> = BTreeMap::new();
    for s in rp
        .syncs
        .iter()
        .filter(|s| s.kind != SyncKind::SyncFileRange)
    {
        begins.entry(s.begin).or_default().push(&s.target);
    }
    let mut t = Tree::default();
    let mut snaps = vec![Snap::Prefix(0); rp.files];
    for i in 0..=rp.events.len() {
        for target in begins.get(&i).into_iter().flatten() {
            match target {
                SyncTarget::File(id) => snaps[*id] = Snap::Prefix(t.len(*id) as usize),
                SyncTarget::All => {
                    for (id, s) in snaps.iter_mut().enumerate() {
                        *s = Snap::Prefix(t.len(id) as usize);
                    }
                }
                SyncTarget::Dir(_) => {}
            }
        }
        let Some(e) = rp.events.get(i) else { break };
        // Before bytes inside a durable prefix change, keep a copy of that prefix.
        let touched = match e {
            Event::Write(id, off, _) => Some((*id, *off)),
            Event::Truncate(id, len) => Some((*id, *len)),
            _ => None,
        };
        if let Some((id, from)) = touched {
            if let Snap::Prefix(n) = snaps[id] {
                if from < n as u64 {
                    snaps[id] = Snap::Owned(t.data[id][..n].to_vec());
                }
            }
        }
        let _ = t.apply(e);
    }
    t.data.resize(rp.files, Vec::new());
    (t.data.into_iter().zip(snaps))
        .map(|(current, s)| {
            let durable = match s {
                Snap::Prefix(n) => current[..n.min(current.len())].to_vec(),
                Snap::Owned(v) => v,
            };
            Content { current, durable }
        })
        .collect()
}

/// Why the two halves of a name event are not durable (None: durable): adding the new name
/// (mkdir, create, rename's target) and removing the old one (unlink, rmdir, rename's source).
/// Each half is durable once its directory, or everything, was fsynced after the event.
#[derive(Clone, Default)]
struct Halves {
    add: Option<String>,
    remove: Option<String>,
    /// Both halves in one directory: a crash keeps or drops them together.
    same_dir: bool,
}

fn undurable(rp: &Replay<'_>) -> Vec<Halves> {
    let mut last_dir: BTreeMap<&str, usize> = BTreeMap::new();
    let mut last_all = 0;
    for s in rp
        .syncs
        .iter()
        .filter(|s| s.kind != SyncKind::SyncFileRange)
    {
        match &s.target {
            SyncTarget::Dir(d) => {
                let e = last_dir.entry(d.as_str()).or_default();
                *e = (*e).max(s.begin);
            }
            SyncTarget::All => last_all = last_all.max(s.begin),
            SyncTarget::File(_) => {}
        }
    }
    let why = |dir: &str, i: usize| {
        let synced = i < last_all || last_dir.get(dir).is_some_and(|&b| i < b);
        let name = if dir.is_empty() {
            "the dir itself"
        } else {
            dir
        };
        (!synced).then(|| format!("{name} never fsynced after it"))
    };
    let halves = |i: usize, e: &Event<'_>| match e {
        Event::Mkdir(p) | Event::Create(p, _) => Halves {
            add: why(parent(p), i),
            ..Halves::default()
        },
        Event::Unlink(p) | Event::Rmdir(p) => Halves {
            remove: why(parent(p), i),
            ..Halves::default()
        },
        Event::Rename(a, b, _) => Halves {
            add: why(parent(b), i),
            remove: why(parent(a), i),
            same_dir: parent(a) == parent(b),
        },
        Event::Write(..) | Event::Truncate(..) => Halves::default(),
    };
    rp.events
        .iter()
        .enumerate()
        .map(|(i, e)| halves(i, e))
        .collect()
}

/// Replays the name events, keeping the halves `keep(i, add)` allows (`add` false: the removal),
/// noting each one left out and why.
fn names(
    rp: &Replay<'_>,
    why: &[Halves],
    keep: impl Fn(usize, bool) -> bool,
) -> (Tree, Vec<String>) {
    let mut t = Tree::default();
    let mut notes = Vec::new();
    for (i, e) in rp.events.iter().enumerate() {
        let reason = |add: bool| {
            let w = if add { &why[i].add } else { &why[i].remove };
            w.clone().unwrap_or_else(|| "chosen".into())
        };
        let whole = match e {
            Event::Write(..) | Event::Truncate(..) => continue,
            Event::Mkdir(..) | Event::Create(..) => {
                keep(i, true).then_some(true).ok_or(reason(true))
            }
            Event::Unlink(..) | Event::Rmdir(..) => {
                keep(i, false).then_some(true).ok_or(reason(false))
            }
            Event::Rename(from, to, Some(id)) => {
                // A file's rename is two halves, each durable with its own directory.
                let add = keep(i, true);
                let remove = if why[i].same_dir { add } else { keep(i, false) };
                let had = t.names.contains_key(from);
                if add && (parent(to).is_empty() || t.dirs.contains(parent(to))) {
                    t.names.insert(to.clone(), *id);
                } else if add {
                    notes.push(format!(
                        "drops {} (parent of {to} missing after the drops above)",
                        show(e, rp)
                    ));
                }
                if remove {
                    t.names.remove(from);
                }
                match (add, remove) {
                    (false, false) => {
                        notes.push(format!("drops {} ({})", show(e, rp), reason(true)))
                    }
                    (true, false) if had => notes.push(format!(
                        "keeps {from} as well as {to}: the removal half of {} is lost ({})",
                        show(e, rp),
                        reason(false)
                    )),
                    (false, true) => notes.push(format!(
                        "drops {to}: only the removal half of {} is durable ({})",
                        show(e, rp),
                        reason(true)
                    )),
                    _ => {}
                }
                continue;
            }
            Event::Rename(..) => (keep(i, true) && keep(i, false))
                .then_some(true)
                .ok_or(reason(true)),
        };
        match whole {
            Ok(false) => {}
            Ok(true) => {
                if let Err(why) = t.apply_names(e) {
                    notes.push(format!(
                        "drops {} ({why} after the drops above)",
                        show(e, rp)
                    ));
                }
            }
            Err(reason) => notes.push(format!("drops {} ({reason})", show(e, rp))),
        }
    }
    (t, notes)
}

fn image(
    name: String,
    names: (Tree, Vec<String>),
    pick: impl Fn(FileId) -> (Vec<u8>, Option<String>),
) -> Image {
    let (tree, mut description) = names;
    let mut files = BTreeMap::new();
    for (path, &id) in &tree.names {
        let (bytes, note) = pick(id);
        description.extend(note.map(|n| n.replace("{}", path)));
        files.insert(path.clone(), bytes);
    }
    let description = capped(description, 40);
    Image {
        model: Model::Posix,
        name,
        description,
        state: DirState {
            dirs: tree.dirs,
            files,
        },
    }
}

/// all-kept, all-unsynced-lost, torn tails and random samples.
pub fn images(rp: &Replay<'_>, opts: &Options) -> Vec<Image> {
    let c = contents(rp);
    let why = undurable(rp);
    let durable = |i: usize, add: bool| {
        if add {
            why[i].add.is_none()
        } else {
            why[i].remove.is_none()
        }
    };
    let mut out = Vec::new();

    let kept = |id: FileId| (c[id].current.clone(), None);
    let mut all = image("all-kept".into(), names(rp, &why, |_, _| true), kept);
    all.description.insert(
        0,
        "keeps every operation: the state at the end of the trace".into(),
    );
    out.push(all);

    let lost = |id: FileId| {
        let f = &c[id];
        let note = match f.appended() {
            Some(0) => None,
            Some(n) => Some(format!("loses {n} unsynced bytes of {{}}")),
            None => Some(format!(
                "reverts {{}} to its last fsync ({} bytes)",
                f.durable.len()
            )),
        };
        (f.durable.clone(), note)
    };
    let mut lost_img = image("all-unsynced-lost".into(), names(rp, &why, durable), lost);
    lost_img
        .description
        .insert(0, "drops every operation no fsync made durable".into());
    out.push(lost_img);

    // Torn tails: everything kept but one file, which keeps half of its unsynced bytes.
    let all_names = names(rp, &why, |_, _| true).0;
    let torn_files = all_names
        .names
        .values()
        .filter(|&&id| c[id].appended().is_some_and(|n| n >= 2));
    for (k, &id) in torn_files.take(opts.torn).enumerate() {
        let f = &c[id];
        let n = f.appended().unwrap_or(0);
        let keep = n / 2;
        let pick = |other: FileId| {
            if other != id {
                return (c[other].current.clone(), None);
            }
            let note = format!("keeps {keep} of {n} unsynced bytes of {{}}");
            (f.current[..f.durable.len() + keep].to_vec(), Some(note))
        };
        out.push(image(
            format!("torn-{}", k + 1),
            (all_names.clone(), vec![]),
            pick,
        ));
    }

    // Random samples: each undurable name event and each file's unsynced bytes by chance.
    for k in 0..opts.samples {
        let mut rng = Rng::new(opts.seed.wrapping_mul(1_000_003).wrapping_add(k as u64));
        let coins: Vec<[bool; 2]> = (0..rp.events.len())
            .map(|_| [coin(&mut rng), coin(&mut rng)])
            .collect();
        let ns = names(rp, &why, |i, add| {
            durable(i, add) || coins[i][usize::from(add)]
        });
        let lens: Vec<Option<usize>> = c
            .iter()
            .map(|f| match f.appended() {
                Some(n) => Some(f.durable.len() + range(&mut rng, 0, n as u64) as usize),
                None => coin(&mut rng).then_some(usize::MAX),
            })
            .collect();
        let pick = |id: FileId| {
            let f = &c[id];
            match (f.appended(), lens[id]) {
                (Some(n), Some(len)) if n > 0 => {
                    let kept = len - f.durable.len();
                    let note = format!("keeps {kept} of {n} unsynced bytes of {{}}");
                    (f.current[..len].to_vec(), Some(note))
                }
                (None, Some(_)) => (f.current.clone(), None),
                (None, None) => lost(id),
                _ => (f.current.clone(), None),
            }
        };
        out.push(image(format!("random-{}", k + 1), ns, pick));
    }
    out
}
