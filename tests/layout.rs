//! The source's shape, as the one-run-path issue asks it to stay: no import
//! circle among the top-level modules of `src/` (a `crate::x` mention in code
//! or in a doc link is an edge), no `.rs` file over 1,000 lines (in `src/`,
//! `tests/`, `benches/`, `python/src/` and `fuzz/`), and a `main.rs` that
//! only parses, plans, runs and exits (at most 400 lines).

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
}

/// The top-level module a file belongs to (`src/store/segment.rs` -> `store`);
/// `None` for the crate roots.
fn module_of(file: &Path) -> Option<String> {
    let relative = file.strip_prefix(src()).unwrap();
    let first = relative.components().next()?.as_os_str().to_str()?;
    let name = first.strip_suffix(".rs").unwrap_or(first);
    (name != "lib" && name != "main").then(|| name.to_string())
}

/// Every top-level module a text names as `crate::name`.
fn mentions(text: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for (at, _) in text.match_indices("crate::") {
        if text[..at].ends_with('$') {
            continue;
        }
        let name: String = text[at + "crate::".len()..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        if !name.is_empty() {
            found.insert(name);
        }
    }
    found
}

/// A circle in the graph, as the modules along it, if there is one.
fn circle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        done: &mut BTreeSet<String>,
        path: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        if let Some(start) = path.iter().position(|n| n == node) {
            let mut found = path[start..].to_vec();
            found.push(node.to_string());
            return Some(found);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_string());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(found) = visit(next, graph, done, path) {
                return Some(found);
            }
        }
        path.pop();
        done.insert(node.to_string());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|node| visit(node, graph, &mut done, &mut Vec::new()))
}

#[test]
fn no_import_circle_among_top_level_modules() {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in &files {
        let Some(module) = module_of(file) else {
            continue;
        };
        let text = fs::read_to_string(file).unwrap();
        let edges = graph.entry(module.clone()).or_default();
        edges.extend(mentions(&text).into_iter().filter(|m| *m != module));
    }
    assert!(graph.len() > 10, "too few modules found: {graph:?}");
    assert_eq!(
        circle(&graph),
        None,
        "an import circle among src/'s modules"
    );
}

#[test]
fn the_circle_finder_finds_circles() {
    let graph: BTreeMap<String, BTreeSet<String>> = [
        ("a", vec!["b"]),
        ("b", vec!["c"]),
        ("c", vec!["a"]),
        ("d", vec![]),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.into_iter().map(String::from).collect()))
    .collect();
    assert_eq!(
        circle(&graph),
        Some(
            vec!["a", "b", "c", "a"]
                .into_iter()
                .map(String::from)
                .collect()
        )
    );
    assert_eq!(
        mentions("use crate::x::Y; [z](crate::z) $crate::no"),
        ["x", "z"].into_iter().map(String::from).collect()
    );
}

#[test]
fn no_source_file_over_a_thousand_lines_and_main_is_short() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    // Each folder holds Rust files; fuzz/ is checked when there is one.
    for dir in ["src", "tests", "benches", "python/src", "fuzz"] {
        let before = files.len();
        if dir != "fuzz" || root.join(dir).is_dir() {
            rust_files(&root.join(dir), &mut files);
            assert!(files.len() > before, "no .rs file under {dir}/");
        }
    }
    for file in &files {
        let lines = fs::read_to_string(file).unwrap().lines().count();
        assert!(lines <= 1000, "{} has {lines} lines", file.display());
        if file.ends_with("main.rs") {
            assert!(lines <= 400, "main.rs has {lines} lines");
        }
    }
}
