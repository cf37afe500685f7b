//! The persistent index: batches checked one after another against an index
//! find what one run over all of them finds; bad, foreign, locked or half-written
//! indexes are handled as a user would expect.

use crate::util::{assert_bytes_eq, data_dir, run, tempdir, Lcg};
use serde_json::Value;
use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::Path;

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
    let out = run(dir, &["index", "stats", "--json", "--verify", index]);
    assert_eq!(out.code, 0, "{out:?}");
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
    assert!(built.stderr.contains("indexed 80 documents"), "{built:?}");
    assert_eq!(stats(d, "all.ndx"), stats(d, "seen-1.ndx"));
    // A batch already indexed is entirely duplicate.
    let again = check_idx(d, 1, "all.ndx", &["--max-dup-docs", "99%", "day1.jsonl"]);
    assert!(again.stdout_str().contains("(indexed)"), "{again:?}");
}

#[test]
fn exit_codes_follow_the_limits_against_an_index() {
    let (dir, names) = batches_dir();
    let d = dir.path();
    expect(d, 0, &["index", "build", "-o", "idx", &names[0]]);
    // The first batch again: every document is a duplicate of an indexed one.
    let out = check_idx(d, 1, "idx", &["--max-dup-docs", "50%", &names[0]]);
    assert!(
        out.stdout_str()
            .contains("duplicate documents: 100% (20 of 20)"),
        "{out:?}"
    );
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
    assert!(
        out.stderr.contains("idx: built with other settings"),
        "{out:?}"
    );
    assert!(
        out.stderr.contains("--threshold 0.5 (this run: 0.7)"),
        "{out:?}"
    );
    let out = run(d, &["scan", "--index", "idx", "--seed", "1", &names[1]]);
    assert!(out.stderr.contains("--seed 42 (this run: 1)"), "{out:?}");
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
    assert!(out.stderr.contains("none.ndx: no such index"), "{out:?}");
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
    assert!(
        out.stderr.contains("corrupt index: checksum mismatch"),
        "{out:?}"
    );
    assert!(
        out.stderr.contains("rebuild it with `neardup index build`"),
        "{out:?}"
    );
    expect(d, 2, &["index", "stats", "--verify", "flipped"]);
    // An update over a corrupt index fails and leaves it as it was.
    check_idx(d, 2, "flipped", &["--update", "--exit-zero", &names[1]]);
    assert_eq!(std::fs::read(d.join("flipped")).unwrap(), flipped);
}

/// Whether a temporary index file with some bytes in it is in `dir`.
fn writing_index(dir: &Path) -> bool {
    std::fs::read_dir(dir).unwrap().any(|e| {
        let e = e.unwrap();
        e.file_name()
            .to_string_lossy()
            .starts_with(".neardup-index-")
            && e.metadata().is_ok_and(|m| m.len() > 0)
    })
}

#[test]
fn a_killed_update_leaves_a_usable_index() {
    let (dir, names) = batches_dir();
    let d = dir.path();
    build(d, "idx", &names[0]);
    let mut big = String::new();
    for i in 0..20_000 {
        let _ = writeln!(
            big,
            "{{\"id\":\"n{i}\",\"text\":\"row {i} alpha {} beta {} gamma {i} delta and some more words {}\"}}",
            i * 7,
            i % 13,
            i * 31
        );
    }
    std::fs::write(d.join("big.jsonl"), &big).unwrap();
    let original = std::fs::read(d.join("idx")).unwrap();
    // Killed early, and killed while the new index is being written (as soon
    // as its temporary file has bytes in it).
    for while_writing in [false, true] {
        std::fs::write(d.join("idx"), &original).unwrap();
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_neardup"))
            .args([
                "check",
                "-q",
                "--exit-zero",
                "--index",
                "idx",
                "--update",
                "big.jsonl",
            ])
            .current_dir(d)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let mut finished = false;
        if while_writing {
            while !writing_index(d) {
                if child.try_wait().unwrap().is_some() {
                    finished = true;
                    break;
                }
                std::thread::sleep(std::time::Duration::from_micros(200));
            }
        } else {
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        let _ = child.kill();
        let _ = child.wait();
        let documents = stats(d, "idx")["documents"].as_u64().unwrap();
        if finished {
            // Too fast to catch: then the update is complete.
            assert_eq!(documents, 20_020);
        } else {
            assert_eq!(documents, 20, "killed while writing: {while_writing}");
            assert_eq!(std::fs::read(d.join("idx")).unwrap(), original);
        }
        check_idx(d, 0, "idx", &["--exit-zero", &names[1]]);
    }
    // A temporary file left by a killed run does not stand in the next one's way.
    expect(
        d,
        0,
        &[
            "check",
            "-q",
            "--exit-zero",
            "--index",
            "idx",
            "--update",
            "big.jsonl",
        ],
    );
    assert_eq!(stats(d, "idx")["documents"], 20_020);
}

#[test]
fn concurrent_updates_wait_for_each_other() {
    let (dir, names) = batches_dir();
    let d = dir.path();
    build(d, "idx", &names[0]);
    // Another run holds the index's lock.
    let lock = std::fs::File::create(d.join("idx.lock")).unwrap();
    lock.lock().unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_neardup"))
        .args([
            "check",
            "-q",
            "--exit-zero",
            "--index",
            "idx",
            "--update",
            &names[1],
        ])
        .current_dir(d)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(500));
    assert!(
        child.try_wait().unwrap().is_none(),
        "the update waits for the lock"
    );
    // Readers take no lock: they read the version they open.
    assert_eq!(stats(d, "idx")["documents"], 20);
    lock.unlock().unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("idx is locked by another neardup run; waiting for it to finish"),
        "{stderr}"
    );
    assert_eq!(stats(d, "idx")["documents"], 40);
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
fn merged_indexes_find_what_either_holds() {
    let (dir, names) = batches_dir();
    let d = dir.path();
    build(d, "a", &names[0]);
    build(d, "b", &names[1]);
    let merged = expect(d, 0, &["index", "merge", "a", "b", "-o", "ab"]);
    assert!(
        merged
            .stderr
            .starts_with("neardup: merged a (20 documents) and b (20 documents) into ab"),
        "{merged:?}"
    );
    assert_eq!(stats(d, "ab")["documents"], 40);
    // `-q`, as every other command takes it: nothing said, the same index.
    let quiet = expect(d, 0, &["index", "merge", "-q", "a", "b", "-o", "ab-q"]);
    assert_eq!(quiet.stderr, "", "{quiet:?}");
    assert_eq!(stats(d, "ab-q"), stats(d, "ab"));
    for name in &names[..2] {
        let out = check_run(d, "ab", &["--max-dup-docs", "99%", name]);
        assert_eq!(out.code, 1, "{name} is all in the merged index: {out:?}");
        assert!(out.stdout_str().contains("(20 of 20)"), "{out:?}");
    }
    // Merging into either input works too: B's copy of the merge is A's.
    std::fs::copy(d.join("b"), d.join("b2")).unwrap();
    expect(d, 0, &["index", "merge", "a", "b2", "-o", "b2"]);
    assert_eq!(stats(d, "b2"), stats(d, "ab"));
    expect(d, 0, &["index", "merge", "a", "b", "-o", "a"]);
    assert_eq!(stats(d, "a"), stats(d, "ab"));
    // Indexes built with other settings do not merge.
    assert_eq!(
        run(d, &["index", "build", "--seed", "7", "-o", "c", &names[2]]).code,
        0
    );
    let out = expect(d, 2, &["index", "merge", "ab", "c", "-o", "abc"]);
    assert!(out.stderr.contains("--seed 42 (c: 7)"), "{out:?}");
    assert!(!d.join("abc").exists());
    let c = std::fs::read(d.join("c")).unwrap();
    expect(d, 2, &["index", "merge", "ab", "c", "-o", "c"]);
    assert!(
        std::fs::read(d.join("c")).unwrap() == c,
        "a failed merge into B changed B"
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
        assert!(
            out.stderr
                .contains(&format!("{}: not a neardup index", names[2])),
            "{out:?}"
        );
        assert!(std::fs::read(d.join(&names[2])).unwrap() == mine);
        assert!(!d.join(format!("{}.lock", names[2])).exists(), "{out:?}");
    }
    std::fs::write(d.join("empty"), b"").unwrap();
    expect(d, 0, &["index", "merge", "a", "b", "-o", "empty"]);
    expect(d, 0, &["index", "build", "-q", "-o", "a", &names[2]]);
    assert_eq!(stats(d, "empty")["documents"], 40);
}

#[test]
fn a_merged_index_finds_the_copies_one_built_over_both_finds() {
    // A story in batch A, the same story re-headed in batch B (each index
    // holds it as a representative of its own), and a later copy with a new
    // closing paragraph, which adds a quarter of its text.
    let mut words = word_source(11);
    let story: Vec<String> = (0..4).map(|_| words(30)).collect();
    let story = story.join("\n\n");
    let (other_a, other_b) = (words(90), words(90));
    let batch_a = json_line("a1", &story) + &json_line("a2", &other_a);
    let batch_b = json_line("b1", &format!("LONDON (Wire) - {story}")) + &json_line("b2", &other_b);
    let later = json_line("c1", &format!("PARIS (Wire) - {story}\n\n{}", words(40)));
    let dir = tempdir();
    let d = dir.path();
    write_two_batches(d, &batch_a, &batch_b, &later);
    build(d, "a", "a.jsonl");
    build(d, "b", "b.jsonl");
    build(d, "one-run", "ab.jsonl");
    expect(d, 0, &["index", "merge", "a", "b", "-o", "merged"]);
    let clean = |index: &str| {
        let out = expect(
            d,
            0,
            &[
                "clean",
                "-q",
                "--index",
                index,
                "--json",
                "--report",
                "-",
                "-o",
                "out.jsonl",
                "c.jsonl",
            ],
        );
        let report: Value = serde_json::from_slice(&out.stdout).unwrap();
        (
            std::fs::read(d.join("out.jsonl")).unwrap(),
            report["summary"].clone(),
        )
    };
    let (one_run, one_run_summary) = clean("one-run");
    // The later copy is found: one cluster holds the story, its re-headed
    // copy is a member of it.
    assert_eq!(one_run, b"");
    assert_eq!(one_run_summary["dropped_documents"], 1);
    // The merged index gives the same answer (the re-headed copy joined the
    // story's cluster in the merge, instead of staying a representative
    // whose text discounts the story's as boilerplate).
    assert_eq!(clean("merged"), (one_run, one_run_summary));
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
    let out = run(
        &data_dir().join("near-duplicate-docs"),
        &["index", "stats", "missing.ndx"],
    );
    assert_eq!(out.code, 2, "{out:?}");
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

#[test]
fn no_run_replaces_the_lock_file_of_an_index() {
    let (dir, names) = batches_dir();
    let d = dir.path();
    build(d, "s.ndx", &names[0]);
    build(d, "t.ndx", &names[1]);
    let before = crate::util::tree(d);
    let cases = [
        (
            "index merge s.ndx t.ndx -o s.ndx.lock",
            "s.ndx.lock (index merge -o) is the lock file of s.ndx",
        ),
        (
            "index merge s.ndx t.ndx -o t.ndx.lock",
            "t.ndx.lock (index merge -o) is the lock file of t.ndx",
        ),
        (
            "index build -o s.ndx.lock day2.jsonl",
            "s.ndx.lock (index build -o) is the lock file of s.ndx",
        ),
        (
            "clean --index s.ndx --report s.ndx.lock -o c.jsonl day2.jsonl",
            "s.ndx.lock (--report) is the lock file of s.ndx",
        ),
        (
            "clean --reference s.ndx -o s.ndx.lock day2.jsonl",
            "s.ndx.lock (-o) is the lock file of s.ndx",
        ),
        // An index the run does not name keeps its lock file too: an update
        // of it would take a new lock while another holds the old one.
        (
            "clean --index s.ndx --update -o t.ndx.lock day2.jsonl",
            "t.ndx.lock (-o) is the lock file of t.ndx",
        ),
        (
            "clean day2.jsonl --out-dir . --report t.ndx.lock",
            "t.ndx.lock (--report) is the lock file of t.ndx",
        ),
    ];
    for (args, message) in cases {
        let out = expect(d, 2, &args.split(' ').collect::<Vec<_>>());
        assert!(out.stderr.contains(message), "{args}: {out:?}");
        assert_eq!(crate::util::tree(d), before, "{args}");
    }
}

#[test]
fn a_walk_passes_over_indexes_and_their_lock_files() {
    // A feed directory that keeps its index beside the batches: the index
    // and its lock file are never taken for text.
    let dir = tempdir();
    let d = dir.path();
    std::fs::create_dir(d.join("feed")).unwrap();
    let (a, b) = ("feed/a.jsonl", "feed/b.jsonl");
    std::fs::write(
        d.join(a),
        "{\"id\":\"a\",\"text\":\"the council met on tuesday to set the budget for the year\"}\n",
    )
    .unwrap();
    std::fs::write(d.join(b), "{\"id\":\"b\",\"text\":\"the council met on tuesday to set the budget for the year\"}\n{\"id\":\"c\",\"text\":\"ferry services resume after the storm closed the harbour for days\"}\n").unwrap();
    for _ in 0..2 {
        // Built twice: the second build does not read the first's index.
        let out = run(d, &["index", "build", "-q", "feed", "-o", "feed/seen.ndx"]);
        assert_eq!(out.code, 0, "{out:?}");
    }
    assert!(d.join("feed/seen.ndx.lock").is_file());
    let out = run(d, &["index", "stats", "--json", "feed/seen.ndx"]);
    let stats: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(stats["documents"], 3, "{out:?}");
    let out = run(
        d,
        &[
            "clean", "-q", "--json", "feed", "-o", "o.jsonl", "--report", "r.json",
        ],
    );
    assert_eq!(out.code, 0, "{out:?}");
    let report: Value = serde_json::from_slice(&std::fs::read(d.join("r.json")).unwrap()).unwrap();
    let inputs = crate::util::input_paths(&report);
    assert_eq!(inputs, [a, b]);
    assert_eq!(
        report["skipped"].as_array().map_or(0, Vec::len),
        0,
        "{report}"
    );
    let kept = std::fs::read_to_string(d.join("o.jsonl")).unwrap();
    assert_eq!(kept.lines().count(), 2, "{kept}");
    assert_eq!(run(d, &["clean", "-q", "feed", "--out-dir", "out"]).code, 0);
    let mut written: Vec<_> = std::fs::read_dir(d.join("out"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    written.sort();
    assert_eq!(written, ["a.jsonl", "b.jsonl"]);
    std::fs::remove_dir_all(d.join("out")).unwrap();
    // Named, an index is read as an input would be, and said to be one.
    let out = run(d, &["scan", "feed/seen.ndx"]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr.contains(
            "feed/seen.ndx: a neardup index, not text: give it to --index or --reference"
        ),
        "{out:?}"
    );
}

/// A lock file that is a symbolic link to nothing (its target removed, or
/// in a directory not there) is refused by name, at once: making it failed
/// on the link and opening it on its target, and `--update`, `index build`
/// and `index merge -o` spun between the two for ever.
#[cfg(unix)]
#[test]
fn a_lock_file_linked_to_nothing_is_refused_not_spun_on() {
    let dir = tempdir();
    let d = dir.path();
    std::fs::write(d.join("day1.jsonl"), batches()[0].as_bytes()).unwrap();
    expect(d, 0, &["index", "build", "day1.jsonl", "-o", "s.ndx"]);
    expect(d, 0, &["index", "build", "day1.jsonl", "-o", "t.ndx"]);
    // (A run that made a lock file keeps it.)
    for lock in ["s.ndx.lock", "t.ndx.lock"] {
        std::fs::remove_file(d.join(lock)).unwrap();
    }
    let before = crate::util::tree(d);
    for target in ["gone", "missing/dir/x"] {
        for (args, lock) in [
            (
                &[
                    "clean",
                    "day1.jsonl",
                    "--index",
                    "s.ndx",
                    "--update",
                    "-o",
                    "o.jsonl",
                ][..],
                "s.ndx.lock",
            ),
            (
                &["index", "build", "day1.jsonl", "-o", "s.ndx"],
                "s.ndx.lock",
            ),
            (
                &["index", "merge", "s.ndx", "t.ndx", "-o", "m.ndx"],
                "m.ndx.lock",
            ),
        ] {
            std::os::unix::fs::symlink(target, d.join(lock)).unwrap();
            let mut child = crate::util::spawn(d, args);
            let started = std::time::Instant::now();
            while child.try_wait().unwrap().is_none() {
                if started.elapsed().as_secs() > 30 {
                    child.kill().unwrap();
                    std::fs::remove_file(d.join(lock)).unwrap();
                    panic!("{args:?} spins on a lock linked to {target}");
                }
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            let out = child.wait_with_output().unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
            assert!(
                stderr.contains(&format!("{lock}: the index's lock file is a symbolic link")),
                "{args:?}: {stderr}"
            );
            std::fs::remove_file(d.join(lock)).unwrap();
            assert_eq!(crate::util::tree(d), before, "{args:?}");
        }
    }
}

/// An index whose name leaves no room for `.lock` (251 to 255 bytes) gets a
/// lock file of its name cut short and a hash: built, updated and passed
/// over by a walk like any other (its lock was `File name too long`).
#[test]
fn an_index_named_with_255_bytes_has_a_lock_too() {
    let dir = tempdir();
    let d = dir.path();
    std::fs::create_dir(d.join("feed")).unwrap();
    std::fs::write(d.join("feed/day1.jsonl"), batches()[0].as_bytes()).unwrap();
    for len in [250, 251, 255] {
        let name = format!("feed/{}.ndx", "i".repeat(len - 4));
        expect(
            d,
            0,
            &["index", "build", "-q", "feed/day1.jsonl", "-o", &name],
        );
        let out = expect(
            d,
            0,
            &[
                "clean",
                "-q",
                "feed/day1.jsonl",
                "--index",
                &name,
                "--update",
                "-o",
                "o.jsonl",
            ],
        );
        assert!(out.stderr.is_empty(), "{out:?}");
        // Every record was in the index already: nothing is kept.
        assert_eq!(std::fs::read(d.join("o.jsonl")).unwrap(), b"", "{len}");
        let locks: Vec<String> = std::fs::read_dir(d.join("feed"))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|n| {
                std::path::Path::new(n)
                    .extension()
                    .is_some_and(|e| e == "lock")
            })
            .collect();
        assert_eq!(locks.len(), 1, "{locks:?}");
        assert!(locks[0].len() <= 255, "{locks:?}");
        // A walk over the feed reads its batch only.
        let out = expect(d, 0, &["scan", "-q", "--json", "feed"]);
        let report: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(
            crate::util::input_paths(&report),
            ["feed/day1.jsonl"],
            "{len}"
        );
        std::fs::remove_file(d.join(&name)).unwrap();
        std::fs::remove_file(d.join("feed").join(&locks[0])).unwrap();
    }
}

/// An index file's bytes but for the time of its last update (the header's
/// checksum over it, and its table's `updated`): two merges of the same
/// indexes made a second apart differ there only.
fn index_bytes_but_time(path: &Path) -> (Vec<u8>, Value) {
    let bytes = std::fs::read(path).unwrap();
    let u64_at = |at: usize| {
        usize::try_from(u64::from_le_bytes(bytes[at..at + 8].try_into().unwrap())).unwrap()
    };
    let (table_at, table_len) = (u64_at(24), u64_at(32));
    let mut table: Value = serde_json::from_slice(&bytes[table_at..table_at + table_len]).unwrap();
    table.as_object_mut().unwrap().remove("updated");
    let mut data = bytes[..56].to_vec();
    data.extend_from_slice(&bytes[64..table_at]);
    (data, table)
}

/// Two batches of short records (six words of 60) and longer documents,
/// B holding copies of A's records (some a word longer) and of its own.
fn merge_batches(d: &Path, per_batch: usize) {
    let mut rng = Lcg(29);
    let mut words = word_source(29);
    let short = |rng: &mut Lcg| {
        let w: Vec<String> = (0..6).map(|_| format!("v{}", rng.next(60))).collect();
        w.join(" ")
    };
    let mut a = Vec::new();
    for i in 0..per_batch {
        a.push(if i % 4 == 3 {
            words(80)
        } else {
            short(&mut rng)
        });
    }
    let mut b: Vec<String> = Vec::new();
    for i in 0..per_batch {
        b.push(match i % 5 {
            0 => a[rng.next(a.len())].clone(),
            1 => format!("{} more", a[rng.next(a.len())]),
            2 if !b.is_empty() => b[rng.next(b.len())].clone(),
            3 => words(80),
            _ => short(&mut rng),
        });
    }
    for (name, texts) in [("a.jsonl", &a), ("b.jsonl", &b)] {
        let lines: String = texts
            .iter()
            .enumerate()
            .map(|(i, t)| json_line(&format!("{name}{i}"), t))
            .collect();
        std::fs::write(d.join(name), lines).unwrap();
    }
    build(d, "a.ndx", "a.jsonl");
    build(d, "b.ndx", "b.jsonl");
}

#[test]
fn a_merge_under_a_small_memory_limit_is_the_whole_merge() {
    // `index merge` held its later index whole, and its buckets (128
    // entries a document: 1.1 GB for 300,000 six-word records); under
    // --memory-limit they are made in parts kept under --tmp-dir (at 64K,
    // 16 KiB of entries a part: dozens here), with the same merged index.
    let dir = tempdir();
    let d = dir.path();
    merge_batches(d, 400);
    std::fs::create_dir(d.join("spill")).unwrap();
    expect(
        d,
        0,
        &["index", "merge", "a.ndx", "b.ndx", "-o", "whole.ndx"],
    );
    for limit in ["64K", "1M"] {
        let out = expect(
            d,
            0,
            &[
                "index",
                "merge",
                "--memory-limit",
                limit,
                "--tmp-dir",
                "spill",
                "a.ndx",
                "b.ndx",
                "-o",
                "parts.ndx",
            ],
        );
        assert!(
            out.stderr.contains("merged a.ndx (400 documents)"),
            "{out:?}"
        );
        let (whole, parts) = (
            index_bytes_but_time(&d.join("whole.ndx")),
            index_bytes_but_time(&d.join("parts.ndx")),
        );
        assert_eq!(parts.1, whole.1, "the tables at {limit}");
        assert_bytes_eq(&parts.0, &whole.0, &format!("the merged index at {limit}"));
        // The parts are unnamed files: none is left.
        assert_eq!(std::fs::read_dir(d.join("spill")).unwrap().count(), 0);
    }
    // B's copies of A's records joined A's clusters: checked against the
    // merged index, B is all copies of what it holds, A's records too.
    let out = check_run(d, "parts.ndx", &["--max-dup-docs", "99%", "b.jsonl"]);
    assert_eq!(out.code, 1, "{out:?}");
    // Whole and in parts, look-ups give the same answers.
    let scan = |index: &str| {
        run(
            d,
            &["scan", "--json", "--index", index, "a.jsonl", "b.jsonl"],
        )
    };
    let (whole, parts) = (scan("whole.ndx"), scan("parts.ndx"));
    assert_eq!(whole.code, parts.code);
    let without_command = |out: &crate::util::Output| {
        let mut v: Value = serde_json::from_slice(&out.stdout).unwrap();
        v.as_object_mut().unwrap().remove("command");
        v["index"].as_object_mut().unwrap().remove("path");
        v
    };
    assert_eq!(without_command(&whole), without_command(&parts));
}

/// Two batches of eight-word records in groups of 40 sharing their first
/// five words (near, not copies: a third of their shingles shared), so
/// that B's buckets hold many representatives of B and make many pairs.
fn grouped_batches(d: &Path, per_batch: usize) {
    let mut words = word_source(31);
    for (name, seed) in [("a", 1u64), ("b", 2)] {
        let mut rng = Lcg(seed);
        let prefixes: Vec<String> = (0..per_batch / 40)
            .map(|_| words(5).trim_end_matches('.').to_owned())
            .collect();
        let lines: String = (0..per_batch)
            .map(|i| {
                let prefix = &prefixes[rng.next(prefixes.len())];
                let tail: Vec<String> = (0..3).map(|_| format!("w{}", rng.next(5000))).collect();
                json_line(
                    &format!("{name}{i}"),
                    &format!("{prefix} {}", tail.join(" ")),
                )
            })
            .collect();
        std::fs::write(d.join(format!("{name}.jsonl")), lines).unwrap();
        build(d, &format!("{name}.ndx"), &format!("{name}.jsonl"));
    }
}

#[test]
fn a_merge_whose_pairs_pass_its_memory_limit_keeps_them_in_runs() {
    // The pairs a merge verifies (a document of B, an earlier document
    // sharing a bucket with it) were held whole, and a merge making more
    // than a quarter of its limit of them stopped, `too large`, after most
    // of its work (two of 300,000 eight-word records in groups of 40 at
    // --memory-limit 64M: 2.6 million pairs, exit 2 after two minutes).
    // They are kept in sorted runs under --tmp-dir now: at 64K here (2,048
    // pairs a run; B makes about 39,000, and main's merge stopped at 64K,
    // 128K and 256K), the merged index is the unlimited merge's, at one
    // thread and at two. (3,200 documents of B take 16,000 of the 16,384
    // bytes a quarter of 64K holds for them.)
    let dir = tempdir();
    let d = dir.path();
    grouped_batches(d, 3200);
    std::fs::create_dir(d.join("spill")).unwrap();
    expect(
        d,
        0,
        &["index", "merge", "a.ndx", "b.ndx", "-o", "whole.ndx"],
    );
    let whole = index_bytes_but_time(&d.join("whole.ndx"));
    for threads in ["1", "2"] {
        let out = crate::util::run_limited(
            d,
            &format!("export RAYON_NUM_THREADS={threads}"),
            &[
                "index",
                "merge",
                "--memory-limit",
                "64K",
                "--tmp-dir",
                "spill",
                "a.ndx",
                "b.ndx",
                "-o",
                "runs.ndx",
            ],
        );
        assert_eq!(out.code, 0, "at {threads} threads: {out:?}");
        let runs = index_bytes_but_time(&d.join("runs.ndx"));
        assert_eq!(runs.1, whole.1, "the tables at {threads} threads");
        assert_bytes_eq(&runs.0, &whole.0, &format!("at {threads} threads"));
        // The runs are unnamed files: none is left.
        assert_eq!(std::fs::read_dir(d.join("spill")).unwrap().count(), 0);
        std::fs::remove_file(d.join("runs.ndx")).unwrap();
    }
}

/// `index merge --memory-limit LIMIT a.ndx b.ndx -o OUT` in `d`, which
/// must exit `code`.
fn merge(d: &std::path::Path, code: i32, limit: &str, out: &str) -> crate::util::Output {
    expect(
        d,
        code,
        &[
            "index",
            "merge",
            "--memory-limit",
            limit,
            "a.ndx",
            "b.ndx",
            "-o",
            out,
        ],
    )
}

#[test]
fn a_merge_that_cannot_fit_its_memory_limit_says_so_and_writes_nothing() {
    let dir = tempdir();
    let d = dir.path();
    merge_batches(d, 4000);
    std::fs::copy(d.join("a.ndx"), d.join("out.ndx")).unwrap();
    let before: Vec<Vec<u8>> = ["a.ndx", "b.ndx", "out.ndx"]
        .iter()
        .map(|f| std::fs::read(d.join(f)).unwrap())
        .collect();
    for out_name in ["out.ndx", "b.ndx", "new.ndx"] {
        let out = merge(d, 2, "64K", out_name);
        assert!(
            out.stderr.contains("neardup: b.ndx: too large: ")
                && out
                    .stderr
                    .contains("--memory-limit 64K holds (index merge)")
                && out.stderr.contains("raise --memory-limit to "),
            "{out:?}"
        );
        let after: Vec<Vec<u8>> = ["a.ndx", "b.ndx", "out.ndx"]
            .iter()
            .map(|f| std::fs::read(d.join(f)).unwrap())
            .collect();
        assert!(after == before, "a failed merge changed a file");
        assert!(!d.join("new.ndx").exists(), "{out:?}");
        let temps = std::fs::read_dir(d)
            .unwrap()
            .filter(|e| {
                let name = e.as_ref().unwrap().file_name();
                name.to_string_lossy().starts_with(".neardup")
            })
            .count();
        assert_eq!(temps, 0, "temporary files left: {out:?}");
    }
    // Below the smallest limit, or no size: refused as the other commands do.
    for (limit, says) in [
        ("1", "less than its minimum, 64K"),
        ("lots", "--memory-limit"),
    ] {
        let out = merge(d, 2, limit, "new.ndx");
        assert!(out.stderr.contains(says), "{out:?}");
        assert!(!d.join("new.ndx").exists());
    }
    // The limit it names is enough.
    let out = merge(d, 2, "64K", "new.ndx");
    let named = out.stderr.split("raise --memory-limit to ").nth(1).unwrap();
    let named = named.split(' ').next().unwrap();
    merge(d, 0, named, "new.ndx");
}
