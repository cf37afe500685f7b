//! Inputs that can be read only once, named by path: a FIFO, and a pipe by
//! `/dev/fd/N` (what bash's `<(cmd)` gives). Planning a run (whether its
//! inputs fit a `--memory-limit` whole, how much memory a whole run needs,
//! each input's format, whether each can be opened) never opens one: the
//! run reads it once, and its output is what the same bytes in a regular
//! file give.

use crate::util::{assert_holds, run_ok, tempdir};
use std::process::Command;

/// The index tests' 80 documents with near copies, as JSON Lines.
fn records() -> Vec<u8> {
    crate::index::batches().concat().into_bytes()
}

#[test]
fn a_fifo_named_as_input_is_read_once_whole_and_in_chunks() {
    let dir = tempdir();
    let d = dir.path();
    let text = records();
    std::fs::write(d.join("in.jsonl"), &text).unwrap();
    std::fs::create_dir(d.join("spool")).unwrap();
    let gz = crate::util::gzip(&text);
    run_ok(d, &["clean", "-q", "in.jsonl", "-o", "expected.jsonl"]);
    let expected = std::fs::read(d.join("expected.jsonl")).unwrap();
    assert!(!expected.is_empty());
    let chunked = ["--memory-limit", "64K", "--tmp-dir", "spool"];
    // (FIFO name, its bytes, flags): plain and gzip-compressed (by name),
    // the format told by the name, by --format, and by the first line.
    let cases: [(&str, &Vec<u8>, &[&str]); 6] = [
        ("in.fifo", &text, &chunked),
        (
            "in.fifo",
            &text,
            &[
                "--memory-limit",
                "64K",
                "--tmp-dir",
                "spool",
                "--format",
                "jsonl",
            ],
        ),
        ("in.jsonl.gz", &gz, &[]),
        ("in.jsonl.gz", &gz, &chunked),
        ("in.fifo", &text, &[]),
        ("in.fifo", &text, &["--format", "jsonl"]),
    ];
    for (fifo, bytes, flags) in cases {
        let _ = std::fs::remove_file(d.join("o.jsonl"));
        let mut args = vec!["clean", "-q"];
        args.extend_from_slice(flags);
        args.extend_from_slice(&[fifo, "-o", "o.jsonl"]);
        let out = crate::util::run_with_fifo(d, fifo, bytes, &args);
        assert_eq!(out.code, 0, "{args:?}: {}", out.stderr);
        crate::util::assert_bytes_eq(
            &std::fs::read(d.join("o.jsonl")).unwrap(),
            &expected,
            &format!("{args:?}"),
        );
    }
}

#[test]
fn a_pipe_by_dev_fd_is_read_once_in_chunks() {
    // bash's `<(cat in.jsonl)`: the run reads /dev/fd/63, a pipe whose
    // writer has gone once its bytes are in; a second open reads nothing.
    let dir = tempdir();
    let d = dir.path();
    std::fs::write(d.join("in.jsonl"), records()).unwrap();
    std::fs::write(
        d.join("a.txt"),
        "one two three four five six seven\n\n".repeat(40),
    )
    .unwrap();
    std::fs::create_dir(d.join("spool")).unwrap();
    let bin = env!("CARGO_BIN_EXE_neardup");
    for (input, flags) in [
        ("in.jsonl", ""),
        ("in.jsonl", "--format jsonl"),
        ("a.txt", ""),
    ] {
        run_ok(d, &["clean", "-q", input, "-o", "expected"]);
        let script = format!(
            "exec \"$0\" clean -q --memory-limit 64K --tmp-dir spool {flags} <(cat {input}) -o o"
        );
        let out = Command::new("bash")
            .args(["-c", &script, bin])
            .current_dir(d)
            .env_clear()
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{script}: {stderr}");
        crate::util::assert_bytes_eq(
            &std::fs::read(d.join("o")).unwrap(),
            &std::fs::read(d.join("expected")).unwrap(),
            &script,
        );
    }
}

/// A standard stream closed by the shell (`>&-`, `<&-`) is not taken for
/// `/dev/null`, which Rust's runtime opens in its place before `main`: a run
/// writing its cleaned text, report or page there, or reading `-`, is
/// refused before it reads anything (exit 2), so `--update` leaves the index
/// as it was, and `check` cannot pass (0) or fail (1) unseen. A run writing
/// only to files runs as before.
#[test]
fn a_standard_stream_closed_by_the_shell_is_refused_not_taken_for_dev_null() {
    let dir = tempdir();
    let d = dir.path();
    let batches = crate::index::batches();
    std::fs::write(d.join("a.jsonl"), batches[..2].concat()).unwrap();
    std::fs::write(d.join("b.jsonl"), batches[2..].concat()).unwrap();
    run_ok(d, &["index", "build", "-q", "-o", "seen.ndx", "a.jsonl"]);
    let index = std::fs::read(d.join("seen.ndx")).unwrap();
    let bin = env!("CARGO_BIN_EXE_neardup");
    // `args` run by sh with `redirect` (the binary is $0).
    let shell = |args: &str, redirect: &str| {
        let out = Command::new("sh")
            .args(["-c", &format!("exec \"$0\" {args} {redirect}"), bin])
            .current_dir(d)
            .env_clear()
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    for mode in ["", "--memory-limit 64K --tmp-dir spool"] {
        for (args, what) in [
            (
                format!("clean -q {mode} --index seen.ndx --update b.jsonl"),
                "the cleaned text",
            ),
            (
                format!("check -q {mode} --index seen.ndx --update b.jsonl"),
                "the report",
            ),
            (
                format!("clean -q {mode} b.jsonl -o o.jsonl --html -"),
                "the HTML page",
            ),
        ] {
            let (code, stderr) = shell(&args, ">&-");
            assert_eq!(code, Some(2), "{args}: {stderr}");
            assert!(
                stderr.contains(&format!(
                    "standard output is closed (`>&-`): {what} would be lost"
                )),
                "{args}: {stderr}"
            );
            assert_eq!(std::fs::read(d.join("seen.ndx")).unwrap(), index, "{args}");
        }
        let (code, stderr) = shell(&format!("clean -q {mode} - -o o.jsonl"), "<&-");
        assert_eq!(code, Some(2), "{stderr}");
        assert_holds(&stderr, "standard input (-) is closed");
        assert!(!d.join("o.jsonl").exists());
        // Written to a file, the same run goes ahead with standard output
        // closed; to /dev/null (open), it is what the user asked for.
        let (code, stderr) = shell(&format!("clean -q {mode} b.jsonl -o o.jsonl"), ">&-");
        assert_eq!(code, Some(0), "{stderr}");
        assert!(d.join("o.jsonl").exists());
        std::fs::remove_file(d.join("o.jsonl")).unwrap();
        let (code, stderr) = shell(&format!("clean -q {mode} b.jsonl"), ">/dev/null");
        assert_eq!(code, Some(0), "{stderr}");
    }
    let (code, stderr) = shell("index stats seen.ndx", ">&-");
    assert_eq!(code, Some(2), "{stderr}");
    assert_holds(&stderr, "standard output is closed");
}

/// A FIFO named twice (`neardup clean in.fifo in.fifo`): its two readings
/// shared its one stream of bytes, opened together (records cut in two and
/// named as bad JSON, or one reading given everything and the other
/// nothing); in chunks the second open came after the writer had gone and
/// waited for ever. It is read once, with the warning a file named twice
/// gets, whole and in chunks, and cleans as the same bytes in a file do.
#[test]
fn a_fifo_named_twice_is_read_once_with_a_warning() {
    let dir = tempdir();
    let d = dir.path();
    let text = records();
    std::fs::write(d.join("in.jsonl"), &text).unwrap();
    let chunked = ["--memory-limit", "64K", "--tmp-dir", "spool"];
    let fullest = ["--keep", "fullest"];
    for flags in [&[][..], &chunked, &[&chunked[..], &fullest].concat()] {
        let mut args = vec!["clean"];
        args.extend_from_slice(flags);
        let mut expected = args.clone();
        expected.push("in.jsonl");
        let expected = crate::util::run(d, &expected);
        assert_eq!(expected.code, 0, "{expected:?}");
        args.extend_from_slice(&["in.fifo", "in.fifo"]);
        let out = crate::util::run_with_fifo(d, "in.fifo", &text, &args);
        assert_eq!(out.code, 0, "{args:?}: {}", out.stderr);
        assert_holds(&out.stderr, "warning: in.fifo is given twice: read once");
        crate::util::assert_bytes_eq(&out.stdout, &expected.stdout, &format!("{args:?}"));
    }
}

/// FIFOs, sockets and devices found by walking a directory are not read (a
/// FIFO with no writer would stop the walk for ever) and never passed over
/// unseen: each is named in a warning, and the files beside them are read.
#[test]
fn fifos_and_sockets_in_a_walked_directory_are_named_not_read() {
    let dir = tempdir();
    let tree = dir.path().join("in");
    std::fs::create_dir_all(tree.join("sub")).unwrap();
    std::fs::write(tree.join("a.txt"), "a text file with enough words in it\n").unwrap();
    std::fs::write(
        tree.join("sub/b.txt"),
        "another file with other words in it\n",
    )
    .unwrap();
    crate::util::mkfifo(&tree.join("feed.fifo"));
    let out = run_ok(dir.path(), &["scan", "--json", "in"]);
    assert_holds(
        &out.stderr,
        "warning: in/feed.fifo: a FIFO in a walked directory, not read (name it to read it)",
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        crate::util::input_paths(&report),
        ["in/a.txt", "in/sub/b.txt"]
    );
    // Several are counted, the first named; a glob that leaves them out,
    // or -q, says nothing of them.
    let _socket = std::os::unix::net::UnixListener::bind(tree.join("sub/s.sock")).unwrap();
    let out = run_ok(dir.path(), &["clean", "in", "--out-dir", "od"]);
    assert_holds(
        &out.stderr,
        "warning: 2 FIFOs, sockets or devices in walked directories are not read (in/feed.fifo: a FIFO, ...; name one to read it)",
    );
    let written = crate::util::tree(&dir.path().join("od"));
    let names: Vec<&str> = written.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(names, ["a.txt", "sub/b.txt"]);
    for args in [
        &["scan", "--glob", "**/*.txt", "in"][..],
        &["scan", "-q", "in"][..],
    ] {
        let out = run_ok(dir.path(), args);
        assert!(!out.stderr.contains("not read"), "{args:?}: {}", out.stderr);
    }
}
