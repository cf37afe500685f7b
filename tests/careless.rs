//! What a careless user or a hostile file meets that earlier passes did not
//! try (issue 14, session 24's hostile pass): outputs named as archives;
//! (session 25's) an input cut short while its mapped pages are written into
//! a FIFO, an index that is a symbolic link loop, a directory with nothing
//! to read; (session 26's) a file given twice; (session 29's) names with
//! bidirectional controls; (session 33's) files a run reads that are named
//! as a dead run's temporary files, standard input and output left
//! non-blocking, help that cannot be written, a signal while the outputs
//! are renamed into place.

use crate::util::{assert_holds, assert_says, run, run_exit, run_ok, tempdir, tree};
use std::path::Path;

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
    run_ok(d, &["clean", "-q", "in.jsonl", "-o", "star.jsonl"]);
}

/// `clean -q MODE big.jsonl TARGET` in `d`, with `big.jsonl` (`text`) cut
/// short once the run has written its first byte into `fifo`: exit 2, the
/// input's truncation told and no bad address; its standard error.
#[track_caller]
fn cut_short_into(d: &Path, mode: &[&str], target: &[&str], fifo: &Path, text: &[u8]) -> String {
    use std::process::{Command, Stdio};
    let child = Command::new(env!("CARGO_BIN_EXE_neardup"))
        .current_dir(d)
        .args(["clean", "-q"])
        .args(mode)
        .arg("big.jsonl")
        .args(target)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut reader = std::fs::File::open(fifo).unwrap();
    let rest = crate::util::cut_short_while_read(&mut reader, &d.join("big.jsonl"));
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(2), "{mode:?}: {stderr}");
    assert!(
        stderr.starts_with("neardup: big.jsonl: truncated while it was read (memory-mapped)"),
        "{mode:?}: {stderr}"
    );
    assert!(!stderr.contains("Bad address"), "{mode:?}: {stderr}");
    assert!(rest.len() + 1 < text.len());
    stderr
}

/// An input truncated (log rotation with `copytruncate`) while its mapped
/// pages are written straight into a FIFO `-o` (written in place): the
/// write fails with EFAULT, which said `o.fifo: Bad address (os error 14)`,
/// blaming the output; a run in chunks named the input twice (`big.jsonl,
/// big.jsonl: truncated ...`). Both say the input's truncation, once.
#[test]
fn an_input_cut_short_while_written_into_a_fifo_is_named_once() {
    let text = crate::util::numbered_records(40_000);
    for mode in [&[][..], &["--memory-limit", "1M", "--tmp-dir", "."]] {
        let dir = tempdir();
        let d = dir.path();
        std::fs::write(d.join("big.jsonl"), &text).unwrap();
        let fifo = d.join("o.fifo");
        crate::util::mkfifo(&fifo);
        let stderr = cut_short_into(d, mode, &["-o", "o.fifo"], &fifo, &text);
        assert_eq!(stderr.matches("big.jsonl").count(), 1, "{mode:?}: {stderr}");
    }
}

/// An `--index` or `--reference` that is a symbolic link loop is named as
/// one, exit 2: it said `no such index; create it with --index lp --update`,
/// which then fails on the loop.
#[test]
fn an_index_that_is_a_link_loop_is_named_as_one() {
    let dir = tempdir();
    let d = dir.path();
    crate::util::write_two_copies(&d.join("in.jsonl"));
    std::os::unix::fs::symlink("lp", d.join("lp")).unwrap();
    let listing = || {
        let mut names: Vec<_> = std::fs::read_dir(d)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        names.sort();
        (names, std::fs::read(d.join("in.jsonl")).unwrap())
    };
    let before = listing();
    for flag in ["--index", "--reference"] {
        let out = run(d, &["scan", "-q", flag, "lp", "in.jsonl"]);
        assert_eq!(out.code, 2, "{flag}: {out:?}");
        assert!(
            out.stderr
                .starts_with("neardup: lp: Too many levels of symbolic links"),
            "{flag}: {out:?}"
        );
        assert!(!out.stderr.contains("no such index"), "{flag}: {out:?}");
        assert_eq!(listing(), before, "{flag}");
    }
}

/// Almost no memory available (`NEARDUP_AVAILABLE_MEMORY=1`, a container
/// about to run out): the run works in chunks and its note names a limit
/// that `--memory-limit` takes (it said `as --memory-limit 0 does`, a value
/// refused), and the output is a whole run's.
#[test]
fn almost_no_memory_available_names_a_limit_that_is_taken() {
    use std::process::Command;
    let dir = tempdir();
    let d = dir.path();
    crate::util::write_two_copies(&d.join("in.jsonl"));
    let whole = run_ok(d, &["clean", "-q", "in.jsonl"]);
    let out = Command::new(env!("CARGO_BIN_EXE_neardup"))
        .args(["clean", "in.jsonl", "--tmp-dir", "."])
        .current_dir(d)
        .env_clear()
        .env("NEARDUP_AVAILABLE_MEMORY", "1")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert_holds(&stderr, "working in chunks, as --memory-limit 64.0K does");
    assert_eq!(out.stdout, whole.stdout);
}

/// A byte-order mark before a later record (two files that each start with
/// one, joined with `cat`) is named as what it is, whole, in chunks and on
/// standard input: it was `invalid JSON at column 1: expected value`.
#[test]
fn a_byte_order_mark_before_a_later_record_is_named() {
    let dir = tempdir();
    let d = dir.path();
    crate::util::write_two_copies(&d.join("one.jsonl"));
    let one = std::fs::read(d.join("one.jsonl")).unwrap();
    let mut joined = b"\xef\xbb\xbf".to_vec();
    joined.extend_from_slice(&one);
    joined.extend_from_slice(b"\xef\xbb\xbf");
    joined.extend_from_slice(&one);
    std::fs::write(d.join("all.jsonl"), &joined).unwrap();
    let said =
        "a UTF-8 byte-order mark starts this record (one is skipped only at the very start of a file";
    for limit in [&[][..], &["--memory-limit", "64K", "--tmp-dir", "."]] {
        let mut args = vec!["clean", "-q", "all.jsonl", "-o", "o.jsonl"];
        args.extend_from_slice(limit);
        let out = run(d, &args);
        assert_eq!(out.code, 2, "{limit:?}: {out:?}");
        assert!(
            out.stderr
                .starts_with(&format!("neardup: all.jsonl:3: {said}")),
            "{limit:?}: {out:?}"
        );
        assert!(!d.join("o.jsonl").exists());
        let mut args = vec!["scan", "-q", "-"];
        args.extend_from_slice(limit);
        let out = crate::util::run_with_stdin(d, &args, Some(&joined));
        assert_eq!(out.code, 2, "{limit:?}: {out:?}");
        assert!(
            out.stderr
                .starts_with(&format!("neardup: <stdin>:3: {said}")),
            "{limit:?}: {out:?}"
        );
    }
}

/// A directory with nothing to read (empty, only hidden files, or no file a
/// `--glob` matches) is named, exit 2, for every command: `check` passed an
/// empty scraper folder, or a `--glob` with a typo, as 0 documents. A
/// directory with a file, beside it, is read as before.
#[test]
fn a_directory_with_nothing_to_read_is_named() {
    let dir = tempdir();
    let d = dir.path();
    for sub in ["empty", "hidden", "some"] {
        std::fs::create_dir(d.join(sub)).unwrap();
    }
    std::fs::write(d.join("hidden/.a.jsonl"), "{\"text\":\"x\"}\n").unwrap();
    crate::util::write_two_copies(&d.join("some/in.jsonl"));
    let before = tree(d);
    for (args, said) in [
        (&["check", "empty"][..], "empty: no files to read in it"),
        (
            &["scan", "some", "hidden"],
            "hidden: no files to read in it",
        ),
        (
            &["clean", "some", "--glob", "*.txt", "--out-dir", "od"],
            "some: no file in it matches --glob \"*.txt\"",
        ),
        (
            &["check", "--index", "x.ndx", "--update", "empty"],
            "empty: no files to read in it",
        ),
    ] {
        let out = run(d, args);
        assert_eq!(out.code, 2, "{args:?}: {out:?}");
        assert!(
            out.stderr.starts_with(&format!("neardup: {said}")),
            "{args:?}: {out:?}"
        );
        assert!(out.stdout.is_empty(), "{args:?}: {out:?}");
        assert_eq!(tree(d), before, "{args:?}: nothing written");
    }
    let out = run(d, &["check", "-q", "some", "--glob", "*.jsonl"]);
    assert_eq!(out.code, 1, "two copies: a duplicate: {out:?}");
}

/// A file reached from two of the paths given (named twice, inside a
/// directory also given, a link to it), or through a link beside it in one
/// walk, is read once, with a warning: read
/// twice, each of its documents was a duplicate of itself, and `check`
/// failed a feed with no duplicate in it (`--out-dir` refused the run).
/// Hard links reached from one path stay files of their own.
#[test]
fn a_file_given_twice_is_read_once() {
    let dir = tempdir();
    let d = dir.path();
    std::fs::create_dir(d.join("feed")).unwrap();
    std::fs::write(d.join("feed/a.jsonl"), crate::util::numbered_records(20)).unwrap();
    std::os::unix::fs::symlink("feed/a.jsonl", d.join("link.jsonl")).unwrap();
    for (args, said) in [
        (
            &["feed/a.jsonl", "feed/a.jsonl"][..],
            "feed/a.jsonl is given twice: read once",
        ),
        (&["feed", "feed/a.jsonl"], "feed/a.jsonl is given twice"),
        (&["feed", "feed"], "feed/a.jsonl is given twice"),
        (
            &["feed", "link.jsonl"],
            "link.jsonl is the same file as feed/a.jsonl: read once",
        ),
    ] {
        let check = [&["check", "--max-dup-docs", "0", "--json"][..], args].concat();
        let out = run(d, &check);
        assert_eq!(out.code, 0, "{args:?}: {out:?}");
        assert!(
            out.stderr.contains(&format!("neardup: warning: {said}")),
            "{args:?}: {out:?}"
        );
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(report["summary"]["documents"], 20, "{args:?}: {out:?}");
        let quiet = run(d, &[&["check", "-q"][..], args].concat());
        assert_eq!((quiet.code, quiet.stderr.as_str()), (0, ""), "{args:?}");
    }
    run_ok(d, &["clean", "feed", "feed/a.jsonl", "--out-dir", "od"]);
    assert_eq!(
        std::fs::read(d.join("od/a.jsonl")).unwrap(),
        std::fs::read(d.join("feed/a.jsonl")).unwrap()
    );
    // A link beside the batch it names, in one walk, sorted before it or
    // after it: the file itself is read.
    std::os::unix::fs::symlink("a.jsonl", d.join("feed/latest.jsonl")).unwrap();
    std::os::unix::fs::symlink("a.jsonl", d.join("feed/0.jsonl")).unwrap();
    let out = run_ok(d, &["check", "--max-dup-docs", "0", "--json", "feed"]);
    assert_says(&out, "neardup: warning: 2 files are reached twice (feed/0.jsonl is the same file as feed/a.jsonl, ...): each read once");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        crate::util::input_paths(&report),
        ["feed/a.jsonl"],
        "{out:?}"
    );
    std::fs::remove_file(d.join("feed/latest.jsonl")).unwrap();
    std::fs::remove_file(d.join("feed/0.jsonl")).unwrap();
    std::fs::hard_link(d.join("feed/a.jsonl"), d.join("feed/b.jsonl")).unwrap();
    let out = run(d, &["check", "feed"]);
    assert_eq!(out.code, 1, "b.jsonl repeats a.jsonl: {out:?}");
    assert!(!out.stderr.contains("warning"), "{out:?}");
}

/// Standard input redirected from a file also named (`neardup clean -
/// a.jsonl < a.jsonl`) is that file reached twice: read once, where first
/// given, with a warning, whole and in chunks, to `--out-dir` and to `-o`
/// (read twice, each of its records was dropped as a copy of itself, and
/// `--out-dir` wrote its file empty).
#[test]
fn standard_input_from_a_file_also_named_is_read_once() {
    let dir = tempdir();
    let d = dir.path();
    let records = crate::util::numbered_records(20);
    std::fs::write(d.join("a.jsonl"), &records).unwrap();
    let from_a = |args: &[&str]| {
        let stdin = std::fs::File::open(d.join("a.jsonl")).unwrap();
        let out = crate::util::command(d, args).stdin(stdin).output().unwrap();
        let out = crate::util::Output::from(out);
        assert_eq!(out.code, 0, "{args:?}: {out:?}");
        out
    };
    let later = "neardup: warning: a.jsonl is the same file as standard input (-): read once";
    let earlier = "neardup: warning: standard input (-) is the same file as a.jsonl: read once";
    let out = from_a(&["clean", "-", "a.jsonl", "--out-dir", "od"]);
    assert_says(&out, later);
    assert_eq!(tree(&d.join("od")), [("stdin".to_owned(), records.clone())]);
    for chunks in [&[][..], &["--memory-limit", "64K"]] {
        for (args, said) in [
            (&["clean", "-", "a.jsonl", "-o", "o.jsonl"][..], later),
            (&["clean", "a.jsonl", "-", "-o", "o.jsonl"], earlier),
        ] {
            let out = from_a(&[args, chunks].concat());
            assert_says(&out, said);
            assert_eq!(
                std::fs::read(d.join("o.jsonl")).unwrap(),
                records,
                "{args:?}"
            );
        }
    }
    let out = from_a(&["check", "--max-dup-docs", "0", "--json", "-", "a.jsonl"]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["summary"]["documents"], 20, "{out:?}");
    // From a pipe, standard input is another stream: both are read.
    let piped = crate::util::run_with_stdin(d, &["check", "-", "a.jsonl"], Some(&records));
    assert_eq!(piped.code, 1, "{piped:?}");
}

/// A right-to-left override (U+202E) in a file name or an id reorders what
/// a terminal or a GitHub annotation draws after it (`a\u{202e}txt.exe`
/// reads `aexe.txt`): the text report, `check`'s annotations and `-v` show
/// it, and the other bidirectional controls, escaped as control characters
/// are (session 29's hostile pass: they were written raw).
#[test]
fn bidirectional_controls_in_names_and_ids_are_shown_escaped() {
    let dir = tempdir();
    let d = dir.path();
    let text = "the quick brown fox jumps over the lazy dog again and again today";
    let records = ["doc\u{202e}fdp.exe", "b\u{2066}x\u{2069}"]
        .iter()
        .map(|id| serde_json::json!({"id": id, "text": text}).to_string() + "\n")
        .collect::<String>();
    let name = "in\u{202e}lnosj.jsonl";
    std::fs::write(d.join(name), records).unwrap();
    for args in [
        &["scan", "-v", name][..],
        &["check", "--output-format", "github", name][..],
        &["check", name][..],
    ] {
        let out = run(d, args);
        assert!(out.code == 0 || out.code == 1, "{args:?}: {out:?}");
        let all = out.stdout_str() + &out.stderr;
        for c in ['\u{202e}', '\u{2066}', '\u{2069}'] {
            assert!(!all.contains(c), "{args:?}: {c:?} raw in {all}");
        }
        assert!(all.contains(r"in\u{202e}lnosj.jsonl"), "{args:?}: {all}");
    }
    let out = run(d, &["scan", name]);
    assert!(
        out.stdout_str().contains(r"b\u{2066}x\u{2069}"),
        "{}",
        out.stdout_str()
    );
}

/// The same under `--out-dir`, whose file for the input is a FIFO (written
/// in place): the write's EFAULT was told as `od: od/big.jsonl: Bad address
/// (os error 14)`, naming the output (the directory's writer wrapped the OS
/// error in a message, so it was no longer known as a fault).
#[test]
fn an_input_cut_short_while_written_into_an_out_dir_is_named() {
    let text = crate::util::numbered_records(40_000);
    for mode in [&[][..], &["--memory-limit", "1M", "--tmp-dir", "."]] {
        let dir = tempdir();
        let d = dir.path();
        std::fs::write(d.join("big.jsonl"), &text).unwrap();
        std::fs::create_dir(d.join("od")).unwrap();
        let fifo = d.join("od/big.jsonl");
        crate::util::mkfifo(&fifo);
        cut_short_into(d, mode, &["--out-dir", "od"], &fifo, &text);
    }
}

/// A FIFO `-o` whose reader leaves before the run is done (`--index X
/// --update`): exit 0, as for a closed standard output, the index not
/// updated, and the message names the FIFO (it said "standard output was
/// closed" though standard output was never written).
#[test]
fn a_fifo_output_whose_reader_leaves_is_named_and_the_index_kept() {
    use std::io::Read as _;
    use std::process::{Command, Stdio};
    let text = crate::util::numbered_records(40_000);
    for mode in [&[][..], &["--memory-limit", "1M", "--tmp-dir", "."]] {
        let dir = tempdir();
        let d = dir.path();
        std::fs::write(d.join("big.jsonl"), &text).unwrap();
        crate::util::write_two_copies(&d.join("seen.jsonl"));
        run_ok(d, &["index", "build", "-q", "-o", "seen.ndx", "seen.jsonl"]);
        let before = tree(d);
        crate::util::mkfifo(&d.join("o.fifo"));
        let child = Command::new(env!("CARGO_BIN_EXE_neardup"))
            .current_dir(d)
            .args(["clean"])
            .args(mode)
            .args([
                "big.jsonl",
                "-o",
                "o.fifo",
                "--index",
                "seen.ndx",
                "--update",
            ])
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut reader = std::fs::File::open(d.join("o.fifo")).unwrap();
        let mut first = [0u8; 100];
        reader.read_exact(&mut first).unwrap();
        drop(reader);
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{mode:?}: {stderr}");
        assert!(
            stderr.contains(
                "neardup: o.fifo was closed before the run was complete: the index was not updated"
            ),
            "{mode:?}: {stderr}"
        );
        assert!(!stderr.contains("standard output"), "{mode:?}: {stderr}");
        std::fs::remove_file(d.join("o.fifo")).unwrap();
        assert_eq!(tree(d), before, "{mode:?}");
    }
}

/// In `d`: two copies of a record (`in.jsonl`), three records
/// (`other.jsonl`), indexes of each named as dead runs' files
/// (`dead_reference`, `dead_index`), a copy of `in.jsonl` as `dead_input`
/// and as `.neardup-old.tmp`, and `link.jsonl` naming `dead_input`.
fn files_named_as_dead_runs(d: &Path, dead_input: &str, dead_reference: &str, dead_index: &str) {
    crate::util::write_two_copies(&d.join("in.jsonl"));
    std::fs::write(d.join("other.jsonl"), crate::util::numbered_records(3)).unwrap();
    // Made under ordinary names (a run sweeps the directory it writes
    // into), then named as a dead run's files.
    for (input, index) in [("in.jsonl", "ref.ndx"), ("other.jsonl", "other.ndx")] {
        run_ok(d, &["index", "build", "-q", "-o", index, input]);
    }
    std::fs::rename(d.join("ref.ndx"), d.join(dead_reference)).unwrap();
    std::fs::rename(d.join("other.ndx"), d.join(dead_index)).unwrap();
    std::fs::copy(d.join("in.jsonl"), d.join(dead_input)).unwrap();
    std::fs::copy(d.join("in.jsonl"), d.join(".neardup-old.tmp")).unwrap();
    std::os::unix::fs::symlink(dead_input, d.join("link.jsonl")).unwrap();
}

/// How many documents the index `name` in `d` holds.
fn documents(d: &Path, name: &str) -> u64 {
    let out = run(d, &["index", "stats", "--json", name]);
    assert_eq!(out.code, 0, "{name}: {out:?}");
    let stats: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    stats["documents"].as_u64().unwrap()
}

/// A file a run reads is never removed as a dead run's temporary file,
/// whatever its name: an input, a `--reference` or an `--index` named
/// `.neardup-PID-XXXXXX.tmp` (PID long gone) were deleted by the sweep of
/// the directory the run wrote into (the input before it was read, the
/// reference after a `clean` that must never change it). A name that only
/// looks like one (`.neardup-old.tmp`: no six-character random part, as
/// every version's temporary files have) is no temporary file at all.
#[test]
fn files_a_run_reads_are_never_swept_as_temporary_files() {
    let dead_input = ".neardup-4194399-5-a1b2c3.tmp";
    let dead_reference = ".neardup-4194399-abcdef.tmp";
    let dead_index = ".neardup-index-4194399-7-d4e5f6.tmp";
    for (args, reads) in [
        (
            &[
                "clean", "-q", "--format", "jsonl", dead_input, "-o", "o.jsonl",
            ][..],
            &[dead_input][..],
        ),
        (
            &["clean", "-q", "link.jsonl", "-o", "o.jsonl"],
            &[dead_input],
        ),
        (
            &[
                "clean",
                "-q",
                "--format",
                "jsonl",
                ".neardup-old.tmp",
                "-o",
                "o.jsonl",
            ],
            &[".neardup-old.tmp"],
        ),
        (
            &[
                "clean",
                "-q",
                "--reference",
                dead_reference,
                "in.jsonl",
                "-o",
                "o.jsonl",
            ],
            &[dead_reference],
        ),
        (
            &[
                "scan",
                "-q",
                "--index",
                dead_index,
                "--update",
                "other.jsonl",
            ],
            &[],
        ),
        (
            &[
                "index",
                "merge",
                "-q",
                dead_reference,
                dead_index,
                "-o",
                "m.ndx",
            ],
            &[dead_reference, dead_index],
        ),
    ] {
        let dir = tempdir();
        let d = dir.path();
        files_named_as_dead_runs(d, dead_input, dead_reference, dead_index);
        let held = documents(d, dead_index);
        let kept: Vec<&str> = reads.iter().copied().chain([".neardup-old.tmp"]).collect();
        let read = || {
            kept.iter()
                .map(|n| std::fs::read(d.join(n)).ok())
                .collect::<Vec<_>>()
        };
        let before = read();
        let out = run(d, args);
        assert_eq!(out.code, 0, "{args:?}: {out:?}");
        assert!(before.iter().all(Option::is_some));
        assert!(
            read() == before,
            "{args:?} removed or changed one of {kept:?}"
        );
        if args.contains(&"--update") {
            assert_eq!(
                documents(d, dead_index),
                held + 3,
                "{args:?}: the index updated"
            );
        }
    }
    // A file of that name that no run reads is still swept.
    let dir = tempdir();
    let d = dir.path();
    crate::util::write_two_copies(&d.join("in.jsonl"));
    std::fs::copy(d.join("in.jsonl"), d.join(".neardup-4194398-abcdef.tmp")).unwrap();
    run_ok(d, &["clean", "-q", "in.jsonl", "-o", "o.jsonl"]);
    assert!(
        !d.join(".neardup-4194398-abcdef.tmp").exists(),
        "a dead run's file stays"
    );
}

/// A pipe end with `O_NONBLOCK` set, as a parent with an event loop leaves
/// the pipes it shares with its children.
fn non_blocking(end: impl Into<std::os::fd::OwnedFd>) -> std::fs::File {
    use std::os::fd::AsRawFd;
    let file = std::fs::File::from(end.into());
    // SAFETY: fcntl on a descriptor this test owns.
    #[allow(unsafe_code)]
    unsafe {
        let flags = libc::fcntl(file.as_raw_fd(), libc::F_GETFL);
        assert_eq!(
            libc::fcntl(file.as_raw_fd(), libc::F_SETFL, flags | libc::O_NONBLOCK),
            0
        );
    }
    file
}

/// Standard input or output that a parent left non-blocking is waited for:
/// a run read a slowly written pipe, or wrote more than a pipe holds before
/// its reader came, and stopped part way with `Resource temporarily
/// unavailable (os error 11)`, exit 2. Now the same bytes as through
/// ordinary pipes, whole and in chunks.
#[test]
fn non_blocking_standard_input_and_output_are_waited_for() {
    use std::io::{Read, Write};
    use std::process::{Command, Stdio};
    let dir = tempdir();
    let d = dir.path();
    let records = crate::util::numbered_records(20_000);
    std::fs::write(d.join("in.jsonl"), &records).unwrap();
    for limit in [&[][..], &["--memory-limit", "1M", "--tmp-dir", "."]] {
        let mut args = vec!["clean", "-q", "--format", "jsonl"];
        args.extend_from_slice(limit);
        let expected = run_ok(d, &[&args[..], &["in.jsonl"]].concat());
        assert!(expected.stdout.len() > 500_000, "more than a pipe holds");
        // Standard input written a piece at a time into a non-blocking pipe.
        let (reader, mut writer) = std::io::pipe().unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_neardup"))
            .args(&args)
            .arg("-")
            .current_dir(d)
            .env_clear()
            .stdin(Stdio::from(non_blocking(reader)))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Written from a thread of its own: a run in chunks writes output
        // before its input ends, which this thread reads meanwhile.
        let sent = records.clone();
        let feeder = std::thread::spawn(move || {
            for piece in sent.chunks(64 * 1024) {
                writer.write_all(piece).unwrap();
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
        });
        let out = child.wait_with_output().unwrap();
        feeder.join().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{limit:?} stdin: {stderr}");
        assert!(out.stdout == expected.stdout, "{limit:?}: stdin read whole");
        // Standard output a non-blocking pipe whose reader comes late.
        let (mut reader, writer) = std::io::pipe().unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_neardup"))
            .args(&args)
            .arg("in.jsonl")
            .current_dir(d)
            .env_clear()
            .stdin(Stdio::null())
            .stdout(Stdio::from(non_blocking(writer)))
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(500));
        let mut got = Vec::new();
        reader.read_to_end(&mut got).unwrap();
        let status = child.wait().unwrap();
        let mut stderr = String::new();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut stderr)
            .unwrap();
        assert_eq!(status.code(), Some(0), "{limit:?} stdout: {stderr}");
        assert!(got == expected.stdout, "{limit:?}: stdout written whole");
    }
}

/// `--help` and `--version` print to standard output; when that write
/// fails (a full disk, here a full device made with mknod) the run says so
/// and exits 2: it exited 0 having written nothing. A closed pipe (`neardup
/// --help | head -1`) and a bad argument are as before.
#[cfg(unix)]
#[test]
fn help_that_cannot_be_written_is_an_error() {
    use std::process::{Command, Stdio};
    let dir = tempdir();
    let d = dir.path();
    for (name, minor) in [("full", 7), ("null", 3)] {
        crate::util::mknod(&d.join(name), minor);
    }
    for args in [
        &["--help"][..],
        &["--version"],
        &["clean", "--help"],
        &["help"],
    ] {
        for (name, code) in [("full", 2), ("null", 0)] {
            let out = Command::new(env!("CARGO_BIN_EXE_neardup"))
                .args(args)
                .stdout(Stdio::from(
                    std::fs::OpenOptions::new()
                        .write(true)
                        .open(d.join(name))
                        .unwrap(),
                ))
                .stderr(Stdio::piped())
                .output()
                .unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(code), "{args:?} > {name}: {stderr}");
            if code == 2 {
                assert!(
                    stderr.contains("neardup: writing the help: No space left on device"),
                    "{args:?}: {stderr}"
                );
            }
        }
    }
    let out = run_exit(d, 2, &["scan", "--no-such-flag"]);
    assert_says(&out, "--no-such-flag");
}

/// A signal that comes while a run renames its staged outputs into place
/// (an `--out-dir` of thousands of files takes a while) waits for the last
/// rename, and the run finishes (exit 0): the tree is then all new, never
/// part new and part old as it was (SIGTERM just after the first file
/// changed left 7 to 26 of 20,000 new, exit 143). Before the renames
/// begin, a signal leaves everything old (exit 143).
#[cfg(unix)]
#[test]
fn a_signal_while_outputs_are_renamed_leaves_all_old_or_all_new() {
    use std::process::{Command, Stdio};
    let dir = tempdir();
    let d = dir.path();
    let files = 5_000;
    std::fs::create_dir_all(d.join("in")).unwrap();
    std::fs::create_dir_all(d.join("od")).unwrap();
    for i in 0..files {
        std::fs::write(
            d.join(format!("in/f{i:05}.txt")),
            format!(
                "document {i} holds words of its own, {} and {}\n",
                i * 7,
                i % 17
            ),
        )
        .unwrap();
        std::fs::write(d.join(format!("od/f{i:05}.txt")), "old\n").unwrap();
    }
    let olds = || {
        (0..files)
            .filter(|i| std::fs::read(d.join(format!("od/f{i:05}.txt"))).unwrap() == b"old\n")
            .count()
    };
    let mut child = Command::new(env!("CARGO_BIN_EXE_neardup"))
        .args(["clean", "-q", "in", "--out-dir", "od"])
        .current_dir(d)
        .env_clear()
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The first file renamed into place: the renames have begun.
    let started = std::time::Instant::now();
    while std::fs::read(d.join("od/f00000.txt")).unwrap() == b"old\n" {
        assert!(started.elapsed().as_secs() < 120, "no rename began");
        if child.try_wait().unwrap().is_some() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_micros(200));
    }
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let old = olds();
    assert!(old == 0 || old == files, "{old} of {files} old: {stderr}");
    // Stopped before its renames, a run changed nothing; caught during
    // them, it finished (a signal just after them stops it as usual).
    let finished = out.status.code() == Some(0);
    assert!(
        (old == files && out.status.code() == Some(143))
            || (old == 0 && (finished || out.status.code() == Some(143))),
        "{:?}: {stderr}",
        out.status
    );
    let left = std::fs::read_dir(d.join("od")).unwrap().count();
    assert_eq!(left, files, "no temporary file left");
}

/// A `.zst` file whose frame checksum is wrong (a flipped bit in its last
/// byte): a whole run said `after 0 decompressed bytes`, a run in chunks
/// `after 37962` (session 43's hostile pass). Both name the frame's size,
/// from a file and from standard input.
#[test]
fn a_wrong_zstd_checksum_is_named_alike_whole_and_in_chunks() {
    let dir = tempdir();
    let d = dir.path();
    let text = crate::util::numbered_records(300);
    let mut c = zstd::bulk::Compressor::new(3).unwrap();
    c.include_checksum(true).unwrap();
    let mut packed = c.compress(&text).unwrap();
    *packed.last_mut().unwrap() ^= 1;
    std::fs::write(d.join("bad.jsonl.zst"), &packed).unwrap();
    let said = format!(
        "bad.jsonl.zst: truncated or corrupt zstd stream after {} decompressed bytes",
        text.len()
    );
    for mode in [&[][..], &["--memory-limit", "1M"]] {
        let out = run_exit(d, 2, &[&["scan", "bad.jsonl.zst"][..], mode].concat());
        assert_says(&out, &said);
        let args = [&["scan", "--format", "jsonl", "-"][..], mode].concat();
        let out = crate::util::run_with_stdin(d, &args, Some(&packed));
        assert_eq!(out.code, 2, "{out:?}");
        assert_says(&out, &said.replace("bad.jsonl.zst", "<stdin>"));
    }
}

/// An input named for a compression neardup does not read (`x.jsonl.xz`,
/// `.bz2`, a `.tar.gz` of files) is binary, and the warning said `pass
/// --text to read it anyway`, which reads the compressed bytes as one text
/// document (and `clean --out-dir` wrote them back unchanged). It now says
/// what neardup reads, and to decompress the file first.
#[test]
fn an_input_compressed_as_neardup_does_not_read_is_named_so() {
    let dir = tempdir();
    let d = dir.path();
    // The first bytes of an xz stream and of a bzip2 one, with their NULs.
    std::fs::write(
        d.join("x.jsonl.xz"),
        b"\xFD7zXZ\x00\x00\x04\xE6\xD6\xB4\x46",
    )
    .unwrap();
    std::fs::write(d.join("y.txt.bz2"), b"BZh91AY&SY\x00\x00\x01\x02").unwrap();
    // A tar of files, gzipped: read as gzip, and the tar inside is binary.
    let mut tar = b"notes.txt".to_vec();
    tar.resize(512, 0);
    std::fs::write(d.join("z.tar.gz"), crate::util::gzip(&tar)).unwrap();
    std::fs::write(d.join("plain.bin"), b"ab\x00cd").unwrap();
    for (input, said) in [
        (
            "x.jsonl.xz",
            "x.jsonl.xz: binary file (NUL byte at byte offset 5): neardup reads gzip (.gz) and \
             zstd (.zst), not xz; decompress it first",
        ),
        (
            "y.txt.bz2",
            "y.txt.bz2: binary file (NUL byte at byte offset 10): neardup reads gzip (.gz) and \
             zstd (.zst), not bzip2; decompress it first",
        ),
        (
            "z.tar.gz",
            "z.tar.gz: binary file (NUL byte at byte offset 9): neardup reads gzip (.gz) and \
             zstd (.zst), not tar archives; decompress it first",
        ),
        // A file whose name says nothing may be text: --text is offered.
        (
            "plain.bin",
            "plain.bin: binary file (NUL byte at byte offset 2); pass --text to read it anyway",
        ),
    ] {
        let out = run_exit(d, 2, &["scan", input]);
        assert_holds(&out.stderr, said);
        assert_eq!(
            input == "plain.bin",
            out.stderr.contains("--text"),
            "{out:?}"
        );
    }
}
