//! Careless flags and hostile inputs: no panic, no injected output lines,
//! compressed input recognised, corrupt index fields refused.

use crate::util::{
    assert_holds, assert_prints, assert_says, data_dir, run, run_exit, run_ok, run_with_stdin,
    tempdir, Output,
};
use std::path::Path;

mod floods;

/// Asserts the run did not panic or abort.
#[track_caller]
fn no_crash(out: &Output, what: &str) {
    assert!(
        out.code == 0 || out.code == 1 || out.code == 2,
        "{what}: {out:?}"
    );
    assert!(!out.stderr.contains("panicked"), "{what}: {out:?}");
    assert!(!out.stderr.contains("memory allocation"), "{what}: {out:?}");
}

/// A paragraph of punctuation only (no words), between two equal paragraphs.
const NO_WORDS: &str = "the same paragraph of several words repeated twice here\n\n...!!! ,,, ???\n\nthe same paragraph of several words repeated twice here\n";

#[test]
fn min_words_zero_with_a_wordless_block_runs() {
    let dir = tempdir();
    std::fs::write(dir.path().join("p.txt"), NO_WORDS).unwrap();
    for threads in ["1", "3"] {
        let out = run_ok(
            dir.path(),
            &["scan", "--min-words", "0", "--threads", threads, "p.txt"],
        );
        assert_prints(&out, "line 5 repeats line 1");
    }
}

#[test]
fn no_flag_value_panics() {
    let dir = tempdir();
    let d = dir.path();
    std::fs::write(d.join("p.txt"), NO_WORDS).unwrap();
    copy_wire(d);
    let numbers = [
        "0",
        "1",
        "-1",
        "2",
        "4096",
        "4097",
        "18446744073709551615",
        "18446744073709551616",
        "9223372036854775808",
        "NaN",
        "inf",
        "-inf",
        "1e308",
        "0.5",
        "1.0000001",
        "",
        "x",
    ];
    let flags = [
        "--block-shingle",
        "--block-threshold",
        "--min-words",
        "--max-gap",
        "--seed",
        "--threshold",
        "--doc-shingle",
        "--num-perm",
        "--hamming",
        "--top",
        "--memory-limit",
    ];
    for flag in flags {
        for value in numbers {
            for input in ["p.txt", "w.jsonl"] {
                let out = run(d, &["scan", flag, value, input]);
                no_crash(&out, &format!("{flag} {value} {input}"));
                if out.code == 2 {
                    assert!(
                        out.stderr.starts_with("neardup: ") || out.stderr.starts_with("error: "),
                        "{flag} {value}: a message says why: {out:?}"
                    );
                }
            }
        }
    }
    for (bands, rows) in [
        ("18446744073709551615", "2"),
        ("4294967296", "4294967296"),
        ("0", "1"),
        ("1", "0"),
    ] {
        let out = run(d, &["scan", "--bands", bands, "--rows", rows, "w.jsonl"]);
        no_crash(&out, &format!("--bands {bands} --rows {rows}"));
        assert_eq!(out.code, 2, "{out:?}");
    }
    for check in ["--max-dup-docs", "--max-dup-blocks", "--max-dup-bytes"] {
        for value in ["NaN", "-0", "inf", "1e400", "200%", "%", "0"] {
            let out = run(d, &["check", check, value, "w.jsonl"]);
            no_crash(&out, &format!("{check} {value}"));
        }
    }
}

#[test]
fn threads_above_eight_per_core_are_capped_with_a_note() {
    let dir = tempdir();
    std::fs::write(dir.path().join("p.txt"), NO_WORDS).unwrap();
    let capped = run_ok(dir.path(), &["scan", "--threads", "1000000", "p.txt"]);
    assert!(
        capped
            .stderr
            .contains("--threads 1000000 is more than 8 per core; using "),
        "{capped:?}"
    );
    let one = run(dir.path(), &["scan", "--threads", "1", "p.txt"]);
    assert_eq!(capped.stdout, one.stdout);
    assert!(!one.stderr.contains("per core"), "{one:?}");
}

/// `--method simhash --hamming 20` (the largest allowed before) keyed its
/// 1,771 tables by 8 bits each: every pair of documents was a candidate, and
/// 20,000 records did not finish in 10 minutes. Above 10 it is refused by
/// name, in every command that takes it; 10 runs, and --help says so.
#[test]
fn a_hamming_distance_that_compares_every_pair_is_refused() {
    let dir = tempdir();
    let d = dir.path();
    crate::util::write_two_copies(&d.join("w.jsonl"));
    let simhash = ["--method", "simhash", "--hamming"];
    for k in ["11", "20"] {
        for command in [
            &["scan"][..],
            &["clean", "-o", "o.jsonl"],
            &["check"],
            &["index", "build", "-o", "x.ndx"],
        ] {
            let mut args = command.to_vec();
            args.extend_from_slice(&simhash);
            args.extend_from_slice(&[k, "w.jsonl"]);
            let out = run(d, &args);
            assert_eq!(out.code, 2, "{args:?}: {out:?}");
            assert!(
                out.stderr
                    .starts_with(&format!("neardup: --hamming {k} is more than 10: ")),
                "{args:?}: {out:?}"
            );
            assert!(!d.join("o.jsonl").exists() && !d.join("x.ndx").exists());
        }
    }
    let out = run_ok(
        d,
        &["scan", "--method", "simhash", "--hamming", "10", "w.jsonl"],
    );
    assert!(
        out.stdout_str().contains("1 duplicate"),
        "the two copies are found: {out:?}"
    );
    let help = run(d, &["scan", "--help"]).stdout_str();
    assert!(help.contains("at most 10"), "{help}");
}

#[test]
fn threads_capped_under_quiet_say_nothing() {
    let dir = tempdir();
    std::fs::write(dir.path().join("p.txt"), NO_WORDS).unwrap();
    let capped = run_ok(dir.path(), &["scan", "-q", "--threads", "1000000", "p.txt"]);
    assert_eq!(capped.stderr, "", "{capped:?}");
}

#[test]
fn memory_limits_below_the_minimum_or_beyond_64_bits_are_refused() {
    let dir = tempdir();
    std::fs::write(dir.path().join("p.txt"), NO_WORDS).unwrap();
    for tiny in ["1", "100", "4096", "63K", "0.01M"] {
        let out = run(dir.path(), &["scan", "--memory-limit", tiny, "p.txt"]);
        assert_eq!(out.code, 2, "{tiny}: {out:?}");
        assert!(
            out.stderr.contains(&format!(
                "--memory-limit {tiny} is less than its minimum, 64K"
            )),
            "{tiny}: {out:?}"
        );
        assert!(out.stdout.is_empty(), "{tiny}: {out:?}");
    }
    for huge in ["16777216T", "99999999999999999999T", "1e30"] {
        let out = run(dir.path(), &["scan", "--memory-limit", huge, "p.txt"]);
        assert_eq!(out.code, 2, "{huge}: {out:?}");
        assert!(out.stderr.starts_with("neardup: --memory-limit"), "{out:?}");
    }
    // The minimum itself works, and a limit above the memory there is runs
    // (as the memory allows) with a note saying so.
    let least = run_ok(dir.path(), &["scan", "--memory-limit", "64K", "p.txt"]);
    let whole = run(dir.path(), &["scan", "p.txt"]);
    assert_eq!(least.stdout, whole.stdout);
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_neardup"));
    let above = cmd
        .current_dir(dir.path())
        .env("NEARDUP_AVAILABLE_MEMORY", "1G")
        .args(["scan", "--memory-limit", "999999T", "p.txt"])
        .output()
        .unwrap();
    assert_eq!(above.status.code(), Some(0), "{above:?}");
    assert_eq!(above.stdout, whole.stdout);
    let stderr = String::from_utf8_lossy(&above.stderr);
    assert_holds(
        &stderr,
        "--memory-limit 999999T is more than the 1.0G of memory available",
    );
    // The variable that says how much memory there is must be a size too.
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_neardup"));
    let bad = cmd
        .current_dir(dir.path())
        .env("NEARDUP_AVAILABLE_MEMORY", "lots")
        .args(["scan", "p.txt"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2), "{bad:?}");
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains(
            "NEARDUP_AVAILABLE_MEMORY takes a size such as 1G, 512M or 800K, not \"lots\""
        ),
        "{bad:?}"
    );
}

/// Two equal records whose ids try to inject workflow commands and ANSI escapes.
fn hostile_records() -> String {
    let text = "the quick brown fox jumps over the lazy dog again and again today";
    [
        serde_json::json!({"id": "doc\n::error::X", "text": text}),
        serde_json::json!({"id": "e\u{1b}[31mred\r::warning::Y", "text": text}),
    ]
    .iter()
    .fold(String::new(), |out, v| out + &v.to_string() + "\n")
}

/// No line of `text` starts a workflow command other than neardup's own, and
/// no escape or carriage return is in it.
#[track_caller]
fn no_injection(text: &str, what: &str) {
    assert!(!text.contains('\u{1b}'), "{what}: {text}");
    assert!(!text.contains('\r'), "{what}: {text}");
    for line in text.lines() {
        assert!(
            !line.starts_with("::error::X") && !line.starts_with("::warning::Y"),
            "{what}: injected line {line:?} in\n{text}"
        );
    }
}

/// `--preview` shows the input's own text: an ANSI escape or a C1 control
/// in a repeated block is shown escaped in the text report and `check`'s.
#[test]
fn previews_of_removed_text_show_control_characters_escaped() {
    let dir = tempdir();
    let d = dir.path();
    let block = "evil \u{1b}[31mred \u{9b}2J words that repeat in both documents here";
    let records = [
        serde_json::json!({"id": "a", "text": format!("first document opening words here\n\n{block}")}),
        serde_json::json!({"id": "b", "text": format!("second document opening words too\n\n{block}")}),
    ]
    .iter()
    .fold(String::new(), |out, v| out + &v.to_string() + "\n");
    std::fs::write(d.join("p.jsonl"), records).unwrap();
    for command in ["scan", "check"] {
        let out = run(d, &[command, "--preview", "200", "p.jsonl"]);
        no_crash(&out, command);
        let stdout = out.stdout_str();
        assert!(
            stdout.contains(r"evil \u{1b}[31mred \u{9b}2J words"),
            "{command}: {stdout}"
        );
        no_injection(&stdout, command);
        assert!(!stdout.contains('\u{9b}'), "{command}: {stdout}");
    }
}

#[test]
fn ids_and_file_names_cannot_inject_lines_or_escapes() {
    let dir = tempdir();
    let d = dir.path();
    let name = "in\n::error::X.jsonl";
    std::fs::write(d.join(name), hostile_records()).unwrap();
    let text = run_ok(d, &["scan", name]);
    no_injection(&text.stdout_str(), "text report");
    assert!(
        text.stdout_str().contains(r"[doc\n::error::X]"),
        "the id is shown escaped: {text:?}"
    );
    assert_prints(&text, r"e\u{1b}[31mred\r::warning::Y");
    let github = run_exit(d, 1, &["check", "--format", "github", name]);
    no_injection(&github.stdout_str(), "github annotations");
    no_injection(&github.stderr, "github stderr");
    // JSON keeps the ids as they are (serde escapes them).
    let json = run(d, &["scan", "--json", name]);
    let report: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(report["inputs"][0]["path"], name);
    // An error about the file names it escaped on stderr.
    let bad = "bad\n::error::X.jsonl";
    std::fs::write(d.join(bad), "{\"text\": 3}\n").unwrap();
    let err = run_exit(d, 2, &["scan", bad]);
    assert_says(&err, r"bad\n::error::X.jsonl:1: ");
    no_injection(&err.stderr, "stderr");
}

/// A name that begins a line of the text report (a document's removals, a
/// skipped input, `index stats`) cannot make it a workflow command: a runner
/// reads `::` after leading spaces as one.
#[test]
fn a_name_beginning_a_line_cannot_be_a_workflow_command() {
    let dir = tempdir();
    let d = dir.path();
    let block = "a paragraph long enough to be judged a repeated block of words here";
    let text = format!("opening words of the file\n\n{block}\n\nmiddle words apart\n\n{block}\n");
    std::fs::write(d.join("::error::X.txt"), text).unwrap();
    std::fs::write(d.join("::warning::Y.txt"), b"binary\0file").unwrap();
    let inputs = ["::error::X.txt", "::warning::Y.txt"];
    for command in [
        &["scan"][..],
        &["check"],
        &["clean", "--out-dir", "out", "--report", "-"],
    ] {
        let out = run(d, &[command, &inputs[..]].concat());
        no_crash(&out, command[0]);
        let stdout = out.stdout_str();
        assert!(
            stdout.contains(r"\u{3a}:error::X.txt: 1 of 4 blocks removed"),
            "{command:?}: {stdout}"
        );
        assert!(
            stdout.contains(r"\u{3a}:warning::Y.txt: binary"),
            "{command:?}: {stdout}"
        );
        for line in stdout.lines() {
            assert!(
                !line.trim_start().starts_with("::error::X")
                    && !line.trim_start().starts_with("::warning::Y"),
                "{command:?}: injected line {line:?} in\n{stdout}"
            );
        }
        assert_ne!(out.code, 2, "{command:?}: {out:?}");
    }
    run_ok(
        d,
        &["index", "build", "::error::X.txt", "-o", "::error::X.ndx"],
    );
    let stats = run_ok(d, &["index", "stats", "::error::X.ndx"]);
    assert!(
        stats
            .stdout_str()
            .starts_with(r"\u{3a}:error::X.ndx: neardup index"),
        "{stats:?}"
    );
}

#[test]
fn file_names_found_by_walking_are_escaped_in_every_message() {
    let dir = tempdir();
    let d = dir.path();
    let name = "l\n::error::X.txt";
    for sub in ["one", "two"] {
        std::fs::create_dir(d.join(sub)).unwrap();
        // Latin-1: a warning names the file.
        std::fs::write(d.join(sub).join(name), b"caf\xe9 words in a line\n").unwrap();
    }
    // `-v` names each input read, with the warning for invalid UTF-8.
    let verbose = run_ok(d, &["scan", "-v", "one"]);
    assert_says(&verbose, r"read one/l\n::error::X.txt as text");
    assert_says(&verbose, r"warning: one/l\n::error::X.txt:1: invalid UTF-8");
    no_injection(&verbose.stderr, "-v");
    // Two inputs for one file under --out-dir.
    let both = run_exit(d, 2, &["clean", "one", "two", "--out-dir", "out"]);
    assert_says(&both, "would both be written to");
    no_injection(&both.stderr, "--out-dir collision");
    // An --out-dir that is the input tree.
    let over = run_exit(d, 2, &["clean", "one", "--out-dir", "one"]);
    assert_says(&over, "a run never writes a file it reads");
    no_injection(&over.stderr, "--out-dir over the input");
}

#[test]
fn shared_block_text_is_escaped_in_the_text_report() {
    let dir = tempdir();
    let d = dir.path();
    let block = "a shared \u{1b}[2J paragraph of words that several documents carry along\n";
    for name in ["a.txt", "b.txt", "c.txt"] {
        std::fs::write(
            d.join(name),
            format!(
                "{name} has its own words here, in a paragraph of its own, not shared\n\n{block}"
            ),
        )
        .unwrap();
    }
    let out = run(d, &["scan", "--level", "blocks", "a.txt", "b.txt", "c.txt"]);
    assert!(out.code == 0, "{out:?}");
    let text = out.stdout_str();
    no_injection(&text, "shared blocks");
    assert!(text.contains(r"\u{1b}[2J"), "{text}");
}

#[cfg(unix)]
#[test]
fn file_names_that_are_not_utf8_stay_distinct() {
    use std::os::unix::ffi::OsStrExt as _;
    let dir = tempdir();
    let d = dir.path();
    let text = "one paragraph of ordinary words that both files hold in full\n";
    let names = [&b"n\xff.txt"[..], &b"n\xfe.txt"[..]];
    for name in names {
        std::fs::write(d.join(std::ffi::OsStr::from_bytes(name)), text).unwrap();
    }
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_neardup"))
        .args(["scan", "--json"])
        .args(names.iter().map(|n| std::ffi::OsStr::from_bytes(n)))
        .current_dir(d)
        .env_clear()
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let paths = crate::util::input_paths(&report);
    assert_eq!(paths, [r"n\xff.txt", r"n\xfe.txt"]);
}

#[test]
fn lone_json_surrogate_names_file_line_and_column() {
    let dir = tempdir();
    std::fs::write(
        dir.path().join("s.jsonl"),
        "{\"text\":\"fine\"}\n{\"id\":\"a\",\"text\":\"hello \\ud800 world\"}\n",
    )
    .unwrap();
    let out = run_exit(dir.path(), 2, &["scan", "s.jsonl"]);
    assert_says(
        &out,
        r#"s.jsonl:2: field "text": lone UTF-16 surrogate \ud800 at column 25"#,
    );
}

/// A zstd stream of `bytes` after a skippable frame, as `pzstd` writes.
fn pzstd_like(bytes: &[u8]) -> Vec<u8> {
    let mut out = vec![0x50, 0x2A, 0x4D, 0x18];
    out.extend_from_slice(&4u32.to_le_bytes());
    out.extend_from_slice(&[7, 0, 0, 0]);
    out.extend_from_slice(&zstd::encode_all(bytes, 3).unwrap());
    out
}

#[test]
fn zstd_on_stdin_after_a_skippable_frame_is_decompressed() {
    let article = std::fs::read(data_dir().join("seed").join("article.txt")).unwrap();
    let dir = tempdir();
    let plain = run_with_stdin(dir.path(), &["clean", "-"], Some(&article));
    assert_eq!(plain.code, 0, "{plain:?}");
    let packed = pzstd_like(&article);
    for extra in [&[][..], &["--memory-limit", "1M"][..]] {
        let mut args = vec!["clean"];
        args.extend_from_slice(extra);
        args.push("-");
        let out = run_with_stdin(dir.path(), &args, Some(&packed));
        assert_eq!(out.code, 0, "{extra:?}: {out:?}");
        assert_eq!(out.stdout, plain.stdout, "{extra:?}");
    }
}

/// An edit of an index's table.
type Edit<'a> = Box<dyn Fn(&mut serde_json::Value) + 'a>;

/// The wire-story corpus as `w.jsonl` in `d`.
fn copy_wire(d: &Path) {
    std::fs::copy(
        data_dir().join("near-duplicate-docs").join("wire.jsonl"),
        d.join("w.jsonl"),
    )
    .unwrap();
}

/// The wire-story corpus as `w.jsonl` in `d` (see [`copy_wire`]), and the
/// bytes of an index built from it.
fn wire_index(d: &Path) -> Vec<u8> {
    copy_wire(d);
    run_ok(d, &["index", "build", "-q", "-o", "wire.ndx", "w.jsonl"]);
    std::fs::read(d.join("wire.ndx")).unwrap()
}

/// Index `bytes` with its table edited by `edit` and its checksums made
/// valid again: a crafted file, not a damaged one.
fn reseal(bytes: &[u8], edit: impl Fn(&mut serde_json::Value)) -> Vec<u8> {
    let u64_at = |at: usize| {
        usize::try_from(u64::from_le_bytes(bytes[at..at + 8].try_into().unwrap())).unwrap()
    };
    let (table_at, table_len, sums_at) = (u64_at(24), u64_at(32), u64_at(40));
    let mut table: serde_json::Value =
        serde_json::from_slice(&bytes[table_at..table_at + table_len]).unwrap();
    edit(&mut table);
    let table = serde_json::to_vec(&table).unwrap();
    let mut out = bytes[..table_at].to_vec();
    out.extend_from_slice(&table);
    let len = out.len() as u64;
    out[16..24].copy_from_slice(&len.to_le_bytes());
    out[32..40].copy_from_slice(&(table.len() as u64).to_le_bytes());
    let mut hasher = xxhash_rust::xxh3::Xxh3Default::new();
    hasher.update(&out[..56]);
    hasher.update(&out[sums_at..table_at]);
    hasher.update(&table);
    let sum = hasher.digest();
    out[56..64].copy_from_slice(&sum.to_le_bytes());
    out
}

/// `neardup args` in `d` (about the crafted index `name`) fails with a
/// corrupt-index error, never a crash.
#[track_caller]
fn is_corrupt_index_error(d: &Path, name: &str, args: &[&str]) {
    let out = run(d, args);
    no_crash(&out, name);
    assert_eq!(out.code, 2, "{name} {args:?}: {out:?}");
    assert!(
        out.stderr.contains("corrupt index"),
        "{name} {args:?}: {out:?}"
    );
}

#[test]
fn crafted_index_fields_are_corrupt_index_errors() {
    let dir = tempdir();
    let d = dir.path();
    let good = wire_index(d);
    // Resealed unchanged, it is still a good index.
    std::fs::write(d.join("same.ndx"), reseal(&good, |_| {})).unwrap();
    run_ok(d, &["scan", "--index", "same.ndx", "w.jsonl"]);
    let big = serde_json::json!(1u64 << 63);
    let max = serde_json::json!(u64::MAX);
    let cases: Vec<(&str, Edit<'_>)> = vec![
        ("first_block", Box::new(|t| t["first_block"] = big.clone())),
        (
            "first_document",
            Box::new(|t| t["first_document"] = big.clone()),
        ),
        ("blocks", Box::new(|t| t["blocks"] = max.clone())),
        ("documents", Box::new(|t| t["documents"] = max.clone())),
        (
            "documents_u32",
            Box::new(|t| t["documents"] = serde_json::json!(1u64 << 32)),
        ),
        (
            "dir_bits",
            Box::new(|t| {
                for s in t["sections"].as_object_mut().unwrap().values_mut() {
                    s["dir_bits"] = serde_json::json!(200);
                }
            }),
        ),
        (
            "section_len",
            Box::new(|t| t["sections"]["strings"]["len"] = max.clone()),
        ),
    ];
    for (name, edit) in &cases {
        let file = format!("{name}.ndx");
        std::fs::write(d.join(&file), reseal(&good, edit)).unwrap();
        for args in [
            &["scan", "--index", &file, "w.jsonl"][..],
            &["check", "--reference", &file, "w.jsonl"][..],
            &["index", "stats", "--verify", &file][..],
        ] {
            is_corrupt_index_error(d, name, args);
        }
    }
}

#[test]
fn crafted_first_numbers_in_range_are_corrupt_index_errors_on_look_up() {
    // Numbers that pass the range check when the file is opened, but put
    // every look-up before the file's first record.
    let dir = tempdir();
    let d = dir.path();
    // 60 records of 4 paragraphs each from a pool of 30: every record
    // repeats blocks of earlier ones.
    let words: Vec<&str> = "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi rho sigma tau upsilon phi chi psi omega".split(' ').collect();
    let mut state = 7u64;
    let mut next = |n: usize| {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1);
        usize::try_from(state >> 33).unwrap() % n
    };
    let pool: Vec<String> = (0..30)
        .map(|_| {
            (0..20)
                .map(|_| words[next(words.len())])
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect();
    let mut corpus = String::new();
    for i in 0..60 {
        let text: Vec<&str> = (0..4).map(|_| pool[next(30)].as_str()).collect();
        let record = serde_json::json!({"id": format!("d{i}"), "text": text.join("\n\n")});
        corpus.push_str(&record.to_string());
        corpus.push('\n');
    }
    std::fs::write(d.join("w.jsonl"), corpus).unwrap();
    run_ok(d, &["index", "build", "-q", "-o", "x.ndx", "w.jsonl"]);
    let good = std::fs::read(d.join("x.ndx")).unwrap();
    for (field, count) in [("first_block", "blocks"), ("first_document", "documents")] {
        let file = format!("{field}.ndx");
        std::fs::write(
            d.join(&file),
            reseal(&good, |t| t[field] = t[count].clone()),
        )
        .unwrap();
        for args in [
            &["scan", "--index", &file, "w.jsonl"][..],
            &["check", "--reference", &file, "w.jsonl"][..],
            &["index", "stats", "--verify", &file][..],
            &["index", "merge", &file, "x.ndx", "-o", "m.ndx"][..],
        ] {
            is_corrupt_index_error(d, field, args);
        }
    }
}

/// `bytes` zstd-compressed (level 19: repeats pack to next to nothing).
fn zst(bytes: &[u8]) -> Vec<u8> {
    zstd::encode_all(bytes, 19).unwrap()
}

#[test]
fn compressed_zeros_are_binary_at_once_whole_and_in_chunks() {
    let dir = tempdir();
    let d = dir.path();
    let mut zeros = b"some text first\n".to_vec();
    zeros.resize(64 << 20, 0);
    std::fs::write(d.join("z.txt.zst"), zst(&zeros)).unwrap();
    std::fs::write(d.join("ok.txt"), NO_WORDS).unwrap();
    for extra in [&[][..], &["--memory-limit", "8M"][..]] {
        let mut args = vec!["scan"];
        args.extend_from_slice(extra);
        args.extend(["z.txt.zst", "ok.txt"]);
        let out = run(d, &args);
        assert_eq!(out.code, 0, "{extra:?}: {out:?}");
        assert!(
            out.stderr
                .contains("z.txt.zst: binary file (NUL byte at byte offset 16)"),
            "{extra:?}: {out:?}"
        );
    }
}

#[test]
fn a_text_bomb_is_a_clear_error_with_or_without_a_memory_limit() {
    let dir = tempdir();
    let d = dir.path();
    let text = "the same line of text again and again\n".repeat(1 << 20);
    std::fs::write(d.join("t.txt.zst"), zst(text.as_bytes())).unwrap();
    // In chunks: a document larger than a chunk.
    let out = run_exit(d, 2, &["scan", "--memory-limit", "4M", "t.txt.zst"]);
    assert_says(
        &out,
        "neardup: t.txt.zst: too large: decompresses to more than ",
    );
    assert_says(&out, "raise --memory-limit");
    // No limit: the run counts the bytes it decompresses to, more than
    // the memory available holds, and works in chunks.
    let whole = std::process::Command::new(env!("CARGO_BIN_EXE_neardup"))
        .args(["scan", "t.txt.zst"])
        .current_dir(d)
        .env_clear()
        .env("NEARDUP_AVAILABLE_MEMORY", "40M")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&whole.stderr);
    assert_eq!(whole.status.code(), Some(2), "{stderr}");
    assert_holds(&stderr, "working in chunks");
    assert_holds(&stderr, "t.txt.zst: too large: decompresses to more than ");
    // A plain text file larger than a chunk: the same rule.
    std::fs::write(d.join("t.txt"), &text).unwrap();
    let plain = run_exit(d, 2, &["scan", "--memory-limit", "4M", "t.txt"]);
    assert_says(
        &plain,
        "t.txt: too large: one document of 39845888 bytes of text",
    );
}

#[test]
fn a_record_larger_than_a_chunk_is_named_by_line() {
    let dir = tempdir();
    let d = dir.path();
    let mut records = String::from("{\"text\":\"a small record\"}\n");
    records.push_str(&serde_json::json!({"text": "word ".repeat(1 << 20)}).to_string());
    records.push('\n');
    std::fs::write(d.join("r.jsonl.zst"), zst(records.as_bytes())).unwrap();
    let out = run_exit(d, 2, &["scan", "--memory-limit", "4M", "r.jsonl.zst"]);
    assert_says(&out, "r.jsonl.zst:2: too large: a text of 5242880 bytes");
}

#[test]
fn an_index_of_the_old_containment_rule_is_refused() {
    // Engine 1 read `--measure containment` as |A∩B|/min(|A|,|B|); the same
    // flag now means the share of a document's own shingles. An index built
    // under the old rule would answer with another meaning: refused by name.
    let dir = tempdir();
    let d = dir.path();
    let new = wire_index(d);
    let old = reseal(&new, |t| t["params"]["engine"] = serde_json::json!(1));
    std::fs::write(d.join("old.ndx"), old).unwrap();
    let out = run_exit(d, 2, &["scan", "--index", "old.ndx", "w.jsonl"]);
    assert_says(&out, "built with other settings");
    let engine = format!("--engine 1 (this run: {})", neardup::store::ENGINE_VERSION);
    assert_says(&out, &engine);
}
