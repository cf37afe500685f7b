//! An index's lock: updates wait for each other, a killed one leaves a usable
//! index, and no run replaces, walks into or spins on a lock file.

use super::*;

/// Whether a temporary index file with some bytes in it is in `dir`.
fn writing_index(dir: &Path) -> bool {
    std::fs::read_dir(dir).unwrap().any(|e| {
        let e = e.unwrap();
        e.file_name()
            .to_string_lossy()
            .starts_with(".neardup-index-")
            && e.metadata().is_ok_and(|m| m.len() > 0)
    })
}

#[test]
fn a_killed_update_leaves_a_usable_index() {
    let (dir, names) = batches_dir();
    let d = dir.path();
    build(d, "idx", &names[0]);
    let mut big = String::new();
    for i in 0..20_000 {
        let _ = writeln!(
            big,
            "{{\"id\":\"n{i}\",\"text\":\"row {i} alpha {} beta {} gamma {i} delta and some more words {}\"}}",
            i * 7,
            i % 13,
            i * 31
        );
    }
    std::fs::write(d.join("big.jsonl"), &big).unwrap();
    let original = std::fs::read(d.join("idx")).unwrap();
    // Killed early, and killed while the new index is being written (as soon
    // as its temporary file has bytes in it).
    for while_writing in [false, true] {
        std::fs::write(d.join("idx"), &original).unwrap();
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_neardup"))
            .args([
                "check",
                "-q",
                "--exit-zero",
                "--index",
                "idx",
                "--update",
                "big.jsonl",
            ])
            .current_dir(d)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let mut finished = false;
        if while_writing {
            while !writing_index(d) {
                if child.try_wait().unwrap().is_some() {
                    finished = true;
                    break;
                }
                std::thread::sleep(std::time::Duration::from_micros(200));
            }
        } else {
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        let _ = child.kill();
        let _ = child.wait();
        let documents = stats(d, "idx")["documents"].as_u64().unwrap();
        if finished {
            // Too fast to catch: then the update is complete.
            assert_eq!(documents, 20_020);
        } else {
            assert_eq!(documents, 20, "killed while writing: {while_writing}");
            assert_eq!(std::fs::read(d.join("idx")).unwrap(), original);
        }
        check_idx(d, 0, "idx", &["--exit-zero", &names[1]]);
    }
    // A temporary file left by a killed run does not stand in the next one's way.
    expect(
        d,
        0,
        &[
            "check",
            "-q",
            "--exit-zero",
            "--index",
            "idx",
            "--update",
            "big.jsonl",
        ],
    );
    assert_eq!(stats(d, "idx")["documents"], 20_020);
}

#[test]
fn concurrent_updates_wait_for_each_other() {
    let (dir, names) = batches_dir();
    let d = dir.path();
    build(d, "idx", &names[0]);
    // Another run holds the index's lock.
    let lock = std::fs::File::create(d.join("idx.lock")).unwrap();
    lock.lock().unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_neardup"))
        .args([
            "check",
            "-q",
            "--exit-zero",
            "--index",
            "idx",
            "--update",
            &names[1],
        ])
        .current_dir(d)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(500));
    assert!(
        child.try_wait().unwrap().is_none(),
        "the update waits for the lock"
    );
    // Readers take no lock: they read the version they open.
    assert_eq!(stats(d, "idx")["documents"], 20);
    lock.unlock().unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("idx is locked by another neardup run; waiting for it to finish"),
        "{stderr}"
    );
    assert_eq!(stats(d, "idx")["documents"], 40);
}

#[test]
fn no_run_replaces_the_lock_file_of_an_index() {
    let (dir, names) = batches_dir();
    let d = dir.path();
    build(d, "s.ndx", &names[0]);
    build(d, "t.ndx", &names[1]);
    let before = crate::util::tree(d);
    let cases = [
        (
            "index merge s.ndx t.ndx -o s.ndx.lock",
            "s.ndx.lock (index merge -o) is the lock file of s.ndx",
        ),
        (
            "index merge s.ndx t.ndx -o t.ndx.lock",
            "t.ndx.lock (index merge -o) is the lock file of t.ndx",
        ),
        (
            "index build -o s.ndx.lock day2.jsonl",
            "s.ndx.lock (index build -o) is the lock file of s.ndx",
        ),
        (
            "clean --index s.ndx --report s.ndx.lock -o c.jsonl day2.jsonl",
            "s.ndx.lock (--report) is the lock file of s.ndx",
        ),
        (
            "clean --reference s.ndx -o s.ndx.lock day2.jsonl",
            "s.ndx.lock (-o) is the lock file of s.ndx",
        ),
        // An index the run does not name keeps its lock file too: an update
        // of it would take a new lock while another holds the old one.
        (
            "clean --index s.ndx --update -o t.ndx.lock day2.jsonl",
            "t.ndx.lock (-o) is the lock file of t.ndx",
        ),
        (
            "clean day2.jsonl --out-dir . --report t.ndx.lock",
            "t.ndx.lock (--report) is the lock file of t.ndx",
        ),
    ];
    for (args, message) in cases {
        let out = expect(d, 2, &args.split(' ').collect::<Vec<_>>());
        assert!(out.stderr.contains(message), "{args}: {out:?}");
        assert_eq!(crate::util::tree(d), before, "{args}");
    }
}

#[test]
fn a_walk_passes_over_indexes_and_their_lock_files() {
    // A feed directory that keeps its index beside the batches: the index
    // and its lock file are never taken for text.
    let dir = tempdir();
    let d = dir.path();
    std::fs::create_dir(d.join("feed")).unwrap();
    let (a, b) = ("feed/a.jsonl", "feed/b.jsonl");
    std::fs::write(
        d.join(a),
        "{\"id\":\"a\",\"text\":\"the council met on tuesday to set the budget for the year\"}\n",
    )
    .unwrap();
    std::fs::write(d.join(b), "{\"id\":\"b\",\"text\":\"the council met on tuesday to set the budget for the year\"}\n{\"id\":\"c\",\"text\":\"ferry services resume after the storm closed the harbour for days\"}\n").unwrap();
    for _ in 0..2 {
        // Built twice: the second build does not read the first's index.
        run_ok(d, &["index", "build", "-q", "feed", "-o", "feed/seen.ndx"]);
    }
    assert!(d.join("feed/seen.ndx.lock").is_file());
    let out = run(d, &["index", "stats", "--json", "feed/seen.ndx"]);
    let stats: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(stats["documents"], 3, "{out:?}");
    run_ok(
        d,
        &[
            "clean", "-q", "--json", "feed", "-o", "o.jsonl", "--report", "r.json",
        ],
    );
    let report: Value = serde_json::from_slice(&std::fs::read(d.join("r.json")).unwrap()).unwrap();
    let inputs = crate::util::input_paths(&report);
    assert_eq!(inputs, [a, b]);
    assert_eq!(
        report["skipped"].as_array().map_or(0, Vec::len),
        0,
        "{report}"
    );
    let kept = std::fs::read_to_string(d.join("o.jsonl")).unwrap();
    assert_eq!(kept.lines().count(), 2, "{kept}");
    assert_eq!(run(d, &["clean", "-q", "feed", "--out-dir", "out"]).code, 0);
    let mut written: Vec<_> = std::fs::read_dir(d.join("out"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    written.sort();
    assert_eq!(written, ["a.jsonl", "b.jsonl"]);
    std::fs::remove_dir_all(d.join("out")).unwrap();
    // Named, an index is read as an input would be, and said to be one.
    let out = run_exit(d, 2, &["scan", "feed/seen.ndx"]);
    assert_says(
        &out,
        "feed/seen.ndx: a neardup index, not text: give it to --index or --reference",
    );
}

/// A lock file that is a symbolic link to nothing (its target removed, or
/// in a directory not there) is refused by name, at once: making it failed
/// on the link and opening it on its target, and `--update`, `index build`
/// and `index merge -o` spun between the two for ever.
#[cfg(unix)]
#[test]
fn a_lock_file_linked_to_nothing_is_refused_not_spun_on() {
    let dir = tempdir();
    let d = dir.path();
    std::fs::write(d.join("day1.jsonl"), batches()[0].as_bytes()).unwrap();
    expect(d, 0, &["index", "build", "day1.jsonl", "-o", "s.ndx"]);
    expect(d, 0, &["index", "build", "day1.jsonl", "-o", "t.ndx"]);
    // (A run that made a lock file keeps it.)
    for lock in ["s.ndx.lock", "t.ndx.lock"] {
        std::fs::remove_file(d.join(lock)).unwrap();
    }
    let before = crate::util::tree(d);
    for target in ["gone", "missing/dir/x"] {
        for (args, lock) in [
            (
                &[
                    "clean",
                    "day1.jsonl",
                    "--index",
                    "s.ndx",
                    "--update",
                    "-o",
                    "o.jsonl",
                ][..],
                "s.ndx.lock",
            ),
            (
                &["index", "build", "day1.jsonl", "-o", "s.ndx"],
                "s.ndx.lock",
            ),
            (
                &["index", "merge", "s.ndx", "t.ndx", "-o", "m.ndx"],
                "m.ndx.lock",
            ),
        ] {
            std::os::unix::fs::symlink(target, d.join(lock)).unwrap();
            let mut child = crate::util::spawn(d, args);
            let started = std::time::Instant::now();
            while child.try_wait().unwrap().is_none() {
                if started.elapsed().as_secs() > 30 {
                    child.kill().unwrap();
                    std::fs::remove_file(d.join(lock)).unwrap();
                    panic!("{args:?} spins on a lock linked to {target}");
                }
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            let out = child.wait_with_output().unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
            assert!(
                stderr.contains(&format!("{lock}: the index's lock file is a symbolic link")),
                "{args:?}: {stderr}"
            );
            std::fs::remove_file(d.join(lock)).unwrap();
            assert_eq!(crate::util::tree(d), before, "{args:?}");
        }
    }
}

/// An index whose name leaves no room for `.lock` (251 to 255 bytes) gets a
/// lock file of its name cut short and a hash: built, updated and passed
/// over by a walk like any other (its lock was `File name too long`).
#[test]
fn an_index_named_with_255_bytes_has_a_lock_too() {
    let dir = tempdir();
    let d = dir.path();
    std::fs::create_dir(d.join("feed")).unwrap();
    std::fs::write(d.join("feed/day1.jsonl"), batches()[0].as_bytes()).unwrap();
    for len in [250, 251, 255] {
        let name = format!("feed/{}.ndx", "i".repeat(len - 4));
        expect(
            d,
            0,
            &["index", "build", "-q", "feed/day1.jsonl", "-o", &name],
        );
        let out = expect(
            d,
            0,
            &[
                "clean",
                "-q",
                "feed/day1.jsonl",
                "--index",
                &name,
                "--update",
                "-o",
                "o.jsonl",
            ],
        );
        assert!(out.stderr.is_empty(), "{out:?}");
        // Every record was in the index already: nothing is kept.
        assert_eq!(std::fs::read(d.join("o.jsonl")).unwrap(), b"", "{len}");
        let locks: Vec<String> = std::fs::read_dir(d.join("feed"))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|n| {
                std::path::Path::new(n)
                    .extension()
                    .is_some_and(|e| e == "lock")
            })
            .collect();
        assert_eq!(locks.len(), 1, "{locks:?}");
        assert!(locks[0].len() <= 255, "{locks:?}");
        // A walk over the feed reads its batch only.
        let out = expect(d, 0, &["scan", "-q", "--json", "feed"]);
        let report: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(
            crate::util::input_paths(&report),
            ["feed/day1.jsonl"],
            "{len}"
        );
        std::fs::remove_file(d.join(&name)).unwrap();
        std::fs::remove_file(d.join("feed").join(&locks[0])).unwrap();
    }
}
