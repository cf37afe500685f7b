//! What a careless user or a hostile file meets that earlier passes did not
//! try (issue 14, session 24's hostile pass): outputs named as archives.

use crate::util::{run, tempdir, tree};

/// An output named as an archive (`out.tgz`, `out.tar.gz`, `out.tar`,
/// `out.zip`) is refused by name, exit 2, nothing written: neardup writes
/// one stream, and `-o out.tgz` wrote plain text under a gzip name,
/// `out.tar.gz` a gzip stream that no `tar` reads.
#[test]
fn outputs_named_as_archives_are_refused() {
    let dir = tempdir();
    let d = dir.path();
    crate::util::write_two_copies(&d.join("in.jsonl"));
    let before = tree(d);
    for (args, what) in [
        (&["clean", "in.jsonl", "-o", "out.tgz"][..], "tar archives"),
        (&["clean", "in.jsonl", "-o", "out.tar.gz"], "tar archives"),
        (&["clean", "in.jsonl", "-o", "OUT.TAR.ZST"], "tar archives"),
        (&["clean", "in.jsonl", "-o", "out.tar"], "tar archives"),
        (&["clean", "in.jsonl", "-o", "out.zip"], "zip archives"),
        (
            &[
                "clean",
                "in.jsonl",
                "-o",
                "o.jsonl",
                "--report",
                "r.json.7z",
            ],
            "7-Zip archives",
        ),
        (&["scan", "in.jsonl", "--html", "p.tgz"], "tar archives"),
    ] {
        let out = run(d, args);
        assert_eq!(out.code, 2, "{args:?}: {out:?}");
        assert!(
            out.stderr.starts_with("neardup: ")
                && out.stderr.contains(&format!(
                    "neardup writes gzip (.gz) and zstd (.zst), not {what}"
                )),
            "{args:?}: {out:?}"
        );
        assert_eq!(tree(d), before, "{args:?}");
    }
    // A name that only looks like one is written as named.
    let out = run(d, &["clean", "-q", "in.jsonl", "-o", "star.jsonl"]);
    assert_eq!(out.code, 0, "{out:?}");
}
