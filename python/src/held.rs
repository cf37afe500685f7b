//! The one registry of index locks the threads of this process hold in a
//! way they cannot wait for (a run calling back into Python on a lock it
//! holds, a stream updating an index read by a thread), and what a forked
//! child makes of it.

use pyo3::prelude::*;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::{Mutex, MutexGuard, PoisonError};

use crate::NeardupError;

/// An index's lock as the lock code takes it: its lock file
/// ([`neardup::store::lock_path`]: the index's links followed, `NAME.lock`
/// beside it), known by its directory's device and inode and its name (every
/// spelling of the same lock: `./x`, `d/../x`, relative or absolute, a link
/// to the index or to its directory), or, where that directory is not there
/// yet, by its absolute path with `.` and `..` taken out. A hard link to an
/// index has a lock file of its own, so it is another lock: writing it never
/// waits for this one.
#[derive(Clone, Debug)]
pub(crate) struct LockKey {
    dir: Option<(u64, u64)>,
    name: std::ffi::OsString,
    lexical: PathBuf,
    /// The index as given, made absolute: a key made before the run made
    /// the index's directory is made again when compared.
    index: PathBuf,
}

impl LockKey {
    pub(crate) fn of(index: &std::path::Path) -> LockKey {
        use std::os::unix::fs::MetadataExt;
        let lock = neardup::store::lock_path(index);
        let dir = match lock.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir,
            _ => std::path::Path::new("."),
        };
        let name = lock.file_name().unwrap_or_default().to_owned();
        let mut lexical = PathBuf::new();
        for part in std::path::absolute(dir)
            .unwrap_or_else(|_| dir.to_owned())
            .components()
        {
            match part {
                std::path::Component::CurDir => {}
                std::path::Component::ParentDir => {
                    lexical.pop();
                }
                other => lexical.push(other),
            }
        }
        lexical.push(&name);
        LockKey {
            dir: std::fs::metadata(dir).ok().map(|m| (m.dev(), m.ino())),
            name,
            lexical,
            index: std::path::absolute(index).unwrap_or_else(|_| index.to_owned()),
        }
    }

    /// The key as it is now: one made while the index's directory was not
    /// there is made again (the run that holds it has made it since, and a
    /// link to it, `alias/new/x.ndx` for `new/x.ndx`, differs by name only).
    fn now(&self) -> std::borrow::Cow<'_, LockKey> {
        match self.dir {
            Some(_) => std::borrow::Cow::Borrowed(self),
            None => std::borrow::Cow::Owned(LockKey::of(&self.index)),
        }
    }

    fn same(&self, other: &LockKey) -> bool {
        let (a, b) = (self.now(), other.now());
        match (a.dir, b.dir) {
            (Some(x), Some(y)) => x == y && a.name == b.name,
            _ => a.lexical == b.lexical,
        }
    }
}

/// What holds an index's lock that a thread must not wait for.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Holder {
    /// A run of this thread's that holds the lock is calling back into
    /// Python on it (its progress callback, its records).
    Callback,
    /// A stream updating the index (`clean_stream(..., update=True)`) is
    /// read by this thread, and its run waits for the thread to read on.
    Stream,
}

/// The one registry of locks the threads of this process hold in a way
/// they cannot wait for: (lock, thread, holder, token).
type Held = Vec<(LockKey, std::thread::ThreadId, Holder, u64)>;
static HELD: Mutex<Held> = Mutex::new(Vec::new());
static NEXT_HOLD: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

/// Notes that this thread holds `key` as `holder`, until [`release`]d.
pub(crate) fn hold(key: LockKey, holder: Holder) -> u64 {
    let token = NEXT_HOLD.fetch_add(1, Ordering::Relaxed);
    HELD.lock().unwrap_or_else(PoisonError::into_inner).push((
        key,
        std::thread::current().id(),
        holder,
        token,
    ));
    token
}

pub(crate) fn release_hold(token: u64) {
    HELD.lock()
        .unwrap_or_else(PoisonError::into_inner)
        .retain(|held| held.3 != token);
}

/// Notes that the thread calling this reads a stream that updates the index
/// at `path` (see [`not_locked_by_caller`]); a token for [`release`].
#[pyfunction]
#[allow(clippy::needless_pass_by_value)]
pub(crate) fn hold_stream(path: PathBuf) -> u64 {
    hold(LockKey::of(&path), Holder::Stream)
}

/// Forgets what [`hold_stream`] noted (the stream ended or was closed).
#[pyfunction]
pub(crate) fn release(token: u64) {
    release_hold(token);
}

/// Refuses to lock the index at `path` on a thread that holds its lock in a
/// way it cannot wait for: from a callback of a run that holds it, or from
/// the loop that reads a stream updating it; the lock would be waited for by
/// the run that holds it, which waits for this thread. Every spelling of the
/// same lock is refused alike ([`LockKey`]).
pub(crate) fn not_locked_by_caller(path: &std::path::Path) -> PyResult<()> {
    let key = LockKey::of(path);
    let me = std::thread::current().id();
    let holder = HELD
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .iter()
        .find(|(held, thread, _, _)| *thread == me && held.same(&key))
        .map(|held| held.2);
    let shown = neardup::escape::shown_path(path);
    match holder {
        None => Ok(()),
        Some(Holder::Callback) => Err(NeardupError::new_err(format!(
            "{shown}: the run whose callback this is holds this index's lock (it writes it); \
             writing it from that callback would wait for that run, which waits for the callback"
        ))),
        Some(Holder::Stream) => Err(NeardupError::new_err(format!(
            "{shown}: a stream this thread reads (clean_stream(..., update=True)) holds this \
             index's lock until it is exhausted or closed; writing it now would wait for that \
             stream, which waits for this thread"
        ))),
    }
}

thread_local! {
    /// The registry, held by the thread that forks from [`fork_before`] to
    /// [`fork_parent`] or [`fork_child`].
    static FORKING: std::cell::RefCell<Option<MutexGuard<'static, Held>>> =
        const { std::cell::RefCell::new(None) };
}

/// Before this process forks (`os.register_at_fork`, on the thread that
/// forks): the registry is taken, so that no other thread holds it at the
/// fork (the child would wait for it for ever). Its holders hold it for
/// moments and never wait for the GIL meanwhile.
#[pyfunction]
pub(crate) fn fork_before() {
    let guard = HELD.lock().unwrap_or_else(PoisonError::into_inner);
    FORKING.with(|f| *f.borrow_mut() = Some(guard));
}

/// After the fork, in the parent: the registry given back as it was.
#[pyfunction]
pub(crate) fn fork_parent() {
    FORKING.with(|f| drop(f.borrow_mut().take()));
}

/// After the fork, in the child: it holds none of its parent's locks (the
/// engine let go of its copies of them, `neardup::targets::LockDescriptor`),
/// so nothing is noted as held: an update of an index its parent's run or
/// stream holds waits for that run, as for another process's, rather than
/// be refused as this thread's own (a stream's reader that forked, a pool
/// made in a callback). And the calls into Python of threads that are not
/// in the child are not waited for at its exit.
#[pyfunction]
pub(crate) fn fork_child() {
    FORKING.with(|f| {
        let taken = f.borrow_mut().take();
        match taken {
            Some(mut held) => held.clear(),
            None => HELD.lock().unwrap_or_else(PoisonError::into_inner).clear(),
        }
    });
    crate::forked_in_python();
}
