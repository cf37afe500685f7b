//! `neardup check`: exit codes, the GitHub output and the JSON summary, as
//! golden files beside the near-duplicate-docs case (`UPDATE_GOLDEN=1` rewrites).

use crate::util::{assert_bytes_eq, assert_says, data_dir, run, run_exit, run_ok};
use serde_json::Value;

fn golden(name: &str, actual: &[u8]) {
    let path = data_dir().join("near-duplicate-docs").join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read(&path).unwrap_or_default();
    assert_bytes_eq(actual, &expected, name);
}

fn check(args: &[&str]) -> crate::util::Output {
    let mut full = vec!["check"];
    full.extend_from_slice(args);
    full.push("wire.jsonl");
    run(&data_dir().join("near-duplicate-docs"), &full)
}

#[test]
fn exit_codes_follow_the_limits() {
    // 3 of 7 documents are near duplicates; 59.8% of the bytes go.
    assert_eq!(check(&[]).code, 1, "no limit: any duplicate fails");
    assert_eq!(check(&["--max-dup-docs", "50%"]).code, 0);
    assert_eq!(check(&["--max-dup-docs", "40%"]).code, 1);
    assert_eq!(check(&["--max-dup-docs", "0.43"]).code, 0);
    assert_eq!(
        check(&["--max-dup-docs", "50%", "--max-dup-bytes", "50%"]).code,
        1
    );
    assert_eq!(check(&["--max-dup-blocks", "10%"]).code, 0);
    assert_eq!(check(&["--exit-zero"]).code, 0);
    // Errors win over duplicates, --exit-zero or not.
    assert_eq!(check(&["--max-dup-docs", "five"]).code, 2);
    let missing = run(&data_dir(), &["check", "--exit-zero", "nope.jsonl"]);
    assert_eq!(missing.code, 2);
}

#[test]
fn text_verdict_says_which_limit_failed_and_by_how_much() {
    let out = check(&["--max-dup-docs", "10%", "--max-dup-bytes", "70%"]);
    let text = out.stdout_str();
    assert!(text.contains("check FAILED"), "{text}");
    assert!(
        text.contains("duplicate documents: 42.9% (3 of 7), over 10% by 32.9 points"),
        "{text}"
    );
    assert!(
        text.contains("repeated bytes: 59.8% (3207 of 5365), within 70%"),
        "{text}"
    );
}

#[test]
fn github_output_is_golden() {
    let out = check(&["--output-format", "github", "--max-dup-docs", "10%"]);
    assert_eq!(out.code, 1, "{out:?}");
    golden("check.github", &out.stdout);
    let text = out.stdout_str();
    assert!(
        text.starts_with("::warning file=wire.jsonl,line=3,"),
        "{text}"
    );
    assert!(text.contains("::error title=neardup check failed::duplicate documents 42.9%25"));
    assert!(text.contains("| duplicate documents | 42.9% | 3 of 7 | 10% | over by 32.9 points |"));
}

#[test]
fn format_is_the_input_format_only() {
    // `check --format github`, the old spelling, means --output-format
    // github, with a warning; the input is still read by content.
    let out = check(&["--format", "github", "--max-dup-docs", "10%"]);
    assert_eq!(out.code, 1, "{out:?}");
    assert_says(&out, "--format github is read as --output-format github");
    let new = check(&["--output-format", "github", "--max-dup-docs", "10%"]);
    assert_bytes_eq(&out.stdout, &new.stdout, "--format github");
    // Conflicting report formats are an error, whichever comes first.
    for args in [
        &["--json", "--output-format", "github"][..],
        &["--output-format", "text", "--json"],
        &["--format", "github", "--json"],
    ] {
        let out = check(args);
        assert_eq!(out.code, 2, "{args:?}: {out:?}");
        assert_says(&out, "conflicts with --output-format");
        assert!(out.stdout.is_empty());
    }
    // Elsewhere github is no format at all.
    for args in [
        &["scan", "--output-format", "github", "wire.jsonl"][..],
        &["scan", "--format", "github", "wire.jsonl"],
    ] {
        let out = run_exit(&data_dir().join("near-duplicate-docs"), 2, args);
        assert_says(&out, "neardup check --output-format github");
    }
}

#[test]
fn a_piped_batch_with_duplicates_fails_the_github_check() {
    // 17% near-duplicate documents, piped in with no name to tell its
    // format: read as JSON Lines by content, so the check fails (exit 1).
    let batch = batch((0..83).chain(0..17));
    let dir = crate::util::tempdir();
    for (flag, extra) in [
        ("--output-format", &[][..]),
        ("--output-format", &["--memory-limit", "64K"][..]),
        ("--format", &[][..]),
        ("--format", &["--memory-limit", "64K"][..]),
    ] {
        let mut args = vec!["check", flag, "github", "--max-dup-docs", "5%", "-"];
        args.extend_from_slice(extra);
        let out = crate::util::run_with_stdin(dir.path(), &args, Some(batch.as_bytes()));
        assert_eq!(out.code, 1, "{extra:?}: {out:?}");
        let text = out.stdout_str();
        assert!(
            text.contains("duplicate documents 17%25 (17 of 100)"),
            "{text}"
        );
    }
}

/// JSON Lines records, one a story: the same story twice is a near
/// duplicate.
fn batch(stories: impl Iterator<Item = usize>) -> String {
    stories
        .enumerate()
        .map(|(i, story)| {
            format!("{{\"id\":\"d{i}\",\"text\":\"Report number {story} on the harbour: the ferry {story} left at dawn with {story} passengers, the captain said, and returned at noon after the storm {story} passed over the bay.\"}}\n")
        })
        .collect::<Vec<String>>()
        .concat()
}

/// A batch of 164 records, 64 of them near duplicates: 60 stories copied
/// once, and the last story copied four times at the end.
fn batch_with_many_duplicates() -> String {
    batch((0..100).chain(0..60).chain([99; 4]))
}

#[test]
fn github_annotations_are_capped_largest_first() {
    let dir = crate::util::tempdir();
    std::fs::write(dir.path().join("batch.jsonl"), batch_with_many_duplicates()).unwrap();
    for (extra, shown) in [(&[][..], 10), (&["--max-annotations", "50"][..], 50)] {
        let mut args = vec!["check", "--output-format", "github", "batch.jsonl"];
        args.extend_from_slice(extra);
        let out = run_exit(dir.path(), 1, &args);
        let text = out.stdout_str();
        let warnings: Vec<&str> = text
            .lines()
            .filter(|l| l.starts_with("::warning"))
            .collect();
        assert_eq!(warnings.len(), shown, "{text}");
        // The largest cluster (five copies of the last story) comes first.
        for w in &warnings[..4] {
            assert!(w.contains("near duplicate of batch.jsonl:100 [d99]"), "{w}");
        }
        let notices: Vec<&str> = text.lines().filter(|l| l.starts_with("::notice")).collect();
        assert_eq!(notices.len(), 1, "{text}");
        assert!(
            notices[0].contains(&format!("{} more near-duplicate documents", 64 - shown)),
            "{}",
            notices[0]
        );
        assert!(
            notices[0].contains("--output-format text or json"),
            "{}",
            notices[0]
        );
        assert!(
            text.contains("::error title=neardup check failed"),
            "{text}"
        );
        assert!(text.contains("### neardup check: failed"), "{text}");
    }
    // Under the cap: every finding, no notice.
    let out = run(
        dir.path(),
        &[
            "check",
            "--output-format",
            "github",
            "--max-annotations",
            "64",
            "batch.jsonl",
        ],
    );
    assert_eq!(
        out.stdout_str()
            .lines()
            .filter(|l| l.starts_with("::warning"))
            .count(),
        64
    );
    assert!(!out.stdout_str().contains("::notice"));
}

#[test]
fn step_summary_is_appended_to_its_file() {
    let dir = crate::util::tempdir();
    std::fs::write(dir.path().join("batch.jsonl"), batch_with_many_duplicates()).unwrap();
    std::fs::write(dir.path().join("summary.md"), "an earlier step\n").unwrap();
    for extra in [&[][..], &["--memory-limit", "64K"][..]] {
        let mut args = vec![
            "check",
            "--output-format",
            "github",
            "--step-summary",
            "summary.md",
            "--max-dup-docs",
            "5%",
            "batch.jsonl",
        ];
        args.extend_from_slice(extra);
        let out = run(dir.path(), &args);
        // The check still fails the step, with no pipe to lose the status.
        assert_eq!(out.code, 1, "{out:?}");
        assert!(!out.stdout_str().contains("### neardup check"), "{out:?}");
    }
    let summary = std::fs::read_to_string(dir.path().join("summary.md")).unwrap();
    assert!(
        summary.starts_with("an earlier step\n### neardup check: failed\n"),
        "{summary}"
    );
    assert_eq!(
        summary
            .matches("| duplicate documents | 39.0% | 64 of 164 | 5% | over by 34.0 points |\n\n")
            .count(),
        2,
        "{summary}"
    );
}

/// `--step-summary -` with the report on standard output (always, under
/// `check`) is refused before anything is read, as `--html -` is: the JSON
/// report was followed on standard output by the Markdown table, and no
/// longer parsed.
#[test]
fn a_step_summary_to_standard_output_beside_the_report_is_refused() {
    let dir = crate::util::tempdir();
    std::fs::write(dir.path().join("batch.jsonl"), batch_with_many_duplicates()).unwrap();
    for format in ["json", "text", "github", "html"] {
        let out = run(
            dir.path(),
            &[
                "check",
                "--output-format",
                format,
                "--step-summary",
                "-",
                "batch.jsonl",
            ],
        );
        assert_eq!(out.code, 2, "{format}: {out:?}");
        assert!(out.stdout.is_empty(), "{format}: {out:?}");
        assert_says(
            &out,
            "the report and the step summary cannot both go to standard output; give --step-summary FILE",
        );
    }
}

/// `check --annotate` is refused: annotating keeps every document, so the
/// bytes of near-duplicate documents counted as none, and a batch that was
/// two copies of itself passed `--max-dup-bytes 10%` (repeated bytes 0%).
#[test]
fn annotate_is_refused_by_check() {
    let dir = crate::util::tempdir();
    let batch = batch_with_many_duplicates();
    std::fs::write(dir.path().join("batch.jsonl"), &batch).unwrap();
    let out = run(
        dir.path(),
        &[
            "check",
            "--annotate",
            "--max-dup-docs",
            "100%",
            "--max-dup-bytes",
            "10%",
            "batch.jsonl",
        ],
    );
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stdout.is_empty(), "{out:?}");
    assert_says(
        &out,
        "--annotate marks the records `clean` writes; `check` measures what a run drops",
    );
    // Without it, the same limits fail the batch.
    let out = run(
        dir.path(),
        &[
            "check",
            "-q",
            "--max-dup-docs",
            "100%",
            "--max-dup-bytes",
            "10%",
            "batch.jsonl",
        ],
    );
    assert_eq!(out.code, 1, "{out:?}");
}

#[test]
fn json_summary_is_golden_and_stable() {
    let out = check(&[
        "--output-format",
        "json",
        "--max-dup-docs",
        "50%",
        "--threads",
        "1",
    ]);
    assert_eq!(out.code, 0, "{out:?}");
    golden("check.json", &out.stdout);
    let again = check(&["--json", "--max-dup-docs", "50%", "--threads", "2"]);
    assert_bytes_eq(&again.stdout, &out.stdout, "JSON at 1 and 2 threads");
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["command"], "check");
    assert_eq!(report["check"]["passed"], true);
    assert_eq!(
        report["check"]["measurements"][0]["name"],
        "duplicate_documents"
    );
    assert_eq!(report["check"]["measurements"][0]["count"], 3);
}

/// wire.jsonl's first four records as yesterday's batch, in an index, and the
/// last three as today's, in a fresh directory.
fn two_days() -> tempfile::TempDir {
    let dir = crate::util::tempdir();
    let wire = std::fs::read_to_string(data_dir().join("near-duplicate-docs/wire.jsonl")).unwrap();
    let lines: Vec<&str> = wire.lines().collect();
    std::fs::write(dir.path().join("day1.jsonl"), lines[..4].join("\n") + "\n").unwrap();
    std::fs::write(dir.path().join("day2.jsonl"), lines[4..].join("\n") + "\n").unwrap();
    run_ok(
        dir.path(),
        &["index", "build", "-q", "-o", "seen.ndx", "day1.jsonl"],
    );
    dir
}

#[test]
fn checks_against_an_index_are_golden() {
    let dir = two_days();
    let d = dir.path();
    // Today's batch alone holds no duplicate; against yesterday's it does.
    let alone = run(d, &["check", "day2.jsonl"]);
    let indexed = run_exit(
        d,
        1,
        &[
            "check",
            "--index",
            "seen.ndx",
            "--output-format",
            "github",
            "--max-dup-docs",
            "10%",
            "day2.jsonl",
        ],
    );
    assert!(alone.code == 0 || alone.stdout != indexed.stdout);
    golden("check-index.github", &indexed.stdout);
    let text = indexed.stdout_str();
    assert!(text.contains("(indexed)"), "{text}");
    assert!(text.contains("file=day2.jsonl,line="), "{text}");
    let json = run_ok(
        d,
        &[
            "check",
            "--index",
            "seen.ndx",
            "--output-format",
            "json",
            "--max-dup-docs",
            "70%",
            "-j",
            "1",
            "day2.jsonl",
        ],
    );
    golden("check-index.json", &json.stdout);
    let again = run(
        d,
        &[
            "check",
            "--index",
            "seen.ndx",
            "--json",
            "--max-dup-docs",
            "70%",
            "-j",
            "2",
            "day2.jsonl",
        ],
    );
    assert_bytes_eq(
        &again.stdout,
        &json.stdout,
        "JSON against an index at 1 and 2 threads",
    );
    let report: Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(report["index"]["path"], "seen.ndx");
    assert_eq!(report["index"]["documents"], 4);
    let clusters = report["near_duplicates"]["cluster_list"]
        .as_array()
        .unwrap();
    assert!(clusters
        .iter()
        .any(|c| c["representative"]["indexed"] == true
            && c["representative"]["path"] == "day1.jsonl"));
}

/// Clusters a run in chunks writes to disk are read back a member at a time
/// for annotations, the HTML report's documents and JSON Lines cluster
/// lines: what each says is what a run holding its clusters says.
#[test]
fn spooled_clusters_report_what_held_ones_do() {
    let dir = crate::util::tempdir();
    std::fs::write(dir.path().join("batch.jsonl"), batch_with_many_duplicates()).unwrap();
    let tmp = dir.path().join("spool");
    let tmp = tmp.to_str().unwrap();
    for args in [
        &[
            "check",
            "--output-format",
            "github",
            "--max-annotations",
            "100",
        ][..],
        &["scan", "-q", "--output-format", "jsonl"],
        &["scan", "-q", "--json"],
    ] {
        let mut whole = args.to_vec();
        whole.push("batch.jsonl");
        let mut chunked = args.to_vec();
        chunked.extend(["--memory-limit", "64K", "--tmp-dir", tmp, "batch.jsonl"]);
        let (whole, chunked) = (run(dir.path(), &whole), run(dir.path(), &chunked));
        assert!(whole.code == 0 || whole.code == 1, "{whole:?}");
        assert_eq!(whole.code, chunked.code, "{chunked:?}");
        assert!(
            whole.stdout_str().contains("d99"),
            "the largest cluster is reported: {whole:?}"
        );
        crate::util::assert_bytes_eq(&chunked.stdout, &whole.stdout, &args.join(" "));
    }
    // The largest cluster's four dropped copies are annotated in input order.
    let github = run(
        dir.path(),
        &[
            "check",
            "--output-format",
            "github",
            "--memory-limit",
            "64K",
            "--tmp-dir",
            tmp,
            "batch.jsonl",
        ],
    );
    let text = github.stdout_str();
    let warnings: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("near duplicate of batch.jsonl:100 [d99]"))
        .collect();
    assert_eq!(warnings.len(), 4, "{github:?}");
}

/// `many.jsonl` in `d`: `n` numbered records and a copy of record 5.
fn many_with_a_copy(d: &std::path::Path, n: usize) {
    let mut input = crate::util::numbered_records(n);
    input.extend_from_slice(
        br#"{"id":"again","text":"Record 5 says 35 things about 65 places and 155 more words here."}
"#,
    );
    std::fs::write(d.join("many.jsonl"), input).unwrap();
}

/// A share just over its limit (session 40's hostile pass): 1 duplicate of
/// 20,001 documents over a limit of 0.004% read `0% (1 of 20001), over 0.0%
/// by -0.0 points`, and the JSON said `"share":0,"limit":4e-05,"passed":false`,
/// a share within its limit that failed. The share shows as much as it is,
/// the limit as given, the excess as positive, and the JSON share is over
/// the limit exactly when it failed.
#[test]
fn a_share_just_over_its_limit_reads_as_over() {
    let dir = crate::util::tempdir();
    let d = dir.path();
    many_with_a_copy(d, 20_000);
    let args = ["check", "-q", "--max-dup-docs", "0.004%", "many.jsonl"];
    let text = run_exit(d, 1, &args).stdout_str();
    assert!(
        text.contains("duplicate documents: 0.005% (1 of 20001), over 0.004% by 0.001 points\n"),
        "{text}"
    );
    let github = run_exit(d, 1, &[&args[..], &["--output-format", "github"]].concat());
    let github = github.stdout_str();
    assert!(
        github.contains("::error title=neardup check failed::duplicate documents 0.005%25 (1 of 20001) is over the limit of 0.004%25\n"),
        "{github}"
    );
    assert!(
        github.contains(
            "| duplicate documents | 0.005% | 1 of 20001 | 0.004% | over by 0.001 points |"
        ),
        "{github}"
    );
    let json = run_exit(d, 1, &[&args[..], &["--json"]].concat());
    let report: Value = serde_json::from_slice(&json.stdout).unwrap();
    let m = &report["check"]["measurements"][0];
    assert_eq!(m["passed"], false, "{m}");
    let (share, limit) = (m["share"].as_f64().unwrap(), m["limit"].as_f64().unwrap());
    assert!(share > limit, "{m}");
    assert_eq!((share, limit), (5e-5, 4e-5), "{m}");

    // Within a limit that the share to 4 decimals is over: 2 of 3 is
    // 0.66666…, within 66.667% but 0.6667 is over it.
    let body = "A paragraph long enough to be judged on its own words, as any other.";
    let record = |id: &str| format!("{{\"id\":\"{id}\",\"text\":\"{body}\"}}\n");
    let three = record("a") + &record("b") + &record("c");
    std::fs::write(d.join("three.jsonl"), three).unwrap();
    for (limit, passed, verdict) in [
        ("66.667%", true, "66.667% (2 of 3), within 66.667%\n"),
        (
            "66.666%",
            false,
            "66.7% (2 of 3), over 66.666% by 0.00067 points\n",
        ),
    ] {
        let args = ["check", "-q", "--max-dup-docs", limit, "three.jsonl"];
        let text = run_exit(d, i32::from(!passed), &args).stdout_str();
        assert!(text.contains(verdict), "{text}");
        let json = run(d, &[&args[..], &["--json"]].concat());
        let report: Value = serde_json::from_slice(&json.stdout).unwrap();
        let m = &report["check"]["measurements"][0];
        let (share, limit) = (m["share"].as_f64().unwrap(), m["limit"].as_f64().unwrap());
        assert_eq!(m["passed"], passed, "{m}");
        assert_eq!(share <= limit, passed, "{m}");
    }
}

/// A share shown beside its limit reads on the side of it that the verdict
/// says (session 43's hostile pass): 1 of 9,999 over 0.01% read `0.01% (1 of
/// 9999), over 0.01%`, and 2 of 3 within 66.667% read `66.7% (2 of 3), within
/// 66.667%`, in the text verdict, the `::error` line and the Markdown table.
#[test]
fn a_shown_share_is_on_the_side_of_its_shown_limit() {
    let dir = crate::util::tempdir();
    let d = dir.path();
    many_with_a_copy(d, 9_998);
    let args = ["check", "-q", "--max-dup-docs", "0.01%", "many.jsonl"];
    let text = run_exit(d, 1, &args).stdout_str();
    assert!(
        text.contains("duplicate documents: 0.010001% (1 of 9999), over 0.01% by "),
        "{text}"
    );
    let github = run_exit(d, 1, &[&args[..], &["--output-format", "github"]].concat());
    let github = github.stdout_str();
    assert!(
        github
            .contains("duplicate documents 0.010001%25 (1 of 9999) is over the limit of 0.01%25\n"),
        "{github}"
    );
    assert!(
        github.contains("| duplicate documents | 0.010001% | 1 of 9999 | 0.01% | over by "),
        "{github}"
    );
    // Within: never shown over the limit.
    let args = ["check", "-q", "--max-dup-docs", "0.010001%", "many.jsonl"];
    let text = run_exit(d, 1, &args).stdout_str();
    assert!(
        text.contains("duplicate documents: 0.0100010001% (1 of 9999), over 0.010001% by "),
        "{text}"
    );
    let args = ["check", "-q", "--max-dup-docs", "0.0101%", "many.jsonl"];
    let text = run_exit(d, 0, &args).stdout_str();
    assert!(
        text.contains("duplicate documents: 0.01% (1 of 9999), within 0.0101%\n"),
        "{text}"
    );
}

/// A repeat inside one document (session 40's hostile pass): its GitHub
/// annotation read `line 5 repeats line 1 of earlier in the same document`.
#[test]
fn a_repeat_inside_a_document_is_annotated_as_of_the_same_document() {
    let dir = crate::util::tempdir();
    let para = "A paragraph long enough to be judged on its own words, as any other.";
    let text =
        format!("{para}\n\nSomething else entirely, between the two copies of it.\n\n{para}\n");
    std::fs::write(dir.path().join("f.txt"), text).unwrap();
    let out = run_exit(
        dir.path(),
        1,
        &["check", "--output-format", "github", "f.txt"],
    );
    assert!(
        out.stdout_str().starts_with(
            "::warning file=f.txt,line=5,endLine=5,title=neardup%3A repeated text::\
             line 5 repeats line 1 of the same document: 1 block, 69 bytes, similarity 1.00\n"
        ),
        "{out:?}"
    );
}
