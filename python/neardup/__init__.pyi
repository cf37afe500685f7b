"""Type hints of the neardup package (see its docstrings)."""

import os
from typing import (
    Any,
    Callable,
    Dict,
    Iterable,
    Iterator,
    List,
    Literal,
    Mapping,
    Optional,
    Sequence,
    Tuple,
    TypedDict,
    Union,
)

from typing_extensions import Unpack

__version__: str

PathLike = Union[str, "os.PathLike[str]"]
Record = Union[Mapping[str, Any], str]
Records = Union[
    Iterable[Record],
    Iterable[Sequence[Record]],
    Any,  # a pyarrow.Table, RecordBatch or an iterable of RecordBatch
    PathLike,
    Sequence["os.PathLike[str]"],
]
ProgressEvent = Union[
    Tuple[Literal["stage"], str, int, bool],
    Tuple[Literal["advance"], int],
    Tuple[Literal["message"], str],
    Tuple[Literal["finish"]],
]
Progress = Union[None, bool, Callable[[ProgressEvent], Any]]
Paths = Union[PathLike, Iterable[PathLike]]

class Options(TypedDict, total=False):
    """The CLI's options, by their names in snake case."""

    format: Literal["auto", "text", "jsonl", "parquet"]
    glob: Union[str, List[str]]
    on_error: Literal["fail", "skip"]
    text_field: str
    id_field: str
    blocks: Literal["auto", "lines", "paragraphs"]
    block_shingle: int
    block_threshold: float
    min_words: int
    drop_short: bool
    max_gap: int
    seed: int
    level: Literal["both", "blocks", "docs"]
    method: Literal["minhash", "simhash"]
    threshold: float
    measure: Literal["containment", "jaccard"]
    doc_shingle: int
    num_perm: int
    bands: int
    rows: int
    hamming: int
    keep: str
    annotate: bool
    text: bool
    mmap: bool
    threads: int
    memory_limit: Union[str, int]
    tmp_dir: PathLike
    index: PathLike
    update: bool
    reference: PathLike
    preview: int
    quiet: bool
    verbose: bool

class CleanOptions(Options, total=False):
    out_dir: PathLike

class CheckOptions(Options, total=False):
    max_dup_docs: Union[str, float]
    max_dup_blocks: Union[str, float]
    max_dup_bytes: Union[str, float]
    exit_zero: bool

class NeardupError(ValueError):
    errors: List[str]

class NeardupOSError(NeardupError, OSError): ...
class NeardupWarning(UserWarning): ...

class Result:
    records: Optional[List[Dict[str, Any]]]
    output: bytes
    annotations: Optional[List[Dict[str, Any]]]
    report: Dict[str, Any]
    report_json: str
    status: int
    messages: List[str]
    @property
    def text(self) -> str: ...
    @property
    def passed(self) -> Optional[bool]: ...
    def to_arrow(self) -> Any: ...

def clean(
    records: Optional[Records] = ...,
    *,
    paths: Optional[Paths] = ...,
    name: Optional[str] = ...,
    progress: Progress = ...,
    **options: Unpack[CleanOptions],
) -> Result: ...
def scan(
    records: Optional[Records] = ...,
    *,
    paths: Optional[Paths] = ...,
    name: Optional[str] = ...,
    progress: Progress = ...,
    **options: Unpack[Options],
) -> Result: ...
def check(
    records: Optional[Records] = ...,
    *,
    paths: Optional[Paths] = ...,
    name: Optional[str] = ...,
    progress: Progress = ...,
    **options: Unpack[CheckOptions],
) -> Result: ...

class Stream(Iterator[List[Dict[str, Any]]]):
    batch_size: int
    report: Optional[Dict[str, Any]]
    report_json: Optional[str]
    messages: List[str]
    def __iter__(self) -> "Stream": ...
    def __next__(self) -> List[Dict[str, Any]]: ...
    def close(self) -> None: ...
    def __enter__(self) -> "Stream": ...
    def __exit__(self, *args: Any) -> None: ...

def clean_stream(
    batches: Records,
    *,
    memory_limit: Union[str, int] = ...,
    batch_size: int = ...,
    name: Optional[str] = ...,
    progress: Progress = ...,
    **options: Unpack[Options],
) -> Stream: ...

class Index:
    path: str
    def __init__(self, path: PathLike) -> None: ...
    @classmethod
    def create(cls, path: PathLike) -> "Index": ...
    @classmethod
    def build(
        cls,
        path: PathLike,
        records: Optional[Records] = ...,
        *,
        paths: Optional[Paths] = ...,
        name: Optional[str] = ...,
        progress: Progress = ...,
        **options: Unpack[Options],
    ) -> "Index": ...
    def stats(self, verify: bool = ...) -> Dict[str, Any]: ...
    @property
    def documents(self) -> int: ...
    @property
    def blocks(self) -> int: ...
    def scan(
        self, records: Optional[Records] = ..., *, update: bool = ..., **options: Any
    ) -> Result: ...
    def clean(
        self, records: Optional[Records] = ..., *, update: bool = ..., **options: Any
    ) -> Result: ...
    def update(self, records: Optional[Records] = ..., **options: Any) -> Result: ...
    def merge(
        self, other: Union["Index", PathLike], output: Optional[PathLike] = ...
    ) -> "Index": ...
