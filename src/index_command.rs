//! `neardup index stats` and `neardup index merge`: commands on an index
//! file, not runs over inputs (and the printing they share with the
//! completions and the manual).

use crate::cli;
use crate::print_error;
use neardup::report;
use neardup::store;
use neardup::ExitStatus;
use std::io::Write;

/// `neardup index stats`.
pub fn stats(args: &cli::StatsArgs) -> ExitStatus {
    // `index stats i.ndx >> i.ndx` would append the statistics to the index.
    let read = [neardup::targets::Use::new(&args.path, "index")];
    if let Err(e) = neardup::targets::check_stdout_apart(&read, &[]) {
        print_error(&e);
        return ExitStatus::Error;
    }
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
    let counts = store::stats_counts(&index);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let printed = print_stdout(|w| {
        if args.json {
            let value = store::stats_json(&index, &args.path, args.verify);
            serde_json::to_writer(&mut *w, &value).map_err(std::io::Error::from)?;
            return w.write_all(b"\n");
        }
        writeln!(
            w,
            "{}: neardup index, format version {}, {} bytes",
            neardup::escape::line_start(&neardup::escape::shown_path(&args.path)),
            index.format_version(),
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
pub fn merge(args: &cli::MergeArgs) -> ExitStatus {
    let memory = neardup::plan::merge_memory(
        args.memory_limit.as_deref(),
        args.tmp_dir.as_deref(),
        args.quiet,
    );
    let merged = memory
        .and_then(|memory| store::merge_files(&args.a, &args.b, &args.output, &memory))
        .map(|(a, b)| {
            if args.quiet {
                return;
            }
            neardup::error::eprint_line(format_args!(
                "neardup: merged {} ({} documents) and {} ({} documents) into {}",
                neardup::escape::shown_path(&args.a),
                report::thousands(a),
                neardup::escape::shown_path(&args.b),
                report::thousands(b),
                neardup::escape::shown_path(&args.output)
            ));
        });
    match merged {
        Ok(()) => ExitStatus::Success,
        Err(e) => {
            print_error(&e);
            ExitStatus::Error
        }
    }
}

/// How writing the report (or standard output) went.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Delivered {
    Written,
    /// Standard output was closed early (a pipe to `head`).
    Closed,
    /// An error, already printed.
    Failed,
}

impl Delivered {
    /// The exit status of a command whose whole output this was.
    pub fn status(self) -> ExitStatus {
        match self {
            Delivered::Written | Delivered::Closed => ExitStatus::Success,
            Delivered::Failed => ExitStatus::Error,
        }
    }
}

pub fn print_stdout(fill: impl FnOnce(&mut dyn Write) -> std::io::Result<()>) -> Delivered {
    if neardup::targets::stdout_closed_at_start() {
        print_error(&"standard output is closed (`>&-`): what this command prints would be lost");
        return Delivered::Failed;
    }
    let stdout = std::io::stdout();
    let mut lock = std::io::BufWriter::with_capacity(1 << 16, neardup::pipe::Ready(stdout.lock()));
    match fill(&mut lock).and_then(|()| lock.flush()) {
        Ok(()) => Delivered::Written,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Delivered::Closed,
        Err(e) => {
            print_error(&format!("writing the report: {e}"));
            Delivered::Failed
        }
    }
}
