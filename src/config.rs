//! The run's settings, validated once and then only read.

use crate::error::{Error, Result};
/// The names of an option's choices, one place for the CLI, the Python
/// package and the report (`serde` writes the same lowercase names).
pub use clap::ValueEnum;
use serde::Serialize;

/// How a document is cut into blocks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum BlockMode {
    /// Paragraphs where the document has a blank line, else lines.
    Auto,
    /// Every non-blank line is a block.
    Lines,
    /// Runs of non-blank lines separated by blank lines.
    Paragraphs,
}

/// How input files are parsed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// `.jsonl`/`.ndjson` files are JSON Lines, `.parquet` Parquet, everything
    /// else plain text.
    Auto,
    /// A whole file is one document.
    Text,
    /// One JSON object per line.
    Jsonl,
    /// Apache Parquet: one document per row (`*.parquet` with `Auto`).
    Parquet,
}

/// What a bad input or record does to the run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum OnError {
    /// Stop: report every error and exit 2 without writing anything.
    Fail,
    /// Skip it, count it and list it in the report; malformed JSON Lines records
    /// are copied to the output unchanged.
    Skip,
}

/// Which levels of duplication are detected and removed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Repeated blocks only.
    Blocks,
    /// Near-duplicate documents only.
    Docs,
    /// Near-duplicate documents are dropped whole, then repeated blocks are
    /// removed from the documents that are kept.
    Both,
}

/// How candidate document pairs are found.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Method {
    /// MinHash signatures with LSH banding.
    Minhash,
    /// SimHash fingerprints within a Hamming distance.
    Simhash,
}

/// How a candidate document pair is verified.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Measure {
    /// |A ∩ B| / |A ∪ B|.
    Jaccard,
    /// |D ∩ R| / |D|, with boilerplate discounted: the share of the later
    /// document's own shingles found in the representative, so it catches
    /// truncated, re-headed or doubled copies, and never calls a document a
    /// copy of a shorter one it contains.
    Containment,
}

impl Measure {
    /// The threshold used when `--threshold` is not given: Jaccard 0.8, and
    /// for containment the value measured in `benches/RESULTS.md`.
    #[must_use]
    pub fn default_threshold(self) -> f64 {
        match self {
            Measure::Jaccard => 0.8,
            Measure::Containment => DEFAULT_CONTAINMENT,
        }
    }
}

/// Default containment threshold (see `benches/RESULTS.md`, "Detection").
pub const DEFAULT_CONTAINMENT: f64 = 0.5;

/// Which document of a near-duplicate cluster is kept.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Keep {
    /// The first in input order, unless a later member holds it (under
    /// containment: at least the threshold of its own shingles, its
    /// beginning among them) and every other member: the earliest such then
    /// replaces it, as the first adds nothing to it. A run in chunks decides
    /// it in a first pass over every chunk, before it writes any.
    Fullest,
    /// The first in input order.
    First,
    /// The one with the most bytes of text.
    Longest,
    /// The greatest value of a JSON Lines field, dates as ISO strings or
    /// numbers (`newest:FIELD`).
    Newest(String),
    /// The greatest number in a JSON Lines field (`max:FIELD`).
    Max(String),
}

impl Keep {
    /// Parses `first`, `fullest`, `longest`, `newest:FIELD` or `max:FIELD`.
    ///
    /// # Errors
    /// A [`Error::Usage`] for anything else.
    pub fn parse(text: &str) -> Result<Keep> {
        match text.split_once(':') {
            None if text == "fullest" => Ok(Keep::Fullest),
            None if text == "first" => Ok(Keep::First),
            None if text == "longest" => Ok(Keep::Longest),
            Some(("newest", field)) if !field.is_empty() => Ok(Keep::Newest(field.to_owned())),
            Some(("max", field)) if !field.is_empty() => Ok(Keep::Max(field.to_owned())),
            _ => Err(Error::Usage(format!(
                "--keep takes first, fullest, longest, newest:FIELD or max:FIELD, not {text:?}"
            ))),
        }
    }

    /// The JSON Lines field the policy reads, if any.
    #[must_use]
    pub fn field(&self) -> Option<&str> {
        match self {
            Keep::Newest(f) | Keep::Max(f) => Some(f),
            Keep::Fullest | Keep::First | Keep::Longest => None,
        }
    }
}

impl std::fmt::Display for Keep {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Keep::Fullest => f.write_str("fullest"),
            Keep::First => f.write_str("first"),
            Keep::Longest => f.write_str("longest"),
            Keep::Newest(field) => write!(f, "newest:{field}"),
            Keep::Max(field) => write!(f, "max:{field}"),
        }
    }
}

/// The fields `--annotate` adds to each record (the last only to records
/// that lost blocks).
pub const ANNOTATION_FIELDS: [&str; 6] = [
    "neardup_cluster",
    "neardup_cluster_size",
    "neardup_representative",
    "neardup_similarity",
    "neardup_duplicate",
    "neardup_removed_bytes",
];

/// Every setting that changes the answer, plus a few that only change how it is
/// computed (threads, mmap). Built by the binary from its arguments, or by library
/// users directly from [`Config::default`].
#[derive(Clone, Debug, Serialize)]
#[allow(clippy::struct_excessive_bools)]
pub struct Config {
    /// Block segmentation.
    pub blocks: BlockMode,
    /// Input format.
    pub format: Format,
    /// JSON Lines: the field holding the text.
    pub text_field: String,
    /// JSON Lines: the field holding the document id.
    pub id_field: String,
    /// Words per shingle.
    pub block_shingle: usize,
    /// A block is a near copy when at least this fraction of its shingles is found
    /// in one earlier block (containment).
    pub block_threshold: f64,
    /// Blocks with fewer words are only matched exactly and are kept unless
    /// `drop_short` is set or they continue a repeated run.
    pub min_words: usize,
    /// Drop short exact repeats too.
    pub drop_short: bool,
    /// Hash text with markup tags left out, entities decoded and lone Greek
    /// letters spelled (the default; the output keeps them).
    pub strip_markup: bool,
    /// Longest unique interruption (in blocks) inside one repeated run, and the
    /// longest skip on the source side.
    pub max_gap: usize,
    /// Seed of every hash.
    pub seed: u64,
    /// Levels detected.
    pub level: Level,
    /// Document candidates: MinHash or SimHash.
    pub method: Method,
    /// Words per document shingle.
    pub doc_shingle: usize,
    /// MinHash slots.
    pub num_perm: usize,
    /// Document similarity threshold (Jaccard or containment).
    pub threshold: f64,
    /// LSH bands and rows; `None` picks the optimal banding for the threshold.
    pub banding: Option<(usize, usize)>,
    /// SimHash: largest Hamming distance of candidate fingerprints.
    pub hamming: u32,
    /// Verification measure of document pairs.
    pub measure: Measure,
    /// Which document of a cluster is kept.
    pub keep: Keep,
    /// Keep every document and annotate JSON Lines records with their cluster.
    pub annotate: bool,
    /// What bad inputs and records do.
    pub on_error: OnError,
    /// Include patterns for directory walks.
    pub glob: Vec<String>,
    /// Read files that contain NUL bytes.
    pub text: bool,
    /// Characters of each removed block's text shown in the report (0: none).
    #[serde(skip)]
    pub preview: usize,
    /// Memory-map regular files instead of reading them (same answer).
    #[serde(skip)]
    pub mmap: bool,
    /// Worker threads; 0 means one per core.
    #[serde(skip)]
    pub threads: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            blocks: BlockMode::Auto,
            format: Format::Auto,
            text_field: "text".into(),
            id_field: "id".into(),
            block_shingle: 3,
            block_threshold: 0.8,
            min_words: 8,
            drop_short: false,
            strip_markup: true,
            max_gap: 3,
            seed: 42,
            level: Level::Both,
            method: Method::Minhash,
            doc_shingle: 5,
            num_perm: 256,
            threshold: DEFAULT_CONTAINMENT,
            banding: None,
            hamming: 3,
            measure: Measure::Containment,
            keep: Keep::First,
            annotate: false,
            on_error: OnError::Fail,
            glob: Vec::new(),
            text: false,
            preview: 0,
            mmap: true,
            threads: 0,
        }
    }
}

impl Config {
    /// Checks that the values make sense together.
    ///
    /// # Errors
    /// A [`Error::Usage`] naming the first bad value.
    pub fn validate(&self) -> Result<()> {
        if self.block_shingle == 0 {
            return Err(Error::Usage("--block-shingle must be at least 1".into()));
        }
        if !(self.block_threshold > 0.0 && self.block_threshold <= 1.0) {
            return Err(Error::Usage(format!(
                "--block-threshold must be in (0, 1], got {}",
                self.block_threshold
            )));
        }
        if self.doc_shingle == 0 {
            return Err(Error::Usage("--doc-shingle must be at least 1".into()));
        }
        if !(self.threshold > 0.0 && self.threshold <= 1.0) {
            return Err(Error::Usage(format!(
                "--threshold must be in (0, 1], got {}",
                self.threshold
            )));
        }
        if self.num_perm == 0 || self.num_perm > 4096 {
            return Err(Error::Usage("--num-perm must be from 1 to 4096".into()));
        }
        if let Some((bands, rows)) = self.banding {
            if bands == 0 || rows == 0 || bands.checked_mul(rows).is_none_or(|n| n > self.num_perm)
            {
                return Err(Error::Usage(format!(
                    "--bands {bands} x --rows {rows} must be at least 1 x 1 and at most --num-perm {}",
                    self.num_perm
                )));
            }
        }
        if self.hamming > MAX_HAMMING {
            return Err(Error::Usage(format!(
                "--hamming {} is more than {MAX_HAMMING}: past it the tables' keys are too short to tell documents apart, and nearly every pair of documents is compared (--hamming 20: 20,000 records did not finish in 10 minutes)",
                self.hamming
            )));
        }
        if self.text_field.is_empty() || self.id_field.is_empty() {
            return Err(Error::Usage(
                "--text-field and --id-field must not be empty".into(),
            ));
        }
        // The text field is read as the text alone: an id or a keep value
        // read from it was never there (ids `file:line`, and a warning that
        // no record has a value for --keep).
        if self.id_field == self.text_field {
            // (`id` is the default id field: a user who named only
            // `--text-field id` never gave --id-field.)
            return Err(Error::Usage(
                if self.id_field == Config::default().id_field {
                    format!(
                    "--text-field {0:?} is the field ids are read from by default (--id-field {0:?}): give --id-field FIELD to name the field of the records' ids",
                    self.text_field
                )
                } else {
                    format!(
                    "--id-field {0:?} is the field --text-field reads: name the field of the records' ids (or leave --id-field out)",
                    self.id_field
                )
                },
            ));
        }
        if let Some(field) = self.keep.field().filter(|f| *f == self.text_field) {
            return Err(Error::Usage(format!(
                "--keep {} compares the field --text-field reads ({field:?}), the text itself: name a field of times or numbers, such as a record's date",
                crate::escape::printable(&self.keep.to_string())
            )));
        }
        if self.annotate {
            // Written after the record's own fields, they would hide them.
            for (flag, field) in [
                ("--text-field", &self.text_field),
                ("--id-field", &self.id_field),
            ] {
                if ANNOTATION_FIELDS.contains(&field.as_str()) {
                    return Err(Error::Usage(format!(
                        "{flag} {field} is a field --annotate writes; it would hide the record's own"
                    )));
                }
            }
        }
        Ok(())
    }
}

/// Largest `--hamming`. The 64 bits are cut into k + 3 blocks and each of
/// the C(k + 3, 3) tables is keyed by 3 of them, 3 x 64 / (k + 3) bits: 15
/// at 10 (286 tables), 13.7 at 11, 8.3 at 20 (1,771 tables), where nearly
/// every pair of documents shares a key. 3,000 records of 120 words took
/// 0.4 s at 3, 0.6 s at 10, 1.1 s at 11, 6.3 s at 14 and 14 s at 16; 20,000
/// at `--memory-limit 64M` 5 s at 3, 21 s at 10 and 39 s at 12
/// (`benches/RESULTS.md`, session 30).
pub const MAX_HAMMING: u32 = 10;

/// Most worker threads per core: more only add start-up and coordination
/// (`--threads 10000` took minutes on a 7 KB file).
const THREADS_PER_CORE: usize = 8;

/// The worker threads a run uses for `--threads asked`: one per core for 0,
/// at most 8 per core (`THREADS_PER_CORE`), with a note saying so when
/// capped.
#[must_use]
pub fn resolve_threads(asked: usize) -> (usize, Option<String>) {
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let most = cores.saturating_mul(THREADS_PER_CORE);
    if asked == 0 {
        (cores, None)
    } else if asked > most {
        let note = format!(
            "--threads {asked} is more than {THREADS_PER_CORE} per core; using {most} ({cores} cores)"
        );
        (most, Some(note))
    } else {
        (asked, None)
    }
}
