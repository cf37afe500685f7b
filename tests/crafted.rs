//! Index files crafted with valid checksums but numbers no write makes
//! (issue 14, session 28): a write that starts from such an index (an
//! update, `index merge` on either side) fails naming it, never panics,
//! writes nothing and leaves the index as it was.

use crate::util::{run, run_ok, tempdir, Output};
use std::path::Path;

/// Short records (six words: a few shingles each, some copies) and longer
/// ones of repeated paragraphs, so that an index of them has records in
/// every section a write copies: exact keys, postings, copies, bucket
/// entries and the shingles of short documents.
fn corpus(d: &Path) {
    let mut state = 11u64;
    let mut next = |n: usize| {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        usize::try_from(state >> 33).unwrap() % n
    };
    let mut lines = Vec::new();
    let mut short = Vec::new();
    for i in 0..200 {
        let text: Vec<String> = (0..6).map(|_| format!("s{}", next(30))).collect();
        short.push(text.join(" "));
        let text = if i % 5 == 4 { &short[i - 3] } else { &short[i] };
        lines.push(serde_json::json!({"id": format!("s{i}"), "text": text}).to_string());
    }
    let paragraphs: Vec<String> = (0..20)
        .map(|_| {
            (0..25)
                .map(|_| format!("w{}", next(300)))
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect();
    for i in 0..40 {
        let text: Vec<&str> = (0..4).map(|_| paragraphs[next(20)].as_str()).collect();
        lines.push(
            serde_json::json!({"id": format!("l{i}"), "text": text.join("\n\n")}).to_string(),
        );
    }
    std::fs::write(d.join("c.jsonl"), lines.join("\n") + "\n").unwrap();
}

fn u64_at(b: &[u8], at: usize) -> usize {
    usize::try_from(u64::from_le_bytes(b[at..at + 8].try_into().unwrap())).unwrap()
}

/// Index `bytes` with the records of section `name` (`len` bytes each)
/// edited by `edit` in place, and the checksums of its data chunks and of
/// its header made valid again: a crafted file, not a damaged one.
fn crafted(bytes: &[u8], name: &str, len: usize, edit: impl Fn(&mut [Vec<u8>])) -> Vec<u8> {
    let (table_at, table_len, sums_at) = (u64_at(bytes, 24), u64_at(bytes, 32), u64_at(bytes, 40));
    let table: serde_json::Value =
        serde_json::from_slice(&bytes[table_at..table_at + table_len]).unwrap();
    let section = &table["sections"][name];
    let at = usize::try_from(section["offset"].as_u64().unwrap()).unwrap();
    let size = usize::try_from(section["len"].as_u64().unwrap()).unwrap();
    assert!(size >= len, "section {name} is empty");
    let mut records: Vec<Vec<u8>> = bytes[at..at + size]
        .chunks(len)
        .map(<[u8]>::to_vec)
        .collect();
    edit(&mut records);
    let mut out = bytes.to_vec();
    out[at..at + size].copy_from_slice(&records.concat());
    for (i, chunk) in (4096..sums_at).step_by(4096).enumerate() {
        let sum = xxhash_rust::xxh3::xxh3_64(&out[chunk..chunk + 4096]);
        out[sums_at + i * 8..sums_at + i * 8 + 8].copy_from_slice(&sum.to_le_bytes());
    }
    let mut hasher = xxhash_rust::xxh3::Xxh3Default::new();
    hasher.update(&out[..56]);
    hasher.update(&out[sums_at..table_at]);
    hasher.update(&out[table_at..table_at + table_len]);
    let sum = hasher.digest();
    out[56..64].copy_from_slice(&sum.to_le_bytes());
    out
}

/// A failed run (exit 2, a corrupt-index error naming `name`, no panic).
#[track_caller]
fn corrupt_named(out: &Output, name: &str, what: &str) {
    assert_eq!(out.code, 2, "{what}: {out:?}");
    assert!(!out.stderr.contains("panicked"), "{what}: {out:?}");
    assert!(
        out.stderr.contains(&format!("{name}: corrupt index")),
        "{what}: {out:?}"
    );
}

type Edit = Box<dyn Fn(&mut [Vec<u8>])>;

/// Sets bytes `at..at + 4` of the last record to `value`.
fn last_u32(at: usize, value: u32) -> Edit {
    Box::new(move |r: &mut [Vec<u8>]| {
        let last = r.last_mut().unwrap();
        last[at..at + 4].copy_from_slice(&value.to_le_bytes());
    })
}

/// Each section a write copies from an earlier index, with a number past
/// the index's documents or blocks: 2^32 - 1, which renumbering a merge's
/// second index made overflow (a panic; a wrapped number in a release
/// build), or the first number past the end, which a merge's first index
/// or an update wrote on (the next run's document then held the shingles).
fn numbers_past_the_end(documents: u32) -> Vec<(&'static str, &'static str, usize, Edit)> {
    vec![
        ("few-doc", "few", 12, last_u32(8, u32::MAX)),
        ("few-doc-next", "few", 12, last_u32(8, documents)),
        ("few_sets-doc", "few_sets", 12, last_u32(0, u32::MAX)),
        ("few_sets-doc-next", "few_sets", 12, last_u32(0, documents)),
        ("bands-doc", "bands", 16, last_u32(12, u32::MAX)),
        ("postings-block", "postings", 8, last_u32(4, u32::MAX)),
        ("members-block", "members", 8, last_u32(4, u32::MAX)),
        (
            "exact-source",
            "exact",
            32,
            Box::new(|r: &mut [Vec<u8>]| r[0][24..28].copy_from_slice(&u32::MAX.to_le_bytes())),
        ),
        (
            "few_sets-order",
            "few_sets",
            12,
            Box::new(|r: &mut [Vec<u8>]| r.reverse()),
        ),
        (
            "few-order",
            "few",
            12,
            Box::new(|r: &mut [Vec<u8>]| r.reverse()),
        ),
        // Numbers an update or a merge copied as they were (the review of
        // session 28): a representative one past the end became the next
        // batch's first document, an id running past the strings read the
        // next batch's ids.
        ("docs-rep-next", "docs", 64, last_u32(40, documents)),
        ("docs-id-long", "docs", 64, last_u32(48, u32::MAX)),
        ("blocks-doc-next", "blocks", 72, last_u32(44, documents)),
        ("blocks-shingles-long", "blocks", 72, last_u32(56, u32::MAX)),
        (
            "banded-order",
            "banded_shingles",
            4,
            Box::new(|r: &mut [Vec<u8>]| r.reverse()),
        ),
    ]
}

#[test]
fn a_write_from_an_index_with_numbers_past_its_end_fails_and_changes_nothing() {
    let dir = tempdir();
    let d = dir.path();
    corpus(d);
    run_ok(d, &["index", "build", "-q", "c.jsonl", "-o", "good.ndx"]);
    let stats = run(d, &["index", "stats", "--json", "good.ndx"]);
    let stats: serde_json::Value = serde_json::from_str(&stats.stdout_str()).unwrap();
    for count in [
        "exact_keys",
        "postings",
        "copies",
        "bucket_entries",
        "short_doc_shingles",
    ] {
        assert!(stats[count].as_u64().unwrap() > 0, "{count}: {stats}");
    }
    let documents = u32::try_from(stats["documents"].as_u64().unwrap()).unwrap();
    let good = std::fs::read(d.join("good.ndx")).unwrap();
    for (case, section, len, edit) in numbers_past_the_end(documents) {
        let name = format!("{case}.ndx");
        let bytes = crafted(&good, section, len, edit);
        std::fs::write(d.join(&name), &bytes).unwrap();
        for args in [
            &["index", "merge", "good.ndx", &name, "-o", "m.ndx"][..],
            &["index", "merge", &name, "good.ndx", "-o", "m.ndx"][..],
            &["scan", "-q", "--index", &name, "--update", "c.jsonl"][..],
        ] {
            let out = run(d, args);
            corrupt_named(&out, &name, &format!("{case}: {args:?}"));
            assert!(!d.join("m.ndx").exists(), "{case}: {args:?}");
            assert!(
                std::fs::read(d.join(&name)).unwrap() == bytes,
                "{case}: {args:?} changed the index"
            );
        }
    }
    // A plain read of an id past the strings said "" and exited 1.
    let out = run(
        d,
        &["check", "-q", "--index", "docs-id-long.ndx", "c.jsonl"],
    );
    corrupt_named(&out, "docs-id-long.ndx", "check of docs-id-long");
}
