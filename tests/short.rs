//! Short documents: what makes them cheap leaves every answer as it was.

use neardup::config::Config;
use neardup::input::Corpus;
use neardup::pipeline::{analyze, analyze_after};
use neardup::progress::Silent;

use crate::util::{run, run_ok, tempdir};

#[test]
fn documents_of_few_shingles_pair_as_when_every_one_is_keyed() {
    // Documents of 3 to 24 words: near copies, exact copies, ones cut
    // from a longer document, and unique ones. A plain run keys only
    // those another document shares a shingle with; a run that keeps its
    // sets for an index keys every one.
    let text = |from: usize, n: usize| {
        (from..from + n)
            .map(|i| format!("w{i}"))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let mut texts: Vec<String> = Vec::new();
    for d in 0..400 {
        let n = 6 + (d / 8) % 10;
        texts.push(match d % 8 {
            0 => text(d * 50, n),
            // A near copy of the one before: a word added.
            1 => format!("{} x{d}", text((d - 1) * 50, n)),
            // An exact copy.
            2 => texts[d - 2].clone(),
            // Long: 24 words.
            4 => text(d * 50, 24),
            // Cut from the long one before it.
            5 => text((d - 1) * 50 + 5, 10),
            // Fewer words than a shingle.
            6 => text(d * 50, 3),
            _ => text(d * 50, 8),
        });
    }
    let corpus = Corpus::from_texts(
        texts
            .into_iter()
            .enumerate()
            .map(|(d, t)| (format!("d{d}"), t)),
    );
    let config = Config::default();
    let plain = analyze(&corpus, &config);
    let keyed = analyze_after(&corpus, &config, &Silent, None, true).unwrap();
    let (a, b) = (&plain.doc_level, &keyed.doc_level);
    assert_eq!(a.candidate_pairs, b.candidate_pairs);
    assert_eq!(a.verified_pairs, b.verified_pairs);
    assert_eq!(a.cluster_of, b.cluster_of);
    assert_eq!(a.rep_of, b.rep_of);
    assert_eq!(plain.doc_dropped, keyed.doc_dropped);
    // The document level alone keys them as both levels do: the same.
    let docs = Config {
        level: neardup::config::Level::Docs,
        ..Config::default()
    };
    let alone = analyze(&corpus, &docs);
    let c = &alone.doc_level;
    assert_eq!(c.candidate_pairs, a.candidate_pairs);
    assert_eq!(c.verified_pairs, a.verified_pairs);
    assert_eq!(c.cluster_of, a.cluster_of);
    assert_eq!(c.rep_of, a.rep_of);
    assert_eq!(alone.doc_dropped, plain.doc_dropped);
    // Near copies, exact copies and cut-outs were found.
    for (d, rep) in [(9, 8), (10, 8), (13, 12)] {
        assert_eq!(a.rep_of[d], Some(rep), "{d}");
    }
    assert!(a.dropped.iter().filter(|&&d| d).count() >= 140);
}

/// 2,000 JSON Lines records of 6 to 20 words (2 to 16 shingles, the
/// documents a run keys only when another shares a shingle): every tenth a
/// copy of one 800 records earlier with a word added (a near copy in
/// another chunk), every tenth (another residue) an exact copy of one 1,300
/// earlier, every tenth a cut of one 300 earlier, the rest unique.
fn short_records() -> Vec<String> {
    let words = |from: usize, n: usize| words('w', from, n).join(" ");
    let mut texts: Vec<String> = Vec::new();
    for d in 0..2000 {
        let n = 6 + d % 15;
        let text = match d % 10 {
            3 if d >= 800 => format!("{} added{d}", texts[d - 800]),
            6 if d >= 1300 => texts[d - 1300].clone(),
            // The record 300 earlier less its first word (it has 7 or more).
            8 if d >= 300 => texts[d - 300]
                .split_once(' ')
                .expect("two words or more")
                .1
                .to_owned(),
            _ => words(d * 40, n),
        };
        texts.push(text);
    }
    as_records('s', &texts)
}

/// Words `from..from + n` of a made-up language of a million words, each
/// `prefix` and a number.
fn words(prefix: char, from: usize, n: usize) -> Vec<String> {
    (from..from + n)
        .map(|i| format!("{prefix}{}", (i * 7919) % 1_000_003))
        .collect()
}

/// `texts` as JSON Lines records (one a line, each ending in a newline),
/// with ids `prefix` and the record's number.
fn as_records(prefix: char, texts: &[String]) -> Vec<String> {
    texts
        .iter()
        .enumerate()
        .map(|(d, t)| format!("{{\"id\":\"{prefix}{d}\",\"text\":\"{t}\"}}\n"))
        .collect()
}

/// `clean -v` of `input` in `dir`: its output, its JSON report without the
/// command and parameters (which name the flags), and its messages.
fn clean_of(
    dir: &std::path::Path,
    input: &str,
    extra: &[&str],
) -> (String, serde_json::Value, String) {
    let report = format!("{input}.{}.report.json", extra.join("_"));
    let mut args = vec!["clean", "-v", "--json", "--report", &report, input];
    args.extend_from_slice(extra);
    let out = run(dir, &args);
    assert_eq!(out.code, 0, "{extra:?}: {out:?}");
    let mut rep: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join(&report)).unwrap()).unwrap();
    rep["command"] = serde_json::Value::Null;
    rep["parameters"] = serde_json::Value::Null;
    rep["index"] = serde_json::Value::Null;
    (out.stdout_str(), rep, out.stderr)
}

#[test]
fn short_records_in_chunks_and_against_an_index_find_what_one_run_finds() {
    let dir = tempdir();
    let d = dir.path();
    let records = short_records();
    std::fs::write(d.join("all.jsonl"), records.concat()).unwrap();
    std::fs::write(d.join("b1.jsonl"), records[..1000].concat()).unwrap();
    std::fs::write(d.join("b2.jsonl"), records[1000..].concat()).unwrap();
    let (whole, whole_report, _) = clean_of(d, "all.jsonl", &["-j", "2"]);
    // What the records were made to hold was found: the exact copies, the
    // near copies and the cuts (one of each a hundred records; the rest
    // unique), whichever chunk their first copy is in.
    let kept: Vec<&str> = whole.lines().collect();
    let kept_id = |i: usize| kept.iter().any(|l| l.contains(&format!("\"s{i}\"")));
    for i in [1306, 1906, 803, 1993, 308, 318] {
        assert!(!kept_id(i), "s{i} is a copy: kept");
    }
    for i in [0, 1, 2, 1305, 1999] {
        assert!(kept_id(i), "s{i} is unique or a first copy: dropped");
    }
    let dropped = 2000 - kept.len();
    assert!((280..=400).contains(&dropped), "{dropped} dropped");
    // In chunks of a few hundred records (at 1M: 4M would read these
    // 150 KB whole, as they fit), and one batch after the other through an
    // index: the second batch is checked against the first's documents.
    assert_chunks_and_batches_match(
        d,
        "all.jsonl",
        ["b1.jsonl", "b2.jsonl"],
        ("1M", 3),
        (&whole, &whole_report),
    );
}

/// 3,000 records: six-word records of which every third starts with one
/// five-word phrase (a flood of holders of one shingle, more in a chunk than
/// a chunk's segment holds under a shingle) and every seventh with another
/// (fewer a chunk: held under it in every chunk's segment and found by every
/// later chunk); ordinary records of 60 words between them, every fifth of
/// which holds a short record 900 records earlier (a short document in an
/// earlier chunk that shares buckets with an ordinary one); short records
/// that are an earlier ordinary one's first six words; and every eleventh a
/// near copy (a word added) of a short record 1,100 earlier.
fn mixed_records() -> Vec<String> {
    let words = |from: usize, n: usize| words('m', from, n);
    let mut texts: Vec<String> = Vec::new();
    for d in 0..3000 {
        let own = words(d * 100, 60);
        let text = if d % 11 == 5 && d >= 1100 && texts[d - 1100].split(' ').count() == 6 {
            format!("{} near{d}", texts[d - 1100])
        } else if d % 4 == 1 {
            // Ordinary: 60 words, every fifth holding a short record.
            let mut w = own.join(" ");
            if d % 5 == 1 && d >= 900 && texts[d - 900].split(' ').count() == 6 {
                w = format!(
                    "{} {} {}",
                    own[..30].join(" "),
                    texts[d - 900],
                    own[30..].join(" ")
                );
            }
            w
        } else if d % 13 == 2 && d >= 13 && texts[d - 12].split(' ').count() > 6 {
            texts[d - 12]
                .split(' ')
                .take(6)
                .collect::<Vec<_>>()
                .join(" ")
        } else if d % 3 == 0 {
            format!("flood phrase of many records {}", own[0])
        } else if d % 7 == 0 {
            format!("rarer phrase held by some {}", own[0])
        } else {
            own[..6].join(" ")
        };
        texts.push(text);
    }
    as_records('m', &texts)
}

#[test]
fn floods_of_one_phrase_and_short_records_among_ordinary_ones_in_chunks() {
    let dir = tempdir();
    let d = dir.path();
    let records = mixed_records();
    std::fs::write(d.join("mixed.jsonl"), records.concat()).unwrap();
    std::fs::write(d.join("m1.jsonl"), records[..1500].concat()).unwrap();
    std::fs::write(d.join("m2.jsonl"), records[1500..].concat()).unwrap();
    let (whole, whole_report, _) = clean_of(d, "mixed.jsonl", &["-j", "2"]);
    let kept: Vec<&str> = whole.lines().collect();
    let kept_id = |i: usize| kept.iter().any(|l| l.contains(&format!("\"m{i}\"")));
    // A near copy of a short record in another chunk, and short records an
    // earlier ordinary one holds, are found (the pairs a chunked run must
    // not miss).
    // (Of a flood's record, a near copy may share only the flood's
    // buckets, trimmed to their first and last members: left out.)
    let near: Vec<usize> = (1100..3000)
        .filter(|&i| records[i].contains(&format!("near{i}")))
        .filter(|&i| !records[i].contains("phrase"))
        .collect();
    assert!(near.len() > 30, "{} near copies", near.len());
    for &i in &near {
        assert!(!kept_id(i), "m{i} is a near copy of m{}: kept", i - 1100);
    }
    assert_chunks_and_batches_match(
        d,
        "mixed.jsonl",
        ["m1.jsonl", "m2.jsonl"],
        ("4M", 2),
        (&whole, &whole_report),
    );
}

/// `clean` of `all` in chunks (`--memory-limit limit`, at least
/// `min_chunks` of them) at 1 and 2 threads, and of `batches` one after the other
/// through an index (whole and in chunks), gives the output of one whole
/// run of `all`, `whole` (and its report, `whole_report`, in chunks).
fn assert_chunks_and_batches_match(
    d: &std::path::Path,
    all: &str,
    batches: [&str; 2],
    (limit, min_chunks): (&str, usize),
    (whole, whole_report): (&str, &serde_json::Value),
) {
    for threads in ["1", "2"] {
        let chunked = clean_of(d, all, &["--memory-limit", limit, "-j", threads]);
        let chunks: usize = chunked
            .2
            .split(" chunks")
            .next()
            .and_then(|s| s.rsplit(' ').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or(1);
        assert!(chunks >= min_chunks, "{chunks} chunks: {}", chunked.2);
        assert_eq!(chunked.0, whole, "--threads {threads}: output in chunks");
        assert_eq!(
            &chunked.1, whole_report,
            "--threads {threads}: report in chunks"
        );
    }
    for limit in [&[][..], &["--memory-limit", limit][..]] {
        let index = format!("{all}-{}.ndx", limit.len());
        let mut cleaned = String::new();
        for batch in batches {
            let mut extra = vec!["--index", &index, "--update", "-j", "2"];
            extra.extend_from_slice(limit);
            cleaned.push_str(&clean_of(d, batch, &extra).0);
        }
        assert_eq!(cleaned, whole, "{limit:?}: the batches through an index");
    }
}

/// 2,400 records: unique short records (2 to 16 shingles, and records of
/// fewer words than a shingle); longer records of 80 words and more, each of
/// which (from the 100th on) starts with a short record 601 records
/// *earlier*, and goes on with the words of the longer record 600 earlier
/// (up to record 1,200: a copy of it with the short record before it) or
/// with words of its own; short records cut from the start of the record
/// just before them; exact copies of short records 300 earlier.
fn short_and_holders() -> Vec<String> {
    let words = |from: usize, n: usize| words('h', from, n).join(" ");
    let mut texts: Vec<String> = Vec::new();
    for d in 0..2400 {
        let text = match d % 6 {
            1 if (601..1201).contains(&d) => format!("{} {}", texts[d - 601], texts[d - 600]),
            1 if d >= 1201 => format!("{} {}", texts[d - 601], words(d * 100, 80)),
            1 => words(d * 100, 80),
            2 if d >= 300 => texts[d - 300].clone(),
            3 => words(d * 100, 1 + d % 3),
            5 => texts[d - 4]
                .split(' ')
                .take(10)
                .collect::<Vec<_>>()
                .join(" "),
            _ => words(d * 100, 6 + d % 15),
        };
        texts.push(text);
    }
    as_records('h', &texts)
}

#[test]
fn short_records_that_no_other_holds_are_found_alone_in_chunks() {
    // A run in chunks first reads its inputs for the shingles of short
    // records, then leaves the records no other holds without keys: every
    // answer stays that of one whole run, including where a short record
    // is held only by a longer record *after* it (a copy of an earlier one
    // with the short record before it: its similarity to that one counts
    // the short record's shingles as shared with another kept record).
    let dir = tempdir();
    let d = dir.path();
    std::fs::write(d.join("h.jsonl"), short_and_holders().concat()).unwrap();
    let (whole, whole_report, _) = clean_of(d, "h.jsonl", &["-j", "2"]);
    // Written with some text (a record all of whose blocks repeat earlier
    // text is written empty).
    let kept: Vec<&str> = whole.lines().filter(|l| !l.ends_with("\"\"}")).collect();
    let kept_id = |i: usize| kept.iter().any(|l| l.contains(&format!("\"h{i}\"")));
    // Cut from the record before it, an exact copy, a copy with a short
    // record before it: dropped.
    for i in [5, 11, 17, 302, 2000, 601, 1195] {
        assert!(!kept_id(i), "h{i} is a copy: kept");
    }
    // Unique short records, and those a later record holds; longer records
    // that add more than a short one to the text.
    for i in [0, 3, 9, 10, 2398, 1200, 1201, 2395] {
        assert!(kept_id(i), "h{i} is unique: dropped");
    }
    for threads in ["1", "2"] {
        let extra = ["--memory-limit", "1M", "-j", threads];
        let chunked = clean_of(d, "h.jsonl", &extra);
        assert!(
            chunked.2.contains(" chunks"),
            "not in chunks: {}",
            chunked.2
        );
        // (Told by the first record that differs: the output is long.)
        let differs = |a: &str, b: &str| {
            let at = a.lines().zip(b.lines()).position(|(x, y)| x != y);
            at.map_or(String::from("in length"), |i| format!("at line {}", i + 1))
        };
        let what = format!("{extra:?}: output in chunks differs");
        assert!(chunked.0 == whole, "{what} {}", differs(&chunked.0, &whole));
        assert!(
            chunked.1 == whole_report,
            "{extra:?}: report in chunks differs"
        );
    }
}

#[test]
fn short_records_from_standard_input_are_counted_first_in_chunks_too() {
    // Standard input is read once: the short-document pass reads it through
    // a copy, which its second pass and the run read again (before, a run
    // in chunks fed by a pipe made keys for every short record: 300,000
    // six-word records took 21 s at 64M against 1 s from a file). Not when
    // the cleaned text streams to standard output, which then would wait
    // for the end of the input (`chunked::output_starts_before_...`).
    let dir = tempdir();
    let d = dir.path();
    let records = short_and_holders().concat();
    std::fs::write(d.join("h.jsonl"), &records).unwrap();
    let (whole, whole_report, _) = clean_of(d, "h.jsonl", &[]);
    for threads in ["1", "2"] {
        let out = crate::util::run_with_stdin(
            d,
            &[
                "clean",
                "--json",
                "--progress",
                "always",
                "--memory-limit",
                "1M",
                "-j",
                threads,
                "--report",
                "r.json",
                "-o",
                "o.jsonl",
                "-",
            ],
            Some(records.as_bytes()),
        );
        assert_eq!(out.code, 0, "{out:?}");
        // (Its second pass, for the longer records holding short ones, is
        // told by the output: short records held only by a later, longer
        // one would be taken for alone without it.)
        assert!(
            out.stderr.contains("reading for short documents"),
            "the short-document pass read standard input: {}",
            out.stderr
        );
        let cleaned = std::fs::read_to_string(d.join("o.jsonl")).unwrap();
        assert!(
            cleaned == whole,
            "{threads}: output from standard input differs"
        );
        let report: serde_json::Value =
            serde_json::from_slice(&std::fs::read(d.join("r.json")).unwrap()).unwrap();
        assert_eq!(report["summary"], whole_report["summary"], "{threads}");
        assert_eq!(report["inputs"][0]["path"], "<stdin>");
    }
}

/// Writes 20,000 six-word records, 30 copies of one short record among
/// them, as `short.jsonl` (returning its bytes), and a later batch of their
/// copies, near copies and a new record as `later.jsonl`.
fn short_records_and_a_later_batch(d: &std::path::Path) -> u64 {
    use std::fmt::Write;
    let record = |i: usize| {
        (0..6)
            .map(|k| format!("w{i}x{k}"))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let mut text = String::new();
    for i in 0..20_000 {
        writeln!(text, "{{\"id\":\"d{i}\",\"text\":\"{}\"}}", record(i)).unwrap();
        if i == 500 {
            for c in 0..30 {
                writeln!(
                    text,
                    "{{\"id\":\"flood{c}\",\"text\":\"a flood of the same short record\"}}"
                )
                .unwrap();
            }
        }
    }
    std::fs::write(d.join("short.jsonl"), &text).unwrap();
    let later = [
        ("exact7", record(7)),
        ("near11", format!("{} extra", record(11))),
        ("flood", "a flood of the same short record".to_owned()),
        (
            "floodnear",
            "a flood of the same short record again".to_owned(),
        ),
        ("new", "entirely new words here for once".to_owned()),
    ];
    let mut text2 = String::new();
    for (id, t) in later {
        writeln!(text2, "{{\"id\":\"{id}\",\"text\":\"{t}\"}}").unwrap();
    }
    std::fs::write(d.join("later.jsonl"), text2).unwrap();
    text.len() as u64
}

/// The documents of `later.jsonl` in the clusters of `scan --json
/// --threads THREADS --index INDEX later.jsonl` in `d` (which must exit 0),
/// by id, each with its cluster's representative.
fn later_pairs(d: &std::path::Path, index: &str, threads: &str) -> Vec<(String, String)> {
    let (code, pairs) = crate::util::scan_members(d, index, "later.jsonl", threads);
    assert_eq!(code, 0, "{index}");
    pairs
}

#[test]
fn an_index_of_short_records_is_about_as_small_as_they_are() {
    // Each record held 128 band records (2.3 KB) for a record of 80 bytes:
    // an index 26 times its input. Now their shingles stand for them.
    let dir = tempdir();
    let d = dir.path();
    let input = short_records_and_a_later_batch(d);
    for extra in [&[][..], &["--memory-limit", "64M"][..]] {
        let mut args = vec!["index", "build", "-q", "short.jsonl", "-o", "short.ndx"];
        args.extend_from_slice(extra);
        run_ok(d, &args);
        let bytes = std::fs::metadata(d.join("short.ndx")).unwrap().len();
        assert!(
            bytes < 4 * input,
            "{extra:?}: index {bytes} bytes, input {input}"
        );
        // The later batch's copies are found against it: an exact and a
        // near copy of a record, and of the flooded record (whose first
        // copy stands for all).
        for threads in ["1", "2"] {
            let pair = |a: &str, b: &str| (a.to_owned(), b.to_owned());
            assert_eq!(
                later_pairs(d, "short.ndx", threads),
                [
                    pair("exact7", "d7"),
                    pair("flood", "flood0"),
                    pair("floodnear", "flood0"),
                    pair("near11", "d11"),
                ],
                "{extra:?} {threads}"
            );
        }
    }
}

/// Sets the format version of the index at `path` and signs its header
/// again (the header's checksum covers the version).
fn set_format_version(path: &std::path::Path, version: u32) {
    let mut bytes = std::fs::read(path).unwrap();
    bytes[8..12].copy_from_slice(&version.to_le_bytes());
    let at = |i: usize| {
        usize::try_from(u64::from_le_bytes(bytes[i..i + 8].try_into().unwrap())).unwrap()
    };
    let (table_at, table_len, sums_at) = (at(24), at(32), at(40));
    let mut hasher = xxhash_rust::xxh3::Xxh3Default::new();
    hasher.update(&bytes[..56]);
    hasher.update(&bytes[sums_at..table_at]);
    hasher.update(&bytes[table_at..table_at + table_len]);
    let sum = hasher.digest().to_le_bytes();
    bytes[56..64].copy_from_slice(&sum);
    std::fs::write(path, &bytes).unwrap();
}

#[test]
fn an_index_of_another_format_version_is_refused_by_name() {
    // A version this build does not know (a later neardup's): the index is
    // named, the remedy given, and an update leaves it as it was.
    let dir = tempdir();
    let d = dir.path();
    short_records_and_a_later_batch(d);
    run_ok(d, &["index", "build", "-q", "later.jsonl", "-o", "new.ndx"]);
    assert_eq!(
        &std::fs::read(d.join("new.ndx")).unwrap()[8..12],
        &2u32.to_le_bytes()
    );
    set_format_version(&d.join("new.ndx"), 3);
    let bytes = std::fs::read(d.join("new.ndx")).unwrap();
    for args in [
        &["scan", "--index", "new.ndx", "later.jsonl"][..],
        &["scan", "--index", "new.ndx", "--update", "later.jsonl"][..],
        &["index", "stats", "new.ndx"][..],
    ] {
        let out = run(d, args);
        assert_eq!(out.code, 2, "{args:?}: {out:?}");
        assert!(
            out.stderr.contains("new.ndx")
                && out
                    .stderr
                    .contains("index format version 3, this neardup reads versions 1 to 2")
                && out.stderr.contains("rebuild it with `neardup index build`"),
            "{args:?}: {out:?}"
        );
        assert_eq!(std::fs::read(d.join("new.ndx")).unwrap(), bytes);
    }
}

/// An index of format version 1 (every document with its band records; no
/// sections for documents of few shingles) is still read, as version 2
/// with those sections empty, and an update writes it back as version 2.
/// (Made here as an index of long documents, which puts nothing in those
/// sections, with its version set to 1.)
#[test]
fn an_index_of_format_version_1_is_still_read() {
    use std::fmt::Write;
    let dir = tempdir();
    let d = dir.path();
    let doc = |i: usize| {
        (0..40)
            .map(|k| format!("w{i}y{k}"))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let (mut first, mut later) = (String::new(), String::new());
    for i in 0..200 {
        writeln!(first, "{{\"id\":\"d{i}\",\"text\":\"{}\"}}", doc(i)).unwrap();
    }
    for i in [3, 50, 199, 1000] {
        writeln!(
            later,
            "{{\"id\":\"l{i}\",\"text\":\"{} and more\"}}",
            doc(i)
        )
        .unwrap();
    }
    std::fs::write(d.join("first.jsonl"), first).unwrap();
    std::fs::write(d.join("later.jsonl"), later).unwrap();
    run_ok(d, &["index", "build", "-q", "first.jsonl", "-o", "v2.ndx"]);
    std::fs::copy(d.join("v2.ndx"), d.join("v1.ndx")).unwrap();
    set_format_version(&d.join("v1.ndx"), 1);
    let stats = run(d, &["index", "stats", "v1.ndx"]);
    assert!(
        stats
            .stdout
            .starts_with(b"v1.ndx: neardup index, format version 1,"),
        "{stats:?}"
    );
    let clean = |index: &str| {
        let out = run(d, &["clean", "-q", "--index", index, "later.jsonl"]);
        assert_eq!(out.code, 0, "{index}: {out:?}");
        out.stdout
    };
    let kept = clean("v1.ndx");
    assert_eq!(kept, clean("v2.ndx"));
    // The three copies of indexed documents are dropped; the new one kept.
    assert_eq!(
        kept.iter().filter(|&&b| b == b'\n').count(),
        1,
        "{}",
        String::from_utf8_lossy(&kept)
    );
    run_ok(
        d,
        &["scan", "-q", "--index", "v1.ndx", "--update", "later.jsonl"],
    );
    assert_eq!(
        &std::fs::read(d.join("v1.ndx")).unwrap()[8..12],
        &2u32.to_le_bytes()
    );
    let stats = run(d, &["index", "stats", "--json", "v1.ndx"]);
    let stats: serde_json::Value = serde_json::from_slice(&stats.stdout).unwrap();
    assert_eq!(
        (
            stats["format_version"].as_u64(),
            stats["documents"].as_u64()
        ),
        (Some(2), Some(204))
    );
}

/// Titles that begin with the same five words (a site's "breaking news
/// from the city ..."), and ten that begin with another five.
fn titles_sharing_their_first_words(d: &std::path::Path) {
    use std::fmt::Write;
    let mut text = String::new();
    for i in 0..300 {
        let head = if i % 30 == 7 {
            "a quiet day in the"
        } else {
            "breaking news from the city"
        };
        writeln!(
            text,
            "{{\"id\":\"t{i}\",\"text\":\"{head} w{i}a w{i}b w{i}c\"}}"
        )
        .unwrap();
    }
    std::fs::write(d.join("titles.jsonl"), text).unwrap();
    let later = [
        (
            "exact5",
            "breaking news from the city w5a w5b w5c".to_owned(),
        ),
        (
            "near200",
            "breaking news from the city w200a w200b w200c today".to_owned(),
        ),
        ("quiet37", "a quiet day in the w37a w37b w37c".to_owned()),
        ("new", "breaking news from the city x y z".to_owned()),
    ];
    let mut text = String::new();
    for (id, t) in later {
        writeln!(text, "{{\"id\":\"{id}\",\"text\":\"{t}\"}}").unwrap();
    }
    std::fs::write(d.join("later.jsonl"), text).unwrap();
}

#[test]
fn titles_that_share_their_first_words_keep_their_band_records() {
    // 290 titles hold the shingle of their first five words: stored by
    // their shingles, every later look-up of it made the band keys of all
    // of them. A shingle that more than 16 hold gives its holders their
    // band records back; the ten that begin otherwise stay by their
    // shingles. A chunked build decides it in each segment it writes and
    // merges: no more than 16 holders of a shingle in any.
    let dir = tempdir();
    let d = dir.path();
    titles_sharing_their_first_words(d);
    let mut reports = Vec::new();
    for extra in [&[][..], &["--memory-limit", "256K"][..]] {
        let mut args = vec!["index", "build", "-q", "titles.jsonl", "-o", "t.ndx"];
        args.extend_from_slice(extra);
        run_ok(d, &args);
        let stats = run(d, &["index", "stats", "--json", "t.ndx"]);
        let stats: serde_json::Value = serde_json::from_slice(&stats.stdout).unwrap();
        let by_shingles = stats["short_doc_shingles"].as_u64().unwrap();
        let buckets = stats["bucket_entries"].as_u64().unwrap();
        // The ten quiet titles by their 4 shingles each, and at most 16 of
        // the others (those a chunk's segment held 16 or fewer of).
        assert!(
            (40..=(10 + 16) * 4).contains(&by_shingles),
            "{extra:?}: {by_shingles}"
        );
        assert!(buckets > 100, "{extra:?}: {buckets}");
        for threads in ["1", "2"] {
            let pair = |a: &str, b: &str| (a.to_owned(), b.to_owned());
            assert_eq!(
                later_pairs(d, "t.ndx", threads),
                [
                    pair("exact5", "t5"),
                    pair("near200", "t200"),
                    pair("quiet37", "t37"),
                ],
                "{extra:?} {threads}"
            );
            let out = run_ok(
                d,
                &[
                    "clean",
                    "-q",
                    "--threads",
                    threads,
                    "--memory-limit",
                    "256K",
                    "--index",
                    "t.ndx",
                    "later.jsonl",
                ],
            );
            reports.push(out.stdout);
        }
    }
    // Only the new title is kept, whatever the index was built as.
    assert!(reports.windows(2).all(|w| w[0] == w[1]));
    assert_eq!(
        String::from_utf8_lossy(&reports[0]).lines().count(),
        1,
        "{}",
        String::from_utf8_lossy(&reports[0])
    );
}

/// Copies of indexed short records, alone in their buckets (their pairs
/// made once, not once a table: `cluster/isolated.rs`) or beside near
/// copies, other copies in the batch and a record stored 20 times (a
/// bucket's 16 stored members, as the index keeps them; the unit tests
/// trim more): the batch through an index, and in chunks, find what one run
/// over both finds. (A review's debug count saw classes set apart here.)
#[test]
fn copies_of_indexed_short_records_pair_as_in_one_run() {
    let dir = tempdir();
    let d = dir.path();
    let mut first: Vec<String> = (0..2000)
        .map(|r| words('c', r * 30, 6 + r % 9).join(" "))
        .collect();
    // One record stored 20 times (its copies in one cluster of the index).
    let flood = words('f', 0, 7).join(" ");
    first.extend(std::iter::repeat_n(flood.clone(), 20));
    let mut later: Vec<String> = (0..150).map(|r| first[r * 7].clone()).collect();
    later.extend([first[10].clone(), first[10].clone(), flood.clone(), flood]);
    // A copy and a near copy of one record: not alone in their buckets.
    later.extend([first[200].clone(), format!("{} more", first[200])]);
    // A copy of one record, and a record holding the next one's words and
    // three more.
    later.extend([first[300].clone(), format!("{} and then some", first[301])]);
    later.extend((0..50).map(|r| words('n', r * 30, 8).join(" ")));
    let (b1, b2) = (as_records('a', &first), as_records('b', &later));
    std::fs::write(d.join("all.jsonl"), [b1.concat(), b2.concat()].concat()).unwrap();
    std::fs::write(d.join("b1.jsonl"), b1.concat()).unwrap();
    std::fs::write(d.join("b2.jsonl"), b2.concat()).unwrap();
    let (whole, whole_report, _) = clean_of(d, "all.jsonl", &["-j", "2"]);
    // Every copy was dropped (the first 150 of the batch, and the rest of
    // the copies of record 10 and of the flood), in a run of a few chunks.
    let kept: Vec<&str> = whole.lines().collect();
    let kept_id = |id: &str| kept.iter().any(|l| l.contains(&format!("\"{id}\"")));
    for id in ["b0", "b149", "b150", "b151", "b152", "b153", "b154", "b156"] {
        assert!(!kept_id(id), "{id} is a copy: kept");
    }
    // The records holding a copy's words and a few more are near copies.
    for id in ["b155", "b157"] {
        assert!(!kept_id(id), "{id} is a near copy: kept");
    }
    for id in ["a0", "a7", "a2000", "b158", "b207"] {
        assert!(kept_id(id), "{id} is unique or a first copy: dropped");
    }
    assert_chunks_and_batches_match(
        d,
        "all.jsonl",
        ["b1.jsonl", "b2.jsonl"],
        ("1M", 3),
        (&whole, &whole_report),
    );
}

/// Short records of a batch cleaned against an index that is not updated:
/// their band keys are left to the document level and made only for those
/// the walk over the tables takes (`cluster::few::defers_keys`). Copies of
/// indexed records alone in their buckets; copies beside an in-run copy or
/// a near copy; near copies alone in the run of an indexed record (a word
/// more, a word less, a word changed); records repeating their words (more
/// shingles in text order than distinct); new records: the batch keeps what
/// one run over the index's records and it keeps, at 1 and 2 threads and
/// under a memory limit. (It fails when the keys of those the walk takes
/// are not made, or not made as the first pass makes them.)
#[test]
fn short_records_cleaned_against_an_index_keep_what_one_run_keeps() {
    let dir = tempdir();
    let d = dir.path();
    let first: Vec<String> = (0..1500)
        .map(|r| {
            let w = words('c', r * 30, 6 + r % 12);
            if r % 10 == 9 {
                // Its words two or three times over.
                vec![w[..6].join(" "); 2 + r % 2].join(" ")
            } else {
                w.join(" ")
            }
        })
        .collect();
    let mut later = Vec::new();
    for r in 0..420 {
        let original = &first[r * 3];
        let w: Vec<&str> = original.split(' ').collect();
        match r % 7 {
            0 | 6 => later.push(original.clone()),
            1 => later.push(format!("{original} more")),
            2 => later.push(w[1..].join(" ")),
            3 => later.push(format!("{} other", w[..w.len() - 1].join(" "))),
            4 => later.extend([original.clone(), original.clone()]),
            _ => later.extend([original.clone(), format!("{original} again")]),
        }
        later.push(words('n', r * 30, 6 + r % 9).join(" "));
    }
    let (b1, b2) = (as_records('a', &first), as_records('b', &later));
    std::fs::write(d.join("all.jsonl"), [b1.concat(), b2.concat()].concat()).unwrap();
    std::fs::write(d.join("b1.jsonl"), b1.concat()).unwrap();
    std::fs::write(d.join("b2.jsonl"), b2.concat()).unwrap();
    let (whole, _, _) = clean_of(d, "all.jsonl", &["-j", "2"]);
    let kept: String = whole
        .split_inclusive('\n')
        .filter(|l| l.starts_with("{\"id\":\"b"))
        .collect();
    // Copies and near copies went, new records stayed.
    let kept_id = |id: &str| kept.contains(&format!("\"{id}\""));
    assert!(kept.lines().count() < later.len() / 2, "{kept}");
    for (i, id) in ["b0", "b2", "b4", "b6"].iter().enumerate() {
        assert!(!kept_id(id), "{id} ({i}) is a copy or a near copy: kept");
    }
    assert!(kept_id("b1") && kept_id("b3"), "new records dropped");
    run_ok(d, &["index", "build", "-q", "-o", "t.ndx", "b1.jsonl"]);
    for extra in [&["-j", "1"][..], &["-j", "2"], &["--memory-limit", "64M"]] {
        let mut args = vec!["--index", "t.ndx"];
        args.extend_from_slice(extra);
        let (cleaned, _, _) = clean_of(d, "b2.jsonl", &args);
        assert_eq!(cleaned, kept, "{extra:?}: the batch against the index");
    }
}

/// The two parts and the later batch of
/// [`short_records_stored_without_their_keys_are_found_by_a_later_run`]:
/// 1,200 short records (a near copy of one of the first 600 every seventh
/// of the last 600), and 100 ordinary ones `with_ordinary`; copies, near
/// copies and new records for later.
fn stored_and_later(with_ordinary: bool) -> (Vec<String>, Vec<String>) {
    let mut first: Vec<String> = Vec::new();
    for r in 0..1200 {
        let w = words('c', r * 30, 6 + r % 14);
        first.push(if r >= 600 && r % 7 == 3 {
            // A near copy of a record of the first part.
            let original = &first[r - 600];
            if r % 2 == 0 {
                format!("{original} more")
            } else {
                let w: Vec<&str> = original.split(' ').collect();
                format!("{} other", w[..w.len() - 1].join(" "))
            }
        } else if r % 10 == 9 {
            vec![w[..6].join(" "); 2].join(" ")
        } else {
            w.join(" ")
        });
    }
    if with_ordinary {
        first.extend((0..100).map(|r| words('o', r * 100, 80).join(" ")));
    }
    let mut later = Vec::new();
    for r in 0..300 {
        let original = &first[r * 4];
        let w: Vec<&str> = original.split(' ').collect();
        match r % 5 {
            0 => later.push(original.clone()),
            1 => later.push(format!("{original} more")),
            2 => later.push(w[1..].join(" ")),
            3 => later.push(format!("{} other", w[..w.len() - 1].join(" "))),
            _ => later.extend([original.clone(), original.clone()]),
        }
        later.push(words('n', r * 30, 6 + r % 9).join(" "));
    }
    if with_ordinary {
        later.push(first[1250].clone());
    }
    (first, later)
}

/// Short records stored by a run that stores (`index build`, at 1 and 2
/// threads and in chunks; an update of an index holding short records,
/// whole and in chunks; the parts built apart and merged): their band keys
/// are made only where the run's own walk over the tables takes them, and
/// the index stores their shingle sets (`cluster::few::defers_keys`),
/// alone or beside ordinary records. The update keeps of its part what one
/// run over both parts keeps (near copies of stored short records and of
/// each other among them); a batch of copies, near copies and new records
/// checked against each index keeps what one run over everything keeps;
/// and the indexes built whole at 1 and 2 threads hold the same items. (It
/// fails when a short record whose keys were not made is stored with
/// neither its set nor its band records, or with another set, or when the
/// keys the walk needs are not made.)
#[test]
fn short_records_stored_without_their_keys_are_found_by_a_later_run() {
    let dir = tempdir();
    let d = dir.path();
    for with_ordinary in [false, true] {
        let (first, later) = stored_and_later(with_ordinary);
        let (b1, b2) = (as_records('a', &first), as_records('b', &later));
        std::fs::write(d.join("all.jsonl"), [b1.concat(), b2.concat()].concat()).unwrap();
        std::fs::write(d.join("b1.jsonl"), b1.concat()).unwrap();
        std::fs::write(d.join("b1a.jsonl"), b1[..600].concat()).unwrap();
        std::fs::write(d.join("b1b.jsonl"), b1[600..].concat()).unwrap();
        std::fs::write(d.join("b2.jsonl"), b2.concat()).unwrap();
        let (whole, _, _) = clean_of(d, "all.jsonl", &["-j", "2"]);
        let kept: String = whole
            .split_inclusive('\n')
            .filter(|l| l.starts_with("{\"id\":\"b"))
            .collect();
        let kept_id = |id: &str| kept.contains(&format!("\"{id}\""));
        for id in ["b0", "b2", "b4", "b6", "b8"] {
            assert!(!kept_id(id), "{id} is a copy or a near copy: kept");
        }
        assert!(kept_id("b1") && kept_id("b3"), "new records dropped");
        // What one run keeps of the second part: not its near copies of
        // the first part's records.
        let (part, _, _) = clean_of(d, "b1.jsonl", &["-j", "2"]);
        let second = |l: &&str| {
            let id: serde_json::Value = serde_json::from_str(l).unwrap();
            id["id"].as_str().unwrap()[1..].parse::<usize>().unwrap() >= 600
        };
        let kept_later: String = part.split_inclusive('\n').filter(second).collect();
        assert_eq!(
            kept_later.lines().count(),
            b1.len() - 600 - (600..1200).filter(|r| r % 7 == 3).count(),
            "{kept_later}"
        );
        let build = |name: &str, input: &str, extra: &[&str]| {
            let mut args = vec!["index", "build", "-q", "-o", name, input];
            args.extend_from_slice(extra);
            run_ok(d, &args);
        };
        build("j1.ndx", "b1.jsonl", &["-j", "1"]);
        build("j2.ndx", "b1.jsonl", &["-j", "2"]);
        build("m.ndx", "b1.jsonl", &["--memory-limit", "1M"]);
        let stats = |name: &str| {
            let mut v = crate::index::stats(d, name);
            // (A run in chunks writes the input's path once a chunk.)
            v.as_object_mut().unwrap().remove("bytes");
            v
        };
        assert_eq!(stats("j1.ndx"), stats("j2.ndx"), "1 and 2 threads");
        assert_eq!(stats("j1.ndx"), stats("m.ndx"), "whole and in chunks");
        // The first part built, the second added by an update (at 1 and 2
        // threads, and in chunks), which finds its near copies of the
        // first part's short records in the index.
        for (name, extra) in [
            ("u1.ndx", &["-j", "1"][..]),
            ("u2.ndx", &["-j", "2"]),
            ("um.ndx", &["--memory-limit", "1M"]),
        ] {
            build(name, "b1a.jsonl", &[]);
            let mut args = vec!["--index", name, "--update"];
            args.extend_from_slice(extra);
            let (updated, _, _) = clean_of(d, "b1b.jsonl", &args);
            assert_eq!(updated, kept_later, "{name}: the update of the second part");
        }
        // The parts built apart and merged.
        build("a.ndx", "b1a.jsonl", &[]);
        build("b.ndx", "b1b.jsonl", &[]);
        run_ok(d, &["index", "merge", "a.ndx", "b.ndx", "-o", "ab.ndx"]);
        for index in [
            "j1.ndx", "j2.ndx", "m.ndx", "u1.ndx", "u2.ndx", "um.ndx", "ab.ndx",
        ] {
            let (cleaned, _, _) = clean_of(d, "b2.jsonl", &["--index", index]);
            assert_eq!(
                cleaned, kept,
                "{index} ({with_ordinary}): the batch against the index"
            );
        }
    }
}
