"""Benchmark of ``klcode models`` on a pair of llama.cpp KL-divergence base files: throughput and peak memory.

A pair of files in llama.cpp's ``--kl-divergence-base`` format (n_vocab 32,000, n_ctx 512 by default) is
generated in a temporary directory: base rows from synthetic logits (a head of 64 likely tokens over a
normal spread), test rows from the same logits plus Gaussian noise, both quantized as llama.cpp does; the
files are deleted afterwards.  Then ``klcode models BASE TEST --json -q -o OUT`` runs as a whole process
under ``/usr/bin/time -v`` (peak RSS, wall time), with the decode check (two passes over the inputs) and
with ``--no-verify`` (one pass).  Throughput = input bytes of both files / wall seconds, start-up included.
Targets: peak RSS < 500 MB, ≥ 200 MB/s of input.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

TARGET_MAX_RSS_MB = 500
TARGET_MB_PER_S = 200


def generate_pair(directory: Path, gigabytes: float, vocab: int, n_ctx: int, seed: int = 0) -> tuple[Path, Path, int]:
    """Write base.kld and test.kld of about ``gigabytes`` in all; returns their paths and the scored positions."""
    from klcode.models import llama_format as lf

    per_chunk = n_ctx - 1 - n_ctx // 2
    row_bytes = 2 * (2 * ((vocab + 1) // 2) + 4)
    n_chunk = max(1, int(gigabytes * 1e9 / 2 / (row_bytes * per_chunk)))
    tokens = np.random.default_rng(seed).integers(0, vocab, n_chunk * n_ctx)

    def blocks(noise: float):
        logits_rng, noise_rng = np.random.default_rng(seed + 1), np.random.default_rng(seed + 2)
        for _ in range(n_chunk):
            logits = logits_rng.standard_normal((per_chunk, vocab), dtype=np.float32) * 2.5
            logits[:, :64] += 8.0
            if noise:
                logits += noise_rng.standard_normal((per_chunk, vocab), dtype=np.float32) * noise
            yield logits

    base, test = directory / "base.kld", directory / "test.kld"
    lf.write_kl_base(base, tokens, n_ctx, blocks(0.0), vocab)
    lf.write_kl_base(test, tokens, n_ctx, blocks(0.3), vocab)
    return base, test, n_chunk * per_chunk


def run_models(base: Path, test: Path, out: Path, verify: bool) -> dict[str, Any]:
    """One ``klcode models`` process under /usr/bin/time -v: wall seconds, peak RSS, its JSON."""
    klcode = [sys.executable, "-m", "klcode"]
    argv = ["/usr/bin/time", "-v", *klcode, "models", str(base), str(test), "--json", "-q", "-o", str(out)]
    if not verify:
        argv.append("--no-verify")
    start = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True, check=False, cwd=common.REPO_ROOT)
    wall = time.perf_counter() - start
    common.check(done.returncode == 0, f"klcode models failed ({done.returncode}): {done.stderr[-2000:]}")
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr).group(1))
    cpu = sum(float(re.search(rf"{kind} time \(seconds\): ([0-9.]+)", done.stderr).group(1)) for kind in ("User", "System"))
    return {"wall_s": wall, "cpu_s": cpu, "max_rss_kb": rss, "result": json.loads(out.read_text(encoding="utf-8"))}


def main(argv: list[str] | None = None) -> int:
    parser = common.make_parser("bench_models.py", __doc__.splitlines()[0])
    parser.add_argument("--gigabytes", type=float, default=2.0, help="size of the pair in all (default 2 GB)")
    parser.add_argument("--vocab", type=int, default=32000, help="n_vocab of the files (default 32,000)")
    parser.add_argument("--n-ctx", type=int, default=512, help="n_ctx of the files (default 512)")
    parser.add_argument("--runs", type=int, default=3, help="runs of each mode; medians are reported (default 3)")
    parser.add_argument("--dir", type=Path, default=None, help="where to generate the pair (default: a temp dir)")
    common.add_json(parser, "models")
    args = parser.parse_args(argv)
    if not shutil.which("/usr/bin/time"):
        common.progress("/usr/bin/time is needed (GNU time, for the peak RSS)")
        return 1
    directory = Path(tempfile.mkdtemp(prefix="klcode-bench-models-", dir=args.dir))
    try:
        common.progress(f"generating a {args.gigabytes:g} GB pair in {directory} ...")
        (base, test, positions), generate_s = common.timed(
            lambda: generate_pair(directory, args.gigabytes, args.vocab, args.n_ctx))
        input_bytes = os.path.getsize(base) + os.path.getsize(test)
        common.progress(f"  {input_bytes / common.MB:,.0f} MB, {positions:,} positions, in {generate_s:.0f} s")
        modes = []
        for verify in (True, False):
            runs = []
            for i in range(args.runs):
                run = run_models(base, test, directory / "out.json", verify)
                common.progress(f"  verify={verify} run {i + 1}: {run['wall_s']:.2f} s ({run['cpu_s']:.2f} s CPU), "
                                f"{run['max_rss_kb'] / 1024:.0f} MiB peak")
                runs.append(run)
            walls = sorted(r["wall_s"] for r in runs)
            median = walls[len(walls) // 2]
            peak_mb = max(r["max_rss_kb"] for r in runs) * 1024 / common.MB
            result = runs[0]["result"]
            common.check(result["base_coding"]["verified"] is verify, "the verify flag did not reach the result")
            modes.append({
                "verify": verify, "runs_s": [r["wall_s"] for r in runs], "median_s": median,
                "cpu_s": sorted(r["cpu_s"] for r in runs)[len(runs) // 2],
                "mb_per_s": input_bytes / common.MB / median, "max_rss_mb": peak_mb,
                "rss_verdict": "PASS" if peak_mb < TARGET_MAX_RSS_MB else "ABOVE",
                "speed_verdict": "PASS" if input_bytes / common.MB / median >= TARGET_MB_PER_S else "BELOW",
                "kl_base_test_nats": result["kl_base_test"]["mean"],
                "measured_gap_bits_per_token": result["measured_gap_bits_per_token"],
                "cross_entropy_gap_bits_per_token": result["cross_entropy_gap_bits_per_token"],
            })
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    results = {
        "benchmark": "bench_models.py",
        "machine": common.machine_info(common.library_versions()),
        "config": {"input_bytes": input_bytes, "positions": positions, "vocab": args.vocab, "n_ctx": args.n_ctx,
                   "runs": args.runs, "generate_s": generate_s, "target_max_rss_mb": TARGET_MAX_RSS_MB,
                   "target_mb_per_s": TARGET_MB_PER_S},
        "modes": modes,
    }
    rows = [("decode check" if m["verify"] else "--no-verify", f"{m['median_s']:.2f}", f"{m['cpu_s']:.2f}",
             f"{m['mb_per_s']:,.0f}",
             f"≥ {TARGET_MB_PER_S}", m["speed_verdict"], f"{m['max_rss_mb']:,.0f}", f"< {TARGET_MAX_RSS_MB}",
             m["rss_verdict"]) for m in modes]
    table = common.table(
        "models", f"klcode models on a {input_bytes / common.MB:,.0f} MB llama.cpp-format pair",
        ("mode", "median s", "CPU s", "MB/s", "target", "", "max RSS MB", "target", ""), rows, left={0, 5, 8},
        notes=[f"n_vocab {args.vocab:,}, n_ctx {args.n_ctx}, {positions:,} scored positions; whole process "
               f"(start-up included) under /usr/bin/time -v, median of {args.runs} runs (CPU s: user + system, "
               "median); the decode check reads both files a second time."],
        source="bench_models.py")
    results["tables"] = [table]
    print(common.render_table(table))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
