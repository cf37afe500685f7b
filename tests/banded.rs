//! The index's `banded_shingles` section: the prints of the shingles of
//! every document with band records, so that a later short document none of
//! whose shingles is there skips its band look-ups. Answers are those of an
//! index without it (written before it), which is still read.

use crate::util::{run, run_ok, tempdir};
use std::fmt::Write;
use std::path::Path;

/// Long documents (band records), titles sharing their first five words
/// (more than 16 holders of a shingle: given band records back at the
/// write) and six-word records (stored by their shingles) as `first.jsonl`;
/// a later batch of copies and near copies of each kind as `later.jsonl`;
/// and 300 new six-word records as `new.jsonl`.
fn inputs(d: &Path) {
    let words = |p: &str, i: usize, n: usize| {
        (0..n)
            .map(|k| format!("{p}{i}x{k}"))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let mut first = String::new();
    for i in 0..100 {
        let long = words("w", i, 40);
        let title = format!("breaking news from the city {}", words("t", i, 3));
        let short = words("u", i, 6);
        for (kind, text) in [("l", long), ("t", title), ("u", short)] {
            writeln!(first, "{{\"id\":\"{kind}{i}\",\"text\":\"{text}\"}}").unwrap();
        }
    }
    std::fs::write(d.join("first.jsonl"), first).unwrap();
    let later = [
        ("exact-l3", words("w", 3, 40)),
        ("near-l50", format!("{} and more", words("w", 50, 40))),
        (
            "exact-t5",
            format!("breaking news from the city {}", words("t", 5, 3)),
        ),
        (
            "near-t20",
            format!("breaking news from the city {} today", words("t", 20, 3)),
        ),
        ("exact-u7", words("u", 7, 6)),
        ("near-u11", format!("{} extra", words("u", 11, 6))),
        ("new", words("n", 0, 6)),
    ];
    let mut text = String::new();
    for (id, t) in later {
        writeln!(text, "{{\"id\":\"{id}\",\"text\":\"{t}\"}}").unwrap();
    }
    std::fs::write(d.join("later.jsonl"), text).unwrap();
    let mut text = String::new();
    for i in 0..300 {
        writeln!(
            text,
            "{{\"id\":\"n{i}\",\"text\":\"{}\"}}",
            words("n", i, 6)
        )
        .unwrap();
    }
    std::fs::write(d.join("new.jsonl"), text).unwrap();
}

/// The table (JSON) of the index at `path`, and where it starts.
fn table(path: &Path) -> (serde_json::Value, usize) {
    let bytes = std::fs::read(path).unwrap();
    let at = |i: usize| {
        usize::try_from(u64::from_le_bytes(bytes[i..i + 8].try_into().unwrap())).unwrap()
    };
    let (table_at, table_len) = (at(24), at(32));
    let json = serde_json::from_slice(&bytes[table_at..table_at + table_len]).unwrap();
    (json, table_at)
}

/// Writes `json` as the table of the index at `path`, with the header's
/// lengths and checksum made again (as a writer would have written them).
fn set_table(path: &Path, json: &serde_json::Value) {
    let (_, table_at) = table(path);
    let mut bytes = std::fs::read(path).unwrap();
    let new = serde_json::to_vec(json).unwrap();
    bytes.truncate(table_at);
    bytes.extend_from_slice(&new);
    let file_len = bytes.len() as u64;
    bytes[16..24].copy_from_slice(&file_len.to_le_bytes());
    bytes[32..40].copy_from_slice(&(new.len() as u64).to_le_bytes());
    let sums_at = usize::try_from(u64::from_le_bytes(bytes[40..48].try_into().unwrap())).unwrap();
    let mut hasher = xxhash_rust::xxh3::Xxh3Default::new();
    hasher.update(&bytes[..56]);
    hasher.update(&bytes[sums_at..table_at]);
    hasher.update(&new);
    let sum = hasher.digest().to_le_bytes();
    bytes[56..64].copy_from_slice(&sum);
    std::fs::write(path, &bytes).unwrap();
}

fn has_section(path: &Path) -> bool {
    table(path).0["sections"]
        .as_object()
        .unwrap()
        .contains_key("banded_shingles")
}

/// A copy of `from` as `to` without the section (as a build before it, or
/// a format 2 reader's update, wrote it).
fn without_section(from: &Path, to: &Path) {
    std::fs::copy(from, to).unwrap();
    let (mut json, _) = table(to);
    json["sections"]
        .as_object_mut()
        .unwrap()
        .remove("banded_shingles");
    json["sections"]
        .as_object_mut()
        .unwrap()
        .remove("banded_shingles.dir");
    set_table(to, &json);
    assert!(!has_section(to));
}

/// (later document, its cluster's representative) of `scan --json` of
/// `input` against `index`.
fn members(d: &Path, index: &str, input: &str, threads: &str) -> Vec<(String, String)> {
    let (code, pairs) = crate::util::scan_members(d, index, input, threads);
    assert!(code <= 1, "{index} {input}: exit {code}");
    pairs
}

/// The 4 KiB chunks of the index `scan -v` says it read.
fn chunks_read(d: &Path, index: &str, input: &str) -> u64 {
    let out = run(d, &["scan", "-v", "--index", index, input]);
    assert!(out.code <= 1, "{out:?}");
    let line = out
        .stderr
        .lines()
        .find(|l| l.contains("4 KiB chunks"))
        .unwrap_or_else(|| panic!("{out:?}"));
    let read = line.split(": read ").nth(1).unwrap();
    read.split(' ')
        .next()
        .unwrap()
        .replace(',', "")
        .parse()
        .unwrap()
}

#[test]
fn the_prints_of_banded_shingles_spare_look_ups_and_change_no_answer() {
    let dir = tempdir();
    let d = dir.path();
    inputs(d);
    let pair = |a: &str, b: &str| (a.to_owned(), b.to_owned());
    let expected = [
        pair("exact-l3", "l3"),
        pair("exact-t5", "t5"),
        pair("exact-u7", "u7"),
        pair("near-l50", "l50"),
        pair("near-t20", "t20"),
        pair("near-u11", "u11"),
    ];
    for extra in [&[][..], &["--memory-limit", "256K"][..]] {
        let mut args = vec!["index", "build", "-q", "first.jsonl", "-o", "x.ndx"];
        args.extend_from_slice(extra);
        run_ok(d, &args);
        assert!(has_section(&d.join("x.ndx")), "{extra:?}");
        without_section(&d.join("x.ndx"), &d.join("old.ndx"));
        for threads in ["1", "2"] {
            for index in ["x.ndx", "old.ndx"] {
                assert_eq!(
                    members(d, index, "later.jsonl", threads),
                    expected,
                    "{extra:?} {index} {threads}"
                );
                assert!(
                    members(d, index, "new.jsonl", threads).is_empty(),
                    "{extra:?} {index} {threads}"
                );
            }
        }
        // New short records look nothing up among the band records.
        let (with, without) = (
            chunks_read(d, "x.ndx", "new.jsonl"),
            chunks_read(d, "old.ndx", "new.jsonl"),
        );
        assert!(
            with < without,
            "{extra:?}: {with} and {without} chunks read"
        );
    }
    // An update keeps the section where the index had it, and writes none
    // where it did not (it cannot know the old documents' shingles); both
    // then answer alike.
    for index in ["x.ndx", "old.ndx"] {
        let out = run(
            d,
            &["scan", "-q", "--index", index, "--update", "later.jsonl"],
        );
        assert!(out.code <= 1, "{out:?}");
        assert_eq!(has_section(&d.join(index)), index == "x.ndx");
    }
    let out = run(d, &["scan", "--json", "--index", "x.ndx", "new.jsonl"]);
    let out_old = run(d, &["scan", "--json", "--index", "old.ndx", "new.jsonl"]);
    let strip = |o: &crate::util::Output| {
        let mut v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        v.as_object_mut().unwrap().remove("command");
        v["index"].as_object_mut().unwrap().remove("path");
        v
    };
    assert_eq!(strip(&out), strip(&out_old));
    // `index merge` keeps it only when both indexes have it.
    run_ok(d, &["index", "build", "-q", "new.jsonl", "-o", "n.ndx"]);
    without_section(&d.join("n.ndx"), &d.join("old-n.ndx"));
    for (b, kept) in [("n.ndx", true), ("old-n.ndx", false)] {
        run_ok(d, &["index", "merge", "-o", "m.ndx", "x.ndx", b]);
        assert_eq!(has_section(&d.join("m.ndx")), kept, "{b}");
    }
}

#[test]
fn a_corrupt_banded_shingles_section_is_refused_by_name() {
    let dir = tempdir();
    let d = dir.path();
    inputs(d);
    run_ok(d, &["index", "build", "-q", "first.jsonl", "-o", "x.ndx"]);
    let (json, _) = table(&d.join("x.ndx"));
    let section = &json["sections"]["banded_shingles"];
    let (offset, len) = (
        usize::try_from(section["offset"].as_u64().unwrap()).unwrap(),
        section["len"].as_u64().unwrap(),
    );
    assert!(len >= 4, "{json}");
    // A flipped byte: its chunk's checksum fails.
    std::fs::copy(d.join("x.ndx"), d.join("flipped.ndx")).unwrap();
    let mut bytes = std::fs::read(d.join("flipped.ndx")).unwrap();
    bytes[offset] ^= 0x40;
    std::fs::write(d.join("flipped.ndx"), &bytes).unwrap();
    // A length that is no whole number of records, signed as a writer
    // would have.
    std::fs::copy(d.join("x.ndx"), d.join("short.ndx")).unwrap();
    let mut json_short = json.clone();
    json_short["sections"]["banded_shingles"]["len"] = (len - 1).into();
    set_table(&d.join("short.ndx"), &json_short);
    for (index, says) in [
        ("flipped.ndx", "corrupt"),
        ("short.ndx", "section banded_shingles has the wrong length"),
    ] {
        let before = std::fs::read(d.join(index)).unwrap();
        for args in [
            &["scan", "--index", index, "new.jsonl"][..],
            &["scan", "--index", index, "--update", "new.jsonl"][..],
        ] {
            let out = run(d, args);
            assert_eq!(out.code, 2, "{args:?}: {out:?}");
            assert!(
                out.stderr.contains(index) && out.stderr.contains(says),
                "{args:?}: {out:?}"
            );
            assert!(!out.stderr.contains("panicked"), "{out:?}");
            assert_eq!(std::fs::read(d.join(index)).unwrap(), before);
        }
    }
}
