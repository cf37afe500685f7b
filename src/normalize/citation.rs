//! Two ways bibliographic records of one paper differ, read alike for hashing.
//!
//! Databases export the same paper with its authors' given names written out or
//! as initials (`Lencioni, Riccardo and Crocetti, Laura` against `Lencioni, R.
//! and Crocetti, L.`, `Sohlberg, McKay Moore` against `Sohlberg, MM`) and its
//! page range whole or with the end's leading digits left out (`1424-1427`
//! against `1424-7`). In a record without an abstract
//! those few fields are a third of its words, so a copy that writes them the
//! other way shares too few shingles to be found.
//!
//! - [`given_initials`]: in a line that is a list of names written `Surname,
//!   Given names` (and nothing else), each given name is read as its initial.
//! - [`expand_page_ranges`]: `1424-7` is read as `1424-1427`.
//!
//! Both change only what is hashed, never the output, and leave text that has
//! nothing of the kind as it is (borrowed, not copied).

use std::borrow::Cow;

/// Lower-case words a surname may hold (`Van de Wal`, `von Pawel`).
const PARTICLES: &[&str] = &[
    "da", "das", "de", "del", "della", "der", "den", "di", "do", "dos", "du", "la", "le", "st",
    "ten", "ter", "van", "von",
];

/// What may follow a name's given names after a second comma.
const SUFFIXES: &[&str] = &["jr", "sr", "ii", "iii", "iv", "2nd", "3rd", "4th"];

/// Most words a surname or a name's given names may have.
const MOST_WORDS: usize = 4;

/// `text` with the given names of every name list line read as initials.
///
/// A line is a name list when it is made only of names separated by `;`, `&`
/// or the word `and`, each name written `Surname, Given names` (or `Surname,
/// Given names, Jr`): the surname one to four words, each capitalized or a
/// particle (`van`, `de`, ...); the given names one to four words, each a
/// capital letter followed by at least one lower-case letter (`Riaz`,
/// `Wen-Jun`, `McKay`) or by nothing (`R.`), or two or three capitals (the
/// initials `RA`). In such a line each given-name word written out (with a
/// lower-case letter) becomes its first letter, so `Agha, Riaz Ahmed` reads as
/// `Agha, R A`, which hashing reads as `Agha, R. A.`, `Agha, RA` and `Agha RA`
/// (consecutive initials are one word). Middle initials stay: a line that is
/// not read (names inline with a title, a garbled name) keeps all of them, so
/// leaving them out of the lines that are read would part records that now
/// meet. Any other line, prose with commas included, stays as it is: one word
/// that does not fit rules the line out, a second word of a surname that is
/// initials (`Lencioni R, Gillams AR`) too, and a line with more than 64
/// bytes or 5 spaces before its first comma is not read at all.
#[must_use]
pub fn given_initials(text: &str) -> Cow<'_, str> {
    let bytes = text.as_bytes();
    let mut out: Option<String> = None;
    // Bytes of `text` copied to `out` so far; where the next line starts.
    let (mut copied, mut next) = (0, 0);
    while let Some(found) = memchr::memchr(b',', &bytes[next..]) {
        let comma = next + found;
        let start = memchr::memrchr(b'\n', &bytes[next..comma]).map_or(next, |p| next + p + 1);
        let end = memchr::memchr(b'\n', &bytes[comma..]).map_or(bytes.len(), |p| comma + p + 1);
        next = end;
        // A surname is a few words: most lines of prose have more before
        // their first comma and are not read further.
        let before = &bytes[start..comma];
        if before.len() > 64 || before.iter().filter(|&&b| b == b' ').count() > 5 {
            continue;
        }
        if let Some(names) = name_list(&text[start..end]) {
            let o = out.get_or_insert_with(|| String::with_capacity(text.len()));
            o.push_str(&text[copied..start]);
            o.push_str(&names);
            copied = end;
        }
    }
    super::rewritten(text, out, copied)
}

/// Where a name of a name list line is in: its surname, or its given names
/// (after its first comma), or a suffix (after a second comma).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Part {
    Surname,
    Given,
    Suffix,
}

/// The words of one name so far.
struct Name {
    part: Part,
    surname: usize,
    given: usize,
    suffix: usize,
}

impl Name {
    fn new() -> Name {
        Name {
            part: Part::Surname,
            surname: 0,
            given: 0,
            suffix: 0,
        }
    }

    /// Whether the name read is whole: a surname and given names.
    fn complete(&self) -> bool {
        self.surname > 0 && self.given > 0 && (self.part != Part::Suffix || self.suffix > 0)
    }
}

/// Whether `word` may be a given name: an upper-case first letter, no digit,
/// and either a lower-case letter (`Riaz`, `McKay`) or at most three letters,
/// all capitals (the initials `RA` of `Agha, RA`). `JOHN` is not.
fn given_name(word: &str) -> bool {
    let mut chars = word.chars();
    chars.next().is_some_and(char::is_uppercase)
        && !word.chars().any(char::is_numeric)
        && (word.chars().any(char::is_lowercase)
            || (word.chars().count() <= 3 && word.chars().all(char::is_uppercase)))
}

/// Reads a line name by name (see [`given_initials`]).
struct Reader {
    name: Name,
    /// Names read whole so far.
    names: usize,
    /// Byte ranges of given-name words written out (with a lower-case
    /// letter), each to become its first character.
    given: Vec<(usize, usize)>,
    /// Whether the word read follows a space (not `-` or `'`: the `D` of
    /// `Plummer-D'Amato` is no initial).
    after_space: bool,
}

impl Reader {
    /// Reads one word; `false` when the line is no name list.
    fn word(&mut self, word: &str, from: usize) -> bool {
        let name = &mut self.name;
        if name.part != Part::Surname && word.eq_ignore_ascii_case("and") {
            // A separator between names (a surname is never `and`).
            return self.separator();
        }
        let fits = match name.part {
            Part::Surname => {
                name.surname += 1;
                // Initials after a surname (`Lencioni R, Gillams AR`) are no
                // surname: such a line would read as one name, `Lencioni R`
                // with the given names `Gillams AR`, and lose `Gillams`. It
                // is left as it is, and hashes as `Lencioni, R.; Gillams, A.
                // R.` does (consecutive initials are one word).
                !word.chars().any(char::is_numeric)
                    && (word.chars().next().is_some_and(char::is_uppercase)
                        || PARTICLES.contains(&word))
                    && !(name.surname > 1
                        && self.after_space
                        && initials(word)
                        && !SUFFIXES.iter().any(|s| word.eq_ignore_ascii_case(s)))
            }
            Part::Given => {
                name.given += 1;
                if word.chars().any(char::is_lowercase) {
                    self.given.push((from, from + word.len()));
                }
                given_name(word)
            }
            Part::Suffix => {
                name.suffix += 1;
                SUFFIXES.iter().any(|s| word.eq_ignore_ascii_case(s))
            }
        };
        fits && name.surname <= MOST_WORDS && name.given <= MOST_WORDS && name.suffix <= 1
    }

    /// Reads a comma; `false` when the line is no name list.
    fn comma(&mut self) -> bool {
        let name = &mut self.name;
        name.part = match name.part {
            Part::Surname if name.surname > 0 => Part::Given,
            Part::Given if name.given > 0 => Part::Suffix,
            _ => return false,
        };
        true
    }

    /// Reads a separator between names; `false` when the line is no name list.
    fn separator(&mut self) -> bool {
        if !self.name.complete() {
            return false;
        }
        self.name = Name::new();
        self.names += 1;
        true
    }
}

/// `line` (its terminator included) with given names as initials, if it is a
/// name list line and some given name is more than an initial.
fn name_list(line: &str) -> Option<String> {
    let mut reader = Reader {
        name: Name::new(),
        names: 0,
        given: Vec::new(),
        after_space: true,
    };
    let mut word_start = None;
    for (i, c) in line.char_indices() {
        if c.is_alphanumeric() {
            word_start.get_or_insert(i);
            continue;
        }
        if let Some(from) = word_start.take() {
            if !reader.word(&line[from..i], from) {
                return None;
            }
        }
        reader.after_space = !matches!(c, '-' | '\'' | '\u{2019}');
        let fits = match c {
            ',' => reader.comma(),
            ';' | '&' => reader.separator(),
            _ => true,
        };
        if !fits {
            return None;
        }
    }
    if let Some(from) = word_start {
        if !reader.word(&line[from..], from) {
            return None;
        }
    }
    // A separator may end the line (`Agha, R. A.;`); anything else must be a
    // whole name.
    let name = &reader.name;
    let ends_whole = name.complete() || (name.surname == 0 && reader.names > 0);
    if !ends_whole || reader.given.is_empty() {
        return None;
    }
    let mut out = String::with_capacity(line.len());
    let mut at = 0;
    for (from, to) in reader.given {
        let first = line[from..].chars().next().map_or(0, char::len_utf8);
        out.push_str(&line[at..from + first]);
        at = to;
    }
    out.push_str(&line[at..]);
    Some(out)
}

/// Whether `word` is initials run together: one to three capitals (`R`, `RA`).
fn initials(word: &str) -> bool {
    (1..=3).contains(&word.chars().count()) && word.chars().all(char::is_uppercase)
}

/// Whether `c` is a dash a page range may be written with: `-`, or one that
/// normalization reads as `-` and hashing in place reads as a separator
/// (U+2010 to U+2015: hyphens, en and em dashes).
fn is_dash(c: char) -> bool {
    c == '-' || ('\u{2010}'..='\u{2015}').contains(&c)
}

/// Whether `c` joins a number it touches into a longer token: a letter, a
/// digit, a combining mark, or a dash (`1-2-3` is no page range).
fn joins(c: Option<char>) -> bool {
    c.is_some_and(|c| {
        c.is_alphanumeric() || unicode_normalization::char::is_combining_mark(c) || is_dash(c)
    })
}

/// `text` with every page range whose end leaves out the digits it shares
/// with its start written whole: `1424-7` and `1424-27` as `1424-1427`, `98-9`
/// as `98-99`.
///
/// A range is two runs of ASCII digits joined by one dash, standing alone (no
/// letter, digit or dash right before or after it), the second run shorter
/// than the first (at most 9 digits) and the number it stands for (the first
/// run's leading digits, then the second run) greater than the first: `5-13`,
/// `2020-01` (a date) and `19-5` stay as they are.
#[must_use]
pub fn expand_page_ranges(text: &str) -> Cow<'_, str> {
    let bytes = text.as_bytes();
    let mut out: Option<String> = None;
    // Bytes of `text` copied to `out` so far.
    let mut copied = 0;
    let mut search = 0;
    while let Some(found) = memchr::memchr2(b'-', 0xE2, &bytes[search..]) {
        let dash_at = search + found;
        let dash_len = match text[dash_at..].chars().next() {
            Some(c) if is_dash(c) => c.len_utf8(),
            _ => {
                search = dash_at + 1;
                continue;
            }
        };
        search = dash_at + dash_len;
        let first_start = bytes[..dash_at]
            .iter()
            .rposition(|b| !b.is_ascii_digit())
            .map_or(0, |p| p + 1);
        let second_start = dash_at + dash_len;
        let second_end = bytes[second_start..]
            .iter()
            .position(|b| !b.is_ascii_digit())
            .map_or(bytes.len(), |p| second_start + p);
        let (first, second) = (&text[first_start..dash_at], &text[second_start..second_end]);
        if first.is_empty()
            || second.is_empty()
            || second.len() >= first.len()
            || first.len() > 9
            || joins(text[..first_start].chars().next_back())
            || joins(text[second_end..].chars().next())
        {
            continue;
        }
        let kept = &first[..first.len() - second.len()];
        // Same length: comparing the digits compares the numbers.
        if second <= &first[kept.len()..] {
            continue;
        }
        let o = out.get_or_insert_with(|| String::with_capacity(text.len() + 8));
        o.push_str(&text[copied..second_start]);
        o.push_str(kept);
        o.push_str(second);
        copied = second_end;
        search = second_end;
    }
    super::rewritten(text, out, copied)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn given_names_of_name_lists_become_initials() {
        let cases = [
            (
                "Lencioni, Riccardo and Crocetti, Laura and Van de Wal, Bernard W.",
                "Lencioni, R and Crocetti, L and Van de Wal, B W.",
            ),
            ("Chen, Wen-Jun; Zheng, Wei E.;", "Chen, W-J; Zheng, W E.;"),
            ("Esterhaz, Anna", "Esterhaz, A"),
            (
                "Blumenschein, George R., Jr. & Khuri, F. R.",
                "Blumenschein, G R., Jr. & Khuri, F. R.",
            ),
            ("\u{00C9}lodie, \u{00C9}milie", "\u{00C9}lodie, \u{00C9}"),
            // Given names with an inner capital, initials run together.
            ("Sohlberg, McKay Moore; Agha, RA", "Sohlberg, M M; Agha, RA"),
            ("Holcomb, George W., 3rd", "Holcomb, G W., 3rd"),
            ("Ruffin IV, Mack T and Lu, S", "Ruffin IV, M T and Lu, S"),
            ("Plummer-D'Amato, Prudence", "Plummer-D'Amato, P"),
        ];
        for (text, want) in cases {
            assert_eq!(given_initials(text), want, "{text:?}");
        }
        // Only the name lines of a record change.
        assert_eq!(
            given_initials("A title, with a comma\nAgha, Riaz; Fowler, Alex\n2016\n"),
            "A title, with a comma\nAgha, R; Fowler, A\n2016\n"
        );
    }

    #[test]
    fn other_lines_stay_as_they_are() {
        for text in [
            "",
            "In March, Smith said the plan had failed.",
            "Diabetes, comorbidities and increased long-term mortality",
            "Smith, J., Jones, K.",
            "Smith, John 2nd",
            "Smith, JOHN",
            "Smith, Anna, 5th",
            "Lencioni R, Gillams AR",
            "Agha RA; Fowler AJ",
            "Smith, JOHN R",
            "Paris, France; and Rome",
            "2016, Volume 3",
            ", Anna",
            "Diacon, A. H. and Bw, and Bolliger, C. T.",
        ] {
            assert!(matches!(given_initials(text), Cow::Borrowed(_)), "{text:?}");
        }
    }

    #[test]
    fn shortened_page_ranges_are_written_whole() {
        let cases = [
            ("pp. 1424-7.", "pp. 1424-1427."),
            ("1424-27", "1424-1427"),
            ("169\u{2013}72; 98-9", "169\u{2013}172; 98-99"),
            ("e1742-51", "e1742-51"),
        ];
        for (text, want) in cases {
            assert_eq!(expand_page_ranges(text), want, "{text:?}");
        }
        for text in [
            "5-13",
            "2020-01-05",
            "19-5",
            "1424-1427",
            "3-4",
            "12-3a",
            "x-9",
            "1-",
            "-5",
        ] {
            assert!(
                matches!(expand_page_ranges(text), Cow::Borrowed(_)),
                "{text:?}"
            );
        }
    }
}
