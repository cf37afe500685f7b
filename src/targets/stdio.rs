//! Standard input and output against the paths a run reads and writes: a
//! regular file there has no name on the command line, so it is compared by
//! device and inode.

use super::{Identity, Use};
use crate::error::{Error, Result};

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
