//! Making staged outputs durable before they are renamed over their targets.
//!
//! On Linux, one `syncfs` a filesystem for every file a run staged: an
//! `--out-dir` of 10,000 files is one flush of the disk, not 10,000 `fsync`
//! calls (each a journal commit). The filesystem's descriptor is opened
//! before the files' data is written, so a write-back error after that is
//! reported by `syncfs` (Linux 5.8 and later), as `fsync` would report it.
//! Elsewhere each file is synced as it is finished.

use crate::error::{Error, Result};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

/// A directory on each filesystem (by device) that holds files a run (by
/// its token, [`super::current_run`]) staged since its last [`flush`], open.
static PENDING: Mutex<Vec<(u64, u64, File, PathBuf)>> = Mutex::new(Vec::new());

fn pending() -> std::sync::MutexGuard<'static, Vec<(u64, u64, File, PathBuf)>> {
    PENDING.lock().unwrap_or_else(PoisonError::into_inner)
}

/// What run `run` staged, taken out of [`PENDING`].
fn taken(run: u64) -> Vec<(u64, u64, File, PathBuf)> {
    let mut pending = pending();
    let (mine, others) = std::mem::take(&mut *pending)
        .into_iter()
        .partition(|(r, ..)| *r == run);
    *pending = others;
    mine
}

/// Notes that a file is about to be staged in directory `dir`, before any of
/// its data is written.
pub(super) fn staging_in(dir: &Path) -> std::io::Result<()> {
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::fs::MetadataExt;
        let dev = std::fs::metadata(dir)?.dev();
        let run = super::current_run();
        let mut pending = pending();
        if !pending.iter().any(|(r, d, ..)| *r == run && *d == dev) {
            pending.push((run, dev, File::open(dir)?, dir.to_owned()));
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = dir;
    Ok(())
}

/// A staged file is complete: synced now where [`flush`] cannot do it.
#[cfg_attr(target_os = "linux", allow(clippy::unnecessary_wraps))]
pub(super) fn finished(file: &File) -> std::io::Result<()> {
    #[cfg(not(target_os = "linux"))]
    file.sync_all()?;
    #[cfg(target_os = "linux")]
    let _ = file;
    Ok(())
}

/// Makes every file staged since the last call durable (its data and
/// inode), before any of them is renamed.
///
/// # Errors
/// The first filesystem whose flush fails (a write-back error), named by a
/// directory on it: the run fails with its files not renamed.
pub(super) fn flush() -> Result<()> {
    let mine = taken(super::current_run());
    #[cfg(target_os = "linux")]
    for (_, _, fs, dir) in mine {
        use std::os::unix::io::AsRawFd;
        // SAFETY: syncfs takes an open descriptor, owned by `fs` for the
        // call, and touches no memory of this process.
        #[allow(unsafe_code)]
        let done = unsafe { libc::syncfs(fs.as_raw_fd()) };
        if done != 0 {
            return Err(Error::io(&dir, std::io::Error::last_os_error()));
        }
    }
    #[cfg(not(target_os = "linux"))]
    drop(mine);
    Ok(())
}

/// Forgets what run `run` staged and did not flush (it failed, or ended):
/// its directories' descriptors are closed. A process that goes on after a
/// failed run (the Python package) held one for ever, and with it the
/// filesystem (`umount`: target is busy).
pub(super) fn forget_run(run: u64) {
    drop(taken(run));
}

/// An exclusive lock (`flock`) on the deepest directory that holds all of
/// `dirs`, held until dropped: two runs writing into one directory (one
/// `--out-dir` run twice at once) rename their staged files one run after
/// the other, so the directory holds one run's files whole, never some of
/// each. One descriptor, however many directories a tree of outputs has.
/// (Locks are advisory and nothing is written for them; a directory that
/// cannot be opened or locked is renamed into unlocked, as before.)
pub(super) fn lock_dirs(dirs: impl IntoIterator<Item = PathBuf>) -> Option<File> {
    // Each directory once (an `--out-dir` of 100,000 files has few), then
    // resolved: one `realpath` a directory, not a file.
    let dirs: std::collections::BTreeSet<PathBuf> = dirs.into_iter().collect();
    let mut common: Option<PathBuf> = None;
    for dir in dirs {
        let dir = std::fs::canonicalize(&dir).ok()?;
        common = Some(match common {
            None => dir,
            Some(c) => c
                .components()
                .zip(dir.components())
                .take_while(|(a, b)| a == b)
                .map(|(a, _)| a)
                .collect(),
        });
    }
    let file = File::open(common?).ok()?;
    #[cfg(unix)]
    {
        use std::os::fd::AsRawFd;
        // SAFETY: `flock` on a descriptor this function owns.
        #[allow(unsafe_code)]
        let locked = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) } == 0;
        locked.then_some(file)
    }
    #[cfg(not(unix))]
    Some(file)
}
