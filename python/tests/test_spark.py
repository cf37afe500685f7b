"""The Spark job (`neardup.spark`) in local mode writes what `neardup clean`
writes, byte for byte, at any partition count.

Needs pyspark and Java 17 (skipped without pyspark), and the CLI (the `cli`
fixture of conftest.py)."""

import gzip
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pyspark = pytest.importorskip("pyspark")

from neardup import spark as neardup_spark  # noqa: E402

from conftest import ROOT, SHARED  # noqa: E402


def run_cli(cli, inputs, out, *flags):
    """`neardup clean INPUTS -o OUT FLAGS`: its line of totals."""
    done = cli.run("clean", *inputs, "-o", out, *flags)
    assert done.returncode == 0, done.stderr
    return done.stderr.decode()


@pytest.fixture(scope="module")
def spark():
    from pyspark.sql import SparkSession

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    session = (
        SparkSession.builder.master("local[2]")
        .appName("neardup tests")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


def spark_clean(*args, cwd=None):
    """`python -m neardup.spark clean ARGS...` run in `cwd`, its output as text."""
    return subprocess.run(
        [sys.executable, "-m", "neardup.spark", "clean", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
    )


def option_flags(options):
    flags = []
    for name, value in options.items():
        flag = "--" + name.replace("_", "-")
        flags += [flag] if value is True else [flag, str(value)]
    return flags


def same_as_cli(cli, spark, tmp_path, inputs, partitions, options=None, report=None):
    """The Spark job's output (and, with `report` a format, its report in
    that format) equal to the CLI's; without a report, its line of totals."""
    options = options or {}
    expected = tmp_path / "cli.jsonl"
    report_flags = ["--report", tmp_path / "cli.report", "--output-format", report] if report else []
    said = run_cli(cli, inputs, expected, *option_flags(options), *report_flags)
    got = tmp_path / f"spark-{partitions}.jsonl"
    figures = neardup_spark.clean(
        spark, [str(p) for p in inputs], str(got), options, partitions=partitions, quiet=True,
        report=str(tmp_path / "spark.report") if report else None, output_format=report or "text",
    )
    assert got.read_bytes() == expected.read_bytes()
    if report:
        assert said == ""
        written = (tmp_path / "spark.report").read_bytes()
        assert written == (tmp_path / "cli.report").read_bytes()
        figures["report"] = written
    else:
        assert f"neardup: {figures['totals']}\n" == said
    return figures


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """The 10,000-document corpus of benches/make_corpus.py."""
    out = tmp_path_factory.mktemp("corpus") / "c10k.jsonl"
    subprocess.run(
        [sys.executable, str(ROOT / "benches" / "make_corpus.py"), "--docs", "10000", "--out", str(out)],
        check=True,
        capture_output=True,
    )
    return out


@pytest.mark.parametrize("partitions", [1, 3, 8])
def test_generated_corpus_equals_the_cli(cli, spark, tmp_path, generated, partitions):
    """Output and JSON report, byte for byte."""
    figures = same_as_cli(cli, spark, tmp_path, [generated], partitions, report="json")
    # The corpus has both kinds of duplication, so the test can fail.
    assert figures["dropped_documents"] > 1000
    assert figures["removed_blocks"] > 1000
    assert figures["partitions"] >= partitions - 1
    report = json.loads(figures["report"])
    assert len(report["documents"]) > 1000 and len(report["syndicated"]) > 100
    assert report["near_duplicates"]["clusters"] > 100


@pytest.mark.parametrize("partitions", [1, 3, 8])
def test_news_provenance_equals_the_cli(cli, spark, tmp_path, partitions):
    """Output and text report (the default format), byte for byte."""
    docs = SHARED / "news-provenance" / "docs.jsonl"
    if not docs.exists():
        pytest.skip("../shared/corpora/news-provenance is not here")
    figures = same_as_cli(cli, spark, tmp_path, [docs], partitions, report="text")
    assert figures["dropped_documents"] > 0 and figures["removed_blocks"] > 0
    assert b"removed" in figures["report"]


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    """A small generated corpus cut into two files of a directory, the
    second with a byte-order mark, CRLF line ends, blank lines, escapes
    and no newline at its end."""
    base = tmp_path_factory.mktemp("small")
    src = base / "c.jsonl"
    subprocess.run(
        [sys.executable, str(ROOT / "benches" / "make_corpus.py"), "--docs", "1500", "--seed", "3", "--out", str(src)],
        check=True,
        capture_output=True,
    )
    lines = src.read_bytes().splitlines(keepends=True)
    tree = base / "tree"
    (tree / "b").mkdir(parents=True)
    (tree / "a.jsonl").write_bytes(b"".join(lines[:700]))
    second = [b"\xef\xbb\xbf" + lines[700]]
    for i, line in enumerate(lines[701:]):
        line = line.rstrip(b"\n")
        if i % 5 == 0:
            line += b"\r"
        if i % 40 == 0:
            second.append(b"  \t\n")
        second.append(line + b"\n")
    second.append(b'{"id": "esc", "text": "caf\\u00e9 \\"quoted\\"\\n\\nline two"}')
    (tree / "b" / "z.jsonl").write_bytes(b"".join(second))
    (tree / ".hidden.jsonl").write_bytes(b"not json\n")
    # An index kept beside the batches, and its lock file: passed over.
    (tree / "b" / "seen.ndx").write_bytes(b"NEARDUPI\x01\x00\x00\x00" + bytes(200))
    (tree / "b" / "seen.ndx.lock").write_bytes(b"")
    return tree


@pytest.mark.parametrize(
    "options,report",
    [
        ({}, None),
        ({"level": "blocks"}, "json"),
        ({"level": "docs", "method": "simhash"}, "jsonl"),
        ({"measure": "jaccard", "keep": "longest", "block_threshold": 0.6, "drop_short": True}, "json"),
        ({"preview": 30, "min_words": 4}, "text"),
    ],
    ids=["defaults", "blocks-json", "docs-simhash-jsonl", "jaccard-longest-json", "preview-text"],
)
def test_a_tree_with_odd_lines_equals_the_cli(cli, spark, tmp_path, small, options, report):
    figures = same_as_cli(cli, spark, tmp_path, [small], 3, options, report)
    if report == "json":
        # Records are named by file and line, in both files of the tree.
        written = json.loads(figures["report"])
        assert {i["path"] for i in written["inputs"]} == {f"{small}/a.jsonl", f"{small}/b/z.jsonl"}
        lines = [d["document"]["line"] for d in written["documents"]]
        assert lines and all(line >= 1 for line in lines)


def test_the_command_line(cli, tmp_path, small):
    """`python -m neardup.spark clean IN -o OUT --master local[2]`, as the
    issue checks it; a bad record is an error naming file and line, exit 2,
    and nothing is written."""
    expected = tmp_path / "cli.jsonl"
    said = run_cli(cli, [small], expected)
    got = tmp_path / "spark.jsonl"
    done = spark_clean(small, "-o", got, "--master", "local[2]")
    assert done.returncode == 0, done.stderr
    assert got.read_bytes() == expected.read_bytes()
    assert said in done.stderr

    # --report: the text report, and no line of totals.
    run_cli(cli, [small], expected, "--report", tmp_path / "cli.txt")
    done = spark_clean(small, "-o", got, "--master", "local[2]", "--report", tmp_path / "spark.txt")
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "spark.txt").read_bytes() == (tmp_path / "cli.txt").read_bytes()
    assert said not in done.stderr
    # As the CLI: --json needs --report.
    refused = cli.run("clean", small, "-o", tmp_path / "x.jsonl", "--json", check=False)
    done = spark_clean(small, "-o", tmp_path / "x.jsonl", "--json")
    assert (refused.returncode, done.returncode) == (2, 2)
    assert refused.stderr.decode().strip() in done.stderr
    assert not (tmp_path / "x.jsonl").exists()

    bad = tmp_path / "bad"
    shutil.copytree(small, bad)
    with open(bad / "a.jsonl", "ab") as f:
        f.write(b'{"id": "x", "text": 3}\n')
    refused = cli.run("clean", bad, "-o", tmp_path / "x.jsonl", check=False)
    assert refused.returncode == 2
    before = got.read_bytes()
    done = spark_clean(bad, "-o", got, "--master", "local[2]")
    assert done.returncode == 2
    assert "a.jsonl:701: field \"text\" is a number, not a string" in done.stderr
    assert refused.stderr.decode().strip() in done.stderr
    assert got.read_bytes() == before
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_a_report_is_never_an_input_or_the_output(cli, spark, tmp_path, small):
    """As the CLI refuses them, with its messages; nothing is written."""
    out = tmp_path / "x.jsonl"
    for report in (small / "a.jsonl", out):
        refused = cli.run("clean", small, "-o", out, "--report", report, check=False)
        assert refused.returncode == 2
        with pytest.raises(neardup_spark.InputError) as e:
            neardup_spark.clean(spark, [str(small)], str(out), report=str(report), quiet=True)
        assert str(e.value) == refused.stderr.decode().strip().removeprefix("neardup: ")
    assert list(tmp_path.iterdir()) == []


def test_an_output_that_is_a_directory_is_refused_before_the_job(cli, tmp_path, small):
    """As the CLI refuses it (`neardup: DIR (-o): cannot be written: it is a
    directory`, exit 2), before
    Spark starts; the job used to run and end in a traceback (exit 1) when
    it renamed its output onto the directory, here one of its inputs."""
    for flags in (["-o", str(small)], ["-o", str(tmp_path / "o.jsonl"), "--report", str(small)]):
        refused = cli.run("clean", small, *flags, check=False)
        assert refused.returncode == 2
        code = spark_clean(small, *flags)
        assert code.returncode == 2, code.stderr
        assert code.stderr.strip() == refused.stderr.decode().strip()
        assert not (tmp_path / "o.jsonl").exists()
        assert not [p for p in small.iterdir() if p.name.startswith(".neardup-")]


def test_special_outputs_are_written_in_place_and_links_followed(cli, spark, tmp_path, small):
    """As the CLI writes them: a device or FIFO is written, never replaced
    by a regular file; a symbolic link keeps being a link, and the file it
    names gets the output."""
    import stat
    import threading

    expected = tmp_path / "cli.jsonl"
    run_cli(cli, [small], expected)
    # A null device (as root, in the test's directory: never /dev/null).
    null = tmp_path / "null"
    os.mknod(null, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    neardup_spark.clean(spark, [str(small)], str(null), quiet=True, report=str(null))
    assert stat.S_ISCHR(os.lstat(null).st_mode)
    # A FIFO: its reader gets the output.
    fifo = tmp_path / "out.fifo"
    os.mkfifo(fifo)
    got = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
    reader.start()
    neardup_spark.clean(spark, [str(small)], str(fifo), quiet=True)
    reader.join()
    assert got == [expected.read_bytes()]
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    # A link: the file it names is replaced, the link stays.
    (tmp_path / "real.jsonl").write_bytes(b"old\n")
    os.chmod(tmp_path / "real.jsonl", 0o640)
    os.symlink("real.jsonl", tmp_path / "link.jsonl")
    neardup_spark.clean(spark, [str(small)], str(tmp_path / "link.jsonl"), quiet=True)
    assert os.path.islink(tmp_path / "link.jsonl")
    assert (tmp_path / "real.jsonl").read_bytes() == expected.read_bytes()
    # The file keeps its mode.
    assert stat.S_IMODE(os.stat(tmp_path / "real.jsonl").st_mode) == 0o640
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_strip_markup_equals_the_cli(cli, spark, tmp_path):
    """Markup normalization (the default) reads copies that differ only in
    their markup as copies, as the CLI does (with `--no-strip-markup`, they
    are not: the test can fail)."""
    para = [" ".join(f"w{(p * 7919 + w * 104729) % 4001}" for w in range(30)) for p in range(40)]
    lines = []
    for d in range(60):
        body = [para[(d * 3 + k) % 40] for k in range(3)]
        if d % 2:
            # The same paragraphs, marked up.
            body = [f'<p class="x{d}">{p.replace(" ", " <b>", 1)}</b></p>' for p in body]
        text = "\n\n".join(body + [f"unique {d} " * 12])
        lines.append(json.dumps({"id": str(d), "text": text}))
    corpus = tmp_path / "markup.jsonl"
    corpus.write_text("\n".join(lines) + "\n")
    plain = tmp_path / "plain.jsonl"
    run_cli(cli, [corpus], plain, "--no-strip-markup")
    for partitions in (1, 3):
        figures = same_as_cli(cli, spark, tmp_path, [corpus], partitions, {"strip_markup": True})
        assert (tmp_path / f"spark-{partitions}.jsonl").read_bytes() != plain.read_bytes()
        assert figures["removed_blocks"] > 0


def zstd_frame(data: bytes) -> bytes:
    """`data` as a Zstandard frame of raw blocks (a valid stream any zstd
    decoder reads, made without a zstd library)."""
    out = bytearray(b"\x28\xb5\x2f\xfd\x00\x38")  # magic; no sizes; 128 KiB window
    pieces = [data[i:i + (1 << 17)] for i in range(0, len(data), 1 << 17)] or [b""]
    for i, piece in enumerate(pieces):
        last = i + 1 == len(pieces)
        out += (len(piece) << 3 | int(last)).to_bytes(3, "little") + piece
    return bytes(out)


@pytest.mark.parametrize("partitions", [1, 3])
def test_compressed_inputs_equal_the_cli(cli, spark, tmp_path, small, partitions):
    """A tree of .gz and .zst files (the second with a byte-order mark,
    CRLF, blank lines and no final newline) and a gzip file named .jsonl:
    the CLI's output and JSON report, byte for byte."""
    tree = tmp_path / "tree"
    (tree / "b").mkdir(parents=True)
    (tree / "a.jsonl.gz").write_bytes(gzip.compress((small / "a.jsonl").read_bytes()))
    (tree / "b" / "z.jsonl.zst").write_bytes(zstd_frame((small / "b" / "z.jsonl").read_bytes()))
    # Told by its magic bytes, as the CLI tells it.
    (tree / "b" / "m.jsonl").write_bytes(gzip.compress((small / "a.jsonl").read_bytes()[:20000].rsplit(b"\n", 1)[0]))
    figures = same_as_cli(cli, spark, tmp_path, [tree], partitions, report="json")
    assert figures["dropped_documents"] > 10 and figures["removed_blocks"] > 10
    report = json.loads(figures["report"])
    sizes = {i["path"]: i["bytes"] for i in report["inputs"]}
    assert sizes[f"{tree}/a.jsonl.gz"] == (small / "a.jsonl").stat().st_size
    assert sizes[f"{tree}/b/z.jsonl.zst"] == (small / "b" / "z.jsonl").stat().st_size


def test_a_corrupt_compressed_input_is_refused_as_the_cli_refuses_it(cli, spark, tmp_path, small):
    cut = tmp_path / "cut.jsonl.gz"
    cut.write_bytes(gzip.compress((small / "a.jsonl").read_bytes())[:5000])
    out = tmp_path / "out.jsonl"
    refused = cli.run("clean", cut, "-o", out, check=False)
    assert refused.returncode == 2
    with pytest.raises(neardup_spark.InputError) as e:
        neardup_spark.clean(spark, [str(cut)], str(out), quiet=True)
    assert str(e.value) == refused.stderr.decode().strip().removeprefix("neardup: ")
    assert not out.exists()


@pytest.mark.parametrize(
    "flags",
    [["--index", "i"], ["--update"], ["--reference", "r"], ["--out-dir", "d"]],
    ids=lambda f: f[0],
)
def test_options_not_taken_yet_are_refused_by_name(tmp_path, small, flags):
    got = tmp_path / "out.jsonl"
    done = spark_clean(small, "-o", got, *flags, cwd=tmp_path)
    assert done.returncode == 2
    assert f"neardup: {flags[0]} is not taken by the Spark job yet" in done.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("partitions", [1, 3])
@pytest.mark.parametrize(
    "options",
    [
        {"annotate": True},
        # Without an id field, a record is named by its file and line.
        {"annotate": True, "keep": "longest", "level": "docs", "id_field": "none"},
    ],
    ids=["annotate", "annotate-longest-docs"],
)
def test_annotate_equals_the_cli(cli, spark, tmp_path, small, options, partitions):
    """`--annotate` keeps every record and marks clusters as the CLI does
    (document indexes past blank lines, the id of the record that stays)."""
    figures = same_as_cli(cli, spark, tmp_path, [small], partitions, options, report="json")
    assert json.loads(figures["report"])["parameters"]["documents"]["annotate"]
    written = (tmp_path / f"spark-{partitions}.jsonl").read_text()
    # The second file's first record keeps its byte-order mark.
    records = [json.loads(line.lstrip("\ufeff")) for line in written.splitlines() if line.strip()]
    assert sum(r["neardup_duplicate"] for r in records) > 10
    assert len(records) == figures["documents"]


def parquet_corpus(small, out_dir, files):
    """The small corpus's records as `files` Parquet files (zstd, row
    groups of 300 rows): an integer id, the text, and columns the job must
    carry through (a URL, a score with nulls, a list)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    records = [json.loads(line) for line in (small / "a.jsonl").read_text().splitlines()]
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    per_file = -(-len(records) // files)
    for f in range(files):
        part = records[f * per_file:(f + 1) * per_file]
        table = pa.table(
            {
                "id": pa.array([f * per_file + i for i in range(len(part))], pa.int64()),
                "url": [f"https://example.org/{r['id']}" for r in part],
                "text": [r["text"] for r in part],
                "score": [None if i % 7 == 0 else i / 3 for i in range(len(part))],
                "tags": [["a", str(i % 3)] for i in range(len(part))],
            }
        )
        path = out_dir / f"part-{f}.parquet"
        pq.write_table(table, path, compression="zstd", row_group_size=300)
        paths.append(path)
    return paths


@pytest.mark.parametrize("files", [1, 3])
@pytest.mark.parametrize(
    "options,report",
    [({}, "json"), ({"annotate": True, "level": "docs"}, "text")],
    ids=["defaults-json", "annotate-text"],
)
def test_parquet_inputs_equal_the_cli(cli, spark, tmp_path, small, files, options, report):
    """Parquet in, Parquet out: the CLI's file and report, byte for byte,
    from one file (one partition) and from three (three partitions)."""
    import pyarrow.parquet as pq

    tree = tmp_path / "in"
    parquet_corpus(small, tree, files)
    expected = tmp_path / "cli.parquet"
    run_cli(cli, [tree], expected, *option_flags(options), "--report", tmp_path / "cli.report",
            "--output-format", report)
    got = tmp_path / "spark.parquet"
    figures = neardup_spark.clean(
        spark, [str(tree)], str(got), options, quiet=True,
        report=str(tmp_path / "spark.report"), output_format=report,
    )
    assert figures["partitions"] == files
    assert got.read_bytes() == expected.read_bytes()
    assert (tmp_path / "spark.report").read_bytes() == (tmp_path / "cli.report").read_bytes()
    table = pq.read_table(got)
    assert table.column_names[:5] == ["id", "url", "text", "score", "tags"]
    if options.get("annotate"):
        # Every row kept and marked; duplicates among them.
        assert table.num_rows == figures["documents"]
        assert sum(table.column("neardup_duplicate").to_pylist()) > 10
    else:
        assert figures["dropped_documents"] > 10 and figures["removed_blocks"] > 10
        assert table.num_rows == figures["documents"] - figures["dropped_documents"]


def test_parquet_errors_are_the_clis(cli, spark, tmp_path, small):
    """A null text, a missing text column, a file that is not Parquet and a
    Parquet input written to JSON Lines are refused with `clean`'s message,
    and nothing is written."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    (path,) = parquet_corpus(small, tmp_path / "in", 1)
    table = pq.read_table(path)
    texts = table.column("text").to_pylist()
    texts[6] = None
    pq.write_table(table.set_column(2, "text", pa.array(texts, pa.string())), tmp_path / "null.parquet")
    (tmp_path / "cut.parquet").write_bytes(path.read_bytes()[:5000])
    out = tmp_path / "out" / "x.parquet"
    out.parent.mkdir()
    cases = [
        (tmp_path / "null.parquet", out, {}),
        (path, out, {"text_field": "body"}),
        (tmp_path / "cut.parquet", out, {}),
        (path, out.with_suffix(".jsonl"), {}),
    ]
    said = []
    for given, target, options in cases:
        refused = cli.run("clean", given, "-o", target, *option_flags(options), check=False)
        assert refused.returncode == 2
        with pytest.raises(neardup_spark.InputError) as e:
            neardup_spark.clean(spark, [str(given)], str(target), options, quiet=True)
        assert str(e.value) == refused.stderr.decode().strip().removeprefix("neardup: ")
        said.append(str(e.value))
    assert said[0] == f'{tmp_path}/null.parquet:7: field "text" is null, not a string'
    assert 'no column "body"' in said[1]
    assert "Parquet is written as Parquet" in said[3]
    assert list(out.parent.iterdir()) == []


def test_html_equals_the_cli(cli, spark, tmp_path, small, capsys):
    """`--html FILE` (beside a JSON report, and alone, with the line of
    totals) and `--output-format html`: the CLI's page, byte for byte, with
    the texts of the documents it shows."""
    said = run_cli(cli, [small], tmp_path / "cli.jsonl", "--html", tmp_path / "cli.html")
    run_cli(cli, [small], tmp_path / "cli.jsonl", "--html", tmp_path / "cli2.html",
            "--report", tmp_path / "cli.json", "--json")
    page = (tmp_path / "cli.html").read_bytes()
    assert page == (tmp_path / "cli2.html").read_bytes()
    # The page holds the shown documents' texts (compressed): far more than
    # the report.
    assert page.startswith(b"<!DOCTYPE html>") and len(page) > 20000
    figures = neardup_spark.clean(
        spark, [str(small)], str(tmp_path / "s.jsonl"), partitions=3, quiet=True,
        report=str(tmp_path / "s.json"), output_format="json", html=str(tmp_path / "s.html"),
    )
    assert (tmp_path / "s.html").read_bytes() == page
    assert (tmp_path / "s.json").read_bytes() == (tmp_path / "cli.json").read_bytes()
    assert (tmp_path / "s.jsonl").read_bytes() == (tmp_path / "cli.jsonl").read_bytes()
    # Alone: the line of totals, as the CLI prints it.
    capsys.readouterr()
    neardup_spark.clean(spark, [str(small)], str(tmp_path / "t.jsonl"), partitions=2, html=str(tmp_path / "t.html"))
    assert (tmp_path / "t.html").read_bytes() == page
    assert capsys.readouterr().err == said
    neardup_spark.clean(
        spark, [str(small)], str(tmp_path / "u.jsonl"), partitions=1, quiet=True,
        report=str(tmp_path / "u.html"), output_format="html",
    )
    assert (tmp_path / "u.html").read_bytes() == page


@pytest.mark.parametrize(
    "flags",
    [["-o", "o.jsonl", "--html", "o.jsonl"], ["-o", "o.jsonl", "--report", "r", "--html", "r"],
     ["-o", "-", "--html", "-"], ["-o", "o.jsonl", "--report", "-", "--html", "-"]],
    ids=["output", "report", "stdout", "report-stdout"],
)
def test_html_paths_are_refused_as_the_cli_refuses_them(cli, tmp_path, small, flags):
    flags = [f if f.startswith("-") else str(tmp_path / f) for f in flags]
    refused = cli.run("clean", small, *flags, check=False)
    done = spark_clean(small, *flags, cwd=tmp_path)
    assert (refused.returncode, done.returncode) == (2, 2)
    assert done.stderr.strip() == refused.stderr.decode().strip()
    assert list(tmp_path.iterdir()) == []


def test_a_run_whose_every_input_is_skipped_says_why_as_the_cli_does(cli, tmp_path):
    """Every input passed over (`--on-error skip`, two corrupt gzip files):
    the job fails, exit 2, nothing written, with the CLI's message, which
    names the files and why they were skipped."""
    tree = tmp_path / "tree"
    tree.mkdir()
    for name in ("a.jsonl.gz", "b.jsonl.gz"):
        (tree / name).write_bytes(gzip.compress(b'{"id": "1", "text": "x y z"}\n' * 50)[:30])
    flags = ["-o", str(tmp_path / "o.jsonl"), "--on-error", "skip"]
    refused = cli.run("clean", tree, *flags, check=False)
    done = spark_clean(tree, *flags, cwd=tmp_path)
    assert (refused.returncode, done.returncode) == (2, 2)
    # (Spark's own log lines come first.)
    said = done.stderr.strip().splitlines()[-1]
    assert "every input was skipped (2 inputs): " in said
    assert "a.jsonl.gz: truncated or corrupt gzip stream" in said
    assert said == refused.stderr.decode().strip()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tree"]


@pytest.mark.parametrize("partitions", [1, 3])
def test_on_error_skip_equals_the_cli(cli, spark, tmp_path, small, partitions, capsys):
    """`--on-error skip`: bad records copied as they are and a corrupt
    compressed file passed over, as the CLI does: the same output, the same
    `skipped` in the JSON report, the same warnings on standard error."""
    tree = tmp_path / "tree"
    tree.mkdir()
    lines = (small / "a.jsonl").read_bytes().splitlines(keepends=True)
    lines[5:5] = [b'{"id": "x", "text": 3}\n', b"not json\n"]
    lines[300:300] = [b'{"id": "y"}\n']
    (tree / "a.jsonl").write_bytes(b"".join(lines))
    (tree / "b.jsonl.gz").write_bytes(gzip.compress(b"".join(lines[:40]))[:300])
    (tree / "c.jsonl").write_bytes((small / "b" / "z.jsonl").read_bytes())
    expected = tmp_path / "cli.jsonl"
    done = cli.run("clean", tree, "-o", expected, "--on-error", "skip", "--report", tmp_path / "cli.json", "--json")
    assert done.returncode == 0
    capsys.readouterr()
    got = tmp_path / "spark.jsonl"
    neardup_spark.clean(
        spark, [str(tree)], str(got), {"on_error": "skip"}, partitions=partitions,
        report=str(tmp_path / "spark.json"), output_format="json",
    )
    assert capsys.readouterr().err == done.stderr.decode()
    assert got.read_bytes() == expected.read_bytes()
    report = (tmp_path / "spark.json").read_bytes()
    assert report == (tmp_path / "cli.json").read_bytes()
    skipped = json.loads(report)["skipped"]
    assert len(skipped) == 4 and "b.jsonl.gz: truncated or corrupt gzip stream" in skipped[3]
    assert b'{"id": "x", "text": 3}\nnot json\n' in got.read_bytes()


# Session 34: the job's arguments as a careless caller gives them.


def test_paths_may_be_pathlib_and_one_input_a_string(cli, spark, tmp_path, small):
    """A `str` given as `inputs` is one path (each of its letters was read as a
    missing file); `pathlib.Path` inputs, output and report are taken (a
    Path output failed with AttributeError once the whole job had run)."""
    expected = tmp_path / "cli.jsonl"
    run_cli(cli, [small / "a.jsonl"], expected, "--report", tmp_path / "cli.json", "--json")
    for n, inputs in enumerate((str(small / "a.jsonl"), small / "a.jsonl", [small / "a.jsonl"])):
        got = tmp_path / f"got{n}.jsonl"
        neardup_spark.clean(
            spark, inputs, got, quiet=True, report=tmp_path / f"got{n}.json", output_format="json"
        )
        assert got.read_bytes() == expected.read_bytes()
        assert (tmp_path / f"got{n}.json").read_bytes() == (tmp_path / "cli.json").read_bytes()


@pytest.mark.parametrize(
    "arguments,error",
    [
        ({"partitions": 0}, ValueError),
        ({"partitions": -1}, ValueError),
        ({"partitions": True}, TypeError),
        ({"partitions": "3"}, TypeError),
        ({"partitions": 2.5}, TypeError),
        ({"partitions": 2**70}, ValueError),
        ({"partitions": 2**31}, ValueError),
        ({"top": -1}, ValueError),
        ({"inputs": []}, ValueError),
        ({"inputs": [b"a.jsonl"]}, TypeError),
        ({"inputs": [None]}, TypeError),
        ({"output": None}, TypeError),
        ({"output": ""}, ValueError),
        ({"report": 5}, TypeError),
    ],
)
def test_arguments_of_the_wrong_kind_are_refused_before_the_job(tmp_path, small, arguments, error):
    """Before any Spark call (no session is needed to refuse them):
    `partitions=-1` cut the input into a partition a byte (a file of a
    gigabyte into a billion tasks), and `top=-1` failed with pyo3's
    OverflowError once the whole job had run."""
    given = {"inputs": [str(small)], "output": str(tmp_path / "o.jsonl"), "report": None}
    given.update(arguments)
    inputs, output = given.pop("inputs"), given.pop("output")
    with pytest.raises(error):
        neardup_spark.clean(None, inputs, output, quiet=True, **given)
    assert list(tmp_path.iterdir()) == []


def test_an_output_in_a_directory_not_made_yet_is_made_as_the_cli_makes_it(cli, spark, tmp_path, small):
    """`clean -o new/dir/out.jsonl` makes the directories; the job ran to its
    end and failed there (FileNotFoundError, nothing written)."""
    run_cli(cli, [small / "a.jsonl"], tmp_path / "cli" / "x" / "out.jsonl", "--report", tmp_path / "cli" / "r.json", "--json")
    got = tmp_path / "new" / "x" / "out.jsonl"
    neardup_spark.clean(
        spark, [str(small / "a.jsonl")], str(got), quiet=True,
        report=str(tmp_path / "rep" / "r.json"), output_format="json",
    )
    assert got.read_bytes() == (tmp_path / "cli" / "x" / "out.jsonl").read_bytes()
    assert (tmp_path / "rep" / "r.json").read_bytes() == (tmp_path / "cli" / "r.json").read_bytes()


def test_an_output_under_a_file_is_refused_before_the_job_as_the_cli_refuses_it(cli, tmp_path, small):
    """`-o notes.txt/out.jsonl`: the CLI's message and exit status 2, before
    Spark starts (the job ran to its end and failed with NotADirectoryError)."""
    notes = tmp_path / "notes.txt"
    notes.write_text("mine")
    for flags in (["-o", str(notes / "o.jsonl")], ["-o", str(tmp_path / "o.jsonl"), "--report", str(notes / "r.json")]):
        refused = cli.run("clean", small / "a.jsonl", *flags, check=False)
        assert refused.returncode == 2
        with pytest.raises(neardup_spark.InputError) as e:
            neardup_spark.clean(None, [str(small / "a.jsonl")], flags[1], quiet=True, report=flags[3] if len(flags) > 2 else None)
        assert f"neardup: {e.value}" == refused.stderr.decode().strip()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]
    assert notes.read_text() == "mine"


# Session 35: inputs the command line reads and the job did not; a task that
# fails for good.


def odd_names(base):
    """A directory of files whose names Hadoop read as globs, lists or URIs,
    beside the decoys those readings named (`a1.jsonl` for `a[1].jsonl`, `x`
    and `y.jsonl` for `x,y.jsonl`); each input holds a copy of the first."""
    base.mkdir()
    body = "A paragraph long enough to be judged on its own words, as any other one."
    names = ["a[1].jsonl", "x,y.jsonl", "st*r?.jsonl", "{b}.jsonl", "back\\slash.jsonl", "pct%41.jsonl"]
    for n, name in enumerate(names):
        (base / name).write_text(
            json.dumps({"id": name, "text": body}) + "\n"
            + json.dumps({"id": f"{name}-own", "text": f"words of {n} only: " + " ".join(f"w{n}x{k}" for k in range(20))}) + "\n"
        )
    for decoy in ["a1.jsonl", "x", "y.jsonl", "stXrY.jsonl", "b.jsonl", "pctA.jsonl"]:
        (base / "decoys").mkdir(exist_ok=True)
        (base / "decoys" / decoy).write_text(json.dumps({"id": f"decoy {decoy}", "text": body + " decoy"}) + "\n")
        (base / decoy).write_text(json.dumps({"id": f"decoy {decoy}", "text": body + " decoy"}) + "\n")
    return names


def test_odd_names_are_read_as_the_cli_reads_them(cli, spark, tmp_path):
    """A file named `a[1].jsonl` was read by Hadoop as the glob `a[1].jsonl`
    (the file `a1.jsonl`), `x,y.jsonl` as the two files `x` and `y.jsonl`;
    given by name or found in a walk, each is now read as itself: output
    and JSON report as the CLI's."""
    names = odd_names(tmp_path / "odd")
    for inputs in ([tmp_path / "odd" / n for n in names], [tmp_path / "odd"]):
        figures = same_as_cli(cli, spark, tmp_path, inputs, 2, report="json")
        read = {i["path"] for i in json.loads(figures["report"])["inputs"]}
        assert {f"{tmp_path}/odd/{n}" for n in names} <= read
        assert figures["documents"] == 2 * len(names) + (12 if len(inputs) == 1 else 0)


def test_odd_names_on_the_command_line_are_read_as_the_cli_reads_them(cli, tmp_path):
    """Relative names, as a shell gives them; `a b:c.jsonl` was a URI of
    scheme `a b` to Hadoop (`URISyntaxException` from deep in the job), and
    a colon in a file's name is one Hadoop's local file system cannot read
    (its checksum file `.a b:c.jsonl.crc` is no path to it): refused by
    name before the job, exit 2, nothing written."""
    names = odd_names(tmp_path / "odd")
    odd = tmp_path / "odd"
    done = subprocess.run([str(cli.path), "clean", *names, "-o", "cli.jsonl", "--report", "cli.json", "--json"],
                          cwd=odd, capture_output=True)
    assert done.returncode == 0, done.stderr
    ran = spark_clean(*names, "-o", "spark.jsonl", "--report", "spark.json", "--json", "--master", "local[2]", cwd=odd)
    assert ran.returncode == 0, ran.stderr
    assert (odd / "spark.jsonl").read_bytes() == (odd / "cli.jsonl").read_bytes()
    assert (odd / "spark.json").read_bytes() == (odd / "cli.json").read_bytes()
    (odd / "a b:c.jsonl").write_text((odd / names[0]).read_text())
    ran = spark_clean(names[0], "a b:c.jsonl", "-o", "colon.jsonl", "--master", "local[1]", cwd=odd)
    assert ran.returncode == 2
    assert ran.stderr.strip().splitlines()[-1] == (
        "neardup: a b:c.jsonl: a file name holding ':', which Hadoop's local file system cannot "
        "read (it makes a path of `.NAME.crc` beside it); rename it (neardup clean reads it)"
    )
    assert not (odd / "colon.jsonl").exists()


def test_a_fifo_is_refused_by_name_and_passed_over_in_a_walk_as_the_cli_does(cli, spark, tmp_path, small, capsys):
    """A FIFO given as an input was read by Hadoop as an empty file: 0
    documents, exit 0, its records lost. The job reads each input two or
    three times, so it refuses one by name before the job (nothing is
    written, and the FIFO is never opened); in a walked directory one is
    passed over, as `clean`'s walk passes over it, with its warning."""
    tree = tmp_path / "tree"
    shutil.copytree(small, tree)
    fifo = tree / "b" / "feed.jsonl"
    os.mkfifo(fifo)
    with pytest.raises(neardup_spark.InputError, match=r"feed\.jsonl: a FIFO \(named pipe\), which the Spark job cannot read") as e:
        neardup_spark.clean(spark, [str(tree / "a.jsonl"), str(fifo)], str(tmp_path / "o.jsonl"), quiet=True)
    assert isinstance(e.value, neardup_spark.NeardupError)
    assert not (tmp_path / "o.jsonl").exists()
    expected = tmp_path / "cli.jsonl"
    said = run_cli(cli, [tree], expected, "--report", tmp_path / "cli.json", "--json")
    warning = f"neardup: warning: {fifo}: a FIFO in a walked directory, not read (name it to read it)\n"
    assert said == warning
    got = tmp_path / "spark.jsonl"
    capsys.readouterr()
    neardup_spark.clean(spark, [str(tree)], str(got), {}, partitions=2, report=str(tmp_path / "spark.json"), output_format="json")
    assert got.read_bytes() == expected.read_bytes()
    assert (tmp_path / "spark.json").read_bytes() == (tmp_path / "cli.json").read_bytes()
    assert warning in capsys.readouterr().err
    # Quiet, nothing.
    neardup_spark.clean(spark, [str(tree)], str(got), {}, partitions=2, quiet=True, report=str(tmp_path / "spark.json"), output_format="json")
    assert "not read" not in capsys.readouterr().err


def test_a_name_that_is_not_utf8_is_refused_by_name_before_the_job(spark, tmp_path):
    """Python names a file whose name is not UTF-8 with lone surrogates,
    which no Java string holds: `Py4JError` from deep in the job. Refused
    by name (its bytes as the CLI shows them) before the job."""
    bad = os.fsdecode(os.fsencode(str(tmp_path)) + b"/caf\xe9.jsonl")
    Path(bad).write_text('{"id": 1, "text": "words"}\n')
    with pytest.raises(neardup_spark.InputError, match=r"caf\\xe9\.jsonl: the name is not UTF-8"):
        neardup_spark.clean(spark, [bad], str(tmp_path / "o.jsonl"), quiet=True)
    assert sorted(os.listdir(os.fsencode(str(tmp_path)))) == [b"caf\xe9.jsonl"]


def test_a_task_that_fails_for_good_is_one_line_naming_what_failed(tmp_path, small):
    """Workers whose Python lacks the package (`pip install` on the driver
    only): each task failed, and the job ended in a Java traceback of some
    hundred lines. Now: exit 2, one line naming the executor's error and the
    remedy, no traceback, nothing written."""
    bare = shutil.which("python3", path="/usr/bin")
    if bare is None or subprocess.run([bare, "-c", "import neardup"], capture_output=True).returncode == 0:
        pytest.skip("no Python without the package to run workers with")
    done = subprocess.run(
        [sys.executable, "-m", "neardup.spark", "clean", str(small / "a.jsonl"), "-o", "o.jsonl", "--master", "local[1]"],
        capture_output=True, text=True, cwd=tmp_path, env={**os.environ, "PYSPARK_PYTHON": bare},
    )
    assert done.returncode == 2, done.stderr
    said = done.stderr.strip().splitlines()[-1]
    assert said.startswith("neardup: the Spark job failed on an executor: ModuleNotFoundError: No module named 'neardup'"), done.stderr
    assert "pip install ./python" in said and "nothing was written" in said
    # (Spark's executor logs the worker's traceback; the job's own error is
    # the one line above, not a Python traceback of the driver.)
    assert "neardup/spark.py" not in done.stderr and "Py4J" not in done.stderr
    assert list(tmp_path.iterdir()) == []
