//! `index merge`'s memory and temporary directory, settled as a run's are.

use super::{memory_limit, MIN_MEMORY_LIMIT};
use crate::error::{Error, Result};
use std::path::Path;

/// What `index merge` holds at most without `--memory-limit` (when half
/// the memory available is more): its buckets are then made in parts of
/// 256 MiB at most.
pub const MERGE_DEFAULT_LIMIT: usize = 1 << 30;

/// `index merge`'s budget: `--memory-limit` as the other commands read it,
/// or half the memory available up to [`MERGE_DEFAULT_LIMIT`]; its
/// temporary files under `tmp_dir` (default: the system's temporary
/// directory). A limit above the memory available is noted on standard
/// error, as the other commands note it, unless `quiet`.
///
/// # Errors
/// A limit that is no size, or below 64K; a `tmp_dir` that is there and
/// not a directory.
pub fn merge_memory(
    given: Option<&str>,
    tmp_dir: Option<&std::path::Path>,
    quiet: bool,
) -> Result<crate::store::MergeMemory> {
    check_tmp_dir(tmp_dir)?;
    let limit = match given {
        Some(given) => {
            let mut notes = Vec::new();
            let limit = memory_limit(given, quiet, &mut notes)?;
            for note in notes {
                crate::error::eprint_line(format_args!("neardup: {note}"));
            }
            limit
        }
        None => crate::memory::available()
            .and_then(|a| usize::try_from(a / 2).ok())
            .map_or(MERGE_DEFAULT_LIMIT, |half| half.min(MERGE_DEFAULT_LIMIT))
            .max(MIN_MEMORY_LIMIT),
    };
    Ok(crate::store::MergeMemory {
        limit,
        given: given.map(str::to_owned),
        tmp_dir: tmp_dir.map_or_else(std::env::temp_dir, std::path::Path::to_path_buf),
    })
}

/// Refuses a `--tmp-dir` that is there and is not a directory (a file, a
/// FIFO), by name, before anything is read (a run's, and a merge's, which
/// failed only once it first spilled, with `afile: File exists (os error
/// 17)`).
///
/// # Errors
/// A [`Error::Usage`] naming it.
pub(super) fn check_tmp_dir(dir: Option<&Path>) -> Result<()> {
    match dir {
        Some(dir) if dir.exists() && !dir.is_dir() => Err(Error::Usage(format!(
            "{}: --tmp-dir is not a directory",
            crate::escape::shown_path(dir)
        ))),
        _ => Ok(()),
    }
}
