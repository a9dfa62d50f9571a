"""Time klcode against other libraries on the same byte tokens: counting, code building, encoding, decoding.

The contenders, each at the stages it has:

* **counting**: klcode's ``bincount_chunked(ids, 256)``, ``np.bincount`` on the
  whole array, ``collections.Counter(data)``;
* **code building** (from the byte counts): klcode's Huffman and ANS coders
  (``build_coder``), ``dahuffman.HuffmanCodec.from_frequencies``, bitarray's
  ``huffman_code`` and ``canonical_huffman``, constriction's ``Categorical``;
* **encoding and decoding**: klcode's ``huffman`` and ``ans`` coders, dahuffman,
  bitarray's ``encode``/``decode`` with a Huffman code dict, constriction's
  ``AnsCoder`` called directly (klcode's ``ans`` wraps it: the difference is the
  wrapper's overhead), ``zlib`` level 9 and ``lzma`` preset 6.

All work on the same bytes: the four Canterbury texts of ``corpora/canterbury``
concatenated, repeated until the requested size; one token per byte.  dahuffman
(pure Python, about 1 MB/s to decode) can be timed on a prefix only
(``--dahuffman-megabytes``).  The contenders take turns run by run; every
decode is checked against the input, every count against klcode's, outside the
timings; a mismatch stops the benchmark with exit status 2.

Run from the repository root::

    python benchmarks/bench_libraries.py            # or: python -m benchmarks.bench_libraries
    python benchmarks/bench_libraries.py --help

The table goes to stdout, progress lines to stderr, and the figures with the
machine's description to a JSON file (``benchmarks/results/libraries.json``).
"""

from __future__ import annotations

import argparse
import collections
import lzma
import sys
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

if __package__:  # python -m benchmarks.bench_libraries: make this folder's common importable as under python FILE
    sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402 - importing common puts the checkout on sys.path when klcode is not installed
from bitarray import bitarray, decodetree  # noqa: E402
from bitarray.util import canonical_huffman, huffman_code  # noqa: E402

from klcode.coders.registry import CoderSpec, build_coder  # noqa: E402
from klcode.models.distribution import Distribution  # noqa: E402
from klcode.text.counting import bincount_chunked  # noqa: E402

try:
    import dahuffman
except ImportError:  # pragma: no cover - depends on the environment
    dahuffman = None
try:
    import constriction
except ImportError:  # pragma: no cover - depends on the environment
    constriction = None

DEFAULT_MEGABYTES = 20.0
BYTE_ALPHABET = 256
STAGES = ("count", "build", "encode", "decode")
#: The contenders --skip can leave out (klcode itself is always timed).
SKIPPABLE = ("numpy", "counter", "dahuffman", "bitarray", "constriction", "zlib", "lzma")
#: Rough seconds per MB of one run of each contender on the machine of benchmarks/README.md (for the estimate only).
NOMINAL_S_PER_MB = {
    "klcode": 0.08, "numpy": 0.012, "counter": 0.04, "dahuffman": 1.1, "bitarray": 0.08,
    "constriction": 0.05, "zlib": 0.12, "lzma": 0.37,
}


# ----------------------------------------------------------------------------- the data of one benchmark
@dataclass(frozen=True)
class Data:
    """The input of every contender, and its byte counts (computed once, untimed, to check and to build from)."""

    data: bytes
    ids: np.ndarray
    counts: np.ndarray
    frequencies: dict[int, int]
    #: dahuffman's input (a prefix of ``data`` with --dahuffman-megabytes) and its byte frequencies.
    dahuffman_data: bytes
    dahuffman_frequencies: dict[int, int]

    @classmethod
    def of(cls, data: bytes, dahuffman_bytes: int) -> Data:
        ids = np.frombuffer(data, dtype=np.uint8)
        counts = bincount_chunked(ids, BYTE_ALPHABET)
        prefix = data[:dahuffman_bytes]
        prefix_counts = counts if len(prefix) == len(data) else bincount_chunked(np.frombuffer(prefix, np.uint8), BYTE_ALPHABET)
        return cls(data, ids, counts, frequencies(counts), prefix, frequencies(prefix_counts))


def frequencies(counts: np.ndarray) -> dict[int, int]:
    """The counts as a dict byte -> count of the bytes that occur (the input of dahuffman and bitarray)."""
    return {byte: int(count) for byte, count in enumerate(counts.tolist()) if count}


@dataclass
class Outcome:
    """What one run of one contender gives: seconds per stage (its own labels) and the bits of its encoding."""

    seconds: dict[tuple[str, str], float]
    bits: dict[str, int]


# ----------------------------------------------------------------------------- one run of each contender
def run_counting(d: Data, skip: Sequence[str]) -> Outcome:
    """Count the bytes with klcode, np.bincount and collections.Counter; each result checked against the counts."""
    out = Outcome({}, {})
    counts, out.seconds["klcode", "count"] = common.timed(lambda: bincount_chunked(d.ids, BYTE_ALPHABET))
    common.check(np.array_equal(counts, d.counts), "klcode bincount_chunked counts differ")
    if "numpy" not in skip:
        counts, out.seconds["np.bincount", "count"] = common.timed(lambda: np.bincount(d.ids, minlength=BYTE_ALPHABET))
        common.check(np.array_equal(counts, d.counts), "np.bincount counts differ from klcode's")
    if "counter" not in skip:
        counter, out.seconds["collections.Counter", "count"] = common.timed(lambda: collections.Counter(d.data))
        common.check(dict(counter) == d.frequencies, "collections.Counter counts differ from klcode's")
    return out


def run_klcode(d: Data, name: str) -> Outcome:
    """Build klcode's ``name`` coder (huffman or ans) from the counts, encode and decode the ids; checked."""
    label = f"klcode {name}"
    out = Outcome({}, {})
    coder, out.seconds[label, "build"] = common.timed(
        lambda: build_coder(CoderSpec(name), Distribution.from_counts(d.counts).probabilities, d.counts)
    )
    encoded, out.seconds[label, "encode"] = common.timed(lambda: coder.encode(d.ids))
    decoded, out.seconds[label, "decode"] = common.timed(lambda: coder.decode(encoded))
    common.check(encoded.n_tokens == d.ids.size, f"{label} encoded {encoded.n_tokens} tokens, expected {d.ids.size}")
    common.check(decoded.size == d.ids.size and bool(np.array_equal(decoded, d.ids)), f"{label} decode differs from the input")
    if coder.lengths_bits is not None:
        expected = int(d.counts @ coder.lengths_bits[: d.counts.size])
        common.check(encoded.n_bits == expected, f"{label} wrote {encoded.n_bits} bits, expected Σ count·length = {expected}")
    out.bits[label] = encoded.n_bits
    return out


def run_dahuffman(d: Data) -> Outcome:
    """Build dahuffman's codec from the frequencies (default EOF, ``concat=bytes``), encode and decode; checked."""
    out = Outcome({}, {})
    codec, out.seconds["dahuffman", "build"] = common.timed(
        lambda: dahuffman.HuffmanCodec.from_frequencies(d.dahuffman_frequencies, concat=bytes)
    )
    encoded, out.seconds["dahuffman", "encode"] = common.timed(lambda: codec.encode(d.dahuffman_data))
    decoded, out.seconds["dahuffman", "decode"] = common.timed(lambda: codec.decode(encoded))
    common.check(decoded == d.dahuffman_data, "dahuffman decode differs from the input")
    out.bits["dahuffman"] = 8 * len(encoded)
    return out


def run_bitarray(d: Data) -> Outcome:
    """bitarray's Huffman code dict (and canonical code) from the frequencies; encode, decode through a decodetree."""
    out = Outcome({}, {})
    code, out.seconds["bitarray huffman_code", "build"] = common.timed(lambda: huffman_code(d.frequencies))
    canonical, out.seconds["bitarray canonical_huffman", "build"] = common.timed(lambda: canonical_huffman(d.frequencies))
    expected = sum(len(code[s]) * n for s, n in d.frequencies.items())
    canonical_bits = sum(len(canonical[0][s]) * n for s, n in d.frequencies.items())
    common.check(canonical_bits == expected, f"bitarray canonical_huffman codes {canonical_bits} bits, huffman_code {expected}")

    def encode() -> bitarray:
        bits = bitarray()
        bits.encode(code, d.data)
        return bits

    bits, out.seconds["bitarray", "encode"] = common.timed(encode)
    decoded, out.seconds["bitarray", "decode"] = common.timed(lambda: bytes(bits.decode(decodetree(code))))
    common.check(decoded == d.data, "bitarray decode differs from the input")
    common.check(len(bits) == expected, f"bitarray wrote {len(bits)} bits, expected Σ count·length = {expected}")
    out.bits["bitarray"] = len(bits)
    return out


@dataclass(frozen=True)
class ConstrictionModel:
    """What a direct constriction user builds: the model over the bytes that occur, byte -> index, index -> byte."""

    model: Any
    index_of_byte: np.ndarray
    byte_of_index: np.ndarray

    @classmethod
    def of(cls, counts: np.ndarray) -> ConstrictionModel:
        present = np.flatnonzero(counts)
        index_of_byte = np.full(BYTE_ALPHABET, -1, dtype=np.int32)
        index_of_byte[present] = np.arange(present.size, dtype=np.int32)
        model = constriction.stream.model.Categorical(counts[present] / counts.sum(), perfect=False)
        return cls(model, index_of_byte, present.astype(np.uint8))


def run_constriction(d: Data) -> Outcome:
    """constriction called directly: Categorical model, AnsCoder encode_reverse of the whole stream, decode; checked."""
    out = Outcome({}, {})
    built, out.seconds["constriction Categorical", "build"] = common.timed(lambda: ConstrictionModel.of(d.counts))

    def encode() -> np.ndarray:
        coder = constriction.stream.stack.AnsCoder()
        coder.encode_reverse(built.index_of_byte[d.ids], built.model)
        return coder.get_compressed()

    def decode() -> tuple[np.ndarray, bool]:
        coder = constriction.stream.stack.AnsCoder(compressed)
        decoded = built.byte_of_index[coder.decode(built.model, d.ids.size)]
        return decoded, coder.is_empty()

    compressed, out.seconds["constriction", "encode"] = common.timed(encode)
    (decoded, empty), out.seconds["constriction", "decode"] = common.timed(decode)
    common.check(empty, "constriction's AnsCoder is not empty after decoding every token")
    common.check(bool(np.array_equal(decoded, d.ids)), "constriction decode differs from the input")
    out.bits["constriction"] = 32 * int(compressed.size)
    return out


def run_compressor(d: Data, label: str, compress: Callable[[bytes], bytes], decompress: Callable[[bytes], bytes]) -> Outcome:
    """Compress and decompress the bytes with a standard-library compressor; checked."""
    out = Outcome({}, {})
    compressed, out.seconds[label, "encode"] = common.timed(lambda: compress(d.data))
    decoded, out.seconds[label, "decode"] = common.timed(lambda: decompress(compressed))
    common.check(decoded == d.data, f"{label} decompress differs from the input")
    out.bits[label] = 8 * len(compressed)
    return out


#: Each coding contender: (name, its --skip key or None, the package it needs or None, its run function).
CONTENDERS: tuple[tuple[str, str | None, str | None, Callable[[Data], Outcome]], ...] = (
    ("klcode huffman", None, None, lambda d: run_klcode(d, "huffman")),
    ("klcode ans", None, "constriction", lambda d: run_klcode(d, "ans")),
    ("dahuffman", "dahuffman", "dahuffman", run_dahuffman),
    ("bitarray", "bitarray", None, run_bitarray),
    ("constriction", "constriction", "constriction", run_constriction),
    ("zlib", "zlib", None, lambda d: run_compressor(d, "zlib -9", lambda b: zlib.compress(b, 9), zlib.decompress)),
    ("lzma", "lzma", None, lambda d: run_compressor(d, "lzma -6", lambda b: lzma.compress(b, preset=6), lzma.decompress)),
)
#: The counting contenders --skip can leave out, by key.
COUNTERS = {"numpy": "np.bincount", "counter": "collections.Counter"}
#: What each row label calls (shown under the table and in the JSON).
CALLS = {
    "klcode": "klcode.text.counting.bincount_chunked(ids, 256) (np.bincount in 64 KiB chunks, kept in cache)",
    "np.bincount": "np.bincount(ids, minlength=256) on the whole uint8 array",
    "collections.Counter": "collections.Counter(data) over the bytes object",
    "klcode huffman": "build_coder(CoderSpec('huffman'), Distribution.from_counts(counts).probabilities, counts) "
                      "(HuffmanCode of the counts); coder.encode(ids) to a bitarray (vectorized numpy); "
                      "coder.decode(encoded) to int64 ids (bitarray's C decode)",
    "klcode ans": "build_coder(CoderSpec('ans'), q, counts) (constriction Categorical, 24-bit); coder.encode(ids), "
                  "coder.decode(encoded) to int64 ids, in chunks of 2^20 tokens",
    "dahuffman": "HuffmanCodec.from_frequencies(freq, concat=bytes) (with its EOF symbol); codec.encode(data), "
                 "codec.decode(encoded) (pure Python)",
    "bitarray huffman_code": "bitarray.util.huffman_code(freq)",
    "bitarray canonical_huffman": "bitarray.util.canonical_huffman(freq)",
    "bitarray": "a = bitarray(); a.encode(huffman_code(freq), data); bytes(a.decode(decodetree(code)))",
    "constriction Categorical": "constriction.stream.model.Categorical(counts[present] / total, perfect=False) "
                                "plus the byte <-> model index tables",
    "constriction": "AnsCoder().encode_reverse(index_of_byte[ids], model) of the whole stream, get_compressed(); "
                    "AnsCoder(compressed).decode(model, n), mapped back to uint8 bytes",
    "zlib -9": "zlib.compress(data, 9), zlib.decompress(compressed)",
    "lzma -6": "lzma.compress(data, preset=6) (.xz), lzma.decompress(compressed)",
}


# ----------------------------------------------------------------------------- report
def stage_rank(timing: dict[str, Any]) -> int:
    return STAGES.index(timing["stage"])


def summary_tables(results: dict[str, Any]) -> list[dict[str, Any]]:
    """The results as one table (see :func:`common.table`): a row per contender and stage, stage by stage."""
    config = results["config"]
    rows = []
    for t in sorted(results["timings"], key=stage_rank):  # stable: contenders in their order within a stage
        has_rate = t["mb_per_s"] is not None
        bits = results["bits_per_token"].get(t["contender"]) if t["stage"] == "encode" else None
        rows.append((
            t["contender"],
            t["stage"],
            f"{t['input_bytes'] / common.MB:,.2f}" if has_rate else f"{t['input_symbols']} counts",
            f"{t['median_s']:.4f}",
            f"{t['mb_per_s']:,.1f}" if has_rate else "—",
            f"{t['tokens_per_s'] / 1e6:,.2f}" if has_rate else "—",
            f"{bits:.4f}" if bits is not None else "",
        ))
    notes = [
        f"Data: {', '.join(config['corpus_files'])} concatenated x{config['repeats']} = {config['input_bytes']:,} bytes, "
        f"one token per byte (MB = 10^6 bytes); median of {config['runs']} runs; every decode verified equal to the input, "
        "every count equal to klcode's.",
    ]
    if not config["same_data"]:
        notes.append(
            f"NOTE: dahuffman timed on a prefix of {config['dahuffman_input_bytes']:,} bytes (--dahuffman-megabytes): "
            "its MB/s compare with the others, its seconds do not."
        )
    notes.append(
        "Building works on the byte counts, not on the data: its time does not grow with the data, so it has no MB/s."
    )
    if config["repeats"] > 1 and "lzma -6" in results["bits_per_token"]:
        notes.append(
            "lzma sees the repetition of the data (its dictionary holds a whole copy of the texts) and codes the "
            "copies after the first almost for free; zlib's 32 KiB window cannot."
        )
    notes.append("\n".join(f"- {label}: {call}" for label, call in results["calls"].items()))
    notes += [f"NOTE: {name} not timed: {reason}" if reason != "--skip" else f"NOTE: {name} left out (--skip)"
              for name, reason in results["skipped"].items()]
    return [common.table(
        "libraries", "Libraries on byte tokens: counting, building, encoding, decoding",
        ("contender", "stage", "input MB", "median s", "MB/s", "Mtokens/s", "bits/token"),
        rows, left={0, 1}, notes=notes, source=results["benchmark"],
    )]


def build_report(results: dict[str, Any]) -> str:
    return "\n\n".join(common.render_table(t, heading="##") for t in summary_tables(results))


# ----------------------------------------------------------------------------- main
def parse_skip(text: str) -> tuple[str, ...]:
    """The contenders of a comma-separated ``--skip`` value (each one of :data:`SKIPPABLE`)."""
    names = tuple(dict.fromkeys(name.strip() for name in text.split(",") if name.strip()))
    unknown = [name for name in names if name not in SKIPPABLE]
    if unknown:
        raise argparse.ArgumentTypeError(
            f"unknown contender {', '.join(map(repr, unknown))} (choose from {', '.join(SKIPPABLE)})"
        )
    return names


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = common.make_parser(
        "bench_libraries",
        "Time klcode against other libraries on the same byte tokens (the Canterbury texts repeated to the "
        "requested size): counting (np.bincount, collections.Counter), code building, encoding and decoding "
        "(dahuffman, bitarray's Huffman utilities, constriction, zlib, lzma). Every decode is verified.",
    )
    common.add_megabytes(parser, DEFAULT_MEGABYTES)
    parser.add_argument(
        "--dahuffman-megabytes", type=float, default=None,
        help="time dahuffman on only this many MB, a prefix of the data (default: the same data as the others; "
        "dahuffman decodes about 1 MB/s, so 20 MB cost it about 20 s per run)",
    )
    common.add_runs(parser, "timed runs per contender")
    parser.add_argument(
        "--skip", type=parse_skip, default=(), metavar="NAME[,NAME...]",
        help=f"leave these contenders out, e.g. --skip lzma,dahuffman (names: {', '.join(SKIPPABLE)})",
    )
    common.add_json(parser, "libraries")
    args = parser.parse_args(argv)
    common.validate_args(parser, args, ("megabytes", "dahuffman_megabytes"))
    return args


def selected_contenders(skip: Sequence[str]) -> tuple[list[tuple[str, Callable[[Data], Outcome]]], dict[str, str]]:
    """The coding contenders to run and those left out, with the reason."""
    available = {"dahuffman": dahuffman is not None, "constriction": constriction is not None}
    chosen, skipped = [], {}
    for key, label in COUNTERS.items():
        if key in skip:
            skipped[label] = "--skip"
    for name, key, needs, run in CONTENDERS:
        if key is not None and key in skip:
            skipped[name] = "--skip"
        elif needs is not None and not available[needs]:
            skipped[name] = f"{needs} is not installed (pip install {needs})"
        else:
            chosen.append((name, run))
    return chosen, skipped


def estimate_seconds(megabytes: float, dahuffman_megabytes: float, skip: Sequence[str], runs: int) -> float:
    """Rough wall time of the timed runs, from :data:`NOMINAL_S_PER_MB`."""
    total = 0.0
    for name, s_per_mb in NOMINAL_S_PER_MB.items():
        if name not in skip:
            total += s_per_mb * (dahuffman_megabytes if name == "dahuffman" else megabytes)
    return total * runs


def benchmark(d: Data, runs: int, skip: Sequence[str]) -> dict[str, Any]:
    """Time every contender ``runs`` times, taking turns run by run; the results as JSON-ready data."""
    contenders, skipped = selected_contenders(skip)
    for name, reason in skipped.items():
        if reason != "--skip":
            common.progress(f"NOTE: {name} skipped: {reason}")
    seconds: dict[tuple[str, str], list[float]] = {}
    bits: dict[str, int] = {}
    for run in range(1, runs + 1):
        outcomes = [run_counting(d, skip)]
        for name, contender in contenders:
            outcomes.append(contender(d))
        for outcome in outcomes:
            for key, value in outcome.seconds.items():
                seconds.setdefault(key, []).append(value)
            for label, n_bits in outcome.bits.items():
                common.check(bits.setdefault(label, n_bits) == n_bits, f"{label} wrote {n_bits} bits, {bits[label]} in run 1")
        parts = [f"{label} {stage} {values[-1]:.3f}" for (label, stage), values in seconds.items()
                 if stage in ("count", "encode", "decode")]
        common.progress(f"[run {run}/{runs}] {', '.join(parts)} s (verified)")
    timings = []
    for (label, stage), values in seconds.items():
        input_bytes = len(d.dahuffman_data) if label == "dahuffman" else len(d.data)
        timing = common.Timing(label, stage, input_bytes, tuple(values))
        entry = {"contender": label, **timing.as_json()}
        del entry["coder"]
        if stage == "build":  # from the counts: no throughput
            entry.update(mb_per_s=None, tokens_per_s=None,
                         input_symbols=len(d.dahuffman_frequencies if label == "dahuffman" else d.frequencies))
        timings.append(entry)
    sizes = {label: len(d.dahuffman_data) if label == "dahuffman" else len(d.data) for label in bits}
    used = {label for label, _ in seconds}
    return {
        "timings": timings,
        "bits": bits,
        "bits_per_token": {label: n_bits / sizes[label] for label, n_bits in bits.items()},
        "calls": {label: call for label, call in CALLS.items() if label in used},
        "skipped": skipped,
    }


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    data, block_bytes = common.canterbury_data(args.megabytes)
    dahuffman_bytes = len(data) if args.dahuffman_megabytes is None else min(len(data), int(args.dahuffman_megabytes * common.MB))
    common.describe_canterbury_data(data, block_bytes, args.runs)
    if dahuffman_bytes != len(data):
        common.progress(f"NOTE: dahuffman on a prefix of {dahuffman_bytes:,} bytes (--dahuffman-megabytes)")
    estimate = estimate_seconds(len(data) / common.MB, dahuffman_bytes / common.MB, args.skip, args.runs)
    common.progress(f"estimated time: about {estimate:.0f} s on the machine of benchmarks/README.md "
                    "(dahuffman and lzma take most of it: --dahuffman-megabytes 2, --skip lzma shorten it)")
    try:
        results = benchmark(Data.of(data, dahuffman_bytes), args.runs, args.skip)
    except common.VerificationError as error:
        return common.verification_failed(error)
    results = {
        "benchmark": "libraries-bytes",
        "machine": common.machine_info(common.library_versions()),
        "config": {
            **common.canterbury_config(data, block_bytes, args.megabytes),
            "tokens": "bytes (np.frombuffer(data, np.uint8))",
            "dahuffman_input_bytes": dahuffman_bytes,
            "same_data": dahuffman_bytes == len(data),
            "skip": list(args.skip),
            **common.timing_config(args.runs),
            "verified": True,
        },
        **results,
    }
    return common.publish(build_report(results), results, args.json)


if __name__ == "__main__":
    sys.exit(main())
