//! The `neardup` binary: arguments -> Config -> run -> exit status.

mod cli;

use clap::Parser;
use neardup::output::{self, Destination};
use neardup::report::{self, Report};
use neardup::store::{self, History, IndexParams};
use neardup::{check, Config, Corpus, Error, ExitStatus};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

fn main() -> ExitCode {
    neardup::memory::tune_allocator();
    let cli = cli::Cli::parse();
    let status = match &cli.command {
        cli::Command::Scan(args) => run(&args.common, Mode::Scan),
        cli::Command::Clean(args) => run(&args.common, Mode::Clean(args)),
        cli::Command::Check(args) => run(&args.common, Mode::Check(args)),
        cli::Command::Index(cli::IndexCommand::Build(args)) => {
            run(&args.common, Mode::Build(&args.output))
        }
        cli::Command::Index(cli::IndexCommand::Stats(args)) => index_stats(args),
        cli::Command::Index(cli::IndexCommand::Merge(args)) => index_merge(args),
    };
    status.into()
}

/// The progress bar on standard error (hidden unless asked for or on a terminal).
struct ProgressBar(indicatif::ProgressBar);

impl ProgressBar {
    fn new(common: &cli::Common) -> ProgressBar {
        let show = !common.quiet
            && match common.progress {
                cli::ProgressArg::Never => false,
                cli::ProgressArg::Always => true,
                cli::ProgressArg::Auto => std::io::stderr().is_terminal(),
            };
        let bar = if !show {
            indicatif::ProgressBar::hidden()
        } else if std::io::stderr().is_terminal() {
            indicatif::ProgressBar::with_draw_target(
                Some(0),
                indicatif::ProgressDrawTarget::stderr(),
            )
        } else {
            // `--progress always` into a file or pipe: indicatif draws only to
            // terminals, so hand it a plain stderr that takes ANSI codes as given.
            indicatif::ProgressBar::with_draw_target(
                Some(0),
                indicatif::ProgressDrawTarget::term_like_with_hz(Box::new(PlainStderr), 4),
            )
        };
        ProgressBar(bar)
    }

    fn finish(&self) {
        self.0.finish_and_clear();
    }
}

/// Moves the cursor `n` places with the ANSI sequence ending in `code`.
#[allow(clippy::unnecessary_wraps)]
fn csi(n: usize, code: char) -> std::io::Result<()> {
    if n > 0 {
        eprint!("\x1b[{n}{code}");
    }
    Ok(())
}

/// Standard error as a terminal of 80 columns, for `--progress always`.
#[derive(Debug)]
struct PlainStderr;

impl indicatif::TermLike for PlainStderr {
    fn width(&self) -> u16 {
        80
    }
    fn move_cursor_up(&self, n: usize) -> std::io::Result<()> {
        csi(n, 'A')
    }
    fn move_cursor_down(&self, n: usize) -> std::io::Result<()> {
        csi(n, 'B')
    }
    fn move_cursor_right(&self, n: usize) -> std::io::Result<()> {
        csi(n, 'C')
    }
    fn move_cursor_left(&self, n: usize) -> std::io::Result<()> {
        csi(n, 'D')
    }
    fn write_line(&self, s: &str) -> std::io::Result<()> {
        eprintln!("{s}");
        Ok(())
    }
    fn write_str(&self, s: &str) -> std::io::Result<()> {
        eprint!("{s}");
        Ok(())
    }
    fn clear_line(&self) -> std::io::Result<()> {
        eprint!("\r\x1b[2K");
        Ok(())
    }
    fn flush(&self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

impl neardup::pipeline::Progress for ProgressBar {
    fn stage(&self, name: &'static str, total: u64, bytes: bool) {
        let template = if bytes && total == 0 {
            // Standard input: how much is done, not how much is left.
            "{msg:>10} [{elapsed_precise}] {bytes} {bytes_per_sec}"
        } else if bytes {
            "{msg:>10} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} {bytes_per_sec} ETA {eta}"
        } else {
            "{msg:>10} [{elapsed_precise}] {wide_bar} {human_pos}/{human_len} ({percent}%) ETA {eta}"
        };
        if let Ok(style) = indicatif::ProgressStyle::with_template(template) {
            self.0.set_style(style);
        }
        self.0.set_message(name);
        self.0.set_length(total);
        self.0.set_position(0);
    }

    fn advance(&self, n: u64) {
        self.0.inc(n);
    }

    fn message(&self, message: String) {
        self.0.set_message(message);
    }
}

/// Prints an error once, as `neardup: message`.
fn print_error(err: &dyn std::fmt::Display) {
    eprintln!("neardup: {err}");
}

fn is_broken_pipe(err: &Error) -> bool {
    matches!(err, Error::Io { source, .. } if source.kind() == std::io::ErrorKind::BrokenPipe)
}

/// What the command does besides analysing.
#[derive(Clone, Copy)]
enum Mode<'a> {
    Scan,
    Clean(&'a cli::CleanArgs),
    Check(&'a cli::CheckArgs),
    /// `index build`: analyse, write the index, report nothing else.
    Build(&'a std::path::Path),
}

fn run(common: &cli::Common, mode: Mode<'_>) -> ExitStatus {
    if common.format == cli::FormatArg::Github && !matches!(mode, Mode::Check(_)) {
        print_error(&"--format github is a report format of `neardup check`");
        return ExitStatus::Error;
    }
    if common.html.is_some() && matches!(mode, Mode::Build(_)) {
        print_error(&"--html is a report of `scan`, `check` and `clean`");
        return ExitStatus::Error;
    }
    let limits = match mode {
        Mode::Check(args) => match limits(args) {
            Ok(l) => Some(l),
            Err(e) => {
                print_error(&e);
                return ExitStatus::Error;
            }
        },
        _ => None,
    };
    let config = match common.config() {
        Ok(c) => c,
        Err(e) => {
            print_error(&e);
            return ExitStatus::Error;
        }
    };
    let pool = match rayon::ThreadPoolBuilder::new()
        .num_threads(config.threads)
        .build()
    {
        Ok(p) => p,
        Err(e) => {
            print_error(&format!("cannot start {} threads: {e}", config.threads));
            return ExitStatus::Error;
        }
    };
    let clean = match mode {
        Mode::Clean(args) => Some(args),
        _ => None,
    };
    let check = match mode {
        Mode::Check(args) => Some((args, limits.unwrap_or_default())),
        _ => None,
    };
    let build = match mode {
        Mode::Build(out) => Some(out),
        _ => None,
    };
    pool.install(|| execute(common, clean, check, build, &config))
}

/// The index a run reads and the one it writes.
#[derive(Default)]
struct IndexUse {
    history: Option<Arc<History>>,
    /// Where the updated index goes (`--update`, `index build`).
    write_to: Option<PathBuf>,
    /// The exclusive lock of an update whose index does not exist yet (an
    /// existing index holds its own).
    _lock: Option<std::fs::File>,
    report: Option<report::IndexReport>,
}

fn open_index(
    common: &cli::Common,
    build: Option<&Path>,
    params: &IndexParams,
) -> neardup::Result<IndexUse> {
    if let Some(out) = build {
        if common.index.is_some() || common.reference.is_some() {
            return Err(Error::Usage(
                "`index build` writes the index named by -o; --index and --reference do not apply"
                    .into(),
            ));
        }
        return Ok(IndexUse {
            write_to: Some(out.to_owned()),
            _lock: Some(store::lock(out)?),
            ..IndexUse::default()
        });
    }
    if common.update && common.index.is_none() {
        return Err(Error::Usage(
            "--update adds to the index named by --index; a --reference index is never written"
                .into(),
        ));
    }
    let (path, role) = match (&common.index, &common.reference) {
        (Some(p), _) => (p, "index"),
        (None, Some(p)) => (p, "reference"),
        (None, None) => return Ok(IndexUse::default()),
    };
    let mut lock = None;
    if common.update {
        lock = Some(store::lock(path)?);
    }
    let history = if path.exists() {
        Some(Arc::new(History::open(path, Some(params), lock.take())?))
    } else if common.update {
        None
    } else {
        return Err(Error::Index {
            path: path.clone(),
            message: format!(
                "no such index; create it with `--index {} --update` or `neardup index build`",
                path.display()
            ),
        });
    };
    let report = report::IndexReport {
        path: path.display().to_string(),
        role: role.into(),
        documents: history.as_deref().map_or(0, History::documents),
        blocks: history.as_deref().map_or(0, History::blocks),
        updated: common.update,
    };
    Ok(IndexUse {
        history,
        write_to: common.update.then(|| path.clone()),
        _lock: lock,
        report: Some(report),
    })
}

fn limits(args: &cli::CheckArgs) -> neardup::Result<check::Limits> {
    let share = |flag: &str, value: &Option<String>| {
        value
            .as_deref()
            .map(|v| check::parse_share(flag, v))
            .transpose()
    };
    Ok(check::Limits {
        dup_docs: share("--max-dup-docs", &args.max_dup_docs)?,
        dup_blocks: share("--max-dup-blocks", &args.max_dup_blocks)?,
        dup_bytes: share("--max-dup-bytes", &args.max_dup_bytes)?,
    })
}

#[allow(clippy::too_many_lines)]
fn execute(
    common: &cli::Common,
    clean: Option<&cli::CleanArgs>,
    check: Option<(&cli::CheckArgs, check::Limits)>,
    build: Option<&Path>,
    config: &Config,
) -> ExitStatus {
    let started = Instant::now();
    let params = IndexParams::of(config);
    let index = match open_index(common, build, &params) {
        Ok(i) => i,
        Err(e) => {
            print_error(&e);
            return ExitStatus::Error;
        }
    };
    let destination = clean.map(|c| match (&c.output, &c.out_dir) {
        (Some(file), _) => Destination::File(file.clone()),
        (None, Some(dir)) => Destination::Dir(dir.clone()),
        (None, None) => Destination::Stdout,
    });
    let report_file = clean.and_then(|c| c.report.clone());
    if matches!(destination, Some(Destination::Stdout)) && common.json && report_file.is_none() {
        print_error(&"--json needs --report FILE when the cleaned text goes to standard output");
        return ExitStatus::Error;
    }
    if common.paths.iter().filter(|p| p.as_os_str() == "-").count() > 1 {
        print_error(&"`-` (standard input) can be given only once");
        return ExitStatus::Error;
    }
    // Every input is tried and every failure reported before giving up.
    let (inputs, mut errors) = neardup::input::expand(&common.paths, &config.glob);
    if let Some(html) = common.html.as_deref().filter(|h| is_input(h, &inputs)) {
        print_error(&format!(
            "{}: output path is also an input; refusing to overwrite it",
            html.display()
        ));
        return ExitStatus::Error;
    }
    let bar = ProgressBar::new(common);
    let command = match (clean, check) {
        (Some(_), _) => "clean",
        (_, Some(_)) => "check",
        _ => "scan",
    };
    let chunked_config;
    let limit = match chunk_limit(common, config, &inputs) {
        Ok(limit) => limit,
        Err(e) => {
            print_error(&e);
            return ExitStatus::Error;
        }
    };
    if let Some(limit) = limit {
        if !errors.is_empty() {
            for e in &errors {
                print_error(e);
            }
            return ExitStatus::Error;
        }
        // A run in chunks spools standard input, decompressed inputs,
        // segments and the report under --tmp-dir.
        chunked_config = Config {
            spool: Some(common.tmp_dir.clone().unwrap_or_else(std::env::temp_dir)),
            ..config.clone()
        };
        let config = &chunked_config;
        let index_out = index.write_to.clone().filter(|_| build.is_some());
        let chunked = run_chunked(
            common,
            config,
            (inputs, index, limit),
            destination.as_ref(),
            command,
            &bar,
        );
        bar.finish();
        return match chunked {
            Ok(Some(report)) if index_out.is_some() => {
                if !common.quiet {
                    eprintln!(
                        "neardup: indexed {} and {} into {}",
                        report::plural(report.summary.documents, "document"),
                        report::plural(report.summary.blocks, "block"),
                        index_out.as_deref().unwrap_or(Path::new("")).display()
                    );
                }
                ExitStatus::Success
            }
            Ok(Some(mut report)) => {
                let status = finish_report(
                    common,
                    check,
                    destination.as_ref(),
                    report_file.as_deref(),
                    &mut report,
                );
                if common.verbose && !common.quiet {
                    if let Some(memory) = neardup::memory::usage() {
                        eprintln!("neardup: {memory}");
                    }
                }
                status
            }
            Ok(None) => ExitStatus::Success,
            Err(e) => {
                print_error(&e);
                ExitStatus::Error
            }
        };
    }
    let corpus = match Corpus::load(inputs, config) {
        Ok(c) if errors.is_empty() => c,
        loaded => {
            errors.extend(loaded.err().unwrap_or_default());
            for e in &errors {
                print_error(e);
            }
            return ExitStatus::Error;
        }
    };
    if !common.quiet {
        for skipped in &corpus.skipped {
            eprintln!("neardup: warning: skipped {skipped}");
        }
    }
    let loaded = started.elapsed();
    let analyzed = neardup::pipeline::analyze_after(
        &corpus,
        config,
        &bar,
        index.history.clone(),
        index.write_to.is_some(),
    );
    bar.finish();
    let mut analysis = match analyzed {
        Ok(a) => a,
        Err(e) => {
            print_error(&e);
            return ExitStatus::Error;
        }
    };
    if let (Some(out), Some(_)) = (&index.write_to, build) {
        return match update_index(&corpus, &mut analysis, out, &params) {
            Ok(()) => {
                if !common.quiet {
                    eprintln!(
                        "neardup: indexed {} and {} into {}",
                        report::plural(corpus.documents.len(), "document"),
                        report::plural(analysis.blocks.iter().map(Vec::len).sum(), "block"),
                        out.display()
                    );
                }
                ExitStatus::Success
            }
            Err(e) => {
                print_error(&e);
                ExitStatus::Error
            }
        };
    }
    let analyzed = started.elapsed();
    // The report is built while the output is written; it is delivered once
    // the output is safely in place. When it would go nowhere but its line
    // of totals (cleaned text on standard output, no --report), only the
    // totals are counted.
    let totals_only = matches!(destination, Some(Destination::Stdout))
        && report_file.is_none()
        && common.html.is_none()
        && check.is_none();
    let (mut report, written) = rayon::join(
        || (!totals_only).then(|| report::build(&corpus, &analysis, config, command)),
        || {
            destination.as_ref().map_or(Ok(()), |destination| {
                output::write(&corpus, &analysis, destination, config.annotate)
            })
        },
    );
    let mut status = ExitStatus::Success;
    if let Some(r) = &mut report {
        r.index = index.report;
        status = apply_check(r, check);
    }
    let totals;
    let summary = if let Some(r) = &report {
        &r.summary
    } else {
        totals = report::summary(&corpus, &analysis);
        &totals
    };
    if let Err(e) = written {
        if is_broken_pipe(&e) {
            return ExitStatus::Success;
        }
        print_error(&e);
        return ExitStatus::Error;
    }
    // The index learns of this run only once its output is safely written: a
    // failed write then never makes the next run drop what was not kept.
    if let Some(out) = &index.write_to {
        if let Err(e) = update_index(&corpus, &mut analysis, out, &params) {
            print_error(&e);
            return ExitStatus::Error;
        }
    }
    let status = if let Some(report) = &report {
        // The HTML report shows the texts of this run's documents (an
        // indexed document's text is not held).
        let text_of = |global: usize| {
            let local = global.checked_sub(analysis.base_docs)?;
            corpus.documents.get(local).map(|d| corpus.text(d))
        };
        deliver_report(
            common,
            check,
            (destination.as_ref(), report_file.as_deref()),
            (report, Some(&text_of)),
            status,
        )
    } else {
        if !common.quiet {
            print_totals(summary);
        }
        status
    };
    if common.verbose && !common.quiet {
        let total = started.elapsed();
        #[allow(clippy::cast_precision_loss)]
        let mb = summary.bytes as f64 / 1e6;
        let t = analysis.timings;
        eprintln!(
            "neardup: {} documents, {mb:.1} MB: read {:.3}s, sketch {:.3}s, documents {:.3}s, blocks {:.3}s, runs {:.3}s, report and write {:.3}s, total {:.3}s ({:.1} MB/s, {} threads)",
            summary.documents,
            loaded.as_secs_f64(),
            t.sketch.as_secs_f64(),
            t.documents.as_secs_f64(),
            t.detect.as_secs_f64(),
            t.decide.as_secs_f64(),
            total.saturating_sub(analyzed).as_secs_f64(),
            total.as_secs_f64(),
            mb / total.as_secs_f64().max(1e-9),
            config.threads,
        );
        if let Some(memory) = neardup::memory::usage() {
            eprintln!("neardup: {memory}");
        }
        if let Some(h) = &analysis.history {
            let (read, all) = h.chunks_read();
            eprintln!(
                "neardup: index {}: read {} of {} 4 KiB chunks ({})",
                h.path().display(),
                report::thousands(read),
                report::thousands(all),
                report::percent(read, all)
            );
        }
    }
    status
}

/// Measures the report against `check`'s limits: exit 1 when over them.
fn apply_check(report: &mut Report, check: Option<(&cli::CheckArgs, check::Limits)>) -> ExitStatus {
    let mut status = ExitStatus::Success;
    if let Some((args, limits)) = check {
        let verdict = check::evaluate(report, limits);
        if !verdict.passed && !args.exit_zero {
            status = ExitStatus::Duplicates;
        }
        report.check = Some(verdict);
    }
    status
}

/// Writes the report where it goes; an error there turns `status` into 2.
/// Measures the report against `check`'s limits and writes it where it goes.
fn finish_report(
    common: &cli::Common,
    check: Option<(&cli::CheckArgs, check::Limits)>,
    destination: Option<&Destination>,
    report_file: Option<&Path>,
    report: &mut Report,
) -> ExitStatus {
    let status = apply_check(report, check);
    // A run in chunks no longer holds its documents' texts.
    deliver_report(
        common,
        check,
        (destination, report_file),
        (report, None),
        status,
    )
}

/// The report's line of totals on standard error, for cleaned text on
/// standard output.
fn print_totals(s: &report::Summary) {
    eprintln!(
        "neardup: dropped {} near-duplicate {}; removed {} of {} blocks, {} of {} bytes in all ({}, {} kept)",
        report::thousands(s.dropped_documents),
        if s.dropped_documents == 1 { "document" } else { "documents" },
        report::thousands(s.removed_blocks),
        report::thousands(s.blocks),
        report::thousands(s.removed_bytes),
        report::thousands(s.bytes),
        report::plural(s.runs, "run"),
        report::plural(s.short_repeats_kept, "short repeat"),
    );
}

fn deliver_report(
    common: &cli::Common,
    check: Option<(&cli::CheckArgs, check::Limits)>,
    (destination, report_file): (Option<&Destination>, Option<&Path>),
    (report, text_of): (&Report, Option<report::html::TextOf<'_>>),
    status: ExitStatus,
) -> ExitStatus {
    let check_args = check.map(|(a, _)| a);
    // The HTML page first: a failed write leaves every report as it was.
    if let Some(html) = &common.html {
        if let Err(e) = output::write_atomically(html, |w| report::html::write(report, text_of, w))
        {
            print_error(&e);
            return ExitStatus::Error;
        }
    }
    let written = match (report_file, destination) {
        (Some(path), _) => {
            match output::write_atomically(path, |w| write_report(report, common, check_args, w)) {
                Ok(()) => ExitStatus::Success,
                Err(e) => {
                    print_error(&e);
                    ExitStatus::Error
                }
            }
        }
        (None, Some(Destination::Stdout)) => {
            if !common.quiet {
                print_totals(&report.summary);
            }
            ExitStatus::Success
        }
        (None, _) => print_stdout(|w| write_report(report, common, check_args, w)),
    };
    if written == ExitStatus::Error {
        ExitStatus::Error
    } else {
        status
    }
}

/// Whether `path` names one of the input files.
fn is_input(path: &Path, inputs: &[neardup::input::InputPath]) -> bool {
    let Ok(target) = path.canonicalize() else {
        return false;
    };
    inputs
        .iter()
        .any(|i| i.path.canonicalize().is_ok_and(|p| p == target))
}

/// The `--memory-limit` in bytes, or an error for what it does not work with
/// yet.
/// Bytes of memory a whole run takes per byte of input, both levels with
/// the report (250 MB of JSON Lines: 878 MiB, `benches/RESULTS.md`), and
/// bytes of text per byte of a compressed input (an estimate: news text
/// packs 2.6 to 5 times).
const WHOLE_RUN_PER_INPUT_BYTE: f64 = 3.7;
const COMPRESSED_TEXT_PER_BYTE: f64 = 4.0;

/// The memory limit a run works in chunks under: `--memory-limit`, or, when
/// a whole run of the inputs would not fit in the memory available (and the
/// run can be chunked), half of what is available. `None`: a whole run.
fn chunk_limit(
    common: &cli::Common,
    config: &Config,
    inputs: &[neardup::input::InputPath],
) -> neardup::Result<Option<usize>> {
    if let Some(given) = &common.memory_limit {
        if config.keep != neardup::config::Keep::First {
            return Err(Error::Usage(
                "--memory-limit keeps the first of near-duplicate documents: it does not work with --keep".into(),
            ));
        }
        return neardup::chunked::parse_size("--memory-limit", given).map(Some);
    }
    if config.keep != neardup::config::Keep::First {
        return Ok(None);
    }
    // Standard input counts for nothing: its size is not known.
    #[allow(clippy::cast_precision_loss)]
    let needed: f64 = inputs
        .iter()
        .filter(|i| !i.is_stdin())
        .filter_map(|i| {
            let size = std::fs::metadata(&i.path).ok()?.len() as f64;
            let compressed = neardup::compress::Compression::from_name(&i.path)
                != neardup::compress::Compression::None;
            Some(if compressed {
                size * COMPRESSED_TEXT_PER_BYTE
            } else {
                size
            })
        })
        .sum::<f64>()
        * WHOLE_RUN_PER_INPUT_BYTE;
    let Some(available) = neardup::memory::available() else {
        return Ok(None);
    };
    #[allow(
        clippy::cast_precision_loss,
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss
    )]
    if needed > available as f64 {
        let limit = usize::try_from(available / 2).unwrap_or(usize::MAX);
        if !common.quiet {
            eprintln!(
                "neardup: note: a whole run of these inputs would take about {} of memory, and {} is available: working in chunks, as --memory-limit {} does (same output; pass --memory-limit to choose, --tmp-dir for where chunks are kept)",
                human_bytes(needed as u64),
                human_bytes(available),
                human_bytes(limit as u64),
            );
        }
        return Ok(Some(limit));
    }
    Ok(None)
}

/// Bytes as `1.5G`, `300M` or `12K` (powers of 1024, as --memory-limit reads them).
fn human_bytes(bytes: u64) -> String {
    #[allow(clippy::cast_precision_loss)]
    let b = bytes as f64;
    for (unit, scale) in [("G", 1u64 << 30), ("M", 1 << 20), ("K", 1 << 10)] {
        #[allow(clippy::cast_precision_loss)]
        let scale = scale as f64;
        if b >= scale {
            return format!("{:.1}{unit}", b / scale);
        }
    }
    format!("{bytes}")
}

/// `--memory-limit`: reads, analyses and writes the input chunk by chunk,
/// each chunk's output written as soon as it is analysed, and returns the
/// report (`None` when standard output was closed early).
#[allow(clippy::too_many_lines)]
fn run_chunked(
    common: &cli::Common,
    config: &Config,
    (inputs, index, limit): (Vec<neardup::input::InputPath>, IndexUse, usize),
    destination: Option<&Destination>,
    command: &str,
    progress: &dyn neardup::pipeline::Progress,
) -> neardup::Result<Option<Report>> {
    use neardup::chunked::{Chunking, OneStream, PartWriter, Sink};
    if let Some(d) = destination {
        let formats: Vec<_> = inputs
            .iter()
            .map(|i| (i, neardup::input::format_of(i, config)))
            .collect();
        output::plan(&formats, d, config.annotate)?;
    }
    // Every input that cannot be opened is named before anything is read.
    if config.on_error == neardup::config::OnError::Fail {
        let unreadable: Vec<Error> = inputs
            .iter()
            .filter(|i| !i.is_stdin())
            .filter_map(|i| {
                std::fs::File::open(&i.path)
                    .err()
                    .map(|e| Error::io(&i.path, e))
            })
            .collect();
        if let Some(last) = unreadable.len().checked_sub(1) {
            for e in &unreadable[..last] {
                print_error(e);
            }
            return Err(unreadable.into_iter().nth(last).expect("not empty"));
        }
    }
    let dir = config.spool.clone().expect("runs in chunks spool");
    let chunking = Chunking::for_memory(limit, dir);
    let mut stream = neardup::stream::Stream::new(
        inputs,
        config,
        chunking.chunk_bytes / 2,
        chunking.dir.clone(),
    );
    let mut report = report::Accumulator::new(config, command);
    // The report's documents go to disk as they come: a corpus's report can
    // be larger than the memory the run may use.
    report
        .spool_documents(&chunking.dir)
        .map_err(|e| Error::io(&chunking.dir, e))?;
    let mut parts = PartWriter::default();
    let started = std::time::Instant::now();
    // Time spent per stage over all chunks, for -v: the four analysis
    // stages, the report and the output.
    let mut spent = [std::time::Duration::ZERO; 6];
    let mut chunks = 0;
    let mut warned = 0;
    let IndexUse {
        history,
        write_to,
        _lock: lock,
        report: index_report,
    } = index;
    let history = history.map(|h| {
        Arc::try_unwrap(h)
            .ok()
            .expect("nothing else holds the index")
    });
    // With --annotate, records get their fields once every cluster is whole.
    let first_doc = history.as_ref().map_or(0, store::History::documents);
    let annotations = std::cell::RefCell::new(output::Annotations::default());
    let mut index = Some((history, write_to.is_some()));
    let mut ran = None;
    // Output errors stop the run; they are told apart from analysis errors.
    let mut run = |out: Option<&mut dyn Sink>, name: &str| -> neardup::Result<()> {
        let mut out = out;
        let mut done = neardup::chunked::run(
            &mut stream,
            config,
            &chunking,
            progress,
            index.take().expect("one run"),
            |chunk, analysis, seen| {
                if !common.quiet {
                    for skipped in &seen.skipped[warned..] {
                        eprintln!("neardup: warning: skipped {skipped}");
                    }
                }
                warned = seen.skipped.len();
                let t = analysis.timings;
                for (at, d) in [t.sketch, t.documents, t.detect, t.decide]
                    .into_iter()
                    .enumerate()
                {
                    spent[at] += d;
                }
                chunks += 1;
                let clock = std::time::Instant::now();
                report.add(&chunk.corpus, analysis, seen);
                spent[4] += clock.elapsed();
                let clock = std::time::Instant::now();
                if let Some(out) = out.as_deref_mut() {
                    let mut annotations = annotations.borrow_mut();
                    if config.annotate {
                        annotations.add(&chunk.corpus, analysis);
                    }
                    let marks = config.annotate.then_some(&mut annotations.marks);
                    parts
                        .chunk(chunk, analysis, out, marks)
                        .map_err(|e| Error::io(name, e))?;
                }
                spent[5] += clock.elapsed();
                Ok(())
            },
        )?;
        report.add_late_copies(std::mem::take(&mut done.late));
        ran = Some(done);
        if let Some(out) = out {
            parts
                .finish(&stream.seen().sources, out)
                .map_err(|e| Error::io(name, e))?;
        }
        Ok(())
    };
    // Output goes to its sink as chunks come, or, with --annotate, is held
    // until the clusters are whole.
    let mut deliver = |sink: Option<&mut dyn Sink>, name: &str| -> neardup::Result<()> {
        let sink = match sink {
            Some(sink) if config.annotate => sink,
            other => return run(other, name),
        };
        let mut held =
            neardup::chunked::Held::new(&chunking.dir).map_err(|e| Error::io(&chunking.dir, e))?;
        run(Some(&mut held), name)?;
        held.replay(&annotations.borrow(), first_doc, sink)
            .map_err(|e| Error::io(name, e))
    };
    match destination {
        None => deliver(None, "")?,
        Some(Destination::Stdout) => {
            let stdout = std::io::stdout();
            let mut out = std::io::BufWriter::with_capacity(1 << 16, stdout.lock());
            let mut sink = OneStream {
                out: &mut out,
                flush: true,
            };
            match deliver(Some(&mut sink), "<stdout>")
                .and_then(|()| out.flush().map_err(|e| Error::io("<stdout>", e)))
            {
                Err(e) if is_broken_pipe(&e) => return Ok(None),
                other => other?,
            }
        }
        Some(Destination::File(path)) => {
            let mut failed = None;
            let written = output::write_compressed(path, |out| {
                let mut sink = OneStream { out, flush: false };
                deliver(Some(&mut sink), &path.display().to_string()).map_err(|e| {
                    let message = e.to_string();
                    failed = Some(e);
                    std::io::Error::other(message)
                })
            });
            if let Some(e) = failed {
                return Err(e);
            }
            written?;
        }
        Some(Destination::Dir(dir)) => {
            let mut sink = output::DirSink::new(dir);
            deliver(Some(&mut sink), &dir.display().to_string())?;
        }
    }
    // The index learns of this run only once its output is safely written.
    if let (Some(path), Some(ran)) = (&write_to, ran) {
        ran.update(path, &IndexParams::of(config))?;
    }
    drop(lock);
    if common.verbose && !common.quiet {
        print_chunk_times(chunks, spent, started.elapsed());
    }
    let seen = stream.into_seen();
    if !common.quiet {
        for skipped in &seen.skipped[warned..] {
            eprintln!("neardup: warning: skipped {skipped}");
        }
    }
    let mut report = report
        .finish(&seen.sources, &seen.skipped)
        .map_err(|e| Error::io(&chunking.dir, e))?;
    report.index = index_report;
    Ok(Some(report))
}

/// `-v` for a chunked run: time per stage over all chunks.
fn print_chunk_times(chunks: usize, spent: [std::time::Duration; 6], total: std::time::Duration) {
    let other = total.saturating_sub(spent.iter().sum());
    let [sketch, documents, blocks, runs, report, write] = spent.map(|d| d.as_secs_f64());
    eprintln!(
        "neardup: {chunks} chunks: sketch {sketch:.3}s, documents {documents:.3}s, blocks {blocks:.3}s, runs {runs:.3}s, report {report:.3}s, write {write:.3}s, segments and the rest {:.3}s, total {:.3}s",
        other.as_secs_f64(),
        total.as_secs_f64()
    );
}

fn update_index(
    corpus: &Corpus,
    analysis: &mut neardup::Analysis,
    out: &Path,
    params: &IndexParams,
) -> neardup::Result<()> {
    let delta = store::delta(corpus, analysis);
    store::write(
        out,
        analysis.history.as_deref().and_then(History::single),
        delta,
        params,
    )
}

/// `neardup index stats`.
fn index_stats(args: &cli::StatsArgs) -> ExitStatus {
    let index = match store::Segment::open(&args.path, None, None) {
        Ok(i) => i,
        Err(e) => {
            print_error(&e);
            return ExitStatus::Error;
        }
    };
    if args.verify {
        if let Err(e) = index.verify() {
            print_error(&e);
            return ExitStatus::Error;
        }
    }
    let meta = index.meta();
    let counts = [
        ("documents", index.documents()),
        ("blocks", index.blocks()),
        ("exact_keys", index.count("exact")),
        ("postings", index.count("postings")),
        ("copies", index.count("members")),
        ("bucket_entries", index.count("bands")),
        ("block_shingles", index.count("block_shingles")),
        ("document_shingles", index.count("doc_shingles")),
    ];
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    print_stdout(|w| {
        if args.json {
            let mut value = serde_json::json!({
                "path": args.path.display().to_string(),
                "format_version": store::FORMAT_VERSION,
                "bytes": index.file_len(),
                "created": meta.created,
                "updated": meta.updated,
                "runs": meta.runs,
                "parameters": meta.params,
                "verified": args.verify,
            });
            for (name, n) in counts {
                value[name] = n.into();
            }
            serde_json::to_writer(&mut *w, &value).map_err(std::io::Error::from)?;
            return w.write_all(b"\n");
        }
        writeln!(
            w,
            "{}: neardup index, format version {}, {} bytes",
            args.path.display(),
            store::FORMAT_VERSION,
            report::thousands(usize::try_from(index.file_len()).unwrap_or(usize::MAX))
        )?;
        for (name, n) in counts {
            writeln!(
                w,
                "  {:<18} {:>14}",
                name.replace('_', " "),
                report::thousands(n)
            )?;
        }
        writeln!(
            w,
            "  created            {} ({} ago)",
            store::utc(meta.created),
            store::age(now.saturating_sub(meta.created))
        )?;
        writeln!(
            w,
            "  updated            {} ({} ago), {}",
            store::utc(meta.updated),
            store::age(now.saturating_sub(meta.updated)),
            report::plural(usize::try_from(meta.runs).unwrap_or(0), "run")
        )?;
        let params = serde_json::to_value(&meta.params).unwrap_or_default();
        let flags: Vec<String> = params
            .as_object()
            .into_iter()
            .flatten()
            .filter(|(k, v)| !v.is_null() && k.as_str() != "engine")
            .map(|(k, v)| match v {
                serde_json::Value::String(s) => format!("--{k} {s}"),
                v => format!("--{k} {v}"),
            })
            .collect();
        writeln!(w, "  built with         {}", flags.join(" "))?;
        writeln!(w, "  engine version     {}", meta.params.engine)?;
        if args.verify {
            writeln!(w, "  checksums          every chunk verified")?;
        }
        Ok(())
    })
}

/// `neardup index merge`.
fn index_merge(args: &cli::MergeArgs) -> ExitStatus {
    let merged = (|| -> neardup::Result<()> {
        // The output's lock is held from before reading (the output may be
        // one of the inputs) until the merged index is in place.
        let _lock = store::lock(&args.output)?;
        let a = store::Segment::open(&args.a, None, None)?;
        let b = store::Segment::open(&args.b, None, None)?;
        store::merge(&a, &b, &args.output)?;
        eprintln!(
            "neardup: merged {} ({} documents) and {} ({} documents) into {}",
            args.a.display(),
            report::thousands(a.documents()),
            args.b.display(),
            report::thousands(b.documents()),
            args.output.display()
        );
        Ok(())
    })();
    match merged {
        Ok(()) => ExitStatus::Success,
        Err(e) => {
            print_error(&e);
            ExitStatus::Error
        }
    }
}

/// Writes the report in the asked format. JSON is serialized straight into
/// the writer: a corpus's report can be larger than the corpus's text.
fn write_report(
    report: &Report,
    common: &cli::Common,
    check: Option<&cli::CheckArgs>,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    let github = common.format == cli::FormatArg::Github
        || check.and_then(|c| c.output_format) == Some(cli::OutputFormatArg::Github);
    let json =
        common.json || check.and_then(|c| c.output_format) == Some(cli::OutputFormatArg::Json);
    if let (true, Some(verdict)) = (github, &report.check) {
        return write_formatted(out, |f| check::write_github(report, verdict, f));
    }
    if json {
        return report.write_json(out);
    }
    write_formatted(out, |f| report::write_text(report, common.top, f))?;
    if let Some(verdict) = &report.check {
        out.write_all(check::render_text(verdict).as_bytes())?;
    }
    Ok(())
}

/// Runs a renderer that writes text (`fmt::Write`) into `out`, in pieces of
/// 64 KiB, so that a long report is never held whole.
fn write_formatted(
    out: &mut dyn Write,
    render: impl FnOnce(&mut dyn std::fmt::Write) -> std::io::Result<()>,
) -> std::io::Result<()> {
    struct Pieces<'a> {
        out: &'a mut dyn Write,
        buf: String,
        failed: Option<std::io::Error>,
    }
    impl std::fmt::Write for Pieces<'_> {
        fn write_str(&mut self, s: &str) -> std::fmt::Result {
            self.buf.push_str(s);
            if self.buf.len() >= 1 << 16 {
                if let Err(e) = self.out.write_all(self.buf.as_bytes()) {
                    self.failed = Some(e);
                    return Err(std::fmt::Error);
                }
                self.buf.clear();
            }
            Ok(())
        }
    }
    let mut pieces = Pieces {
        out,
        buf: String::new(),
        failed: None,
    };
    render(&mut pieces)?;
    if let Some(e) = pieces.failed {
        return Err(e);
    }
    pieces.out.write_all(pieces.buf.as_bytes())
}

fn print_stdout(fill: impl FnOnce(&mut dyn Write) -> std::io::Result<()>) -> ExitStatus {
    let stdout = std::io::stdout();
    let mut lock = std::io::BufWriter::with_capacity(1 << 16, stdout.lock());
    match fill(&mut lock).and_then(|()| lock.flush()) {
        Ok(()) => ExitStatus::Success,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitStatus::Success,
        Err(e) => {
            print_error(&format!("writing the report: {e}"));
            ExitStatus::Error
        }
    }
}
