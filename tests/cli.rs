//! What a user of the command line sees: the seed article, syndication across
//! files, JSON Lines round trips, and bad input.

use crate::errors::assert_error;
use crate::util::{
    assert_bytes_eq, assert_prints, assert_says, data_dir, json_lines, run, run_exit, run_ok,
    run_with_stdin, tempdir,
};
use serde_json::Value;

pub(crate) fn seed_dir() -> std::path::PathBuf {
    data_dir().join("seed")
}

/// Lines `from..=to` (1-based) of `text`, each with its own line break.
fn line_range(text: &str, from: usize, to: usize) -> String {
    text.split_inclusive('\n')
        .skip(from - 1)
        .take(to + 1 - from)
        .collect()
}

#[test]
fn seed_clean_prints_lines_1_to_16_and_18_to_19_byte_for_byte() {
    let article = std::fs::read_to_string(seed_dir().join("article.txt")).unwrap();
    assert_eq!(article.lines().count(), 32);
    let expected = line_range(&article, 1, 16) + &line_range(&article, 18, 19);
    for threads in ["1", "2"] {
        let out = run_ok(&seed_dir(), &["clean", "--threads", threads, "article.txt"]);
        assert_bytes_eq(&out.stdout, expected.as_bytes(), "cleaned article");
        assert_says(&out, "removed 14 of 32 blocks");
    }
}

#[test]
fn seed_scan_reports_one_run_with_the_tweet_inside() {
    let out = run_ok(&seed_dir(), &["scan", "article.txt"]);
    let text = out.stdout_str();
    assert!(
        text.contains("lines 17-32 repeat lines 3-16: 14 blocks, 3,456 bytes, exact"),
        "{text}"
    );
    assert!(text.contains("lines 18-19 inside the run are not repeated (2 blocks, kept)"));
    let runs = text.lines().filter(|l| l.starts_with("  lines ")).count();
    assert_eq!(runs, 1, "one run only:\n{text}");
}

#[test]
fn seed_json_says_the_same_and_offsets_point_at_equal_text() {
    let out = run_ok(&seed_dir(), &["scan", "--json", "article.txt"]);
    let report: neardup::report::Report = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report.schema_version, 1);
    assert_eq!(report.parameters.seed, 42);
    assert_eq!(report.documents.len(), 1);
    let doc = &report.documents[0];
    assert_eq!(doc.runs.len(), 1);
    let run = &doc.runs[0];
    assert_eq!(
        (run.lines, run.source_lines, run.blocks),
        ([17, 32], [3, 16], 14)
    );
    assert_eq!(run.interruptions.len(), 1);
    assert_eq!(
        (run.interruptions[0].lines, run.interruptions[0].blocks),
        ([18, 19], 2)
    );
    assert_eq!(report.summary.removed_bytes, 3456);
    let article = std::fs::read_to_string(seed_dir().join("article.txt")).unwrap();
    let chars: Vec<char> = article.chars().collect();
    for removal in &run.removals {
        assert!(removal.exact && removal.removed);
        let (r, s) = (&removal.repeat, &removal.first_copy);
        let by_bytes =
            |p: &neardup::report::Place| article[p.bytes[0]..p.bytes[1]].trim_end().to_owned();
        let by_chars = |p: &neardup::report::Place| {
            chars[p.chars[0]..p.chars[1]]
                .iter()
                .collect::<String>()
                .trim_end()
                .to_owned()
        };
        assert_eq!(by_bytes(r), by_bytes(s));
        assert_eq!(by_chars(r), by_bytes(r));
        assert_eq!(article.lines().nth(r.lines[0] - 1).unwrap(), by_bytes(r));
    }
}

#[test]
fn syndicated_paragraphs_point_to_their_first_copy_across_files() {
    let case = data_dir().join("syndication");
    // The block level's view: with the default measure the repost is dropped
    // whole (it adds three short paragraphs to the story), so Jaccard here.
    let out = run_ok(&case, &["scan", "--json", "--measure", "jaccard", "wire"]);
    let report: neardup::report::Report = serde_json::from_slice(&out.stdout).unwrap();
    let footer = report
        .syndicated
        .iter()
        .find(|s| s.text.starts_with("Copyright 2026 Example Wire"))
        .expect("the footer is syndicated");
    assert_eq!((footer.documents, footer.copies), (3, 3));
    assert_eq!(&*footer.first_copy.document.path, "wire/a-original.txt");
    let reposted = report
        .documents
        .iter()
        .find(|d| &*d.document.path == "wire/b-repost.txt")
        .unwrap();
    // Three body paragraphs (one edited) and the footer, as one run around the
    // repost's own paragraph; header, byline and own paragraph stay.
    assert_eq!(reposted.removed_blocks, 4);
    assert_eq!(reposted.runs.len(), 1);
    let body = &reposted.runs[0];
    assert_eq!(&*body.source.path, "wire/a-original.txt");
    assert_eq!((body.lines, body.source_lines), ([5, 13], [3, 11]));
    assert_eq!(body.interruptions[0].lines, [11, 11]);
    assert!(!body.exact && body.similarity.min < 1.0);
    // Cleaning keeps every unique paragraph of every file, byte for byte.
    let dir = tempdir();
    let out = run_ok(
        &case,
        &[
            "clean",
            "--measure",
            "jaccard",
            "--out-dir",
            dir.path().to_str().unwrap(),
            "wire",
        ],
    );
    let cleaned = std::fs::read_to_string(dir.path().join("b-repost.txt")).unwrap();
    assert_eq!(
        cleaned,
        "Riverside park gets green light\n\nPosted by the Evening Herald staff\n\n\
         Local business owners told the Herald they expect more visitors to the riverfront once the park opens.\n\n"
    );
    let original = std::fs::read(case.join("wire/a-original.txt")).unwrap();
    assert_eq!(
        std::fs::read(dir.path().join("a-original.txt")).unwrap(),
        original
    );
    // The cleaned text went to files: standard output is left empty, and a
    // line of totals goes to standard error.
    assert!(out.stdout.is_empty(), "{out:?}");
    assert_says(&out, "removed 5 of 19 blocks");
}

#[test]
fn jsonl_stays_jsonl_with_only_the_text_field_changed() {
    let case = data_dir().join("jsonl");
    let input = std::fs::read_to_string(case.join("records.jsonl")).unwrap();
    let out = run_ok(&case, &["clean", "--level", "blocks", "records.jsonl"]);
    let cleaned = out.stdout_str();
    let (before, after): (Vec<&str>, Vec<&str>) =
        (input.lines().collect(), cleaned.lines().collect());
    assert_eq!(before.len(), after.len());
    // Unchanged records are copied byte for byte.
    assert_eq!(before[0], after[0]);
    assert_eq!(before[3], after[3]);
    // The exact copy loses everything but nothing else of the record changes.
    let copy: Value = serde_json::from_str(after[2]).unwrap();
    assert_eq!(copy["text"], "");
    assert!(after[2].starts_with(r#"{"id": "wire-3", "source": "wire", "text": "#));
    // The blog post keeps its own lines; other fields are untouched bytes.
    let blog: Value = serde_json::from_str(after[1]).unwrap();
    assert_eq!(
        blog["text"],
        "Weekend ferry update\n\nTravellers should still expect queues at the \u{e9}tang terminal on Saturday morning."
    );
    assert!(after[1].ends_with(r#", "id": 2, "source":"blog"}"#));
    // At both levels the exact copy is dropped whole: its line is gone and
    // every other line is as before. (By default the blog post goes too: half
    // of its own text is the wire story's; Jaccard keeps it.)
    let both = run(&case, &["clean", "--measure", "jaccard", "records.jsonl"]).stdout_str();
    let lines: Vec<&str> = both.lines().collect();
    assert_eq!(lines, [before[0], after[1], before[3]]);
    let both = run(&case, &["clean", "records.jsonl"]).stdout_str();
    let lines: Vec<&str> = both.lines().collect();
    assert_eq!(lines, [before[0], before[3]]);
    // Ids: the id field whatever its type, else file:line.
    let report = run(
        &case,
        &["scan", "--level", "blocks", "--json", "records.jsonl"],
    );
    let report: neardup::report::Report = serde_json::from_slice(&report.stdout).unwrap();
    let ids: Vec<&str> = report
        .documents
        .iter()
        .map(|d| d.document.id.as_str())
        .collect();
    assert_eq!(ids, ["2", "wire-3"]);
    assert_eq!(report.documents[0].document.line, Some(2));
    assert_eq!(report.inputs[0].documents, 4);
}

#[test]
fn stdin_is_read_with_dash() {
    let article = std::fs::read(seed_dir().join("article.txt")).unwrap();
    let out = run_with_stdin(&seed_dir(), &["clean", "-"], Some(&article));
    let file = run(&seed_dir(), &["clean", "article.txt"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_bytes_eq(&out.stdout, &file.stdout, "stdin vs file");
    let jsonl = b"{\"text\":\"one two three four five six seven eight\"}\n{\"text\":\"one two three four five six seven eight\"}\n";
    let out = run_with_stdin(
        &seed_dir(),
        &["scan", "--level", "blocks", "--format", "jsonl", "-"],
        Some(jsonl),
    );
    assert_prints(&out, "<stdin>:2 [<stdin>:2]: 1 of 1 block removed");
}

#[test]
fn short_blocks_are_reported_and_kept_unless_asked() {
    let case = data_dir().join("short-blocks");
    let page = std::fs::read_to_string(case.join("page.txt")).unwrap();
    let out = run(&case, &["clean", "page.txt"]);
    assert_bytes_eq(&out.stdout, page.as_bytes(), "short blocks kept");
    // Nothing was removed, so the text report lists no document; its totals
    // count the short repeats kept.
    let scan = run(&case, &["scan", "page.txt"]).stdout_str();
    assert!(!scan.contains("page.txt:"), "{scan}");
    assert!(scan.contains("; 2 short repeats kept"), "{scan}");
    let out = run(&case, &["clean", "--drop-short", "page.txt"]);
    assert_eq!(
        out.stdout_str(),
        page.replacen("Advertisement\n\nShare\n\n", "", 1)
    );
}

#[test]
fn crlf_and_lone_cr_are_kept_byte_for_byte() {
    let case = data_dir().join("crlf");
    let out = run_ok(&case, &["clean", "windows.txt"]);
    assert_bytes_eq(
        &out.stdout,
        b"Line one of a windows file with enough words to judge.\r\nSecond line, also long enough to count as a block here.\r\nA final line that ends with a lone carriage return now.\rLast.",
        "crlf",
    );
}

#[test]
fn unspaced_scripts_are_compared_by_characters() {
    let case = data_dir().join("cjk");
    let out = run(&case, &["scan", "--json", "news.txt"]);
    let report: neardup::report::Report = serde_json::from_slice(&out.stdout).unwrap();
    let run = &report.documents[0].runs[0];
    assert_eq!((run.lines, run.source_lines), ([5, 5], [1, 1]));
    // Character offsets differ from byte offsets in CJK text.
    let removal = &run.removals[0];
    assert!(removal.repeat.chars[0] < removal.repeat.bytes[0]);
}

#[test]
fn annotate_needs_json_lines() {
    let out = run(&seed_dir(), &["clean", "--annotate", "article.txt"]);
    assert_error(
        &out,
        "article.txt: --annotate adds fields to JSON Lines records",
    );
}

#[test]
fn annotate_never_writes_over_the_text_or_id_field() {
    // Its fields would follow the record's own of the same name, and a
    // JSON reader keeps the last: the cleaned text (or the id) lost.
    let dir = tempdir();
    let text = "one two three four five six seven eight nine ten eleven twelve";
    let record = serde_json::json!({"id": "a", "neardup_cluster": text, "neardup_duplicate": "b"});
    std::fs::write(dir.path().join("in.jsonl"), format!("{record}\n{record}\n")).unwrap();
    for (flag, field) in [
        ("--text-field", "neardup_cluster"),
        ("--id-field", "neardup_duplicate"),
        ("--text-field", "neardup_removed_bytes"),
    ] {
        let out = run(
            dir.path(),
            &[
                "clean",
                "--annotate",
                flag,
                field,
                "-o",
                "o.jsonl",
                "in.jsonl",
            ],
        );
        assert_error(
            &out,
            &format!("{flag} {field} is a field --annotate writes"),
        );
        assert!(!dir.path().join("o.jsonl").exists());
    }
}

#[test]
fn annotate_keeps_every_record_and_marks_duplicates() {
    let case = data_dir().join("near-duplicate-docs");
    let input = std::fs::read_to_string(case.join("wire.jsonl")).unwrap();
    let out = run_ok(
        &case,
        &["clean", "--annotate", "--level", "docs", "wire.jsonl"],
    );
    let lines = json_lines(&out.stdout);
    assert_eq!(lines.len(), input.lines().count());
    let by_id = |id: &str| lines.iter().find(|v| v["id"] == id).unwrap();
    assert_eq!(by_id("herald-ferry")["neardup_duplicate"], true);
    assert_eq!(
        by_id("herald-ferry")["neardup_representative"],
        "wire-ferry"
    );
    assert_eq!(by_id("wire-ferry")["neardup_duplicate"], false);
    assert_eq!(by_id("wire-ferry")["neardup_cluster_size"], 2);
    assert_eq!(by_id("blog-bridge-review")["neardup_cluster"], Value::Null);
    // The text and every other field are unchanged.
    for (before, after) in input.lines().zip(&lines) {
        let before: Value = serde_json::from_str(before).unwrap();
        for key in ["id", "text", "group", "date"] {
            assert_eq!(before.get(key), after.get(key));
        }
    }
}

#[test]
fn annotating_an_annotated_file_replaces_its_fields() {
    let case = data_dir().join("near-duplicate-docs");
    let dir = tempdir();
    let d = dir.path();
    std::fs::copy(case.join("wire.jsonl"), d.join("wire.jsonl")).unwrap();
    // Fields of an earlier run anywhere in a record, one with an escaped name.
    let text = "one two three four five six seven eight nine ten eleven twelve";
    let by_hand = format!(
        "{{\"neardup_cluster\": 7, \"id\": \"x\", \"neardup\\u005fduplicate\": true, \"text\": \"{text}\", \"neardup_similarity\": 0.5 , \"neardup_removed_bytes\":3}}\n"
    );
    std::fs::write(d.join("hand.jsonl"), by_hand.repeat(2)).unwrap();
    for mode in [
        &[][..],
        &["--memory-limit", "64K", "--tmp-dir", "spool"][..],
    ] {
        let annotate = |input: &str, output: &str| {
            // Documents only: a second run's blocks are the cleaned ones.
            let mut args = vec!["clean", "-q", "--level", "docs", "--annotate"];
            args.extend_from_slice(mode);
            args.extend_from_slice(&["-o", output, input]);
            run_ok(d, &args);
            std::fs::read_to_string(d.join(output)).unwrap()
        };
        let once = annotate("wire.jsonl", "once.jsonl");
        let twice = annotate("once.jsonl", "twice.jsonl");
        assert_eq!(once, twice, "{mode:?}");
        let hand = annotate("hand.jsonl", "hand-out.jsonl");
        for line in once.lines().chain(hand.lines()) {
            let record: Value = serde_json::from_str(line).unwrap();
            for field in ["cluster", "similarity", "duplicate", "removed_bytes"] {
                let key = format!("\"neardup_{field}\":");
                assert!(line.matches(&key).count() <= 1, "{key} twice: {line}");
            }
            assert!(!line.contains("\\u005f"), "{line}");
            assert!(record["neardup_cluster_size"].is_number(), "{line}");
        }
        let first: Value = serde_json::from_str(hand.lines().next().unwrap()).unwrap();
        assert_eq!(
            (&first["id"], &first["text"]),
            (&Value::from("x"), &Value::from(text))
        );
        assert_eq!(first["neardup_duplicate"], false);
        assert_eq!(first["neardup_similarity"], 1.0);
    }
}

#[test]
fn keep_longest_and_max_field_choose_the_kept_copy() {
    let case = data_dir().join("near-duplicate-docs");
    let report = |args: &[&str]| -> Value {
        let mut full = vec!["scan", "--json", "--level", "docs"];
        full.extend_from_slice(args);
        full.push("wire.jsonl");
        serde_json::from_slice(&run(&case, &full).stdout).unwrap()
    };
    let kept = |r: &Value| -> Vec<String> {
        r["near_duplicates"]["cluster_list"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["kept"]["id"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(
        kept(&report(&[])),
        ["wire-ferry", "wire-storm", "wire-bridge"]
    );
    assert_eq!(
        kept(&report(&["--keep", "longest"])),
        ["herald-ferry", "radio-storm", "aggregator-bridge"]
    );
    assert_eq!(
        kept(&report(&["--keep", "newest:date"])),
        ["herald-ferry", "radio-storm", "aggregator-bridge"]
    );
}

#[test]
fn strip_markup_hashes_without_tags_and_keeps_them_in_the_output() {
    let dir = tempdir();
    // One abstract as two databases export it: inline markup and entities in
    // one, plain text in the other.
    let plain = "Glibenclamide closes K(ATP) channels of pancreatic \u{3b2} cells in vitro and \
                 in vivo, raising insulin release in rats fed a diet rich in fat for twelve \
                 weeks, while diazoxide opens the K(ATP) channels and lowers it again";
    let marked = "<p>Glibenclamide closes K<sub>ATP</sub> channels of <b>pancreatic</b> &beta; \
                  cells <i>in vitro</i> and <i>in vivo</i>, raising <b>insulin</b> release in \
                  <i>rats</i> fed a diet <b>rich</b> in fat for <b>twelve</b> weeks, while \
                  <i>diazoxide</i> opens the K<sub>ATP</sub> channels and lowers it again</p>";
    let line = |id: &str, text: &str| serde_json::json!({"id": id, "text": text}).to_string();
    let input = format!("{}\n{}\n", line("marked", marked), line("plain", plain));
    std::fs::write(dir.path().join("docs.jsonl"), &input).unwrap();
    let clean = |extra: &[&str]| {
        let mut args = vec!["clean", "-q", "--level", "docs"];
        args.extend_from_slice(extra);
        args.push("docs.jsonl");
        let out = run_ok(dir.path(), &args);
        out.stdout_str()
    };
    // Hashed as text, tags are words of their own: every shingle differs.
    assert_eq!(clean(&["--no-strip-markup"]), input);
    // By default (and with --strip-markup) the two are one text: the plain
    // copy goes, and the kept record is written byte for byte, tags and
    // entities included.
    for flags in [&[][..], &["--no-strip-markup", "--strip-markup"]] {
        assert_eq!(clean(flags), format!("{}\n", line("marked", marked)));
    }
    let out = run(dir.path(), &["scan", "--no-strip-markup", "docs.jsonl"]);
    assert_prints(&out, ", markup hashed as text");
    let out = run(dir.path(), &["scan", "docs.jsonl"]);
    assert!(!out.stdout_str().contains("markup"), "{out:?}");
    // An index remembers it: one built without is refused with it, by name.
    run_ok(
        dir.path(),
        &[
            "index",
            "build",
            "--no-strip-markup",
            "-o",
            "i.ndx",
            "docs.jsonl",
        ],
    );
    let out = run_exit(dir.path(), 2, &["scan", "--index", "i.ndx", "docs.jsonl"]);
    // Named as flags a user can type (`--strip-markup false` would read
    // `false` as an input).
    assert_says(&out, "--no-strip-markup (this run: --strip-markup)");
    std::fs::copy(dir.path().join("i.ndx"), dir.path().join("j.ndx")).unwrap();
    run_ok(dir.path(), &["index", "build", "-o", "k.ndx", "docs.jsonl"]);
    let out = run_exit(
        dir.path(),
        2,
        &["index", "merge", "k.ndx", "j.ndx", "-o", "m.ndx"],
    );
    assert_says(&out, "--strip-markup (j.ndx: --no-strip-markup)");
}

#[test]
fn compressed_inputs_and_outputs_follow_their_names() {
    use std::io::Write as _;
    let dir = tempdir();
    let jsonl = std::fs::read(data_dir().join("near-duplicate-docs/wire.jsonl")).unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&jsonl).unwrap();
    std::fs::write(dir.path().join("docs.jsonl.gz"), gz.finish().unwrap()).unwrap();
    std::fs::write(
        dir.path().join("docs.jsonl.zst"),
        zstd::encode_all(&jsonl[..], 3).unwrap(),
    )
    .unwrap();
    let plain = run(
        &data_dir().join("near-duplicate-docs"),
        &["clean", "-q", "wire.jsonl"],
    );
    for name in ["docs.jsonl.gz", "docs.jsonl.zst"] {
        let out = run_ok(dir.path(), &["clean", "-q", name]);
        assert_bytes_eq(&out.stdout, &plain.stdout, name);
    }
    // The output is compressed as its name says.
    run_ok(
        dir.path(),
        &["clean", "-q", "docs.jsonl.gz", "-o", "clean.jsonl.zst"],
    );
    let packed = std::fs::read(dir.path().join("clean.jsonl.zst")).unwrap();
    assert_eq!(zstd::decode_all(&packed[..]).unwrap(), plain.stdout);
    // A truncated stream is an error naming the file, and nothing is written.
    let gz = std::fs::read(dir.path().join("docs.jsonl.gz")).unwrap();
    std::fs::write(dir.path().join("cut.jsonl.gz"), &gz[..gz.len() / 2]).unwrap();
    assert_error(
        &run(
            dir.path(),
            &["clean", "cut.jsonl.gz", "-o", "cut-clean.jsonl"],
        ),
        "cut.jsonl.gz: truncated or corrupt gzip stream",
    );
    assert!(!dir.path().join("cut-clean.jsonl").exists());
}

#[test]
fn glob_filters_directory_walks() {
    let dir = tempdir();
    std::fs::create_dir_all(dir.path().join("in/sub")).unwrap();
    std::fs::write(
        dir.path().join("in/a.txt"),
        "first file with some words in it\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("in/sub/b.txt"),
        "second file with other words\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("in/sub/c.md"),
        "third file, not text by glob\n",
    )
    .unwrap();
    let out = run(dir.path(), &["scan", "--json", "--glob", "**/*.txt", "in"]);
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let paths = crate::util::input_paths(&report);
    assert_eq!(paths, ["in/a.txt", "in/sub/b.txt"]);
    assert_error(
        &run(dir.path(), &["scan", "--glob", "[", "in"]),
        "--glob \"[\"",
    );
}

#[test]
fn binary_files_are_skipped_with_a_warning() {
    let dir = tempdir();
    std::fs::write(dir.path().join("a.txt"), "a text file with enough words\n").unwrap();
    std::fs::write(dir.path().join("b.bin"), b"PK\x03\x04\x00\x00binary").unwrap();
    let out = run_ok(dir.path(), &["scan", "--json", "."]);
    assert_says(
        &out,
        "warning: skipped ./b.bin: binary file (NUL byte at byte offset 4)",
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["inputs"].as_array().unwrap().len(), 1);
    assert_eq!(report["skipped"].as_array().unwrap().len(), 1);
    run_ok(dir.path(), &["scan", "--text", "--json", "b.bin"]);
}

#[test]
fn on_error_skip_lists_bad_records_and_keeps_their_lines() {
    let dir = tempdir();
    let input = "{\"id\":1,\"text\":\"a line of text that is long enough to be judged here\"}\n\
                 {\"id\":2,\"text\":broken}\n\
                 {\"id\":3,\"text\":\"a line of text that is long enough to be judged here\"}\n\
                 {\"id\":4,\"text\":\"something new and different from the others entirely\"}\n";
    std::fs::write(dir.path().join("docs.jsonl"), input).unwrap();
    std::fs::write(dir.path().join("u16.txt"), b"\xff\xfeh\0i\0").unwrap();
    assert_error(
        &run(dir.path(), &["clean", "docs.jsonl"]),
        "docs.jsonl:2: invalid JSON",
    );
    let out = run_ok(dir.path(), &["clean", "--on-error", "skip", "docs.jsonl"]);
    assert_says(&out, "warning: skipped docs.jsonl:2: invalid JSON");
    let lines: Vec<&str> = input.lines().collect();
    assert_eq!(
        out.stdout_str(),
        format!("{}\n{}\n{}\n", lines[0], lines[1], lines[3])
    );
    let out = run(
        dir.path(),
        &[
            "scan",
            "--json",
            "--on-error",
            "skip",
            "docs.jsonl",
            "u16.txt",
        ],
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let skipped: Vec<&str> = report["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    assert_eq!(skipped.len(), 2, "{skipped:?}");
    assert!(skipped[0].starts_with("docs.jsonl:2: invalid JSON"));
    assert!(skipped[1].starts_with("u16.txt: UTF-16 text"));
}

#[test]
fn progress_goes_to_stderr_only() {
    let case = data_dir().join("near-duplicate-docs");
    let with = run(
        &case,
        &["scan", "--json", "--progress", "always", "wire.jsonl"],
    );
    let without = run(
        &case,
        &["scan", "--json", "--progress", "never", "wire.jsonl"],
    );
    assert_eq!(with.code, 0, "{with:?}");
    assert_bytes_eq(
        &with.stdout,
        &without.stdout,
        "report with and without progress",
    );
    assert_says(&with, "sketching");
    assert!(without.stderr.is_empty(), "{without:?}");
    let quiet = run(
        &case,
        &["scan", "--progress", "always", "--quiet", "wire.jsonl"],
    );
    assert!(quiet.stderr.is_empty(), "{quiet:?}");
}

#[test]
fn jsonl_report_is_the_json_report_a_line_at_a_time() {
    let dir = data_dir().join("near-duplicate-docs");
    let json = run(&dir, &["scan", "--json", "wire.jsonl"]);
    let report: Value = serde_json::from_slice(&json.stdout).unwrap();
    let whole = run_ok(&dir, &["scan", "--output-format", "jsonl", "wire.jsonl"]);
    let lines = json_lines(&whole.stdout);
    let kinds: Vec<&str> = lines.iter().map(|l| l["type"].as_str().unwrap()).collect();
    let count = |kind: &str| kinds.iter().filter(|k| **k == kind).count();
    assert_eq!(kinds[0], "header");
    assert_eq!(*kinds.last().unwrap(), "summary");
    assert_eq!(
        count("document"),
        report["documents"].as_array().unwrap().len()
    );
    assert_eq!(
        count("cluster"),
        report["near_duplicates"]["cluster_list"]
            .as_array()
            .unwrap()
            .len()
    );
    assert!(count("cluster") > 0);
    assert_eq!(
        count("syndicated"),
        report["syndicated"].as_array().unwrap().len()
    );
    // Records come in the order header, documents, clusters, shared blocks, summary.
    let order = ["header", "document", "cluster", "syndicated", "summary"];
    let ranks: Vec<usize> = kinds
        .iter()
        .map(|k| order.iter().position(|o| o == k).unwrap())
        .collect();
    assert!(ranks.windows(2).all(|w| w[0] <= w[1]), "{kinds:?}");
    assert_eq!(lines[0]["parameters"], report["parameters"]);
    assert_eq!(lines[0]["inputs"], report["inputs"]);
    let summary = lines.last().unwrap();
    assert_eq!(summary["summary"], report["summary"]);
    assert_eq!(
        summary["near_duplicates"]["clusters"],
        report["near_duplicates"]["clusters"]
    );
    assert!(summary["near_duplicates"].get("cluster_list").is_none());
    // A run in chunks writes the same bytes.
    let chunked = run(
        &dir,
        &[
            "scan",
            "--output-format",
            "jsonl",
            "--memory-limit",
            "64K",
            "wire.jsonl",
        ],
    );
    assert_bytes_eq(&chunked.stdout, &whole.stdout, "jsonl report, chunked");
}

#[test]
fn text_report_reads_well() {
    let dir = tempdir();
    let line = "The same sentence with more than eight words in it, repeated.";
    // One line repeats one line; two lines repeat one line each.
    std::fs::write(
        dir.path().join("one.txt"),
        format!("{line}\nsomething else entirely here\n{line}\n"),
    )
    .unwrap();
    let out = run(dir.path(), &["scan", "--blocks", "lines", "one.txt"]);
    let text = out.stdout_str();
    assert!(text.contains("  line 3 repeats line 1: 1 block"), "{text}");
    // Only documents that lost blocks are listed: a short repeat kept is not.
    std::fs::write(
        dir.path().join("short.txt"),
        "Share\n\nA paragraph here.\n\nShare\n",
    )
    .unwrap();
    let out = run(dir.path(), &["scan", "short.txt"]);
    assert!(!out.stdout_str().contains("short.txt:"), "{out:?}");
    assert_prints(&out, "1 short repeat kept");
    // --preview: each removal's first characters, in text and JSON.
    let out = run(
        dir.path(),
        &["scan", "--blocks", "lines", "--preview", "12", "one.txt"],
    );
    assert_prints(&out, "    line 3: \"The same sen\"\n");
    let out = run(
        dir.path(),
        &[
            "scan",
            "--blocks",
            "lines",
            "--preview",
            "12",
            "--json",
            "one.txt",
        ],
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        report["documents"][0]["runs"][0]["removals"][0]["preview"],
        "The same sen"
    );
    let out = run(
        dir.path(),
        &["scan", "--blocks", "lines", "--json", "one.txt"],
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(report["documents"][0]["runs"][0]["removals"][0]
        .get("preview")
        .is_none());
}

#[test]
fn clean_into_a_file_prints_a_summary_not_the_report() {
    let dir = tempdir();
    let line = "The same sentence with more than eight words in it, repeated.";
    std::fs::write(dir.path().join("a.txt"), format!("{line}\n\n{line}\n")).unwrap();
    for args in [
        &["clean", "a.txt", "-o", "out.txt"][..],
        &["clean", "a.txt", "--out-dir", "out"],
    ] {
        let out = run_ok(dir.path(), args);
        assert!(out.stdout.is_empty(), "{out:?}");
        assert!(
            out.stderr
                .starts_with("neardup: dropped 0 near-duplicate documents; removed 1 of 2 blocks"),
            "{out:?}"
        );
    }
    // A report format asks for the report: it needs --report FILE.
    let out = run_exit(
        dir.path(),
        2,
        &["clean", "--json", "a.txt", "-o", "out.txt"],
    );
    assert_says(&out, "--report FILE");
    run_ok(
        dir.path(),
        &[
            "clean",
            "--output-format",
            "jsonl",
            "--report",
            "r.jsonl",
            "a.txt",
            "-o",
            "out.txt",
        ],
    );
    let report = std::fs::read_to_string(dir.path().join("r.jsonl")).unwrap();
    assert!(report
        .lines()
        .last()
        .unwrap()
        .starts_with("{\"type\":\"summary\""));
}

#[test]
fn annotate_names_the_kept_record_and_the_bytes_removed() {
    // Two copies of a story, the second newer by its instant though not as
    // a string (an offset of +02:00); a third record repeats a paragraph.
    let dir = tempdir();
    let story = "The harbour ferry left at dawn with forty passengers on board and returned at noon.\\n\\nThe captain said the crossing was calm despite the storm warnings issued overnight.";
    let para = "A paragraph that several stories carry word for word, with enough words to count.";
    let input = format!(
        "{{\"id\":\"first\",\"date\":\"2024-05-01T08:00:00Z\",\"text\":\"{story}\"}}\n\
         {{\"id\":\"second\",\"date\":\"2024-05-01T10:30:00+02:00\",\"text\":\"{story}\"}}\n\
         {{\"id\":\"third\",\"date\":\"2024-05-01T09:00:00+02:00\",\"text\":\"{story}\"}}\n\
         {{\"id\":\"p1\",\"text\":\"Own opening words of the first piece here.\\n\\n{para}\"}}\n\
         {{\"id\":\"p2\",\"text\":\"Own opening words of another piece there.\\n\\n{para}\"}}\n"
    );
    std::fs::write(dir.path().join("docs.jsonl"), input).unwrap();
    let out = run_ok(
        dir.path(),
        // Jaccard: under the default containment, p2 (59% of its own
        // shingles in p1) would be dropped whole, not lose a block.
        &[
            "clean",
            "--annotate",
            "--measure",
            "jaccard",
            "--keep",
            "newest:date",
            "docs.jsonl",
        ],
    );
    let records = json_lines(&out.stdout);
    // 10:30+02:00 is 08:30 UTC, the newest; 09:00+02:00 is 07:00 UTC.
    for r in &records[..3] {
        assert_eq!(r["neardup_representative"], "second", "{r}");
        assert_eq!(r["neardup_duplicate"], r["id"] != "second", "{r}");
    }
    assert!(records[3].get("neardup_removed_bytes").is_none());
    assert_eq!(
        records[4]["neardup_removed_bytes"],
        para.len(),
        "{}",
        records[4]
    );
}

#[test]
fn keep_newest_ranks_text_below_numbers_below_times() {
    // One story under four kinds of `ts`: nothing, free text, a number
    // (epoch seconds) and a date. The time stays; without it the number;
    // without both the text: text never outranks what reads as a time.
    let dir = tempdir();
    let story = "The council approved the new budget for the harbour district after a long \
                 debate on Tuesday evening with many residents present and speaking.";
    let record = |id: &str, ts: &str| format!("{{\"id\":\"{id}\",{ts}\"text\":\"{story}\"}}\n");
    let all = [
        ("none", ""),
        ("text", "\"ts\":\"yesterday\","),
        ("number", "\"ts\":1714550000,"),
        ("time", "\"ts\":\"2023-01-01\","),
    ];
    for (first, stays) in [(4, "time"), (3, "number"), (2, "text")] {
        let input: String = all[..first].iter().map(|(id, ts)| record(id, ts)).collect();
        std::fs::write(dir.path().join("docs.jsonl"), input).unwrap();
        let out = run_ok(
            dir.path(),
            &["clean", "-q", "--keep", "newest:ts", "docs.jsonl"],
        );
        let kept = json_lines(&out.stdout);
        assert_eq!(kept.len(), 1, "{kept:?}");
        assert_eq!(kept[0]["id"], stays, "{kept:?}");
    }
}

#[test]
fn progress_into_a_file_is_plain_lines() {
    // Standard input has no known total: a spinner and a count, never
    // `0/0 (100%)`; into a pipe, no ANSI sequences.
    let dir = tempdir();
    let input = "{\"text\":\"one record with a few words in it\"}\n".repeat(50);
    let out = run_with_stdin(
        dir.path(),
        &["scan", "--progress", "always", "-"],
        Some(input.as_bytes()),
    );
    assert_eq!(out.code, 0, "{out:?}");
    assert!(!out.stderr.contains('\x1b'), "{:?}", out.stderr);
    assert!(!out.stderr.contains("0/0"), "{}", out.stderr);
    assert!(
        out.stderr.lines().any(|l| l.contains("sketching")),
        "{}",
        out.stderr
    );
}

#[test]
fn help_groups_options_and_completions_and_man_page_are_printed() {
    let dir = tempdir();
    let help = run(dir.path(), &["check", "--help"]).stdout_str();
    let mut at = 0;
    for heading in [
        "Input:",
        "Blocks:",
        "Documents:",
        "Index:",
        "Output:",
        "Check:",
    ] {
        let found = help[at..].find(heading).map(|i| at + i);
        assert!(found.is_some(), "{heading} after byte {at}: {help}");
        at = found.unwrap();
    }
    assert!(help.contains("[default: 10]"), "{help}");
    let bash = run(dir.path(), &["completions", "bash"]);
    assert_eq!(bash.code, 0);
    assert_prints(&bash, "--output-format");
    let man = run(dir.path(), &["man"]);
    assert_eq!(man.code, 0);
    assert!(man.stdout_str().starts_with(".ie") || man.stdout_str().contains(".TH neardup 1"));
}

#[test]
fn annotate_refuses_piped_text_whole_or_chunked() {
    let dir = tempdir();
    for extra in [&[][..], &["--memory-limit", "64K"][..]] {
        let mut args = vec!["clean", "--annotate", "-"];
        args.extend_from_slice(extra);
        let out = run_with_stdin(dir.path(), &args, Some(b"plain text, not records\n"));
        assert_eq!(out.code, 2, "{extra:?}: {out:?}");
        assert_says(&out, "this input is plain text");
        assert!(out.stdout.is_empty(), "{out:?}");
    }
}

/// Outputs are compressed as their names ask, in any case (`.GZ` too), the
/// report and the HTML page as well as the cleaned text; a compression
/// neardup does not write is refused by name (it wrote plain text named
/// `out.jsonl.bz2`), exit 2, nothing written.
#[test]
fn outputs_are_compressed_as_named_or_refused() {
    use std::io::Read as _;
    let dir = tempdir();
    let d = dir.path();
    crate::util::write_two_copies(&d.join("in.jsonl"));
    run_ok(
        d,
        &[
            "clean",
            "-q",
            "in.jsonl",
            "-o",
            "o.jsonl.GZ",
            "--report",
            "r.json.gz",
            "--json",
            "--html",
            "p.html.zst",
        ],
    );
    let gunzip = |name: &str| {
        let mut text = String::new();
        flate2::read::GzDecoder::new(std::fs::File::open(d.join(name)).unwrap())
            .read_to_string(&mut text)
            .unwrap();
        text
    };
    // The first record, kept.
    let given = std::fs::read_to_string(d.join("in.jsonl")).unwrap();
    assert_eq!(gunzip("o.jsonl.GZ"), given[..=given.find('\n').unwrap()]);
    let report: serde_json::Value = serde_json::from_str(&gunzip("r.json.gz")).unwrap();
    assert_eq!(report["summary"]["dropped_documents"], 1, "{report}");
    let page = zstd::decode_all(std::fs::File::open(d.join("p.html.zst")).unwrap()).unwrap();
    assert!(page.starts_with(b"<!DOCTYPE html>"), "{:?}", &page[..20]);
    let before = crate::util::tree(d);
    for args in [
        &["clean", "in.jsonl", "-o", "o.jsonl.bz2"][..],
        &[
            "clean",
            "in.jsonl",
            "-o",
            "o.jsonl",
            "--report",
            "r.json.XZ",
        ],
        &["scan", "in.jsonl", "--html", "p.html.lz4"],
    ] {
        let out = run(d, args);
        assert_eq!(out.code, 2, "{args:?}: {out:?}");
        assert_says(&out, "neardup writes gzip (.gz) and zstd (.zst), not ");
        assert_eq!(crate::util::tree(d), before, "{args:?}");
    }
}
