//! Floods of copies and near copies: the same clusters and reports at any
//! thread count, in chunks and through an index, and a whole run past its
//! memory limit made again in chunks.

use super::*;

/// 3,000 records: one-word ones in 23 groups, 600 identical eight-word
/// ones, and 100 distinct two-word ones (fewer words than a shingle).
fn flood() -> String {
    use std::fmt::Write;
    let mut out = String::new();
    for i in 0..3000 {
        let text = match i % 5 {
            0..=2 => format!("word{}", i % 30),
            3 => "the very same record repeated many times over".to_owned(),
            _ if i % 30 == 4 => format!("two words{i}"),
            _ => format!("word{}", i % 30),
        };
        writeln!(out, "{{\"id\":\"d{i}\",\"text\":\"{text}\"}}").unwrap();
    }
    out
}

#[test]
fn floods_of_short_and_identical_records_cluster_alike_in_any_run() {
    let reports = reports_in_any_run(&flood());
    let near = &reports[0]["near_duplicates"];
    // 23 groups of one word and the identical records: 24 clusters, each
    // keeping its first record; the 100 two-word records are unique.
    let clusters = near["cluster_list"].as_array().expect("cluster list");
    assert_eq!(clusters.len(), 24, "{near}");
    let sizes: u64 = clusters.iter().map(|c| c["size"].as_u64().unwrap()).sum();
    assert_eq!(sizes, 2900, "{near}");
    assert_eq!(clusters[0]["size"], 600, "{near}");
    assert_eq!(clusters[0]["representative"]["id"], "d3", "{near}");
    for c in clusters {
        assert_eq!(c["kept"], c["representative"], "{c}");
    }
    for (i, r) in reports.iter().enumerate().skip(1) {
        assert_eq!(&reports[0], r, "run {i} differs");
    }
}

/// The JSON reports of `records` (JSON Lines) at 1 and 3 threads and in
/// chunks at 2, without their parameters and command (which differ).
fn reports_in_any_run(records: &str) -> Vec<serde_json::Value> {
    let dir = tempdir();
    std::fs::write(dir.path().join("flood.jsonl"), records).unwrap();
    let mut reports = Vec::new();
    for args in [
        &["--threads", "1"][..],
        &["--threads", "3"],
        &["--threads", "2", "--memory-limit", "1M"],
    ] {
        let mut all = vec!["scan", "--json", "flood.jsonl"];
        all.extend_from_slice(args);
        let out = run(dir.path(), &all);
        no_crash(&out, "flood");
        assert_eq!(out.code, 0, "{out:?}");
        let mut report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        report["parameters"] = serde_json::Value::Null;
        report["command"] = serde_json::Value::Null;
        reports.push(report);
    }
    reports
}

/// 600 records of four paragraphs, the second and fourth one shared by all;
/// every third record is a copy of the one before it (dropped whole, its
/// copies of the shared paragraph counted apart, at the end).
fn copies_in_dropped() -> String {
    use std::fmt::Write;
    let shared =
        "this boilerplate paragraph is shared by every single record of the whole corpus here";
    let para = |k: usize, salt: usize| {
        (0..40)
            .map(|j| format!("w{}", (k * 7919 + salt * 104_729 + j * 31) % 100_003))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let mut out = String::new();
    for i in 0..600 {
        let k = if i % 3 == 2 { i - 1 } else { i };
        let text = format!(
            "{}\\n\\n{shared}\\n\\n{}\\n\\n{shared}",
            para(k, 1),
            para(k, 2)
        );
        writeln!(out, "{{\"id\":\"r{i}\",\"text\":\"{text}\"}}").unwrap();
    }
    out
}

#[test]
fn copies_in_documents_dropped_whole_count_alike_in_any_run() {
    let reports = reports_in_any_run(&copies_in_dropped());
    let syndicated = &reports[0]["syndicated"];
    // Every record holds the shared paragraph twice, those dropped whole
    // too: each is one document of the 600, each copy one of the 1,200.
    assert_eq!(syndicated[0]["documents"], 600, "{syndicated}");
    assert_eq!(syndicated[0]["copies"], 1200, "{syndicated}");
    assert!(
        reports[0]["summary"]["dropped_documents"].as_u64().unwrap() >= 200,
        "{}",
        reports[0]["summary"]
    );
    assert_eq!(reports[0], reports[1], "1 and 3 threads differ");
    assert_eq!(reports[0], reports[2], "the run in chunks differs");
}

/// 1,200 records of nine words a word apart (which word, and to what, varies
/// with the record), every fifth one an exact copy of the first: each has
/// dozens of candidate representatives, compared with boilerplate discounted.
fn near_flood() -> String {
    use std::fmt::Write;
    let base = [
        "the", "very", "same", "record", "repeated", "many", "times", "over", "again",
    ];
    let mut out = String::new();
    for i in 0..1200 {
        let mut words = base.map(str::to_owned);
        if i % 5 != 0 {
            words[i % 9] = format!("w{}", i % 37);
        }
        let text = words.join(" ");
        writeln!(out, "{{\"id\":\"n{i}\",\"text\":\"{text}\"}}").unwrap();
    }
    out
}

#[test]
fn floods_of_records_a_word_apart_report_alike_in_any_run() {
    let reports = reports_in_any_run(&near_flood());
    let near = &reports[0]["near_duplicates"];
    // The 240 exact copies of the first record are one cluster with it (and
    // the records a word from it that pass), and the pairs are many.
    let clusters = near["cluster_list"].as_array().expect("cluster list");
    assert!(clusters[0]["size"].as_u64().unwrap() >= 240, "{near}");
    assert!(near["candidate_pairs"].as_u64().unwrap() > 1200, "{near}");
    assert_eq!(reports[0], reports[1], "1 and 3 threads differ");
    assert_eq!(reports[0], reports[2], "the run in chunks differs");
}

/// Records for an index in two batches: the first holds 60 copies of one
/// record (more than the first and last documents an index keeps of a
/// bucket), records a word from it among them, and unrelated ones; the
/// second more copies and records a word apart.
fn flood_batches() -> [String; 2] {
    use std::fmt::Write;
    let same = "the very same record repeated many times over again";
    let mut batches = [String::new(), String::new()];
    for i in 0..130 {
        let text = match i % 7 {
            _ if i % 13 == 5 => same.replacen("many", &format!("w{i}"), 1),
            3 => format!(
                "unrelated {i} words of its own kind here and there {}",
                i * 7
            ),
            _ => same.to_owned(),
        };
        let batch = usize::from(i >= 90);
        writeln!(batches[batch], "{{\"id\":\"f{i}\",\"text\":\"{text}\"}}").unwrap();
    }
    batches
}

#[test]
fn a_flood_of_copies_in_an_index_finds_what_one_run_finds() {
    let dir = tempdir();
    let d = dir.path();
    let batches = flood_batches();
    std::fs::write(d.join("all.jsonl"), batches.concat()).unwrap();
    std::fs::write(d.join("b1.jsonl"), &batches[0]).unwrap();
    std::fs::write(d.join("b2.jsonl"), &batches[1]).unwrap();
    let whole = run_ok(d, &["clean", "-q", "all.jsonl"]);
    let kept = whole.stdout_str().lines().count();
    assert!(kept < 40, "the copies are dropped: {kept} kept");
    for threads in ["1", "2"] {
        let index = format!("idx-{threads}.ndx");
        let mut cleaned = Vec::new();
        for batch in ["b1.jsonl", "b2.jsonl"] {
            let out = run_ok(
                d,
                &[
                    "clean", "-q", "--index", &index, "--update", "-j", threads, batch,
                ],
            );
            cleaned.extend(out.stdout);
        }
        assert_eq!(
            String::from_utf8(cleaned).unwrap(),
            whole.stdout_str(),
            "--threads {threads}: the batches cleaned one after another"
        );
        // And in chunks smaller than the first batch.
        let chunked = run(
            d,
            &[
                "clean",
                "-q",
                "--memory-limit",
                "1M",
                "-j",
                threads,
                "all.jsonl",
            ],
        );
        assert_eq!(
            chunked.stdout_str(),
            whole.stdout_str(),
            "--threads {threads}"
        );
    }
}

/// A flood of near-identical short records (one word differs) counted to
/// fit under `--memory-limit` whole (8 bytes a byte of input and 512 a
/// line: 11.5 MB for these 10,000) takes far more as one chunk: each
/// record's 120 band keys and a hundred candidate pairs (200,000 such took
/// 524 MiB at `--memory-limit 256M`). The run stops when its memory would
/// pass the limit and is made again in chunks, saying so, with a whole
/// run's output and report.
#[test]
fn a_whole_run_past_its_memory_limit_is_made_again_in_chunks() {
    use std::fmt::Write;
    let dir = tempdir();
    let d = dir.path();
    let mut records = String::new();
    for i in 0..10_000 {
        let text = format!("the very same record repeated many times over {i}");
        writeln!(records, "{{\"id\":\"d{i}\",\"text\":\"{text}\"}}").unwrap();
    }
    std::fs::write(d.join("near.jsonl"), records).unwrap();
    let clean = |extra: &[&str], out: &str, report: &str| {
        let mut args = vec!["clean", "--json", "--report", report, "-o", out];
        args.extend_from_slice(extra);
        args.push("near.jsonl");
        let done = run(d, &args);
        no_crash(&done, "near-identical flood");
        assert_eq!(done.code, 0, "{extra:?}: {done:?}");
        let mut report: serde_json::Value =
            serde_json::from_slice(&std::fs::read(d.join(report)).unwrap()).unwrap();
        report["command"] = serde_json::Value::Null;
        report["parameters"] = serde_json::Value::Null;
        (done.stderr, std::fs::read(d.join(out)).unwrap(), report)
    };
    let (_, whole, whole_report) = clean(&["-q"], "whole.jsonl", "whole.json");
    let limit = ["--memory-limit", "12M", "--tmp-dir", "spool"];
    let (said, limited, limited_report) = clean(&limit, "limited.jsonl", "limited.json");
    assert!(
        said.contains("note: the run would pass --memory-limit 12.0M as one chunk"),
        "{said}"
    );
    assert_eq!(whole, limited, "the cleaned text");
    assert!(whole_report == limited_report, "the reports differ");
    assert_eq!(whole_report["near_duplicates"]["dropped_documents"], 9_999);
    assert!(!d.join("spool").exists(), "the spool directory is left");
    // Without a limit, counted to fit in the memory available (here said
    // to be 16M), the same: made again in chunks under half of it.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_neardup"))
        .current_dir(d)
        .env_clear()
        .env("NEARDUP_AVAILABLE_MEMORY", "16M")
        .args(["clean", "-o", "auto.jsonl", "near.jsonl"])
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{said}");
    assert!(
        said.contains("the run would pass the 16.0M of memory available as one chunk")
            && said.contains("as --memory-limit 8.0M does"),
        "{said}"
    );
    assert_eq!(whole, std::fs::read(d.join("auto.jsonl")).unwrap());
    // Not made again into a FIFO (opened before the run: a second attempt
    // waited for ever for a reader gone) nor with an HTML page (a run in
    // chunks shows no texts): the run goes on as one chunk.
    crate::util::mkfifo(&d.join("out.fifo"));
    let fifo = d.join("out.fifo");
    let reader = std::thread::spawn(move || std::fs::read(fifo).unwrap());
    let into_fifo = ["--memory-limit", "12M", "-o", "out.fifo", "near.jsonl"];
    let out = crate::util::run_or_hang(d, &[&["clean"][..], &into_fifo].concat());
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(!String::from_utf8_lossy(&out.stderr).contains("would pass"));
    assert_eq!(reader.join().unwrap(), whole, "the FIFO's reader");
    let html = [
        "scan",
        "-q",
        "--memory-limit",
        "12M",
        "--html",
        "p.html",
        "near.jsonl",
    ];
    let out = run_ok(d, &html);
    assert!(!out.stderr.contains("would pass"), "{}", out.stderr);
}
