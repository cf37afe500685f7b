//! The `neardup` binary: arguments -> plan -> `neardup::run` -> exit status.

mod cli;
mod index_command;

use clap::Parser;
use neardup::progress::Progress;
use neardup::ExitStatus;
use std::io::{IsTerminal, Write};
use std::process::ExitCode;

fn main() -> ExitCode {
    neardup::memory::tune_allocator();
    let cli = cli::Cli::parse();
    let status = match &cli.command {
        cli::Command::Index(cli::IndexCommand::Stats(args)) => index_command::stats(args),
        cli::Command::Index(cli::IndexCommand::Merge(args)) => index_command::merge(args),
        command => run(command),
    };
    status.into()
}

/// A run: its plan, then the run itself.
fn run(command: &cli::Command) -> ExitStatus {
    let Some((common, plan)) = command.plan() else {
        unreachable!("index stats and merge are no runs");
    };
    let plan = match plan {
        Ok(plan) => plan,
        Err(e) => {
            print_error(&e);
            return ExitStatus::Error;
        }
    };
    let bar = ProgressBar::new(common);
    let ran = neardup::run(&plan, &bar);
    bar.finish();
    match ran {
        Ok(status) => status,
        Err(failure) => {
            for e in failure.errors() {
                print_error(e);
            }
            ExitStatus::Error
        }
    }
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

impl neardup::progress::Progress for ProgressBar {
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

    fn say(&self, line: &str) {
        self.0.suspend(|| eprintln!("neardup: {line}"));
    }

    fn finish(&self) {
        self.0.finish_and_clear();
    }
}

/// Prints an error once, as `neardup: message`.
fn print_error(err: &dyn std::fmt::Display) {
    eprintln!("neardup: {err}");
}
