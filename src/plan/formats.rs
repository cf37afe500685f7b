//! What a run's flags may not ask together, refused before anything is
//! read: report formats a command has no report for, `check --annotate`.

use super::{Command, ReportFormat, Request};
use crate::config::Config;
use crate::error::{Error, Result};

/// Refuses report formats a command does not write.
pub(super) fn check_report_formats(request: &Request) -> Result<()> {
    let check = matches!(request.command, Command::Check { .. });
    if matches!(request.format, ReportFormat::Github { .. }) && !check {
        return Err(Error::Usage(
            "--format github is a report format of `neardup check`".into(),
        ));
    }
    if matches!(request.command, Command::IndexBuild(_)) {
        if request.html.is_some() {
            return Err(Error::Usage(
                "--html is a report of `scan`, `check` and `clean`".into(),
            ));
        }
        // (Taken and ignored, they printed nothing a script could read.)
        if !matches!(request.format, ReportFormat::Text { .. }) {
            return Err(Error::Usage(format!(
                "--output-format {} (or --json) chooses the format of the report of `scan`, `check` and `clean`: `index build` writes an index and no report (`neardup index stats OUT` describes it)",
                request.format.name()
            )));
        }
    }
    Ok(())
}

/// Refuses `check --annotate`: annotating keeps every document, so the
/// bytes of near-duplicate documents would count as none.
pub(super) fn check_annotate(config: &Config, request: &Request) -> Result<()> {
    if config.annotate && matches!(request.command, Command::Check { .. }) {
        return Err(Error::Usage("--annotate marks the records `clean` writes; `check` measures what a run drops: leave --annotate out".into()));
    }
    Ok(())
}
