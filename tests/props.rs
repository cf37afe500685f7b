//! Property tests of the library: spans tile the input, normalization is
//! idempotent, and the answer does not depend on the thread count.

use neardup::config::BlockMode;
use neardup::normalize::normalize;
use neardup::segment::segment;
use neardup::{Config, Corpus};
use proptest::prelude::*;

fn text_strategy() -> impl Strategy<Value = String> {
    // Lines of words, blank lines, CR, CRLF, tabs and non-ASCII, mixed.
    proptest::collection::vec(
        prop_oneof![
            Just("\n".to_owned()),
            Just("\r\n".to_owned()),
            Just("\r".to_owned()),
            Just(" \t".to_owned()),
            Just("\u{2014}\u{201C}".to_owned()),
            "[a-c ]{0,12}",
            "\\PC{0,6}",
        ],
        0..40,
    )
    .prop_map(|parts| parts.concat())
}

proptest! {
    #[test]
    fn spans_tile_the_input(text in text_strategy()) {
        for mode in [BlockMode::Auto, BlockMode::Lines, BlockMode::Paragraphs] {
            let blocks = segment(&text, mode);
            let mut at = 0;
            for b in &blocks {
                prop_assert_eq!(b.span.start, at);
                prop_assert!(b.span.end > b.span.start);
                prop_assert!(b.content.start >= b.span.start && b.content.end <= b.span.end);
                prop_assert!(b.first_line <= b.last_line);
                at = b.span.end;
            }
            prop_assert_eq!(at, text.len());
            let joined: String = blocks.iter().map(|b| &text[b.span.clone()]).collect();
            prop_assert_eq!(&joined, &text);
        }
    }

    #[test]
    fn normalize_is_idempotent(text in "\\PC{0,40}") {
        let once = normalize(&text);
        prop_assert_eq!(normalize(&once), once);
    }

    #[test]
    fn bracketed_notes_normalize_once_and_hash_alike_in_place(
        text in "[ab1 .\\[\\]\n\r\u{A0}\u{FF3B}\u{FF3D}\u{E9}\u{2026}\u{3371}]{0,24}"
    ) {
        let once = normalize(&text);
        prop_assert_eq!(normalize(&once), once.clone());
        let mut in_place = Vec::new();
        neardup::shingle::hash_text_words(&text, 9, &mut in_place);
        let mut normalized = Vec::new();
        neardup::shingle::hash_words(&once, 9, &mut normalized);
        prop_assert_eq!(in_place, normalized);
    }

    #[test]
    fn words_hashed_in_place_equal_normalized_words(
        parts in proptest::collection::vec(prop_oneof![
            "[a-zA-Z0-9 .,;-]{0,12}",
            Just("\u{00A0}".to_owned()), Just("\u{201C}".to_owned()),
            Just("\u{2019}".to_owned()), Just("\u{2014}".to_owned()),
            Just("\u{2026}".to_owned()), Just("\u{00BB}".to_owned()),
            Just("\u{0301}".to_owned()), Just("\u{FB01}".to_owned()),
            Just("\u{2033}".to_owned()), Just("\u{00E9}".to_owned()),
            "\\PC{0,3}",
        ], 0..24)
    ) {
        let text = parts.concat();
        let mut in_place = Vec::new();
        neardup::shingle::hash_text_words(&text, 9, &mut in_place);
        let mut normalized = Vec::new();
        neardup::shingle::hash_words(&normalize(&text), 9, &mut normalized);
        prop_assert_eq!(in_place, normalized);
    }

    #[test]
    fn json_strings_unescape_to_what_was_escaped(text in "\\PC{0,40}|[\"\\\\/\n\t\r\u{8}\u{c}\u{0}-\u{1f}a\u{e9}\u{1F600}]{0,20}") {
        let raw = serde_json::to_string(&text).unwrap();
        prop_assert_eq!(neardup::jsonl::decoded_len(&raw), Some(text.len()));
        prop_assert_eq!(neardup::jsonl::unescape(&raw), text);
    }

    #[test]
    fn same_answer_at_any_thread_count(
        docs in proptest::collection::vec(
            proptest::collection::vec(0usize..6, 1..8), 1..6)
    ) {
        // Documents built from a small pool of paragraphs repeat each other a lot.
        let pool = [
            "the council approved the budget after a long debate on tuesday night",
            "rain is expected across the region for the rest of the week forecasters said",
            "the council approved the budget after a long debate on monday night",
            "Advertisement",
            "shares rose sharply in early trading as investors welcomed the news",
            "the team won its third straight game with a late goal in extra time",
        ];
        let texts: Vec<(String, String)> = docs
            .iter()
            .enumerate()
            .map(|(i, ids)| {
                let body: Vec<&str> = ids.iter().map(|&j| pool[j]).collect();
                (format!("d{i}"), body.join("\n\n"))
            })
            .collect();
        let corpus = Corpus::from_texts(texts.clone());
        let config = Config::default();
        let one = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
        let four = rayon::ThreadPoolBuilder::new().num_threads(4).build().unwrap();
        let a = one.install(|| neardup::analyze(&corpus, &config));
        let b = four.install(|| neardup::analyze(&corpus, &config));
        prop_assert_eq!(&a.dropped, &b.dropped);
        prop_assert_eq!(&a.decisions, &b.decisions);
        // Cleaning never adds bytes and keeps the first copy of every paragraph.
        for (doc, (_, text)) in texts.iter().enumerate() {
            let cleaned = neardup::output::cleaned_text(text, &a, doc);
            prop_assert!(cleaned.len() <= text.len());
        }
        let mut seen = std::collections::BTreeSet::new();
        for (doc, (_, text)) in texts.iter().enumerate() {
            for block in neardup::segment::segment(text, BlockMode::Auto) {
                seen.insert(normalize(&text[block.content.clone()]));
            }
            let _ = doc;
        }
        let mut kept = std::collections::BTreeSet::new();
        for (doc, (_, text)) in texts.iter().enumerate() {
            let cleaned = neardup::output::cleaned_text(text, &a, doc);
            for block in neardup::segment::segment(&cleaned, BlockMode::Paragraphs) {
                kept.insert(normalize(&cleaned[block.content.clone()]));
            }
        }
        // Exact copies vanish, near copies may too, but nothing is lost that had
        // no copy: every paragraph is kept at least once or has a near copy kept.
        for paragraph in &seen {
            let near = pool.iter().map(|p| normalize(p)).filter(|p| p != paragraph);
            prop_assert!(kept.contains(paragraph) || near.into_iter().any(|p| kept.contains(&p)),
                "{} lost", paragraph);
        }
    }
}

/// JSON Lines-ish text from fragments that reach the reader's corners: escapes,
/// nested objects, wrong types, CRLF, blank lines, truncated records.
fn jsonl_strategy() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(
        prop_oneof![
            Just(b"{\"text\":\"".to_vec()),
            Just(b"\"}\n".to_vec()),
            Just(b"\"}\r\n".to_vec()),
            Just(
                b"{\"id\":1,\"meta\":{\"text\":[1,{}]},\"text\":\"a\\nb\\\"c\\u00e9\"}\n".to_vec()
            ),
            Just(b"{\"text\":3}\n".to_vec()),
            Just(b"\n\n".to_vec()),
            Just(b"\\ud800".to_vec()),
            Just(b"\xff\xfe".to_vec()),
            Just(b"\x00".to_vec()),
            "[a-z \\n]{0,20}".prop_map(String::into_bytes),
        ],
        0..20,
    )
    .prop_map(|parts| parts.concat())
}

/// Loads `bytes` as a file named `name` the way the binary would, and checks
/// that whatever loads tiles into blocks, analyzes and writes without panicking.
fn load_and_run(
    name: &str,
    bytes: &[u8],
    on_error: neardup::config::OnError,
) -> Result<(), TestCaseError> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).unwrap();
    let config = Config {
        on_error,
        ..Config::default()
    };
    let (inputs, errors) = neardup::input::expand(&[path], &[]);
    prop_assert!(errors.is_empty());
    let Ok(corpus) = Corpus::load(inputs, &config) else {
        return Ok(());
    };
    let analysis = neardup::analyze(&corpus, &config);
    for (doc, d) in corpus.documents.iter().enumerate() {
        let text: &str = &corpus.text(d);
        let mut at = 0;
        for block in &analysis.blocks[doc] {
            prop_assert_eq!(block.span.start, at);
            at = block.span.end;
        }
        prop_assert_eq!(at, text.len());
    }
    for (source, _) in corpus.sources.iter().enumerate() {
        let docs: Vec<usize> = (0..corpus.documents.len())
            .filter(|&d| corpus.documents[d].source == source)
            .collect();
        let range = docs.first().copied().unwrap_or(0)..docs.last().map_or(0, |d| d + 1);
        let mut out = Vec::new();
        neardup::output::write_source(&corpus, &analysis, source, range, false, &mut out).unwrap();
        // A text file (UTF-8 or not) is written back as its own bytes:
        // the kept spans of the file, nothing replaced.
        if corpus.sources[source].format == neardup::Format::Text {
            let data: &[u8] = &corpus.sources[source].data;
            let kept: Vec<u8> = docs
                .iter()
                .flat_map(|&d| neardup::output::kept_spans(&analysis, d))
                .flat_map(|span| data[span].to_vec())
                .collect();
            prop_assert_eq!(out, kept);
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn arbitrary_bytes_never_panic_as_text(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        load_and_run("input.txt", &bytes, neardup::config::OnError::Fail)?;
    }

    #[test]
    fn arbitrary_jsonl_never_panics(bytes in jsonl_strategy()) {
        load_and_run("input.jsonl", &bytes, neardup::config::OnError::Fail)?;
        load_and_run("input.jsonl", &bytes, neardup::config::OnError::Skip)?;
    }

    #[test]
    fn arbitrary_bytes_never_panic_as_compressed(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let mut gz = vec![0x1F, 0x8B];
        gz.extend_from_slice(&bytes);
        load_and_run("input.jsonl.gz", &gz, neardup::config::OnError::Fail)?;
        let mut zst = vec![0x28, 0xB5, 0x2F, 0xFD];
        zst.extend_from_slice(&bytes);
        load_and_run("input.txt.zst", &zst, neardup::config::OnError::Fail)?;
    }
}

/// Whether a streamed read under `--on-error skip` passed over an input for
/// what a whole load skipped it for: the same error, or a problem before the
/// point where a compressed stream was cut short (a whole load skips the
/// input for the cut: it decompresses first).
fn same_failure(whole: &str, streamed: &str) -> bool {
    let file = whole.split(": ").next().unwrap_or(whole);
    whole == streamed
        || (whole.contains(": truncated or corrupt ") && streamed.starts_with(&format!("{file}:")))
}

/// Each document's id, line and text, in input order.
fn listed(corpus: &Corpus) -> Vec<(String, Option<usize>, String)> {
    corpus
        .documents
        .iter()
        .map(|d| {
            (
                corpus.id(d).into_owned(),
                d.record.as_ref().map(neardup::input::Record::line),
                corpus.text(d).into_owned(),
            )
        })
        .collect()
}

/// Several inputs (one compressed, one text) read a piece of any size at a
/// time, mapped or not: the documents, their texts (also as the report reads
/// them back) and the sources' bytes are a whole load's.
#[test]
fn pieces_of_any_size_give_the_documents_a_whole_load_gives() {
    use std::fmt::Write as _;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mut jsonl = String::new();
    for i in 0..40 {
        // Escapes, CRLF and lone CR line ends, blank lines, long and
        // short records, ids that are and are not plain strings.
        let id = if i % 3 == 0 {
            format!("{i}")
        } else {
            format!("\"doc-{i}\"")
        };
        let text = format!(
            "record {i}: {}\\n\\u00e9t\\u00e9 \\\"quoted\\\"",
            "word ".repeat(i * 7)
        );
        write!(jsonl, "{{\"id\":{id},\"text\":\"{text}\"}}").unwrap();
        jsonl += ["\n", "\r\n", "\n\n", "\n  \n"][i % 4];
    }
    jsonl += "{\"id\":\"last\",\"text\":\"no line end after me\"}";
    std::fs::write(d.join("a.jsonl"), &jsonl).unwrap();
    std::fs::write(
        d.join("b.jsonl.zst"),
        zstd::encode_all(jsonl.as_bytes(), 3).unwrap(),
    )
    .unwrap();
    std::fs::write(d.join("c.txt"), "a text file\n\nwith two paragraphs\n").unwrap();
    let inputs: Vec<neardup::input::InputPath> = ["a.jsonl", "b.jsonl.zst", "c.txt"]
        .iter()
        .map(|name| neardup::input::InputPath {
            path: d.join(name),
            relative: std::path::PathBuf::from(name),
            reader: None,
        })
        .collect();
    let whole = Corpus::load(inputs.clone(), &Config::default()).unwrap();
    let expected = listed(&whole);
    assert_eq!(expected.len(), 83);
    for mmap in [true, false] {
        let config = Config {
            mmap,
            ..Config::default()
        };
        for piece in [3, 64, 1000, neardup::stream::PIECE] {
            for chunk_bytes in [1, 300, usize::MAX] {
                let mut stream =
                    neardup::stream::Stream::new(inputs.clone(), &config, piece, d.join("spool"));
                let mut got = Vec::new();
                let mut next = 0;
                while let Some(chunk) = stream.next_chunk(chunk_bytes).unwrap() {
                    assert_eq!(chunk.first, next);
                    let listed = listed(&chunk.corpus);
                    for (i, (_, _, text)) in listed.iter().enumerate() {
                        assert_eq!(
                            &neardup::input::Texts::text_of(stream.seen(), next + i),
                            text
                        );
                    }
                    next += listed.len();
                    got.extend(listed);
                }
                assert_eq!(got, expected, "piece {piece}, chunks of {chunk_bytes}");
                let seen = stream.into_seen();
                assert_eq!(seen.sources.len(), 3);
                for (a, b) in seen.sources.iter().zip(&whole.sources) {
                    assert_eq!(&a.data[..], &b.data[..]);
                }
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// A chunked run's reader (pieces of any size, spooled through an unnamed
    /// file, compressed or not, whole or cut short) finds the documents a
    /// whole load finds, or fails with its message; and never panics.
    #[test]
    fn streamed_reading_finds_what_a_whole_load_finds(
        bytes in jsonl_strategy(),
        piece in 1usize..64,
        chunk in 1usize..200,
        compressed in any::<bool>(),
        cut in any::<Option<proptest::sample::Index>>(),
        skip in any::<bool>(),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let name = if compressed { "input.jsonl.zst" } else { "input.jsonl" };
        let path = dir.path().join(name);
        let mut stored = if compressed {
            zstd::encode_all(&bytes[..], 3).unwrap()
        } else {
            bytes.clone()
        };
        // A compressed stream cut short, now and then.
        if let (true, Some(cut)) = (compressed, cut) {
            stored.truncate(cut.index(stored.len()));
        }
        std::fs::write(&path, stored).unwrap();
        let on_error = if skip {
            neardup::config::OnError::Skip
        } else {
            neardup::config::OnError::Fail
        };
        let whole_config = Config { on_error, ..Config::default() };
        // Not mapped: the plain file is streamed through a spool too.
        let config = Config {
            on_error,
            mmap: false,
            ..Config::default()
        };
        let (inputs, errors) = neardup::input::expand(&[path], &[]);
        prop_assert!(errors.is_empty());
        let whole = Corpus::load(inputs.clone(), &whole_config);
        let mut stream =
            neardup::stream::Stream::new(inputs, &config, piece, dir.path().join("spool"));
        let mut streamed = Vec::new();
        let outcome = loop {
            match stream.next_chunk(chunk) {
                Ok(Some(c)) => streamed.extend(listed(&c.corpus)),
                Ok(None) => break Ok(()),
                Err(e) => break Err(e.to_string()),
            }
        };
        match (whole, outcome) {
            (Ok(corpus), Ok(())) => {
                let skipped: Vec<String> =
                    stream.seen().skipped.iter().map(ToString::to_string).collect();
                let whole_skipped: Vec<String> =
                    corpus.skipped.iter().map(ToString::to_string).collect();
                // Under --on-error skip, an input that breaks part way keeps
                // its first records when streamed (and skips the bad ones
                // among them); a whole load skips it, for the same reason.
                if corpus.sources.is_empty() && !whole_skipped.is_empty() {
                    prop_assert!(skip);
                    let (whole, streamed) = (&whole_skipped[whole_skipped.len() - 1], skipped.last());
                    prop_assert!(streamed.is_some_and(|s| same_failure(whole, s)), "{} / {:?}", whole, streamed);
                } else {
                    prop_assert_eq!(listed(&corpus), streamed);
                    prop_assert_eq!(whole_skipped, skipped);
                }
            }
            (Err(errors), Err(message)) => {
                prop_assert!(!skip);
                let whole_message = errors[0].to_string();
                prop_assert_eq!(whole_message, message);
            }
            (whole, streamed) => {
                prop_assert!(false, "whole {:?}, streamed {:?}", whole.map(|c| c.documents.len()).map_err(|e| e[0].to_string()), streamed);
            }
        }
    }
}
