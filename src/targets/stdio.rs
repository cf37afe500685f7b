//! Standard input and output against the paths a run reads and writes: a
//! regular file there has no name on the command line, so it is compared by
//! device and inode.

use super::{Identity, Use};
use crate::error::{Error, Result};
use std::sync::atomic::{AtomicU8, Ordering};

/// The standard streams the process started with closed (bit 0 input, 1
/// output, 2 error), as the binary notes them before Rust's runtime opens
/// `/dev/null` in their place: `neardup clean in.jsonl >&-` would otherwise
/// write the cleaned text into `/dev/null` and exit 0, and a run with
/// `--update` would update its index though its output was lost.
static CLOSED_AT_START: AtomicU8 = AtomicU8::new(0);

/// Notes which standard streams the process started with closed (bit 0
/// input, 1 output, 2 error). Called by the binary before `main`; a library
/// caller never calls it, and its streams count as open.
pub fn note_closed_at_start(streams: u8) {
    CLOSED_AT_START.store(streams, Ordering::Relaxed);
}

/// Whether standard output was closed when the process started.
#[must_use]
pub fn stdout_closed_at_start() -> bool {
    CLOSED_AT_START.load(Ordering::Relaxed) & 0b010 != 0
}

/// Whether standard input was closed when the process started.
fn stdin_closed_at_start() -> bool {
    CLOSED_AT_START.load(Ordering::Relaxed) & 0b001 != 0
}

/// Refuses a run (exit 2) that would write `what` into a standard output
/// the process started with closed (`>&-`): what it wrote would be lost.
///
/// # Errors
/// A [`Error::Usage`] naming what would have gone there.
pub fn check_stdout_open(what: &str) -> Result<()> {
    if stdout_closed_at_start() {
        return Err(Error::Usage(format!(
            "standard output is closed (`>&-`): {what} would be lost; send standard output to a file, or to /dev/null to discard it"
        )));
    }
    Ok(())
}

/// Refuses a run (exit 2) that reads `-` from a standard input the process
/// started with closed (`<&-`), which would read as empty.
///
/// # Errors
/// A [`Error::Usage`] saying so.
pub fn check_stdin_open() -> Result<()> {
    if stdin_closed_at_start() {
        return Err(Error::Usage(
            "standard input (-) is closed (`<&-`): there is nothing to read; give the input's path, or redirect standard input from it".into(),
        ));
    }
    Ok(())
}

/// Refuses a run (exit 2) whose standard output is a regular file it also
/// reads or writes by name (`neardup clean in.jsonl >> in.jsonl`: the
/// cleaned text would be appended to the input), by device and inode.
/// Called only when the run writes to the process's standard output.
///
/// # Errors
/// A [`Error::Usage`] naming the path and its role.
pub fn check_stdout_apart(reads: &[Use], writes: &[Use]) -> Result<()> {
    let Some(out) = stdout_file() else {
        return Ok(());
    };
    if let Some(u) = reads
        .iter()
        .chain(writes)
        .filter(|u| u.is_path())
        .find(|u| Identity::of(&u.path).file == Some(out))
    {
        return Err(Error::Usage(format!(
            "standard output is {}: a run never writes into a file it reads or writes by name; send standard output elsewhere, or give -o FILE",
            u.shown()
        )));
    }
    Ok(())
}

/// Refuses a run (exit 2) that reads `-` from a regular file it also writes,
/// by device and inode (standard input has no name): `neardup clean - -o
/// in.jsonl < in.jsonl` would replace the input with its cleaned text (and
/// `--report`, `index build -o` the same), `... < in.jsonl >> in.jsonl`
/// (`uses_stdout`) append the output to the file being read.
///
/// # Errors
/// A [`Error::Usage`] naming the path and its role, or standard output.
pub fn check_stdin_apart(writes: &[Use], uses_stdout: bool) -> Result<()> {
    let Some(stdin) = stdin_file() else {
        return Ok(());
    };
    let written = writes
        .iter()
        .filter(|u| u.is_path())
        .find(|u| Identity::of(&u.path).file == Some(stdin));
    let what = match written {
        Some(u) => u.shown(),
        None if uses_stdout && stdout_file() == Some(stdin) => "also standard output".into(),
        None => return Ok(()),
    };
    Err(Error::Usage(format!(
        "standard input (-) is {what}: a run never writes a file it reads; refusing to overwrite it"
    )))
}

/// The device and inode of standard input when it is a regular file.
fn stdin_file() -> Option<(u64, u64)> {
    regular_file_id(&std::io::stdin())
}

/// The device and inode of standard output when it is a regular file.
fn stdout_file() -> Option<(u64, u64)> {
    regular_file_id(&std::io::stdout())
}

/// The device and inode of the standard stream `stream` when it is a
/// regular file.
#[cfg(unix)]
fn regular_file_id(stream: &impl std::os::fd::AsFd) -> Option<(u64, u64)> {
    super::regular_file(stream.as_fd()).map(|(_, id, _)| id)
}

/// Elsewhere, the standard streams are not compared.
#[cfg(not(unix))]
fn regular_file_id<T>(_: &T) -> Option<(u64, u64)> {
    None
}
