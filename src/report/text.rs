//! The report for people: text rendering and the numbers, labels and
//! plurals it writes.

#[allow(clippy::wildcard_imports)]
use super::*;

pub use crate::sizes::thousands;

/// `part / whole` as a percentage with one decimal.
#[must_use]
pub fn percent(part: usize, whole: usize) -> String {
    if whole == 0 {
        return "0%".into();
    }
    #[allow(clippy::cast_precision_loss)]
    let p = part as f64 * 100.0 / whole as f64;
    format!("{p:.1}%")
}

/// `repeats` after one line, `repeat` after several (`line 5 repeats line
/// 1`, `lines 5-6 repeat line 1`).
#[must_use]
pub fn repeat_verb(range: [usize; 2]) -> &'static str {
    if range[0] == range[1] {
        "repeats"
    } else {
        "repeat"
    }
}

/// `line 3` or `lines 3-7`.
#[must_use]
pub fn lines(range: [usize; 2]) -> String {
    if range[0] == range[1] {
        format!("line {}", range[0])
    } else {
        format!("lines {}-{}", range[0], range[1])
    }
}

/// `text` cut to `max` characters, control characters escaped.
pub(super) fn ellipsize(text: &str, max: usize) -> String {
    let text = crate::escape::printable(text);
    if text.chars().count() <= max {
        text.into_owned()
    } else {
        let cut: String = text.chars().take(max - 1).collect();
        format!("{}…", cut.trim_end())
    }
}

/// File and line for a CI annotation about a document: a record's line, or
/// line 1 of a text file.
#[must_use]
pub fn doc_label_for_annotation(doc: &DocRef) -> (String, usize) {
    (
        crate::escape::printable(&doc.path).into_owned(),
        doc.line.unwrap_or(1),
    )
}

/// The id of a JSON Lines document, the path of a file; `(indexed)` after
/// a document an earlier run stored in the index.
pub(super) fn short_label(doc: &DocRef) -> String {
    let name = crate::escape::printable(if doc.line.is_some() {
        &doc.id
    } else {
        &doc.path
    });
    if doc.indexed {
        format!("{name} (indexed)")
    } else {
        name.into_owned()
    }
}

/// How a document is named in text: `path` or `path:line [id]`, with
/// `(indexed)` after a document an earlier run stored in the index.
#[must_use]
pub fn doc_label(doc: &DocRef) -> String {
    let label = match doc.line {
        Some(line) => format!(
            "{}:{line} [{}]",
            crate::escape::printable(&doc.path),
            crate::escape::printable(&doc.id)
        ),
        None => crate::escape::printable(&doc.path).into_owned(),
    };
    if doc.indexed {
        format!("{label} (indexed)")
    } else {
        label
    }
}

pub(super) fn render_near_duplicates(
    out: &mut dyn std::fmt::Write,
    near: &NearDuplicates,
    largest: &[ClusterReport],
    p: &DocParameters,
    top: usize,
) {
    let method = match (p.num_perm, p.bands, p.rows, p.hamming) {
        (Some(slots), Some(bands), Some(rows), _) => {
            format!("MinHash {slots} slots, {bands} bands x {rows} rows")
        }
        (_, _, _, Some(k)) => format!("SimHash, Hamming <= {k}"),
        _ => String::new(),
    };
    let measure = if p.measure == "containment" {
        "containment (own shingles in the kept one, shared boilerplate discounted)"
    } else {
        p.measure.as_str()
    };
    if near.clusters == 0 {
        let _ = writeln!(
            out,
            "Near-duplicate documents: none ({method}, {measure} >= {} on {}-word shingles; {} candidate pairs)\n",
            p.threshold,
            p.doc_shingle,
            thousands(near.candidate_pairs),
        );
        return;
    }
    let _ = writeln!(
        out,
        "Near-duplicate documents: {}, {}, {} dropped ({} bytes); {method}, {measure} >= {} on {}-word shingles",
        plural(near.clusters, "cluster"),
        plural(near.duplicate_documents, "duplicate"),
        thousands(near.dropped_documents),
        thousands(near.dropped_bytes),
        p.threshold,
        p.doc_shingle,
    );
    if !near.candidate_probability.is_empty() {
        let curve: Vec<String> = near
            .candidate_probability
            .iter()
            .map(|c| format!("J={:.2} {:.1}%", c.jaccard, c.probability * 100.0))
            .collect();
        let _ = writeln!(
            out,
            "  chance a pair becomes a candidate: {}; {} candidate pairs, {} verified",
            curve.join(", "),
            thousands(near.candidate_pairs),
            thousands(near.verified_pairs),
        );
    }
    for c in largest.iter().take(top) {
        let others: Vec<String> = c
            .members
            .iter()
            .filter(|m| !m.kept)
            // At most one of the SHOWN_MEMBERS a spooled cluster keeps is the kept one.
            .take(SHOWN_MEMBERS - 1)
            .map(|m| format!("{} ({:.2})", short_label(&m.document), m.similarity))
            .collect();
        let more = (c.size - 1).saturating_sub(others.len());
        let _ = writeln!(
            out,
            "  {:>4} docs: keeps {}; {} {}{}",
            c.size,
            doc_label(&c.kept),
            if p.annotate { "marks" } else { "drops" },
            others.join(", "),
            if more > 0 {
                format!(", +{more} more")
            } else {
                String::new()
            },
        );
    }
    if near.clusters > top {
        let _ = writeln!(
            out,
            "  ({} more clusters in --json)",
            thousands(near.clusters - top)
        );
    }
    let _ = out.write_char('\n');
}

/// `n word` or `n words`.
#[must_use]
pub fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{} {word}s", thousands(n))
    }
}

/// Renders the report for people into any `fmt::Write`: one paragraph per
/// document with repeats, the most shared blocks, and the totals (`top`
/// limits the shared blocks listed), reading spooled documents back one at a
/// time.
///
/// # Errors
/// When spooled documents cannot be read back.
#[allow(clippy::too_many_lines)]
pub fn write_text(
    report: &Report,
    top: usize,
    out: &mut dyn std::fmt::Write,
) -> std::io::Result<()> {
    if let Some(index) = &report.index {
        let _ = writeln!(
            out,
            "Checked against {} {}: {} and {} from earlier runs{}.\n",
            index.role,
            crate::escape::printable(&index.path),
            plural(index.documents, "document"),
            plural(index.blocks, "block"),
            if index.updated {
                "; this run's documents are added to it"
            } else {
                ""
            },
        );
    }
    // One document cannot be a near duplicate, unless of an indexed one.
    if let Some(near) = report
        .near_duplicates
        .as_ref()
        .filter(|n| report.summary.documents > 1 || n.clusters > 0)
    {
        let largest = report.first_clusters(top)?;
        render_near_duplicates(out, near, &largest, &report.parameters.documents, top);
    }
    let spill = report.spool.as_ref().map(|s| s.dir.as_path());
    let mut paragraphs = super::doc_text::DocText::new(&mut *out, spill);
    report.walk_documents(&mut paragraphs)?;
    paragraphs.finish()?;
    // The first `top` long and short shared blocks, and how many are long.
    let (mut long, mut short_shown, mut long_count, mut any) = (Vec::new(), Vec::new(), 0, false);
    report.for_each_syndicated(&mut |s| {
        any = true;
        if s.short {
            if short_shown.len() < top {
                short_shown.push(s.clone());
            }
        } else {
            long_count += 1;
            if long.len() < top {
                long.push(s.clone());
            }
        }
    })?;
    if !long.is_empty() {
        let shown = long.len();
        let _ = writeln!(
            out,
            "\nBlocks shared by the most documents ({shown} of {} shown):",
            thousands(long_count)
        );
        for s in &long {
            let _ = writeln!(
                out,
                "  {:>5} docs {:>5} copies  first in {} {}: \"{}\"",
                thousands(s.documents),
                thousands(s.copies),
                short_label(&s.first_copy.document),
                lines(s.first_copy.lines),
                ellipsize(&s.text, 60),
            );
        }
    }
    let short: Vec<String> = short_shown
        .iter()
        .map(|s| {
            format!(
                "\"{}\" ({})",
                ellipsize(&s.text, 30),
                thousands(s.documents)
            )
        })
        .collect();
    if !short.is_empty() {
        let _ = writeln!(
            out,
            "Short blocks shared by the most documents: {}",
            short.join(", ")
        );
    }
    if !report.skipped.is_empty() {
        let _ = writeln!(
            out,
            "\nSkipped {}:",
            plural(report.skipped.len(), "input or record")
        );
        for skipped in report.skipped.iter().take(top) {
            let shown = crate::escape::printable(skipped);
            let _ = writeln!(out, "  {}", crate::escape::line_start(&shown));
        }
        if report.skipped.len() > top {
            let _ = writeln!(out, "  (+{} more in --json)", report.skipped.len() - top);
        }
    }
    let s = &report.summary;
    if report.summary.documents_with_repeats > 0 || any || !report.skipped.is_empty() {
        let _ = out.write_char('\n');
    }
    let _ = writeln!(
        out,
        "{} ({} dropped as near duplicates, {} with repeated blocks), {}: {} removed in {}, {} of {} bytes ({}) removed; {} kept",
        plural(s.documents, "document"),
        thousands(s.dropped_documents),
        thousands(s.documents_with_repeats),
        plural(s.blocks, "block"),
        thousands(s.removed_blocks),
        plural(s.runs, "run"),
        thousands(s.removed_bytes),
        thousands(s.bytes),
        percent(s.removed_bytes, s.bytes),
        plural(s.short_repeats_kept, "short repeat"),
    );
    let p = &report.parameters;
    let _ = writeln!(
        out,
        "settings: level {}, blocks {}, {}-word shingles, containment >= {}, min {} words, seed {}{}",
        p.level,
        p.blocks,
        p.block_shingle,
        p.block_threshold,
        p.min_words,
        p.seed,
        if p.normalization.starts_with("markup,") {
            ""
        } else {
            ", markup hashed as text"
        }
    );
    Ok(())
}
