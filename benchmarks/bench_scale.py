"""Scale: klcode's compiled hot paths beside bitarray, constriction and a numpy copy (the ceiling), on 50 MB of bytes
and a 10^6-type Zipfian vocabulary.  Medians of ``--runs``; every decode is checked against the input.

python benchmarks/bench_scale.py [--megabytes 50] [--types 1000000] [--runs 3] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time

import numpy as np


def median_seconds(work, runs: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(runs):
        start = time.perf_counter()
        result = work()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def byte_data(megabytes: float) -> np.ndarray:
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent / "corpora" / "canterbury"
    data = b"".join(path.read_bytes() for path in sorted(root.iterdir()) if path.is_file())
    size = int(megabytes * 1e6)
    return np.frombuffer((data * (size // len(data) + 1))[:size], dtype=np.uint8)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench_scale.py", description=__doc__)
    parser.add_argument("--megabytes", type=float, default=50)
    parser.add_argument("--types", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", default=None)
    args = parser.parse_args(argv)
    from bitarray import decodetree

    from klcode.coders.huffman import HuffmanCode
    from klcode.text.counting import bincount_chunked

    ids = byte_data(args.megabytes)
    mb = ids.size / 1e6
    rows = []

    def row(library: str, stage: str, seconds: float, megabytes: float | None) -> None:
        rows.append({"library": library, "stage": stage, "median_s": seconds,
                     "mb_per_s": None if megabytes is None else megabytes / seconds})
        rate = "" if megabytes is None else f"{megabytes / seconds:10.1f} MB/s"
        print(f"{library:14s} {stage:8s} {seconds:9.4f} s {rate}", file=sys.stderr)

    bincount_chunked(ids[: 1 << 17], 256)  # compile / load the kernels' cache outside the timings
    seconds, _ = median_seconds(lambda: ids.copy(), args.runs)
    row("numpy copy", "memcpy", seconds, mb)
    seconds, counts = median_seconds(lambda: bincount_chunked(ids, 256), args.runs)
    row("klcode", "count", seconds, mb)
    seconds, _ = median_seconds(lambda: np.bincount(ids, minlength=256), args.runs)
    row("np.bincount", "count", seconds, mb)
    code = HuffmanCode.from_weights(counts)
    code.encode(ids[: 1 << 17])
    seconds, bits = median_seconds(lambda: code.encode(ids), args.runs)
    row("klcode", "encode", seconds, mb)
    seconds, decoded = median_seconds(lambda: code.decode(bits, ids.size), args.runs)
    assert np.array_equal(decoded, ids)
    row("klcode", "decode", seconds, mb)
    seconds, ok = median_seconds(lambda: code.decodes_to(bits, ids), args.runs)
    assert ok
    row("klcode", "check", seconds, mb)
    table = code._codeword_bits()
    symbols = ids.tolist()
    seconds, reference = median_seconds(lambda: _bitarray_encode(table, symbols), 1)
    assert reference == bits
    row("bitarray", "encode", seconds, mb)
    tree = decodetree(table)
    seconds, decoded = median_seconds(lambda: bytes(bits.decode(tree)), 1)
    assert decoded == ids.tobytes()
    row("bitarray", "decode", seconds, mb)
    try:  # constriction's ANS on the same bytes (its Huffman coder is per symbol from Python: not comparable)
        import constriction

        present = np.flatnonzero(counts)
        index_of_byte = np.zeros(256, dtype=np.int32)
        index_of_byte[present] = np.arange(present.size, dtype=np.int32)
        model = constriction.stream.model.Categorical(counts[present] / counts.sum(), perfect=False)
        indices = index_of_byte[ids]

        def ans_encode():
            coder = constriction.stream.stack.AnsCoder()
            coder.encode_reverse(indices, model)
            return coder.get_compressed()

        seconds, compressed = median_seconds(ans_encode, 1)
        row("constriction", "encode", seconds, mb)
        seconds, decoded = median_seconds(
            lambda: present[constriction.stream.stack.AnsCoder(compressed).decode(model, ids.size)], 1)
        assert np.array_equal(decoded, ids)
        row("constriction", "decode", seconds, mb)
    except ImportError:  # pragma: no cover
        pass

    weights = np.maximum(1, (1e9 / np.arange(1, args.types + 1) ** 1.1).astype(np.int64))
    seconds, _ = median_seconds(lambda: HuffmanCode.from_weights(weights), args.runs)
    row("klcode", f"build {args.types:,} types", seconds, None)
    try:
        import constriction

        probabilities = weights / weights.sum()
        seconds, _ = median_seconds(lambda: constriction.symbol.huffman.EncoderHuffmanTree(probabilities), 1)
        row("constriction", f"build {args.types:,} types", seconds, None)
    except ImportError:  # pragma: no cover
        pass
    if args.json:
        with open(args.json, "w") as handle:
            json.dump({"benchmark": "bench_scale.py", "megabytes": mb, "types": args.types, "runs": args.runs, "timings": rows}, handle, indent=2)
    return 0


def summary_tables(results: dict) -> list[dict]:
    """The table of ``python -m benchmarks`` (common.table form)."""
    import common

    rows = [(t["library"], t["stage"], f"{t['median_s']:.4f}", "—" if t["mb_per_s"] is None else f"{t['mb_per_s']:,.1f}")
            for t in results["timings"]]
    notes = [f"{results['megabytes']:.1f} MB of the Canterbury texts, one token per byte; a code of {results['types']:,} "
             f"Zipfian types; median of {results['runs']} runs (bitarray and constriction: 1); every decode checked."]
    return [common.table("scale", "Compiled hot paths (bench_scale.py)", ("library", "stage", "median s", "MB/s"),
                         rows, left={0, 1}, notes=notes, source=results["benchmark"])]


def _bitarray_encode(table, symbols):
    from bitarray import bitarray

    bits = bitarray(endian="big")
    bits.encode(table, symbols)
    return bits


if __name__ == "__main__":
    raise SystemExit(main())
