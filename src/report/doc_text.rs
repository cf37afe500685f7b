//! A document's paragraph of the text report, written as its entry is read.
//! A run's header names its highest similarity, which any of its removals
//! may hold, so what follows the header (its removals' lines, then its
//! interruptions) is kept until the run ends: in memory up to a megabyte,
//! then in an unnamed file beside the report's spool.

use super::thin::{DocHead, DocWalk, RunHead, Seen};
#[allow(clippy::wildcard_imports)]
use super::*;
use std::fmt::Write as _;
use std::io::{Read as _, Seek as _, Write as _};

/// Bytes of deferred text held in memory before they go to a file.
const HELD: usize = 1 << 20;

/// Text kept until it can be written, in order: in memory up to [`HELD`]
/// bytes, then in an unnamed file in `dir` (without one, all in memory: a
/// report held whole).
struct Deferred<'d> {
    text: String,
    dir: Option<&'d std::path::Path>,
    file: Option<std::fs::File>,
    /// Whether the file holds text not written yet.
    spilled: bool,
    failed: Option<std::io::Error>,
}

impl<'d> Deferred<'d> {
    fn new(dir: Option<&'d std::path::Path>) -> Self {
        Deferred {
            text: String::new(),
            dir,
            file: None,
            spilled: false,
            failed: None,
        }
    }

    fn push(&mut self, args: std::fmt::Arguments<'_>) {
        let _ = self.text.write_fmt(args);
        if self.text.len() >= HELD {
            if let Some(dir) = self.dir {
                if let Err(e) = self.spill(dir) {
                    self.failed.get_or_insert(e);
                }
                self.text.clear();
            }
        }
    }

    fn spill(&mut self, dir: &std::path::Path) -> std::io::Result<()> {
        if self.failed.is_some() {
            return Ok(());
        }
        let file = match &mut self.file {
            Some(file) => file,
            None => self.file.insert(crate::error::temp_file(dir)?),
        };
        file.write_all(self.text.as_bytes())?;
        self.spilled = true;
        Ok(())
    }

    /// Writes everything kept to `out`, and keeps nothing.
    fn drain(&mut self, out: &mut dyn std::fmt::Write) -> std::io::Result<()> {
        if let Some(e) = self.failed.take() {
            return Err(e);
        }
        if self.spilled {
            let file = self.file.as_mut().expect("text spilled to a file");
            file.rewind()?;
            let mut piece = vec![0; 1 << 16];
            // The file holds whole strings, read back in pieces that may
            // end inside a character: its first bytes wait for the rest.
            let mut pending: Vec<u8> = Vec::new();
            loop {
                let n = file.read(&mut piece)?;
                if n == 0 {
                    break;
                }
                pending.extend_from_slice(&piece[..n]);
                let whole = match std::str::from_utf8(&pending) {
                    Ok(text) => text.len(),
                    Err(e) => e.valid_up_to(),
                };
                let text = std::str::from_utf8(&pending[..whole]).expect("checked above");
                let _ = out.write_str(text);
                pending.drain(..whole);
            }
            if !pending.is_empty() {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    "the report's deferred text is not UTF-8",
                ));
            }
            file.rewind()?;
            file.set_len(0)?;
            self.spilled = false;
        }
        let _ = out.write_str(&self.text);
        self.text.clear();
        Ok(())
    }
}

/// A run's header, written when the run ends.
struct RunLine {
    lines: [usize; 2],
    /// The source's short label and a space, or nothing for the document
    /// itself.
    source: String,
    source_lines: [usize; 2],
    blocks: usize,
    bytes: usize,
    similarity: Similarity,
    exact: bool,
}

/// Writes each document's paragraph of the text report as its entry is
/// read (documents with nothing removed are passed over).
pub(super) struct DocText<'o, 'd> {
    out: &'o mut dyn std::fmt::Write,
    /// The document being written, unless it is passed over.
    doc: Option<usize>,
    run: Option<RunLine>,
    /// The highest similarity of the run's removals so far.
    max: f64,
    removals: Deferred<'d>,
    gaps: Deferred<'d>,
    failed: Option<std::io::Error>,
}

impl<'o, 'd> DocText<'o, 'd> {
    /// Writes to `out`; a run's deferred text past a megabyte goes to a
    /// file in `dir` (with none, it is held).
    pub(super) fn new(out: &'o mut dyn std::fmt::Write, dir: Option<&'d std::path::Path>) -> Self {
        DocText {
            out,
            doc: None,
            run: None,
            max: 0.0,
            removals: Deferred::new(dir),
            gaps: Deferred::new(dir),
            failed: None,
        }
    }

    /// The first error met, if any.
    pub(super) fn finish(self) -> std::io::Result<()> {
        self.failed.map_or(Ok(()), Err)
    }
}

impl DocWalk for DocText<'_, '_> {
    fn wants_details(&self) -> bool {
        self.doc.is_some()
    }

    fn document(&mut self, doc: &DocHead<'_>) {
        // Only documents that lost something; short repeats kept elsewhere
        // count in the totals.
        if doc.removed_blocks == 0 {
            self.doc = None;
            return;
        }
        self.doc = Some(doc.document.index);
        let _ = writeln!(
            self.out,
            "{}: {} of {} removed as repeats of earlier text, {} of {} bytes ({})",
            crate::escape::line_start(&doc_label(doc.document)),
            thousands(doc.removed_blocks),
            plural(doc.blocks, "block"),
            thousands(doc.removed_bytes),
            thousands(doc.bytes),
            percent(doc.removed_bytes, doc.bytes),
        );
    }

    fn run(&mut self, run: &RunHead<'_>) {
        let Some(doc) = self.doc else { return };
        self.run = Some(RunLine {
            lines: run.lines,
            source: if run.source.index == doc {
                String::new()
            } else {
                format!("{} ", short_label(run.source))
            },
            source_lines: run.source_lines,
            blocks: run.blocks,
            bytes: run.bytes,
            similarity: run.similarity.clone(),
            exact: run.exact,
        });
        self.max = 0.0;
    }

    fn interruption(&mut self, gap: &Interruption) {
        if self.doc.is_none() {
            return;
        }
        self.gaps.push(format_args!(
            "    {} inside the run {} not repeated ({}, kept)\n",
            lines(gap.lines),
            if gap.lines[0] == gap.lines[1] {
                "is"
            } else {
                "are"
            },
            plural(gap.blocks, "block"),
        ));
    }

    fn removal(&mut self, removal: &Seen<'_>) {
        let Some(doc) = self.doc else { return };
        self.max = f64::max(self.max, removal.similarity);
        // A block whose text is spread over several source blocks.
        if let Some((first, spread)) = removal.spread {
            self.removals.push(format_args!(
                "    {} {} {}{}, spread over several blocks there\n",
                lines(removal.lines),
                repeat_verb(removal.lines),
                if first.index == doc {
                    String::new()
                } else {
                    format!("{} ", short_label(first))
                },
                lines(spread),
            ));
        }
        if let Some(text) = removal.preview {
            // The input's own text: its escapes cannot drive the terminal or
            // start a line.
            let text = crate::escape::printable(text);
            self.removals
                .push(format_args!("    {}: \"{text}\"\n", lines(removal.lines)));
        }
    }

    fn run_end(&mut self) {
        let Some(run) = self.run.take() else { return };
        let (low, high) = (
            format!("{:.2}", run.similarity.min),
            format!("{:.2}", self.max),
        );
        let similarity = if run.exact {
            "exact".to_owned()
        } else if low == high {
            format!("similarity {low}")
        } else {
            format!("similarity {low}-{high} (mean {:.2})", run.similarity.mean)
        };
        let _ = writeln!(
            self.out,
            "  {} {} {}{}: {}, {} bytes, {}",
            lines(run.lines),
            repeat_verb(run.lines),
            run.source,
            lines(run.source_lines),
            plural(run.blocks, "block"),
            thousands(run.bytes),
            similarity,
        );
        for deferred in [&mut self.removals, &mut self.gaps] {
            if let Err(e) = deferred.drain(&mut *self.out) {
                self.failed.get_or_insert(e);
            }
        }
    }

    fn document_end(&mut self, short_lines: &[usize], short_repeats: usize) {
        if self.doc.take().is_none() || short_repeats == 0 {
            return;
        }
        let shown: Vec<String> = short_lines.iter().map(ToString::to_string).collect();
        let more = short_repeats.saturating_sub(shown.len());
        let _ = writeln!(
            self.out,
            "  {} too short to judge repeat earlier text, kept (line {}{}; --drop-short removes them)",
            plural(short_repeats, "block"),
            shown.join(", "),
            if more > 0 {
                format!(", +{more} more")
            } else {
                String::new()
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_deferred_past_a_megabyte_comes_back_whole_from_its_file() {
        let dir = tempfile::tempdir().unwrap();
        let mut deferred = Deferred::new(Some(dir.path()));
        for round in 0..2 {
            let mut expected = String::new();
            // Lines of three-byte characters, so that the file's pieces end
            // inside characters: 2.6 MB, past HELD twice.
            for i in 0..40_000 {
                let line = format!("    line {i}: \"{}\" {round}\n", "’".repeat(i % 37 + 3));
                deferred.push(format_args!("{line}"));
                expected.push_str(&line);
            }
            assert!(deferred.spilled && expected.len() > 2 * HELD);
            let mut out = String::new();
            deferred.drain(&mut out).unwrap();
            assert_eq!(out.len(), expected.len());
            assert!(out == expected, "round {round}");
            assert!(!deferred.spilled && deferred.text.is_empty());
        }
        // Without a directory, all of it is held.
        let mut held = Deferred::new(None);
        held.push(format_args!("{}", "x".repeat(2 * HELD)));
        assert!(held.file.is_none() && held.text.len() == 2 * HELD);
    }
}
