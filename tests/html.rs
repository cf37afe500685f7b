//! `--html FILE`: one self-contained page built from the same report as
//! `--json`, with the texts of the documents it shows. (`.ci/run` also opens
//! the seed's page in headless Chromium and checks its highlights.)

use crate::util::{assert_says, data_dir, run, run_exit, run_ok, tempdir};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;

/// What a script element of the page holds, by its id.
fn script<'h>(html: &'h str, id: &str) -> &'h str {
    let open = html
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no #{id}"));
    let start = open + html[open..].find('>').unwrap() + 1;
    let end = start + html[start..].find("</script>").unwrap();
    &html[start..end]
}

fn base64_decode(text: &str) -> Vec<u8> {
    let value = |c: u8| match c {
        b'A'..=b'Z' => u32::from(c - b'A'),
        b'a'..=b'z' => u32::from(c - b'a') + 26,
        b'0'..=b'9' => u32::from(c - b'0') + 52,
        b'+' => 62,
        b'/' => 63,
        _ => panic!("not base64: {c}"),
    };
    let bytes: Vec<u8> = text.bytes().filter(|c| !c.is_ascii_whitespace()).collect();
    assert_eq!(bytes.len() % 4, 0, "base64 comes in groups of four");
    let mut out = Vec::new();
    for group in bytes.chunks(4) {
        let pad = group.iter().filter(|&&c| c == b'=').count();
        let n = group[..4 - pad]
            .iter()
            .enumerate()
            .fold(0, |n, (i, &c)| n | value(c) << (18 - 6 * i));
        out.extend_from_slice(&n.to_be_bytes()[1..4 - pad]);
    }
    out
}

/// The page's report and texts.
fn payload(html: &str) -> (Value, BTreeMap<usize, String>) {
    let report = serde_json::from_str(script(html, "report-data")).expect("the report parses");
    let encoded = script(html, "texts-data");
    if encoded.trim().is_empty() {
        return (report, BTreeMap::new());
    }
    let mut json = String::new();
    std::io::Read::read_to_string(
        &mut flate2::read::GzDecoder::new(&base64_decode(encoded)[..]),
        &mut json,
    )
    .expect("the texts are gzip");
    let texts: BTreeMap<String, String> = serde_json::from_str(&json).expect("the texts parse");
    let texts = texts
        .into_iter()
        .map(|(k, v)| (k.parse().unwrap(), v))
        .collect();
    (report, texts)
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Nothing on the page is fetched: no address but the SVG namespace (a name,
/// never loaded), no `src`, no stylesheet link, no `url(` or `@import`.
fn assert_self_contained(html: &str) {
    let addresses: Vec<&str> = html
        .match_indices("://")
        .map(|(at, _)| &html[at.saturating_sub(5)..(at + 30).min(html.len())])
        .filter(|a| !a.contains("http://www.w3.org/2000/svg"))
        .collect();
    assert!(addresses.is_empty(), "addresses in the page: {addresses:?}");
    for needle in [
        " src=",
        "<link",
        "url(",
        "@import",
        "fetch(",
        "XMLHttpRequest",
    ] {
        assert!(!html.contains(needle), "the page has {needle:?}");
    }
}

/// `scan --json --html` of `input` in `dir`: the page, its report and texts,
/// and the JSON report printed beside it.
fn scan_page(dir: &Path, input: &str) -> (String, Value, BTreeMap<usize, String>, Value) {
    let pages = tempdir();
    let page = pages.path().join("page.html");
    let out = run_ok(
        dir,
        &["scan", "--json", "--html", page.to_str().unwrap(), input],
    );
    let html = read(&page);
    let (report, texts) = payload(&html);
    let json = serde_json::from_slice(&out.stdout).expect("--json parses");
    (html, report, texts, json)
}

#[test]
fn the_page_holds_the_json_report_and_the_seed_text() {
    let seed = data_dir().join("seed");
    let (html, report, texts, json) = scan_page(&seed, "article.txt");
    assert_eq!(report, json, "the page's report is the --json report");
    assert_eq!(
        report["documents"][0]["runs"][0]["lines"],
        serde_json::json!([17, 32])
    );
    let article = read(&seed.join("article.txt"));
    assert_eq!(
        texts,
        BTreeMap::from([(0, article)]),
        "the article's text, once"
    );
    assert_self_contained(&html);
    // The style and the script are the assets', put in place.
    assert!(html.contains(include_str!("../assets/report.css")));
    assert!(html.contains(include_str!("../assets/report.js")));
    assert!(html.starts_with("<!DOCTYPE html>") && html.trim_end().ends_with("</html>"));
}

#[test]
fn hostile_ids_and_text_stay_data() {
    let dir = tempdir();
    let d = dir.path();
    let hostile = "</script><img src=x onerror=alert(1)><!-- &amp;";
    let para = format!(
        "A paragraph long enough to be judged holds {hostile} and goes on for several more words."
    );
    let other = "Another paragraph of plain words that is long enough to count as a block here.";
    let mut jsonl = String::new();
    for (id, text) in [
        (hostile.to_string(), format!("{para}\n\n{other}\n")),
        (
            format!("{hostile}-2"),
            format!(
                "{other}\n\nA new first paragraph of enough words to stand alone here, and it goes on with many more words of its own, so that most of this document is text that nobody has seen before: the second record must stay a document with a repeated block, not become a near duplicate of the first, whatever the measure. Three more sentences make sure of that. They talk of weather, of trains and of the price of bread in small towns.\n\n{para}\n"
            ),
        ),
    ] {
        jsonl.push_str(&serde_json::json!({"id": id, "text": text}).to_string());
        jsonl.push('\n');
    }
    std::fs::write(d.join("hostile.jsonl"), &jsonl).unwrap();
    let (html, report, texts, json) = scan_page(d, "hostile.jsonl");
    // The page's own three script elements close; nothing in the data does.
    assert_eq!(html.matches("</script>").count(), 3);
    assert!(
        !html.contains("<img"),
        "markup from the data reached the page"
    );
    assert!(!html.contains("<!-- &amp;"));
    assert_eq!(report, json);
    assert_eq!(
        report["documents"][0]["document"]["id"],
        format!("{hostile}-2")
    );
    assert!(texts.values().all(|t| t.contains(hostile)));
    assert_eq!(texts.len(), 2);
}

#[test]
fn dropped_documents_come_with_their_representatives() {
    let case = data_dir().join("near-duplicate-docs");
    let (_, report, texts, json) = scan_page(&case, "wire.jsonl");
    assert_eq!(report, json);
    let lines: Vec<&str> = std::fs::read_to_string(case.join("wire.jsonl"))
        .unwrap()
        .leak()
        .lines()
        .collect();
    let mut members = 0;
    for cluster in report["near_duplicates"]["cluster_list"]
        .as_array()
        .unwrap()
    {
        for m in cluster["members"].as_array().unwrap() {
            let index = usize::try_from(m["document"]["index"].as_u64().unwrap()).unwrap();
            let record: Value = serde_json::from_str(lines[index]).unwrap();
            assert_eq!(
                texts.get(&index).map(String::as_str),
                record["text"].as_str()
            );
            members += 1;
        }
    }
    assert!(members >= 4, "the case has clusters: {members} members");
}

/// A temporary directory holding a copy of the seed article.
fn with_article() -> tempfile::TempDir {
    let dir = tempdir();
    let article = data_dir().join("seed").join("article.txt");
    std::fs::copy(article, dir.path().join("article.txt")).unwrap();
    dir
}

#[test]
fn html_beside_every_report_on_scan_check_and_clean() {
    let dir = with_article();
    let d = dir.path();
    let pages: Vec<(String, Value)> = [
        &["scan", "--json", "--html", "scan.html", "article.txt"][..],
        &[
            "check",
            "--exit-zero",
            "--json",
            "--html",
            "check.html",
            "article.txt",
        ],
        &[
            "clean",
            "-o",
            "clean.txt",
            "--report",
            "r.json",
            "--json",
            "--html",
            "clean.html",
            "article.txt",
        ],
    ]
    .iter()
    .map(|args| {
        let out = run(d, args);
        assert_eq!(out.code, 0, "{args:?}: {out:?}");
        let page = args[args.iter().position(|a| *a == "--html").unwrap() + 1];
        let json = if args[0] == "clean" {
            std::fs::read(d.join("r.json")).unwrap()
        } else {
            out.stdout
        };
        let (report, _) = payload(&read(&d.join(page)));
        assert_eq!(
            report,
            serde_json::from_slice::<Value>(&json).unwrap(),
            "{args:?}"
        );
        (args[0].to_string(), report)
    })
    .collect();
    assert!(
        pages[1].1["check"]["passed"] == false,
        "check's verdict is on its page"
    );
    assert_eq!(pages[2].1["command"], "clean");
    // Cleaned text on standard output still gets its page (and its totals line).
    let out = run_ok(d, &["clean", "--html", "stdout.html", "article.txt"]);
    assert_eq!(out.stdout, std::fs::read(d.join("clean.txt")).unwrap());
    assert_says(&out, "removed 14 of 32 blocks");
    let (report, texts) = payload(&read(&d.join("stdout.html")));
    assert_eq!(report["summary"]["removed_blocks"], 14);
    assert_eq!(texts.len(), 1);
}

#[test]
fn same_page_at_any_thread_count() {
    let dir = tempdir();
    let case = data_dir().join("near-duplicate-docs");
    let pages: Vec<Vec<u8>> = ["1", "2", "8"]
        .iter()
        .map(|threads| {
            let page = dir.path().join(format!("{threads}.html"));
            run_ok(
                &case,
                &[
                    "scan",
                    "-j",
                    threads,
                    "--html",
                    page.to_str().unwrap(),
                    "wire.jsonl",
                ],
            );
            std::fs::read(page).unwrap()
        })
        .collect();
    assert!(pages.windows(2).all(|w| w[0] == w[1]));
}

#[test]
fn a_run_in_chunks_writes_its_page_without_texts() {
    let dir = tempdir();
    let d = dir.path();
    std::fs::write(d.join("all.jsonl"), crate::index::batches().concat()).unwrap();
    let whole = run(d, &["scan", "--json", "--html", "whole.html", "all.jsonl"]);
    let chunked = run(
        d,
        &[
            "scan",
            "--json",
            "--memory-limit",
            "64K",
            "--html",
            "chunked.html",
            "all.jsonl",
        ],
    );
    assert_eq!(chunked.code, whole.code, "{chunked:?}");
    assert_eq!(chunked.stdout, whole.stdout);
    let (report, texts) = payload(&read(&d.join("chunked.html")));
    assert_eq!(
        report,
        serde_json::from_slice::<Value>(&chunked.stdout).unwrap()
    );
    assert!(texts.is_empty(), "a run in chunks holds no texts");
    let (_, whole_texts) = payload(&read(&d.join("whole.html")));
    assert!(!whole_texts.is_empty());
}

#[test]
fn bad_html_targets_fail_and_leave_every_file_alone() {
    let dir = with_article();
    let d = dir.path();
    let article = std::fs::read(d.join("article.txt")).unwrap();
    // The input itself.
    let out = run_exit(d, 2, &["scan", "--html", "article.txt", "article.txt"]);
    assert_says(&out, "article.txt (--html) is also article.txt (input)");
    assert_eq!(std::fs::read(d.join("article.txt")).unwrap(), article);
    // A directory that cannot be made: no page, and no report either.
    std::fs::write(d.join("file"), "x").unwrap();
    let out = run_exit(
        d,
        2,
        &[
            "clean",
            "-o",
            "clean.txt",
            "--report",
            "r.txt",
            "--html",
            "file/page.html",
            "article.txt",
        ],
    );
    assert_says(&out, "file");
    assert!(
        !d.join("r.txt").exists(),
        "the report was written after the page failed"
    );
    // `index build` writes no report.
    let out = run_exit(
        d,
        2,
        &[
            "index",
            "build",
            "-o",
            "x.ndx",
            "--html",
            "p.html",
            "article.txt",
        ],
    );
    assert_says(&out, "--html is a report of");
    assert!(!d.join("x.ndx").exists() && !d.join("p.html").exists());
    // `--html -` and another output on standard output would be one
    // stream of both.
    for (args, other) in [
        (&["scan", "--html", "-", "article.txt"][..], "the report"),
        (&["check", "--html", "-", "article.txt"][..], "the report"),
        (
            &["clean", "--html", "-", "article.txt"][..],
            "the cleaned text",
        ),
        (
            &[
                "clean",
                "--html",
                "-",
                "--report",
                "-",
                "-o",
                "c.txt",
                "article.txt",
            ][..],
            "the report",
        ),
    ] {
        let out = run(d, args);
        assert_eq!((out.code, out.stdout.len()), (2, 0), "{args:?}: {out:?}");
        assert!(
            out.stderr.contains(&format!(
                "{other} and the HTML page cannot both go to standard output"
            )),
            "{args:?}: {out:?}"
        );
        assert!(!d.join("c.txt").exists());
    }
    // The page alone there is fine.
    let out = run_ok(d, &["clean", "--html", "-", "-o", "c.txt", "article.txt"]);
    assert!(out.stdout.starts_with(b"<!DOCTYPE html>"), "{out:?}");
}

#[test]
fn output_format_html_writes_the_page_html_writes() {
    let dir = with_article();
    let d = dir.path();
    let out = run_ok(
        d,
        &[
            "scan",
            "--output-format",
            "html",
            "--html",
            "page.html",
            "article.txt",
        ],
    );
    assert!(out.stdout_str().starts_with("<!DOCTYPE html>"));
    assert_eq!(out.stdout, read(&d.join("page.html")).into_bytes());
}
