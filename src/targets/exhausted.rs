//! Memory exhausted: a clear error and exit status 2, not an abort.
//!
//! When the system allocator has no memory to give (an address-space limit,
//! `ulimit -v`; a machine without swap), Rust's default is to print
//! `memory allocation of N bytes failed` and abort (SIGABRT, exit 134),
//! leaving the temporary files beside the run's targets. The binary's
//! allocator ([`ExitWhenExhausted`]) ends the run instead as any other
//! failed run ends: the temporary files it made removed, nothing renamed
//! over a target, a message that says what happened and what to do, exit
//! status 2.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicBool, Ordering};

/// The system allocator, ending the run with an error (see the module's
/// documentation) where it would fail. For a binary's `#[global_allocator]`;
/// a library loaded by another program (the Python module) keeps that
/// program's handling.
pub struct ExitWhenExhausted;

// SAFETY: every call is passed to `System` unchanged; only a failed one (a
// null pointer) is turned into the end of the process, which never returns
// and so never hands out a null pointer or touches the layout.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for ExitWhenExhausted {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract for `alloc`, passed on.
        let p = unsafe { System.alloc(layout) };
        if p.is_null() {
            exhausted(layout.size());
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as `alloc`.
        let p = unsafe { System.alloc_zeroed(layout) };
        if p.is_null() {
            exhausted(layout.size());
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller's contract for `dealloc`, passed on.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller's contract for `realloc`, passed on.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if p.is_null() {
            exhausted(new_size);
        }
        p
    }
}

/// Whether a thread is ending the run for want of memory.
static ENDING: AtomicBool = AtomicBool::new(false);

thread_local! {
    /// Whether this thread is the one ending the run (an allocation that
    /// fails while it cleans up ends the process on the spot).
    static ENDS_IT: Cell<bool> = const { Cell::new(false) };
}

/// Ends the run after an allocation of `size` bytes failed: says so on
/// standard error, removes the run's temporary files and the directories it
/// made, and exits with status 2. Allocates nothing itself; another thread
/// whose allocation fails meanwhile waits for the process to end.
fn exhausted(size: usize) -> ! {
    if ENDS_IT.with(Cell::get) {
        end();
    }
    if ENDING.swap(true, Ordering::SeqCst) {
        loop {
            // SAFETY: `pause` only suspends this thread until a signal; the
            // thread ending the run exits the process.
            #[allow(unsafe_code)]
            unsafe {
                libc::pause();
            }
        }
    }
    ENDS_IT.with(|e| e.set(true));
    let mut message = [0u8; 512];
    let committing = super::COMMITTING.load(Ordering::SeqCst);
    let len = message_into(size, committing, &mut message);
    write_stderr(&message[..len]);
    write_stderr(if remove_temporaries_now() {
        b"; its temporary files are removed). "
    } else {
        b"; temporary files of its may remain, for the next run to remove). "
    });
    write_stderr(b"Pass --memory-limit with less than the memory there is to work in chunks, or raise the limit on memory (ulimit -v)\n");
    end();
}

/// What [`super::remove_created`] and the signal handler remove, from a
/// thread that may hold their locks itself, as may any other (memory ran
/// out while it did): what is locked is left to the next run's sweep of
/// dead processes' temporary files. A path of fewer than 384 bytes is
/// removed without allocating. The locks are kept to the end of the
/// process (as the signal handler keeps them): no other thread stages or
/// renames a file after the removal. Whether both locks were taken.
fn remove_temporaries_now() -> bool {
    let live = held(super::LIVE.try_lock());
    if let Some(live) = &live {
        for path in live.iter() {
            let _ = std::fs::remove_file(path);
        }
    }
    let created = held(super::CREATED.try_lock());
    if let Some(created) = &created {
        for (_, path) in created.iter().rev() {
            super::created::remove_made(path);
        }
    }
    let both = live.is_some() && created.is_some();
    std::mem::forget(live);
    std::mem::forget(created);
    both
}

/// The guard `try_lock` gave (poisoned or not), or `None` when the lock is
/// held.
fn held<G>(r: std::sync::TryLockResult<G>) -> Option<G> {
    match r {
        Ok(guard) => Some(guard),
        Err(std::sync::TryLockError::Poisoned(p)) => Some(p.into_inner()),
        Err(std::sync::TryLockError::WouldBlock) => None,
    }
}

/// The message's beginning for a failed allocation of `size` bytes (while
/// the run's outputs were being renamed into place: `committing`), written
/// into `out` without allocating: its length.
fn message_into(size: usize, committing: bool, out: &mut [u8]) -> usize {
    let mut digits = [0u8; 20];
    let mut n = size;
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + u8::try_from(n % 10).unwrap_or(0);
        n /= 10;
        if n == 0 {
            break;
        }
    }
    let parts: [&[u8]; 4] = [
        b"neardup: out of memory: allocating ",
        &digits[at..],
        b" bytes failed, so the run stopped ",
        if committing {
            b"(as its outputs were put in place: some may be"
        } else {
            b"(no output file was replaced"
        },
    ];
    let mut len = 0;
    for part in parts {
        let take = part.len().min(out.len() - len);
        out[len..len + take].copy_from_slice(&part[..take]);
        len += take;
    }
    len
}

/// Writes `bytes` to standard error without allocating (errors ignored: the
/// run is ending either way).
fn write_stderr(mut bytes: &[u8]) {
    while !bytes.is_empty() {
        // SAFETY: `write` reads `bytes.len()` bytes from a live slice.
        #[allow(unsafe_code)]
        let n = unsafe { libc::write(2, bytes.as_ptr().cast(), bytes.len()) };
        match usize::try_from(n) {
            Ok(n) if n > 0 => bytes = &bytes[n..],
            _ if n < 0
                && std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted => {}
            _ => return,
        }
    }
}

/// Exits with status 2 at once: no destructors, no buffers flushed (they
/// may need memory; standard output's is the cleaned text of a failed run).
fn end() -> ! {
    // SAFETY: `_exit` ends the process; nothing after it runs.
    #[allow(unsafe_code)]
    unsafe {
        libc::_exit(2)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_message_names_the_size_and_what_was_replaced() {
        let mut out = [0u8; 512];
        let len = message_into(1_146_880, false, &mut out);
        let text = std::str::from_utf8(&out[..len]).unwrap();
        assert!(text.starts_with("neardup: out of memory: allocating 1146880 bytes failed"));
        assert!(text.ends_with("(no output file was replaced"));
        let len = message_into(0, true, &mut out);
        let text = std::str::from_utf8(&out[..len]).unwrap();
        assert!(text.contains(" 0 bytes") && text.ends_with("some may be"));
        let len = message_into(usize::MAX, false, &mut out);
        let text = std::str::from_utf8(&out[..len]).unwrap();
        assert!(text.contains(&format!(" {} bytes", usize::MAX)));
    }
}
