"""neardup from Python against the CLI: the same records kept, the same bytes
written, the same report, the same error messages."""

import doctest
import json
import random
import threading
from pathlib import Path

import pytest

import neardup
from conftest import DATA, ROOT, SHARED, python, read_jsonl, write_jsonl

WIRE = DATA / "near-duplicate-docs" / "wire.jsonl"
RECORDS = DATA / "jsonl" / "records.jsonl"


def corpus(n: int = 80) -> list:
    """Records that repeat each other across a corpus: the test data's
    records again and again, under new ids, some with a line added."""
    base = read_jsonl(WIRE) + read_jsonl(RECORDS)
    out = []
    for i in range(n):
        record = dict(base[i % len(base)])
        record["id"] = f"{record.get('id', 'r')}-{i}"
        if i % 3 == 1:
            record["text"] = f"Dateline {i}.\n\n" + record["text"]
        out.append(record)
    return out


@pytest.mark.parametrize("threads", [1, 3])
@pytest.mark.parametrize("path", [WIRE, RECORDS], ids=["wire", "records"])
def test_clean_over_records_writes_what_the_cli_writes(cli, tmp_path, path, threads):
    records = read_jsonl(path)
    # The CLI reads the records as the package hands them over.
    given = tmp_path / "given.jsonl"
    write_jsonl(given, records)
    out, report = cli.clean(given, "--threads", threads, tmp=tmp_path)
    result = neardup.clean(records, name=str(given), threads=threads)
    assert result.output == out
    assert result.records == read_jsonl(tmp_path / "cli-out")
    assert result.report == json.loads(report)
    assert result.report_json == report
    # The records kept are those the CLI keeps from the file as it is.
    kept, _ = cli.clean(path, tmp=tmp_path)
    assert result.records == [json.loads(line) for line in kept.splitlines()]


@pytest.mark.parametrize("threads", [1, 4])
@pytest.mark.parametrize(
    "case, args, options",
    [
        ("near-duplicate-docs/wire.jsonl", [], {}),
        (
            "near-duplicate-docs/wire.jsonl",
            ["--annotate", "--keep", "newest:date", "--measure", "containment"],
            {"annotate": True, "keep": "newest:date", "measure": "containment"},
        ),
        (
            "near-duplicate-docs/wire.jsonl",
            ["--method", "simhash", "--hamming", "6"],
            {"method": "simhash", "hamming": 6},
        ),
        ("seed/article.txt", ["--preview", "20"], {"preview": 20}),
        ("short-blocks-dropped/page.txt", ["--drop-short"], {"drop_short": True}),
    ],
)
def test_clean_over_a_path_is_the_cli(cli, tmp_path, case, args, options, threads):
    path = DATA / case
    out, report = cli.clean(path, "--threads", threads, *args, tmp=tmp_path)
    result = neardup.clean(path, threads=threads, **options)
    assert result.output == out
    assert result.report_json == report
    if path.suffix == ".jsonl":
        assert result.records == [json.loads(line) for line in out.splitlines()]
    else:
        assert result.records is None
        assert result.text == out.decode()


def test_annotations_are_the_fields_annotate_adds(tmp_path):
    result = neardup.clean(read_jsonl(WIRE), annotate=True, keep="newest:date")
    assert len(result.records) == len(read_jsonl(WIRE))
    assert len(result.annotations) == len(result.records)
    for record, note in zip(result.records, result.annotations):
        assert note == {k: v for k, v in record.items() if k.startswith("neardup_")}
        assert {"neardup_cluster", "neardup_duplicate", "neardup_representative"} <= set(note)
    dropped = [n for n in result.annotations if n["neardup_duplicate"]]
    # The duplicates marked are the records a run without --annotate drops.
    plain = neardup.clean(read_jsonl(WIRE), keep="newest:date")
    assert plain.annotations is None
    kept = {r["id"] for r in plain.records}
    assert [r["id"] for r in result.records if r["neardup_duplicate"]] == [
        r["id"] for r in read_jsonl(WIRE) if r["id"] not in kept
    ]
    assert len(dropped) == plain.report["summary"]["dropped_documents"] > 0


def test_scan_reports_as_the_cli_and_writes_nothing(cli):
    done = cli.run("scan", "--json", "-q", DATA / "seed" / "article.txt")
    result = neardup.scan(DATA / "seed" / "article.txt")
    assert result.report_json == done.stdout.decode()
    assert result.records is None and result.output == b""
    summary = result.report["summary"]
    assert (summary["removed_blocks"], summary["blocks"]) == (14, 32)


def test_check_gives_the_verdict(cli):
    result = neardup.check(read_jsonl(WIRE), max_dup_docs="5%")
    assert result.passed is False and result.status == 1
    assert neardup.check(read_jsonl(WIRE), max_dup_docs=0.9, max_dup_bytes=1.0).passed


def test_strings_are_records_of_their_own():
    body = "A paragraph long enough to be judged on its own words, as any other."
    texts = [body, "Something else entirely, with words of its own to say here.", body]
    result = neardup.clean(texts)
    assert result.records == [{"id": 0, "text": texts[0]}, {"id": 1, "text": texts[1]}]
    assert result.report["inputs"][0]["path"] == "<records>"


def test_arrow_tables_and_batches_give_the_records_dicts_give():
    pa = pytest.importorskip("pyarrow")
    records = read_jsonl(WIRE)
    table = pa.Table.from_pylist(records)
    expected = neardup.clean(records)
    assert neardup.clean(table).records == expected.records
    batches = iter(table.to_batches(max_chunksize=2))
    assert neardup.clean(batches).records == expected.records
    assert neardup.clean(table).to_arrow().column("id").to_pylist() == [
        r["id"] for r in expected.records
    ]


def test_arrow_columns_of_times_dates_and_decimals_are_read():
    # pyarrow gives datetime, date and Decimal objects for such columns,
    # which json could not write: the run stopped with a TypeError.
    pa = pytest.importorskip("pyarrow")
    import datetime
    import decimal

    text = "Alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu."
    table = pa.table(
        {
            "id": pa.array([decimal.Decimal("1.10"), decimal.Decimal("2.20")], pa.decimal128(3, 2)),
            "text": [text, text],
            "seen": pa.array([datetime.datetime(2024, 1, 1), datetime.datetime(2024, 1, 2)]),
            "day": pa.array([datetime.date(2024, 1, 1), datetime.date(2024, 1, 2)]),
        }
    )
    result = neardup.clean(table)
    assert result.records == [
        {"id": "1.10", "text": text, "seen": "2024-01-01T00:00:00", "day": "2024-01-01"}
    ]
    with pytest.raises(TypeError, match=r"record 0: a value of type object is not JSON"):
        neardup.clean([{"id": 1, "text": text, "x": object()}])


def test_other_fields_are_kept_as_they_were():
    records = [
        {"id": 7, "text": "Alpha beta gamma delta epsilon zeta eta theta iota.", "meta": {"a": [1, 2]}},
        {"id": 8, "text": "Alpha beta gamma delta epsilon zeta eta theta iota.", "url": "x"},
        {"id": 9, "text": "Something else entirely, with words of its own to say.", "score": 0.5},
    ]
    assert neardup.clean(records).records == [records[0], records[2]]


def test_options_are_refused_with_the_cli_messages(cli, tmp_path):
    records = read_jsonl(WIRE)
    for args, options in [
        (["--threshold", "1.5"], {"threshold": 1.5}),
        (["--keep", "oldest"], {"keep": "oldest"}),
        (["--num-perm", "0"], {"num_perm": 0}),
        (["--bands", "300", "--rows", "2"], {"bands": 300, "rows": 2}),
    ]:
        done = cli.run("clean", *args, WIRE, check=False)
        assert done.returncode == 2
        message = done.stderr.decode().strip().removeprefix("neardup: ")
        with pytest.raises(neardup.NeardupError) as raised:
            neardup.clean(records, **options)
        assert str(raised.value) == message
        assert isinstance(raised.value, ValueError)
    with pytest.raises(neardup.NeardupError, match=r"invalid value 'docz' for '--level <LEVEL>'"):
        neardup.clean(records, level="docz")
    with pytest.raises(TypeError, match="unexpected keyword argument 'min_word'"):
        neardup.clean(records, min_word=3)
    with pytest.raises(TypeError, match=r"--min-words: expected a whole number from 0 \(that fits the option\), got 'three' \(str\)"):
        neardup.clean(records, min_words="three")
    with pytest.raises(TypeError, match=r"--threads: expected a whole number from 0 \(that fits the option\), got -1 \(int\)"):
        neardup.clean(records, threads=-1)
    with pytest.raises(TypeError, match=r"--threshold: expected a number, got 'x' \(str\)"):
        neardup.clean(records, threshold="x")
    with pytest.raises(neardup.NeardupError, match="--memory-limit 1 is less than its minimum, 64K"):
        neardup.clean(records, memory_limit=1)
    with pytest.raises(neardup.NeardupError, match="required arguments were not provided: --rows"):
        neardup.clean(records, bands=4)


def test_bad_records_are_named_by_line_as_the_cli_names_them(cli):
    bad = [{"id": "a", "text": "fine text here"}, {"id": "b", "text": 5}]
    jsonl = b"".join(json.dumps(r).encode() + b"\n" for r in bad)
    done = cli.run("clean", "-", stdin=jsonl, check=False)
    message = done.stderr.decode().strip().removeprefix("neardup: ")
    assert message.startswith("<stdin>:2: ")
    with pytest.raises(neardup.NeardupError) as raised:
        neardup.clean(bad)
    assert str(raised.value) == message.replace("<stdin>", "<records>")
    with pytest.raises(TypeError, match="record 1: expected a dict or a string, got int"):
        neardup.clean(["text", 5])


def test_a_missing_path_is_an_os_error(tmp_path):
    missing = tmp_path / "missing.jsonl"
    with pytest.raises(neardup.NeardupOSError) as raised:
        neardup.clean(missing)
    assert isinstance(raised.value, OSError)
    assert str(raised.value).startswith(f"{missing}: ")


def test_an_exception_in_the_records_is_raised_as_it_was():
    def records():
        yield {"id": 1, "text": "one two three four five six seven eight"}
        raise KeyError("from the caller")

    with pytest.raises(KeyError, match="from the caller"):
        neardup.clean(records())


@pytest.mark.parametrize("threads", [1, 3])
def test_a_stream_gives_the_records_a_whole_run_gives(cli, tmp_path, threads):
    records = corpus(120)
    whole = neardup.clean(records, threads=threads)
    batches = (records[i : i + 7] for i in range(0, len(records), 7))
    got = []
    with neardup.clean_stream(batches, memory_limit="64K", batch_size=5, threads=threads) as stream:
        for batch in stream:
            assert 1 <= len(batch) <= 5
            got.extend(batch)
    assert got == whole.records
    # The CLI in chunks says the same.
    given = tmp_path / "given.jsonl"
    write_jsonl(given, records)
    out, report = cli.clean(given, "--memory-limit", "64K", "--threads", threads, tmp=tmp_path)
    assert [json.loads(line) for line in out.splitlines()] == got
    assert stream.report["summary"] == json.loads(report)["summary"]
    assert stream.report["summary"]["dropped_documents"] > 0


def test_a_stream_closed_early_stops_the_run():
    # Some megabytes, read a megabyte at a time.
    records = corpus(4000)
    read = []

    def batches():
        for i in range(0, len(records), 10):
            read.append(i)
            yield records[i : i + 10]

    stream = neardup.clean_stream(batches(), memory_limit="64K", batch_size=1)
    first = next(stream)
    assert first
    stream.close()
    assert len(read) < len(records) // 10 // 2


def test_progress_is_told_to_a_callback():
    events = []
    neardup.clean(corpus(30), progress=events.append)
    stages = [e[1] for e in events if e[0] == "stage"]
    assert stages and all(isinstance(s, str) for s in stages)
    assert any(e[0] == "advance" for e in events)


def test_the_engine_runs_without_the_gil(tmp_path):
    # The engine calls back from its own worker threads: were the GIL held
    # by the caller while it runs, the first callback would never return.
    # Meanwhile another Python thread keeps running.
    path = tmp_path / "corpus.jsonl"
    write_jsonl(path, corpus(2000))
    callers = set()
    ticks = []
    stop = threading.Event()

    def tick():
        while not stop.is_set():
            ticks.append(1)

    def run():
        neardup.scan(path, progress=lambda event: callers.add(threading.get_ident()))

    ticker = threading.Thread(target=tick, daemon=True)
    ticker.start()
    before = len(ticks)
    runner = threading.Thread(target=run, daemon=True)
    runner.start()
    runner.join(timeout=120)
    stop.set()
    assert not runner.is_alive(), "the run did not finish: the GIL was held"
    assert callers and runner.ident not in callers
    assert len(ticks) > before


def two_batches(tmp_path: Path) -> tuple:
    """Two batches of 30 records that repeat each other, also written as
    first.jsonl and second.jsonl for the CLI."""
    records = corpus(60)
    first, second = records[:30], records[30:]
    write_jsonl(tmp_path / "first.jsonl", first)
    write_jsonl(tmp_path / "second.jsonl", second)
    return first, second


def test_an_index_finds_what_an_earlier_batch_held(cli, tmp_path):
    first, second = two_batches(tmp_path)
    index = neardup.Index.build(tmp_path / "py.ndx", first)
    assert index.documents == 30
    cli.run("index", "build", "-q", "-o", tmp_path / "cli.ndx", tmp_path / "first.jsonl")
    out, report = cli.clean(
        tmp_path / "second.jsonl", "--index", tmp_path / "cli.ndx", tmp=tmp_path
    )
    result = index.clean(second, name=str(tmp_path / "second.jsonl"))
    assert result.output == out
    assert result.report["summary"] == json.loads(report)["summary"]
    assert result.report["summary"]["dropped_documents"] > 0
    # An update adds the batch; the index then holds both.
    index.update(second)
    assert index.stats(verify=True)["documents"] == 60
    assert neardup.Index(tmp_path / "py.ndx").stats()["runs"] == 2
    # A batch seen before is all duplicates now.
    again = index.clean(second)
    assert again.records == []


def test_an_index_that_is_not_there_is_named(tmp_path):
    with pytest.raises(neardup.NeardupOSError, match="missing.ndx"):
        neardup.Index(tmp_path / "missing.ndx")
    with pytest.raises(neardup.NeardupError, match="no such index"):
        neardup.scan(read_jsonl(WIRE), index=tmp_path / "missing.ndx")
    created = neardup.Index.create(tmp_path / "new.ndx")
    created.update(read_jsonl(WIRE))
    assert created.documents == len(read_jsonl(WIRE))


def test_out_dir_writes_the_tree_the_cli_writes(cli, tmp_path):
    records = corpus(40)
    (tmp_path / "in" / "b").mkdir(parents=True)
    write_jsonl(tmp_path / "in" / "a.jsonl", records[:20])
    write_jsonl(tmp_path / "in" / "b" / "c.jsonl", records[20:])
    cli.run("clean", "-q", tmp_path / "in", "--out-dir", tmp_path / "cli")
    result = neardup.clean(tmp_path / "in", out_dir=tmp_path / "py")
    assert result.records is None
    written = sorted(p.relative_to(tmp_path / "cli") for p in (tmp_path / "cli").rglob("*.jsonl"))
    assert written == [Path("a.jsonl"), Path("b/c.jsonl")]
    for name in written:
        assert (tmp_path / "py" / name).read_bytes() == (tmp_path / "cli" / name).read_bytes()
    # The second file repeats the first: something was dropped.
    assert result.report["summary"]["dropped_documents"] > 0
    with pytest.raises(TypeError, match="out_dir"):
        neardup.scan(tmp_path / "in", out_dir=tmp_path / "x")


def test_paths_are_named_by_paths_and_out_dir_takes_only_paths(cli, tmp_path):
    records = corpus(40)
    write_jsonl(tmp_path / "a.jsonl", records[:20])
    write_jsonl(tmp_path / "b.jsonl", records[20:])
    cli.run("clean", "-q", tmp_path / "a.jsonl", tmp_path / "b.jsonl", "--out-dir", tmp_path / "cli")
    # paths= takes strings as file names (a list of strings as records is texts).
    result = neardup.clean(
        paths=[str(tmp_path / "a.jsonl"), tmp_path / "b.jsonl"], out_dir=tmp_path / "py"
    )
    assert result.records is None
    for name in ["a.jsonl", "b.jsonl"]:
        assert (tmp_path / "py" / name).read_bytes() == (tmp_path / "cli" / name).read_bytes()
    assert sorted(p.name for p in (tmp_path / "py").iterdir()) == ["a.jsonl", "b.jsonl"]
    # The same run from records-as-paths and paths= report alike.
    by_paths = neardup.scan(paths=str(tmp_path / "a.jsonl"))
    by_path = neardup.scan(tmp_path / "a.jsonl")
    assert by_paths.report == by_path.report
    # Strings in a list are texts: out_dir= with them (or any records) is
    # refused before anything is written, naming what to do.
    for records_given in (
        [str(tmp_path / "a.jsonl")],
        read_jsonl(tmp_path / "a.jsonl"),
    ):
        with pytest.raises(TypeError, match=r"out_dir=.*paths="):
            neardup.clean(records_given, out_dir=tmp_path / "texts")
    assert not (tmp_path / "texts").exists()
    # A list of strings without out_dir= is still texts, one record each.
    texts = neardup.clean([str(tmp_path / "a.jsonl")])
    assert texts.records == [{"id": 0, "text": str(tmp_path / "a.jsonl")}]
    # Ambiguous or wrong calls say so.
    with pytest.raises(TypeError, match="not both"):
        neardup.clean(records[:2], paths=[tmp_path / "a.jsonl"])
    with pytest.raises(TypeError, match="mix paths"):
        neardup.clean([tmp_path / "a.jsonl", "some text"])
    with pytest.raises(TypeError, match="item 1"):
        neardup.scan(paths=[tmp_path / "a.jsonl", 3])
    with pytest.raises(ValueError, match="empty"):
        neardup.scan(paths=[])
    with pytest.raises(TypeError, match="paths="):
        neardup.scan()
    # An index is built from paths= as from records.
    index = neardup.Index.build(tmp_path / "p.ndx", paths=[tmp_path / "a.jsonl"])
    from_records = neardup.Index.build(tmp_path / "r.ndx", read_jsonl(tmp_path / "a.jsonl"))
    assert index.documents == from_records.documents > 0
    again = index.clean(paths=[tmp_path / "a.jsonl"]).report["summary"]
    assert again == from_records.clean(read_jsonl(tmp_path / "a.jsonl")).report["summary"]
    assert again["dropped_documents"] == again["documents"]


def test_merged_indexes_hold_what_the_cli_merge_holds(cli, tmp_path):
    first, second = two_batches(tmp_path)
    a = neardup.Index.build(tmp_path / "a.ndx", first)
    b = neardup.Index.build(tmp_path / "b.ndx", second)
    merged = a.merge(b, tmp_path / "ab.ndx")
    assert merged.path == str(tmp_path / "ab.ndx")
    assert merged.stats(verify=True)["documents"] == 60
    # The CLI's merge of the same two indexes holds the same records.
    cli.run("index", "merge", tmp_path / "a.ndx", tmp_path / "b.ndx", "-o", tmp_path / "cli.ndx")
    mine, theirs = merged.stats(), neardup.Index(tmp_path / "cli.ndx").stats()
    for key in ("documents", "blocks", "exact_keys", "postings", "copies", "bucket_entries"):
        assert mine[key] == theirs[key], key
    # A batch checked against either merge gives the answer an index built
    # over both batches in one run gives: all of it is found again.
    out, _ = cli.clean(tmp_path / "second.jsonl", "--index", tmp_path / "cli.ndx", tmp=tmp_path)
    again = merged.clean(second, name=str(tmp_path / "second.jsonl"))
    assert again.output == out
    one_run = neardup.Index.build(tmp_path / "one-run.ndx", first + second)
    ideal = one_run.clean(second, name=str(tmp_path / "second.jsonl"))
    assert again.output == ideal.output
    assert again.report["summary"] == ideal.report["summary"]
    assert again.report["summary"]["dropped_documents"] == 30
    # Merging into the index itself (the default output) replaces it.
    a.merge(tmp_path / "b.ndx")
    assert neardup.Index(tmp_path / "a.ndx").documents == 60


def test_a_merge_the_cli_refuses_is_refused_and_changes_nothing(tmp_path):
    a = neardup.Index.build(tmp_path / "a.ndx", corpus(20))
    before = (tmp_path / "a.ndx").read_bytes()
    with pytest.raises(neardup.NeardupError, match="one index"):
        a.merge(a)
    other = neardup.Index.build(tmp_path / "o.ndx", corpus(20), threshold=0.7)
    with pytest.raises(neardup.NeardupError, match="other settings"):
        a.merge(other)
    with pytest.raises(neardup.NeardupOSError, match="missing.ndx"):
        a.merge(tmp_path / "missing.ndx")
    assert (tmp_path / "a.ndx").read_bytes() == before


def test_a_merge_takes_the_cli_memory_limit_and_tmp_dir(tmp_path):
    # Six-word records of a vocabulary of 60 words (their shingles shared by
    # many: many buckets to join), the later ones some copies of earlier ones.
    rng = random.Random(29)

    def short(i):
        return {"id": f"s{i}", "text": " ".join(f"v{rng.randrange(60)}" for _ in range(6))}

    first = [short(i) for i in range(4000)]
    later = [dict(first[rng.randrange(4000)], id=f"c{i}") if i % 5 == 0 else short(i) for i in range(4000)]
    a = neardup.Index.build(tmp_path / "a.ndx", first)
    neardup.Index.build(tmp_path / "b.ndx", later)
    before = (tmp_path / "a.ndx").read_bytes()
    # Too small a limit: the CLI's message, and nothing written.
    with pytest.raises(neardup.NeardupError, match="too large.*raise --memory-limit to"):
        a.merge(tmp_path / "b.ndx", tmp_path / "small.ndx", memory_limit="64K")
    assert not (tmp_path / "small.ndx").exists()
    assert (tmp_path / "a.ndx").read_bytes() == before
    # Bytes or a size, spilled under tmp_dir: the unlimited merge's records.
    whole = a.merge(tmp_path / "b.ndx", tmp_path / "whole.ndx").stats()
    for limit in [1 << 20, "4M"]:
        out = tmp_path / f"at-{limit}.ndx"
        merged = a.merge(tmp_path / "b.ndx", out, memory_limit=limit, tmp_dir=tmp_path)
        stats = merged.stats(verify=True)
        for key in ("documents", "blocks", "exact_keys", "postings", "copies", "bucket_entries"):
            assert stats[key] == whole[key], (limit, key)
    for wrong in [True, 1.5, ["1G"]]:
        with pytest.raises(TypeError, match="memory_limit"):
            a.merge(tmp_path / "b.ndx", tmp_path / "x.ndx", memory_limit=wrong)
    with pytest.raises(neardup.NeardupError, match="--memory-limit"):
        a.merge(tmp_path / "b.ndx", tmp_path / "x.ndx", memory_limit="lots")
    assert not (tmp_path / "x.ndx").exists()


@pytest.mark.parametrize("threads", [1, 2])
def test_news_provenance_keeps_the_ids_the_cli_keeps(cli, tmp_path, threads):
    path = SHARED / "news-provenance" / "docs.jsonl"
    if not path.exists():
        pytest.skip(f"{path} is not here (../shared/corpora is beside the clone only)")
    out = cli.run("clean", "-q", "--threads", threads, path).stdout
    expected = [json.loads(line)["id"] for line in out.splitlines()]
    result = neardup.clean(read_jsonl(path), threads=threads)
    assert [r["id"] for r in result.records] == expected
    assert len(expected) < len(read_jsonl(path))


def test_the_docstring_examples_run():
    tried = doctest.testmod(neardup)
    assert tried.attempted > 0 and tried.failed == 0


def test_the_readme_example_says_what_it_gives():
    readme = (ROOT / "README.md").read_text()
    section = readme.split("\n## Python\n", 1)[1]
    code = section.split("```python\n", 1)[1].split("```", 1)[0]
    namespace: dict = {}
    checked = 0
    for line in code.splitlines():
        statement, _, comment = line.partition("  # ")
        if comment and "=" not in statement:
            # `expression   # value: why`: the expression gives the value.
            said = comment.split(":", 1)[0].strip()
            assert repr(eval(statement, namespace)) == said, line
            checked += 1
        else:
            exec(statement, namespace)
    assert checked == 2


def test_a_progress_callback_that_raises_changes_no_file(tmp_path):
    # The engine cannot stop on a progress callback; it ran on and wrote
    # the --out-dir tree and the updated index, then raised.
    records = corpus(40)
    given = tmp_path / "given.jsonl"
    write_jsonl(given, records)

    def stop(event):
        if event[0] == "stage":
            raise RuntimeError("stop")

    with pytest.raises(RuntimeError, match="stop"):
        neardup.clean(paths=[given], out_dir=tmp_path / "od", progress=stop)
    index = neardup.Index.create(tmp_path / "seen.ndx")
    with pytest.raises(RuntimeError, match="stop"):
        index.update(records, progress=stop)
    with pytest.raises(RuntimeError, match="stop"):
        neardup.Index.build(tmp_path / "built.ndx", records, progress=stop)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["given.jsonl"]


# The head of a script whose progress callback sends SIGINT once the
# engine runs (on a thread of the engine's pool).
INTERRUPTING = """
import os, signal, neardup
def interrupt(event):
    if event[0] == "stage":
        os.kill(os.getpid(), signal.SIGINT)
"""


def python_lines(cwd, script):
    """Runs `script` in a Python of its own in `cwd`: its lines of output."""
    done = python(script, cwd, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout.split("\n")


def test_ctrl_c_during_a_run_changes_no_file(tmp_path):
    # SIGINT while the engine runs: KeyboardInterrupt once it returns, as
    # before, but nothing written (the run committed on a thread where
    # Python's handler does not run, and wrote the tree and the index).
    write_jsonl(tmp_path / "given.jsonl", corpus(40))
    script = INTERRUPTING + """
for run in (
    lambda: neardup.clean(paths=["given.jsonl"], out_dir="od", progress=interrupt),
    lambda: neardup.scan(paths=["given.jsonl"], index="seen.ndx", update=True, progress=interrupt),
):
    try:
        run()
        print("finished")
    except KeyboardInterrupt:
        print("interrupted")
print(sorted(os.listdir(".")))
"""
    lines = python_lines(tmp_path, script)
    assert lines[:3] == ["interrupted", "interrupted", "['given.jsonl']"], lines


def test_an_input_cut_short_while_read_leaves_python_running(tmp_path):
    # A log rotated with `copytruncate` while a run reads it: the file is cut
    # to nothing once the engine has read it. Mapped, reading its lost pages
    # faulted (SIGBUS) and ended the Python process, with no message. Files
    # are read by default: the run goes on with what it read. With
    # mmap=True (the CLI's default) the fault is still the process's end.
    script = """
import os, neardup
def cut(event):
    if event[0] == "stage" and event[1] != "read":
        os.truncate("app.jsonl", 0)
for run in (
    lambda: neardup.clean(paths=["app.jsonl"], out_dir="od", progress=cut),
    lambda: neardup.clean(paths=["app.jsonl"], progress=cut),
):
    with open("app.jsonl", "w") as f:
        f.write("".join('{"id": "r%d", "text": "record %d of a log"}\\n' % (i, i) for i in range(40000)))
    print(run().report["summary"]["documents"])
print(sorted(os.listdir(".")), len(os.listdir("od")), os.path.getsize("app.jsonl"))
"""
    lines = python_lines(tmp_path, script)
    assert lines[:3] == ["40000", "40000", "['app.jsonl', 'od'] 1 0"], lines


def test_a_run_that_fails_leaves_another_threads_lock_alone(tmp_path):
    # What runs create (directories, lock files) was one list for the
    # process: a run failing on one thread removed the lock file of an
    # update running on another, while that update held it.
    given = tmp_path / "given.jsonl"
    write_jsonl(given, corpus(40))
    index = tmp_path / "new" / "seen.ndx"
    lock = tmp_path / "new" / "seen.ndx.lock"
    started, failed = threading.Event(), threading.Event()
    done = []

    def wait(event):
        if event[0] == "stage" and not started.is_set():
            started.set()
            failed.wait(60)

    def update():
        neardup.scan(paths=[given], index=index, update=True, progress=wait)
        done.append("updated")

    a = threading.Thread(target=update)
    a.start()
    try:
        assert started.wait(60)
        assert lock.exists()
        with pytest.raises(neardup.NeardupOSError):
            neardup.scan(paths=[tmp_path / "missing.jsonl"])
        assert lock.exists()
    finally:
        failed.set()
        a.join()
    assert done == ["updated"]
    assert neardup.Index(index).documents == 40


def test_a_caller_that_handles_sigint_itself_keeps_its_run(tmp_path):
    # Runs are withdrawn on SIGINT only while it raises KeyboardInterrupt.
    write_jsonl(tmp_path / "given.jsonl", corpus(40))
    script = INTERRUPTING + """
signal.signal(signal.SIGINT, lambda *_: print("handled"))
neardup.clean(paths=["given.jsonl"], out_dir="od", progress=interrupt)
print(sorted(os.listdir(".")))
"""
    lines = python_lines(tmp_path, script)
    assert lines[:2] == ["handled", "['given.jsonl', 'od']"], lines


STREAM_LEFT = """
import json, os, random, sys, threading, neardup
rng = random.Random(1)
vocab = [f"w{i}" for i in range(3000)]
recs = [{"id": i, "text": " ".join(rng.choice(vocab) for _ in range(60))} for i in range(20000)]
stream = neardup.clean_stream(recs, memory_limit="1M", batch_size=10, index="s.ndx", update=True)
next(stream)
if sys.argv[1] == "break":
    del stream
    for batch in neardup.clean_stream(recs, memory_limit="1M", batch_size=10, index="b.ndx", update=True):
        break
    print(os.path.exists("b.ndx"))
    done = []
    t = threading.Thread(target=lambda: done.append(neardup.scan(recs[:100], index="b.ndx", update=True).status), daemon=True)
    t.start()
    t.join(60)
    print(done, neardup.Index("b.ndx").documents if done else None)
print("exiting", flush=True)
"""


def test_a_stream_left_with_break_stops_its_run(tmp_path):
    # The stream's thread held the Stream: left with `break`, it was never
    # collected, its run went on reading and held the index's lock, so the
    # next update waited for ever.
    done = python(STREAM_LEFT, tmp_path, "break", timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[:3] == ["False", "[0] 100", "exiting"], done.stdout


def test_exiting_with_a_stream_still_going_does_not_abort(tmp_path):
    # A run left going on the stream's thread when the interpreter exited
    # aborted the process (SIGABRT, exit -6) about one time in three.
    for _ in range(8):
        done = python(STREAM_LEFT, tmp_path, "held", timeout=300)
        assert done.returncode == 0 and done.stdout == "exiting\n", (done.returncode, done.stderr)
