//! Parquet in and out: a Parquet file is cleaned as the same rows in JSON
//! Lines are (the same documents dropped and cleaned, the same ids and
//! report), and written back with its schema and every other column as it
//! was.

use crate::util::{assert_bytes_eq, assert_holds, json_lines, run, run_exit, run_ok, tempdir};
use arrow_array::cast::AsArray;
use arrow_array::types::Int64Type;
use arrow_array::{Array, ArrayRef, Int64Array, LargeStringArray, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;
use std::path::Path;
use std::sync::Arc;

/// One row of a fixture: id, text (`None`: null) and an extra column.
struct Row {
    id: String,
    text: Option<String>,
    n: i64,
}

/// The index tests' corpus (80 documents, some near copies, some with
/// repeated paragraphs) as rows, with `n` counting them.
fn rows() -> Vec<Row> {
    crate::index::batches()
        .concat()
        .lines()
        .enumerate()
        .map(|(n, line)| {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            Row {
                id: v["id"].as_str().unwrap().to_owned(),
                text: Some(v["text"].as_str().unwrap().to_owned()),
                n: i64::try_from(n).unwrap() * 10,
            }
        })
        .collect()
}

/// The same rows as JSON Lines.
fn write_jsonl(path: &Path, rows: &[Row]) {
    let mut out = String::new();
    for r in rows {
        let record = serde_json::json!({"id": r.id, "text": r.text, "n": r.n});
        out.push_str(&record.to_string());
        out.push('\n');
    }
    std::fs::write(path, out).unwrap();
}

/// Writes `rows` as Parquet with columns `id`, `text` (of type `text_type`),
/// `n` and `url` (null every third row), in row groups of `group` rows.
fn write_parquet(path: &Path, rows: &[Row], text_type: &DataType, group: usize) {
    write_parquet_with(path, rows, text_type, group, Compression::SNAPPY);
}

/// [`write_parquet`] compressed with `compression`.
fn write_parquet_with(
    path: &Path,
    rows: &[Row],
    text_type: &DataType,
    group: usize,
    compression: Compression,
) {
    let schema = Arc::new(Schema::new_with_metadata(
        vec![
            Field::new("id", DataType::Utf8, false),
            Field::new("text", text_type.clone(), true),
            Field::new("n", DataType::Int64, false),
            Field::new("url", DataType::Utf8, true),
        ],
        std::collections::HashMap::from([("origin".to_owned(), "test fixture".to_owned())]),
    ));
    let text = text_column(text_type, rows.iter().map(|r| r.text.as_deref()));
    let batch = RecordBatch::try_new(
        Arc::clone(&schema),
        vec![
            Arc::new(
                rows.iter()
                    .map(|r| Some(r.id.as_str()))
                    .collect::<StringArray>(),
            ),
            text,
            Arc::new(rows.iter().map(|r| r.n).collect::<Int64Array>()),
            Arc::new(
                rows.iter()
                    .map(|r| (r.n % 30 != 0).then(|| format!("https://example.com/{}", r.n)))
                    .collect::<StringArray>(),
            ),
        ],
    )
    .unwrap();
    let props = WriterProperties::builder()
        .set_compression(compression)
        .set_max_row_group_row_count(Some(group))
        .build();
    let mut writer =
        ArrowWriter::try_new(std::fs::File::create(path).unwrap(), schema, Some(props)).unwrap();
    writer.write(&batch).unwrap();
    writer.close().unwrap();
}

/// A column of `text_type` holding `texts`: strings, bytes, or a dictionary
/// of strings keyed by `Int8` or `Int32`.
fn text_column<'a>(text_type: &DataType, texts: impl Iterator<Item = Option<&'a str>>) -> ArrayRef {
    use arrow_array::types::{Int32Type, Int8Type};
    use arrow_array::{BinaryArray, DictionaryArray, LargeBinaryArray};
    match text_type {
        DataType::LargeUtf8 => Arc::new(texts.collect::<LargeStringArray>()),
        DataType::Utf8View => Arc::new(texts.collect::<arrow_array::StringViewArray>()),
        DataType::Binary => Arc::new(texts.map(|t| t.map(str::as_bytes)).collect::<BinaryArray>()),
        DataType::LargeBinary => Arc::new(
            texts
                .map(|t| t.map(str::as_bytes))
                .collect::<LargeBinaryArray>(),
        ),
        DataType::Dictionary(key, _) if **key == DataType::Int8 => {
            Arc::new(texts.collect::<DictionaryArray<Int8Type>>())
        }
        DataType::Dictionary(..) => Arc::new(texts.collect::<DictionaryArray<Int32Type>>()),
        _ => Arc::new(texts.collect::<StringArray>()),
    }
}

/// A Parquet file's schema and its rows in one batch.
fn read_parquet(path: &Path) -> (Arc<Schema>, RecordBatch) {
    let reader =
        ParquetRecordBatchReaderBuilder::try_new(std::fs::File::open(path).unwrap()).unwrap();
    let schema = Arc::clone(reader.schema());
    let batches: Vec<RecordBatch> = reader.build().unwrap().map(Result::unwrap).collect();
    let all = arrow_select::concat::concat_batches(&schema, &batches).unwrap();
    (schema, all)
}

fn strings(batch: &RecordBatch, name: &str) -> Vec<Option<String>> {
    let column = batch.column_by_name(name).unwrap();
    let column = arrow_cast_utf8(column.as_ref());
    (0..column.len())
        .map(|i| (!column.is_null(i)).then(|| column.value(i).to_owned()))
        .collect()
}

/// A string column of any of the three string types, bytes or a
/// dictionary of strings as `Utf8`.
fn arrow_cast_utf8(column: &dyn Array) -> StringArray {
    use arrow_array::types::{Int32Type, Int8Type};
    let utf8 = |b: &[u8]| std::str::from_utf8(b).unwrap().to_owned();
    match column.data_type() {
        DataType::LargeUtf8 => column.as_string::<i64>().iter().collect(),
        DataType::Utf8View => column.as_string_view().iter().collect(),
        DataType::Binary => column
            .as_binary::<i32>()
            .iter()
            .map(|b| b.map(utf8))
            .collect(),
        DataType::LargeBinary => column
            .as_binary::<i64>()
            .iter()
            .map(|b| b.map(utf8))
            .collect(),
        DataType::Dictionary(key, _) => {
            let (keys, values): (Vec<Option<usize>>, _) = if **key == DataType::Int8 {
                let d = column.as_dictionary::<Int8Type>();
                let keys = d
                    .keys()
                    .iter()
                    .map(|k| k.map(|k| usize::try_from(k).unwrap()));
                (keys.collect(), arrow_cast_utf8(d.values().as_ref()))
            } else {
                let d = column.as_dictionary::<Int32Type>();
                let keys = d
                    .keys()
                    .iter()
                    .map(|k| k.map(|k| usize::try_from(k).unwrap()));
                (keys.collect(), arrow_cast_utf8(d.values().as_ref()))
            };
            keys.iter().map(|k| k.map(|k| values.value(k))).collect()
        }
        _ => column.as_string::<i32>().clone(),
    }
}

/// A JSON report with its inputs' names, formats and sizes left out, and the
/// file names in it made one.
fn comparable(report: &[u8], name: &str) -> serde_json::Value {
    let text = String::from_utf8(report.to_vec())
        .unwrap()
        .replace(name, "INPUT");
    let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
    for input in v["inputs"].as_array_mut().unwrap() {
        let o = input.as_object_mut().unwrap();
        o.remove("format");
        o.remove("bytes");
    }
    let params = v["parameters"].as_object_mut().unwrap();
    params.remove("format");
    v
}

#[test]
fn parquet_is_cleaned_as_the_same_json_lines_are() {
    let dir = tempdir();
    let d = dir.path();
    let rows = rows();
    write_jsonl(&d.join("all.jsonl"), &rows);
    write_parquet(&d.join("all.parquet"), &rows, &DataType::Utf8, 16);
    run_ok(
        d,
        &[
            "clean",
            "-q",
            "all.jsonl",
            "-o",
            "out.jsonl",
            "--report",
            "r.json",
            "--json",
        ],
    );
    let expected = json_lines(&std::fs::read(d.join("out.jsonl")).unwrap());
    // Something was dropped and something cleaned, or the test proves nothing.
    assert!(expected.len() < rows.len() - 5, "{}", expected.len());
    let cleaned = expected
        .iter()
        .filter(|r| {
            let original = rows.iter().find(|o| o.id == r["id"]).unwrap();
            original.text.as_deref() != r["text"].as_str()
        })
        .count();
    assert!(cleaned > 3, "{cleaned}");
    let mut first = None;
    for threads in ["1", "3"] {
        run_ok(
            d,
            &[
                "clean",
                "-q",
                "-j",
                threads,
                "all.parquet",
                "-o",
                "out.parquet",
                "--report",
                "rp.json",
                "--json",
            ],
        );
        let bytes = std::fs::read(d.join("out.parquet")).unwrap();
        match &first {
            None => first = Some(bytes),
            Some(f) => assert_bytes_eq(&bytes, f, "Parquet output at -j 1 and 3"),
        }
    }
    let (input_schema, _) = read_parquet(&d.join("all.parquet"));
    let (schema, batch) = read_parquet(&d.join("out.parquet"));
    assert_eq!(schema, input_schema, "the same schema, metadata included");
    let ids = strings(&batch, "id");
    let texts = strings(&batch, "text");
    let expected_ids: Vec<Option<String>> = expected
        .iter()
        .map(|r| r["id"].as_str().map(str::to_owned))
        .collect();
    let expected_texts: Vec<Option<String>> = expected
        .iter()
        .map(|r| r["text"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(ids, expected_ids, "the same rows kept, in order");
    assert_eq!(texts, expected_texts, "the same cleaned texts");
    // Every other column is the input's, row for row.
    let n = batch
        .column_by_name("n")
        .unwrap()
        .as_primitive::<Int64Type>();
    let urls = strings(&batch, "url");
    for (i, id) in ids.iter().enumerate() {
        let original = rows.iter().find(|r| Some(&r.id) == id.as_ref()).unwrap();
        assert_eq!(n.value(i), original.n);
        assert_eq!(urls[i].is_none(), original.n % 30 == 0);
    }
    assert_eq!(
        comparable(&std::fs::read(d.join("rp.json")).unwrap(), "all.parquet"),
        comparable(&std::fs::read(d.join("r.json")).unwrap(), "all.jsonl"),
        "the same report apart from the file's name"
    );
    // The text report names the same documents.
    let text_jsonl = run(d, &["scan", "all.jsonl"]).stdout_str();
    let text_parquet = run(d, &["scan", "all.parquet"]).stdout_str();
    assert_eq!(text_parquet.replace("all.parquet", "all.jsonl"), text_jsonl);
}

#[test]
fn string_types_and_compressions_are_read_and_kept() {
    let dir = tempdir();
    let d = dir.path();
    let rows = rows();
    write_parquet(&d.join("utf8.parquet"), &rows, &DataType::Utf8, 100);
    run_ok(
        d,
        &["clean", "-q", "utf8.parquet", "-o", "utf8.out.parquet"],
    );
    let (_, expected) = read_parquet(&d.join("utf8.out.parquet"));
    for (name, ty, compression) in [
        (
            "large",
            DataType::LargeUtf8,
            Compression::ZSTD(parquet::basic::ZstdLevel::default()),
        ),
        (
            "view",
            DataType::Utf8View,
            Compression::GZIP(parquet::basic::GzipLevel::default()),
        ),
        ("plain", DataType::Utf8, Compression::UNCOMPRESSED),
        ("lz4", DataType::Utf8, Compression::LZ4_RAW),
        // Bytes (read as UTF-8) and dictionaries of strings (what pandas
        // categoricals and `pa.dictionary` write), kept as they were.
        ("binary", DataType::Binary, Compression::SNAPPY),
        (
            "large-binary",
            DataType::LargeBinary,
            Compression::UNCOMPRESSED,
        ),
        (
            "dictionary",
            DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8)),
            Compression::SNAPPY,
        ),
        (
            "dictionary8",
            DataType::Dictionary(Box::new(DataType::Int8), Box::new(DataType::Utf8)),
            Compression::UNCOMPRESSED,
        ),
    ] {
        let input = format!("{name}.parquet");
        let output = format!("{name}.out.parquet");
        write_parquet_with(&d.join(&input), &rows, &ty, 7, compression);
        run_ok(d, &["clean", "-q", &input, "-o", &output]);
        let (schema, batch) = read_parquet(&d.join(&output));
        assert_eq!(schema.field_with_name("text").unwrap().data_type(), &ty);
        assert_eq!(
            strings(&batch, "text"),
            strings(&expected, "text"),
            "{name}"
        );
        assert_eq!(strings(&batch, "id"), strings(&expected, "id"), "{name}");
        let file = std::fs::File::open(d.join(&output)).unwrap();
        let meta = ParquetRecordBatchReaderBuilder::try_new(file).unwrap();
        let codec = meta.metadata().row_group(0).column(1).compression();
        assert_eq!(
            std::mem::discriminant(&codec),
            std::mem::discriminant(&compression),
            "{name}: compressed as the input"
        );
    }
}

#[test]
fn annotate_adds_the_json_lines_fields_as_columns() {
    let dir = tempdir();
    let d = dir.path();
    let rows = rows();
    write_jsonl(&d.join("all.jsonl"), &rows);
    write_parquet(&d.join("all.parquet"), &rows, &DataType::Utf8, 16);
    let jsonl = run_ok(d, &["clean", "-q", "--annotate", "all.jsonl"]);
    let expected = json_lines(&jsonl.stdout);
    assert_eq!(expected.len(), rows.len());
    run_ok(
        d,
        &[
            "clean",
            "-q",
            "--annotate",
            "all.parquet",
            "-o",
            "ann.parquet",
        ],
    );
    let (schema, batch) = read_parquet(&d.join("ann.parquet"));
    let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    assert_eq!(
        names,
        [
            "id",
            "text",
            "n",
            "url",
            "neardup_cluster",
            "neardup_cluster_size",
            "neardup_representative",
            "neardup_similarity",
            "neardup_duplicate"
        ]
    );
    assert_eq!(batch.num_rows(), rows.len());
    let mut duplicates = 0;
    for (i, record) in expected.iter().enumerate() {
        let value = |name: &str| -> serde_json::Value {
            let column = batch.column_by_name(name).unwrap();
            if column.is_null(i) {
                return serde_json::Value::Null;
            }
            match column.data_type() {
                DataType::Int64 => column.as_primitive::<Int64Type>().value(i).into(),
                DataType::Float64 => column
                    .as_primitive::<arrow_array::types::Float64Type>()
                    .value(i)
                    .into(),
                DataType::Boolean => column.as_boolean().value(i).into(),
                _ => column.as_string::<i32>().value(i).into(),
            }
        };
        for name in [
            "id",
            "text",
            "neardup_cluster",
            "neardup_cluster_size",
            "neardup_representative",
            "neardup_similarity",
            "neardup_duplicate",
        ] {
            assert_eq!(value(name), record[name], "row {i}, {name}");
        }
        duplicates += usize::from(record["neardup_duplicate"] == true);
    }
    assert!(duplicates > 3, "{duplicates}");
}

#[test]
fn chunked_runs_write_the_parquet_whole_runs_do() {
    let dir = tempdir();
    let d = dir.path();
    let rows = rows();
    write_parquet(&d.join("all.parquet"), &rows, &DataType::Utf8, 16);
    std::fs::create_dir(d.join("tree")).unwrap();
    write_parquet(&d.join("tree/a.parquet"), &rows[..40], &DataType::Utf8, 16);
    write_jsonl(&d.join("tree/b.jsonl"), &rows[40..]);
    write_parquet(&d.join("tree/c.parquet"), &rows[40..], &DataType::Utf8, 16);
    for extra in [&[][..], &["--annotate"]] {
        let mut whole = vec!["clean", "-q", "all.parquet", "-o", "whole.parquet"];
        whole.extend_from_slice(extra);
        run_ok(d, &whole);
        let mut whole_dir = vec!["clean", "-q", "tree", "--out-dir", "whole-tree"];
        whole_dir.extend_from_slice(extra);
        run_ok(d, &whole_dir);
        let expected = std::fs::read(d.join("whole.parquet")).unwrap();
        let expected_tree = crate::util::tree(&d.join("whole-tree"));
        assert_eq!(expected_tree.len(), 3);
        for threads in ["1", "2"] {
            let chunked = |target: &[&str]| {
                let mut args = vec!["clean", "-q", "-j", threads, "--memory-limit", "64K"];
                args.extend_from_slice(&["--tmp-dir", "spool"]);
                args.extend_from_slice(target);
                args.extend_from_slice(extra);
                run_ok(d, &args);
            };
            let what = format!("{extra:?} -j {threads}");
            chunked(&["all.parquet", "-o", "chunked.parquet"]);
            assert_bytes_eq(
                &std::fs::read(d.join("chunked.parquet")).unwrap(),
                &expected,
                &what,
            );
            chunked(&["tree", "--out-dir", "chunked-tree"]);
            assert_eq!(
                crate::util::tree(&d.join("chunked-tree")),
                expected_tree,
                "{what}"
            );
        }
    }
}

#[test]
fn bad_parquet_inputs_are_named_and_exit_2() {
    let dir = tempdir();
    let d = dir.path();
    let rows = rows();
    write_parquet(&d.join("good.parquet"), &rows, &DataType::Utf8, 16);
    let bytes = std::fs::read(d.join("good.parquet")).unwrap();
    std::fs::write(d.join("cut.parquet"), &bytes[..bytes.len() / 2]).unwrap();
    // The footer intact, a page in the middle overwritten.
    let mut flipped = bytes.clone();
    for b in &mut flipped[bytes.len() / 4..bytes.len() / 4 + 64] {
        *b = 0xA5;
    }
    std::fs::write(d.join("flipped.parquet"), &flipped).unwrap();
    std::fs::write(d.join("text.parquet"), "not parquet at all\n").unwrap();
    for (name, says) in [
        ("cut.parquet", "cut.parquet: not a readable Parquet file"),
        ("text.parquet", "text.parquet: not a readable Parquet file"),
        ("flipped.parquet", "flipped.parquet: corrupt Parquet file"),
    ] {
        for command in [&["scan", name][..], &["clean", name, "-o", "out.parquet"]] {
            let out = run(d, command);
            assert_eq!(out.code, 2, "{name}: {out:?}");
            assert!(out.stderr.contains(says), "{name}: {}", out.stderr);
            assert!(!d.join("out.parquet").exists());
        }
    }
    // Columns that are not there, or not strings.
    let out = run(d, &["scan", "--text-field", "body", "good.parquet"]);
    assert_eq!(out.code, 2);
    assert_holds(
        &out.stderr,
        "good.parquet: no column \"body\" (columns: id, text, n, url)",
    );
    let out = run(d, &["scan", "--text-field", "n", "good.parquet"]);
    assert_eq!(out.code, 2);
    assert_holds(
        &out.stderr,
        "good.parquet: column \"n\" holds Int64, not strings",
    );
    // A text column of bytes that are not UTF-8 is named by row.
    let schema = Arc::new(Schema::new(vec![Field::new(
        "text",
        DataType::Binary,
        true,
    )]));
    let texts: Vec<Option<&[u8]>> = vec![Some(b"fine words here"), Some(b"caf\xe9 au lait")];
    let batch = RecordBatch::try_new(
        Arc::clone(&schema),
        vec![Arc::new(arrow_array::BinaryArray::from(texts))],
    )
    .unwrap();
    let mut writer = ArrowWriter::try_new(
        std::fs::File::create(d.join("latin1.parquet")).unwrap(),
        schema,
        None,
    )
    .unwrap();
    writer.write(&batch).unwrap();
    writer.close().unwrap();
    let out = run_exit(d, 2, &["clean", "latin1.parquet", "-o", "out.parquet"]);
    assert_holds(
        &out.stderr,
        "latin1.parquet: row 2: column \"text\" holds bytes that are not UTF-8 (at byte 3",
    );
    assert!(!d.join("out.parquet").exists());
}

#[test]
fn null_texts_fail_or_pass_through_with_on_error_skip() {
    let dir = tempdir();
    let d = dir.path();
    let mut rows = rows();
    rows[6].text = None;
    write_parquet(&d.join("nulls.parquet"), &rows, &DataType::Utf8, 16);
    let out = run_exit(d, 2, &["clean", "nulls.parquet", "-o", "out.parquet"]);
    assert_holds(
        &out.stderr,
        "nulls.parquet:7: field \"text\" is null, not a string",
    );
    assert!(!d.join("out.parquet").exists());
    let out = run_ok(
        d,
        &[
            "clean",
            "--on-error",
            "skip",
            "nulls.parquet",
            "-o",
            "out.parquet",
        ],
    );
    assert_holds(&out.stderr, "warning: skipped nulls.parquet:7");
    let (_, batch) = read_parquet(&d.join("out.parquet"));
    let ids = strings(&batch, "id");
    let at = ids
        .iter()
        .position(|id| id.as_deref() == Some(&rows[6].id))
        .unwrap();
    assert_eq!(
        strings(&batch, "text")[at],
        None,
        "the row is kept as it was"
    );
}

#[test]
fn parquet_goes_to_parquet_only() {
    let dir = tempdir();
    let d = dir.path();
    let rows = rows();
    write_parquet(&d.join("all.parquet"), &rows, &DataType::Utf8, 16);
    write_jsonl(&d.join("all.jsonl"), &rows);
    for (args, says) in [
        (
            &["clean", "all.parquet"][..],
            "all.parquet: Parquet is written as Parquet, not to standard output",
        ),
        (
            &["clean", "all.parquet", "-o", "out.jsonl"],
            "all.parquet: Parquet is written as Parquet: name the output *.parquet",
        ),
        (
            &["clean", "all.jsonl", "-o", "out.parquet"],
            "out.parquet: Parquet output takes Parquet inputs only, and all.jsonl is not read as Parquet",
        ),
        (
            &["clean", "--format", "parquet", "-", "-o", "out.parquet"],
            "<stdin>: Parquet cannot be read from standard input",
        ),
    ] {
        let out = run(d, args);
        assert_eq!(out.code, 2, "{args:?}: {out:?}");
        assert!(out.stderr.contains(says), "{args:?}: {}", out.stderr);
        assert!(!d.join("out.parquet").exists() && !d.join("out.jsonl").exists());
    }
    // Several inputs to one file: one schema, rows in input order.
    write_parquet(&d.join("a.parquet"), &rows[..40], &DataType::Utf8, 16);
    write_parquet(&d.join("b.parquet"), &rows[40..], &DataType::Utf8, 16);
    write_parquet(
        &d.join("large.parquet"),
        &rows[40..],
        &DataType::LargeUtf8,
        16,
    );
    let out = run_exit(
        d,
        2,
        &[
            "clean",
            "-q",
            "a.parquet",
            "large.parquet",
            "-o",
            "out.parquet",
        ],
    );
    assert_holds(
        &out.stderr,
        "large.parquet: its columns differ from those of a.parquet",
    );
    assert!(!d.join("out.parquet").exists());
    assert_eq!(
        run(d, &["clean", "-q", "all.parquet", "-o", "one.parquet"]).code,
        0
    );
    run_ok(
        d,
        &["clean", "-q", "a.parquet", "b.parquet", "-o", "two.parquet"],
    );
    let (_, one) = read_parquet(&d.join("one.parquet"));
    let (_, two) = read_parquet(&d.join("two.parquet"));
    assert_eq!(strings(&two, "id"), strings(&one, "id"));
    assert_eq!(strings(&two, "text"), strings(&one, "text"));
    // `scan` and `check` read it like any input.
    run_ok(
        d,
        &[
            "check",
            "--max-dup-docs",
            "50%",
            "--max-dup-bytes",
            "90%",
            "--max-dup-blocks",
            "90%",
            "all.parquet",
        ],
    );
}

#[test]
fn a_parquet_file_without_rows_is_zero_documents() {
    let dir = tempdir();
    let d = dir.path();
    write_parquet(&d.join("empty.parquet"), &[], &DataType::Utf8, 16);
    for chunked in [&[][..], &["--memory-limit", "64K", "--tmp-dir", "spool"]] {
        let mut args = vec!["clean", "-q", "empty.parquet", "-o", "out.parquet"];
        args.extend_from_slice(chunked);
        run_ok(d, &args);
        let (schema, batch) = read_parquet(&d.join("out.parquet"));
        assert_eq!(schema, read_parquet(&d.join("empty.parquet")).0);
        assert_eq!(batch.num_rows(), 0);
        std::fs::remove_file(d.join("out.parquet")).unwrap();
    }
}

#[test]
fn a_small_parquet_file_of_large_rows_counts_by_what_it_decodes_to() {
    // 40 rows of 200 KB each (8 MB of text) in a file of a few KB: on a
    // machine with 32 MB available the run works in chunks by itself (read
    // a few rows at a time, not 1,024), as the same rows in JSON Lines do,
    // with the whole run's output.
    let dir = tempdir();
    let d = dir.path();
    let rows: Vec<Row> = (0..40)
        .map(|i| Row {
            id: format!("b{i}"),
            text: Some(format!("row {i} {}", "word again ".repeat(18_000))),
            n: i,
        })
        .collect();
    let zstd = Compression::ZSTD(parquet::basic::ZstdLevel::try_new(9).unwrap());
    write_parquet_with(&d.join("big.parquet"), &rows, &DataType::Utf8, 1024, zstd);
    assert!(std::fs::metadata(d.join("big.parquet")).unwrap().len() < 100_000);
    let run_with = |available: &str, out: &str| {
        std::process::Command::new(env!("CARGO_BIN_EXE_neardup"))
            .current_dir(d)
            .env("NEARDUP_AVAILABLE_MEMORY", available)
            .args(["clean", "-v", "big.parquet", "-o", out])
            .output()
            .unwrap()
    };
    let small = run_with("32M", "small.parquet");
    assert!(small.status.success(), "{small:?}");
    let stderr = String::from_utf8_lossy(&small.stderr);
    assert_holds(&stderr, "working in chunks");
    let roomy = run_with("1G", "whole.parquet");
    assert!(roomy.status.success(), "{roomy:?}");
    assert!(
        !String::from_utf8_lossy(&roomy.stderr).contains("chunks"),
        "{roomy:?}"
    );
    let (_, small) = read_parquet(&d.join("small.parquet"));
    let (_, whole) = read_parquet(&d.join("whole.parquet"));
    assert_eq!(small, whole);
    assert!(whole.num_rows() < 40, "the copies are dropped");
}

/// `rows` texts of `row_bytes` bytes each (distinct, repetitive) in one
/// zstd page of a few kilobytes on disk: the page decompresses to their
/// sum, as pyarrow's pages of 1,024 large values do.
fn one_large_page(path: &Path, rows: usize, row_bytes: usize) {
    let texts: Vec<String> = (0..rows)
        .map(|i| {
            let mut t = format!("row {i} opens it, then ");
            while t.len() < row_bytes {
                t.push_str("the same words again and again ");
            }
            t
        })
        .collect();
    let ids = (0..rows).map(|i| format!("p{i}")).collect();
    let props = WriterProperties::builder()
        .set_compression(Compression::ZSTD(
            parquet::basic::ZstdLevel::try_new(9).unwrap(),
        ))
        .set_dictionary_enabled(false)
        .set_data_page_size_limit(1 << 30)
        .build();
    write_columns(path, [("id", ids), ("text", texts)], props);
}

/// Writes two string columns (no nulls) named and filled as `columns` say.
fn write_columns(path: &Path, columns: [(&str, Vec<String>); 2], props: WriterProperties) {
    let fields = columns
        .iter()
        .map(|(name, _)| Field::new(*name, DataType::Utf8, false));
    let schema = Arc::new(Schema::new(fields.collect::<Vec<_>>()));
    let arrays = columns.map(|(_, values)| -> ArrayRef {
        Arc::new(values.into_iter().map(Some).collect::<StringArray>())
    });
    let batch = RecordBatch::try_new(Arc::clone(&schema), arrays.to_vec()).unwrap();
    let mut writer =
        ArrowWriter::try_new(std::fs::File::create(path).unwrap(), schema, Some(props)).unwrap();
    writer.write(&batch).unwrap();
    writer.close().unwrap();
}

#[test]
fn a_page_larger_than_the_memory_limit_allows_is_refused_before_it_is_read() {
    // 32 rows of 256 KB in one page: 8 MB decompressed, a few KB on disk.
    let dir = tempdir();
    let d = dir.path();
    one_large_page(&d.join("bomb.parquet"), 32, 256 << 10);
    assert!(std::fs::metadata(d.join("bomb.parquet")).unwrap().len() < 100_000);
    let run_with = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_neardup"))
            .current_dir(d)
            .env("NEARDUP_AVAILABLE_MEMORY", "4G")
            .args(args)
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    // At --memory-limit 16M (4 MB for pages) it is refused, by name, before
    // anything is written or spooled: scan, and clean to Parquet.
    std::fs::create_dir(d.join("spool")).unwrap();
    for args in [
        &[
            "scan",
            "-q",
            "--memory-limit",
            "16M",
            "--tmp-dir",
            "spool",
            "bomb.parquet",
        ][..],
        &[
            "clean",
            "-q",
            "--memory-limit",
            "16M",
            "--tmp-dir",
            "spool",
            "bomb.parquet",
            "-o",
            "out.parquet",
            "--report",
            "r.json",
        ],
    ] {
        let (code, stderr) = run_with(args);
        assert_eq!(code, Some(2), "{stderr}");
        assert!(
            stderr.contains("bomb.parquet: too large: row group 0: its pages take")
                && stderr.contains("column text")
                && stderr.contains("raise --memory-limit to 3"),
            "{stderr}"
        );
        assert!(!d.join("out.parquet").exists() && !d.join("r.json").exists());
        assert_eq!(std::fs::read_dir(d.join("spool")).unwrap().count(), 0);
    }
    // With room for the page, and without a limit, it is read and cleaned.
    for args in [
        &[
            "clean",
            "-q",
            "--memory-limit",
            "64M",
            "--tmp-dir",
            "spool",
            "bomb.parquet",
            "-o",
            "limited.parquet",
        ][..],
        &["clean", "-q", "bomb.parquet", "-o", "whole.parquet"],
    ] {
        let (code, stderr) = run_with(args);
        assert_eq!(code, Some(0), "{stderr}");
    }
    let (_, limited) = read_parquet(&d.join("limited.parquet"));
    let (_, whole) = read_parquet(&d.join("whole.parquet"));
    // (The rows are near copies of each other: most are dropped, alike.)
    assert!((1..32).contains(&whole.num_rows()), "{}", whole.num_rows());
    assert_eq!(limited, whole);
}

#[test]
fn column_chunks_outside_the_file_are_corrupt_not_a_crash() {
    // The footer of a good file without its pages: every column chunk it
    // names lies past the end of the file.
    let dir = tempdir();
    let d = dir.path();
    write_parquet(&d.join("good.parquet"), &rows(), &DataType::Utf8, 1000);
    let bytes = std::fs::read(d.join("good.parquet")).unwrap();
    let n = bytes.len();
    let footer = u32::from_le_bytes(bytes[n - 8..n - 4].try_into().unwrap()) as usize;
    let mut hollow = b"PAR1".to_vec();
    hollow.extend_from_slice(&bytes[n - 8 - footer..]);
    std::fs::write(d.join("hollow.parquet"), &hollow).unwrap();
    for limit in [&[][..], &["--memory-limit", "16M"]] {
        let mut args = vec!["clean", "hollow.parquet", "-o", "out.parquet"];
        args.extend_from_slice(limit);
        let out = run_exit(d, 2, &args);
        assert!(
            out.stderr
                .contains("hollow.parquet: corrupt Parquet file: row group 0, column")
                && out.stderr.contains("are not within the file's"),
            "{}",
            out.stderr
        );
        assert!(!d.join("out.parquet").exists());
    }
}

/// `n` texts of a few words, each its own.
fn own_texts(n: usize) -> Vec<String> {
    (0..n)
        .map(|i| format!("row {i} has a few words of its own, {}", i * 7))
        .collect()
}

#[test]
fn a_large_page_of_another_column_is_refused_when_the_output_reads_it() {
    // The texts are small; a `blob` column (not read to find copies, but
    // written back with every kept row) is one page of 8 MB.
    let dir = tempdir();
    let d = dir.path();
    let blob = "x y z ".repeat(45_000);
    let props = WriterProperties::builder()
        .set_compression(Compression::ZSTD(parquet::basic::ZstdLevel::default()))
        .set_dictionary_enabled(false)
        .set_data_page_size_limit(1 << 30)
        .build();
    let columns = [
        ("text", own_texts(32)),
        ("blob", (0..32).map(|i| format!("{blob}{i}")).collect()),
    ];
    write_columns(&d.join("blob.parquet"), columns, props);
    let limited = ["--memory-limit", "16M", "--tmp-dir", "spool"];
    let mut scan = vec!["scan", "-q", "blob.parquet"];
    scan.extend_from_slice(&limited);
    assert_eq!(run(d, &scan).code, 0);
    let mut clean = vec!["clean", "-q", "blob.parquet", "-o", "out.parquet"];
    clean.extend_from_slice(&limited);
    let out = run_exit(d, 2, &clean);
    assert!(
        out.stderr.contains("blob.parquet: too large: row group 0")
            && out.stderr.contains("(column blob: "),
        "{}",
        out.stderr
    );
    assert!(!d.join("out.parquet").exists());
    run_ok(d, &["clean", "-q", "blob.parquet", "-o", "out.parquet"]);
    // (The texts are near copies: the first row is kept, its blob whole.)
    let (_, kept) = read_parquet(&d.join("out.parquet"));
    assert_eq!(
        strings(&kept, "blob")[0].as_deref(),
        Some(&*format!("{blob}0"))
    );
}

#[test]
fn an_input_that_fails_while_its_rows_are_written_back_is_named_alone() {
    // A `blob` column (never read to find copies, read to write every kept
    // row back) whose data is overwritten in the file: the run finds copies
    // in `text` and fails writing the output. The error is the input's (a
    // Parquet input cut while `clean -o out.parquet` ran was told as
    // `out.parquet: in.parquet: ...`).
    let dir = tempdir();
    let d = dir.path();
    let props = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_dictionary_enabled(false)
        .build();
    let path = d.join("in.parquet");
    let blobs = (0..400).map(|i| format!("blob {i} {}", "q r s t u v ".repeat(50 + i % 7)));
    write_columns(
        &path,
        [("text", own_texts(400)), ("blob", blobs.collect())],
        props,
    );
    let meta = ParquetRecordBatchReaderBuilder::try_new(std::fs::File::open(&path).unwrap())
        .unwrap()
        .metadata()
        .clone();
    let blob = meta.row_group(0).column(1);
    let (start, len) = blob.byte_range();
    let (start, len) = (
        usize::try_from(start).unwrap(),
        usize::try_from(len).unwrap(),
    );
    let mut bytes = std::fs::read(&path).unwrap();
    for b in &mut bytes[start + len / 2..start + len / 2 + 256] {
        *b ^= 0x5A;
    }
    std::fs::write(&path, &bytes).unwrap();
    let scan = run(d, &["scan", "-q", "in.parquet"]);
    assert_eq!(scan.code, 0, "the text column is whole: {scan:?}");
    for mode in [&[][..], &["--memory-limit", "16M", "--tmp-dir", "spool"]] {
        let mut args = vec!["clean", "-q", "in.parquet", "-o", "out.parquet"];
        args.extend_from_slice(mode);
        let failed = run(d, &args);
        assert_eq!(failed.code, 2, "{args:?}: {failed:?}");
        assert!(
            failed.stderr.starts_with("neardup: in.parquet: ")
                && !failed.stderr.contains("out.parquet"),
            "{args:?}: {}",
            failed.stderr
        );
        assert!(!d.join("out.parquet").exists());
    }
    std::fs::create_dir(d.join("od")).unwrap();
    let failed = run_exit(d, 2, &["clean", "-q", "in.parquet", "--out-dir", "od"]);
    assert!(
        failed.stderr.starts_with("neardup: in.parquet: ") && !failed.stderr.contains("od/"),
        "{}",
        failed.stderr
    );
    assert!(std::fs::read_dir(d.join("od")).unwrap().next().is_none());
}
