//! # neardup
//!
//! Finds near-duplicate text — paragraphs repeated inside a document, blocks
//! syndicated across documents, and whole documents that are near copies of
//! each other — in one pass; keeps the first copy of each and writes the text
//! back without the repeats, every kept byte unchanged, with a report that says
//! where each removed block or document was first seen.
//!
//! ```text
//! input ──► segment ──► normalize ──► shingle ──┬─► documents ─────────► drop near-duplicate
//! files,    blocks =    NFKC, case,   word       │   MinHash/LSH or        documents whole
//! JSONL,    byte spans  quotes,       n-grams,   │   SimHash candidates,   (cluster::cluster)
//! .gz/.zst, (tile the   dashes,       seeded     │   verified vs. the
//! stdin     input)      spaces        xxh3       │   representative
//!                                                └─► blocks of kept ─────► runs of repeats,
//!                                                    documents: exact key  first copy kept
//!                                                    + shingle index,      (decide) ──► output:
//!                                                    containment (detect)  kept spans, temp
//!                                                                          file + rename; report
//! ```
//!
//! Reading, segmentation, normalization, hashing and sketching run in parallel
//! (rayon) over documents; candidate pairs are sorted; document clustering and
//! block detection visit items once in input order, so the answer is the same
//! whatever the number of threads.
//!
//! A run over files, as the binary makes one: a [`Plan`] settles everything
//! the run does once, from the validated [`Config`] and a [`Request`]; [`run`]
//! follows it. Every run takes one path: a run without a memory limit is a
//! run in chunks with one chunk.
//!
//! ```no_run
//! use neardup::plan::{Command, ReportFormat, Request};
//! use neardup::{Config, Plan};
//!
//! let request = Request {
//!     command: Command::Scan,
//!     paths: vec!["corpus/".into()],
//!     output: None,
//!     out_dir: None,
//!     report: None,
//!     html: None,
//!     format: ReportFormat::Json,
//!     step_summary: None,
//!     index: None,
//!     reference: None,
//!     update: false,
//!     memory_limit: None,
//!     tmp_dir: None,
//!     quiet: false,
//!     verbose: false,
//!     streams: Default::default(),
//! };
//! let plan = Plan::new(Config::default(), request).expect("a valid request");
//! let status = neardup::run(&plan, &neardup::progress::Silent);
//! assert!(status.is_ok());
//! ```
//!
//! A caller holding its records in memory (the Python package) gives the
//! run streams in place of standard input and output ([`plan::Streams`]):
//! the same run, reading JSON Lines from a [`pipe::Reader`] and writing the
//! cleaned text and the report to [`pipe::Writer`]s (see [`pipe`]).
//!
//! The engine alone, over texts in memory:
//!
//! ```
//! use neardup::{Config, Corpus};
//!
//! let text = "Intro line that is long enough to be judged on its own words.\n\
//!             Body paragraph with plenty of words to make shingles from here.\n\
//!             A tweet in between.\n\
//!             Body paragraph with plenty of words to make shingles from here.\n";
//! let corpus = Corpus::from_texts([("article", text)]);
//! let config = Config::default();
//! let analysis = neardup::analyze(&corpus, &config);
//! let cleaned = neardup::output::cleaned_text(text, &analysis, 0);
//! assert_eq!(cleaned.lines().count(), 3);
//! assert!(cleaned.ends_with("A tweet in between.\n"));
//! ```

pub mod check;
mod chunked;
pub mod cluster;
pub mod compress;
pub mod config;
pub mod decide;
pub mod detect;
pub mod distributed;
mod driver;
pub mod error;
pub mod escape;
mod hashsort;
pub mod hooks;
pub mod index;
pub mod input;
pub mod jsonl;
mod lonely;
pub mod memory;
pub mod normalize;
pub mod output;
pub mod parquet;
pub mod pipe;
pub mod pipeline;
pub mod plan;
pub mod prior;
pub mod progress;
pub mod report;
pub mod segment;
pub mod shingle;
mod sizes;
pub mod sketch;
pub mod store;
pub mod stream;
pub mod targets;

/// A seeded stream of pseudo-random numbers for unit tests (the high bits
/// of a 64-bit linear congruential generator).
#[cfg(test)]
pub(crate) fn test_numbers(seed: u64) -> impl FnMut() -> u64 {
    let mut state = seed;
    move || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        state >> 17
    }
}

pub use config::{BlockMode, Config, Format};
pub use driver::{run, Failure};
pub use error::{Error, Result};
pub use input::Corpus;
pub use pipeline::{analyze, Analysis};
pub use plan::{Plan, Request};

/// How a run ended, for the process exit status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitStatus {
    /// 0: finished.
    Success,
    /// 1: finished, and duplication is over a threshold (`check`).
    Duplicates,
    /// 2: an error: bad arguments, unreadable input, failed write.
    Error,
}

impl From<ExitStatus> for std::process::ExitCode {
    fn from(status: ExitStatus) -> Self {
        std::process::ExitCode::from(match status {
            ExitStatus::Success => 0,
            ExitStatus::Duplicates => 1,
            ExitStatus::Error => 2,
        })
    }
}
