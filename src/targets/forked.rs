//! Descriptors that hold a lock (`flock`: an index's lock, the directory lock
//! of a run's renames), noted so that a child this process forks lets go of
//! its copies at once. A `flock` lock belongs to the open file description,
//! which a forked child shares: the lock is held until every copy of it is
//! closed. A process that forks while one of its threads holds an index's
//! lock (Python's `multiprocessing` with the fork start method, `os.fork()`)
//! made a child that held the lock for as long as it lived: the child's own
//! update of the index waited for ever (its copy is never closed, the
//! thread that would close it not being in the child), and so did every
//! later update by the parent while the child lived.
//!
//! A child handler (`pthread_atfork`) puts a descriptor of nothing
//! (`/dev/null`) in place of each noted descriptor in the child: the child's
//! copies of the locks are closed and the parent's stay held, and the
//! descriptor numbers stay taken, so that a [`LockDescriptor`] the child
//! still owns (the forking thread's own, when a Python callback of a run
//! forks) closes a descriptor of its own, never another file's. A child
//! thus holds none of its parent's locks: an update there waits for the
//! parent's run as for another process's.
//!
//! Noted in a fixed table of atomics, which the handler reads without a
//! lock or an allocation (a forked child of a threaded process may run only
//! such code before it goes on). A descriptor opened by another thread in
//! the moment before it is noted, or one beyond the table's
//! [`SLOTS`] (as many locks held at once), is not let go of.

use std::fs::File;

/// Locks noted at once, at most: two descriptors an update (the lock and
/// the index's copy of it), one a run's renames.
const SLOTS: usize = 256;

/// The noted descriptors; -1 is a free slot.
#[cfg(unix)]
static NOTED: [std::sync::atomic::AtomicI32; SLOTS] =
    [const { std::sync::atomic::AtomicI32::new(-1) }; SLOTS];

/// A descriptor holding a lock, let go of in a forked child (see the
/// module's documentation). Dropping it un-notes and closes it.
#[derive(Debug)]
pub struct LockDescriptor {
    file: File,
}

impl LockDescriptor {
    /// Notes `file`, a descriptor that holds (or will hold) a lock.
    #[must_use]
    pub fn new(file: File) -> LockDescriptor {
        #[cfg(unix)]
        note(std::os::fd::AsRawFd::as_raw_fd(&file));
        LockDescriptor { file }
    }

    /// The file.
    #[must_use]
    pub fn file(&self) -> &File {
        &self.file
    }

    /// Another descriptor of the same lock, noted too.
    ///
    /// # Errors
    /// When the descriptor cannot be duplicated.
    pub fn try_clone(&self) -> std::io::Result<LockDescriptor> {
        Ok(LockDescriptor::new(self.file.try_clone()?))
    }
}

impl Drop for LockDescriptor {
    fn drop(&mut self) {
        #[cfg(unix)]
        {
            use std::sync::atomic::Ordering;
            let fd = std::os::fd::AsRawFd::as_raw_fd(&self.file);
            for slot in &NOTED {
                if slot
                    .compare_exchange(fd, -1, Ordering::SeqCst, Ordering::SeqCst)
                    .is_ok()
                {
                    break;
                }
            }
        }
    }
}

/// Notes `fd` in a free slot (none free: not noted), the handler put in
/// place first.
#[cfg(unix)]
fn note(fd: i32) {
    use std::sync::atomic::Ordering;
    static HANDLER: std::sync::Once = std::sync::Once::new();
    HANDLER.call_once(|| {
        // SAFETY: registers a handler that runs only what a forked child
        // may run (atomics, `open`, `dup2`/`dup3`, `fcntl`, `close`).
        #[allow(unsafe_code)]
        unsafe {
            libc::pthread_atfork(None, None, Some(in_child));
        }
    });
    for slot in &NOTED {
        if slot
            .compare_exchange(-1, fd, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
        {
            return;
        }
    }
}

/// In a forked child: each noted descriptor made a descriptor of nothing
/// (the child's copy of the lock closed), and un-noted.
#[cfg(unix)]
extern "C" fn in_child() {
    use std::sync::atomic::Ordering;
    let mut nothing = -1;
    for slot in &NOTED {
        let fd = slot.swap(-1, Ordering::SeqCst);
        if fd < 0 {
            continue;
        }
        // SAFETY: descriptors the child inherited, replaced (or, with no
        // descriptor of nothing to put there, closed) by async-signal-safe
        // calls; `nothing` is one this handler opened.
        #[allow(unsafe_code)]
        unsafe {
            if nothing < 0 {
                for path in [c"/dev/null", c"/"] {
                    nothing = libc::open(path.as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC);
                    if nothing >= 0 {
                        break;
                    }
                }
            }
            if nothing < 0 || !replaced(nothing, fd) {
                libc::close(fd);
            }
        }
    }
    if nothing >= 0 {
        // SAFETY: the descriptor this handler opened.
        #[allow(unsafe_code)]
        unsafe {
            libc::close(nothing);
        }
    }
}

/// `fd` made a copy of `nothing`, closed on exec as it was.
#[cfg(unix)]
#[allow(unsafe_code)]
unsafe fn replaced(nothing: i32, fd: i32) -> bool {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        libc::dup3(nothing, fd, libc::O_CLOEXEC) == fd
    }
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    {
        libc::dup2(nothing, fd) == fd && libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) == 0
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    /// Whether another open of `path` can take its lock now.
    fn free(path: &std::path::Path) -> bool {
        File::open(path).unwrap().try_lock().is_ok()
    }

    #[test]
    #[allow(unsafe_code)]
    fn a_forked_child_lets_go_of_the_locks_and_the_parent_keeps_them() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("i.ndx.lock");
        let held = LockDescriptor::new(File::create(&path).unwrap());
        held.file().lock().unwrap();
        let copy = held.try_clone().unwrap();
        let fds = [held.file(), copy.file()].map(std::os::fd::AsRawFd::as_raw_fd);
        let name = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
        let (mut to_child, mut to_parent) = ([0; 2], [0; 2]);
        // SAFETY: pipes of this test's own.
        unsafe {
            assert_eq!(libc::pipe(to_child.as_mut_ptr()), 0);
            assert_eq!(libc::pipe(to_parent.as_mut_ptr()), 0);
        }
        // The child exits 0 when, its parent's lock held there still, the
        // lock is free once the parent lets go of it: its own copies were
        // let go of (made descriptors of nothing: 2 if they were closed).
        // SAFETY: the child runs only async-signal-safe calls before `_exit`.
        let pid = unsafe { libc::fork() };
        assert!(pid >= 0);
        if pid == 0 {
            unsafe {
                let lockable = || {
                    let other = libc::open(name.as_ptr(), libc::O_RDONLY);
                    let taken = libc::flock(other, libc::LOCK_EX | libc::LOCK_NB) == 0;
                    libc::close(other);
                    taken
                };
                let status = if fds.iter().any(|&fd| libc::fcntl(fd, libc::F_GETFD) < 0) {
                    2
                } else if lockable() {
                    3 // the parent's lock was let go of
                } else {
                    let mut byte = 0u8;
                    libc::write(to_parent[1], (&raw const byte).cast(), 1);
                    libc::read(to_child[0], (&raw mut byte).cast(), 1);
                    i32::from(!lockable())
                };
                libc::_exit(status);
            }
        }
        let mut byte = 0u8;
        let mut status = 0;
        // SAFETY: this test's pipes and child.
        unsafe {
            libc::read(to_parent[0], (&raw mut byte).cast(), 1);
            // The parent's lock is held still, until both descriptors go.
            assert!(!free(&path));
            drop(held);
            assert!(!free(&path));
            drop(copy);
            libc::write(to_child[1], (&raw const byte).cast(), 1);
            libc::waitpid(pid, &raw mut status, 0);
        }
        assert!(libc::WIFEXITED(status));
        assert_eq!(
            libc::WEXITSTATUS(status),
            0,
            "the child held or lost the lock"
        );
        assert!(free(&path));
    }
}
