//! A document's report entry: made whole, or written straight into the
//! spool as it is serialized when it has too many removals to hold (a text
//! of 800,000 repeated lines has 800,000 of them, about 520 bytes each as
//! [`Removal`]s and 420 as JSON).

#[allow(clippy::wildcard_imports)]
use super::*;
use std::cell::RefCell;

/// Removals past which a spooled document's entry is written as it is
/// serialized, on one thread, instead of made whole on every thread.
pub(super) const STREAMED_REMOVALS: usize = 4096;

/// How many removals the entry of the chunk's document `doc` lists.
pub(super) fn removals(analysis: &Analysis, doc: usize) -> usize {
    let decision = &analysis.decisions[doc];
    decision.runs.iter().map(|r| r.pairs.len()).sum::<usize>() + decision.kept_short.len()
}

impl Builder<'_> {
    /// The entry of this chunk's document `doc`, which has runs or short
    /// repeats.
    pub(super) fn doc_report(&mut self, doc: usize) -> DocReport {
        let mut report = self.doc_head(doc);
        let decision = &self.analysis.decisions[doc];
        for (run, made) in decision.runs.iter().zip(&mut report.runs) {
            made.removals = run.pairs.iter().map(|p| self.removal(p)).collect();
        }
        report.short_repeats = decision
            .kept_short
            .iter()
            .map(|p| self.removal(p))
            .collect();
        report
    }

    /// [`Builder::doc_report`] without its removals (runs' and short
    /// repeats' lists empty).
    pub(super) fn doc_head(&mut self, doc: usize) -> DocReport {
        let analysis = self.analysis;
        let decision = &analysis.decisions[doc];
        let mut runs = Vec::new();
        for run in &decision.runs {
            let first = run.pairs.first().expect("runs are never empty");
            let last = run.pairs.last().expect("runs are never empty");
            let source_doc = analysis.doc_of_block(first.mirror);
            let (src_first, src_last) = (first.mirror, last.mirror_last);
            let sims: Vec<f64> = run.pairs.iter().map(|p| p.similarity).collect();
            #[allow(clippy::cast_precision_loss)]
            let mean = sims.iter().sum::<f64>() / sims.len() as f64;
            let interruptions = run
                .interruptions
                .iter()
                .map(|r| Interruption {
                    lines: [
                        analysis.block(r.start).1.first_line,
                        analysis.block(r.end - 1).1.last_line,
                    ],
                    blocks: r.len(),
                    bytes: r.clone().map(|g| self.span_len(g)).sum(),
                })
                .collect();
            runs.push(RunReport {
                lines: [
                    analysis.block(first.block).1.first_line,
                    analysis.block(last.block).1.last_line,
                ],
                blocks: run.pairs.len(),
                bytes: run.pairs.iter().map(|p| self.span_len(p.block)).sum(),
                source: self.doc_ref(source_doc),
                source_lines: [
                    analysis.lines_of(src_first)[0],
                    analysis.lines_of(src_last)[1],
                ],
                similarity: Similarity {
                    min: round(sims.iter().copied().fold(f64::INFINITY, f64::min)),
                    mean: round(mean),
                },
                exact: run.pairs.iter().all(|p| p.exact),
                interruptions,
                removals: Vec::new(),
            });
        }
        let (removed_blocks, removed_bytes) = analysis.removed(doc);
        let corpus = self.corpus;
        DocReport {
            document: self.doc_ref(analysis.base_docs + doc),
            bytes: corpus.text_len(&corpus.documents[doc]),
            blocks: analysis.blocks[doc].len(),
            removed_blocks,
            removed_bytes,
            runs,
            short_repeats: Vec::new(),
        }
    }

    /// Writes the entry of this chunk's document `doc` to `out` as JSON, the
    /// bytes `serde_json::to_writer(out, &self.doc_report(doc))` writes,
    /// making one removal at a time.
    ///
    /// # Errors
    /// When `out` fails.
    pub(super) fn write_doc_report(
        &mut self,
        doc: usize,
        out: &mut dyn std::io::Write,
    ) -> std::io::Result<()> {
        let head = self.doc_head(doc);
        let analysis = self.analysis;
        let decision = &analysis.decisions[doc];
        let entry = Entry {
            head: &head,
            decision,
            builder: RefCell::new(self),
        };
        serde_json::to_writer(out, &entry).map_err(std::io::Error::from)
    }
}

/// A [`DocReport`] whose removals are made as they are serialized.
struct Entry<'e, 'b, 'a> {
    head: &'e DocReport,
    decision: &'e crate::decide::DocDecision,
    builder: RefCell<&'b mut Builder<'a>>,
}

/// Removals made from their pairs as they are serialized.
struct Removals<'e, 'b, 'a> {
    pairs: &'e [Pair],
    builder: &'e RefCell<&'b mut Builder<'a>>,
}

impl Serialize for Removals<'_, '_, '_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(
            self.pairs
                .iter()
                .map(|p| self.builder.borrow_mut().removal(p)),
        )
    }
}

/// A run's entry, its removals made as they are serialized: the fields of
/// [`RunReport`] in its order.
struct Run<'e, 'b, 'a> {
    head: &'e RunReport,
    removals: Removals<'e, 'b, 'a>,
}

impl Serialize for Run<'_, '_, '_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct as _;
        let h = self.head;
        let mut st = s.serialize_struct("RunReport", 9)?;
        st.serialize_field("lines", &h.lines)?;
        st.serialize_field("blocks", &h.blocks)?;
        st.serialize_field("bytes", &h.bytes)?;
        st.serialize_field("source", &h.source)?;
        st.serialize_field("source_lines", &h.source_lines)?;
        st.serialize_field("similarity", &h.similarity)?;
        st.serialize_field("exact", &h.exact)?;
        st.serialize_field("interruptions", &h.interruptions)?;
        st.serialize_field("removals", &self.removals)?;
        st.end()
    }
}

/// The runs of an [`Entry`].
struct Runs<'e, 'b, 'a>(&'e Entry<'e, 'b, 'a>);

impl Serialize for Runs<'_, '_, '_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let entry = self.0;
        s.collect_seq(
            entry
                .head
                .runs
                .iter()
                .zip(&entry.decision.runs)
                .map(|(head, run)| Run {
                    head,
                    removals: Removals {
                        pairs: &run.pairs,
                        builder: &entry.builder,
                    },
                }),
        )
    }
}

impl Serialize for Entry<'_, '_, '_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct as _;
        let h = self.head;
        let mut st = s.serialize_struct("DocReport", 7)?;
        st.serialize_field("document", &h.document)?;
        st.serialize_field("bytes", &h.bytes)?;
        st.serialize_field("blocks", &h.blocks)?;
        st.serialize_field("removed_blocks", &h.removed_blocks)?;
        st.serialize_field("removed_bytes", &h.removed_bytes)?;
        st.serialize_field("runs", &Runs(self))?;
        st.serialize_field(
            "short_repeats",
            &Removals {
                pairs: &self.decision.kept_short,
                builder: &self.builder,
            },
        )?;
        st.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_written_as_serialized_is_the_bytes_of_the_entry_made_whole() {
        let para = |i: usize| {
            format!(
                "Paragraph {i} tells of the river, the mill and the miller’s daughter, who sang \
                 at dawn when the boats came in."
            )
        };
        let paras = |r: std::ops::Range<usize>| r.map(para).collect::<Vec<_>>().join("\n\n");
        let short = "“Short line,” she said.\n\n".repeat(3);
        let copy = format!(
            "{}\n\nA paragraph of its own, which nobody had written before this test was.\n\n{}\n\n{short}",
            paras(0..3),
            paras(3..6)
        );
        let corpus = Corpus::from_texts([
            ("source", paras(0..6)),
            ("copy", copy),
            ("short", short.repeat(2)),
        ]);
        let config = Config {
            level: Level::Blocks,
            preview: 12,
            ..Config::default()
        };
        let analysis = crate::pipeline::analyze(&corpus, &config);
        let names: Vec<std::sync::Arc<str>> = corpus
            .sources
            .iter()
            .map(|s| s.input.display_name().into())
            .collect();
        let mut b = Builder::new(&corpus, &analysis, &names, config.preview);
        let (mut runs, mut interrupted, mut short_repeats) = (0, 0, 0);
        for doc in 1..3 {
            let whole = b.doc_report(doc);
            runs += whole.runs.len();
            interrupted += whole
                .runs
                .iter()
                .filter(|r| !r.interruptions.is_empty())
                .count();
            short_repeats += whole.short_repeats.len();
            let mut written = Vec::new();
            b.write_doc_report(doc, &mut written).unwrap();
            assert_eq!(
                String::from_utf8(written).unwrap(),
                serde_json::to_string(&whole).unwrap()
            );
            assert_eq!(
                removals(&analysis, doc),
                whole.runs.iter().map(|r| r.removals.len()).sum::<usize>()
                    + whole.short_repeats.len()
            );
        }
        // Both shapes of entry were compared.
        assert!(
            runs >= 1 && interrupted >= 1 && short_repeats >= 5,
            "{runs} {interrupted} {short_repeats}"
        );
    }
}
