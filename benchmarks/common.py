"""What the benchmark scripts share: timing, statistics, machine info, options, data, tables, JSON.

The scripts import this module as ``common`` both when started as files
(``python benchmarks/bench_X.py``: this folder is ``sys.path[0]``) and as
modules (``python -m benchmarks.bench_X``: they put this folder on
``sys.path`` first).  Importing it also makes ``klcode`` importable: when the
package is not installed, the checkout this file lives in goes first on
``sys.path``.
"""

from __future__ import annotations

import argparse
import ctypes
import ctypes.util
import gc
import json
import os
import platform
import shlex
import statistics
import subprocess
import sys
import time
import zlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

REPO_ROOT = Path(__file__).resolve().parent.parent

try:  # the package when installed (make bench), else the checkout this module lives in
    import klcode  # noqa: F401
except ModuleNotFoundError:  # pragma: no cover - depends on how the script is started
    sys.path.insert(0, str(REPO_ROOT))

#: The four Canterbury texts the byte-token benchmarks repeat to the requested size.
CANTERBURY_DIR = REPO_ROOT / "corpora" / "canterbury"
CANTERBURY_FILES = ("alice29.txt", "asyoulik.txt", "lcet10.txt", "plrabn12.txt")
RESULTS_DIR = REPO_ROOT / "benchmarks" / "results"
MB = 1_000_000
DEFAULT_RUNS = 5
MIN_RUNS = 5
EXIT_VERIFICATION_FAILED = 2
EPILOG = "Table on stdout, progress on stderr, figures and machine info in the JSON file."

T = TypeVar("T")


class VerificationError(RuntimeError):
    """A result is not what it must be: a decode differs from the input, a count or size is off, a process failed."""


def check(condition: bool, message: str) -> None:
    """Like assert, but never stripped by ``python -O``: raise :class:`VerificationError` with ``message``."""
    if not condition:
        raise VerificationError(message)


def verification_failed(error: VerificationError) -> int:
    """Say ``VERIFICATION FAILED: …`` on stderr; the exit status the scripts then return (2)."""
    progress(f"VERIFICATION FAILED: {error}")
    return EXIT_VERIFICATION_FAILED


def progress(message: str) -> None:
    """One progress line on stderr, flushed."""
    print(message, file=sys.stderr, flush=True)


def timed(work: Callable[[], T]) -> tuple[T, float]:
    """Result of ``work()`` and its wall-clock seconds (``time.perf_counter``, garbage collected beforehand)."""
    gc.collect()
    start = time.perf_counter()
    result = work()
    return result, time.perf_counter() - start


# ----------------------------------------------------------------------------- statistics
class RunStatistics:
    """Min, median and max of the ``seconds`` of all runs, for the dataclasses that have that field."""

    seconds: tuple[float, ...]

    @property
    def min_s(self) -> float:
        return min(self.seconds)

    @property
    def median_s(self) -> float:
        return statistics.median(self.seconds)

    @property
    def max_s(self) -> float:
        return max(self.seconds)

    def runs_json(self) -> dict[str, Any]:
        """Every run's seconds and their min, median and max, as JSON-ready data."""
        return {"runs_s": list(self.seconds), "min_s": self.min_s, "median_s": self.median_s, "max_s": self.max_s}


@dataclass(frozen=True)
class Timing(RunStatistics):
    """Wall-clock seconds of one stage of one coder over all runs, on ``input_bytes`` bytes (= tokens)."""

    coder: str
    stage: str
    input_bytes: int
    seconds: tuple[float, ...]

    @property
    def mb_per_s(self) -> float:
        """Input megabytes (10^6 bytes) per second, at the median time."""
        return self.input_bytes / MB / self.median_s

    @property
    def tokens_per_s(self) -> float:
        """Input tokens (one per byte) per second, at the median time."""
        return self.input_bytes / self.median_s

    def as_json(self) -> dict[str, Any]:
        return {
            "coder": self.coder,
            "stage": self.stage,
            "input_bytes": self.input_bytes,
            "tokens": self.input_bytes,
            **self.runs_json(),
            "mb_per_s": self.mb_per_s,
            "tokens_per_s": self.tokens_per_s,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Timing:
        """The timing of one entry written by :meth:`as_json`."""
        return cls(data["coder"], data["stage"], data["input_bytes"], tuple(data["runs_s"]))


def timing_config(runs: int) -> dict[str, Any]:
    """The ``config`` entries saying how the runs were timed and summarized."""
    return {"runs": runs, "statistic": "median", "timer": "time.perf_counter", "mb": MB}


# ----------------------------------------------------------------------------- machine
def package_version(name: str) -> str:
    """The installed version of distribution ``name``, or "unknown"."""
    try:
        return version(name)
    except PackageNotFoundError:
        return "unknown"


def memory_total_gib() -> float | None:
    """Total memory in GiB from ``/proc/meminfo``, or None where there is none."""
    try:
        with open("/proc/meminfo", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) * 1024 / 2**30
    except OSError:
        pass
    return None


def lzma_version() -> str:
    """The version of the liblzma ctypes finds (the lzma module does not expose its own), or "unknown"."""
    name = ctypes.util.find_library("lzma")
    if not name:
        return "unknown"
    try:
        library = ctypes.CDLL(name)
        library.lzma_version_string.restype = ctypes.c_char_p
        return library.lzma_version_string().decode("ascii")
    except (OSError, AttributeError):
        return "unknown"


#: The distributions whose versions :func:`library_versions` reports (klcode and the libraries it is timed against).
LIBRARIES = ("klcode", "bitarray", "dahuffman", "constriction", "zstandard")


def library_versions() -> dict[str, str]:
    """The versions of klcode, bitarray, dahuffman, constriction, zstandard, zlib and liblzma ("unknown" if absent)."""
    return {
        **{name: package_version(name) for name in LIBRARIES},
        "zlib": zlib.ZLIB_RUNTIME_VERSION,
        "liblzma": lzma_version(),
    }


def git_commit() -> str | None:
    """The short commit of the checkout (with "-dirty" when files differ from it), or None outside a git checkout."""
    try:
        commit = subprocess.run(("git", "rev-parse", "--short", "HEAD"), cwd=REPO_ROOT, capture_output=True,
                                text=True, check=True, timeout=10).stdout.strip()
        dirty = subprocess.run(("git", "status", "--porcelain", "--untracked-files=no"), cwd=REPO_ROOT,
                               capture_output=True, text=True, check=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return commit + ("-dirty" if dirty else "") if commit else None


def machine_info(versions: Mapping[str, Any], *, memory: bool = True) -> dict[str, Any]:
    """Platform, Python, CPU count, memory (if ``memory``), numpy and ``versions``, date (UTC) and command line."""
    info: dict[str, Any] = {
        "platform": platform.platform(),
        "machine": platform.machine(),
        "processor": platform.processor() or "unknown",
        "python": platform.python_version(),
        "python_implementation": platform.python_implementation(),
        "cpu_count": os.cpu_count(),
    }
    if memory:
        info["memory_gib"] = memory_total_gib()
    return {
        **info,
        "numpy": np.__version__,
        **versions,
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "command": shlex.join(getattr(sys, "orig_argv", [sys.executable, *sys.argv])),
    }


# ----------------------------------------------------------------------------- data
def repeats_for(block_bytes: int, megabytes: float) -> int:
    """How many copies of a ``block_bytes`` block make at least ``megabytes`` MB (at least one)."""
    return max(1, -(-int(megabytes * MB) // block_bytes))  # ceiling division


def concatenate(paths: Iterable[Path]) -> bytes:
    """The bytes of the files at ``paths``, one after the other."""
    return b"".join(path.read_bytes() for path in paths)


def canterbury_data(megabytes: float) -> tuple[bytes, int]:
    """The Canterbury texts concatenated, repeated until at least ``megabytes`` MB; (data, bytes of one copy)."""
    block = concatenate(CANTERBURY_DIR / name for name in CANTERBURY_FILES)
    return block * repeats_for(len(block), megabytes), len(block)


def canterbury_config(data: bytes, block_bytes: int, megabytes: float, *,
                      with_block_bytes: bool = True) -> dict[str, Any]:
    """The ``config`` entries of the data of :func:`canterbury_data`: the corpus, its copies and the sizes."""
    config: dict[str, Any] = {
        "corpus_dir": str(CANTERBURY_DIR.relative_to(REPO_ROOT)),
        "corpus_files": list(CANTERBURY_FILES),
    }
    if with_block_bytes:
        config["block_bytes"] = block_bytes
    return {**config, "repeats": len(data) // block_bytes, "megabytes_requested": megabytes, "input_bytes": len(data)}


def describe_canterbury_data(data: bytes, block_bytes: int, runs: int) -> None:
    """The progress line of the data and the number of runs."""
    progress(f"data: {len(data):,} bytes ({len(data) // block_bytes} x the 4 Canterbury texts); runs: {runs}")


# ----------------------------------------------------------------------------- options
def make_parser(prog: str, description: str) -> argparse.ArgumentParser:
    """The argument parser of a benchmark script, with the common epilog."""
    return argparse.ArgumentParser(prog=prog, description=description, epilog=EPILOG)


def add_megabytes(parser: argparse.ArgumentParser, default: float,
                  what: str = "repeat the corpus until at least this many MB") -> None:
    """``--megabytes MB``: the size of the data; the help starts with ``what``."""
    parser.add_argument(
        "--megabytes", type=float, default=default,
        help=f"{what} (10^6 bytes) (default {default:g})",
    )


def add_runs(parser: argparse.ArgumentParser, what: str) -> None:
    """``--runs N``: timed runs (``what`` says of what), at least :data:`MIN_RUNS`; see :func:`validate_args`."""
    parser.add_argument(
        "--runs", type=int, default=DEFAULT_RUNS,
        help=f"{what}, at least {MIN_RUNS}; the median is reported (default {DEFAULT_RUNS})",
    )


def add_json(parser: argparse.ArgumentParser, name: str) -> None:
    """``--json PATH``: where the results go, by default ``benchmarks/results/<name>.json``."""
    default = RESULTS_DIR / f"{name}.json"
    parser.add_argument(
        "--json", type=Path, default=default, metavar="PATH",
        help="where to write the JSON results; its directory is created "
        f"(default {default.relative_to(REPO_ROOT).as_posix()} in the repository)",
    )


def validate_args(parser: argparse.ArgumentParser, args: argparse.Namespace,
                  positive: Sequence[str] = ("megabytes",)) -> None:
    """Exit with a usage error unless ``--runs`` ≥ :data:`MIN_RUNS` and the ``positive`` options (when given) are > 0."""
    if args.runs < MIN_RUNS:
        parser.error(f"--runs must be at least {MIN_RUNS} (got {args.runs})")
    for option in positive:
        value = getattr(args, option)
        if value is not None and value <= 0:
            parser.error(f"--{option.replace('_', '-')} must be positive (got {value:g})")


# ----------------------------------------------------------------------------- output
def markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]], left: set[int]) -> str:
    """A Markdown table, columns padded to their widest cell; those in ``left`` left-aligned, the others right."""
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(c.ljust(w) if i in left else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths))) + " |"

    rule = "|" + "|".join((":" if i in left else "-") + "-" * w + ("-" if i in left else ":") for i, w in enumerate(widths)) + "|"
    return "\n".join([line(header), rule, *(line(row) for row in rows)])


def table(key: str, title: str, columns: Sequence[str], rows: Sequence[Sequence[str]], left: Iterable[int] = (0,),
          notes: Sequence[str] = (), source: str | None = None) -> dict[str, Any]:
    """A table as JSON-ready data, the form of the ``tables`` list of ``python -m benchmarks``.

    ``{"id", "title", "columns", "align", "rows", "notes", "source"}``: ``id``
    a short stable name (``key``); every cell a string, already formatted;
    ``align`` is "left" or "right" per column (the columns in ``left`` are
    left-aligned); ``notes`` are Markdown paragraphs shown under the table;
    ``source`` names the benchmark the figures come from.
    """
    left = set(left)
    for row in rows:
        if len(row) != len(columns):
            raise ValueError(f"table {title!r}: a row has {len(row)} cells for {len(columns)} columns")
    return {
        "id": key,
        "title": title,
        "columns": list(columns),
        "align": ["left" if i in left else "right" for i in range(len(columns))],
        "rows": [[str(cell) for cell in row] for row in rows],
        "notes": list(notes),
        "source": source,
    }


def render_table(data: Mapping[str, Any], heading: str = "###") -> str:
    """A table made by :func:`table` as Markdown: the title as a heading, the table, then each note a paragraph."""
    left = {i for i, align in enumerate(data["align"]) if align == "left"}
    parts = [f"{heading} {data['title']}", markdown_table(data["columns"], data["rows"], left), *data.get("notes", ())]
    return "\n\n".join(parts)


def publish(report: str, results: Mapping[str, Any], path: Path) -> int:
    """Print ``report`` on stdout and write ``results`` as JSON to ``path`` (its directory created); exit status 0."""
    print(report)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    progress(f"results written to {path}")
    return 0
