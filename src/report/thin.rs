//! Documents' entries read back for the text report and annotations a
//! piece at a time: a document's head, each run's head, interruptions and
//! removals, and its first few short repeats, handed to a [`DocWalk`] as
//! they are read (a text of 800,000 repeated lines has 800,000 removals, 520
//! bytes each when held; one of 200,000 repeated paragraphs has 190,000
//! runs).

#[allow(clippy::wildcard_imports)]
use super::*;

/// Short repeats the text report names by their line (the rest it counts).
pub(super) const NAMED_SHORT_REPEATS: usize = 5;

/// A document with repeats, without its runs and short repeats.
pub(crate) struct DocHead<'a> {
    pub document: &'a DocRef,
    pub bytes: usize,
    pub blocks: usize,
    pub removed_blocks: usize,
    pub removed_bytes: usize,
}

/// A run without its interruptions and removals.
pub(crate) struct RunHead<'a> {
    pub lines: [usize; 2],
    pub blocks: usize,
    pub bytes: usize,
    pub source: &'a DocRef,
    pub source_lines: [usize; 2],
    pub similarity: &'a Similarity,
    pub exact: bool,
}

/// A run's removal as the text report sees it.
pub(crate) struct Seen<'a> {
    /// The repeat's lines.
    pub lines: [usize; 2],
    pub similarity: f64,
    /// When its text is spread over several blocks of the first copy's
    /// document: that document, and the lines from the first block's first
    /// to the last one's last.
    pub spread: Option<(&'a DocRef, [usize; 2])>,
    pub preview: Option<&'a str>,
}

/// What reads documents' entries piece by piece, in their order: a
/// document's head, then each run's head, its interruptions and removals
/// (either may come first) and its end, then the document's end with its
/// first [`NAMED_SHORT_REPEATS`] short repeats' first lines and their count.
pub(crate) trait DocWalk {
    /// Whether runs' interruptions and removals are wanted (else read past).
    fn wants_details(&self) -> bool;
    fn document(&mut self, head: &DocHead<'_>);
    fn run(&mut self, head: &RunHead<'_>);
    fn interruption(&mut self, gap: &Interruption);
    fn removal(&mut self, removal: &Seen<'_>);
    fn run_end(&mut self);
    fn document_end(&mut self, short_lines: &[usize], short_repeats: usize);
}

impl Report {
    /// Hands each document with repeats to `walk`, in order, as
    /// [`Report::for_each_document`] does: those held, then those spooled,
    /// each read a removal at a time (an entry of 200,000 runs, or of
    /// 800,000 removals, is never held).
    ///
    /// # Errors
    /// When spooled documents cannot be read back.
    pub(crate) fn walk_documents(&self, walk: &mut dyn DocWalk) -> std::io::Result<()> {
        for doc in &self.documents {
            walk_held(doc, walk);
        }
        if let Some(spool) = &self.spool {
            use serde::de::DeserializeSeed as _;
            let mut de = serde_json::Deserializer::from_reader(spool.read_back((0, spool.len)));
            for _ in 0..spool.count {
                DocSeed { walk: &mut *walk }
                    .deserialize(&mut de)
                    .map_err(std::io::Error::from)?;
            }
        }
        Ok(())
    }
}

/// [`Report::walk_documents`] for a document held whole.
fn walk_held(doc: &DocReport, walk: &mut dyn DocWalk) {
    walk.document(&DocHead {
        document: &doc.document,
        bytes: doc.bytes,
        blocks: doc.blocks,
        removed_blocks: doc.removed_blocks,
        removed_bytes: doc.removed_bytes,
    });
    for run in &doc.runs {
        walk.run(&RunHead {
            lines: run.lines,
            blocks: run.blocks,
            bytes: run.bytes,
            source: &run.source,
            source_lines: run.source_lines,
            similarity: &run.similarity,
            exact: run.exact,
        });
        if walk.wants_details() {
            for gap in &run.interruptions {
                walk.interruption(gap);
            }
            for r in &run.removals {
                walk.removal(&Seen {
                    lines: r.repeat.lines,
                    similarity: r.similarity,
                    spread: r.first_copy_last.as_ref().map(|last| {
                        (
                            &r.first_copy.document,
                            [r.first_copy.lines[0], last.lines[1]],
                        )
                    }),
                    preview: r.preview.as_deref(),
                });
            }
        }
        walk.run_end();
    }
    let short_lines: Vec<usize> = doc
        .short_repeats
        .iter()
        .take(NAMED_SHORT_REPEATS)
        .map(|r| r.repeat.lines[0])
        .collect();
    walk.document_end(&short_lines, doc.short_repeats.len());
}

/// A [`DocReport`]'s fields, named without allocating.
#[derive(Deserialize)]
#[serde(field_identifier, rename_all = "snake_case")]
pub(super) enum DocField {
    Document,
    Bytes,
    Blocks,
    RemovedBlocks,
    RemovedBytes,
    Runs,
    ShortRepeats,
    #[serde(other)]
    Other,
}

/// A [`RunReport`]'s fields, named without allocating.
#[derive(Deserialize)]
#[serde(field_identifier, rename_all = "snake_case")]
pub(super) enum RunField {
    Lines,
    Blocks,
    Bytes,
    Source,
    SourceLines,
    Similarity,
    Exact,
    Interruptions,
    Removals,
    #[serde(other)]
    Other,
}

fn out_of_order<E: serde::de::Error>(what: &str) -> E {
    E::custom(format!("a report spool entry lists {what} before its head"))
}

/// Reads one spooled document, handing it to `walk` as it is read (its
/// head's fields come before its lists: the spool writes them so).
struct DocSeed<'w> {
    walk: &'w mut dyn DocWalk,
}

impl<'de> serde::de::DeserializeSeed<'de> for DocSeed<'_> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> serde::de::Visitor<'de> for DocSeed<'_> {
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a document's report entry")
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let walk = self.walk;
        let mut head = DocFields::default();
        let mut short = ShortRepeats::default();
        while let Some(key) = map.next_key::<DocField>()? {
            match key {
                DocField::Document => head.document = Some(map.next_value()?),
                DocField::Bytes => head.bytes = Some(map.next_value()?),
                DocField::Blocks => head.blocks = Some(map.next_value()?),
                DocField::RemovedBlocks => head.removed_blocks = Some(map.next_value()?),
                DocField::RemovedBytes => head.removed_bytes = Some(map.next_value()?),
                DocField::Runs => {
                    head.begin(walk)?;
                    map.next_value_seed(RunsSeed { walk: &mut *walk })?;
                }
                DocField::ShortRepeats => {
                    head.begin(walk)?;
                    short = map.next_value::<ShortRepeats>()?;
                }
                DocField::Other => {
                    map.next_value::<serde::de::IgnoredAny>()?;
                }
            }
        }
        head.begin(walk)?;
        walk.document_end(&short.first_lines, short.count);
        Ok(())
    }
}

/// A document's head as its fields are read.
#[derive(Default)]
struct DocFields {
    document: Option<DocRef>,
    bytes: Option<usize>,
    blocks: Option<usize>,
    removed_blocks: Option<usize>,
    removed_bytes: Option<usize>,
    /// Whether the head has been handed to the walk.
    begun: bool,
}

impl DocFields {
    /// Hands the document's head to `walk` once, all of it read.
    fn begin<E: serde::de::Error>(&mut self, walk: &mut dyn DocWalk) -> Result<(), E> {
        if !self.begun {
            let head = (|| {
                Some(DocHead {
                    document: self.document.as_ref()?,
                    bytes: self.bytes?,
                    blocks: self.blocks?,
                    removed_blocks: self.removed_blocks?,
                    removed_bytes: self.removed_bytes?,
                })
            })();
            walk.document(&head.ok_or_else(|| out_of_order("its runs or short repeats"))?);
            self.begun = true;
        }
        Ok(())
    }
}

/// A document's runs, each handed to the walk as it is read.
struct RunsSeed<'w> {
    walk: &'w mut dyn DocWalk,
}

impl<'de> serde::de::DeserializeSeed<'de> for RunsSeed<'_> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> serde::de::Visitor<'de> for RunsSeed<'_> {
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a list of runs")
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq
            .next_element_seed(RunSeed {
                walk: &mut *self.walk,
            })?
            .is_some()
        {}
        Ok(())
    }
}

/// One run, handed to the walk as it is read.
struct RunSeed<'w> {
    walk: &'w mut dyn DocWalk,
}

impl<'de> serde::de::DeserializeSeed<'de> for RunSeed<'_> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> serde::de::Visitor<'de> for RunSeed<'_> {
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a run")
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let walk = self.walk;
        let mut head = RunFields::default();
        while let Some(key) = map.next_key::<RunField>()? {
            match key {
                RunField::Lines => head.lines = Some(map.next_value()?),
                RunField::Blocks => head.blocks = Some(map.next_value()?),
                RunField::Bytes => head.bytes = Some(map.next_value()?),
                RunField::Source => head.source = Some(map.next_value()?),
                RunField::SourceLines => head.source_lines = Some(map.next_value()?),
                RunField::Similarity => head.similarity = Some(map.next_value()?),
                RunField::Exact => head.exact = Some(map.next_value()?),
                RunField::Interruptions | RunField::Removals if !walk.wants_details() => {
                    head.begin(walk)?;
                    map.next_value::<serde::de::IgnoredAny>()?;
                }
                RunField::Interruptions => {
                    head.begin(walk)?;
                    map.next_value_seed(super::each::Each::new(
                        "a list of interruptions",
                        |gap: Interruption| walk.interruption(&gap),
                    ))?;
                }
                RunField::Removals => {
                    head.begin(walk)?;
                    map.next_value_seed(super::each::Each::new(
                        "a list of removals",
                        |r: ThinRemoval| {
                            let first = &r.first_copy;
                            walk.removal(&Seen {
                                lines: r.repeat.lines,
                                similarity: r.similarity,
                                spread: r
                                    .first_copy_last
                                    .as_ref()
                                    .map(|last| (&first.document, [first.lines[0], last.lines[1]])),
                                preview: r.preview.as_deref(),
                            });
                        },
                    ))?;
                }
                RunField::Other => {
                    map.next_value::<serde::de::IgnoredAny>()?;
                }
            }
        }
        head.begin(walk)?;
        walk.run_end();
        Ok(())
    }
}

/// A run's head as its fields are read.
#[derive(Default)]
struct RunFields {
    lines: Option<[usize; 2]>,
    blocks: Option<usize>,
    bytes: Option<usize>,
    source: Option<DocRef>,
    source_lines: Option<[usize; 2]>,
    similarity: Option<Similarity>,
    exact: Option<bool>,
    /// Whether the head has been handed to the walk.
    begun: bool,
}

impl RunFields {
    /// Hands the run's head to `walk` once, all of it read.
    fn begin<E: serde::de::Error>(&mut self, walk: &mut dyn DocWalk) -> Result<(), E> {
        if !self.begun {
            let head = (|| {
                Some(RunHead {
                    lines: self.lines?,
                    blocks: self.blocks?,
                    bytes: self.bytes?,
                    source: self.source.as_ref()?,
                    source_lines: self.source_lines?,
                    similarity: self.similarity.as_ref()?,
                    exact: self.exact?,
                })
            })();
            walk.run(&head.ok_or_else(|| out_of_order("a run's removals or interruptions"))?);
            self.begun = true;
        }
        Ok(())
    }
}

/// A place read for its lines alone.
#[derive(Deserialize)]
struct LinesOf {
    lines: [usize; 2],
}

/// A removal's first copy: its document and lines.
#[derive(Deserialize)]
struct FirstCopy {
    document: DocRef,
    lines: [usize; 2],
}

/// A removal read for what the text report prints of it.
#[derive(Deserialize)]
struct ThinRemoval {
    repeat: LinesOf,
    first_copy: FirstCopy,
    first_copy_last: Option<LinesOf>,
    similarity: f64,
    preview: Option<String>,
}

/// The first [`NAMED_SHORT_REPEATS`] short repeats' first lines, and how
/// many there are (the rest are read past).
#[derive(Default)]
struct ShortRepeats {
    first_lines: Vec<usize>,
    count: usize,
}

impl<'de> Deserialize<'de> for ShortRepeats {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct First;
        impl<'de> serde::de::Visitor<'de> for First {
            type Value = ShortRepeats;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a list of removals")
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<Self::Value, A::Error> {
                #[derive(Deserialize)]
                struct Repeat {
                    repeat: LinesOf,
                }
                let mut out = ShortRepeats::default();
                while out.first_lines.len() < NAMED_SHORT_REPEATS {
                    let Some(r) = seq.next_element::<Repeat>()? else {
                        return Ok(out);
                    };
                    out.first_lines.push(r.repeat.lines[0]);
                    out.count += 1;
                }
                while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {
                    out.count += 1;
                }
                Ok(out)
            }
        }
        d.deserialize_seq(First)
    }
}
