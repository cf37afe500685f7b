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
    if request.html.is_some() && matches!(request.command, Command::IndexBuild(_)) {
        return Err(Error::Usage(
            "--html is a report of `scan`, `check` and `clean`".into(),
        ));
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
