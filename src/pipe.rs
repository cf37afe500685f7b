//! Streams a library caller gives a run in place of the process's standard
//! input and output (the Python package runs the one driver over records it
//! holds, and collects the cleaned text and the report in memory). Below
//! every stage: a run reads a [`Reader`] where it would read standard input
//! and writes a [`Writer`] where it would write standard output, and nothing
//! else changes.
//!
//! ```
//! use neardup::pipe::{Buffer, Reader, Writer};
//! use neardup::plan::{Command, ReportFormat, Request, Streams};
//! use neardup::{Config, Plan};
//!
//! let body = "A paragraph long enough to be judged on its own words, as any other.";
//! let records = format!(
//!     "{{\"id\": \"a\", \"text\": \"{body}\"}}\n{{\"id\": \"b\", \"text\": \"{body}\"}}\n"
//! );
//! let (cleaned, report) = (Buffer::default(), Buffer::default());
//! let request = Request {
//!     command: Command::Clean,
//!     paths: vec!["-".into()],
//!     output: Some("-".into()),
//!     out_dir: None,
//!     report: Some("-".into()),
//!     html: None,
//!     format: ReportFormat::Json,
//!     step_summary: None,
//!     index: None,
//!     reference: None,
//!     update: false,
//!     memory_limit: None,
//!     tmp_dir: None,
//!     quiet: true,
//!     verbose: false,
//!     streams: Streams {
//!         stdin: Some(Reader::new("records", std::io::Cursor::new(records))),
//!         stdout: Some(Writer::new(cleaned.clone())),
//!         report: Some(Writer::new(report.clone())),
//!     },
//! };
//! let plan = Plan::new(Config::default(), request).expect("a valid request");
//! neardup::run(&plan, &neardup::progress::Silent).expect("a run");
//! // The second record is a copy of the first: dropped whole.
//! assert_eq!(cleaned.take(), format!("{{\"id\": \"a\", \"text\": \"{body}\"}}\n").into_bytes());
//! let report: serde_json::Value = serde_json::from_slice(&report.take()).unwrap();
//! assert_eq!(report["inputs"][0]["path"], "records");
//! assert_eq!(report["summary"]["dropped_documents"], 1);
//! ```

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

#[cfg(unix)]
mod ready;
#[cfg(unix)]
pub use ready::Ready;

/// Elsewhere a descriptor is taken as it is (see the Unix version).
#[cfg(not(unix))]
#[derive(Debug)]
pub struct Ready<T>(pub T);

#[cfg(not(unix))]
impl<T: Read> Read for Ready<T> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.0.read(buf)
    }
}

#[cfg(not(unix))]
impl<T: Write> Write for Ready<T> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.write(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}

/// What `-` reads in a run (see `plan::Streams`), and the name
/// messages and reports give it (instead of `<stdin>`). Clones share the
/// stream; reads take turns.
#[derive(Clone)]
pub struct Reader {
    name: PathBuf,
    inner: Arc<Mutex<Box<dyn Read + Send>>>,
}

impl Reader {
    /// A stream read as `name`.
    pub fn new(name: impl Into<PathBuf>, inner: impl Read + Send + 'static) -> Reader {
        Reader {
            name: name.into(),
            inner: Arc::new(Mutex::new(Box::new(inner))),
        }
    }

    /// The name messages and reports give it.
    #[must_use]
    pub fn name(&self) -> &Path {
        &self.name
    }
}

impl Read for Reader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.inner
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .read(buf)
    }
}

/// Two readers are the same input when they share one stream.
impl PartialEq for Reader {
    fn eq(&self, other: &Reader) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }
}

impl Eq for Reader {}

impl std::fmt::Debug for Reader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Reader").field(&self.name).finish()
    }
}

/// Where a run writes what would go to standard output (see
/// `plan::Streams`). Clones share the stream.
#[derive(Clone)]
pub struct Writer(Arc<Mutex<Box<dyn Write + Send>>>);

impl Writer {
    /// A writer into `inner`.
    pub fn new(inner: impl Write + Send + 'static) -> Writer {
        Writer(Arc::new(Mutex::new(Box::new(inner))))
    }
}

impl Write for Writer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .write(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .flush()
    }
}

impl std::fmt::Debug for Writer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Writer")
    }
}

/// Standard output (waiting where it is non-blocking: [`Ready`]), or the
/// caller's writer in its place.
pub(crate) fn stdout_or(writer: Option<&Writer>) -> Box<dyn Write + '_> {
    match writer {
        Some(w) => Box::new(w.clone()),
        None => Box::new(Ready(std::io::stdout().lock())),
    }
}

/// Standard input (waiting where it is non-blocking: [`Ready`]), or the
/// caller's reader in its place.
pub(crate) fn stdin_or(reader: Option<&Reader>) -> Box<dyn Read + Send> {
    match reader {
        Some(r) => Box::new(r.clone()),
        None => Box::new(Ready(std::io::stdin())),
    }
}

/// Bytes written into memory, shared by its clones: a [`Writer`] over a
/// clone collects what a run writes, [`Buffer::take`] hands it over.
#[derive(Clone, Debug, Default)]
pub struct Buffer(Arc<Mutex<Vec<u8>>>);

impl Buffer {
    /// Everything written so far, leaving the buffer empty.
    #[must_use]
    pub fn take(&self) -> Vec<u8> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

impl Write for Buffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
