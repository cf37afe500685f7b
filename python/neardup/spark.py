"""neardup on Spark: the same answer as one machine, past one machine.

    python -m neardup.spark clean INPUT... -o OUTPUT [options] [--master URL]
    spark-submit --master URL -m neardup.spark ... (or the path of this file)

Reads JSON Lines and Parquet from any path Spark reads (files and
directories, walked in sorted order as `neardup clean` walks them) and writes
the cleaned JSON Lines (or Parquet) to OUTPUT (a file on the driver's
machine, or `-`), byte for byte what
`neardup clean INPUT... -o OUTPUT` writes, whatever the partitioning; the
line of totals goes to standard error as `clean` prints it, or with
`--report FILE` the report `clean --report FILE` writes goes to FILE (and
with `--html FILE` the page `clean --html` writes). README.md
("Spark") gives the stages and what each one shuffles.

Stages (the Rust engine does every decision, `neardup::distributed`):

1. features (mapPartitions): each record's blocks (word counts, exact keys,
   shingles, posting keys) and document sketch (LSH keys, shingle set), as
   the engine's little-endian columns a batch of lines
   (`Job.feature_columns`). Records are numbered by their line in the input
   (partition offsets collected with the block word counts, stage 2).
2. the block table (collect): each line's block word counts, the only table
   the size of the corpus's blocks that the driver holds (4 bytes a block).
3. documents: each partition's engine cuts its LSH key rows into one binary
   piece per reducer; one shuffle (`partitionBy`) brings each reducer its
   pieces, whose engine groups them into buckets; each bucket gives its
   candidate pairs (the engine's bucket rule), pairs are collected, with the
   shingle sets of the documents in them, and clustered on the driver in
   input order (the engine's verification).
4. blocks: exact keys and posting keys of blocks of kept documents are
   shuffled and grouped as in 3; blocks that share one with another block
   are collected with their shingles and run through the engine's detector
   on the driver, in input order; every other block is a first copy.
5. runs (driver): the engine groups repeats into runs from the block table.
   With --report, the lines of the documents the report names are collected
   and the engine builds the report there (`Job.report`); stage 4 then also
   shuffles the exact keys of dropped documents' blocks (the report counts
   their copies of shared blocks).
6. output (mapPartitions): each partition writes its records back (dropped
   ones left out, or with --annotate kept and marked, the text field of
   those that lost blocks replaced; a Parquet file's partition sends the
   batches of its kept rows as Arrow IPC); the driver writes the partitions
   in order (Parquet with the engine's writer) to a temporary file beside
   OUTPUT and renames it into place.
"""

from __future__ import annotations

import argparse
import array
import bisect
import math
import operator
import os
import re
import stat
import struct
import sys
import tempfile
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple

from neardup._native import NeardupError
from neardup._native import spark as _native


def _job(options: Dict[str, Any]):
    """The engine's job on a worker (imported there: closures shipped to
    workers name this module's functions, never the native module)."""
    from neardup._native import spark as native

    return native.Job(options)


#: Options of `neardup clean` that the Spark job takes, with their types:
#: every one that changes what is detected or kept.
OPTIONS: Dict[str, Any] = {
    "level": str,
    "blocks": str,
    "text_field": str,
    "id_field": str,
    "block_shingle": int,
    "block_threshold": float,
    "min_words": int,
    "drop_short": bool,
    "max_gap": int,
    "seed": int,
    "method": str,
    "measure": str,
    "threshold": float,
    "doc_shingle": int,
    "num_perm": int,
    "bands": int,
    "rows": int,
    "hamming": int,
    "keep": str,
    "strip_markup": bool,
    "format": str,
    "on_error": str,
    "annotate": bool,
    "preview": int,
}

#: The report's formats the Spark job writes (`--output-format`).
REPORT_FORMATS = ("text", "json", "jsonl", "html")


#: Options of `neardup clean` the Spark job refuses by name (exit status 2),
#: and whether each takes a value.
NOT_YET: Dict[str, bool] = {
    "--index": True,
    "--update": False,
    "--reference": True,
    "--out-dir": True,
}


class InputError(NeardupError):
    """Bad input: the job stops before writing anything (exit status 2). A
    `neardup.NeardupError` (a `ValueError`)."""

    def __init__(self, messages: Sequence[str]):
        super().__init__("\n".join(messages))
        self.messages = list(messages)


class JobError(NeardupError, RuntimeError):
    """Spark gave up on a task (an executor failed as often as Spark
    retries it): what failed there, without Java's traceback; nothing is
    written (exit status 2). A `neardup.NeardupError` and a `RuntimeError`."""


#: A file of the input: (path as given or found, bytes of text, ends with a
#: newline, starts with a UTF-8 byte-order mark, kind: `PLAIN`, `COMPRESSED`
#: or `PARQUET`, the path Hadoop reads it by: its glob characters escaped).
File = Tuple[str, int, bool, bool, int, str]

#: Kinds of input files: JSON Lines as they are, compressed JSON Lines (read
#: whole on one executor), Parquet (read whole on one executor into the
#: records `clean` reads it as).
PLAIN, COMPRESSED, PARQUET = 0, 1, 2


def _hadoop_files(sc, paths: Sequence[str], options: Dict[str, Any], quiet: bool = False):
    """Every file under `paths`, in the order `neardup clean` reads them:
    given paths as given, directories walked in sorted byte order of names,
    hidden entries skipped. A compressed file (gzip or Zstandard, by its
    name or its first bytes, as `clean` tells) is decompressed on an
    executor to learn its size and ends, and a Parquet file (`.parquet`, or
    every file with `--format parquet`) read there into its records
    (`_files_on_executors`), which also gives each Parquet file's footer
    and, with `--on-error skip`, the files passed over."""
    jvm = sc._jvm
    conf = sc._jsc.hadoopConfiguration()
    found: List[File] = []
    errors: List[str] = []
    # FIFOs, sockets and devices a walk passed over: (path, what), named in
    # a warning as `clean` names them.
    passed_over: List[Tuple[str, str]] = []

    job = _native.Job(options)

    def ends(fs, status, shown: str) -> Tuple[bool, bool, int]:
        """Whether the file ends with a newline, starts with a UTF-8
        byte-order mark (Hadoop's line reader leaves it out), and its kind."""
        if job.reads_parquet(shown):
            return True, False, PARQUET
        if status.getLen() == 0:
            return True, False, PLAIN
        stream = fs.open(status.getPath())
        try:
            head = bytes(stream.read() for _ in range(min(4, status.getLen())))
            if _native.Job.compression(shown, head) is not None:
                return False, False, COMPRESSED
            stream.seek(status.getLen() - 1)
            return stream.read() == 10, head[:3] == b"\xef\xbb\xbf", PLAIN
        finally:
            stream.close()

    def visit(fs, status, shown: str) -> None:
        if status.isDirectory():
            not_utf8 = _names_not_utf8(fs, status)
            if not_utf8:
                # Refused by name (the walk goes no further here: Java
                # would list such a name as one no file has).
                errors.extend(_not_utf8(shown.rstrip("/") + "/" + os.fsdecode(n)) for n in not_utf8)
                return
            children = sorted(
                fs.listStatus(status.getPath()),
                key=lambda s: s.getPath().getName().encode("utf-8", "surrogateescape"),
            )
            names = {c.getPath().getName(): c for c in children}
            for child in children:
                name = child.getPath().getName()
                # A FIFO, device or socket in a directory is passed over,
                # as `clean`'s walk passes over it.
                if name.startswith("."):
                    continue
                if _special_input(fs, child):
                    passed_over.append((shown.rstrip("/") + "/" + name, _walked_special(child)))
                    continue
                if _neardup_file(fs, child, names):
                    continue
                visit(fs, child, shown.rstrip("/") + "/" + name)
            return
        if ":" in status.getPath().getName() and fs.getUri().getScheme() == "file":
            # Hadoop's local file system reads a file with its checksum file
            # beside it, `.NAME.crc`, a relative path it cannot make of a
            # name holding a colon (a URISyntaxException from the job).
            errors.append(
                f"{shown}: a file name holding ':', which Hadoop's local file system cannot "
                "read (it makes a path of `.NAME.crc` beside it); rename it (neardup clean reads it)"
            )
            return
        name = shown.lower()
        if name.endswith((".bz2", ".xz")):
            raise InputError(
                [f"{shown}: bzip2 and xz are not read by the Spark job (nor by neardup clean); recompress it as .gz or .zst"]
            )
        found.append((shown, status.getLen(), *ends(fs, status, shown), _glob_escaped(status.getPath())))

    local_default = jvm.org.apache.hadoop.fs.FileSystem.get(conf).getUri().getScheme() == "file"
    for given in paths:
        unnamed = _not_utf8(given)
        if unnamed is not None:
            errors.append(unnamed)
            continue
        path = jvm.org.apache.hadoop.fs.Path(_hadoop_name(given, local_default))
        fs = path.getFileSystem(conf)
        if not fs.exists(path):
            errors.append(f"{given}: No such file or directory (os error 2)")
            continue
        status = fs.getFileStatus(path)
        special = _special_input(fs, status)
        if special is not None:
            errors.append(
                f"{given}: {special}, which the Spark job cannot read: its executors read each "
                "input two or three times, by name; copy it to a file first (neardup clean "
                "reads it once)"
            )
            continue
        visit(fs, status, given)
    if errors:
        raise InputError(errors)
    if passed_over and not quiet:
        print(f"neardup: {_passed_over_warning(passed_over)}", file=sys.stderr)
    return _files_on_executors(sc, found, options)


def _walked_special(status) -> str:
    """What a FIFO, socket or device a walk passes over is, in `clean`'s
    words."""
    mode = os.stat(status.getPath().toUri().getPath()).st_mode
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "a character device" if stat.S_ISCHR(mode) else "a block device"


def _passed_over_warning(passed_over: Sequence[Tuple[str, str]]) -> str:
    """The warning `clean` gives of what its walks passed over."""
    if len(passed_over) == 1:
        path, what = passed_over[0]
        return f"warning: {path}: {what} in a walked directory, not read (name it to read it)"
    path, what = passed_over[0]
    return (
        f"warning: {len(passed_over):,} FIFOs, sockets or devices in walked directories are not "
        f"read ({path}: {what}, ...; name one to read it)"
    )


def _not_utf8(given: str) -> Optional[str]:
    """Why a path given cannot be read by Spark: a name that is not UTF-8
    (as Python gives such a name: with lone surrogates), which no Java
    string holds."""
    try:
        given.encode("utf-8")
        return None
    except UnicodeEncodeError:
        shown = os.fsencode(given).decode("utf-8", "backslashreplace")
        return (
            f"{shown}: the name is not UTF-8, which Spark (Java) cannot name a file by; "
            "rename it (neardup clean reads it)"
        )


def _names_not_utf8(fs, status) -> List[bytes]:
    """The names in a directory of the local file system that are not
    UTF-8 (Java lists them with U+FFFD in place of their bytes, a file no
    one can open by that name), but for hidden ones, which a walk passes
    over."""
    if fs.getUri().getScheme() != "file":
        return []
    try:
        names = os.listdir(os.fsencode(status.getPath().toUri().getPath()))
    except (OSError, ValueError):
        return []
    bad = []
    for name in sorted(names):
        try:
            name.decode("utf-8")
        except UnicodeDecodeError:
            if not name.startswith(b"."):
                bad.append(name)
    return bad


#: The start of a URI: a scheme and its colon (`hdfs:`, `file:`, `s3a:`).
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")


def _hadoop_name(given: str, local_default: bool) -> str:
    """A path given as Hadoop's `Path` must be spelled to name it: a URI
    (`hdfs://host/x`, `file:/x`) as it is, and a path of the default file
    system whose first part holds a colon (`a b:c.jsonl`, which Hadoop read
    as a URI of scheme `a b` and refused) after `./`. A name that could be a
    URI (`x:y.jsonl`) is one, unless the default file system is the local
    one and a file of that name is there."""
    head = given.split("/", 1)[0]
    if ":" not in head:
        return given
    if _SCHEME.match(head) and not (local_default and "://" not in given and os.path.lexists(given)):
        return given
    return "./" + given


def _glob_escaped(path) -> str:
    """A Hadoop `Path` as the string Spark's readers (`newAPIHadoopFile`,
    `binaryFiles`) take to read that file and no other: they read their
    argument as a comma-separated list of glob patterns, so `a[1].jsonl`
    named `a1.jsonl` (or nothing) and `a,b.jsonl` the files `a` and
    `b.jsonl`. Glob characters are escaped with a backslash, and a comma is
    written `{\\,}` (a group of one escaped comma: the list is not cut
    inside braces)."""
    uri = path.toUri()
    scheme, authority, name = uri.getScheme(), uri.getAuthority(), uri.getPath()
    name = re.sub(r"([\\\[\]{}*?])", r"\\\1", name).replace(",", "{\\,}")
    if scheme is None:
        return name
    return f"{scheme}://{authority}{name}" if authority else f"{scheme}:{name}"


def _special_input(fs, status) -> Optional[str]:
    """What a file of the local file system is when it is not a regular file
    or a directory (`a FIFO`, `a device`, `a socket`); Hadoop tells them
    apart from files by nothing (a FIFO was read as an empty file)."""
    if fs.getUri().getScheme() != "file":
        return None
    try:
        mode = os.stat(status.getPath().toUri().getPath()).st_mode
    except (OSError, ValueError):
        return None
    if stat.S_ISREG(mode) or stat.S_ISDIR(mode):
        return None
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    return "a socket" if stat.S_ISSOCK(mode) else "a device"


#: The first bytes of a neardup index file.
INDEX_MAGIC = b"NEARDUPI"

#: Names of the data formats read, whose files a walk does not open to tell
#: whether they are neardup indexes.
_DATA_NAMES = (".jsonl", ".ndjson", ".json", ".txt", ".parquet", ".gz", ".zst", ".md", ".html", ".htm", ".xml", ".csv", ".tsv", ".log")


def _is_index(fs, status) -> bool:
    """Whether a file starts as a neardup index does."""
    if status.isDirectory() or status.getLen() < len(INDEX_MAGIC):
        return False
    stream = fs.open(status.getPath())
    try:
        return bytes(stream.read() for _ in range(len(INDEX_MAGIC))) == INDEX_MAGIC
    finally:
        stream.close()


def _neardup_file(fs, status, siblings) -> bool:
    """Whether a walk passes over this entry, as `clean`'s walk does: a
    neardup index (an index kept beside the batches it saw), or the lock
    file `INDEX.lock` beside one."""
    name = status.getPath().getName()
    if status.isDirectory():
        return False
    if name.endswith(".lock"):
        index = siblings.get(name[: -len(".lock")])
        return index is not None and _is_index(fs, index)
    return not name.lower().endswith(_DATA_NAMES) and _is_index(fs, status)


def _decompressed(name: str, data: bytes) -> bytes:
    from neardup._native import spark as native

    return native.Job.decompress(name, data)


def _every_input_skipped(reasons: List[str]) -> str:
    """The error of a run whose every input was skipped, as the CLI words it
    (`chunked::every_input_skipped`): why the first three were, on one line."""
    n = len(reasons)
    message = f"nothing to read: every input was skipped ({n:,} input{'' if n == 1 else 's'})"
    for i, reason in enumerate(reasons[:3]):
        message += (": " if i == 0 else "; ") + reason
    if n > 3:
        message += f"; and {n - 3} more"
    return message


def _files_on_executors(sc, files: List[File], options: Dict[str, Any]):
    """`files` with each compressed one's size and ends those of its
    decompressed text, and each Parquet one's size that of its records,
    each read on an executor; each Parquet file's footer (by its index in
    the files returned); the files passed over (`--on-error skip`: (index
    in `files`, message)) and each file's index in `files`. A corrupt or
    truncated file is an `InputError` with `clean`'s message, or passed
    over."""
    whole = [f for f, entry in enumerate(files) if entry[4] != PLAIN]
    if not whole:
        return files, {}, [], list(range(len(files)))

    def ends(f: int, data: bytes):
        name, kind = files[f][0], files[f][4]
        footer = None
        try:
            if kind == PARQUET:
                text, footer = _job(options).parquet_records(name, data)
            else:
                text = _decompressed(name, data)
        except ValueError as e:
            return (f, None, str(e), None)
        ends = (len(text), text.endswith(b"\n") or not text, text.startswith(b"\xef\xbb\xbf"))
        return (f, ends, None, footer)

    found = sc.union(
        [sc.binaryFiles(files[f][5], 1).map(lambda kv, f=f: ends(f, kv[1])) for f in whole]
    ).collect()
    errors = [(f, message) for f, _, message, _ in sorted(found) if message is not None]
    if errors and options.get("on_error") != "skip":
        raise InputError([message for _, message in errors])
    files = list(files)
    footers = {}
    for f, ends, _, footer in found:
        if ends is not None:
            files[f] = (files[f][0], *ends, *files[f][4:])
        if footer is not None:
            footers[f] = footer
    passed_over = {f for f, _ in errors}
    ranks = [f for f in range(len(files)) if f not in passed_over]
    return (
        [files[f] for f in ranks],
        {ranks.index(f): footer for f, footer in footers.items()},
        errors,
        ranks,
    )


def _parquet_lines(name: str, data: bytes, options: Dict[str, Any]) -> List[str]:
    """A Parquet file's rows as the JSON Lines records `clean` reads them
    as, one a line (without `\n`)."""
    records, _footer = _job(options).parquet_records(name, data)
    lines = records.decode("utf-8").split("\n")
    lines.pop()
    return lines


def _decompressed_lines(name: str, data: bytes) -> List[str]:
    """A compressed file's lines, as Hadoop's line reader gives a plain
    file's: without `\\n`, a byte-order mark left out, invalid UTF-8 as
    U+FFFD."""
    text = _decompressed(name, data).decode("utf-8", "replace")
    if text.startswith("\ufeff"):
        text = text[1:]
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    return lines


def _read_lines(sc, files: Sequence[File], partitions: Optional[int], options: Dict[str, Any]):
    """The input's lines (without `\\n`), in order, for each partition the
    index of its file, and each file's RDD of lines (a compressed or
    Parquet file's: of its bytes, `(path, data)`). With `partitions`, files
    are cut into splits of total / partitions bytes (a file is never one
    split with another; a compressed or Parquet file is one split)."""
    conf = {"textinputformat.record.delimiter": "\n"}
    if partitions:
        total = sum(f[1] for f in files)
        split = str(max(1, math.ceil(total / partitions)))
        conf["mapreduce.input.fileinputformat.split.maxsize"] = split
        conf["mapreduce.input.fileinputformat.split.minsize"] = split
    rdds = []
    per_file = []
    file_of: List[int] = []
    for f, (path, _, _, _, kind, read) in enumerate(files):
        if kind == PARQUET:
            per_file.append(sc.binaryFiles(read, 1))
            rdd = per_file[-1].flatMap(lambda kv, path=path: _parquet_lines(path, kv[1], options))
        elif kind == COMPRESSED:
            rdd = sc.binaryFiles(read, 1).flatMap(lambda kv, path=path: _decompressed_lines(path, kv[1]))
            per_file.append(rdd)
        else:
            rdd = sc.newAPIHadoopFile(
                read,
                "org.apache.hadoop.mapreduce.lib.input.TextInputFormat",
                "org.apache.hadoop.io.LongWritable",
                "org.apache.hadoop.io.Text",
                conf=conf,
            ).map(lambda kv: kv[1])
            per_file.append(rdd)
        rdds.append(rdd)
        file_of.extend([f] * rdd.getNumPartitions())
    return sc.union(rdds), file_of, per_file


def _with_bom(line: str, first: int, i: int) -> str:
    return "\ufeff" + line if first == 2 and i == 0 else line


def clean(
    spark,
    inputs: Sequence[str],
    output: str,
    options: Optional[Dict[str, Any]] = None,
    partitions: Optional[int] = None,
    quiet: bool = False,
    report: Optional[str] = None,
    output_format: str = "text",
    top: int = 10,
    html: Optional[str] = None,
) -> Dict[str, Any]:
    """Cleans `inputs` (JSON Lines) on `spark` (a SparkSession) into
    `output` (a path on the driver's machine, or "-"), as `neardup clean
    INPUT... -o OUTPUT` does with `options` (the CLI's options by their
    Python names, `OPTIONS`). `partitions` cuts the input into about that
    many partitions. `report` (a path on the driver, or "-") gets the
    report `--report` writes, in `output_format` (`REPORT_FORMATS`; `top`:
    the shared blocks the text lists), instead of the line of totals.
    `html` (a path on the driver, or "-") gets the page `--html` writes.
    Returns the run's figures (documents, bytes; bytes shuffled by stage is
    for Spark's UI). Raises `InputError` on bad input (nothing is written)
    and `ValueError` on bad options."""
    inputs, output, report, html = _paths_given(inputs, output, report, html)
    partitions = _count("partitions", partitions, 1, none_ok=True)
    if partitions is not None and partitions > _MOST_PARTITIONS:
        # (2**70 cut the input into one partition a byte.)
        raise ValueError(
            f"--partitions {partitions}: Spark makes at most {_MOST_PARTITIONS:,} partitions "
            "(it counts them in a 32-bit integer)"
        )
    top = _count("top", top, 0)
    options = dict(options or {})
    unknown = sorted(set(options) - set(OPTIONS))
    if unknown:
        raise TypeError(f"neardup.spark.clean() got an unexpected keyword argument {unknown[0]!r}")
    job = _native.Job(options)  # validates the options on the driver
    if output_format not in REPORT_FORMATS:
        raise ValueError(f"--output-format {output_format} is not taken by the Spark job yet")
    _refuse_shared_outputs([("-o", output), ("--report", report), ("--html", html)])
    _check_parents([("-o", output), ("--report", report), ("--html", html)])
    if options.get("format") == "text":
        raise ValueError("--format text is not taken by the Spark job (it reads JSON Lines and Parquet)")
    try:
        return _job_run(spark, job, inputs, output, options, partitions, quiet, report, output_format, top, html)
    except Exception as e:
        failure = _failed_task(e)
        if failure is None:
            raise
        raise JobError(failure) from None


def _job_run(spark, job, inputs, output, options, partitions, quiet, report, output_format, top, html):
    """`clean()` once its arguments are checked: the job."""
    sc = spark.sparkContext
    files, footers, skipped_files, ranks = _hadoop_files(sc, inputs, options, quiet)
    if skipped_files and not files:
        raise InputError([_every_input_skipped([m for _, m in sorted(skipped_files)])])
    refused = _native.Job.parquet_destination([(f[0], f[4] == PARQUET) for f in files], output)
    if refused is not None:
        raise InputError([refused])
    _refuse_output_among_inputs(output, [f[0] for f in files])
    for flag, path in (("--report", report), ("--html", html)):
        if path is not None:
            _refuse_output_among_inputs(path, [f[0] for f in files], flag)
    lines, file_of, per_file = _read_lines(sc, files, partitions, options)
    n_parts = lines.getNumPartitions()
    first_part = {}
    for p, f in enumerate(file_of):
        first_part.setdefault(f, p)
    # Per partition: 0, or 1 when it holds its file's first line, 2 when that
    # line starts with a byte-order mark (given back to it, as it is in the file).
    first_of_file = [
        (1 + files[f][3]) if first_part[f] == p else 0 for p, f in enumerate(file_of)
    ]
    first_b = sc.broadcast(first_of_file)
    tables = job.tables()
    with_docs, with_blocks = job.levels()

    def features(p: int, it: Iterator[str]):
        # (partition, first line's index in it, lines, columns, errors) a
        # batch of lines: the engine's columns (`Job.feature_columns`).
        job = _job(options)
        first = first_b.value[p]
        batch: List[Tuple[str, bool]] = []
        start = 0
        for i, line in enumerate(it):
            batch.append((_with_bom(line, first, i), bool(first) and i == 0))
            if len(batch) == _BATCH:
                yield (p, start, len(batch), *job.feature_columns(batch))
                start += len(batch)
                batch = []
        if batch:
            yield (p, start, len(batch), *job.feature_columns(batch))

    from pyspark import StorageLevel

    feats = lines.mapPartitionsWithIndex(features).persist(StorageLevel.MEMORY_AND_DISK)
    try:
        return _decide_and_write(
            spark, job, options, (files, footers, per_file, skipped_files, ranks), file_of, lines, feats, n_parts, first_b,
            tables, with_docs, with_blocks, output, quiet,
            (report, output_format, top, html) if report is not None or html is not None else None,
        )
    finally:
        feats.unpersist()


#: The most partitions Spark makes (an RDD's partitions are numbered by a
#: Java `int`).
_MOST_PARTITIONS = 2**31 - 1


def _failed_task(error: BaseException) -> Optional[str]:
    """What failed, when `error` is Spark giving up on a task of the job (it
    failed as often as Spark tries it): the executor's error (a Python
    exception's last line, or the Java exception's) and where, in one line,
    for `JobError`. PySpark raises a worker's Python exception as its
    `PythonException`, and a Java failure as `Py4JJavaError` of a
    `SparkException`."""
    kind = type(error)
    text = str(error)
    if kind.__name__ == "PythonException" and kind.__module__.startswith("pyspark"):
        worker = text.split("\nJVM stacktrace:")[0]
        lines = [line.strip() for line in worker.splitlines() if line.strip()]
        cause = lines[-1] if lines else "an exception in a Python worker"
    elif kind.__name__ == "Py4JJavaError":
        try:
            if "SparkException" not in str(error.java_exception.toString()):
                return None
        except Exception:  # the JVM is gone: the error as Py4J says it
            pass
        python = re.search(r"PythonException:.*?\n(.*?)\n\s*(?:\n|\tat )", text, re.S)
        lost = re.search(r"most recent failure: Lost task [^:]*?\): ([^\n]+)", text)
        if python:
            lines = [line.strip() for line in python.group(1).splitlines() if line.strip()]
            cause = lines[-1] if lines else "an exception in a Python worker"
        elif lost:
            cause = lost.group(1).strip()
        else:
            cause = text.strip().splitlines()[0] if text.strip() else kind.__name__
    else:
        return None
    where = re.search(r"(Task \S+ in stage \S+ failed \d+ times?)", text)
    hint = ""
    if "No module named 'neardup'" in cause or "No module named 'pyarrow'" in cause:
        hint = " (the package must be installed on every worker: pip install ./python pyspark)"
    return (
        f"the Spark job failed on an executor: {cause[:1000]}{hint}"
        + (f" ({where.group(1)}; nothing was written)" if where else " (nothing was written)")
    )


def _paths_given(inputs, output, report, html):
    """`clean()`'s paths as strings: `inputs` one path (`str` or
    `os.PathLike`) or an iterable of them, each output a path, "-" or (the
    report and page) None. A `str` given as `inputs` is one path, not its
    letters (each of which was read as a missing file), and a `pathlib.Path`
    is taken where a string is (as output, it failed once the job had run)."""
    def one(what: str, path: Any) -> str:
        if isinstance(path, os.PathLike):
            path = os.fspath(path)
        if not isinstance(path, str):
            raise TypeError(f"{what}: expected a path (str or os.PathLike), got {type(path).__name__}")
        if not path:
            raise ValueError(f"{what}: a path cannot be empty")
        return path

    if isinstance(inputs, (str, os.PathLike)):
        inputs = [inputs]
    elif isinstance(inputs, (bytes, dict)) or not hasattr(inputs, "__iter__"):
        raise TypeError(f"inputs: expected a path or a list of paths, got {type(inputs).__name__}")
    inputs = [one(f"inputs: item {n}", p) for n, p in enumerate(inputs)]
    if not inputs:
        raise ValueError("inputs is empty: give at least one file or directory (the job does not read standard input)")
    return (
        inputs,
        one("output", output),
        None if report is None else one("report", report),
        None if html is None else one("html", html),
    )


def _count(name: str, value: Any, least: int, none_ok: bool = False) -> Optional[int]:
    """A whole number from `least` (any integer type, not a bool), as the
    command line's `--partitions` and `--top` take it: `partitions=-1` cut
    the input into one partition a byte."""
    if value is None and none_ok:
        return None
    try:
        if isinstance(value, bool):
            raise TypeError
        value = operator.index(value)
    except TypeError:
        raise TypeError(f"{name}: expected a whole number from {least}, got {value!r:.40}") from None
    if value < least:
        raise ValueError(f"--{name} must be at least {least}, not {value}")
    return value


def _check_parents(outputs: Sequence[Tuple[str, Optional[str]]]) -> None:
    """Refuses, before the job runs, an output whose directory cannot be
    made, with `clean`'s message (a file stands where a directory is
    needed: `-o notes.txt/out.jsonl`); a missing directory is made when the
    output is written, as `clean` makes it."""
    for flag, path in outputs:
        if path is None or path == "-":
            continue
        at = os.path.dirname(path)
        while at:
            try:
                st = os.stat(at)
            except OSError:
                parent = os.path.dirname(at)
                at = parent if parent != at else ""
                continue
            if not stat.S_ISDIR(st.st_mode):
                raise InputError([f"{path} ({flag}): cannot be written: {at} is not a directory"])
            break


def _decide_and_write(
    spark, job, options, inputs, file_of, lines, feats, n_parts, first_b,
    tables, with_docs, with_blocks, output, quiet, report=None,
):
    files, footers, per_file, skipped_files, ranks = inputs
    # Stage 2: the block table, partition sizes and errors.
    sc = spark.sparkContext
    rows = feats.map(
        lambda b: (b[0], b[1], b[2], b[3]["status"], b[3]["len"], b[3]["block_start"], b[3]["words"], b[4])
    ).collect()
    counts = [0] * n_parts
    for p, start, n, *_ in rows:
        counts[p] = max(counts[p], start + n)
    offset = [0] * (n_parts + 1)
    for p in range(n_parts):
        offset[p + 1] = offset[p] + counts[p]
    line_of_file = {}
    errors = []
    blank_lines: List[int] = []
    words: List[bytes] = [b""] * offset[n_parts]
    lens: List[int] = [0] * offset[n_parts]
    documents = blocks = text_bytes = 0
    for p, start, n, status, text_lens, block_start, block_words, batch_errors in rows:
        base = offset[p] + start
        text_lens = _array("Q", text_lens)
        block_start = _array("I", block_start)
        for i, message in batch_errors:
            line = base + i
            f = file_of[p]
            first_line = line_of_file.setdefault(f, offset[file_of.index(f)])
            errors.append(((ranks[f], line), f"{files[f][0]}:{line - first_line + 1}: {message}"))
        for i in range(n):
            if status[i] == 1 or status[i] == 2:
                # A bad record passed over (--on-error skip) is no document.
                blank_lines.append(base + i)
            elif status[i] == 0:
                documents += 1
                lens[base + i] = text_lens[i]
                words[base + i] = block_words[block_start[i] * 4:block_start[i + 1] * 4]
                blocks += block_start[i + 1] - block_start[i]
                text_bytes += text_lens[i]
    del rows
    blank_lines.sort()
    if errors and options.get("on_error") != "skip":
        raise InputError([m for _, m in sorted(errors)])
    # What was passed over, in input order (files, then lines).
    skipped = [m for _, m in sorted([((f, -1), m) for f, m in skipped_files] + errors)]
    if not quiet:
        for message in skipped:
            print(f"neardup: warning: skipped {message}", file=sys.stderr)
    offset_b = sc.broadcast(offset)

    # Reducers of the key shuffles: as many as the input's partitions.
    reducers = n_parts

    def shuffled(pieces_of, reduce):
        """What each reducer makes (`reduce`) of the pieces every partition
        cut its key rows into (`pieces_of`: a partition's batches to one
        piece of bytes per reducer): one shuffle of a few binary records."""
        def cut(batches):
            for r, piece in enumerate(pieces_of(list(batches))):
                if piece:
                    yield (r, piece)

        return (
            feats.mapPartitions(cut)
            .partitionBy(reducers, _identity)
            .mapPartitions(lambda pieces: [reduce([piece for _, piece in pieces])])
            .collect()
        )

    # Stage 3: documents.
    dropped_docs: List[int] = []
    in_clusters = []
    table_sizes = {"candidate_pairs": 0, "pair_documents": 0, "shared_blocks": 0, "repeats": 0}
    if with_docs:
        def band_pieces(batches):
            from neardup._native import spark as native

            return native.Job.band_pieces(
                [
                    (offset_b.value[p] + start, c["band_line"], c["band_table"], c["band_key"])
                    for p, start, _n, c, _errors in batches
                ],
                reducers,
            )

        def pairs_of(pieces):
            from neardup._native import spark as native

            return native.Job.pairs_of_pieces(pieces)

        # A pair may come from buckets of several reducers.
        pairs = set()
        for a, b in shuffled(band_pieces, pairs_of):
            pairs.update(zip(_array("I", a), _array("I", b)))
        pairs = sorted(pairs)
        in_pairs = sorted({d for pair in pairs for d in pair})
        in_pairs_b = sc.broadcast(frozenset(in_pairs))
        keeps_field = job.keeps_field()

        def member_rows(batch):
            p, start, n, columns, _errors = batch
            base = offset_b.value[p] + start
            status = columns["status"]
            shingle_start = _array("I", columns["shingle_start"])
            text_lens = _array("Q", columns["len"])
            shingles = columns["shingles"]
            for i in range(n):
                if status[i] == 0 and base + i in in_pairs_b.value:
                    yield (base + i, shingles[shingle_start[i] * 8:shingle_start[i + 1] * 8], text_lens[i])

        members = feats.flatMap(member_rows).collect()
        kept_lines = {}
        if keeps_field:
            kept_lines = dict(
                lines.zipWithIndex()
                .filter(lambda li: li[1] in in_pairs_b.value)
                .map(lambda li: (li[1], li[0]))
                .collect()
            )
            starts = {offset[p] for p in range(n_parts) if first_b.value[p]}
        members = [
            (d, s, n, (kept_lines[d], d in starts) if keeps_field else None)
            for d, s, n in members
        ]
        table_sizes["candidate_pairs"] = len(pairs)
        table_sizes["pair_documents"] = len(members)
        dropped_docs, _clusters, in_clusters, pair_counts = job.cluster_documents(pairs, members)
        in_pairs_b.unpersist()
    level_dropped = sorted(dropped_docs)
    dropped_set = frozenset(dropped_docs)
    annotate = bool(options.get("annotate"))
    annotations = _annotations(
        job, lines, in_clusters, blank_lines, offset, file_of, files, first_b.value
    ) if annotate else {}
    dropped_b = sc.broadcast(dropped_set)

    # Stage 4: blocks that share a key.
    verdicts = ([], 0, 0, 0, 0)
    detected = ([], [])
    # With a report, blocks of dropped documents join the exact keys' shuffle
    # (as -(number + 1)): the report counts their copies of shared blocks.
    with_dropped = report is not None
    if with_blocks:
        dropped_list_b = sc.broadcast(level_dropped)

        def block_key_pieces(batches):
            from neardup._native import spark as native

            columns = ("block_line", "block_position", "words", "exact_lo", "exact_hi", "posting_block", "posting_key")
            return native.Job.block_key_pieces(
                [(offset_b.value[p] + start, [c[k] for k in columns]) for p, start, _n, c, _errors in batches],
                dropped_list_b.value,
                with_dropped,
                reducers,
            )

        def shared_of(pieces):
            from neardup._native import spark as native

            return native.Job.shared_of_pieces(pieces)

        # A block may share keys held by several reducers.
        shared_numbers = sorted({n for piece in shuffled(block_key_pieces, shared_of) for n in _array("q", piece)})
        shared_b = sc.broadcast(shared_numbers)
        del shared_numbers

        def shared_blocks(batches):
            # Once a partition: the broadcast lists as sets (Arrow's is_in
            # builds its table of 400,000 shared blocks again at each call).
            dropped_docs = frozenset(dropped_list_b.value)
            shared = frozenset(shared_b.value)
            for p, start, n, c, _errors in batches:
                numbers, dropped = _block_numbers(
                    c["block_line"], c["block_position"], offset_b.value[p] + start, dropped_docs
                )
                block_words = _array("I", c["words"])
                shingle_start = _array("I", c["block_shingle_start"])
                for k, (number, gone) in enumerate(zip(numbers, dropped)):
                    if (-number - 1 if gone else number) not in shared:
                        continue
                    exact = c["exact_lo"][k * 8:k * 8 + 8] + c["exact_hi"][k * 8:k * 8 + 8]
                    shingles = None if gone else c["block_shingles"][shingle_start[k] * 8:shingle_start[k + 1] * 8]
                    yield (number, block_words[k], exact, shingles)

        found = feats.mapPartitions(shared_blocks).collect()
        shared_b.unpersist()
        dropped_list_b.unpersist()
        copies = [(n, exact) for n, _, exact, shingles in found if shingles is None]
        found = [row for row in found if row[3] is not None]
        detected = job.detect_shared(found, words, level_dropped, copies)
        repeats = detected[0]
        table_sizes["shared_blocks"] = len(found)
        table_sizes["repeats"] = len(repeats)
        del found, copies
        # Stage 5: runs.
        verdicts = job.decide_blocks(words, level_dropped, repeats)
    # (path, bytes) of the report and the HTML page.
    reports = []
    if report is not None:
        path, output_format, top, html = report
        wanted = [(p, f) for p, f in ((path, output_format), (html, "html")) if p is not None]
        written = _report(
            job, lines, files, file_of, offset, first_b.value, lens, blank_lines, words,
            level_dropped, detected, (pair_counts, in_clusters) if with_docs else None,
            [f for _, f in wanted], top, skipped,
        )
        reports = [(p, w) for (p, _), w in zip(wanted, written)]
    del words
    dropped_blocks = dict(verdicts[0])
    blocks_b = sc.broadcast(dropped_blocks)
    if annotate:
        # Marked, not dropped: every record is written (and counted as kept).
        dropped_docs = []
    annotations_b = sc.broadcast(annotations)
    last_of_file = []
    for p in range(n_parts):
        last_of_file.append(p + 1 == n_parts or file_of[p + 1] != file_of[p])
    newline_b = sc.broadcast([files[file_of[p]][2] for p in range(n_parts)])
    last_b = sc.broadcast(last_of_file)

    # Stage 6: output.
    def written(p: int, rows: List[str]):
        """The job, partition `p`'s records written back and the bytes of
        text they lost."""
        job = _job(options)
        first = first_b.value[p]
        base = offset_b.value[p]
        batch = []
        for i, line in enumerate(rows):
            doc = base + i
            terminator = not (last_b.value[p] and i + 1 == len(rows)) or newline_b.value[p]
            line = _with_bom(line, first, i)
            blocks = blocks_b.value.get(doc, [])
            if annotate:
                batch.append((line, bool(first) and i == 0, terminator, blocks, annotations_b.value.get(doc)))
            else:
                batch.append((line, bool(first) and i == 0, terminator, doc in dropped_b.value, blocks))
        if annotate:
            text, removed, error = job.annotate_lines(batch)
        else:
            text, removed, error = job.clean_lines(batch)
        if error is not None:
            raise RuntimeError(f"line {base + error[0]}: {error[1]}")
        return job, text, removed

    def write(p: int, it: Iterator[str]):
        _job_of_p, text, removed = written(p, list(it))
        yield (p, text, removed)

    def write_parquet(p: int, it):
        # A Parquet file's partition: its bytes, read again; the batches of
        # its kept rows as an Arrow IPC stream.
        ((_path, data),) = it
        name = files[file_of[p]][0]
        job, text, removed = written(p, _parquet_lines(name, data, options))
        yield (p, job.parquet_kept_rows(name, data, text), removed)

    parts = []
    start = 0
    for f, rdd in enumerate(per_file):
        write_part = write_parquet if files[f][4] == PARQUET else write
        parts.append(rdd.mapPartitionsWithIndex(lambda i, it, start=start, w=write_part: w(start + i, it)))
        start += rdd.getNumPartitions()

    dropped_bytes = sum(lens[d] for d in dropped_docs)
    removed_block_bytes = 0
    out_parts = sc.union(parts)
    target = _Target(output)
    report_targets = []
    parquet = None
    try:
        for p, part, removed in out_parts.toLocalIterator():
            if isinstance(part, str):
                target.write(part.encode("utf-8"))
            else:
                # Parquet inputs go to one Parquet file, as `clean -o
                # FILE.parquet` writes them (its first input's schema).
                if parquet is None:
                    first = min(footers)
                    parquet = _native.ParquetWriter(files[first][0], footers[first], job)
                target.write(parquet.write(files[file_of[p]][0], part))
            removed_block_bytes += removed
        if parquet is not None:
            target.write(parquet.finish())
        for path, written in reports:
            report_targets.append(_Target(path))
            report_targets[-1].write(written)
        # Renamed into place once every one is complete.
        for t in (target, *report_targets):
            t.commit()
    except BaseException:
        for t in (target, *report_targets):
            t.abort()
        raise
    for b in (offset_b, dropped_b, blocks_b, annotations_b, newline_b, last_b, first_b):
        b.unpersist()
    totals = _native.Job.totals(
        (documents, blocks, text_bytes),
        (len(dropped_docs), dropped_bytes),
        tuple(verdicts[1:]),
        removed_block_bytes,
    )
    if not quiet and (report is None or report[0] is None):
        print(f"neardup: {totals}", file=sys.stderr)
    return {
        "documents": documents,
        "blocks": blocks,
        "bytes": text_bytes,
        "dropped_documents": len(dropped_docs),
        "removed_blocks": verdicts[4],
        "totals": totals,
        "partitions": n_parts,
        # Rows of the tables the driver decides over.
        **table_sizes,
    }


#: Lines a batch of the engine's columns holds.
_BATCH = 1024


def _array(code: str, data: bytes) -> array.array:
    """Little-endian numbers of `data` (the engine's columns) as an array."""
    out = array.array(code)
    out.frombytes(data)
    if sys.byteorder == "big":
        out.byteswap()
    return out


def _block_numbers(line: bytes, position: bytes, base: int, dropped_docs) -> Tuple[List[int], List[bool]]:
    """The block numbers (`document << 32 | position`) of a batch's block
    columns, and whether each is in a document of `dropped_docs` (a set)."""
    docs = [base + d for d in _array("I", line)]
    numbers = [d << 32 | q for d, q in zip(docs, _array("I", position))]
    return numbers, [d in dropped_docs for d in docs]

def _identity(r: int) -> int:
    """The reducer of a piece: its key (`partitionBy`)."""
    return r


def _lines_at(lines, wanted, offset, first_of_file) -> List[Tuple[int, str]]:
    """(number, line) of the lines numbered in `wanted`, each as its file
    has it (a file's byte-order mark given back to its first line)."""
    sc = lines.context
    wanted_b = sc.broadcast(frozenset(wanted))
    offset_b = sc.broadcast(offset)
    first_b = sc.broadcast(first_of_file)

    def pick(p: int, it: Iterator[str]):
        base = offset_b.value[p]
        for i, line in enumerate(it):
            if base + i in wanted_b.value:
                yield (base + i, _with_bom(line, first_b.value[p], i))

    found = lines.mapPartitionsWithIndex(pick).collect()
    for b in (wanted_b, offset_b, first_b):
        b.unpersist()
    return found


def _report(
    job, lines, files, file_of, offset, first_of_file, lens, blank_lines, words,
    dropped, detected, doc_level, formats, top, skipped,
) -> List[bytes]:
    """The report `neardup clean --report` writes, in each of `formats`,
    made by the engine on the driver from the job's tables and the lines it
    reads (documents with repeats, those holding their first copies,
    documents in clusters)."""
    wanted = set(job.report_documents(words, dropped, detected[0]))
    if doc_level is not None:
        wanted.update(row[0] for row in doc_level[1])
    texts = _lines_at(lines, wanted, offset, first_of_file)
    first_line = {}
    for p, f in enumerate(file_of):
        first_line.setdefault(f, offset[p])
    # A file without lines starts where the next one does.
    starts = [offset[-1]] * (len(files) + 1)
    for f in reversed(range(len(files))):
        starts[f] = first_line.get(f, starts[f + 1])
    file_rows = [(name, size, starts[f], kind == PARQUET) for f, (name, size, _, _, kind, _) in enumerate(files)]
    blank = frozenset(blank_lines)
    line_lens = [None if i in blank else n for i, n in enumerate(lens)]
    level = None
    if doc_level is not None:
        (candidates, verified), rows = doc_level
        level = (candidates, verified, rows)
    return job.report(
        file_rows, line_lens, words, dropped, detected, level, texts, skipped, formats, top
    )


def _annotations(job, lines, in_clusters, blank_lines, offset, file_of, files, first_of_file):
    """What `--annotate` adds to each document in a cluster (by number):
    (representative's document index, size, the id of the document that
    stays, similarity, whether it is not the one that stays)."""
    kept = sorted({row[2] for row in in_clusters})
    kept_b = lines.context.broadcast(frozenset(kept))
    kept_lines = dict(
        lines.zipWithIndex()
        .filter(lambda li: li[1] in kept_b.value)
        .map(lambda li: (li[1], li[0]))
        .collect()
    )
    kept_b.unpersist()
    starts = {offset[p] for p in range(len(file_of)) if first_of_file[p]}

    def index(line: int) -> int:
        return line - bisect.bisect_left(blank_lines, line)

    def shown_id(line: int) -> str:
        found = job.record_id(kept_lines[line], line in starts)
        if found is not None:
            return found
        # No id field: the record's place, as `neardup clean` names it.
        p = bisect.bisect_right(offset, line) - 1
        f = file_of[p]
        return f"{files[f][0]}:{line - offset[file_of.index(f)] + 1}"

    ids = {k: shown_id(k) for k in kept}
    return {
        doc: (index(rep), size, ids[kept_doc], similarity, doc != kept_doc)
        for doc, rep, kept_doc, size, similarity in in_clusters
    }


class _Target:
    """Where the output goes, as `neardup clean` writes it: standard output;
    a device, FIFO, socket or descriptor link (`/dev/fd/N`) written in
    place, never replaced; else a temporary file beside the destination (the
    file a symbolic link names, so the link stays), renamed over it once
    every byte is written."""

    def __init__(self, path: str):
        self.path = path
        self.temp = None
        if path == "-":
            self.file = sys.stdout.buffer
            return
        descriptor = path in ("/dev/stdout", "/dev/stderr") or path.startswith("/dev/fd/") or (
            path.startswith("/proc/") and "/fd/" in path
        )
        if descriptor or _special(path):
            # A regular file behind a descriptor link (`> file`) is appended
            # to, as the shell opened it.
            self.file = open(path, "ab" if os.path.isfile(path) else "wb")
            return
        self.path = os.path.realpath(path)
        directory = os.path.dirname(self.path)
        # Missing directories are made, as `clean -o new/out.jsonl` makes
        # them, and removed again if the job fails.
        self.made: List[str] = []
        at = directory
        while at and not os.path.isdir(at):
            self.made.append(at)
            at = os.path.dirname(at)
        os.makedirs(directory, exist_ok=True)
        fd, self.temp = tempfile.mkstemp(prefix=f".neardup-{os.getpid()}-", suffix=".tmp", dir=directory)
        # The mode of the file replaced, or a new file's (0666 less the
        # umask), as the CLI gives it; not mkstemp's 0600.
        try:
            mode = stat.S_IMODE(os.stat(self.path).st_mode)
        except FileNotFoundError:
            umask = os.umask(0)
            os.umask(umask)
            mode = 0o666 & ~umask
        os.fchmod(fd, mode)
        self.file = os.fdopen(fd, "wb")

    def write(self, data: bytes) -> None:
        self.file.write(data)

    def commit(self) -> None:
        self.file.flush()
        if self.temp is not None:
            self.file.close()
            os.replace(self.temp, self.path)
            self.temp = None
        elif self.file is not sys.stdout.buffer:
            self.file.close()

    def abort(self) -> None:
        if self.temp is not None:
            self.file.close()
            os.unlink(self.temp)
            self.temp = None
            for made in getattr(self, "made", ()):
                try:
                    os.rmdir(made)
                except OSError:
                    break
        elif self.file is not sys.stdout.buffer:
            self.file.close()


def _special(path: str) -> bool:
    """Whether `path` is a device, FIFO or socket (written in place: two
    outputs may share one, as `-o null --report null`)."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    return not stat.S_ISREG(mode) and not stat.S_ISDIR(mode)


#: What `clean` calls each output when two of them cannot share standard
#: output.
_STDOUT_NAMES = {"-o": "the cleaned text", "--report": "the report", "--html": "the HTML page"}


def _refuse_shared_outputs(outputs: Sequence[Tuple[str, Optional[str]]]) -> None:
    """Refuses, as `clean` does, an output (flag, path or None) that is a
    directory, and two that are one file or both standard output; devices
    and FIFOs may be shared."""
    given = [(flag, path) for flag, path in outputs if path is not None]
    # As the CLI says it, before the job runs (renaming the finished output
    # onto a directory failed with a traceback at the job's end).
    for flag, path in given:
        if path != "-" and os.path.isdir(path):
            raise InputError([f"{path} ({flag}): cannot be written: it is a directory"])
    for i, (flag_a, a) in enumerate(given):
        for flag_b, b in given[i + 1:]:
            if a == b == "-":
                fix = "-o FILE or --report FILE" if flag_b == "--report" else f"{flag_b} FILE"
                raise ValueError(
                    f"{_STDOUT_NAMES[flag_a]} and {_STDOUT_NAMES[flag_b]} cannot both go to "
                    f"standard output; give {fix}"
                )
            if "-" not in (a, b) and _same_path(a, b) and not (_special(a) and _special(b)):
                raise InputError([f"{a} ({flag_a}) and {b} ({flag_b}) are one file: each output needs a file of its own"])


def _same_path(a: str, b: str) -> bool:
    return os.path.realpath(a) == os.path.realpath(b) or (
        os.path.exists(a) and os.path.exists(b) and os.path.samefile(a, b)
    )


def _refuse_output_among_inputs(output: str, inputs: Sequence[str], flag: str = "-o") -> None:
    if output == "-":
        return
    for path in inputs:
        local = path[len("file:"):] if path.startswith("file:") else path
        if "://" in local:
            continue
        if _same_path(local, output):
            raise InputError([f"{output} ({flag}) is also {path} (input): a run never writes a file it reads; refusing to overwrite it"])


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m neardup.spark",
        description="neardup clean on Spark: the same bytes as one machine.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    clean_cmd = sub.add_parser("clean", help="write the cleaned JSON Lines and print the totals")
    clean_cmd.add_argument("inputs", nargs="+", metavar="INPUT", help="JSON Lines files or directories (any path Spark reads)")
    clean_cmd.add_argument("-o", "--output", required=True, help="the cleaned JSON Lines (a path on the driver, or -)")
    clean_cmd.add_argument("--master", help="Spark master URL (default: spark-submit's, else local[*])")
    clean_cmd.add_argument("--partitions", type=int, help="cut the input into about this many partitions")
    clean_cmd.add_argument("-q", "--quiet", action="store_true", help="no line of totals")
    clean_cmd.add_argument("--report", metavar="FILE", help="write the report there (a path on the driver, or -), as clean --report does")
    clean_cmd.add_argument("--output-format", help="the report's format: text (default), json, jsonl or html")
    clean_cmd.add_argument("--json", action="store_true", help="short for --output-format json")
    clean_cmd.add_argument("--top", type=int, default=10, help="shared blocks listed in the text report")
    clean_cmd.add_argument("--html", metavar="FILE", help="also write the report as a page to look at (a path on the driver, or -), as clean --html does")
    for name, kind in OPTIONS.items():
        flag = "--" + name.replace("_", "-")
        if kind is bool:
            clean_cmd.add_argument(flag, action="store_true", default=None)
            # The last of --x and --no-x wins, as in the CLI.
            clean_cmd.add_argument("--no-" + flag[2:], dest=name, action="store_false", default=None)
        else:
            clean_cmd.add_argument(flag, type=kind)
    for flag, takes_value in NOT_YET.items():
        dest = "not_yet_" + flag[2:].replace("-", "_")
        if takes_value:
            clean_cmd.add_argument(flag, dest=dest, help=argparse.SUPPRESS)
        else:
            clean_cmd.add_argument(flag, dest=dest, action="store_true", default=None, help=argparse.SUPPRESS)
    return parser


def _report_format(args) -> str:
    """`--output-format` and `--json`, as `neardup clean` takes them."""
    if args.top < 0:
        raise ValueError(f"--top {args.top}: the number of shared blocks listed is 0 or more")
    given = args.output_format
    if args.json:
        if given not in (None, "json"):
            raise ValueError(f"--json is --output-format json; it conflicts with --output-format {given}")
        given = "json"
    if given not in (None, "text") and args.report is None:
        raise ValueError(
            f"--output-format {given} is for the report, which `clean` writes only with "
            "--report FILE (without it, a line of totals)"
        )
    given = given or "text"
    if given not in REPORT_FORMATS:
        raise ValueError(f"--output-format {given} is not taken by the Spark job yet")
    _refuse_shared_outputs([("-o", args.output), ("--report", args.report), ("--html", args.html)])
    return given


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = _parser().parse_args(argv)
    for flag in NOT_YET:
        if getattr(args, "not_yet_" + flag[2:].replace("-", "_")) is not None:
            print(f"neardup: {flag} is not taken by the Spark job yet", file=sys.stderr)
            return 2
    options = {name: getattr(args, name) for name in OPTIONS if getattr(args, name) is not None}
    try:
        _native.Job(options)
        output_format = _report_format(args)
    except (TypeError, ValueError, InputError) as e:
        print(f"neardup: {e}", file=sys.stderr)
        return 2
    if args.partitions is not None and args.partitions < 1:
        print("neardup: --partitions must be at least 1", file=sys.stderr)
        return 2
    from pyspark.sql import SparkSession

    # Workers run this Python (with the package) unless told otherwise.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = SparkSession.builder.appName("neardup clean").config("spark.ui.showConsoleProgress", "false")
    if args.master:
        builder = builder.master(args.master)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    try:
        clean(
            spark, args.inputs, args.output, options, args.partitions, args.quiet,
            args.report, output_format, args.top, args.html,
        )
    except (InputError, ValueError) as e:
        if not isinstance(e, InputError):
            e = InputError([str(e)])
        for message in e.messages:
            print(f"neardup: {message}", file=sys.stderr)
        return 2
    finally:
        spark.stop()
    return 0


if __name__ == "__main__":
    # Run from the importable module, so that what Spark ships to workers
    # names `neardup.spark`, not `__main__`.
    from neardup import spark as _module

    sys.exit(_module.main())
