//! What the machine reports: the invariant a history broke, typed, so a test can demand that a
//! planted bug be caught by the check meant for it; and the differences shown with it.
use crate::neutral::{diff, Neutral};

/// Which invariant a history broke: a planted bug is caught by the kind it should be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A reply differed from the model's.
    Reply,
    /// The live dataset differed from the model's after a step.
    State,
    /// After a crash the server did not come back (or came back in a state the durability
    /// model does not allow).
    Durability,
    /// A file on the disk did not decode.
    Undecodable,
    /// The server started from an RDB whose bytes were damaged.
    DamageLoaded,
}

/// A broken invariant: its kind and the report (with the steps that led to it).
#[derive(Debug, Clone)]
pub struct Violation {
    /// Which invariant.
    pub kind: Kind,
    /// What differed.
    pub detail: String,
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "[{:?}] {}", self.kind, self.detail)
    }
}

pub(crate) fn violation(kind: Kind) -> impl FnOnce(String) -> Violation {
    move |detail| Violation { kind, detail }
}

/// How `got` differs from each allowed state, one line per option.
pub(crate) fn differences(got: &Neutral, options: impl Iterator<Item = Neutral>) -> String {
    let lines: Vec<String> = options
        .enumerate()
        .map(|(i, o)| format!("option {i}: {}", diff(got, &o)))
        .collect();
    if lines.is_empty() {
        return "no state is allowed at all".into();
    }
    lines.join("\n  ")
}
