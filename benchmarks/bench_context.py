"""klcode's context-mixing model (``cm``) against the compressors: bits per byte, speed, memory, coder overhead.

For each Canterbury text (alice29, asyoulik, lcet10, plrabn12) the default
``cm`` model, started empty, codes the text in one adaptive pass into a
range-coded payload that is decoded back and checked; its measured bits per
byte (8·len(payload) / bytes) stand beside the ideal Σ −log2 q(x_i | context)
and the same bytes compressed by bz2 -9, xz -9e (``lzma`` preset
9 | PRESET_EXTREME), zstd -19, zlib -9 and PPMd (``pyppmd``, variant H, 256
MiB, every order 2..16: the best is reported with its order).

Speed: encode and decode of the four texts concatenated (1.19 MB), median
of ``--runs`` runs, wall clock and CPU time of this process (the machine
may be shared).  The first call (numba compiling, or loading its cache) is
timed apart.  Memory: the peak resident set of a whole process coding 1x and
4x the data (``/usr/bin/time -v``): fixed by the model's tables, whatever
the input size.

Run from the repository root::

    python benchmarks/bench_context.py            # or: python -m benchmarks.bench_context
    python benchmarks/bench_context.py --quick    # alice29 only, no memory part

The table goes to stdout, progress to stderr, the figures to
``benchmarks/results/context.json``.
"""

from __future__ import annotations

import bz2
import lzma
import re
import subprocess
import sys
import time
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

if __package__:  # python -m benchmarks.bench_context: make this folder's common importable as under python FILE
    sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402 - importing common puts the checkout on sys.path when klcode is not installed

from klcode.coders.adaptive import code_adaptive, decode_adaptive  # noqa: E402
from klcode.models.context import ContextModelSpec  # noqa: E402
from klcode.models.context_mixing import table_memory_bytes  # noqa: E402

PPMD_ORDERS = range(2, 17)
PPMD_MEMORY = 256 << 20
GNU_TIME = Path("/usr/bin/time")
COMPRESSORS = ("bz2 -9", "xz -9e", "zstd -19", "zlib -9")
TARGET_MB_PER_S = 1.0
TARGET_OVERHEAD = 0.001


def compressed_sizes(data: bytes) -> dict[str, int]:
    """Bytes of the data compressed by each compressor (each decompressed and checked)."""
    import zstandard

    sizes = {}
    for name, compress, decompress in (
        ("bz2 -9", lambda d: bz2.compress(d, 9), bz2.decompress),
        ("xz -9e", lambda d: lzma.compress(d, preset=9 | lzma.PRESET_EXTREME), lzma.decompress),
        ("zstd -19", lambda d: zstandard.ZstdCompressor(level=19).compress(d),
         lambda c: zstandard.ZstdDecompressor().decompress(c)),
        ("zlib -9", lambda d: zlib.compress(d, 9), zlib.decompress),
    ):
        packed = compress(data)
        common.check(decompress(packed) == data, f"{name} did not decompress back")
        sizes[name] = len(packed)
    return sizes


def ppmd_best(data: bytes) -> tuple[int, int, dict[int, int]]:
    """PPMd (pyppmd, variant H) at every order of PPMD_ORDERS: (best size, its order, size of every order)."""
    import pyppmd

    sizes = {}
    for order in PPMD_ORDERS:
        packed = pyppmd.compress(data, max_order=order, mem_size=PPMD_MEMORY)
        sizes[order] = len(packed)
    order = min(sizes, key=lambda o: (sizes[o], o))
    packed = pyppmd.compress(data, max_order=order, mem_size=PPMD_MEMORY)
    common.check(pyppmd.decompress(packed, max_order=order, mem_size=PPMD_MEMORY) == data,
                 f"PPMd order {order} did not decompress back")
    return sizes[order], order, sizes


def compression(spec: ContextModelSpec, files: Sequence[str]) -> list[dict[str, Any]]:
    """Bits per byte of every contender on each text; the cm payload decoded back and checked."""
    rows = []
    for name in files:
        data = (common.CANTERBURY_DIR / name).read_bytes()
        ids = np.frombuffer(data, dtype=np.uint8)
        coding = code_adaptive(spec, ids, alphabet_size=256)  # verify=True: decoded back and compared
        common.check(coding.verified, f"cm on {name} not verified")
        common.check(coding.overhead_bits < TARGET_OVERHEAD * coding.ideal_bits,
                     f"cm overhead on {name} is {coding.overhead_bits:.1f} bits")
        sizes = compressed_sizes(data)
        ppmd_size, ppmd_order, ppmd_sizes = ppmd_best(data)
        row = {
            "file": name,
            "bytes": len(data),
            "cm_measured_bits_per_byte": coding.measured_bits_per_token,
            "cm_ideal_bits_per_byte": coding.ideal_bits_per_token,
            "cm_payload_bytes": len(coding.payload),
            "cm_overhead_bits": coding.overhead_bits,
            "cm_overhead_fraction": coding.overhead_bits / coding.ideal_bits,
            "ppmd_best_order": ppmd_order,
            "ppmd_bits_per_byte": 8 * ppmd_size / len(data),
            "ppmd_bits_per_byte_by_order": {str(o): 8 * s / len(data) for o, s in ppmd_sizes.items()},
            **{f"{c}_bits_per_byte": 8 * s / len(data) for c, s in sizes.items()},
        }
        row["cm_beats_all"] = all(row["cm_measured_bits_per_byte"] < row[f"{c}_bits_per_byte"]
                                  for c in ("ppmd", *COMPRESSORS))
        common.progress(f"{name}: cm {row['cm_measured_bits_per_byte']:.4f} bits/byte, PPMd o{ppmd_order} "
                        f"{row['ppmd_bits_per_byte']:.4f}, bz2 {row['bz2 -9_bits_per_byte']:.4f}")
        rows.append(row)
    return rows


def speed(spec: ContextModelSpec, data: bytes, runs: int) -> dict[str, Any]:
    """Encode and decode of ``data``: seconds of every run, wall clock and process CPU time."""
    ids = np.frombuffer(data, dtype=np.uint8)
    start = time.perf_counter()
    code_adaptive(spec, ids[:1000], alphabet_size=256)
    first_call_s = time.perf_counter() - start
    stages: dict[str, dict[str, list[float]]] = {"encode": {"wall": [], "cpu": []}, "decode": {"wall": [], "cpu": []}}
    for run in range(runs):
        wall, cpu = time.perf_counter(), time.process_time()
        coding = code_adaptive(spec, ids, alphabet_size=256, verify=False)
        stages["encode"]["wall"].append(time.perf_counter() - wall)
        stages["encode"]["cpu"].append(time.process_time() - cpu)
        wall, cpu = time.perf_counter(), time.process_time()
        decoded = decode_adaptive(spec, coding.payload, coding.tokens, alphabet_size=256)
        stages["decode"]["wall"].append(time.perf_counter() - wall)
        stages["decode"]["cpu"].append(time.process_time() - cpu)
        common.check(np.array_equal(decoded, ids), "cm decode differs from the input")
        common.progress(f"run {run + 1}/{runs}: encode {stages['encode']['wall'][-1]:.2f} s, "
                        f"decode {stages['decode']['wall'][-1]:.2f} s")
    result: dict[str, Any] = {"input_bytes": len(data), "first_call_s": first_call_s, "stages": {}}
    for stage, times in stages.items():
        wall, cpu = float(np.median(times["wall"])), float(np.median(times["cpu"]))
        result["stages"][stage] = {
            "runs_wall_s": times["wall"], "runs_cpu_s": times["cpu"], "median_wall_s": wall, "median_cpu_s": cpu,
            "mb_per_s_wall": len(data) / common.MB / wall, "mb_per_s_cpu": len(data) / common.MB / cpu,
            # one core: the CPU time of this process (on a shared machine the wall clock also counts the waits)
            "verdict": "PASS" if len(data) / common.MB / cpu >= TARGET_MB_PER_S else "BELOW",
        }
    return result


MEMORY_SCRIPT = """
import sys, numpy as np
from klcode.coders.adaptive import code_adaptive
from klcode.models.context import ContextModelSpec
data = np.fromfile(sys.argv[1], dtype=np.uint8)
data = np.tile(data, int(sys.argv[2]))
coding = code_adaptive(ContextModelSpec.parse(sys.argv[3]), data, alphabet_size=256)
assert coding.verified
"""


def memory(spec: ContextModelSpec, repeats: Sequence[int]) -> list[dict[str, Any]]:
    """Peak RSS of a process that codes (and decodes back) the 4 texts repeated ``r`` times, for each r."""
    if not GNU_TIME.exists():
        return []
    path = common.RESULTS_DIR / "context-memory-input.bin"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(common.concatenate(common.CANTERBURY_DIR / name for name in common.CANTERBURY_FILES))
    rows = []
    try:
        for r in repeats:
            done = subprocess.run([str(GNU_TIME), "-v", sys.executable, "-c", MEMORY_SCRIPT, str(path), str(r),
                                   spec_text(spec)], capture_output=True, text=True, cwd=common.REPO_ROOT, check=False)
            common.check(done.returncode == 0, f"memory run x{r} failed: {done.stderr[-500:]}")
            peak_kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr).group(1))
            rows.append({"repeats": r, "input_bytes": path.stat().st_size * r, "max_rss_kb": peak_kb,
                         "max_rss_mb": peak_kb * 1024 / common.MB})
            common.progress(f"memory x{r}: peak RSS {peak_kb / 1024:.0f} MiB")
    finally:
        path.unlink(missing_ok=True)
    return rows


def spec_text(spec: ContextModelSpec) -> str:
    return f"{spec.kind}:order={spec.order},memory={spec.memory_mib}"


# ----------------------------------------------------------------------------- tables
def summary_tables(results: dict[str, Any]) -> list[dict[str, Any]]:
    """The results as tables (see :func:`common.table`): compression per text, speed, memory."""
    config = results["config"]
    columns = ("text", "bytes", "klcode cm", "ideal", "PPMd best", "bz2 -9", "xz -9e", "zstd -19", "zlib -9", "")
    rows = []
    for row in results["compression"]:
        rows.append((
            row["file"], f"{row['bytes']:,}", f"{row['cm_measured_bits_per_byte']:.4f}",
            f"{row['cm_ideal_bits_per_byte']:.4f}",
            f"{row['ppmd_bits_per_byte']:.4f} (o{row['ppmd_best_order']})",
            *(f"{row[f'{c}_bits_per_byte']:.4f}" for c in COMPRESSORS),
            "cm best" if row["cm_beats_all"] else "cm NOT best",
        ))
    overhead = max(row["cm_overhead_fraction"] for row in results["compression"])
    tables = [common.table(
        "context-compression", f"Bits per byte: klcode {config['model_description']} against the compressors",
        columns, rows, left={0, 9}, source=results["benchmark"],
        notes=[f"klcode cm: the model started empty, one adaptive pass, measured = 8·len(payload) of a range-coded "
               f"payload decoded back and checked; ideal = Σ −log2 q(x_i | context) of the probabilities handed to "
               f"the coder; overhead (measured − ideal) at most {100 * overhead:.4f} % of the ideal. PPMd: pyppmd "
               f"variant H, {PPMD_MEMORY >> 20} MiB, the best of orders {PPMD_ORDERS.start}..{PPMD_ORDERS.stop - 1}. "
               "xz -9e = lzma preset 9 | PRESET_EXTREME."],
    )]
    if "speed" in results:
        s = results["speed"]
        rows = [(stage, f"{v['median_wall_s']:.3f}", f"{v['mb_per_s_wall']:.2f}", f"{v['median_cpu_s']:.3f}",
                 f"{v['mb_per_s_cpu']:.2f}", f"≥ {TARGET_MB_PER_S:g}", v["verdict"])
                for stage, v in s["stages"].items()]
        tables.append(common.table(
            "context-speed", "Speed of the cm model (one core)",
            ("stage", "median wall s", "MB/s wall", "median CPU s", "MB/s CPU", "target (CPU) MB/s", ""), rows,
            left={0, 6}, source=results["benchmark"],
            notes=[f"Data: {' + '.join(config['files'])}, {s['input_bytes']:,} bytes; median of "
                   f"{config['runs']} runs; every decode verified. First call (compile or load numba's cache) "
                   f"{s['first_call_s']:.2f} s, not in the runs. CPU = time.process_time of this process (the "
                   f"machine is shared: wall time includes waiting for the CPU)."],
        ))
    if results.get("memory"):
        rows = [(f"x{m['repeats']}", f"{m['input_bytes'] / common.MB:.2f}", f"{m['max_rss_mb']:.1f}")
                for m in results["memory"]]
        tables.append(common.table(
            "context-memory", "Peak memory of a process coding and decoding with the cm model",
            ("data", "input MB", "max RSS MB"), rows, source=results["benchmark"],
            notes=[f"Measured by {GNU_TIME} -v: Python, numpy, numba and klcode, the input, the payload and the "
                   f"model's tables ({config['table_bytes'] / common.MB:.1f} MB, allocated once: the same whatever "
                   "the input size), for the encoder and then the decoder's."],
        ))
    return tables


def build_report(results: dict[str, Any]) -> str:
    return "\n\n".join(common.render_table(t) for t in summary_tables(results))


def parse_args(argv: Sequence[str] | None):
    parser = common.make_parser("bench_context.py", __doc__.split("\n\n")[0])
    parser.add_argument("--model", default="cm", help="the context model spec (default cm: the default model)")
    parser.add_argument("--quick", action="store_true", help="alice29 only, speed on alice29, no memory part")
    common.add_runs(parser, "timed encode+decode runs")
    common.add_json(parser, "context")
    args = parser.parse_args(argv)
    common.validate_args(parser, args, positive=())
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    spec = ContextModelSpec.parse(args.model)
    files = common.CANTERBURY_FILES[:1] if args.quick else common.CANTERBURY_FILES
    try:
        rows = compression(spec, files)
        data = common.concatenate(common.CANTERBURY_DIR / name for name in files)
        timing = speed(spec, data, args.runs)
        peaks = [] if args.quick else memory(spec, (1, 4))
    except common.VerificationError as error:
        return common.verification_failed(error)
    import pyppmd
    import zstandard

    results = {
        "benchmark": "context-mixing",
        "machine": common.machine_info({**common.library_versions(), "pyppmd": pyppmd.__version__,
                                        "zstandard": zstandard.__version__}),
        "config": {
            "model": spec.as_dict(),
            "model_description": spec.describe(),
            "table_bytes": table_memory_bytes(spec.order, spec.memory_mib),
            "files": list(files),
            "quick": args.quick,
            **common.timing_config(args.runs),
            "verified": True,
        },
        "compression": rows,
        "speed": timing,
        "memory": peaks,
    }
    return common.publish(build_report(results), results, args.json)


if __name__ == "__main__":
    sys.exit(main())
