//! `index merge`: a merged index finds what either index, or one built over
//! both, finds; under `--memory-limit` it is made in parts and runs, the same
//! index, or refused naming the limit it needs.

use super::*;

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
        assert_prints(&out, "(20 of 20)");
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
    assert_says(&out, "--seed 42 (c: 7)");
    assert!(!d.join("abc").exists());
    let c = std::fs::read(d.join("c")).unwrap();
    expect(d, 2, &["index", "merge", "ab", "c", "-o", "c"]);
    assert!(
        std::fs::read(d.join("c")).unwrap() == c,
        "a failed merge into B changed B"
    );
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
        assert_says(&out, "merged a.ndx (400 documents)");
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
        assert_says(&out, says);
        assert!(!d.join("new.ndx").exists());
    }
    // The limit it names is enough.
    let out = merge(d, 2, "64K", "new.ndx");
    let named = out.stderr.split("raise --memory-limit to ").nth(1).unwrap();
    let named = named.split(' ').next().unwrap();
    merge(d, 0, named, "new.ndx");
}

/// `index merge --tmp-dir` naming a file (or a FIFO) was not looked at: a
/// merge that spilled failed with `spill: File exists (os error 17)`, one
/// that did not took the flag as given. It is refused by name before
/// anything is read, as every run refuses it, and nothing is written.
#[test]
fn a_merge_whose_tmp_dir_is_not_a_directory_is_refused_by_name() {
    let dir = tempdir();
    let d = dir.path();
    merge_batches(d, 100);
    std::fs::write(d.join("spill"), "a file\n").unwrap();
    crate::util::mkfifo(&d.join("fifo"));
    for (limit, tmp) in [("64K", "spill"), ("1G", "spill"), ("64K", "fifo")] {
        let args = [
            "index",
            "merge",
            "--memory-limit",
            limit,
            "--tmp-dir",
            tmp,
            "a.ndx",
            "b.ndx",
            "-o",
            "m.ndx",
        ];
        let out = expect(d, 2, &args);
        assert_says(
            &out,
            &format!("neardup: {tmp}: --tmp-dir is not a directory"),
        );
        assert!(!d.join("m.ndx").exists(), "{args:?}");
    }
    assert_eq!(std::fs::read(d.join("spill")).unwrap(), b"a file\n");
}

/// `index merge ... -o m.ndx/` (a name that ends as a directory's) is
/// refused by name before anything is read, as runs refuse it: the merge
/// was made and then failed as `m.ndx/: Not a directory (os error 20)`,
/// naming no flag.
#[test]
fn a_merge_into_a_name_ending_as_a_directory_is_refused_by_name() {
    let dir = tempdir();
    let d = dir.path();
    merge_batches(d, 100);
    let out = expect(d, 2, &["index", "merge", "a.ndx", "b.ndx", "-o", "m.ndx/"]);
    assert_says(
        &out,
        "neardup: m.ndx/ (index merge -o): cannot be written: its name ends as a directory's",
    );
    assert!(!d.join("m.ndx").exists());
}

/// A `--memory-limit` above the memory available is noted as the other
/// commands note it, named as neardup's (`neardup: note: ...`), and not
/// under `-q`: the note was unnamed and said under `-q` too.
#[test]
fn a_merge_limit_above_the_memory_available_is_noted_unless_quiet() {
    let dir = tempdir();
    let d = dir.path();
    merge_batches(d, 100);
    for quiet in [false, true] {
        let mut args = vec!["index", "merge", "--memory-limit", "2G", "a.ndx", "b.ndx"];
        args.extend(["-o", "m.ndx"]);
        if quiet {
            args.push("-q");
        }
        let out = crate::util::command(d, &args)
            .env("NEARDUP_AVAILABLE_MEMORY", "1G")
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        let note = "neardup: note: --memory-limit 2G is more than the 1.0G of memory available";
        assert_eq!(stderr.contains(note), !quiet, "{stderr}");
        assert_eq!(stderr.contains("note:"), !quiet, "{stderr}");
    }
}
