//! Where a run writes, and how: every written path checked against every path
//! read (by name and by file identity), regular files staged under temporary
//! names beside them and renamed only when the whole run has succeeded,
//! special files (devices, FIFOs, sockets, `/dev/fd` links) written directly,
//! and temporary files removed on failure, on SIGINT/SIGTERM, or, left by a
//! process that died, by the next run writing beside them.

use crate::error::{Error, Result};
use std::collections::BTreeSet;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};

/// A path a run reads or writes, and what it is to the run (`input`,
/// `--report`, ...), for [`check_distinct`].
#[derive(Clone, Debug)]
pub struct Use {
    /// The path as given or found.
    pub path: PathBuf,
    /// What it is, as the user would name it.
    pub role: String,
}

impl Use {
    /// `path` in `role`.
    pub fn new(path: impl Into<PathBuf>, role: impl Into<String>) -> Use {
        Use {
            path: path.into(),
            role: role.into(),
        }
    }

    /// Whether it names a path (`-` is standard input or output).
    #[must_use]
    pub fn is_path(&self) -> bool {
        self.path.as_os_str() != "-"
    }

    /// `PATH (ROLE)`, the path escaped for a message.
    pub(crate) fn shown(&self) -> String {
        format!("{} ({})", crate::escape::shown_path(&self.path), self.role)
    }
}

mod created;
mod dirs;
mod distinct;
mod durable;
mod exhausted;
pub mod faulted;
mod forked;
mod stdio;
mod sweep;
#[cfg(unix)]
mod writable;

use created::CREATED;
pub use created::{
    current_run, enter_run, forget_created, joining_this_run, keep_created, note_created,
    remove_created, RunScope,
};
use dirs::made_dirs;
pub use dirs::{check_parents, create_dirs};
pub use distinct::check_distinct;
pub use exhausted::ExitWhenExhausted;
pub use forked::LockDescriptor;
pub use stdio::{
    check_stdin_apart, check_stdin_open, check_stdout_apart, check_stdout_open,
    note_closed_at_start, stdout_closed_at_start,
};
use sweep::own_start;
pub use sweep::sweep;
#[cfg(unix)]
pub use writable::check_writable;

/// Every path may be written where `access(2)` cannot be asked.
///
/// # Errors
/// None.
#[cfg(not(unix))]
pub fn check_writable(_writes: &[Use]) -> Result<()> {
    Ok(())
}

/// A file's identity: its canonical name (where it is or would be) and,
/// when it exists, its device and inode (following links).
struct Identity {
    name: Option<PathBuf>,
    file: Option<(u64, u64)>,
    device: bool,
}

impl Identity {
    fn of(path: &Path) -> Identity {
        let meta = std::fs::metadata(path).ok();
        #[cfg(unix)]
        let file = meta.as_ref().map(|m| {
            use std::os::unix::fs::MetadataExt;
            (m.dev(), m.ino())
        });
        #[cfg(not(unix))]
        let file = None;
        #[cfg(unix)]
        let device = meta.as_ref().is_some_and(|m| {
            use std::os::unix::fs::FileTypeExt;
            m.file_type().is_char_device()
        });
        #[cfg(not(unix))]
        let device = false;
        Identity {
            name: canonical_target(path),
            file,
            device,
        }
    }

    fn same(&self, other: &Identity) -> bool {
        (self.name.is_some() && self.name == other.name)
            || (self.file.is_some() && self.file == other.file)
    }
}

/// The regular file `fd` is, if it is one: a descriptor of it of its own,
/// its device and inode, and its size.
#[cfg(unix)]
#[must_use]
pub fn regular_file(fd: std::os::fd::BorrowedFd<'_>) -> Option<(File, (u64, u64), u64)> {
    use std::os::unix::fs::MetadataExt;
    let file = File::from(fd.try_clone_to_owned().ok()?);
    let meta = file.metadata().ok()?;
    let id = (meta.dev(), meta.ino());
    meta.file_type().is_file().then_some((file, id, meta.len()))
}

/// Refuses a run (exit 2) that would write over a lock file in `locks`
/// (each named with the index it locks as its role): by name after
/// following links, or by device and inode (`writes` leaves out the run's
/// own lock files).
///
/// # Errors
/// A [`Error::Usage`] naming the path, its role and the index.
pub fn check_not_locks(locks: &[Use], writes: &[Use]) -> Result<()> {
    for w in writes.iter().filter(|u| u.is_path()) {
        let wid = Identity::of(&w.path);
        if let Some(lock) = locks.iter().find(|l| wid.same(&Identity::of(&l.path))) {
            return Err(Error::Usage(format!(
                "{} is the lock file of {}: a run never replaces an index's lock file (two updates of the index could then run at once); choose another name",
                w.shown(),
                lock.role
            )));
        }
    }
    Ok(())
}

/// The canonical path a (maybe not yet existing) file would have, following
/// a symbolic link even when what it names does not exist yet.
#[must_use]
pub fn canonical_target(path: &Path) -> Option<PathBuf> {
    let path = resolve(path);
    if let Ok(canon) = path.canonicalize() {
        return Some(canon);
    }
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    // A directory not there yet (`--out-dir new`) is named the same way:
    // the canonical name of what is there, then the rest as written (no
    // link can be in a part that does not exist).
    let base = match parent.canonicalize() {
        Ok(canon) => canon,
        Err(_) if parent != Path::new(".") => canonical_target(parent)?,
        Err(_) => return None,
    };
    match path.components().next_back()? {
        std::path::Component::Normal(name) => Some(base.join(name)),
        std::path::Component::ParentDir => Some(base.parent().unwrap_or(&base).to_owned()),
        _ => Some(base),
    }
}

/// The file `path` names after following symbolic links (up to 40), whether
/// or not that file exists: the file a write through the link replaces.
#[must_use]
pub fn resolve(path: &Path) -> PathBuf {
    let mut path = path.to_owned();
    for _ in 0..40 {
        let Ok(meta) = std::fs::symlink_metadata(&path) else {
            break;
        };
        if !meta.file_type().is_symlink() {
            break;
        }
        let Ok(link) = std::fs::read_link(&path) else {
            break;
        };
        path = match path.parent() {
            Some(parent) if link.is_relative() => parent.join(link),
            _ => link,
        };
    }
    path
}

/// Paths that name an open file of this process (`/dev/stdout`,
/// `/dev/fd/N`, `/proc/self/fd/N`, a process substitution `>(cmd)`): always
/// written in place, never replaced.
fn is_descriptor_link(path: &Path) -> bool {
    let Some(s) = path.to_str() else {
        return false;
    };
    matches!(s, "/dev/stdout" | "/dev/stderr")
        || s.starts_with("/dev/fd/")
        || (s.starts_with("/proc/") && s.contains("/fd/"))
}

/// Where one output goes.
pub enum Target {
    /// Standard output (`-`), waited for where it is non-blocking.
    Stdout(crate::pipe::Ready<std::io::Stdout>),
    /// A file written in place: a device, FIFO, socket or descriptor link.
    Direct(File, PathBuf),
    /// A regular file (or a path not there yet), written under a temporary
    /// name beside it and renamed over it by [`Staging::commit`].
    Staged(Staged),
}

/// Whether what is written to `path` is staged and renamed into place when
/// the run ends ([`Target::open`]), not written in place as it comes: a
/// regular file, or nothing yet; not `-`, a device, FIFO or `/dev/fd` link.
#[must_use]
pub fn staged(path: &Path) -> bool {
    path.as_os_str() != "-"
        && std::fs::metadata(path).map_or(true, |m| m.is_file())
        && !is_descriptor_link(path)
}

impl Target {
    /// Opens `path` for writing (`-`: standard output), with the prefix a
    /// staged file's temporary name starts with.
    ///
    /// # Errors
    /// When the path is a directory, or cannot be opened or staged beside.
    pub fn open(path: &Path, prefix: &str) -> Result<Target> {
        if path.as_os_str() == "-" {
            return Ok(Target::Stdout(crate::pipe::Ready(std::io::stdout())));
        }
        match std::fs::metadata(path) {
            Ok(m) if m.is_dir() => Err(Error::io(
                path,
                std::io::Error::new(std::io::ErrorKind::IsADirectory, "is a directory"),
            )),
            Ok(m) if !m.is_file() || is_descriptor_link(path) => {
                // A regular file behind a descriptor link (`> file`) is
                // appended to, as the shell opened it.
                let file = std::fs::OpenOptions::new()
                    .write(true)
                    .append(m.is_file())
                    .open(path)
                    .map_err(|e| Error::io(path, e))?;
                Ok(Target::Direct(file, path.to_owned()))
            }
            Ok(_) => Ok(Target::Staged(Staged::beside(path, prefix)?)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                Ok(Target::Staged(Staged::beside(path, prefix)?))
            }
            Err(e) => Err(Error::io(path, e)),
        }
    }

    /// Opens `path` for a file that must be a regular file (an index, which
    /// is written with seeks and read back mapped).
    ///
    /// # Errors
    /// As [`Target::open`], and when `path` is not a regular file.
    pub fn open_regular(path: &Path, prefix: &str) -> Result<Staged> {
        // Asked before opening: opening a FIFO waits for its reader.
        if std::fs::metadata(path).is_ok_and(|m| !m.is_file()) || is_descriptor_link(path) {
            return Err(not_regular(path));
        }
        replaceable_index(path)?;
        match Target::open(path, prefix)? {
            Target::Staged(s) => Ok(s),
            _ => Err(not_regular(path)),
        }
    }

    /// The file to write into.
    pub fn writer(&mut self) -> &mut dyn Write {
        match self {
            Target::Stdout(out) => out,
            Target::Direct(file, _) => file,
            Target::Staged(s) => s.file_mut(),
        }
    }

    /// Done writing: a staged file is handed to `staging` (to be synced with
    /// every other and renamed at the end of the run); a direct one is
    /// flushed.
    ///
    /// # Errors
    /// Flushing or syncing fails.
    pub fn finish(self, staging: &mut Staging) -> Result<()> {
        match self {
            Target::Stdout(mut out) => out.flush().map_err(|e| Error::io("<stdout>", e)),
            Target::Direct(mut file, path) => file.flush().map_err(|e| Error::io(path, e)),
            Target::Staged(s) => {
                durable::finished(s.file()).map_err(|e| Error::io(&s.target, e))?;
                staging.add(s);
                Ok(())
            }
        }
    }
}

/// Temporary files alive now, removed if the process is interrupted.
static LIVE: Mutex<BTreeSet<PathBuf>> = Mutex::new(BTreeSet::new());

/// Whether a run's outputs are being renamed into place (for what memory
/// running out then says: `exhausted`).
static COMMITTING: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Held while a run renames its staged files into place: a signal waits
/// for it, so that it stops a run before its first rename or after its
/// last, never between (an `--out-dir` half new and half old, an index not
/// told of outputs already in place).
static RENAMING: Mutex<()> = Mutex::new(());

fn live() -> MutexGuard<'static, BTreeSet<PathBuf>> {
    LIVE.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The directory a run in chunks spools to (`--tmp-dir`, or `TMPDIR`'s),
/// made with its missing parents when not there, and those removed again
/// when the run ends (when empty): a run leaves no directory behind that
/// it made only for its own temporary files.
pub struct SpoolDir(Vec<PathBuf>);

impl SpoolDir {
    /// Makes `dir` if it is missing.
    ///
    /// # Errors
    /// When `dir` is a file, or cannot be made.
    pub fn make(dir: &Path) -> Result<SpoolDir> {
        if dir.exists() && !dir.is_dir() {
            return Err(Error::Usage(format!(
                "{}: the directory for temporary files (--tmp-dir, or TMPDIR without it) is not a directory",
                crate::escape::shown_path(dir)
            )));
        }
        made_dirs(dir).map(SpoolDir).map_err(|e| Error::io(dir, e))
    }
}

impl Drop for SpoolDir {
    fn drop(&mut self) {
        for dir in self.0.drain(..).rev() {
            if std::fs::remove_dir(&dir).is_err() {
                break;
            }
            forget_created(&dir);
        }
    }
}

/// A temporary file beside its target, removed unless renamed over it.
pub struct Staged {
    temp: Option<tempfile::NamedTempFile>,
    target: PathBuf,
}

impl Staged {
    /// A temporary file in the directory of the file `path` names (links
    /// followed), named `PREFIX<pid>-<start>-XXXXXX.tmp` (`start`: when the
    /// process started, in clock ticks after boot), with the permissions of the
    /// file it replaces, or those of a new file (0666 less the umask).
    ///
    /// # Errors
    /// When the directory or the file cannot be created.
    pub fn beside(path: &Path, prefix: &str) -> Result<Staged> {
        let target = resolve(path);
        let dir = match target.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
            _ => PathBuf::from("."),
        };
        create_dirs(&dir).map_err(|e| Error::io(&dir, e))?;
        sweep(&dir);
        durable::staging_in(&dir).map_err(|e| Error::io(&dir, e))?;
        let mut builder = tempfile::Builder::new();
        let prefix = format!("{prefix}{}-{}-", std::process::id(), own_start());
        builder.prefix(&prefix).suffix(".tmp");
        let existing = std::fs::metadata(&target).ok().map(|m| m.permissions());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            builder.permissions(
                existing
                    .clone()
                    .unwrap_or_else(|| std::fs::Permissions::from_mode(0o666)),
            );
        }
        let mut live = live();
        let temp = builder.tempfile_in(&dir).map_err(|e| Error::io(&dir, e))?;
        live.insert(temp.path().to_owned());
        drop(live);
        let staged = Staged {
            temp: Some(temp),
            target,
        };
        // The umask applies at creation; an existing file's mode is kept exactly.
        if let Some(p) = existing {
            staged
                .file()
                .set_permissions(p)
                .map_err(|e| Error::io(&dir, e))?;
        }
        Ok(staged)
    }

    /// The temporary file.
    #[must_use]
    pub fn file(&self) -> &File {
        self.temp.as_ref().expect("until renamed").as_file()
    }

    /// The temporary file, to write.
    pub fn file_mut(&mut self) -> &mut File {
        self.temp.as_mut().expect("until renamed").as_file_mut()
    }

    /// The temporary file's path.
    #[must_use]
    pub fn path(&self) -> &Path {
        self.temp.as_ref().expect("until renamed").path()
    }

    /// The file it will replace.
    #[must_use]
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// Syncs the temporary file to disk.
    ///
    /// # Errors
    /// When syncing fails.
    pub fn sync(&self) -> Result<()> {
        self.file()
            .sync_all()
            .and_then(|()| durable::synced(self.file()))
            .map_err(|e| Error::io(&self.target, e))
    }

    /// Renames the temporary file over its target and syncs the directory.
    ///
    /// # Errors
    /// When the rename fails (the temporary file is then removed).
    pub fn persist(self) -> Result<()> {
        self.close().persist()
    }

    /// The file closed, only its name held (it stays among the live ones,
    /// removed on a signal, until renamed or dropped).
    fn close(mut self) -> Closed {
        let temp = self.temp.take().expect("until renamed");
        Closed {
            temp: Some(temp.into_temp_path()),
            target: std::mem::take(&mut self.target),
        }
    }
}

/// Makes a rename into `target`'s directory durable by syncing the directory.
fn sync_parent(target: &Path) {
    sync_dir(&parent_dir(target));
}

/// The directory `target` is in (`.` for a bare name).
fn parent_dir(target: &Path) -> PathBuf {
    match target.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_owned(),
        _ => PathBuf::from("."),
    }
}

fn sync_dir(dir: &Path) {
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

/// A complete staged file, closed (a run staging thousands of files under
/// `--out-dir` would otherwise hold a descriptor for each, and fail with
/// "Too many open files" under the usual limit of 1024), waiting to be
/// renamed over its target; removed if dropped first.
struct Closed {
    temp: Option<tempfile::TempPath>,
    target: PathBuf,
}

impl Closed {
    /// Renames the file over its target and syncs the directory.
    fn persist(self) -> Result<()> {
        let target = self.rename()?;
        sync_parent(&target);
        Ok(())
    }

    /// Renames the file over its target (its directory not synced yet).
    fn rename(mut self) -> Result<PathBuf> {
        let temp = self.temp.take().expect("until renamed");
        let mut live = live();
        live.remove(&*temp);
        temp.persist(&self.target)
            .map_err(|e| Error::io(&self.target, e.error))?;
        drop(live);
        Ok(std::mem::take(&mut self.target))
    }
}

impl Drop for Closed {
    fn drop(&mut self) {
        if let Some(temp) = self.temp.take() {
            let mut live = live();
            live.remove(&*temp);
            drop(temp);
        }
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        if let Some(temp) = self.temp.take() {
            let mut live = live();
            live.remove(temp.path());
            drop(temp);
        }
    }
}

/// The staged files of a run, renamed over their targets together by
/// [`Staging::commit`] once every output is complete; dropped uncommitted
/// (a failure anywhere), they are removed and every target is left as it was.
#[derive(Default)]
pub struct Staging {
    staged: Vec<Closed>,
}

impl Staging {
    /// Nothing staged yet.
    #[must_use]
    pub fn new() -> Staging {
        Staging::default()
    }

    /// Whether nothing is staged.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.staged.is_empty()
    }

    /// Adds a complete, synced file, renamed by [`Staging::commit`] in the
    /// order added. The file is closed here: only its name is held.
    pub fn add(&mut self, staged: Staged) {
        self.staged.push(staged.close());
    }

    /// Renames every staged file over its target, in the order added (an
    /// index, added last, learns of a run only after its outputs are in
    /// place).
    ///
    /// # Errors
    /// The first rename that fails; later files are removed, not renamed.
    pub fn commit(self) -> Result<()> {
        COMMITTING.store(true, std::sync::atomic::Ordering::SeqCst);
        durable::flush()?; // every file's data on disk before the first rename
        let _locks = durable::lock_dirs(self.staged.iter().map(|s| parent_dir(&s.target)));
        // Each directory is synced once, not once a file (an `--out-dir` of
        // 100,000 files in one directory), and all of them before the last
        // file (the index) is renamed.
        let last = self.staged.len().saturating_sub(1);
        let mut unsynced: BTreeSet<PathBuf> = BTreeSet::new();
        let _renaming = RENAMING.lock().unwrap_or_else(PoisonError::into_inner);
        for (i, staged) in self.staged.into_iter().enumerate() {
            if i == last {
                for dir in std::mem::take(&mut unsynced) {
                    sync_dir(&dir);
                }
            }
            unsynced.insert(parent_dir(&staged.rename()?));
        }
        for dir in &unsynced {
            sync_dir(dir);
        }
        Ok(())
    }
}

/// Writes `fill`'s bytes to `path` (`-`: standard output): a regular file is
/// staged into `staging`, a special file written directly.
///
/// # Errors
/// Opening, writing or flushing fails.
pub fn write_to(
    path: &Path,
    staging: &mut Staging,
    fill: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<()> {
    let mut target = Target::open(path, ".neardup-")?;
    {
        let ahead = durable::Ahead::new(&mut target);
        let mut buffered = std::io::BufWriter::with_capacity(1 << 16, ahead);
        fill(&mut buffered).map_err(|e| Error::io(path, e))?;
        buffered.flush().map_err(|e| Error::io(path, e))?;
    }
    target.finish(staging)
}

/// Removes every live temporary file when SIGINT, SIGTERM, SIGHUP, SIGQUIT,
/// SIGUSR1, SIGUSR2, SIGALRM, SIGXCPU (`ulimit -t`) or SIGVTALRM arrives,
/// then exits with 128 + the signal's number, as the signal would have. A
/// SIGBUS (an input truncated while it was mapped: log rotation with
/// `copytruncate`) ends the run the same way, with exit status 2 and a
/// message naming the file. SIGXFSZ is ignored: a write past `ulimit -f`
/// fails as on a full disk. Call once, early in `main`.
///
/// # Errors
/// When the handler cannot be installed.
#[cfg(unix)]
pub fn clean_up_on_signals() -> std::io::Result<()> {
    use signal_hook::consts::{
        SIGALRM, SIGBUS, SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGVTALRM, SIGXCPU,
    };
    // The standard library's SIGBUS handler (for stack overflows) would run
    // first and reset the signal to its default, which kills the process
    // on the retried read before the message: the default goes back first.
    // A write past `ulimit -f` raises SIGXFSZ, whose default ends the
    // process on the spot, leaving its temporary files and a half-made
    // run; ignored, the write fails with EFBIG as on a full disk, and the
    // run cleans up and says so (exit 2).
    // SAFETY: setting signals' dispositions (default, ignored), before any
    // other handler is installed.
    #[allow(unsafe_code)]
    unsafe {
        libc::signal(libc::SIGBUS, libc::SIG_DFL);
        libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
    }
    // Every catchable signal whose default ends the process (SIGPIPE aside:
    // ignored, a closed pipe is a write error the run reports).
    let mut signals = signal_hook::iterator::Signals::new([
        SIGINT, SIGTERM, SIGHUP, SIGBUS, SIGQUIT, SIGUSR1, SIGUSR2, SIGALRM, SIGXCPU, SIGVTALRM,
    ])?;
    std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            for signal in signals.forever() {
                // A run renaming its outputs into place finishes first: its
                // outputs and index are then all new, not some of them, and
                // it has passed the point where stopping could leave them
                // as they were: it ends as a finished run (a later signal
                // stops it). A fault (SIGBUS) is never passed over.
                let (waited, renaming) = match RENAMING.try_lock() {
                    Ok(held) => (false, held),
                    Err(std::sync::TryLockError::Poisoned(held)) => (false, held.into_inner()),
                    Err(std::sync::TryLockError::WouldBlock) => {
                        (true, RENAMING.lock().unwrap_or_else(PoisonError::into_inner))
                    }
                };
                if waited && signal != SIGBUS {
                    drop(renaming);
                    crate::error::eprint_line(format_args!(
                        "neardup: the signal came while the run's outputs were renamed into place: the run finishes (every output, and the index if any, is in place)"
                    ));
                    continue;
                }
                // The locks are held to the end: no rename or new temporary
                // file slips in after the removal.
                let live = live();
                for path in live.iter() {
                    let _ = std::fs::remove_file(path);
                }
                created::remove_all_created();
                let status = if signal == SIGBUS {
                    // The faulting thread retries its read (and faults)
                    // until the process ends here.
                    crate::error::eprint_line(format_args!(
                        "neardup: {}",
                        faulted::message(&crate::input::mapped_and_cut_short())
                    ));
                    2
                } else {
                    128 + signal
                };
                // Ending here is the point: the signal's own exit status.
                #[allow(clippy::exit)]
                std::process::exit(status);
            }
        })?;
    Ok(())
}

/// Refuses to replace a file that is there and is not a neardup index (a
/// user's file named by mistake as `-o` of `index build` or `index merge`):
/// an index, an empty file or no file at all may be written over.
///
/// # Errors
/// A [`Error::Usage`] naming the file, when it holds something else; an
/// [`Error::Io`] when it cannot be read to tell.
pub fn replaceable_index(path: &Path) -> Result<()> {
    use std::io::Read;
    // Asked before opening: opening a FIFO waits for its writer.
    match std::fs::metadata(path) {
        Ok(m) if !m.is_file() => return Err(not_regular(path)),
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(Error::io(path, e)),
    }
    let magic = crate::input::INDEX_MAGIC;
    let mut head = Vec::with_capacity(magic.len());
    File::open(path)
        .and_then(|f| f.take(magic.len() as u64).read_to_end(&mut head))
        .map_err(|e| Error::io(path, e))?;
    if head.is_empty() || head == magic {
        return Ok(());
    }
    Err(Error::Usage(format!(
        "{}: not a neardup index; an index is never written over another file \
         (remove it, or name another path)",
        crate::escape::shown_path(path)
    )))
}

/// The error for an index named where only a regular file will do.
#[must_use]
pub fn not_regular(path: &Path) -> Error {
    Error::Usage(format!(
        "{}: an index is a regular file, not a directory, device, pipe, standard input or standard output",
        crate::escape::shown_path(path)
    ))
}

/// See the Unix version: elsewhere, temporary files are left to the next run.
///
/// # Errors
/// Never.
#[cfg(not(unix))]
pub fn clean_up_on_signals() -> std::io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_symlink_is_resolved_and_what_it_names_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real.txt");
        std::fs::write(&real, b"old").unwrap();
        let link = dir.path().join("link.txt");
        std::os::unix::fs::symlink("real.txt", &link).unwrap();
        let mut staging = Staging::new();
        write_to(&link, &mut staging, |w| w.write_all(b"new")).unwrap();
        assert_eq!(std::fs::read(&real).unwrap(), b"old", "not before commit");
        staging.commit().unwrap();
        assert_eq!(std::fs::read(&real).unwrap(), b"new");
        assert!(std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
    }

    #[test]
    fn hard_links_are_one_file() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a");
        let b = dir.path().join("b");
        std::fs::write(&a, b"x").unwrap();
        std::fs::hard_link(&a, &b).unwrap();
        let err = check_distinct(&[Use::new(&a, "input")], &[Use::new(&b, "--report")])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("(--report) is also") && err.contains("(input)"),
            "{err}"
        );
        check_distinct(
            &[Use::new(&a, "input")],
            &[Use::new(dir.path().join("c"), "-o")],
        )
        .unwrap();
    }
}
