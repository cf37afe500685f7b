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
                "--out-dir",
                "out",
                "all.jsonl",
            ][..],
            "not --out-dir",
        ),
        (
            &[
                "clean",
                "--memory-limit",
                "1G",
                "--keep",
                "longest",
                "all.jsonl",
            ],
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
