"""Time Huffman encode and decode of byte tokens: klcode's path against dahuffman's own.

Both coders work on the same bytes (the four Canterbury texts of
``corpora/canterbury`` concatenated, repeated until the requested size).  Every
run does the real work from scratch, and every decode is checked against the
input; a mismatch stops the benchmark with exit status 2.

Run from the repository root::

    python benchmarks/bench_huffman.py            # or: python -m benchmarks.bench_huffman
    python benchmarks/bench_huffman.py --help

The table goes to stdout, progress lines to stderr, and the figures with the
machine's description to a JSON file (``benchmarks/results/huffman.json``).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import shlex
import statistics
import sys
import time
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

import dahuffman  # noqa: E402
from bitarray import bitarray  # noqa: E402

from klcode import Distribution  # noqa: E402
from klcode.coders import HuffmanCode  # noqa: E402
from klcode.counting import bincount_chunked  # noqa: E402

CORPUS_DIR = REPO_ROOT / "corpora" / "canterbury"
CORPUS_FILES = ("alice29.txt", "asyoulik.txt", "lcet10.txt", "plrabn12.txt")
DEFAULT_JSON = REPO_ROOT / "benchmarks" / "results" / "huffman.json"
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
    """Wall-clock seconds of one stage over all runs, on ``input_bytes`` bytes (= tokens)."""

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


def machine_info() -> dict[str, Any]:
    return {
        "platform": platform.platform(),
        "machine": platform.machine(),
        "processor": platform.processor() or "unknown",
        "python": platform.python_version(),
        "python_implementation": platform.python_implementation(),
        "cpu_count": os.cpu_count(),
        "numpy": np.__version__,
        "bitarray": package_version("bitarray"),
        "dahuffman": package_version("dahuffman"),
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "command": shlex.join(getattr(sys, "orig_argv", [sys.executable, *sys.argv])),
    }


def check(condition: bool, message: str) -> None:
    """Like assert, but never stripped by ``python -O``."""
    if not condition:
        raise VerificationError(message)


# ----------------------------------------------------------------------------- one run
def run_klcode(data: bytes) -> tuple[dict[str, float], int, int]:
    """Count, build, encode and decode ``data`` with klcode; check the decode.

    Returns (seconds per stage, bits of the stream, Σ count·length).
    """
    ids = np.frombuffer(data, dtype=np.uint8)
    counts, count_s = timed(lambda: bincount_chunked(ids, BYTE_ALPHABET))
    code, build_s = timed(lambda: HuffmanCode.from_distribution(Distribution.from_counts(counts)))
    bits, encode_s = timed(lambda: code.encode(ids))
    decoded, decode_s = timed(lambda: code.decode(bits, ids.size))
    check(isinstance(bits, bitarray), f"klcode encode returned {type(bits).__name__}, not a bitarray")
    check(decoded.size == ids.size, f"klcode decoded {decoded.size} tokens, expected {ids.size}")
    check(bool(np.array_equal(decoded, ids)), "klcode decode differs from the input")
    expected_bits = int(counts @ code.lengths_bits)
    check(len(bits) == expected_bits, f"klcode wrote {len(bits)} bits, expected Σ count·length = {expected_bits}")
    seconds = {"count": count_s, "build": build_s, "encode": encode_s, "decode": decode_s}
    return seconds, len(bits), expected_bits


def run_dahuffman(data: bytes, frequencies: dict[int, int]) -> tuple[dict[str, float], int, int]:
    """Build, encode and decode ``data`` with dahuffman (default EOF); check the decode.

    ``concat=bytes`` makes ``decode`` return bytes: with int symbols dahuffman
    would otherwise guess ``list``.  Returns (seconds per stage, bits of the
    encoded bytes, Σ count·length of its code without the EOF).
    """
    codec, build_s = timed(lambda: dahuffman.HuffmanCodec.from_frequencies(frequencies, concat=bytes))
    encoded, encode_s = timed(lambda: codec.encode(data))
    decoded, decode_s = timed(lambda: codec.decode(encoded))
    check(isinstance(decoded, bytes), f"dahuffman decode returned {type(decoded).__name__}, not bytes")
    check(len(decoded) == len(data), f"dahuffman decoded {len(decoded)} bytes, expected {len(data)}")
    check(decoded == data, "dahuffman decode differs from the input")
    table = codec.get_code_table()
    payload_bits = sum(count * table[symbol][0] for symbol, count in frequencies.items())
    seconds = {"build": build_s, "encode": encode_s, "decode": decode_s}
    return seconds, 8 * len(encoded), payload_bits


# ----------------------------------------------------------------------------- report
def format_table(timings: Sequence[Timing]) -> str:
    header = ("coder", "stage", "input MB", "min s", "median s", "max s", "MB/s", "Mtokens/s")
    rows = [
        (
            t.coder,
            t.stage,
            f"{t.input_bytes / MB:.2f}",
            f"{t.min_s:.4f}",
            f"{t.median_s:.4f}",
            f"{t.max_s:.4f}",
            f"{t.mb_per_s:,.2f}",
            f"{t.tokens_per_s / 1e6:,.3f}",
        )
        for t in timings
    ]
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(len(header))]
    left = {0, 1}

    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(c.ljust(w) if i in left else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths))) + " |"

    rule = "|" + "|".join((":" if i in left else "-") + "-" * w + ("-" if i in left else ":") for i, w in enumerate(widths)) + "|"
    return "\n".join([line(header), rule, *(line(row) for row in rows)])


def build_report(results: dict[str, Any]) -> str:
    config, sizes, ratios = results["config"], results["compressed"], results["speed_ratios_klcode_over_dahuffman"]
    timings = [Timing(t["coder"], t["stage"], t["input_bytes"], tuple(t["runs_s"])) for t in results["timings"]]
    k, d = sizes["klcode"], sizes["dahuffman"]
    lines = [
        f"Huffman on byte tokens: klcode vs dahuffman, median of {config['runs']} runs "
        f"(MB = 10^6 bytes, one token per byte)",
        f"data: {', '.join(config['corpus_files'])} concatenated x{config['repeats']} = {config['input_bytes']:,} bytes",
    ]
    if config["same_data"]:
        lines.append("both coders timed on the same data (every decode verified equal to the input)")
    else:
        lines.append(
            f"NOTE: dahuffman timed on a PREFIX of {config['dahuffman_input_bytes']:,} bytes, not the full "
            f"{config['input_bytes']:,}; throughputs compare, absolute times and sizes do not"
        )
    lines += ["", format_table(timings), ""]
    lines.append(
        f"compressed, klcode:    {k['bits']:,} bits ({k['bits_per_token']:.6f} bits/token) "
        f"= Σ count·length exactly"
    )
    lines.append(
        f"compressed, dahuffman: {d['bits']:,} bits ({d['bits_per_token']:.6f} bits/token) "
        f"= {d['payload_bits']:,} payload bits (its tree has an EOF leaf) + {d['eof_and_padding_bits']} EOF/padding bits"
    )
    lines.append(
        f"speed ratio klcode/dahuffman (MB/s): encode {ratios['encode']:,.1f}x, decode {ratios['decode']:,.1f}x"
    )
    return "\n".join(lines)


# ----------------------------------------------------------------------------- main
def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="bench_huffman",
        description=(
            "Time Huffman encode/decode of byte tokens with klcode (HuffmanCode, vectorized numpy "
            "encode, bitarray decode) against dahuffman's own pure-Python encode/decode, on the "
            "Canterbury texts repeated to the requested size. Every decode is verified."
        ),
        epilog="Table on stdout, progress on stderr, figures and machine info in the JSON file.",
    )
    parser.add_argument(
        "--megabytes", type=float, default=DEFAULT_MEGABYTES,
        help=f"repeat the corpus until at least this many MB (10^6 bytes) (default {DEFAULT_MEGABYTES:g})",
    )
    parser.add_argument(
        "--dahuffman-megabytes", type=float, default=None,
        help="time dahuffman on only this many MB, a prefix of the data (default: the same data as klcode; "
        "dahuffman decodes about 1 MB/s)",
    )
    parser.add_argument(
        "--runs", type=int, default=DEFAULT_RUNS,
        help=f"timed runs per coder, at least {MIN_RUNS}; the median is reported (default {DEFAULT_RUNS})",
    )
    parser.add_argument(
        "--json", type=Path, default=DEFAULT_JSON, metavar="PATH",
        help="where to write the JSON results; its directory is created "
        "(default benchmarks/results/huffman.json in the repository)",
    )
    args = parser.parse_args(argv)
    if args.runs < MIN_RUNS:
        parser.error(f"--runs must be at least {MIN_RUNS} (got {args.runs})")
    if args.megabytes <= 0:
        parser.error(f"--megabytes must be positive (got {args.megabytes:g})")
    if args.dahuffman_megabytes is not None and args.dahuffman_megabytes <= 0:
        parser.error(f"--dahuffman-megabytes must be positive (got {args.dahuffman_megabytes:g})")
    return args


def benchmark(data: bytes, dahuffman_data: bytes, runs: int) -> dict[str, Any]:
    """Time both coders ``runs`` times, alternating them run by run; the results as JSON-ready data."""
    dahuffman_counts = bincount_chunked(np.frombuffer(dahuffman_data, dtype=np.uint8), BYTE_ALPHABET)
    frequencies = {byte: int(count) for byte, count in enumerate(dahuffman_counts.tolist()) if count}
    klcode_s: dict[str, list[float]] = {stage: [] for stage in ("count", "build", "encode", "decode")}
    dahuffman_s: dict[str, list[float]] = {stage: [] for stage in ("build", "encode", "decode")}
    for run in range(1, runs + 1):
        seconds, klcode_bits, klcode_expected = run_klcode(data)
        for stage, value in seconds.items():
            klcode_s[stage].append(value)
        progress(
            f"[run {run}/{runs}] klcode    encode {seconds['encode']:.3f} s, decode {seconds['decode']:.3f} s (verified)"
        )
        seconds, dahuffman_bits, dahuffman_payload = run_dahuffman(dahuffman_data, frequencies)
        for stage, value in seconds.items():
            dahuffman_s[stage].append(value)
        progress(
            f"[run {run}/{runs}] dahuffman encode {seconds['encode']:.3f} s, decode {seconds['decode']:.3f} s (verified)"
        )
    timings = [Timing("klcode", stage, len(data), tuple(values)) for stage, values in klcode_s.items()]
    timings += [Timing("dahuffman", stage, len(dahuffman_data), tuple(values)) for stage, values in dahuffman_s.items()]
    by_key = {(t.coder, t.stage): t for t in timings}
    return {
        "timings": [t.as_json() for t in timings],
        "compressed": {
            "klcode": {
                "input_bytes": len(data),
                "bits": klcode_bits,
                "sum_count_times_length": klcode_expected,
                "bits_per_token": klcode_bits / len(data),
            },
            "dahuffman": {
                "input_bytes": len(dahuffman_data),
                "bits": dahuffman_bits,
                "payload_bits": dahuffman_payload,
                "eof_and_padding_bits": dahuffman_bits - dahuffman_payload,
                "bits_per_token": dahuffman_bits / len(dahuffman_data),
            },
        },
        "speed_ratios_klcode_over_dahuffman": {
            stage: by_key["klcode", stage].mb_per_s / by_key["dahuffman", stage].mb_per_s for stage in ("encode", "decode")
        },
    }


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    data = load_corpus(args.megabytes)
    block_bytes = sum((CORPUS_DIR / name).stat().st_size for name in CORPUS_FILES)
    dahuffman_bytes = len(data) if args.dahuffman_megabytes is None else min(len(data), int(args.dahuffman_megabytes * MB))
    dahuffman_data = data[:dahuffman_bytes]
    same_data = dahuffman_bytes == len(data)
    progress(f"data: {len(data):,} bytes ({len(data) // block_bytes} x the 4 Canterbury texts); runs: {args.runs}")
    if not same_data:
        progress(f"NOTE: dahuffman on a prefix of {dahuffman_bytes:,} bytes (--dahuffman-megabytes)")
    try:
        results = benchmark(data, dahuffman_data, args.runs)
    except VerificationError as error:
        progress(f"VERIFICATION FAILED: {error}")
        return EXIT_VERIFICATION_FAILED
    results = {
        "benchmark": "huffman-bytes",
        "machine": machine_info(),
        "config": {
            "corpus_dir": str(CORPUS_DIR.relative_to(REPO_ROOT)),
            "corpus_files": list(CORPUS_FILES),
            "repeats": len(data) // block_bytes,
            "megabytes_requested": args.megabytes,
            "input_bytes": len(data),
            "dahuffman_input_bytes": dahuffman_bytes,
            "same_data": same_data,
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
