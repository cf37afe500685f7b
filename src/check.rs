//! `neardup check`: duplication measured against thresholds, for CI.
//!
//! Three shares can be limited: duplicate documents (near duplicates dropped or
//! marked at the document level, over all documents), repeated blocks (removed
//! blocks over all blocks) and repeated bytes (bytes of dropped documents and
//! removed blocks over all bytes). A share over its limit fails the check (exit
//! 1). With no limit given, any duplicate document or repeated byte fails it.

use crate::error::{Error, Result};
use crate::report::{doc_label_for_annotation, DocHead, DocRef, DocWalk, Report, RunHead, Seen};
pub use crate::report::{CheckReport, Measurement};
use std::fmt::Write as _;

/// The limits a check enforces, as fractions (0.05 for 5%).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Limits {
    /// Largest share of duplicate documents.
    pub dup_docs: Option<f64>,
    /// Largest share of repeated blocks.
    pub dup_blocks: Option<f64>,
    /// Largest share of repeated bytes.
    pub dup_bytes: Option<f64>,
}

/// Parses `5%`, `0.05` or `5.5 %` into a fraction.
///
/// A percentage's decimal point is moved in the text, not divided out as a
/// float: `0.007%` is the double nearest 7e-5, as 7 of 100,000 is, so a share
/// exactly at its limit is within it.
///
/// # Errors
/// A [`Error::Usage`] naming the flag when the value is not a share in [0, 1].
pub fn parse_share(flag: &str, text: &str) -> Result<f64> {
    let trimmed = text.trim();
    let value = match trimmed.strip_suffix('%') {
        Some(number) => {
            let number = number.trim();
            let (mantissa, exponent) = match number.split_once(['e', 'E']) {
                Some((mantissa, exponent)) => (mantissa, exponent.parse::<i32>().ok()),
                None => (number, Some(0)),
            };
            exponent
                .and_then(|e| e.checked_sub(2))
                .and_then(|e| format!("{mantissa}e{e}").parse::<f64>().ok())
        }
        None => trimmed.parse::<f64>().ok(),
    };
    match value {
        // `abs` makes `-0` the 0 it means.
        Some(v) if v.is_finite() && (0.0..=1.0).contains(&v) => Ok(v.abs()),
        // (`5` or `5.` most likely meant 5%.)
        Some(v) if v > 1.0 && !trimmed.ends_with('%') => Err(Error::Usage(format!(
            "{flag} takes a share such as 5% or 0.05, not {text:?}: a share without % is at most 1 (for a percentage, write {}%)",
            trimmed.trim_end_matches('.')
        ))),
        _ => Err(Error::Usage(format!(
            "{flag} takes a share such as 5% or 0.05, not {text:?}"
        ))),
    }
}

/// Measures a report against limits.
#[must_use]
pub fn evaluate(report: &Report, limits: Limits) -> CheckReport {
    let s = &report.summary;
    let duplicate_documents = report
        .near_duplicates
        .as_ref()
        .map_or(0, |n| n.duplicate_documents);
    let none_given = limits == Limits::default();
    let rows = [
        (
            "duplicate_documents",
            duplicate_documents,
            s.documents,
            limits.dup_docs.or(none_given.then_some(0.0)),
        ),
        (
            "repeated_blocks",
            s.removed_blocks,
            s.blocks,
            limits.dup_blocks,
        ),
        (
            "repeated_bytes",
            s.removed_bytes,
            s.bytes,
            limits.dup_bytes.or(none_given.then_some(0.0)),
        ),
    ];
    let measurements: Vec<Measurement> = rows
        .into_iter()
        .filter_map(|(name, count, total, limit)| Some(measure(name, count, total, limit?)))
        .collect();
    let passed = measurements.iter().all(|m| m.passed);
    CheckReport {
        measurements,
        passed,
    }
}

/// `count / total` unrounded, 0 for an empty whole.
#[allow(clippy::cast_precision_loss)]
fn exact_share(count: usize, total: usize) -> f64 {
    if total == 0 {
        0.0
    } else {
        count as f64 / total as f64
    }
}

/// The share the JSON report gives: rounded to 4 decimals as the report's
/// other ratios are, or to as many more as keep it on the side of `limit`
/// that `passed` says (unrounded at worst), so that a script comparing
/// `share` with `limit` reaches the verdict (1 of 20,001 over a limit of
/// 0.004% is 0.00005, not 0).
fn shown_share(share: f64, limit: f64, passed: bool) -> f64 {
    on_its_side(share, limit, passed, 4)
        .and_then(|text| text.parse().ok())
        .unwrap_or(share)
}

/// `x` written with the fewest decimals, `least` or more, whose value is on
/// the side of `limit` that the verdict says (`passed`: at or under it);
/// `None` when no count of decimals up to 17 puts it there.
fn on_its_side(x: f64, limit: f64, passed: bool, least: usize) -> Option<String> {
    (least..=17)
        .map(|decimals| format!("{x:.decimals$}"))
        .find(|text| text.parse::<f64>().is_ok_and(|r| (r <= limit) == passed))
}

/// `count` of `total` against `limit`.
fn measure(name: &str, count: usize, total: usize, limit: f64) -> Measurement {
    // The unrounded share against the limit (both the doubles nearest their
    // exact values, so a share at its limit is within it).
    let share = exact_share(count, total);
    let passed = share <= limit;
    Measurement {
        name: name.to_owned(),
        count,
        total,
        share: shown_share(share, limit, passed),
        limit,
        passed,
    }
}

/// A measurement's name in words (`repeated_blocks`: repeated blocks).
fn label(name: &str) -> String {
    name.replace('_', " ")
}

/// A number of percent or points: one decimal, or under 0.1 two significant
/// digits, so that what is not nothing never reads as 0.
fn figure(x: f64) -> String {
    if x == 0.0 || x.abs() >= 0.1 {
        return format!("{x:.1}");
    }
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let decimals = (1.0 - x.abs().log10().floor()) as usize;
    format!("{x:.decimals$}").trim_end_matches('0').to_owned()
}

fn percent(x: f64) -> String {
    let p = x * 100.0;
    let whole = p.round();
    if (p - whole).abs() < 1e-9 && (whole != 0.0 || p == 0.0) {
        format!("{whole:.0}%")
    } else {
        format!("{}%", figure(p))
    }
}

/// A measurement's share in percent as the text, GitHub and Markdown verdicts
/// show it: [`percent`], or with as many more decimals as put it on the side
/// of its limit (as [`limit_percent`] shows it) that the verdict says, as the
/// JSON share is ([`shown_share`]): 2 of 3 within a limit of 66.667% reads
/// 66.667%, not 66.7%, over it; 1 of 9,999 over a limit of 0.01% reads
/// 0.010001%, not 0.01%, at it.
fn share_percent(m: &Measurement) -> String {
    let share = exact_share(m.count, m.total);
    let shown = percent(share);
    let limit: f64 = limit_percent(m.limit)
        .trim_end_matches('%')
        .parse()
        .expect("a limit's percent is a decimal");
    let shown_side = shown
        .trim_end_matches('%')
        .parse::<f64>()
        .is_ok_and(|p| (p <= limit) == m.passed);
    if shown_side {
        return shown;
    }
    let p = share * 100.0;
    on_its_side(p, limit, m.passed, 2).map_or_else(
        || format!("{p}%"),
        |text| format!("{}%", text.trim_end_matches('0').trim_end_matches('.')),
    )
}

/// A limit in percent as given: the shortest decimal of the fraction with its
/// point moved (0.00004 is 0.004%, 0.33333 is 33.333%), so that a share
/// over it does not read as over a rounded limit it is within.
fn limit_percent(limit: f64) -> String {
    // `Display` of a double is its shortest decimal, never in exponent form.
    let decimal = format!("{limit}");
    let (whole, fraction) = decimal.split_once('.').unwrap_or((&decimal, ""));
    let fraction = format!("{fraction:0<2}");
    let (moved, rest) = fraction.split_at(2);
    let digits = format!("{whole}{moved}");
    let whole = match digits.trim_start_matches('0') {
        "" => "0",
        trimmed => trimmed,
    };
    if rest.is_empty() {
        format!("{whole}%")
    } else {
        format!("{whole}.{rest}%")
    }
}

/// How far a share is over its limit, in percentage points (from the counts,
/// not the rounded share).
fn points_over(m: &Measurement) -> String {
    format!(
        "{} points",
        figure((exact_share(m.count, m.total) - m.limit) * 100.0)
    )
}

/// The human verdict: one line per limit, saying which failed and by how much.
#[must_use]
pub fn render_text(check: &CheckReport) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "\ncheck {}",
        if check.passed { "passed" } else { "FAILED" }
    );
    for m in &check.measurements {
        let verdict = if m.passed {
            format!("within {}", limit_percent(m.limit))
        } else {
            format!("over {} by {}", limit_percent(m.limit), points_over(m))
        };
        let _ = writeln!(
            out,
            "  {}: {} ({} of {}), {verdict}",
            label(&m.name),
            share_percent(m),
            m.count,
            m.total
        );
    }
    out
}

/// Escapes a GitHub workflow command's message (`%`, CR, LF).
fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a GitHub workflow command's property (also `:` and `,`).
fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

/// How [`write_github`] annotates.
#[derive(Clone, Copy, Debug)]
pub struct Annotations {
    /// Warning annotations at most (GitHub shows 10 a step and 50 a job):
    /// the most important first, then one notice saying how many more.
    pub max: usize,
    /// Whether the Markdown summary goes after the annotations (else it is
    /// written elsewhere, with [`write_summary`]).
    pub summary: bool,
}

/// GitHub Actions output: a `::warning` per near-duplicate document and per
/// repeated run, the most important first and at most `annotations.max` of
/// them (near-duplicate documents by the size of their cluster, then runs by
/// bytes; ties in input order), a `::notice` saying how many more there are,
/// an `::error` per failed limit, then (unless written elsewhere) the
/// Markdown summary. Documents are read one at a time.
///
/// # Errors
/// When spooled documents cannot be read back.
pub fn write_github(
    report: &Report,
    check: &CheckReport,
    annotations: Annotations,
    out: &mut dyn std::fmt::Write,
) -> std::io::Result<()> {
    let mut top = Top::new(annotations.max);
    // Member by member: a spooled cluster is never held whole (300 records
    // with 800 KB ids in one cluster took 190 MiB under --memory-limit 64M).
    report.for_each_cluster_member(&mut |cluster, member| {
        if member.kept {
            return;
        }
        top.offer((1, cluster.size), || {
            let (file, line) = doc_label_for_annotation(&member.document);
            format!(
                "::warning file={},line={line},title={}::{}",
                escape_property(&file),
                escape_property("neardup: near-duplicate document"),
                escape_data(&format!(
                    "{} is a near duplicate of {} (similarity {:.2})",
                    crate::escape::printable(&member.document.id),
                    crate::report::doc_label(cluster.kept),
                    member.similarity
                )),
            )
        });
    })?;
    report.walk_documents(&mut RunAnnotations {
        top: &mut top,
        doc: None,
    })?;
    let (shown, more) = top.finish();
    for line in shown {
        let _ = writeln!(out, "{line}");
    }
    if more > 0 {
        let _ = writeln!(
            out,
            "::notice title={}::{}",
            escape_property("neardup: more findings"),
            escape_data(&format!(
                "{} more near-duplicate documents and repeated runs are not annotated \
                 (the {} largest are, --max-annotations); the full report lists them all: \
                 run neardup check with --output-format text or json",
                crate::report::thousands(more),
                annotations.max
            )),
        );
    }
    for m in check.measurements.iter().filter(|m| !m.passed) {
        let _ = writeln!(
            out,
            "::error title={}::{}",
            escape_property("neardup check failed"),
            escape_data(&format!(
                "{} {} ({} of {}) is over the limit of {}",
                label(&m.name),
                share_percent(m),
                m.count,
                m.total,
                limit_percent(m.limit)
            )),
        );
    }
    if annotations.summary {
        let _ = writeln!(out);
        write_summary(check, out);
    }
    Ok(())
}

/// The check's Markdown summary (for `$GITHUB_STEP_SUMMARY`): the verdict
/// and a table of the measurements.
pub fn write_summary(check: &CheckReport, out: &mut dyn std::fmt::Write) {
    let _ = writeln!(
        out,
        "### neardup check: {}\n",
        if check.passed { "passed" } else { "failed" }
    );
    let _ = writeln!(out, "| measure | share | count | limit | result |");
    let _ = writeln!(out, "|---|---:|---:|---:|---|");
    for m in &check.measurements {
        let _ = writeln!(
            out,
            "| {} | {} | {} of {} | {} | {} |",
            label(&m.name),
            share_percent(m),
            m.count,
            m.total,
            limit_percent(m.limit),
            if m.passed {
                "within".to_owned()
            } else {
                format!("over by {}", points_over(m))
            }
        );
    }
}

/// Offers an annotation for each run of each document, as the documents'
/// entries are read (their removals are read past).
struct RunAnnotations<'t> {
    top: &'t mut Top,
    /// The document whose runs come.
    doc: Option<DocRef>,
}

impl DocWalk for RunAnnotations<'_> {
    fn wants_details(&self) -> bool {
        false
    }

    fn document(&mut self, head: &DocHead<'_>) {
        self.doc = Some(head.document.clone());
    }

    fn run(&mut self, run: &RunHead<'_>) {
        let Some(doc) = &self.doc else { return };
        self.top.offer((0, run.bytes), || {
            let (file, record_line) = doc_label_for_annotation(doc);
            // For a text file the run's own lines; for a JSON Lines record, its line.
            let (line, end) = if doc.line.is_some() {
                (record_line, record_line)
            } else {
                (run.lines[0], run.lines[1])
            };
            let source = if run.source.index == doc.index {
                "the same document".to_owned()
            } else {
                crate::report::doc_label(run.source)
            };
            format!(
                "::warning file={},line={line},endLine={end},title={}::{}",
                escape_property(&file),
                escape_property("neardup: repeated text"),
                escape_data(&format!(
                    "{} {} {} of {source}: {}, {} bytes, similarity {:.2}",
                    crate::report::lines(run.lines),
                    crate::report::repeat_verb(run.lines),
                    crate::report::lines(run.source_lines),
                    crate::report::plural(run.blocks, "block"),
                    run.bytes,
                    run.similarity.min
                )),
            )
        });
    }

    fn interruption(&mut self, _: &crate::report::Interruption) {}

    fn removal(&mut self, _: &Seen<'_>) {}

    fn run_end(&mut self) {}

    fn document_end(&mut self, _: &[usize], _: usize) {
        self.doc = None;
    }
}

/// The `max` most important annotations offered, without holding the rest:
/// by rank (kind, then size), ties to the earliest offered.
struct Top {
    max: usize,
    /// A min-heap on importance: the least important kept is on top.
    kept: std::collections::BinaryHeap<std::cmp::Reverse<(Rank, String)>>,
    offered: usize,
}

/// (kind, size, earlier offers first).
type Rank = (u8, usize, std::cmp::Reverse<usize>);

impl Top {
    fn new(max: usize) -> Top {
        Top {
            max,
            kept: std::collections::BinaryHeap::new(),
            offered: 0,
        }
    }

    /// Offers an annotation of `(kind, size)`, made only when it is kept.
    fn offer(&mut self, (kind, size): (u8, usize), make: impl FnOnce() -> String) {
        let rank = (kind, size, std::cmp::Reverse(self.offered));
        self.offered += 1;
        if self.kept.len() == self.max {
            match self.kept.peek() {
                Some(std::cmp::Reverse((least, _))) if *least < rank => {
                    self.kept.pop();
                }
                _ => return,
            }
        }
        self.kept.push(std::cmp::Reverse((rank, make())));
    }

    /// The annotations kept, the most important first, and how many were not.
    fn finish(self) -> (Vec<String>, usize) {
        let more = self.offered - self.kept.len();
        // Ascending on `Reverse` is descending on importance.
        let shown = self
            .kept
            .into_sorted_vec()
            .into_iter()
            .map(|std::cmp::Reverse((_, line))| line)
            .collect();
        (shown, more)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_parse_as_percent_or_fraction() {
        assert!((parse_share("--max-dup-docs", "5%").unwrap() - 0.05).abs() < 1e-12);
        assert!((parse_share("--max-dup-docs", "0.05").unwrap() - 0.05).abs() < 1e-12);
        assert!((parse_share("--max-dup-docs", " 12.5 %").unwrap() - 0.125).abs() < 1e-12);
        assert!(parse_share("--max-dup-docs", "150%").is_err());
        assert!(parse_share("--max-dup-docs", "-1").is_err());
        assert!(parse_share("--max-dup-docs", "five").is_err());
        assert!(parse_share("--max-dup-docs", "inf%").is_err());
        // A bare number over 1 most likely meant a percentage: said so.
        for (given, meant) in [("5", "5%"), ("5.", "5%"), ("12.5", "12.5%")] {
            let e = parse_share("--max-dup-docs", given)
                .unwrap_err()
                .to_string();
            assert!(e.contains(&format!("write {meant})")), "{e}");
        }
        let e = parse_share("--max-dup-docs", "150%")
            .unwrap_err()
            .to_string();
        assert!(!e.contains("write"), "{e}");
        // `50.%` is 50%, as `50.` is 50.
        assert!((parse_share("--max-dup-docs", "50.%").unwrap() - 0.5).abs() < 1e-12);
    }

    #[test]
    #[allow(clippy::float_cmp)] // exactly the double, not near it
    fn a_percentage_is_the_double_nearest_its_fraction() {
        // 0.007 / 100 as floats is 7.000000000000001e-5, over 7 of 100,000.
        for (text, exact) in [("0.007%", 7e-5), ("0.3%", 0.003), ("7e-1%", 0.007)] {
            assert_eq!(
                parse_share("--max-dup-docs", text).unwrap(),
                exact,
                "{text}"
            );
        }
        let limit = parse_share("--max-dup-docs", "0.007%").unwrap();
        assert!(measure("duplicate_documents", 7, 100_000, limit).passed);
        assert!(!measure("duplicate_documents", 8, 100_000, limit).passed);
    }

    #[test]
    #[allow(clippy::float_cmp)] // exactly the double, not near it
    fn the_shown_share_is_on_the_side_of_its_limit_that_the_verdict_says() {
        let over = measure("duplicate_documents", 1, 20_001, 4e-5);
        assert!(!over.passed);
        assert_eq!(over.share, 5e-5, "4 decimals would be 0, within the limit");
        let within = measure("duplicate_documents", 3, 7, 0.5);
        assert_eq!((within.share, within.passed), (0.4286, true));
        // Just under a limit that 4 decimals would round it over.
        let under = measure("duplicate_documents", 99_999, 1_000_000, 0.099_999);
        assert!(under.passed && under.share <= 0.099_999, "{under:?}");
    }

    #[test]
    fn percentages_and_points_that_are_not_nothing_never_read_0() {
        assert_eq!(percent(0.0), "0%");
        assert_eq!(percent(0.05), "5%");
        assert_eq!(percent(3.0 / 7.0), "42.9%");
        assert_eq!(percent(1.0 / 20_001.0), "0.005%");
        assert_eq!(limit_percent(4e-5), "0.004%");
        assert_eq!(limit_percent(0.333_33), "33.333%");
        assert_eq!(limit_percent(0.1), "10%");
        assert_eq!(limit_percent(0.0), "0%");
        assert_eq!(limit_percent(1.0), "100%");
        let over = measure("duplicate_documents", 1, 20_001, 4e-5);
        assert_eq!(points_over(&over), "0.001 points");
        let far = measure("duplicate_documents", 3, 7, 0.1);
        assert_eq!(points_over(&far), "32.9 points");
    }

    #[test]
    fn the_most_important_annotations_are_kept_in_order() {
        let mut top = Top::new(3);
        for (i, (kind, size)) in [(0, 5), (1, 2), (0, 9), (0, 9), (1, 2), (0, 1)]
            .into_iter()
            .enumerate()
        {
            top.offer((kind, size), || format!("{i}"));
        }
        // Documents (kind 1) first, by size then input order; then runs.
        assert_eq!(top.finish(), (vec!["1".into(), "4".into(), "2".into()], 3));
        let mut none = Top::new(0);
        none.offer((1, 1), || unreachable!("not kept, not made"));
        assert_eq!(none.finish(), (Vec::new(), 1));
    }

    #[test]
    fn workflow_commands_are_escaped() {
        assert_eq!(escape_data("50% done\nnext"), "50%25 done%0Anext");
        assert_eq!(escape_property("a:b,c"), "a%3Ab%2Cc");
    }
}
