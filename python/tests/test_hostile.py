"""The package under a careless or hostile caller (issue 14, session 26): what
hung, aborted the process or failed without naming the record. A case that
could hang or end the process runs in a subprocess, with a timeout. The whole
pass is benches/pyhostile.py."""

import json
import os
from functools import partial

import pytest

import neardup
from conftest import BODY, python as run_python

# Twenty records, none a copy of another.
RECORDS = [
    {"id": str(i), "text": " ".join(f"word{i}x{j}" for j in range(30))} for i in range(20)
]

PRELUDE = f"""
import os, sys, json, signal, threading, time
import neardup
BODY = {BODY!r}
RECORDS = {RECORDS!r}
def interrupted(run):
    # Ctrl-C 0.5 s into run(): says when KeyboardInterrupt was raised.
    threading.Timer(0.5, lambda: os.kill(os.getpid(), signal.SIGINT)).start()
    started = time.monotonic()
    try:
        run()
    except KeyboardInterrupt:
        print("KeyboardInterrupt", int(time.monotonic() - started))
"""
python = partial(run_python, prelude=PRELUDE)


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
        done = python(DAEMON_RUN, tmp_path, kind)
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
        # The progress callback of an update that makes the index's
        # directory updates it through a link: the run's lock was known by
        # its path alone, the directory not there yet, and the link's spelling
        # was not refused (found by the session's review).
        """
os.symlink(".", "alias")
def progress(event):
    if event[0] == "stage":
        neardup.Index.create("alias/new/i.ndx").update(RECORDS[:3])
neardup.clean(RECORDS, index="new/i.ndx", update=True, progress=progress)
""",
    ],
    ids=["build-in-update", "update-in-update", "merge-in-build", "link-to-a-new-directory"],
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


# Session 27 (issue 14): the loose ends session 26 left.

# How a test spells the index `i.ndx` of its directory, made before the
# nested write: (setup code, the outer run's spelling, the nested spelling).
SPELLINGS = {
    "symlink": ("os.symlink('i.ndx', 'link.ndx')", "i.ndx", "link.ndx"),
    "dot": ("", "i.ndx", "./i.ndx"),
    "absolute": ("", "i.ndx", "os.path.abspath('i.ndx')"),
    "dotdot": ("os.mkdir('sub')", "i.ndx", "'sub/../i.ndx'"),
    "linked-dir": ("os.symlink('.', 'here')", "i.ndx", "'here/i.ndx'"),
    # A link to an index not made yet: the lock code follows it.
    "dangling-link": ("os.symlink('j.ndx', 'link.ndx')", "link.ndx", "'j.ndx'"),
    # An index whose directory is not there yet: the run makes it.
    "new-dir": ("", "new/i.ndx", "'./new/i.ndx'"),
}


def _spelled(spelling: str) -> tuple:
    setup, outer, nested = SPELLINGS[spelling]
    outer = repr(outer)
    if not nested.startswith(("'", "os.")):
        nested = repr(nested)
    return setup, outer, nested


@pytest.mark.parametrize("spelling", sorted(SPELLINGS))
@pytest.mark.parametrize("case", ["callback", "stream"])
def test_every_spelling_of_a_locked_index_is_refused_alike(tmp_path, spelling, case):
    # Two registries (a native one for callbacks, a Python one for streams)
    # normalized paths their own ways, and neither as the lock code names the
    # lock: a link to an index not made yet, or an index in a directory the
    # run made, was not refused, and the process hung.
    setup, outer, nested = _spelled(spelling)
    if case == "callback":
        body = f"""
def records():
    yield RECORDS[0]
    neardup.Index.create({nested}).update(RECORDS[1:2])
try:
    neardup.clean(records(), index={outer}, update=True)
except neardup.NeardupError as e:
    print(str(e).split(": ", 1)[1])
"""
    else:
        body = f"""
stream = neardup.clean_stream([RECORDS[5:], RECORDS[:5]], index={outer}, update=True, batch_size=1)
try:
    for batch in stream:
        neardup.Index.create({nested}).update([RECORDS[0]])
except neardup.NeardupError as e:
    print(str(e).split(": ", 1)[1])
stream.close()
"""
    done = python(setup + "\n" + body, tmp_path, timeout=30)
    assert done.returncode == 0, done.stderr
    said = {
        "callback": "the run whose callback this is holds this index's lock (it writes it); "
        "writing it from that callback would wait for that run, which waits for the callback",
        "stream": "a stream this thread reads (clean_stream(..., update=True)) holds this "
        "index's lock until it is exhausted or closed; writing it now would wait for that "
        "stream, which waits for this thread",
    }[case]
    assert done.stdout.strip() == said, done.stdout


@pytest.mark.parametrize("case", ["callback", "stream"])
def test_a_hard_link_to_a_locked_index_is_another_lock(tmp_path, case):
    # A hard link has a lock file of its own (`j.ndx.lock`): writing it waits
    # for nothing, and is not refused.
    setup = "neardup.Index.build('i.ndx', RECORDS[:5])\nos.link('i.ndx', 'j.ndx')\n"
    if case == "callback":
        body = """
def records():
    yield RECORDS[0]
    print(neardup.Index("j.ndx").update(RECORDS[1:2]).report["summary"]["documents"])
neardup.clean(records(), index="i.ndx", update=True)
"""
    else:
        body = """
with neardup.clean_stream([RECORDS[5:]], index="i.ndx", update=True, batch_size=100) as stream:
    for batch in stream:
        print(neardup.Index("j.ndx").update([RECORDS[0]]).report["summary"]["documents"])
        break
"""
    done = python(setup + body, tmp_path, timeout=30)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["1"], done.stdout


def test_waiting_for_an_index_lock_is_a_message_not_stderr(tmp_path):
    # "i.ndx is locked by another neardup run; waiting for it to finish" went
    # straight to standard error (a notebook's log), not to the run's
    # messages or a NeardupWarning.
    done = python(
        """
import fcntl, warnings
neardup.Index.build("i.ndx", RECORDS[:5])
held = open("i.ndx.lock", "a+")
for run in ("update", "merge"):
    fcntl.flock(held, fcntl.LOCK_EX)
    threading.Timer(0.5, lambda: fcntl.flock(held, fcntl.LOCK_UN)).start()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if run == "update":
            messages = neardup.Index("i.ndx").update(RECORDS[5:]).messages
        else:
            neardup.Index.build("b.ndx", [{"id": "b", "text": BODY}])
            neardup.Index("i.ndx").merge("b.ndx")
            messages = None
    print(json.dumps([messages, [(w.category.__name__, str(w.message)) for w in caught]]))
""",
        tmp_path,
        timeout=30,
    )
    assert done.returncode == 0, done.stderr
    assert "locked" not in done.stderr, done.stderr
    note = "note: i.ndx is locked by another neardup run; waiting for it to finish"
    update, merge = (json.loads(line) for line in done.stdout.splitlines())
    assert update[0] == [note], update
    assert update[1] == [["NeardupWarning", note]], update
    assert merge[1] == [["NeardupWarning", note]], merge


@pytest.mark.parametrize(
    "option", ["threads", "min_words", "seed", "max_gap", "threshold", "memory_limit"]
)
def test_a_bool_is_not_a_count(option):
    # threads=True ran on 1 thread, min_words=True took 1 word.
    with pytest.raises(TypeError, match=f"--{option.replace('_', '-')}: expected .*True"):
        neardup.scan(RECORDS, **{option: True})


@pytest.mark.parametrize("option", ["max_dup_docs", "max_dup_blocks", "max_dup_bytes"])
def test_a_bool_is_not_a_share(option):
    with pytest.raises(TypeError, match=f"--{option.replace('_', '-')}: expected a share"):
        neardup.check(RECORDS, **{option: True})


def test_a_count_of_another_integer_type_is_taken():
    class Count:
        def __init__(self, n):
            self.n = n

        def __index__(self):
            return self.n

    taken = neardup.scan(RECORDS, threads=Count(1), min_words=Count(6), seed=Count(42))
    assert taken.report == neardup.scan(RECORDS, threads=1, min_words=6, seed=42).report
    numpy = pytest.importorskip("numpy")
    assert (
        neardup.scan(RECORDS, threads=numpy.int64(1), min_words=numpy.uint8(6)).report
        == taken.report
    )
    assert neardup.check(RECORDS, max_dup_docs=numpy.float64(0.5)).passed


@pytest.mark.parametrize(
    "options, says",
    [
        ({"name": "x\ud800"}, r"name=: 'x\\ud800' holds a lone surrogate '\\ud800'"),
        ({"glob": "*\udcff.txt"}, r"--glob: '\*\\udcff.txt' holds a lone surrogate"),
        ({"glob": ["*.txt", "\ud800"]}, r"--glob: '\\ud800' holds a lone surrogate"),
        ({"text_field": "t\ud800"}, r"--text-field: 't\\ud800' holds a lone surrogate"),
    ],
    ids=["name", "glob", "glob-list", "text_field"],
)
def test_an_option_that_is_not_text_is_named(options, says):
    # UnicodeEncodeError ("while processing 'name'"), naming no option.
    with pytest.raises(neardup.NeardupError, match=says):
        neardup.scan(RECORDS, **options)
    if "name" in options:
        with pytest.raises(neardup.NeardupError, match=says):
            neardup.clean_stream([RECORDS], **options)


def test_a_path_option_that_is_not_utf8_is_still_a_path(tmp_path):
    # A file name that is not UTF-8 comes from Python with its bytes as
    # surrogates; unlike a string option, a path takes them as those bytes.
    index = str(tmp_path / os.fsdecode(b"i\xff.ndx"))
    neardup.Index.build(index, RECORDS[:5])
    result = neardup.scan(RECORDS, index=index, tmp_dir=str(tmp_path / os.fsdecode(b"t\xfe")))
    assert result.report["summary"]["dropped_documents"] == 5
    assert os.fsencode(os.path.basename(index)) in os.listdir(os.fsencode(tmp_path))


def test_arrow_timestamps_are_read_as_the_cli_reads_parquet(cli, tmp_path):
    # A timestamp("ns") column with nanoseconds raised pyarrow's ValueError in
    # to_pylist, naming no record; and other timestamps came out as Python's
    # isoformat (`.500000`, `+00:00`), not as the CLI reads the same column
    # of a Parquet file (`.5`, `Z`).
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    base = 1_700_000_000 * 10**9
    # Three copies of one text: the newest by `seen` is kept.
    table = pa.table(
        {
            "id": pa.array([base + 1, base + 500_000_000, base + 2_000_000_000], pa.timestamp("ns")),
            "text": [BODY] * 3,
            "seen": pa.array([base + 3, base + 2, base + 1], pa.timestamp("ns", tz="UTC")),
            "ms": pa.array([base // 10**6 + 1, None, base // 10**6], pa.timestamp("ms")),
        }
    )
    pq.write_table(table, tmp_path / "t.parquet")
    def decided(report):
        return [
            (c["representative"]["id"], c["kept"]["id"],
             [(m["document"]["id"], m["kept"]) for m in c["members"]])
            for c in report["near_duplicates"]["cluster_list"]
        ]

    for keep in ("first", "newest:seen", "newest:ms"):
        done = cli.run("scan", tmp_path / "t.parquet", "--keep", keep, "--json", "-q")
        expected = decided(json.loads(done.stdout))
        assert expected and expected == decided(neardup.scan(table, keep=keep).report), keep
        batches = table.to_batches(max_chunksize=1)
        assert expected == decided(neardup.scan(batches, keep=keep).report), keep
    records = neardup.clean(table, keep="newest:seen").records
    assert [(r["id"], r["seen"], r["ms"]) for r in records] == [
        ("2023-11-14T22:13:20.000000001", "2023-11-14T22:13:20.000000003Z", "2023-11-14T22:13:20.001")
    ]
    # A time the CLI cannot write either is named by its record.
    far = pa.table({"id": pa.array([0, 2**62], pa.timestamp("s")), "text": [BODY] * 2})
    with pytest.raises(neardup.NeardupError, match=r"<records>:2: column 'id' holds a time out of range"):
        neardup.scan(far)


def test_timestamps_in_structs_and_lists_are_written_as_top_level_ones():
    # A timestamp("ns") in a struct or a list column raised pyarrow's
    # ValueError ("Nanosecond resolution temporal type ... is not safely
    # convertible"), naming no record: only top-level columns were rewritten.
    pa = pytest.importorskip("pyarrow")
    ns = [1_700_000_000 * 10**9 + 1, 1_700_000_000 * 10**9 + 500_000_000, None]
    top = pa.array(ns, pa.timestamp("ns", tz="UTC"))
    struct = pa.StructArray.from_arrays(
        [top, pa.array([1, 2, 3])], names=["seen", "n"], mask=pa.array([False, False, True])
    )
    lists = pa.array([[ns[0], None], None, [ns[1]]], pa.list_(pa.timestamp("ns", tz="UTC")))
    deep = pa.array(
        [[{"at": ns[0]}], [], [{"at": ns[1]}]],
        pa.large_list(pa.struct([("at", pa.timestamp("ns", tz="UTC"))])),
    )
    other = "other words entirely different from those above, and then some more"
    table = pa.table(
        {"id": ["a", "b", "c"], "text": [BODY, BODY, other], "top": top,
         "s": struct, "l": lists, "d": deep}
    )
    for data in (table, table.slice(1), table.to_batches(max_chunksize=1)):
        records = neardup.clean(data).records
        for r in records:
            # Each nested time is the string its top-level twin is written as.
            if r["s"] is not None:
                assert r["s"]["seen"] == r["top"] and r["top"].endswith("Z")
        by_id = {r["id"]: r for r in records}
        if "a" in by_id:
            a = by_id["a"]
            assert a["top"] == "2023-11-14T22:13:20.000000001Z"
            assert a["s"] == {"seen": a["top"], "n": 1}
            assert a["l"] == [a["top"], None] and a["d"] == [{"at": a["top"]}]
        c = by_id["c"]
        assert c["s"] is None and c["l"] == ["2023-11-14T22:13:20.5Z"]
        assert c["d"] == [{"at": "2023-11-14T22:13:20.5Z"}]
    # Values behind a null list (a list array built from offsets and a
    # mask) are not dropped: the offsets still span them.
    offsets = pa.array([0, 2, 4, 5], pa.int32())
    hidden = pa.ListArray.from_arrays(
        offsets, pa.array(ns[:2] * 2 + [ns[1]], pa.timestamp("ns")), mask=pa.array([False, True, False])
    )
    records = neardup.clean(
        pa.table({"id": ["a", "b", "c"], "text": [BODY, other, "a third text, nothing like the two others"], "l": hidden})
    ).records
    assert [r["l"] for r in records] == [
        ["2023-11-14T22:13:20.000000001", "2023-11-14T22:13:20.5"], None, ["2023-11-14T22:13:20.5"]
    ]
    # A map or a fixed-size list of times is refused by name, not with
    # pyarrow's ValueError.
    for odd in (
        pa.array([[("k", ns[0])]] * 3, pa.map_(pa.string(), pa.timestamp("ns"))),
        pa.array([[ns[0]]] * 3, pa.list_(pa.timestamp("ns"), 1)),
    ):
        with pytest.raises(neardup.NeardupError, match=r"column 'odd' is a .* of timestamps"):
            neardup.scan(pa.table({"id": ["a", "b", "c"], "text": [BODY] * 3, "odd": odd}))
    # A time out of range inside a list is named by its record.
    far = pa.table(
        {"id": ["x", "y"], "text": [BODY] * 2,
         "l": pa.array([[0], [0, 2**62]], pa.list_(pa.timestamp("s")))}
    )
    with pytest.raises(neardup.NeardupError, match=r"<records>:2: column 'l' holds a time out of range"):
        neardup.scan(far)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs")
@pytest.mark.parametrize("memory_limit", [None, "64M"])
def test_ctrl_c_while_a_fifo_waits_for_its_writer_raises_at_once(tmp_path, memory_limit):
    # clean(paths=[fifo]) blocked in open() until a writer came, and Ctrl-C
    # did not reach Python before then: for ever, with no writer.
    os.mkfifo(tmp_path / "in.fifo")
    done = python(
        f"""
interrupted(lambda: neardup.clean(paths=["in.fifo"], out_dir="out", memory_limit={memory_limit!r}))
print(sorted(os.listdir(".")))
""",
        tmp_path,
        timeout=20,
    )
    assert done.returncode == 0, done.stderr
    said, left = done.stdout.splitlines()
    # Sent after 0.5 s, raised within a second or two.
    assert said.split()[0] == "KeyboardInterrupt" and int(said.split()[1]) <= 2, said
    assert left == "['in.fifo']", left


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="flock")
def test_ctrl_c_while_another_run_holds_the_index_raises_at_once(tmp_path):
    # An update waited for the index's lock in a blocking flock, and Ctrl-C
    # did not reach Python until the other run let go of it.
    done = python(
        """
import fcntl, hashlib
neardup.Index.build("i.ndx", RECORDS[:10])
before = hashlib.sha256(open("i.ndx", "rb").read()).hexdigest()
holder = open("i.ndx.lock", "a")
fcntl.flock(holder, fcntl.LOCK_EX)
interrupted(lambda: neardup.Index("i.ndx").update(RECORDS[10:]))
after = hashlib.sha256(open("i.ndx", "rb").read()).hexdigest()
print(before == after, neardup.Index("i.ndx").documents)
""",
        tmp_path,
        timeout=20,
    )
    assert done.returncode == 0, done.stderr
    said, index = done.stdout.splitlines()
    # Sent after 0.5 s, raised within a second or two.
    assert said.split()[0] == "KeyboardInterrupt" and int(said.split()[1]) <= 2, said
    assert index == "True 10", index


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs")
def test_a_fifo_is_read_once_its_writer_comes(tmp_path, cli):
    # The FIFO is opened without waiting, then waited on: a writer that comes
    # later is read to its end (the package and the CLI), and one that comes
    # and goes without a byte is an empty input.
    fifo = tmp_path / "in.fifo"
    os.mkfifo(fifo)
    lines = "".join(json.dumps(r) + "\n" for r in RECORDS[:3] + RECORDS[:1])

    def write(text, delay):
        time.sleep(delay)
        with open(fifo, "w") as f:
            f.write(text)

    import threading
    import time

    for text in (lines, ""):
        writer = threading.Thread(target=write, args=(text, 0.3))
        writer.start()
        result = neardup.clean(paths=[fifo])
        writer.join()
        assert [r["id"] for r in result.records or []] == (["0", "1", "2"] if text else [])
    writer = threading.Thread(target=write, args=(lines, 0.3))
    writer.start()
    done = cli.run("scan", fifo, "--json", "-q")
    writer.join()
    assert json.loads(done.stdout)["summary"]["dropped_documents"] == 1
