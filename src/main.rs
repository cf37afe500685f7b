//! The `neardup` binary: arguments -> Config -> run -> exit status.

mod cli;

use clap::Parser;
use neardup::output::{self, Destination};
use neardup::report::{self, Report};
use neardup::{Config, Corpus, Error, ExitStatus};
use std::io::Write;
use std::process::ExitCode;
use std::time::Instant;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    let status = match &cli.command {
        cli::Command::Scan(args) => run(&args.common, None),
        cli::Command::Clean(args) => run(&args.common, Some(args)),
    };
    status.into()
}

/// Prints an error once, as `neardup: message`.
fn print_error(err: &dyn std::fmt::Display) {
    eprintln!("neardup: {err}");
}

fn is_broken_pipe(err: &Error) -> bool {
    matches!(err, Error::Io { source, .. } if source.kind() == std::io::ErrorKind::BrokenPipe)
}

fn run(common: &cli::Common, clean: Option<&cli::CleanArgs>) -> ExitStatus {
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
    pool.install(|| execute(common, clean, &config))
}

fn execute(common: &cli::Common, clean: Option<&cli::CleanArgs>, config: &Config) -> ExitStatus {
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
    let (inputs, mut errors) = neardup::input::expand(&common.paths);
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
    let loaded = started.elapsed();
    let analysis = neardup::analyze(&corpus, config);
    let analyzed = started.elapsed();
    let command = if clean.is_some() { "clean" } else { "scan" };
    let report = report::build(&corpus, &analysis, config, command);
    if let Some(destination) = &destination {
        if let Err(e) = output::write(&corpus, &analysis, destination, config.annotate) {
            if is_broken_pipe(&e) {
                return ExitStatus::Success;
            }
            print_error(&e);
            return ExitStatus::Error;
        }
    }
    let rendered = render(&report, common);
    let status = match (&report_file, &destination) {
        (Some(path), _) => {
            match output::write_atomically(path, |w| w.write_all(rendered.as_bytes())) {
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
                    "neardup: removed {} of {} blocks, {} of {} bytes ({}, {} kept)",
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
        (None, _) => print_stdout(&rendered),
    };
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

fn render(report: &Report, common: &cli::Common) -> String {
    if common.json {
        let mut s = serde_json::to_string(report).expect("reports always serialize");
        s.push('\n');
        s
    } else {
        report::render_text(report, common.top)
    }
}

fn print_stdout(text: &str) -> ExitStatus {
    let stdout = std::io::stdout();
    let mut lock = stdout.lock();
    match lock.write_all(text.as_bytes()).and_then(|()| lock.flush()) {
        Ok(()) => ExitStatus::Success,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitStatus::Success,
        Err(e) => {
            print_error(&format!("writing the report: {e}"));
            ExitStatus::Error
        }
    }
}
