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
    if request.memory_limit.is_none() || config.keep == Keep::First {
        return Ok(());
    }
    let usage = |message: String| Err(Error::Usage(message));
    let keep = &config.keep;
    if *keep != Keep::Fullest {
        return usage(format!("--memory-limit keeps the first or the fullest of near-duplicate documents: it does not work with --keep {keep} (which compares every member of a cluster, not held in chunks); drop --memory-limit to run whole"));
    }
    let other = match index {
        IndexUse::Read { role, .. } => format!("--{role}"),
        IndexUse::Build(_) => "index build".into(),
        IndexUse::None => return Ok(()),
    };
    usage(format!("--keep fullest with --memory-limit does not work with {other} yet: drop --memory-limit to run whole, or keep the first copy (--keep first)"))
}
