//! Names and text from inputs as human-readable output shows them: control
//! characters (line breaks, ANSI escapes, C1 controls, Unicode line and
//! paragraph separators, bidirectional controls) written as Rust escapes (`\n`, `\u{1b}`), so a
//! document id or a file name cannot start a line of its own (a GitHub
//! workflow command) or drive the terminal; bytes of a file name that are not
//! UTF-8 written as `\xNN`, so two such names stay distinct. JSON output keeps
//! ids and text as they are (serde escapes them); file names take the form
//! [`path`] gives them everywhere.

use std::borrow::Cow;
use std::fmt::Write as _;
use std::path::Path;

/// Whether `c` is shown escaped: a control character, a line or paragraph
/// separator, or a bidirectional control (`\u{202e}`, right-to-left
/// override, shows `a\u{202e}txt.exe` as `aexe.txt`: the order a terminal
/// or a GitHub annotation draws the rest of the line in is the input's).
fn escaped(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{2028}'
                | '\u{2029}'
                | '\u{61c}'
                | '\u{200e}'
                | '\u{200f}'
                | '\u{202a}'..='\u{202e}'
                | '\u{2066}'..='\u{2069}'
        )
}

/// `text` with every control character escaped.
#[must_use]
pub fn printable(text: &str) -> Cow<'_, str> {
    if !text.chars().any(escaped) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if escaped(c) {
            let _ = write!(out, "{}", c.escape_default());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// `line` made safe to begin a line of human-readable output: a GitHub
/// runner reads a line whose first characters after spaces are `::` as a
/// workflow command, so a line that a name starts (a file `::error::x.txt`)
/// has that first colon written `\u{3a}`.
#[must_use]
pub fn line_start(line: &str) -> Cow<'_, str> {
    let body = line.trim_start();
    if body.starts_with("::") {
        let indent = &line[..line.len() - body.len()];
        Cow::Owned(format!("{indent}\\u{{3a}}{}", &body[1..]))
    } else {
        Cow::Borrowed(line)
    }
}

/// A path as a string: its UTF-8 parts as they are, every other byte as
/// `\xNN` (so distinct names stay distinct). Control characters are kept;
/// [`shown_path`] escapes them too.
#[must_use]
pub fn path(path: &Path) -> String {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt as _;
        let mut out = String::new();
        for chunk in path.as_os_str().as_bytes().utf8_chunks() {
            out.push_str(chunk.valid());
            for b in chunk.invalid() {
                let _ = write!(out, "\\x{b:02x}");
            }
        }
        out
    }
    #[cfg(not(unix))]
    {
        path.to_string_lossy().into_owned()
    }
}

/// A path for messages and text reports: [`path`] with control characters
/// escaped.
#[must_use]
pub fn shown_path(p: &Path) -> String {
    printable(&path(p)).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(printable("plain é"), "plain é");
        assert_eq!(
            printable("doc\n::error::X\r\u{1b}[31m\u{85}\u{2028}"),
            "doc\\n::error::X\\r\\u{1b}[31m\\u{85}\\u{2028}"
        );
        assert_eq!(
            printable("a\u{202e}txt.exe \u{2066}x\u{2069} \u{200f}\u{61c} שלום"),
            "a\\u{202e}txt.exe \\u{2066}x\\u{2069} \\u{200f}\\u{61c} שלום"
        );
    }

    #[test]
    fn a_line_cannot_start_with_a_workflow_command() {
        assert_eq!(
            line_start("::error::a.txt: 1 of 4"),
            r"\u{3a}:error::a.txt: 1 of 4"
        );
        assert_eq!(line_start("  ::warning::x"), r"  \u{3a}:warning::x");
        assert_eq!(line_start("a.txt: ::error::x"), "a.txt: ::error::x");
        assert_eq!(line_start(":a.txt"), ":a.txt");
    }

    #[cfg(unix)]
    #[test]
    fn names_that_are_not_utf8_stay_distinct() {
        use std::os::unix::ffi::OsStrExt as _;
        let a = path(Path::new(std::ffi::OsStr::from_bytes(b"a\xff.txt")));
        let b = path(Path::new(std::ffi::OsStr::from_bytes(b"a\xfe.txt")));
        assert_eq!((a.as_str(), b.as_str()), ("a\\xff.txt", "a\\xfe.txt"));
        assert_eq!(shown_path(Path::new("a\nb")), "a\\nb");
    }
}
