//! What a run keeps resident of a mapped input while it writes its output
//! (session 23's hostile pass): pages written out are let go as it goes.

use crate::util::{assert_prints, run_ok, tempdir};
use std::io::Write;
use std::path::Path;
use std::process::Stdio;

/// Runs `neardup args...` in `dir` and gives its exit status and peak
/// resident set (KiB, file pages included), as its `VmHWM` read every few
/// milliseconds while it runs. (Not `ru_maxrss`: that counts the image of
/// the process it was forked from, here the test harness, before `exec`.)
/// A read can only miss a last rise, never see one that was not there.
fn run_measured(dir: &Path, args: &[&str]) -> (i32, u64) {
    let mut child = crate::util::command(dir, args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the binary starts");
    let status = format!("/proc/{}/status", child.id());
    let mut peak = 0;
    loop {
        if let Ok(text) = std::fs::read_to_string(&status) {
            let hwm = text
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok());
            peak = peak.max(hwm.unwrap_or(0));
        }
        if let Some(exit) = child.try_wait().unwrap() {
            return (exit.code().unwrap_or(-1), peak);
        }
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
}

/// 150 records each holding 1 MB besides a short text (150 MB), annotated
/// at `--memory-limit 64M`: the writer let go of the pages it had written
/// every 1024 records only, so all 150 MB stayed resident (file pages of the
/// input's mapping, 300 MB for 300 records). Now every 16 MiB too.
#[test]
fn pages_of_large_records_are_let_go_as_they_are_written() {
    let dir = tempdir();
    let mut file =
        std::io::BufWriter::new(std::fs::File::create(dir.path().join("fat.jsonl")).unwrap());
    let raw = "x".repeat(1 << 20);
    for i in 0..150 {
        writeln!(
            file,
            r#"{{"id":{i},"raw":"{raw}","text":"short text number {} here with a few words"}}"#,
            i % 30
        )
        .unwrap();
    }
    file.into_inner().unwrap().sync_all().unwrap();
    let (code, kib) = run_measured(
        dir.path(),
        &[
            "clean",
            "-q",
            "--annotate",
            "--memory-limit",
            "64M",
            "--tmp-dir",
            ".",
            "fat.jsonl",
            "-o",
            "o.jsonl",
        ],
    );
    assert_eq!(code, 0);
    assert!(
        kib < 100 << 10,
        "peak resident set {kib} KiB for a 150 MB input at 64M"
    );
    let out = std::fs::read_to_string(dir.path().join("o.jsonl")).unwrap();
    assert_eq!(out.lines().count(), 150);
    assert_eq!(out.matches(r#""neardup_duplicate":true"#).count(), 120);
}

/// 2,000 records of 30 words with 4,104 keys a document (`--num-perm 4096
/// --bands 4096 --rows 1`) at `--memory-limit 16M`: chunks were cut for the
/// 128 keys of the default banding, so the run in chunks took all 2,000 in
/// one and peaked at 110 MiB in a release build (session 29's hostile pass;
/// 342 MiB for 5,000 at 64M). Chunks are now cut by what a document's keys
/// cost: 26 MiB (release), 54 (debug).
#[test]
fn chunks_are_cut_for_the_keys_documents_have() {
    let dir = tempdir();
    let mut file =
        std::io::BufWriter::new(std::fs::File::create(dir.path().join("r.jsonl")).unwrap());
    for i in 0..2000u64 {
        let text: Vec<String> = (0..30)
            .map(|k| format!("w{}", (i * 7919 + k * 104_729) % 5000))
            .collect();
        writeln!(file, r#"{{"id":{i},"text":"{}"}}"#, text.join(" ")).unwrap();
    }
    file.into_inner().unwrap().sync_all().unwrap();
    let (code, kib) = run_measured(
        dir.path(),
        &[
            "scan",
            "-q",
            "--level",
            "docs",
            "--num-perm",
            "4096",
            "--bands",
            "4096",
            "--rows",
            "1",
            "--memory-limit",
            "16M",
            "--tmp-dir",
            ".",
            "r.jsonl",
        ],
    );
    assert_eq!(code, 0);
    assert!(
        kib < 80 << 10,
        "peak resident set {kib} KiB at --memory-limit 16M (the limit and 64 MiB allowed)"
    );
}

/// Writes `lines.jsonl`: a record of one short line, then one of `text`.
fn short_then_many(d: &Path, text: &str) {
    let record = serde_json::json!({"id": "many", "text": text});
    std::fs::write(
        d.join("lines.jsonl"),
        format!("{{\"id\":\"one\",\"text\":\"a b c\"}}\n{record}\n"),
    )
    .unwrap();
}

/// `args` on the 150,000 lines of `name` stay within 80 MiB (measured;
/// `with` says how they ran) and are refused naming the document (`at`).
#[track_caller]
fn within_the_limit_or_refused(d: &Path, args: &[&str], name: &str, at: &str, with: &str) {
    let (code, kib) = run_measured(d, args);
    assert!(code == 0 || code == 2, "{name}: exit {code}");
    assert!(
        kib < 80 << 10,
        "{name}: peak resident set {kib} KiB at --memory-limit 16M{with} (the limit and 64 MiB allowed)"
    );
    let out = crate::util::run(d, args);
    assert_eq!(out.code, 2, "{name}: {out:?}");
    assert!(
        out.stderr.contains(at) && out.stderr.contains("about 150000 blocks"),
        "{name}: {out:?}"
    );
}

/// A text of many short lines: each line is a block, of a few hundred bytes
/// of memory for a few bytes of text, and each block that repeats an earlier
/// one has a report entry besides. Counted by its bytes alone, one text file
/// of 150,000 lines of `a b c` (900 KB) fitted a chunk at `--memory-limit
/// 16M` and peaked near 190 MiB (470 MiB for 400,000 lines at 64M: session
/// 29's hostile pass). A document is now counted by its blocks as well:
/// refused by name when one chunk cannot hold them, and read whole under a
/// limit that can.
#[test]
fn texts_of_many_short_lines_stay_within_the_limit_or_are_refused() {
    let dir = tempdir();
    let d = dir.path();
    let text = "a b c\n".repeat(150_000);
    std::fs::write(d.join("lines.txt"), &text).unwrap();
    short_then_many(d, &text);
    for (name, at) in [
        ("lines.txt", "lines.txt: "),
        ("lines.jsonl", "lines.jsonl:2: "),
    ] {
        let args = [
            "scan",
            "--json",
            "--memory-limit",
            "16M",
            "--tmp-dir",
            ".",
            name,
        ];
        within_the_limit_or_refused(d, &args, name, at, "");
        // Under a limit that holds it, the same output as without one.
        run_ok(d, &["clean", "-q", name, "-o", "whole.out"]);
        run_ok(
            d,
            &[
                "clean",
                "-q",
                "--memory-limit",
                "1G",
                name,
                "-o",
                "limited.out",
            ],
        );
        assert_eq!(
            std::fs::read(d.join("whole.out")).unwrap(),
            std::fs::read(d.join("limited.out")).unwrap(),
            "{name}"
        );
    }
}

/// A run with an HTML page (or writing a FIFO or device in place) cannot be
/// made again in chunks, so under `--memory-limit` it is read whole only when
/// its inputs are counted to fit: by their bytes and lines. Lines were
/// counted by their `\n` bytes alone, so a text of short lines ended by `\r`,
/// or held in one JSON Lines record (its breaks escaped), counted as one
/// line, was read whole with no watch on its memory: 150,000 lines at
/// `--memory-limit 16M` took about 120 MiB, exit 0 (207 MiB for 600,000 at 64M:
/// session 31's hostile pass). Their breaks count now: the run is in chunks,
/// where the document is refused by name, and no page is written.
#[test]
fn an_html_page_of_lines_ended_by_returns_or_escaped_stays_within_the_limit() {
    let dir = tempdir();
    let d = dir.path();
    let text = "a b c\n".repeat(150_000);
    std::fs::write(d.join("returns.txt"), text.replace('\n', "\r")).unwrap();
    short_then_many(d, &text);
    for (name, at) in [
        ("returns.txt", "returns.txt: "),
        ("lines.jsonl", "lines.jsonl:2: "),
    ] {
        let args = [
            "scan",
            "-q",
            "--html",
            "page.html",
            "--memory-limit",
            "16M",
            "--tmp-dir",
            ".",
            name,
        ];
        within_the_limit_or_refused(d, &args, name, at, " with --html");
        assert!(!d.join("page.html").exists(), "{name}");
    }
}

/// A text of 300,000 repeated short lines: each line is a short repeat of
/// the first, and the document's report entry lists 299,999 of them (about
/// 130 MB as JSON, 160 MB held). The entry is written into a spool as it is
/// made and read back past the removals nothing prints: main held it whole
/// and took 238 MiB at --memory-limit 128M (text, JSON and JSON Lines alike).
#[test]
#[ignore = "heavy: a minute or more in a debug build; .ci/run runs it in release"]
fn a_report_entry_of_many_repeated_lines_is_never_held_whole() {
    let dir = tempdir();
    let d = dir.path();
    std::fs::write(d.join("lines.txt"), "a b c\n".repeat(300_000)).unwrap();
    for format in ["text", "json", "jsonl"] {
        let args = [
            "scan",
            "--output-format",
            format,
            "--memory-limit",
            "128M",
            "--tmp-dir",
            ".",
            "lines.txt",
        ];
        let (code, kib) = run_measured(d, &args);
        assert_eq!(code, 0, "{format}");
        assert!(
            kib < 192 << 10,
            "{format}: peak resident set {kib} KiB at --memory-limit 128M (the limit and 64 MiB allowed)"
        );
    }
    let out = run_ok(
        d,
        &["scan", "--json", "--memory-limit", "128M", "lines.txt"],
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let doc = &report["documents"][0];
    let repeats = doc["short_repeats"].as_array().unwrap();
    assert_eq!(repeats.len(), 299_999);
    assert_eq!(
        repeats[299_998]["repeat"]["lines"],
        serde_json::json!([300_000, 300_000])
    );
    assert_eq!(
        repeats[299_998]["first_copy"]["lines"],
        serde_json::json!([1, 1])
    );
    let text = crate::util::run(d, &["scan", "--memory-limit", "128M", "lines.txt"]);
    assert_prints(&text, "299,999 short repeats kept");
}

/// A text of 200,000 paragraphs drawn from 1,000 distinct ones (8.9 MB):
/// nearly every paragraph repeats an earlier one apart from its
/// neighbours, so the document's entry lists 187,000 runs of one block,
/// and the text report and `check`'s annotations print a line for each.
/// They read the spooled entry back holding every run and its most similar
/// removal (466 MiB at --memory-limit 256M, text and annotations alike, with
/// an HTML page or without); now a run at a time, its lines written as it
/// is read.
#[test]
#[ignore = "heavy: a minute or more in a debug build; .ci/run runs it in release"]
fn a_report_entry_of_many_runs_is_printed_as_it_is_read() {
    let dir = tempdir();
    let d = dir.path();
    let mut seed = 32u64;
    let mut next = |n: u64| {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (seed >> 33) % n
    };
    let distinct: Vec<String> = (0..1000)
        .map(|_| {
            (0..8)
                .map(|_| format!("w{}", next(2000)))
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect();
    let paragraphs: Vec<&str> = (0..200_000)
        .map(|_| distinct[usize::try_from(next(1000)).unwrap()].as_str())
        .collect();
    std::fs::write(d.join("para.txt"), paragraphs.join("\n\n") + "\n").unwrap();
    for format in [
        &["--output-format", "text"][..],
        &["--output-format", "github"],
        &["--html", "page.html"],
    ] {
        let args = [
            &["check", "--memory-limit", "256M", "--tmp-dir", "."][..],
            format,
            &["para.txt"],
        ]
        .concat();
        let (code, kib) = run_measured(d, &args);
        assert_eq!(code, 1, "{format:?}");
        assert!(
            kib < 320 << 10,
            "{format:?}: peak resident set {kib} KiB at --memory-limit 256M (the limit and 64 MiB allowed)"
        );
    }
    // Every run has its line, in order, its lines after the last one's.
    let out = run_ok(d, &["scan", "--memory-limit", "256M", "para.txt"]);
    let text = out.stdout_str();
    let runs: Vec<&str> = text.lines().filter(|l| l.starts_with("  line")).collect();
    let all: Vec<&str> = text.lines().collect();
    let total = all
        .len()
        .checked_sub(2)
        .and_then(|at| all[at].split(" removed in ").nth(1))
        .and_then(|rest| rest.split(" runs").next())
        .map(|n| n.replace(',', "").parse::<usize>().unwrap());
    assert_eq!(Some(runs.len()), total, "{}", &text[text.len() - 400..]);
    assert!(runs.len() > 150_000, "{}", runs.len());
    let first_line = |l: &str| -> usize {
        let l = l.trim_start();
        l.strip_prefix("lines ")
            .or_else(|| l.strip_prefix("line "))
            .and_then(|r| r.split([' ', '-']).next())
            .unwrap()
            .parse()
            .unwrap()
    };
    assert!(runs.windows(2).all(|w| first_line(w[0]) < first_line(w[1])));
}

/// Six-word records in groups of 10 sharing five words, in two indexes of
/// the same groups: merged, 20 short records hold each shared shingle, more
/// than the 16 a look-up may rebuild, so every one gets its 128 band records
/// back when the merge is written. Those records (16 bytes each, 2 KiB a
/// record) were made and sorted whole: 1,334 MiB for 300,000 + 300,000 at
/// `--memory-limit 64M` (a release build; 1,563 MiB for `--update` of one
/// with the other). They are now sorted a batch at a time, in unnamed files
/// beside the output past 16 MiB. Here 25,000 + 25,000 (100 MiB of band
/// records) at `--memory-limit 1M`: within the limit and 64 MiB.
#[test]
#[ignore = "heavy: 4 minutes in a debug build; .ci/run runs it in release"]
fn short_records_given_band_records_by_a_merge_are_sorted_in_runs() {
    let dir = tempdir();
    let d = dir.path();
    for (name, seed) in [("a", 1u64), ("b", 2)] {
        let mut file = std::io::BufWriter::new(
            std::fs::File::create(d.join(format!("{name}.jsonl"))).unwrap(),
        );
        for i in 0..25_000u64 {
            let group = i % 2500;
            let prefix: Vec<String> = (0..5)
                .map(|k| format!("p{}", (group * 7919 + k * 104_729) % 100_003))
                .collect();
            let last = (i * 31 + seed * 1_000_003) % 1_000_033;
            writeln!(
                file,
                r#"{{"id":"{name}{i}","text":"{} q{last}x{seed}"}}"#,
                prefix.join(" ")
            )
            .unwrap();
        }
        file.into_inner().unwrap().sync_all().unwrap();
        run_ok(
            d,
            &[
                "index",
                "build",
                "-q",
                &format!("{name}.jsonl"),
                "-o",
                &format!("{name}.ndx"),
            ],
        );
    }
    let (code, kib) = run_measured(
        d,
        &[
            "index",
            "merge",
            "--memory-limit",
            "1M",
            "--tmp-dir",
            ".",
            "a.ndx",
            "b.ndx",
            "-o",
            "m.ndx",
        ],
    );
    assert_eq!(code, 0);
    let stats = crate::util::run(d, &["index", "stats", "--json", "m.ndx"]);
    let stats: serde_json::Value = serde_json::from_slice(&stats.stdout).unwrap();
    assert!(
        stats["bucket_entries"].as_u64().unwrap() > 6_000_000,
        "the records got band records back: {stats}"
    );
    assert!(
        kib < 65 << 10,
        "peak resident set {kib} KiB at --memory-limit 1M (the limit and 64 MiB allowed)"
    );
    // Nothing left beside the output.
    let names = crate::util::names_in(d);
    assert_eq!(
        names,
        [
            "a.jsonl",
            "a.ndx",
            "a.ndx.lock",
            "b.jsonl",
            "b.ndx",
            "b.ndx.lock",
            "m.ndx",
            "m.ndx.lock"
        ]
    );
}

/// A Parquet file of one row group (as `pyarrow.parquet.write_table` writes
/// up to a million rows): 60,000 rows of a short text and 1 KiB of random
/// hex each (60 MB that does not compress, every row kept), cleaned to Parquet at
/// `--memory-limit 16M`. The writer held 32 MiB of the output's row group
/// however low the limit (81 MiB resident, 80 allowed: session 32's
/// hostile pass). It now writes a row group out once it holds 8 MiB, with
/// or without a limit, so the file is the one a whole run writes, byte for
/// byte (session 32's cut at a quarter of the limit made the bytes depend
/// on `--memory-limit`). Every row is written.
#[test]
fn a_parquet_output_holds_no_more_of_a_row_group_than_the_limit_allows() {
    use arrow_array::{ArrayRef, Int64Array, RecordBatch, StringArray};
    use arrow_schema::{DataType, Field, Schema};
    use std::sync::Arc;

    let dir = tempdir();
    let d = dir.path();
    let rows = 60_000usize;
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    let mut blob = || {
        (0..1024)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                char::from(b"0123456789abcdef"[usize::try_from(state & 15).unwrap()])
            })
            .collect::<String>()
    };
    let blobs: Vec<String> = (0..rows).map(|_| blob()).collect();
    let texts: Vec<String> = (0..rows)
        .map(|i| {
            format!(
                "record {i} of the batch says w{} w{} w{} today",
                i % 97,
                i % 89,
                i % 83
            )
        })
        .collect();
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("text", DataType::Utf8, false),
        Field::new("blob", DataType::Utf8, false),
    ]));
    let columns: Vec<ArrayRef> = vec![
        Arc::new(Int64Array::from_iter_values(
            0..i64::try_from(rows).unwrap(),
        )),
        Arc::new(StringArray::from_iter_values(&texts)),
        Arc::new(StringArray::from_iter_values(&blobs)),
    ];
    let batch = RecordBatch::try_new(Arc::clone(&schema), columns).unwrap();
    // Pages of 256 KiB: a page is read whole, and larger ones are refused
    // at 16M by name.
    let props = parquet::file::properties::WriterProperties::builder()
        .set_max_row_group_row_count(Some(1 << 20))
        .set_dictionary_enabled(false)
        .set_data_page_size_limit(256 << 10)
        .build();
    let file = std::fs::File::create(d.join("one.parquet")).unwrap();
    let mut writer = parquet::arrow::ArrowWriter::try_new(file, schema, Some(props)).unwrap();
    writer.write(&batch).unwrap();
    writer.close().unwrap();
    let (code, kib) = run_measured(
        d,
        &[
            "clean",
            "-q",
            "--memory-limit",
            "16M",
            "--tmp-dir",
            ".",
            "one.parquet",
            "-o",
            "out.parquet",
        ],
    );
    assert_eq!(code, 0);
    assert!(
        kib < 80 << 10,
        "peak resident set {kib} KiB at --memory-limit 16M (the limit and 64 MiB allowed)"
    );
    let out = std::fs::File::open(d.join("out.parquet")).unwrap();
    let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(out)
        .unwrap()
        .build()
        .unwrap();
    let kept: usize = reader.map(|b| b.unwrap().num_rows()).sum();
    assert_eq!(kept, rows, "no text is a near copy of another");
    let (code, _) = run_measured(d, &["clean", "-q", "one.parquet", "-o", "whole.parquet"]);
    assert_eq!(code, 0);
    assert!(
        std::fs::read(d.join("out.parquet")).unwrap()
            == std::fs::read(d.join("whole.parquet")).unwrap(),
        "the file written at --memory-limit 16M is the one a whole run writes"
    );
}
