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
import sys
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

if __package__:  # python -m benchmarks.bench_coders: make this folder's common importable as under python FILE
    sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402 - importing common puts the checkout on sys.path when klcode is not installed

from klcode.coders.base import Coder, Encoded  # noqa: E402
from klcode.coders.registry import CoderSpec, build_coder  # noqa: E402
from klcode.models.distribution import Distribution  # noqa: E402
from klcode.text.counting import bincount_chunked  # noqa: E402

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
DEFAULT_MEGABYTES = 20.0
BYTE_ALPHABET = 256


# ----------------------------------------------------------------------------- helpers
def coders_machine_info() -> dict[str, Any]:
    """The machine, with the versions of the coders' libraries."""
    versions = {name: common.package_version(name) for name in ("klcode", "bitarray", "constriction", "zstandard")}
    return common.machine_info({**versions, "zlib": zlib.ZLIB_RUNTIME_VERSION, "liblzma": common.lzma_version()})


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
    common.check(encoded.n_tokens == ids.size, f"{label} encoded {encoded.n_tokens} tokens, expected {ids.size}")
    common.check(encoded.n_bits > 0, f"{label} wrote no bits")
    common.check(decoded.ndim == 1 and decoded.size == ids.size, f"{label} decoded {decoded.size} tokens, expected {ids.size}")
    common.check(bool(np.array_equal(decoded, ids)), f"{label} decode differs from the input")
    if first_bits is not None:
        common.check(encoded.n_bits == first_bits, f"{label} wrote {encoded.n_bits} bits, {first_bits} in the first run")
    lengths = coder.lengths_bits
    if lengths is not None:  # a prefix code of one token per codeword: exactly Σ count·length
        expected = int(counts @ lengths[: counts.size])
        common.check(encoded.n_bits == expected, f"{label} wrote {encoded.n_bits} bits, expected Σ count·length = {expected}")


def run_coder(label: str, coder: Coder, ids: np.ndarray, counts: np.ndarray,
              first_bits: int | None) -> tuple[dict[str, float], int]:
    """Encode and decode ``ids`` with ``coder`` once, timed; check the result. (seconds per stage, bits)."""
    encoded, encode_s = common.timed(lambda: coder.encode(ids))
    decoded, decode_s = common.timed(lambda: coder.decode(encoded))
    verify(label, coder, encoded, decoded, ids, counts, first_bits)
    return {"encode": encode_s, "decode": decode_s}, encoded.n_bits


# ----------------------------------------------------------------------------- report
def build_report(results: dict[str, Any]) -> str:
    config = results["config"]
    timings = {(t["coder"], t["stage"]): common.Timing.from_json(t) for t in results["timings"]}
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
        common.markdown_table(
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
    parser = common.make_parser(
        "bench_coders",
        "Time encode/decode of byte tokens with every klcode coder (Huffman, Shannon, length-limited "
        "Huffman, block Huffman, ANS, zlib, bz2, lzma, zstd) on the Canterbury texts repeated to the "
        "requested size: build time, median throughput (MB/s, Mtokens/s) and bits per token. "
        "Every decode is verified.",
    )
    common.add_megabytes(parser, DEFAULT_MEGABYTES)
    common.add_runs(parser, "timed encode/decode runs per coder")
    parser.add_argument(
        "--skip", type=parse_skip, default=(), metavar="NAME[,NAME...]",
        help=f"leave these coders out, e.g. --skip lzma,bz2 (names: {', '.join(CODER_LABELS)}; "
        "quote the bracketed ones in a shell)",
    )
    common.add_json(parser, "coders")
    args = parser.parse_args(argv)
    common.validate_args(parser, args)
    return args


def build_coders(specs: Sequence[CoderSpec], model: Distribution,
                 counts: np.ndarray) -> tuple[list[tuple[CoderSpec, Coder, float]], dict[str, str]]:
    """Each coder built once from the model, timed (every coder's package is a dependency: none is skipped)."""
    built, skipped = [], {}
    for spec in specs:
        coder, build_s = common.timed(lambda spec=spec: build_coder(spec, model.probabilities, counts))
        built.append((spec, coder, build_s))
        common.progress(f"[build] {spec.label}: {build_s:.4f} s")
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
            common.progress(
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
    timings = [common.Timing(label, stage, int(ids.size), tuple(values))
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
        common.progress("nothing to do: every coder is skipped")
        return 0
    data, block_bytes = common.canterbury_data(args.megabytes)
    ids = np.frombuffer(data, dtype=np.uint8)
    common.describe_canterbury_data(data, block_bytes, args.runs)
    common.progress(f"coders: {', '.join(spec.label for spec in specs)}"
             + (f" (skipped: {', '.join(args.skip)})" if args.skip else ""))
    estimate = estimate_seconds([spec.label for spec in specs], len(data) / common.MB, args.runs)
    slowest = sorted(specs, key=lambda spec: -estimate_seconds([spec.label], len(data) / common.MB, args.runs))[:2]
    common.progress(f"estimated time: about {estimate:.0f} s{f' ({estimate / 60:.1f} min)' if estimate >= 60 else ''} on the machine of "
             f"benchmarks/README.md, most of it {' and '.join(spec.label for spec in slowest)} "
             f"(--skip {','.join(spec.label for spec in slowest)} leaves them out)")
    try:
        results = benchmark(ids, specs, args.runs)
    except common.VerificationError as error:
        return common.verification_failed(error)
    model = results.pop("model")
    results = {
        "benchmark": "coders-bytes",
        "machine": coders_machine_info(),
        "config": {
            **common.canterbury_config(data, block_bytes, args.megabytes),
            "tokens": "bytes (np.frombuffer(data, np.uint8))",
            "model": "byte distribution of the data: Distribution.from_counts(bincount_chunked(ids, 256))",
            "model_support": model["support"],
            "model_entropy_bits": model["entropy_bits"],
            "coders_requested": [spec.label for spec in specs],
            "skip": list(args.skip),
            **common.timing_config(args.runs),
            "verified": True,
        },
        **results,
    }
    return common.publish(build_report(results), results, args.json)


if __name__ == "__main__":
    sys.exit(main())
