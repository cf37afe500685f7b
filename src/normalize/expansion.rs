//! How much longer normalization can make a text than its bytes: what a run
//! under `--memory-limit` counts a document by besides them.
//!
//! A run's memory grows with the text it hashes, which is the normalized
//! text: its words and shingles, and the normalized copy of each block. For
//! almost all text that is about its bytes, but a few characters normalize
//! to many: U+FDFA (3 bytes) is 18 characters and 4 words under NFKC (33
//! bytes), a ligature or a squared word several letters, a lone Greek letter
//! its name, and markup normalization decodes `&#xFDFA;` (8 bytes) to
//! U+FDFA. Counted by their bytes, 6 MB of U+FDFA made one chunk at
//! `--memory-limit 64M` and took 100 MiB; a 50 MB record of them took 1.1 GiB
//! at `--memory-limit 1G`. [`expansion`] is an upper bound of what
//! normalization adds, character by character, without normalizing.

use unicode_normalization::{is_nfkc_quick, IsNormalized};

/// Bytes normalizing the character `c` by itself may add to its own: the
/// length of its compatibility decomposition (NFKC's of one character is no
/// longer), each character of that lower-cased or, a Greek letter, spelled
/// out, less `c`'s own length. 0 for ASCII and for the scripts most text is
/// in (CJK ideographs, kana and Hangul syllables normalize to themselves).
#[must_use]
pub fn char_expansion(c: char) -> usize {
    if c.is_ascii()
        || matches!(c, '\u{3040}'..='\u{30FF}' | '\u{4E00}'..='\u{9FFF}' | '\u{AC00}'..='\u{D7A3}')
    {
        return 0;
    }
    let mut out = 0usize;
    let mut add = |d: char| {
        out += match super::greek_name(d) {
            Some(name) => name.len(),
            // The only characters whose lower case is longer in UTF-8
            // (by a byte): `İ` is `i̇`.
            None => d.len_utf8() + usize::from(matches!(d, '\u{130}' | '\u{23A}' | '\u{23E}')),
        };
    };
    if is_nfkc_quick(std::iter::once(c)) == IsNormalized::Yes {
        add(c);
    } else {
        unicode_normalization::char::decompose_compatible(c, &mut add);
    }
    out.saturating_sub(c.len_utf8())
}

/// [`char_expansion`] of the characters met lately, by their last 6 bits: a
/// text of a few characters repeated (what a bomb is) looks each up once.
pub struct Memo([(u32, u32); 64]);

impl Default for Memo {
    fn default() -> Memo {
        // No character is `u32::MAX`.
        Memo([(u32::MAX, 0); 64])
    }
}

impl Memo {
    /// [`char_expansion`] of `c`.
    pub fn get(&mut self, c: char) -> usize {
        let slot = &mut self.0[c as usize % 64];
        if slot.0 != c as u32 {
            let extra = u32::try_from(char_expansion(c)).unwrap_or(u32::MAX);
            *slot = (c as u32, extra);
        }
        slot.1 as usize
    }
}

/// Bytes normalization may add to the text `text` (an upper bound; see the
/// module documentation): [`char_expansion`] of each character, and of each
/// numeric character reference (`&#xFDFA;`, `&#65018;`) what its character
/// is longer than it. Bytes that are not UTF-8 add nothing. 0, after one
/// pass over the bytes, for ASCII text without `&#`.
#[must_use]
pub fn expansion(text: &[u8]) -> usize {
    expansion_with(text, &mut None)
}

/// [`expansion`] with the memo of earlier texts (made at the first character
/// that is not ASCII): a text read in pieces (a JSON string's between its
/// escapes) looks its characters up once.
pub fn expansion_with(text: &[u8], memo: &mut Option<Memo>) -> usize {
    let mut extra = references(text);
    let mut i = 0;
    while let Some(at) = first_non_ascii(&text[i..]).map(|at| i + at) {
        match char_at(&text[at..]) {
            Some(c) => {
                let memo = memo.get_or_insert_with(Memo::default);
                extra = extra.saturating_add(memo.get(c));
                i = at + c.len_utf8();
            }
            None => i = at + 1,
        }
    }
    extra
}

/// Where the first byte of `bytes` that is not ASCII is, found 8 bytes at a
/// time (most text is ASCII).
fn first_non_ascii(bytes: &[u8]) -> Option<usize> {
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let mut words = bytes.chunks_exact(8);
    for (k, word) in words.by_ref().enumerate() {
        let high = u64::from_le_bytes(word.try_into().expect("8 bytes")) & HIGH;
        if high != 0 {
            return Some(8 * k + high.trailing_zeros() as usize / 8);
        }
    }
    let tail = bytes.len() - words.remainder().len();
    words
        .remainder()
        .iter()
        .position(|b| !b.is_ascii())
        .map(|at| tail + at)
}

/// The character UTF-8 `bytes` start with, if they start with one that is
/// whole.
fn char_at(bytes: &[u8]) -> Option<char> {
    let width = utf8_width(*bytes.first()?)?;
    std::str::from_utf8(bytes.get(..width)?)
        .ok()?
        .chars()
        .next()
}

/// The bytes of the UTF-8 character whose first byte is `lead`, if it can
/// start one.
fn utf8_width(lead: u8) -> Option<usize> {
    match lead {
        0x00..=0x7F => Some(1),
        0xC0..=0xDF => Some(2),
        0xE0..=0xEF => Some(3),
        0xF0..=0xF7 => Some(4),
        _ => None,
    }
}

/// What the numeric character references of `text` (`&#` and digits, up to a
/// `;`) add: each one's character and its [`char_expansion`], less the
/// reference's own bytes.
fn references(text: &[u8]) -> usize {
    let mut extra = 0usize;
    for at in memchr::memchr_iter(b'&', text) {
        if text.get(at + 1) != Some(&b'#') {
            continue;
        }
        if let Some((added, _)) = reference(&text[at..]) {
            extra = extra.saturating_add(added);
        }
    }
    extra
}

/// What the numeric character reference `text` starts with adds (its
/// character and that one's [`char_expansion`], less its own bytes), and
/// its length through the `;`.
fn reference(text: &[u8]) -> Option<(usize, usize)> {
    let end = text.iter().take(LONGEST).position(|&b| b == b';')?;
    let number = std::str::from_utf8(&text[2..end]).ok()?;
    let value = match number.strip_prefix(['x', 'X']) {
        Some(hex) => u32::from_str_radix(hex, 16).ok()?,
        None => number.parse().ok()?,
    };
    let c = char::from_u32(value)?;
    let len = end + 1;
    Some(((c.len_utf8() + char_expansion(c)).saturating_sub(len), len))
}

/// [`expansion`] of a text read in pieces (a file counted before a run reads
/// it), JSON's `\uXXXX` escapes counted as the characters they stand for
/// (counted in any file: an upper bound).
#[derive(Default)]
pub struct Expansion {
    /// Bytes added so far.
    extra: u64,
    memo: Memo,
    /// The end of the last piece, not counted yet: a character, escape or
    /// reference cut short (15 bytes at most).
    carry: Vec<u8>,
}

/// `piece` after `carry`, the end of the piece before it that was kept for
/// it (then emptied; joined in `joined`): one piece of a file read in pieces.
pub(crate) fn after_carry<'a>(
    carry: &mut Vec<u8>,
    piece: &'a [u8],
    joined: &'a mut Vec<u8>,
) -> &'a [u8] {
    if carry.is_empty() {
        return piece;
    }
    *joined = std::mem::take(carry);
    joined.extend_from_slice(piece);
    joined
}

/// The longest reference or escape waited for across pieces.
const LONGEST: usize = 16;

impl Expansion {
    /// Counts the next piece.
    pub fn feed(&mut self, piece: &[u8]) {
        let mut joined = Vec::new();
        let bytes = after_carry(&mut self.carry, piece, &mut joined);
        let mut i = 0;
        while let Some(at) = bytes[i..]
            .iter()
            .position(|&b| !b.is_ascii() || b == b'\\' || b == b'&')
            .map(|at| i + at)
        {
            let rest = &bytes[at..];
            let (extra, len) = match rest[0] {
                b'\\' => match rest.get(1) {
                    None => return self.wait(rest),
                    Some(b'u') if rest.len() < 6 => return self.wait(rest),
                    Some(b'u') => std::str::from_utf8(&rest[2..6])
                        .ok()
                        .and_then(|hex| u32::from_str_radix(hex, 16).ok())
                        .and_then(char::from_u32)
                        .map_or((0, 2), |c| (self.memo.get(c), 6)),
                    // `\\` is a backslash: the next one starts no escape.
                    Some(_) => (0, 2),
                },
                b'&' => match rest.get(1) {
                    None => return self.wait(rest),
                    Some(b'#') => {
                        let ended = rest.iter().take(LONGEST).any(|&b| b == b';');
                        if !ended && rest.len() < LONGEST {
                            return self.wait(rest);
                        }
                        reference(rest).unwrap_or((0, 1))
                    }
                    Some(_) => (0, 1),
                },
                lead => {
                    let width = utf8_width(lead).unwrap_or(1);
                    if rest.len() < width {
                        return self.wait(rest);
                    }
                    char_at(rest).map_or((0, 1), |c| (self.memo.get(c), width))
                }
            };
            self.extra = self.extra.saturating_add(extra as u64);
            i = at + len;
        }
    }

    /// Keeps `rest`, the start of something cut short, for the next piece.
    fn wait(&mut self, rest: &[u8]) {
        self.carry = rest.to_vec();
    }

    /// The bytes the whole text may add.
    #[must_use]
    pub fn finish(self) -> u64 {
        self.extra
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The bytes the text normalizes to, less its own.
    fn grown(text: &str) -> usize {
        super::super::normalize(text)
            .len()
            .saturating_sub(text.len())
    }

    #[test]
    fn the_expansion_bounds_what_normalization_adds() {
        for text in [
            "\u{FDFA}",
            "\u{FDFA}\u{FDFA} x \u{FDFB}",
            "\u{FB03}ce \u{3300} \u{2474} \u{FF21}\u{FF22}",
            "\u{3B1} \u{3B2} \u{3BF}",
            "\u{130}stanbul \u{1E9E}",
            "caf\u{E9} na\u{EF}ve \u{201C}q\u{201D} \u{2014} \u{4E2D}\u{6587} \u{D55C}",
            "\u{A8}\u{A8} \u{2026}",
        ] {
            assert!(expansion(text.as_bytes()) >= grown(text), "{text:?}");
        }
        // U+FDFA: 3 bytes, 33 normalized.
        assert_eq!(expansion("\u{FDFA}".as_bytes()), 30);
        // What does not grow counts nothing.
        for text in [
            "plain ASCII & more",
            "caf\u{E9} \u{201C}q\u{201D}",
            "\u{4E2D}\u{6587}",
        ] {
            assert_eq!(expansion(text.as_bytes()), 0, "{text:?}");
        }
    }

    #[test]
    fn the_first_byte_not_ascii_is_found_at_every_place() {
        for len in 0..20 {
            for at in 0..=len {
                let mut bytes = vec![b'a'; len];
                if at < len {
                    bytes[at] = 0xC3;
                }
                let expected = (at < len).then_some(at);
                assert_eq!(first_non_ascii(&bytes), expected, "{len} {at}");
            }
        }
    }

    #[test]
    fn only_three_characters_grow_when_lower_cased() {
        let grow: Vec<char> = (0x80..=0x10_FFFFu32)
            .filter_map(char::from_u32)
            .filter(|c| c.to_lowercase().map(char::len_utf8).sum::<usize>() > c.len_utf8())
            .collect();
        assert_eq!(grow, ['\u{130}', '\u{23A}', '\u{23E}']);
    }

    #[test]
    fn character_references_count_as_the_characters_they_decode_to() {
        let text = "a &#xFDFA; b &#65018; c &#65; &amp;";
        assert_eq!(expansion(text.as_bytes()), 2 * (33 - 8));
        // What markup normalization and then normalization make of it.
        let hashed = super::super::normalize(&super::super::strip_markup(text));
        assert!(
            hashed.len() <= text.len() + expansion(text.as_bytes()),
            "{hashed:?}"
        );
    }

    #[test]
    fn a_text_read_in_pieces_counts_what_it_counts_whole() {
        let text = "x\u{FDFA}y &#xFDFA; \\uFDFA \\\\uFDFA \u{FB03}\u{3B1} \u{1D400}";
        let whole = {
            let mut e = Expansion::default();
            e.feed(text.as_bytes());
            e.finish()
        };
        // U+FDFA three times (literal, reference, escape), the escaped
        // backslash not an escape, a ligature (none), a Greek letter.
        assert_eq!(whole, (30 + 25 + 30 + 3) as u64, "{text:?}");
        for size in 1..8 {
            let mut e = Expansion::default();
            for piece in text.as_bytes().chunks(size) {
                e.feed(piece);
            }
            assert_eq!(e.finish(), whole, "pieces of {size}");
        }
    }
}
