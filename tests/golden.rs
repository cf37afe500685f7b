//! Golden cases: each directory of `tests/data` with a `paths` file is a case.
//!
//! - `paths`: the inputs, one per line, relative to the case directory
//! - `args` (optional): extra arguments, one per line
//! - `expected.report`: `neardup scan` output
//! - `expected.json`: `neardup scan --json` output
//! - `expected/`: the tree `neardup clean --out-dir` writes
//!
//! `UPDATE_GOLDEN=1 cargo test` rewrites the expected files; review the diff.

use crate::util::{assert_bytes_eq, data_dir, run, tempdir, tree};
use std::path::Path;

pub fn lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .map(|s| {
            s.lines()
                .map(str::to_owned)
                .filter(|l| !l.is_empty())
                .collect()
        })
        .unwrap_or_default()
}

/// The golden cases, sorted by name.
pub fn cases() -> Vec<std::path::PathBuf> {
    let mut cases: Vec<_> = std::fs::read_dir(data_dir())
        .expect("tests/data exists")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.join("paths").exists())
        .collect();
    cases.sort();
    cases
}

/// Runs scan, scan --json and clean --out-dir for one case with extra flags.
/// Scan report, JSON report and cleaned tree of one run.
pub type Outputs = (Vec<u8>, Vec<u8>, Vec<(String, Vec<u8>)>);

pub fn outputs(case: &Path, extra: &[&str]) -> Outputs {
    let mut args = lines(&case.join("args"));
    args.extend(extra.iter().map(|s| (*s).to_owned()));
    let inputs = lines(&case.join("paths"));
    let with = |cmd: &[&str]| -> Vec<String> {
        let mut v: Vec<String> = cmd.iter().map(|s| (*s).to_owned()).collect();
        v.extend(args.iter().cloned());
        v.extend(inputs.iter().cloned());
        v
    };
    let call = |v: Vec<String>| {
        let refs: Vec<&str> = v.iter().map(String::as_str).collect();
        let out = run(case, &refs);
        assert_eq!(out.code, 0, "{} {v:?}: {out:?}", case.display());
        out
    };
    let report = call(with(&["scan"])).stdout;
    let json = call(with(&["scan", "--json"])).stdout;
    let dir = tempdir();
    let out_dir = dir.path().join("out");
    let mut clean = with(&["clean", "--quiet", "--out-dir"]);
    clean.insert(3, out_dir.to_string_lossy().into_owned());
    call(clean);
    (report, json, tree(&out_dir))
}

#[test]
fn golden_cases() {
    let update = std::env::var_os("UPDATE_GOLDEN").is_some();
    let cases = cases();
    assert!(cases.len() >= 6, "golden cases are missing: {cases:?}");
    for case in cases {
        let (report, json, cleaned) = outputs(&case, &[]);
        let expected_dir = case.join("expected");
        if update {
            std::fs::write(case.join("expected.report"), &report).unwrap();
            std::fs::write(case.join("expected.json"), &json).unwrap();
            let _ = std::fs::remove_dir_all(&expected_dir);
            for (rel, bytes) in &cleaned {
                let path = expected_dir.join(rel);
                std::fs::create_dir_all(path.parent().unwrap()).unwrap();
                std::fs::write(path, bytes).unwrap();
            }
            continue;
        }
        let name = case.file_name().unwrap().to_string_lossy().into_owned();
        let read = |f: &str| std::fs::read(case.join(f)).unwrap_or_default();
        assert_bytes_eq(
            &report,
            &read("expected.report"),
            &format!("{name}: report"),
        );
        assert_bytes_eq(
            &json,
            &read("expected.json"),
            &format!("{name}: JSON report"),
        );
        let expected = tree(&expected_dir);
        let names = |t: &[(String, Vec<u8>)]| t.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
        assert_eq!(names(&cleaned), names(&expected), "{name}: cleaned files");
        for ((file, actual), (_, wanted)) in cleaned.iter().zip(&expected) {
            assert_bytes_eq(actual, wanted, &format!("{name}: cleaned {file}"));
        }
    }
}

/// A run whose report goes nowhere but its line of totals counts only the
/// totals: they must be the whole report's, for every case, at each level
/// and with short repeats dropped.
#[test]
fn totals_alone_equal_the_whole_reports_totals() {
    use neardup::config::Level;
    use neardup::{Config, Corpus};
    // What the cases hold between them: runs, short repeats, dropped documents.
    let (mut runs, mut short, mut dropped) = (0, 0, 0);
    for case in cases() {
        let paths: Vec<std::path::PathBuf> = lines(&case.join("paths"))
            .iter()
            .map(|p| case.join(p))
            .collect();
        for (level, drop_short) in [
            (Level::Both, false),
            (Level::Blocks, true),
            (Level::Docs, false),
        ] {
            let config = Config {
                level,
                drop_short,
                ..Config::default()
            };
            let (inputs, errors) = neardup::input::expand(&paths, &[]);
            assert!(errors.is_empty(), "{}", case.display());
            let corpus = Corpus::load(inputs, &config).expect("the case loads");
            let analysis = neardup::analyze(&corpus, &config);
            let whole = neardup::report::build(&corpus, &analysis, &config, "clean");
            assert_eq!(
                neardup::report::summary(&corpus, &analysis),
                whole.summary,
                "{} at {level:?}",
                case.display()
            );
            runs += whole.summary.runs;
            short += whole.summary.short_repeats_kept;
            dropped += whole.summary.dropped_documents;
        }
    }
    assert!(
        runs > 0 && short > 0 && dropped > 0,
        "{runs} {short} {dropped}"
    );
}
