"""neardup on Spark: the same answer as one machine, past one machine.

    python -m neardup.spark clean INPUT... -o OUTPUT [options] [--master URL]
    spark-submit --master URL -m neardup.spark ... (or the path of this file)

Reads JSON Lines from any path Spark reads (files and directories, walked in
sorted order as `neardup clean` walks them) and writes the cleaned JSON Lines
to OUTPUT (a file on the driver's machine, or `-`), byte for byte what
`neardup clean INPUT... -o OUTPUT` writes, whatever the partitioning; the
line of totals goes to standard error as `clean` prints it, or with
`--report FILE` the report `clean --report FILE` writes goes to FILE. README.md
("Spark") gives the stages and what each one shuffles.

Stages (the Rust engine does every decision, `neardup::distributed`):

1. features (mapPartitions): each record's blocks (word counts, exact keys,
   shingles, posting keys) and document sketch (LSH keys, shingle set).
   Records are numbered by their line in the input (partition offsets
   collected with the block word counts, stage 2).
2. the block table (collect): each line's block word counts, the only table
   the size of the corpus's blocks that the driver holds (4 bytes a block).
3. documents: LSH keys are shuffled into buckets, each bucket gives its
   candidate pairs (the engine's bucket rule), pairs are collected, with the
   shingle sets of the documents in them, and clustered on the driver in
   input order (the engine's verification).
4. blocks: exact keys and posting keys of blocks of kept documents are
   shuffled; blocks that share one with another block are collected with
   their shingles and run through the engine's detector on the driver, in
   input order; every other block is a first copy.
5. runs (driver): the engine groups repeats into runs from the block table.
   With --report, the lines of the documents the report names are collected
   and the engine builds the report there (`Job.report`); stage 4 then also
   shuffles the exact keys of dropped documents' blocks (the report counts
   their copies of shared blocks).
6. output (mapPartitions): each partition writes its records back (dropped
   ones left out, or with --annotate kept and marked, the text field of
   those that lost blocks replaced); the
   driver writes the partitions in order to a temporary file beside OUTPUT
   and renames it into place.
"""

from __future__ import annotations

import argparse
import bisect
import math
import os
import struct
import sys
import tempfile
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple

from neardup._native import spark as _native


def _job(options: Dict[str, Any]):
    """The engine's job on a worker (imported there: closures shipped to
    workers name this module's functions, never the native module)."""
    from neardup._native import spark as native

    return native.Job(options)


def _bucket_pairs(members) -> List[Tuple[int, int]]:
    from neardup._native import spark as native

    return native.Job.bucket_pairs(sorted(members))

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
    "annotate": bool,
    "preview": int,
}

#: The report's formats the Spark job writes (`--output-format`).
REPORT_FORMATS = ("text", "json", "jsonl")


#: Options of `neardup clean` the Spark job refuses by name (exit status 2),
#: and whether each takes a value.
NOT_YET: Dict[str, bool] = {
    "--html": True,
    "--index": True,
    "--on-error": True,
}


class InputError(Exception):
    """Bad input: the job stops before writing anything (exit status 2)."""

    def __init__(self, messages: Sequence[str]):
        super().__init__("\n".join(messages))
        self.messages = list(messages)


def _hadoop_files(sc, paths: Sequence[str]) -> List[Tuple[str, int, bool, bool]]:
    """(path, bytes, ends with a newline, starts with a byte-order mark) of
    every file under `paths`, in the
    order `neardup clean` reads them: given paths as given, directories
    walked in sorted byte order of names, hidden entries skipped."""
    jvm = sc._jvm
    conf = sc._jsc.hadoopConfiguration()
    found: List[Tuple[str, int, bool, bool]] = []
    errors: List[str] = []

    def ends(fs, status) -> Tuple[bool, bool]:
        """Whether the file ends with a newline, and starts with a UTF-8
        byte-order mark (Hadoop's line reader leaves it out)."""
        if status.getLen() == 0:
            return True, False
        stream = fs.open(status.getPath())
        try:
            head = [stream.read() for _ in range(min(3, status.getLen()))]
            stream.seek(status.getLen() - 1)
            return stream.read() == 10, head == [0xEF, 0xBB, 0xBF]
        finally:
            stream.close()

    def visit(fs, status, shown: str) -> None:
        if status.isDirectory():
            children = sorted(
                fs.listStatus(status.getPath()),
                key=lambda s: s.getPath().getName().encode("utf-8", "surrogateescape"),
            )
            for child in children:
                name = child.getPath().getName()
                if name.startswith("."):
                    continue
                visit(fs, child, shown.rstrip("/") + "/" + name)
            return
        name = shown.lower()
        if name.endswith(".parquet"):
            raise InputError(
                [f"{shown}: Parquet is not read by the Spark job yet; convert it to JSON Lines"]
            )
        if name.endswith((".gz", ".zst", ".bz2", ".xz")):
            raise InputError(
                [f"{shown}: compressed inputs are not read by the Spark job yet; decompress it first"]
            )
        found.append((shown, status.getLen(), *ends(fs, status)))

    for given in paths:
        path = jvm.org.apache.hadoop.fs.Path(given)
        fs = path.getFileSystem(conf)
        if not fs.exists(path):
            errors.append(f"{given}: No such file or directory (os error 2)")
            continue
        visit(fs, fs.getFileStatus(path), given)
    if errors:
        raise InputError(errors)
    return found


def _read_lines(sc, files: Sequence[Tuple[str, int, bool, bool]], partitions: Optional[int]):
    """The input's lines (without `\\n`), in order, and for each partition
    the index of its file. With `partitions`, files are cut into splits of
    total / partitions bytes (a file is never one split with another)."""
    conf = {"textinputformat.record.delimiter": "\n"}
    if partitions:
        total = sum(f[1] for f in files)
        split = str(max(1, math.ceil(total / partitions)))
        conf["mapreduce.input.fileinputformat.split.maxsize"] = split
        conf["mapreduce.input.fileinputformat.split.minsize"] = split
    rdds = []
    file_of: List[int] = []
    for f, (path, *_) in enumerate(files):
        rdd = sc.newAPIHadoopFile(
            path,
            "org.apache.hadoop.mapreduce.lib.input.TextInputFormat",
            "org.apache.hadoop.io.LongWritable",
            "org.apache.hadoop.io.Text",
            conf=conf,
        ).map(lambda kv: kv[1])
        rdds.append(rdd)
        file_of.extend([f] * rdd.getNumPartitions())
    return sc.union(rdds), file_of


def _over_groups(keyed, of_group) -> list:
    """The shuffle: (key, value) pairs grouped by key; `of_group` of each
    group of two or more values, collected without repeats."""
    return (
        keyed.groupByKey()
        .flatMap(lambda kv: of_group(kv[1]) if len(kv[1]) > 1 else [])
        .distinct()
        .collect()
    )


def _with_bom(line: str, first: int, i: int) -> str:
    return "\ufeff" + line if first == 2 and i == 0 else line


def _u32s(data: bytes) -> Tuple[int, ...]:
    return struct.unpack(f"<{len(data) // 4}I", data)


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
) -> Dict[str, Any]:
    """Cleans `inputs` (JSON Lines) on `spark` (a SparkSession) into
    `output` (a path on the driver's machine, or "-"), as `neardup clean
    INPUT... -o OUTPUT` does with `options` (the CLI's options by their
    Python names, `OPTIONS`). `partitions` cuts the input into about that
    many partitions. `report` (a path on the driver, or "-") gets the
    report `--report` writes, in `output_format` (`REPORT_FORMATS`; `top`:
    the shared blocks the text lists), instead of the line of totals.
    Returns the run's figures (documents, bytes; bytes shuffled by stage is
    for Spark's UI). Raises `InputError` on bad input (nothing is written)
    and `ValueError` on bad options."""
    options = dict(options or {})
    unknown = sorted(set(options) - set(OPTIONS))
    if unknown:
        raise TypeError(f"neardup.spark.clean() got an unexpected keyword argument {unknown[0]!r}")
    job = _native.Job(options)  # validates the options on the driver
    if output_format not in REPORT_FORMATS:
        raise ValueError(f"--output-format {output_format} is not taken by the Spark job yet")
    if report is not None and report == output == "-":
        raise ValueError(
            "the cleaned text and the report cannot both go to standard output; give -o FILE or --report FILE"
        )
    if report is not None and report != "-" and output != "-" and _same_path(report, output):
        raise InputError([f"{output} (-o) and {report} (--report) are one file: each output needs a file of its own"])
    sc = spark.sparkContext
    files = _hadoop_files(sc, inputs)
    _refuse_output_among_inputs(output, [f[0] for f in files])
    if report is not None:
        _refuse_output_among_inputs(report, [f[0] for f in files], "--report")
    lines, file_of = _read_lines(sc, files, partitions)
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
        job = _job(options)
        first = first_b.value[p]
        batch: List[Tuple[str, bool]] = []
        out_index = 0

        def flush():
            nonlocal out_index
            made = job.features(batch)
            for item in made:
                yield (p, out_index, item)
                out_index += 1
            batch.clear()

        for i, line in enumerate(it):
            batch.append((_with_bom(line, first, i), bool(first) and i == 0))
            if len(batch) == 1024:
                yield from flush()
        if batch:
            yield from flush()

    from pyspark import StorageLevel

    feats = lines.mapPartitionsWithIndex(features).persist(StorageLevel.MEMORY_AND_DISK)
    try:
        return _decide_and_write(
            sc, job, options, files, file_of, lines, feats, n_parts, first_b,
            tables, with_docs, with_blocks, output, quiet,
            (report, output_format, top) if report is not None else None,
        )
    finally:
        feats.unpersist()


def _decide_and_write(
    sc, job, options, files, file_of, lines, feats, n_parts, first_b,
    tables, with_docs, with_blocks, output, quiet, report=None,
):
    # Stage 2: the block table, partition sizes and errors.
    def table(item):
        p, i, f = item
        if f is None:
            return (p, i, None)
        if isinstance(f, str):
            return (p, i, f)
        return (p, i, (f[0], f[3]))

    rows = feats.map(table).collect()
    counts = [0] * n_parts
    for p, i, _ in rows:
        counts[p] = max(counts[p], i + 1)
    offset = [0] * (n_parts + 1)
    for p in range(n_parts):
        offset[p + 1] = offset[p] + counts[p]
    line_of_file = {}
    errors = []
    blank_lines: List[int] = []
    words: List[bytes] = [b""] * offset[n_parts]
    lens: List[int] = [0] * offset[n_parts]
    documents = blocks = text_bytes = 0
    for p, i, r in rows:
        line = offset[p] + i
        if isinstance(r, str):
            f = file_of[p]
            start = line_of_file.setdefault(f, offset[file_of.index(f)])
            errors.append((line, f"{files[f][0]}:{line - start + 1}: {r}"))
        elif r is None:
            blank_lines.append(line)
        else:
            documents += 1
            lens[line], words[line] = r
            blocks += len(r[1]) // 4
            text_bytes += r[0]
    del rows
    if errors:
        raise InputError([m for _, m in sorted(errors)])
    offset_b = sc.broadcast(offset)
    # (document number, features) of every record.
    records = feats.filter(lambda it: not (it[2] is None or isinstance(it[2], str))).map(
        lambda it: (offset_b.value[it[0]] + it[1], it[2])
    )

    # Stage 3: documents.
    dropped_docs: List[int] = []
    in_clusters = []
    table_sizes = {"candidate_pairs": 0, "pair_documents": 0, "shared_blocks": 0, "repeats": 0}
    if with_docs:
        def bucket_keys(record):
            doc, f = record
            return [((t, k), doc) for t, k in enumerate(f[1])] if len(f[1]) == tables else []

        pairs = _over_groups(records.flatMap(bucket_keys), _bucket_pairs)
        in_pairs = sorted({d for pair in pairs for d in pair})
        in_pairs_b = sc.broadcast(frozenset(in_pairs))
        keeps_field = job.keeps_field()
        members = (
            records.filter(lambda r: r[0] in in_pairs_b.value)
            .map(lambda r: (r[0], r[1][2], r[1][0]))
            .collect()
        )
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
        def block_keys(record):
            doc, f = record
            dropped = doc in dropped_b.value
            if dropped and not with_dropped:
                return []
            out = []
            counts = _u32s(f[3])
            for b, (exact, _shingles, keys) in enumerate(f[4]):
                if counts[b] == 0:
                    continue
                number = doc << 32 | b
                if dropped:
                    out.append(((0, exact), -number - 1))
                    continue
                out.append(((0, exact), number))
                out.extend(((1, k), number) for k in keys)
            return out

        shared = _over_groups(records.flatMap(block_keys), _sharing)
        shared_b = sc.broadcast(frozenset(shared))

        def shared_blocks(record):
            doc, f = record
            counts = _u32s(f[3])
            out = []
            dropped = doc in dropped_b.value
            for b, (exact, shingles, _keys) in enumerate(f[4]):
                number = doc << 32 | b
                if (-number - 1 if dropped else number) in shared_b.value:
                    out.append((number, counts[b], exact, None if dropped else shingles))
            return out

        found = records.flatMap(shared_blocks).collect()
        shared_b.unpersist()
        copies = [(n, exact) for n, _, exact, shingles in found if shingles is None]
        found = [row for row in found if row[3] is not None]
        detected = job.detect_shared(found, words, level_dropped, copies)
        repeats = detected[0]
        table_sizes["shared_blocks"] = len(found)
        table_sizes["repeats"] = len(repeats)
        del found, copies
        # Stage 5: runs.
        verdicts = job.decide_blocks(words, level_dropped, repeats)
    report_bytes = None
    if report is not None:
        report_bytes = _report(
            job, lines, files, file_of, offset, first_b.value, lens, blank_lines, words,
            level_dropped, detected, (pair_counts, in_clusters) if with_docs else None,
            report[1], report[2],
        )
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
    def write(p: int, it: Iterator[str]):
        job = _job(options)
        first = first_b.value[p]
        base = offset_b.value[p]
        rows = list(it)
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
        yield (p, text, removed)

    dropped_bytes = sum(lens[d] for d in dropped_docs)
    removed_block_bytes = 0
    out_parts = lines.mapPartitionsWithIndex(write)
    target = _Target(output)
    report_target = None
    try:
        for _p, text, removed in out_parts.toLocalIterator():
            target.write(text.encode("utf-8"))
            removed_block_bytes += removed
        if report_bytes is not None:
            report_target = _Target(report[0])
            report_target.write(report_bytes)
            report_target.commit()
        target.commit()
    except BaseException:
        target.abort()
        if report_target is not None:
            report_target.abort()
        raise
    for b in (offset_b, dropped_b, blocks_b, annotations_b, newline_b, last_b, first_b):
        b.unpersist()
    totals = _native.Job.totals(
        (documents, blocks, text_bytes),
        (len(dropped_docs), dropped_bytes),
        tuple(verdicts[1:]),
        removed_block_bytes,
    )
    if not quiet and report is None:
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


def _sharing(group) -> list:
    """The blocks of a group of blocks sharing a key: its kept blocks when
    there are two or more, and its blocks of dropped documents (negative
    numbers) when there is a kept one."""
    kept = [n for n in group if n >= 0]
    dropped = [n for n in group if n < 0] if kept else []
    return (kept if len(kept) > 1 else []) + dropped


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
    dropped, detected, doc_level, output_format, top,
) -> bytes:
    """The report `neardup clean --report` writes, made by the engine on the
    driver from the job's tables and the lines it reads (documents with
    repeats, those holding their first copies, documents in clusters)."""
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
    file_rows = [(name, size, starts[f]) for f, (name, size, *_) in enumerate(files)]
    blank = frozenset(blank_lines)
    line_lens = [None if i in blank else n for i, n in enumerate(lens)]
    level = None
    if doc_level is not None:
        (candidates, verified), rows = doc_level
        level = (candidates, verified, rows)
    return job.report(
        file_rows, line_lens, words, dropped, detected, level, texts, output_format, top
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
    """Where the output goes: standard output, or a temporary file beside
    the destination, renamed over it once every byte is written."""

    def __init__(self, path: str):
        self.path = path
        if path == "-":
            self.file = sys.stdout.buffer
            self.temp = None
            return
        directory = os.path.dirname(os.path.abspath(path))
        fd, self.temp = tempfile.mkstemp(prefix=f".neardup-{os.getpid()}-", suffix=".tmp", dir=directory)
        self.file = os.fdopen(fd, "wb")

    def write(self, data: bytes) -> None:
        self.file.write(data)

    def commit(self) -> None:
        self.file.flush()
        if self.temp is not None:
            self.file.close()
            os.replace(self.temp, self.path)
            self.temp = None

    def abort(self) -> None:
        if self.temp is not None:
            self.file.close()
            os.unlink(self.temp)
            self.temp = None


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
    clean_cmd.add_argument("--output-format", help="the report's format: text (default), json or jsonl")
    clean_cmd.add_argument("--json", action="store_true", help="short for --output-format json")
    clean_cmd.add_argument("--top", type=int, default=10, help="shared blocks listed in the text report")
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
    if args.report == args.output == "-":
        raise ValueError(
            "the cleaned text and the report cannot both go to standard output; give -o FILE or --report FILE"
        )
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
    except (TypeError, ValueError) as e:
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
            args.report, output_format, args.top,
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
