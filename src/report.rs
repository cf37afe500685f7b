//! The duplication report: serde wire types for `--json`, built from the
//! analysis, and the human-readable rendering of the same data.
//!
//! # JSON schema (version 1)
//! One object; every array is sorted as stated, so the same input gives the same
//! bytes. Offsets are 0-based half-open `[start, end)` pairs; lines are 1-based
//! inclusive `[first, last]`. Offsets of JSON Lines documents are into the decoded
//! text field.
//! - `schema_version` (1), `tool` {`name`, `version`}, `command` (`scan`/`clean`)
//! - `parameters`: everything that changes the answer, the `seed` included
//!   (`block_shingle` is the words per shingle, `measure` is `containment`);
//!   `documents.measure` is `containment` (the share of a document's own
//!   shingles in its representative, |D∩R|/|D|, shingles that other
//!   representatives it was compared with also hold weighing 1/(1+n)³, and the
//!   plain share at least min(threshold, 0.6)) or `jaccard`
//! - `inputs[]` in input order: `path`, `format` (`jsonl` or `text`, as read:
//!   by `--format`, name or content), `documents`, `bytes`
//! - `summary`: `documents`, `dropped_documents`, `documents_with_repeats`,
//!   `blocks`, `removed_blocks`, `short_repeats_kept`, `runs`, `bytes`,
//!   `dropped_document_bytes`, `removed_block_bytes`, `removed_bytes` (both),
//!   `removed_ratio`
//! - `near_duplicates` (`null` at `--level blocks`): `candidate_probability[]`
//!   {`jaccard`, `probability`} (MinHash), `candidate_pairs`, `verified_pairs`,
//!   `clusters`, `duplicate_documents`, `dropped_documents`, `dropped_bytes`,
//!   `cluster_list[]` (largest first, then by id): `id` (the representative's
//!   index), `size`, `representative`, `kept`, `members[]` {`document`,
//!   `similarity` to the representative, `kept`}
//! - `documents[]` (those with any repeat, in input order): `document`
//!   {`index`, `id`, `path`, `line`}, `bytes`, `blocks`, `removed_blocks`,
//!   `removed_bytes`, `runs[]`, `short_repeats[]`
//! - a run: `lines`, `blocks`, `bytes`, `source` (a document), `source_lines`,
//!   `similarity` {`min`, `mean`}, `exact`, `interruptions[]` {`lines`, `blocks`,
//!   `bytes`}, `removals[]`
//! - a removal (also each short repeat): `repeat`, `first_copy` (the earliest
//!   copy of its text) and `aligned_with` (the block of the run's source it
//!   mirrors: the first copy or a later copy of it), each
//!   {`document`, `bytes`, `chars`, `lines`} where `bytes`/`chars` cover the
//!   block's span (its text, line break and following blank lines: removing
//!   exactly these bytes gives the cleaned text) and `lines` its text; then
//!   `similarity` (containment in the first copy, 1 for exact), `exact`, `removed`
//! - `skipped[]`: inputs and records passed over, as error messages naming the
//!   file and line (binary files; with `--on-error skip`, bad files and records)
//! - `check` (`neardup check` only): `measurements[]` {`name`, `count`, `total`,
//!   `share`, `limit`, `passed`} and `passed`
//! - `syndicated[]`: blocks found in two or more documents, by `documents`
//!   descending, then `copies` descending, then input order (a document dropped
//!   whole as a near duplicate counts where it holds an exact copy of a block
//!   that two kept documents share): `first_copy`,
//!   `documents`, `copies` (the first copy included), `removed` (copies removed),
//!   `words`, `short`, `text` (the first 100 characters)
//! - with `--preview N`, each removal (and short repeat) has `preview`: the
//!   first N characters of its block's text, white space collapsed
//!
//! # JSON Lines (`--output-format jsonl`)
//! The same report, one object a line, each with a `type`:
//! - `header` (first): `schema_version`, `tool`, `command`, `parameters`,
//!   `inputs`, and `index` when there is one
//! - `document`: an entry of `documents`, in its order
//! - `cluster`: an entry of `near_duplicates.cluster_list`, in its order
//! - `syndicated`: an entry of `syndicated`, in its order
//! - `summary` (last): `summary`, `near_duplicates` (its totals and S-curve,
//!   without `cluster_list`; `null` at `--level blocks`), `skipped`, and
//!   `check` for `neardup check`

use crate::cluster::Candidates;
use crate::config::{Config, Method};
use crate::decide::Pair;
use crate::input::{Corpus, Texts};
use crate::pipeline::Analysis;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

pub mod html;

/// Version of the JSON report's layout; bumped on any incompatible change.
pub const SCHEMA_VERSION: u32 = 1;

/// The whole report.
#[derive(Debug, Serialize, Deserialize, PartialEq)]
#[allow(missing_docs)]
pub struct Report {
    pub schema_version: u32,
    pub tool: Tool,
    pub command: String,
    pub parameters: Parameters,
    pub inputs: Vec<InputReport>,
    pub summary: Summary,
    /// The document level (`null` at `--level blocks`).
    pub near_duplicates: Option<NearDuplicates>,
    #[serde(serialize_with = "unless_spliced")]
    pub documents: Vec<DocReport>,
    #[serde(serialize_with = "unless_spliced")]
    pub syndicated: Vec<Syndicated>,
    /// Inputs and records passed over (binary files; with `--on-error skip`,
    /// unreadable files and malformed records), each as its error message.
    pub skipped: Vec<String>,
    /// `neardup check` only: the shares measured against their limits.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub check: Option<crate::check::CheckReport>,
    /// With `--index` or `--reference`: the index the run was checked against.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub index: Option<IndexReport>,
    /// A chunked run's documents, spooled to a temporary file instead of
    /// `documents` (they come after it, in input order).
    #[serde(skip)]
    pub spool: Option<Spool>,
    /// A chunked run's shared blocks, spooled in their order instead of
    /// `syndicated`.
    #[serde(skip)]
    pub syndicated_spool: Option<Spool>,
    /// A chunked run's near-duplicate clusters, spooled in their order
    /// instead of `near_duplicates.cluster_list`.
    #[serde(skip)]
    pub cluster_spool: Option<Spool>,
}

/// Documents of a report written to an unnamed temporary file, one JSON
/// object a line, so that a report larger than memory can be written.
#[derive(Debug)]
pub struct Spool {
    file: std::io::BufWriter<std::fs::File>,
    count: usize,
    /// Bytes written.
    len: u64,
}

impl PartialEq for Spool {
    fn eq(&self, other: &Spool) -> bool {
        self.count == other.count
    }
}

impl Spool {
    /// An empty spool in `dir`.
    ///
    /// # Errors
    /// When the temporary file cannot be made.
    pub fn new(dir: &std::path::Path) -> std::io::Result<Spool> {
        std::fs::create_dir_all(dir)?;
        Ok(Spool {
            file: std::io::BufWriter::with_capacity(1 << 20, tempfile::tempfile_in(dir)?),
            count: 0,
            len: 0,
        })
    }

    /// Appends `item`'s JSON (and a line break); returns where that JSON is,
    /// for [`Spool::read_at`].
    fn push<T: Serialize>(&mut self, item: &T) -> std::io::Result<(u64, u32)> {
        let json = serde_json::to_vec(item).map_err(std::io::Error::from)?;
        self.push_raw(&json)
    }

    /// Appends JSON already made (one line, without its line break); returns
    /// where it is, as [`Spool::push`] does.
    fn push_raw(&mut self, json: &[u8]) -> std::io::Result<(u64, u32)> {
        use std::io::Write as _;
        self.file.write_all(json)?;
        self.file.write_all(b"\n")?;
        self.count += 1;
        let at = (self.len, u32::try_from(json.len()).unwrap_or(u32::MAX));
        self.len += json.len() as u64 + 1;
        Ok(at)
    }

    /// The JSON `push` wrote at `at`.
    fn read_at(&mut self, (at, len): (u64, u32), buf: &mut Vec<u8>) -> std::io::Result<()> {
        use std::io::{Read as _, Seek as _, Write as _};
        self.file.flush()?;
        let mut file = self.file.get_ref();
        buf.resize(len as usize, 0);
        file.seek(std::io::SeekFrom::Start(at))?;
        file.read_exact(buf)?;
        // Later pushes go on at the end.
        file.seek(std::io::SeekFrom::End(0))?;
        Ok(())
    }

    /// Makes everything written so far readable.
    fn flush(&mut self) -> std::io::Result<()> {
        use std::io::Write as _;
        self.file.flush()
    }

    /// Calls `f` with each spooled document's JSON, in order.
    ///
    /// # Errors
    /// When the file cannot be read back.
    pub fn for_each_json(
        &self,
        f: &mut dyn FnMut(&[u8]) -> std::io::Result<()>,
    ) -> std::io::Result<()> {
        self.first_json(usize::MAX, f)
    }

    /// [`Spool::for_each_json`] for the first `n` entries only.
    fn first_json(
        &self,
        n: usize,
        f: &mut dyn FnMut(&[u8]) -> std::io::Result<()>,
    ) -> std::io::Result<()> {
        use std::io::{BufRead as _, Seek as _};
        let mut file = self.file.get_ref().try_clone()?;
        file.seek(std::io::SeekFrom::Start(0))?;
        let mut reader = std::io::BufReader::with_capacity(1 << 20, file);
        let mut line = Vec::new();
        for _ in 0..n {
            line.clear();
            if reader.read_until(b'\n', &mut line)? == 0 {
                break;
            }
            f(line.strip_suffix(b"\n").unwrap_or(&line))?;
        }
        Ok(())
    }
}

/// Writes the entries of a JSON list, comma-separated: `held` (serialized on
/// every thread, 256 a task, 4,096 at a time), then those in `spool`.
fn write_entries<T: Serialize + Sync>(
    held: &[T],
    spool: Option<&Spool>,
    out: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    let mut first = true;
    for batch in held.chunks(4096) {
        let parts: Vec<Vec<u8>> = batch
            .par_chunks(256)
            .map(|items| {
                let mut part = Vec::new();
                for item in items {
                    part.push(b',');
                    serde_json::to_writer(&mut part, item).expect("a report entry serializes");
                }
                part
            })
            .collect();
        for part in &parts {
            // The list's first entry has no comma before it.
            out.write_all(&part[usize::from(first)..])?;
            first = false;
        }
    }
    if let Some(spool) = spool {
        spool.for_each_json(&mut |json| {
            if !first {
                out.write_all(b",")?;
            }
            first = false;
            out.write_all(json)
        })?;
    }
    Ok(())
}

/// Calls `f` with each of `held`, then each entry read back from `spool`.
fn held_then_spooled<T: serde::de::DeserializeOwned>(
    held: &[T],
    spool: Option<&Spool>,
    f: &mut dyn FnMut(&T),
) -> std::io::Result<()> {
    for item in held {
        f(item);
    }
    if let Some(spool) = spool {
        spool.for_each_json(&mut |json| {
            let item: T = serde_json::from_slice(json).map_err(std::io::Error::from)?;
            f(&item);
            Ok(())
        })?;
    }
    Ok(())
}

impl Report {
    /// Calls `f` with each document with repeats, in order: those held in
    /// `documents`, then those spooled.
    ///
    /// # Errors
    /// When spooled documents cannot be read back.
    pub fn for_each_document(&self, f: &mut dyn FnMut(&DocReport)) -> std::io::Result<()> {
        held_then_spooled(&self.documents, self.spool.as_ref(), f)
    }

    /// Calls `f` with each shared block, in order: those held in
    /// `syndicated`, then those spooled.
    ///
    /// # Errors
    /// When spooled entries cannot be read back.
    pub fn for_each_syndicated(&self, f: &mut dyn FnMut(&Syndicated)) -> std::io::Result<()> {
        held_then_spooled(&self.syndicated, self.syndicated_spool.as_ref(), f)
    }

    /// Calls `f` with each near-duplicate cluster, largest first: those held
    /// in `near_duplicates`, then those spooled.
    ///
    /// # Errors
    /// When spooled clusters cannot be read back.
    pub fn for_each_cluster(&self, f: &mut dyn FnMut(&ClusterReport)) -> std::io::Result<()> {
        held_then_spooled(self.held_clusters(), self.cluster_spool.as_ref(), f)
    }

    /// The clusters held in `near_duplicates` (all of them unless spooled).
    fn held_clusters(&self) -> &[ClusterReport] {
        self.near_duplicates
            .as_ref()
            .map_or(&[][..], |near| &near.cluster_list[..])
    }

    /// The first `n` near-duplicate clusters (the largest), held or spooled.
    ///
    /// # Errors
    /// When spooled clusters cannot be read back.
    pub fn first_clusters(&self, n: usize) -> std::io::Result<Vec<ClusterReport>> {
        let mut out: Vec<ClusterReport> = self.held_clusters().iter().take(n).cloned().collect();
        if let Some(spool) = &self.cluster_spool {
            spool.first_json(n - out.len(), &mut |json| {
                out.push(serde_json::from_slice(json).map_err(std::io::Error::from)?);
                Ok(())
            })?;
        }
        Ok(out)
    }

    /// Writes the report as JSON (one line and a newline), its spooled
    /// documents streamed in place: the same bytes as serializing it whole.
    ///
    /// # Errors
    /// Write errors, or a spool that cannot be read back.
    pub fn write_json(&self, out: &mut dyn std::io::Write) -> std::io::Result<()> {
        if self.spool.is_none()
            && self.syndicated_spool.is_none()
            && self.cluster_spool.is_none()
            && self.documents.len() < 256
        {
            serde_json::to_writer(&mut *out, self).map_err(std::io::Error::from)?;
            return out.write_all(b"\n");
        }
        // The report without its documents, which are written in its place:
        // read back from the spool, or made on every thread a batch at a time.
        let json = SPLICE_DOCUMENTS.with(|splice| {
            splice.set(true);
            let json = serde_json::to_string(self);
            splice.set(false);
            json
        });
        let json = json.map_err(std::io::Error::from)?;
        // The clusters first (held or spooled), when there is a document level.
        let mut json = &json[..];
        let marker = "\"cluster_list\":[]";
        if let (Some(near), Some(at)) = (&self.near_duplicates, json.find(marker)) {
            out.write_all(&json.as_bytes()[..at + marker.len() - 1])?;
            write_entries(&near.cluster_list, self.cluster_spool.as_ref(), out)?;
            json = &json[at + marker.len() - 1..];
        }
        // Only the top-level field has an empty array for its value: the
        // other "documents" keys hold numbers.
        let marker = "\"documents\":[]";
        let at = json.find(marker).expect("a report has a documents field");
        out.write_all(&json.as_bytes()[..at + marker.len() - 1])?;
        write_entries(&self.documents, self.spool.as_ref(), out)?;
        // Then the shared blocks, held or spooled.
        let rest = &json[at + marker.len() - 1..];
        let marker = "\"syndicated\":[]";
        let at = rest.find(marker).expect("a report has a syndicated field");
        out.write_all(&rest.as_bytes()[..at + marker.len() - 1])?;
        write_entries(&self.syndicated, self.syndicated_spool.as_ref(), out)?;
        out.write_all(&rest.as_bytes()[at + marker.len() - 1..])?;
        out.write_all(b"\n")
    }
}

/// `--output-format jsonl`: one record a line, each with its `type`.
#[derive(Serialize)]
struct Line<'a, T> {
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(flatten)]
    body: &'a T,
}

/// The first line of the JSON Lines report.
#[derive(Serialize)]
struct Header<'a> {
    schema_version: u32,
    tool: &'a Tool,
    command: &'a str,
    parameters: &'a Parameters,
    inputs: &'a [InputReport],
    #[serde(skip_serializing_if = "Option::is_none")]
    index: Option<&'a IndexReport>,
}

/// The last line of the JSON Lines report.
#[derive(Serialize)]
struct Totals<'a> {
    summary: &'a Summary,
    near_duplicates: Option<NearTotals<'a>>,
    skipped: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    check: Option<&'a crate::check::CheckReport>,
}

/// [`NearDuplicates`] without its clusters (which have lines of their own).
#[derive(Serialize)]
struct NearTotals<'a> {
    candidate_probability: &'a [CandidateProbability],
    candidate_pairs: usize,
    verified_pairs: usize,
    clusters: usize,
    duplicate_documents: usize,
    dropped_documents: usize,
    dropped_bytes: usize,
}

impl Report {
    /// Writes the report as JSON Lines (`--output-format jsonl`): a `header`
    /// line, a line per `document`, `cluster` and `syndicated` block (in the
    /// orders of the JSON report), then a `summary` line; see the module's
    /// documentation. Nothing is held whole: a line can be read as soon as
    /// it is written, and `tail -1` gives the totals.
    ///
    /// # Errors
    /// Write errors, or a spool that cannot be read back.
    pub fn write_jsonl(&self, out: &mut dyn std::io::Write) -> std::io::Result<()> {
        fn line<T: Serialize>(
            out: &mut dyn std::io::Write,
            kind: &'static str,
            body: &T,
        ) -> std::io::Result<()> {
            serde_json::to_writer(&mut *out, &Line { kind, body }).map_err(std::io::Error::from)?;
            out.write_all(b"\n")
        }
        let header = Header {
            schema_version: self.schema_version,
            tool: &self.tool,
            command: &self.command,
            parameters: &self.parameters,
            inputs: &self.inputs,
            index: self.index.as_ref(),
        };
        line(out, "header", &header)?;
        let mut failed: Option<std::io::Error> = None;
        self.for_each_document(&mut |d| {
            if failed.is_none() {
                failed = line(out, "document", d).err();
            }
        })?;
        self.for_each_cluster(&mut |c| {
            if failed.is_none() {
                failed = line(out, "cluster", c).err();
            }
        })?;
        self.for_each_syndicated(&mut |s| {
            if failed.is_none() {
                failed = line(out, "syndicated", s).err();
            }
        })?;
        if let Some(e) = failed {
            return Err(e);
        }
        let totals = Totals {
            summary: &self.summary,
            near_duplicates: self.near_duplicates.as_ref().map(|n| NearTotals {
                candidate_probability: &n.candidate_probability,
                candidate_pairs: n.candidate_pairs,
                verified_pairs: n.verified_pairs,
                clusters: n.clusters,
                duplicate_documents: n.duplicate_documents,
                dropped_documents: n.dropped_documents,
                dropped_bytes: n.dropped_bytes,
            }),
            skipped: &self.skipped,
            check: self.check.as_ref(),
        };
        line(out, "summary", &totals)
    }
}

thread_local! {
    /// Set while [`Report::write_json`] serializes a report whose documents it
    /// writes itself.
    static SPLICE_DOCUMENTS: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// A list, or an empty one where [`Report::write_json`] splices it in.
fn unless_spliced<T: Serialize, S: serde::Serializer>(
    items: &[T],
    serializer: S,
) -> Result<S::Ok, S::Error> {
    if SPLICE_DOCUMENTS.with(std::cell::Cell::get) {
        serializer.collect_seq(std::iter::empty::<&T>())
    } else {
        serializer.collect_seq(items)
    }
}

/// The index a run was checked against.
#[derive(Debug, Serialize, Deserialize, PartialEq)]
pub struct IndexReport {
    /// The index file as given.
    pub path: String,
    /// `index` (`--index`) or `reference` (`--reference`, never added to).
    pub role: String,
    /// Documents it held before this run.
    pub documents: usize,
    /// Blocks it held before this run.
    pub blocks: usize,
    /// Whether this run's documents were added to it (`--update`).
    pub updated: bool,
}

/// Name and version of the program that wrote the report.
#[derive(Debug, Serialize, Deserialize, PartialEq)]
#[allow(missing_docs)]
pub struct Tool {
    pub name: String,
    pub version: String,
}

/// The settings that shaped the answer.
#[derive(Debug, Serialize, Deserialize, PartialEq)]
#[allow(missing_docs)]
pub struct Parameters {
    pub blocks: String,
    pub format: String,
    pub text_field: String,
    pub id_field: String,
    pub normalization: String,
    pub block_shingle: usize,
    pub measure: String,
    pub block_threshold: f64,
    pub min_words: usize,
    pub drop_short: bool,
    pub max_gap: usize,
    pub seed: u64,
    pub level: String,
    pub documents: DocParameters,
}

/// The document level's settings.
#[derive(Debug, Serialize, Deserialize, PartialEq)]
#[allow(missing_docs)]
pub struct DocParameters {
    pub method: String,
    pub doc_shingle: usize,
    pub threshold: f64,
    pub measure: String,
    /// MinHash: slots, bands, rows; `null` for SimHash.
    pub num_perm: Option<usize>,
    pub bands: Option<usize>,
    pub rows: Option<usize>,
    /// SimHash: the Hamming distance; `null` for MinHash.
    pub hamming: Option<u32>,
    pub keep: String,
    pub annotate: bool,
}

/// The document level's findings.
#[derive(Debug, Serialize, Deserialize, PartialEq)]
#[allow(missing_docs)]
pub struct NearDuplicates {
    /// MinHash: the chance that a pair at each Jaccard becomes a candidate.
    pub candidate_probability: Vec<CandidateProbability>,
    pub candidate_pairs: usize,
    pub verified_pairs: usize,
    pub clusters: usize,
    /// Members of clusters that are not the kept one.
    pub duplicate_documents: usize,
    /// Documents left out of the output (0 with `--annotate`).
    pub dropped_documents: usize,
    pub dropped_bytes: usize,
    /// Every cluster, largest first (then by id).
    #[serde(serialize_with = "unless_spliced")]
    pub cluster_list: Vec<ClusterReport>,
}

/// One point of the LSH S-curve.
#[derive(Debug, Serialize, Deserialize, PartialEq)]
#[allow(missing_docs)]
pub struct CandidateProbability {
    pub jaccard: f64,
    pub probability: f64,
}

/// A cluster of near-duplicate documents.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[allow(missing_docs)]
pub struct ClusterReport {
    /// The representative's document index: stable from run to run.
    pub id: usize,
    pub size: usize,
    pub representative: DocRef,
    pub kept: DocRef,
    /// In input order, the representative first.
    pub members: Vec<ClusterMember>,
}

/// A cluster member and its similarity to the representative.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[allow(missing_docs)]
pub struct ClusterMember {
    pub document: DocRef,
    pub similarity: f64,
    pub kept: bool,
}

/// One input file.
#[derive(Debug, Serialize, Deserialize, PartialEq)]
#[allow(missing_docs)]
pub struct InputReport {
    pub path: String,
    pub format: String,
    pub documents: usize,
    pub bytes: usize,
}

/// Totals over the corpus.
#[derive(Debug, Serialize, Deserialize, PartialEq)]
#[allow(missing_docs)]
pub struct Summary {
    pub documents: usize,
    pub dropped_documents: usize,
    pub documents_with_repeats: usize,
    pub blocks: usize,
    pub removed_blocks: usize,
    pub short_repeats_kept: usize,
    pub runs: usize,
    pub bytes: usize,
    /// Bytes of documents dropped whole.
    pub dropped_document_bytes: usize,
    /// Bytes of repeated blocks removed from kept documents.
    pub removed_block_bytes: usize,
    /// Both of the above.
    pub removed_bytes: usize,
    pub removed_ratio: f64,
}

/// Which document.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct DocRef {
    /// 0-based position in input order.
    pub index: usize,
    /// The document's id.
    pub id: String,
    /// The file it came from (shared by the references into one file).
    pub path: std::sync::Arc<str>,
    /// JSON Lines: the record's line in the file.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub line: Option<usize>,
    /// The document is in the index (`--index`, `--reference`): an earlier
    /// run saw it, and `index` counts the index's documents first.
    #[serde(skip_serializing_if = "std::ops::Not::not", default)]
    pub indexed: bool,
}

/// A block's place.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[allow(missing_docs)]
pub struct Place {
    pub document: DocRef,
    pub bytes: [usize; 2],
    pub chars: [usize; 2],
    pub lines: [usize; 2],
}

/// One repeated block and its first copy.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[allow(missing_docs)]
pub struct Removal {
    pub repeat: Place,
    pub first_copy: Place,
    pub aligned_with: Place,
    pub similarity: f64,
    pub exact: bool,
    pub removed: bool,
    /// With `--preview N`: the block's first N characters, white space collapsed.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub preview: Option<String>,
}

/// Unrepeated blocks inside a run.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[allow(missing_docs)]
pub struct Interruption {
    pub lines: [usize; 2],
    pub blocks: usize,
    pub bytes: usize,
}

/// Lowest and mean similarity of a run's blocks.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[allow(missing_docs)]
pub struct Similarity {
    pub min: f64,
    pub mean: f64,
}

/// A run of repeated blocks.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[allow(missing_docs)]
pub struct RunReport {
    pub lines: [usize; 2],
    pub blocks: usize,
    pub bytes: usize,
    pub source: DocRef,
    pub source_lines: [usize; 2],
    pub similarity: Similarity,
    pub exact: bool,
    pub interruptions: Vec<Interruption>,
    pub removals: Vec<Removal>,
}

/// One document with repeats.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[allow(missing_docs)]
pub struct DocReport {
    pub document: DocRef,
    pub bytes: usize,
    pub blocks: usize,
    pub removed_blocks: usize,
    pub removed_bytes: usize,
    pub runs: Vec<RunReport>,
    pub short_repeats: Vec<Removal>,
}

/// A block found in several documents.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[allow(missing_docs)]
pub struct Syndicated {
    pub first_copy: Place,
    pub documents: usize,
    pub copies: usize,
    pub removed: usize,
    pub words: usize,
    pub short: bool,
    pub text: String,
}

/// Byte offset to character offset, with a checkpoint every 256 bytes so that
/// many look-ups into one long document stay cheap; ASCII needs none.
struct CharIndex<'t> {
    text: std::borrow::Cow<'t, str>,
    checkpoints: Vec<usize>,
    ascii: bool,
}

const CHECKPOINT: usize = 256;

impl<'t> CharIndex<'t> {
    fn new(text: std::borrow::Cow<'t, str>) -> Self {
        if text.is_ascii() {
            return CharIndex {
                text,
                checkpoints: Vec::new(),
                ascii: true,
            };
        }
        let bytes = text.as_bytes();
        let mut checkpoints = Vec::with_capacity(bytes.len() / CHECKPOINT + 1);
        let mut chars = 0;
        checkpoints.push(0);
        for chunk in bytes.chunks(CHECKPOINT) {
            chars += count_chars(chunk);
            checkpoints.push(chars);
        }
        CharIndex {
            text,
            checkpoints,
            ascii: false,
        }
    }

    fn chars_before(&self, byte: usize) -> usize {
        if self.ascii {
            return byte;
        }
        let slot = byte / CHECKPOINT;
        self.checkpoints[slot] + count_chars(&self.text.as_bytes()[slot * CHECKPOINT..byte])
    }
}

/// Characters in a byte slice of UTF-8: bytes that are not continuation bytes.
fn count_chars(bytes: &[u8]) -> usize {
    bytes.iter().filter(|&&b| (b & 0xC0) != 0x80).count()
}

struct Builder<'a> {
    corpus: &'a Corpus,
    analysis: &'a Analysis,
    /// Each source's name, shared by every reference into it.
    names: &'a [std::sync::Arc<str>],
    char_indexes: HashMap<usize, CharIndex<'a>>,
    /// Characters of each removal's preview (`--preview`; 0: none).
    preview: usize,
}

impl<'a> Builder<'a> {
    fn new(
        corpus: &'a Corpus,
        analysis: &'a Analysis,
        names: &'a [std::sync::Arc<str>],
        preview: usize,
    ) -> Builder<'a> {
        Builder {
            corpus,
            analysis,
            names,
            char_indexes: HashMap::new(),
            preview,
        }
    }

    /// A document by its global index (the index's documents first).
    fn doc_ref(&self, global: usize) -> DocRef {
        let base = self.analysis.base_docs;
        if let (Some(h), true) = (&self.analysis.history, global < base) {
            let d = h.doc(global);
            let (id, path) = h.doc_strings(global);
            return DocRef {
                index: global,
                id,
                path: path.into(),
                line: (d.line > 0).then_some(d.line as usize),
                indexed: global < self.analysis.indexed_docs,
            };
        }
        let d = &self.corpus.documents[global - base];
        DocRef {
            index: global,
            id: self.corpus.id(d).into_owned(),
            path: self.names[d.source].clone(),
            line: d.record.as_ref().map(crate::input::Record::line),
            indexed: false,
        }
    }

    fn place(&mut self, global: usize) -> Place {
        if let (Some(h), true) = (&self.analysis.history, self.analysis.stored(global)) {
            let b = h.block(global);
            #[allow(clippy::cast_possible_truncation)]
            return Place {
                document: self.doc_ref(b.doc as usize),
                bytes: [b.bytes[0] as usize, b.bytes[1] as usize],
                chars: [b.chars[0] as usize, b.chars[1] as usize],
                lines: [b.lines[0] as usize, b.lines[1] as usize],
            };
        }
        let (doc, block) = self.analysis.block(global);
        let (span, lines) = (block.span.clone(), [block.first_line, block.last_line]);
        let corpus = self.corpus;
        if self.char_indexes.len() >= 64 && !self.char_indexes.contains_key(&doc) {
            // Only a few documents' texts are held: the one at hand and the
            // first copies it points to.
            self.char_indexes.clear();
        }
        let index = self
            .char_indexes
            .entry(doc)
            .or_insert_with(|| CharIndex::new(corpus.text(&corpus.documents[doc])));
        let chars = [index.chars_before(span.start), index.chars_before(span.end)];
        Place {
            document: self.doc_ref(self.analysis.base_docs + doc),
            bytes: [span.start, span.end],
            chars,
            lines,
        }
    }

    fn removal(&mut self, pair: &Pair) -> Removal {
        Removal {
            repeat: self.place(pair.block),
            first_copy: self.place(pair.source),
            aligned_with: self.place(pair.mirror),
            similarity: round(pair.similarity),
            exact: pair.exact,
            removed: self.analysis.is_dropped(pair.block),
            preview: (self.preview > 0).then(|| {
                let (doc, block) = self.analysis.block(pair.block);
                let text = self.corpus.text(&self.corpus.documents[doc]);
                preview_chars(&text[block.content.clone()], self.preview)
            }),
        }
    }

    fn span_len(&self, global: usize) -> usize {
        self.analysis.block(global).1.span.len()
    }

    /// The entry of this chunk's document `doc`, which has runs or short
    /// repeats.
    fn doc_report(&mut self, doc: usize) -> DocReport {
        let analysis = self.analysis;
        let decision = &analysis.decisions[doc];
        let mut runs = Vec::new();
        for run in &decision.runs {
            let first = run.pairs.first().expect("runs are never empty");
            let last = run.pairs.last().expect("runs are never empty");
            let source_doc = analysis.doc_of_block(first.mirror);
            let (src_first, src_last) = (first.mirror, last.mirror);
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
                removals: run.pairs.iter().map(|p| self.removal(p)).collect(),
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
            short_repeats: decision
                .kept_short
                .iter()
                .map(|p| self.removal(p))
                .collect(),
        }
    }
}

fn round(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}

/// `part / whole` rounded to 4 decimals, 0 for an empty whole.
#[must_use]
#[allow(clippy::cast_precision_loss)]
pub fn ratio(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        0.0
    } else {
        round(part as f64 / whole as f64)
    }
}

/// The preview of first copy `source`: its own text when this chunk or the
/// whole corpus has it, else (a first copy stored in an index, which holds
/// no text) that of this chunk's copy `block`.
fn preview_of(earlier: &dyn Texts, b: &Builder<'_>, source: usize, block: usize) -> String {
    let analysis = b.analysis;
    if !analysis.stored(source) {
        let (doc, blk) = analysis.block(source);
        return preview(&b.corpus.text(&b.corpus.documents[doc])[blk.content.clone()]);
    }
    if let Some(h) = &analysis.history {
        let stored = h.block(source);
        if let Some(doc) = (stored.doc as usize).checked_sub(analysis.indexed_docs) {
            #[allow(clippy::cast_possible_truncation)]
            let span = stored.bytes[0] as usize..stored.bytes[1] as usize;
            return preview(&earlier.text_of(doc)[span]);
        }
    }
    let (doc, blk) = analysis.block(block);
    preview(&b.corpus.text(&b.corpus.documents[doc])[blk.content.clone()])
}

/// Builds the report of a finished analysis.
#[must_use]
pub fn build(corpus: &Corpus, analysis: &Analysis, config: &Config, command: &str) -> Report {
    let mut report = Accumulator::new(config, command);
    report.add(corpus, analysis, corpus);
    report
        .finish(&corpus.sources, &corpus.skipped)
        .expect("nothing is spooled")
}

/// The report's totals alone, without its entries (the same numbers as
/// [`build`]'s summary): for a run whose report goes nowhere but its one
/// line of totals (cleaned text on standard output and no `--report`), which
/// then skips building the rest (a sixth of such a run's time).
#[must_use]
pub fn summary(corpus: &Corpus, analysis: &Analysis) -> Summary {
    let (mut with_repeats, mut runs, mut short_repeats, mut removed_block_bytes) = (0, 0, 0, 0);
    for (doc, decision) in analysis.decisions.iter().enumerate() {
        if decision.runs.is_empty() && decision.kept_short.is_empty() {
            continue;
        }
        with_repeats += 1;
        runs += decision.runs.len();
        short_repeats += decision.kept_short.len();
        removed_block_bytes += analysis.removed(doc).1;
    }
    let (mut dropped_documents, mut dropped_document_bytes) = (0, 0);
    for (d, &dropped) in analysis.doc_dropped.iter().enumerate() {
        if dropped {
            dropped_documents += 1;
            dropped_document_bytes += corpus.text_len(&corpus.documents[d]);
        }
    }
    let bytes = corpus.documents.iter().map(|d| corpus.text_len(d)).sum();
    let removed_bytes = removed_block_bytes + dropped_document_bytes;
    Summary {
        documents: corpus.documents.len(),
        dropped_documents,
        documents_with_repeats: with_repeats,
        blocks: analysis.dropped.len(),
        removed_blocks: analysis.dropped.iter().filter(|&&d| d).count(),
        short_repeats_kept: short_repeats,
        runs,
        bytes,
        dropped_document_bytes,
        removed_block_bytes,
        removed_bytes,
        removed_ratio: ratio(removed_bytes, bytes),
    }
}

/// A block found in several documents, as the report accumulates it: one
/// for every block repeated anywhere (1.3 million for a 5 GB corpus), so
/// counts and document numbers are 32-bit (documents and blocks are fewer
/// than 2^32 throughout).
struct Shared {
    /// Documents holding it or a copy, counted without a set: copies come in
    /// document order, never before their first copy's document, and copies
    /// in dropped documents (counted last, by first copy and document) are in
    /// other documents than either.
    docs: u32,
    source_doc: u32,
    last_doc: u32,
    last_dropped: u32,
    copies: u32,
    removed: u32,
    words: u32,
    first_doc: u32,
    /// The first copy's place and preview, made once every entry of the
    /// chunk is counted; with a spool, written there instead (at `at`) and
    /// only the sort keys kept.
    made: Option<Box<(Place, String)>>,
    first_bytes: [usize; 2],
    at: (u64, u32),
}

/// A document or block number as the report's tables hold it.
fn n32(n: usize) -> u32 {
    u32::try_from(n).expect("fewer than 2^32 documents and blocks")
}

/// Clusters whose members are spooled as they come, chunk after chunk: what is
/// held of a cluster is where its pieces' JSON is, 16 bytes a member instead
/// of a whole reference (a 5 GB corpus has a million members).
struct ClusterSpool {
    /// JSON of representatives', kept members' and members' entries.
    parts: Spool,
    /// Where `parts` is, and the clusters' entries will be.
    dir: std::path::PathBuf,
    clusters: HashMap<usize, HeldCluster>,
}

impl ClusterSpool {
    /// Adds a chunk's clusters: a cluster met in an earlier chunk gets this
    /// chunk's members (its representative comes again: not twice).
    fn add(
        &mut self,
        b: &Builder<'_>,
        clusters: &[crate::cluster::Cluster],
    ) -> std::io::Result<()> {
        for c in clusters {
            let held = match self.clusters.entry(c.representative) {
                std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
                std::collections::hash_map::Entry::Vacant(e) => e.insert(HeldCluster {
                    representative: self.parts.push(&b.doc_ref(c.representative))?,
                    kept: self.parts.push(&b.doc_ref(c.kept))?,
                    members: Vec::new(),
                }),
            };
            let again = !held.members.is_empty();
            for &(m, similarity) in &c.members {
                if again && m == c.representative {
                    continue;
                }
                held.members.push(self.parts.push(&ClusterMember {
                    document: b.doc_ref(m),
                    similarity: round(similarity),
                    kept: m == c.kept,
                })?);
            }
        }
        Ok(())
    }
}

/// Where the pieces of one spooled cluster are.
struct HeldCluster {
    representative: (u64, u32),
    kept: (u64, u32),
    members: Vec<(u64, u32)>,
}

/// The report of a run made of chunks checked one after another (one chunk
/// for a whole-corpus run): each chunk's analysis is added as it is done,
/// and `finish` gives the report that one analysis of everything would give.
pub struct Accumulator {
    config: Config,
    command: String,
    candidates: Option<Candidates>,
    documents: Vec<DocReport>,
    shared: BTreeMap<usize, Shared>,
    /// (first copy, global document) of blocks in documents dropped whole
    /// that copy a first copy, counted at the end (8 bytes each: a 5 GB
    /// corpus has millions).
    copies_in_dropped: Vec<(u32, u32)>,
    clusters: BTreeMap<usize, ClusterReport>,
    candidate_pairs: usize,
    verified_pairs: usize,
    duplicate_documents: usize,
    dropped_documents: usize,
    dropped_bytes: usize,
    runs: usize,
    short_repeats: usize,
    blocks: usize,
    removed_blocks: usize,
    bytes: usize,
    inputs: Vec<usize>,
    /// Each source's name, shared by every reference into it.
    names: Vec<std::sync::Arc<str>>,
    /// Where documents go instead of `documents`, when spooling.
    spool: Option<Spool>,
    /// Where shared blocks' places and previews go, when spooling, and the
    /// spool they are copied to in the report's order when it is finished.
    shared_spool: Option<(Spool, Spool)>,
    /// Where clusters' members go, when spooling, instead of `clusters`.
    cluster_spool: Option<ClusterSpool>,
    /// Documents with repeats and their removed bytes, spooled or not.
    with_repeats: usize,
    removed_block_bytes: usize,
    spool_error: Option<std::io::Error>,
}

/// The text of a block for the shared-block list: white space collapsed, 100
/// characters at most.
fn preview(text: &str) -> String {
    preview_chars(text, 100)
}

/// The first `n` characters of `text`, white space collapsed.
fn preview_chars(text: &str, n: usize) -> String {
    let mut out = String::new();
    let mut count = 0;
    for word in text.split_whitespace() {
        if count > 0 {
            if count == n {
                break;
            }
            out.push(' ');
            count += 1;
        }
        for c in word.chars() {
            if count == n {
                return out;
            }
            out.push(c);
            count += 1;
        }
    }
    out
}

impl Accumulator {
    /// An empty report.
    #[must_use]
    pub fn new(config: &Config, command: &str) -> Accumulator {
        Accumulator {
            config: config.clone(),
            command: command.into(),
            // Taken from the first analysis added (choosing the banding
            // takes milliseconds), or made at the end if none was.
            candidates: None,
            documents: Vec::new(),
            shared: BTreeMap::new(),
            copies_in_dropped: Vec::new(),
            clusters: BTreeMap::new(),
            candidate_pairs: 0,
            verified_pairs: 0,
            duplicate_documents: 0,
            dropped_documents: 0,
            dropped_bytes: 0,
            runs: 0,
            short_repeats: 0,
            blocks: 0,
            removed_blocks: 0,
            bytes: 0,
            inputs: Vec::new(),
            names: Vec::new(),
            spool: None,
            shared_spool: None,
            cluster_spool: None,
            with_repeats: 0,
            removed_block_bytes: 0,
            spool_error: None,
        }
    }

    /// Writes documents to a temporary file in `dir` as they come, instead of
    /// holding them (a chunked run's report can be larger than memory).
    ///
    /// # Errors
    /// When the temporary file cannot be made.
    pub fn spool_documents(&mut self, dir: &std::path::Path) -> std::io::Result<()> {
        self.spool = Some(Spool::new(dir)?);
        self.shared_spool = Some((Spool::new(dir)?, Spool::new(dir)?));
        self.cluster_spool = Some(ClusterSpool {
            parts: Spool::new(dir)?,
            dir: dir.to_path_buf(),
            clusters: HashMap::new(),
        });
        Ok(())
    }

    /// Adds one chunk: `corpus` holds its documents (with every source read
    /// so far), `analysis` was made after every earlier chunk, and `earlier`
    /// holds the texts of earlier chunks' documents.
    #[allow(clippy::too_many_lines)]
    pub fn add(&mut self, corpus: &Corpus, analysis: &Analysis, earlier: &dyn Texts) {
        self.name_sources(&corpus.sources);
        let names = self.names.clone();
        // Shared blocks are counted in document order; the place and preview
        // of each new one are made afterwards, on every thread.
        let mut new_shared: Vec<(usize, usize)> = Vec::new();
        for (doc, decision) in analysis.decisions.iter().enumerate() {
            let all_pairs = decision
                .runs
                .iter()
                .flat_map(|r| r.pairs.iter())
                .chain(decision.kept_short.iter());
            for pair in all_pairs {
                let entry = self.shared.entry(pair.source).or_insert_with(|| {
                    new_shared.push((pair.source, pair.block));
                    Shared {
                        docs: 1,
                        source_doc: n32(analysis.doc_of_block(pair.source)),
                        last_doc: u32::MAX,
                        last_dropped: u32::MAX,
                        copies: 0,
                        removed: 0,
                        words: u32::try_from(analysis.words_of(pair.source)).unwrap_or(u32::MAX),
                        first_doc: 0,
                        made: None,
                        first_bytes: [0; 2],
                        at: (0, 0),
                    }
                });
                let copy_doc = n32(analysis.base_docs + doc);
                if copy_doc != entry.source_doc && copy_doc != entry.last_doc {
                    entry.docs += 1;
                    entry.last_doc = copy_doc;
                }
                entry.copies += 1;
                entry.removed += u32::from(analysis.is_dropped(pair.block));
            }
        }
        // With an index (a chunked run), previews and places of first copies
        // read the input anywhere, and a fault maps up to 2 MiB of its
        // cached pages around each: those pages go after every batch, so
        // batches are smaller.
        let preview = self.config.preview;
        let (shared_batch, doc_batch) = if analysis.history.is_some() {
            (128, 64)
        } else {
            (4096, 1024)
        };
        for batch in new_shared.chunks(shared_batch) {
            let made: Vec<(Place, String)> = batch
                .par_iter()
                .map_init(
                    || Builder::new(corpus, analysis, &names, preview),
                    |b, &(source, block)| (b.place(source), preview_of(earlier, b, source, block)),
                )
                .collect();
            for (&(source, _), (place, text)) in batch.iter().zip(made) {
                let entry = self.shared.get_mut(&source).expect("inserted above");
                entry.first_doc = n32(place.document.index);
                entry.first_bytes = place.bytes;
                if let Some((spool, _)) = &mut self.shared_spool {
                    match spool.push(&(&place, &text)) {
                        Ok(at) => entry.at = at,
                        Err(e) => {
                            self.spool_error.get_or_insert(e);
                        }
                    }
                } else {
                    entry.made = Some(Box::new((place, text)));
                }
            }
            // Previews of first copies read their documents anywhere in the
            // input (and a fault maps the pages around each): they leave the
            // resident set now (the whole input, by the last batch).
            earlier.release();
        }
        drop(new_shared);
        // Documents' entries, made on every thread a batch at a time (a batch's
        // entries are held at once) and taken in document order.
        let with_entries: Vec<usize> = (0..analysis.decisions.len())
            .filter(|&d| {
                let decision = &analysis.decisions[d];
                !(decision.runs.is_empty() && decision.kept_short.is_empty())
            })
            .collect();
        let mut released = 0;
        for batch in with_entries.chunks(doc_batch) {
            let reports: Vec<DocReport> = batch
                .par_iter()
                .map_init(
                    || Builder::new(corpus, analysis, &names, preview),
                    |b, &doc| b.doc_report(doc),
                )
                .collect();
            // The pages of the documents done leave the resident set (first
            // copies in them are read back from the page cache if needed).
            let done = batch.last().map_or(released, |&d| d + 1);
            corpus.release_documents(released..done);
            released = done;
            for report in reports {
                self.runs += report.runs.len();
                self.short_repeats += report.short_repeats.len();
                self.with_repeats += 1;
                self.removed_block_bytes += report.removed_bytes;
                match &mut self.spool {
                    Some(spool) => {
                        if let Err(e) = spool.push(&report) {
                            self.spool_error.get_or_insert(e);
                        }
                    }
                    None => self.documents.push(report),
                }
            }
        }
        let b = Builder::new(corpus, analysis, &names, preview);
        self.copies_in_dropped.extend(
            analysis
                .copies_in_dropped
                .iter()
                .map(|&(block, first)| (n32(first), n32(analysis.doc_of_block(block)))),
        );
        self.blocks += analysis.dropped.len();
        self.removed_blocks += analysis.dropped.iter().filter(|&&d| d).count();
        self.bytes += corpus
            .documents
            .iter()
            .map(|d| corpus.text_len(d))
            .sum::<usize>();
        for (i, docs) in corpus.docs_by_source().iter().enumerate() {
            self.inputs[i] += docs.len();
        }
        if self.candidates.is_none() {
            self.candidates.clone_from(&analysis.candidates);
        }
        if analysis.candidates.is_some() {
            self.add_clusters(&b);
        }
    }

    /// Names the sources not named yet (a chunked run reads them as it goes).
    fn name_sources(&mut self, sources: &[std::sync::Arc<crate::input::Source>]) {
        for source in &sources[self.names.len()..] {
            self.names
                .push(std::sync::Arc::from(source.input.display_name()));
            self.inputs.push(0);
        }
    }

    /// Copies in documents dropped whole whose first copy came in a later
    /// chunk: (block, global document, first copy).
    pub fn add_late_copies(&mut self, copies: impl IntoIterator<Item = (usize, usize, usize)>) {
        self.copies_in_dropped.extend(
            copies
                .into_iter()
                .map(|(_, doc, first)| (n32(first), n32(doc))),
        );
    }

    fn add_clusters(&mut self, b: &Builder<'_>) {
        let level = &b.analysis.doc_level;
        self.candidate_pairs += level.candidate_pairs;
        self.verified_pairs += level.verified_pairs;
        self.duplicate_documents += level.dropped.iter().filter(|&&d| d).count();
        for (d, &dropped) in b.analysis.doc_dropped.iter().enumerate() {
            if dropped {
                self.dropped_documents += 1;
                self.dropped_bytes += b.corpus.text_len(&b.corpus.documents[d]);
            }
        }
        if let Some(spool) = &mut self.cluster_spool {
            if let Err(e) = spool.add(b, &level.clusters) {
                self.spool_error.get_or_insert(e);
            }
            return;
        }
        for c in &level.clusters {
            let entry = self
                .clusters
                .entry(c.representative)
                .or_insert_with(|| ClusterReport {
                    id: c.representative,
                    size: 0,
                    representative: b.doc_ref(c.representative),
                    kept: b.doc_ref(c.kept),
                    members: Vec::new(),
                });
            for &(m, similarity) in &c.members {
                if entry.members.iter().any(|x| x.document.index == m) {
                    continue;
                }
                entry.members.push(ClusterMember {
                    document: b.doc_ref(m),
                    similarity: round(similarity),
                    kept: m == c.kept,
                });
            }
            entry.size = entry.members.len();
        }
    }

    /// The clusters' entries, largest first (then by id): held, or spooled
    /// when the members were.
    fn cluster_entries(&mut self) -> std::io::Result<(usize, Vec<ClusterReport>, Option<Spool>)> {
        let Some(ClusterSpool {
            mut parts,
            dir,
            clusters,
        }) = self.cluster_spool.take()
        else {
            let mut list: Vec<ClusterReport> =
                std::mem::take(&mut self.clusters).into_values().collect();
            list.sort_by(|x, y| y.size.cmp(&x.size).then(x.id.cmp(&y.id)));
            return Ok((list.len(), list, None));
        };
        let mut order: Vec<(usize, HeldCluster)> = clusters.into_iter().collect();
        order.sort_by(|(x, a), (y, b)| b.members.len().cmp(&a.members.len()).then(x.cmp(y)));
        parts.flush()?;
        let mut out = Spool::new(&dir)?;
        let (mut json, mut buf) = (Vec::new(), Vec::new());
        for (id, held) in &order {
            // The bytes serde writes for a `ClusterReport`, field by field.
            json.clear();
            json.extend_from_slice(
                format!(
                    "{{\"id\":{id},\"size\":{},\"representative\":",
                    held.members.len()
                )
                .as_bytes(),
            );
            parts.read_at(held.representative, &mut buf)?;
            json.extend_from_slice(&buf);
            json.extend_from_slice(b",\"kept\":");
            parts.read_at(held.kept, &mut buf)?;
            json.extend_from_slice(&buf);
            json.extend_from_slice(b",\"members\":[");
            for (i, &member) in held.members.iter().enumerate() {
                if i > 0 {
                    json.push(b',');
                }
                parts.read_at(member, &mut buf)?;
                json.extend_from_slice(&buf);
            }
            json.extend_from_slice(b"]}");
            out.push_raw(&json)?;
        }
        out.flush()?;
        Ok((order.len(), Vec::new(), Some(out)))
    }

    /// The report of everything added, of `sources` (every input read) with
    /// `skipped` (what was passed over).
    ///
    /// # Errors
    /// When spooled documents could not be written.
    #[allow(clippy::too_many_lines)]
    pub fn finish(
        mut self,
        sources: &[std::sync::Arc<crate::input::Source>],
        skipped: &[crate::Error],
    ) -> std::io::Result<Report> {
        self.name_sources(sources);
        if let Some(e) = self.spool_error.take() {
            return Err(e);
        }
        if let Some(spool) = &mut self.spool {
            use std::io::Write as _;
            spool.file.flush()?;
        }
        if self.candidates.is_none() && self.config.level != crate::config::Level::Blocks {
            self.candidates = Some(Candidates::new(&self.config));
        }
        let (cluster_count, cluster_list, cluster_spool) = self.cluster_entries()?;
        let config = &self.config;
        // Documents dropped whole count toward blocks already shared by two kept
        // documents: a paragraph merely repeated in a near-duplicate copy of its own
        // document is document-level duplication, reported as such above.
        // By first copy, then document: each document's copies of a block
        // together, as in block order.
        self.copies_in_dropped.sort_unstable();
        for &(first, doc) in &self.copies_in_dropped {
            let Some(entry) = self
                .shared
                .get_mut(&(first as usize))
                .filter(|e| e.docs >= 2)
            else {
                continue;
            };
            if doc != entry.last_dropped {
                entry.docs += 1;
                entry.last_dropped = doc;
            }
            entry.copies += 1;
            // The copy is gone with its document.
            entry.removed += 1;
        }
        let mut shared: Vec<Shared> = std::mem::take(&mut self.shared)
            .into_values()
            .filter(|e| e.docs >= 2)
            .collect();
        shared.sort_by(|x, y| {
            y.docs
                .cmp(&x.docs)
                .then(y.copies.cmp(&x.copies))
                .then(x.first_doc.cmp(&y.first_doc))
                .then(x.first_bytes.cmp(&y.first_bytes))
        });
        let min_words = config.min_words;
        let entry = move |e: Shared, first_copy: Place, text: String| Syndicated {
            first_copy,
            documents: e.docs as usize,
            copies: e.copies as usize + 1,
            removed: e.removed as usize,
            words: e.words as usize,
            short: (e.words as usize) < min_words,
            text,
        };
        let mut syndicated = Vec::new();
        let mut syndicated_spool = None;
        match self.shared_spool.take() {
            None => {
                syndicated = shared
                    .into_iter()
                    .map(|mut e| {
                        let (place, text) = *e.made.take().expect("made when counted");
                        entry(e, place, text)
                    })
                    .collect();
            }
            Some((mut places, mut out)) => {
                // Read back in the report's order, and spooled again so.
                let mut buf = Vec::new();
                for e in shared {
                    places.read_at(e.at, &mut buf)?;
                    let (place, text): (Place, String) =
                        serde_json::from_slice(&buf).map_err(std::io::Error::from)?;
                    out.push(&entry(e, place, text))?;
                }
                {
                    use std::io::Write as _;
                    out.file.flush()?;
                }
                syndicated_spool = Some(out);
            }
        }
        let near_duplicates = self.candidates.as_ref().map(|candidates| {
            let candidate_probability = match candidates {
                Candidates::Minhash { banding, .. } => [0.5, 0.7, 0.8, 0.9, 0.95]
                    .iter()
                    .map(|&j| CandidateProbability {
                        jaccard: j,
                        probability: round(banding.probability(j)),
                    })
                    .collect(),
                Candidates::Simhash { .. } => Vec::new(),
            };
            NearDuplicates {
                candidate_probability,
                candidate_pairs: self.candidate_pairs,
                verified_pairs: self.verified_pairs,
                clusters: cluster_count,
                duplicate_documents: self.duplicate_documents,
                dropped_documents: self.dropped_documents,
                dropped_bytes: self.dropped_bytes,
                cluster_list,
            }
        });
        let removed_block_bytes = self.removed_block_bytes;
        let (dropped_documents, dropped_document_bytes) = near_duplicates
            .as_ref()
            .map_or((0, 0), |n| (n.dropped_documents, n.dropped_bytes));
        let removed_bytes = removed_block_bytes + dropped_document_bytes;
        let documents = std::mem::take(&mut self.documents);
        let summary = Summary {
            documents: self.inputs.iter().sum(),
            dropped_documents,
            documents_with_repeats: self.with_repeats,
            blocks: self.blocks,
            removed_blocks: self.removed_blocks,
            short_repeats_kept: self.short_repeats,
            runs: self.runs,
            bytes: self.bytes,
            dropped_document_bytes,
            removed_block_bytes,
            removed_bytes,
            removed_ratio: ratio(removed_bytes, self.bytes),
        };
        let inputs = sources
            .iter()
            .zip(&self.inputs)
            .map(|(s, &documents)| InputReport {
                path: s.input.display_name(),
                format: format!("{:?}", s.format).to_lowercase(),
                documents,
                bytes: s.data.len(),
            })
            .collect();
        Ok(Report {
            schema_version: SCHEMA_VERSION,
            tool: Tool {
                name: env!("CARGO_PKG_NAME").into(),
                version: env!("CARGO_PKG_VERSION").into(),
            },
            command: self.command.clone(),
            parameters: Parameters {
                blocks: format!("{:?}", config.blocks).to_lowercase(),
                format: format!("{:?}", config.format).to_lowercase(),
                text_field: config.text_field.clone(),
                id_field: config.id_field.clone(),
                normalization: "nfkc,casefold,quotes,dashes,whitespace".into(),
                block_shingle: config.block_shingle,
                measure: "containment".into(),
                block_threshold: config.block_threshold,
                min_words: config.min_words,
                drop_short: config.drop_short,
                max_gap: config.max_gap,
                seed: config.seed,
                level: format!("{:?}", config.level).to_lowercase(),
                documents: DocParameters {
                    method: format!("{:?}", config.method).to_lowercase(),
                    doc_shingle: config.doc_shingle,
                    threshold: config.threshold,
                    measure: format!("{:?}", config.measure).to_lowercase(),
                    num_perm: (config.method == Method::Minhash).then_some(config.num_perm),
                    bands: match &self.candidates {
                        Some(Candidates::Minhash { banding, .. }) => Some(banding.bands),
                        _ => config.banding.map(|b| b.0),
                    },
                    rows: match &self.candidates {
                        Some(Candidates::Minhash { banding, .. }) => Some(banding.rows),
                        _ => config.banding.map(|b| b.1),
                    },
                    hamming: (config.method == Method::Simhash).then_some(config.hamming),
                    keep: config.keep.to_string(),
                    annotate: config.annotate,
                },
            },
            inputs,
            summary,
            near_duplicates,
            documents,
            syndicated,
            skipped: skipped.iter().map(ToString::to_string).collect(),
            check: None,
            index: None,
            spool: self.spool.take(),
            syndicated_spool,
            cluster_spool,
        })
    }
}

/// `1234567` as `1,234,567`.
#[must_use]
pub fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

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
fn ellipsize(text: &str, max: usize) -> String {
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
fn short_label(doc: &DocRef) -> String {
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

fn render_near_duplicates(
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
            .take(4)
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

/// Renders the report for people: one paragraph per document with repeats, the
/// most shared blocks, and the totals. `top` limits the shared blocks listed.
#[must_use]
#[allow(clippy::too_many_lines)]
pub fn render_text(report: &Report, top: usize) -> String {
    let mut out = String::new();
    // Writing into a String fails only if the spool cannot be read back.
    let _ = write_text(report, top, &mut out);
    out
}

/// [`render_text`] into any `fmt::Write`, reading spooled documents back one
/// at a time.
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
    report.for_each_document(&mut |doc: &DocReport| {
        // Only documents that lost something; short repeats kept elsewhere
        // count in the totals.
        if doc.removed_blocks == 0 {
            return;
        }
        let _ = writeln!(
            out,
            "{}: {} of {} removed as repeats of earlier text, {} of {} bytes ({})",
            doc_label(&doc.document),
            thousands(doc.removed_blocks),
            plural(doc.blocks, "block"),
            thousands(doc.removed_bytes),
            thousands(doc.bytes),
            percent(doc.removed_bytes, doc.bytes),
        );
        for run in &doc.runs {
            let source = if run.source.index == doc.document.index {
                String::new()
            } else {
                format!("{} ", short_label(&run.source))
            };
            let max = run
                .removals
                .iter()
                .map(|r| r.similarity)
                .fold(0.0, f64::max);
            let (low, high) = (format!("{:.2}", run.similarity.min), format!("{max:.2}"));
            let similarity = if run.exact {
                "exact".to_owned()
            } else if low == high {
                format!("similarity {low}")
            } else {
                format!("similarity {low}-{high} (mean {:.2})", run.similarity.mean)
            };
            let _ = writeln!(
                out,
                "  {} {} {}{}: {}, {} bytes, {}",
                lines(run.lines),
                repeat_verb(run.lines),
                source,
                lines(run.source_lines),
                plural(run.blocks, "block"),
                thousands(run.bytes),
                similarity,
            );
            for removal in &run.removals {
                if let Some(text) = &removal.preview {
                    let _ = writeln!(out, "    {}: \"{text}\"", lines(removal.repeat.lines));
                }
            }
            for gap in &run.interruptions {
                let _ = writeln!(
                    out,
                    "    {} inside the run {} not repeated ({}, kept)",
                    lines(gap.lines),
                    if gap.lines[0] == gap.lines[1] {
                        "is"
                    } else {
                        "are"
                    },
                    plural(gap.blocks, "block"),
                );
            }
        }
        if !doc.short_repeats.is_empty() {
            let shown: Vec<String> = doc
                .short_repeats
                .iter()
                .take(5)
                .map(|r| r.repeat.lines[0].to_string())
                .collect();
            let more = doc.short_repeats.len().saturating_sub(5);
            let _ = writeln!(
                out,
                "  {} too short to judge repeat earlier text, kept (line {}{}; --drop-short removes them)",
                plural(doc.short_repeats.len(), "block"),
                shown.join(", "),
                if more > 0 {
                    format!(", +{more} more")
                } else {
                    String::new()
                },
            );
        }
    })?;
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
            let _ = writeln!(out, "  {}", crate::escape::printable(skipped));
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
        "settings: level {}, blocks {}, {}-word shingles, containment >= {}, min {} words, seed {}",
        p.level, p.blocks, p.block_shingle, p.block_threshold, p.min_words, p.seed
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_well() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(7680), "7,680");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(percent(3412, 7680), "44.4%");
        assert_eq!(lines([3, 3]), "line 3");
    }

    #[test]
    fn char_index_counts_multibyte_text() {
        let text = "a\u{2019}b".repeat(3000);
        let index = CharIndex::new(std::borrow::Cow::Borrowed(&text));
        for byte in [0, 1, 4, 5, 255, 256, 257, 5000, 9000, text.len()] {
            if text.is_char_boundary(byte) {
                assert_eq!(index.chars_before(byte), text[..byte].chars().count());
            }
        }
    }
}
