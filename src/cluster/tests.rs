use super::*;
use crate::config::Keep;
use crate::index::candidate_pairs_after;

fn doc(text: &str, candidates: &Candidates, config: &Config) -> DocSketch {
    let words: Vec<&str> = text.split(' ').collect();
    let hashes: Vec<u64> = words
        .windows(config.doc_shingle.min(words.len()))
        .map(|w| xxhash_rust::xxh3::xxh3_64(w.join(" ").as_bytes()))
        .collect();
    candidates.sketch(hashes, config.seed)
}

/// Three documents clustered, and their sketches.
fn three(texts: &[&str; 3], sizes: &[usize; 3], config: &Config) -> (DocLevel, Vec<DocSketch>) {
    let cands = Candidates::new(config);
    let docs: Vec<DocSketch> = texts.iter().map(|t| doc(t, &cands, config)).collect();
    let level = cluster(&docs, &cands, config, sizes, &[None, None, None]);
    (level, docs)
}

fn text(seed: usize, len: usize) -> String {
    (0..len)
        .map(|i| format!("w{}", (i * 7919 + seed * 104_729) % 10_007))
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn verified_clusters_without_chains() {
    let config = Config::default();
    let cands = Candidates::new(&config);
    let base = text(1, 300);
    let mut near = base.clone();
    near.push_str(" extra words at the very end");
    let other = text(2, 300);
    let docs: Vec<DocSketch> = [base.as_str(), other.as_str(), near.as_str(), base.as_str()]
        .iter()
        .map(|t| doc(t, &cands, &config))
        .collect();
    let sizes = vec![300; 4];
    let level = cluster(&docs, &cands, &config, &sizes, &[None, None, None, None]);
    assert_eq!(level.clusters.len(), 1);
    let c = &level.clusters[0];
    assert_eq!(c.representative, 0);
    assert_eq!(c.members.iter().map(|m| m.0).collect::<Vec<_>>(), [0, 2, 3]);
    assert_eq!(level.dropped, [false, false, true, true]);
}

#[test]
fn a_note_sharing_only_the_end_of_a_story_is_not_its_copy() {
    let config = Config::default();
    let (story, license) = (text(1, 400), text(3, 100));
    let long = format!("{story} {license}");
    // A short note of its own (a headline) carrying the same license: 96%
    // of it is in the story, but only the story's end.
    let note = format!("{} {license}", text(5, 8));
    // A copy with a new headline, cut to its first 250 words.
    let words: Vec<&str> = story.split(' ').collect();
    let cut = format!("{} {}", text(7, 8), words[..250].join(" "));
    let (level, docs) = three(&[&long, &note, &cut], &[500, 108, 258], &config);
    assert!(similarity(&docs[1].shingles, &docs[0].shingles, Measure::Containment) > 0.9);
    assert_eq!(level.dropped, [false, false, true]);
    assert_eq!(level.rep_of, [None, None, Some(0)]);
}

#[test]
fn a_story_sharing_only_its_end_with_a_note_is_not_its_copy() {
    let config = Config::default();
    let license = text(3, 110);
    // A short note (a headline and a lede) carrying a license, the first
    // document to carry it: the license is 80% of it.
    let note = format!("{} {license}", text(5, 28));
    // A story of its own with the same license: 52% of its shingles are in
    // the note, all of them after its first 40% (its own text comes first).
    let story = format!("{} {license}", text(1, 100));
    // A copy of the note with a new headline: what it shares with the note
    // starts in its first words.
    let copy = format!("{} {}", text(7, 6), note);
    let (level, docs) = three(&[&note, &story, &copy], &[138, 210, 144], &config);
    let plain = similarity(&docs[1].shingles, &docs[0].shingles, Measure::Containment);
    assert!((0.5..0.6).contains(&plain), "{plain}");
    assert_eq!(level.dropped, [false, false, true]);
    assert_eq!(level.rep_of, [None, None, Some(0)]);
    // A story whose own text comes after the license (the license is its
    // beginning) shares the note's text in its head: plain containment
    // decides, as before.
    let late = format!("{license} {}", text(1, 100));
    let (level, _) = three(&[&note, &late, &text(9, 50)], &[138, 210, 50], &config);
    assert_eq!(level.dropped, [false, true, false]);
}

#[test]
fn documents_that_end_alike_share_the_tail_key() {
    let config = Config::default();
    let cands = Candidates::new(&config);
    let license = text(3, 40);
    let a = doc(&format!("{} {license}", text(1, 300)), &cands, &config);
    let b = doc(&format!("{} {license}", text(2, 50)), &cands, &config);
    let c = doc(
        &format!("{} {license} thanks", text(2, 50)),
        &cands,
        &config,
    );
    let last = cands.tables() - 1;
    assert_eq!(a.keys.len(), cands.tables());
    // The same last 20 words: the same key, however different the rest.
    assert_eq!(a.keys[last], b.keys[last]);
    // A word more at the end: another key.
    assert_ne!(b.keys[last], c.keys[last]);
    // Of the last shingles' distinct hashes, whatever their order.
    let hashes: Vec<u64> = (0..10).map(crate::sketch::mix).collect();
    let mut reversed = hashes.clone();
    reversed.reverse();
    let key = |h: &[u64]| cands.keys_only(h.iter().copied(), config.seed).keys[last];
    assert_eq!(key(&hashes), key(&reversed));
}

#[test]
fn a_license_is_boilerplate_from_the_stories_that_end_with_it() {
    // Two stories and two short notes (a headline each) ending with one
    // license, in the order a feed brings them: story, note, story, note.
    // The second note is 95% the first, but all it shares with it is the
    // license that both stories carry too: with the stories as its
    // candidates (their tail keys meet) the license is discounted and the
    // note is no copy. The stories share too little with the notes for
    // their band keys to meet.
    let config = Config::default();
    let cands = Candidates::new(&config);
    // Words of their own (the texts of `text` are pieces of one cycle).
    let own = |name: &str, len: usize| {
        (0..len)
            .map(|i| format!("{name}{i}"))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let license = own("q", 110);
    let texts = [
        format!("{} {license}", own("a", 4000)),
        format!("{} {license}", own("h", 6)),
        format!("{} {license}", own("b", 3500)),
        format!("{} {license}", own("k", 6)),
    ];
    let docs: Vec<DocSketch> = texts.iter().map(|t| doc(t, &cands, &config)).collect();
    let plain = similarity(&docs[3].shingles, &docs[1].shingles, Measure::Containment);
    assert!(plain > 0.9, "{plain}");
    let bands = banding(&config).bands;
    for story in [0, 2] {
        let met: Vec<usize> = (0..bands)
            .filter(|&t| docs[3].keys[t] == docs[story].keys[t])
            .collect();
        assert!(met.is_empty(), "{story} {met:?} {bands}");
    }
    let sizes = [4110, 116, 3610, 116];
    let level = cluster(&docs, &cands, &config, &sizes, &[None, None, None, None]);
    assert_eq!(level.dropped, [false, false, false, false]);
    // Without the tail keys, only the first note is a candidate of the
    // second, and the second is dropped as its copy.
    let no_tail: Vec<DocSketch> = docs
        .iter()
        .map(|d| DocSketch {
            shingles: d.shingles.clone(),
            keys: d.keys[..d.keys.len() - 1]
                .iter()
                .copied()
                .chain(std::iter::once(d.keys[0] ^ 1))
                .collect(),
        })
        .collect();
    let level = cluster(&no_tail, &cands, &config, &sizes, &[None, None, None, None]);
    assert_eq!(level.dropped, [false, false, false, true]);
}

#[test]
fn keep_policies_pick_their_member() {
    let members = [(0, 1.0), (3, 0.9), (5, 0.95)];
    let sizes = [10, 0, 0, 30, 0, 30];
    assert_eq!(choose(&members, &Keep::First, &sizes, &[]), 0);
    assert_eq!(choose(&members, &Keep::Longest, &sizes, &[]), 3);
    let values: Vec<Option<FieldValue>> = [1.0, 0.0, 0.0, 5.0, 0.0, 7.0]
        .iter()
        .map(|&v| Some(FieldValue::Number(v)))
        .collect();
    assert_eq!(choose(&members, &Keep::Max("n".into()), &sizes, &values), 5);
}

#[test]
fn measures() {
    // Shingle hashes are multiples of 32: their low 5 bits mark a place.
    let a: Vec<u64> = (1..=4).map(|x| x << 5).collect();
    let b: Vec<u64> = (3..=10).map(|x| x << 5).collect();
    assert!((similarity(&a, &b, Measure::Jaccard) - 0.2).abs() < 1e-12);
    // Directional: half of `a` is in `b`, a quarter of `b` in `a`.
    assert!((similarity(&a, &b, Measure::Containment) - 0.5).abs() < 1e-12);
    assert!((similarity(&b, &a, Measure::Containment) - 0.25).abs() < 1e-12);
}

#[test]
fn boilerplate_held_by_other_documents_weighs_little() {
    // `d`: 2 shingles of its own (1, 2) and 8 of a footer (10..18) that the
    // representative `r` and two other representatives also carry.
    // (Hashes are these numbers times 32: the low 5 bits mark a place.)
    let set = |s: Vec<u64>| -> Vec<u64> { s.into_iter().map(|x| x << 5).collect() };
    let d = set([1, 2].into_iter().chain(10..18).collect());
    let r = set((10..18).chain(100..140).collect());
    let o1 = set((10..18).chain(200..240).collect());
    let o2 = set((10..18).chain(300..340).collect());
    assert!((similarity(&d, &r, Measure::Containment) - 0.8).abs() < 1e-12);
    let alone = discounted_containment(&d, &r, &[]);
    assert!((alone - 0.8).abs() < 1e-12);
    // Each footer shingle weighs 1/27: 8/27 against 2 + 8/27.
    let shared = discounted_containment(&d, &r, &[&o1, &o2]);
    assert!(
        (shared - (8.0 / 27.0) / (2.0 + 8.0 / 27.0)).abs() < 1e-12,
        "{shared}"
    );
    // The story copied with another footer, which `o1` carries: plainly
    // 40 of 48 (0.83), discounted 40 of 40 + 8/8.
    let copy = set((100..140).chain(200..208).collect());
    assert!((similarity(&copy, &r, Measure::Containment) - 40.0 / 48.0).abs() < 1e-12);
    let discounted = discounted_containment(&copy, &r, &[&o1, &o2]);
    assert!((discounted - 40.0 / 41.0).abs() < 1e-12, "{discounted}");
}

#[test]
fn text_one_other_document_quotes_is_not_boilerplate() {
    // A short license `s`, a long agreement `q` quoting it whole, and a
    // copy of `s` with four words changed: the copy's shingles are all
    // in `q` too, but one document holding `s` does not make it
    // boilerplate, so the copy is found.
    let config = Config::default();
    let short = text(1, 60);
    let quoting = format!("{} {short} {}", text(2, 150), text(3, 150));
    let mut words: Vec<String> = short.split(' ').map(str::to_owned).collect();
    for i in [8, 22, 36, 50] {
        words[i] = format!("typo{i}");
    }
    let copy = words.join(" ");
    let (level, _) = three(&[&short, &quoting, &copy], &[60, 360, 60], &config);
    assert_eq!(level.rep_of, [None, None, Some(0)]);
    assert_eq!(level.dropped, [false, false, true]);
    // Quoted whole by two agreements, it is still not boilerplate: it
    // is all their text shares with the copy.
    let cands = Candidates::new(&config);
    let again = format!("{} {short} {}", text(4, 150), text(5, 150));
    let level = cluster(
        &[&short, &quoting, &again, &copy]
            .iter()
            .map(|t| doc(t, &cands, &config))
            .collect::<Vec<_>>(),
        &cands,
        &config,
        &[60, 360, 360, 60],
        &[None, None, None, None],
    );
    assert_eq!(level.rep_of, [None, None, None, Some(0)]);
    assert_eq!(level.dropped, [false, false, false, true]);
    // A note (ten words of its own) carrying a footer that two stories
    // carry too: they hold most of it, not all, so the footer is
    // boilerplate, and a second note with the same footer, 85% of it in
    // the first, is not its copy.
    let footer = text(7, 60);
    let texts = [
        format!("{} {footer}", text(8, 200)),
        format!("{} {footer}", text(9, 200)),
        format!("{} {footer}", text(10, 10)),
        format!("{} {footer}", text(11, 10)),
    ];
    let docs: Vec<DocSketch> = texts.iter().map(|t| doc(t, &cands, &config)).collect();
    assert!(similarity(&docs[3].shingles, &docs[2].shingles, Measure::Containment) > 0.8);
    let level = cluster(
        &docs,
        &cands,
        &config,
        &[260, 260, 70, 70],
        &[None, None, None, None],
    );
    assert_eq!(level.dropped, [false; 4]);
}

#[test]
fn a_doubled_copy_of_a_quoted_text_is_the_quoted_texts_copy() {
    // A short story, a long document quoting it whole and going on with
    // the story's first word, and the story pasted twice: the long one
    // holds one shingle more of the doubled copy (across the seam where it
    // starts again), no more than a seam, so the copy is the story's.
    let config = Config::default();
    let short = text(1, 60);
    let first = short.split(' ').next().unwrap();
    let quoting = format!("{} {short} {first} {}", text(2, 150), text(3, 150));
    let doubled = format!("{short} {short}");
    let (level, docs) = three(&[&short, &quoting, &doubled], &[60, 361, 120], &config);
    let held = |r: usize| common(&docs[2].shingles, &docs[r].shingles).0;
    assert_eq!(held(1), held(0) + 1);
    assert_eq!(level.rep_of, [None, None, Some(0)]);
    assert_eq!(level.dropped, [false, false, true]);
}

#[test]
fn a_copy_cut_to_a_small_part_of_its_source_is_found() {
    // The first 30 words of an 800-word story (Jaccard 0.03: the band
    // keys, tuned for a copy cut to half, propose it 1% of the time):
    // the keys of its beginning meet, and it adds nothing new.
    let config = Config::default();
    let story = text(1, 800);
    let words: Vec<&str> = story.split(' ').collect();
    let cut = words[..30].join(" ");
    let (level, docs) = three(&[&story, &text(2, 300), &cut], &[800, 300, 30], &config);
    let bands = banding(&config).bands;
    assert_eq!(docs[0].keys.len(), bands + HEAD_BANDS + 1);
    let same = |range: std::ops::Range<usize>| {
        range
            .filter(|&t| docs[0].keys[t] == docs[2].keys[t])
            .count()
    };
    assert_eq!(same(0..bands), 0);
    assert!(same(bands..bands + HEAD_BANDS) > 0);
    assert_eq!(level.rep_of, [None, None, Some(0)]);
    assert_eq!(level.dropped, [false, false, true]);
}

#[test]
fn pieces_from_all_over_a_longer_text_are_not_its_copy() {
    // A short text made of the beginning of a long one and two pieces
    // from its middle and end (as a short license shares clauses with a
    // long one): 87% of it is in the long one, but not as its beginning.
    let config = Config::default();
    let long = text(1, 600);
    let words: Vec<&str> = long.split(' ').collect();
    let pieces = [&words[..20], &words[300..320], &words[500..520]].map(|p| p.join(" "));
    let short = pieces.join(" ");
    let start = words[..60].join(" ");
    let (level, docs) = three(&[&long, &short, &start], &[600, 60, 60], &config);
    assert!(similarity(&docs[1].shingles, &docs[0].shingles, Measure::Containment) > 0.85);
    assert_eq!(level.rep_of, [None, None, Some(0)]);
    assert_eq!(level.dropped, [false, false, true]);
}

#[test]
fn keep_longest_keeps_a_later_document_that_holds_the_first() {
    let config = Config {
        keep: Keep::Longest,
        ..Config::default()
    };
    let cands = Candidates::new(&config);
    let sketch_all = |texts: [&str; 3]| -> Vec<DocSketch> {
        texts.iter().map(|t| doc(t, &cands, &config)).collect()
    };
    let short = text(1, 100);
    let long = format!("{short} {}", text(2, 200));
    let docs = sketch_all([&short, &text(3, 200), &long]);
    let sizes = [100, 200, 300];
    let level = cluster(&docs, &cands, &config, &sizes, &[None, None, None]);
    // The long one holds the short one whole: it is kept in its place.
    assert_eq!(level.clusters.len(), 1);
    assert_eq!(level.clusters[0].kept, 2);
    assert_eq!(level.dropped, [true, false, false]);
    // Under --keep first nothing is dropped: the long one adds text.
    let first = Config {
        keep: Keep::First,
        ..Config::default()
    };
    let level = cluster(&docs, &cands, &first, &sizes, &[None, None, None]);
    assert_eq!(level.dropped, [false, false, false]);
    // --keep fullest keeps the long one too.
    let fullest = Config {
        keep: Keep::Fullest,
        ..Config::default()
    };
    let level = cluster(&docs, &cands, &fullest, &sizes, &[None, None, None]);
    assert_eq!(level.clusters[0].kept, 2);
    assert_eq!(level.dropped, [true, false, false]);
    // A member is never dropped for a longest one that lacks most of its
    // text: `a` and `b` each hold 60% of the first, little of each other.
    let r = text(4, 100);
    let r_words: Vec<&str> = r.split(' ').collect();
    let a = format!("{} {}", r_words[..60].join(" "), text(5, 30));
    let b = format!("{} {}", r_words[40..].join(" "), text(6, 60));
    let docs = sketch_all([&r, &a, &b]);
    let sizes = [100, 90, 120];
    let level = cluster(&docs, &cands, &config, &sizes, &[None, None, None]);
    // `b` holds the first but the first lacks most of `b`: it leaves
    // the cluster and is kept; `a` goes, held by the first.
    assert_eq!(level.clusters.len(), 1);
    assert_eq!(level.clusters[0].kept, 0);
    assert_eq!(level.dropped, [false, true, false]);
}

#[test]
fn a_longer_document_is_never_dropped_for_holding_a_shorter_one() {
    let short = text(1, 100);
    let long = format!("{short} {}", text(2, 300));
    let first = Config {
        keep: Keep::First,
        ..Config::default()
    };
    let (level, _) = three(&[&short, &long, &short], &[100, 400, 100], &first);
    // The long one adds text: kept. The second short copy adds nothing.
    assert_eq!(level.dropped, [false, false, true]);
    // Under --keep fullest the long one, which holds the first, replaces it
    // as the kept copy: both short ones add nothing to it.
    let fullest = Config {
        keep: Keep::Fullest,
        ..Config::default()
    };
    let (level, _) = three(&[&short, &long, &short], &[100, 400, 100], &fullest);
    assert_eq!(level.clusters.len(), 1);
    assert_eq!(level.clusters[0].kept, 1);
    assert_eq!(level.dropped, [true, false, true]);
}

#[test]
fn a_document_over_twice_as_long_needs_most_of_its_text_in_the_kept_one() {
    // A later text that restates the first one and adds nearly as much
    // again (a license's later version with a new grant): 55% of its
    // distinct shingles are the first one's, enough at the default
    // threshold, but it is 2.7 times as long.
    let config = Config::default();
    let cands = Candidates::new(&config);
    let first = text(1, 100);
    let restated = format!("{first} {first} {}", text(2, 70));
    let share = |t: &str| {
        let (a, b) = (doc(t, &cands, &config), doc(&first, &cands, &config));
        similarity(&a.shingles, &b.shingles, Measure::Containment)
    };
    assert!((config.threshold..MIN_OWN_SHARE).contains(&share(&restated)));
    let (level, _) = three(&[&first, &restated, &first], &[100, 270, 100], &config);
    assert_eq!(level.dropped, [false, false, true]);
    // At half its length or more the first one stands for it.
    let (level, _) = three(&[&first, &restated, &first], &[140, 270, 100], &config);
    assert_eq!(level.dropped, [false, true, true]);
    // A doubled copy with a short footer is over twice as long, but most of
    // it is the first one's text: a copy.
    let doubled = format!("{first} {first} {}", text(3, 20));
    assert!(share(&doubled) >= MIN_OWN_SHARE);
    let (level, _) = three(&[&first, &doubled, &first], &[100, 220, 100], &config);
    assert_eq!(level.dropped, [false, true, true]);
}

#[test]
fn a_later_document_that_shares_only_a_long_footer_does_not_replace_the_first() {
    // A story carrying a long license, then a short note of its own with the
    // same license: half the story's shingles are the license, all in the
    // note, but the story's beginning is not, so the note does not hold it.
    let license = text(7, 90);
    let story = format!("{} {license}", text(8, 90));
    let note = format!("{} {license}", text(9, 30));
    let fullest = Config {
        keep: Keep::Fullest,
        ..Config::default()
    };
    let (level, _) = three(&[&story, &note, &text(10, 50)], &[180, 120, 50], &fullest);
    assert_eq!(level.dropped, [false, false, false]);
    assert!(level.clusters.is_empty());
}

/// Random positioned sets of 0 to `most` shingles drawn from a pool of
/// `pool` hashes (so that two share some), from `seed`.
pub(super) fn random_sets(seed: u64, pool: usize, most: u64) -> impl FnMut() -> Vec<u64> {
    let mut next = crate::test_numbers(seed);
    let pool: Vec<u64> = (0..pool).map(|_| (next() << 17) ^ next()).collect();
    move || {
        let n = next() % (most + 1);
        positioned_set(
            (0..n)
                .map(|_| pool[usize::try_from(next()).unwrap() % pool.len()])
                .collect(),
        )
    }
}

#[test]
fn a_walk_that_stops_early_agrees_with_the_whole_walk() {
    // Random positioned sets of 0 to 60 shingles drawn from a small pool (so
    // that they share some), compared at every `need` from 0 to past their
    // sizes: the bounded walk gives `common` exactly when at least `need`
    // are common, and nothing otherwise.
    let mut set = random_sets(3, 90, 60);
    for _ in 0..300 {
        let (a, b) = (set(), set());
        let whole = common(&a, &b);
        for need in 0..=a.len().max(b.len()) + 1 {
            let bounded = common_at_least(&a, &b, need);
            assert_eq!(bounded, (whole.0 >= need).then_some(whole), "{need}");
        }
    }
}

#[test]
fn the_fewest_shared_shingles_meet_the_share_as_the_ratio_does() {
    for n in 0..200 {
        for share in [0.0, 0.1, 0.25, 0.3, 0.5, 0.6, 0.7, 0.8, 0.95, 1.0, 1.5] {
            let k = least_shared(n, share);
            let passes = |k: usize| k as f64 / n as f64 >= share;
            assert!(k <= n + 1);
            if k <= n {
                assert!(passes(k), "{n} {share} {k}");
            }
            assert!((0..k.min(n + 1)).all(|j| !passes(j)), "{n} {share} {k}");
        }
    }
    assert_eq!(least_shared(10, f64::NAN), 0);
}

#[test]
fn a_single_shingles_sketch_has_its_full_sketchs_first_key() {
    // A one-line record's key is made without its signature: the first key
    // of the whole sketch, which indexes written before hold for it.
    for seed in [0, 42, u64::MAX] {
        let config = Config {
            seed,
            ..Config::default()
        };
        let c = Candidates::new(&config);
        for shingle in [0, 1, 0x8000_0000_0000_0000, 0x1234_5678_9abc_def0, u64::MAX] {
            let full = c.sketch(vec![shingle], seed);
            let single = c.sketch_single(shingle, seed);
            assert_eq!(single.shingles, full.shingles);
            assert_eq!(single.keys, full.keys[..1], "{shingle:x} seed {seed}");
        }
    }
}

#[test]
fn documents_sharing_no_shingle_are_left_out_of_the_search_and_the_pairs_stay() {
    let config = Config::default();
    let cands = Candidates::new(&config);
    let long = format!("{} x1 x2 x3 x4 x5 {}", text(1, 30), text(2, 30));
    let texts = [
        "a b c d e f",                   // 0: shares "a b c d e" with 1
        "a b c d e g",                   // 1
        "p q r s t u",                   // 2: its own words
        "k1 k2 x1 x2 x3 x4 x5",          // 3: "x1 .. x5" is in the long one
        long.as_str(),                   // 4: more than FEW shingles
        "m n o p2 q2 r2 s2",             // 5: an exact copy's original
        "m n o p2 q2 r2 s2",             // 6: that copy (keys_of)
        "v1 v2 v3 v4 v5 v6 v7 v8 v9 v0", // 7: its own words
    ];
    let docs: Vec<DocSketch> = texts.iter().map(|t| doc(t, &cands, &config)).collect();
    let keys_of = [0, 1, 2, 3, 4, 5, 5, 7];
    let alone = few::alone_in_run(&docs, &keys_of, &cands);
    assert_eq!(
        alone,
        [false, false, true, false, false, false, false, true]
    );
    // The candidate pairs without the lonely documents' keys are those of
    // every document's.
    let pairs = |leave_out: bool| {
        let keys: Vec<&[u64]> = (0..docs.len())
            .map(|d| {
                let own = keys_of[d];
                if leave_out && alone[own] {
                    &[][..]
                } else {
                    docs[own].keys.as_slice()
                }
            })
            .collect();
        let mut p =
            candidate_pairs_after(&keys, cands.tables(), 0, (None, None, &[]), None).unwrap();
        p.sort_unstable();
        p
    };
    assert_eq!(pairs(true), pairs(false));
    assert!(pairs(true).contains(&(0, 1)) && pairs(true).contains(&(5, 6)));
    // SimHash keys are no shingle's: nothing is left out.
    let simhash = Config {
        method: Method::Simhash,
        ..Config::default()
    };
    let cands = Candidates::new(&simhash);
    let docs: Vec<DocSketch> = texts.iter().map(|t| doc(t, &cands, &simhash)).collect();
    assert!(!few::alone_in_run(&docs, &keys_of, &cands).contains(&true));
}

#[test]
fn head_keys_take_each_slots_minimum_over_the_first_shingles() {
    let config = Config::default();
    let cands = Candidates::new(&config);
    assert!(matches!(cands, Candidates::Minhash { head: true, .. }));
    let seed = config.seed;
    for n in [0u64, 1, 2, 5, 15, 16, 17, 40, 300] {
        // Hashes with the head bit set on some, as sketches hold them.
        let shingles: Vec<u64> = (0..n).map(|i| crate::sketch::mix(i * 31 + n)).collect();
        let start = &shingles[..shingles.len().min(HEAD_SHINGLES)];
        // Slot by slot, as the keys are defined.
        let mut want = Vec::new();
        if !start.is_empty() {
            let signature: Vec<u64> = (0..HEAD_BANDS * HEAD_ROWS)
                .map(|slot| {
                    let salt = crate::sketch::mix(seed ^ HEAD_SALT.wrapping_mul(slot as u64 + 1));
                    start
                        .iter()
                        .map(|&s| crate::sketch::mix((s & !MARK) ^ salt))
                        .min()
                        .unwrap()
                })
                .collect();
            Banding {
                bands: HEAD_BANDS,
                rows: HEAD_ROWS,
            }
            .keys(&signature, seed ^ HEAD_SALT, &mut want);
        }
        let mut got = Vec::new();
        cands.head_keys(start, seed, &mut got);
        assert_eq!(got, want, "{n} shingles");
        // The keys without the set: the band keys, then these, then the
        // tail key.
        let only = cands.keys_only(shingles.iter().copied(), seed).keys;
        assert_eq!(only, cands.sketch(shingles.clone(), seed).keys, "{n}");
        let head_end = only.len().saturating_sub(1);
        assert_eq!(only[head_end - want.len()..head_end], want[..], "{n}");
        assert_eq!(only.len(), if n == 0 { 0 } else { cands.tables() }, "{n}");
    }
}

#[test]
fn a_copy_joins_the_representative_most_like_it_not_a_longer_one_holding_it() {
    // A text (B, with three words of its own), then a longer one that holds
    // all of the copy's text and adds more than as much again (A: a
    // license's variant with clauses of its own, not B's copy), then the
    // copy (D). D passes both; A holds every shingle of it, B all but a
    // few, yet D is B's copy, not A's: it joins B.
    let config = Config::default();
    let copy = text(1, 100);
    let words: Vec<&str> = copy.split(' ').collect();
    let own = format!(
        "{} x1 x2 x3 {}",
        words[..50].join(" "),
        words[53..].join(" ")
    );
    let longer = format!("{copy} {}", text(2, 130));
    let (level, docs) = three(&[&own, &longer, &copy], &[100, 230, 100], &config);
    assert_eq!(level.dropped, [false, false, true]);
    let held = |r: usize| similarity(&docs[2].shingles, &docs[r].shingles, Measure::Containment);
    assert!(held(1) > held(0), "the longer text holds more of the copy");
    assert_eq!(level.rep_of[2], Some(0));
}

/// Shingle sets that each hold most of one pool, as license texts share
/// their clauses: every set holds much of every other.
fn pooled_sets(n: usize) -> Vec<Vec<u64>> {
    let pool: Vec<u64> = (0..400u64)
        .map(|i| xxhash_rust::xxh3::xxh3_64(&i.to_le_bytes()))
        .collect();
    (0..n)
        .map(|k| {
            positioned_set(
                pool.iter()
                    .enumerate()
                    .filter(|&(i, _)| {
                        let key = [i.to_le_bytes(), k.to_le_bytes()].concat();
                        xxhash_rust::xxh3::xxh3_64(&key) % 10 < 6
                    })
                    .map(|(_, &h)| h)
                    .collect(),
            )
        })
        .collect()
}

#[test]
fn the_holders_read_from_every_set_sorted_are_those_of_one_walk_a_set() {
    let sets = pooled_sets(12);
    let refs: Vec<&[u64]> = sets.iter().map(Vec::as_slice).collect();
    let all = every_shingle(&refs);
    for i in 0..refs.len() {
        let mut others = refs[..i].to_vec();
        others.extend_from_slice(&refs[i + 1..]);
        let walked = holders(refs[i], &others);
        assert!(walked.iter().any(|&n| n >= 2), "the sets share shingles");
        assert_eq!(others_holding(refs[i], &all), walked);
    }
}

#[test]
fn what_one_document_learnt_of_who_quotes_whom_is_true_for_the_next() {
    // A short text, a long one quoting it whole, one of its own. Which
    // representatives quote the short one depends on the two alone, so it
    // is remembered from one document's candidates to the next's, by pair.
    let config = Config::default();
    let cands = Candidates::new(&config);
    let short = text(1, 60);
    let texts = [
        short.clone(),
        format!("{} {short} {}", text(2, 150), text(3, 150)),
        text(4, 200),
    ];
    let docs: Vec<DocSketch> = texts.iter().map(|t| doc(t, &cands, &config)).collect();
    let set = |i: usize| docs[i].shingles.as_slice();
    let quotes = Quotes::default();
    let share = own_share(&config);
    for _ in 0..2 {
        let all = quoters((&[0, 1, 2], &[set(0), set(1), set(2)]), 0, share, &quotes);
        assert_eq!(all, [1]);
        assert!(quoters((&[0, 2], &[set(0), set(2)]), 0, share, &quotes).is_empty());
        assert_eq!(
            quoters((&[0, 1], &[set(0), set(1)]), 0, share, &quotes),
            [1]
        );
        // Ids are the documents', wherever they stand among the candidates.
        assert_eq!(
            quoters((&[2, 0, 1], &[set(2), set(0), set(1)]), 1, share, &quotes),
            [2]
        );
    }
}

/// `len` words of their own for `seed`: no two seeds share a word.
fn own(seed: usize, len: usize) -> String {
    (0..len)
        .map(|i| format!("o{seed}x{i}"))
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn pages_of_one_site_sharing_only_their_template_are_not_copies() {
    let config = Config::default();
    // A navigation line and a footer around each page's own 180 words: the
    // template is 62% of a page, and page 1 has 62% of its shingles in page
    // 0, which nothing before them says is a template.
    let (nav, footer) = (own(1, 100), own(2, 200));
    let page = |body: &str| format!("{nav} {body} {footer}");
    let (p0, p1) = (page(&own(10, 180)), page(&own(11, 180)));
    // Page 0's story on another site, in that site's frame: a copy.
    let elsewhere = format!("{} {} {}", own(20, 40), own(10, 180), own(21, 60));
    let (level, docs) = three(&[&p0, &p1, &elsewhere], &[3000, 3000, 2000], &config);
    assert!(similarity(&docs[1].shingles, &docs[0].shingles, Measure::Containment) > 0.6);
    assert_eq!(level.rep_of, [None, None, Some(0)]);
    assert_eq!(level.dropped, [false, false, true]);
}

#[test]
fn a_copy_with_a_paragraph_inserted_or_replaced_is_still_a_copy() {
    let config = Config::default();
    let story: Vec<String> = (0..6).map(|p| own(30 + p, 60)).collect();
    let source = story.join(" ");
    // A long paragraph of its own inserted: a middle of the copy alone.
    let mut inserted = story.clone();
    inserted.insert(3, own(40, 80));
    // A short paragraph replaced: a middle of each, under 50 shingles.
    let mut replaced = story.clone();
    replaced[3] = own(41, 30);
    let (level, docs) = three(
        &[&source, &inserted.join(" "), &replaced.join(" ")],
        &[2500, 3000, 2300],
        &config,
    );
    let found = places::shared_at_least(&docs[2].shingles, &docs[0].shingles, 0).unwrap();
    assert!(!framed(&docs[2].shingles, &docs[0].shingles, &found));
    assert_eq!(level.rep_of, [None, Some(0), Some(0)]);
}
