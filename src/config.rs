//! The run's settings, validated once and then only read.

use crate::error::{Error, Result};
use serde::Serialize;

/// How a document is cut into blocks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
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
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// `.jsonl`/`.ndjson` files are JSON Lines, everything else plain text.
    Auto,
    /// A whole file is one document.
    Text,
    /// One JSON object per line.
    Jsonl,
}

/// Every setting that changes the answer, plus a few that only change how it is
/// computed (threads, mmap). Built by the binary from its arguments, or by library
/// users directly from [`Config::default`].
#[derive(Clone, Debug, Serialize)]
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
    /// Longest unique interruption (in blocks) inside one repeated run, and the
    /// longest skip on the source side.
    pub max_gap: usize,
    /// Seed of every hash.
    pub seed: u64,
    /// Read files that contain NUL bytes.
    pub text: bool,
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
            max_gap: 3,
            seed: 42,
            text: false,
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
        if self.text_field.is_empty() || self.id_field.is_empty() {
            return Err(Error::Usage(
                "--text-field and --id-field must not be empty".into(),
            ));
        }
        Ok(())
    }
}
