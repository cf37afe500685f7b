//! Bad input and faults as a user of the command line meets them: missing,
//! unreadable and malformed files, outputs that are inputs, a full disk, killed
//! runs and files that change under a run. Each error names the file (and line or
//! byte offset) and leaves existing outputs alone.

use crate::cli::seed_dir;
use crate::util::{
    assert_holds, assert_prints, assert_says, data_dir, run, run_exit, run_ok, run_with_stdin,
    tempdir, tree,
};
use serde_json::Value;
use std::path::Path;

pub(crate) fn assert_error(out: &crate::util::Output, needle: &str) {
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stdout.is_empty(), "{out:?}");
    assert!(
        out.stderr.starts_with("neardup: ") && out.stderr.contains(needle),
        "expected {needle:?} in stderr: {out:?}"
    );
}

/// Runs `clean -o out.txt` on bad input in `dir` and checks that an existing
/// output file is left alone.
fn clean_keeps_output(dir: &Path, input: &str, needle: &str) {
    let out_file = dir.join("out.txt");
    std::fs::write(&out_file, "previous output\n").unwrap();
    let out = run(dir, &["clean", "-o", "out.txt", input]);
    assert_error(&out, needle);
    assert_eq!(
        std::fs::read_to_string(&out_file).unwrap(),
        "previous output\n"
    );
}

#[test]
fn missing_file_is_an_error_naming_it() {
    let dir = tempdir();
    assert_error(
        &run(dir.path(), &["scan", "nope.txt"]),
        "nope.txt: No such file or directory",
    );
    clean_keeps_output(dir.path(), "nope.txt", "nope.txt");
}

#[test]
fn unreadable_file_is_an_error_naming_it() {
    let dir = tempdir();
    // Root reads any file whatever its mode, so use one the kernel refuses to read.
    let path = Path::new("/proc/self/mem");
    if path.exists() {
        assert_error(
            &run(dir.path(), &["scan", "--no-mmap", "/proc/self/mem"]),
            "/proc/self/mem: ",
        );
    }
    let file = dir.path().join("locked.txt");
    std::fs::write(&file, "text").unwrap();
    let is_root = std::fs::read_to_string("/proc/self/status").is_ok_and(|s| {
        s.lines()
            .any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(1) == Some("0"))
    });
    if !is_root {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o000)).unwrap();
        assert_error(
            &run(dir.path(), &["scan", "locked.txt"]),
            "locked.txt: Permission denied",
        );
    }
}

#[test]
fn invalid_utf8_in_json_lines_names_file_line_and_offset() {
    let dir = tempdir();
    std::fs::write(
        dir.path().join("bad.jsonl"),
        b"{\"text\":\"fine line\"}\n{\"text\":\"broken \xC3\x28 here\"}\n",
    )
    .unwrap();
    assert_error(
        &run(dir.path(), &["scan", "bad.jsonl"]),
        "bad.jsonl:2: invalid UTF-8 at byte offset 37",
    );
    clean_keeps_output(dir.path(), "bad.jsonl", "bad.jsonl:2");
}

#[test]
fn latin1_text_is_read_losslessly_with_a_warning() {
    // A Latin-1 page: its repeated paragraph is found (each invalid byte
    // read as one character), and the kept bytes are written back as they
    // were, whole runs and runs in chunks alike.
    let dir = tempdir();
    let para = b"Le caf\xe9 de la gare ferme ses portes apr\xe8s quarante ans de service.\n\n";
    let mut page = b"Titre\n\n".to_vec();
    page.extend_from_slice(para);
    page.extend_from_slice(b"Un autre paragraphe sans rapport avec le premier, assez long.\n\n");
    page.extend_from_slice(para);
    std::fs::write(dir.path().join("page.txt"), &page).unwrap();
    let expected = &page[..page.len() - para.len()];
    for extra in [&[][..], &["--memory-limit", "64K"][..]] {
        let mut args = vec!["clean", "page.txt"];
        args.extend_from_slice(extra);
        let out = run_ok(dir.path(), &args);
        assert_eq!(out.stdout, expected, "{out:?}");
        assert_says(
            &out,
            "warning: page.txt:3: invalid UTF-8 at byte offset 13: read as text",
        );
    }
    let out = run(dir.path(), &["scan", "--json", "page.txt"]);
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["summary"]["removed_blocks"], 1, "{out:?}");
}

#[test]
fn empty_input_is_zero_documents() {
    // A scraper's empty batch: a file or standard input with no bytes holds
    // no documents; the run passes, with empty output.
    // An empty file named as compressed holds no stream to be corrupt: no
    // documents either (`touch batch.jsonl.gz`).
    let dir = tempdir();
    for name in [
        "empty.txt",
        "empty.jsonl",
        "empty.jsonl.gz",
        "empty.txt.zst",
    ] {
        std::fs::write(dir.path().join(name), b"").unwrap();
    }
    for extra in [&[][..], &["--memory-limit", "64K"][..]] {
        for input in [
            "empty.txt",
            "empty.jsonl",
            "empty.jsonl.gz",
            "empty.txt.zst",
            "-",
        ] {
            let mut args = vec!["check", input];
            args.extend_from_slice(extra);
            let out = run_with_stdin(dir.path(), &args, Some(b""));
            assert_eq!(out.code, 0, "{input} {extra:?}: {out:?}");
            assert_prints(&out, "0 documents");
            let mut args = vec!["clean", input];
            args.extend_from_slice(extra);
            let out = run_with_stdin(dir.path(), &args, Some(b""));
            assert_eq!(out.code, 0, "{input} {extra:?}: {out:?}");
            assert!(out.stdout.is_empty(), "{out:?}");
        }
        let mut args = vec!["clean", "--out-dir", "out", "empty.txt", "empty.jsonl"];
        args.extend_from_slice(&["empty.jsonl.gz", "empty.txt.zst"]);
        args.extend_from_slice(extra);
        run_ok(dir.path(), &args);
        for name in ["empty.txt", "empty.jsonl"] {
            assert_eq!(
                std::fs::read(dir.path().join("out").join(name)).unwrap(),
                b""
            );
        }
        // Compressed as its input is: a valid stream of nothing.
        let gz = std::fs::read(dir.path().join("out/empty.jsonl.gz")).unwrap();
        let mut text = String::new();
        std::io::Read::read_to_string(&mut flate2::read::MultiGzDecoder::new(&gz[..]), &mut text)
            .unwrap();
        assert_eq!(text, "");
        std::fs::remove_dir_all(dir.path().join("out")).unwrap();
    }
}

#[test]
fn a_run_whose_every_input_was_skipped_fails() {
    // Only binary files: nothing was read, so nothing passed.
    let dir = tempdir();
    std::fs::create_dir(dir.path().join("batch")).unwrap();
    std::fs::write(dir.path().join("batch/a.bin"), b"\x89PNG\0\0").unwrap();
    std::fs::write(dir.path().join("batch/b.bin"), b"\0\x01").unwrap();
    for extra in [&[][..], &["--memory-limit", "64K"][..]] {
        let mut args = vec!["check", "batch"];
        args.extend_from_slice(extra);
        let out = run_exit(dir.path(), 2, &args);
        assert_says(&out, "nothing to read: every input was skipped (2 inputs)");
        // Saying why: no report lists the skipped inputs, and -q or not,
        // no warning has said it yet.
        for why in [
            "batch/a.bin: binary file (NUL byte at byte offset 4)",
            "batch/b.bin: binary file (NUL byte at byte offset 0)",
        ] {
            assert_says(&out, why);
        }
        let mut quiet = vec!["scan", "-q", "batch/b.bin"];
        quiet.extend_from_slice(extra);
        let out = run_exit(dir.path(), 2, &quiet);
        assert_says(&out, "(1 input): batch/b.bin: binary file");
        let mut args = vec!["clean", "-o", "out.txt", "--on-error", "skip", "batch"];
        args.extend_from_slice(extra);
        run_exit(dir.path(), 2, &args);
        assert!(!dir.path().join("out.txt").exists());
    }
    // One readable input among them is a run.
    std::fs::write(dir.path().join("batch/c.txt"), b"hello\n").unwrap();
    assert_eq!(run(dir.path(), &["check", "batch"]).code, 0);
}

#[test]
fn json_lines_are_found_by_content() {
    // HF `to_json` writes JSON Lines to `.json`; dolma to `.json.gz`; a pipe
    // has no name. Each is read as records, whole or in chunks.
    let dir = tempdir();
    let records = "\u{feff}{\"id\":\"a\",\"text\":\"The council approved the new budget for the city schools on Monday night.\"}\n\
                   {\"id\":\"b\",\"text\":\"The council approved the new budget for the city schools on Monday night.\"}\n\
                   {\"id\":\"c\",\"text\":\"A different story about the weather, with rain expected all week long.\"}\n";
    std::fs::write(dir.path().join("d.json"), records).unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut gz, records.as_bytes()).unwrap();
    let gz = gz.finish().unwrap();
    std::fs::create_dir(dir.path().join("documents")).unwrap();
    std::fs::write(dir.path().join("documents/part-0.json.gz"), &gz).unwrap();
    let piped_text: &[u8] = records.as_bytes();
    for extra in [&[][..], &["--memory-limit", "64K"][..]] {
        for (input, stdin) in [
            ("d.json", None),
            ("documents", None),
            ("-", Some(piped_text)),
            ("-", Some(&gz[..])),
        ] {
            let mut args = vec!["scan", "--json", "-v", input];
            args.extend_from_slice(extra);
            let out = run_with_stdin(dir.path(), &args, stdin);
            assert_eq!(out.code, 0, "{input}: {out:?}");
            let report: Value = serde_json::from_slice(&out.stdout).unwrap();
            assert_eq!(report["summary"]["documents"], 3, "{input} {extra:?}");
            assert_eq!(report["summary"]["dropped_documents"], 1, "{input}");
            assert_eq!(report["inputs"][0]["format"], "jsonl", "{input}");
            assert_says(&out, " as JSON Lines");
        }
        // --format text reads the file as one document.
        let mut args = vec!["scan", "--json", "--format", "text", "d.json"];
        args.extend_from_slice(extra);
        let out = run(dir.path(), &args);
        let report: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(report["summary"]["documents"], 1, "{out:?}");
        assert_eq!(report["inputs"][0]["format"], "text");
    }
    // Cleaned, a `.json` stays JSON Lines on standard output.
    let out = run_ok(dir.path(), &["clean", "d.json"]);
    assert_eq!(out.stdout_str().lines().count(), 2, "{out:?}");
    // Text whose first line is not one JSON object stays text.
    std::fs::write(
        dir.path().join("wiki.txt"),
        "{{Infobox city\n| name = X\n}}\n",
    )
    .unwrap();
    let out = run(dir.path(), &["scan", "--json", "wiki.txt"]);
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["inputs"][0]["format"], "text", "{out:?}");
}

#[test]
fn malformed_json_line_names_file_and_line() {
    let dir = tempdir();
    std::fs::write(
        dir.path().join("docs.jsonl"),
        "{\"id\":1,\"text\":\"fine\"}\n{\"id\":2,\"text\":\"broken}\n",
    )
    .unwrap();
    assert_error(
        &run(dir.path(), &["scan", "docs.jsonl"]),
        "docs.jsonl:2: invalid JSON at column 23: EOF while parsing a string",
    );
    clean_keeps_output(dir.path(), "docs.jsonl", "docs.jsonl:2");
    std::fs::write(dir.path().join("docs.jsonl"), "{\"id\":1,\"body\":\"x\"}\n").unwrap();
    assert_error(
        &run(dir.path(), &["scan", "docs.jsonl"]),
        "docs.jsonl:1: record has no \"text\" field",
    );
    std::fs::write(dir.path().join("docs.jsonl"), "{\"text\":[\"x\"]}\n").unwrap();
    assert_error(
        &run(dir.path(), &["scan", "docs.jsonl"]),
        "docs.jsonl:1: field \"text\" is an array, not a string",
    );
}

/// A NUL byte in a JSON Lines record (a binary file named `.jsonl`, or the
/// zeros a crash or a preallocation leaves at a file's end) was told as
/// `invalid JSON at column 19: control character (\u0000-\u001F) found
/// while parsing a string`: JSON that is merely malformed. It is named as a
/// NUL byte, by its byte offset in the file (decompressed for `.gz`) and
/// the line, as the file looking binary; still exit 2, nothing written.
#[test]
fn a_nul_byte_in_json_lines_is_named_by_its_byte_offset() {
    let dir = tempdir();
    let d = dir.path();
    let first = "{\"id\":1,\"text\":\"hello world\"}\n";
    let bytes = format!("{first}{{\"id\":2,\"text\":\"hel\0lo\"}}\n");
    std::fs::write(d.join("nul.jsonl"), &bytes).unwrap();
    std::fs::write(d.join("nul.jsonl.gz"), crate::util::gzip(bytes.as_bytes())).unwrap();
    // A record cut short by zeros to the file's end.
    let zeros = format!("{first}{{\"id\":2,\"text\":\"cut{}", "\0".repeat(70_000));
    std::fs::write(d.join("zeros.jsonl"), zeros).unwrap();
    // Named `.json`, told JSON Lines by its first line.
    std::fs::write(d.join("first.json"), "{\"text\":\"a\0b\"}\n").unwrap();
    let said = "the file looks binary";
    for (args, needle) in [
        (
            &["scan", "nul.jsonl"][..],
            "nul.jsonl:2: a NUL byte at byte offset 49 (column 20): ",
        ),
        (
            &["scan", "--on-error", "skip", "nul.jsonl"],
            "nul.jsonl:2: a NUL byte at byte offset 49",
        ),
        (
            &["scan", "--memory-limit", "64K", "nul.jsonl"],
            "nul.jsonl:2: a NUL byte at byte offset 49",
        ),
        (
            &["scan", "nul.jsonl.gz"],
            "nul.jsonl.gz:2: a NUL byte at decompressed byte offset 49",
        ),
        (
            &["scan", "zeros.jsonl"],
            "zeros.jsonl:2: a NUL byte at byte offset 49 (column 20): ",
        ),
        (
            &["scan", "--no-mmap", "zeros.jsonl"],
            "zeros.jsonl:2: a NUL byte at byte offset 49",
        ),
        (
            &["scan", "first.json"],
            "first.json:1: a NUL byte at byte offset 10 (column 11): ",
        ),
    ] {
        let out = run(d, args);
        if args.contains(&"skip") {
            assert_eq!(out.code, 0, "{out:?}");
            assert_says(&out, &format!("warning: skipped {needle}"));
        } else {
            assert_error(&out, needle);
        }
        assert_says(&out, said);
        assert!(!out.stderr.contains("invalid JSON"), "{args:?}: {out:?}");
    }
    let out = run_with_stdin(
        d,
        &["scan", "--format", "jsonl", "-"],
        Some(bytes.as_bytes()),
    );
    assert_error(&out, "<stdin>:2: a NUL byte at byte offset 49");
    clean_keeps_output(d, "nul.jsonl", "nul.jsonl:2: a NUL byte at byte offset 49");
}

#[test]
fn every_bad_input_is_reported_not_just_the_first() {
    let dir = tempdir();
    std::fs::write(dir.path().join("good.txt"), "fine\n").unwrap();
    std::fs::write(dir.path().join("u16.txt"), b"\xff\xfeh\0i\0").unwrap();
    std::fs::write(dir.path().join("bad.jsonl"), "{\"text\": 1}\n").unwrap();
    let out = run(
        dir.path(),
        &["scan", "missing.txt", "good.txt", "u16.txt", "bad.jsonl"],
    );
    assert_error(&out, "missing.txt");
    let lines: Vec<&str> = out.stderr.lines().collect();
    assert_eq!(lines.len(), 3, "{out:?}");
    assert!(
        lines[1].contains("u16.txt") && lines[2].contains("bad.jsonl:1"),
        "{out:?}"
    );
}

#[test]
fn output_that_is_an_input_is_refused() {
    let dir = tempdir();
    let text = "same line with enough words to be judged here\nsame line with enough words to be judged here\n";
    std::fs::write(dir.path().join("a.txt"), text).unwrap();
    let out = run(dir.path(), &["clean", "-o", "./a.txt", "a.txt"]);
    assert_error(&out, "./a.txt (-o) is also a.txt (input)");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("a.txt")).unwrap(),
        text
    );
    let out = run(dir.path(), &["clean", "--out-dir", ".", "a.txt"]);
    assert_error(&out, "refusing to overwrite it");
}

#[test]
fn several_text_files_need_an_out_dir() {
    let out = run(&data_dir().join("syndication"), &["clean", "wire"]);
    assert_error(&out, "use --out-dir DIR");
}

#[test]
fn clean_writes_no_temporary_files_next_to_the_output() {
    let dir = tempdir();
    run_ok(
        &seed_dir(),
        &[
            "clean",
            "-o",
            dir.path().join("a.txt").to_str().unwrap(),
            "--report",
            dir.path().join("r.json").to_str().unwrap(),
            "--json",
            "article.txt",
        ],
    );
    let names: Vec<String> = tree(dir.path()).into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["a.txt", "r.json"]);
    let report: Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("r.json")).unwrap()).unwrap();
    assert_eq!(report["command"], "clean");
}

#[test]
fn closed_pipe_ends_quietly() {
    let dir = tempdir();
    let mut big = String::new();
    for i in 0..40_000 {
        use std::fmt::Write as _;
        let _ = writeln!(big, "row {i} alpha {i} beta {i} gamma {i} delta {i} end");
    }
    std::fs::write(dir.path().join("big.txt"), &big).unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_neardup"))
        .args(["clean", "big.txt"])
        .current_dir(dir.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut first = [0u8; 16];
    std::io::Read::read_exact(&mut stdout, &mut first).unwrap();
    drop(stdout);
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_text_file_that_copies_another_is_not_written() {
    let dir = tempdir();
    let story = "A first paragraph with enough words to be a real paragraph of news.\n\n\
                 A second paragraph that is also long enough to count for something.\n";
    std::fs::create_dir(dir.path().join("in")).unwrap();
    std::fs::write(dir.path().join("in/a.txt"), story).unwrap();
    std::fs::write(dir.path().join("in/b.txt"), story.replace("first", "First")).unwrap();
    std::fs::write(
        dir.path().join("in/c.txt"),
        "Something else entirely, unrelated.\n",
    )
    .unwrap();
    run_ok(
        dir.path(),
        &["clean", "--out-dir", "out", "--report", "report.txt", "in"],
    );
    let names: Vec<String> = tree(&dir.path().join("out"))
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    assert_eq!(names, ["a.txt", "c.txt"]);
    let report = std::fs::read_to_string(dir.path().join("report.txt")).unwrap();
    assert!(
        report.contains("keeps in/a.txt; drops in/b.txt (1.00)"),
        "{report}"
    );
    // At the block level alone, b.txt is written without its repeated paragraphs.
    run_ok(
        dir.path(),
        &["clean", "--level", "blocks", "--out-dir", "out2", "in"],
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("out2/b.txt")).unwrap(),
        ""
    );
}

#[test]
fn utf16_is_refused_by_name() {
    let dir = tempdir();
    let mut bytes = vec![0xFF, 0xFE];
    for unit in "hello".encode_utf16() {
        bytes.extend_from_slice(&unit.to_le_bytes());
    }
    std::fs::write(dir.path().join("u16.txt"), bytes).unwrap();
    assert_error(
        &run(dir.path(), &["scan", "u16.txt"]),
        "u16.txt: UTF-16 text (little-endian byte-order mark)",
    );
    // From standard input too, read whole or in chunks, as text or JSON
    // Lines: by its mark, not as a binary file at the first NUL byte past
    // the first read (a read of 32 or 4 bytes).
    let long = "some words of a document that is longer than a first read\n";
    let jsonl = "{\"id\": \"a\", \"text\": \"some words of a document\"}\n";
    for text in [long, jsonl] {
        let mut bytes = vec![0xFF, 0xFE];
        for unit in text.encode_utf16() {
            bytes.extend_from_slice(&unit.to_le_bytes());
        }
        for limit in [&[][..], &["--memory-limit", "64K"]] {
            let args = [&["scan"][..], limit, &["-"]].concat();
            assert_error(
                &run_with_stdin(dir.path(), &args, Some(&bytes)),
                "<stdin>: UTF-16 text (little-endian byte-order mark) is not supported",
            );
        }
    }
    // UTF-32's little-endian mark starts as UTF-16's does; its big-endian
    // one starts with NUL bytes. Each is named for what it is, read whole,
    // compressed or from standard input.
    for (name, mark, endian) in [
        ("le32.txt", [0xFF, 0xFE, 0, 0], "little-endian"),
        ("be32.txt", [0, 0, 0xFE, 0xFF], "big-endian"),
    ] {
        let mut bytes = mark.to_vec();
        for c in "hello".chars() {
            let unit = c as u32;
            bytes.extend_from_slice(&if endian == "little-endian" {
                unit.to_le_bytes()
            } else {
                unit.to_be_bytes()
            });
        }
        std::fs::write(dir.path().join(name), &bytes).unwrap();
        std::fs::write(
            dir.path().join(format!("{name}.gz")),
            crate::util::gzip(&bytes),
        )
        .unwrap();
        let said = format!("UTF-32 text ({endian} byte-order mark) is not supported");
        assert_error(
            &run(dir.path(), &["scan", name]),
            &format!("{name}: {said}"),
        );
        let gz = format!("{name}.gz");
        assert_error(&run(dir.path(), &["scan", &gz]), &format!("{gz}: {said}"));
        let out = run_with_stdin(dir.path(), &["scan", "-"], Some(&bytes));
        assert_error(&out, &said);
    }
}

/// A file that `auto` reads by its content, whose first line holds a JSON
/// object and more (a comment after it, two objects run together), is
/// named as a JSON Lines record would be, by line and column: it was called
/// pretty-printed JSON (`jq -c .`), which nothing in it is. Exit 2, whole
/// and in chunks, nothing written; JSON spread over lines keeps its hint.
#[test]
fn a_first_line_with_an_object_and_more_is_named_as_invalid_json() {
    let dir = tempdir();
    let d = dir.path();
    std::fs::write(d.join("cm.txt"), "{\"text\":\"alpha beta\"} // comment\n").unwrap();
    std::fs::write(d.join("two.md"), "\n{\"text\":\"a b\"}{\"text\":\"c d\"}\n").unwrap();
    std::fs::write(d.join("pp.json"), "{\"text\": \"a b\",\n \"id\": 1}\n").unwrap();
    let text = "(pass --format text to clean it as plain text)";
    for limit in [&[][..], &["--memory-limit", "64K"]] {
        for (name, said) in [
            (
                "cm.txt",
                format!("cm.txt:1: invalid JSON at column 23: trailing characters {text}"),
            ),
            (
                "two.md",
                format!("two.md:2: invalid JSON at column 15: trailing characters {text}"),
            ),
            (
                "pp.json",
                "pp.json:1: pretty-printed JSON, not JSON Lines".to_owned(),
            ),
        ] {
            let args = [&["clean", "-o", "out.txt", name][..], limit].concat();
            let out = run(d, &args);
            assert_error(&out, &said);
            assert!(
                !out.stderr.contains("pretty") || name == "pp.json",
                "{out:?}"
            );
            assert!(!d.join("out.txt").exists(), "{args:?}");
        }
    }
    // As JSON Lines, the same words.
    let out = run(d, &["scan", "--format", "jsonl", "cm.txt"]);
    assert_error(
        &out,
        "cm.txt:1: invalid JSON at column 23: trailing characters",
    );
}

#[test]
fn a_dangling_link_beside_records_is_named_not_counted_as_text() {
    // A tree of JSON Lines and a dangling `.txt` link, cleaned to one
    // output: the link is the input that cannot be read (exit 2 naming it,
    // or skipped under --on-error skip), not a text file to run together.
    let dir = tempdir();
    let tree = dir.path().join("t");
    std::fs::create_dir(&tree).unwrap();
    let record = "{\"id\": \"a\", \"text\": \"one two three four five six seven eight\"}\n";
    std::fs::write(tree.join("a.jsonl"), record).unwrap();
    std::os::unix::fs::symlink("gone.txt", tree.join("z.txt")).unwrap();
    for limit in [&[][..], &["--memory-limit", "64K"]] {
        let args = [&["clean", "-q", "t", "-o", "out.jsonl"][..], limit].concat();
        assert_error(
            &run(dir.path(), &args),
            "t/z.txt: No such file or directory",
        );
        assert!(!dir.path().join("out.jsonl").exists());
        let args = [&args[..], &["--on-error", "skip"]].concat();
        run_ok(dir.path(), &args);
        assert_eq!(
            std::fs::read_to_string(dir.path().join("out.jsonl")).unwrap(),
            record
        );
        std::fs::remove_file(dir.path().join("out.jsonl")).unwrap();
    }
}

/// A link to nothing reached twice (directories that overlap, or named and
/// in a directory given) is named once, as a file reached twice is read
/// once: every failure is reported, each once, whole and in chunks.
#[test]
fn a_dangling_link_reached_twice_is_named_once() {
    let dir = tempdir();
    let d = dir.path();
    std::fs::create_dir_all(d.join("d/x")).unwrap();
    let text = "alpha beta gamma delta epsilon zeta eta theta iota.\n";
    std::fs::write(d.join("d/x/a.txt"), text).unwrap();
    std::os::unix::fs::symlink("nowhere", d.join("d/x/dangling")).unwrap();
    let said = "d/x/dangling: No such file or directory";
    for paths in [
        &["d", "d/x"][..],
        &["d", "d/x/dangling"],
        &["d/x/dangling", "d"],
    ] {
        for limit in [&[][..], &["--memory-limit", "64K"]] {
            let args = [&["scan"][..], paths, limit].concat();
            let out = run(d, &args);
            assert_error(&out, said);
            assert_eq!(out.stderr.matches(said).count(), 1, "{args:?}: {out:?}");
        }
    }
    let out = run_ok(
        d,
        &["scan", "d", "d/x", "--on-error", "skip", "--json", "-q"],
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        report["skipped"].as_array().map(Vec::len),
        Some(1),
        "{out:?}"
    );
    assert_eq!(out.stderr, "", "{out:?}");
}

#[test]
fn directory_symlink_loops_end() {
    let dir = tempdir();
    std::fs::create_dir(dir.path().join("in")).unwrap();
    std::fs::write(dir.path().join("in/a.txt"), "some text here for a block\n").unwrap();
    std::os::unix::fs::symlink("..", dir.path().join("in/loop")).unwrap();
    let out = run_ok(dir.path(), &["scan", "--json", "in"]);
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["inputs"].as_array().unwrap().len(), 1);
}

#[test]
fn a_full_disk_is_a_write_error() {
    if !Path::new("/dev/full").exists() {
        return;
    }
    let full = std::fs::File::create("/dev/full").unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_neardup"))
        .args(["clean", "article.txt"])
        .current_dir(seed_dir())
        .stdout(full)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_holds(&stderr, "No space left on device");
}

#[test]
fn crlf_jsonl_records_keep_their_line_ends() {
    let dir = tempdir();
    let input = "{\"id\":1,\"text\":\"one paragraph that is long enough to be judged\\n\\none paragraph that is long enough to be judged\"}\r\n{\"id\":2,\"text\":\"x\"}\r\n";
    std::fs::write(dir.path().join("w.jsonl"), input).unwrap();
    let out = run_ok(dir.path(), &["clean", "-q", "w.jsonl"]);
    assert_eq!(
        out.stdout_str(),
        "{\"id\":1,\"text\":\"one paragraph that is long enough to be judged\\n\\n\"}\r\n{\"id\":2,\"text\":\"x\"}\r\n"
    );
}

#[test]
#[ignore = "heavy: run by .ci/run in release mode"]
fn a_100_mb_single_line_is_one_block() {
    let dir = tempdir();
    let line = "word ".repeat(20_000_000);
    std::fs::write(dir.path().join("long.txt"), &line).unwrap();
    let out = run(dir.path(), &["scan", "--json", "long.txt"]);
    assert_eq!(out.code, 0, "{:?}", out.stderr);
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["summary"]["blocks"], 1);
    assert_eq!(report["summary"]["bytes"], 100_000_000);
}

#[test]
fn a_killed_run_leaves_the_old_output_or_the_whole_new_one() {
    let dir = tempdir();
    let mut big = String::new();
    for i in 0..150_000 {
        use std::fmt::Write as _;
        let _ = writeln!(big, "{{\"id\":{i},\"text\":\"row {i} alpha {i} beta {i} gamma {i} delta {i} and some more words to write\"}}");
    }
    std::fs::write(dir.path().join("big.jsonl"), &big).unwrap();
    std::fs::write(dir.path().join("out.jsonl"), "old output\n").unwrap();
    let complete = run(
        dir.path(),
        &["clean", "-q", "--level", "blocks", "big.jsonl"],
    )
    .stdout;
    for delay_ms in [50, 150, 400] {
        std::fs::write(dir.path().join("out.jsonl"), "old output\n").unwrap();
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_neardup"))
            .args([
                "clean",
                "-q",
                "--level",
                "blocks",
                "-o",
                "out.jsonl",
                "big.jsonl",
            ])
            .current_dir(dir.path())
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        let _ = child.kill();
        let _ = child.wait();
        let now = std::fs::read(dir.path().join("out.jsonl")).unwrap();
        assert!(
            now == b"old output\n" || now == complete,
            "after {delay_ms} ms: {} bytes, neither the old nor the new output",
            now.len()
        );
    }
}

#[test]
fn a_file_that_disappears_mid_run_is_named_or_read_never_half_read() {
    let dir = tempdir();
    let corpus = dir.path().join("corpus");
    std::fs::create_dir(&corpus).unwrap();
    for i in 0..1000 {
        std::fs::write(
            corpus.join(format!("{i:05}.txt")),
            format!("Story {i} about the harbour and the ferry strike, told in a few words.\n"),
        )
        .unwrap();
    }
    // A dangling link is a file that cannot be read: named, exit 2.
    std::os::unix::fs::symlink("gone.txt", corpus.join("zz-dangling.txt")).unwrap();
    let out = run_exit(dir.path(), 2, &["scan", "-q", "corpus"]);
    assert_says(&out, "zz-dangling.txt: No such file or directory");
    std::fs::remove_file(corpus.join("zz-dangling.txt")).unwrap();
    // Files removed while the run walks and reads the tree: each run either
    // read a file before it went (an open file stays readable) or names it.
    for (delay_us, on_error) in [(0, "fail"), (2000, "fail"), (0, "skip"), (5000, "skip")] {
        let victim = corpus.join("00999.txt");
        std::fs::write(&victim, "the last story, written again\n").unwrap();
        let child = std::process::Command::new(env!("CARGO_BIN_EXE_neardup"))
            .args([
                "clean",
                "-q",
                "--on-error",
                on_error,
                "--out-dir",
                "out",
                "corpus",
            ])
            .current_dir(dir.path())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_micros(delay_us));
        let _ = std::fs::remove_file(&victim);
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("panicked"), "{stderr}");
        match out.status.code() {
            Some(0) => {}
            Some(2) if on_error == "fail" => {
                assert_holds(&stderr, "00999.txt: No such file or directory");
            }
            code => panic!("exit {code:?} with --on-error {on_error}: {stderr}"),
        }
        let _ = std::fs::remove_dir_all(dir.path().join("out"));
    }
}

#[test]
fn bad_records_past_the_first_thousand_lines_are_named_by_their_line() {
    use std::fmt::Write as _;
    // Records are parsed in pieces of lines on every thread: a bad record in
    // a later piece still stops the run at its own line (the first bad one),
    // and under --on-error skip every other record is kept, in order.
    let dir = tempdir();
    let mut input = String::new();
    for i in 1..=3000 {
        match i {
            1500 | 2600 => input.push_str("{\"id\": \"bad\", \"text\": oops}\n"),
            2000 => input.push('\n'),
            _ => writeln!(input, "{{\"id\": \"d{i}\", \"text\": \"record {i}\"}}").unwrap(),
        }
    }
    std::fs::write(dir.path().join("in.jsonl"), &input).unwrap();
    for threads in ["1", "2"] {
        let out = run(
            dir.path(),
            &["clean", "--threads", threads, "-o", "out.jsonl", "in.jsonl"],
        );
        assert_error(&out, "in.jsonl:1500: invalid JSON");
        assert!(!dir.path().join("out.jsonl").exists());
        let args = [
            "clean",
            "--threads",
            threads,
            "--on-error",
            "skip",
            "-o",
            "out.jsonl",
        ];
        let out = run_ok(dir.path(), &[&args[..], &["in.jsonl"]].concat());
        for line in [1500, 2600] {
            assert_says(&out, &format!("skipped in.jsonl:{line}: invalid JSON"));
        }
        // Bad records and the blank line are copied as they are; the rest
        // are unique and kept.
        let written = std::fs::read_to_string(dir.path().join("out.jsonl")).unwrap();
        assert_eq!(written, input);
        std::fs::remove_file(dir.path().join("out.jsonl")).unwrap();
    }
}

#[test]
fn too_few_open_files_for_a_run_in_chunks_is_said_as_such() {
    // A run in chunks holds a file a segment and a spool: under a low limit
    // on open files, the error says what it could not make and what to
    // raise, not `DIR: Too many open files` alone.
    let dir = tempdir();
    let mut records = String::new();
    for i in 0..600 {
        use std::fmt::Write;
        writeln!(
            records,
            "{{\"id\": \"{i}\", \"text\": \"record {i} of a batch about the harbour {} and the ferry {}\"}}",
            i * 7,
            i % 13
        )
        .unwrap();
    }
    std::fs::write(dir.path().join("in.jsonl"), records).unwrap();
    // Each limit from too few to enough: a run, or exit 2 naming the file it
    // could not open; at some limit, a temporary file, said as such.
    let mut said = false;
    for limit in 6..=16 {
        let out = crate::util::run_limited(
            dir.path(),
            &format!("ulimit -n {limit}"),
            &[
                "scan",
                "-q",
                "--memory-limit",
                "96K",
                "--tmp-dir",
                "spool",
                "in.jsonl",
            ],
        );
        let stderr = &out.stderr;
        match out.code {
            0 => {}
            2 => assert!(
                stderr.starts_with("neardup: ") && stderr.contains("Too many open files"),
                "{limit}: {stderr}"
            ),
            code => panic!("{limit}: exit {code}: {stderr}"),
        }
        if stderr.contains("cannot create a temporary file: Too many open files") {
            assert_holds(stderr, "raise it (`ulimit -n`)");
            said = true;
        }
    }
    assert!(said, "no limit ran out at a temporary file");
}

/// A directory to make (`--tmp-dir`, `--out-dir`, the parent of `-o`) where
/// something that is no directory is in the way, not seen as such by its
/// name (`in.jsonl/` with a slash, a link to nothing, a link loop, a path
/// under a file), was `File exists (os error 17)`, naming no culprit (issue
/// 14 asked for "not a directory"): now it says what is in the way, exit 2,
/// and nothing is made.
#[test]
fn what_is_in_the_way_of_a_directory_is_named() {
    use std::fmt::Write;
    let dir = tempdir();
    // Too many records to be read whole at 64K: the run spools.
    let mut records = String::new();
    for i in 0..300 {
        writeln!(
            records,
            "{{\"id\": {i}, \"text\": \"one two three four five six {i}\"}}"
        )
        .unwrap();
    }
    std::fs::write(dir.path().join("in.jsonl"), records).unwrap();
    std::os::unix::fs::symlink("nowhere", dir.path().join("dangling")).unwrap();
    std::os::unix::fs::symlink("loop", dir.path().join("loop")).unwrap();
    let names = || {
        let mut names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        names.sort();
        names
    };
    let before = names();
    let link = "a symbolic link to nothing (or to a link loop), not a directory";
    for (args, said) in [
        (
            &["--tmp-dir", "in.jsonl/"][..],
            "in.jsonl/: not a directory",
        ),
        (&["--tmp-dir", "dangling"], &format!("dangling: {link}")[..]),
        (
            &["--tmp-dir", "loop/spool"],
            &format!("loop/spool: loop is {link}"),
        ),
        (&["--out-dir", "dangling"], &format!("dangling: {link}")),
        (&["-o", "dangling/o.jsonl"], &format!("dangling: {link}")),
    ] {
        let mut all = vec!["clean", "-q", "--memory-limit", "64K"];
        all.extend_from_slice(args);
        all.push("in.jsonl");
        let out = run(dir.path(), &all);
        assert_eq!(out.code, 2, "{args:?}: {}", out.stderr);
        assert_eq!(out.stderr, format!("neardup: {said}\n"), "{args:?}");
        assert_eq!(names(), before, "{args:?}");
    }
}
