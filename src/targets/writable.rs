//! A file a run would replace must be one the user may write: a read-only
//! (`chmod 0444`) output is refused as a shell's `>` refuses it, rather than
//! replaced by the rename (which needs only the directory to be writable).

use super::Use;
use crate::error::{Error, Result};

/// Refuses a run (exit 2), before anything is read, in which an existing
/// path written (the output, an `--out-dir` file, the report, the HTML page,
/// the step summary, the index an update or merge replaces) is not writable
/// by the process: `access(2)` with the effective ids, as `open(2)` decides,
/// so root writes a 0444 file as a shell run by root does, and a file on a
/// read-only filesystem is refused by anyone. A path not there yet, or a
/// dangling link, is left to the write.
///
/// # Errors
/// A [`Error::Usage`] naming the path, its role and why.
pub fn check_writable(writes: &[Use]) -> Result<()> {
    for w in writes.iter().filter(|w| w.is_path()) {
        if let Some(e) = not_writable(&w.path) {
            let mode = std::fs::metadata(&w.path)
                .map(|m| {
                    use std::os::unix::fs::PermissionsExt;
                    format!(" (mode {:04o})", m.permissions().mode() & 0o7777)
                })
                .unwrap_or_default();
            return Err(Error::Usage(format!(
                "{}: not writable{mode}: {e}; neardup replaces a file only where a shell's `>` \
                 would write it: make it writable (chmod u+w) or write elsewhere",
                w.shown()
            )));
        }
    }
    Ok(())
}

/// Why the process may not write `path` (following links), when it exists
/// and may not.
fn not_writable(path: &std::path::Path) -> Option<std::io::Error> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(path.as_os_str().as_bytes()).ok()?;
    // SAFETY: `c` is a NUL-terminated string that outlives the call.
    #[allow(unsafe_code)]
    let r = unsafe { libc::faccessat(libc::AT_FDCWD, c.as_ptr(), libc::W_OK, libc::AT_EACCESS) };
    if r == 0 {
        return None;
    }
    let e = std::io::Error::last_os_error();
    matches!(
        e.raw_os_error(),
        Some(libc::EACCES | libc::EPERM | libc::EROFS | libc::ETXTBSY)
    )
    .then_some(e)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A read-only file is refused unless the process is root (who may
    /// write it, as with a shell's `>`); a writable one and a missing one
    /// pass.
    #[test]
    fn a_read_only_file_is_refused_as_open_would() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let ro = dir.path().join("ro.txt");
        let rw = dir.path().join("rw.txt");
        std::fs::write(&ro, "old\n").unwrap();
        std::fs::write(&rw, "old\n").unwrap();
        std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o444)).unwrap();
        let opens = std::fs::OpenOptions::new().write(true).open(&ro).is_ok();
        let result = check_writable(&[Use::new(&ro, "-o")]);
        assert_eq!(result.is_ok(), opens, "{result:?}");
        if let Err(e) = result {
            let e = e.to_string();
            assert!(e.contains("ro.txt (-o): not writable (mode 0444)"), "{e}");
        }
        check_writable(&[
            Use::new(&rw, "--report"),
            Use::new(dir.path().join("new.txt"), "-o"),
            Use::new("-", "-o"),
        ])
        .unwrap();
    }
}
