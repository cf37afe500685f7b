//! `--memory-limit`: a corpus analysed chunk by chunk, each chunk against
//! what the chunks before it stored on disk, gives the whole run's output and
//! report byte for byte.

use crate::util::{assert_bytes_eq, data_dir, run, run_with_stdin, tempdir};

/// The index tests' generated corpus (80 documents, 60 KB), and a limit that
/// cuts it into about fifteen chunks.
const SMALL: &str = "24K";

fn corpus(dir: &std::path::Path) {
    std::fs::write(dir.join("all.jsonl"), crate::index::batches().concat()).unwrap();
}

#[test]
fn chunked_runs_write_and_report_what_whole_runs_do() {
    let dir = tempdir();
    let d = dir.path();
    corpus(d);
    for args in [
        &["clean", "-q", "all.jsonl"][..],
        &["scan", "--json", "all.jsonl"],
        &["scan", "all.jsonl"],
        &["scan", "--json", "--level", "blocks", "all.jsonl"],
        &["scan", "--json", "--level", "docs", "all.jsonl"],
        &["check", "--json", "--max-dup-docs", "5%", "all.jsonl"],
        &["check", "--format", "github", "all.jsonl"],
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
    let out = run(
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
    assert_eq!(out.code, 0, "{out:?}");
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
    let whole = run(d, &["clean", "-q", "--out-dir", "whole", "corpus"]);
    assert_eq!(whole.code, 0, "{whole:?}");
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
        let out = run(
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
        assert_eq!(out.code, 0, "{out:?}");
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
    corpus(d);
    let text = std::fs::read(d.join("all.jsonl")).unwrap();
    let whole = run(d, &["clean", "-q", "all.jsonl"]);
    let tmp = d.join("spool");
    let piped = run_with_stdin(
        d,
        &[
            "clean",
            "-q",
            "--format",
            "jsonl",
            "--memory-limit",
            SMALL,
            "--tmp-dir",
            tmp.to_str().unwrap(),
            "-",
        ],
        Some(&text),
    );
    assert_eq!(piped.code, 0, "{piped:?}");
    assert_bytes_eq(&piped.stdout, &whole.stdout, "standard input, chunked");
    // Nothing is left in the temporary directory.
    assert_eq!(std::fs::read_dir(&tmp).unwrap().count(), 0);
    let wire = data_dir().join("near-duplicate-docs");
    let plain = run(&wire, &["clean", "-q", "wire.jsonl"]);
    let zst = d.join("wire.jsonl.zst");
    std::fs::write(
        &zst,
        zstd::encode_all(&std::fs::read(wire.join("wire.jsonl")).unwrap()[..], 3).unwrap(),
    )
    .unwrap();
    let out = run(
        d,
        &["clean", "-q", "--memory-limit", "8K", "wire.jsonl.zst"],
    );
    assert_eq!(out.code, 0, "{out:?}");
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
            "--keep or --annotate",
        ),
        (
            &["clean", "--memory-limit", "1G", "--annotate", "all.jsonl"],
            "--keep or --annotate",
        ),
        (
            &[
                "scan",
                "--memory-limit",
                "1G",
                "--index",
                "x.ndx",
                "--update",
                "all.jsonl",
            ],
            "--index or --reference",
        ),
        (
            &["scan", "--memory-limit", "lots", "all.jsonl"],
            "--memory-limit takes a size",
        ),
        (&["scan", "--tmp-dir", "t", "all.jsonl"], "--memory-limit"),
    ] {
        let out = run(d, args);
        assert_eq!(out.code, 2, "{args:?}: {out:?}");
        assert!(out.stderr.contains(message), "{args:?}: {out:?}");
    }
}
