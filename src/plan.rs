//! What a run does, settled once: [`Plan::new`] turns the validated
//! [`Config`] and what the command asks for ([`Request`]) into every decision
//! the run then follows: the inputs, where the cleaned text and the report go
//! and in which format, how the index is used, whether the run is one chunk
//! or works in chunks under a memory limit, and where chunks spool. Nothing
//! is decided again later, and the config is never changed.

use crate::check::Limits;
use crate::config::{Config, Keep};
use crate::error::{Error, Result};
use crate::input::InputPath;
use crate::output::Destination;
use crate::sizes::{human_bytes, parse_size};
use crate::store::lock_path;
use crate::targets::{check_distinct, Use};
use std::io::Read;
use std::path::{Path, PathBuf};

mod formats;
mod keep;
mod merge;
pub use merge::{merge_memory, MERGE_DEFAULT_LIMIT};

/// What the command does besides analysing.
#[derive(Clone, Debug, PartialEq)]
pub enum Command {
    /// Report only.
    Scan,
    /// Write the cleaned text, and the report.
    Clean,
    /// Measure duplication against limits: exit 1 over them (unless
    /// `exit_zero`).
    Check {
        /// The limits.
        limits: Limits,
        /// Exit 0 whatever the verdict.
        exit_zero: bool,
    },
    /// `index build`: write the index named here, report nothing else.
    IndexBuild(PathBuf),
}

impl Command {
    /// The name the report gives the command.
    #[must_use]
    pub fn name(&self) -> &'static str {
        match self {
            Command::Clean => "clean",
            Command::Check { .. } => "check",
            Command::Scan | Command::IndexBuild(_) => "scan",
        }
    }
}

/// The report's format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReportFormat {
    /// Text for people, listing `top` entries of each kind.
    Text {
        /// Entries listed per kind.
        top: usize,
    },
    /// One JSON document.
    Json,
    /// JSON Lines: one object per entry.
    Jsonl,
    /// GitHub workflow commands and a Markdown summary (`check` only).
    Github {
        /// Warning annotations at most.
        max_annotations: usize,
    },
    /// One self-contained HTML page (as `--html FILE` writes).
    Html,
}

impl ReportFormat {
    /// Its name, as `--output-format` takes it.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            ReportFormat::Text { .. } => "text",
            ReportFormat::Json => "json",
            ReportFormat::Jsonl => "jsonl",
            ReportFormat::Github { .. } => "github",
            ReportFormat::Html => "html",
        }
    }
}

/// Where the report goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReportTo {
    /// Standard output (also `--report -`).
    Stdout,
    /// A file, staged and renamed into place with the run's other outputs
    /// (`--report`; a device or pipe is written directly).
    File(PathBuf),
    /// Only its line of totals, on standard error: the cleaned text has
    /// standard output (only the totals are counted).
    Totals,
    /// Nowhere (`index build` says what it indexed instead).
    Nowhere,
}

/// How the run uses an index.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IndexUse {
    /// No index.
    None,
    /// Checked against the index at `path` (`--index`, or `--reference`,
    /// which is never written), adding the run to it with `update`.
    Read {
        /// The index.
        path: PathBuf,
        /// `index` or `reference`, as the report says.
        role: &'static str,
        /// `--update`: the run is added once its output is in place (an
        /// index that does not exist yet is made).
        update: bool,
    },
    /// `index build`: a new index at this path.
    Build(PathBuf),
}

impl IndexUse {
    /// The index the run writes, if any.
    #[must_use]
    pub fn writes(&self) -> Option<&PathBuf> {
        match self {
            IndexUse::Read {
                path, update: true, ..
            }
            | IndexUse::Build(path) => Some(path),
            _ => None,
        }
    }
}

/// What a caller asks of a run, as given (flags of the binary, or fields set
/// by a library user); [`Plan::new`] checks it.
#[derive(Clone, Debug)]
#[allow(clippy::struct_excessive_bools)]
pub struct Request {
    /// The command.
    pub command: Command,
    /// Files, directories and `-` (standard input).
    pub paths: Vec<PathBuf>,
    /// `clean -o FILE`.
    pub output: Option<PathBuf>,
    /// `clean --out-dir DIR`.
    pub out_dir: Option<PathBuf>,
    /// `clean --report FILE`.
    pub report: Option<PathBuf>,
    /// `--html FILE`: the report also as an HTML page.
    pub html: Option<PathBuf>,
    /// The report's format.
    pub format: ReportFormat,
    /// `check --step-summary FILE`: where the check's Markdown summary is
    /// appended.
    pub step_summary: Option<PathBuf>,
    /// `--index PATH`.
    pub index: Option<PathBuf>,
    /// `--reference PATH`.
    pub reference: Option<PathBuf>,
    /// `--update`.
    pub update: bool,
    /// `--memory-limit SIZE`, as given.
    pub memory_limit: Option<String>,
    /// `--tmp-dir DIR`.
    pub tmp_dir: Option<PathBuf>,
    /// `--quiet`: no warnings, notes or totals.
    pub quiet: bool,
    /// `-v`: timings and memory on standard error.
    pub verbose: bool,
    /// Streams in place of standard input and output (a library caller's;
    /// the binary's are `Streams::default()`, the process's own).
    pub streams: Streams,
}

/// Streams a library caller gives a run in place of the process's standard
/// input and output: the input `-` names, the cleaned text of `-o -` (or of
/// `clean` without `-o`), and the report where it would go to standard
/// output (`scan`, `check`, `--report -`). With both outputs given, they may
/// both be asked for as standard output.
#[derive(Clone, Debug, Default)]
pub struct Streams {
    /// What `-` reads.
    pub stdin: Option<crate::pipe::Reader>,
    /// Where the cleaned text goes.
    pub stdout: Option<crate::pipe::Writer>,
    /// Where the report goes.
    pub report: Option<crate::pipe::Writer>,
}

impl Streams {
    /// Whether the cleaned text and the report have streams of their own
    /// (then both may be asked for as standard output).
    fn apart(&self) -> bool {
        self.stdout.is_some() && self.report.is_some()
    }

    /// Gives the caller's input stream to the input `-` names.
    fn attach(&self, inputs: &mut [InputPath]) {
        for input in inputs.iter_mut().filter(|i| i.is_stdin()) {
            input.reader.clone_from(&self.stdin);
        }
    }
}

/// Bytes of memory a whole run takes per byte of input, as a float.
#[allow(clippy::cast_precision_loss)]
const WHOLE_RUN_PER_INPUT_BYTE: f64 = crate::memory::WHOLE_RUN_PER_INPUT_BYTE as f64;
/// Bytes of text per byte of a compressed input the plan cannot decode to
/// count (an estimate: news text packs 2.6 to 5 times).
const COMPRESSED_TEXT_PER_BYTE: f64 = 4.0;

/// Whether a run of one chunk may be made again in chunks ([`Fallback`]):
/// not with an HTML page (a run in chunks shows no texts on it), nor with a
/// FIFO or device written directly (opened before the run, a second attempt
/// would hang on it or leave its reader an empty stream).
fn may_fall_back(request: &Request, destination: Option<&Destination>, report: &ReportTo) -> bool {
    let direct = |path: &std::path::Path| path.as_os_str() != "-" && !crate::targets::staged(path);
    let output = match destination {
        Some(Destination::File(path)) => Some(path),
        _ => None,
    };
    let report = match report {
        ReportTo::File(path) => Some(path),
        _ => None,
    };
    request.html.is_none()
        && request.format != ReportFormat::Html
        && ![output, report].into_iter().flatten().any(|p| direct(p))
}

/// When a run of one chunk is made again in chunks ([`Plan::fallback`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fallback {
    /// The memory the process may hold: what it held before the run and
    /// `--memory-limit`, or without it the memory available.
    pub ceiling: crate::memory::Ceiling,
    /// The limit the run in chunks works under: `--memory-limit`, or half
    /// of the memory available (as a run too large for it takes).
    pub limit: usize,
    /// Whether `--memory-limit` was given.
    pub given: bool,
}

/// Every decision about a run, made once; see the module's documentation.
pub struct Plan {
    /// The validated settings.
    pub config: Config,
    /// The command.
    pub command: Command,
    /// The inputs, expanded (directories walked), in input order.
    pub inputs: Vec<InputPath>,
    /// Paths that could not be expanded: the run fails, naming them (a run of
    /// one chunk names every input's error with them).
    pub input_errors: Vec<Error>,
    /// Where the cleaned text goes (`clean` only).
    pub destination: Option<Destination>,
    /// Where the report goes.
    pub report: ReportTo,
    /// Where the report also goes as an HTML page (`--html`).
    pub html: Option<PathBuf>,
    /// The report's format.
    pub format: ReportFormat,
    /// Where `check`'s Markdown summary is appended.
    pub step_summary: Option<PathBuf>,
    /// The index's use.
    pub index: IndexUse,
    /// The memory a run in chunks works in; `None`: the run is one chunk.
    pub memory_limit: Option<usize>,
    /// A run of one chunk of files, chosen under `--memory-limit` (its
    /// inputs counted to fit) or without one (they were counted to fit in
    /// the memory available): what memory it may reach, and the chunks it is
    /// made again in should it pass that anyway (the keys and candidate
    /// pairs of a flood of near-identical short records; [`Plan::in_chunks`]).
    pub fallback: Option<Fallback>,
    /// What the pages of a Parquet row group may take while they are read
    /// (a page is decompressed whole): a quarter of `--memory-limit` (4 MiB
    /// at least: a page of the usual 1 MB and a row more always fits), or
    /// the limit a run that works in chunks by itself chose (half of the
    /// memory available); `None`: no limit.
    pub page_budget: Option<u64>,
    /// Where a run in chunks keeps its segments and spools.
    pub spool_dir: PathBuf,
    /// Notes for standard error (why a run works in chunks by itself).
    pub notes: Vec<String>,
    /// No warnings, notes or totals.
    pub quiet: bool,
    /// Timings and memory on standard error.
    pub verbose: bool,
    /// Streams in place of standard input and output.
    pub streams: Streams,
}

impl Plan {
    /// Settles a run.
    ///
    /// # Errors
    /// A [`Error::Usage`] for requests that cannot be met together.
    pub fn new(config: Config, request: Request) -> Result<Plan> {
        let usage = |message: &str| Err(Error::Usage(message.into()));
        formats::check_report_formats(&request)?;
        formats::check_annotate(&config, &request)?;
        check_output_names(&request)?;
        check_no_dash_index(&request)?;
        let index = match (&request.command, &request.index, &request.reference) {
            (Command::IndexBuild(_), Some(_), _) | (Command::IndexBuild(_), _, Some(_)) => {
                return usage(
                    "`index build` writes the index named by -o; --index and --reference do not apply",
                )
            }
            (Command::IndexBuild(out), None, None) => IndexUse::Build(out.clone()),
            (_, None, _) if request.update => {
                return usage(
                    "--update adds to the index named by --index; a --reference index is never written",
                )
            }
            (_, Some(path), _) => IndexUse::Read {
                path: path.clone(),
                role: "index",
                update: request.update,
            },
            (_, None, Some(path)) => IndexUse::Read {
                path: path.clone(),
                role: "reference",
                update: false,
            },
            (_, None, None) => IndexUse::None,
        };
        let destination = (request.command == Command::Clean).then(|| {
            match (&request.output, &request.out_dir) {
                (Some(file), _) if file.as_os_str() == "-" => Destination::Stdout,
                (Some(file), _) => Destination::File(file.clone()),
                (None, Some(dir)) => Destination::Dir(dir.clone()),
                (None, None) => Destination::Stdout,
            }
        });
        let to_stdout = matches!(destination, Some(Destination::Stdout));
        let report_to_stdout = request.report.as_deref() == Some(std::path::Path::new("-"));
        if request
            .paths
            .iter()
            .filter(|p| p.as_os_str() == "-")
            .count()
            > 1
        {
            return usage("`-` (standard input) can be given only once");
        }
        let report = match (&request.command, &request.report) {
            (Command::IndexBuild(_), _) => ReportTo::Nowhere,
            (_, Some(_)) if report_to_stdout => ReportTo::Stdout,
            (_, Some(path)) => ReportTo::File(path.clone()),
            (_, None) if destination.is_some() => ReportTo::Totals,
            (_, None) => ReportTo::Stdout,
        };
        check_stdout(&request, to_stdout, &report)?;
        if report == ReportTo::Totals && request.format.name() != "text" {
            return Err(Error::Usage(format!(
                "--output-format {} is for the report, which `clean` writes only with --report FILE (without it, a line of totals)",
                request.format.name()
            )));
        }
        // Every path is tried and every failure reported before giving up;
        // `-` from a file also named is read once, as a file named twice is.
        let stdin = crate::input::stdin_file().filter(|_| request.streams.stdin.is_none());
        let (mut inputs, input_errors, walked) =
            crate::input::expand_noting(&request.paths, &config.glob, stdin);
        request.streams.attach(&mut inputs);
        // No path written is one read, or another written: checked before
        // anything is read (or a lock taken).
        check_paths(&request, &index, &inputs, destination.as_ref(), &report)?;
        let mut notes = Vec::new();
        if !request.quiet {
            notes.extend(read_once_warning(&walked.once));
            notes.extend(walked.passed_over_warning());
        }
        keep::check_in_chunks(&request, &config, &index)?;
        let given_limit = request.memory_limit.is_some();
        let (memory_limit, mut fallback) =
            run_memory_limit((&request, &config, &index), &inputs, &mut notes)?;
        if !may_fall_back(&request, destination.as_ref(), &report) {
            fallback = None;
        }
        Ok(Plan {
            config,
            command: request.command,
            inputs,
            input_errors,
            destination,
            report,
            html: request.html,
            format: request.format,
            step_summary: request.step_summary,
            index,
            memory_limit,
            fallback,
            page_budget: memory_limit.map(|limit| page_budget(limit, given_limit)),
            spool_dir: request.tmp_dir.unwrap_or_else(std::env::temp_dir),
            notes,
            quiet: request.quiet,
            verbose: request.verbose,
            streams: request.streams,
        })
    }

    /// Whether the cleaned text is held until the run ends (staged files,
    /// or none), so that a first reading of standard input delays nothing a
    /// reader sees: not when it streams to standard output, a pipe, a FIFO
    /// or a device as the chunks come.
    #[must_use]
    pub fn output_held(&self) -> bool {
        match &self.destination {
            Some(crate::output::Destination::Stdout) => false,
            Some(crate::output::Destination::File(path)) => crate::targets::staged(path),
            Some(crate::output::Destination::Dir(_)) | None => true,
        }
    }

    /// This run of one chunk in chunks instead ([`Plan::fallback`]); `None`
    /// for a run without a fallback.
    #[must_use]
    pub fn in_chunks(&self) -> Option<Plan> {
        let Fallback { limit, given, .. } = self.fallback?;
        // (Without a limit, the chunks take half of the memory available.)
        let [available, limit] = [limit.saturating_mul(2), limit].map(|b| human_bytes(b as u64));
        let note = if given {
            format!("note: the run would pass --memory-limit {limit} as one chunk (its inputs counted to fit): working in chunks instead (same output)")
        } else {
            format!("note: the run would pass the {available} of memory available as one chunk (its inputs counted to fit): working in chunks, as --memory-limit {limit} does (same output; pass --memory-limit to choose)")
        };
        Some(Plan {
            config: self.config.clone(),
            command: self.command.clone(),
            inputs: self.inputs.clone(),
            input_errors: Vec::new(),
            destination: self.destination.clone(),
            report: self.report.clone(),
            html: self.html.clone(),
            format: self.format,
            step_summary: self.step_summary.clone(),
            index: self.index.clone(),
            memory_limit: Some(self.fallback?.limit),
            fallback: None,
            page_budget: Some(page_budget(self.fallback?.limit, given)),
            spool_dir: self.spool_dir.clone(),
            notes: if self.quiet { Vec::new() } else { vec![note] },
            quiet: self.quiet,
            verbose: self.verbose,
            streams: self.streams.clone(),
        })
    }

    /// Whether the run is one chunk (no memory limit): every input read whole
    /// before anything is written.
    #[must_use]
    pub fn one_chunk(&self) -> bool {
        self.memory_limit.is_none()
    }
}

/// Refuses two outputs into standard output (the cleaned text, the report,
/// `--html -`, `--step-summary -`): one stream of both could not be taken
/// apart.
fn check_stdout(request: &Request, to_stdout: bool, report: &ReportTo) -> Result<()> {
    if to_stdout && *report == ReportTo::Stdout && !request.streams.apart() {
        return Err(Error::Usage("the cleaned text and the report cannot both go to standard output; give -o FILE or --report FILE".into()));
    }
    if request.step_summary.as_deref() == Some(std::path::Path::new("-"))
        && *report == ReportTo::Stdout
        && request.streams.report.is_none()
    {
        return Err(Error::Usage("the report and the step summary cannot both go to standard output; give --step-summary FILE".into()));
    }
    if request.html.as_deref() != Some(std::path::Path::new("-")) {
        return Ok(());
    }
    let other = if to_stdout {
        Some("the cleaned text")
    } else {
        (*report == ReportTo::Stdout).then_some("the report")
    };
    match other {
        Some(other) => Err(Error::Usage(format!(
            "{other} and the HTML page cannot both go to standard output; give --html FILE"
        ))),
        None => Ok(()),
    }
}

/// Refuses an output, report or page named for a compression neardup does
/// not write (`-o out.jsonl.bz2` wrote plain text under that name).
fn check_output_names(request: &Request) -> Result<()> {
    let named = [&request.output, &request.report, &request.html];
    for path in named.into_iter().flatten() {
        if let Some(format) = crate::compress::Compression::unwritten(path) {
            return Err(Error::Usage(format!(
                "{}: neardup writes gzip (.gz) and zstd (.zst), not {format}; name it with one \
                 of those or with no compression suffix",
                crate::escape::shown_path(path)
            )));
        }
    }
    Ok(())
}

/// Refuses a run (before anything is read) in which a path written — the
/// output, the files under `--out-dir`, the report, the HTML page, the step
/// summary, the index written by `--update` or `index build` and its lock
/// file — is also a path read (an input, found by walking directories or
/// given, `--index`, `--reference`) or another path written, by name or by
/// file identity, or the lock file of an index ([`crate::store::check_locks`]);
/// and, when the run writes to standard output (the cleaned text, the
/// `report`, the HTML page), that standard output (a regular file) is none
/// of them.
fn check_paths(
    request: &Request,
    index: &IndexUse,
    inputs: &[InputPath],
    destination: Option<&Destination>,
    report: &ReportTo,
) -> Result<()> {
    if let Some(Destination::Dir(dir)) = destination {
        if dir.as_os_str() == "-" {
            return Err(Error::Usage(
                "-: --out-dir names a directory to write, not standard output: give -o - for one \
                 stream there, or ./- for a directory named -"
                    .into(),
            ));
        }
        // (A device, pipe or file there: `create_dir` would say "File
        // exists".)
        if dir.exists() && !dir.is_dir() {
            return Err(Error::Usage(format!(
                "{}: --out-dir is not a directory",
                crate::escape::shown_path(dir)
            )));
        }
    }
    let mut reads: Vec<Use> = inputs
        .iter()
        .filter(|i| !i.is_stdin())
        .map(|i| Use::new(&i.path, "input"))
        .collect();
    let mut writes = Vec::new();
    match destination {
        Some(Destination::File(path)) => writes.push(Use::new(path, "-o")),
        Some(Destination::Dir(dir)) => {
            // Two inputs for one name are refused by `output::plan`, which
            // names both inputs.
            let mut named = std::collections::BTreeSet::new();
            writes.extend(
                inputs
                    .iter()
                    .map(|i| dir.join(&i.relative))
                    .filter(|path| named.insert(path.clone()))
                    .map(|path| Use::new(path, "--out-dir output")),
            );
        }
        _ => {}
    }
    if let Some(report) = &request.report {
        writes.push(Use::new(report, "--report"));
    }
    if let Some(html) = &request.html {
        writes.push(Use::new(html, "--html"));
    }
    if let Some(summary) = &request.step_summary {
        writes.push(Use::new(summary, "--step-summary"));
    }
    // The run's own lock files: checked against the reads and other writes
    // once those are known not to be an index's lock file.
    let mut locks = Vec::new();
    match index {
        IndexUse::Build(out) => {
            writes.push(Use::new(out, "index build -o"));
            locks.push(Use::new(lock_path(out), "the index's lock file"));
        }
        IndexUse::Read {
            path,
            role: "index",
            update,
        } => {
            if *update {
                writes.push(Use::new(path, "--index"));
                locks.push(Use::new(lock_path(path), "the index's lock file"));
            } else {
                reads.push(Use::new(path, "--index"));
            }
        }
        IndexUse::Read { .. } | IndexUse::None => {}
    }
    if let Some(reference) = &request.reference {
        reads.push(Use::new(reference, "--reference"));
    }
    let indexes: Vec<&Path> = match index {
        IndexUse::Build(path) | IndexUse::Read { path, .. } => vec![path.as_path()],
        IndexUse::None => Vec::new(),
    }
    .into_iter()
    .chain(request.reference.as_deref())
    .collect();
    crate::store::check_locks(&indexes, &writes)?;
    let replaced = writes.len();
    writes.extend(locks);
    merge::check_tmp_dir(request.tmp_dir.as_deref())?;
    check_distinct(&reads, &writes)?;
    // (The lock files are the run's own: opened, never replaced.)
    crate::targets::check_writable(&writes[..replaced])?;
    crate::targets::check_parents(&writes)?;
    check_standard_streams(request, inputs, destination, report, (&reads, &writes))
}

/// Refuses a run that writes into a standard output closed by the shell,
/// or into one that is a regular file it reads or writes by name, and one
/// that reads `-` from a closed standard input or from a file it writes (a
/// library caller's streams aside).
fn check_standard_streams(
    request: &Request,
    inputs: &[InputPath],
    destination: Option<&Destination>,
    report: &ReportTo,
    (reads, writes): (&[Use], &[Use]),
) -> Result<()> {
    // Standard output, when the run writes there: open, and when it is a
    // regular file, compared too.
    let text = matches!(destination, Some(Destination::Stdout)) && request.streams.stdout.is_none();
    let report = *report == ReportTo::Stdout && request.streams.report.is_none();
    let page = request.html.as_deref() == Some(Path::new("-"));
    let uses_stdout = text || report || page;
    if uses_stdout {
        let what = if text {
            "the cleaned text"
        } else if report {
            "the report"
        } else {
            "the HTML page"
        };
        crate::targets::check_stdout_open(what)?;
        crate::targets::check_stdout_apart(reads, writes)?;
    }
    // Standard input read as `-` from a regular file is an input too.
    if inputs.iter().any(InputPath::is_stdin) && request.streams.stdin.is_none() {
        crate::targets::check_stdin_open()?;
        crate::targets::check_stdin_apart(writes, uses_stdout)?;
    }
    Ok(())
}

/// What the pages of a Parquet row group may take while they are read in a
/// run under `limit` (see [`Plan::page_budget`]): `given` by
/// `--memory-limit`, or chosen by the run.
fn page_budget(limit: usize, given: bool) -> u64 {
    let limit = u64::try_from(limit).unwrap_or(u64::MAX);
    if given {
        (limit / crate::parquet::PAGE_SHARE).max(crate::parquet::MIN_PAGE_BUDGET)
    } else {
        limit
    }
}

/// The memory limit a run works under: `--memory-limit` as given, or one
/// chosen when a whole run would not fit (saying so in `notes`; under a
/// `--keep` that does not work in chunks, the note says the run is whole),
/// or none; and for a run of one chunk of files, its [`Fallback`].
fn run_memory_limit(
    (request, config, index): (&Request, &Config, &IndexUse),
    inputs: &[InputPath],
    notes: &mut Vec<String>,
) -> Result<(Option<usize>, Option<Fallback>)> {
    check_available_memory_variable()?;
    if let Some(given) = &request.memory_limit {
        let limit = memory_limit(given, request.quiet, notes)?;
        return Ok(match whole_need(inputs, limit) {
            Some(need) => {
                let need = usize::try_from(need).unwrap_or(usize::MAX);
                let fallback = Fallback {
                    ceiling: crate::memory::Ceiling::new(limit.saturating_add(held_now()))
                        .counting(need, limit),
                    limit,
                    given: true,
                };
                (None, Some(fallback))
            }
            None => (Some(limit), None),
        });
    }
    // What --memory-limit takes ([`keep::not_in_chunks`]).
    let not_in_chunks = keep::not_in_chunks(&config.keep, index);
    let chunks_work = not_in_chunks.is_none();
    let Some((needed, available, limit)) = needs_chunks(inputs) else {
        let fallback = (config.keep == Keep::First).then(|| fallback_of_files(inputs));
        return Ok((None, fallback.flatten()));
    };
    let whole = format!(
        "note: a whole run of these inputs would take about {} of memory, and {} is available",
        human_bytes(needed),
        human_bytes(available),
    );
    let note = if chunks_work {
        format!(
            "{whole}: working in chunks, as --memory-limit {} does (same output; pass --memory-limit to choose, --tmp-dir for where chunks are kept)",
            human_bytes(limit as u64),
        )
    } else {
        let with = match not_in_chunks {
            Some(keep::NotInChunks::With(_)) => " with an index yet",
            _ => "",
        };
        format!(
            "{whole}, and --keep {} does not work in chunks{with}: working whole (should memory run out, the run stops, exit 2, and no file is changed)",
            config.keep,
        )
    };
    if !request.quiet {
        notes.push(note);
    }
    Ok((chunks_work.then_some(limit), None))
}

/// The [`Fallback`] of a run of one chunk without `--memory-limit`: the
/// memory available its ceiling, half of it the limit of its chunks; none
/// when an input is not a file (standard input, a pipe: read once, it could
/// not be read again) or the memory available is not known.
fn fallback_of_files(inputs: &[InputPath]) -> Option<Fallback> {
    if inputs
        .iter()
        .any(|i| i.is_stdin() || crate::input::regular_size(&i.path).is_none())
    {
        return None;
    }
    let available = usize::try_from(crate::memory::available()?).unwrap_or(usize::MAX);
    Some(Fallback {
        ceiling: crate::memory::Ceiling::new(available.saturating_add(held_now())),
        // Never below what --memory-limit takes (the note names it).
        limit: (available / 2).max(MIN_MEMORY_LIMIT),
        given: false,
    })
}

/// The anonymous memory the process holds before the run (a library
/// caller's own, the Python interpreter's): a run's [`Fallback`] counts
/// what the run adds to it.
fn held_now() -> usize {
    crate::memory::anonymous_bytes().unwrap_or(0)
}

/// Refuses `-` as an index to read (`--index -`, `--reference -`): one is
/// mapped, and standard input comes once; read as a file so named, it was
/// `no such index; create it with ...`.
fn check_no_dash_index(request: &Request) -> Result<()> {
    let mut named = request.index.iter().chain(&request.reference);
    match named.find(|p| *p == Path::new("-")) {
        Some(dash) => Err(crate::targets::not_regular(dash)),
        None => Ok(()),
    }
}

/// Refuses a `NEARDUP_AVAILABLE_MEMORY` that is no size (it was ignored
/// without a word, the memory seen taken instead).
fn check_available_memory_variable() -> Result<()> {
    match std::env::var("NEARDUP_AVAILABLE_MEMORY") {
        Ok(given) => parse_size("NEARDUP_AVAILABLE_MEMORY", &given).map(|_| ()),
        Err(_) => Ok(()),
    }
}

/// The smallest `--memory-limit`: 64K. A chunk holds a 14th of the limit
/// as text and never less than 4 KiB, so every smaller limit would run as
/// this one does; a bare `1` or `100` is far more likely a size missing its
/// unit than a wish for kilobyte chunks.
pub const MIN_MEMORY_LIMIT: usize = 64 << 10;

/// The warning for files reached from two of the paths given, each read
/// once ((path left out, path read), [`crate::input::expand_noting`]).
fn read_once_warning(once: &[(PathBuf, PathBuf)]) -> Option<String> {
    let same = |(left, read): &(PathBuf, PathBuf)| {
        let shown = crate::input::shown_given;
        if left == read {
            format!("{} is given twice", shown(left))
        } else {
            format!("{} is the same file as {}", shown(left), shown(read))
        }
    };
    match once {
        [] => None,
        [only] => Some(format!("warning: {}: read once", same(only))),
        [first, ..] => Some(format!(
            "warning: {} files are reached twice ({}, ...): each read once",
            crate::report::thousands(once.len()),
            same(first)
        )),
    }
}

/// `--memory-limit given`: at least [`MIN_MEMORY_LIMIT`], refused (naming the
/// flag and the minimum) below it; a limit above the memory available is
/// taken as given, with a note that the memory there is bounds the run.
fn memory_limit(given: &str, quiet: bool, notes: &mut Vec<String>) -> Result<usize> {
    let limit = parse_size("--memory-limit", given)?;
    if limit < MIN_MEMORY_LIMIT {
        return Err(Error::Usage(format!(
            "--memory-limit {given} is less than its minimum, 64K (a size takes a unit: 512M, 1G)"
        )));
    }
    if let Some(available) = crate::memory::available() {
        if !quiet && u64::try_from(limit).unwrap_or(u64::MAX) > available {
            notes.push(format!(
                "note: --memory-limit {given} is more than the {} of memory available: the run is bounded by the memory there is, not by the limit",
                human_bytes(available)
            ));
        }
    }
    Ok(limit)
}

/// When a run of one chunk of `inputs` would not fit in the memory available:
/// the memory it would take, what is available, and the limit to work in
/// chunks under (half of what is available). A compressed input counts by
/// the bytes it decompresses to, decoded (and not kept) to find out, up to
/// what a whole run could hold: a small file that decompresses to
/// gigabytes (a decompression bomb) makes the run work in chunks.
fn needs_chunks(inputs: &[InputPath]) -> Option<(u64, u64, usize)> {
    let available = crate::memory::available()?;
    #[allow(
        clippy::cast_precision_loss,
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss
    )]
    let most = (available as f64 / WHOLE_RUN_PER_INPUT_BYTE) as u64;
    // Standard input counts for nothing: its size is not known.
    #[allow(clippy::cast_precision_loss)]
    let needed = inputs
        .iter()
        .filter(|i| !i.is_stdin())
        .filter_map(|i| text_bytes(&i.path, most))
        .map(|n| n as f64)
        .sum::<f64>()
        * WHOLE_RUN_PER_INPUT_BYTE;
    #[allow(
        clippy::cast_precision_loss,
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss
    )]
    (needed > available as f64).then(|| {
        // Never below what --memory-limit takes: the note names the limit
        // as one to pass (it said `--memory-limit 0` with 1 byte available).
        let limit = usize::try_from(available / 2)
            .unwrap_or(usize::MAX)
            .max(MIN_MEMORY_LIMIT);
        (needed as u64, available, limit)
    })
}

/// Bytes of memory a whole run may take per line of input (a JSON Lines
/// record, or at most one block of text a line) besides
/// [`WHOLE_RUN_PER_INPUT_BYTE`] a byte, for deciding that inputs fit under a
/// `--memory-limit` whole: above the most measured (whole runs' peak over
/// their documents, less 2 bytes a byte of input: 172 bytes for six-word
/// records, 238 for one-line records, 405 for one-word records in 200
/// groups; `benches/RESULTS.md`).
const WHOLE_RUN_PER_LINE: u64 = 512;

/// The memory `inputs` need in a run of one chunk, when they fit under
/// `limit` (`None`: they do not), counted at
/// [`WHOLE_RUN_PER_INPUT_BYTE`] a byte of text (a compressed file's as it
/// decodes; with what normalization may add) and [`WHOLE_RUN_PER_LINE`] a
/// line: the run then reads them whole
/// (as a run without a limit does, and as fast) instead of in chunks sized
/// for inputs of any size, whose documents cost several kilobytes each (a
/// chunk's band records): a generous `--memory-limit` made small inputs
/// slower and larger. Never with standard input (its size is not known) or
/// Parquet, nor where an input cannot be read to count (the run names it).
fn whole_need(inputs: &[InputPath], limit: usize) -> Option<u64> {
    let limit = u64::try_from(limit).unwrap_or(u64::MAX);
    let mut need = 0u64;
    for input in inputs {
        if input.is_stdin()
            || crate::parquet::is_parquet_name(&input.path)
            || crate::input::regular_size(&input.path).is_none()
        {
            return None;
        }
        let most = (limit - need) / crate::memory::WHOLE_RUN_PER_INPUT_BYTE;
        let (bytes, lines, expansion) = text_and_lines(&input.path, most)?;
        need = need
            .saturating_add(
                bytes
                    .saturating_add(expansion)
                    .saturating_mul(crate::memory::WHOLE_RUN_PER_INPUT_BYTE),
            )
            .saturating_add(lines.saturating_mul(WHOLE_RUN_PER_LINE));
        if need > limit {
            return None;
        }
    }
    Some(need)
}

/// The bytes of text the file at `path` holds (decoded, when compressed)
/// and its lines (a last one without a newline counted; lines ended by a
/// lone `\r`, and in JSON Lines those of a string's escaped breaks, count
/// too: [`crate::jsonl::Breaks`]), and the bytes normalization may add to
/// it ([`crate::normalize::Expansion`]: 6 MB of U+FDFA is 66 MB to hash),
/// read up to a little past `most` bytes; `None` when it cannot be read or
/// decoded.
fn text_and_lines(path: &Path, most: u64) -> Option<(u64, u64, u64)> {
    let file = std::io::BufReader::new(std::fs::File::open(path).ok()?);
    let compression = crate::compress::Compression::from_name(path);
    let mut text = crate::compress::decoder(file, compression).ok()?;
    let (mut bytes, mut breaks) = (0u64, crate::jsonl::Breaks::default());
    let mut expansion = crate::normalize::Expansion::default();
    let mut buf = vec![0; 1 << 16];
    while bytes <= most {
        match text.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                bytes += n as u64;
                breaks.feed(&buf[..n]);
                expansion.feed(&buf[..n]);
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => return None,
        }
    }
    Some((bytes, 1 + breaks.finish(), expansion.finish()))
}

/// Bytes of text the input at `path` holds: a compressed file's by what it
/// decodes to (counted up to a little past `most`), a Parquet file's by its
/// footer, others by their size; `None` when its size cannot be told (the
/// run names the error when it reads it), as for a pipe or FIFO, which is
/// never read to count.
fn text_bytes(path: &Path, most: u64) -> Option<u64> {
    let size = crate::input::regular_size(path)?;
    let compression = crate::compress::Compression::from_name(path);
    #[allow(
        clippy::cast_precision_loss,
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss
    )]
    let estimate = (size as f64 * COMPRESSED_TEXT_PER_BYTE) as u64;
    Some(if crate::parquet::is_parquet_name(path) {
        // Parquet is compressed inside; its footer tells by how much.
        crate::parquet::decoded_size(path).unwrap_or(estimate)
    } else if compression != crate::compress::Compression::None {
        text_and_lines(path, most).map_or(estimate, |(bytes, _, _)| bytes)
    } else {
        size
    })
}
