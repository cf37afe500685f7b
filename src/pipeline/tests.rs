use super::*;

const P1: &str = "the council approved the new budget after a long debate on tuesday";
const P2: &str = "rain is expected across the region for the rest of the week";

/// A corpus of several first-pass parts: documents made of shared
/// paragraphs, near copies of earlier documents, and unique text.
fn many_parts() -> Corpus {
    let para = |i: usize| -> String {
        (0..12)
            .map(|w| format!("w{}", (i * 31 + w * 7) % 997))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let mut texts: Vec<String> = Vec::new();
    for d in 0..300 {
        let text = if d % 7 == 3 && d > 10 {
            // A near copy of an earlier document: a word added.
            format!("{} extra", texts[d - 10])
        } else {
            (0..6)
                .map(|p| {
                    if p % 2 == 0 {
                        para(p * 5)
                    } else {
                        para(d * 13 + p)
                    }
                })
                .collect::<Vec<_>>()
                .join("\n\n")
        };
        texts.push(text);
    }
    Corpus::from_texts(
        texts
            .into_iter()
            .enumerate()
            .map(|(d, t)| (format!("d{d}"), t)),
    )
}

#[test]
fn kept_word_hashes_give_what_hashing_the_text_again_gives() {
    // A plain run keeps the first pass's word hashes, part by part; a run
    // that keeps its sets for an index hashes the text again.
    let corpus = many_parts();
    let config = Config::default();
    let kept = analyze(&corpus, &config);
    let again = analyze_after(&corpus, &config, &Silent, None, true).unwrap();
    assert_eq!(kept.decisions, again.decisions);
    assert_eq!(kept.dropped, again.dropped);
    assert_eq!(kept.doc_dropped, again.doc_dropped);
    assert_eq!(kept.matches, again.matches);
    assert!(kept.doc_dropped.iter().filter(|&&d| d).count() > 10);
    assert!(kept.dropped.iter().filter(|&&d| d).count() > 100);
}

#[test]
fn a_copied_document_is_one_run_against_the_copy_it_mirrors() {
    // X and Y hold the first copies; A combines them with a short sign-off;
    // B is a copy of A and should be reported as one run against A.
    let a = format!("{P1}\n\n{P2}\n\nReuter\n");
    let corpus = Corpus::from_texts([
        ("x", P1.to_owned()),
        ("y", P2.to_owned()),
        ("a", a.clone()),
        ("b", a),
    ]);
    // The block level alone: at both levels B is dropped whole as a copy of A.
    let config = Config {
        level: Level::Blocks,
        ..Config::default()
    };
    let analysis = analyze(&corpus, &config);
    let b = &analysis.decisions[3];
    assert_eq!(b.runs.len(), 1, "{b:?}");
    let run = &b.runs[0];
    assert_eq!(run.pairs.len(), 3);
    for (i, pair) in run.pairs.iter().enumerate() {
        assert_eq!(pair.mirror, analysis.global(2, i));
    }
    // First copies stay where the text was first seen.
    assert_eq!(run.pairs[0].source, analysis.global(0, 0));
    assert_eq!(run.pairs[1].source, analysis.global(1, 0));
    assert!(b.kept_short.is_empty());
    // In A the short sign-off has no run to vouch for it and is only reported.
    assert_eq!(analysis.decisions[2].runs.len(), 2);
    assert!(analysis.decisions[2].kept_short.is_empty());
    let both = analyze(&corpus, &Config::default());
    assert_eq!(both.doc_dropped, [false, false, false, true]);
    assert!(both.decisions[3].runs.is_empty());
    // Under --keep fullest A, which holds X whole (its beginning first), is
    // kept in X's place: X adds nothing to it. Y, whose text A holds after
    // X's, stays.
    let fullest = Config {
        keep: crate::config::Keep::Fullest,
        ..Config::default()
    };
    let both = analyze(&corpus, &fullest);
    assert_eq!(both.doc_dropped, [true, false, false, true]);
}

#[test]
fn the_document_level_alone_keeps_word_hashes_as_both_levels_do() {
    // A plain run, at either level with documents: short documents then
    // get keys only where another document shares a shingle.
    assert!(keeps_words(Level::Docs, false, false));
    assert!(keeps_words(Level::Both, false, false));
    // No document level, or an index read or written (it stores the sets).
    assert!(!keeps_words(Level::Blocks, false, false));
    for level in [Level::Docs, Level::Both] {
        assert!(!keeps_words(level, true, false));
        assert!(!keeps_words(level, false, true));
        assert!(!keeps_words(level, true, true));
    }
}
