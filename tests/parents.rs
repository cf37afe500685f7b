//! A path to write under a file (`--report notes.txt/r.txt`), or that is a
//! directory, is refused before anything is read or written: a run
//! streaming its cleaned text to standard output used to send all of it and
//! only then fail at the report. So is `--out-dir -`.

use crate::util::{run, tempdir};

#[test]
fn a_path_to_write_under_a_file_is_refused_before_any_output() {
    let dir = tempdir();
    let d = dir.path();
    std::fs::write(d.join("in.jsonl"), crate::index::batches().concat()).unwrap();
    std::fs::write(d.join("notes.txt"), "old\n").unwrap();
    let cases: [(&[&str], &str); 6] = [
        (
            &["clean", "in.jsonl", "--report", "notes.txt/r.txt"],
            "notes.txt/r.txt (--report)",
        ),
        (
            &["clean", "in.jsonl", "--html", "notes.txt/p.html"],
            "notes.txt/p.html (--html)",
        ),
        (
            &[
                "clean",
                "in.jsonl",
                "--memory-limit",
                "64K",
                "--report",
                "notes.txt/a/b/r.txt",
            ],
            "notes.txt/a/b/r.txt (--report)",
        ),
        (
            &[
                "check",
                "--output-format",
                "github",
                "in.jsonl",
                "--step-summary",
                "notes.txt/s.md",
            ],
            "notes.txt/s.md (--step-summary)",
        ),
        (
            &["scan", "in.jsonl", "--index", "notes.txt/i.ndx", "--update"],
            "notes.txt/i.ndx (--index)",
        ),
        (
            &["clean", "in.jsonl", "--out-dir", "notes.txt/out"],
            "(--out-dir output)",
        ),
    ];
    for (args, named) in cases {
        let out = run(d, args);
        assert_eq!(out.code, 2, "{args:?}: {out:?}");
        assert!(out.stdout.is_empty(), "{args:?}: {out:?}");
        assert!(
            out.stderr.contains(named) && out.stderr.contains("notes.txt is not a directory"),
            "{args:?}: {out:?}"
        );
        assert_eq!(std::fs::read(d.join("notes.txt")).unwrap(), b"old\n");
    }
}

/// A directory named where a file is written (`--report reports/`, an
/// `--out-dir` file whose name a directory holds) is refused before anything
/// is read: `clean in.jsonl --report adir` streamed the whole cleaned text to
/// standard output, and `check` printed its verdict, before failing with
/// `adir: is a directory`, which named no flag.
#[test]
fn a_directory_named_as_a_file_to_write_is_refused_before_any_output() {
    let dir = tempdir();
    let d = dir.path();
    std::fs::write(d.join("in.jsonl"), crate::index::batches().concat()).unwrap();
    std::fs::create_dir_all(d.join("adir")).unwrap();
    std::fs::create_dir_all(d.join("od/in.jsonl")).unwrap();
    let cases: [(&[&str], &str); 5] = [
        (
            &["clean", "in.jsonl", "--report", "adir"],
            "adir (--report)",
        ),
        (&["clean", "in.jsonl", "--html", "adir"], "adir (--html)"),
        (&["clean", "in.jsonl", "-o", "adir"], "adir (-o)"),
        (
            &["check", "in.jsonl", "--step-summary", "adir"],
            "adir (--step-summary)",
        ),
        (
            &["clean", "in.jsonl", "--out-dir", "od"],
            "od/in.jsonl (--out-dir output)",
        ),
    ];
    for (args, named) in cases {
        for limit in [&[][..], &["--memory-limit", "64K"]] {
            let args = [args, limit].concat();
            let out = run(d, &args);
            assert_eq!(out.code, 2, "{args:?}: {out:?}");
            assert!(out.stdout.is_empty(), "{args:?}: {out:?}");
            assert!(
                out.stderr
                    .contains(&format!("{named}: cannot be written: it is a directory")),
                "{args:?}: {out:?}"
            );
        }
    }
    assert_eq!(crate::util::tree(&d.join("adir")), vec![]);
    assert_eq!(crate::util::tree(&d.join("od")), vec![]);
}

/// `--out-dir -` is refused as standard output, before anything is read:
/// it made a directory named `-` and mirrored the inputs there, where
/// `-o -` is standard output. `./-` still names a directory.
#[test]
fn dash_as_an_out_dir_is_refused_as_standard_output() {
    let dir = tempdir();
    let d = dir.path();
    std::fs::write(d.join("in.jsonl"), crate::index::batches().concat()).unwrap();
    let out = run(d, &["clean", "in.jsonl", "--out-dir", "-"]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stdout.is_empty(), "{out:?}");
    assert!(
        out.stderr.contains(
            "-: --out-dir names a directory to write, not standard output: give -o - for one \
             stream there, or ./- for a directory named -"
        ),
        "{out:?}"
    );
    assert!(!d.join("-").exists());
    let out = run(d, &["clean", "-q", "in.jsonl", "--out-dir", "./-"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(d.join("-/in.jsonl").is_file());
}

/// A path to write whose name ends as a directory's (`--report reports/`,
/// `--index seen.ndx/ --update`, not there yet, or a link to one) is
/// refused before anything is read: its staged file could not be renamed into place, and the run
/// failed only after it had renamed the cleaned output over `-o`'s file,
/// exit 2 with the old output gone.
#[test]
fn a_name_ending_as_a_directory_is_refused_before_the_output_is_replaced() {
    let dir = tempdir();
    let d = dir.path();
    std::fs::write(d.join("in.jsonl"), crate::index::batches().concat()).unwrap();
    std::fs::write(d.join("o.jsonl"), "old output\n").unwrap();
    // A link to such a name, or to a path under a file.
    std::os::unix::fs::symlink("pages/", d.join("to-dir")).unwrap();
    std::fs::write(d.join("notes.txt"), "old\n").unwrap();
    std::os::unix::fs::symlink("notes.txt/r.txt", d.join("under-file")).unwrap();
    let cases: [(&[&str], &str); 7] = [
        (
            &["--report", "to-dir"],
            "to-dir (--report): cannot be written: its name ends",
        ),
        (
            &["--report", "under-file"],
            "under-file (--report): cannot be written: notes.txt is not",
        ),
        (&["--report", "reports/"], "reports/ (--report)"),
        (&["--report", "reports/."], "reports/. (--report)"),
        (&["--html", "page/"], "page/ (--html)"),
        (&["--index", "seen.ndx/", "--update"], "seen.ndx/ (--index)"),
        (&["-o", "o.jsonl/"], "o.jsonl/ (-o)"),
    ];
    for (flags, named) in cases {
        for limit in [&[][..], &["--memory-limit", "64K"]] {
            let mut args = vec!["clean", "in.jsonl"];
            if flags[0] != "-o" {
                args.extend(["-o", "o.jsonl"]);
            }
            args.extend_from_slice(flags);
            args.extend_from_slice(limit);
            let out = run(d, &args);
            assert_eq!(out.code, 2, "{args:?}: {out:?}");
            let said = if named.contains("cannot") {
                (*named).to_owned()
            } else {
                format!("{named}: cannot be written: its name ends as a directory's")
            };
            assert!(out.stderr.contains(&said), "{args:?}: {out:?}");
            assert_eq!(
                std::fs::read(d.join("o.jsonl")).unwrap(),
                b"old output\n",
                "{args:?}"
            );
        }
    }
    let names = crate::util::names_in(d);
    assert_eq!(
        names,
        ["in.jsonl", "notes.txt", "o.jsonl", "to-dir", "under-file"]
    );
}
