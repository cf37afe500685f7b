//! Blocks: byte spans of the original text.
//!
//! A block's `span` runs from the start of its first line to the end of the blank
//! lines that follow it, so the spans of a document tile it exactly: concatenating
//! them gives back the input byte for byte (the idea of ripgrep's line iterator,
//! where a terminator belongs to the line it ends). Leading blank lines belong to
//! the first block. `content` is the part a reader sees as the paragraph: its first
//! line's start to its last line's end, without the terminator.

use crate::config::BlockMode;
use std::ops::Range;

/// One block of a document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Block {
    /// Bytes that belong to the block, trailing terminator and blank lines included.
    pub span: Range<usize>,
    /// The block's text without trailing terminator and blank lines.
    pub content: Range<usize>,
    /// 1-based line of the content's first line.
    pub first_line: usize,
    /// 1-based line of the content's last line.
    pub last_line: usize,
}

/// One line: where it starts, where its text ends and where its terminator ends.
struct Line {
    start: usize,
    text_end: usize,
    end: usize,
}

/// Iterates lines ended by `\n`, `\r\n` or a lone `\r` (all kept byte for byte).
fn lines(bytes: &[u8]) -> impl Iterator<Item = Line> + '_ {
    let mut pos = 0;
    std::iter::from_fn(move || {
        if pos >= bytes.len() {
            return None;
        }
        let start = pos;
        let rest = &bytes[pos..];
        let (text_end, end) = match memchr::memchr2(b'\n', b'\r', rest) {
            None => (bytes.len(), bytes.len()),
            Some(i) if rest[i] == b'\r' && rest.get(i + 1) == Some(&b'\n') => {
                (start + i, start + i + 2)
            }
            Some(i) => (start + i, start + i + 1),
        };
        pos = end;
        Some(Line {
            start,
            text_end,
            end,
        })
    })
}

fn is_blank(text: &str) -> bool {
    text.chars().all(char::is_whitespace)
}

/// Whether `text` has two paragraphs, i.e. a blank line with text on both sides.
fn has_paragraphs(text: &str) -> bool {
    let mut seen_text = false;
    let mut blank_after_text = false;
    for line in lines(text.as_bytes()) {
        if is_blank(&text[line.start..line.text_end]) {
            blank_after_text |= seen_text;
        } else if blank_after_text {
            return true;
        } else {
            seen_text = true;
        }
    }
    false
}

/// Cuts `text` into blocks. The spans tile `text`: the first starts at 0, each
/// starts where the previous ends, and the last ends at `text.len()`. Empty text
/// gives no blocks; text of blank lines only gives one block with empty content.
#[must_use]
pub fn segment(text: &str, mode: BlockMode) -> Vec<Block> {
    let mut blocks = Vec::new();
    segment_into(text, mode, &mut blocks);
    blocks
}

/// [`segment`], appending the blocks to `blocks` (a table of many documents'
/// blocks, see [`Blocks`]).
pub fn segment_into(text: &str, mode: BlockMode, blocks: &mut Vec<Block>) {
    let paragraphs = match mode {
        BlockMode::Lines => false,
        BlockMode::Paragraphs => true,
        BlockMode::Auto => has_paragraphs(text),
    };
    let first = blocks.len();
    let mut current: Option<Block> = None;
    let mut previous_blank = true;
    for (index, line) in lines(text.as_bytes()).enumerate() {
        let line_no = index + 1;
        let blank = is_blank(&text[line.start..line.text_end]);
        if blank {
            if let Some(block) = current.as_mut() {
                block.span.end = line.end;
            }
        } else if current.is_some() && paragraphs && !previous_blank {
            let block = current.as_mut().expect("checked is_some");
            block.span.end = line.end;
            block.content.end = line.text_end;
            block.last_line = line_no;
        } else {
            let span_start = match current.take() {
                Some(done) => {
                    let end = done.span.end;
                    blocks.push(done);
                    end
                }
                // Leading blank lines belong to the first block.
                None => blocks[first..].last().map_or(0, |b| b.span.end),
            };
            current = Some(Block {
                span: span_start..line.end,
                content: line.start..line.text_end,
                first_line: line_no,
                last_line: line_no,
            });
        }
        previous_blank = blank;
    }
    blocks.extend(current);
    if blocks.len() == first && !text.is_empty() {
        blocks.push(Block {
            span: 0..text.len(),
            content: 0..0,
            first_line: 1,
            last_line: 1,
        });
    }
}

/// Many documents' blocks in one table (one vector for all, not one each:
/// 100,000 one-line records made 100,000 vectors of one block), with where
/// each document's start. `blocks[doc]` is document `doc`'s.
///
/// A table can be packed ([`Blocks::pack`]) while its blocks are not read:
/// its documents and their numbers of blocks are known, its blocks are kept
/// as a few bytes each (a [`Block`] is 48), and reading one panics until
/// the table is unpacked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Blocks {
    all: Vec<Block>,
    /// Where each document's blocks start in `all`, plus the end.
    start: Vec<usize>,
    /// Packed, the blocks (`all` is then empty): per block, as varints,
    /// its span's start less the previous block's span end (0 at a
    /// document's start), its content's start less its span's start, its
    /// content's length, its span's end less its content's end, its first
    /// line less the previous block's last line (0 at a document's start),
    /// and its last line less its first (differences wrap: any block
    /// round-trips).
    packed: Option<Vec<u8>>,
}

impl Default for Blocks {
    fn default() -> Self {
        Blocks {
            all: Vec::new(),
            start: vec![0],
            packed: None,
        }
    }
}

/// Appends `value` to `out` as a varint (7 bits a byte, low bits first).
#[allow(clippy::cast_possible_truncation)] // Seven bits at a time.
fn put(out: &mut Vec<u8>, value: usize) {
    let mut value = value as u64;
    while value >= 0x80 {
        out.push((value & 0x7f) as u8 | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

/// The varint at `bytes[*at..]` (see [`put`]); moves `at` past it.
#[allow(clippy::cast_possible_truncation)] // `put` wrote a usize.
fn take(bytes: &[u8], at: &mut usize) -> usize {
    let (mut value, mut shift) = (0u64, 0);
    loop {
        let byte = bytes[*at];
        *at += 1;
        value |= u64::from(byte & 0x7f) << shift;
        if byte < 0x80 {
            return value as usize;
        }
        shift += 7;
    }
}

impl Blocks {
    /// An empty table with room for `documents` documents of `blocks`
    /// blocks in all.
    #[must_use]
    pub fn with_capacity(documents: usize, blocks: usize) -> Blocks {
        let mut start = Vec::with_capacity(documents + 1);
        start.push(0);
        Blocks {
            all: Vec::with_capacity(blocks),
            start,
            packed: None,
        }
    }

    /// An empty packed table with room for `documents` documents of
    /// `bytes` bytes of packed blocks in all (see [`Blocks::pack`]).
    #[must_use]
    pub fn packed_with_capacity(documents: usize, bytes: usize) -> Blocks {
        let mut start = Vec::with_capacity(documents + 1);
        start.push(0);
        Blocks {
            all: Vec::new(),
            start,
            packed: Some(Vec::with_capacity(bytes)),
        }
    }

    /// Keeps the blocks as a few bytes each until [`Blocks::unpack`]
    /// (nothing when packed already).
    pub fn pack(&mut self) {
        if self.packed.is_some() {
            return;
        }
        let mut out = Vec::with_capacity(self.all.len() * 8);
        for doc in 0..self.len() {
            let (mut end, mut line) = (0, 0);
            for b in &self.all[self.start[doc]..self.start[doc + 1]] {
                put(&mut out, b.span.start.wrapping_sub(end));
                put(&mut out, b.content.start.wrapping_sub(b.span.start));
                put(&mut out, b.content.end.wrapping_sub(b.content.start));
                put(&mut out, b.span.end.wrapping_sub(b.content.end));
                put(&mut out, b.first_line.wrapping_sub(line));
                put(&mut out, b.last_line.wrapping_sub(b.first_line));
                (end, line) = (b.span.end, b.last_line);
            }
        }
        out.shrink_to_fit();
        self.all = Vec::new();
        self.packed = Some(out);
    }

    /// Makes the blocks of a packed table readable again (nothing when not
    /// packed).
    pub fn unpack(&mut self) {
        let Some(bytes) = self.packed.take() else {
            return;
        };
        let mut all = Vec::with_capacity(self.start[self.len()]);
        let mut at = 0;
        for doc in 0..self.len() {
            let (mut end, mut line) = (0usize, 0usize);
            for _ in self.start[doc]..self.start[doc + 1] {
                let span_start = end.wrapping_add(take(&bytes, &mut at));
                let content_start = span_start.wrapping_add(take(&bytes, &mut at));
                let content_end = content_start.wrapping_add(take(&bytes, &mut at));
                let span_end = content_end.wrapping_add(take(&bytes, &mut at));
                let first_line = line.wrapping_add(take(&bytes, &mut at));
                let last_line = first_line.wrapping_add(take(&bytes, &mut at));
                all.push(Block {
                    span: span_start..span_end,
                    content: content_start..content_end,
                    first_line,
                    last_line,
                });
                (end, line) = (span_end, last_line);
            }
        }
        debug_assert_eq!(at, bytes.len());
        self.all = all;
    }

    /// Whether the blocks are packed (see [`Blocks::pack`]).
    #[must_use]
    pub fn is_packed(&self) -> bool {
        self.packed.is_some()
    }

    /// Number of blocks of document `doc` (also when packed).
    #[must_use]
    pub fn count(&self, doc: usize) -> usize {
        self.start[doc + 1] - self.start[doc]
    }

    /// Bytes the packed blocks take (0 when not packed).
    #[must_use]
    pub fn packed_bytes(&self) -> usize {
        self.packed.as_ref().map_or(0, Vec::len)
    }

    /// Segments `text` as the next document's blocks; returns them.
    ///
    /// # Panics
    /// If the table is packed.
    pub fn push_text(&mut self, text: &str, mode: BlockMode) -> &[Block] {
        assert!(!self.is_packed(), "a packed table of blocks is read-only");
        let first = self.all.len();
        segment_into(text, mode, &mut self.all);
        self.start.push(self.all.len());
        &self.all[first..]
    }

    /// Adds a document of `blocks`.
    ///
    /// # Panics
    /// If the table is packed.
    pub fn push(&mut self, blocks: impl IntoIterator<Item = Block>) {
        assert!(!self.is_packed(), "a packed table of blocks is read-only");
        self.all.extend(blocks);
        self.start.push(self.all.len());
    }

    /// Adds the documents of `other` after these.
    ///
    /// # Panics
    /// If one table is packed and the other not.
    pub fn append(&mut self, other: Blocks) {
        let base = self.start[self.len()];
        match (&mut self.packed, other.packed) {
            (Some(bytes), Some(more)) => bytes.extend_from_slice(&more),
            (None, None) => self.all.extend(other.all),
            _ => panic!("blocks appended to a table packed otherwise"),
        }
        self.start
            .extend(other.start[1..].iter().map(|&end| base + end));
    }

    /// Number of documents.
    #[must_use]
    pub fn len(&self) -> usize {
        self.start.len() - 1
    }

    /// Whether the table holds no document.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Number of blocks, all documents'.
    #[must_use]
    pub fn blocks(&self) -> usize {
        self.start[self.len()]
    }
}

impl std::ops::Index<usize> for Blocks {
    type Output = [Block];

    fn index(&self, doc: usize) -> &[Block] {
        assert!(!self.is_packed(), "blocks read from a packed table");
        &self.all[self.start[doc]..self.start[doc + 1]]
    }
}

impl FromIterator<Vec<Block>> for Blocks {
    fn from_iter<I: IntoIterator<Item = Vec<Block>>>(docs: I) -> Blocks {
        let mut blocks = Blocks::default();
        for doc in docs {
            blocks.push(doc);
        }
        blocks
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_table_of_many_documents_gives_each_its_own_blocks() {
        // Documents segmented one after another into one table have the
        // blocks each has alone (leading blank lines start at its byte 0).
        let texts = ["one\n\ntwo", "", "\n\nthree\nfour", "\n \n", "five"];
        let mut one = Blocks::default();
        for text in &texts[..2] {
            one.push_text(text, BlockMode::Auto);
        }
        let mut other = Blocks::with_capacity(3, 3);
        for text in &texts[2..] {
            other.push_text(text, BlockMode::Auto);
        }
        one.append(other);
        assert_eq!(one.len(), texts.len());
        assert_eq!(one.blocks(), 6);
        for (doc, text) in texts.iter().enumerate() {
            assert_eq!(one[doc], segment(text, BlockMode::Auto), "{text:?}");
        }
        let collected: Blocks = texts.iter().map(|t| segment(t, BlockMode::Lines)).collect();
        assert_eq!(
            &collected[2],
            segment(texts[2], BlockMode::Lines).as_slice()
        );
        assert_eq!(collected[2].len(), 2);
        assert_eq!(collected[2][0].span, 0..8);
    }

    #[test]
    fn a_packed_table_unpacks_to_the_same_blocks() {
        // Tables packed apart and appended unpack to the table made whole,
        // also for blocks no segmentation makes (overlapping, reversed,
        // at usize's ends): differences wrap.
        let texts = [
            "one\n\ntwo\n\n\n",
            "",
            "\r\n\r\nthree\r\nfour",
            "\n \n",
            "a\rb",
        ];
        let mut whole = Blocks::default();
        let (mut one, mut other) = (Blocks::default(), Blocks::default());
        for (i, text) in texts.iter().enumerate() {
            whole.push_text(text, BlockMode::Lines);
            if i < 3 { &mut one } else { &mut other }.push_text(text, BlockMode::Lines);
        }
        let odd = |(a, b), (c, d), first_line, last_line| Block {
            span: Range { start: a, end: b },
            content: Range { start: c, end: d },
            first_line,
            last_line,
        };
        let strange = [
            odd((usize::MAX - 3, 2), (usize::MAX, 0), usize::MAX, 0),
            odd((5, 1), (7, usize::MAX), 3, 1),
            odd((0, 0), (0, 0), 0, 0),
            odd(
                (1 << 40, (1 << 41) + 3),
                ((1 << 40) + 200, 1 << 41),
                1 << 33,
                1 << 34,
            ),
        ];
        whole.push(strange.clone());
        other.push(strange);
        for table in [&mut one, &mut other] {
            table.pack();
            table.pack();
            assert!(table.is_packed());
        }
        // Small numbers take a byte each.
        assert_eq!(one.packed_bytes(), 6 * one.blocks());
        one.append(other);
        assert_eq!((one.len(), one.blocks()), (whole.len(), whole.blocks()));
        assert_eq!((one.count(0), one.count(1)), (2, 0));
        let mut merged = Blocks::packed_with_capacity(2, 0);
        merged.append(one);
        merged.unpack();
        merged.unpack();
        assert!(!merged.is_packed());
        assert_eq!(merged, whole);
    }

    #[test]
    #[should_panic(expected = "packed table")]
    fn a_packed_table_is_not_read() {
        let mut table: Blocks = [segment("a\nb", BlockMode::Auto)].into_iter().collect();
        table.pack();
        let _ = &table[0];
    }

    fn contents(text: &str, mode: BlockMode) -> Vec<&str> {
        segment(text, mode)
            .iter()
            .map(|b| &text[b.content.clone()])
            .collect()
    }

    #[test]
    fn lines_without_blank_lines() {
        let text = "a\nb\r\nc\rd";
        assert_eq!(contents(text, BlockMode::Auto), ["a", "b", "c", "d"]);
        let spans: Vec<_> = segment(text, BlockMode::Auto)
            .into_iter()
            .map(|b| b.span)
            .collect();
        assert_eq!(spans, [0..2, 2..5, 5..7, 7..8]);
    }

    #[test]
    fn paragraphs_take_their_blank_lines() {
        let text = "\n\na\nb\n\n \nc\n";
        let blocks = segment(text, BlockMode::Auto);
        assert_eq!(blocks.len(), 2);
        assert_eq!(blocks[0].span, 0..9);
        assert_eq!(&text[blocks[0].content.clone()], "a\nb");
        assert_eq!((blocks[0].first_line, blocks[0].last_line), (3, 4));
        assert_eq!(&text[blocks[1].span.clone()], "c\n");
        assert_eq!(blocks[1].first_line, 7);
    }

    #[test]
    fn auto_needs_text_on_both_sides_of_a_blank_line() {
        assert_eq!(contents("a\nb\n\n", BlockMode::Auto), ["a", "b"]);
        assert_eq!(contents("a\nb\n\n", BlockMode::Paragraphs), ["a\nb"]);
        assert_eq!(contents("a\n\nb", BlockMode::Lines), ["a", "b"]);
    }

    #[test]
    fn blank_only_text_is_one_empty_block() {
        let blocks = segment(" \n\n", BlockMode::Auto);
        assert_eq!(blocks.len(), 1);
        assert_eq!(blocks[0].span, 0..3);
        assert!(blocks[0].content.is_empty());
        assert!(segment("", BlockMode::Auto).is_empty());
    }
}
