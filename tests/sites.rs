//! Pages of one site (issue 16, session 43): a template (a navigation line
//! before each page's text, a footer after it) that is most of every page.
//! The defaults dropped all pages but the first as copies of it; no page is
//! a copy of another, while a page's story copied to another site, in that
//! site's template, is.

use crate::util::{run_ok, tempdir};
use std::path::Path;

/// `len` words of their own for `seed` (no two seeds share a word).
fn words(seed: usize, len: usize) -> String {
    (0..len)
        .map(|i| format!("s{seed}w{i}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// 40 pages of one site, each 180 words of its own in a template of 300 (62%
/// of a page), then page 7's story on another site: records `p0`..`p39`,
/// `copy`.
fn site(path: &Path) {
    let (nav, footer) = (words(1, 100), words(2, 200));
    let mut jsonl = String::new();
    for p in 0..40 {
        let body = (0..3)
            .map(|k| words(100 + 3 * p + k, 60))
            .collect::<Vec<_>>()
            .join("\n\n");
        let text = format!("{nav}\n\n{body}\n\n{footer}");
        jsonl.push_str(&serde_json::json!({"id": format!("p{p}"), "text": text}).to_string());
        jsonl.push('\n');
    }
    let story = (0..3)
        .map(|k| words(100 + 21 + k, 60))
        .collect::<Vec<_>>()
        .join("\n\n");
    let copy = format!("{}\n\n{story}\n\n{}", words(3, 30), words(4, 50));
    jsonl.push_str(&serde_json::json!({"id": "copy", "text": copy}).to_string());
    jsonl.push('\n');
    std::fs::write(path, jsonl).unwrap();
}

#[test]
fn pages_sharing_only_their_template_are_all_kept_and_a_story_copied_is_dropped() {
    let dir = tempdir();
    let d = dir.path();
    site(&d.join("site.jsonl"));
    let mut outputs = Vec::new();
    for extra in [
        &["--threads", "1"][..],
        &["--threads", "3"],
        &["--memory-limit", "64K"],
    ] {
        let args = [&["clean", "-q", "--level", "docs", "site.jsonl"][..], extra].concat();
        let out = run_ok(d, &args);
        let kept: Vec<String> = out
            .stdout
            .split(|&b| b == b'\n')
            .filter(|l| !l.is_empty())
            .map(|l| serde_json::from_slice::<serde_json::Value>(l).unwrap()["id"].to_string())
            .collect();
        let pages: Vec<String> = (0..40).map(|p| format!("\"p{p}\"")).collect();
        assert_eq!(kept, pages, "{extra:?}");
        outputs.push(out.stdout);
    }
    assert!(outputs.windows(2).all(|w| w[0] == w[1]));
    // The report names the copy's source.
    let out = run_ok(d, &["scan", "--json", "--level", "docs", "site.jsonl"]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let clusters = &report["near_duplicates"]["cluster_list"];
    assert_eq!(clusters.as_array().unwrap().len(), 1, "{clusters}");
    assert_eq!(clusters[0]["representative"]["id"], "p7");
    assert_eq!(clusters[0]["members"][1]["document"]["id"], "copy");
}
