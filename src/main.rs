//! The `neardup` binary: arguments -> Config -> run -> exit status.

mod cli;

use clap::Parser;
use neardup::output::{self, Destination};
use neardup::report::{self, Report};
use neardup::{check, Config, Corpus, Error, ExitStatus};
use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::time::Instant;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    let status = match &cli.command {
        cli::Command::Scan(args) => run(&args.common, Mode::Scan),
        cli::Command::Clean(args) => run(&args.common, Mode::Clean(args)),
        cli::Command::Check(args) => run(&args.common, Mode::Check(args)),
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
        let template = if bytes {
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
}

fn run(common: &cli::Common, mode: Mode<'_>) -> ExitStatus {
    if common.format == cli::FormatArg::Github && !matches!(mode, Mode::Check(_)) {
        print_error(&"--format github is a report format of `neardup check`");
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
    pool.install(|| execute(common, clean, check, &config))
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
    config: &Config,
) -> ExitStatus {
    let started = Instant::now();
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
    let bar = ProgressBar::new(common);
    let analysis = neardup::pipeline::analyze_with_progress(&corpus, config, &bar);
    bar.finish();
    let analyzed = started.elapsed();
    let command = match (clean, check) {
        (Some(_), _) => "clean",
        (_, Some(_)) => "check",
        _ => "scan",
    };
    let mut report = report::build(&corpus, &analysis, config, command);
    let mut status = ExitStatus::Success;
    if let Some((args, limits)) = check {
        let verdict = check::evaluate(&report, limits);
        if !verdict.passed && !args.exit_zero {
            status = ExitStatus::Duplicates;
        }
        report.check = Some(verdict);
    }
    if let Some(destination) = &destination {
        if let Err(e) = output::write(&corpus, &analysis, destination, config.annotate) {
            if is_broken_pipe(&e) {
                return ExitStatus::Success;
            }
            print_error(&e);
            return ExitStatus::Error;
        }
    }
    let check_args = check.map(|(a, _)| a);
    let written = match (&report_file, &destination) {
        (Some(path), _) => {
            match output::write_atomically(path, |w| write_report(&report, common, check_args, w)) {
                Ok(()) => ExitStatus::Success,
                Err(e) => {
                    print_error(&e);
                    ExitStatus::Error
                }
            }
        }
        (None, Some(Destination::Stdout)) => {
            if !common.quiet {
                let s = &report.summary;
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
            ExitStatus::Success
        }
        (None, _) => print_stdout(|w| write_report(&report, common, check_args, w)),
    };
    if written == ExitStatus::Error {
        status = ExitStatus::Error;
    }
    if common.verbose && !common.quiet {
        let total = started.elapsed();
        #[allow(clippy::cast_precision_loss)]
        let mb = report.summary.bytes as f64 / 1e6;
        let t = analysis.timings;
        eprintln!(
            "neardup: {} documents, {mb:.1} MB: read {:.3}s, sketch {:.3}s, documents {:.3}s, blocks {:.3}s, runs {:.3}s, report and write {:.3}s, total {:.3}s ({:.1} MB/s, {} threads)",
            report.summary.documents,
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
    }
    status
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
        return out.write_all(check::render_github(report, verdict).as_bytes());
    }
    if json {
        serde_json::to_writer(&mut *out, report).map_err(std::io::Error::from)?;
        return out.write_all(b"\n");
    }
    out.write_all(report::render_text(report, common.top).as_bytes())?;
    if let Some(verdict) = &report.check {
        out.write_all(check::render_text(verdict).as_bytes())?;
    }
    Ok(())
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
