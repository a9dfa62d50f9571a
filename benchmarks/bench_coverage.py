"""Coverage of klcode's bootstrap intervals on simulated data with known H, KL and JS; and what they cost.

For each case (p, q, N) the script draws N tokens from p and N from q, many
times (seeded), builds the 95 % bootstrap interval of H(p), KL(p‖q) and
JS(p, q) with each estimator and interval method, and counts how often the
interval covers the true value.  A well-calibrated 95 % interval covers in
about 95 % of the runs (binomial noise: ±2·√(.95·.05/R), ±2 points at R = 400).

A last case has documents: each of D documents draws its own distribution
θ_d ~ Dirichlet(c·p) and then L tokens from it (topic-like overdispersion; the
token distribution of the whole corpus is p on average).  Resampling tokens
treats the D·L tokens as independent and undercovers; resampling documents
covers.  That is why ``--resample auto`` uses documents when a corpus has them.

The timing part times ``compare`` on two Genesis translations (chars): the
plain comparison, then with ``--estimator``, ``--keyness`` and a bootstrap of
1,000 replicates, to show that nothing runs unless asked for.

Run from the repository root::

    python benchmarks/bench_coverage.py              # full study (a few minutes)
    python benchmarks/bench_coverage.py --runs-per-case 100 --replicates 200   # quick
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

if __package__:  # python -m benchmarks.bench_coverage: make this folder's common importable as under python FILE
    sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402

from klcode.info.intervals import (  # noqa: E402
    DocumentSide,
    FixedSide,
    TokenSide,
    bootstrap_intervals,
)
from klcode.info.measures import entropy_kernel, js_divergence, kl_kernel  # noqa: E402

CASES = [
    ("3 types, KL 0.13", np.array([0.5, 0.3, 0.2]), np.array([0.3, 0.4, 0.3]), 200),
    ("4 types vs uniform", np.array([0.4, 0.3, 0.2, 0.1]), np.full(4, 0.25), 400),
    ("4 types, a rare one", np.array([0.6, 0.25, 0.1, 0.05]), np.array([0.4, 0.3, 0.2, 0.1]), 800),
    ("10 types, Zipf vs flatter", None, None, 1000),
    ("10 types, Zipf vs flatter, small N", None, None, 300),
]
ESTIMATORS = ("plugin", "miller-madow")
METHODS = ("bca", "percentile")
QUANTITIES = ("entropy", "kl", "js")


def zipf_pair(types: int) -> tuple[np.ndarray, np.ndarray]:
    p = 1.0 / np.arange(1, types + 1)
    p /= p.sum()
    q = np.sqrt(p)
    return p, q / q.sum()


def coverage_case(p: np.ndarray, q: np.ndarray, n: int, runs: int, replicates: int, seed: int) -> dict[str, Any]:
    truth = {"entropy": entropy_kernel(p), "kl": kl_kernel(p, q), "js": js_divergence(p, q)}
    rng = np.random.default_rng(seed)
    samples = [(rng.multinomial(n, p), rng.multinomial(n, q)) for _ in range(runs)]
    out: dict[str, Any] = {"truth_bits": truth, "results": []}
    for estimator in ESTIMATORS:
        for method in METHODS:
            hits = dict.fromkeys(QUANTITIES, 0)
            widths = {name: [] for name in QUANTITIES}
            unreliable = 0
            start = time.perf_counter()
            for run, (a, b) in enumerate(samples):
                result = bootstrap_intervals(TokenSide(a), TokenSide(b), quantities=QUANTITIES, estimator=estimator,
                                             replicates=replicates, seed=run, method=method)
                for interval in result.intervals:
                    name = interval.quantity
                    if math.isfinite(interval.low_bits_per_token) and math.isfinite(interval.high_bits_per_token):
                        hits[name] += interval.low_bits_per_token <= truth[name] <= interval.high_bits_per_token
                        widths[name].append(interval.high_bits_per_token - interval.low_bits_per_token)
                    unreliable += not interval.reliable
            out["results"].append({
                "estimator": estimator, "method": method,
                "coverage": {name: hits[name] / runs for name in QUANTITIES},
                "mean_width_bits": {name: float(np.mean(widths[name])) if widths[name] else math.nan
                                    for name in QUANTITIES},
                "unreliable_intervals": unreliable, "seconds": time.perf_counter() - start,
            })
            common.progress(f"  {estimator:12s} {method:10s} coverage "
                            + ", ".join(f"{name} {hits[name] / runs:.3f}" for name in QUANTITIES))
    return out


def document_case(runs: int, replicates: int, seed: int, documents: int = 40, length: int = 50,
                  concentration: float = 20.0) -> dict[str, Any]:
    p, q = zipf_pair(10)
    truth = kl_kernel(p, q)
    rng = np.random.default_rng(seed)
    out: dict[str, Any] = {"truth_kl_bits": truth, "documents": documents, "tokens_per_document": length,
                           "dirichlet_concentration": concentration, "results": []}
    corpora = []
    for _ in range(runs):
        thetas = rng.dirichlet(concentration * p, size=documents)
        corpora.append(np.vstack([rng.multinomial(length, theta) for theta in thetas]))
    for unit in ("tokens", "documents"):
        hits, widths = 0, []
        for run, docs in enumerate(corpora):
            side = DocumentSide(docs) if unit == "documents" else TokenSide(docs.sum(axis=0))
            interval = bootstrap_intervals(side, FixedSide(q), quantities=("kl",), estimator="miller-madow",
                                           replicates=replicates, seed=run, method="percentile").intervals[0]
            hits += interval.low_bits_per_token <= truth <= interval.high_bits_per_token
            widths.append(interval.high_bits_per_token - interval.low_bits_per_token)
        out["results"].append({"resampled": unit, "coverage": hits / runs, "mean_width_bits": float(np.mean(widths))})
        common.progress(f"  documents case, resampling {unit}: coverage {hits / runs:.3f}")
    return out


def timing(runs: int) -> list[dict[str, Any]]:
    """Median seconds of compare's analysis on two Genesis texts (chars), plain and with each new option."""
    from klcode.analysis.compare import compare
    from klcode.analysis.uncertainty import comparison_statistics
    from klcode.info.intervals import BootstrapSettings
    from klcode.text.inputs import load_corpus
    from klcode.text.tokenize import TokenizerSpec

    spec = TokenizerSpec("chars", encoding="latin-1")
    folder = common.REPO_ROOT / "corpora" / "genesis"
    a = load_corpus([str(folder / "french.txt")], spec)
    b = load_corpus([str(folder / "english-kjv.txt")], spec)
    variants = {
        "compare (no new option)": lambda: compare(a, b),
        "+ --estimator miller-madow": lambda: comparison_statistics(a, b, estimator="miller-madow"),
        "+ --keyness": lambda: comparison_statistics(a, b, keyness_sort="g2"),
        "+ --bootstrap 1000 (bca)": lambda: comparison_statistics(a, b, bootstrap=BootstrapSettings(replicates=1000)),
    }
    rows = []
    for name, work in variants.items():
        seconds = []
        for _ in range(runs if "bootstrap" not in name else max(1, runs // 5)):
            start = time.perf_counter()
            work()
            seconds.append(time.perf_counter() - start)
        rows.append({"variant": name, "median_s": float(np.median(seconds)), "runs": len(seconds)})
        common.progress(f"  {name}: {np.median(seconds):.3f} s")
    return rows


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = common.make_parser(
        "bench_coverage",
        "Coverage of the 95% bootstrap intervals of H, KL and JS on simulated data with known values (several p, q, "
        "N; plug-in and Miller-Madow; BCa and percentile), a documents case (tokens vs documents resampling), and "
        "the cost of compare's new options.",
    )
    parser.add_argument("--runs-per-case", type=int, default=400, help="simulated data sets per case (default 400)")
    parser.add_argument("--replicates", type=int, default=300, help="bootstrap replicates per interval (default 300)")
    parser.add_argument("--seed", type=int, default=2026, help="seed of the simulations (default 2026)")
    common.add_runs(parser, "timed runs of each compare variant")
    common.add_json(parser, "coverage")
    args = parser.parse_args(argv)
    common.validate_args(parser, args, ("runs_per_case", "replicates"))
    return args


def build_report(results: dict[str, Any]) -> str:
    config = results["config"]
    lines = [f"Coverage of 95% bootstrap intervals ({config['runs_per_case']} data sets per case, "
             f"{config['replicates']} replicates each; target 0.95, noise about ±"
             f"{2 * math.sqrt(0.95 * 0.05 / config['runs_per_case']):.3f})", ""]
    header = ("case", "N", "KL bits", "estimator", "method", "cover H", "cover KL", "cover JS", "width KL")
    rows = []
    for case in results["cases"]:
        for r in case["results"]:
            rows.append((case["name"], f"{case['tokens']:,}", f"{case['truth_bits']['kl']:.4f}", r["estimator"],
                         r["method"], f"{r['coverage']['entropy']:.3f}", f"{r['coverage']['kl']:.3f}",
                         f"{r['coverage']['js']:.3f}", f"{r['mean_width_bits']['kl']:.4f}"))
    lines.append(common.markdown_table(header, rows, {0, 3, 4}))
    doc = results["documents_case"]
    lines += ["", f"Documents: {doc['documents']} documents of {doc['tokens_per_document']} tokens, θ_d ~ "
              f"Dirichlet({doc['dirichlet_concentration']:g}·p), KL(p‖q) = {doc['truth_kl_bits']:.4f} bits, "
              "Miller-Madow, percentile (the default interval for a corrected estimator)", ""]
    lines.append(common.markdown_table(("resampled", "coverage", "mean width"), [
        (r["resampled"], f"{r['coverage']:.3f}", f"{r['mean_width_bits']:.4f}") for r in doc["results"]], {0}))
    lines += ["", "compare on Genesis french vs english-kjv (chars), median seconds", ""]
    lines.append(common.markdown_table(("variant", "median s", "runs"), [
        (t["variant"], f"{t['median_s']:.3f}", str(t["runs"])) for t in results["timing"]], {0}))
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    cases = []
    for k, (name, p, q, n) in enumerate(CASES):
        if p is None:
            p, q = zipf_pair(10)
        common.progress(f"case {name}: N = {n}")
        result = coverage_case(p, q, n, args.runs_per_case, args.replicates, args.seed + k)
        cases.append({"name": name, "tokens": n, "p": p.tolist(), "q": q.tolist(), **result})
    common.progress("documents case")
    documents = document_case(args.runs_per_case, args.replicates, args.seed + 100)
    common.progress("timing compare")
    results = {
        "benchmark": "bootstrap-coverage",
        "machine": common.machine_info({}, memory=False),
        "config": {"runs_per_case": args.runs_per_case, "replicates": args.replicates, "seed": args.seed,
                   "level": 0.95, **common.timing_config(args.runs)},
        "cases": cases,
        "documents_case": documents,
        "timing": timing(args.runs),
    }
    return common.publish(build_report(results), results, args.json)


if __name__ == "__main__":
    sys.exit(main())


def summary_tables(results: dict[str, Any]) -> list[dict[str, Any]]:
    """The tables of ``python -m benchmarks`` (the form of :func:`common.table`)."""
    config = results["config"]
    rows = [
        (case["name"], f"{case['tokens']:,}", f"{case['truth_bits']['kl']:.4f}", r["estimator"], r["method"],
         f"{r['coverage']['entropy']:.3f}", f"{r['coverage']['kl']:.3f}", f"{r['coverage']['js']:.3f}",
         f"{r['mean_width_bits']['kl']:.4f}")
        for case in results["cases"] for r in case["results"]
    ]
    noise = 2 * math.sqrt(0.95 * 0.05 / config["runs_per_case"])
    coverage = common.table(
        "coverage", "Coverage of the 95% bootstrap intervals (simulated data, known truth)",
        ("case", "N", "KL bits", "estimator", "method", "cover H", "cover KL", "cover JS", "width KL"), rows,
        left={0, 3, 4}, source=results["benchmark"],
        notes=[f"{config['runs_per_case']} data sets per case (N tokens from p and N from q), {config['replicates']} "
               f"bootstrap replicates per interval, seed {config['seed']}; target 0.95, binomial noise ±{noise:.3f}."])
    doc = results["documents_case"]
    documents = common.table(
        "coverage-documents", "Tokens are not independent: resampling tokens against documents",
        ("resampled", "coverage of KL", "mean width bits"),
        [(r["resampled"], f"{r['coverage']:.3f}", f"{r['mean_width_bits']:.4f}") for r in doc["results"]],
        left={0}, source=results["benchmark"],
        notes=[f"{doc['documents']} documents of {doc['tokens_per_document']} tokens, each from θ_d ~ "
               f"Dirichlet({doc['dirichlet_concentration']:g}·p); KL(p‖q) = {doc['truth_kl_bits']:.4f} bits; "
               "Miller-Madow, percentile (the default interval for a corrected estimator)."])
    cost = common.table(
        "coverage-cost", "What compare's new options cost (Genesis french vs english-kjv, chars)",
        ("variant", "median s", "runs"), [(t["variant"], f"{t['median_s']:.3f}", str(t["runs"])) for t in results["timing"]],
        left={0}, source=results["benchmark"],
        notes=["The analysis alone (corpora loaded once); the options run only when given."])
    return [coverage, documents, cost]
