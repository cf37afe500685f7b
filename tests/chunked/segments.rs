//! What chunks store and indexes hold under `--memory-limit`: indexes read
//! and updated as whole runs do, one-line records paired and entered once,
//! ids and merged segments counted.

use super::*;
use crate::util::assert_prints;

/// What an index holds, by `index stats`: the files of whole and chunked
/// runs differ in their times, and in the file name, which each chunk's
/// items carry once.
fn index_items(dir: &std::path::Path, index: &str) -> serde_json::Value {
    let mut stats = crate::index::stats(dir, index);
    stats.as_object_mut().unwrap().remove("bytes");
    stats
}

#[test]
fn chunked_runs_read_and_update_indexes_as_whole_runs_do() {
    // The corpus's four batches cleaned one after another against an index
    // that each run updates, in two directories: whole runs in one, chunked
    // runs in the other. Each batch's output and report are byte for byte
    // the same, and so are the index's items after each batch; then the whole corpus
    // is checked against each index (--reference, and --index read only)
    // with the same findings.
    let dir = tempdir();
    let batches = crate::index::batches();
    let dirs = [dir.path().join("whole"), dir.path().join("chunked")];
    for d in &dirs {
        std::fs::create_dir_all(d).unwrap();
        for (i, batch) in batches.iter().enumerate() {
            std::fs::write(d.join(format!("day{i}.jsonl")), batch).unwrap();
        }
        std::fs::write(d.join("all.jsonl"), batches.concat()).unwrap();
    }
    let with_limit = |chunked: bool, args: &[&str]| {
        let mut all: Vec<String> = args.iter().map(ToString::to_string).collect();
        if chunked {
            all.splice(1..1, ["--memory-limit".to_string(), SMALL.to_string()]);
        }
        let all: Vec<&str> = all.iter().map(String::as_str).collect();
        run(&dirs[usize::from(chunked)], &all)
    };
    for i in 0..batches.len() {
        let name = format!("day{i}.jsonl");
        let args = [
            "clean",
            "-q",
            "--index",
            "seen.ndx",
            "--update",
            "--report",
            "report.json",
            "--json",
            &name,
        ];
        let whole = with_limit(false, &args);
        let chunked = with_limit(true, &args);
        assert_eq!(whole.code, 0, "{whole:?}");
        assert_eq!(chunked.code, 0, "{chunked:?}");
        assert_bytes_eq(&chunked.stdout, &whole.stdout, &format!("{name} cleaned"));
        assert_bytes_eq(
            &std::fs::read(dirs[1].join("report.json")).unwrap(),
            &std::fs::read(dirs[0].join("report.json")).unwrap(),
            &format!("report of {name}"),
        );
        assert_eq!(
            index_items(&dirs[1], "seen.ndx"),
            index_items(&dirs[0], "seen.ndx"),
            "index after {name}"
        );
    }
    for args in [
        &["scan", "--json", "--reference", "seen.ndx", "all.jsonl"][..],
        &["check", "--json", "--index", "seen.ndx", "all.jsonl"],
    ] {
        let whole = with_limit(false, args);
        let chunked = with_limit(true, args);
        assert_eq!(chunked.code, whole.code, "{chunked:?}");
        assert_prints(&whole, "\"indexed\":true");
        assert_bytes_eq(&chunked.stdout, &whole.stdout, &format!("{args:?}"));
    }
    // `index build` too: the same items as one built by a whole run.
    let whole = run(
        &dirs[0],
        &["index", "build", "-o", "built.ndx", "all.jsonl"],
    );
    let chunked = run_ok(
        &dirs[1],
        &[
            "index",
            "build",
            "--memory-limit",
            SMALL,
            "-o",
            "built.ndx",
            "all.jsonl",
        ],
    );
    assert_eq!(chunked.stderr, whole.stderr);
    assert_eq!(
        index_items(&dirs[1], "built.ndx"),
        index_items(&dirs[0], "built.ndx"),
        "built index"
    );
}

/// `n` records of one to three words (each a single shingle), every fifth
/// a copy of one far before it, and every fiftieth a document of twenty
/// words; JSON Lines.
fn one_line_records(n: usize) -> String {
    let word = |i: usize| format!("w{}x{}", i % 97, i % 89);
    let mut texts: Vec<String> = Vec::new();
    for i in 0..n {
        let text = if i % 50 == 49 {
            (0..20)
                .map(|k| word(i * 31 + k))
                .collect::<Vec<_>>()
                .join(" ")
        } else if i % 5 == 4 && i > 1000 {
            texts[(i * 7) % 1000].clone()
        } else {
            (0..=i % 3)
                .map(|k| word(i * 13 + k))
                .collect::<Vec<_>>()
                .join(" ")
        };
        texts.push(text);
    }
    as_records(&texts)
}

/// `texts` as JSON Lines records `r0`, `r1`, ... (texts without quotes).
fn as_records(texts: &[String]) -> String {
    use std::fmt::Write as _;
    texts
        .iter()
        .enumerate()
        .fold(String::new(), |mut out, (i, t)| {
            let _ = writeln!(out, "{{\"id\":\"r{i}\",\"text\":\"{t}\"}}");
            out
        })
}

#[test]
fn one_line_records_in_chunks_pair_as_in_one_run() {
    // Records of a single shingle are looked up by one band key (their key
    // in every table holds the same documents): their copies in later
    // chunks are still found, as one run finds them.
    let dir = tempdir();
    let d = dir.path();
    std::fs::write(d.join("short.jsonl"), one_line_records(3000)).unwrap();
    for args in [
        &["scan", "--json", "short.jsonl"][..],
        &["clean", "-q", "short.jsonl"],
        &["scan", "--json", "--level", "docs", "short.jsonl"],
    ] {
        let whole = run_ok(d, args);
        for threads in ["1", "2"] {
            let mut chunked = vec![args[0], "--memory-limit", SMALL, "-j", threads];
            chunked.extend_from_slice(&args[1..]);
            let out = run_ok(d, &chunked);
            assert_bytes_eq(
                &out.stdout,
                &whole.stdout,
                &format!("{args:?} at -j {threads}"),
            );
        }
    }
    // (In chunks indeed, and with copies to find.)
    let out = run(d, &["scan", "-v", "--memory-limit", SMALL, "short.jsonl"]);
    assert_says(&out, " chunks: ");
    let report: serde_json::Value =
        serde_json::from_slice(&run(d, &["scan", "--json", "short.jsonl"]).stdout).unwrap();
    assert!(
        report["near_duplicates"]["verified_pairs"]
            .as_u64()
            .unwrap()
            >= 300,
        "{}",
        report["near_duplicates"]
    );
}

#[test]
fn an_index_holds_one_bucket_entry_for_a_record_of_one_shingle() {
    // 128 bucket entries a one-line record (one a table) made a chunked run
    // write, sort and look up 128 times what one entry tells.
    let dir = tempdir();
    let d = dir.path();
    let records = as_records;
    let short: Vec<String> = (0..200).map(|i| format!("short{i} record")).collect();
    // (Of 30 words: one of 20, 16 shingles, is stored by its shingles.)
    let long: Vec<String> = (0..10)
        .map(|i| {
            (0..30)
                .map(|k| format!("w{i}k{k}"))
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect();
    std::fs::write(d.join("long.jsonl"), records(&long)).unwrap();
    std::fs::write(d.join("both.jsonl"), records(&[short, long].concat())).unwrap();
    let entries = |input: &str, index: &str| {
        run_ok(d, &["index", "build", "-q", input, "-o", index]);
        crate::index::stats(d, index)["bucket_entries"]
            .as_u64()
            .unwrap()
    };
    let per_long = entries("long.jsonl", "long.ndx") / 10;
    assert!(per_long > 1, "{per_long}");
    assert_eq!(entries("both.jsonl", "both.ndx"), 200 + 10 * per_long);
    // Copies of the short records in a later batch are found through them.
    std::fs::write(
        d.join("later.jsonl"),
        "{\"id\":\"a\",\"text\":\"short7 record\"}\n{\"id\":\"b\",\"text\":\"new words\"}\n",
    )
    .unwrap();
    let out = run_ok(d, &["scan", "--json", "--index", "both.ndx", "later.jsonl"]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        report["near_duplicates"]["verified_pairs"], 1,
        "{}",
        report["near_duplicates"]
    );
}

/// A record without its abstract, then the same record with it: under
/// `--keep fullest` a whole run keeps the fuller one in the first's place
/// (the first adds nothing to it); by default (`first`) both are kept, the
/// later one adding text. A run in chunks decides which to keep over every
/// chunk before it writes any (`--keep fullest` reads its inputs twice), so
/// it keeps the fuller one too.
#[test]
fn a_later_fuller_copy_replaces_the_first_in_chunks_too() {
    use std::fmt::Write;
    let dir = tempdir();
    let d = dir.path();
    let record = "Title: Early mobilisation after stroke in a randomised trial of two hundred patients\nAuthors: Smith, J. and Jones, K.\nJournal: Stroke Research 12(3) 101-110";
    let abstract_ = "We randomised two hundred patients within a day of their stroke to early or usual mobilisation and measured independence at three months, finding no difference between the groups in any of the outcomes we had chosen before the trial began.";
    let mut filler = String::new();
    for i in 0..1500 {
        let (a, b, c) = (i * 7, i * 13, i * 31);
        writeln!(
            filler,
            "{{\"id\":\"u{i}\",\"text\":\"unrelated record number {i} about topic {a} with words {b} and {c}\"}}"
        )
        .unwrap();
    }
    let records = format!(
        "{{\"id\":\"short\",\"text\":{}}}\n{filler}{{\"id\":\"full\",\"text\":{}}}\n",
        serde_json::to_string(record).unwrap(),
        serde_json::to_string(&format!("{record}\n\n{abstract_}")).unwrap(),
    );
    std::fs::write(d.join("r.jsonl"), records).unwrap();
    let ids = |args: &[&str]| -> Vec<String> {
        let mut all = vec!["clean", "-q", "--level", "docs", "r.jsonl"];
        all.extend_from_slice(args);
        let out = run_ok(d, &all);
        String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(|l| {
                serde_json::from_str::<serde_json::Value>(l).unwrap()["id"]
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .filter(|id| !id.starts_with('u'))
            .collect()
    };
    assert_eq!(ids(&["--keep", "fullest"]), ["full"]);
    assert_eq!(ids(&[]), ["short", "full"]);
    for limit in ["64K", "256K", "1G"] {
        assert_eq!(
            ids(&["--memory-limit", limit]),
            ["short", "full"],
            "{limit}"
        );
        assert_eq!(
            ids(&["--keep", "fullest", "--memory-limit", limit]),
            ["full"],
            "{limit}"
        );
    }
}

/// A chunk counts its documents' ids with their text: 200 records of
/// 64 KiB ids (a careless `--id-field`, a hostile file) make a chunk each
/// at `--memory-limit 1M` (74,898 bytes a chunk), where counted by their
/// text alone 20 went to a chunk, and 300 records of 800 KB ids to one
/// chunk of 240 MB at 64M. The answer is the whole run's.
#[test]
fn long_ids_count_in_a_chunk() {
    let dir = tempdir();
    let d = dir.path();
    let mut text = String::new();
    for i in 0..200 {
        let words: Vec<String> = (0..50).map(|k| format!("w{}-{k}", i % 150)).collect();
        let _ = writeln!(
            text,
            "{{\"id\": \"{i}-{}\", \"text\": \"{}\"}}",
            "x".repeat(64 << 10),
            words.join(" ")
        );
    }
    std::fs::write(d.join("ids.jsonl"), text).unwrap();
    let whole = run_ok(
        d,
        &[
            "clean",
            "ids.jsonl",
            "-o",
            "whole.jsonl",
            "--report",
            "-",
            "--json",
        ],
    );
    let chunked = run_ok(
        d,
        &[
            "clean",
            "-v",
            "--memory-limit",
            "1M",
            "--tmp-dir",
            ".",
            "ids.jsonl",
            "-o",
            "chunked.jsonl",
            "--report",
            "-",
            "--json",
        ],
    );
    let chunks: usize = chunked
        .stderr
        .split(" chunks:")
        .next()
        .and_then(|s| s.rsplit(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no chunk count: {}", chunked.stderr));
    assert!(chunks >= 150, "{chunks} chunks: {}", chunked.stderr);
    assert_bytes_eq(
        &std::fs::read(d.join("chunked.jsonl")).unwrap(),
        &std::fs::read(d.join("whole.jsonl")).unwrap(),
        "cleaned output",
    );
    let report = |out: &crate::util::Output| {
        let mut r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        r.as_object_mut().unwrap().remove("command");
        r
    };
    assert_eq!(report(&chunked), report(&whole));
    // 50 of the 200 are copies of earlier ones.
    assert_eq!(report(&whole)["summary"]["dropped_documents"], 50);
}

#[test]
fn a_merge_of_spooled_segments_needs_little_more_disk_than_the_segments() {
    // The segments a merge reads are given back as it reads them: at no
    // moment does `--tmp-dir` hold a merge's inputs and its output whole
    // (twice the segments' size at each large merge, before). `-v` says
    // the most the spooled index took, the most it held between merges and
    // what it wrote in all.
    let dir = tempdir();
    let d = dir.path();
    let text: String = (0..24)
        .map(|i| {
            crate::index::batches()
                .concat()
                .replace("Story ", &format!("Story {i}-"))
        })
        .collect();
    std::fs::write(d.join("all.jsonl"), text).unwrap();
    let whole = run(d, &["clean", "-q", "all.jsonl"]);
    let out = run_ok(
        d,
        &[
            "clean",
            "-v",
            "--memory-limit",
            "128K",
            "--tmp-dir",
            "spool",
            "all.jsonl",
        ],
    );
    assert_bytes_eq(&out.stdout, &whole.stdout, "the output");
    let err = &out.stderr;
    let line = err
        .lines()
        .find(|l| l.contains("temporary space: the spooled index took at most"))
        .unwrap_or_else(|| panic!("no figure of temporary space: {err}"));
    let figures: Vec<f64> = line
        .split(' ')
        .filter_map(|w| {
            w.trim_matches(|c| c == '(' || c == ')' || c == ',')
                .parse()
                .ok()
        })
        .collect();
    let [peak, per_byte, settled, written] = figures[..] else {
        panic!("{line}")
    };
    assert!(per_byte > 0.0 && settled > 0.0, "{line}");
    // What was written in all (every segment and merge) is at least what
    // the segments held at once.
    assert!(written >= settled, "{line}");
    // 24 stories' copies: 6.2 MB at most against 4.8 between merges (1.29);
    // 7.1 MB (1.48) when a merge holds its inputs whole.
    assert!(peak < 1.4 * settled, "{line}");
}
