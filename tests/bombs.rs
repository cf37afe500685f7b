//! Inputs that are far larger than they look (decompression bombs) or
//! than a chunk holds, and binary inputs, on every way in: named files,
//! `--no-mmap`, standard input. Each ends as a clear error or a run in
//! chunks, after reading no more than it must.

use crate::util::{assert_holds, assert_prints, run, run_limited, run_ok, tempdir};
use std::fmt::Write as _;
use std::io::Write as _;
use std::process::{Command, Stdio};

/// `neardup args` in `dir` with `stdin` piped in and
/// `NEARDUP_AVAILABLE_MEMORY` set to `available` (when given).
fn run_with(
    dir: &std::path::Path,
    args: &[&str],
    stdin: &[u8],
    available: Option<&str>,
) -> (Option<i32>, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_neardup"));
    command.args(args).current_dir(dir).env_clear();
    if let Some(a) = available {
        command.env("NEARDUP_AVAILABLE_MEMORY", a);
    }
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut pipe = child.stdin.take().unwrap();
    // The run may stop reading early (that is the point): a closed pipe
    // is no failure here.
    let _ = pipe.write_all(stdin);
    drop(pipe);
    let out = child.wait_with_output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_text_on_standard_input_larger_than_a_chunk_is_refused_as_it_arrives() {
    let dir = tempdir();
    let d = dir.path();
    let text = "the same line of text again and again\n".repeat(1 << 18);
    let (code, stderr) = run_with(
        d,
        &["scan", "--memory-limit", "4M", "-"],
        text.as_bytes(),
        None,
    );
    assert_eq!(code, Some(2), "{stderr}");
    assert_holds(&stderr, "<stdin>: too large: holds more than ");
    assert_holds(&stderr, "raise --memory-limit");
    // A first line that never ends, on standard input, is no better.
    let mut line = b"{\"text\": \"".to_vec();
    line.resize(8 << 20, b'a');
    let (code, stderr) = run_with(d, &["scan", "--memory-limit", "4M", "-"], &line, None);
    assert_eq!(code, Some(2), "{stderr}");
    assert_holds(
        &stderr,
        "<stdin>: too large: its first line is longer than ",
    );
}

#[test]
fn binary_input_read_not_mapped_is_refused_at_its_first_block() {
    let dir = tempdir();
    let d = dir.path();
    let mut zeros = b"text first\n".to_vec();
    zeros.resize(32 << 20, 0);
    std::fs::write(d.join("z.txt"), &zeros).unwrap();
    std::fs::write(d.join("ok.txt"), "A short text that is fine.\n").unwrap();
    // A whole run's limit on what it reads (the memory available) is far
    // below the file: only a read that stops at the first NUL passes.
    for args in [
        &["scan", "--no-mmap", "z.txt", "ok.txt"][..],
        &["scan", "-", "ok.txt"][..],
        &["scan", "--memory-limit", "4M", "-", "ok.txt"][..],
    ] {
        let (code, stderr) = run_with(d, args, &zeros, Some("8M"));
        assert_eq!(code, Some(0), "{args:?}: {stderr}");
        assert!(
            stderr.contains("binary file (NUL byte at byte offset 11)"),
            "{args:?}: {stderr}"
        );
    }
}

#[test]
fn records_that_decompress_past_the_memory_available_are_read_in_chunks() {
    let dir = tempdir();
    let d = dir.path();
    let mut records = String::new();
    for i in 0..12_000 {
        writeln!(
            records,
            "{{\"id\":{i},\"text\":\"record {} holds words of its own, {} more\"}}",
            i * 7,
            i * 13
        )
        .unwrap();
    }
    let packed = zstd::encode_all(records.as_bytes(), 3).unwrap();
    std::fs::write(d.join("r.jsonl.zst"), &packed).unwrap();
    // Counted as 4 bytes of text per compressed byte, at 3.7 bytes of
    // memory each, a whole run would seem to fit in 2 MB; it decodes to
    // more than a whole run there can hold.
    assert!(packed.len() * 4 * 37 / 10 < 2 << 20, "{}", packed.len());
    assert!(records.len() * 37 / 10 > 2 << 20);
    let chunked = Command::new(env!("CARGO_BIN_EXE_neardup"))
        .args(["scan", "--json", "r.jsonl.zst"])
        .current_dir(d)
        .env_clear()
        .env("NEARDUP_AVAILABLE_MEMORY", "2M")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&chunked.stderr);
    assert_eq!(chunked.status.code(), Some(0), "{stderr}");
    assert_holds(&stderr, "working in chunks");
    // The same records, given whole, are the same scan.
    let whole = run_ok(d, &["scan", "--json", "r.jsonl.zst"]);
    assert_eq!(whole.stdout, chunked.stdout);
    assert_prints(&whole, "\"documents\":12000");
}

/// Under an address-space limit (`ulimit -v`) smaller than a JSON Lines
/// file, the file cannot be mapped: a chunked run streams it, as it does
/// with `--no-mmap`, rather than reading it whole in the map's place and
/// calling it a document too large for a chunk. The file is sparse (1 GiB,
/// nothing on disk); its first record is the error the run must meet.
#[cfg(unix)]
#[test]
fn a_file_that_cannot_be_mapped_under_ulimit_v_is_streamed_in_chunks() {
    let dir = tempdir();
    let d = dir.path();
    let mut f = std::fs::File::create(d.join("big.jsonl")).unwrap();
    f.write_all(b"{\"id\": 1, \"text\": oops}\n{\"id\": 2, \"text\": \"fine words\"}\n")
        .unwrap();
    f.set_len(1 << 30).unwrap();
    drop(f);
    let out = run_limited(
        d,
        "ulimit -v 700000",
        &[
            "scan",
            "-q",
            "--memory-limit",
            "1M",
            "--tmp-dir",
            ".",
            "big.jsonl",
        ],
    );
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr.starts_with("neardup: big.jsonl:1: invalid JSON"),
        "{out:?}"
    );
}

/// Under an address-space limit (`ulimit -v`) a run of many threads does
/// not abort: glibc gave each thread an arena of its own, each reserving 64
/// MiB of address space, so 16 threads took a gigabyte of it before any
/// work, and 11 MB of JSON Lines under `ulimit -v 1000000` (or 60 MB under
/// 300000 with the default threads) failed an allocation: signal 6, no
/// message. The run now keeps one arena under such a limit.
#[cfg(unix)]
#[test]
fn many_threads_under_ulimit_v_do_not_abort() {
    let dir = tempdir();
    let d = dir.path();
    std::fs::write(d.join("big.jsonl"), random_records(10_000)).unwrap();
    for threads in ["2", "16"] {
        let out = run_limited(
            d,
            "ulimit -v 1000000",
            &["scan", "-q", "--threads", threads, "big.jsonl"],
        );
        assert_eq!(out.code, 0, "--threads {threads}: {}", out.stderr);
    }
}

/// `count` JSON Lines records of 200 words drawn from 3,000 (seeded): about
/// 1,150 bytes a record.
fn random_records(count: usize) -> String {
    let mut text = String::new();
    let mut x: u64 = 5;
    for i in 0..count {
        let mut words = String::new();
        for _ in 0..200 {
            x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            let _ = write!(words, "w{} ", (x >> 33) % 3000);
        }
        let _ = writeln!(text, "{{\"id\": {i}, \"text\": \"{}\"}}", words.trim_end());
    }
    text
}

/// A run that memory runs out under (a whole run asked for by a
/// `--memory-limit` above an address-space limit, `ulimit -v`) ends as
/// any failed run does: exit 2 and a message, its temporary files removed,
/// the target, the tree and the index as they were. It aborted (`memory
/// allocation of 1048576 bytes failed`, signal 6), leaving the staged
/// output beside the target.
#[cfg(unix)]
#[test]
fn memory_running_out_is_an_error_not_an_abort() {
    let dir = tempdir();
    let d = dir.path();
    std::fs::write(d.join("big.jsonl"), random_records(10_000)).unwrap();
    std::fs::write(d.join("small.jsonl"), "{\"text\": \"a few words here\"}\n").unwrap();
    run_ok(d, &["index", "build", "-q", "-o", "i.ndx", "small.jsonl"]);
    let index = std::fs::read(d.join("i.ndx")).unwrap();
    let names = || crate::util::names_in(d);
    std::fs::write(d.join("out.jsonl"), "old\n").unwrap();
    let before = names();
    let runs: [&[&str]; 3] = [
        &["-o", "out.jsonl"],
        &["--index", "i.ndx", "--update", "-o", "out.jsonl"],
        &["--out-dir", "tree/sub"],
    ];
    for extra in runs {
        std::fs::write(d.join("out.jsonl"), "old\n").unwrap();
        let mut args = vec!["clean", "-q", "--memory-limit", "1000G", "big.jsonl"];
        args.extend_from_slice(extra);
        let out = run_limited(d, "ulimit -v 150000", &args);
        assert_eq!(out.code, 2, "{extra:?}: {out:?}");
        assert!(
            out.stderr
                .starts_with("neardup: out of memory: allocating ")
                || out.stderr.contains("Cannot allocate memory"),
            "{extra:?}: {out:?}"
        );
        assert_eq!(
            std::fs::read(d.join("out.jsonl")).unwrap(),
            b"old\n",
            "{extra:?}"
        );
        assert_eq!(std::fs::read(d.join("i.ndx")).unwrap(), index, "{extra:?}");
        assert_eq!(names(), before, "{extra:?}");
    }
}

/// The memory a run may take counts an address-space limit (`ulimit -v`):
/// past it every allocation fails and the run aborts, so a limit above it
/// is noted as bounded by it, as one above the memory there is.
#[cfg(unix)]
#[test]
fn an_address_space_limit_bounds_the_memory_available() {
    let dir = tempdir();
    let d = dir.path();
    std::fs::write(d.join("r.jsonl"), "{\"text\": \"a few words here\"}\n").unwrap();
    let out = run_limited(
        d,
        "ulimit -v 700000",
        &[
            "scan",
            "--progress",
            "never",
            "--memory-limit",
            "1000G",
            "r.jsonl",
        ],
    );
    let stderr = &out.stderr;
    assert_eq!(out.code, 0, "{stderr}");
    let available = stderr
        .split("is more than the ")
        .nth(1)
        .and_then(|rest| rest.split("M of memory available").next())
        .and_then(|m| m.parse::<f64>().ok());
    assert!(
        available.is_some_and(|m| m > 0.0 && m < 700_000.0 / 1024.0),
        "{stderr}"
    );
}

/// Text that normalization makes many times longer (U+FDFA, 3 bytes, is 18
/// characters and 4 words under NFKC: 33 bytes) is counted by what is
/// hashed, not by its bytes: 6 MB of it at `--memory-limit 64M` made one
/// chunk and peaked at 100 MiB, a 50 MB record at `--memory-limit 1G` took
/// 1.1 GiB and four minutes (session 35's hostile pass). A record whose
/// normalized text is more than a chunk holds is refused by its line, as a
/// long one is; records that fit are run in chunks, with the output a run
/// without a limit gives.
#[test]
fn text_that_normalization_makes_longer_is_counted_by_its_normalized_length() {
    let dir = tempdir();
    let d = dir.path();
    // 600 KB of text, 6.6 MB normalized: more than a chunk at 16M holds.
    let mut big = String::from("{\"id\": \"ok\", \"text\": \"a few words of text\"}\n");
    writeln!(
        big,
        "{{\"id\": \"big\", \"text\": \"{}\"}}",
        "\u{FDFA}".repeat(200_000)
    )
    .unwrap();
    std::fs::write(d.join("big.jsonl"), &big).unwrap();
    // The same as JSON escapes (`\ufdfa`, 6 bytes), and as a text file.
    let escaped = format!("{{\"text\": \"{}\"}}\n", "\\ufdfa".repeat(200_000));
    std::fs::write(d.join("escaped.jsonl"), &escaped).unwrap();
    std::fs::write(d.join("big.txt"), "\u{FDFA}".repeat(200_000)).unwrap();
    for (input, place) in [
        (
            "big.jsonl",
            "big.jsonl:2: too large: a text of 600000 bytes (6600000 once normalized",
        ),
        (
            "escaped.jsonl",
            "escaped.jsonl:1: too large: a text of 600000 bytes (6600000 once normalized",
        ),
        (
            "big.txt",
            "big.txt: too large: one document of 600000 bytes of text (6600000 once normalized",
        ),
    ] {
        let out = run(
            d,
            &[
                "clean",
                "-q",
                "--memory-limit",
                "16M",
                input,
                "-o",
                "o.jsonl",
            ],
        );
        let stderr = &out.stderr;
        assert_eq!(out.code, 2, "{input}: {stderr}");
        assert!(stderr.contains(place), "{input}: {stderr}");
        assert!(
            !d.join("o.jsonl").exists(),
            "{input}: an output was written"
        );
    }
    // Six records of 50 KB (550 KB normalized each): chunks of two at 16M,
    // whose output is the whole run's.
    let mut six = String::new();
    for i in 0..6 {
        let text = format!("{} record {i}", "\u{FDFA}".repeat(16_000 + i));
        writeln!(six, "{}", serde_json::json!({"id": i, "text": text})).unwrap();
    }
    std::fs::write(d.join("six.jsonl"), &six).unwrap();
    let whole = run(d, &["clean", "-q", "six.jsonl"]);
    assert_eq!(whole.code, 0);
    let out = run(d, &["clean", "-v", "--memory-limit", "16M", "six.jsonl"]);
    let stderr = &out.stderr;
    assert_eq!(out.code, 0, "{stderr}");
    assert_holds(stderr, "6 documents, 0.3 MB in 3 chunks");
    assert_eq!(out.stdout, whole.stdout, "{stderr}");
}
