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
//!   `similarity` (containment in the first copy, 1 for exact), `exact`, `removed`;
//!   when the block's text is spread over consecutive blocks of one earlier
//!   document, `first_copy` is the first of them and `first_copy_last` (a
//!   place, present only then) the last, and `similarity` is containment in
//!   all of them together
//! - `skipped[]`: inputs and records passed over, as error messages naming the
//!   file and line (binary files; with `--on-error skip`, bad files and records)
//! - `check` (`neardup check` only): `measurements[]` {`name`, `count`, `total`,
//!   `share`, `limit`, `passed`} and `passed`; `share` is `count / total` to 4
//!   decimals, or as many more as keep it over `limit` exactly when not `passed`
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

use crate::config::{Config, Level, Method};
use crate::decide::Pair;
use crate::input::{Corpus, Texts};
use crate::pipeline::Analysis;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

mod accumulate;
mod doc_text;
mod dropped;
mod each;
mod held;
mod named;
mod previews;
mod spool;
mod streamed;
mod text;
mod thin;

pub use accumulate::*;
pub use spool::*;
pub use text::*;
pub(crate) use thin::{DocHead, DocWalk, RunHead, Seen};

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
    pub check: Option<CheckReport>,
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

impl Report {
    /// Calls `f` with each document with repeats, in order: those held in
    /// `documents`, then those spooled.
    ///
    /// # Errors
    /// When spooled documents cannot be read back.
    pub fn for_each_document(&self, f: &mut dyn FnMut(&DocReport)) -> std::io::Result<()> {
        held_then_spooled(&self.documents, self.spool.as_ref(), f)
    }

    /// Calls `f` with each near-duplicate cluster, largest first: those held
    /// in `near_duplicates`, then those spooled (each read back whole:
    /// [`Report::for_each_cluster_member`] reads a member at a time).
    ///
    /// # Errors
    /// When spooled clusters cannot be read back.
    pub fn for_each_cluster(&self, f: &mut dyn FnMut(&ClusterReport)) -> std::io::Result<()> {
        held_then_spooled(self.held_clusters(), self.cluster_spool.as_ref(), f)
    }

    /// Calls `f` with each shared block, in order: those held in
    /// `syndicated`, then those spooled.
    ///
    /// # Errors
    /// When spooled entries cannot be read back.
    pub fn for_each_syndicated(&self, f: &mut dyn FnMut(&Syndicated)) -> std::io::Result<()> {
        held_then_spooled(&self.syndicated, self.syndicated_spool.as_ref(), f)
    }

    /// Calls `f` with each member of each near-duplicate cluster (largest
    /// cluster first, members in input order) and the cluster's head; a
    /// spooled cluster is read a member at a time, never held whole.
    ///
    /// # Errors
    /// When spooled clusters cannot be read back.
    pub fn for_each_cluster_member(
        &self,
        f: &mut dyn FnMut(ClusterHeadRef<'_>, &ClusterMember),
    ) -> std::io::Result<()> {
        for c in self.held_clusters() {
            let head = ClusterHeadRef {
                id: c.id,
                size: c.size,
                representative: &c.representative,
                kept: &c.kept,
            };
            for m in &c.members {
                f(head, m);
            }
        }
        match &self.cluster_spool {
            Some(spool) => spool::for_each_spooled_member(spool, f),
            None => Ok(()),
        }
    }

    /// The clusters held in `near_duplicates` (all of them unless spooled).
    fn held_clusters(&self) -> &[ClusterReport] {
        self.near_duplicates
            .as_ref()
            .map_or(&[][..], |near| &near.cluster_list[..])
    }

    /// The first `n` near-duplicate clusters (the largest), held or spooled
    /// (a spooled one with its first [`SHOWN_MEMBERS`] members only).
    ///
    /// # Errors
    /// When spooled clusters cannot be read back.
    pub fn first_clusters(&self, n: usize) -> std::io::Result<Vec<ClusterReport>> {
        let mut out: Vec<ClusterReport> = self.held_clusters().iter().take(n).cloned().collect();
        if let Some(spool) = &self.cluster_spool {
            out.extend(spool.first_clusters(n - out.len())?);
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
    check: Option<&'a CheckReport>,
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
        for d in &self.documents {
            line(out, "document", d)?;
        }
        if let Some(spool) = &self.spool {
            // As for clusters below: a document's line is never held whole.
            spool.copy_as_lines(br#"{"type":"document","#, out)?;
        }
        for c in self.held_clusters() {
            line(out, "cluster", c)?;
        }
        if let Some(spool) = &self.cluster_spool {
            // The bytes `line` writes, a field at a time: `type`, then the
            // cluster's own fields as serde wrote them to the spool.
            spool.copy_as_lines(br#"{"type":"cluster","#, out)?;
        }
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

/// One measured share and its limit.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Measurement {
    /// `duplicate_documents`, `repeated_blocks` or `repeated_bytes`.
    pub name: String,
    /// What is counted.
    pub count: usize,
    /// Out of how many.
    pub total: usize,
    /// `count / total`, rounded to 4 decimals, or to as many more as keep it
    /// over `limit` exactly when the check failed.
    pub share: f64,
    /// The limit, as a fraction.
    pub limit: f64,
    /// Whether the share is within the limit.
    pub passed: bool,
}

/// `neardup check`'s verdict (see `check`), part of the JSON report.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct CheckReport {
    /// Every limited share.
    pub measurements: Vec<Measurement>,
    /// All within their limits.
    pub passed: bool,
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

impl Parameters {
    /// The settings of a run, as the report (and, in part, an index) names
    /// them: the one place a [`Config`] is described.
    #[must_use]
    pub fn of(config: &Config) -> Parameters {
        let name = |value: &dyn std::fmt::Debug| format!("{value:?}").to_lowercase();
        let minhash = config.method == Method::Minhash;
        // The banding used: worked out when there is a document level.
        let banding = if minhash && config.level != Level::Blocks {
            let b = crate::cluster::banding(config);
            Some((b.bands, b.rows))
        } else {
            config.banding
        };
        Parameters {
            blocks: name(&config.blocks),
            format: name(&config.format),
            text_field: config.text_field.clone(),
            id_field: config.id_field.clone(),
            normalization: if config.strip_markup {
                "markup,nfkc,casefold,quotes,dashes,whitespace".into()
            } else {
                "nfkc,casefold,quotes,dashes,whitespace".into()
            },
            block_shingle: config.block_shingle,
            measure: "containment".into(),
            block_threshold: config.block_threshold,
            min_words: config.min_words,
            drop_short: config.drop_short,
            max_gap: config.max_gap,
            seed: config.seed,
            level: name(&config.level),
            documents: DocParameters {
                method: name(&config.method),
                doc_shingle: config.doc_shingle,
                threshold: config.threshold,
                measure: name(&config.measure),
                num_perm: minhash.then_some(config.num_perm),
                bands: banding.map(|b| b.0),
                rows: banding.map(|b| b.1),
                hamming: (!minhash).then_some(config.hamming),
                keep: config.keep.to_string(),
                annotate: config.annotate,
            },
        }
    }
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
#[derive(Debug, Default, Serialize, Deserialize, PartialEq)]
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

impl Summary {
    /// Adds a chunk's totals to the run's.
    pub fn add(&mut self, chunk: &Summary) {
        self.documents += chunk.documents;
        self.dropped_documents += chunk.dropped_documents;
        self.documents_with_repeats += chunk.documents_with_repeats;
        self.blocks += chunk.blocks;
        self.removed_blocks += chunk.removed_blocks;
        self.short_repeats_kept += chunk.short_repeats_kept;
        self.runs += chunk.runs;
        self.bytes += chunk.bytes;
        self.dropped_document_bytes += chunk.dropped_document_bytes;
        self.removed_block_bytes += chunk.removed_block_bytes;
        self.removed_bytes += chunk.removed_bytes;
        self.removed_ratio = ratio(self.removed_bytes, self.bytes);
    }

    /// The line of totals `clean` writes to standard error.
    #[must_use]
    pub fn line(&self) -> String {
        format!(
            "dropped {}; removed {} of {} blocks, {} of {} bytes in all ({}, {} kept)",
            plural(self.dropped_documents, "near-duplicate document"),
            thousands(self.removed_blocks),
            thousands(self.blocks),
            thousands(self.removed_bytes),
            thousands(self.bytes),
            plural(self.runs, "run"),
            plural(self.short_repeats_kept, "short repeat"),
        )
    }
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
    /// When the text is spread over consecutive blocks of the first copy's
    /// document: the last of them (`first_copy` is the first).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub first_copy_last: Option<Place>,
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
    fn copies_in_dropped_documents_count_each_document_once() {
        // (first copy, document): document 4 holds first copy 1 twice, with
        // another between; the late batch (documents of earlier chunks)
        // comes after later ones.
        let batches: [&[(u32, u32)]; 3] = [
            &[(1, 4), (2, 4), (1, 4), (1, 5)],
            &[(2, 9), (1, 9), (1, 8)],
            &[(1, 2), (7, 3), (1, 2)],
        ];
        let mut counts = dropped::DroppedCopies::default();
        for batch in batches {
            counts.add(batch.iter().copied());
        }
        // By the sorted list of every pair, as the counts were first made.
        let mut all: Vec<(u32, u32)> = batches.concat();
        all.sort_unstable();
        let mut expected: Vec<(u32, u32, u32)> = Vec::new();
        for (i, &(first, doc)) in all.iter().enumerate() {
            let new_doc = i == 0 || all[i - 1] != (first, doc);
            match expected.last_mut() {
                Some(e) if e.0 == first => {
                    e.1 += u32::from(new_doc);
                    e.2 += 1;
                }
                _ => expected.push((first, 1, 1)),
            }
        }
        assert_eq!(counts.counted(), expected);
        assert_eq!(expected, [(1, 5, 7), (2, 2, 2), (7, 1, 1)]);
    }

    #[test]
    fn a_cluster_met_in_every_chunk_is_held_as_one_stretch() {
        let dir = tempfile::tempdir().unwrap();
        let mut spool = Spool::new(dir.path()).unwrap();
        let mut held = accumulate::Stretches::default();
        for chunk in 0..1000 {
            let start = spool.len;
            for m in 0..3 {
                spool.push(&(chunk, m)).unwrap();
            }
            held.add(start, spool.len);
        }
        assert_eq!(held.0.len(), 1, "{:?}", &held.0[..2]);
        spool.flush().unwrap();
        let mut out = Vec::new();
        let mut first = true;
        for &stretch in &held.0 {
            spool.copy_lines(stretch, &mut first, &mut out).unwrap();
        }
        let list: Vec<(u32, u32)> =
            serde_json::from_slice(&[b"[", &out[..], b"]"].concat()).unwrap();
        assert_eq!(list.len(), 3000);
        assert_eq!(list[2999], (999, 2));
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
