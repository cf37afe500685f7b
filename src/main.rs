//! The `neardup` binary: arguments -> Config -> run -> exit status.

mod cli;

use clap::Parser;
use neardup::output::{self, Destination};
use neardup::report::{self, Report};
use neardup::store::{self, History, IndexParams};
use neardup::target::{Staged, Staging, Use};
use neardup::{check, Config, Corpus, Error, ExitStatus};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

fn main() -> ExitCode {
    neardup::memory::tune_allocator();
    // Interrupted, a run removes the temporary files beside its targets.
    if let Err(e) = neardup::target::clean_up_on_signals() {
        print_error(&format!("warning: cannot watch for signals: {e}"));
    }
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
        cli::Command::Completions { shell } => print_stdout(|w| {
            let mut command = <cli::Cli as clap::CommandFactory>::command();
            clap_complete::generate(*shell, &mut command, "neardup", w);
            Ok(())
        })
        .status(),
        cli::Command::Man => print_stdout(|w| {
            clap_mangen::Man::new(<cli::Cli as clap::CommandFactory>::command()).render(w)
        })
        .status(),
    };
    status.into()
}

/// The progress bar on standard error (hidden unless asked for or on a
/// terminal), and whether standard error is a terminal.
struct ProgressBar(indicatif::ProgressBar, bool);

impl ProgressBar {
    fn new(common: &cli::Common) -> ProgressBar {
        let show = !common.quiet
            && match common.progress {
                cli::ProgressArg::Never => false,
                cli::ProgressArg::Always => true,
                cli::ProgressArg::Auto => std::io::stderr().is_terminal(),
            };
        let terminal = std::io::stderr().is_terminal();
        let bar = if !show {
            indicatif::ProgressBar::hidden()
        } else if terminal {
            indicatif::ProgressBar::with_draw_target(
                Some(0),
                indicatif::ProgressDrawTarget::stderr(),
            )
        } else {
            // `--progress always` into a file or pipe: plain lines, one a
            // second at most, no cursor movement or colour.
            indicatif::ProgressBar::with_draw_target(
                Some(0),
                indicatif::ProgressDrawTarget::term_like_with_hz(Box::new(PlainStderr), 1),
            )
        };
        ProgressBar(bar, terminal)
    }

    fn finish(&self) {
        self.0.finish_and_clear();
    }
}

/// Standard error as plain lines, for `--progress always` into a file or a
/// pipe: each draw is a line of its own; no ANSI sequences.
#[derive(Debug)]
struct PlainStderr;

impl indicatif::TermLike for PlainStderr {
    fn width(&self) -> u16 {
        80
    }
    fn move_cursor_up(&self, _: usize) -> std::io::Result<()> {
        Ok(())
    }
    fn move_cursor_down(&self, _: usize) -> std::io::Result<()> {
        Ok(())
    }
    fn move_cursor_right(&self, _: usize) -> std::io::Result<()> {
        Ok(())
    }
    fn move_cursor_left(&self, _: usize) -> std::io::Result<()> {
        Ok(())
    }
    fn write_line(&self, s: &str) -> std::io::Result<()> {
        if !s.trim().is_empty() {
            eprintln!("{s}");
        }
        Ok(())
    }
    fn write_str(&self, s: &str) -> std::io::Result<()> {
        if !s.trim().is_empty() {
            eprintln!("{s}");
        }
        Ok(())
    }
    fn clear_line(&self) -> std::io::Result<()> {
        Ok(())
    }
    fn flush(&self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

impl neardup::pipeline::Progress for ProgressBar {
    fn stage(&self, name: &'static str, total: u64, bytes: bool) {
        // A stage with no known total (standard input, a stream) shows a
        // spinner and how much is done, never `0/0 (100%)`.
        let template = match (total, bytes) {
            (0, true) => "{spinner} {msg:>10} [{elapsed_precise}] {bytes} {bytes_per_sec}",
            (0, false) => "{spinner} {msg:>10} [{elapsed_precise}] {human_pos}",
            (_, true) => "{msg:>10} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} {bytes_per_sec} ETA {eta}",
            (_, false) => "{msg:>10} [{elapsed_precise}] {wide_bar} {human_pos}/{human_len} ({percent}%) ETA {eta}",
        };
        if let Ok(style) = indicatif::ProgressStyle::with_template(template) {
            // Plain lines take ASCII only.
            let style = if self.1 {
                style
            } else {
                style.tick_chars("-\\|/ ").progress_chars("#>-")
            };
            self.0.set_style(style);
        }
        if total == 0 && self.1 && !self.0.is_hidden() {
            self.0
                .enable_steady_tick(std::time::Duration::from_millis(120));
        } else {
            self.0.disable_steady_tick();
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

/// Tells how each input was read: its format (with `-v`), and a warning for
/// a text file that is not UTF-8.
fn announce_sources(common: &cli::Common, sources: &[Arc<neardup::input::Source>]) {
    if common.quiet {
        return;
    }
    for source in sources {
        if common.verbose {
            let format = match source.format {
                neardup::Format::Jsonl => "JSON Lines",
                _ => "text",
            };
            eprintln!("neardup: read {} as {format}", source.input.display_name());
        }
        if let Some((line, offset)) = source.invalid_utf8() {
            eprintln!(
                "neardup: warning: {}:{line}: invalid UTF-8 at byte offset {offset}: read as text with each invalid byte as `?`, written back unchanged",
                source.input.display_name()
            );
        }
    }
}

/// A run whose every input was passed over (binary, unreadable) read
/// nothing: an error, never an empty pass.
fn something_read(
    sources: &[Arc<neardup::input::Source>],
    skipped: &[Error],
) -> neardup::Result<()> {
    if sources.is_empty() && !skipped.is_empty() {
        return Err(Error::Usage(format!(
            "nothing to read: every input was skipped ({})",
            report::plural(skipped.len(), "input")
        )));
    }
    Ok(())
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
    let command = match mode {
        Mode::Scan => "scan",
        Mode::Clean(_) => "clean",
        Mode::Check(_) => "check",
        Mode::Build(_) => "index build",
    };
    if let Err(e) = common.report_format(command) {
        print_error(&e);
        return ExitStatus::Error;
    }
    if common.format == cli::FormatArg::Github && !common.quiet {
        eprintln!("neardup: warning: --format is the input format; --format github is read as --output-format github, its new name");
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

/// The subcommand that analyses (for messages and the report).
fn command_of(
    clean: Option<&cli::CleanArgs>,
    check: Option<(&cli::CheckArgs, check::Limits)>,
) -> &'static str {
    match (clean, check) {
        (Some(_), _) => "clean",
        (_, Some(_)) => "check",
        _ => "scan",
    }
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
    /// The update's lock, held until the index is renamed into place at the
    /// end of the run (a second descriptor of the same lock: the opened
    /// index's own goes with it before then).
    held: Option<std::fs::File>,
    report: Option<report::IndexReport>,
}

/// Refuses a run (before anything is read) in which a path written — the
/// output, the files under `--out-dir`, the report, the index written by
/// `--update` or `index build` and its lock file — is also a path read (an
/// input, found by walking directories or given, `--index`, `--reference`)
/// or another path written, by name or by file identity.
fn check_paths(
    common: &cli::Common,
    build: Option<&Path>,
    inputs: &[neardup::input::InputPath],
    destination: Option<&Destination>,
    report_file: Option<&Path>,
) -> neardup::Result<()> {
    let mut reads: Vec<Use> = inputs
        .iter()
        .filter(|i| !i.is_stdin())
        .map(|i| Use::new(&i.path, "input"))
        .collect();
    let mut writes = Vec::new();
    match destination {
        Some(Destination::File(path)) => writes.push(Use::new(path, "-o")),
        Some(Destination::Dir(dir)) => writes.extend(
            inputs
                .iter()
                .map(|i| Use::new(dir.join(&i.relative), "--out-dir output")),
        ),
        _ => {}
    }
    if let Some(report) = report_file.filter(|r| r.as_os_str() != "-") {
        writes.push(Use::new(report, "--report"));
    }
    if let Some(html) = &common.html {
        writes.push(Use::new(html, "--html"));
    }
    let index = match (build, &common.index) {
        (Some(out), _) => Some((out, "index build -o")),
        (None, Some(index)) => Some((index.as_path(), "--index")),
        (None, None) => None,
    };
    if let Some((path, role)) = index {
        if build.is_some() || common.update {
            writes.push(Use::new(path, role));
            writes.push(Use::new(store::lock_path(path), "the index's lock file"));
        } else {
            reads.push(Use::new(path, role));
        }
    }
    if let Some(reference) = &common.reference {
        reads.push(Use::new(reference, "--reference"));
    }
    if let Some(dir) = &common.tmp_dir {
        if dir.exists() && !dir.is_dir() {
            return Err(Error::Usage(format!(
                "{}: --tmp-dir is not a directory",
                dir.display()
            )));
        }
    }
    neardup::target::check_distinct(&reads, &writes)
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
        let lock = store::lock(out)?;
        return Ok(IndexUse {
            write_to: Some(out.to_owned()),
            held: Some(lock.try_clone().map_err(|e| Error::io(out, e))?),
            _lock: Some(lock),
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
    let mut held = None;
    if common.update {
        let file = store::lock(path)?;
        held = Some(file.try_clone().map_err(|e| Error::io(path, e))?);
        lock = Some(file);
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
                neardup::escape::shown_path(path)
            ),
        });
    };
    let report = report::IndexReport {
        path: neardup::escape::path(path),
        role: role.into(),
        documents: history.as_deref().map_or(0, History::documents),
        blocks: history.as_deref().map_or(0, History::blocks),
        updated: common.update,
    };
    Ok(IndexUse {
        history,
        write_to: common.update.then(|| path.clone()),
        _lock: lock,
        held,
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
    let destination = clean.map(|c| match (&c.output, &c.out_dir) {
        (Some(file), _) if file.as_os_str() == "-" => Destination::Stdout,
        (Some(file), _) => Destination::File(file.clone()),
        (None, Some(dir)) => Destination::Dir(dir.clone()),
        (None, None) => Destination::Stdout,
    });
    let report_file = clean.and_then(|c| c.report.clone());
    let format = common
        .report_format(command_of(clean, check))
        .expect("checked in run");
    if matches!(destination, Some(Destination::Stdout))
        && report_file.as_deref() == Some(Path::new("-"))
    {
        print_error(&"the cleaned text and the report cannot both go to standard output; give -o FILE or --report FILE");
        return ExitStatus::Error;
    }
    let target = report_target(destination.as_ref(), report_file.as_deref());
    if matches!(target, ReportTarget::Totals) && format != cli::OutputFormatArg::Text {
        print_error(&format!(
            "--output-format {} is for the report, which `clean` writes only with --report FILE (without it, a line of totals)",
            format.name()
        ));
        return ExitStatus::Error;
    }
    if common.paths.iter().filter(|p| p.as_os_str() == "-").count() > 1 {
        print_error(&"`-` (standard input) can be given only once");
        return ExitStatus::Error;
    }
    // Every input is tried and every failure reported before giving up.
    let (inputs, mut errors) = neardup::input::expand(&common.paths, &config.glob);
    // No path written is one read, or another written: checked before
    // anything is read (or a lock taken).
    if let Err(e) = check_paths(
        common,
        build,
        &inputs,
        destination.as_ref(),
        report_file.as_deref(),
    ) {
        print_error(&e);
        return ExitStatus::Error;
    }
    let mut index = match open_index(common, build, &params) {
        Ok(i) => i,
        Err(e) => {
            print_error(&e);
            return ExitStatus::Error;
        }
    };
    // Held until every output, the report and the index are in place.
    let _held = index.held.take();
    // Outputs, the report and the index, staged beside their targets and
    // renamed together once the whole run has succeeded.
    let mut staging = Staging::new();
    let bar = ProgressBar::new(common);
    let command = command_of(clean, check);
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
        let updating = index.write_to.is_some();
        let chunked = run_chunked(
            common,
            config,
            (inputs, index, limit),
            destination.as_ref(),
            command,
            &bar,
            &mut staging,
        );
        bar.finish();
        let (mut report, staged_index) = match chunked {
            Ok(Some(done)) => done,
            Ok(None) => return closed_early(updating, &staging),
            Err(e) => {
                print_error(&e);
                return ExitStatus::Error;
            }
        };
        if let Some(out) = &index_out {
            if let Err(e) = commit(staging, staged_index) {
                print_error(&e);
                return ExitStatus::Error;
            }
            if !common.quiet {
                eprintln!(
                    "neardup: indexed {} and {} into {}",
                    report::plural(report.summary.documents, "document"),
                    report::plural(report.summary.blocks, "block"),
                    neardup::escape::shown_path(out)
                );
            }
            return ExitStatus::Success;
        }
        let status = apply_check(&mut report, check);
        match deliver_report(
            common,
            check,
            (destination.as_ref(), report_file.as_deref()),
            (&report, None),
            &mut staging,
        ) {
            Delivered::Written => {}
            Delivered::Closed => return closed_early(updating, &staging),
            Delivered::Failed => return ExitStatus::Error,
        }
        if let Err(e) = commit(staging, staged_index) {
            print_error(&e);
            return ExitStatus::Error;
        }
        if common.verbose && !common.quiet {
            if let Some(memory) = neardup::memory::usage() {
                eprintln!("neardup: {memory}");
            }
        }
        return status;
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
    announce_sources(common, &corpus.sources);
    if let Err(e) = something_read(&corpus.sources, &corpus.skipped) {
        print_error(&e);
        return ExitStatus::Error;
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
        return match update_index(&corpus, &mut analysis, out, &params)
            .and_then(|staged| commit(staging, Some(staged)))
        {
            Ok(()) => {
                if !common.quiet {
                    eprintln!(
                        "neardup: indexed {} and {} into {}",
                        report::plural(corpus.documents.len(), "document"),
                        report::plural(analysis.blocks.iter().map(Vec::len).sum(), "block"),
                        neardup::escape::shown_path(out)
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
    let totals_only =
        matches!(target, ReportTarget::Totals) && common.html.is_none() && check.is_none();
    let (mut report, written) = rayon::join(
        || (!totals_only).then(|| report::build(&corpus, &analysis, config, command)),
        || {
            destination.as_ref().map_or(Ok(()), |destination| {
                output::write(&corpus, &analysis, destination, config, &mut staging)
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
    let updating = index.write_to.is_some();
    if let Err(e) = written {
        if is_broken_pipe(&e) {
            return closed_early(updating, &staging);
        }
        print_error(&e);
        return ExitStatus::Error;
    }
    if let Some(report) = &report {
        // The HTML report shows the texts of this run's documents (an
        // indexed document's text is not held).
        let text_of = |global: usize| {
            let local = global.checked_sub(analysis.base_docs)?;
            corpus.documents.get(local).map(|d| corpus.text(d))
        };
        match deliver_report(
            common,
            check,
            (destination.as_ref(), report_file.as_deref()),
            (report, Some(&text_of)),
            &mut staging,
        ) {
            Delivered::Written => {}
            Delivered::Closed => return closed_early(updating, &staging),
            Delivered::Failed => return ExitStatus::Error,
        }
    } else if !common.quiet {
        print_totals(summary);
    }
    // The index learns of this run only once its output and report are
    // complete: a failed write then never makes the next run drop what was
    // not kept. It is renamed into place last.
    let staged_index = match &index.write_to {
        Some(out) => match update_index(&corpus, &mut analysis, out, &params) {
            Ok(staged) => Some(staged),
            Err(e) => {
                print_error(&e);
                return ExitStatus::Error;
            }
        },
        None => None,
    };
    if let Err(e) = commit(staging, staged_index) {
        print_error(&e);
        return ExitStatus::Error;
    }
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
                neardup::escape::shown_path(h.path()),
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

/// Renames every staged output into place, then the index (if any): the
/// index learns of a run only once everything else is in place.
fn commit(mut staging: Staging, index: Option<Staged>) -> neardup::Result<()> {
    if let Some(index) = index {
        staging.add(index);
    }
    staging.commit()
}

/// Standard output closed before the run's output was complete (`| head`):
/// exit 0, as a closed pipe does, with nothing renamed into place (the
/// staged files are removed), saying so when that leaves something undone.
fn closed_early(updating: bool, staging: &Staging) -> ExitStatus {
    if updating {
        print_error(
            &"standard output was closed before the run was complete: the index was not updated",
        );
    } else if !staging.is_empty() {
        print_error(
            &"standard output was closed before the run was complete: no output file was written",
        );
    }
    ExitStatus::Success
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

/// How writing the report (or standard output) went.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Delivered {
    Written,
    /// Standard output was closed early (a pipe to `head`).
    Closed,
    /// An error, already printed.
    Failed,
}

impl Delivered {
    /// The exit status of a command whose whole output this was.
    fn status(self) -> ExitStatus {
        match self {
            Delivered::Written | Delivered::Closed => ExitStatus::Success,
            Delivered::Failed => ExitStatus::Error,
        }
    }
}

/// Where a run's report goes.
enum ReportTarget<'a> {
    /// `--report FILE` (staged, or written in place when a device or pipe).
    File(&'a Path),
    /// Standard output (`scan`, `check`, `clean --report -`).
    Stdout,
    /// Only a line of totals, on standard error (`clean` without `--report`:
    /// its output is the cleaned text).
    Totals,
}

/// Where the report goes: the one place that decides.
fn report_target<'a>(
    destination: Option<&Destination>,
    report_file: Option<&'a Path>,
) -> ReportTarget<'a> {
    match (report_file, destination) {
        (Some(path), _) if path.as_os_str() == "-" => ReportTarget::Stdout,
        (Some(path), _) => ReportTarget::File(path),
        (None, Some(_)) => ReportTarget::Totals,
        (None, None) => ReportTarget::Stdout,
    }
}

/// Writes the report where [`report_target`] says, and `check
/// --step-summary`'s Markdown summary (both staged into `staging` when they
/// go to regular files).
fn deliver_report(
    common: &cli::Common,
    check: Option<(&cli::CheckArgs, check::Limits)>,
    (destination, report_file): (Option<&Destination>, Option<&Path>),
    (report, text_of): (&Report, Option<report::html::TextOf<'_>>),
    staging: &mut Staging,
) -> Delivered {
    let check_args = check.map(|(a, _)| a);
    // The HTML page is staged with every other output (renamed only once
    // the whole run has succeeded).
    if let Some(html) = &common.html {
        if let Err(e) =
            neardup::target::write_to(html, staging, |w| report::html::write(report, text_of, w))
        {
            print_error(&e);
            return Delivered::Failed;
        }
    }
    let delivered = match report_target(destination, report_file) {
        ReportTarget::File(path) => {
            match neardup::target::write_to(path, staging, |w| {
                write_report((report, text_of), common, check_args, w)
            }) {
                Ok(()) => Delivered::Written,
                Err(e) => {
                    print_error(&e);
                    Delivered::Failed
                }
            }
        }
        ReportTarget::Totals => {
            if !common.quiet {
                print_totals(&report.summary);
            }
            Delivered::Written
        }
        ReportTarget::Stdout => {
            print_stdout(|w| write_report((report, text_of), common, check_args, w))
        }
    };
    match (
        check_args.and_then(|a| a.step_summary.as_deref()),
        &report.check,
    ) {
        (Some(path), Some(verdict)) if delivered == Delivered::Written => {
            append_summary(path, verdict, staging)
        }
        _ => delivered,
    }
}

/// `--step-summary FILE`: appends the check's Markdown summary to FILE
/// (what was there is kept; the whole is written aside and renamed in).
fn append_summary(path: &Path, verdict: &check::CheckReport, staging: &mut Staging) -> Delivered {
    let before = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => {
            print_error(&Error::io(path, e));
            return Delivered::Failed;
        }
    };
    let mut summary = String::new();
    check::write_summary(verdict, &mut summary);
    // A blank line ends the table before whatever a later step appends.
    summary.push('\n');
    match neardup::target::write_to(path, staging, |w| {
        w.write_all(&before)?;
        w.write_all(summary.as_bytes())
    }) {
        Ok(()) => Delivered::Written,
        Err(e) => {
            print_error(&e);
            Delivered::Failed
        }
    }
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
            // Parquet is compressed inside.
            let compressed = neardup::compress::Compression::from_name(&i.path)
                != neardup::compress::Compression::None
                || neardup::input::format_of(i, config) == neardup::Format::Parquet;
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
    staging: &mut Staging,
) -> neardup::Result<Option<(Report, Option<Staged>)>> {
    use neardup::chunked::{Chunking, OneStream, PartWriter, Sink};
    if let Some(d) = destination {
        let formats: Vec<_> = inputs
            .iter()
            .map(|i| (i, neardup::input::format_peeked(i, config)))
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
    )
    .with_max_document(chunking.chunk_bytes);
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
    let mut announced = 0;
    let IndexUse {
        history,
        write_to,
        _lock: lock,
        report: index_report,
        ..
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
                announce_sources(common, seen.sources.get(announced..).unwrap_or_default());
                announced = announced.max(seen.sources.len());
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
        // Before any output is put in place.
        something_read(&stream.seen().sources, &stream.seen().skipped)?;
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
            let written = output::write_compressed(path, staging, |out| {
                let mut one = OneStream { out, flush: false };
                let mut sink = neardup::parquet::Sink::new(&mut one, config, true);
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
            let mut files = output::DirSink::new(dir, staging);
            let mut sink = neardup::parquet::Sink::new(&mut files, config, false);
            deliver(Some(&mut sink), &dir.display().to_string())?;
        }
    }
    // The index is staged beside its path, to be renamed into place once the
    // output and the report are (the caller holds the lock until then).
    let staged_index = match (&write_to, ran) {
        (Some(path), Some(ran)) => ran.update(path, &IndexParams::of(config))?,
        _ => None,
    };
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
    announce_sources(common, seen.sources.get(announced..).unwrap_or_default());
    let mut report = report
        .finish(&seen.sources, &seen.skipped)
        .map_err(|e| Error::io(&chunking.dir, e))?;
    report.index = index_report;
    Ok(Some((report, staged_index)))
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
) -> neardup::Result<Staged> {
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
    let printed = print_stdout(|w| {
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
            neardup::escape::shown_path(&args.path),
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
    });
    if printed == Delivered::Failed {
        ExitStatus::Error
    } else {
        ExitStatus::Success
    }
}

/// `neardup index merge`.
fn index_merge(args: &cli::MergeArgs) -> ExitStatus {
    let merged = (|| -> neardup::Result<()> {
        // The output may be one of the inputs (merging B into A), as an
        // update writes the index it reads; A and B are two indexes, and the
        // lock file is none of them.
        let lock_file = store::lock_path(&args.output);
        neardup::target::check_distinct(
            &[Use::new(&args.a, "index A")],
            &[Use::new(&args.b, "index B")],
        )
        .map_err(|_| {
            Error::Usage(format!(
                "{} and {} are one index: merging an index with itself would hold every document twice",
                args.a.display(),
                args.b.display()
            ))
        })?;
        neardup::target::check_distinct(
            &[Use::new(&args.a, "index A"), Use::new(&args.b, "index B")],
            &[Use::new(&lock_file, "the output's lock file")],
        )?;
        // The output's lock is held from before reading (the output may be
        // one of the inputs) until the merged index is in place.
        let _lock = store::lock(&args.output)?;
        let a = store::Segment::open(&args.a, None, None)?;
        let b = store::Segment::open(&args.b, None, None)?;
        store::merge(&a, &b, &args.output)?.persist()?;
        eprintln!(
            "neardup: merged {} ({} documents) and {} ({} documents) into {}",
            neardup::escape::shown_path(&args.a),
            report::thousands(a.documents()),
            neardup::escape::shown_path(&args.b),
            report::thousands(b.documents()),
            neardup::escape::shown_path(&args.output)
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
    (report, text_of): (&Report, Option<report::html::TextOf<'_>>),
    common: &cli::Common,
    check: Option<&cli::CheckArgs>,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    let format = common
        .report_format(&report.command)
        .expect("checked before the run");
    match (format, &report.check) {
        (cli::OutputFormatArg::Github, Some(verdict)) => {
            let annotations = check::Annotations {
                max: check.map_or(10, |c| c.max_annotations),
                summary: check.and_then(|c| c.step_summary.as_ref()).is_none(),
            };
            write_formatted(out, |f| {
                check::write_github(report, verdict, annotations, f)
            })
        }
        (cli::OutputFormatArg::Json, _) => report.write_json(out),
        (cli::OutputFormatArg::Jsonl, _) => report.write_jsonl(out),
        (cli::OutputFormatArg::Html, _) => report::html::write(report, text_of, out),
        (cli::OutputFormatArg::Text | cli::OutputFormatArg::Github, _) => {
            write_formatted(out, |f| report::write_text(report, common.top, f))?;
            if let Some(verdict) = &report.check {
                out.write_all(check::render_text(verdict).as_bytes())?;
            }
            Ok(())
        }
    }
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

fn print_stdout(fill: impl FnOnce(&mut dyn Write) -> std::io::Result<()>) -> Delivered {
    let stdout = std::io::stdout();
    let mut lock = std::io::BufWriter::with_capacity(1 << 16, stdout.lock());
    match fill(&mut lock).and_then(|()| lock.flush()) {
        Ok(()) => Delivered::Written,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Delivered::Closed,
        Err(e) => {
            print_error(&format!("writing the report: {e}"));
            Delivered::Failed
        }
    }
}
