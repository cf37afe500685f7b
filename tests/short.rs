//! Short documents: what makes them cheap leaves every answer as it was.

use neardup::config::Config;
use neardup::input::Corpus;
use neardup::pipeline::{analyze, analyze_after};
use neardup::progress::Silent;

#[test]
fn documents_of_few_shingles_pair_as_when_every_one_is_keyed() {
    // Documents of 3 to 24 words: near copies, exact copies, ones cut
    // from a longer document, and unique ones. A plain run keys only
    // those another document shares a shingle with; a run that keeps its
    // sets for an index keys every one.
    let text = |from: usize, n: usize| {
        (from..from + n)
            .map(|i| format!("w{i}"))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let mut texts: Vec<String> = Vec::new();
    for d in 0..400 {
        let n = 6 + (d / 8) % 10;
        texts.push(match d % 8 {
            0 => text(d * 50, n),
            // A near copy of the one before: a word added.
            1 => format!("{} x{d}", text((d - 1) * 50, n)),
            // An exact copy.
            2 => texts[d - 2].clone(),
            // Long: 24 words.
            4 => text(d * 50, 24),
            // Cut from the long one before it.
            5 => text((d - 1) * 50 + 5, 10),
            // Fewer words than a shingle.
            6 => text(d * 50, 3),
            _ => text(d * 50, 8),
        });
    }
    let corpus = Corpus::from_texts(
        texts
            .into_iter()
            .enumerate()
            .map(|(d, t)| (format!("d{d}"), t)),
    );
    let config = Config::default();
    let plain = analyze(&corpus, &config);
    let keyed = analyze_after(&corpus, &config, &Silent, None, true).unwrap();
    let (a, b) = (&plain.doc_level, &keyed.doc_level);
    assert_eq!(a.candidate_pairs, b.candidate_pairs);
    assert_eq!(a.verified_pairs, b.verified_pairs);
    assert_eq!(a.cluster_of, b.cluster_of);
    assert_eq!(a.rep_of, b.rep_of);
    assert_eq!(plain.doc_dropped, keyed.doc_dropped);
    // Near copies, exact copies and cut-outs were found.
    for (d, rep) in [(9, 8), (10, 8), (13, 12)] {
        assert_eq!(a.rep_of[d], Some(rep), "{d}");
    }
    assert!(a.dropped.iter().filter(|&&d| d).count() >= 140);
}
