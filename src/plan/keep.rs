//! Which `--keep` policies a run in chunks (`--memory-limit`) can follow.

use super::{IndexUse, Request};
use crate::config::{Config, Keep};
use crate::error::{Error, Result};

/// Refuses, by name, a run in chunks that its keep policy cannot make give a
/// whole run's answer. `first` and `fullest` can (`fullest` reads the
/// inputs twice: the member each cluster keeps is decided over every chunk
/// before anything is written; an input that comes once, standard input or
/// a FIFO, is copied under `--tmp-dir` as the first pass reads it, and read
/// again from the copy); `longest`, `newest` and `max` choose among every
/// member of a cluster by what no chunk holds of the others. Under
/// `fullest` the run must not use or build an index (not yet).
pub(super) fn check_in_chunks(request: &Request, config: &Config, index: &IndexUse) -> Result<()> {
    if request.memory_limit.is_none() {
        return Ok(());
    }
    let keep = &config.keep;
    match not_in_chunks(keep, index) {
        None => Ok(()),
        Some(NotInChunks::Policy) => Err(Error::Usage(format!("--memory-limit keeps the first or the fullest of near-duplicate documents: it does not work with --keep {keep} (which compares every member of a cluster, not held in chunks); drop --memory-limit to run whole"))),
        Some(NotInChunks::With(other)) => Err(Error::Usage(format!("--keep fullest with --memory-limit does not work with {other} yet: drop --memory-limit to run whole, or keep the first copy (--keep first)"))),
    }
}

/// Why a run keeping `keep` cannot work in chunks ([`not_in_chunks`]).
pub(super) enum NotInChunks {
    /// The policy compares every member of a cluster (`longest`, `newest`,
    /// `max`).
    Policy,
    /// `fullest` does not work yet with this use of an index (`--index`,
    /// `--reference`, `index build`).
    With(String),
}

/// What keeps a run under `keep` (with `index`) from working in chunks, as
/// [`check_in_chunks`] says it: `None` for `first`, and for `fullest`
/// without an index.
pub(super) fn not_in_chunks(keep: &Keep, index: &IndexUse) -> Option<NotInChunks> {
    match (keep, index) {
        (Keep::First, _) | (Keep::Fullest, IndexUse::None) => None,
        (Keep::Fullest, IndexUse::Read { role, .. }) => {
            Some(NotInChunks::With(format!("--{role}")))
        }
        (Keep::Fullest, IndexUse::Build(_)) => Some(NotInChunks::With("index build".into())),
        _ => Some(NotInChunks::Policy),
    }
}
