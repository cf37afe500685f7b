//! Making staged outputs durable before they are renamed over their targets.
//!
//! On Linux, one `syncfs` a filesystem for every file a run staged: an
//! `--out-dir` of 10,000 files is one flush of the disk, not 10,000 `fsync`
//! calls (each a journal commit). The filesystem's descriptor is opened
//! before the files' data is written, so a write-back error after that is
//! reported by `syncfs` (Linux 5.8 and later), as `fsync` would report it.
//! A run that stages only a few files on a filesystem (`clean -o`, a report,
//! an index) syncs each as it is finished instead: `syncfs` also waits for
//! every other process's dirty pages on that filesystem (a build beside the
//! run, the corpus just written), 0.12 s of a 0.3 s run on a shared machine
//! where the output's own `fsync` took 0.01-0.03 s. Elsewhere each file is
//! synced as it is finished.

use crate::error::{Error, Result};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

/// Files a run may stage on one filesystem and sync one by one; past that,
/// the filesystem is flushed once with `syncfs`.
const FEW_FILES: usize = 8;

/// A filesystem a run stages files on: the run (its token,
/// [`super::current_run`]), the device, a directory on it, open, and its
/// name; how many files were staged on it and which of them (by inode) are
/// synced already (when all are, [`flush`] has nothing to do there).
struct Pending {
    run: u64,
    dev: u64,
    fs: File,
    dir: PathBuf,
    staged: usize,
    synced: std::collections::BTreeSet<u64>,
}

/// A directory on each filesystem (by device) that holds files a run
/// staged since its last [`flush`].
static PENDING: Mutex<Vec<Pending>> = Mutex::new(Vec::new());

fn pending() -> std::sync::MutexGuard<'static, Vec<Pending>> {
    PENDING.lock().unwrap_or_else(PoisonError::into_inner)
}

/// What run `run` staged, taken out of [`PENDING`].
fn taken(run: u64) -> Vec<Pending> {
    let mut pending = pending();
    let (mine, others) = std::mem::take(&mut *pending)
        .into_iter()
        .partition(|p| p.run == run);
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
        match pending.iter_mut().find(|p| p.run == run && p.dev == dev) {
            Some(p) => p.staged += 1,
            None => pending.push(Pending {
                run,
                dev,
                fs: File::open(dir)?,
                dir: dir.to_owned(),
                staged: 1,
                synced: std::collections::BTreeSet::new(),
            }),
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = dir;
    Ok(())
}

/// A staged file is complete: synced now where [`flush`] cannot do it, or
/// where its run staged only a few files on its filesystem so far (see
/// [`FEW_FILES`]).
pub(super) fn finished(file: &File) -> std::io::Result<()> {
    #[cfg(not(target_os = "linux"))]
    file.sync_all()?;
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::fs::MetadataExt;
        let dev = file.metadata()?.dev();
        let run = super::current_run();
        let few = pending()
            .iter()
            .any(|p| p.run == run && p.dev == dev && p.staged <= FEW_FILES);
        if few {
            file.sync_all()?;
            synced(file)?;
        }
    }
    Ok(())
}

/// Notes that a staged file was synced whole (its data and inode): a
/// filesystem whose staged files all were is not flushed again.
#[cfg_attr(not(target_os = "linux"), allow(clippy::unnecessary_wraps))]
pub(super) fn synced(file: &File) -> std::io::Result<()> {
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::fs::MetadataExt;
        let meta = file.metadata()?;
        let run = super::current_run();
        if let Some(p) = pending()
            .iter_mut()
            .find(|p| p.run == run && p.dev == meta.dev())
        {
            p.synced.insert(meta.ino());
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = file;
    Ok(())
}

/// Bytes of a staged file written between two starts of its write-back.
const AHEAD: u64 = 4 << 20;

/// A target written through, whose staged file is handed to the disk as it
/// is written (`sync_file_range`, every [`AHEAD`] bytes, not waited for):
/// its `fsync` at the end, or the run's `syncfs`, then waits for the last
/// few mebibytes only, not for every byte of the output after the last was
/// written (a 12 MB output: 0.01-0.03 s at the end of a 0.3 s run).
pub(super) struct Ahead<'a> {
    target: &'a mut super::Target,
    written: u64,
    begun: u64,
}

impl<'a> Ahead<'a> {
    pub(super) fn new(target: &'a mut super::Target) -> Ahead<'a> {
        Ahead {
            target,
            written: 0,
            begun: 0,
        }
    }
}

impl std::io::Write for Ahead<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.target.writer().write(buf)?;
        self.written += n as u64;
        #[cfg(target_os = "linux")]
        if self.written - self.begun >= AHEAD {
            if let super::Target::Staged(staged) = &*self.target {
                use std::os::unix::io::AsRawFd;
                let (from, len) = (self.begun, self.written - self.begun);
                // SAFETY: sync_file_range takes an open descriptor, owned by
                // the staged file for the call, and touches no memory of
                // this process. Its failure is only a later wait: the file's
                // sync reports any write-back error.
                #[allow(unsafe_code, clippy::cast_possible_wrap)]
                let _ = unsafe {
                    libc::sync_file_range(
                        staged.file().as_raw_fd(),
                        from as libc::off64_t,
                        len as libc::off64_t,
                        libc::SYNC_FILE_RANGE_WRITE,
                    )
                };
            }
            self.begun = self.written;
        }
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.target.writer().flush()
    }
}

/// Makes every file staged since the last call durable (its data and
/// inode), before any of them is renamed; says how many filesystems it
/// flushed whole (those whose files were not all synced one by one).
///
/// # Errors
/// The first filesystem whose flush fails (a write-back error), named by a
/// directory on it: the run fails with its files not renamed.
pub(super) fn flush() -> Result<usize> {
    let mine = taken(super::current_run());
    let mut flushed = 0;
    #[cfg(target_os = "linux")]
    for Pending {
        fs,
        dir,
        staged,
        synced,
        ..
    } in mine
    {
        use std::os::unix::io::AsRawFd;
        if synced.len() >= staged {
            // Each file was synced as it was finished.
            continue;
        }
        // SAFETY: syncfs takes an open descriptor, owned by `fs` for the
        // call, and touches no memory of this process.
        #[allow(unsafe_code)]
        let done = unsafe { libc::syncfs(fs.as_raw_fd()) };
        if done != 0 {
            return Err(Error::io(&dir, std::io::Error::last_os_error()));
        }
        flushed += 1;
    }
    #[cfg(not(target_os = "linux"))]
    drop(mine);
    Ok(flushed)
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
pub(super) fn lock_dirs(dirs: impl IntoIterator<Item = PathBuf>) -> Option<super::LockDescriptor> {
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
    // Noted before it is locked: a child forked meanwhile lets go of it.
    let file = super::LockDescriptor::new(File::open(common?).ok()?);
    #[cfg(unix)]
    {
        use std::os::fd::AsRawFd;
        // SAFETY: `flock` on a descriptor this function owns.
        #[allow(unsafe_code)]
        let locked = unsafe { libc::flock(file.file().as_raw_fd(), libc::LOCK_EX) } == 0;
        locked.then_some(file)
    }
    #[cfg(not(unix))]
    Some(file)
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;
    use std::io::Write;

    /// Stages `n` files in `dir` as a run does (the directory noted before
    /// each is made, each synced if few as it is finished), then flushes.
    fn stage_and_flush(dir: &Path, n: usize) -> usize {
        let _run = crate::targets::RunScope::enter();
        let mut files = Vec::new();
        for i in 0..n {
            staging_in(dir).unwrap();
            let path = dir.join(format!("f{i}"));
            let mut file = File::create(&path).unwrap();
            file.write_all(b"data\n").unwrap();
            finished(&file).unwrap();
            files.push(file);
        }
        flush().unwrap()
    }

    #[test]
    fn a_few_staged_files_are_synced_one_by_one_and_many_by_one_syncfs() {
        let dir = tempfile::tempdir().unwrap();
        // `clean -o out` (and a report, an index): each file synced as it is
        // finished, no flush of the whole filesystem (with every other
        // process's dirty pages on it).
        assert_eq!(stage_and_flush(dir.path(), 1), 0);
        assert_eq!(stage_and_flush(dir.path(), FEW_FILES), 0);
        // An `--out-dir` of many files: one syncfs for the rest.
        assert_eq!(stage_and_flush(dir.path(), FEW_FILES + 1), 1);
    }

    #[test]
    fn a_file_staged_and_not_synced_leaves_its_filesystem_flushed() {
        let dir = tempfile::tempdir().unwrap();
        let _run = crate::targets::RunScope::enter();
        staging_in(dir.path()).unwrap();
        let first = File::create(dir.path().join("a")).unwrap();
        finished(&first).unwrap();
        // Staged (noted), never finished through `finished` (nor synced).
        staging_in(dir.path()).unwrap();
        let _second = File::create(dir.path().join("b")).unwrap();
        // Syncing the first twice does not count for the second.
        synced(&first).unwrap();
        assert_eq!(flush().unwrap(), 1);
    }
}
