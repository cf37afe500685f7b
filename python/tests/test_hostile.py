"""The package under a careless or hostile caller (issue 14, session 26): what
hung, aborted the process or failed without naming the record. A case that
could hang or end the process runs in a subprocess, with a timeout. The whole
pass is benches/pyhostile.py."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import neardup

BODY = "A paragraph long enough to be judged on its own words, as any other."
# Twenty records, none a copy of another.
RECORDS = [
    {"id": str(i), "text": " ".join(f"word{i}x{j}" for j in range(30))} for i in range(20)
]

PRELUDE = f"""
import os, sys, json, threading, time
import neardup
BODY = {BODY!r}
RECORDS = {RECORDS!r}
"""


def python(code: str, cwd: Path, timeout: float = 60) -> subprocess.CompletedProcess:
    """`code` (after PRELUDE) in a Python of its own; a hang fails the test."""
    try:
        return subprocess.run(
            [sys.executable, "-c", PRELUDE + code],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"hung (more than {timeout} s):\n{code}")


def test_an_exhausted_stream_stays_exhausted(tmp_path):
    # next() after the end (or after the error was raised) waited for ever.
    done = python(
        """
s = neardup.clean_stream([RECORDS])
print(sum(len(b) for b in s), next(s, "end"), list(s))
bad = neardup.clean_stream([[{"id": 1, "text": 1}]])
try:
    list(bad)
except neardup.NeardupError as e:
    print("raised", e)
print(next(bad, "end"))
""",
        tmp_path,
        timeout=30,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "20 end []",
        'raised <records>:1: field "text" is a number, not a string',
        "end",
    ]


def test_a_stream_read_by_several_threads_ends_for_each(tmp_path):
    # The one that took the end left the others waiting for ever.
    done = python(
        """
s = neardup.clean_stream([RECORDS] * 5, batch_size=1)
got = []
def read():
    for batch in s:
        got.append(len(batch))
threads = [threading.Thread(target=read) for _ in range(3)]
[t.start() for t in threads]
[t.join() for t in threads]
print(sum(got))
""",
        tmp_path,
        timeout=30,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "20\n"


@pytest.mark.parametrize(
    "closer",
    [
        # The progress callback closes the stream it reports on.
        """
held = {}
ready = threading.Event()
def progress(event):
    if event[0] == "stage":
        ready.wait()
        held["s"].close()
held["s"] = neardup.clean_stream([RECORDS], progress=progress, index="i.ndx", update=True)
ready.set()
print(list(held["s"]))
""",
        # The records close the stream that reads them.
        """
held = {}
ready = threading.Event()
def records():
    yield RECORDS
    ready.wait()
    held["s"].close()
    yield RECORDS
held["s"] = neardup.clean_stream(records(), index="i.ndx", update=True)
ready.set()
print(list(held["s"]))
""",
        # The progress callback drops the last reference to its stream.
        """
held = {}
ready = threading.Event()
def progress(event):
    ready.wait()
    held.pop("s", None)
held["s"] = neardup.clean_stream([RECORDS], progress=progress, index="i.ndx", update=True)
ready.set()
time.sleep(1)
print([])
""",
    ],
    ids=["progress-closes", "records-close", "progress-drops"],
)
def test_a_stream_closed_from_its_own_callback_stops(tmp_path, closer):
    # close() waited for the run to end, and the run waited for the callback
    # that called close(): the process hung.
    done = python(closer + "print(os.path.exists('i.ndx'), sorted(os.listdir('.')))\n", tmp_path, timeout=30)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["[]", "False []"]


DAEMON_RUN = """
def records():
    while True:
        yield RECORDS
kind = sys.argv[1]
if kind == "clean":
    work = lambda: neardup.clean(records())
elif kind == "update":
    work = lambda: neardup.Index("i.ndx").update(records())
else:
    work = lambda: neardup.clean(records(), progress=lambda e: None)
threading.Thread(target=work, daemon=True).start()
time.sleep(0.5)
print("exiting")
"""


@pytest.mark.parametrize("kind", ["clean", "update", "progress"])
def test_exiting_with_a_run_going_in_a_daemon_thread_does_not_abort(tmp_path, kind):
    # The run's thread took the GIL while the interpreter was finalizing:
    # the process aborted ("FATAL: exception not rethrown", SIGABRT).
    neardup.Index.build(tmp_path / "i.ndx", RECORDS[:3])
    before = (tmp_path / "i.ndx").read_bytes()
    listed = sorted(os.listdir(tmp_path))
    for _ in range(3):
        try:
            done = subprocess.run(
                [sys.executable, "-c", PRELUDE + DAEMON_RUN, kind],
                cwd=tmp_path,
                capture_output=True,
                text=True,
                timeout=60,
            )
        except subprocess.TimeoutExpired:
            pytest.fail("the process did not exit")
        assert (done.returncode, done.stdout) == (0, "exiting\n"), done.stderr
        # The update withdrawn: the index as it was, no file left.
        assert (tmp_path / "i.ndx").read_bytes() == before
        assert sorted(os.listdir(tmp_path)) == listed


@pytest.mark.parametrize(
    "record, says",
    [
        ({"id": 1, "text": "a\ud800b"}, "a lone surrogate '\\ud800' is not text"),
        ("a\udcffb", "a lone surrogate '\\udcff' is not text"),
        ({"id": 1, "text": BODY, "\ud800": 1}, "a lone surrogate"),
        ({"id": 1, "text": BODY, "score": float("nan")}, "Out of range float values"),
        ({"id": 1, "text": BODY, "n": 10**5000}, "Exceeds the limit"),
    ],
    ids=["text", "string", "key", "nan", "huge-int"],
)
def test_a_record_json_cannot_hold_is_named_by_its_line(record, says):
    # A UnicodeEncodeError or ValueError from the JSON encoder, naming no
    # record.
    with pytest.raises(neardup.NeardupError) as raised:
        neardup.clean([*RECORDS[:2], record], name="batch")
    assert str(raised.value).startswith("batch:3: record 2 cannot be written as JSON: ")
    assert says in str(raised.value)


def test_a_record_that_holds_itself_is_named():
    circular = {"id": 1, "text": BODY}
    circular["self"] = circular
    deep: list = []
    for _ in range(100_000):
        deep = [deep]
    for record in (circular, {"id": 2, "text": BODY, "deep": deep}):
        with pytest.raises(neardup.NeardupError, match=r"^<records>:2: record 1 cannot be written"):
            neardup.clean([RECORDS[0], record])


@pytest.mark.parametrize("size", [None, 1.5, "2", True])
def test_a_batch_size_that_is_not_a_count_is_refused(size):
    # None and "2" raised "'<' not supported"; 1.5 failed in the run's thread.
    with pytest.raises(TypeError, match="batch_size takes a whole number from 1"):
        neardup.clean_stream([RECORDS], batch_size=size)


def test_a_batch_size_of_another_integer_type_is_taken():
    # numpy's integers are not `int`, but are whole numbers (`__index__`).
    class Count:
        def __index__(self):
            return 2

    stream = neardup.clean_stream([RECORDS[:3]], batch_size=Count())
    assert [len(batch) for batch in stream] == [2, 1]


def test_an_index_is_never_written_over_a_file_that_is_not_one(tmp_path):
    # Index.build and merge replaced a user's file named by mistake.
    mine = tmp_path / "notes.txt"
    mine.write_text("my notes\n")
    with pytest.raises(neardup.NeardupError, match="notes.txt: not a neardup index"):
        neardup.Index.build(mine, RECORDS)
    a = neardup.Index.build(tmp_path / "a.ndx", RECORDS[:10])
    b = neardup.Index.build(tmp_path / "b.ndx", RECORDS[10:])
    with pytest.raises(neardup.NeardupError, match="notes.txt: not a neardup index"):
        a.merge(b, mine)
    assert mine.read_text() == "my notes\n"
    assert sorted(os.listdir(tmp_path)) == ["a.ndx", "a.ndx.lock", "b.ndx", "b.ndx.lock", "notes.txt"]
    # An index, or an empty file, is replaced.
    assert neardup.Index.build(tmp_path / "a.ndx", RECORDS).documents == 20
    (tmp_path / "empty.ndx").write_bytes(b"")
    assert a.merge(b, tmp_path / "empty.ndx").documents == 30


@pytest.mark.parametrize(
    "nested",
    [
        # The progress callback of an update rebuilds the index.
        """
neardup.Index.build("i.ndx", RECORDS[:5])
def progress(event):
    if event[0] == "stage":
        neardup.Index.build("./i.ndx", RECORDS)
neardup.clean(RECORDS, index="i.ndx", update=True, progress=progress)
""",
        # The records of an update update the same index.
        """
def records():
    yield RECORDS[0]
    neardup.Index.create("i.ndx").update(RECORDS[1:])
neardup.clean(records(), index="i.ndx", update=True)
""",
        # The progress callback of a build merges into the index it builds.
        """
neardup.Index.build("a.ndx", RECORDS[:5])
neardup.Index.build("b.ndx", RECORDS[5:])
def progress(event):
    if event[0] == "stage":
        neardup.Index("a.ndx").merge("b.ndx", output="../" + os.path.basename(os.getcwd()) + "/i.ndx")
neardup.Index.build("i.ndx", RECORDS, progress=progress)
""",
    ],
    ids=["build-in-update", "update-in-update", "merge-in-build"],
)
def test_writing_an_index_from_a_callback_of_its_writer_is_refused(tmp_path, nested):
    # The nested run waited for the index's lock, held by the run waiting for
    # the callback: the process hung.
    done = python(
        "try:\n"
        + "".join("    " + line + "\n" for line in nested.strip().splitlines())
        + "except neardup.NeardupError as e:\n    print(e)\n"
        + "print(sorted(n for n in os.listdir('.') if n.startswith('i.')))\n",
        tmp_path,
        timeout=30,
    )
    assert done.returncode == 0, done.stderr
    said, left = done.stdout.splitlines()
    assert said.endswith(
        "i.ndx: the run whose callback this is holds this index's lock (it writes it); "
        "writing it from that callback would wait for that run, which waits for the callback"
    ), said
    # The outer run failed too (it raised the callback's error), changing nothing.
    assert left in ("[]", "['i.ndx', 'i.ndx.lock']"), left


def test_writing_a_streams_index_from_its_reading_loop_is_refused(tmp_path):
    # The loop that reads a stream updating an index updated it too: the
    # update waited for the stream's lock, the stream (its queue of 8
    # batches full) for the loop to read on (found by the session's review):
    # the process hung. Refused however far the stream's run has gone.
    done = python(
        """
neardup.Index.build("i.ndx", RECORDS[:5])
stream = neardup.clean_stream([RECORDS[5:], RECORDS[:5]], index="i.ndx", update=True, batch_size=1)
try:
    for batch in stream:
        neardup.Index("./i.ndx").update([RECORDS[0]])
except neardup.NeardupError as e:
    print(e)
stream.close()
# Once the stream is closed, the index is the thread's to write again.
print(neardup.Index("i.ndx").update([{"id": "new", "text": BODY}]).report["summary"]["documents"])
""",
        tmp_path,
        timeout=30,
    )
    assert done.returncode == 0, done.stderr
    said, documents = done.stdout.splitlines()
    assert said == (
        "./i.ndx: a stream this thread reads (clean_stream(..., update=True)) holds this "
        "index's lock until it is exhausted or closed; writing it now would wait for that "
        "stream, which waits for this thread"
    ), said
    assert documents == "1", documents


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="counts descriptors in /proc")
def test_a_failed_run_keeps_no_directory_open(tmp_path):
    # The directory a run staged its files in stayed open after the run
    # failed (a callback that raised, a full disk), for as long as the
    # process lived: the filesystem could not be unmounted ("target is busy").
    (tmp_path / "in.jsonl").write_text("".join(json.dumps(r) + "\n" for r in RECORDS))

    def held() -> set:
        found = set()
        for fd in os.listdir("/proc/self/fd"):
            try:
                found.add(os.readlink(f"/proc/self/fd/{fd}"))
            except OSError:
                pass
        return {p for p in found if p.startswith(str(tmp_path))}

    def late(event):
        if event[0] == "finish":
            raise RuntimeError("late")

    for run in (
        lambda: neardup.clean(paths=[tmp_path / "in.jsonl"], out_dir=tmp_path / "out", progress=late),
        lambda: neardup.Index.build(tmp_path / "i.ndx", RECORDS, progress=late),
    ):
        with pytest.raises(RuntimeError, match="late"):
            run()
        assert held() == set()
    assert sorted(os.listdir(tmp_path)) == ["in.jsonl"]
