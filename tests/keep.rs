//! `--keep max:FIELD` and `newest:FIELD` (session 40's hostile pass):
//! numbers were compared as doubles, so that integers 100 apart past 2^53
//! tied (the first stayed) and `1e400`, or a Parquet double's infinity, ranked
//! as missing; and a field no record holds made the policy `first` unsaid.

use crate::util::{run, run_ok, tempdir};
use arrow_array::{ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};
use std::path::Path;
use std::sync::Arc;

const BODY: &str = "The quick brown fox jumps over the lazy dog near the river bank \
                    while the farmer watches from his porch and drinks tea.";

/// The ids of the records `clean -q ARGS` writes.
fn ids_kept(dir: &Path, args: &[&str]) -> Vec<String> {
    let out = run_ok(dir, &[&["clean", "-q"][..], args].concat());
    // Read by hand: serde_json takes no `1e400`.
    out.stdout_str()
        .lines()
        .map(|line| line.split('"').nth(3).unwrap().to_owned())
        .collect()
}

#[test]
fn numbers_are_compared_by_value_exactly() {
    let dir = tempdir();
    let d = dir.path();
    // (a's raw JSON value, b's, the id that stays): copies of one text.
    for (a, b, kept) in [
        // One double: 2^60 and more are 256 apart.
        ("1700000000000000000", "1700000000000000100", "b"),
        ("1700000000000000100", "1700000000000000000", "a"),
        ("-1700000000000000100", "-1700000000000000000", "b"),
        ("\"1700000000000000000\"", "\"1700000000000000100\"", "b"),
        // Past i64, past u64.
        ("18446744073709551614", "18446744073709551615", "b"),
        ("36893488147419103232", "36893488147419103233", "b"),
        // An integer against a fraction a double cannot tell from it.
        ("9007199254740993", "9007199254740992.5", "a"),
        // Past a double's range: infinite, a number still.
        ("1e400", "2", "a"),
        ("-5", "-1e400", "a"),
        ("\"1e400\"", "2", "a"),
        ("1e400", "null", "a"),
    ] {
        let record =
            |id: &str, n: &str| format!("{{\"id\":\"{id}\",\"n\":{n},\"text\":\"{BODY}\"}}\n");
        std::fs::write(d.join("in.jsonl"), record("a", a) + &record("b", b)).unwrap();
        for keep in ["max:n", "newest:n"] {
            let ids = ids_kept(d, &["--keep", keep, "in.jsonl"]);
            assert_eq!(ids, [kept], "--keep {keep} of {a} and {b}");
        }
    }
}

/// Writes a Parquet file of copies of one text, ids `a`, `b` (and `c`), and
/// a column `n` of `values`.
fn write_parquet(path: &Path, values: ArrayRef) {
    let rows = values.len();
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Utf8, false),
        Field::new("text", DataType::Utf8, false),
        Field::new("n", values.data_type().clone(), true),
    ]));
    let ids = ["a", "b", "c"][..rows].iter().copied();
    let columns: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from_iter_values(ids)),
        Arc::new(StringArray::from_iter_values(std::iter::repeat_n(
            BODY, rows,
        ))),
        values,
    ];
    let batch = RecordBatch::try_new(Arc::clone(&schema), columns).unwrap();
    let file = std::fs::File::create(path).unwrap();
    let mut writer = parquet::arrow::ArrowWriter::try_new(file, schema, None).unwrap();
    writer.write(&batch).unwrap();
    writer.close().unwrap();
}

#[test]
fn parquet_integers_and_infinities_are_compared_by_value() {
    let dir = tempdir();
    let d = dir.path();
    let kept = |values: ArrayRef| -> String {
        write_parquet(&d.join("in.parquet"), values);
        let out = run_ok(
            d,
            &["scan", "-q", "--json", "--keep", "max:n", "in.parquet"],
        );
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let kept = &report["near_duplicates"]["cluster_list"][0]["kept"]["id"];
        kept.as_str().unwrap().to_owned()
    };
    let longs = |v: Vec<i64>| -> ArrayRef { Arc::new(Int64Array::from(v)) };
    let doubles = |v: Vec<Option<f64>>| -> ArrayRef { Arc::new(Float64Array::from(v)) };
    assert_eq!(
        kept(longs(vec![
            1_700_000_000_000_000_000,
            1_700_000_000_000_000_100
        ])),
        "b"
    );
    assert_eq!(kept(longs(vec![i64::MAX, i64::MAX - 1])), "a");
    assert_eq!(kept(doubles(vec![Some(2.0), Some(f64::INFINITY)])), "b");
    assert_eq!(
        kept(doubles(vec![Some(f64::NEG_INFINITY), Some(-5.0)])),
        "b"
    );
    // An id column of doubles names an infinity as a JSON Lines record would.
    let out = run_ok(
        d,
        &["scan", "-q", "--json", "--id-field", "n", "in.parquet"],
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let members = &report["near_duplicates"]["cluster_list"][0]["members"];
    assert_eq!(members[0]["document"]["id"], "-1e999", "{members}");
    // NaN is missing: any number outranks it; null too.
    assert_eq!(
        kept(doubles(vec![Some(f64::NAN), Some(f64::NEG_INFINITY)])),
        "b"
    );
    assert_eq!(kept(doubles(vec![None, Some(f64::NEG_INFINITY)])), "b");
}

#[test]
fn a_field_no_record_holds_is_warned_of_once() {
    let dir = tempdir();
    let d = dir.path();
    let record = |id: &str| format!("{{\"id\":\"{id}\",\"n\":null,\"text\":\"{BODY}\"}}\n");
    std::fs::write(
        d.join("in.jsonl"),
        record("a") + &record("b") + &record("c"),
    )
    .unwrap();
    std::fs::write(d.join("f.txt"), format!("{BODY}\n")).unwrap();
    std::fs::write(d.join("g.txt"), format!("{BODY}\n")).unwrap();
    let first = run_ok(d, &["clean", "-q", "in.jsonl"]);
    for (field, input) in [("date", "in.jsonl"), ("n", "in.jsonl"), ("date", "f.txt")] {
        for policy in ["max", "newest"] {
            let keep = format!("{policy}:{field}");
            let inputs: &[&str] = if input == "f.txt" {
                &["f.txt", "g.txt"]
            } else {
                &[input]
            };
            let args = [
                &["clean", "--keep", &keep][..],
                inputs,
                &["--out-dir", "out"],
            ]
            .concat();
            let out = run(d, &args);
            assert_eq!(out.code, 0, "{out:?}");
            let warning = format!(
                "neardup: warning: no record has a value in the field \"{field}\" that --keep {keep} reads: the first of each cluster is kept\n"
            );
            assert_eq!(out.stderr.matches(&warning).count(), 1, "{}", out.stderr);
            let quiet = run_ok(d, &[&args[..], &["-q"]].concat());
            assert_eq!(quiet.stderr, "", "-q says nothing");
            std::fs::remove_dir_all(d.join("out")).unwrap();
        }
    }
    // The output is `first`'s; a field one record holds is not warned of.
    let max = run_ok(d, &["clean", "-q", "--keep", "max:date", "in.jsonl"]);
    assert_eq!(max.stdout, first.stdout);
    let held =
        record("a") + &record("b") + &format!("{{\"id\":\"c\",\"n\":1,\"text\":\"{BODY}\"}}\n");
    std::fs::write(d.join("in.jsonl"), held).unwrap();
    let out = run_ok(d, &["clean", "--keep", "max:n", "in.jsonl"]);
    assert!(!out.stderr.contains("warning"), "{}", out.stderr);
    assert_eq!(crate::util::json_lines(&out.stdout)[0]["id"], "c");
    // A run in chunks does not take such a policy, by name.
    let chunked = run(
        d,
        &[
            "clean",
            "--keep",
            "max:date",
            "--memory-limit",
            "64M",
            "in.jsonl",
        ],
    );
    assert_eq!(chunked.code, 2);
    assert!(
        chunked.stderr.contains("does not work with --keep"),
        "{}",
        chunked.stderr
    );
}

/// The text field is read as the text alone: `--keep max:text` was warned
/// of as a field no record holds (every record holds it) and `--id-field
/// text` gave every record its `file:line`, each exit 0. Both are refused
/// by name now, exit 2, nothing written.
#[test]
fn a_keep_or_id_field_that_is_the_text_field_is_refused_by_name() {
    let dir = tempdir();
    let d = dir.path();
    let record = |id: &str| format!("{{\"id\":\"{id}\",\"text\":\"{BODY}\"}}\n");
    std::fs::write(d.join("in.jsonl"), record("a") + &record("b")).unwrap();
    for (args, says) in [
        (
            &["--keep", "max:text"][..],
            "--keep max:text compares the field --text-field reads (\"text\")",
        ),
        (
            &["--keep", "newest:body", "--text-field", "body"],
            "--keep newest:body compares the field --text-field reads (\"body\")",
        ),
        (
            &["--id-field", "text"],
            "--id-field \"text\" is the field --text-field reads",
        ),
        // The default id field: --id-field was never given.
        (
            &["--text-field", "id"],
            "--text-field \"id\" is the field ids are read from by default (--id-field \"id\"): give --id-field FIELD",
        ),
    ] {
        let all = [&["clean", "in.jsonl", "-o", "out.jsonl"][..], args].concat();
        let out = run(d, &all);
        assert_eq!(out.code, 2, "{all:?}: {out:?}");
        assert!(out.stderr.contains(says), "{all:?}: {}", out.stderr);
        assert!(!d.join("out.jsonl").exists());
    }
}
