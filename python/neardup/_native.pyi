"""The Rust engine of the neardup package (use the package's functions)."""

from typing import Any, Callable, Dict, List, Optional, Tuple

__version__: str

class NeardupError(ValueError): ...

def run(
    command: str,
    options: Dict[str, Any],
    paths: List[str],
    input: Optional[Callable[[], bytes]] = None,
    name: Optional[str] = None,
    output: Optional[Callable[[bytes], Any]] = None,
    report: Optional[Callable[[bytes], Any]] = None,
    progress: Optional[Callable[[tuple], Any]] = None,
    build: Optional[str] = None,
) -> Tuple[int, List[Tuple[str, str]], List[str]]: ...
def index_stats(
    path: str, verify: bool = False
) -> Tuple[Optional[str], Optional[Tuple[str, str]]]: ...
def index_merge(
    a: str, b: str, output: str
) -> Tuple[Tuple[Optional[Tuple[int, int]], Optional[Tuple[str, str]]], List[str]]: ...
def stop_runs() -> None: ...
def hold_stream(path: str) -> int: ...
def release(token: int) -> None: ...
def arrow_times(
    values: List[Optional[int]], per_unit: int, zoned: bool
) -> Tuple[List[Optional[str]], Optional[Tuple[int, str]]]: ...
