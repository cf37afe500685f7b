//! The `neardup` binary: arguments -> plan -> `neardup::run` -> exit status.

mod cli;
mod index_command;

use clap::Parser;
use neardup::progress::Progress;
use neardup::ExitStatus;
use std::io::{IsTerminal, Write};
use std::process::ExitCode;

/// Memory exhausted ends a run as any failure does (exit 2, temporary
/// files removed), not with an abort.
#[global_allocator]
static ALLOCATOR: neardup::targets::ExitWhenExhausted = neardup::targets::ExitWhenExhausted;

/// Notes, before Rust's runtime opens `/dev/null` in place of a closed
/// standard stream, which of them the process started with closed
/// (`neardup clean in.jsonl >&-`), so that a run writing there is refused
/// instead of losing its output with exit 0. Functions in `.init_array` run
/// before `main` and before the runtime's set-up.
#[cfg(target_os = "linux")]
#[allow(unsafe_code)] // a placement in a section the loader calls, no unsafe operation
#[used]
#[link_section = ".init_array"]
static NOTE_CLOSED_STREAMS: extern "C" fn() = note_closed_streams;

#[cfg(target_os = "linux")]
extern "C" fn note_closed_streams() {
    let mut closed = 0;
    for fd in 0..3 {
        #[allow(unsafe_code)]
        // SAFETY: F_GETFD reads a descriptor's flags and changes nothing;
        // it fails (EBADF) only for a descriptor that is not open.
        if unsafe { libc::fcntl(fd, libc::F_GETFD) } == -1 {
            closed |= 1 << fd;
        }
    }
    neardup::targets::note_closed_at_start(closed);
}

/// The stack the command runs on: the size a main thread has by default.
const STACK: usize = 8 << 20;

fn main() -> ExitCode {
    neardup::memory::tune_allocator();
    // Interrupted, a run removes the temporary files beside its targets.
    if let Err(e) = neardup::targets::clean_up_on_signals() {
        print_error(&format!("warning: cannot watch for signals: {e}"));
    }
    // The main thread's stack is what `ulimit -s` gave it: at 64 KiB even
    // `--version` overflowed it (abort, exit 134). Under a limit below the
    // usual 8 MiB the command runs on a thread of its own, whose stack is
    // that whatever the limit (threads' stacks are mapped, not bounded by
    // it); where no thread can be started (`ulimit -u` too), on this one.
    if !main_stack_is_small() {
        return command();
    }
    let command = std::thread::Builder::new()
        .name("main".into())
        .stack_size(STACK)
        .spawn(command);
    match command {
        Ok(running) => running
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
        Err(_) => self::command(),
    }
}

/// Whether `ulimit -s` holds the main thread's stack under [`STACK`].
#[cfg(unix)]
fn main_stack_is_small() -> bool {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes the struct it is given, nothing else.
    #[allow(unsafe_code)]
    let read = unsafe { libc::getrlimit(libc::RLIMIT_STACK, &raw mut limit) } == 0;
    read && limit.rlim_cur != libc::RLIM_INFINITY
        && usize::try_from(limit.rlim_cur).is_ok_and(|cur| cur < STACK)
}

#[cfg(not(unix))]
fn main_stack_is_small() -> bool {
    false
}

/// The command line's command, run (see [`main`]).
fn command() -> ExitCode {
    let cli = match cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return parse_failed(&e),
    };
    let status = match &cli.command {
        cli::Command::Index(cli::IndexCommand::Stats(args)) => index_command::stats(args),
        cli::Command::Index(cli::IndexCommand::Merge(args)) => index_command::merge(args),
        cli::Command::Completions { shell } => index_command::print_stdout(|w| {
            let mut command = <cli::Cli as clap::CommandFactory>::command();
            clap_complete::generate(*shell, &mut command, "neardup", w);
            Ok(())
        })
        .status(),
        cli::Command::Man => index_command::print_stdout(|w| {
            clap_mangen::Man::new(<cli::Cli as clap::CommandFactory>::command()).render(w)
        })
        .status(),
        command => run(command),
    };
    if status == ExitStatus::Error {
        // A failed run leaves no directory or lock file it made.
        neardup::targets::remove_created();
    }
    status.into()
}

/// Arguments that are no run: an error (exit 2), or `--help` and
/// `--version`, whose text goes to standard output: a write there that
/// fails (a full disk) is said, exit 2, not passed over with exit 0 (a
/// closed pipe, `neardup --help | head`, is not a failure).
fn parse_failed(e: &clap::Error) -> ExitCode {
    match e.print() {
        Err(err) if !e.use_stderr() && err.kind() != std::io::ErrorKind::BrokenPipe => {
            print_error(&format!("writing the help: {err}"));
            ExitCode::from(2)
        }
        _ => ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(2)),
    }
}

/// A run: its plan, then the run itself.
fn run(command: &cli::Command) -> ExitStatus {
    let Some((common, plan)) = command.plan() else {
        unreachable!("the other commands are no runs");
    };
    let plan = match plan {
        Ok(plan) => plan,
        Err(e) => {
            print_error(&e);
            return ExitStatus::Error;
        }
    };
    let stdout = StdoutFile::now();
    let bar = ProgressBar::new(common);
    let ran = neardup::run(&plan, &bar);
    bar.finish();
    match ran {
        Ok(status) => status,
        Err(failure) => {
            if let Some(stdout) = stdout {
                stdout.cut_back();
            }
            // A write straight from the pages of an input cut short while
            // mapped fails with EFAULT: said as that input's truncation.
            let (fault, others) = neardup::targets::faulted::told(failure.errors());
            if let Some(message) = &fault {
                neardup::error::eprint_line(format_args!("neardup: {message}"));
            }
            for e in others {
                print_error(e);
            }
            ExitStatus::Error
        }
    }
}

/// Standard output when it is a regular file (`> clean.jsonl`), and where it
/// stood when the run began: a run that fails after writing there (in
/// chunks, output starts before the input ends) cuts it back, leaving no
/// partial output. Not when standard error is the same file (`> log 2>&1`:
/// the messages there would go too); a pipe cannot be taken back.
struct StdoutFile {
    file: std::fs::File,
    start: u64,
}

impl StdoutFile {
    #[cfg(unix)]
    fn now() -> Option<StdoutFile> {
        use neardup::targets::regular_file;
        use std::io::Seek;
        use std::os::fd::AsFd;
        let (mut file, id, len) = regular_file(std::io::stdout().as_fd())?;
        if regular_file(std::io::stderr().as_fd()).is_some_and(|(_, e, _)| e == id) {
            return None;
        }
        // `>>` (append) writes at the end whatever the offset says.
        let start = file.stream_position().ok()?.max(len);
        Some(StdoutFile { file, start })
    }

    #[cfg(not(unix))]
    fn now() -> Option<StdoutFile> {
        None
    }

    fn cut_back(mut self) {
        use std::io::Seek;
        let _ = std::io::stdout().flush();
        if self.file.metadata().is_ok_and(|m| m.len() > self.start) {
            let _ = self.file.set_len(self.start);
            // The descriptor is shared with standard output: anything
            // written after this goes where the cut is, leaving no hole.
            let _ = self.file.seek(std::io::SeekFrom::Start(self.start));
        }
        // A write that failed (a full disk, `ulimit -f`) leaves its bytes
        // in standard output's own buffer, which the process writes as it
        // exits: at the cut, a piece of a record. Nothing of a failed run
        // goes there any more.
        discard_stdout();
    }
}

/// Points standard output at a pipe whose reader is gone, so that what its
/// buffer still holds fails to be written there (EPIPE: SIGPIPE is
/// ignored) instead of reaching the file it was.
#[cfg(unix)]
fn discard_stdout() {
    use std::os::fd::AsRawFd;
    let Ok((reader, writer)) = std::io::pipe() else {
        return;
    };
    drop(reader);
    #[allow(unsafe_code)]
    // SAFETY: dup2 makes descriptor 1 a copy of `writer`, which is open
    // (closing the file descriptor 1 was); `std::io::stdout()` writes to
    // descriptor 1 whatever it names.
    unsafe {
        libc::dup2(writer.as_raw_fd(), libc::STDOUT_FILENO);
    }
}

#[cfg(not(unix))]
fn discard_stdout() {}

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
        self.write_str(s)
    }
    fn write_str(&self, s: &str) -> std::io::Result<()> {
        if !s.trim().is_empty() {
            neardup::error::eprint_line(format_args!("{s}"));
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

impl Progress for ProgressBar {
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

    fn say(&self, line: &str) {
        let line = neardup::escape::printable(line);
        self.0
            .suspend(|| neardup::error::eprint_line(format_args!("neardup: {line}")));
    }

    fn finish(&self) {
        self.0.finish_and_clear();
    }
}

/// Prints an error once, as `neardup: message`, on one line: a name or id
/// in it with a line break or an escape cannot start a line of its own.
fn print_error(err: &dyn std::fmt::Display) {
    neardup::error::eprint_line(format_args!(
        "neardup: {}",
        neardup::escape::printable(&err.to_string())
    ));
}
