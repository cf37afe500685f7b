//! Which `--keep` policies a run in chunks (`--memory-limit`) can follow.

use super::{IndexUse, Request};
use crate::config::{Config, Keep};
use crate::error::{Error, Result};
use crate::input::InputPath;

/// Refuses, by name, a run in chunks that its keep policy cannot make give a
/// whole run's answer. `first` and `fullest` can (`fullest` reads the
/// inputs twice: the member each cluster keeps is decided over every chunk
/// before anything is written); `longest`, `newest` and `max` choose among
/// every member of a cluster by what no chunk holds of the others. Under
/// `fullest` the inputs must be files, read again, and the run must not
/// index or annotate (not yet).
pub(super) fn check_in_chunks(
    request: &Request,
    config: &Config,
    index: &IndexUse,
    inputs: &[InputPath],
) -> Result<()> {
    if request.memory_limit.is_none() || config.keep == Keep::First {
        return Ok(());
    }
    let usage = |message: String| Err(Error::Usage(message));
    let keep = &config.keep;
    if *keep != Keep::Fullest {
        return usage(format!("--memory-limit keeps the first or the fullest of near-duplicate documents: it does not work with --keep {keep} (which compares every member of a cluster, not held in chunks); drop --memory-limit to run whole"));
    }
    let other = match index {
        IndexUse::Read { role, .. } => Some(format!("--{role}")),
        IndexUse::Build(_) => Some("index build".into()),
        IndexUse::None if config.annotate => Some("--annotate".into()),
        IndexUse::None => None,
    };
    if let Some(other) = other {
        return usage(format!("--keep fullest with --memory-limit does not work with {other} yet: drop --memory-limit to run whole, or keep the first copy (--keep first)"));
    }
    if let Some(input) = inputs.iter().find(|i| !i.read_again()) {
        let name = match &input.reader {
            Some(reader) => format!("the stream {}", crate::escape::shown_path(reader.name())),
            None => crate::input::shown_given(&input.path),
        };
        return usage(format!("--keep fullest with --memory-limit reads its inputs twice, and {name} can be read only once: save it to a file first, or drop --memory-limit to run whole"));
    }
    Ok(())
}
