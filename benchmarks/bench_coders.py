"""Time encode and decode of byte tokens with every klcode coder: throughput, build time, bits per token.

The coders: ``huffman``, ``shannon``, ``huffman[max-length=12]`` (length-limited
Huffman), ``huffman[block=2]`` (Huffman of the 2nd extension), ``ans``
(constriction), and the contextual ``zlib``, ``bz2``, ``lzma`` and ``zstd``
(zstd and ans only when their optional package can be imported; otherwise
they are left out with a note).  All work on the same bytes: the four
Canterbury texts of ``corpora/canterbury`` concatenated, repeated until the
requested size; the tokens are the bytes (``np.frombuffer(data, np.uint8)``)
and the model of the order-0 coders is the byte distribution of the data.

Each coder is built once (its build time reported), then encodes and decodes
the whole data ``--runs`` times, the coders taking turns run by run.  Every
decode is checked against the input, outside the timings; a mismatch stops
the benchmark with exit status 2.

Run from the repository root::

    python benchmarks/bench_coders.py            # or: python -m benchmarks.bench_coders
    python benchmarks/bench_coders.py --help

The table goes to stdout, progress lines to stderr, and the figures with the
machine's description to a JSON file (``benchmarks/results/coders.json``).
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
import sys
import time
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

REPO_ROOT = Path(__file__).resolve().parent.parent

try:  # the package when installed (make bench), else the checkout this script lives in
    import klcode  # noqa: F401
except ModuleNotFoundError:  # pragma: no cover - depends on how the script is started
    sys.path.insert(0, str(REPO_ROOT))

from klcode.coders.base import Coder, Encoded  # noqa: E402
from klcode.coders.registry import CoderSpec, build_coder  # noqa: E402
from klcode.counting import bincount_chunked  # noqa: E402
from klcode.distribution import Distribution  # noqa: E402
from klcode.errors import CoderUnavailableError  # noqa: E402

CORPUS_DIR = REPO_ROOT / "corpora" / "canterbury"
CORPUS_FILES = ("alice29.txt", "asyoulik.txt", "lcet10.txt", "plrabn12.txt")
#: The coders timed, in the order they are shown; each is known by its label (``spec.label``).
SPECS = (
    CoderSpec("huffman"),
    CoderSpec("shannon"),
    CoderSpec("huffman", max_length_bits=12),
    CoderSpec("huffman", block=2),
    CoderSpec("ans"),
    CoderSpec("zlib"),
    CoderSpec("bz2"),
    CoderSpec("lzma"),
    CoderSpec("zstd"),
)
CODER_LABELS = tuple(spec.label for spec in SPECS)
#: Rough (encode, decode) MB/s of each coder on the default data on the machine of benchmarks/README.md,
#: for the time estimate only (zstd encodes the repeated copies faster than a single text).
NOMINAL_MB_PER_S = {
    "huffman": (95.0, 32.0),
    "shannon": (93.0, 23.0),
    "huffman[max-length=12]": (94.0, 32.0),
    "huffman[block=2]": (35.0, 10.0),
    "ans": (90.0, 29.0),
    "zlib": (10.0, 48.0),
    "bz2": (11.0, 18.0),
    "lzma": (3.0, 56.0),
    "zstd": (45.0, 500.0),
}
#: Rough seconds per MB of the untimed work of each run and coder (verification, freeing the outputs).
NOMINAL_OVERHEAD_S_PER_MB = 0.01
DEFAULT_JSON = REPO_ROOT / "benchmarks" / "results" / "coders.json"
DEFAULT_MEGABYTES = 20.0
DEFAULT_RUNS = 5
MIN_RUNS = 5
MB = 1_000_000
BYTE_ALPHABET = 256
EXIT_VERIFICATION_FAILED = 2

T = TypeVar("T")


class VerificationError(RuntimeError):
    """A decode did not give back the input, or a size is not what it must be."""


@dataclass(frozen=True)
class Timing:
    """Wall-clock seconds of one stage of one coder over all runs, on ``input_bytes`` bytes (= tokens)."""

    coder: str
    stage: str
    input_bytes: int
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
            "runs_s": list(self.seconds),
            "min_s": self.min_s,
            "median_s": self.median_s,
            "max_s": self.max_s,
            "mb_per_s": self.mb_per_s,
            "tokens_per_s": self.tokens_per_s,
        }


# ----------------------------------------------------------------------------- helpers
def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def timed(work: Callable[[], T]) -> tuple[T, float]:
    """Result of ``work()`` and its wall-clock seconds (garbage collected beforehand)."""
    gc.collect()
    start = time.perf_counter()
    result = work()
    return result, time.perf_counter() - start


def load_corpus(megabytes: float) -> bytes:
    """The Canterbury texts concatenated, repeated until at least ``megabytes`` MB."""
    block = b"".join((CORPUS_DIR / name).read_bytes() for name in CORPUS_FILES)
    repeats = max(1, -(-int(megabytes * MB) // len(block)))  # ceiling division
    return block * repeats


def package_version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "unknown"


def memory_total_gib() -> float | None:
    try:
        with open("/proc/meminfo", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) * 1024 / 2**30
    except OSError:
        pass
    return None


def machine_info() -> dict[str, Any]:
    return {
        "platform": platform.platform(),
        "machine": platform.machine(),
        "processor": platform.processor() or "unknown",
        "python": platform.python_version(),
        "python_implementation": platform.python_implementation(),
        "cpu_count": os.cpu_count(),
        "memory_gib": memory_total_gib(),
        "numpy": np.__version__,
        "klcode": package_version("klcode"),
        "bitarray": package_version("bitarray"),
        "constriction": package_version("constriction"),
        "zstandard": package_version("zstandard"),
        "zlib": zlib.ZLIB_RUNTIME_VERSION,
        "liblzma": lzma_version(),
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "command": shlex.join(getattr(sys, "orig_argv", [sys.executable, *sys.argv])),
    }


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


def check(condition: bool, message: str) -> None:
    """Like assert, but never stripped by ``python -O``."""
    if not condition:
        raise VerificationError(message)


def estimate_seconds(labels: Sequence[str], megabytes: float, runs: int) -> float:
    """Rough wall time of the timed runs, from :data:`NOMINAL_MB_PER_S` (the build and set-up are extra)."""
    per_run = sum(
        megabytes / NOMINAL_MB_PER_S[label][0] + megabytes / NOMINAL_MB_PER_S[label][1]
        + megabytes * NOMINAL_OVERHEAD_S_PER_MB
        for label in labels
    )
    return per_run * runs


# ----------------------------------------------------------------------------- one run
def verify(label: str, coder: Coder, encoded: Encoded, decoded: np.ndarray, ids: np.ndarray,
           counts: np.ndarray, first_bits: int | None) -> None:
    """Check one run of ``coder``: the decode equals the ids, the size is exact and the same as in run 1."""
    check(encoded.n_tokens == ids.size, f"{label} encoded {encoded.n_tokens} tokens, expected {ids.size}")
    check(encoded.n_bits > 0, f"{label} wrote no bits")
    check(decoded.ndim == 1 and decoded.size == ids.size, f"{label} decoded {decoded.size} tokens, expected {ids.size}")
    check(bool(np.array_equal(decoded, ids)), f"{label} decode differs from the input")
    if first_bits is not None:
        check(encoded.n_bits == first_bits, f"{label} wrote {encoded.n_bits} bits, {first_bits} in the first run")
    lengths = coder.lengths_bits
    if lengths is not None:  # a prefix code of one token per codeword: exactly Σ count·length
        expected = int(counts @ lengths[: counts.size])
        check(encoded.n_bits == expected, f"{label} wrote {encoded.n_bits} bits, expected Σ count·length = {expected}")


def run_coder(label: str, coder: Coder, ids: np.ndarray, counts: np.ndarray,
              first_bits: int | None) -> tuple[dict[str, float], int]:
    """Encode and decode ``ids`` with ``coder`` once, timed; check the result. (seconds per stage, bits)."""
    encoded, encode_s = timed(lambda: coder.encode(ids))
    decoded, decode_s = timed(lambda: coder.decode(encoded))
    verify(label, coder, encoded, decoded, ids, counts, first_bits)
    return {"encode": encode_s, "decode": decode_s}, encoded.n_bits


# ----------------------------------------------------------------------------- report
def markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]], left: set[int]) -> str:
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(c.ljust(w) if i in left else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths))) + " |"

    rule = "|" + "|".join((":" if i in left else "-") + "-" * w + ("-" if i in left else ":") for i, w in enumerate(widths)) + "|"
    return "\n".join([line(header), rule, *(line(row) for row in rows)])


def build_report(results: dict[str, Any]) -> str:
    config = results["config"]
    timings = {
        (t["coder"], t["stage"]): Timing(t["coder"], t["stage"], t["input_bytes"], tuple(t["runs_s"]))
        for t in results["timings"]
    }
    rows = []
    for coder in results["coders"]:
        label = coder["label"]
        encode, decode = timings[label, "encode"], timings[label, "decode"]
        rows.append((
            label,
            "order-0" if coder["order0"] else "contextual",
            f"{coder['build_s']:.4f}",
            f"{encode.median_s:.3f}",
            f"{encode.mb_per_s:,.1f}",
            f"{encode.tokens_per_s / 1e6:,.2f}",
            f"{decode.median_s:.3f}",
            f"{decode.mb_per_s:,.1f}",
            f"{decode.tokens_per_s / 1e6:,.2f}",
            f"{coder['bits_per_token']:.4f}",
        ))
    lines = [
        f"Coders on byte tokens: build once, encode and decode median of {config['runs']} runs "
        f"(MB = 10^6 bytes, one token per byte)",
        f"data: {', '.join(config['corpus_files'])} concatenated x{config['repeats']} = {config['input_bytes']:,} bytes; "
        f"model: the byte distribution of the data ({config['model_support']} bytes with p > 0, "
        f"H(p) = {config['model_entropy_bits']:.6f} bits/token)",
        "every decode verified equal to the input",
        "",
        markdown_table(
            ("coder", "kind", "build s", "encode s", "enc MB/s", "enc Mtok/s", "decode s", "dec MB/s", "dec Mtok/s",
             "bits/token"),
            rows, {0, 1},
        ),
        "",
    ]
    lines += [f"{coder['label']}: {coder['description']}" for coder in results["coders"]]
    for label, reason in results["skipped"].items():
        lines.append(f"NOTE: {label} not timed: {reason}")
    if any(not coder["order0"] for coder in results["coders"]) and config["repeats"] > 1:
        lines.append(
            f"NOTE: the data is {config['repeats']} copies of one {config['block_bytes']:,}-byte block; compressors "
            "whose window holds a whole block (lzma, zstd) code the copies after the first almost for free"
        )
    return "\n".join(lines)


# ----------------------------------------------------------------------------- main
def parse_skip(text: str) -> tuple[str, ...]:
    """The coder labels of a comma-separated ``--skip`` value (each must be one of :data:`CODER_LABELS`)."""
    names = tuple(dict.fromkeys(name.strip() for name in text.split(",") if name.strip()))
    unknown = [name for name in names if name not in CODER_LABELS]
    if unknown:
        raise argparse.ArgumentTypeError(
            f"unknown coder {', '.join(map(repr, unknown))} (choose from {', '.join(CODER_LABELS)})"
        )
    return names


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="bench_coders",
        description=(
            "Time encode/decode of byte tokens with every klcode coder (Huffman, Shannon, length-limited "
            "Huffman, block Huffman, ANS, zlib, bz2, lzma, zstd) on the Canterbury texts repeated to the "
            "requested size: build time, median throughput (MB/s, Mtokens/s) and bits per token. "
            "Every decode is verified."
        ),
        epilog="Table on stdout, progress on stderr, figures and machine info in the JSON file.",
    )
    parser.add_argument(
        "--megabytes", type=float, default=DEFAULT_MEGABYTES,
        help=f"repeat the corpus until at least this many MB (10^6 bytes) (default {DEFAULT_MEGABYTES:g})",
    )
    parser.add_argument(
        "--runs", type=int, default=DEFAULT_RUNS,
        help=f"timed encode/decode runs per coder, at least {MIN_RUNS}; the median is reported "
        f"(default {DEFAULT_RUNS})",
    )
    parser.add_argument(
        "--skip", type=parse_skip, default=(), metavar="NAME[,NAME...]",
        help=f"leave these coders out, e.g. --skip lzma,bz2 (names: {', '.join(CODER_LABELS)}; "
        "quote the bracketed ones in a shell)",
    )
    parser.add_argument(
        "--json", type=Path, default=DEFAULT_JSON, metavar="PATH",
        help="where to write the JSON results; its directory is created "
        "(default benchmarks/results/coders.json in the repository)",
    )
    args = parser.parse_args(argv)
    if args.runs < MIN_RUNS:
        parser.error(f"--runs must be at least {MIN_RUNS} (got {args.runs})")
    if args.megabytes <= 0:
        parser.error(f"--megabytes must be positive (got {args.megabytes:g})")
    return args


def build_coders(specs: Sequence[CoderSpec], model: Distribution,
                 counts: np.ndarray) -> tuple[list[tuple[CoderSpec, Coder, float]], dict[str, str]]:
    """Each coder built once from the model, timed; the coders whose package is missing, with the reason."""
    built, skipped = [], {}
    for spec in specs:
        try:
            coder, build_s = timed(lambda spec=spec: build_coder(spec, model.probabilities, counts))
        except CoderUnavailableError as error:
            skipped[spec.label] = str(error)
            progress(f"NOTE: {spec.label} skipped: {error}")
            continue
        built.append((spec, coder, build_s))
        progress(f"[build] {spec.label}: {build_s:.4f} s")
    return built, skipped


def benchmark(ids: np.ndarray, specs: Sequence[CoderSpec], runs: int) -> dict[str, Any]:
    """Build every coder once, then time them ``runs`` times, taking turns run by run; JSON-ready results."""
    counts = bincount_chunked(ids, BYTE_ALPHABET)
    model = Distribution.from_counts(counts)
    built, skipped = build_coders(specs, model, counts)
    seconds: dict[str, dict[str, list[float]]] = {spec.label: {"encode": [], "decode": []} for spec, _, _ in built}
    bits: dict[str, int] = {}
    for run in range(1, runs + 1):
        for spec, coder, _ in built:
            stage_s, n_bits = run_coder(spec.label, coder, ids, counts, bits.get(spec.label))
            bits[spec.label] = n_bits
            for stage, value in stage_s.items():
                seconds[spec.label][stage].append(value)
            progress(
                f"[run {run}/{runs}] {spec.label:<22} encode {stage_s['encode']:.3f} s, "
                f"decode {stage_s['decode']:.3f} s (verified)"
            )
    p = model.probabilities
    entropy = float(-(p[p > 0] @ np.log2(p[p > 0])))
    coders = []
    for spec, coder, build_s in built:
        expected = coder.expected_bits_per_token(p) if coder.order0 else None
        coders.append({
            "label": spec.label,
            "family": spec.name,
            "block": spec.block,
            "max_length_bits": spec.max_length_bits,
            "order0": coder.order0,
            "description": coder.description,
            "build_s": build_s,
            "bits": bits[spec.label],
            "bits_per_token": bits[spec.label] / ids.size,
            "expected_bits_per_token_iid": expected,
        })
    timings = [Timing(label, stage, int(ids.size), tuple(values))
               for label, stages in seconds.items() for stage, values in stages.items()]
    return {
        "model": {"support": int(np.count_nonzero(counts)), "entropy_bits": entropy},
        "coders": coders,
        "skipped": skipped,
        "timings": [t.as_json() for t in timings],
    }


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    specs = [spec for spec in SPECS if spec.label not in args.skip]
    if not specs:
        progress("nothing to do: every coder is skipped")
        return 0
    data = load_corpus(args.megabytes)
    ids = np.frombuffer(data, dtype=np.uint8)
    block_bytes = sum((CORPUS_DIR / name).stat().st_size for name in CORPUS_FILES)
    progress(f"data: {len(data):,} bytes ({len(data) // block_bytes} x the 4 Canterbury texts); runs: {args.runs}")
    progress(f"coders: {', '.join(spec.label for spec in specs)}"
             + (f" (skipped: {', '.join(args.skip)})" if args.skip else ""))
    estimate = estimate_seconds([spec.label for spec in specs], len(data) / MB, args.runs)
    slowest = sorted(specs, key=lambda spec: -estimate_seconds([spec.label], len(data) / MB, args.runs))[:2]
    progress(f"estimated time: about {estimate:.0f} s{f' ({estimate / 60:.1f} min)' if estimate >= 60 else ''} on the machine of "
             f"benchmarks/README.md, most of it {' and '.join(spec.label for spec in slowest)} "
             f"(--skip {','.join(spec.label for spec in slowest)} leaves them out)")
    try:
        results = benchmark(ids, specs, args.runs)
    except VerificationError as error:
        progress(f"VERIFICATION FAILED: {error}")
        return EXIT_VERIFICATION_FAILED
    model = results.pop("model")
    results = {
        "benchmark": "coders-bytes",
        "machine": machine_info(),
        "config": {
            "corpus_dir": str(CORPUS_DIR.relative_to(REPO_ROOT)),
            "corpus_files": list(CORPUS_FILES),
            "block_bytes": block_bytes,
            "repeats": len(data) // block_bytes,
            "megabytes_requested": args.megabytes,
            "input_bytes": len(data),
            "tokens": "bytes (np.frombuffer(data, np.uint8))",
            "model": "byte distribution of the data: Distribution.from_counts(bincount_chunked(ids, 256))",
            "model_support": model["support"],
            "model_entropy_bits": model["entropy_bits"],
            "coders_requested": [spec.label for spec in specs],
            "skip": list(args.skip),
            "runs": args.runs,
            "statistic": "median",
            "timer": "time.perf_counter",
            "mb": MB,
            "verified": True,
        },
        **results,
    }
    print(build_report(results))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    progress(f"results written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
