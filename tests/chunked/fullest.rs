//! `--keep fullest` in a run in chunks: a first pass decides over every
//! chunk which member each cluster keeps, so a fuller copy that comes chunks
//! after the text it holds replaces it as in a whole run.

use crate::util::{assert_bytes_eq, assert_holds, json_lines, run, run_exit, tempdir, Lcg};
use std::fmt::Write as _;

/// Stories of 60-140 words (paragraphs of 20), each written whole in some
/// places and, in others, a copy cut short (its first paragraphs) or given a
/// new headline, in an order where the cut copy often comes first, far
/// from its source; and records of their own between them.
pub(super) fn corpus() -> String {
    let mut rng = Lcg(40);
    let word = |rng: &mut Lcg| format!("w{}", rng.next(5000));
    let stories: Vec<Vec<String>> = (0..36)
        .map(|_| {
            let paragraphs = 3 + rng.next(5);
            (0..paragraphs)
                .map(|_| {
                    (0..20)
                        .map(|_| word(&mut rng))
                        .collect::<Vec<_>>()
                        .join(" ")
                })
                .collect()
        })
        .collect();
    let mut records: Vec<String> = Vec::new();
    for (s, story) in stories.iter().enumerate() {
        records.push(story.join("\n\n"));
        records.push(story[..=rng.next(story.len() - 1)].join("\n\n"));
        if s % 3 == 0 {
            records.push(format!("Headline {s} today\n\n{}", story.join("\n\n")));
        }
    }
    for i in 0..60 {
        let own: Vec<String> = (0..30 + rng.next(40)).map(|_| word(&mut rng)).collect();
        records.push(format!("record {i} {}", own.join(" ")));
    }
    // Shuffled: a cut copy before its source as often as after it.
    for i in (1..records.len()).rev() {
        records.swap(i, rng.next(i + 1));
    }
    let mut text = String::new();
    for (i, r) in records.iter().enumerate() {
        let r = serde_json::to_string(r).unwrap();
        writeln!(text, "{{\"id\":\"r{i}\",\"text\":{r}}}").unwrap();
    }
    text
}

#[test]
fn a_run_in_chunks_keeps_the_fullest_copy_a_whole_run_keeps() {
    let dir = tempdir();
    let d = dir.path();
    std::fs::write(d.join("c.jsonl"), corpus()).unwrap();
    let fullest = ["--keep", "fullest"];
    // The whole run keeps a later member in some clusters, and those differ
    // from what `--keep first` keeps: the case the first pass is for.
    let scan = run(d, &["scan", "--json", "--keep", "fullest", "c.jsonl"]);
    let report: serde_json::Value = serde_json::from_slice(&scan.stdout).unwrap();
    let later = report["near_duplicates"]["cluster_list"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["kept"]["index"] != c["representative"]["index"])
        .count();
    assert!(later >= 5, "{later} clusters keep a later member");
    let first = run(d, &["clean", "-q", "c.jsonl"]);
    for args in [
        &["clean", "-q", "c.jsonl"][..],
        &["scan", "--json", "c.jsonl"],
        &["scan", "c.jsonl"],
        &["check", "--json", "--max-dup-docs", "5%", "c.jsonl"],
        &["clean", "-q", "--level", "docs", "c.jsonl"],
    ] {
        let mut whole = vec![args[0]];
        whole.extend_from_slice(&fullest);
        whole.extend_from_slice(&args[1..]);
        let expected = run(d, &whole);
        assert!(expected.code == 0 || expected.code == 1, "{expected:?}");
        if args == ["clean", "-q", "c.jsonl"] {
            assert_ne!(expected.stdout, first.stdout, "fullest keeps other copies");
        }
        for (limit, threads) in [("64K", "1"), ("64K", "2"), ("200K", "2")] {
            let mut chunked = whole.clone();
            chunked.splice(1..1, ["--memory-limit", limit, "-j", threads]);
            let got = run(d, &chunked);
            assert_eq!(got.code, expected.code, "{chunked:?}: {got:?}");
            assert_bytes_eq(&got.stdout, &expected.stdout, &format!("{chunked:?}"));
        }
    }
    // Compressed, and written to a file.
    let gz = crate::util::gzip(&std::fs::read(d.join("c.jsonl")).unwrap());
    std::fs::write(d.join("c.jsonl.gz"), gz).unwrap();
    let expected = run(d, &["clean", "-q", "--keep", "fullest", "c.jsonl"]).stdout;
    let args = ["clean", "-q", "--keep", "fullest", "--memory-limit", "64K"];
    let mut to_file = args.to_vec();
    to_file.extend(["c.jsonl.gz", "-o", "out.jsonl"]);
    assert_eq!(run(d, &to_file).code, 0);
    assert_bytes_eq(
        &std::fs::read(d.join("out.jsonl")).unwrap(),
        &expected,
        "gz",
    );
    // Every record the whole run keeps, nothing else.
    assert!(json_lines(&expected).len() < corpus().lines().count());
}

#[test]
fn what_a_run_in_chunks_cannot_keep_fullest_with_is_refused_by_name() {
    let dir = tempdir();
    let d = dir.path();
    std::fs::write(d.join("c.jsonl"), corpus()).unwrap();
    let refused = |extra: &[&str], says: &str| {
        let mut args = vec!["clean", "--keep", "fullest", "--memory-limit", "64K"];
        args.extend_from_slice(extra);
        let out = run_exit(d, 2, &args);
        assert!(out.stdout.is_empty(), "{out:?}");
        assert_holds(&out.stderr, says);
    };
    refused(
        &["--index", "i.ndx", "c.jsonl"],
        "does not work with --index",
    );
    for keep in ["longest", "max:n", "newest:t"] {
        let out = run_exit(
            d,
            2,
            &["clean", "--keep", keep, "--memory-limit", "64K", "c.jsonl"],
        );
        assert_holds(&out.stderr, "keeps the first or the fullest");
    }
    assert!(!d.join("i.ndx").exists());
}

/// A bad record found by the first pass stops the run as the run's own
/// reading would: every input that fails is named, nothing is written.
#[test]
fn the_first_pass_names_every_input_that_fails() {
    let dir = tempdir();
    let d = dir.path();
    for name in ["e1.jsonl", "e2.jsonl"] {
        let mut text = corpus();
        text.push_str("{\"text\": 5}\n");
        std::fs::write(d.join(name), text).unwrap();
    }
    let whole = run_exit(
        d,
        2,
        &["clean", "-q", "--keep", "fullest", "e1.jsonl", "e2.jsonl"],
    );
    let args = ["clean", "-q", "--keep", "fullest", "--memory-limit", "64K"];
    let mut chunked = args.to_vec();
    chunked.extend(["e1.jsonl", "e2.jsonl", "-o", "out.jsonl"]);
    let out = run_exit(d, 2, &chunked);
    assert_eq!(out.stderr, whole.stderr);
    assert_holds(&out.stderr, "e1.jsonl:");
    assert_holds(&out.stderr, "e2.jsonl:");
    assert!(!d.join("out.jsonl").exists());
}

/// A story (R), a copy with a dateline and a paragraph of its own (M), which
/// joins it, and chunks later a fuller copy (H) that holds R but not M's
/// paragraph: no member holds every other, so a whole run keeps R and H
/// leaves the cluster, kept. A run in chunks decided that over the part of
/// the cluster each chunk held and dropped H.
#[test]
fn a_fuller_copy_that_holds_no_whole_cluster_stays_in_chunks_as_whole() {
    let dir = tempdir();
    let d = dir.path();
    let mut rng = Lcg(7);
    let mut words = |n: usize| -> String {
        (0..n)
            .map(|_| format!("w{}", rng.next(5000)))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let (head, p1, p2, p3) = (words(8), words(22), words(30), words(30));
    let story = [head.as_str(), &p1, &p2, &p3, "Reuter"].join("\n\n");
    let dateline = format!("SYDNEY {head}");
    let own = words(75);
    let with_dateline = [dateline.as_str(), &p1, &p2, &own, &p3, "Reuter"].join("\n\n");
    let (inserted, footer) = (words(200), words(15));
    let fuller = [head.as_str(), &p1, &inserted, &p2, &p3, &footer].join("\n\n");
    let mut records = vec![story, with_dateline];
    records.extend((0..3).map(|i| format!("record {i} {}", words(300))));
    records.push(fuller);
    let mut text = String::new();
    for (i, r) in records.iter().enumerate() {
        let r = serde_json::to_string(r).unwrap();
        writeln!(text, "{{\"id\":\"r{i}\",\"text\":{r}}}").unwrap();
    }
    std::fs::write(d.join("c.jsonl"), text).unwrap();
    for args in [
        &["clean", "-q", "--level", "docs", "c.jsonl"][..],
        &["clean", "-q", "c.jsonl"],
        &["scan", "--json", "c.jsonl"],
    ] {
        let mut whole = vec![args[0], "--keep", "fullest"];
        whole.extend_from_slice(&args[1..]);
        let expected = run(d, &whole);
        if args[0] == "clean" {
            let ids: Vec<String> = json_lines(&expected.stdout)
                .iter()
                .map(|r| r["id"].as_str().unwrap().to_owned())
                .collect();
            assert_eq!(ids, ["r0", "r2", "r3", "r4", "r5"], "{whole:?}");
        }
        for threads in ["1", "2"] {
            let mut chunked = whole.clone();
            chunked.splice(1..1, ["--memory-limit", "64K", "-j", threads]);
            let got = run(d, &chunked);
            assert_eq!(got.code, expected.code, "{chunked:?}: {got:?}");
            assert_bytes_eq(&got.stdout, &expected.stdout, &format!("{chunked:?}"));
        }
    }
}

/// An input replaced while a run in chunks under `--keep fullest` reads it
/// twice: the first pass's answer (which records each cluster keeps, by
/// their place) is about other bytes than the second pass reads, and
/// dropped records of the new file that were no one's duplicates. The run
/// now stops, naming the file, and writes nothing.
#[test]
fn an_input_replaced_between_the_two_readings_stops_the_run() {
    let dir = tempdir();
    let d = dir.path();
    std::fs::write(d.join("c.jsonl"), crate::util::numbered_records(4000)).unwrap();
    let mut other: Vec<&[u8]> = Vec::new();
    let records = crate::util::numbered_records(3000);
    other.extend(records.split_inclusive(|&b| b == b'\n').rev());
    std::fs::write(d.join("new.jsonl"), other.concat()).unwrap();
    // (The first pass's first line of progress comes after the count's.)
    let (said, status) = crate::util::replaced_once_read(
        d,
        &[
            "clean",
            "--progress",
            "always",
            "--keep",
            "fullest",
            "--memory-limit",
            "64K",
            "c.jsonl",
            "-o",
            "out.jsonl",
        ],
        ("new.jsonl", "c.jsonl"),
    );
    assert_eq!(status.code(), Some(2), "{said}");
    assert_holds(&said, "c.jsonl: changed while --keep fullest");
    assert!(!d.join("out.jsonl").exists(), "{said}");
}

/// Without `--memory-limit`, a run too big for the memory available works
/// in chunks by itself under `--keep fullest` as under `first` (the whole
/// run's output); a `--keep` that cannot work in chunks runs whole and says
/// so, rather than leave the user to guess why memory ran short.
#[test]
fn a_run_too_big_for_memory_keeps_the_fullest_in_chunks_by_itself() {
    let dir = tempdir();
    let d = dir.path();
    std::fs::write(d.join("c.jsonl"), corpus()).unwrap();
    let run_with = |available: &str, args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_neardup"))
            .current_dir(d)
            .env("NEARDUP_AVAILABLE_MEMORY", available)
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "{args:?}: {out:?}");
        (
            out.stdout,
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    for keep in ["fullest", "longest", "newest:id"] {
        let args = ["clean", "-v", "--keep", keep, "c.jsonl"];
        let (whole, roomy) = run_with("1G", &args);
        assert!(!roomy.contains("note:"), "{keep}: {roomy}");
        let (small, says) = run_with("100K", &args);
        assert_bytes_eq(&small, &whole, keep);
        if keep == "fullest" {
            assert_holds(&says, "working in chunks, as --memory-limit 64.0K does");
            assert_holds(&says, " chunks: ");
        } else {
            assert_holds(
                &says,
                &format!("and --keep {keep} does not work in chunks: working whole"),
            );
            assert!(!says.contains("working in chunks"), "{keep}: {says}");
        }
    }
    // Fullest with an index cannot work in chunks yet: whole, and said.
    let (_, says) = run_with(
        "100K",
        &[
            "clean", "--keep", "fullest", "--index", "i.ndx", "--update", "c.jsonl", "-o",
            "o.jsonl",
        ],
    );
    assert_holds(
        &says,
        "--keep fullest does not work in chunks with an index yet",
    );
}
