//! Directories a run makes for what it writes (an `--out-dir` tree, the
//! parents of `-o`, the spool directory), each noted so that a run that
//! fails removes them again.

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
