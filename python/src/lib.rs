//! `neardup._native`: the engine for the Python package. One entry point,
//! [`run`], takes the command, the CLI's options as a dict, and either paths
//! or a Python callable that hands out JSON Lines bytes; it runs the one
//! driver (`neardup::run`) with the GIL released, writing the cleaned text
//! and the JSON report to Python callables in place of standard output
//! ([`neardup::plan::Streams`]). The package's Python layer
//! (`neardup/__init__.py`) turns records, strings and Arrow batches into those
//! bytes and parses what comes back.

use neardup::check::Limits;
use neardup::config::{Keep, ValueEnum};
use neardup::pipe::{Reader, Writer};
use neardup::plan::{Command, ReportFormat, Request, Streams};
use neardup::progress::Progress;
use neardup::{Config, Error, ExitStatus, Plan};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};
use std::io::{Read, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

mod held;
mod spark;

use held::{not_locked_by_caller, Holder, LockKey};

/// The first Python exception raised by a callback while the engine ran: it
/// is raised again once the run is over, instead of the I/O error the engine
/// saw.
type Raised = Arc<Mutex<Option<PyErr>>>;

fn keep_first(slot: &Raised, err: PyErr) {
    slot.lock()
        .unwrap_or_else(PoisonError::into_inner)
        .get_or_insert(err);
}

/// Set by [`stop_runs`] when the interpreter exits (an `atexit` handler):
/// from then on a run on another thread than the main one enters Python no
/// more, neither to call back nor to return, since a thread that takes the
/// GIL once the interpreter is finalizing is ended by a forced unwind, which
/// aborts the process ("FATAL: exception not rethrown") through Rust frames.
static EXITING: AtomicBool = AtomicBool::new(false);

/// Engine threads between deciding to enter Python and leaving it.
static IN_PYTHON: AtomicUsize = AtomicUsize::new(0);

/// Whether a thread of a run may enter Python: always for a run of the main
/// thread (the interpreter cannot finalize while it waits for the run),
/// else until the interpreter exits. [`leave`] once out of Python again.
fn may_enter(main: bool) -> bool {
    IN_PYTHON.fetch_add(1, Ordering::SeqCst);
    MINE.set(MINE.get() + 1);
    if main || !EXITING.load(Ordering::SeqCst) {
        return true;
    }
    leave();
    false
}

fn leave() {
    IN_PYTHON.fetch_sub(1, Ordering::SeqCst);
    MINE.set(MINE.get().saturating_sub(1));
}

thread_local! {
    /// This thread's part of [`IN_PYTHON`].
    static MINE: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// In a forked child: only the forking thread is there, and only its calls
/// into Python are under way.
fn forked_in_python() {
    IN_PYTHON.store(MINE.get(), Ordering::SeqCst);
}

/// Calls into Python from an engine thread, unless the interpreter is
/// exiting (then `Err(None)`), noting the index the run locks (`locks`).
fn attach<T>(
    main: bool,
    locks: Option<&LockKey>,
    f: impl FnOnce(Python<'_>) -> PyResult<T>,
) -> Result<T, Option<PyErr>> {
    if !may_enter(main) {
        return Err(None);
    }
    let held = locks.map(|key| held::hold(key.clone(), Holder::Callback));
    let done = Python::attach(f);
    if let Some(token) = held {
        held::release_hold(token);
    }
    leave();
    done.map_err(Some)
}

/// The error a callback gives the engine once the interpreter is exiting.
fn exiting() -> std::io::Error {
    std::io::Error::other("the Python interpreter is exiting")
}

/// Input from a Python callable that returns the next piece of JSON Lines
/// (`bytes`; empty at the end).
struct PyReader {
    next: Py<PyAny>,
    piece: Vec<u8>,
    at: usize,
    ended: bool,
    raised: Raised,
    main: bool,
    locks: Option<LockKey>,
}

impl Read for PyReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.at == self.piece.len() && !self.ended {
            let got = attach(self.main, self.locks.as_ref(), |py| -> PyResult<Vec<u8>> {
                let piece = self.next.call0(py)?;
                Ok(piece.cast_bound::<PyBytes>(py)?.as_bytes().to_vec())
            });
            match got {
                Ok(piece) => {
                    self.ended = piece.is_empty();
                    self.piece = piece;
                    self.at = 0;
                }
                Err(None) => return Err(exiting()),
                Err(Some(e)) => {
                    let message = e.to_string();
                    keep_first(&self.raised, e);
                    return Err(std::io::Error::other(message));
                }
            }
        }
        let n = buf.len().min(self.piece.len() - self.at);
        buf[..n].copy_from_slice(&self.piece[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

/// Output to a Python callable taking `bytes`; it returns `False` to stop the
/// run (the reader of a stream went away), as a closed pipe stops the binary.
struct PyWriter {
    write: Py<PyAny>,
    raised: Raised,
    main: bool,
    locks: Option<LockKey>,
}

impl Write for PyWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let called = attach(self.main, self.locks.as_ref(), |py| -> PyResult<bool> {
            let more = self.write.call1(py, (PyBytes::new(py, buf),))?;
            Ok(!more.bind(py).is(pyo3::types::PyBool::new(py, false)))
        });
        match called {
            Ok(true) => Ok(buf.len()),
            Ok(false) => Err(std::io::ErrorKind::BrokenPipe.into()),
            Err(None) => Err(exiting()),
            Err(Some(e)) => {
                let message = e.to_string();
                keep_first(&self.raised, e);
                Err(std::io::Error::other(message))
            }
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The lines a run says, kept for the caller (`Result.messages`, and
/// `NeardupWarning` for warnings and notes).
type Said = Arc<Mutex<Vec<String>>>;

/// A [`neardup::hooks::Hooks::say`] that keeps the lines the engine's lower
/// layers would print on standard error (`neardup: i.ndx is locked by another
/// neardup run; waiting for it to finish`) with the run's other lines, as a
/// note: a notebook's stderr is not where a caller of the package looks.
fn told_to(said: &Said) -> Box<dyn Fn(&str) + Send + Sync> {
    let said = Arc::clone(said);
    Box::new(move |line: &str| {
        let line = line.strip_prefix("neardup: ").unwrap_or(line);
        let line = if line.starts_with("warning:") || line.starts_with("note:") {
            line.to_owned()
        } else {
            format!("note: {line}")
        };
        said.lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(line);
    })
}

/// Progress to a Python callable (`("stage", name, total, bytes)`,
/// `("advance", n)`, `("message", text)`, `("finish",)`), and the lines a run
/// says (warnings, notes), kept for the caller.
struct PyProgress {
    callback: Option<Py<PyAny>>,
    said: Said,
    raised: Raised,
    /// Set by SIGINT while the run goes on (Python's own handler runs too).
    interrupted: Arc<AtomicBool>,
    /// The run is the main thread's (see [`may_enter`]).
    main: bool,
    /// The index the run locks, if any (see [`not_locked_by_caller`]).
    locks: Option<LockKey>,
}

impl PyProgress {
    fn call(&self, args: impl for<'py> FnOnce(Python<'py>) -> PyResult<Bound<'py, PyAny>>) {
        let Some(callback) = &self.callback else {
            return;
        };
        if let Err(Some(e)) = attach(self.main, self.locks.as_ref(), |py| {
            callback.call1(py, (args(py)?,)).map(drop)
        }) {
            keep_first(&self.raised, e);
        }
    }
}

impl Progress for PyProgress {
    fn stage(&self, name: &'static str, total: u64, bytes: bool) {
        self.call(|py| Ok(("stage", name, total, bytes).into_pyobject(py)?.into_any()));
    }
    fn advance(&self, n: u64) {
        self.call(|py| Ok(("advance", n).into_pyobject(py)?.into_any()));
    }
    fn message(&self, text: String) {
        self.call(|py| Ok(("message", text).into_pyobject(py)?.into_any()));
    }
    fn say(&self, line: &str) {
        self.said
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(line.to_owned());
    }
    fn finish(&self) {
        self.call(|py| Ok(("finish",).into_pyobject(py)?.into_any()));
    }
    /// A callback that raised (the progress callable, which the engine
    /// cannot stop on, included), or Ctrl-C while the engine ran (which
    /// Python turns into `KeyboardInterrupt` only once the run returns, and
    /// only on the main thread, while the engine commits on a thread of its
    /// pool): the run is withdrawn before any file is renamed into place,
    /// and the exception is raised to the caller with every file as it was.
    fn proceed(&self) -> neardup::Result<()> {
        if self.interrupted.load(Ordering::Relaxed) {
            return Err(Error::Withdrawn(
                "interrupted (Ctrl-C): stopped before writing anything".into(),
            ));
        }
        if !self.main && EXITING.load(Ordering::SeqCst) {
            return Err(Error::Withdrawn(
                "the Python interpreter is exiting: stopped before writing anything".into(),
            ));
        }
        match &*self.raised.lock().unwrap_or_else(PoisonError::into_inner) {
            Some(e) => Err(Error::Withdrawn(format!(
                "stopped before writing anything: {e}"
            ))),
            None => Ok(()),
        }
    }
}

/// The options a caller gave, taken out one by one; what is left at the end
/// is an unknown keyword.
struct Options<'py> {
    given: Bound<'py, PyDict>,
    function: &'py str,
}

impl Options<'_> {
    fn take<T: for<'a> FromPyObjectOwned<'a>>(
        &self,
        name: &str,
        what: &str,
    ) -> PyResult<Option<T>> {
        self.take_as(name, what, false)
    }

    /// The option `name` as a `T`, or a `TypeError` saying what it takes
    /// (`what`); a bool only where one is meant (`bool_ok`): Python's
    /// `True` is an int, and `threads=True` ran on 1 thread.
    fn take_as<T: for<'a> FromPyObjectOwned<'a>>(
        &self,
        name: &str,
        what: &str,
        bool_ok: bool,
    ) -> PyResult<Option<T>> {
        let Some(value) = self.given.get_item(name)? else {
            return Ok(None);
        };
        self.given.del_item(name)?;
        if value.is_none() {
            return Ok(None);
        }
        if !bool_ok && value.is_instance_of::<pyo3::types::PyBool>() {
            return Err(wrong_type(name, what, &value));
        }
        // The value itself too (shortened): `-1` for a count is an int, and
        // "got int" alone would not say what is wrong.
        value
            .extract::<T>()
            .map(Some)
            .map_err(|_| wrong_type(name, what, &value))
    }

    fn number<T: for<'a> FromPyObjectOwned<'a>>(&self, name: &str, default: T) -> PyResult<T> {
        Ok(self.take(name, "a number")?.unwrap_or(default))
    }

    /// A count or size (the CLI's unsigned options): a whole number from 0.
    fn whole<T: for<'a> FromPyObjectOwned<'a>>(&self, name: &str, default: T) -> PyResult<T> {
        Ok(self
            .take(name, "a whole number from 0 (that fits the option)")?
            .unwrap_or(default))
    }

    fn flag(&self, name: &str, default: bool) -> PyResult<bool> {
        Ok(self
            .take_as(name, "True or False", true)?
            .unwrap_or(default))
    }

    /// A string option; one that is not text (a lone surrogate) is refused
    /// by name. (Paths are not: a name that is not UTF-8 comes from Python
    /// with its bytes as surrogates, and is taken as those bytes.)
    fn string(&self, name: &str) -> PyResult<Option<String>> {
        if let Some(value) = self.given.get_item(name)? {
            not_text(name, &value)?;
        }
        self.take(name, "a string")
    }

    fn path(&self, name: &str) -> PyResult<Option<PathBuf>> {
        self.take(name, "a path")
    }

    /// A value of a fixed set, by the CLI's names for it (clap's), refusing
    /// others as clap does; `default` (the `Config::default()` one) when not
    /// given.
    fn choice<T: ValueEnum>(&self, name: &str, default: T) -> PyResult<T> {
        let Some(given) = self.string(name)? else {
            return Ok(default);
        };
        T::from_str(&given, false).map_err(|_| {
            let names: Vec<String> = T::value_variants()
                .iter()
                .filter_map(ValueEnum::to_possible_value)
                .map(|v| v.get_name().to_owned())
                .collect();
            NeardupError::new_err(format!(
                "invalid value '{given}' for '{} <{}>' [possible values: {}]",
                flag(name),
                name.to_uppercase(),
                names.join(", ")
            ))
        })
    }

    /// Refuses what no option took.
    fn done(self) -> PyResult<()> {
        match self.given.keys().iter().next() {
            Some(name) => Err(PyTypeError::new_err(format!(
                "{}() got an unexpected keyword argument {}",
                self.function,
                name.repr()?
            ))),
            None => Ok(()),
        }
    }
}

/// A `TypeError` for option `name`, which takes `what` and was given `value`.
fn wrong_type(name: &str, what: &str, value: &Bound<'_, PyAny>) -> PyErr {
    PyTypeError::new_err(format!(
        "{}: expected {what}, got {} ({})",
        flag(name),
        shown(value),
        value
            .get_type()
            .name()
            .map_or_else(|_| "?".into(), |n| n.to_string())
    ))
}

/// A value as it is shown in a message: its `repr`, shortened.
fn shown(value: &Bound<'_, PyAny>) -> String {
    value
        .repr()
        .map_or_else(|_| "?".into(), |r| r.to_string())
        .chars()
        .take(40)
        .collect()
}

/// Refuses a string option (or a string in a list of them) that holds a lone
/// surrogate, which is not text (it has no UTF-8): `name` said, rather than
/// the `UnicodeEncodeError` of its extraction.
fn not_text(name: &str, value: &Bound<'_, PyAny>) -> PyResult<()> {
    let lone = |v: &Bound<'_, PyAny>| {
        v.cast::<pyo3::types::PyString>()
            .ok()
            .filter(|s| s.to_cow().is_err())
            .map(|s| {
                s.call_method1("encode", ("utf-8", "backslashreplace"))
                    .and_then(|b| b.extract::<Vec<u8>>())
                    .map_or_else(|_| "?".into(), |b| String::from_utf8_lossy(&b).into_owned())
            })
    };
    let found = lone(value).or_else(|| {
        let items = value
            .cast::<pyo3::types::PyList>()
            .map(|l| l.iter().collect::<Vec<_>>())
            .or_else(|_| {
                value
                    .cast::<pyo3::types::PyTuple>()
                    .map(|t| t.iter().collect::<Vec<_>>())
            })
            .unwrap_or_default();
        items.iter().find_map(lone)
    });
    match found {
        Some(text) => Err(NeardupError::new_err(format!(
            "{}: '{text}' holds a lone surrogate, which is not text (it has no UTF-8)",
            flag(name)
        ))),
        None => Ok(()),
    }
}

/// The CLI flag of an option.
fn flag(name: &str) -> String {
    format!("--{}", name.replace('_', "-"))
}

pyo3::create_exception!(
    _native,
    NeardupError,
    PyValueError,
    "A run failed, or its options were refused, with the CLI's message."
);

fn usage(e: &Error) -> PyErr {
    NeardupError::new_err(e.to_string())
}

/// The validated config, from the CLI's options by their Python names, with
/// the CLI's defaults (`Config::default()`) and its validation.
#[allow(clippy::too_many_lines)]
fn config(options: &Options<'_>) -> PyResult<Config> {
    let d = Config::default();
    let measure = options.choice("measure", d.measure)?;
    let (bands, rows) = (
        options.take::<usize>("bands", "a whole number from 0 (that fits the option)")?,
        options.take::<usize>("rows", "a whole number from 0 (that fits the option)")?,
    );
    if bands.is_some() != rows.is_some() {
        let missing = if bands.is_none() { "--bands" } else { "--rows" };
        return Err(NeardupError::new_err(format!(
            "the following required arguments were not provided: {missing} <N>"
        )));
    }
    let glob: Vec<String> = match options.given.get_item("glob")? {
        Some(one) if one.is_instance_of::<pyo3::types::PyString>() => {
            options.given.del_item("glob")?;
            not_text("glob", &one)?;
            vec![one.extract()?]
        }
        Some(list) => {
            not_text("glob", &list)?;
            options
                .take("glob", "a list of patterns")?
                .unwrap_or_default()
        }
        None => Vec::new(),
    };
    let keep = match options.string("keep")? {
        Some(keep) => Keep::parse(&keep).map_err(|e| usage(&e))?,
        None => d.keep.clone(),
    };
    let (threads, note) = neardup::config::resolve_threads(options.whole("threads", 0)?);
    if let Some(note) = note {
        Python::attach(|py| {
            pyo3::PyErr::warn(
                py,
                &py.get_type::<pyo3::exceptions::PyRuntimeWarning>(),
                &std::ffi::CString::new(note).unwrap_or_default(),
                1,
            )
        })?;
    }
    let config = Config {
        blocks: options.choice("blocks", d.blocks)?,
        format: options.choice("format", d.format)?,
        text_field: options.string("text_field")?.unwrap_or(d.text_field),
        id_field: options.string("id_field")?.unwrap_or(d.id_field),
        block_shingle: options.whole("block_shingle", d.block_shingle)?,
        block_threshold: options.number("block_threshold", d.block_threshold)?,
        min_words: options.whole("min_words", d.min_words)?,
        drop_short: options.flag("drop_short", d.drop_short)?,
        strip_markup: options.flag("strip_markup", d.strip_markup)?,
        max_gap: options.whole("max_gap", d.max_gap)?,
        seed: options.whole("seed", d.seed)?,
        level: options.choice("level", d.level)?,
        method: options.choice("method", d.method)?,
        doc_shingle: options.whole("doc_shingle", d.doc_shingle)?,
        num_perm: options.whole("num_perm", d.num_perm)?,
        threshold: options.number("threshold", measure.default_threshold())?,
        banding: bands.zip(rows),
        hamming: options.whole("hamming", d.hamming)?,
        measure,
        keep,
        annotate: options.flag("annotate", d.annotate)?,
        on_error: options.choice("on_error", d.on_error)?,
        glob,
        text: options.flag("text", d.text)?,
        preview: options.whole("preview", d.preview)?,
        // Read, not mapped, unless asked: a mapped file cut short while the
        // engine reads it raises SIGBUS, which the command line catches and
        // ends on, but which would end the Python process (a notebook's
        // kernel) with no message.
        mmap: options.flag("mmap", false)?,
        threads,
    };
    config.validate().map_err(|e| usage(&e))?;
    Ok(config)
}

/// `check`'s limits, as `--max-dup-docs` and the others take them (`5%`,
/// `0.05`, or a float).
fn limits(options: &Options<'_>) -> PyResult<Limits> {
    let share = |name: &str| -> PyResult<Option<f64>> {
        let Some(value) = options.given.get_item(name)? else {
            return Ok(None);
        };
        options.given.del_item(name)?;
        if value.is_none() {
            return Ok(None);
        }
        if value.is_instance_of::<pyo3::types::PyBool>() {
            return Err(wrong_type(name, "a share such as \"5%\" or 0.05", &value));
        }
        not_text(name, &value)?;
        let text = match value.extract::<f64>() {
            Ok(x) => x.to_string(),
            Err(_) => value.str()?.to_string(),
        };
        neardup::check::parse_share(&flag(name), &text)
            .map(Some)
            .map_err(|e| usage(&e))
    };
    Ok(Limits {
        dup_docs: share("max_dup_docs")?,
        dup_blocks: share("max_dup_blocks")?,
        dup_bytes: share("max_dup_bytes")?,
    })
}

/// A memory limit as `--memory-limit` takes it: `"512M"`, or bytes.
fn memory_limit(options: &Options<'_>) -> PyResult<Option<String>> {
    let Some(value) = options.given.get_item("memory_limit")? else {
        return Ok(None);
    };
    options.given.del_item("memory_limit")?;
    if value.is_none() {
        return Ok(None);
    }
    if value.is_instance_of::<pyo3::types::PyBool>() {
        return Err(wrong_type(
            "memory_limit",
            "a size such as \"1G\", or bytes",
            &value,
        ));
    }
    not_text("memory_limit", &value)?;
    match value.extract::<u64>() {
        Ok(bytes) => Ok(Some(bytes.to_string())),
        Err(_) => value.extract::<String>().map(Some).map_err(|_| {
            PyTypeError::new_err("--memory-limit: expected a size such as \"1G\", or bytes")
        }),
    }
}

/// What a run ended with: its exit status (0, 1, 2), each error as (kind,
/// message), and the lines it said (warnings and notes).
type Ran = (u8, Vec<(&'static str, String)>, Vec<String>);

/// The kind of an error, for the Python exception raised.
fn kind(e: &Error) -> &'static str {
    match e {
        Error::Io { .. } => "io",
        Error::Index { .. } => "index",
        Error::Usage(_) => "usage",
        _ => "input",
    }
}

/// Runs `command` (`scan`, `clean`, `check` or `build`) with the CLI's
/// `options`, over `paths`, or over the JSON Lines that `input()` hands out
/// (named `name` in messages and the report). The cleaned text goes to
/// `output(bytes)`, the JSON report to `report(bytes)`; `progress(event)`
/// hears how far the run is.
#[pyfunction]
#[pyo3(signature = (command, options, paths, input=None, name=None, output=None, report=None, progress=None, build=None))]
#[allow(
    clippy::too_many_arguments,
    clippy::needless_pass_by_value,
    clippy::too_many_lines
)]
fn run(
    py: Python<'_>,
    command: &str,
    options: Bound<'_, PyDict>,
    paths: Vec<PathBuf>,
    input: Option<Py<PyAny>>,
    name: Option<String>,
    output: Option<Py<PyAny>>,
    report: Option<Py<PyAny>>,
    progress: Option<Py<PyAny>>,
    build: Option<PathBuf>,
) -> PyResult<Ran> {
    // A run of its own: another thread's run that fails leaves this one's
    // directories and lock files alone.
    let _run = neardup::targets::RunScope::enter();
    let options = Options {
        given: options.copy()?,
        function: match command {
            "build" => "Index.build",
            "scan" => "scan",
            "check" => "check",
            _ => "clean",
        },
    };
    let config = config(&options)?;
    let command = match (command, build) {
        ("scan", _) => Command::Scan,
        ("clean", _) => Command::Clean,
        ("check", _) => Command::Check {
            limits: limits(&options)?,
            exit_zero: options.flag("exit_zero", false)?,
        },
        ("build", Some(path)) => Command::IndexBuild(path),
        _ => return Err(PyValueError::new_err(format!("no command {command}"))),
    };
    let index = options.path("index")?;
    let update = options.flag("update", false)?;
    // The index this run locks: refused when a run whose callback this is
    // holds it, and noted for this run's own callbacks.
    let locked = match &command {
        Command::IndexBuild(out) => Some(out),
        _ if update => index.as_ref(),
        _ => None,
    };
    if let Some(path) = locked {
        not_locked_by_caller(path)?;
    }
    let locks = locked.map(|path| LockKey::of(path));
    let raised = Raised::default();
    let main = py
        .import("threading")
        .and_then(|t| {
            Ok(t.getattr("current_thread")?
                .call0()?
                .is(&t.getattr("main_thread")?.call0()?))
        })
        .unwrap_or(false);
    let writer = |write| {
        Writer::new(PyWriter {
            write,
            raised: Arc::clone(&raised),
            main,
            locks: locks.clone(),
        })
    };
    let streams = Streams {
        stdin: input.map(|next| {
            let reader = PyReader {
                next,
                piece: Vec::new(),
                at: 0,
                ended: false,
                raised: Arc::clone(&raised),
                main,
                locks: locks.clone(),
            };
            Reader::new(name.unwrap_or_else(|| "<records>".into()), reader)
        }),
        stdout: output.map(&writer),
        report: report.map(&writer),
    };
    let paths = if streams.stdin.is_some() {
        vec![PathBuf::from("-")]
    } else {
        paths
    };
    let clean = command == Command::Clean;
    // (`clean` only, as `--out-dir`: elsewhere an unexpected keyword.)
    let out_dir = clean
        .then(|| options.path("out_dir"))
        .transpose()?
        .flatten();
    let request = Request {
        command,
        paths,
        output: (clean && out_dir.is_none()).then(|| "-".into()),
        out_dir,
        report: clean.then(|| "-".into()),
        html: None,
        format: ReportFormat::Json,
        step_summary: None,
        index,
        reference: options.path("reference")?,
        update,
        memory_limit: memory_limit(&options)?,
        tmp_dir: options.path("tmp_dir")?,
        quiet: options.flag("quiet", false)?,
        verbose: options.flag("verbose", false)?,
        streams,
    };
    options.done()?;
    let plan = Plan::new(config, request).map_err(|e| usage(&e))?;
    let interrupted = Arc::new(AtomicBool::new(false));
    // Beside Python's handler, which signal-hook calls after this flag is
    // set; only while SIGINT raises KeyboardInterrupt (a caller that ignores
    // it, or handles it its own way, keeps its runs).
    let sigint_raises = py
        .import("signal")
        .and_then(|signal| {
            let handler = signal
                .getattr("getsignal")?
                .call1((signal.getattr("SIGINT")?,))?;
            Ok(handler.is(&signal.getattr("default_int_handler")?))
        })
        .unwrap_or(false);
    let hook = sigint_raises
        .then(|| {
            signal_hook::flag::register(signal_hook::consts::SIGINT, Arc::clone(&interrupted)).ok()
        })
        .flatten();
    let progress = PyProgress {
        callback: progress,
        said: Said::default(),
        raised: Arc::clone(&raised),
        interrupted,
        main,
        locks,
    };
    let (status, errors) = py.detach(|| {
        // The lines the engine's lower layers would print (the index lock's
        // "waiting"), and a stop on Ctrl-C for the waits they make (a FIFO
        // with no writer).
        let interrupted = Arc::clone(&progress.interrupted);
        let _hooks = neardup::hooks::Scope::enter(neardup::hooks::Hooks {
            say: told_to(&progress.said),
            stop: Box::new(move || {
                interrupted.load(Ordering::Relaxed) || (!main && EXITING.load(Ordering::SeqCst))
            }),
        });
        let ran = match neardup::run(&plan, &progress) {
            Ok(status) => (status, Vec::new()),
            Err(failure) => {
                // A mapped input cut short is told as the command line tells it.
                let (fault, others) = neardup::targets::faulted::told(failure.errors());
                let errors = fault
                    .map(|said| ("io", said))
                    .into_iter()
                    .chain(others.into_iter().map(|e| (kind(e), e.to_string())))
                    .collect();
                (ExitStatus::Error, errors)
            }
        };
        if !may_enter(main) {
            // The interpreter is exiting: this thread waits for the process
            // to end, its run withdrawn and what it made removed.
            if ran.0 == ExitStatus::Error {
                neardup::targets::remove_created();
            }
            loop {
                std::thread::park();
            }
        }
        ran
    });
    leave();
    if let Some(hook) = hook {
        signal_hook::low_level::unregister(hook);
    }
    drop(plan);
    if status == ExitStatus::Error {
        // A failed run leaves no directory or lock file it made.
        neardup::targets::remove_created();
    } else {
        neardup::targets::keep_created();
    }
    if let Some(err) = raised.lock().unwrap_or_else(PoisonError::into_inner).take() {
        return Err(err);
    }
    // Ctrl-C during the run: KeyboardInterrupt now (on the main thread).
    py.check_signals()?;
    let status = match status {
        ExitStatus::Success => 0,
        ExitStatus::Duplicates => 1,
        ExitStatus::Error => 2,
    };
    let said = std::mem::take(&mut *progress.said.lock().unwrap_or_else(PoisonError::into_inner));
    Ok((status, errors, said))
}

/// Called once the interpreter exits (an `atexit` handler): runs on other
/// threads than the main one (daemon threads) enter Python no more, and
/// the calls into Python under way are waited for (up to 5 seconds: a
/// callback that never returns does not keep the process from exiting).
#[pyfunction]
fn stop_runs(py: Python<'_>) {
    EXITING.store(true, Ordering::SeqCst);
    py.detach(|| {
        let until = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while IN_PYTHON.load(Ordering::SeqCst) > 0 && std::time::Instant::now() < until {
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
    });
}

/// An index's figures, as `neardup index stats --json` gives them (`verify`:
/// every checksum checked first), as a JSON string; or `(kind, message)`
/// when it cannot be read.
#[pyfunction]
#[pyo3(signature = (path, verify=false))]
#[allow(clippy::needless_pass_by_value)]
fn index_stats(py: Python<'_>, path: PathBuf, verify: bool) -> Answer<String> {
    let stats = py.detach(|| {
        let fail = |e: Error| (kind(&e), e.to_string());
        let index = neardup::store::Segment::open(&path, None, None).map_err(fail)?;
        if verify {
            index.verify().map_err(fail)?;
        }
        let stats = neardup::store::stats_json(&index, &path, verify);
        Ok(stats.to_string())
    });
    match stats {
        Ok(stats) => (Some(stats), None),
        Err(e) => (None, Some(e)),
    }
}

/// The lines a call said (warnings and notes), for the caller.
type Lines = Vec<String>;

/// What a native call gives back: its value, or the error's kind and message.
type Answer<T> = (Option<T>, Option<(&'static str, String)>);

/// `neardup index merge A B -o OUTPUT [--memory-limit L] [--tmp-dir D]`: the
/// documents of `b` after those of `a`, written to `output` (which may be
/// `a`), with the CLI's checks; the documents of each, or `(kind, message)`
/// when it failed (nothing replaced).
#[pyfunction]
#[allow(clippy::needless_pass_by_value)]
#[pyo3(signature = (a, b, output, memory_limit=None, tmp_dir=None))]
fn index_merge(
    py: Python<'_>,
    a: PathBuf,
    b: PathBuf,
    output: PathBuf,
    memory_limit: Option<String>,
    tmp_dir: Option<PathBuf>,
) -> PyResult<(Answer<(usize, usize)>, Lines)> {
    not_locked_by_caller(&output)?;
    let _run = neardup::targets::RunScope::enter();
    let said = Said::default();
    let merged = py.detach(|| {
        let _hooks = neardup::hooks::Scope::enter(neardup::hooks::Hooks {
            say: told_to(&said),
            stop: Box::new(|| false),
        });
        neardup::plan::merge_memory(memory_limit.as_deref(), tmp_dir.as_deref(), false)
            .and_then(|memory| neardup::store::merge_files(&a, &b, &output, &memory))
    });
    let answer = match merged {
        Ok(counts) => {
            neardup::targets::keep_created();
            (Some(counts), None)
        }
        Err(e) => {
            neardup::targets::remove_created();
            (None, Some((kind(&e), e.to_string())))
        }
    };
    let said = std::mem::take(&mut *said.lock().unwrap_or_else(PoisonError::into_inner));
    Ok((answer, said))
}

/// An Arrow timestamp column's values (`per_unit` nanoseconds each, `None`
/// for a null; `zoned`: the column has a time zone) as the strings the CLI
/// reads the same column of a Parquet file as
/// ([`neardup::parquet::timestamp_string`]), or the first value that is not
/// a time it can write: its position and why.
#[pyfunction]
#[allow(clippy::needless_pass_by_value)]
fn arrow_times(
    values: Vec<Option<i64>>,
    per_unit: i64,
    zoned: bool,
) -> (Vec<Option<String>>, Option<(usize, String)>) {
    let mut strings = Vec::with_capacity(values.len());
    for (at, value) in values.iter().enumerate() {
        match value.map(|v| {
            neardup::parquet::timestamp_string(i128::from(v) * i128::from(per_unit), zoned)
        }) {
            None => strings.push(None),
            Some(Ok(s)) => strings.push(Some(s)),
            Some(Err(why)) => return (Vec::new(), Some((at, why))),
        }
    }
    (strings, None)
}

/// The engine of the `neardup` package.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(run, m)?)?;
    m.add_function(wrap_pyfunction!(index_stats, m)?)?;
    m.add_function(wrap_pyfunction!(index_merge, m)?)?;
    m.add_function(wrap_pyfunction!(stop_runs, m)?)?;
    m.add_function(wrap_pyfunction!(held::hold_stream, m)?)?;
    m.add_function(wrap_pyfunction!(held::release, m)?)?;
    m.add_function(wrap_pyfunction!(held::fork_before, m)?)?;
    m.add_function(wrap_pyfunction!(held::fork_parent, m)?)?;
    m.add_function(wrap_pyfunction!(held::fork_child, m)?)?;
    m.add_function(wrap_pyfunction!(arrow_times, m)?)?;
    m.add("NeardupError", m.py().get_type::<NeardupError>())?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    spark::register(m)?;
    Ok(())
}
