//! Short records under `--method simhash` in a run in chunks: cut by what
//! their 20 keys cost, their stored keys looked up only where a chunk stored
//! them, and every answer as in one run.

use crate::util::{run, tempdir, Lcg};

/// `n` six-word records of a 20,000-word vocabulary: every fifth an earlier
/// record with one word changed, every seventh an exact copy of one, the
/// rest new.
fn six_word_records(seed: u64, n: usize) -> String {
    let mut rng = Lcg(seed);
    let mut texts: Vec<String> = Vec::with_capacity(n);
    let mut out = String::new();
    for i in 0..n {
        let text = if i > 10 && i % 5 == 0 {
            let mut words: Vec<String> = texts[rng.next(i)].split(' ').map(str::to_owned).collect();
            words[rng.next(6)] = format!("x{}", rng.next(20_000));
            words.join(" ")
        } else if i > 10 && i % 7 == 0 {
            texts[rng.next(i)].clone()
        } else {
            (0..6)
                .map(|_| format!("w{}", rng.next(20_000)))
                .collect::<Vec<_>>()
                .join(" ")
        };
        out.push_str(&(serde_json::json!({"id": i, "text": text}).to_string() + "\n"));
        texts.push(text);
    }
    out
}

/// `clean --method simhash -v` of `input`: its output, its JSON report
/// without the command and parameters, and its messages.
fn clean(d: &std::path::Path, input: &str, extra: &[&str]) -> (Vec<u8>, serde_json::Value, String) {
    let report = format!("{input}.{}.json", extra.join("_"));
    let mut args = vec![
        "clean", "-v", "--method", "simhash", "--json", "--report", &report,
    ];
    args.extend_from_slice(extra);
    args.extend_from_slice(&[input, "-o", "out.jsonl"]);
    let done = run(d, &args);
    assert_eq!(done.code, 0, "{extra:?}: {done:?}");
    let mut rep: serde_json::Value =
        serde_json::from_slice(&std::fs::read(d.join(&report)).unwrap()).unwrap();
    rep["command"] = serde_json::Value::Null;
    rep["parameters"] = serde_json::Value::Null;
    (
        std::fs::read(d.join("out.jsonl")).unwrap(),
        rep,
        done.stderr,
    )
}

/// The keys a chunk never stored are not looked up in its segment (see
/// `store::KeysSeen`): the near and exact copies whose first copy is in an
/// earlier chunk are found, the candidate pairs are those of one run, and
/// so are the output and the report, at 1 and 2 threads.
#[test]
fn six_word_records_in_chunks_under_simhash_find_what_one_run_finds() {
    let dir = tempdir();
    let d = dir.path();
    std::fs::write(d.join("six.jsonl"), six_word_records(33, 12_000)).unwrap();
    let (whole, whole_report, _) = clean(d, "six.jsonl", &[]);
    let pairs = &whole_report["near_duplicates"]["candidate_pairs"];
    assert!(pairs.as_u64().unwrap() > 1000, "{pairs}");
    // The exact copies are dropped (a near copy, one word of six changed,
    // keeps too few of its shingles): 1,374.
    let dropped = whole_report["summary"]["dropped_documents"]
        .as_u64()
        .unwrap();
    assert!(dropped > 1000, "{dropped} dropped");
    for threads in ["1", "2"] {
        let limit = [
            "--threads",
            threads,
            "--memory-limit",
            "1M",
            "--tmp-dir",
            "sp",
        ];
        let (out, report, stderr) = clean(d, "six.jsonl", &limit);
        assert!(crate::util::chunks_said(&stderr) >= 4, "{stderr}");
        assert!(out == whole, "{threads} thread(s): the output differs");
        assert_eq!(report, whole_report, "{threads} thread(s)");
    }
}

/// A six-word record under SimHash has 20 keys, not the 128 a chunk
/// counted every document at: 1 MB of them at `--memory-limit 4M` made 30
/// chunks (main at f4e35f2), each a segment to write, merge and look up.
#[test]
fn six_word_records_under_simhash_are_cut_by_their_own_keys() {
    let dir = tempdir();
    let d = dir.path();
    std::fs::write(d.join("six.jsonl"), six_word_records(34, 16_000)).unwrap();
    let limit = ["--memory-limit", "4M", "--tmp-dir", "sp"];
    let (_, _, stderr) = clean(d, "six.jsonl", &limit);
    let chunks = crate::util::chunks_said(&stderr);
    assert!((4..=16).contains(&chunks), "{chunks} chunks: {stderr}");
}
