//! Test helpers: run the binary in a clean environment and compare outputs.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// What one run of the binary produced.
pub struct Output {
    pub code: i32,
    pub stdout: Vec<u8>,
    pub stderr: String,
}

impl Output {
    pub fn stdout_str(&self) -> String {
        String::from_utf8(self.stdout.clone()).expect("stdout is UTF-8")
    }
}

impl From<std::process::Output> for Output {
    fn from(out: std::process::Output) -> Self {
        Output {
            code: out.status.code().unwrap_or(-1),
            stdout: out.stdout,
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

impl std::fmt::Debug for Output {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {}\n--- stdout\n{}\n--- stderr\n{}",
            self.code,
            String::from_utf8_lossy(&self.stdout),
            self.stderr
        )
    }
}

/// Runs `neardup args...` in `dir` with an empty environment.
pub fn run(dir: &Path, args: &[&str]) -> Output {
    run_with_stdin(dir, args, None)
}

/// [`run`], asserting that the run exits 0.
#[track_caller]
pub fn run_ok(dir: &Path, args: &[&str]) -> Output {
    run_exit(dir, 0, args)
}

/// [`run`], asserting that the run exits `code`.
#[track_caller]
pub fn run_exit(dir: &Path, code: i32, args: &[&str]) -> Output {
    let out = run(dir, args);
    assert_eq!(out.code, code, "{out:?}");
    out
}

/// Asserts that the run's standard error holds `text`.
#[track_caller]
pub fn assert_says(out: &Output, text: &str) {
    assert!(out.stderr.contains(text), "{out:?}");
}

/// Asserts that the run's standard output holds `text`.
#[track_caller]
pub fn assert_prints(out: &Output, text: &str) {
    assert!(out.stdout_str().contains(text), "{out:?}");
}

/// Asserts that `stderr` (a run's standard error) holds `text`.
#[track_caller]
pub fn assert_holds(stderr: &str, text: &str) {
    assert!(stderr.contains(text), "{stderr}");
}

/// `neardup args...` to run in `dir` with an empty environment; its
/// standard streams are the caller's to choose.
pub fn command(dir: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_neardup"));
    command.args(args).current_dir(dir).env_clear();
    command
}

/// Like [`run`], feeding `stdin` to the process.
pub fn run_with_stdin(dir: &Path, args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut child = command(dir, args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    if let Some(bytes) = stdin {
        use std::io::Write;
        let mut pipe = child.stdin.take().expect("piped stdin");
        pipe.write_all(bytes).expect("write stdin");
    }
    let out = child.wait_with_output().expect("the binary finishes");
    Output::from(out)
}

/// Like [`run`], its standard output closed before it writes anything (a
/// reader that went away: `neardup check docs | head`).
pub fn run_stdout_closed(dir: &Path, args: &[&str]) -> Output {
    let mut child = spawn(dir, args);
    drop(child.stdout.take());
    Output::from(child.wait_with_output().expect("the binary finishes"))
}

/// Runs `neardup args...` in `dir` with an empty environment, under
/// `limits`: shell commands (`ulimit -v 700000`, `trap '' XFSZ; ulimit -f
/// 40`) that `/bin/sh` runs before it executes the binary.
pub fn run_limited(dir: &Path, limits: &str, args: &[&str]) -> Output {
    let out = Command::new("/bin/sh")
        .arg("-c")
        .arg(format!("{limits} && exec \"$0\" \"$@\""))
        .arg(env!("CARGO_BIN_EXE_neardup"))
        .args(args)
        .current_dir(dir)
        .env_clear()
        .stdin(Stdio::null())
        .output()
        .expect("the shell starts");
    Output::from(out)
}

/// Makes a FIFO at `path`.
#[track_caller]
pub fn mkfifo(path: &Path) {
    assert!(Command::new("mkfifo").arg(path).status().unwrap().success());
}

/// Lets a writer waiting to open the FIFO `path` go on: opened for reading
/// and writing, a FIFO never waits (Linux), and it is closed at once.
pub fn unblock(path: &Path) {
    drop(
        std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(path),
    );
}

/// `neardup args` in `dir` while a thread writes `bytes` into the FIFO
/// `fifo` (made anew), opened for writing once: a run that opens it again,
/// after this writer closed it, would wait for a writer that never comes.
/// Fails instead of waiting for ever; a run that closes it early makes the
/// writer fail (ignored: the output tells).
pub fn run_with_fifo(dir: &Path, fifo: &str, bytes: &[u8], args: &[&str]) -> Output {
    let path = dir.join(fifo);
    let _ = std::fs::remove_file(&path);
    mkfifo(&path);
    let child = spawn(dir, args);
    let (to_write, at) = (bytes.to_vec(), path.clone());
    let writer = std::thread::spawn(move || {
        if let Ok(mut f) = std::fs::OpenOptions::new().write(true).open(at) {
            let _ = std::io::Write::write_all(&mut f, &to_write);
        }
    });
    // Waited for on a thread of its own, its output read as it comes (a
    // run writing its cleaned text to a pipe would fill it and wait).
    let (sent, got) = std::sync::mpsc::channel();
    std::thread::spawn(move || sent.send(child.wait_with_output().unwrap()));
    let Ok(out) = got.recv_timeout(std::time::Duration::from_secs(120)) else {
        // A writer that comes and goes ends the run's second wait.
        drop(std::fs::OpenOptions::new().write(true).open(&path));
        panic!("{args:?} waits for ever on the FIFO {fifo}");
    };
    while !writer.is_finished() {
        // A run that never opened the FIFO (refused, or failed first): a
        // reader that comes and goes lets the writer's open end.
        unblock(&path);
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    writer.join().unwrap();
    Output::from(out)
}

/// Chunks said by `-v` (`... MB in N chunks: ...`).
#[track_caller]
pub fn chunks_said(stderr: &str) -> usize {
    let (before, _) = stderr.split_once(" chunks: ").expect("a run in chunks");
    before.rsplit(' ').next().unwrap().parse().unwrap()
}

/// Makes the character device 1,`minor` at `path` (3 a null device, 7 a
/// full one).
#[track_caller]
pub fn mknod(path: &Path, minor: u32) {
    // As root (the CI's user), in a temporary directory, never in /dev.
    let status = Command::new("mknod")
        .arg(path)
        .args(["c", "1", &minor.to_string()])
        .status()
        .unwrap();
    assert!(status.success(), "mknod {}", path.display());
}

/// Writes two JSON Lines records (`a`, `b`) of the same paragraph to `path`.
pub fn write_two_copies(path: &Path) {
    let body = "A paragraph long enough to be judged on its own words, as any other.";
    let record = |id: &str| format!("{{\"id\":\"{id}\",\"text\":\"{body}\"}}\n");
    std::fs::write(path, record("a") + &record("b")).unwrap();
}

/// The directory of test inputs.
pub fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("data")
}

/// A fresh temporary directory.
pub fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().expect("temporary directory")
}

/// The names in `dir` (not below it), sorted.
pub fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("readable dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// Every file under `dir` with its bytes, by relative path, sorted.
pub fn tree(dir: &Path) -> Vec<(String, Vec<u8>)> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<(String, Vec<u8>)>) {
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .expect("readable dir")
            .map(|e| e.expect("entry").path())
            .collect();
        entries.sort();
        for path in entries {
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                let rel = path.strip_prefix(root).expect("under root");
                out.push((
                    rel.to_string_lossy().into_owned(),
                    std::fs::read(&path).expect("readable file"),
                ));
            }
        }
    }
    let mut out = Vec::new();
    if dir.exists() {
        walk(dir, dir, &mut out);
    }
    out
}

/// Asserts equal bytes, showing both as text when they differ.
#[track_caller]
pub fn assert_bytes_eq(actual: &[u8], expected: &[u8], what: &str) {
    assert!(
        actual == expected,
        "{what} differs\n--- expected\n{}\n--- actual\n{}",
        String::from_utf8_lossy(expected),
        String::from_utf8_lossy(actual)
    );
}

/// `bytes` gzipped.
pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write as _;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(bytes).unwrap();
    gz.finish().unwrap()
}

/// The records of a JSON Lines output.
pub fn json_lines(bytes: &[u8]) -> Vec<serde_json::Value> {
    String::from_utf8(bytes.to_vec())
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// The `path` of each input a JSON report lists, in its order.
pub fn input_paths(report: &serde_json::Value) -> Vec<&str> {
    report["inputs"]
        .as_array()
        .expect("a report lists its inputs")
        .iter()
        .map(|i| i["path"].as_str().expect("an input has a path"))
        .collect()
}

/// `neardup args` started in `dir` (no environment, no standard input, its
/// output and errors piped), for a test that waits for it with a timeout.
pub fn spawn(dir: &Path, args: &[&str]) -> std::process::Child {
    command(dir, args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts")
}

/// `neardup args` in `dir` with `--progress always`, whose input `input`
/// is replaced by `new` (a rename, as an editor or a sync does) once its
/// standard error shows the first line of a reading's progress (the count
/// of short documents', `reading for short documents [...]`, or a pass's,
/// `N docs [...]`): after the run took what its inputs were, and before it
/// ends, however loaded the machine (a run whose pass drew no line before
/// it ended was never renamed under); what it said and its exit status.
pub fn replaced_once_read(
    dir: &Path,
    args: &[&str],
    (new, input): (&str, &str),
) -> (String, std::process::ExitStatus) {
    use std::io::BufRead as _;
    let mut child = spawn(dir, args);
    let mut stderr = std::io::BufReader::new(child.stderr.take().expect("piped"));
    let mut said = String::new();
    let mut line = String::new();
    while stderr.read_line(&mut line).expect("standard error read") > 0 {
        said.push_str(&line);
        if line.contains(" docs [") || line.contains("reading for short documents") {
            std::fs::rename(dir.join(new), dir.join(input)).expect("renamed");
            break;
        }
        line.clear();
    }
    std::io::Read::read_to_string(&mut stderr, &mut said).expect("standard error read");
    (said, child.wait().expect("the run ends"))
}

/// `neardup args` in `dir`, killed (and the test failed) if it has not
/// ended after a minute.
pub fn run_or_hang(dir: &Path, args: &[&str]) -> std::process::Output {
    let mut child = crate::util::spawn(dir, args);
    let started = std::time::Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed().as_secs() > 60 {
            child.kill().unwrap();
            panic!("{args:?} hangs");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

/// `n` JSON Lines records of numbered, distinct sentences (a log's worth:
/// 40,000 are 3.4 MB), for runs that must still be reading when a test acts.
pub fn numbered_records(n: usize) -> Vec<u8> {
    use std::io::Write as _;
    let mut text = Vec::new();
    for i in 0..n {
        writeln!(
            text,
            r#"{{"id":{i},"text":"Record {i} says {} things about {} places and {} more words here."}}"#,
            i * 7,
            i * 13,
            i * 31
        )
        .unwrap();
    }
    text
}

/// Truncates the file at `path` to nothing once the run writing into
/// `output` has written its first byte (while it still reads the file: log
/// rotation with `copytruncate`); what the run writes after that byte.
pub fn cut_short_while_read(output: &mut impl std::io::Read, path: &Path) -> Vec<u8> {
    let mut first = [0u8; 1];
    output.read_exact(&mut first).unwrap();
    std::fs::OpenOptions::new()
        .write(true)
        .open(path)
        .unwrap()
        .set_len(0)
        .unwrap();
    let mut rest = Vec::new();
    output.read_to_end(&mut rest).unwrap();
    rest
}

/// The documents of `input` in a `--json` report's clusters, by id, each
/// with the id of its cluster's representative, sorted.
pub fn members_from(report: &serde_json::Value, input: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for c in report["near_duplicates"]["cluster_list"]
        .as_array()
        .unwrap()
    {
        let rep = c["representative"]["id"].as_str().unwrap();
        for m in c["members"].as_array().unwrap() {
            if m["document"]["path"] == input {
                let id = m["document"]["id"].as_str().unwrap();
                out.push((id.to_owned(), rep.to_owned()));
            }
        }
    }
    out.sort();
    out
}

/// The exit status of `scan --json --threads THREADS --index INDEX INPUT`
/// in `dir`, and [`members_from`] its report of `INPUT`.
pub fn scan_members(
    dir: &Path,
    index: &str,
    input: &str,
    threads: &str,
) -> (i32, Vec<(String, String)>) {
    let args = [
        "scan",
        "--json",
        "--threads",
        threads,
        "--index",
        index,
        input,
    ];
    let out = run(dir, &args);
    let report: serde_json::Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{args:?}: {e}: {out:?}"));
    (out.code, members_from(&report, input))
}

/// A small deterministic generator (a 64-bit LCG), for tests that make
/// their inputs from a seed.
pub struct Lcg(pub u64);

impl Lcg {
    /// The next number below `n`.
    pub fn next(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((self.0 >> 33) as usize) % n
    }
}
