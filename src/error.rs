//! Errors of the library. Every variant names the input (and the line or byte
//! offset) it is about, so a message is useful without a backtrace.

use std::path::PathBuf;

/// Why a file with a NUL byte is not read: a neardup index, a file named
/// for a compression neardup does not read (`x.jsonl.xz`, whose bytes
/// `--text` would read as one document of noise), or binary.
fn binary_reason(offset: usize, index: bool, compressed: Option<&str>) -> String {
    if index {
        return "a neardup index, not text: give it to --index or --reference".to_owned();
    }
    let binary = format!("binary file (NUL byte at byte offset {offset})");
    match compressed {
        Some(format) => format!(
            "{binary}: neardup reads gzip (.gz) and zstd (.zst), not {format}; decompress it first"
        ),
        None => format!("{binary}; pass --text to read it anyway"),
    }
}

/// Anything that can go wrong while reading inputs or writing outputs.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An input path or an output path could not be opened, read or written.
    #[error("{}: {source}", crate::escape::shown_path(path))]
    Io {
        /// The file that failed.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// The input is not valid UTF-8.
    #[error(
        "{}:{line}: invalid UTF-8 at byte offset {offset}",
        crate::escape::shown_path(path)
    )]
    InvalidUtf8 {
        /// The file.
        path: PathBuf,
        /// 1-based line of the first bad byte.
        line: usize,
        /// 0-based byte offset of the first bad byte in the file.
        offset: usize,
    },
    /// The input holds a NUL byte, so it is taken for a binary file.
    #[error(
        "{}: {}",
        crate::escape::shown_path(path),
        binary_reason(*offset, *index, *compressed)
    )]
    Binary {
        /// The file.
        path: PathBuf,
        /// 0-based offset of the first NUL byte.
        offset: usize,
        /// Whether the file starts as a neardup index does.
        index: bool,
        /// The compression its name says, where neardup does not read it
        /// (`xz` for `x.jsonl.xz`), as the refusal of such an output names it.
        compressed: Option<&'static str>,
    },
    /// The input starts with a UTF-16 or UTF-32 byte-order mark.
    #[error(
        "{}: {encoding} text ({endian} byte-order mark) is not supported; convert it to UTF-8 first",
        crate::escape::shown_path(path)
    )]
    Utf16 {
        /// The file.
        path: PathBuf,
        /// "UTF-16" or "UTF-32".
        encoding: &'static str,
        /// "little-endian" or "big-endian".
        endian: &'static str,
    },
    /// A JSON Lines record is malformed or lacks the text field.
    #[error("{}:{line}: {message}", crate::escape::shown_path(path))]
    Record {
        /// The file.
        path: PathBuf,
        /// 1-based line of the record.
        line: usize,
        /// What is wrong with it.
        message: String,
    },
    /// A compressed input could not be decoded.
    #[error(
        "{}: truncated or corrupt {format} stream after {decoded} decompressed bytes: {message}",
        crate::escape::shown_path(path)
    )]
    Decompress {
        /// The file.
        path: PathBuf,
        /// `gzip` or `zstd`.
        format: &'static str,
        /// Bytes decoded before the failure.
        decoded: usize,
        /// The decoder's message.
        message: String,
    },
    /// An input or a document larger than the run can hold in memory.
    #[error("{}: too large: {message}", crate::escape::shown_path(path))]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// How large, where reading stopped, and what to do.
        message: String,
    },
    /// A persistent index is missing, corrupt, or was built with other settings.
    #[error("{}: {message}", crate::escape::shown_path(path))]
    Index {
        /// The index file.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
    /// A Parquet input cannot be read as one, or lacks its text column.
    #[error("{}: {message}", crate::escape::shown_path(path))]
    Parquet {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
    /// The command line asks for something that cannot be done.
    #[error("{0}")]
    Usage(String),
    /// A run of one chunk chosen under `--memory-limit` grew past it; the
    /// driver makes it again in chunks (see `memory::Ceiling`).
    #[error("the run grew past --memory-limit ({limit} bytes) as one chunk")]
    PastCeiling {
        /// The limit, in bytes.
        limit: usize,
    },
    /// The run was withdrawn by what drives it (a library caller whose
    /// callback raised, or who was interrupted) before it changed any file.
    #[error("{0}")]
    Withdrawn(String),
}

/// Shorthand for results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// Wraps an I/O error with the path it happened on. An error of this
    /// crate carried in it ([`Error::carried`]: an input's, met while an
    /// output's writer read it, as a Parquet output copies its input's rows)
    /// is given back as it is: it names the file that failed (a Parquet
    /// input cut while `clean -o out.parquet` ran was told as
    /// `out.parquet: in.parquet: ...`).
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        type Inner = dyn std::error::Error + Send + Sync;
        if source.get_ref().is_some_and(<Inner>::is::<Error>) {
            let kind = source.kind();
            match source.into_inner().map(<Inner>::downcast::<Error>) {
                Some(Ok(carried)) => return *carried,
                Some(Err(other)) => {
                    return Error::Io {
                        path: path.into(),
                        source: std::io::Error::new(kind, other),
                    }
                }
                None => {
                    return Error::Io {
                        path: path.into(),
                        source: kind.into(),
                    }
                }
            }
        }
        Error::Io {
            path: path.into(),
            source,
        }
    }

    /// This error as an I/O error (for a writer's callback), given back
    /// whole by [`Error::io`].
    #[must_use]
    pub fn carried(self) -> std::io::Error {
        std::io::Error::other(self)
    }
}

/// An unnamed temporary file in `dir` (made with its missing parents when
/// not there), its failure told as such: a run in chunks holds a file a
/// segment and a spool, so a low limit on open files (`ulimit -n`) fails
/// here, which `dir: Too many open files` alone does not say.
///
/// # Errors
/// When `dir` cannot be made (its error as it is); when the file cannot be
/// made, with what it was for and, for too many open files, what to raise.
pub(crate) fn temp_file(dir: &std::path::Path) -> std::io::Result<std::fs::File> {
    std::fs::create_dir_all(dir)?;
    tempfile::tempfile_in(dir).map_err(|e| {
        let hint = match e.raw_os_error() {
            Some(libc::EMFILE | libc::ENFILE) => {
                "; the run holds more files open than the limit on open files allows: raise it (`ulimit -n`)"
            }
            _ => "",
        };
        std::io::Error::new(
            e.kind(),
            format!("cannot create a temporary file: {e}{hint}"),
        )
    })
}

/// Writes `line` and a line break to standard error, and goes on when that
/// fails. `eprintln!` panics on a failed write: standard error a pipe whose
/// reader has gone (`neardup clean ... |& head -3`, a log collector that
/// died) ended the run with exit 101 and no word, its output not written
/// and an `--update` not made. A message nobody reads changes nothing the
/// run writes; the exit status still says how it went.
///
/// A run whose caller set [`crate::hooks`] hands the line to them instead
/// (the Python package tells it in the run's messages).
pub fn eprint_line(line: std::fmt::Arguments<'_>) {
    use std::io::Write as _;
    if crate::hooks::say(line) {
        return;
    }
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}
