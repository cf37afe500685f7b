//! # neardup
//!
//! Finds near-duplicate text — paragraphs repeated inside a document and blocks
//! syndicated across documents — keeps the first copy of each and writes the
//! text back without the repeats, every kept byte unchanged, with a report that
//! says where each removed block was first seen.
//!
//! ```text
//! input ──► segment ──► normalize ──► shingle ──► detect ──► decide ──► output
//! files,    blocks =    NFKC, case,   word        exact key  runs of    kept spans,
//! JSONL,    byte spans  quotes,       n-grams,    + shingle  repeats,   temp file
//! stdin     (tile the   dashes,       seeded      index:     first copy + rename;
//!           input)      spaces        xxh3        containment kept      report
//! ```
//!
//! Segmentation, normalization and hashing run in parallel (rayon) over
//! documents; detection visits blocks once in input order, so the answer is the
//! same whatever the number of threads.
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
pub mod cluster;
pub mod compress;
pub mod config;
pub mod decide;
pub mod detect;
pub mod error;
pub mod index;
pub mod input;
pub mod jsonl;
pub mod normalize;
pub mod output;
pub mod pipeline;
pub mod report;
pub mod segment;
pub mod shingle;
pub mod sketch;

pub use config::{BlockMode, Config, Format};
pub use error::{Error, Result};
pub use input::Corpus;
pub use pipeline::{analyze, Analysis};

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
