"""The package under a careless or hostile caller, session 35 (issue 14): a
forked child and its parent's index locks. The whole pass is
benches/pyhostile.py (its `s35-` cases). Each case runs in a Python of its
own, with a timeout: what failed here hung."""

from functools import partial

import pytest

from conftest import BODY, python as run_python

PRELUDE = f"""
import os, signal, sys, threading, time
import neardup
BODY = {BODY!r}
def batch(tag, n=20):
    return [{{"id": f"{{tag}}-{{j}}", "text": BODY + f" {{tag}} {{j}}"}} for j in range(n)]
def child_status(pid):
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)
def updating(*more):
    # An update of i.ndx (built of 2 records) on a thread, held once it has
    # read 20 records until the event it gives is set (then it reads `more`).
    neardup.Index.build("i.ndx", batch("first", 2))
    reading, go = threading.Event(), threading.Event()
    def records():
        yield from batch("a")
        reading.set()
        go.wait(60)
        yield from more
    t = threading.Thread(target=lambda: neardup.Index("i.ndx").update(records()))
    t.start()
    assert reading.wait(60)
    return t, go
def update_later():
    # Another update of i.ndx on a thread, waited for 20 s at most.
    later = threading.Thread(target=lambda: neardup.Index("i.ndx").update(batch("later")), daemon=True)
    later.start()
    later.join(20)
    print("waited" if later.is_alive() else "updated", neardup.Index("i.ndx").documents)
"""
python = partial(run_python, timeout=90, prelude=PRELUDE)


def test_a_forked_child_waits_for_its_parents_update_and_then_updates(tmp_path):
    # A thread of the parent updates i.ndx (its lock held while its records
    # are read); the main thread forks. The child inherited the lock's
    # descriptors, which no thread of the child would ever close: its own
    # update of i.ndx waited for ever (its alarm ended it), even after the
    # parent's update was done.
    done = python(
        """
t, go = updating(*batch("b"))
pid = os.fork()
if pid == 0:
    signal.alarm(30)
    neardup.Index("i.ndx").update(batch("child", 1))
    os._exit(0)
time.sleep(0.5)
go.set()
t.join()
status = child_status(pid)
print("child", status, "documents", neardup.Index("i.ndx").documents)
""",
        tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["child", "0", "documents", str(2 + 40 + 1)], done.stdout


def test_a_parent_updates_its_index_while_a_child_forked_during_an_update_lives(tmp_path):
    # The child (a pool's worker, say) only lives on; the parent's update
    # ends, and its next update of the same index waited for as long as the
    # child lived: the child's copies of the lock kept it held.
    done = python(
        """
t, go = updating()
pid = os.fork()
if pid == 0:
    signal.alarm(60)
    time.sleep(60)
    os._exit(0)
go.set()
t.join()
update_later()
os.kill(pid, signal.SIGKILL)
child_status(pid)
""",
        tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["updated", str(2 + 20 + 20)], done.stdout


def test_a_child_forked_by_a_streams_reader_is_not_refused_its_update(tmp_path):
    # The main thread reads a stream that updates i.ndx, so the registry of
    # locks notes i.ndx as held by this thread's stream; a child forked then
    # (the same thread in the child) was refused its update of i.ndx with
    # NeardupError ("a stream this thread reads ... holds this index's
    # lock"), though no stream of its own holds anything. It waits for the
    # parent's stream instead, as for another process's run.
    done = python(
        """
neardup.Index.build("i.ndx", batch("first", 2))
reading, go = threading.Event(), threading.Event()
def batches():
    yield batch("s", 50)
    reading.set()
    go.wait(60)
s = neardup.clean_stream(batches(), index="i.ndx", update=True)
assert reading.wait(60)
pid = os.fork()
if pid == 0:
    signal.alarm(30)
    try:
        neardup.Index("i.ndx").update(batch("child", 1))
    except neardup.NeardupError as e:
        print("child refused:", e, flush=True)
        os._exit(3)
    os._exit(0)
time.sleep(0.5)
go.set()
rest = list(s)
status = child_status(pid)
print("child", status, "documents", neardup.Index("i.ndx").documents)
""",
        tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split()[-4:] == ["child", "0", "documents", str(2 + 50 + 1)], done.stdout


def test_a_multiprocessing_fork_pool_made_during_an_update_updates_the_index(tmp_path):
    # multiprocessing's fork start method, its workers made while another
    # thread updates the index: each worker's update of it (after the
    # parent's) ends, and the parent's next update too, while the pool lives.
    done = python(
        """
import multiprocessing as mp
t, go = updating()
def work(k):
    signal.alarm(30)
    return neardup.Index("i.ndx").update(batch(f"w{k}", 3)).status
with mp.get_context("fork").Pool(2) as pool:
    statuses = pool.map_async(work, range(2), chunksize=1)
    go.set()
    t.join()
    print("workers", statuses.get(60))
    update_later()
""",
        tmp_path,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["workers", "[0,", "0]", "updated", str(2 + 20 + 6 + 20)], done.stdout


def test_an_open_file_or_bytes_as_records_is_refused_and_bytes_paths_are_read(tmp_path, cli):
    # `clean(open("docs.jsonl"))` read the file's lines as texts: each JSON
    # line deduplicated as a string, the records lost, with no error; bytes
    # as records gave "record 0: ... got int". Bytes paths (os.fsencode) were
    # refused by paths=, and a PathLike giving bytes failed in pyo3.
    import os

    import neardup

    path = tmp_path / "in.jsonl"
    path.write_text("".join(f'{{"id": {i}, "text": "{BODY} {i % 2}"}}\n' for i in range(6)))
    for records in (open(path), open(path, "rb"), os.fsencode(path)):
        with pytest.raises(TypeError, match="records is .*: give a file to read as the CLI reads it by its path"):
            neardup.clean(records)
        if hasattr(records, "close"):
            records.close()

    class BytesPath(os.PathLike):
        def __fspath__(self):
            return os.fsencode(path)

    expected = cli.run("clean", path, "-q").stdout
    for paths in (os.fsencode(path), [os.fsencode(path)], [BytesPath()]):
        assert neardup.clean(paths=paths).output == expected
    with open(path) as f, pytest.raises(TypeError, match=r"give the file's name \(f\.name\)"):
        neardup.clean(paths=[f])
