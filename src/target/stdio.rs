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
    let real = |u: &&Use| u.path.as_os_str() != "-";
    if let Some(u) = reads
        .iter()
        .chain(writes)
        .filter(real)
        .find(|u| Identity::of(&u.path).file == Some(out))
    {
        return Err(Error::Usage(format!(
            "standard output is {} ({}): a run never writes into a file it reads or writes by name; send standard output elsewhere, or give -o FILE",
            crate::escape::shown_path(&u.path),
            u.role
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
        .filter(|u| u.path.as_os_str() != "-")
        .find(|u| Identity::of(&u.path).file == Some(stdin));
    let what = match written {
        Some(u) => format!("{} ({})", crate::escape::shown_path(&u.path), u.role),
        None if uses_stdout && stdout_file() == Some(stdin) => "also standard output".into(),
        None => return Ok(()),
    };
    Err(Error::Usage(format!(
        "standard input (-) is {what}: a run never writes a file it reads; refusing to overwrite it"
    )))
}

/// The device and inode of standard input when it is a regular file.
#[cfg(unix)]
fn stdin_file() -> Option<(u64, u64)> {
    use std::os::fd::AsFd;
    super::regular_file(std::io::stdin().as_fd()).map(|(_, id, _)| id)
}

/// Elsewhere, standard input is not compared.
#[cfg(not(unix))]
fn stdin_file() -> Option<(u64, u64)> {
    None
}

/// The device and inode of standard output when it is a regular file.
#[cfg(unix)]
fn stdout_file() -> Option<(u64, u64)> {
    use std::os::fd::AsFd;
    super::regular_file(std::io::stdout().as_fd()).map(|(_, id, _)| id)
}

/// Elsewhere, standard output is not compared.
#[cfg(not(unix))]
fn stdout_file() -> Option<(u64, u64)> {
    None
}
