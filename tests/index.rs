//! The persistent index: batches checked one after another against an index
//! find what one run over all of them finds; bad, foreign, locked or half-written
//! indexes are handled as a user would expect.

use crate::util::{
    assert_bytes_eq, assert_prints, assert_says, data_dir, run, run_exit, run_ok, tempdir, Lcg,
};
use serde_json::Value;
use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::Path;

mod locks;
mod merge;

const WORDS: &[&str] = &[
    "council", "budget", "river", "harbour", "minister", "strike", "ferry", "storm", "market",
    "prices", "school", "teachers", "court", "ruling", "police", "report", "festival", "music",
    "hospital", "doctors", "station", "trains", "delays", "weather", "farmers", "harvest",
    "bridge", "repairs", "museum", "exhibit", "election", "votes", "mayor", "plan", "housing",
    "rents", "airport", "flights", "union", "wages",
];

/// Sentences of `n` words drawn from 5,000 (`w17 w4012 ... .`), seeded.
fn word_source(seed: u64) -> impl FnMut(usize) -> String {
    let mut rng = Lcg(seed);
    move |n| {
        let w: Vec<String> = (0..n).map(|_| format!("w{}", rng.next(5000))).collect();
        w.join(" ") + "."
    }
}

/// A JSON Lines record of `id` and `text`, with its line end.
fn json_line(id: &str, text: &str) -> String {
    serde_json::json!({"id": id, "text": text}).to_string() + "\n"
}

/// Batches A and B, both as one (`ab.jsonl`), and a later batch C, in `d`.
fn write_two_batches(d: &Path, a: &str, b: &str, c: &str) {
    for (name, text) in [
        ("a.jsonl", a.to_owned()),
        ("b.jsonl", b.to_owned()),
        ("ab.jsonl", format!("{a}{b}")),
        ("c.jsonl", c.to_owned()),
    ] {
        std::fs::write(d.join(name), text).unwrap();
    }
}

fn paragraph(rng: &mut Lcg) -> String {
    let len = 10 + rng.next(20);
    let words: Vec<&str> = (0..len).map(|_| WORDS[rng.next(WORDS.len())]).collect();
    let mut p = words.join(" ");
    p.push('.');
    p
}

/// Four batches of JSON Lines news: syndicated paragraphs shared across
/// documents, near-copy documents (one word changed), doubled bodies,
/// boilerplate lines and unique text, with repeats inside and across batches.
pub fn batches() -> Vec<String> {
    let mut rng = Lcg(7);
    let pool: Vec<String> = (0..30).map(|_| paragraph(&mut rng)).collect();
    let mut docs: Vec<String> = Vec::new();
    for i in 0..80 {
        let text = if i > 4 && rng.next(5) == 0 {
            // A near copy of an earlier document with one word changed.
            let earlier = &docs[rng.next(docs.len())];
            earlier.replacen("council", "assembly", 1)
        } else {
            let mut parts = vec![format!("Story {i} {}", paragraph(&mut rng))];
            for _ in 0..2 + rng.next(5) {
                parts.push(if rng.next(3) == 0 {
                    paragraph(&mut rng)
                } else {
                    pool[rng.next(pool.len())].clone()
                });
            }
            if rng.next(4) == 0 {
                parts.push("Advertisement".into());
            }
            if rng.next(6) == 0 {
                let body = parts[1..].to_vec();
                parts.push("Share this".into());
                parts.extend(body);
            }
            parts.join("\n\n")
        };
        docs.push(text);
    }
    docs.chunks(20)
        .enumerate()
        .map(|(b, chunk)| {
            let mut out = String::new();
            for (j, text) in chunk.iter().enumerate() {
                let record = serde_json::json!({"id": format!("b{b}-{j}"), "text": text});
                let _ = writeln!(out, "{record}");
            }
            out
        })
        .collect()
}

/// Everything a report says was found: runs, removals with their first copy
/// and aligned copy, short repeats, and near-duplicate documents.
pub fn findings(report: &[u8]) -> BTreeSet<String> {
    let r: Value = serde_json::from_slice(report).expect("a JSON report");
    let doc = |d: &Value| format!("{}:{}", d["index"], d["id"]);
    let place = |p: &Value| format!("{}@{}", doc(&p["document"]), p["bytes"]);
    let mut out = BTreeSet::new();
    for d in r["documents"].as_array().unwrap() {
        for run in d["runs"].as_array().unwrap() {
            out.insert(format!(
                "run {} {} from {} {} ({} blocks, {})",
                doc(&d["document"]),
                run["lines"],
                doc(&run["source"]),
                run["source_lines"],
                run["blocks"],
                run["interruptions"]
            ));
            for m in run["removals"].as_array().unwrap() {
                let last = m.get("first_copy_last").map(&place).unwrap_or_default();
                out.insert(format!(
                    "removed {} first {}{last} aligned {} {} {}",
                    place(&m["repeat"]),
                    place(&m["first_copy"]),
                    place(&m["aligned_with"]),
                    m["similarity"],
                    m["removed"]
                ));
            }
        }
        for m in d["short_repeats"].as_array().unwrap() {
            out.insert(format!(
                "short {} first {}",
                place(&m["repeat"]),
                place(&m["first_copy"])
            ));
        }
    }
    if let Some(clusters) = r["near_duplicates"]["cluster_list"].as_array() {
        for c in clusters {
            for m in c["members"].as_array().unwrap() {
                if m["document"]["index"] != c["representative"]["index"] {
                    out.insert(format!(
                        "duplicate {} of {} kept {} {}",
                        doc(&m["document"]),
                        doc(&c["representative"]),
                        doc(&c["kept"]),
                        m["similarity"]
                    ));
                }
            }
        }
    }
    out
}

fn write_batches(dir: &Path) -> Vec<String> {
    let batches = batches();
    let mut names = Vec::new();
    for (i, b) in batches.iter().enumerate() {
        let name = format!("day{i}.jsonl");
        std::fs::write(dir.join(&name), b).unwrap();
        names.push(name);
    }
    std::fs::write(dir.join("all.jsonl"), batches.concat()).unwrap();
    names
}

/// Runs `neardup args...` in `d`, asserting its exit status.
fn expect(d: &Path, code: i32, args: &[&str]) -> crate::util::Output {
    let out = run(d, args);
    assert_eq!(out.code, code, "neardup {}: {out:?}", args.join(" "));
    out
}

/// `neardup check --index INDEX args...` in `d`.
fn check_run(d: &Path, index: &str, args: &[&str]) -> crate::util::Output {
    let mut full = vec!["check", "--index", index];
    full.extend_from_slice(args);
    run(d, &full)
}

/// [`check_run`], asserting its exit status.
fn check_idx(d: &Path, code: i32, index: &str, args: &[&str]) -> crate::util::Output {
    let out = check_run(d, index, args);
    assert_eq!(
        out.code,
        code,
        "neardup check --index {index} {}: {out:?}",
        args.join(" ")
    );
    out
}

/// Builds index `name` from `batch` in `d`.
fn build(d: &Path, name: &str, batch: &str) {
    expect(d, 0, &["index", "build", "-q", "-o", name, batch]);
}

/// A temporary directory with the batches written into it, and their names.
fn batches_dir() -> (tempfile::TempDir, Vec<String>) {
    let dir = tempdir();
    let names = write_batches(dir.path());
    (dir, names)
}

/// `index stats --json` without the fields that change from run to run.
pub fn stats(dir: &Path, index: &str) -> Value {
    let out = run_ok(dir, &["index", "stats", "--json", "--verify", index]);
    let mut v: Value = serde_json::from_slice(&out.stdout).unwrap();
    for k in ["path", "created", "updated", "runs"] {
        v.as_object_mut().unwrap().remove(k);
    }
    v
}

#[test]
fn batches_checked_against_an_index_find_what_one_run_finds() {
    let (dir, names) = batches_dir();
    let d = dir.path();
    let whole = expect(d, 0, &["scan", "--json", "all.jsonl"]);
    let expected = findings(&whole.stdout);
    let kinds: BTreeSet<&str> = expected
        .iter()
        .map(|f| f.split(' ').next().unwrap())
        .collect();
    assert_eq!(
        kinds,
        BTreeSet::from(["duplicate", "removed", "run", "short"]),
        "the corpus exercises every kind of finding"
    );
    let whole_clean = run(d, &["clean", "-q", "all.jsonl"]).stdout;
    for threads in ["1", "2"] {
        let index = format!("seen-{threads}.ndx");
        let mut found = BTreeSet::new();
        let mut cleaned = Vec::new();
        for name in &names {
            let out = check_idx(
                d,
                0,
                &index,
                &["--update", "--exit-zero", "--json", "-j", threads, name],
            );
            found.extend(findings(&out.stdout));
        }
        assert_eq!(found, expected, "--threads {threads}");
        // clean drops what earlier batches kept: the batches' outputs make
        // the one-run output, byte for byte.
        let clean_index = format!("clean-{threads}.ndx");
        for name in &names {
            let out = expect(
                d,
                0,
                &[
                    "clean",
                    "-q",
                    "--index",
                    &clean_index,
                    "--update",
                    "-j",
                    threads,
                    name,
                ],
            );
            cleaned.extend(out.stdout);
        }
        assert_bytes_eq(&cleaned, &whole_clean, "batches cleaned one after another");
        assert_eq!(stats(d, &index), stats(d, &clean_index));
    }
    // An index built in one go holds the same items as one built batch by batch.
    let built = expect(d, 0, &["index", "build", "-o", "all.ndx", "all.jsonl"]);
    assert_says(&built, "indexed 80 documents");
    assert_eq!(stats(d, "all.ndx"), stats(d, "seen-1.ndx"));
    // A batch already indexed is entirely duplicate.
    let again = check_idx(d, 1, "all.ndx", &["--max-dup-docs", "99%", "day1.jsonl"]);
    assert_prints(&again, "(indexed)");
}

#[test]
fn exit_codes_follow_the_limits_against_an_index() {
    let (dir, names) = batches_dir();
    let d = dir.path();
    expect(d, 0, &["index", "build", "-o", "idx", &names[0]]);
    // The first batch again: every document is a duplicate of an indexed one.
    let out = check_idx(d, 1, "idx", &["--max-dup-docs", "50%", &names[0]]);
    assert_prints(&out, "duplicate documents: 100% (20 of 20)");
    check_idx(d, 0, "idx", &["--exit-zero", &names[0]]);
    let json = check_run(d, "idx", &["--exit-zero", "--json", &names[0]]);
    let report: Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(report["index"]["role"], "index");
    assert_eq!(report["index"]["documents"], 20);
    assert_eq!(report["index"]["updated"], false);
    // Checking without --update leaves the index as it was.
    assert_eq!(stats(d, "idx")["documents"], 20);
}

#[test]
fn an_index_built_with_other_settings_is_refused() {
    let (dir, names) = batches_dir();
    let d = dir.path();
    build(d, "idx", &names[0]);
    let out = check_idx(d, 2, "idx", &["--threshold", "0.7", &names[1]]);
    assert_says(&out, "idx: built with other settings");
    assert_says(&out, "--threshold 0.5 (this run: 0.7)");
    let out = run(d, &["scan", "--index", "idx", "--seed", "1", &names[1]]);
    assert_says(&out, "--seed 42 (this run: 1)");
    assert_eq!(out.code, 2);
    // Settings that do not change what is stored are free.
    expect(
        d,
        0,
        &["scan", "--index", "idx", "--max-gap", "5", &names[1]],
    );
}

#[test]
fn a_missing_index_needs_update_to_be_created() {
    let (dir, names) = batches_dir();
    let d = dir.path();
    let out = check_idx(d, 2, "none.ndx", &[&names[0]]);
    assert_says(&out, "none.ndx: no such index");
    expect(d, 2, &["check", "--reference", "none.ndx", &names[0]]);
    expect(d, 0, &["scan", "--index", "new.ndx", "--update", &names[0]]);
    assert_eq!(stats(d, "new.ndx")["documents"], 20);
}

#[test]
fn corrupt_or_truncated_indexes_are_errors_not_panics() {
    let (dir, names) = batches_dir();
    let d = dir.path();
    build(d, "good", &names[0]);
    let good = std::fs::read(d.join("good")).unwrap();
    let check = |name: &str| check_run(d, name, &["--exit-zero", &names[0]]);
    assert_eq!(check("good").code, 0);

    let mut cases: Vec<(&str, Vec<u8>)> = Vec::new();
    cases.push(("truncated", good[..good.len() - 100].to_vec()));
    cases.push(("half", good[..good.len() / 2].to_vec()));
    cases.push(("empty", Vec::new()));
    let mut header = good.clone();
    header[20] ^= 0x01;
    cases.push(("header", header));
    let mut table = good.clone();
    let at = table.len() - 10;
    table[at] ^= 0x20;
    cases.push(("table", table));
    cases.push(("text", b"not an index at all\n".to_vec()));
    for (name, bytes) in &cases {
        std::fs::write(d.join(name), bytes).unwrap();
        let out = check(name);
        assert_eq!(out.code, 2, "{name}: {out:?}");
        assert!(
            out.stderr.contains(&format!("neardup: {name}: ")),
            "{name}: {out:?}"
        );
        assert!(!out.stderr.contains("panicked"), "{name}: {out:?}");
        let stats = run(d, &["index", "stats", name]);
        assert_eq!(stats.code, 2, "{name}: {stats:?}");
    }
    // A flipped byte in the data: every 4 KiB chunk has its checksum, checked
    // when a look-up first reads it (and all of them by `stats --verify`).
    // The first data chunk holds the documents, which every check reads.
    let mut flipped = good.clone();
    flipped[4096 + 40] ^= 0x01;
    std::fs::write(d.join("flipped"), &flipped).unwrap();
    let out = check("flipped");
    assert_eq!(out.code, 2, "{out:?}");
    assert_says(&out, "corrupt index: checksum mismatch");
    assert_says(&out, "rebuild it with `neardup index build`");
    expect(d, 2, &["index", "stats", "--verify", "flipped"]);
    // An update over a corrupt index fails and leaves it as it was.
    check_idx(d, 2, "flipped", &["--update", "--exit-zero", &names[1]]);
    assert_eq!(std::fs::read(d.join("flipped")).unwrap(), flipped);
}

/// The rest of the header's 4 KiB page (bytes 64 to 4096) is zero padding
/// that no checksum covers (the header's own covers its 64 bytes, the
/// chunks' the data after the page): a byte flipped there passed
/// `index stats --verify`, which says it checks every byte. It is now
/// named, with its offset; look-ups, which never read the padding, still
/// work with such a file.
#[test]
fn verify_finds_a_flipped_byte_in_the_header_padding() {
    let (dir, names) = batches_dir();
    let d = dir.path();
    build(d, "good", &names[0]);
    let good = std::fs::read(d.join("good")).unwrap();
    expect(d, 0, &["index", "stats", "--verify", "good"]);
    for at in [64, 200, 255, 4095] {
        let mut flipped = good.clone();
        flipped[at] ^= 0x10;
        std::fs::write(d.join("padded"), &flipped).unwrap();
        let out = run(d, &["index", "stats", "--verify", "padded"]);
        assert_eq!(out.code, 2, "{at}: {out:?}");
        assert_says(
            &out,
            &format!("neardup: padded: corrupt index: byte offset {at} "),
        );
        assert!(out.stdout.is_empty(), "{at}: {out:?}");
        let json = run(d, &["index", "stats", "--json", "--verify", "padded"]);
        assert_eq!(json.code, 2, "{at}: {json:?}");
        expect(d, 0, &["index", "stats", "padded"]);
        assert_eq!(std::fs::read(d.join("padded")).unwrap(), flipped);
    }
}

/// A header that names a table of hundreds of megabytes (what a table of a
/// few hundred bytes of JSON never is: a file of zeros given a header, or
/// one made so) had the table read whole into memory before its checksum
/// refused it: a sparse file of 8 GB took 37 s and 8 GB of memory, a
/// larger one than memory ran it out. The length is refused as read.
#[test]
fn a_header_naming_a_huge_table_is_refused_before_reading_it() {
    let (dir, names) = batches_dir();
    let d = dir.path();
    build(d, "good", &names[0]);
    let mut header = std::fs::read(d.join("good")).unwrap()[..4096].to_vec();
    let len: u64 = 256 << 20;
    // File length, table offset and length, checksums' offset (none).
    for (at, v) in [(16, len), (24, 4096), (32, len - 4096), (40, 4096)] {
        header[at..at + 8].copy_from_slice(&u64::to_le_bytes(v));
    }
    let file = std::fs::File::create(d.join("huge.ndx")).unwrap();
    std::io::Write::write_all(&mut &file, &header).unwrap();
    // Sparse: no disk is taken.
    file.set_len(len).unwrap();
    drop(file);
    for args in [
        &["index", "stats", "huge.ndx"][..],
        &["index", "stats", "--verify", "huge.ndx"],
        &["check", "--index", "huge.ndx", names[0].as_str()],
    ] {
        let out = run(d, args);
        assert_eq!(out.code, 2, "{args:?}: {out:?}");
        assert_says(
            &out,
            "huge.ndx: corrupt index: the header (bytes 24..40) says its table has 268431360 bytes",
        );
    }
}

/// `-` as an index to read (`--index -`, `--reference -`, `index stats -`,
/// `index merge a -`): read as a file named `-`, it was `-: no such index;
/// create it with `--index - --update`` (which is refused: an index is no
/// stream) or `-: No such file or directory`. It is refused as standard
/// input, as `index build -o -` is refused as standard output.
#[test]
fn dash_as_an_index_to_read_is_refused_as_standard_input() {
    let (dir, names) = batches_dir();
    let d = dir.path();
    build(d, "good", &names[0]);
    let batch = names[0].as_str();
    for args in [
        &["check", "--index", "-", batch][..],
        &["scan", "--reference", "-", batch],
        &["index", "stats", "-"],
        &["index", "stats", "--verify", "-"],
        &["index", "merge", "good", "-", "-o", "m.ndx"],
    ] {
        let out = run(d, args);
        assert_eq!(out.code, 2, "{args:?}: {out:?}");
        assert_says(
            &out,
            "neardup: -: an index is a regular file, not a directory, device, pipe, standard input",
        );
        assert!(!out.stderr.contains("create it"), "{args:?}: {out:?}");
        assert!(
            !d.join("-").exists() && !d.join("m.ndx").exists(),
            "{args:?}"
        );
    }
}

#[test]
fn a_reference_index_flags_leaks_and_is_never_written() {
    let (dir, names) = batches_dir();
    let d = dir.path();
    assert_eq!(
        run(d, &["index", "build", "-o", "eval.ndx", &names[0]]).code,
        0
    );
    let before = std::fs::read(d.join("eval.ndx")).unwrap();
    // Training data that contains the evaluation set: every leaked document
    // is dropped, and the rest is cleaned as usual.
    std::fs::write(
        d.join("train.jsonl"),
        format!(
            "{}{}",
            std::fs::read_to_string(d.join(&names[1])).unwrap(),
            std::fs::read_to_string(d.join(&names[0])).unwrap()
        ),
    )
    .unwrap();
    expect(
        d,
        0,
        &[
            "clean",
            "--reference",
            "eval.ndx",
            "--report",
            "r.json",
            "--json",
            "-o",
            "clean.jsonl",
            "train.jsonl",
        ],
    );
    let report: Value = serde_json::from_slice(&std::fs::read(d.join("r.json")).unwrap()).unwrap();
    assert_eq!(report["index"]["role"], "reference");
    let cleaned = std::fs::read_to_string(d.join("clean.jsonl")).unwrap();
    for line in std::fs::read_to_string(d.join(&names[0])).unwrap().lines() {
        let id: Value = serde_json::from_str(line).unwrap();
        let id = id["id"].as_str().unwrap();
        assert!(
            !cleaned.contains(&format!("\"id\":\"{id}\"")),
            "{id} leaked"
        );
    }
    assert!(cleaned.contains("\"id\":\"b1-0\""));
    assert_eq!(std::fs::read(d.join("eval.ndx")).unwrap(), before);
    expect(
        d,
        2,
        &["scan", "--reference", "eval.ndx", "--update", "train.jsonl"],
    );
    expect(
        d,
        2,
        &[
            "scan",
            "--reference",
            "eval.ndx",
            "--index",
            "x",
            "train.jsonl",
        ],
    );
}

#[test]
fn an_index_is_never_written_over_a_file_that_is_not_one() {
    // `index build -o` and `index merge -o` replaced a user's file named by
    // mistake (a data file, notes): only an index, an empty file or no file
    // is written over.
    let (dir, names) = batches_dir();
    let d = dir.path();
    build(d, "a", &names[0]);
    build(d, "b", &names[1]);
    let mine = std::fs::read(d.join(&names[2])).unwrap();
    for args in [
        vec!["index", "build", "-q", "-o", &names[2], &names[0]],
        vec!["index", "merge", "a", "b", "-o", &names[2]],
    ] {
        let out = expect(d, 2, &args);
        assert_says(&out, &format!("{}: not a neardup index", names[2]));
        assert!(std::fs::read(d.join(&names[2])).unwrap() == mine);
        assert!(!d.join(format!("{}.lock", names[2])).exists(), "{out:?}");
    }
    std::fs::write(d.join("empty"), b"").unwrap();
    expect(d, 0, &["index", "merge", "a", "b", "-o", "empty"]);
    expect(d, 0, &["index", "build", "-q", "-o", "a", &names[2]]);
    assert_eq!(stats(d, "empty")["documents"], 40);
}

#[test]
fn a_document_is_never_dropped_for_one_under_half_its_length_in_any_run() {
    // A short text in batch A; in batch B a later one that restates it and
    // adds nearly as much again: 55% of its distinct shingles are the short
    // one's, but it is 2.7 times as long, and is kept in one run, in
    // chunks, against an index and after a merge. Another text of A is
    // followed in B by one that adds as much (55% of it is A's), but is only
    // 1.7 times as long: dropped, wherever A's length is read from.
    let mut words = word_source(5);
    let short = words(100);
    let long = format!("{short}\n\n{short}\n\n{}", words(70));
    let other = words(100);
    let extended = format!("{other}\n\n{}", words(75));
    let batch_a = json_line("a1", &short) + &json_line("a2", &other);
    let batch_b = json_line("b1", &long) + &json_line("b2", &extended);
    let dir = tempdir();
    let d = dir.path();
    // A copy of the long one: dropped, against it.
    write_two_batches(d, &batch_a, &batch_b, &json_line("c1", &long));
    let dropped = |args: &[&str]| -> Value {
        let mut full = vec!["scan", "-q", "--json"];
        full.extend_from_slice(args);
        let report: Value = serde_json::from_slice(&expect(d, 0, &full).stdout).unwrap();
        report["summary"]["dropped_documents"].clone()
    };
    assert_eq!(dropped(&["ab.jsonl"]), 1);
    assert_eq!(dropped(&["--memory-limit", "64K", "a.jsonl", "b.jsonl"]), 1);
    build(d, "a", "a.jsonl");
    assert_eq!(dropped(&["--index", "a", "b.jsonl"]), 1);
    build(d, "b", "b.jsonl");
    expect(d, 0, &["index", "merge", "a", "b", "-o", "merged"]);
    build(d, "one-run", "ab.jsonl");
    // The long one is a representative of its own in both indexes.
    assert_eq!(dropped(&["--index", "one-run", "c.jsonl"]), 1);
    assert_eq!(dropped(&["--index", "merged", "c.jsonl"]), 1);
}

#[test]
fn index_stats_tell_items_parameters_size_and_age() {
    run_exit(
        &data_dir().join("near-duplicate-docs"),
        2,
        &["index", "stats", "missing.ndx"],
    );
    let (dir, names) = batches_dir();
    let d = dir.path();
    build(d, "idx", &names[0]);
    let out = expect(d, 0, &["index", "stats", "idx"]);
    let text = out.stdout_str();
    assert!(
        text.lines()
            .any(|l| l.trim_start().starts_with("documents") && l.ends_with(" 20")),
        "{text}"
    );
    for needle in [
        "idx: neardup index, format version 2,",
        "created ",
        "ago), 1 run",
        "built with         --bands 120 ",
        "--threshold 0.5",
    ] {
        assert!(text.contains(needle), "{needle:?} in\n{text}");
    }
}

/// Stories of five paragraphs, and later copies of earlier ones re-cut: two
/// paragraphs joined into one, and one re-cut across a paragraph break; in
/// JSON Lines, in three batches.
fn recut_batches() -> Vec<String> {
    let mut rng = Lcg(11);
    let mut stories: Vec<Vec<String>> = Vec::new();
    let mut lines = Vec::new();
    for i in 0..60 {
        let text = if i >= 10 && i % 4 == 0 {
            let p = &stories[rng.next(stories.len())];
            let half = |t: &str, first: bool| {
                let words: Vec<&str> = t.split(' ').collect();
                let (a, b) = words.split_at(words.len() / 2);
                if first {
                    a.join(" ")
                } else {
                    b.join(" ")
                }
            };
            [
                format!("Story {i} as sent on by the wire."),
                format!("{} {}", p[0], p[1]),
                half(&p[2], true),
                format!("{} {}", half(&p[2], false), half(&p[3], true)),
                half(&p[3], false),
                p[4].clone(),
            ]
            .map(|t| t.trim().to_owned())
            .join("\n\n")
        } else {
            let story: Vec<String> = (0..5)
                .map(|k| {
                    format!(
                        "Story {i} part {k} {} {}",
                        paragraph(&mut rng),
                        paragraph(&mut rng)
                    )
                })
                .collect();
            let text = story.join("\n\n");
            stories.push(story);
            text
        };
        lines.push(serde_json::json!({"id": format!("s{i}"), "text": text}).to_string() + "\n");
    }
    lines.chunks(20).map(<[String]>::concat).collect()
}

#[test]
fn recut_copies_are_found_against_an_index_and_across_chunks() {
    let dir = tempdir();
    let d = dir.path();
    let batches = recut_batches();
    std::fs::write(d.join("all.jsonl"), batches.concat()).unwrap();
    let args = ["scan", "--json", "--level", "blocks"];
    let whole = expect(d, 0, &[&args[..], &["all.jsonl"]].concat());
    let expected = findings(&whole.stdout);
    // Joined paragraphs repeat two source blocks, one re-cut across a break
    // repeats two, each named by its first and last.
    let spans = expected
        .iter()
        .filter(|f| f.matches("@[").count() == 4)
        .count();
    assert!(spans >= 2 * 8, "{expected:#?}");
    for threads in ["1", "2"] {
        // Chunk by chunk: the earlier chunks' blocks are places too.
        let chunked = expect(
            d,
            0,
            &[
                &args[..],
                &["--memory-limit", "64K", "-j", threads, "all.jsonl"],
            ]
            .concat(),
        );
        assert_bytes_eq(
            &chunked.stdout,
            &whole.stdout,
            &format!("chunked, -j {threads}"),
        );
        // Batch by batch against an index: its blocks are places too.
        let index = format!("recut-{threads}.ndx");
        let mut found = BTreeSet::new();
        for (b, batch) in batches.iter().enumerate() {
            let name = format!("recut{b}.jsonl");
            std::fs::write(d.join(&name), batch).unwrap();
            let out = check_idx(
                d,
                0,
                &index,
                &[
                    "--update",
                    "--exit-zero",
                    "--json",
                    "--level",
                    "blocks",
                    "-j",
                    threads,
                    &name,
                ],
            );
            found.extend(findings(&out.stdout));
        }
        assert_eq!(found, expected, "--threads {threads}");
    }
}
