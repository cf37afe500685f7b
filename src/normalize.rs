//! The text used for hashing, never for output.
//!
//! `normalize` applies, in order: bracketed notes that end a line left out
//! (`Title. [Review] [125 refs]` as `Title.`: [`trailing_notes`]), given names
//! of name lists read as initials
//! (`Agha, Riaz Ahmed` as `Agha, R A`: [`given_initials`]), Unicode NFKC
//! (full-width forms, ligatures and compatibility characters become their plain
//! forms), case folding, folding of curly and angle quotes to `'` and `"` and
//! of every dash and minus sign to `-`, collapsing of white space to single
//! spaces with none at either end, and shortened page ranges written whole
//! (`1424-7` as `1424-1427`: [`expand_page_ranges`]), and a `&` standing alone
//! read as the word `and` ([`spaced_ampersands`]), and notes at the folded text's
//! end left out again. It is idempotent. `tokens` then cuts the normalized text into words: runs of
//! letters, digits and combining marks, where every character of a script
//! written without spaces between words (Han, kana, Thai, Lao, Khmer, Myanmar)
//! is a word of its own, so such text is shingled by characters. (Hashing
//! then joins consecutive one-letter words into one, in the shingle module.)

use std::borrow::Cow;
use unicode_normalization::{is_nfkc_quick, IsNormalized, UnicodeNormalization};

mod citation;
mod expansion;
mod notes;

/// The text a rewrite of `text` made: `out`, when it rewrote anything (all
/// of `text` before `copied` is in it), with the rest of `text` after it;
/// else `text` itself, borrowed.
fn rewritten(text: &str, out: Option<String>, copied: usize) -> Cow<'_, str> {
    match out {
        Some(mut o) => {
            o.push_str(&text[copied..]);
            Cow::Owned(o)
        }
        None => Cow::Borrowed(text),
    }
}
pub use citation::{expand_page_ranges, given_initials};
pub(crate) use expansion::after_carry;
pub use expansion::{char_expansion, expansion, expansion_with, Expansion, Memo};
pub use notes::trailing_notes;

/// Normalizes `text` for hashing (see the module documentation).
#[must_use]
pub fn normalize(text: &str) -> String {
    let folded = fold(&given_initials(&trailing_notes(text)));
    let paged = match expand_page_ranges(&folded) {
        Cow::Owned(expanded) => expanded,
        Cow::Borrowed(_) => folded,
    };
    let worded = match spaced_ampersands(&paged) {
        Cow::Owned(worded) => worded,
        Cow::Borrowed(_) => paged,
    };
    // Folding can make notes of what was not (`［x］` is `[x]`, joined lines
    // one line): the folded text's end is read again, so that normalizing
    // twice changes nothing more.
    match trailing_notes(&worded) {
        Cow::Owned(noted) => noted,
        Cow::Borrowed(_) => worded,
    }
}

/// Whether the byte at `at` of `bytes` is white space as folding reads it
/// (ASCII white space, or a no-break space starting there or, `back`, ending
/// there).
fn blank_at(bytes: &[u8], at: usize, back: bool) -> bool {
    let nbsp = if back {
        at >= 1 && bytes[at - 1..=at] == [0xC2, 0xA0]
    } else {
        bytes.get(at..at + 2) == Some(&[0xC2, 0xA0])
    };
    nbsp || bytes[at].is_ascii_whitespace() || bytes[at] == 0x0B
}

/// `text` with every `&` that stands alone (white space or the text's start or
/// end on both sides) written as the word `and`: `Disability & Rehabilitation`
/// reads as `Disability and Rehabilitation`. `AT&T` and `R&D` stay.
#[must_use]
pub fn spaced_ampersands(text: &str) -> Cow<'_, str> {
    let bytes = text.as_bytes();
    let mut out: Option<String> = None;
    let mut copied = 0;
    for at in memchr::memchr_iter(b'&', bytes) {
        let alone = (at == 0 || blank_at(bytes, at - 1, true))
            && (at + 1 == bytes.len() || blank_at(bytes, at + 1, false));
        if alone {
            let o = out.get_or_insert_with(|| String::with_capacity(text.len() + 8));
            o.push_str(&text[copied..at]);
            o.push_str("and");
            copied = at + 1;
        }
    }
    rewritten(text, out, copied)
}

/// NFKC, case folding, quotes and dashes folded, white space collapsed.
fn fold(text: &str) -> String {
    if text.is_ascii() {
        // Bytes are characters here: lowercase and collapse in one tight loop.
        let mut bytes = Vec::with_capacity(text.len());
        let mut pending_space = false;
        for &b in text.as_bytes() {
            if b.is_ascii_whitespace() || b == 0x0B {
                pending_space = !bytes.is_empty();
            } else {
                if pending_space {
                    bytes.push(b' ');
                    pending_space = false;
                }
                bytes.push(b.to_ascii_lowercase());
            }
        }
        return String::from_utf8(bytes).expect("ASCII in, ASCII out");
    }
    // NFKC, then folding. Folding is idempotent but can leave text that is no
    // longer in NFKC, so a second NFKC and fold follow when needed: the result
    // is a fixed point. Most text is already in NFKC (curly quotes and dashes
    // are), and the quick check (UAX #15) skips the passes it can.
    let mut out = String::with_capacity(text.len());
    if is_nfkc_quick(text.chars()) == IsNormalized::Yes {
        fold_collapse(&mut out, text.chars());
    } else {
        fold_collapse(&mut out, text.nfkc());
    }
    if is_nfkc_quick(out.chars()) != IsNormalized::Yes {
        let again: String = out.nfkc().collect();
        out.clear();
        fold_collapse(&mut out, again.chars());
    }
    out
}

/// `text` as markup normalization (on by default, `--no-strip-markup` turns
/// it off) hashes it: every HTML, XML or MathML tag (`<`, an optional `/`, a
/// name from [`ELEMENTS`] or any name with a `:` such as `mml:mi`, up to the
/// next `>`), comment and declaration (`<!`, `<?`) reads as one space, and
/// character entities are decoded: numeric ones (`&#233;`, `&#xE9;`) and the
/// named ones of [`ENTITIES`]. A Greek letter standing alone (no Greek letter
/// next to it) reads as its name, as databases spell it: `TNF-α` as
/// `TNF-alpha`, `&beta;-blocker` as `beta-blocker`; Greek words stay as they
/// are. Anything else, `a < b`, `<IBM>` (a Reuters company marker, not an
/// element) or `&unknown;` included, stays as it is. Tags become spaces, not
/// nothing, so `K<sub>ATP</sub>` has the words of `K(ATP)`. ASCII text
/// without `<` or `&` is returned as it is.
#[must_use]
pub fn strip_markup(text: &str) -> Cow<'_, str> {
    let stripped = strip_tags(text);
    match spell_lone_greek(&stripped) {
        Some(spelled) => std::borrow::Cow::Owned(spelled),
        None => stripped,
    }
}

/// [`strip_markup`]'s tags and entities.
fn strip_tags(text: &str) -> std::borrow::Cow<'_, str> {
    // A byte scan (`<` and `&` are ASCII, never inside a multi-byte
    // character): most blocks have neither and cost one pass of memchr.
    let markup = |text: &str| memchr::memchr2(b'<', b'&', text.as_bytes());
    if markup(text).is_none() {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = markup(rest) {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let taken: Option<usize> = if rest.starts_with('<') {
            tag_len(rest).inspect(|_| out.push(' '))
        } else {
            entity(rest).map(|(c, len)| {
                out.extend(c);
                len
            })
        };
        // Not markup: the character itself, as text.
        let len = taken.unwrap_or(1);
        if taken.is_none() {
            out.push_str(&rest[..1]);
        }
        rest = &rest[len..];
    }
    out.push_str(rest);
    std::borrow::Cow::Owned(out)
}

/// Element names read as markup (compared without case): HTML's, and the
/// inline ones of JATS, MathML and bibliographic exports (`inf` is Embase's
/// subscript). Any name with a `:` (`mml:msub`, `jats:italic`) is markup too.
pub const ELEMENTS: &[&str] = &[
    "a",
    "abbr",
    "b",
    "bdi",
    "bdo",
    "big",
    "blockquote",
    "body",
    "bold",
    "br",
    "caption",
    "center",
    "cite",
    "code",
    "dd",
    "del",
    "dfn",
    "div",
    "dl",
    "dt",
    "em",
    "font",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "head",
    "hr",
    "html",
    "i",
    "img",
    "inf",
    "ins",
    "italic",
    "kbd",
    "li",
    "mark",
    "math",
    "mi",
    "mn",
    "mo",
    "mrow",
    "msub",
    "msubsup",
    "msup",
    "ol",
    "p",
    "pre",
    "q",
    "s",
    "samp",
    "sc",
    "small",
    "span",
    "strike",
    "strong",
    "sub",
    "sup",
    "table",
    "tbody",
    "td",
    "th",
    "thead",
    "title",
    "tr",
    "tt",
    "u",
    "ul",
    "underline",
    "var",
    "wbr",
];

/// The length of the tag `text` starts with (through its `>`), if it is one.
fn tag_len(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let opens = if matches!(bytes.get(1), Some(b'!' | b'?')) {
        true
    } else {
        let from = if bytes.get(1) == Some(&b'/') { 2 } else { 1 };
        let name_len = bytes[from..]
            .iter()
            .position(|b| !(b.is_ascii_alphanumeric() || matches!(b, b':' | b'-' | b'_' | b'.')))
            .unwrap_or(bytes.len() - from);
        let name = &text[from..from + name_len];
        name.starts_with(|c: char| c.is_ascii_alphabetic())
            && (name.contains(':') || ELEMENTS.iter().any(|e| e.eq_ignore_ascii_case(name)))
            && bytes
                .get(from + name_len)
                .is_some_and(|b| matches!(b, b'>' | b'/') || b.is_ascii_whitespace())
    };
    if !opens {
        return None;
    }
    let end = text[1..].find(['<', '>'])? + 1;
    (bytes[end] == b'>').then_some(end + 1)
}

/// Names of the Greek letters, lower case from U+03B1 (final sigma, U+03C2,
/// is sigma); upper case letters U+0391-U+03A9 share them.
const GREEK: [&str; 25] = [
    "alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa",
    "lambda", "mu", "nu", "xi", "omicron", "pi", "rho", "sigma", "sigma", "tau", "upsilon", "phi",
    "chi", "psi", "omega",
];

/// The name of a Greek letter, if `c` is one.
fn greek_name(c: char) -> Option<&'static str> {
    let i = match c {
        '\u{3b1}'..='\u{3c9}' => c as usize - 0x3b1,
        '\u{391}'..='\u{3a9}' if c != '\u{3a2}' => c as usize - 0x391,
        '\u{b5}' => 11,
        _ => return None,
    };
    Some(GREEK[i])
}

/// Whether UTF-8 `text` holds a character [`greek_name`] names: U+00B5 is
/// `C2 B5`, U+0391-U+03A9 (less U+03A2) `CE 91`-`CE A9`, U+03B1-U+03BF `CE
/// B1`-`CE BF` and U+03C0-U+03C9 `CF 80`-`CF 89`.
fn has_greek(text: &[u8]) -> bool {
    memchr::memchr3_iter(0xC2, 0xCE, 0xCF, text).any(|at| {
        let next = text.get(at + 1).copied().unwrap_or(0);
        match text[at] {
            0xC2 => next == 0xB5,
            0xCE => matches!(next, 0x91..=0xA1 | 0xA3..=0xA9 | 0xB1..=0xBF),
            _ => matches!(next, 0x80..=0x89),
        }
    })
}

/// `text` with each Greek letter that has no Greek letter next to it spelled
/// out (see [`strip_markup`]), or `None` when there is none.
fn spell_lone_greek(text: &str) -> Option<String> {
    // Most text (ASCII, accents, curly quotes, CJK) has no Greek letter: one
    // byte scan for the lead bytes of their UTF-8, no allocation.
    if !has_greek(text.as_bytes()) {
        return None;
    }
    let mut out = String::with_capacity(text.len() + 8);
    let (mut spelled, mut after_greek) = (false, false);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        let name = greek_name(c);
        let before_greek = chars.peek().is_some_and(|&n| greek_name(n).is_some());
        match name {
            Some(name) if !after_greek && !before_greek => {
                out.push_str(name);
                spelled = true;
            }
            _ => out.push(c),
        }
        after_greek = name.is_some();
    }
    spelled.then_some(out)
}

/// Named character entities `--strip-markup` decodes (besides numeric ones).
pub const ENTITIES: &[(&str, &str)] = &[
    ("amp", "&"),
    ("lt", "<"),
    ("gt", ">"),
    ("quot", "\""),
    ("apos", "'"),
    ("nbsp", "\u{a0}"),
    ("shy", ""),
    ("ndash", "\u{2013}"),
    ("mdash", "\u{2014}"),
    ("minus", "\u{2212}"),
    ("hellip", "\u{2026}"),
    ("lsquo", "\u{2018}"),
    ("rsquo", "\u{2019}"),
    ("ldquo", "\u{201c}"),
    ("rdquo", "\u{201d}"),
    ("laquo", "\u{ab}"),
    ("raquo", "\u{bb}"),
    ("copy", "\u{a9}"),
    ("reg", "\u{ae}"),
    ("trade", "\u{2122}"),
    ("deg", "\u{b0}"),
    ("plusmn", "\u{b1}"),
    ("times", "\u{d7}"),
    ("middot", "\u{b7}"),
    ("bull", "\u{2022}"),
    ("alpha", "\u{3b1}"),
    ("beta", "\u{3b2}"),
    ("gamma", "\u{3b3}"),
    ("delta", "\u{3b4}"),
    ("epsilon", "\u{3b5}"),
    ("kappa", "\u{3ba}"),
    ("lambda", "\u{3bb}"),
    ("mu", "\u{3bc}"),
    ("pi", "\u{3c0}"),
    ("sigma", "\u{3c3}"),
    ("tau", "\u{3c4}"),
    ("omega", "\u{3c9}"),
];

/// The text of the entity `text` starts with (at its `&`) and its length
/// through the `;`, if it is one this decodes.
fn entity(text: &str) -> Option<(Option<char>, usize)> {
    let end = text.bytes().take(34).position(|b| b == b';')?;
    let name = text.get(1..end)?;
    let decoded = if let Some(number) = name.strip_prefix('#') {
        let value = match number.strip_prefix(['x', 'X']) {
            Some(hex) => u32::from_str_radix(hex, 16).ok()?,
            None => number.parse().ok()?,
        };
        Some(char::from_u32(value)?)
    } else {
        let (_, value) = ENTITIES.iter().find(|(n, _)| *n == name)?;
        value.chars().next()
    };
    Some((decoded, end + 1))
}

/// Appends `chars` case-, quote- and dash-folded, with white space collapsed to
/// single spaces and none at either end.
fn fold_collapse(out: &mut String, chars: impl Iterator<Item = char>) {
    let mut pending_space = false;
    let mut push = |out: &mut String, c: char| {
        if c.is_whitespace() {
            pending_space = !out.is_empty();
        } else {
            if pending_space {
                out.push(' ');
                pending_space = false;
            }
            out.push(c);
        }
    };
    for c in chars {
        if c.is_ascii() {
            push(out, c.to_ascii_lowercase());
            continue;
        }
        match c {
            '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{201B}' | '\u{2032}' | '\u{02BC}' => {
                push(out, '\'');
            }
            '\u{201C}' | '\u{201D}' | '\u{201E}' | '\u{201F}' | '\u{2033}' | '\u{00AB}'
            | '\u{00BB}' | '\u{2039}' | '\u{203A}' | '\u{301D}' | '\u{301E}' => push(out, '"'),
            '\u{2010}'..='\u{2015}' | '\u{2212}' | '\u{FE58}' | '\u{FE63}' | '\u{FF0D}' => {
                push(out, '-');
            }
            // Full case folding differs from lowercasing in these.
            '\u{03C2}' => push(out, '\u{03C3}'),
            '\u{00DF}' | '\u{1E9E}' => {
                push(out, 's');
                push(out, 's');
            }
            _ => {
                for lower in c.to_lowercase() {
                    push(out, lower);
                }
            }
        }
    }
}

/// Whether `c` belongs to a script written without spaces between words.
#[must_use]
pub fn is_unspaced_script(c: char) -> bool {
    matches!(c as u32,
        0x0E00..=0x0EFF          // Thai, Lao
        | 0x1000..=0x109F        // Myanmar
        | 0x1780..=0x17FF        // Khmer
        | 0x3040..=0x30FF        // Hiragana, Katakana
        | 0x31F0..=0x31FF        // Katakana extensions
        | 0x3400..=0x4DBF        // CJK extension A
        | 0x4E00..=0x9FFF        // CJK unified ideographs
        | 0xF900..=0xFAFF        // CJK compatibility ideographs
        | 0x20000..=0x3134F      // CJK extensions B-G
    )
}

/// Whether `c` is part of a word: letters, digits and combining marks (so that
/// scripts with vowel signs, such as Devanagari, keep their words whole).
fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || unicode_normalization::char::is_combining_mark(c)
}

/// Appends the words of normalized text to `out`: maximal runs of word
/// characters, where each character of an unspaced script is a word of its own.
/// Punctuation separates words, so `U.S.-Russia`, `U.S.- Russia` and
/// `U.S. Russia` give the same words.
pub fn tokens<'a>(normalized: &'a str, out: &mut Vec<&'a str>) {
    for_each_word(normalized, |w| out.push(w));
}

/// Calls `f` with each word of normalized text, in order (see [`tokens`]).
pub fn for_each_word<'a>(normalized: &'a str, mut f: impl FnMut(&'a str)) {
    if normalized.is_ascii() {
        normalized
            .split(|c: char| !c.is_ascii_alphanumeric())
            .filter(|w| !w.is_empty())
            .for_each(f);
        return;
    }
    let mut start = None;
    for (i, c) in normalized.char_indices() {
        let unspaced = is_unspaced_script(c);
        if is_word_char(c) && !unspaced {
            start.get_or_insert(i);
            continue;
        }
        if let Some(s) = start.take() {
            f(&normalized[s..i]);
        }
        if unspaced && is_word_char(c) {
            f(&normalized[i..i + c.len_utf8()]);
        }
    }
    if let Some(s) = start {
        f(&normalized[s..]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> Vec<String> {
        let normalized = normalize(text);
        let mut out = Vec::new();
        tokens(&normalized, &mut out);
        out.into_iter().map(str::to_owned).collect()
    }

    #[test]
    fn the_byte_scan_for_greek_letters_agrees_with_their_names() {
        for code in 0..0x1_0000u32 {
            let Some(c) = char::from_u32(code) else {
                continue;
            };
            let text = format!("a{c}b");
            assert_eq!(
                has_greek(text.as_bytes()),
                greek_name(c).is_some(),
                "U+{code:04X}"
            );
        }
        assert!(!has_greek("caf\u{e9} \u{a0}\u{cf}".as_bytes()));
        assert!(has_greek("\u{cf}\u{3c9}".as_bytes()));
    }

    #[test]
    fn markup_is_left_out_and_entities_decoded() {
        let stripped = |t: &str| words(&strip_markup(t));
        assert_eq!(
            stripped("K<sub>ATP</sub> channels"),
            words("K(ATP) channels")
        );
        assert_eq!(
            strip_markup("<p class=\"a\">caf&eacute; &amp; caf&#233;&#xE9;</p><!-- x -->"),
            " caf&eacute; & caf\u{e9}\u{e9}  "
        );
        // Not markup: left as text.
        assert_eq!(
            strip_markup("a < b, 3<4 & x&unknown; <"),
            "a < b, 3<4 & x&unknown; <"
        );
        assert_eq!(strip_markup("<a href=x"), "<a href=x");
        // Only elements are tags: a Reuters company marker is text.
        assert_eq!(strip_markup("<IBM> buys <B>it</B>"), "<IBM> buys  it ");
        assert_eq!(
            stripped("<mml:msub><mml:mi>K</mml:mi><mml:mi>ATP</mml:mi></mml:msub>"),
            words("K ATP")
        );
        // Lone Greek letters read as their names, Greek words stay.
        assert_eq!(
            stripped("TNF-\u{3b1} &beta;-blocker"),
            words("TNF-alpha beta-blocker")
        );
        assert_eq!(stripped("NF-&kappa;B"), words("NF-kappaB"));
        assert_eq!(
            strip_markup("\u{3b1}\u{3b2}\u{3b3} caf\u{e9}"),
            "\u{3b1}\u{3b2}\u{3b3} caf\u{e9}"
        );
        assert_eq!(
            strip_markup("soft&shy;ware &#xZZ; &#1114112;"),
            "software &#xZZ; &#1114112;"
        );
        assert!(matches!(
            strip_markup("plain"),
            std::borrow::Cow::Borrowed("plain")
        ));
    }

    #[test]
    fn folds_quotes_dashes_case_and_space() {
        assert_eq!(
            normalize("  \u{201C}Iraq\u{2019}s\u{201D}\t\u{2014} THE  End\n"),
            "\"iraq's\" - the end"
        );
        assert_eq!(
            normalize("Stra\u{00DF}e \u{FB01}ne \u{FF21}"),
            "strasse fine a"
        );
    }

    #[test]
    fn words_drop_edge_punctuation() {
        assert_eq!(
            words("\u{2014} Lloyd J. Austin III (@SecDef) August 8, 2023"),
            ["lloyd", "j", "austin", "iii", "secdef", "august", "8", "2023"]
        );
        assert_eq!(
            words("Iraq\u{2019}s U.S.-led"),
            ["iraq", "s", "u", "s", "led"]
        );
        assert_eq!(words("U.S.- Russia"), words("U.S.-Russia"));
        let hindi = "\u{0928}\u{092E}\u{0938}\u{094D}\u{0924}\u{0947}";
        assert_eq!(words(&format!("{hindi}, x")), [hindi, "x"]);
    }

    #[test]
    fn unspaced_scripts_give_one_word_per_character() {
        assert_eq!(
            words("東京タワー、Tokyo!"),
            ["東", "京", "タ", "ワ", "ー", "tokyo"]
        );
    }

    #[test]
    fn idempotent_on_tricky_text() {
        for text in [
            "\u{1E9E}\u{03A3}",
            "\u{0130}stanbul",
            "\u{FB03}x \u{2126}",
            "a\u{0301}",
            " \u{FF06} x &\u{00A8} &\u{3000}",
            "a \u{FF3B}x\u{FF3D}",
            "a\n[x] [y]",
            "[x]\n[y]",
            "[.]\n[y]",
            "[x]. [y]",
            "a [x\ny]",
            "\u{3371} [x]",
            "Title. [Review] [12 refs]\nSmith, J. [x]. ",
        ] {
            let once = normalize(text);
            assert_eq!(normalize(&once), once, "{text:?}");
        }
    }
}
