//! Directories and lock files a run created, noted so that a run that fails
//! (or is interrupted) removes them again, by run: a library caller runs
//! several at once on threads of its own (the Python package releases the
//! GIL), and one run's failure removed the lock file another held (a third
//! update could then take the index at the same time) and the directories
//! it was about to write into.
//!
//! A run is a token: a thread's own (0, the binary's one run, unless a
//! [`RunScope`] gives it another) and the threads of the pool that thread
//! starts, which take its token ([`current_run`], [`enter_run`]).

use std::cell::Cell;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

/// What each run created, with the run's token, oldest first (all of it
/// removed, every run's, when memory runs out: `exhausted`).
pub(super) static CREATED: Mutex<Vec<(u64, PathBuf)>> = Mutex::new(Vec::new());

/// The token of the next [`RunScope`].
static NEXT_RUN: AtomicU64 = AtomicU64::new(1);

thread_local! {
    static RUN: Cell<u64> = const { Cell::new(0) };
}

fn created() -> MutexGuard<'static, Vec<(u64, PathBuf)>> {
    CREATED.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The run this thread works for.
#[must_use]
pub fn current_run() -> u64 {
    RUN.with(Cell::get)
}

/// Makes this thread work for `run` (a thread of the pool a run starts).
pub fn enter_run(run: u64) {
    RUN.with(|r| r.set(run));
}

/// For a run's thread pool (`start_handler`): each of its threads works for
/// the run of the thread that makes the pool, with its hooks
/// ([`crate::hooks`]).
pub fn joining_this_run() -> impl Fn(usize) + Send + Sync + 'static {
    let run = current_run();
    let hooks = crate::hooks::current();
    move |_| {
        enter_run(run);
        crate::hooks::set(hooks.clone());
    }
}

/// A run of its own for the thread that makes it, until dropped: what it
/// creates is removed or kept apart from any other run's.
pub struct RunScope {
    outer: u64,
}

impl RunScope {
    /// Starts a run of its own on this thread.
    #[must_use]
    pub fn enter() -> RunScope {
        let outer = current_run();
        enter_run(NEXT_RUN.fetch_add(1, Ordering::Relaxed));
        RunScope { outer }
    }
}

impl Drop for RunScope {
    fn drop(&mut self) {
        enter_run(self.outer);
    }
}

/// Notes a directory or file this run created (a lock file), removed if the
/// run fails or is interrupted; [`forget_created`] when it is removed or kept.
pub fn note_created(path: &Path) {
    created().push((current_run(), path.to_owned()));
}

/// Forgets a file noted by [`note_created`].
pub fn forget_created(path: &Path) {
    created().retain(|(_, p)| p != path);
}

/// Removes what this run created and noted (directories, newest first, when
/// empty; lock files), after a failure: a failed run leaves every file and
/// directory as it was, and every other run's. The directories it held open
/// to flush are closed.
pub fn remove_created() {
    let run = current_run();
    remove(|r| r == run);
    super::durable::forget_run(run);
    super::sweep::forget_reads(run);
}

/// Removes what every run created (the process is ending on a signal).
pub(super) fn remove_all_created() {
    remove(|_| true);
}

fn remove(of: impl Fn(u64) -> bool) {
    let mut created = created();
    let (gone, kept) = std::mem::take(&mut *created)
        .into_iter()
        .partition::<Vec<_>, _>(|(r, _)| of(*r));
    *created = kept;
    for (_, path) in gone.into_iter().rev() {
        remove_made(&path);
    }
}

/// Removes a directory a run made (when empty) or a lock file it made. A
/// path of fewer than 384 bytes is removed without allocating (`exhausted`
/// calls this when memory has run out).
pub(super) fn remove_made(path: &Path) {
    if std::fs::remove_dir(path).is_err() && path.is_file() {
        let _ = std::fs::remove_file(path);
    }
}

/// Keeps what this run created (it succeeded): a later run in this process
/// that fails does not remove it. Any directory it still held open to flush
/// is closed.
pub fn keep_created() {
    let run = current_run();
    created().retain(|(r, _)| *r != run);
    super::durable::forget_run(run);
    super::sweep::forget_reads(run);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two runs on threads of their own (as two Python threads run them):
    /// the one that fails removes its directory and leaves the other's.
    #[test]
    fn a_run_that_fails_removes_only_what_it_created() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a"), dir.path().join("b"));
        std::thread::scope(|s| {
            s.spawn(|| {
                let _run = RunScope::enter();
                std::fs::create_dir(&a).unwrap();
                note_created(&a);
            })
            .join()
            .unwrap();
            s.spawn(|| {
                let _run = RunScope::enter();
                std::fs::create_dir(&b).unwrap();
                note_created(&b);
                remove_created();
            })
            .join()
            .unwrap();
        });
        assert!(a.is_dir() && !b.exists());
        forget_created(&a);
    }

    #[test]
    fn a_scope_takes_the_lines_and_gives_back_the_outer_hooks() {
        let said = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        assert!(!crate::hooks::stopped());
        {
            let to = std::sync::Arc::clone(&said);
            let _scope = crate::hooks::Scope::enter(crate::hooks::Hooks {
                say: Box::new(move |line| to.lock().unwrap().push(line.to_owned())),
                stop: Box::new(|| true),
            });
            crate::error::eprint_line(format_args!("neardup: {} waits", "x"));
            assert!(crate::hooks::stopped());
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(1)
                .start_handler(joining_this_run())
                .build()
                .unwrap();
            pool.install(|| crate::error::eprint_line(format_args!("from the pool")));
        }
        assert!(!crate::hooks::stopped());
        assert_eq!(*said.lock().unwrap(), ["neardup: x waits", "from the pool"]);
    }
}
