//! Documents' entries read back for the text report and annotations, which
//! print a run's header, its removals spread over several blocks or with a
//! preview, and the first few short repeats: the other removals are read
//! past, not held (a text of 800,000 repeated lines has 800,000 of them, 520
//! bytes each when held).

#[allow(clippy::wildcard_imports)]
use super::*;

/// Short repeats the text report names by their line (the rest it counts).
pub(super) const NAMED_SHORT_REPEATS: usize = 5;

/// A [`DocReport`] read with only the removals something prints.
#[derive(Deserialize)]
struct ThinDoc {
    document: DocRef,
    bytes: usize,
    blocks: usize,
    removed_blocks: usize,
    removed_bytes: usize,
    runs: Vec<ThinRun>,
    #[serde(deserialize_with = "first_short_repeats")]
    short_repeats: (Vec<Removal>, usize),
}

/// A [`RunReport`] read with only the removals something prints.
#[derive(Deserialize)]
struct ThinRun {
    lines: [usize; 2],
    blocks: usize,
    bytes: usize,
    source: DocRef,
    source_lines: [usize; 2],
    similarity: Similarity,
    exact: bool,
    interruptions: Vec<Interruption>,
    #[serde(deserialize_with = "shown_removals")]
    removals: Vec<Removal>,
}

/// Whether the text report prints a line of its own for `r`.
fn shown(r: &Removal) -> bool {
    r.first_copy_last.is_some() || r.preview.is_some()
}

/// A run's removals that [`shown`] keeps, and the first of the most similar
/// (the run's header names the highest similarity), in their order.
fn shown_removals<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<Removal>, D::Error> {
    struct Shown;
    impl<'de> serde::de::Visitor<'de> for Shown {
        type Value = Vec<Removal>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a list of removals")
        }
        fn visit_seq<A: serde::de::SeqAccess<'de>>(
            self,
            mut seq: A,
        ) -> Result<Self::Value, A::Error> {
            let mut kept: Vec<Removal> = Vec::new();
            // The most similar removal not kept, and where it goes.
            let mut best: Option<(usize, Removal)> = None;
            let mut max = f64::NEG_INFINITY;
            while let Some(r) = seq.next_element::<Removal>()? {
                let higher = r.similarity > max;
                if higher {
                    max = r.similarity;
                }
                if shown(&r) {
                    if higher {
                        best = None;
                    }
                    kept.push(r);
                } else if higher {
                    best = Some((kept.len(), r));
                }
            }
            if let Some((at, r)) = best {
                kept.insert(at, r);
            }
            Ok(kept)
        }
    }
    d.deserialize_seq(Shown)
}

/// The first [`NAMED_SHORT_REPEATS`] short repeats, and how many there are.
fn first_short_repeats<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<(Vec<Removal>, usize), D::Error> {
    struct First;
    impl<'de> serde::de::Visitor<'de> for First {
        type Value = (Vec<Removal>, usize);
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a list of removals")
        }
        fn visit_seq<A: serde::de::SeqAccess<'de>>(
            self,
            mut seq: A,
        ) -> Result<Self::Value, A::Error> {
            let mut kept = Vec::new();
            let mut count = 0;
            while kept.len() < NAMED_SHORT_REPEATS {
                let Some(r) = seq.next_element::<Removal>()? else {
                    return Ok((kept, count));
                };
                kept.push(r);
                count += 1;
            }
            while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {
                count += 1;
            }
            Ok((kept, count))
        }
    }
    d.deserialize_seq(First)
}

impl Report {
    /// Calls `f` with each document with repeats, in order, as
    /// [`Report::for_each_document`] does, and the number of its short
    /// repeats; a spooled document comes with only the removals the text
    /// report prints (those spread over several blocks or with a preview, and
    /// the most similar of each run) and its first
    /// [`NAMED_SHORT_REPEATS`] short repeats.
    ///
    /// # Errors
    /// When spooled documents cannot be read back.
    pub(crate) fn for_each_document_outline(
        &self,
        f: &mut dyn FnMut(&DocReport, usize),
    ) -> std::io::Result<()> {
        for doc in &self.documents {
            f(doc, doc.short_repeats.len());
        }
        if let Some(spool) = &self.spool {
            spool.for_each_entry(&mut |thin: ThinDoc| {
                let (short_repeats, count) = thin.short_repeats;
                let doc = DocReport {
                    document: thin.document,
                    bytes: thin.bytes,
                    blocks: thin.blocks,
                    removed_blocks: thin.removed_blocks,
                    removed_bytes: thin.removed_bytes,
                    runs: thin
                        .runs
                        .into_iter()
                        .map(|r| RunReport {
                            lines: r.lines,
                            blocks: r.blocks,
                            bytes: r.bytes,
                            source: r.source,
                            source_lines: r.source_lines,
                            similarity: r.similarity,
                            exact: r.exact,
                            interruptions: r.interruptions,
                            removals: r.removals,
                        })
                        .collect(),
                    short_repeats,
                };
                f(&doc, count);
            })?;
        }
        Ok(())
    }
}

/// A document reference read for its index alone.
#[derive(Deserialize)]
struct DocIndex {
    index: usize,
}

/// A place read for its document's index alone.
#[derive(Deserialize)]
struct PlaceIndex {
    document: DocIndex,
}

/// The documents a removal names.
#[derive(Deserialize)]
struct RemovalIndexes {
    first_copy: PlaceIndex,
    aligned_with: PlaceIndex,
}

/// The documents a run names.
#[derive(Deserialize)]
struct RunIndexes {
    source: DocIndex,
    removals: Vec<RemovalIndexes>,
}

/// The documents a short repeat names.
#[derive(Deserialize)]
struct ShortIndex {
    first_copy: PlaceIndex,
}

/// The documents an entry names.
#[derive(Deserialize)]
struct DocIndexes {
    document: DocIndex,
    runs: Vec<RunIndexes>,
    short_repeats: Vec<ShortIndex>,
}

impl Report {
    /// Calls `f` with the index of each document the documents' entries name
    /// (each document with repeats, the sources of its runs, and the first
    /// copies and aligned blocks of its removals), in their order and
    /// repeated as often as they are named: a spooled entry is read for
    /// those numbers alone (16 bytes a removal, not 520).
    ///
    /// # Errors
    /// When spooled documents cannot be read back.
    pub(crate) fn for_each_named_document(&self, f: &mut dyn FnMut(usize)) -> std::io::Result<()> {
        for doc in &self.documents {
            f(doc.document.index);
            for run in &doc.runs {
                f(run.source.index);
                for r in &run.removals {
                    f(r.first_copy.document.index);
                    f(r.aligned_with.document.index);
                }
            }
            for r in &doc.short_repeats {
                f(r.first_copy.document.index);
            }
        }
        if let Some(spool) = &self.spool {
            spool.for_each_entry(&mut |doc: DocIndexes| {
                f(doc.document.index);
                for run in &doc.runs {
                    f(run.source.index);
                    for r in &run.removals {
                        f(r.first_copy.document.index);
                        f(r.aligned_with.document.index);
                    }
                }
                for r in &doc.short_repeats {
                    f(r.first_copy.document.index);
                }
            })?;
        }
        Ok(())
    }
}
