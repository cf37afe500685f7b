//! What a document costs a chunk, in bytes of text (each of which costs
//! [`MEMORY_PER_TEXT_BYTE`] of memory): chunks are cut by this count.

use crate::cluster::Candidates;
use crate::config::{Config, Level};
use crate::input::Document;

/// Bytes of memory per byte of text a chunk costs at both levels (sketches,
/// block index, report): 12 measured on the 250 MB corpus, 14 late in the
/// 5 GB corpus's run, whose peak went 1,129 -> 1,083 MiB at a 1 GiB limit
/// with 14 (`benches/RESULTS.md`).
pub const MEMORY_PER_TEXT_BYTE: usize = 14;

/// What a document costs a chunk besides its text at the default settings,
/// in bytes of text: its table entry, blocks, band keys, candidate pairs,
/// decision and report entry, and the 120 band records its index segment is
/// written with, about 6 KB a document in a chunked run of one-word records.
/// Counted by text alone, a flood of 200,000 one-word records made one chunk
/// at `--memory-limit 64M` (1 GiB).
pub const DOCUMENT_COST: usize = 512;

/// The keys (120 bands and 8 of the beginning) and signature slots
/// [`DOCUMENT_COST`] counts.
const COUNTED_KEYS: usize = 128;
const COUNTED_SLOTS: usize = 256;

/// Memory each key a document has past [`COUNTED_KEYS`] costs a chunk: the
/// key in the chunk's tables, its band record in the chunk's index segment
/// and in the sort that writes it, and a share of the candidate pairs.
const KEY_BYTES: usize = 48;

/// [`DOCUMENT_COST`], and more for a run whose documents have more keys or
/// slots than the defaults give them (`--num-perm 4096 --bands 4096 --rows
/// 1`, 4,104 keys a document, or `--method simhash --hamming 20`, 1,771
/// tables): counted at 128 keys, such a run at `--memory-limit 64M` peaked at
/// 325 MiB.
#[must_use]
pub fn document_cost(config: &Config) -> usize {
    if config.level == Level::Blocks {
        return DOCUMENT_COST;
    }
    // (A MinHash document's tail key, one key, is within the margin of
    // what was measured at 128.)
    let keys = match Candidates::new(config) {
        c @ Candidates::Minhash { head: true, .. } => c.tables() - 1,
        c => c.tables(),
    };
    let more = keys.saturating_sub(COUNTED_KEYS).saturating_mul(KEY_BYTES)
        + config.num_perm.saturating_sub(COUNTED_SLOTS) * 8;
    // Fewer SimHash tables cost less: 20 at `--hamming 3`, which counted as
    // 128 keys made chunks of 2,100 six-word records at `--memory-limit 16M`
    // (37 chunks for 5 MB, peak 16 MiB). (MinHash's count stays as it was
    // measured, its short documents' keys spared or not.)
    let fewer = match config.method {
        crate::config::Method::Simhash => {
            COUNTED_KEYS.saturating_sub(keys) * KEY_BYTES / MEMORY_PER_TEXT_BYTE
        }
        crate::config::Method::Minhash => 0,
    };
    DOCUMENT_COST + more.div_ceil(MEMORY_PER_TEXT_BYTE) - fewer
}

/// What each block of a document past its first costs a chunk at least, in
/// bytes of text ([`crate::memory::BLOCK_MEMORY`] of memory).
pub const BLOCK_COST: usize = crate::memory::BLOCK_MEMORY / MEMORY_PER_TEXT_BYTE;

/// Blocks that a document is never refused for: their memory (16 MiB) is
/// within what every run is allowed past its limit.
const FEW_BLOCKS: usize = (16 << 20) / crate::memory::BLOCK_MEMORY;

/// Whether one chunk of `max` bytes of text cannot hold `doc`: its text,
/// normalized, is longer, or its blocks, more than a few, cost more.
pub fn too_large(doc: &Document, max: usize) -> bool {
    doc.normalized_len() > max || (doc.more_blocks() > FEW_BLOCKS && text_cost(doc) > max)
}

/// The bytes of text a document counts as: its text's once normalized (what
/// is hashed: `Document::expansion` more than its bytes for text such as
/// U+FDFA, 3 bytes and 33 normalized), or [`BLOCK_COST`] for each of its
/// blocks past the first when that is more (a text of short lines).
pub fn text_cost(doc: &Document) -> usize {
    doc.normalized_len()
        .max(doc.more_blocks().saturating_mul(BLOCK_COST))
}

/// Refuses the first of `docs` (read from `source`) that one chunk of `max`
/// bytes of text cannot hold ([`too_large`]), naming its file and line.
pub(super) fn refuse_too_large(
    source: &crate::input::Source,
    docs: &[Document],
    max: usize,
) -> crate::error::Result<()> {
    use crate::error::Error;
    let Some(big) = docs.iter().find(|d| too_large(d, max)) else {
        return Ok(());
    };
    let lines = if big.len > max {
        String::new()
    } else if big.normalized_len() > max {
        // U+FDFA: 3 bytes, 33 once normalized.
        format!(" ({} once normalized for hashing)", big.normalized_len())
    } else {
        format!(
            " in about {} blocks (a block counts as {BLOCK_COST} bytes)",
            big.blocks
        )
    };
    let len = big.len;
    let path = crate::input::display_path(&source.input);
    Err(match &big.record {
        None => Error::TooLarge {
            path,
            message: format!(
                "one document of {len} bytes of text{lines}, more than one chunk of this run holds ({max} bytes); raise --memory-limit or split it"
            ),
        },
        Some(record) => Error::Record {
            path,
            line: record.line(),
            message: format!(
                "too large: a text of {len} bytes{lines}, more than one chunk of this run holds ({max} bytes); raise --memory-limit or split it"
            ),
        },
    })
}

/// The bytes a document counts as in a chunk: its text's ([`text_cost`]),
/// its id's (800 KB ids, a careless `--id-field` or a hostile file, made
/// chunks of 300 such records at `--memory-limit 64M` hold 240 MB of them)
/// and `document_cost`.
pub fn chunk_cost(doc: &Document, document_cost: usize) -> usize {
    text_cost(doc)
        .saturating_add(doc.id_bytes())
        .saturating_add(document_cost)
}

impl super::Stream<'_> {
    /// Bytes of memory the stream holds for the whole run, which grow as
    /// inputs are read: the inputs held in memory (files of less than 64
    /// KiB, text that is not UTF-8), each input's entry and name, where
    /// documents have their text when that is not spooled, and what was
    /// passed over. (Not the documents read ahead for the next chunk: that
    /// chunk counts them.) Counted from lengths, so the same from run to
    /// run.
    #[must_use]
    pub fn held_bytes(&self) -> usize {
        use std::mem::size_of;
        let seen = &self.seen;
        let sources: usize = seen
            .sources
            .iter()
            .map(|s| {
                let names = s.input.path.as_os_str().len() + s.input.relative.as_os_str().len();
                size_of::<crate::input::Source>() + names + s.data.heap_bytes()
            })
            .sum();
        sources
            + seen.sources.capacity() * size_of::<usize>()
            + seen.places.held_bytes()
            + seen.skipped.capacity() * size_of::<crate::Error>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_with_more_keys_cost_a_chunk_more() {
        let default = Config::default();
        assert_eq!(document_cost(&default), DOCUMENT_COST);
        let many = Config {
            num_perm: 4096,
            banding: Some((4096, 1)),
            ..Config::default()
        };
        // 4,104 keys and 4,096 slots: about 16 KB of text a document.
        assert!(
            document_cost(&many) > 30 * DOCUMENT_COST,
            "{}",
            document_cost(&many)
        );
        let simhash = Config {
            method: crate::config::Method::Simhash,
            hamming: 20,
            ..Config::default()
        };
        assert!(document_cost(&simhash) > 10 * DOCUMENT_COST);
        // 20 tables at --hamming 3: 108 keys fewer than counted.
        let fewer = Config {
            method: crate::config::Method::Simhash,
            ..Config::default()
        };
        assert_eq!(
            document_cost(&fewer),
            DOCUMENT_COST - 108 * KEY_BYTES / MEMORY_PER_TEXT_BYTE
        );
        let blocks = Config {
            level: Level::Blocks,
            ..many
        };
        assert_eq!(document_cost(&blocks), DOCUMENT_COST);
    }
}
