//! Crash images: the directory states a power loss could leave under each model, each with what
//! it drops in words (the models are `posix.rs` and `ordered.rs`, their shared vocabulary `state.rs`).
use crate::replay::{replay, BuildError, Replay};
pub use crate::state::{DirState, Image, Model, Options};
use crate::tree::Tree;
use crate::{ordered, posix, Trace};

/// The images of one trace under one model, and what the replay found odd.
#[derive(Debug, Clone)]
pub struct CrashImages {
    /// `all-kept` first, then `all-unsynced-lost`, torn tails and random samples (without
    /// repeating a state already listed).
    pub images: Vec<Image>,
    /// Oddities that did not stop the replay (each names its record).
    pub warnings: Vec<String>,
}

/// The crash images of `trace` under `model`.
pub fn crash_images(
    trace: &Trace,
    model: Model,
    opts: &Options,
) -> Result<CrashImages, BuildError> {
    let rp = replay(trace)?;
    let mut images = match model {
        Model::Posix => posix::images(&rp, opts),
        Model::Ordered => ordered::images(&rp, opts),
    };
    // Torn and random images that repeat an earlier state add nothing to test.
    let mut seen: Vec<DirState> = Vec::new();
    let mut i = 0;
    images.retain(|im| {
        i += 1;
        let dup = i > 2 && seen.contains(&im.state);
        if !dup {
            seen.push(im.state.clone());
        }
        !dup
    });
    Ok(CrashImages {
        images,
        warnings: rp.warnings,
    })
}

/// The state at the end of the trace (what the directory held when the server was killed).
pub fn final_state(trace: &Trace) -> Result<DirState, BuildError> {
    let rp = replay(trace)?;
    let t = full_tree(&rp);
    Ok(DirState::from_tree(&t, |id| t.data[id].clone()))
}

pub(crate) fn full_tree(rp: &Replay<'_>) -> Tree {
    let mut t = Tree::default();
    for e in &rp.events {
        // replay() already applied every event to a tree, so none of these can fail.
        let _ = t.apply(e);
    }
    t
}
