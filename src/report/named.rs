//! The documents a report's entries name, for the HTML page (which shows
//! their texts): a spooled entry is read a removal at a time, for those
//! numbers alone.

use super::each::Each;
use super::thin::{DocField, RunField};
#[allow(clippy::wildcard_imports)]
use super::*;
use serde::de::{DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};

impl Report {
    /// Calls `f` with the index of each document the documents' entries name
    /// (each document with repeats, the sources of its runs, and the first
    /// copies and aligned blocks of its removals), in their order and
    /// repeated as often as they are named: a spooled entry is read a
    /// removal at a time, for those numbers alone.
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
            let mut de = serde_json::Deserializer::from_reader(spool.read_back((0, spool.len)));
            for _ in 0..spool.count {
                Names::Document(&mut *f)
                    .deserialize(&mut de)
                    .map_err(std::io::Error::from)?;
            }
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

/// The documents a short repeat names.
#[derive(Deserialize)]
struct ShortIndex {
    first_copy: PlaceIndex,
}

/// What is being read, each handing the documents it names to its `f`.
enum Names<'f> {
    /// A document's entry.
    Document(&'f mut dyn FnMut(usize)),
    /// A document's runs.
    Runs(&'f mut dyn FnMut(usize)),
    /// One run.
    Run(&'f mut dyn FnMut(usize)),
}

impl<'de> DeserializeSeed<'de> for Names<'_> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        match self {
            Names::Document(_) | Names::Run(_) => d.deserialize_map(self),
            Names::Runs(_) => d.deserialize_seq(self),
        }
    }
}

impl<'de> Visitor<'de> for Names<'_> {
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Names::Document(_) => "a document's report entry",
            Names::Runs(_) => "a list of runs",
            Names::Run(_) => "a run",
        })
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        match self {
            Names::Document(f) => {
                while let Some(key) = map.next_key::<DocField>()? {
                    match key {
                        DocField::Document => f(map.next_value::<DocIndex>()?.index),
                        DocField::Runs => map.next_value_seed(Names::Runs(&mut *f))?,
                        DocField::ShortRepeats => map.next_value_seed(Each::new(
                            "a list of removals",
                            |r: ShortIndex| {
                                f(r.first_copy.document.index);
                            },
                        ))?,
                        _ => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
            }
            Names::Run(f) => {
                while let Some(key) = map.next_key::<RunField>()? {
                    match key {
                        RunField::Source => f(map.next_value::<DocIndex>()?.index),
                        RunField::Removals => map.next_value_seed(Each::new(
                            "a list of removals",
                            |r: RemovalIndexes| {
                                f(r.first_copy.document.index);
                                f(r.aligned_with.document.index);
                            },
                        ))?,
                        _ => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
            }
            Names::Runs(_) => {
                return Err(serde::de::Error::invalid_type(
                    serde::de::Unexpected::Map,
                    &self,
                ))
            }
        }
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        match self {
            Names::Runs(f) => while seq.next_element_seed(Names::Run(&mut *f))?.is_some() {},
            _ => {
                return Err(serde::de::Error::invalid_type(
                    serde::de::Unexpected::Seq,
                    &self,
                ))
            }
        }
        Ok(())
    }
}
