//! `--memory-limit`: a corpus analysed chunk by chunk, each chunk against
//! what the chunks before it stored on disk, gives the whole run's output and
//! report byte for byte.

use crate::util::{
    assert_bytes_eq, assert_holds, assert_says, data_dir, run, run_exit, run_ok, run_with_stdin,
    tempdir,
};
use std::fmt::Write as _;

mod fullest;
mod fullest_streams;
mod segments;
mod twice;

/// The index tests' generated corpus (80 documents, 60 KB), and a limit that
/// cuts it into about fifteen chunks.
const SMALL: &str = "64K";

fn corpus(dir: &std::path::Path) {
    std::fs::write(dir.join("all.jsonl"), crate::index::batches().concat()).unwrap();
}

/// A chunked run cleaning standard input, spooled to `spool`.
const PIPED: [&str; 9] = [
    "clean",
    "-q",
    "--format",
    "jsonl",
    "--memory-limit",
    SMALL,
    "--tmp-dir",
    "spool",
    "-",
];

/// The corpus in `dir`, its bytes, and its whole run's cleaned output.
fn corpus_and_output(dir: &std::path::Path) -> (Vec<u8>, Vec<u8>) {
    corpus(dir);
    let text = std::fs::read(dir.join("all.jsonl")).unwrap();
    (text, run(dir, &["clean", "-q", "all.jsonl"]).stdout)
}

#[test]
fn chunked_runs_write_and_report_what_whole_runs_do() {
    let dir = tempdir();
    let d = dir.path();
    corpus(d);
    for args in [
        &["clean", "-q", "all.jsonl"][..],
        &["clean", "-q", "--annotate", "all.jsonl"],
        &["scan", "--json", "all.jsonl"],
        &["scan", "all.jsonl"],
        &["scan", "--json", "--level", "blocks", "all.jsonl"],
        &["scan", "--json", "--level", "docs", "all.jsonl"],
        &["check", "--json", "--max-dup-docs", "5%", "all.jsonl"],
        &["check", "--output-format", "github", "all.jsonl"],
    ] {
        let whole = run(d, args);
        assert!(whole.code == 0 || whole.code == 1, "{whole:?}");
        for threads in ["1", "2"] {
            let mut chunked = vec![args[0], "--memory-limit", SMALL, "-j", threads];
            chunked.extend_from_slice(&args[1..]);
            let out = run(d, &chunked);
            assert_eq!(out.code, whole.code, "{out:?}");
            assert_bytes_eq(
                &out.stdout,
                &whole.stdout,
                &format!("{args:?} at -j {threads}"),
            );
        }
    }
    // To a file, compressed.
    assert_eq!(
        run(d, &["clean", "-q", "-o", "whole.jsonl.gz", "all.jsonl"]).code,
        0
    );
    run_ok(
        d,
        &[
            "clean",
            "-q",
            "--memory-limit",
            SMALL,
            "-o",
            "chunked.jsonl.gz",
            "all.jsonl",
        ],
    );
    let read = |name: &str| {
        run(
            d,
            &[
                "clean",
                "-q",
                "--level",
                "blocks",
                "--min-words",
                "1000",
                name,
            ],
        )
        .stdout
    };
    assert_bytes_eq(
        &read("chunked.jsonl.gz"),
        &read("whole.jsonl.gz"),
        "gzip output",
    );
}

#[test]
fn out_dir_gets_the_whole_runs_files() {
    // A tree of JSON Lines batches (one gzipped, one a copy of another) and
    // text files that repeat each other and the batches: each output file is
    // byte for byte the whole run's, at -j 1 and 2.
    let dir = tempdir();
    let d = dir.path();
    let corpus = d.join("corpus");
    std::fs::create_dir_all(corpus.join("sub")).unwrap();
    let batches = crate::index::batches();
    std::fs::write(corpus.join("a.jsonl"), &batches[0]).unwrap();
    std::fs::write(corpus.join("sub/b.jsonl"), &batches[1]).unwrap();
    std::fs::write(
        corpus.join("sub/c.jsonl.gz"),
        crate::util::gzip(batches[2].as_bytes()),
    )
    .unwrap();
    // Every record of d.jsonl repeats one of a.jsonl: its output holds none.
    std::fs::write(corpus.join("d.jsonl"), &batches[0]).unwrap();
    let first: serde_json::Value =
        serde_json::from_str(batches[3].lines().next().unwrap()).unwrap();
    let story = first["text"].as_str().unwrap();
    std::fs::write(corpus.join("e.txt"), story).unwrap();
    std::fs::write(corpus.join("f-copy.txt"), story).unwrap();
    // g.txt is new but for one paragraph of the story, removed as a repeat.
    let shared = story.split("\n\n").next().unwrap();
    std::fs::write(
        corpus.join("g.txt"),
        format!(
            "Harbour pilots met the port authority on Monday about the new tug schedule.\n\n\
             The meeting ran past midnight and ended without an agreement on pay.\n\n{shared}\n"
        ),
    )
    .unwrap();
    run_ok(d, &["clean", "-q", "--out-dir", "whole", "corpus"]);
    let files = |root: &std::path::Path| {
        let mut out = Vec::new();
        let mut stack = vec![root.to_owned()];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                } else {
                    let name = path.strip_prefix(root).unwrap().to_owned();
                    out.push((name, std::fs::read(&path).unwrap()));
                }
            }
        }
        out.sort();
        out
    };
    let expected = files(&d.join("whole"));
    // The near-duplicate text file is not written; the others are.
    assert!(expected
        .iter()
        .all(|(name, _)| !name.ends_with("f-copy.txt")));
    assert_eq!(
        expected.len(),
        6,
        "{:?}",
        expected.iter().map(|f| &f.0).collect::<Vec<_>>()
    );
    let g_out = &expected
        .iter()
        .find(|(name, _)| name.ends_with("g.txt"))
        .unwrap()
        .1;
    assert!(g_out.len() < std::fs::read(corpus.join("g.txt")).unwrap().len());
    for threads in ["1", "2"] {
        let out_dir = format!("chunked{threads}");
        run_ok(
            d,
            &[
                "clean",
                "-q",
                "--memory-limit",
                SMALL,
                "-j",
                threads,
                "--out-dir",
                &out_dir,
                "corpus",
            ],
        );
        let got = files(&d.join(&out_dir));
        assert_eq!(
            got.iter().map(|f| &f.0).collect::<Vec<_>>(),
            expected.iter().map(|f| &f.0).collect::<Vec<_>>()
        );
        for ((name, bytes), (_, want)) in got.iter().zip(&expected) {
            assert_bytes_eq(bytes, want, &format!("{} at -j {threads}", name.display()));
        }
    }
}

#[test]
fn standard_input_and_compressed_inputs_are_spooled_not_held() {
    let dir = tempdir();
    let d = dir.path();
    let (text, whole) = corpus_and_output(d);
    let tmp = d.join("spool");
    let piped = run_with_stdin(d, &PIPED, Some(&text));
    assert_eq!(piped.code, 0, "{piped:?}");
    assert_bytes_eq(&piped.stdout, &whole, "standard input, chunked");
    // Nothing is left: the temporary directory the run made is gone too.
    assert!(
        !tmp.exists(),
        "{:?}",
        std::fs::read_dir(&tmp).map(Iterator::count)
    );
    let wire = data_dir().join("near-duplicate-docs");
    let plain = run(&wire, &["clean", "-q", "wire.jsonl"]);
    let zst = d.join("wire.jsonl.zst");
    std::fs::write(
        &zst,
        zstd::encode_all(&std::fs::read(wire.join("wire.jsonl")).unwrap()[..], 3).unwrap(),
    )
    .unwrap();
    let out = run_ok(
        d,
        &["clean", "-q", "--memory-limit", "64K", "wire.jsonl.zst"],
    );
    assert_bytes_eq(
        &out.stdout,
        &plain.stdout,
        "zstd input, spooled and chunked",
    );
}

#[test]
fn what_chunked_runs_cannot_do_yet_is_refused_by_name() {
    let dir = tempdir();
    let d = dir.path();
    corpus(d);
    for (args, message) in [
        (
            &[
                "clean",
                "--memory-limit",
                "1G",
                "--keep",
                "longest",
                "all.jsonl",
            ][..],
            "does not work with --keep",
        ),
        (
            &["scan", "--memory-limit", "lots", "all.jsonl"],
            "--memory-limit takes a size",
        ),
    ] {
        let out = run(d, args);
        assert_eq!(out.code, 2, "{args:?}: {out:?}");
        assert!(out.stderr.contains(message), "{args:?}: {out:?}");
    }
}

#[test]
fn output_starts_before_standard_input_ends() {
    // The first half of the corpus is piped in and the pipe left open: the
    // first chunks' output must arrive before the rest is written, on
    // standard output and into a FIFO named by -o (written in place, not
    // staged: a first reading of the whole input for its short documents
    // would hold it back). A run that waited for the end of its input
    // would never answer (the test gives up after two minutes), so this
    // fails rather than hangs.
    use std::io::{Read as _, Write as _};
    use std::process::{Command, Stdio};
    let dir = tempdir();
    let d = dir.path();
    let (text, whole) = corpus_and_output(d);
    let half = text.len() / 2;
    let cut = half + text[half..].iter().position(|&b| b == b'\n').unwrap() + 1;
    let fifo = d.join("out.fifo");
    crate::util::mkfifo(&fifo);
    for into_fifo in [false, true] {
        let mut args = PIPED.to_vec();
        if into_fifo {
            args.splice(args.len() - 1.., ["-o", "out.fifo", "-"]);
        }
        let mut child = Command::new(env!("CARGO_BIN_EXE_neardup"))
            .current_dir(d)
            .args(&args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (sender, received) = std::sync::mpsc::channel();
        let fifo = fifo.clone();
        let reader = std::thread::spawn(move || {
            let mut output: Box<dyn std::io::Read> = if into_fifo {
                Box::new(std::fs::File::open(fifo).unwrap())
            } else {
                Box::new(stdout)
            };
            let mut buffer = [0u8; 4096];
            loop {
                match output.read(&mut buffer) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => sender.send(buffer[..n].to_vec()).unwrap(),
                }
            }
        });
        stdin.write_all(&text[..cut]).unwrap();
        stdin.flush().unwrap();
        let first = received
            .recv_timeout(std::time::Duration::from_secs(120))
            .expect("no output while the input was still open");
        assert!(!first.is_empty());
        stdin.write_all(&text[cut..]).unwrap();
        drop(stdin);
        let mut out = first;
        reader.join().unwrap();
        out.extend(received.try_iter().flatten());
        let status = child.wait().unwrap();
        assert!(status.success(), "{status:?}");
        assert_bytes_eq(
            &out,
            &whole,
            &format!("output streamed from a pipe, {args:?}"),
        );
    }
}

#[test]
fn broken_input_gets_the_whole_runs_message() {
    // Each broken input, read from a file and from standard input: a chunked
    // run (which reads the input a piece at a time) stops with the message
    // and exit status of a whole run, and writes no output file.
    let dir = tempdir();
    let d = dir.path();
    let mut good = String::new();
    for i in 0..300 {
        use std::fmt::Write as _;
        writeln!(
            good,
            "{{\"id\":{i},\"text\":\"record {i} has a few words of its own\"}}"
        )
        .unwrap();
    }
    let mut bad_utf8 = good.clone().into_bytes();
    bad_utf8.extend_from_slice(b"{\"id\":300,\"text\":\"broken \xC3\x28 here\"}\n");
    bad_utf8.extend_from_slice(good.as_bytes());
    let bad_json = format!("{good}{{\"id\":300,\"text\":broken}}\n{good}");
    let mut utf16 = vec![0xFF, 0xFE];
    utf16.extend("{\"text\":\"x\"}".encode_utf16().flat_map(u16::to_le_bytes));
    let zst = zstd::encode_all(good.repeat(4).as_bytes(), 3).unwrap();
    let cut_zst = zst[..zst.len() * 2 / 3].to_vec();
    let cases: [(&str, Vec<u8>, &str); 4] = [
        ("utf8.jsonl", bad_utf8, ":301: invalid UTF-8 at byte offset"),
        ("json.jsonl", bad_json.into_bytes(), ":301: invalid JSON"),
        ("u16.jsonl", utf16, "UTF-16 text"),
        ("cut.jsonl.zst", cut_zst, "truncated or corrupt zstd stream"),
    ];
    for (name, bytes, message) in &cases {
        std::fs::write(d.join(name), bytes).unwrap();
        for piped in [false, true] {
            let input = if piped { "-" } else { *name };
            let stdin = piped.then_some(&bytes[..]);
            let args = |chunked: bool| {
                let mut args = vec!["clean", "--format", "jsonl", "-o", "out.jsonl"];
                if chunked {
                    args.extend(["--memory-limit", "64K"]);
                }
                args.push(input);
                args
            };
            let whole = run_with_stdin(d, &args(false), stdin);
            let chunked = run_with_stdin(d, &args(true), stdin);
            let what = format!("{name} piped: {piped}");
            assert_eq!(whole.code, 2, "{what}: {whole:?}");
            assert!(whole.stderr.contains(message), "{what}: {whole:?}");
            assert_eq!(chunked.code, 2, "{what}: {chunked:?}");
            assert_eq!(chunked.stderr, whole.stderr, "{what}");
            assert!(!d.join("out.jsonl").exists(), "{what}");
        }
    }
}

#[test]
fn a_stream_cut_short_keeps_what_came_before_with_on_error_skip() {
    // A truncated compressed input under --on-error skip: the records
    // decoded before the cut are cleaned and written (they may be out
    // already when the cut is found), no line cut short is written, and the
    // failure is a warning and listed in the report.
    let dir = tempdir();
    let d = dir.path();
    corpus(d);
    let text = std::fs::read(d.join("all.jsonl")).unwrap();
    // One zstd frame per batch of 20 records, the third frame cut in half.
    let frames: Vec<Vec<u8>> = crate::index::batches()
        .iter()
        .map(|b| zstd::encode_all(b.as_bytes(), 3).unwrap())
        .collect();
    let mut zst = frames[..2].concat();
    zst.extend_from_slice(&frames[2][..frames[2].len() / 2]);
    std::fs::write(d.join("cut.jsonl.zst"), zst).unwrap();
    let out = run_ok(
        d,
        &[
            "clean",
            "-q",
            "--on-error",
            "skip",
            "--memory-limit",
            SMALL,
            "--report",
            "report.json",
            "--json",
            "cut.jsonl.zst",
        ],
    );
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(d.join("report.json")).unwrap()).unwrap();
    let skipped = report["skipped"].as_array().unwrap();
    assert_eq!(skipped.len(), 1, "{report}");
    assert!(
        skipped[0]
            .as_str()
            .unwrap()
            .starts_with("cut.jsonl.zst: truncated or corrupt zstd stream"),
        "{skipped:?}"
    );
    // The records kept are the whole run's output of the lines decoded.
    let documents = usize::try_from(report["summary"]["documents"].as_u64().unwrap()).unwrap();
    assert!((40..60).contains(&documents), "{documents}");
    let lines: Vec<&[u8]> = text.split_inclusive(|&b| b == b'\n').collect();
    std::fs::write(d.join("prefix.jsonl"), lines[..documents].concat()).unwrap();
    let prefix = run(d, &["clean", "-q", "prefix.jsonl"]);
    assert_bytes_eq(&out.stdout, &prefix.stdout, "the decoded records, cleaned");
}

#[test]
fn a_chunked_run_shows_one_bar_for_its_input() {
    // One bar over the input's bytes for the whole run (not one per chunk),
    // on standard error only.
    let dir = tempdir();
    let d = dir.path();
    corpus(d);
    let args = |progress: &'static str| {
        vec![
            "scan",
            "--json",
            "--memory-limit",
            SMALL,
            "--progress",
            progress,
            "all.jsonl",
        ]
    };
    let with = run(d, &args("always"));
    let without = run(d, &args("never"));
    assert_eq!(with.code, 0, "{with:?}");
    assert_bytes_eq(
        &with.stdout,
        &without.stdout,
        "report with and without progress",
    );
    assert!(
        with.stderr.contains("reading") || with.stderr.contains(" docs"),
        "{with:?}"
    );
    assert!(!with.stderr.contains("sketching"), "{with:?}");
    assert!(without.stderr.is_empty(), "{without:?}");
}

#[test]
fn a_killed_chunked_run_leaves_nothing_in_its_temporary_directory() {
    // Killed mid-stream, once chunks have been stored (its first output is
    // out), a run leaves no segment or spool behind: they are unnamed files.
    use std::io::{Read as _, Write as _};
    use std::process::{Command, Stdio};
    let dir = tempdir();
    let d = dir.path();
    let (text, _) = corpus_and_output(d);
    let mut child = Command::new(env!("CARGO_BIN_EXE_neardup"))
        .current_dir(d)
        .args(PIPED)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(&text[..text.len() / 2]).unwrap();
    stdin.flush().unwrap();
    let mut first = [0u8; 1];
    child.stdout.take().unwrap().read_exact(&mut first).unwrap();
    // Chunks were analysed and stored: the spool directory exists.
    assert!(d.join("spool").is_dir());
    child.kill().unwrap();
    child.wait().unwrap();
    drop(stdin);
    let left: Vec<_> = std::fs::read_dir(d.join("spool"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn annotated_chunked_runs_mark_what_whole_runs_mark() {
    // --annotate holds a chunked run's output until every cluster is whole
    // (a record written early may become a representative): --out-dir
    // trees (one input gzipped) and a run against an index give the whole
    // run's files byte for byte.
    let dir = tempdir();
    let d = dir.path();
    let batches = crate::index::batches();
    std::fs::create_dir_all(d.join("in/sub")).unwrap();
    std::fs::write(d.join("in/a.jsonl"), &batches[0]).unwrap();
    std::fs::write(
        d.join("in/sub/b.jsonl.gz"),
        crate::util::gzip(batches[1].as_bytes()),
    )
    .unwrap();
    std::fs::write(d.join("in/sub/c.jsonl"), batches[2..].concat()).unwrap();
    std::fs::write(d.join("seen.jsonl"), &batches[1]).unwrap();
    assert_eq!(
        run(d, &["index", "build", "-o", "seen.ndx", "seen.jsonl"]).code,
        0
    );
    for extra in [&[][..], &["--index", "seen.ndx"]] {
        let mut files = Vec::new();
        for chunked in [false, true] {
            let out = if chunked { "chunked" } else { "whole" };
            let mut args = vec!["clean", "-q", "--annotate", "--out-dir", out];
            if chunked {
                args.extend(["--memory-limit", SMALL]);
            }
            args.extend(extra);
            args.push("in");
            run_ok(d, &args);
            files.push(crate::util::tree(&d.join(out)));
            std::fs::remove_dir_all(d.join(out)).unwrap();
        }
        assert_eq!(files[0].len(), 3);
        assert!(
            String::from_utf8_lossy(&files[0][2].1).contains("\"neardup_duplicate\":true"),
            "{extra:?}"
        );
        for ((name, chunked), (_, whole)) in files[1].iter().zip(&files[0]) {
            assert_bytes_eq(chunked, whole, &format!("{name} {extra:?}"));
        }
    }
}

#[test]
fn a_run_too_big_for_memory_works_in_chunks_by_itself() {
    // Without --memory-limit, a run whose inputs would not fit in the memory
    // available works in chunks (saying so), with the whole run's output.
    // NEARDUP_AVAILABLE_MEMORY stands in for a small machine.
    let dir = tempdir();
    let d = dir.path();
    let (_, whole) = corpus_and_output(d);
    let run_with = |available: &str| {
        std::process::Command::new(env!("CARGO_BIN_EXE_neardup"))
            .current_dir(d)
            .env("NEARDUP_AVAILABLE_MEMORY", available)
            .args(["clean", "-v", "all.jsonl"])
            .output()
            .unwrap()
    };
    let small = run_with("100K");
    assert!(small.status.success(), "{small:?}");
    let stderr = String::from_utf8_lossy(&small.stderr);
    // Half of 100K is below the smallest --memory-limit, which it takes.
    assert_holds(&stderr, "working in chunks, as --memory-limit 64.0K does");
    assert_holds(&stderr, " chunks: ");
    assert_bytes_eq(&small.stdout, &whole, "chunked by itself");
    // With room, a whole run.
    let roomy = run_with("1G");
    assert!(roomy.status.success(), "{roomy:?}");
    assert!(
        !String::from_utf8_lossy(&roomy.stderr).contains("chunks"),
        "{roomy:?}"
    );
    assert_bytes_eq(&roomy.stdout, &whole, "whole");
}

/// The lines of a JSON Lines file as a run counts them before it reads it
/// (`jsonl::Breaks`): each line break, and each run of escaped breaks in a
/// string (a paragraph's `\n\n` is one).
fn breaks(text: &[u8]) -> usize {
    let (mut count, mut i, mut escape_end) = (0, 0, usize::MAX);
    while i < text.len() {
        match (text[i], text.get(i + 1)) {
            (b'\n', _) => {
                count += 1;
                i += 1;
            }
            (b'\\', Some(b'n' | b'r')) => {
                count += usize::from(escape_end != i);
                i += 2;
                escape_end = i;
            }
            (b'\\', _) => i += 2,
            _ => i += 1,
        }
    }
    count
}

#[test]
fn inputs_that_fit_under_the_memory_limit_whole_are_read_whole() {
    // A limit of 8 bytes a byte of input and 512 a line or more: one chunk,
    // read as a run without the limit reads it (no spool directory made,
    // `--keep` still refused with the flag); a tighter limit, or standard
    // input (no size to tell by), still works in chunks. The output is the
    // same every way.
    let dir = tempdir();
    let d = dir.path();
    let (text, whole) = corpus_and_output(d);
    let lines = breaks(&text) + 1;
    let need = (text.len() * 8 + lines * 512) / 1024;
    let roomy = format!("{}K", need + 1);
    let tight = format!("{}K", need - 1);
    let spool = d.join("spool");
    let spool_arg = spool.to_str().unwrap();
    let args = |limit: &str, input: &str| -> Vec<String> {
        [
            "clean",
            "-v",
            "--memory-limit",
            limit,
            "--tmp-dir",
            spool_arg,
            input,
        ]
        .map(String::from)
        .to_vec()
    };
    let run_args = |args: Vec<String>, stdin: Option<&[u8]>| {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        run_with_stdin(d, &args, stdin)
    };
    let out = run_args(args(&roomy, "all.jsonl"), None);
    assert_eq!(out.code, 0, "{out:?}");
    let stderr = &out.stderr;
    assert!(!stderr.contains("chunks"), "{roomy}: {stderr}");
    assert!(!spool.exists(), "{roomy}: a spool directory was made");
    assert_bytes_eq(&out.stdout, &whole, "fits whole");
    for (limit, stdin) in [(&tight, None), (&roomy, Some(&text[..]))] {
        let input = if stdin.is_some() { "-" } else { "all.jsonl" };
        let out = run_args(args(limit, input), stdin);
        assert_eq!(out.code, 0, "{out:?}");
        let stderr = &out.stderr;
        assert!(stderr.contains(" chunks: "), "{limit} {input}: {stderr}");
        assert_bytes_eq(&out.stdout, &whole, &format!("{limit} {input}"));
    }
    run_exit(
        d,
        2,
        &[
            "clean",
            "--memory-limit",
            &roomy,
            "--keep",
            "longest",
            "all.jsonl",
        ],
    );
    // Records of one short word cost a whole run far more than their bytes
    // (a few hundred bytes each): 20,000 of them (300 KB) under a limit 20
    // times their bytes are still read in chunks.
    let mut tiny = String::new();
    for i in 0..20_000 {
        tiny.push_str("{\"text\":\"w");
        tiny.push_str(&(i % 997).to_string());
        tiny.push_str("\"}\n");
    }
    std::fs::write(d.join("tiny.jsonl"), &tiny).unwrap();
    let limit = format!("{}K", tiny.len() * 20 / 1024);
    let out = run_ok(
        d,
        &[
            "clean",
            "-v",
            "--memory-limit",
            &limit,
            "--tmp-dir",
            spool_arg,
            "tiny.jsonl",
        ],
    );
    assert!(out.stderr.contains(" chunks: "), "{limit}: {out:?}");
}

#[test]
fn a_json_array_is_refused_not_cleaned_as_text() {
    // Records exported as one JSON array (`jq -s`, `json.dump(records)`):
    // cleaned as text, its repeated lines (`"source": "misc",`) would be cut
    // and the output would no longer parse. Refused by name, whole and in
    // chunks, from a file, a pipe or a compressed file, before anything is
    // written; `--format text` still cleans it as text.
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let records: Vec<String> = (0..40)
        .map(|i| {
            format!(
                "  {{\n    \"id\": {i},\n    \"source\": \"misc\",\n    \"text\": \"record {} says a few words\"\n  }}",
                i % 4
            )
        })
        .collect();
    let array = format!("\u{feff}\n[\n{}\n]\n", records.join(",\n"));
    std::fs::write(d.join("docs.json"), &array).unwrap();
    std::fs::write(d.join("docs.json.gz"), {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut gz, array.as_bytes()).unwrap();
        gz.finish().unwrap()
    })
    .unwrap();
    for name in ["docs.json", "docs.json.gz", "-"] {
        for limit in [None, Some("64K")] {
            let mut args = vec!["clean", "-o", "out.json", name];
            if let Some(limit) = limit {
                args.extend(["--memory-limit", limit]);
            }
            let stdin = (name == "-").then_some(array.as_bytes());
            let out = run_with_stdin(d, &args, stdin);
            let what = format!("{name} {limit:?}: {out:?}");
            assert_eq!(out.code, 2, "{what}");
            assert!(
                out.stderr.contains(":1: a JSON array, not JSON Lines"),
                "{what}"
            );
            assert!(!d.join("out.json").exists(), "{what}");
        }
    }
    run_ok(
        d,
        &["clean", "--format", "text", "-o", "out.json", "docs.json"],
    );
    assert!(d.join("out.json").exists());
    // Pretty-printed objects one after another (`jq .`) likewise; text that
    // starts with a brace but is no JSON (RTF) is still text.
    let pretty = records.join("\n");
    std::fs::write(d.join("jq.json"), &pretty).unwrap();
    let out = run_exit(d, 2, &["clean", "-o", "jq.out", "jq.json"]);
    assert_says(&out, "jq.json:1: pretty-printed JSON, not JSON Lines");
    assert!(!d.join("jq.out").exists());
    std::fs::write(d.join("x.rtf"), "{\\rtf1\\ansi hello}\n").unwrap();
    assert_eq!(
        run(d, &["clean", "-q", "x.rtf"]).stdout_str(),
        "{\\rtf1\\ansi hello}\n"
    );
}

#[cfg(unix)]
#[test]
fn a_spool_that_cannot_be_written_is_named_as_given() {
    let dir = tempdir();
    let d = dir.path();
    corpus(d);
    // No file may grow past 20 KiB (SIGXFSZ ignored: the write fails
    // instead of killing the run); the chunks' spooled index is larger.
    let out = crate::util::run_limited(
        d,
        "trap '' XFSZ; ulimit -f 40",
        &[
            "scan",
            "-q",
            "--memory-limit",
            SMALL,
            "--tmp-dir",
            "spool",
            "all.jsonl",
        ],
    );
    let stderr = &out.stderr;
    assert_eq!(out.code, 2, "{stderr}");
    assert_holds(
        stderr,
        "neardup: spool (this run's spooled index, part 1): writing failed: File too large",
    );
    assert!(!stderr.contains("segment-"), "{stderr}");
    assert!(!d.join("spool").exists(), "the run made it, and failed");
}

/// A run in chunks stopped by a bad input names every input that fails, as
/// a whole run does: it named only the first, and each further bad file
/// took another run to find. The files after the first bad one are read
/// for their first errors alone (streamed, compressed, read whole in a
/// batch, invalid UTF-8): the same lines, exit 2, nothing written.
#[test]
fn a_run_in_chunks_names_every_input_that_fails() {
    let dir = tempdir();
    let d = dir.path();
    let records = |tag: &str| {
        (0..300).fold(String::new(), |mut all, i| {
            let _ = writeln!(
                all,
                r#"{{"text":"word{i} other words here to fill the line up {tag}"}}"#
            );
            all
        })
    };
    std::fs::write(d.join("a.jsonl"), records("a") + "{\"text\": 5}\n").unwrap();
    std::fs::write(d.join("b.txt"), "a small text file of words\n").unwrap();
    std::fs::write(d.join("c.jsonl"), "{\"text\":\"fine\"}\n{\"text\": \n").unwrap();
    std::fs::write(
        d.join("d.jsonl.gz"),
        crate::util::gzip((records("d") + "{\"id\": 1}\n").as_bytes()),
    )
    .unwrap();
    std::fs::write(d.join("e.jsonl"), records("e")).unwrap();
    let mut f = records("f").into_bytes();
    let bad = f.len() + 9;
    f.extend_from_slice(b"{\"text\":\"\xff\"}\n");
    std::fs::write(d.join("f.jsonl"), f).unwrap();
    let utf8 = format!("neardup: f.jsonl:301: invalid UTF-8 at byte offset {bad}");
    let said = [
        "neardup: a.jsonl:301: field \"text\" is a number, not a string",
        "neardup: c.jsonl:2: invalid JSON at column 9: EOF while parsing a value",
        "neardup: d.jsonl.gz:301: record has no \"text\" field",
        &utf8,
    ];
    let inputs = [
        "a.jsonl",
        "b.txt",
        "c.jsonl",
        "d.jsonl.gz",
        "e.jsonl",
        "f.jsonl",
    ];
    for args in [
        &["scan", "-q"][..],
        &["scan", "-q", "--memory-limit", SMALL],
        &["clean", "-q", "--memory-limit", SMALL, "--out-dir", "od"],
    ] {
        let out = run_exit(d, 2, &[args, &inputs[..]].concat());
        assert_eq!(out.stderr.lines().collect::<Vec<_>>(), said, "{args:?}");
        assert!(out.stdout.is_empty(), "{args:?}: {out:?}");
        assert!(!d.join("od").exists(), "{args:?}");
    }
    // The first bad input read whole in a batch, then those streamed.
    let first = ["c.jsonl", "a.jsonl", "e.jsonl", "f.jsonl"];
    let out = run_exit(
        d,
        2,
        &[&["scan", "-q", "--memory-limit", SMALL][..], &first].concat(),
    );
    assert_eq!(
        out.stderr.lines().collect::<Vec<_>>(),
        [said[1], said[0], said[3]]
    );
}
