//! Notes in brackets that end a line, left out of hashing.
//!
//! Databases append notes to a record's title that another database's export
//! of the same paper lacks: Ovid MEDLINE's `[Review] [125 refs]`, `[Erratum
//! appears in Brain Inj. 2013;27(3):377]`, a language `[Spanish]`, a journal's
//! `[Electronic Resource]`. In a record without an abstract such a note is a
//! large share of its words, and a copy without it shares too few shingles to
//! be found. [`trailing_notes`] drops them for hashing only; the output stays
//! byte for byte.

use std::borrow::Cow;

/// White space as folding reads it (ASCII white space, the vertical tab and
/// the no-break space): a run of notes may hold it.
fn blank(c: char) -> bool {
    c.is_ascii_whitespace() || c == '\u{0B}' || c == '\u{A0}'
}

/// `text` with the notes that end each of its lines left out.
///
/// A line's notes are the bracketed groups at its end (`[` and `]` with
/// neither bracket nor line break between them), each followed by white space
/// and at most one `.`, with only white space between them and the line's
/// end: `Title. [Review] [125 refs]` loses ` [Review] [125 refs]`. They are
/// left out with the white space before them; the line break itself stays.
/// Notes that start the text (only white space before them) are a bracketed
/// title, as databases write a translated one: the first stays and the others
/// go, so `[Indications of ...]. [Spanish]` reads as `[Indications of ...].`,
/// as `Indications of .... [Spanish]` reads as `Indications of ....`.
///
/// Applied before folding (to see lines) and again after it (see
/// `normalize`), this keeps normalization idempotent: the folded text has one
/// line, whose end was already read. Text without `]` is returned as it is.
#[must_use]
pub fn trailing_notes(text: &str) -> Cow<'_, str> {
    let bytes = text.as_bytes();
    let mut out: Option<String> = None;
    let mut copied = 0;
    // Where the next `]` may end a line's notes: not before the last cut.
    let mut from = 0;
    while let Some(found) = memchr::memchr(b']', &bytes[from..]) {
        let close = from + found;
        from = close + 1;
        let Some(line_end) = notes_end(text, close + 1) else {
            continue;
        };
        let Some(mut start) = notes_start(text, close) else {
            continue;
        };
        if text[..start].chars().all(blank) {
            // The notes start the text: the first is its bracketed title,
            // and stays; the notes after it (if any) go.
            let first = start + memchr::memchr(b']', &bytes[start..]).expect("a group");
            let Some(next) = memchr::memchr(b'[', &bytes[first..close]) else {
                from = line_end;
                continue;
            };
            start = first + next;
        }
        // Leave out the white space before the notes too (not a line break).
        let cut = text[..start]
            .trim_end_matches(|c| blank(c) && c != '\n')
            .len();
        if cut < copied {
            from = line_end;
            continue;
        }
        let o = out.get_or_insert_with(|| String::with_capacity(text.len()));
        o.push_str(&text[copied..cut]);
        copied = line_end;
        from = line_end;
    }
    super::rewritten(text, out, copied)
}

/// Where the line ends (its `\n`, or the text's end) when only white space
/// and at most one `.` follow a group's `]` (which ends at `at`) up to it.
fn notes_end(text: &str, at: usize) -> Option<usize> {
    let mut dot = false;
    for (i, c) in text[at..].char_indices() {
        match c {
            '\n' => return Some(at + i),
            '.' if !dot => dot = true,
            c if blank(c) => {}
            _ => return None,
        }
    }
    Some(text.len())
}

/// Where the run of notes whose last `]` is at `close` starts (its first
/// `[`), reading groups back while only white space and at most one `.` part
/// them on one line; `None` when no group ends at `close`.
///
/// A group may hold a line break: folding joins lines, and the folded text's
/// end is read again, so a group read there must be read here too.
fn notes_start(text: &str, close: usize) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut close = close;
    let mut last = true;
    loop {
        // The group's `[`: the last bracket before its `]`.
        let open = match bytes[..close]
            .iter()
            .rposition(|&b| matches!(b, b'[' | b']'))
        {
            Some(p) if bytes[p] == b'[' => p,
            // No group ends here: the notes start after the one read last.
            _ if last => return None,
            _ => return Some(close + 1),
        };
        last = false;
        // Back over white space and one `.` to an earlier group's `]`.
        let mut dot = false;
        let mut before = None;
        for (i, c) in text[..open].char_indices().rev() {
            match c {
                ']' => {
                    before = Some(i);
                    break;
                }
                '.' if !dot => dot = true,
                c if blank(c) && c != '\n' => {}
                _ => break,
            }
        }
        match before {
            Some(i) => close = i,
            None => return Some(open),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::trailing_notes;

    #[test]
    fn notes_that_end_a_line_are_left_out() {
        let cases = [
            (
                "Cervical neoplasia. [Review] [71 refs]\nSmith, J.",
                "Cervical neoplasia.\nSmith, J.",
            ),
            (
                "Trial.[Erratum appears in Brain Inj. 2013;27(3):377]",
                "Trial.",
            ),
            ("Trials [Electronic Resource]\n", "Trials\n"),
            ("A title [Spanish].  \r\nnext", "A title\nnext"),
            ("a [x]. [y].\n[z]", "a\n"),
            ("Title\n[Indications]. [Spanish]", "Title\n"),
            // A bracketed title that starts the text stays, not its notes.
            (
                "[Indications of x]. [Spanish]\n1990",
                "[Indications of x].\n1990",
            ),
            ("  [x] [y] ", "  [x]"),
            ("\n[x]\n[y]", "\n[x]\n"),
            ("- [x]", "-"),
        ];
        for (text, want) in cases {
            assert_eq!(trailing_notes(text), want, "{text:?}");
        }
    }

    #[test]
    fn other_brackets_stay() {
        for text in [
            "",
            "[x]",
            " [x]. \n",
            "no brackets at all",
            "K[ATP] channels in rats",
            "a [note] in the middle\nand more",
            "a [x] b",
            "a [x].. ",
            "a [x]: [y",
            "a [[x] y",
            "a ]x]",
            "ab]",
        ] {
            assert!(
                matches!(trailing_notes(text), std::borrow::Cow::Borrowed(t) if t == text),
                "{text:?}"
            );
        }
        // Only the complete groups at the end go.
        assert_eq!(trailing_notes("a [[x]"), "a [");
        assert_eq!(trailing_notes("a ] [x]"), "a ]");
        // A group may span lines (folding would join them).
        assert_eq!(trailing_notes("a [x\ny]\nb"), "a\nb");
    }
}
