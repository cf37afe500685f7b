//! Where a run's report goes, in its format, once the run is done; and
//! what a run says when its output was closed before it was complete.

use crate::error::{Error, Result};
use crate::output;
use crate::plan::{Plan, ReportFormat, ReportTo};
use crate::progress::Progress;
use crate::report::{self, Report};
use crate::targets::Staging;
use crate::ExitStatus;
use std::io::Write;

/// Writes the report where the plan says, in its format (staged into
/// `staging` when it goes to a regular file), and `check --step-summary`'s
/// Markdown summary. `false`: standard output was closed early.
pub(super) fn deliver_report(
    plan: &Plan,
    (report, text_of): (&Report, Option<report::html::TextOf<'_>>),
    progress: &dyn Progress,
    staging: &mut Staging,
) -> Result<bool> {
    // The HTML page is staged with every other output.
    if let Some(html) = &plan.html {
        output::write_compressed(html, staging, |w| report::html::write(report, text_of, w))?;
    }
    let write = |w: &mut dyn Write| write_report((report, text_of), plan, w);
    match &plan.report {
        ReportTo::File(path) => output::write_compressed(path, staging, write)?,
        ReportTo::Stdout => {
            let stdout = crate::pipe::stdout_or(plan.streams.report.as_ref());
            let mut out = std::io::BufWriter::with_capacity(1 << 16, stdout);
            match write(&mut out).and_then(|()| out.flush()) {
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => return Ok(false),
                Err(e) => return Err(Error::Usage(format!("writing the report: {e}"))),
                Ok(()) => {}
            }
        }
        ReportTo::Totals if !plan.quiet => progress.say(&report.summary.line()),
        ReportTo::Totals | ReportTo::Nowhere => {}
    }
    if let (Some(path), Some(verdict)) = (&plan.step_summary, &report.check) {
        // What was there is copied (never held: it may be large), the whole
        // written aside and renamed in; a device or FIFO is written in place.
        let before = match std::fs::metadata(path) {
            Ok(m) if m.is_file() => {
                Some(std::fs::File::open(path).map_err(|e| Error::io(path, e))?)
            }
            Ok(_) => None,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(Error::io(path, e)),
        };
        let mut summary = String::new();
        crate::check::write_summary(verdict, &mut summary);
        // A blank line ends the table before whatever a later step appends.
        summary.push('\n');
        crate::targets::write_to(path, staging, |w| {
            before.map_or(Ok(0), |mut f| std::io::copy(&mut f, w))?;
            w.write_all(summary.as_bytes())
        })?;
    }
    Ok(true)
}

/// Standard output (or the FIFO whose write failed with `broken`) closed
/// before the run's output was complete (`| head`): the run's `status`, as
/// a closed pipe leaves it (0, or `check`'s 1 over its limits: exit 0 would
/// pass a gate), with nothing renamed into place (the staged files are
/// removed), saying so when that leaves something undone.
pub(super) fn closed_early(
    broken: Option<&Error>,
    (updating, status): (bool, ExitStatus),
    staging: &Staging,
    progress: &dyn Progress,
) -> ExitStatus {
    let closed = match broken {
        Some(Error::Io { path, .. }) if path.as_os_str() != "<stdout>" => {
            crate::escape::shown_path(path)
        }
        _ => "standard output".to_owned(),
    };
    if updating {
        progress.say(&format!(
            "{closed} was closed before the run was complete: the index was not updated"
        ));
    } else if !staging.is_empty() {
        progress.say(&format!(
            "{closed} was closed before the run was complete: no output file was written"
        ));
    }
    status
}

/// Writes the report in the plan's format. JSON is serialized straight into
/// the writer: a corpus's report can be larger than the corpus's text.
fn write_report(
    (report, text_of): (&Report, Option<report::html::TextOf<'_>>),
    plan: &Plan,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    let top = match plan.format {
        ReportFormat::Github { max_annotations } => {
            if let Some(verdict) = &report.check {
                let annotations = crate::check::Annotations {
                    max: max_annotations,
                    summary: plan.step_summary.is_none(),
                };
                return write_formatted(out, |f| {
                    crate::check::write_github(report, verdict, annotations, f)
                });
            }
            10
        }
        ReportFormat::Json => return report.write_json(out),
        ReportFormat::Jsonl => return report.write_jsonl(out),
        ReportFormat::Html => return report::html::write(report, text_of, out),
        ReportFormat::Text { top } => top,
    };
    write_formatted(out, |f| report::write_text(report, top, f))?;
    if let Some(verdict) = &report.check {
        out.write_all(crate::check::render_text(verdict).as_bytes())?;
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
