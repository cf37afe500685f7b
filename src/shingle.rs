//! Word n-gram shingles: seeded xxh3 word hashes, rolled into shingle hashes.
//!
//! Each word is hashed once (xxh3-64 with the seed); a shingle is a rolling
//! combination of the hashes of its `n` words (a polynomial in them, each
//! window made from the one before with two multiplications, then mixed), and
//! the exact key of a block is the xxh3-128 of all its word hashes. Combining
//! word hashes instead of hashing text keeps the cost per shingle constant
//! whatever the word lengths and the shingle size.

use crate::normalize::{
    expand_page_ranges, for_each_word, given_initials, normalize, spaced_ampersands, trailing_notes,
};
use crate::sketch::mix;
use xxhash_rust::xxh3::{xxh3_128_with_seed, xxh3_64_with_seed};

/// What the detector needs to know about one block's text.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Sketch {
    /// Number of words after normalization.
    pub words: usize,
    /// Hash of the whole normalized word sequence: equal keys mean equal text
    /// (up to normalization).
    pub exact: u128,
    /// Distinct shingle hashes, sorted ascending. A text with fewer than `n`
    /// words has one shingle of all its words; a text without words has none.
    pub shingles: Vec<u64>,
}

impl Sketch {
    /// Sketches `text`: normalize, cut into words, hash `n`-word shingles.
    #[must_use]
    pub fn new(text: &str, n: usize, seed: u64) -> Sketch {
        let mut hashes = Vec::new();
        hash_text_words(text, seed, &mut hashes);
        Sketch::from_word_hashes(&hashes, n, seed)
    }

    /// Sketches a sequence of word hashes (see [`hash_words`]).
    #[must_use]
    pub fn from_word_hashes(hashes: &[u64], n: usize, seed: u64) -> Sketch {
        Sketch::from_word_hashes_with(hashes, n, seed, &mut Vec::new())
    }

    /// [`Sketch::from_word_hashes`] with a scratch buffer reused between calls.
    #[must_use]
    pub fn from_word_hashes_with(
        hashes: &[u64],
        n: usize,
        seed: u64,
        bytes: &mut Vec<u8>,
    ) -> Sketch {
        write_bytes(hashes, bytes);
        let mut shingles = shingles_of(hashes, n, seed);
        shingles.sort_unstable();
        shingles.dedup();
        Sketch {
            words: hashes.len(),
            exact: xxh3_128_with_seed(bytes, seed),
            shingles,
        }
    }
}

impl Sketch {
    /// Words and exact key only, no shingles: for blocks that are looked up
    /// but never compared.
    #[must_use]
    pub fn exact_only(hashes: &[u64], seed: u64, bytes: &mut Vec<u8>) -> Sketch {
        write_bytes(hashes, bytes);
        Sketch {
            words: hashes.len(),
            exact: xxh3_128_with_seed(bytes, seed),
            shingles: Vec::new(),
        }
    }
}

/// Appends the seeded xxh3-64 of every word of normalized text to `out`,
/// initials joined (a run of one-letter words is one word: `R. A.` as `RA`).
pub fn hash_words(normalized: &str, seed: u64, out: &mut Vec<u64>) {
    let mut initials = Initials::default();
    for_each_word(normalized, |w| {
        let mut chars = w.chars();
        if let (Some(c), None) = (chars.next(), chars.next()) {
            let at = w.as_ptr() as usize - normalized.as_ptr() as usize;
            let elided = after_apostrophe(normalized.as_bytes(), at);
            if c.is_alphabetic() && !crate::normalize::is_unspaced_script(c) && !elided {
                initials.push(w.as_bytes(), seed, out);
                return;
            }
        }
        initials.flush(seed, out);
        out.push(xxh3_64_with_seed(w.as_bytes(), seed));
    });
    initials.flush(seed, out);
}

/// Consecutive one-letter words hash as one word of their letters, so that
/// initials read alike however they are written: `R. A.`, `R.A.` and `RA`
/// are all the word `ra` (`Agha, R. A.` and `Agha RA`, `U. S.` and `US`). A
/// letter alone hashes as itself. Digits are not letters (`4 2` stays two
/// words), nor is a character of a script shingled by characters, nor a
/// letter right after an apostrophe (`it's a` stays three words).
#[derive(Default)]
struct Initials {
    letters: [u8; 32],
    len: usize,
}

impl Initials {
    /// Adds one letter (its UTF-8 bytes, lower case).
    fn push(&mut self, letter: &[u8], seed: u64, out: &mut Vec<u64>) {
        if self.len + letter.len() > self.letters.len() {
            self.flush(seed, out);
        }
        self.letters[self.len..self.len + letter.len()].copy_from_slice(letter);
        self.len += letter.len();
    }

    /// Hashes the letters gathered, if any, as one word. (Asked before
    /// almost every word, and almost always with none: the test is made
    /// in place, the hashing out of line. Out of line whole it was 16
    /// instructions a word.)
    #[inline]
    fn flush(&mut self, seed: u64, out: &mut Vec<u64>) {
        if self.len > 0 {
            self.hash_letters(seed, out);
        }
    }

    #[inline(never)]
    fn hash_letters(&mut self, seed: u64, out: &mut Vec<u64>) {
        out.push(xxh3_64_with_seed(&self.letters[..self.len], seed));
        self.len = 0;
    }
}

/// Appends the seeded xxh3-64 of every word of `text` once normalized: the
/// same hashes as [`hash_words`] over [`normalize`]d text, without building the
/// normalized text when it is not needed.
///
/// Text made of ASCII and of a few common separators (no-break space, curly
/// quotes, dashes, ellipsis, bullets, guillemets) is tokenized in place (once
/// its name lists and page ranges are rewritten as `normalize` rewrites them):
/// for it normalization only lowercases words and turns those separators into
/// non-word characters, which end words just as they are. Anything else goes
/// through [`normalize`].
pub fn hash_text_words(text: &str, seed: u64, out: &mut Vec<u64>) {
    let start = out.len();
    // What `normalize` rewrites before and after folding; text the fast path
    // takes folds only its dashes to `-`, which page ranges read alike.
    let noted = trailing_notes(text);
    let named = given_initials(&noted);
    let paged = expand_page_ranges(&named);
    let worded = spaced_ampersands(&paged);
    if !hash_plain_words(worded.as_bytes(), seed, out) {
        out.truncate(start);
        hash_words(&normalize(text), seed, out);
    }
}

/// [`hash_text_words`] of the text `--strip-markup` hashes when
/// `strip_markup` is set (see [`crate::normalize::strip_markup`]).
pub fn hash_block_words(text: &str, strip_markup: bool, seed: u64, out: &mut Vec<u64>) {
    if strip_markup {
        hash_text_words(&crate::normalize::strip_markup(text), seed, out);
    } else {
        hash_text_words(text, seed, out);
    }
}

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGH: u64 = 0x8080_8080_8080_8080;

/// The high bit of each byte of `x` (ASCII bytes only) whose value is in
/// `lo..=hi`: no sum carries into the next byte.
#[inline]
fn in_range(x: u64, lo: u8, hi: u8) -> u64 {
    let at_least_lo = x + ONES * u64::from(0x80 - lo);
    let above_hi = x + ONES * u64::from(0x7F - hi);
    at_least_lo & !above_hi & HIGH
}

/// The high bit of each byte of 8 ASCII bytes that is a letter or a digit.
#[inline]
fn word_bytes(x: u64) -> u64 {
    // `| 0x20` folds upper-case letters onto lower-case ones and moves no
    // other ASCII byte into `a..=z`.
    in_range(x | (ONES * 0x20), b'a', b'z') | in_range(x, b'0', b'9')
}

/// Whether `text[at]` follows an apostrophe: `'` or a curly one that
/// normalization folds to it (U+2018-U+201B).
fn after_apostrophe(text: &[u8], at: usize) -> bool {
    at > 0 && text[at - 1] == b'\''
        || at > 2 && text[at - 3..at - 1] == [0xE2, 0x80] && (0x98..=0x9B).contains(&text[at - 1])
}

/// The fast path of [`hash_text_words`]; `false` (with `out` partly written)
/// when `text` holds a character it does not handle. ASCII is read 8 bytes
/// at a time: a mask of the letters and digits among them gives where words
/// start and end.
fn hash_plain_words(text: &[u8], seed: u64, out: &mut Vec<u64>) -> bool {
    let mut word_start = usize::MAX;
    // Whether the word begun holds an upper-case letter.
    let mut upper = false;
    let mut i = 0;
    let mut initials = Initials::default();
    // Words ended inside 8 bytes read at once (nearly all of them) are
    // hashed in place; the others, by a call (`plain_word_apart`).
    while i < text.len() {
        if let Some(chunk) = text.get(i..i + 8) {
            let x = u64::from_le_bytes(chunk.try_into().expect("8 bytes"));
            if x & HIGH == 0 {
                let words = word_bytes(x);
                let uppers = in_range(x, b'A', b'Z');
                // Where words start and end: the bytes whose kind (of a
                // word or not) is not the kind of the byte before them (for
                // the first, whether a word is open). Their high bits, taken
                // in order, start and end words by turns.
                let open = u64::from(word_start != usize::MAX) << 7;
                let mut changes = words ^ (words << 8 | open);
                // The chunk's bytes from the open word's start on.
                let mut from = HIGH;
                while changes != 0 {
                    let first = changes & changes.wrapping_neg();
                    let at = i + first.trailing_zeros() as usize / 8;
                    if word_start == usize::MAX {
                        word_start = at;
                        upper = false;
                        from = !first.wrapping_sub(1) & HIGH;
                    } else {
                        upper |= uppers & from & first.wrapping_sub(1) != 0;
                        plain_word(text, (word_start, at, upper), seed, &mut initials, out);
                        word_start = usize::MAX;
                    }
                    changes ^= first;
                }
                if word_start != usize::MAX {
                    upper |= uppers & from != 0;
                }
                i += 8;
                continue;
            }
        }
        let b = text[i];
        if b.is_ascii_alphanumeric() {
            if word_start == usize::MAX {
                word_start = i;
                upper = false;
            }
            upper |= b.is_ascii_uppercase();
            i += 1;
            continue;
        }
        if word_start != usize::MAX {
            plain_word_apart(text, (word_start, i, upper), seed, &mut initials, out);
            word_start = usize::MAX;
        }
        if b < 0x80 {
            i += 1;
            continue;
        }
        // A multi-byte character: only separators that normalize to non-word
        // characters and combine with nothing are handled here.
        // (`text` is UTF-8, so a lead byte has its continuation bytes.)
        let (c, len) = match b {
            0xC2 => (0x80 | u32::from(text[i + 1] & 0x3F), 2),
            0xE2 => (
                0x2000 | (u32::from(text[i + 1] & 0x3F) << 6) | u32::from(text[i + 2] & 0x3F),
                3,
            ),
            _ => return false,
        };
        if !matches!(c,
            0xA0 | 0xAB | 0xBB
            | 0x2010..=0x2015 | 0x2018..=0x201F | 0x2022 | 0x2026)
        {
            return false;
        }
        i += len;
    }
    if word_start != usize::MAX {
        plain_word_apart(
            text,
            (word_start, text.len(), upper),
            seed,
            &mut initials,
            out,
        );
    }
    initials.flush(seed, out);
    true
}

/// Hashes the word `text[from..to]` of [`hash_plain_words`] (ASCII letters
/// and digits; `upper` when one of them is upper case) into `out`, or adds
/// it to `initials` when it is one letter. (Inlined into the loop over 8
/// bytes at a time, which ends nearly every word: called, it spent 17
/// instructions a word saving and restoring registers.)
#[allow(clippy::inline_always)]
#[inline(always)]
fn plain_word(
    text: &[u8],
    (from, to, upper): (usize, usize, bool),
    seed: u64,
    initials: &mut Initials,
    out: &mut Vec<u64>,
) {
    let word = &text[from..to];
    if to - from == 1 && word[0].is_ascii_alphabetic() && !after_apostrophe(text, from) {
        initials.push(&[word[0].to_ascii_lowercase()], seed, out);
        return;
    }
    initials.flush(seed, out);
    if upper {
        out.push(lowered_word_hash(word, seed));
    } else {
        out.push(xxh3_64_with_seed(word, seed));
    }
}

/// [`plain_word`] as a call, for the words the bytes read one at a time end.
#[inline(never)]
fn plain_word_apart(
    text: &[u8],
    word: (usize, usize, bool),
    seed: u64,
    initials: &mut Initials,
    out: &mut Vec<u64>,
) {
    plain_word(text, word, seed, initials, out);
}

/// The hash of an ASCII word with upper-case letters, lowered (one word in
/// five or six of ordinary text).
#[inline(never)]
fn lowered_word_hash(word: &[u8], seed: u64) -> u64 {
    let mut lower = [0u8; 64];
    if word.len() <= lower.len() {
        for (l, b) in lower.iter_mut().zip(word) {
            *l = b.to_ascii_lowercase();
        }
        xxh3_64_with_seed(&lower[..word.len()], seed)
    } else {
        xxh3_64_with_seed(&word.to_ascii_lowercase(), seed)
    }
}

/// Writes word hashes as little-endian bytes into `out` (cleared first).
pub fn write_bytes(hashes: &[u64], out: &mut Vec<u8>) {
    out.clear();
    out.reserve(hashes.len() * 8);
    for h in hashes {
        out.extend_from_slice(&h.to_le_bytes());
    }
}

/// The `n`-word shingle hashes of a sequence of word hashes, in text order
/// with repeats (fewer than `n` words give one shingle of all of them; none
/// give none).
#[must_use]
pub fn shingles_of(words: &[u64], n: usize, seed: u64) -> Vec<u64> {
    shingle_hashes(words, n, seed).collect()
}

/// The hashes [`shingles_of`] collects, made one at a time: for a consumer
/// that needs each only once (a MinHash signature), no list is made.
#[must_use]
pub fn shingle_hashes(words: &[u64], n: usize, seed: u64) -> Shingles<'_> {
    Shingles::new(words, n, seed)
}

/// Multiplier of the rolling combination (odd: a window's words never cancel
/// out by wrapping).
const ROLL: u64 = 0x9E37_79B9_7F4A_7C15;

/// The shingles of a sequence of word hashes (see [`shingle_hashes`]). The
/// shingle of words `w[i..i + n]` is `mix(seed ^ Σ w[i + j] · ROLL^(n-1-j))`;
/// the sum for the next window is the sum for this one less its first
/// word's term, times `ROLL`, plus the new word.
#[derive(Clone, Debug)]
pub struct Shingles<'a> {
    words: &'a [u64],
    /// Words per window (`n`, or all of them when there are fewer).
    width: usize,
    /// Start of the next window.
    next: usize,
    /// The sum over the next window's first `width - 1` words.
    sum: u64,
    /// `ROLL^(width - 1)`: the weight of a window's first word.
    first_weight: u64,
    seed: u64,
}

impl<'a> Shingles<'a> {
    fn new(words: &'a [u64], n: usize, seed: u64) -> Shingles<'a> {
        let width = n.max(1).min(words.len());
        let mut sum = 0u64;
        let mut first_weight = 1u64;
        for &w in &words[..width.saturating_sub(1)] {
            sum = sum.wrapping_mul(ROLL).wrapping_add(w);
            first_weight = first_weight.wrapping_mul(ROLL);
        }
        Shingles {
            words,
            width,
            next: 0,
            sum,
            first_weight,
            seed,
        }
    }
}

impl Iterator for Shingles<'_> {
    type Item = u64;

    #[inline]
    fn next(&mut self) -> Option<u64> {
        let last = *self.words.get(self.next + self.width.max(1) - 1)?;
        let sum = self.sum.wrapping_mul(ROLL).wrapping_add(last);
        self.sum = sum.wrapping_sub(self.words[self.next].wrapping_mul(self.first_weight));
        self.next += 1;
        Some(mix(sum ^ self.seed))
    }

    /// The window `n` ahead, its sum made anew from its own words (a
    /// window's sum depends on them only), not rolled through the `n`
    /// windows before it: `skip` to a document's last shingles (its tail
    /// key) reads 16 of them, not all.
    fn nth(&mut self, n: usize) -> Option<u64> {
        if n > 0 {
            let to = self.next.saturating_add(n).min(self.words.len());
            let mut sum = 0u64;
            let start = self.words.get(to..to + self.width.saturating_sub(1));
            for &w in start.unwrap_or(&[]) {
                sum = sum.wrapping_mul(ROLL).wrapping_add(w);
            }
            self.next = to;
            self.sum = sum;
        }
        self.next()
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = (self.words.len() + 1).saturating_sub(self.next + self.width.max(1));
        let left = if self.width == 0 { 0 } else { left };
        (left, Some(left))
    }
}

impl ExactSizeIterator for Shingles<'_> {}

/// Size of the intersection of two sorted, deduplicated hash lists.
#[must_use]
pub fn intersection(a: &[u64], b: &[u64]) -> usize {
    let (mut i, mut j, mut count) = (0, 0, 0);
    // Past the smaller hash, or both when they match, with no branch on the
    // comparison: hashes interleave at random, so it was mispredicted often.
    while i < a.len() && j < b.len() {
        let (ours, theirs) = (a[i], b[j]);
        count += usize::from(ours == theirs);
        i += usize::from(ours <= theirs);
        j += usize::from(ours >= theirs);
    }
    count
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The word hashes of `text` (seed 3).
    fn words(text: &str) -> Vec<u64> {
        let mut out = Vec::new();
        hash_text_words(text, 3, &mut out);
        out
    }

    #[test]
    fn shingle_counts() {
        let s = Sketch::new("one two three four five six seven", 5, 1);
        assert_eq!((s.words, s.shingles.len()), (7, 3));
        let short = Sketch::new("one two", 5, 1);
        assert_eq!(short.shingles.len(), 1);
        assert!(Sketch::new(" -- ", 5, 1).shingles.is_empty());
    }

    #[test]
    fn normalization_makes_equal_keys() {
        let a = Sketch::new("\u{201C}Hello,\u{201D} she said \u{2014} twice.", 3, 7);
        let b = Sketch::new("\"hello,\"   She said - twice.", 3, 7);
        assert_eq!(a, b);
        assert_ne!(a.exact, Sketch::new("hello she said twice", 3, 8).exact);
    }

    #[test]
    fn initials_are_one_word_however_written() {
        let ra = words("Agha RA, 2016");
        assert_eq!(ra.len(), 3);
        for text in ["Agha, R. A., 2016", "Agha R.A. 2016", "AGHA, R.-A. (2016)"] {
            assert_eq!(words(text), ra, "{text:?}");
        }
        // A letter alone is itself; digits and words of two letters stay apart.
        assert_eq!(words("a"), words("A."));
        assert_eq!(words("U. S. troops"), words("US troops"));
        assert_eq!(words("4 2").len(), 2);
        assert_eq!(words("ab c").len(), 2);
        assert_eq!(words("it's a dog").len(), 4);
        assert_eq!(words("it\u{2019}s a dog"), words("It's a dog"));
        // Non-ASCII letters join too; characters of unspaced scripts do not.
        assert_eq!(words("\u{00C9}. A. Dupont"), words("\u{00E9}a dupont"));
        assert_eq!(words("\u{4E2D} \u{6587}").len(), 2);
    }

    #[test]
    fn given_names_and_short_page_ranges_hash_as_initials_and_whole_ranges() {
        let initials = words("Lencioni, R. and Gillams, A. R.\nLancet Oncol\n621-628");
        for text in [
            "Lencioni, Riccardo and Gillams, Alice R.\nLancet Oncol\n621-8",
            "Lencioni, Riccardo and Gillams, Alice Ruth\nLancet Oncol\n621\u{2013}28",
            "Lencioni, R and Gillams, AR\nLancet Oncol\n621-628",
            "Lencioni, Riccardo and Gillams, A Ruth\nLancet Oncol\n621-628",
        ] {
            assert_eq!(words(text), initials, "{text:?}");
        }
        assert_eq!(
            words("Sohlberg MM; Gillams AR\nLancet Oncol"),
            words("Sohlberg, McKay Moore; Gillams, Alice Ruth\nLancet Oncol")
        );
        assert_eq!(
            words("Disability & Rehabilitation"),
            words("Disability and Rehabilitation")
        );
        assert_ne!(words("R&D"), words("R and D"));
        // Prose keeps its names; other number pairs keep their digits.
        assert_ne!(words("In March, Riccardo said"), words("In March, R said"));
        assert_ne!(words("a 19-5 win"), words("a 19-15 win"));
    }

    #[test]
    fn in_place_words_equal_normalized_words() {
        for text in [
            "",
            "Plain ASCII, with UPPER and lower case -- and 42 digits.",
            "\u{201C}Quoted\u{201D} \u{2014} dashes\u{2013}and\u{00A0}no-break\u{2026} \u{00AB}x\u{00BB}",
            "A word longer than sixty-four bytes: AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA end",
            "ends with a no-break space\u{00A0}",
            "caf\u{00E9} na\u{00EF}ve \u{FB01}ne",
            "e\u{0301} combining",
            "\u{2033} double prime",
            "Agha, R. A.; Fowler A.J.; U.S. x y z 4 2 a it's a don\u{2019}t I \u{2018}t s",
            "\u{00C9}. A. Dupont, J. K. caf\u{00E9}",
            "Lencioni, Riccardo and \u{00C9}lodie, Anne-Marie\npp. 1424-7, 98\u{2013}9, 5-13",
            "Sohlberg, McKay Moore; Meijer, C.J.L.M.; Agha, RA\n",
            "Agha R.A., \u{00C9}lodie \u{00C9}M; Smith AB,\n",
            "& Disability &\u{00A0}Rehabilitation\n&\tAT&T R&D &&; x &",
            "\u{00A0}& caf\u{00E9} & \u{FF06} x",
            "Ortega, In\u{00E9}s; Zhai, Qi \u{201C}1424\u{2011}27\u{201D}\u{00A0}12-3",
            "Cervical neoplasia. [Review] [71 refs]\nSmith, Jane\nTrials [Electronic]\u{00A0}.",
            "a [x\ny]\n[z]\u{2026}\n[\u{00E9}] \u{201C}q\u{201D} [w]",
            "[Translated title]. [Spanish]\n[x]\u{00A0}[y].\r\n",
            "[.]\n[y]",
        ] {
            let mut fast = vec![7];
            hash_text_words(text, 3, &mut fast);
            let mut slow = vec![7];
            hash_words(&normalize(text), 3, &mut slow);
            assert_eq!(fast, slow, "{text:?}");
        }
    }

    #[test]
    fn in_place_words_of_random_ascii_equal_normalized_words() {
        // Words of every length ended anywhere in the 8 bytes read at once,
        // upper case in any place, single letters (initials), apostrophes,
        // digits and a few separators the fast path passes over.
        let pieces = [
            "a",
            "B",
            "cd",
            "Ef",
            "GHI",
            "jklmnop",
            "QRSTUVWXy",
            "z0",
            "42",
            "7",
            "it's",
            "O'Neil",
            "\u{2019}t",
            "e-mail",
            "--",
            ",",
            ".",
            ";",
            " ",
            "  ",
            "\n",
            "\t",
            "\u{00A0}",
            "\u{2014}",
            "averyveryverylongwordofthirtyfivebyt",
            "x.Y.",
            "(R.)",
        ];
        let mut state = 0x1234_5678_9ABC_DEF0u64;
        for round in 0..3000 {
            let mut text = String::new();
            for _ in 0..(round % 40) {
                state = crate::sketch::mix(state);
                let piece = pieces[usize::try_from(state % pieces.len() as u64).expect("small")];
                text.push_str(piece);
                if state >> 62 != 0 {
                    text.push(' ');
                }
            }
            let mut fast = vec![1];
            hash_text_words(&text, 5, &mut fast);
            let mut slow = vec![1];
            hash_words(&normalize(&text), 5, &mut slow);
            assert_eq!(fast, slow, "{text:?}");
        }
    }

    #[test]
    fn rolled_shingles_are_those_of_each_window_alone() {
        let words: Vec<u64> = (1..=40u64).map(|i| crate::sketch::mix(i % 13)).collect();
        for n in [1, 2, 3, 5, 9, 40, 41] {
            let rolled: Vec<u64> = shingle_hashes(&words, n, 7).collect();
            let width = n.min(words.len());
            assert_eq!(rolled.len(), words.len() - width + 1, "n = {n}");
            assert_eq!(shingle_hashes(&words, n, 7).len(), rolled.len());
            for (i, &s) in rolled.iter().enumerate() {
                assert_eq!(shingles_of(&words[i..i + width], n, 7), [s], "n = {n}, {i}");
            }
        }
        assert!(shingles_of(&[], 3, 7).is_empty());
        // Order, the words themselves and the seed all count.
        let (a, b) = (words[0], words[1]);
        assert_ne!(shingles_of(&[a, b], 2, 7), shingles_of(&[b, a], 2, 7));
        assert_ne!(shingles_of(&[a, b], 2, 7), shingles_of(&[a, b], 2, 8));
        assert_ne!(shingles_of(&[a, a], 2, 7), shingles_of(&[b, b], 2, 7));
    }

    #[test]
    fn a_jump_ahead_gives_the_windows_a_walk_gives() {
        for len in [0u64, 1, 2, 4, 5, 6, 17, 40] {
            let words: Vec<u64> = (1..=len).map(|i| crate::sketch::mix(i % 13)).collect();
            for n in [1, 2, 5, 41] {
                let rolled: Vec<u64> = shingle_hashes(&words, n, 7).collect();
                for skip in 0..rolled.len() + 3 {
                    let mut jumped = shingle_hashes(&words, n, 7);
                    assert_eq!(
                        jumped.nth(skip),
                        rolled.get(skip).copied(),
                        "{len} {n} {skip}"
                    );
                    // And the windows after it, rolled on from there.
                    let rest: Vec<u64> = jumped.collect();
                    assert_eq!(
                        rest,
                        rolled.get(skip + 1..).unwrap_or(&[]),
                        "{len} {n} {skip}"
                    );
                    let skipped: Vec<u64> = shingle_hashes(&words, n, 7).skip(skip).collect();
                    assert_eq!(
                        skipped,
                        rolled.get(skip..).unwrap_or(&[]),
                        "{len} {n} {skip}"
                    );
                }
            }
        }
    }

    #[test]
    fn intersection_counts_common_hashes() {
        assert_eq!(intersection(&[1, 3, 5, 7], &[2, 3, 7, 9]), 2);
        assert_eq!(intersection(&[], &[1]), 0);
    }
}
