//! Parquet inputs of odd schemas (session 23's hostile pass): every column
//! of a kept row is written back as it was, however the columns are named.

use crate::util::{run, run_ok, tempdir};
use arrow_array::cast::AsArray;
use arrow_array::types::Int64Type;
use arrow_array::{ArrayRef, Int64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::ArrowWriter;
use std::sync::Arc;

const FIRST: &str = "one two three four five six seven eight nine ten eleven twelve";
const SECOND: &str = "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu";

/// Columns `id`, `text`, `text`, `x`, `x` (Parquet and Arrow allow a name
/// twice; pyarrow writes such files): a run found each column by its name,
/// so the second `text` and the second `x` were written with the first's
/// values (the second `text` became the cleaned text), exit 0.
#[test]
fn columns_of_one_name_are_each_written_back_as_they_were() {
    let dir = tempdir();
    let texts = [
        format!("{FIRST}\n\n{SECOND}"),
        format!("{SECOND}\n\nA paragraph of its own, with enough words to be a block."),
        "Other words entirely, none of them seen before in this small file.".to_owned(),
    ];
    let fields = vec![
        Field::new("id", DataType::Utf8, false),
        Field::new("text", DataType::Utf8, false),
        Field::new("text", DataType::Utf8, false),
        Field::new("x", DataType::Int64, false),
        Field::new("x", DataType::Int64, false),
    ];
    let schema = Arc::new(Schema::new(fields));
    let columns: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from(vec!["a", "b", "c"])),
        Arc::new(StringArray::from(
            texts.iter().map(String::as_str).collect::<Vec<_>>(),
        )),
        Arc::new(StringArray::from(vec!["keep 1", "keep 2", "keep 3"])),
        Arc::new(Int64Array::from(vec![1, 2, 3])),
        Arc::new(Int64Array::from(vec![10, 20, 30])),
    ];
    let batch = RecordBatch::try_new(Arc::clone(&schema), columns).unwrap();
    let file = std::fs::File::create(dir.path().join("dup.parquet")).unwrap();
    let mut writer = ArrowWriter::try_new(file, schema, None).unwrap();
    writer.write(&batch).unwrap();
    writer.close().unwrap();
    for extra in [&[][..], &["--annotate"], &["--memory-limit", "1M"]] {
        let mut args = vec![
            "clean",
            "-q",
            "--level",
            "blocks",
            "dup.parquet",
            "-o",
            "o.parquet",
        ];
        args.extend_from_slice(extra);
        let out = run(dir.path(), &args);
        assert_eq!(out.code, 0, "{extra:?}: {}", out.stderr);
        let batches = batches_of(&dir.path().join("o.parquet"));
        assert_eq!(batches.len(), 1, "{extra:?}");
        let got = &batches[0];
        let names: Vec<&str> = got
            .schema_ref()
            .fields()
            .iter()
            .map(|f| f.name().as_str())
            .collect();
        assert_eq!(&names[..5], ["id", "text", "text", "x", "x"], "{extra:?}");
        let string = |at: usize| -> Vec<String> {
            got.column(at)
                .as_string::<i32>()
                .iter()
                .map(|s| s.unwrap().to_owned())
                .collect()
        };
        let ints = |at: usize| -> Vec<i64> {
            got.column(at).as_primitive::<Int64Type>().values().to_vec()
        };
        // The first `text` is the text column: the second block of row 2 repeats row 1's.
        assert_eq!(
            string(1)[1],
            "A paragraph of its own, with enough words to be a block.",
            "{extra:?}"
        );
        assert_eq!(string(2), ["keep 1", "keep 2", "keep 3"], "{extra:?}");
        assert_eq!(ints(3), [1, 2, 3], "{extra:?}");
        assert_eq!(ints(4), [10, 20, 30], "{extra:?}");
    }
}

/// A wide table: 20,000 columns of 3 rows (6 MB). Its output's writer made
/// a dictionary encoder for each column, reserving 72 KiB each from the
/// start: 1.4 GiB, an abort (`memory allocation of 73744 bytes failed`)
/// under `ulimit -v 1000000`. The columns come back as they were.
#[test]
fn a_wide_table_is_written_back_without_a_dictionary_a_column() {
    let dir = tempdir();
    let columns = 20_000;
    let mut fields = vec![Field::new("text", DataType::Utf8, false)];
    fields.extend((0..columns).map(|i| Field::new(format!("c{i}"), DataType::Int64, false)));
    let schema = Arc::new(Schema::new(fields));
    let mut arrays: Vec<ArrayRef> = vec![Arc::new(StringArray::from(vec![FIRST, SECOND, FIRST]))];
    arrays.extend((0..columns).map(|i| -> ArrayRef {
        let i = i64::try_from(i).unwrap();
        Arc::new(Int64Array::from(vec![i, i + 1, i + 2]))
    }));
    let batch = RecordBatch::try_new(Arc::clone(&schema), arrays).unwrap();
    let file = std::fs::File::create(dir.path().join("wide.parquet")).unwrap();
    let plain = parquet::file::properties::WriterProperties::builder()
        .set_dictionary_enabled(false)
        .build();
    let mut writer = ArrowWriter::try_new(file, schema, Some(plain)).unwrap();
    writer.write(&batch).unwrap();
    writer.close().unwrap();
    let args = ["clean", "-q", "wide.parquet", "-o", "o.parquet"];
    let out = crate::util::run_limited(dir.path(), "ulimit -v 1000000", &args);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let batches = batches_of(&dir.path().join("o.parquet"));
    let got = &batches[0];
    assert_eq!(got.num_columns(), columns + 1);
    // Row 3 is a copy of row 1, dropped.
    assert_eq!(got.num_rows(), 2);
    for at in [1, 777, columns] {
        let values = got.column(at).as_primitive::<Int64Type>().values().to_vec();
        let i = i64::try_from(at - 1).unwrap();
        assert_eq!(values, [i, i + 1], "column {at}");
    }
}

/// The record batches of the Parquet file at `path`.
fn batches_of(path: &std::path::Path) -> Vec<RecordBatch> {
    let file = std::fs::File::open(path).unwrap();
    ParquetRecordBatchReaderBuilder::try_new(file)
        .unwrap()
        .build()
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

/// An id or `--keep newest:` column of timestamps, dates, decimals or UUIDs
/// (common in datasets: pandas and Spark write them) stopped the run
/// (`column "id" holds Timestamp(µs), not strings or numbers`). Each is read
/// as the ISO 8601 string (or digits, or UUID) a JSON Lines record holds.
#[test]
fn id_and_keep_columns_of_times_dates_decimals_and_uuids_are_read() {
    use arrow_array::{
        Date32Array, Decimal128Array, FixedSizeBinaryArray, TimestampMicrosecondArray,
        TimestampMillisecondArray,
    };
    let dir = tempdir();
    let body = "A paragraph long enough to be judged on its own words, as any other.";
    let day = 86_400_i64;
    let fields = vec![
        Field::new("text", DataType::Utf8, false),
        Field::new(
            "ts",
            DataType::Timestamp(arrow_schema::TimeUnit::Microsecond, None),
            false,
        ),
        Field::new(
            "scraped",
            DataType::Timestamp(arrow_schema::TimeUnit::Millisecond, Some("UTC".into())),
            false,
        ),
        Field::new("day", DataType::Date32, false),
        Field::new("price", DataType::Decimal128(7, 2), false),
        Field::new("uuid", DataType::FixedSizeBinary(16), false),
    ];
    let schema = Arc::new(Schema::new(fields));
    let columns: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from(vec![body, body, "Other words entirely."])),
        Arc::new(TimestampMicrosecondArray::from(vec![
            19_723 * day * 1_000_000 + 1_500_000,
            19_724 * day * 1_000_000,
            0,
        ])),
        Arc::new(
            TimestampMillisecondArray::from(vec![19_723 * day * 1000, 19_725 * day * 1000, 0])
                .with_timezone("UTC"),
        ),
        Arc::new(Date32Array::from(vec![19_723, 19_724, 0])),
        Arc::new(
            Decimal128Array::from(vec![110, -5, 0])
                .with_precision_and_scale(7, 2)
                .unwrap(),
        ),
        Arc::new(
            FixedSizeBinaryArray::try_from_iter(
                [[0x12u8; 16], [0xab; 16], [0; 16]]
                    .iter()
                    .map(|b| b.to_vec()),
            )
            .unwrap(),
        ),
    ];
    let batch = RecordBatch::try_new(Arc::clone(&schema), columns).unwrap();
    let file = std::fs::File::create(dir.path().join("t.parquet")).unwrap();
    let mut writer = ArrowWriter::try_new(file, schema, None).unwrap();
    writer.write(&batch).unwrap();
    writer.close().unwrap();
    let ids = |args: &[&str]| -> Vec<String> {
        let mut all = vec!["scan", "-q", "--json", "t.parquet"];
        all.extend_from_slice(args);
        let out = run(dir.path(), &all);
        assert_eq!(out.code, 0, "{args:?}: {out:?}");
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let cluster = &report["near_duplicates"]["cluster_list"][0];
        let mut ids: Vec<String> = cluster["members"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["document"]["id"].as_str().unwrap().to_owned())
            .collect();
        ids.push(cluster["kept"]["id"].as_str().unwrap().to_owned());
        ids
    };
    assert_eq!(
        ids(&["--id-field", "ts"]),
        [
            "2024-01-01T00:00:01.5",
            "2024-01-02T00:00:00",
            "2024-01-01T00:00:01.5"
        ]
    );
    assert_eq!(
        ids(&["--id-field", "scraped"]),
        [
            "2024-01-01T00:00:00Z",
            "2024-01-03T00:00:00Z",
            "2024-01-01T00:00:00Z"
        ]
    );
    assert_eq!(
        ids(&["--id-field", "day"]),
        ["2024-01-01", "2024-01-02", "2024-01-01"]
    );
    assert_eq!(ids(&["--id-field", "price"]), ["1.10", "-0.05", "1.10"]);
    let uuid = "12121212-1212-1212-1212-121212121212";
    assert_eq!(ids(&["--id-field", "uuid"])[0], uuid);
    // The newest copy stays: the second row, by its timestamp.
    for field in ["scraped", "ts", "day"] {
        let keep = format!("newest:{field}");
        let kept = ids(&["--id-field", "day", "--keep", &keep]);
        assert_eq!(kept[2], "2024-01-02", "{keep}");
    }
}

/// Writes rows `(id, text)` as a Parquet file.
fn write_rows(path: &std::path::Path, rows: &[(i64, String)]) {
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("text", DataType::Utf8, false),
    ]));
    let ids: ArrayRef = Arc::new(Int64Array::from_iter_values(rows.iter().map(|r| r.0)));
    let texts: ArrayRef = Arc::new(StringArray::from_iter_values(rows.iter().map(|r| &r.1)));
    let batch = RecordBatch::try_new(Arc::clone(&schema), vec![ids, texts]).unwrap();
    let mut writer =
        ArrowWriter::try_new(std::fs::File::create(path).unwrap(), schema, None).unwrap();
    writer.write(&batch).unwrap();
    writer.close().unwrap();
}

/// `touch batch.parquet` (a writer that died before its first byte) was
/// `not a readable Parquet file` (yet zero documents under a memory limit),
/// where `touch batch.jsonl.gz` is zero documents: now so is it, its output
/// as empty, and the rows of the other inputs are what they are without it.
#[test]
fn an_empty_parquet_file_is_zero_documents_as_an_empty_gzip_file_is() {
    let dir = tempdir();
    let d = dir.path();
    // Twelve rows, each fourth a copy of the one three before it.
    let text = |i: i64| {
        let i = if i % 4 == 3 { i - 3 } else { i };
        (0..12)
            .map(|w| format!("w{i}x{w}"))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let rows: Vec<(i64, String)> = (0..12).map(|i| (i, text(i))).collect();
    write_rows(&d.join("a.parquet"), &rows[..6]);
    write_rows(&d.join("b.parquet"), &rows[6..]);
    std::fs::write(d.join("empty.parquet"), b"").unwrap();
    for chunked in [&[][..], &["--memory-limit", "64K", "--tmp-dir", "."]] {
        let with = |args: &[&str]| {
            let mut args = args.to_vec();
            args.extend_from_slice(chunked);
            run(d, &args)
        };
        let out = with(&["scan", "empty.parquet"]);
        assert_eq!(out.code, 0, "{out:?}");
        assert!(out.stdout_str().starts_with("0 documents"), "{out:?}");
        let out = with(&["clean", "-q", "empty.parquet", "-o", "o.parquet"]);
        assert_eq!(out.code, 0, "{out:?}");
        assert_eq!(std::fs::read(d.join("o.parquet")).unwrap(), b"");
        let out = with(&[
            "clean",
            "-q",
            "a.parquet",
            "b.parquet",
            "-o",
            "want.parquet",
        ]);
        assert_eq!(out.code, 0, "{out:?}");
        let args = ["clean", "-q", "a.parquet", "empty.parquet", "b.parquet"];
        let out = with(&[&args[..], &["-o", "got.parquet"]].concat());
        assert_eq!(out.code, 0, "{out:?}");
        let want = batches_of(&d.join("want.parquet"));
        assert_eq!(want.iter().map(RecordBatch::num_rows).sum::<usize>(), 9);
        assert_eq!(batches_of(&d.join("got.parquet")), want);
        let out = with(&[&args[..], &["--out-dir", "od"]].concat());
        assert_eq!(out.code, 0, "{out:?}");
        assert_eq!(std::fs::read(d.join("od/empty.parquet")).unwrap(), b"");
        assert_eq!(batches_of(&d.join("od/a.parquet"))[0].num_rows(), 5);
        std::fs::remove_dir_all(d.join("od")).unwrap();
    }
    run_ok(
        d,
        &[
            "index",
            "build",
            "-q",
            "empty.parquet",
            "a.parquet",
            "-o",
            "i.ndx",
        ],
    );
}
