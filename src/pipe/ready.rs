//! Standard input and output as a parent may leave them: non-blocking
//! (`O_NONBLOCK` set on a pipe or terminal it shares with the run, as
//! programs with event loops do). A read or write there that would block
//! fails with EAGAIN, `Resource temporarily unavailable`: a run read a
//! slowly written pipe, or wrote into one its reader had not emptied, and
//! stopped with exit 2 part way. [`Ready`] waits for the descriptor instead
//! and tries again. The descriptor's flags are left as they are: they
//! belong to every process sharing it.

use std::io::{ErrorKind, Read, Write};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};

/// A reader or writer over a descriptor that may be non-blocking: an
/// operation that would block waits until the descriptor is ready (or has
/// hung up) and is made again. Nothing of a buffer is consumed by a call
/// that fails, so making it again is the same call.
#[derive(Debug)]
pub struct Ready<T>(pub T);

impl<T: Read + AsFd> Read for Ready<T> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        loop {
            match self.0.read(buf) {
                Err(e) if e.kind() == ErrorKind::WouldBlock => {
                    wait(self.0.as_fd(), libc::POLLIN)?;
                }
                done => return done,
            }
        }
    }
}

impl<T: Write + AsFd> Write for Ready<T> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        loop {
            match self.0.write(buf) {
                Err(e) if e.kind() == ErrorKind::WouldBlock => {
                    wait(self.0.as_fd(), libc::POLLOUT)?;
                }
                done => return done,
            }
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        loop {
            match self.0.flush() {
                Err(e) if e.kind() == ErrorKind::WouldBlock => {
                    wait(self.0.as_fd(), libc::POLLOUT)?;
                }
                done => return done,
            }
        }
    }
}

/// Waits until `fd` is ready for `events`, has hung up or failed (the
/// next read or write then says which), or a signal came.
fn wait(fd: BorrowedFd<'_>, events: libc::c_short) -> std::io::Result<()> {
    let mut poll = libc::pollfd {
        fd: fd.as_raw_fd(),
        events,
        revents: 0,
    };
    // SAFETY: one valid pollfd, for the length of the call.
    #[allow(unsafe_code)]
    let ready = unsafe { libc::poll(&raw mut poll, 1, -1) };
    if ready < 0 {
        let e = std::io::Error::last_os_error();
        if e.kind() != ErrorKind::Interrupted {
            return Err(e);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::OwnedFd;

    fn non_blocking_pipe() -> (std::fs::File, std::fs::File) {
        let (r, w) = std::io::pipe().unwrap();
        for fd in [r.as_fd(), w.as_fd()] {
            // SAFETY: fcntl on a descriptor this test owns.
            #[allow(unsafe_code)]
            unsafe {
                let flags = libc::fcntl(fd.as_raw_fd(), libc::F_GETFL);
                assert!(libc::fcntl(fd.as_raw_fd(), libc::F_SETFL, flags | libc::O_NONBLOCK) == 0);
            }
        }
        (
            std::fs::File::from(OwnedFd::from(r)),
            std::fs::File::from(OwnedFd::from(w)),
        )
    }

    /// A non-blocking pipe read while it is written slowly, and written
    /// past its capacity while it is read slowly: every byte, in order.
    #[test]
    fn a_non_blocking_pipe_is_read_and_written_whole() {
        let (mut r, mut w) = non_blocking_pipe();
        let mut bare = [0u8; 4];
        assert_eq!(
            r.read(&mut bare).unwrap_err().kind(),
            ErrorKind::WouldBlock,
            "the pipe is non-blocking"
        );
        let sent: Vec<u8> = (0..1_000_000u32).map(|i| (i % 251) as u8).collect();
        let expected = sent.clone();
        let writer = std::thread::spawn(move || {
            let mut w = Ready(&mut w);
            for piece in sent.chunks(100_000) {
                w.write_all(piece).unwrap();
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
        });
        let mut got = Vec::new();
        let mut piece = [0u8; 7_000];
        loop {
            std::thread::sleep(std::time::Duration::from_micros(200));
            match Ready(&mut r).read(&mut piece).unwrap() {
                0 => break,
                n => got.extend_from_slice(&piece[..n]),
            }
            if got.len() == expected.len() {
                break;
            }
        }
        writer.join().unwrap();
        assert_eq!(got, expected);
    }
}
