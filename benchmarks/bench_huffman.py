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
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

if __package__:  # python -m benchmarks.bench_huffman: make this folder's common importable as under python FILE
    sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402 - importing common puts the checkout on sys.path when klcode is not installed
import dahuffman  # noqa: E402
from bitarray import bitarray  # noqa: E402

from klcode import Distribution  # noqa: E402
from klcode.coders import HuffmanCode  # noqa: E402
from klcode.text.counting import bincount_chunked  # noqa: E402

DEFAULT_MEGABYTES = 20.0
BYTE_ALPHABET = 256


# ----------------------------------------------------------------------------- one run
def run_klcode(data: bytes) -> tuple[dict[str, float], int, int]:
    """Count, build, encode and decode ``data`` with klcode; check the decode.

    Returns (seconds per stage, bits of the stream, Σ count·length).
    """
    ids = np.frombuffer(data, dtype=np.uint8)
    counts, count_s = common.timed(lambda: bincount_chunked(ids, BYTE_ALPHABET))
    code, build_s = common.timed(lambda: HuffmanCode.from_distribution(Distribution.from_counts(counts)))
    bits, encode_s = common.timed(lambda: code.encode(ids))
    decoded, decode_s = common.timed(lambda: code.decode(bits, ids.size))
    common.check(isinstance(bits, bitarray), f"klcode encode returned {type(bits).__name__}, not a bitarray")
    common.check(decoded.size == ids.size, f"klcode decoded {decoded.size} tokens, expected {ids.size}")
    common.check(bool(np.array_equal(decoded, ids)), "klcode decode differs from the input")
    expected_bits = int(counts @ code.lengths_bits)
    common.check(len(bits) == expected_bits, f"klcode wrote {len(bits)} bits, expected Σ count·length = {expected_bits}")
    seconds = {"count": count_s, "build": build_s, "encode": encode_s, "decode": decode_s}
    return seconds, len(bits), expected_bits


def run_dahuffman(data: bytes, frequencies: dict[int, int]) -> tuple[dict[str, float], int, int]:
    """Build, encode and decode ``data`` with dahuffman (default EOF); check the decode.

    ``concat=bytes`` makes ``decode`` return bytes: with int symbols dahuffman
    would otherwise guess ``list``.  Returns (seconds per stage, bits of the
    encoded bytes, Σ count·length of its code without the EOF).
    """
    codec, build_s = common.timed(lambda: dahuffman.HuffmanCodec.from_frequencies(frequencies, concat=bytes))
    encoded, encode_s = common.timed(lambda: codec.encode(data))
    decoded, decode_s = common.timed(lambda: codec.decode(encoded))
    common.check(isinstance(decoded, bytes), f"dahuffman decode returned {type(decoded).__name__}, not bytes")
    common.check(len(decoded) == len(data), f"dahuffman decoded {len(decoded)} bytes, expected {len(data)}")
    common.check(decoded == data, "dahuffman decode differs from the input")
    table = codec.get_code_table()
    payload_bits = sum(count * table[symbol][0] for symbol, count in frequencies.items())
    seconds = {"build": build_s, "encode": encode_s, "decode": decode_s}
    return seconds, 8 * len(encoded), payload_bits


# ----------------------------------------------------------------------------- report
def format_table(timings: Sequence[common.Timing]) -> str:
    header = ("coder", "stage", "input MB", "min s", "median s", "max s", "MB/s", "Mtokens/s")
    rows = [
        (
            t.coder,
            t.stage,
            f"{t.input_bytes / common.MB:.2f}",
            f"{t.min_s:.4f}",
            f"{t.median_s:.4f}",
            f"{t.max_s:.4f}",
            f"{t.mb_per_s:,.2f}",
            f"{t.tokens_per_s / 1e6:,.3f}",
        )
        for t in timings
    ]
    return common.markdown_table(header, rows, {0, 1})


def build_report(results: dict[str, Any]) -> str:
    config, sizes, ratios = results["config"], results["compressed"], results["speed_ratios_klcode_over_dahuffman"]
    timings = [common.Timing.from_json(t) for t in results["timings"]]
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
    parser = common.make_parser(
        "bench_huffman",
        "Time Huffman encode/decode of byte tokens with klcode (HuffmanCode, vectorized numpy "
        "encode, bitarray decode) against dahuffman's own pure-Python encode/decode, on the "
        "Canterbury texts repeated to the requested size. Every decode is verified.",
    )
    common.add_megabytes(parser, DEFAULT_MEGABYTES)
    parser.add_argument(
        "--dahuffman-megabytes", type=float, default=None,
        help="time dahuffman on only this many MB, a prefix of the data (default: the same data as klcode; "
        "dahuffman decodes about 1 MB/s)",
    )
    common.add_runs(parser, "timed runs per coder")
    common.add_json(parser, "huffman")
    args = parser.parse_args(argv)
    common.validate_args(parser, args, ("megabytes", "dahuffman_megabytes"))
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
        common.progress(
            f"[run {run}/{runs}] klcode    encode {seconds['encode']:.3f} s, decode {seconds['decode']:.3f} s (verified)"
        )
        seconds, dahuffman_bits, dahuffman_payload = run_dahuffman(dahuffman_data, frequencies)
        for stage, value in seconds.items():
            dahuffman_s[stage].append(value)
        common.progress(
            f"[run {run}/{runs}] dahuffman encode {seconds['encode']:.3f} s, decode {seconds['decode']:.3f} s (verified)"
        )
    timings = [common.Timing("klcode", stage, len(data), tuple(values)) for stage, values in klcode_s.items()]
    timings += [common.Timing("dahuffman", stage, len(dahuffman_data), tuple(values)) for stage, values in dahuffman_s.items()]
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
    data, block_bytes = common.canterbury_data(args.megabytes)
    dahuffman_bytes = len(data) if args.dahuffman_megabytes is None else min(len(data), int(args.dahuffman_megabytes * common.MB))
    dahuffman_data = data[:dahuffman_bytes]
    same_data = dahuffman_bytes == len(data)
    common.describe_canterbury_data(data, block_bytes, args.runs)
    if not same_data:
        common.progress(f"NOTE: dahuffman on a prefix of {dahuffman_bytes:,} bytes (--dahuffman-megabytes)")
    try:
        results = benchmark(data, dahuffman_data, args.runs)
    except common.VerificationError as error:
        return common.verification_failed(error)
    results = {
        "benchmark": "huffman-bytes",
        "machine": common.machine_info(
            {"bitarray": common.package_version("bitarray"), "dahuffman": common.package_version("dahuffman")}, memory=False
        ),
        "config": {
            **common.canterbury_config(data, block_bytes, args.megabytes, with_block_bytes=False),
            "dahuffman_input_bytes": dahuffman_bytes,
            "same_data": same_data,
            **common.timing_config(args.runs),
            "verified": True,
        },
        **results,
    }
    return common.publish(build_report(results), results, args.json)


if __name__ == "__main__":
    sys.exit(main())
