//! Directories a run makes for what it writes (an `--out-dir` tree, the
//! parents of `-o`, the spool directory), each noted so that a run that
//! fails removes them again; and the check, before the run, that each path
//! it writes can be a file there.

use super::Use;
use crate::error::{Error, Result};
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

/// Creates directory `dir` and its missing parents, as `create_dir_all`
/// does, noting each one it creates: a run that fails removes them again
/// ([`super::remove_created`]), so that it leaves no trace.
///
/// # Errors
/// When a directory cannot be created; when something that is not a
/// directory is in the way, an error saying so (`File exists` named no
/// culprit).
pub fn create_dirs(dir: &Path) -> std::io::Result<()> {
    made_dirs(dir).map(drop)
}

/// [`create_dirs`], saying which directories it made, the outermost first.
pub(super) fn made_dirs(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut made = Vec::new();
    let mut missing = Vec::new();
    let mut at = Some(dir);
    while let Some(d) = at.filter(|d| !d.as_os_str().is_empty() && !d.is_dir()) {
        missing.push(d);
        at = d.parent();
    }
    for d in missing.into_iter().rev() {
        match std::fs::create_dir(d) {
            Ok(()) => {
                super::note_created(d);
                made.push(d.to_owned());
            }
            Err(e) if e.kind() == ErrorKind::AlreadyExists && d.is_dir() => {}
            Err(e) if e.kind() == ErrorKind::AlreadyExists => return Err(in_the_way(dir, d)),
            Err(e) => return Err(e),
        }
    }
    Ok(made)
}

/// The error for `in_way`, a name on the way to directory `dir` that is
/// there but is no directory: a file (`r.jsonl/` as `--tmp-dir`, a path
/// under a file), or a symbolic link to nothing or to itself.
fn in_the_way(dir: &Path, in_way: &Path) -> std::io::Error {
    let what = if in_way.is_symlink() {
        "a symbolic link to nothing (or to a link loop), not a directory"
    } else {
        "not a directory"
    };
    let message = if in_way == dir {
        what.to_owned()
    } else {
        format!("{} is {what}", crate::escape::shown_path(in_way))
    };
    std::io::Error::new(ErrorKind::NotADirectory, message)
}

/// Refuses, before anything is read or written, a path to write that is a
/// directory (`--report reports`) or named as one (`reports/`, whose staged
/// file cannot be renamed into place: the run failed after renaming the
/// others), or whose directory cannot be made: a file (or other
/// non-directory) stands where the path needs a directory (`--report
/// notes.txt/r.txt`). A symbolic link is judged by the path it names. A
/// run writing its cleaned text to standard output would otherwise stream
/// it all and then fail at the report.
///
/// # Errors
/// A [`Error::Usage`] naming the path, its role and why.
pub fn check_parents(writes: &[Use]) -> Result<()> {
    for write in writes.iter().filter(|w| w.is_path()) {
        // (What a symbolic link names is what the staged file replaces.)
        let target = super::resolve(&write.path);
        let name = target.as_os_str().to_string_lossy();
        let why = if name.ends_with(std::path::is_separator) || name.ends_with("/.") {
            Some("its name ends as a directory's")
        } else if std::fs::metadata(&target).is_ok_and(|m| m.is_dir()) {
            Some("it is a directory")
        } else {
            None
        };
        if let Some(why) = why {
            return Err(Error::Usage(format!(
                "{}: cannot be written: {why}",
                write.shown()
            )));
        }
        let mut at = target.parent();
        while let Some(dir) = at.filter(|d| !d.as_os_str().is_empty()) {
            match std::fs::metadata(dir) {
                Ok(meta) if meta.is_dir() => break,
                Ok(_) => {
                    return Err(Error::Usage(format!(
                        "{}: cannot be written: {} is not a directory",
                        write.shown(),
                        crate::escape::shown_path(dir)
                    )))
                }
                // Missing (made when written), or not to be seen: the write
                // names what stops it.
                Err(_) => at = dir.parent(),
            }
        }
    }
    Ok(())
}
