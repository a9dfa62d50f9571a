"""Bits per word of klcode's token PPM (words as tokens) against xz -9e and bz2 -9, and its speed in tokens/s.

The texts: the four Canterbury texts (``corpora/canterbury``) and the King James
Genesis (``corpora/genesis/english-kjv.txt``).  Tokens are klcode's ``words``
(the ``\\w+`` matches, case kept); the PPM (``ppm``, the default spec, and its
PPMD setting ``ppm:discount=8``) codes the word ids with their spellings, so a
word's first occurrence pays for its letters: the decoder rebuilds the
vocabulary from the payload alone.  Measured = 8·len(payload) of a payload that
decoded back to the ids (checked, outside the timings); ideal = Σ −log2 q.

The compressors get (a) the file's bytes, which hold more than the words (spaces,
punctuation, line breaks), and (b) the words alone joined by one space, which
holds exactly the information of the token stream; both are divided by the
number of words.  Speed: encode and decode of the word ids, median of ``--runs``
runs, wall-clock and CPU seconds (the machine may be shared), model building
included, numba compilation not (one warm-up run first).

Run from the repository root::

    python benchmarks/bench_ppm.py            # or: python -m benchmarks.bench_ppm
"""

from __future__ import annotations

import bz2
import lzma
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

if __package__:  # python -m benchmarks.bench_ppm: make this folder's common importable as under python FILE
    sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402

from klcode.models.context import ContextModelSpec  # noqa: E402
from klcode.models.ppm import ppm_decode, ppm_encode  # noqa: E402
from klcode.text.tokenize import TokenizerSpec, iter_tokens  # noqa: E402

TEXTS = tuple(common.CANTERBURY_DIR / name for name in common.CANTERBURY_FILES) + (
    common.REPO_ROOT / "corpora" / "genesis" / "english-kjv.txt",)
DEFAULT_SPEC = "ppm"
VARIANTS = ("ppm:discount=8", "ppm:order=1", "ppm:order=3")
#: The byte model of the second table (PPMD's discount codes bytes better than the words' default).
BYTE_SPEC = "ppm:order=4,discount=8"


def word_ids(path: Path) -> tuple[np.ndarray, list[bytes], list[str]]:
    """The words of a text as ids (in order of first occurrence), their UTF-8 spellings, and the words."""
    words = [word for chunk in iter_tokens([path], TokenizerSpec("words")) for word in chunk]
    index: dict[str, int] = {}
    ids = np.fromiter((index.setdefault(word, len(index)) for word in words), dtype=np.int64, count=len(words))
    return ids, [word.encode("utf-8") for word in index], words


def timed_cpu(work) -> tuple[Any, float, float]:
    """Result, wall seconds and CPU seconds of ``work()``."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = work()
    return result, time.perf_counter() - wall, time.process_time() - cpu


def measure_text(path: Path, runs: int) -> dict[str, Any]:
    ids, spellings, words = word_ids(path)
    data = path.read_bytes()
    joined = " ".join(words).encode("utf-8")
    spec = ContextModelSpec.parse(DEFAULT_SPEC)
    size = len(spellings)

    def encode():
        return ppm_encode(spec, ids, alphabet_size=size, spellings=spellings)

    coding = encode()  # warm-up (numba cache load or compilation)
    common.check(np.array_equal(ppm_decode(spec, coding.payload, len(ids), alphabet_size=size, spellings=spellings),
                                ids), f"ppm payload of {path.name} did not decode back")
    encodes, decodes = [], []
    for _ in range(runs):
        _, wall, cpu = timed_cpu(encode)
        encodes.append((wall, cpu))
        _, wall, cpu = timed_cpu(lambda: ppm_decode(spec, coding.payload, len(ids), alphabet_size=size,
                                                    spellings=spellings))
        decodes.append((wall, cpu))
    variants = {}
    for text in VARIANTS:
        other = ppm_encode(ContextModelSpec.parse(text), ids, alphabet_size=size, spellings=spellings)
        variants[text] = {"measured_bits_per_word": 8 * len(other.payload) / len(ids),
                          "ideal_bits_per_word": other.ideal_bits / len(ids)}
    n = len(ids)
    counts = np.bincount(ids)
    order0 = float(-(counts * np.log2(counts / n)).sum()) / n

    def speed(times: list[tuple[float, float]]) -> dict[str, float]:
        wall, cpu = statistics.median(t[0] for t in times), statistics.median(t[1] for t in times)
        return {"median_wall_s": wall, "median_cpu_s": cpu, "tokens_per_s_wall": n / wall, "tokens_per_s_cpu": n / cpu}

    return {
        "file": path.name,
        "bytes": len(data),
        "words": n,
        "types": size,
        "spelling_bytes": sum(len(s) for s in spellings),
        "order0_word_entropy_bits": order0,
        "ppm_measured_bits_per_word": 8 * len(coding.payload) / n,
        "ppm_ideal_bits_per_word": coding.ideal_bits / n,
        "ppm_overhead_fraction": (8 * len(coding.payload) - coding.ideal_bits) / coding.ideal_bits,
        "variants": variants,
        "xz_file_bits_per_word": 8 * len(lzma.compress(data, preset=9 | lzma.PRESET_EXTREME)) / n,
        "bz2_file_bits_per_word": 8 * len(bz2.compress(data, 9)) / n,
        "xz_words_bits_per_word": 8 * len(lzma.compress(joined, preset=9 | lzma.PRESET_EXTREME)) / n,
        "bz2_words_bits_per_word": 8 * len(bz2.compress(joined, 9)) / n,
        "encode": speed(encodes),
        "decode": speed(decodes),
    }


def measure_bytes(path: Path, runs: int) -> dict[str, Any]:
    """The file's bytes under the byte PPM: measured bits per byte and encode/decode MB/s (CPU)."""
    data = path.read_bytes()
    ids = np.frombuffer(data, dtype=np.uint8)
    spec = ContextModelSpec.parse(BYTE_SPEC)
    coding = ppm_encode(spec, ids, alphabet_size=256)
    common.check(np.array_equal(ppm_decode(spec, coding.payload, len(ids), alphabet_size=256), ids),
                 f"byte ppm payload of {path.name} did not decode back")
    encodes = [timed_cpu(lambda: ppm_encode(spec, ids, alphabet_size=256))[2] for _ in range(runs)]
    decodes = [timed_cpu(lambda: ppm_decode(spec, coding.payload, len(ids), alphabet_size=256))[2]
               for _ in range(runs)]
    return {
        "file": path.name, "bytes": len(data), "measured_bits_per_byte": 8 * len(coding.payload) / len(data),
        "ideal_bits_per_byte": coding.ideal_bits / len(data),
        "bz2_bits_per_byte": 8 * len(bz2.compress(data, 9)) / len(data),
        "xz_bits_per_byte": 8 * len(lzma.compress(data, preset=9 | lzma.PRESET_EXTREME)) / len(data),
        "encode_mb_per_s_cpu": len(data) / common.MB / statistics.median(encodes),
        "decode_mb_per_s_cpu": len(data) / common.MB / statistics.median(decodes),
    }


def summary_tables(results: dict[str, Any]) -> list[dict[str, Any]]:
    """The results as tables (see :func:`common.table`): bits per word per text and model, then the speeds."""
    rows, speeds = [], []
    for r in results["texts"]:
        v = r["variants"]
        rows.append((
            r["file"], f"{r['words']:,}", f"{r['types']:,}", f"{r['ppm_measured_bits_per_word']:.3f}",
            f"{r['ppm_ideal_bits_per_word']:.3f}", *(f"{v[name]['measured_bits_per_word']:.3f}" for name in VARIANTS),
            f"{r['xz_words_bits_per_word']:.3f}", f"{r['bz2_words_bits_per_word']:.3f}",
            f"{r['xz_file_bits_per_word']:.3f}", f"{r['bz2_file_bits_per_word']:.3f}",
            f"{r['order0_word_entropy_bits']:.3f}",
        ))
        e, d = r["encode"], r["decode"]
        speeds.append((r["file"], f"{r['words']:,}", f"{e['tokens_per_s_wall'] / 1e3:,.0f}",
                       f"{e['tokens_per_s_cpu'] / 1e3:,.0f}", f"{d['tokens_per_s_wall'] / 1e3:,.0f}",
                       f"{d['tokens_per_s_cpu'] / 1e3:,.0f}"))
    overhead = max(r["ppm_overhead_fraction"] for r in results["texts"])
    return [
        common.table(
            "ppm-words", f"Bits per word: klcode {results['config']['spec']} on word tokens against xz and bz2",
            ("text", "words", "types", "ppm", "ideal", *VARIANTS, "xz words", "bz2 words", "xz file", "bz2 file",
             "H0 words"), rows, source=results["benchmark"],
            notes=[
                "ppm: measured 8·len(payload)/words of a range-coded payload decoded back and checked; the first "
                "occurrence of each word is spelled (its bytes under an adaptive byte PPM), so the vocabulary is "
                f"paid for inside the payload. Ideal: Σ −log2 q / words; overhead at most {100 * overhead:.4f} %. "
                "xz = lzma preset 9 | PRESET_EXTREME, bz2 level 9, on the words joined by one space (the same "
                "information as the ids) and on the whole file (which also holds punctuation and line breaks), "
                "divided by the words. H0 words: the empirical order-0 entropy of the ids (vocabulary not paid).",
            ]),
        common.table(
            "ppm-speed", "Speed of the token PPM on words (thousands of tokens per second)",
            ("text", "words", "encode kt/s wall", "encode kt/s CPU", "decode kt/s wall", "decode kt/s CPU"), speeds,
            source=results["benchmark"],
            notes=[f"Median of {results['config']['runs']} runs after a warm-up; model allocation included; wall "
                   "and process CPU time (the machine may be shared)."]),
        common.table(
            "ppm-bytes", f"The same PPM on bytes: {results['config']['byte_spec']}",
            ("text", "bytes", "bits/byte", "ideal", "bz2 -9", "xz -9e", "encode MB/s CPU", "decode MB/s CPU"),
            [(b["file"], f"{b['bytes']:,}", f"{b['measured_bits_per_byte']:.4f}", f"{b['ideal_bits_per_byte']:.4f}",
              f"{b['bz2_bits_per_byte']:.4f}", f"{b['xz_bits_per_byte']:.4f}", f"{b['encode_mb_per_s_cpu']:.2f}",
              f"{b['decode_mb_per_s_cpu']:.2f}") for b in results["bytes"]],
            source=results["benchmark"],
            notes=["Closed alphabet of 256 bytes (a new byte costs log2 of the bytes not seen yet); measured = "
                   "8·len(payload), decoded back and checked; CPU time, median of the runs."]),
    ]


def main(argv: Sequence[str] | None = None) -> int:
    parser = common.make_parser("bench_ppm.py", __doc__.splitlines()[0])
    common.add_runs(parser, "timed encode/decode runs per text")
    common.add_json(parser, "ppm")
    args = parser.parse_args(argv)
    common.validate_args(parser, args, positive=())
    texts, byte_rows = [], []
    try:
        for path in TEXTS:
            common.progress(f"ppm: {path.name}")
            texts.append(measure_text(path, args.runs))
        for path in TEXTS[:4]:
            common.progress(f"ppm bytes: {path.name}")
            byte_rows.append(measure_bytes(path, args.runs))
    except common.VerificationError as error:
        return common.verification_failed(error)
    results = {
        "benchmark": "ppm-words",
        "machine": common.machine_info(common.library_versions(), memory=False),
        "config": {"spec": ContextModelSpec.parse(DEFAULT_SPEC).describe(), "variants": list(VARIANTS),
                   "byte_spec": ContextModelSpec.parse(BYTE_SPEC).describe(),
                   "tokens": "klcode words (\\w+), case kept", **common.timing_config(args.runs), "verified": True},
        "texts": texts,
        "bytes": byte_rows,
    }
    return common.publish("\n\n".join(common.render_table(t) for t in summary_tables(results)), results, args.json)


if __name__ == "__main__":
    sys.exit(main())
