"""Find and remove near-duplicate text: repeated paragraphs, syndicated blocks
and near-copy documents, with the neardup engine running in process.

Three entry points:

- :func:`clean` and :func:`scan` (and :func:`check`) over records (dicts such
  as JSON Lines records, or strings), a ``pyarrow.Table`` or an iterator of
  ``RecordBatch``, or paths; options are the CLI's flags as keyword
  arguments (``--min-words 6`` is ``min_words=6``), with its defaults;
- :func:`clean_stream` for data larger than memory: batches in, batches out,
  under ``memory_limit=``;
- :class:`Index`, a persistent index of earlier runs.

>>> import neardup
>>> body = "A paragraph long enough to be judged on its own words, as any other."
>>> result = neardup.clean([{"id": "a", "text": body}, {"id": "b", "text": body}])
>>> [r["id"] for r in result.records]
['a']
>>> result.report["summary"]["dropped_documents"]
1
"""

from __future__ import annotations

import atexit
import io
import json
import operator
import os
import queue
import threading
import warnings
from typing import Any, Callable, Dict, Iterable, Iterator, List, Optional, Union

from . import _native

__all__ = [
    "Index",
    "NeardupError",
    "NeardupOSError",
    "NeardupWarning",
    "Result",
    "Stream",
    "check",
    "clean",
    "clean_stream",
    "scan",
]

__version__ = _native.__version__

NeardupError = _native.NeardupError
NeardupError.__module__ = "neardup"


class NeardupOSError(NeardupError, OSError):
    """An input, output or index could not be read or written (the CLI's
    message names the path)."""


class NeardupWarning(UserWarning):
    """A warning or note of a run, as the CLI prints on standard error."""


def _raise(errors: List[tuple]) -> None:
    messages = [message for _, message in errors]
    cls = NeardupOSError if any(kind == "io" for kind, _ in errors) else NeardupError
    err = cls("\n".join(messages))
    err.errors = messages
    raise err


# How many bytes of JSON Lines are handed to the engine at a time.
_PIECE = 1 << 20


def _is_path(data: Any) -> bool:
    return isinstance(data, (str, os.PathLike))


def _path(p: Any) -> str:
    """A path (``str``, ``bytes`` as ``os.fsencode`` gives one, or
    ``os.PathLike``) as a ``str``, bytes that are not UTF-8 as surrogate
    escapes (as ``os.fsdecode`` gives them; the file's own name)."""
    return os.fsdecode(p)


def _paths(records: Any, paths: Any, options: Dict[str, Any]) -> Optional[List[str]]:
    """The paths a run reads (``None``: it reads ``records``), from
    ``paths=`` (a path or an iterable of paths) or from ``records`` (a
    ``str`` or ``os.PathLike``, or a list of ``os.PathLike``). Refuses
    what would be read otherwise than meant: both or neither, a list
    mixing paths and records, and ``out_dir=`` with records."""
    if paths is not None:
        if records is not None:
            raise TypeError("give records or paths=, not both")
        if _is_path(paths) or isinstance(paths, bytes):
            return [_path(paths)]
        if isinstance(paths, (dict, io.IOBase)) or not hasattr(paths, "__iter__"):
            raise TypeError(
                f"paths= takes a path or an iterable of paths (str, bytes or os.PathLike), "
                f"not {type(paths).__name__}"
            )
        found = []
        for n, p in enumerate(paths):
            if not (_is_path(p) or isinstance(p, bytes)):
                raise TypeError(
                    f"paths=: item {n} is {type(p).__name__}, not a path (str, bytes or "
                    "os.PathLike)" + (": give the file's name (f.name)" if isinstance(p, io.IOBase) else "")
                )
            found.append(_path(p))
        if not found:
            raise ValueError("paths= is empty: give at least one path")
        return found
    if records is None:
        raise TypeError("give records, a pyarrow Table or batches, or paths=")
    if _is_path(records):
        return [_path(records)]
    if isinstance(records, (bytes, bytearray, memoryview, io.IOBase)):
        # An open file iterated gave its lines as texts (a JSON Lines file's
        # records deduplicated as strings of JSON), bytes gave numbers.
        what = "an open file" if isinstance(records, io.IOBase) else type(records).__name__
        raise TypeError(
            f"records is {what}: give a file to read as the CLI reads it by its path "
            "(paths=[...], or its name as a str or os.PathLike), or the records themselves "
            "(dicts or strings; [line for line in f] for a file's lines as texts)"
        )
    if isinstance(records, (list, tuple)) and any(isinstance(r, os.PathLike) for r in records):
        if not all(isinstance(r, os.PathLike) for r in records):
            raise TypeError(
                "records mix paths (os.PathLike) with records or strings (which are texts); "
                "pass the files as paths=[...]"
            )
        return [_path(p) for p in records]
    if options.get("out_dir") is not None:
        raise TypeError(
            "out_dir= writes one cleaned file per input file: give the files as paths=[...] "
            "(strings in a list are texts, not paths); the cleaned records of records are "
            "in the result's .records"
        )
    return None


# Nanoseconds in a unit of an Arrow timestamp.
_PER_UNIT = {"s": 1_000_000_000, "ms": 1_000_000, "us": 1_000, "ns": 1}


def _holds_time(t: Any) -> bool:
    """Whether an Arrow type is a timestamp or holds one in a struct or list
    (what ``_arrow_rows`` rewrites)."""
    import pyarrow as pa

    if pa.types.is_timestamp(t):
        return True
    if pa.types.is_struct(t):
        return any(_holds_time(t.field(i).type) for i in range(t.num_fields))
    if pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t):
        return _holds_time(t.value_type)
    if pa.types.is_map(t):
        return _holds_time(t.key_type) or _holds_time(t.item_type)
    return False


def _times_as_strings(array: Any, column: str, record_of: Callable[[int], int], where: str) -> Any:
    """``array`` with every timestamp in it (at its top, in a struct's fields or
    in a list's values, at any depth) as the string the CLI reads it as from
    Parquet; ``record_of`` gives the record (from 0) of an element, for a
    message naming it (``where`` is the file or ``<records>``)."""
    import bisect

    import pyarrow as pa

    t = array.type
    if pa.types.is_timestamp(t):
        values = array.cast(pa.int64()).to_pylist()
        strings, bad = _native.arrow_times(values, _PER_UNIT[t.unit], t.tz is not None)
        if bad is not None:
            at, why = bad
            raise NeardupError(f"{where}:{record_of(at) + 1}: column {column!r} {why}")
        return pa.array(strings, pa.string())
    if pa.types.is_struct(t):
        children = [
            _times_as_strings(child, column, record_of, where) if _holds_time(child.type) else child
            for child in array.flatten()
        ]
        names = [t.field(i).name for i in range(t.num_fields)]
        return pa.StructArray.from_arrays(children, names=names, mask=array.is_null())
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        offsets = array.offsets.to_pylist()
        start = offsets[0]

        def element_record(i: int) -> int:
            return record_of(bisect.bisect_right(offsets, start + i) - 1)

        # The values the offsets span, those behind null lists included
        # (`flatten` leaves those out, and the offsets would then run past).
        spanned = array.values.slice(start, offsets[-1] - start)
        values = _times_as_strings(spanned, column, element_record, where)
        shifted = pa.array([o - start for o in offsets], array.offsets.type)
        kind = pa.LargeListArray if pa.types.is_large_list(t) else pa.ListArray
        return kind.from_arrays(shifted, values, mask=array.is_null())
    raise NeardupError(
        f"{where}: column {column!r} is a {t} of timestamps: a timestamp column, or a struct "
        "or list of them, is read (their times as strings); convert this one first"
    )


def _arrow_rows(batch: Any, first: int, name: Optional[str]) -> List[Any]:
    """A ``RecordBatch``'s rows as dicts, its timestamps (in a column, or in a
    struct or list of one, at any depth) as the strings the CLI reads the
    same Parquet column as (``_native.arrow_times``): ``to_pylist`` gives
    ``datetime`` objects, which hold no nanoseconds (a ``timestamp("ns")``
    with any raised pyarrow's ``ValueError``, naming no record) and whose ISO
    form is not the CLI's (``+00:00`` for ``Z``, ``.500000`` for ``.5``).
    ``first``: the record number of its first row, for messages."""
    import pyarrow as pa

    columns = list(batch.columns)
    changed = False
    for i, field in enumerate(batch.schema):
        if _holds_time(field.type):
            columns[i] = _times_as_strings(
                batch.column(i), field.name, lambda at: first + at, name or "<records>"
            )
            changed = True
    if changed:
        batch = pa.RecordBatch.from_arrays(columns, names=batch.schema.names)
    return batch.to_pylist()


def _batches(data: Any, name: Optional[str] = None) -> Iterator[Iterable[Any]]:
    """The input as batches of records (dicts or strings)."""
    seen = 0
    if hasattr(data, "to_batches") and hasattr(data, "schema"):
        # A pyarrow.Table.
        for batch in data.to_batches():
            yield _arrow_rows(batch, seen, name)
            seen += batch.num_rows
        return
    if hasattr(data, "to_pylist") and hasattr(data, "schema"):
        # One pyarrow.RecordBatch.
        yield _arrow_rows(data, seen, name)
        return
    if isinstance(data, dict):
        raise TypeError("records must be an iterable of dicts or strings, not one dict")
    for item in data:
        if hasattr(item, "to_pylist") and hasattr(item, "schema"):
            # A RecordBatch, or a Table (its batches).
            for batch in item.to_batches() if hasattr(item, "to_batches") else (item,):
                yield _arrow_rows(batch, seen, name)
                seen += batch.num_rows
        elif isinstance(item, (list, tuple)):
            yield item
            seen += len(item)
        else:
            yield (item,)
            seen += 1


def _json_value(value: Any) -> Any:
    """A value ``json`` cannot write, as a JSON Lines record would hold it
    (as neardup reads the same column from Parquet): a date or time as its
    ISO 8601 string, a decimal as its digits, a UUID as its usual string
    (``pyarrow.Table.to_pylist`` gives such objects for timestamp, date,
    decimal and UUID columns)."""
    import datetime
    import decimal
    import uuid

    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, (decimal.Decimal, uuid.UUID)):
        return str(value)
    raise TypeError(f"a value of type {type(value).__name__} is not JSON: {value!r:.60}")


def _why(e: BaseException) -> str:
    if isinstance(e, UnicodeEncodeError):
        return f"a lone surrogate {e.object[e.start:e.end]!r} is not text (it has no UTF-8)"
    if isinstance(e, RecursionError):
        return "it nests too deep (or holds itself)"
    return str(e)


def _jsonl(
    data: Any, text_field: str, id_field: str, name: Optional[str] = None
) -> Iterator[bytes]:
    """The records as JSON Lines, about a megabyte at a time. A string is a
    record of its own: its text, and its position (from 0) as its id."""
    piece: List[bytes] = []
    size = 0
    n = 0
    for batch in _batches(data, name):
        for record in batch:
            if isinstance(record, str):
                record = {id_field: n, text_field: record}
            elif not isinstance(record, dict):
                raise TypeError(
                    f"record {n}: expected a dict or a string, got {type(record).__name__}"
                )
            try:
                line = json.dumps(
                    record, ensure_ascii=False, allow_nan=False, default=_json_value
                ).encode() + b"\n"
            except TypeError as e:
                raise TypeError(f"record {n}: {e}") from None
            except (ValueError, RecursionError) as e:
                # What JSON Lines cannot hold (NaN, a lone surrogate, an int
                # of more digits than Python writes, a record that holds
                # itself or nests too deep), named as the engine names a bad
                # record: by its line, from 1.
                raise _native.NeardupError(
                    f"{name or '<records>'}:{n + 1}: record {n} cannot be written as JSON: "
                    f"{_why(e)}"
                ) from None
            piece.append(line)
            size += len(line)
            n += 1
            if size >= _PIECE:
                yield b"".join(piece)
                piece, size = [], 0
    if piece:
        yield b"".join(piece)


class _Progress:
    """Progress events to a callable, or to tqdm bars (one per stage)."""

    def __init__(self, progress: Any):
        self.callback: Optional[Callable[[tuple], Any]] = None
        self.bar = None
        if progress is True or progress == "tqdm":
            try:
                from tqdm.auto import tqdm
            except ImportError as e:
                raise ImportError("progress=True shows a tqdm bar: pip install tqdm") from e
            self.tqdm = tqdm
            self.callback = self._tqdm
        elif callable(progress):
            self.callback = progress
        elif progress not in (None, False):
            raise TypeError("progress takes True (a tqdm bar), a callable, or None")

    def _tqdm(self, event: tuple) -> None:
        kind = event[0]
        if kind == "stage":
            self._close()
            _, name, total, in_bytes = event
            self.bar = self.tqdm(
                total=total or None,
                desc=name,
                unit="B" if in_bytes else "it",
                unit_scale=bool(in_bytes),
                leave=False,
            )
        elif kind == "advance" and self.bar is not None:
            self.bar.update(event[1])
        elif kind == "message" and self.bar is not None:
            self.bar.set_description_str(event[1])
        elif kind == "finish":
            self._close()

    def _close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def _say(lines: List[str], stacklevel: int = 4) -> None:
    # Warnings and notes, as the CLI prints them; other lines (what `index
    # build` indexed, `verbose=True` figures) stay in `Result.messages`.
    for line in lines:
        if line.startswith(("warning:", "note:")):
            warnings.warn(line, NeardupWarning, stacklevel=stacklevel)


class Result:
    """What a run gives back.

    Attributes:
        records: the kept records in input order, as ``neardup clean`` writes
            them for JSON Lines (repeated blocks cut from their text; with
            ``annotate=True`` every record, with the ``neardup_*`` fields);
            a string given as input comes back as ``{"id": position, "text":
            cleaned}``. ``None`` for :func:`scan`, and for text files.
        output: the cleaned output's bytes, exactly what ``neardup clean``
            writes (``b""`` for :func:`scan`).
        annotations: with ``annotate=True``, each record's ``neardup_*``
            fields (``neardup_cluster``, ``neardup_cluster_size``,
            ``neardup_representative``, ``neardup_similarity``,
            ``neardup_duplicate``, ``neardup_removed_bytes``), in input order;
            else ``None``.
        report: the report, the same JSON as ``--json``, as a dict.
        report_json: the same report as the string ``--json`` writes.
        status: the CLI's exit status (``check``: 1 when a limit is passed).
        messages: the warnings and notes the CLI prints on standard error.
    """

    def __init__(
        self,
        output: bytes,
        report_json: str,
        status: int,
        messages: List[str],
        records: bool,
        annotate: bool,
    ):
        self.output = output
        self.report_json = report_json
        self.report: Dict[str, Any] = json.loads(report_json) if report_json else {}
        self.status = status
        self.messages = messages
        self.records: Optional[List[Dict[str, Any]]] = None
        if records and all(i.get("format") == "jsonl" for i in self.report.get("inputs", [])):
            # Lines end at "\n" only: a record copied as its input had it may
            # hold a "\r" between its fields (JSON's whitespace), where
            # `splitlines` cut it in two (a JSONDecodeError).
            self.records = [json.loads(line) for line in output.split(b"\n") if line.strip()]
        self.annotations: Optional[List[Dict[str, Any]]] = None
        if annotate and self.records is not None:
            self.annotations = [
                {k: v for k, v in r.items() if k.startswith("neardup_")} for r in self.records
            ]

    @property
    def text(self) -> str:
        """The cleaned output as text (a text file's cleaned text)."""
        return self.output.decode("utf-8", errors="surrogateescape")

    @property
    def passed(self) -> Optional[bool]:
        """:func:`check`'s verdict (``None`` for other runs)."""
        verdict = self.report.get("check")
        return None if verdict is None else bool(verdict["passed"])

    def to_arrow(self):
        """The kept records as a ``pyarrow.Table``."""
        import pyarrow as pa

        return pa.Table.from_pylist(self.records or [])

    def __repr__(self) -> str:
        s = self.report.get("summary", {})
        return (
            f"<neardup.Result: {s.get('documents', 0)} documents, "
            f"{s.get('dropped_documents', 0)} dropped, "
            f"{s.get('removed_blocks', 0)} blocks removed>"
        )


def _check_name(name: Any) -> None:
    """Refuses a ``name=`` that is not a string, or not text (a lone
    surrogate has no UTF-8), naming the option."""
    if name is None:
        return
    if not isinstance(name, str):
        raise TypeError(f"name= takes a string, not {type(name).__name__}")
    try:
        name.encode("utf-8")
    except UnicodeEncodeError as e:
        raise NeardupError(
            f"name=: {name!r:.40} holds a lone surrogate {e.object[e.start:e.end]!r}, "
            "which is not text (it has no UTF-8)"
        ) from None


def _run(
    command: str,
    data: Any,
    options: Dict[str, Any],
    *,
    paths: Any = None,
    name: Optional[str] = None,
    progress: Any = None,
    output: Optional[Callable[[bytes], Any]] = None,
    build: Optional[str] = None,
    stop: Optional[threading.Event] = None,
) -> Result:
    """One run of the engine; the cleaned text and the report collected.
    ``stop``, once set, makes the next read of the records raise
    :class:`_Stopped` (the run then fails, writing nothing)."""
    _check_name(name)
    collected = bytearray()
    report = bytearray()
    text_field = options.get("text_field") or "text"
    id_field = options.get("id_field") or "id"
    reader = None
    read = _paths(data, paths, options)
    if read is None:
        pieces = _jsonl(data, text_field, id_field, name)

        def reader() -> bytes:
            if stop is not None and stop.is_set():
                raise _Stopped()
            return next(pieces, b"")
    bar = _Progress(progress)
    try:
        status, errors, said = _native.run(
            command,
            options,
            read or [],
            input=_marked(reader, stop),
            name=name,
            output=_marked(output or collected.extend, stop) if command == "clean" else None,
            report=report.extend if command != "build" else None,
            progress=_marked(bar.callback, stop),
            build=build,
        )
    finally:
        bar._close()
    _say(said)
    if errors:
        _raise(errors)
    return Result(
        bytes(collected),
        report.decode(),
        status,
        said,
        records=command == "clean" and not options.get("out_dir"),
        annotate=bool(options.get("annotate")),
    )


def clean(
    records: Any = None,
    *,
    paths: Any = None,
    name: Optional[str] = None,
    progress: Any = None,
    **options: Any,
) -> Result:
    """Cleans ``records`` as ``neardup clean`` does: near-duplicate documents
    dropped whole, repeated blocks cut from the documents kept.

    Args:
        records: an iterable of dicts (``{"id": ..., "text": ..., ...}``, as
            JSON Lines records: every other field is kept as it is) or of
            strings (texts, never paths); a ``pyarrow.Table``, a
            ``RecordBatch`` or an iterable of them; or a path (``str`` or
            ``os.PathLike``) or a list of ``pathlib.Path``, read as the CLI
            reads files.
        paths: instead of ``records``, the files (or directories) to read,
            as the CLI's arguments: a path or an iterable of paths, ``str``
            or ``os.PathLike`` (``paths=["a.jsonl", "b.jsonl"]``).
        name: how messages and the report name the records (default
            ``<records>``); the id of a record without one is ``name:line``.
        progress: ``True`` for a tqdm bar per stage, or a callable that
            gets ``("stage", name, total, bytes)``, ``("advance", n)``,
            ``("message", text)`` and ``("finish",)``.
        **options: the CLI's options by their names in snake case, with
            its defaults: ``level``, ``threshold``, ``measure``, ``method``,
            ``min_words``, ``block_threshold``, ``keep``, ``annotate``,
            ``seed``, ``threads``, ``memory_limit``, ``index``, ``update``,
            ``reference``, ``preview``, ``text_field``, ``id_field`` and the
            others of ``neardup clean --help``. ``out_dir=DIR`` (with paths
            only: records raise ``TypeError``) writes one cleaned file per
            input under ``DIR``, mirroring the input tree, as ``--out-dir``;
            ``.records`` is then ``None``.

    Raises:
        NeardupError: options refused or malformed input, with the CLI's
            message (``<records>:7: ...`` names the record's line, from 1).
        NeardupOSError: a path or the index could not be read or written.
        TypeError: an option of the wrong type, or a record that is not a
            dict or a string (or not JSON-serializable); both ``records``
            and ``paths`` or neither, a list mixing paths and records, and
            ``out_dir=`` with records.
    """
    return _run("clean", records, options, paths=paths, name=name, progress=progress)


def scan(
    records: Any = None,
    *,
    paths: Any = None,
    name: Optional[str] = None,
    progress: Any = None,
    **options: Any,
) -> Result:
    """Reports as ``neardup scan --json`` does, writing nothing: the
    result's ``.report`` (and ``.report_json``); its ``.records`` is ``None``.
    Takes what :func:`clean` takes."""
    return _run("scan", records, options, paths=paths, name=name, progress=progress)


def check(
    records: Any = None,
    *,
    paths: Any = None,
    name: Optional[str] = None,
    progress: Any = None,
    **options: Any,
) -> Result:
    """``neardup check``: the report with its verdict against
    ``max_dup_docs``, ``max_dup_blocks`` and ``max_dup_bytes`` (``"5%"`` or
    ``0.05``; with none, any duplicate fails). ``.passed`` is the verdict,
    ``.status`` 1 when it failed (0 with ``exit_zero=True``)."""
    return _run("check", records, options, paths=paths, name=name, progress=progress)


class _Stopped(Exception):
    """A stream's reader went away: its run stops, writing nothing."""


# The runs (by their stop event) whose callbacks this thread is inside: a
# callback that closes its own stream (or drops the last reference to it)
# stops it without waiting for it to end, which would wait for itself.
_CALLING = threading.local()


def _marked(call: Optional[Callable[..., Any]], stop: Optional[threading.Event]):
    """``call``, noting while it runs that this thread is inside ``stop``'s run."""
    if call is None or stop is None:
        return call

    def marked(*args: Any) -> Any:
        inside = getattr(_CALLING, "runs", None)
        if inside is None:
            inside = _CALLING.runs = []
        inside.append(stop)
        try:
            return call(*args)
        finally:
            inside.pop()

    return marked


# The runs of streams still going, stopped at exit: a run left going in a
# thread when the interpreter shut down aborted the process (its thread
# calling into Python after finalization began).
_GOING: "set[_StreamRun]" = set()
_GOING_LOCK = threading.Lock()


@atexit.register
def _stop_streams() -> None:
    with _GOING_LOCK:
        going = list(_GOING)
    for run in going:
        run.stop()
    # Then any other run on a thread still going (a daemon thread's clean()):
    # it enters Python no more, which would abort the process once the
    # interpreter is finalizing.
    _native.stop_runs()


# A forked child (``os.fork()``, ``multiprocessing``'s fork start method)
# holds none of the index locks its parent's runs hold: the engine lets go of
# its copies of them in the child, and the registry of locks noted as held
# (by a run calling back, by a stream's readers) is emptied there, so that an
# update in the child waits for its parent's run as for another process's.
if hasattr(os, "register_at_fork"):
    os.register_at_fork(
        before=_native.fork_before,
        after_in_parent=_native.fork_parent,
        after_in_child=_native.fork_child,
    )


class _StreamRun:
    """The run behind a :class:`Stream`, on a thread of its own. The thread
    holds this, not the Stream, so a Stream nobody holds any more (a ``for``
    loop left with ``break``) is collected and stops its run, which kept
    reading, and held its index's lock, for ever."""

    _END = object()

    def __init__(self, batch_size: int):
        self.batch_size = batch_size
        self.queue: "queue.Queue[Any]" = queue.Queue(maxsize=8)
        self.stopping = threading.Event()
        self.pending = b""
        self.error: Optional[BaseException] = None
        self.result: Optional[Result] = None
        self.thread: Optional[threading.Thread] = None

    def start(self, data: Any, options: Dict[str, Any], name: Optional[str], progress: Any) -> None:
        with _GOING_LOCK:
            _GOING.add(self)
        self.thread = threading.Thread(
            target=self.work, args=(data, options, name, progress), daemon=True
        )
        self.thread.start()

    def write(self, piece: bytes) -> bool:
        # Called by the engine (from its thread) with each piece of output;
        # complete lines are handed over, in batches.
        if self.stopping.is_set():
            return False
        lines = (self.pending + piece).split(b"\n")
        self.pending = lines.pop()
        records = [json.loads(line) for line in lines if line.strip()]
        for at in range(0, len(records), self.batch_size):
            while not self.stopping.is_set():
                try:
                    self.queue.put(records[at : at + self.batch_size], timeout=0.1)
                    break
                except queue.Full:
                    continue
        return not self.stopping.is_set()

    def work(self, data: Any, options: Dict[str, Any], name: Optional[str], progress: Any) -> None:
        try:
            self.result = _run(
                "clean", data, options, name=name, progress=progress, output=self.write, stop=self.stopping
            )
        except _Stopped:
            pass  # stopped by its reader: nothing to tell
        except BaseException as e:  # handed to the reader of the stream
            self.error = e
        finally:
            with _GOING_LOCK:
                _GOING.discard(self)
            while True:
                try:
                    self.queue.put(self._END, timeout=0.1)
                    break
                except queue.Full:
                    if self.stopping.is_set():
                        break

    def stop(self) -> None:
        """Stops the run (nothing more is read) and waits for it to end."""
        self.stopping.set()
        thread = self.thread
        if (
            thread is None
            or thread is threading.current_thread()
            or any(run is self.stopping for run in getattr(_CALLING, "runs", ()))
        ):
            # Called by the run itself (its records, its progress callback):
            # it stops at its next read or write, once this call returns.
            return
        while thread.is_alive():
            try:
                self.queue.get(timeout=0.1)
            except queue.Empty:
                pass
        thread.join()


class Stream:
    """The cleaned records of :func:`clean_stream`, in batches, as the engine
    writes each chunk. Iterate it for lists of dicts; once it is exhausted,
    ``.report`` (and ``.report_json``, ``.messages``) hold the report. Closing
    it early (``close()``, leaving a ``with`` block, or dropping the last
    reference to it, as ``break`` out of a ``for`` loop over it does) stops
    the run: nothing more is read, and an index it would update is not.
    """

    def __init__(self, data: Any, options: Dict[str, Any], name: Optional[str], progress: Any, batch_size: int):
        self.batch_size = batch_size
        self.report: Optional[Dict[str, Any]] = None
        self.report_json: Optional[str] = None
        self.messages: List[str] = []
        self._run = _StreamRun(batch_size)
        # The index its run will hold, noted (natively, where the runs of
        # this process note the locks their callbacks hold) for the threads
        # that read it: an update of it from such a thread is refused.
        updates = options.get("update") and options.get("index") is not None
        self._holds = options["index"] if updates else None
        self._holders: Dict[int, int] = {}  # thread id -> token
        self._holders_lock = threading.Lock()
        self._hold()
        self._run.start(data, options, name, progress)

    def _hold(self) -> None:
        """Notes the stream's index for this thread (see ``_native.hold_stream``)."""
        if self._holds is None:
            return
        me = threading.get_ident()
        with self._holders_lock:
            if me not in self._holders:
                self._holders[me] = _native.hold_stream(self._holds)

    def _release(self) -> None:
        """Forgets the stream's index for the threads that read it: its run ended."""
        with self._holders_lock:
            for token in self._holders.values():
                _native.release(token)
            self._holders = {}

    def __iter__(self) -> "Stream":
        return self

    def __next__(self) -> List[Dict[str, Any]]:
        run = self._run
        self._hold()
        item = run.queue.get() if not run.stopping.is_set() else run._END
        if item is run._END:
            self._release()
            # Left for the next call, and for a reader on another thread: an
            # exhausted stream stays exhausted, never waits for more.
            try:
                run.queue.put_nowait(run._END)
            except queue.Full:
                pass
            if run.thread is not None:
                run.thread.join()
            if run.error is not None:
                error, run.error = run.error, None
                raise error
            if run.result is not None:
                self.report = run.result.report
                self.report_json = run.result.report_json
                self.messages = run.result.messages
            raise StopIteration
        return item

    def close(self) -> None:
        """Stops the run (nothing more is read) and waits for it to end."""
        self._run.stop()
        self._release()

    def __enter__(self) -> "Stream":
        return self

    def __exit__(self, *_: Any) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self._run.stop()
            self._release()
        except Exception:  # at interpreter exit, the run may be gone already
            pass


def clean_stream(
    batches: Any,
    *,
    memory_limit: Union[str, int] = "1G",
    batch_size: int = 1000,
    name: Optional[str] = None,
    progress: Any = None,
    **options: Any,
) -> Stream:
    """Cleans data larger than memory: ``batches`` (an iterable of lists of
    records or strings, of ``RecordBatch``, or records one by one) are read
    as they are needed, in chunks whose analysis fits in ``memory_limit``
    (as ``--memory-limit``: each chunk checked against what earlier chunks
    stored on disk under ``tmp_dir``), and the cleaned records come out in
    lists of at most ``batch_size`` as each chunk is done, the same records
    as :func:`clean` gives. Returns a :class:`Stream`; its ``.report`` is
    there once it is exhausted. Takes :func:`clean`'s options."""
    # A whole number of any integer type (numpy's too, by `__index__`), not a bool.
    try:
        if isinstance(batch_size, bool):
            raise TypeError
        batch_size = operator.index(batch_size)
    except TypeError:
        raise TypeError(f"batch_size takes a whole number from 1, not {batch_size!r:.40}") from None
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    if "out_dir" in options:
        raise TypeError("clean_stream() got an unexpected keyword argument 'out_dir'")
    _check_name(name)
    options["memory_limit"] = memory_limit
    return Stream(batches, options, name, progress, batch_size)


class Index:
    """A persistent index of earlier runs (``--index PATH``): the documents and
    blocks they saw, so that a new batch is checked against all of them.

    >>> index = neardup.Index.build("seen.ndx", records)      # doctest: +SKIP
    >>> index.clean(new_records, update=True).records         # doctest: +SKIP
    """

    def __init__(self, path: Union[str, "os.PathLike[str]"]):
        """Opens the index at ``path`` (it must exist: :meth:`build` or an
        update with ``create=True`` makes one)."""
        self.path = os.fspath(path)
        self.stats()

    @classmethod
    def create(cls, path: Union[str, "os.PathLike[str]"]) -> "Index":
        """An index not made yet: the first :meth:`update` (or
        ``update=True``) creates it."""
        index = cls.__new__(cls)
        index.path = os.fspath(path)
        return index

    @classmethod
    def build(
        cls,
        path: Union[str, "os.PathLike[str]"],
        records: Any = None,
        *,
        paths: Any = None,
        name: Optional[str] = None,
        progress: Any = None,
        **options: Any,
    ) -> "Index":
        """``neardup index build -o PATH``: a new index of ``records`` (or of
        the files ``paths=``: what :func:`clean` takes), replacing any index
        at ``path`` (a file there that is not an index is refused)."""
        _run(
            "build",
            records,
            options,
            paths=paths,
            name=name,
            progress=progress,
            build=os.fspath(path),
        )
        return cls(path)

    def stats(self, verify: bool = False) -> Dict[str, Any]:
        """What ``neardup index stats --json`` says of it: ``documents``,
        ``blocks``, ``bytes``, ``runs``, ``created``, ``updated`` (Unix
        seconds), ``parameters``; ``verify=True`` checks every checksum."""
        stats, error = _native.index_stats(self.path, verify)
        if error is not None:
            _raise([error])
        return json.loads(stats)

    @property
    def documents(self) -> int:
        """Documents the index holds."""
        return self.stats()["documents"]

    @property
    def blocks(self) -> int:
        """Blocks the index holds."""
        return self.stats()["blocks"]

    def scan(self, records: Any = None, *, update: bool = False, **options: Any) -> Result:
        """:func:`scan` checked against the index (``--index``); with
        ``update=True`` the records are added to it."""
        return scan(records, index=self.path, update=update, **options)

    def clean(self, records: Any = None, *, update: bool = False, **options: Any) -> Result:
        """:func:`clean` checked against the index: what an earlier run saw
        is dropped; with ``update=True`` the records are added to it once
        the run is done."""
        return clean(records, index=self.path, update=update, **options)

    def update(self, records: Any = None, **options: Any) -> Result:
        """Adds ``records`` to the index (creating it if missing), as
        ``neardup scan --index PATH --update``; returns the scan."""
        return scan(records, index=self.path, update=True, **options)

    def merge(
        self,
        other: Union["Index", str, "os.PathLike[str]"],
        output: Union[str, "os.PathLike[str]", None] = None,
        *,
        memory_limit: Union[str, int, None] = None,
        tmp_dir: Union[str, "os.PathLike[str]", None] = None,
    ) -> "Index":
        """``neardup index merge SELF OTHER -o OUTPUT``: the documents of
        ``other`` after this index's, as if one run had read both, written to
        ``output`` (default: this index, replaced once the merge is complete).
        ``memory_limit`` (``"256M"``, or bytes) and ``tmp_dir`` are the CLI's
        ``--memory-limit`` and ``--tmp-dir``: a merge that cannot fit raises
        ``NeardupError`` and writes nothing. Refuses one index given twice and
        indexes built with other settings, with the CLI's messages; returns
        the merged index."""
        other_path = other.path if isinstance(other, Index) else os.fspath(other)
        output_path = self.path if output is None else os.fspath(output)
        if memory_limit is not None:
            if isinstance(memory_limit, bool) or not isinstance(memory_limit, (str, int)):
                raise TypeError(
                    "memory_limit: expected a size such as \"1G\", or bytes, "
                    f"not {type(memory_limit).__name__}"
                )
            if isinstance(memory_limit, str):
                try:
                    memory_limit.encode("utf-8")
                except UnicodeEncodeError:
                    raise NeardupError(
                        f"--memory-limit: {memory_limit!r:.40} holds a lone surrogate, which is "
                        "not text (it has no UTF-8)"
                    ) from None
            if isinstance(memory_limit, int):
                if memory_limit < 0:
                    raise NeardupError(f"--memory-limit: {memory_limit} is not a size")
                memory_limit = str(memory_limit)
        tmp = None if tmp_dir is None else os.fspath(tmp_dir)
        (_, error), said = _native.index_merge(
            self.path, other_path, output_path, memory_limit, tmp
        )
        _say(said, stacklevel=3)
        if error is not None:
            _raise([error])
        return Index(output_path)

    def __repr__(self) -> str:
        return f"neardup.Index({self.path!r})"
