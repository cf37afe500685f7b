//! Files written whole or not at all: into a temporary file beside the
//! destination, synced, then renamed over it, with the mode of the file it
//! replaces. Below every writer (outputs, reports, indexes).

use crate::compress::{Compression, Encoder};
use crate::error::{Error, Result};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Writes `fill`'s bytes to `path` atomically: into a temporary file in the same
/// directory, flushed and synced, then renamed over `path`.
///
/// # Errors
/// Creating, writing or renaming fails; the temporary file is then removed.
pub fn write_atomically(
    path: &Path,
    fill: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
    let mut temp = temp_beside(path, &dir, ".neardup-")?;
    {
        let mut buffered = std::io::BufWriter::with_capacity(1 << 16, temp.as_file_mut());
        fill(&mut buffered).map_err(|e| Error::io(path, e))?;
        buffered.flush().map_err(|e| Error::io(path, e))?;
    }
    temp.as_file().sync_all().map_err(|e| Error::io(path, e))?;
    temp.persist(path).map_err(|e| Error::io(path, e.error))?;
    Ok(())
}

/// A temporary file in `dir` that will replace `path`: with the permissions
/// of the file it replaces, or those of a new file (0666 less the umask), not
/// the temporary file's usual 0600.
///
/// # Errors
/// When the file cannot be created.
pub fn temp_beside(path: &Path, dir: &Path, prefix: &str) -> Result<tempfile::NamedTempFile> {
    let mut builder = tempfile::Builder::new();
    builder.prefix(prefix).suffix(".tmp");
    let existing = std::fs::metadata(path).ok().map(|m| m.permissions());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(
            existing
                .clone()
                .unwrap_or_else(|| std::fs::Permissions::from_mode(0o666)),
        );
    }
    let temp = builder.tempfile_in(dir).map_err(|e| Error::io(dir, e))?;
    // The umask applies at creation; an existing file's mode is kept exactly.
    if let Some(p) = existing {
        temp.as_file()
            .set_permissions(p)
            .map_err(|e| Error::io(dir, e))?;
    }
    Ok(temp)
}

/// Like [`write_atomically`], compressing as the file name says (`.gz`, `.zst`).
///
/// # Errors
/// See [`write_atomically`].
pub fn write_compressed(
    path: &Path,
    fill: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<()> {
    let compression = Compression::from_name(path);
    write_atomically(path, |out| {
        let mut encoder = Encoder::new(out, compression)?;
        fill(&mut encoder)?;
        encoder.finish()
    })
}
