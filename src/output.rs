//! Cleaned output: the kept spans of each document, byte for byte, written
//! as [`crate::targets`] says (a regular file staged beside its destination and
//! renamed over it only when the whole run has succeeded, a device or pipe
//! written directly), so a failed run never leaves a half-written file.

use crate::compress::{Compression, Encoder};
use crate::config::Format;
use crate::error::{Error, Result};
use crate::input::{Corpus, InputPath};
use crate::pipeline::Analysis;
use crate::targets::Staging;
use rayon::prelude::*;
use std::collections::HashMap;
use std::io::Write;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// Where `clean` writes.
#[derive(Clone, Debug)]
pub enum Destination {
    /// Standard output.
    Stdout,
    /// One file for everything.
    File(PathBuf),
    /// One file per input, mirroring the input tree.
    Dir(PathBuf),
}

/// The cleaned text of one document: its kept blocks, concatenated.
#[must_use]
pub fn cleaned_text(text: &str, analysis: &Analysis, doc: usize) -> String {
    kept_spans(analysis, doc).map(|span| &text[span]).collect()
}

/// The byte spans of a document's blocks that are not removed, in order.
pub fn kept_spans(analysis: &Analysis, doc: usize) -> impl Iterator<Item = Range<usize>> + '_ {
    let start = analysis.doc_start[doc];
    analysis.blocks[doc]
        .iter()
        .enumerate()
        .filter(move |(i, _)| !analysis.dropped[start + i])
        .map(|(_, block)| block.span.clone())
}

/// Writes the cleaned form of one source.
///
/// # Errors
/// The writer's errors.
pub fn write_source(
    corpus: &Corpus,
    analysis: &Analysis,
    source: usize,
    docs: Range<usize>,
    annotate: bool,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    let len = corpus.sources[source].data.len();
    let mut annotate = if annotate {
        Annotate::Now
    } else {
        Annotate::No
    };
    write_source_part(corpus, analysis, source, docs, &mut annotate, out, 0..len)
}

/// What `--annotate` adds to each record of a JSON Lines output.
pub enum Annotate<'a> {
    /// Nothing: records are cleaned, not annotated.
    No,
    /// Their fields, from the analysis at hand.
    Now,
    /// Nothing yet: where each record's fields go, as bytes written so far
    /// by this call, for a chunked run, whose clusters are whole only at its
    /// end (see [`Annotations`]).
    Later(&'a mut Vec<u64>),
}

/// Writes the cleaned form of the bytes `part` of a JSON Lines source, which
/// hold the records of documents `docs` (all of a text source, whatever
/// `part` says): a chunked run writes each source piece by piece.
///
/// # Errors
/// The writer's errors.
pub fn write_source_part(
    corpus: &Corpus,
    analysis: &Analysis,
    source: usize,
    docs: Range<usize>,
    annotate: &mut Annotate<'_>,
    out: &mut dyn Write,
    part: Range<usize>,
) -> std::io::Result<()> {
    let src = &corpus.sources[source];
    let now = matches!(annotate, Annotate::Now);
    if src.format == Format::Text {
        for doc in docs {
            if analysis.doc_dropped[doc] {
                continue;
            }
            // The file's own bytes (a text file that is not UTF-8 is
            // written back as it was).
            for span in kept_spans(analysis, doc) {
                out.write_all(&src.data[span])?;
            }
        }
        return Ok(());
    }
    // JSON Lines: every byte of the file is copied, except the lines of records
    // dropped whole, the raw text value of records that lost blocks (replaced by
    // the cleaned text's JSON) and, with --annotate, the fields added at the end
    // of each record.
    let data: &[u8] = &src.data;
    let mut out = CountingWriter {
        inner: out,
        written: 0,
    };
    let mut at = part.start;
    let mut released = part.start;
    // The cleaned texts' JSON (and annotations) of a batch of documents are
    // made on every thread, then written in order.
    let mut made: Vec<(Option<String>, Option<String>)> = Vec::new();
    for doc in docs.clone() {
        let i = (doc - docs.start) % OUTPUT_BATCH;
        if i == 0 {
            let batch = doc..(doc + OUTPUT_BATCH).min(docs.end);
            made = batch
                .into_par_iter()
                .map(|d| {
                    if analysis.doc_dropped[d] {
                        return (None, None);
                    }
                    let json = analysis.changes(d).then(|| {
                        let cleaned = cleaned_text(&corpus.text(&corpus.documents[d]), analysis, d);
                        serde_json::to_string(&cleaned).expect("strings always serialize")
                    });
                    (json, now.then(|| annotation(corpus, analysis, d)))
                })
                .collect();
        }
        let (json, fields) = std::mem::take(&mut made[i]);
        // Pages written out leave the resident set now and then: every 1024
        // records, or RELEASE_BYTES (300 records of 1 MB, annotated, kept
        // 300 MB of the input resident).
        if doc % 1024 == 1023 || at - released >= RELEASE_BYTES {
            src.data.release_range(released..at);
            released = at;
        }
        let document = &corpus.documents[doc];
        let record = document
            .record
            .as_ref()
            .expect("JSON Lines documents have records");
        if analysis.doc_dropped[doc] {
            out.write_all(&data[at..record.body().start])?;
            at = record.line_end();
            continue;
        }
        // Annotating an annotated record: the earlier run's fields go.
        let earlier = if matches!(annotate, Annotate::No) {
            Vec::new()
        } else {
            earlier_annotation(data, record.body())
        };
        if let Some(json) = json {
            copy_except(&mut out, data, at..record.text_value().start, &earlier)?;
            out.write_all(json.as_bytes())?;
            at = record.text_value().end;
        }
        if !matches!(annotate, Annotate::No) {
            let close = data[record.body()]
                .iter()
                .rposition(|&b| b == b'}')
                .expect("records are JSON objects")
                + record.body().start;
            copy_except(&mut out, data, at..close, &earlier)?;
            match annotate {
                Annotate::Later(marks) => marks.push(out.written),
                _ => out.write_all(fields.unwrap_or_default().as_bytes())?,
            }
            at = close;
        }
    }
    out.write_all(&data[at..part.end])
}

/// The byte ranges of the record at `body` of `data` that hold the fields
/// an earlier `--annotate` wrote (see [`crate::jsonl::without_fields`]).
fn earlier_annotation(data: &[u8], body: Range<usize>) -> Vec<Range<usize>> {
    let line = &data[body.clone()];
    if memchr::memmem::find(line, b"neardup").is_none() {
        return Vec::new();
    }
    std::str::from_utf8(line).map_or_else(
        |_| Vec::new(),
        |line| {
            crate::jsonl::without_fields(line, &crate::config::ANNOTATION_FIELDS)
                .into_iter()
                .map(|r| body.start + r.start..body.start + r.end)
                .collect()
        },
    )
}

/// Writes `data[range]` but the parts of it in `except` (sorted ranges).
fn copy_except(
    out: &mut dyn Write,
    data: &[u8],
    range: Range<usize>,
    except: &[Range<usize>],
) -> std::io::Result<()> {
    let mut at = range.start;
    for skip in except
        .iter()
        .filter(|r| r.end > range.start && r.start < range.end)
    {
        out.write_all(&data[at..skip.start.max(at)])?;
        at = skip.end.min(range.end).max(at);
    }
    out.write_all(&data[at..range.end])
}

/// A writer that counts the bytes written through it.
pub(crate) struct CountingWriter<W> {
    /// Where the bytes go.
    pub inner: W,
    /// Bytes written so far.
    pub written: u64,
}

impl<W: Write> Write for CountingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.written += n as u64;
        Ok(n)
    }

    /// Handed whole to `inner` (a buffer's copy), not a `write` at a time:
    /// serde_json writes a token a call, and the default loop was a sixth
    /// of the CPU of a report of 800,000 removals.
    fn write_all(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.inner.write_all(buf)?;
        self.written += buf.len() as u64;
        Ok(())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// Documents whose cleaned JSON is made at once, on every thread.
const OUTPUT_BATCH: usize = 512;

/// Bytes of a mapped input written out before their pages are let go.
const RELEASE_BYTES: usize = 16 << 20;

/// The fields `--annotate` adds to a record, with a leading comma.
fn annotation(corpus: &Corpus, analysis: &Analysis, doc: usize) -> String {
    let level = &analysis.doc_level;
    let removed = analysis.removed(doc).1;
    let Some(index) = level.cluster_of.get(doc).copied().flatten() else {
        return annotation_fields(None, removed);
    };
    let cluster = &level.clusters[index];
    let global = analysis.base_docs + doc;
    let similarity = cluster
        .members
        .iter()
        .find(|(m, _)| *m == global)
        .map_or(1.0, |(_, s)| *s);
    // The record that stays (with --keep newest:FIELD, the newest), which
    // is not always the cluster's first.
    annotation_fields(
        Some(InCluster {
            representative: cluster.representative,
            size: cluster.members.len(),
            representative_id: &analysis.doc_id(corpus, cluster.kept),
            similarity,
            duplicate: cluster.kept != global,
        }),
        removed,
    )
}

/// A record's place in its cluster, for `--annotate`.
pub(crate) struct InCluster<'a> {
    pub representative: usize,
    pub size: usize,
    pub representative_id: &'a str,
    pub similarity: f64,
    pub duplicate: bool,
}

/// The fields `--annotate` adds to a record in `cluster` (or in none) that
/// lost `removed` bytes of its text to repeated blocks, with a leading comma.
pub(crate) fn annotation_fields(cluster: Option<InCluster<'_>>, removed: usize) -> String {
    let mut value = match cluster {
        Some(c) => serde_json::json!({
            "neardup_cluster": c.representative,
            "neardup_cluster_size": c.size,
            "neardup_representative": c.representative_id,
            "neardup_similarity": (c.similarity * 10_000.0).round() / 10_000.0,
            "neardup_duplicate": c.duplicate,
        }),
        None => serde_json::json!({
            "neardup_cluster": null,
            "neardup_cluster_size": 1,
            "neardup_representative": null,
            "neardup_similarity": null,
            "neardup_duplicate": false,
        }),
    };
    if removed > 0 {
        value["neardup_removed_bytes"] = removed.into();
    }
    // serde_json's map keeps keys sorted, so the bytes are stable.
    let object = value.to_string();
    format!(", {}", &object[1..object.len() - 1])
}

/// `--annotate` in a chunked run: a cluster grows until the run ends (and a
/// record written alone may become a representative), so every record's
/// fields are made then, from what the chunks' clusters said. With `--keep
/// first` the representative is kept; with `--keep fullest` the member the
/// first pass chose, which every chunk's clusters name, and whose id is
/// known once its own chunk is read (it may come chunks after the
/// records that name it).
#[derive(Default)]
pub struct Annotations {
    /// Where each record's fields go in the held output, in document order.
    pub marks: Vec<u64>,
    /// Per document in a cluster (by global index): its representative and
    /// its similarity to it.
    members: HashMap<usize, (usize, f64)>,
    /// Per representative: its cluster's size, the member kept and its id
    /// (once its chunk is read).
    representatives: HashMap<usize, (usize, usize, Option<String>)>,
    /// Per document that lost blocks (by global index): the bytes removed.
    removed: HashMap<usize, usize>,
}

impl Annotations {
    /// Takes in a chunk's clusters (whose members include their
    /// representative, wherever it is).
    pub fn add(&mut self, corpus: &Corpus, analysis: &Analysis) {
        for doc in 0..corpus.documents.len() {
            let removed = analysis.removed(doc).1;
            if removed > 0 {
                self.removed.insert(analysis.base_docs + doc, removed);
            }
        }
        let read = analysis.base_docs + corpus.documents.len();
        for cluster in &analysis.doc_level.clusters {
            let rep = cluster.representative;
            let entry = self
                .representatives
                .entry(rep)
                .or_insert((0, cluster.kept, None));
            if entry.2.is_none() && cluster.kept < read {
                entry.2 = Some(analysis.doc_id(corpus, cluster.kept));
            }
            for &(member, similarity) in &cluster.members {
                if let std::collections::hash_map::Entry::Vacant(e) = self.members.entry(member) {
                    e.insert((rep, similarity));
                    entry.0 += 1;
                }
            }
        }
    }

    /// Bytes of memory its tables take (by their capacities, which grow
    /// alike in every run of the same input).
    #[must_use]
    pub fn held_bytes(&self) -> usize {
        use crate::memory::{hash_table, size_of_entry};
        let ids: usize = self
            .representatives
            .values()
            .map(|(_, _, id)| id.as_ref().map_or(0, String::len))
            .sum();
        self.marks.capacity() * 8
            + hash_table(self.members.capacity(), size_of_entry(&self.members))
            + hash_table(
                self.representatives.capacity(),
                size_of_entry(&self.representatives),
            )
            + hash_table(self.removed.capacity(), size_of_entry(&self.removed))
            + ids
    }

    /// The fields of document `doc` (a global index), with a leading comma.
    #[must_use]
    pub fn fields(&self, doc: usize) -> String {
        annotation_fields(
            self.members.get(&doc).map(|&(rep, similarity)| {
                let (size, kept, id) = &self.representatives[&rep];
                InCluster {
                    representative: rep,
                    size: *size,
                    representative_id: id
                        .as_deref()
                        .expect("the member kept is read by the run's end"),
                    similarity,
                    duplicate: doc != *kept,
                }
            }),
            self.removed.get(&doc).copied().unwrap_or(0),
        )
    }
}

/// Checks where `clean` may write `inputs` (each with its format), before
/// anything is written: the output path of each input under `--out-dir`.
///
/// # Errors
/// A [`Error::Usage`] when several text files would be run together on one
/// stream, when two inputs map to one output, or when an output is an input.
pub fn plan(
    inputs: &[(&InputPath, Format)],
    destination: &Destination,
    annotate: bool,
) -> Result<Vec<(PathBuf, usize)>> {
    if annotate {
        if let Some((text, _)) = inputs.iter().find(|(_, f)| *f == Format::Text) {
            return Err(Error::Usage(format!(
                "{}: --annotate adds fields to JSON Lines records; this input is plain text",
                crate::escape::shown_path(&text.path)
            )));
        }
    }
    let sources = inputs;
    // Sets and maps, not lists: an `--out-dir` of 100,000 files looks each
    // target up rather than comparing it with every input and target.
    let inputs: std::collections::HashSet<PathBuf> = sources
        .iter()
        .filter(|(s, _)| !s.is_stdin())
        .filter_map(|(s, _)| s.path.canonicalize().ok())
        .collect();
    let refuse_input = |path: &Path| -> Result<()> {
        if let Some(canon) = crate::targets::canonical_target(path) {
            if inputs.contains(&canon) {
                return Err(Error::Usage(format!(
                    "{}: output path is also an input; refusing to overwrite it",
                    crate::escape::shown_path(path)
                )));
            }
        }
        Ok(())
    };
    match destination {
        Destination::Stdout | Destination::File(_) => {
            // An input that is not there (a dangling link in a walked tree)
            // is no text to run together: the run names it (or skips it,
            // under `--on-error skip`).
            let there: Vec<_> = sources
                .iter()
                .filter(|(s, _)| s.is_stdin() || std::fs::metadata(&s.path).is_ok())
                .collect();
            let text_sources = there.iter().filter(|(_, f)| *f == Format::Text).count();
            if there.len() > 1 && text_sources > 0 {
                return Err(Error::Usage(format!(
                    "{} inputs include text files, which one output would run together; use --out-dir DIR",
                    there.len()
                )));
            }
            if let Destination::File(path) = destination {
                refuse_input(path)?;
            }
            Ok(Vec::new())
        }
        Destination::Dir(dir) => {
            let mut planned: Vec<(PathBuf, usize)> = Vec::new();
            let mut first: std::collections::HashMap<PathBuf, usize> =
                std::collections::HashMap::new();
            for (i, (source, _)) in sources.iter().enumerate() {
                let target = dir.join(&source.relative);
                if let Some(other) = first.get(&target) {
                    return Err(Error::Usage(format!(
                        "{} and {} would both be written to {}",
                        crate::escape::shown_path(&sources[*other].0.path),
                        crate::escape::shown_path(&source.path),
                        crate::escape::shown_path(&target)
                    )));
                }
                refuse_input(&target)?;
                first.insert(target.clone(), i);
                planned.push((target, i));
            }
            Ok(planned)
        }
    }
}

/// Writes `fill`'s bytes to `path` as [`crate::targets::write_to`] does,
/// compressing as the file name says (`.gz`, `.zst`).
///
/// # Errors
/// See [`crate::targets::write_to`].
pub fn write_compressed(
    path: &Path,
    staging: &mut Staging,
    fill: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<()> {
    let compression = Compression::from_name(path);
    crate::targets::write_to(path, staging, |out| {
        let mut encoder = Encoder::new(out, compression)?;
        fill(&mut encoder)?;
        encoder.finish()
    })
}
