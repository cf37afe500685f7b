use super::*;

fn run(texts: &[&str], config: &Config) -> Vec<Match> {
    // Each text a document of its own.
    let docs: Vec<u32> = (0..texts.len())
        .map(|d| u32::try_from(d).unwrap())
        .collect();
    run_in(&sketches(texts, config), &docs, config)
}

fn run_in(sketches: &[Sketch], doc_of: &[u32], config: &Config) -> Vec<Match> {
    let skip = vec![false; sketches.len()];
    let silent = &crate::progress::Silent;
    detect_after(sketches, &skip, doc_of, config, silent, None, false).matches
}

fn sketches(texts: &[&str], config: &Config) -> Vec<Sketch> {
    texts
        .iter()
        .map(|t| Sketch::new(t, config.block_shingle, config.seed))
        .collect()
}

const A: &str = "The quick brown fox jumps over the lazy dog near the river bank today";
const B: &str = "An entirely different sentence about markets and prices rising in spring again";

#[test]
fn exact_and_normalized_copies_point_to_the_first() {
    let config = Config::default();
    let m = run(&[A, B, &A.to_uppercase(), A], &config);
    assert_eq!(m[0], Match::Unique);
    assert_eq!(m[1], Match::Unique);
    for later in &m[2..] {
        assert_eq!(
            *later,
            Match::Repeat {
                source: 0,
                source_last: 0,
                similarity: 1.0,
                exact: true
            }
        );
    }
}

#[test]
fn near_copy_found_by_containment() {
    let config = Config::default();
    // One word changed at the very end: 11 of 12 three-word shingles survive.
    let edited = A.replace("today", "yesterday");
    let m = run(&[A, &edited], &config);
    let Match::Repeat {
        source,
        source_last,
        similarity,
        ..
    } = m[1]
    else {
        panic!("not a repeat: {:?}", m[1]);
    };
    assert_eq!((source, source_last), (0, 0));
    assert!((similarity - 11.0 / 12.0).abs() < 1e-9);
    // A truncated copy is fully contained in its source.
    let cut = "The quick brown fox jumps over the lazy dog near the";
    assert!(
        matches!(run(&[A, cut], &config)[1], Match::Repeat { similarity, .. } if similarity >= 1.0)
    );
}

#[test]
fn short_blocks_only_match_exactly() {
    let config = Config::default();
    let m = run(&["Advertisement", "advertisement!", "Advert"], &config);
    assert_eq!(m[0], Match::Unique);
    assert!(matches!(m[1], Match::Repeat { source: 0, .. }));
    assert_eq!(m[2], Match::Unique);
}

#[test]
fn repeats_of_repeats_point_to_the_representative() {
    let config = Config {
        block_threshold: 0.5,
        ..Config::default()
    };
    let v1 = A.replace("today", "tonight");
    let m = run(&[A, &v1, &v1], &config);
    assert!(matches!(
        m[1],
        Match::Repeat {
            source: 0,
            exact: false,
            ..
        }
    ));
    assert_eq!(m[2], m[1]);
}

const C: &str = "Shares of the regional carrier fell sharply after the airline warned that fuel costs would erase its profit";
const D: &str = "The chief executive told analysts on a call that capacity cuts would follow in the second half of the year";

#[test]
fn a_block_spread_over_consecutive_source_blocks_repeats_them() {
    let config = Config::default();
    // Two paragraphs of one document, then a copy that joins them into
    // one: neither holds 80% of it alone, the two together hold it all.
    let joined = format!("{C} {D}");
    let texts = [A, C, D, B, joined.as_str()];
    let m = run_in(&sketches(&texts, &config), &[0, 0, 0, 0, 1], &config);
    assert_eq!(&m[..4], &[Match::Unique; 4]);
    let Match::Repeat {
        source,
        source_last,
        similarity,
        exact,
    } = m[4]
    else {
        panic!("not a repeat: {:?}", m[4]);
    };
    assert_eq!((source, source_last, exact), (1, 2, false));
    // Only the two shingles across the join are in neither.
    let n = sketches(&[&joined], &config)[0].shingles.len();
    #[allow(clippy::cast_precision_loss)]
    let expected = (n - 2) as f64 / n as f64;
    assert!(
        (similarity - expected).abs() < 1e-9,
        "{similarity} vs {expected}"
    );
    // A later exact copy of the joined paragraph names the same place.
    let texts = [A, C, D, B, joined.as_str(), joined.as_str()];
    let m = run_in(&sketches(&texts, &config), &[0, 0, 0, 0, 1, 2], &config);
    assert_eq!(m[5], m[4]);
}

#[test]
fn a_place_is_one_document_and_blocks_close_together() {
    let config = Config::default();
    let joined = format!("{C} {D}");
    // The two halves in two documents: no one place holds the paragraph.
    let texts = [C, D, joined.as_str()];
    let m = run_in(&sketches(&texts, &config), &[0, 1, 2], &config);
    assert_eq!(m[2], Match::Unique);
    // Within one document, more than `PLACE_GAP` unrelated blocks apart: no place.
    let others: Vec<String> = (0..4)
        .map(|k| format!("{B} number {k} of a list of unrelated paragraphs"))
        .collect();
    let mut texts = vec![C];
    texts.extend(others.iter().map(String::as_str));
    texts.extend([D, joined.as_str()]);
    let docs = [0, 0, 0, 0, 0, 0, 1];
    let m = run_in(&sketches(&texts, &config), &docs, &config);
    assert_eq!(m[6], Match::Unique);
    // With three of them between, it is found, named by its two ends.
    let mut texts = vec![C];
    texts.extend(others[..3].iter().map(String::as_str));
    texts.extend([D, joined.as_str()]);
    let m = run_in(&sketches(&texts, &config), &[0, 0, 0, 0, 0, 1], &config);
    assert!(
        matches!(
            m[5],
            Match::Repeat {
                source: 0,
                source_last: 4,
                ..
            }
        ),
        "{:?}",
        m[5]
    );
}

#[test]
fn the_same_verdicts_at_any_thread_count_across_batches() {
    let config = Config::default();
    // Over three batches: paragraphs, exact and near copies, joined
    // copies, within a batch and across batches.
    let (mut texts, mut docs, mut pairs) = (Vec::new(), Vec::new(), Vec::new());
    let mut doc = 0u32;
    for k in 0..1000 {
        let one = format!(
            "Paragraph {k} one tells of item {} in the list with words {} {} and more",
            k % 97,
            k % 13,
            k % 7
        );
        let two = format!(
            "Paragraph {k} two goes on about thing {} beside the river with {} boats",
            k % 89,
            k % 11
        );
        texts.extend([one.clone(), two.clone()]);
        docs.extend([doc, doc]);
        doc += 1;
        pairs.push((one.clone(), two));
        if k % 3 == 0 && k >= 6 {
            let (a, b) = &pairs[k - 6 + k % 4];
            texts.push(format!("{a} {b}"));
            docs.push(doc);
            doc += 1;
        }
        if k % 5 == 0 {
            texts.push(one.replace("list", "catalogue"));
            docs.push(doc);
            doc += 1;
        }
    }
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let s = sketches(&refs, &config);
    let at = |threads: usize| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| run_in(&s, &docs, &config))
    };
    let one = at(1);
    assert!(one.len() > BATCH * 2);
    assert!(one
        .iter()
        .any(|m| matches!(m, Match::Repeat { source, source_last, .. } if source_last > source)));
    assert!(one.iter().any(|m| matches!(m, Match::Repeat { exact: false, source, source_last, .. } if source_last == source)));
    // One and two threads look blocks up one by one, four in parallel
    // batches: the same verdicts.
    for threads in [2, 4] {
        assert_eq!(at(threads), one);
    }
}

#[test]
fn one_by_one_picks_the_rarest_shingles_as_of_the_batch_start() {
    // A block whose two rarest shingles, counted before its batch, are held
    // by its source, while counted with the batch's own first copies every
    // list is full (POSTING_CAP) and the two first in order are not: looked
    // up one by one (one thread) or in parallel (four), it repeats the source.
    let config = Config::default();
    let words: Vec<String> = (0..10).map(|i| format!("word{i}")).collect();
    let text = words.join(" ");
    let target = Sketch::new(&text, config.block_shingle, config.seed);
    assert_eq!(target.shingles.len(), 8);
    // The three words of each shingle, in the sketch's (hash) order.
    let triples: Vec<String> = {
        let mut by_hash: Vec<(u64, String)> = words
            .windows(3)
            .map(|w| {
                let t = w.join(" ");
                (
                    Sketch::new(&t, config.block_shingle, config.seed).shingles[0],
                    t,
                )
            })
            .collect();
        by_hash.sort();
        assert!(by_hash
            .iter()
            .map(|h| h.0)
            .eq(target.shingles.iter().copied()));
        by_hash.into_iter().map(|h| h.1).collect()
    };
    let mut fresh = 0;
    let mut filler = |holds: &str| {
        fresh += 1;
        let own: Vec<String> = (0..6).map(|k| format!("filler{fresh}n{k}")).collect();
        format!("{holds} {}", own.join(" "))
    };
    let mut texts = Vec::new();
    for triple in &triples[..2] {
        texts.extend((0..POSTING_CAP).map(|_| filler(triple)));
    }
    let source = texts.len();
    texts.push(format!("{text} extra words"));
    for triple in &triples[2..] {
        texts.extend((1..POSTING_CAP - 1).map(|_| filler(triple)));
    }
    while texts.len() % BATCH != 0 {
        texts.push(filler("padding"));
    }
    // Holds the six other shingles (apart): their lists are full from here on.
    let pusher: Vec<String> = triples[2..]
        .iter()
        .enumerate()
        .map(|(k, t)| format!("{t} apart{k} from{k} others{k}"))
        .collect();
    texts.push(pusher.join(" "));
    texts.push(text.clone());
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let s = sketches(&refs, &config);
    let docs: Vec<u32> = (0..texts.len())
        .map(|d| u32::try_from(d).unwrap())
        .collect();
    for threads in [1, 4] {
        let m = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| run_in(&s, &docs, &config));
        assert_eq!(m[texts.len() - 2], Match::Unique);
        assert!(
            matches!(m[texts.len() - 1], Match::Repeat { source: s, exact: false, .. } if s == source),
            "{threads} threads: {:?}",
            m[texts.len() - 1]
        );
    }
}
