//! The ext4 `data=ordered`-like model: operations persist in order, so a crash state is the state
//! after a prefix that holds everything before the last completed flush; its last write may tear.
use crate::replay::{Event, Replay};
use crate::state::{capped, coin, range, show, DirState, Image, Model, Options};
use crate::trace::SyncKind;
use crate::tree::Tree;
use redis_persist_engine::rng::Rng;

/// The shortest prefix a crash can leave: every event before the start of the last completed
/// flush (a flush commits the journal, and with it everything before it).
fn min_prefix(rp: &Replay<'_>) -> (usize, String) {
    let last = rp
        .syncs
        .iter()
        .filter(|s| s.kind != SyncKind::SyncFileRange)
        .max_by_key(|s| s.begin);
    match last {
        Some(s) => (
            s.begin,
            format!(
                "the last completed flush ({:?}, record {}) began after them",
                s.kind, s.record
            ),
        ),
        None => (0, "nothing was ever flushed".into()),
    }
}

/// The state after the first `p` events, the last one cut to `torn` bytes if given.
fn image(rp: &Replay<'_>, name: String, p: usize, torn: Option<usize>, why_min: &str) -> Image {
    let n = rp.events.len();
    let mut t = Tree::default();
    let mut description = vec![format!("keeps the first {p} of {n} operations ({why_min})")];
    for (i, e) in rp.events[..p].iter().enumerate() {
        match (e, torn) {
            (Event::Write(id, off, d), Some(k)) if i + 1 == p => {
                let _ = t.apply(&Event::Write(*id, *off, &d[..k.min(d.len())]));
                description.push(format!(
                    "tears the last kept write: keeps {k} of its {} bytes ({})",
                    d.len(),
                    show(e, rp)
                ));
            }
            _ => {
                let _ = t.apply(e);
            }
        }
    }
    let dropped: Vec<String> = rp.events[p..]
        .iter()
        .map(|e| format!("drops {}", show(e, rp)))
        .collect();
    description.extend(capped(dropped, 12));
    let state = DirState::from_tree(&t, |id| t.data.get(id).cloned().unwrap_or_default());
    Image {
        model: Model::Ordered,
        name,
        description,
        state,
    }
}

/// all-kept, all-unsynced-lost, torn tails and random samples.
pub fn images(rp: &Replay<'_>, opts: &Options) -> Vec<Image> {
    let n = rp.events.len();
    let (min, why) = min_prefix(rp);
    let why_min = format!("at least {min}: {why}");
    let mut out = vec![
        image(rp, "all-kept".into(), n, None, &why_min),
        image(rp, "all-unsynced-lost".into(), min, None, &why_min),
    ];
    // Torn tails: the last few writes after the minimum, each cut in half as the last kept one.
    let writes: Vec<usize> = (min..n)
        .rev()
        .filter(|&i| matches!(rp.events[i], Event::Write(_, _, d) if d.len() >= 2))
        .collect();
    for (k, &i) in writes.iter().take(opts.torn).enumerate() {
        let Event::Write(_, _, d) = rp.events[i] else {
            continue;
        };
        out.push(image(
            rp,
            format!("torn-{}", k + 1),
            i + 1,
            Some(d.len() / 2),
            &why_min,
        ));
    }
    for k in 0..opts.samples {
        let mut rng = Rng::new(opts.seed.wrapping_mul(1_000_003).wrapping_add(k as u64));
        let p = range(&mut rng, min as u64, n as u64) as usize;
        let torn = match rp.events.get(p.wrapping_sub(1)) {
            Some(Event::Write(_, _, d)) if p > min && coin(&mut rng) => {
                Some(range(&mut rng, 0, d.len() as u64) as usize)
            }
            _ => None,
        };
        out.push(image(rp, format!("random-{}", k + 1), p, torn, &why_min));
    }
    out
}
