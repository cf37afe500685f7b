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
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Blocks {
    all: Vec<Block>,
    /// Where each document's blocks start in `all`, plus the end.
    start: Vec<usize>,
}

impl Default for Blocks {
    fn default() -> Self {
        Blocks {
            all: Vec::new(),
            start: vec![0],
        }
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
        }
    }

    /// Segments `text` as the next document's blocks; returns them.
    pub fn push_text(&mut self, text: &str, mode: BlockMode) -> &[Block] {
        let first = self.all.len();
        segment_into(text, mode, &mut self.all);
        self.start.push(self.all.len());
        &self.all[first..]
    }

    /// Adds a document of `blocks`.
    pub fn push(&mut self, blocks: impl IntoIterator<Item = Block>) {
        self.all.extend(blocks);
        self.start.push(self.all.len());
    }

    /// Adds the documents of `other` after these.
    pub fn append(&mut self, other: Blocks) {
        let base = self.all.len();
        self.all.extend(other.all);
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
        self.all.len()
    }
}

impl std::ops::Index<usize> for Blocks {
    type Output = [Block];

    fn index(&self, doc: usize) -> &[Block] {
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
