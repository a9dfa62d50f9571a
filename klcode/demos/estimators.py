"""Demo ``estimators``: how many samples do I need?  Plug-in against bias-corrected estimates of H and KL.

Draw N tokens from a known p, for N from 10 up to ``--n``; estimate H(p) and
KL(p‖q) (q a known model) from the counts only, and compare with the truth:

* the plug-in entropy is biased low by about (K−1)/(2N ln 2) bits, the
  plug-in KL high by as much; Miller–Madow, the jackknife, Chao–Shen and NSB
  remove most of it (NSB and Chao–Shen also see the types not yet seen);
* the 95 % bootstrap interval (percentile, of the Miller–Madow estimate, over
  tokens) shrinks like 1/√N;
* the Huffman code built from the sample and measured on it (a real
  encoding, decoded back) can beat H(p) at small N: it is fitted to the very
  sample it codes, the same optimism as the plug-in H.

The second table averages the estimators over many samples per N: the bias
itself, not one draw's luck.

>>> result = run(DemoOptions(n=300, seed=1))
>>> [row["tokens"] for row in result.data["sizes"]]
[10, 30, 100, 300]
>>> result.data["sizes"][-1]["entropy_plugin_bits_per_token"] < result.data["entropy_bits_per_token"]
True
"""

from __future__ import annotations

import math

import numpy as np

from ..analysis.measure import encode_stream
from ..coders import HuffmanCode
from ..errors import DataError
from ..info.estimators import (
    entropy_chao_shen,
    entropy_jackknife,
    entropy_miller_madow,
    entropy_nsb,
    entropy_plugin,
    kl_jackknife,
    kl_miller_madow,
    kl_plugin,
)
from ..info.intervals import FixedSide, TokenSide, bootstrap_intervals
from ..info.measures import entropy, kl_divergence
from ..models.distribution import Distribution, align
from ..render.plots import Panel
from ..text.stream import TokenStream
from . import register
from .base import (
    Demo,
    DemoOptions,
    DemoResult,
    DemoTable,
    bits,
    number_steps,
    parse_spec,
)

DEFAULT_TYPES = 30
DEFAULT_N = 10_000
#: Samples per N in the averaged table.
REPETITIONS = 200
#: Bootstrap replicates of the intervals.
REPLICATES = 200
PARAMETERS = (f"--p DIST (spec or JSON file; default Zipf on {DEFAULT_TYPES} types, p(k) ∝ 1/k) "
              "--q DIST (default q ∝ √p on p's symbols, flatter than p) "
              f"--n LARGEST_N (default {DEFAULT_N:,}; N = 10, 30, 100, ... up to it) --seed SEED (default 0)")
H_ESTIMATORS = ("plugin", "miller-madow", "jackknife", "chao-shen", "nsb")
KL_ESTIMATORS = ("plugin", "miller-madow", "jackknife")


def zipf(types: int) -> Distribution:
    """p(k) ∝ 1/k on ``types`` symbols named t1, t2, ...

    >>> round(float(zipf(3).probabilities[0]), 4)
    0.5455
    """
    weights = 1.0 / np.arange(1, types + 1)
    return Distribution.from_probabilities(weights / weights.sum(), [f"t{k}" for k in range(1, types + 1)])


def flatter(p: Distribution) -> Distribution:
    """q(x) ∝ √p(x): the default model, flatter than p on the same symbols.

    >>> [round(float(x), 4) for x in flatter(Distribution.from_probabilities([0.8, 0.2])).probabilities]
    [0.6667, 0.3333]
    """
    weights = np.sqrt(p.probabilities)
    return Distribution.from_probabilities(weights / weights.sum(), p.symbols)


def sample_sizes(largest: int) -> list[int]:
    """10, 30, 100, 300, ... up to ``largest`` (which closes the list).

    >>> sample_sizes(1000), sample_sizes(50)
    ([10, 30, 100, 300, 1000], [10, 30, 50])
    """
    if largest < 10:
        raise DataError(f"--n must be at least 10 for this demo (got {largest})")
    sizes, k = [], 0
    while True:
        n = 10 ** (k // 2 + 1) * (3 if k % 2 else 1)
        if n >= largest:
            break
        sizes.append(n)
        k += 1
    return sizes + [largest]


def _h(counts: np.ndarray, name: str, k: int) -> float:
    return {"plugin": entropy_plugin, "miller-madow": entropy_miller_madow, "jackknife": entropy_jackknife,
            "chao-shen": entropy_chao_shen}[name](counts) if name != "nsb" else entropy_nsb(counts, alphabet_size=k)


def _kl(counts: np.ndarray, q: np.ndarray, name: str) -> float:
    return {"plugin": kl_plugin, "miller-madow": kl_miller_madow, "jackknife": kl_jackknife}[name](counts, q)


def _interval_text(interval) -> str:
    mark = "" if interval.reliable else " ?"
    return f"[{bits(interval.low_bits_per_token)}, {bits(interval.high_bits_per_token)}]{mark}"


def run(options: DemoOptions) -> DemoResult:
    p = parse_spec(options.p, zipf(DEFAULT_TYPES), "--p")
    q = parse_spec(options.q, flatter(p), "--q")
    p, q = align(p, q)
    k = p.size
    h_true, kl_true = entropy(p), kl_divergence(p, q)
    if math.isinf(kl_true):
        raise DataError("--q gives probability 0 to symbols of --p: KL(p‖q) = ∞ and there is nothing to estimate")
    sizes = sample_sizes(options.n or DEFAULT_N)
    rng = np.random.default_rng(options.seed)
    h_rows, kl_rows, data_rows = [], [], []
    for n in sizes:
        counts = np.bincount(p.sample(n, rng), minlength=k).astype(np.int64)
        counts_q = np.bincount(q.sample(n, rng), minlength=k).astype(np.int64)
        h = {name: _h(counts, name, k) for name in H_ESTIMATORS}
        kl = {name: _kl(counts, q.probabilities, name) for name in KL_ESTIMATORS}
        kl2 = {name: _kl(counts, counts_q, name) for name in KL_ESTIMATORS}
        ci = bootstrap_intervals(TokenSide(counts), FixedSide(q.probabilities), quantities=("entropy", "kl"),
                                 estimator="miller-madow", replicates=REPLICATES, seed=options.seed,
                                 method="percentile")
        code = HuffmanCode.from_weights(counts, name="huffman(sample)")
        (total_bits,), roundtrip = encode_stream([code], TokenStream.from_counts(counts), True)
        measured = total_bits / n
        h_ci, kl_ci = ci.get("entropy"), ci.get("kl")
        h_rows.append((f"{n:,}", str(int(np.count_nonzero(counts))), *(bits(h[name]) for name in H_ESTIMATORS),
                       _interval_text(h_ci), bits(measured)))
        kl_rows.append((f"{n:,}", *(bits(kl[name]) for name in KL_ESTIMATORS), _interval_text(kl_ci),
                        *(bits(kl2[name]) for name in KL_ESTIMATORS)))
        data_rows.append({
            "tokens": n, "types_seen": int(np.count_nonzero(counts)),
            **{f"entropy_{name.replace('-', '_')}_bits_per_token": h[name] for name in H_ESTIMATORS},
            **{f"kl_{name.replace('-', '_')}_bits_per_token": kl[name] for name in KL_ESTIMATORS},
            **{f"kl_two_samples_{name.replace('-', '_')}_bits_per_token": kl2[name] for name in KL_ESTIMATORS},
            "entropy_ci_bits_per_token": [h_ci.low_bits_per_token, h_ci.high_bits_per_token],
            "entropy_ci_reliable": h_ci.reliable,
            "kl_ci_bits_per_token": [kl_ci.low_bits_per_token, kl_ci.high_bits_per_token],
            "kl_ci_reliable": kl_ci.reliable,
            "huffman_of_sample_measured_bits_per_token": measured, "roundtrip": roundtrip,
        })
    bias_rows, bias_data = [], []
    averaged = ("plugin", "miller-madow", "jackknife", "chao-shen")
    for n in sizes:
        draws = rng.multinomial(n, p.probabilities, size=REPETITIONS)
        mean_h = {name: float(np.mean([_h(c, name, k) for c in draws])) for name in averaged}
        mean_kl = {name: float(np.mean([_kl(c, q.probabilities, name) for c in draws])) for name in KL_ESTIMATORS}
        bias_rows.append((f"{n:,}", *(f"{mean_h[name] - h_true:+.4f}" for name in averaged),
                          *(f"{mean_kl[name] - kl_true:+.4f}" for name in KL_ESTIMATORS),
                          f"{-(k - 1) / (2 * n * math.log(2)):+.4f}"))
        bias_data.append({"tokens": n, **{f"entropy_{name.replace('-', '_')}_bias_bits_per_token": mean_h[name] - h_true
                                          for name in averaged},
                          **{f"kl_{name.replace('-', '_')}_bias_bits_per_token": mean_kl[name] - kl_true
                             for name in KL_ESTIMATORS},
                          "first_order_entropy_bias_bits_per_token": -(k - 1) / (2 * n * math.log(2))})
    h_table = DemoTable(
        f"H from one sample of N tokens of p (seed {options.seed}) [bits per token]; truth H(p) = {bits(h_true)}",
        ("N", "types seen", *H_ESTIMATORS, "95% CI (miller-madow)", "Huffman of the sample, measured"),
        tuple(h_rows))
    kl_table = DemoTable(
        f"KL(p‖q) from the same sample [bits per token]; truth {bits(kl_true)}; q known, then q also sampled (N tokens)",
        ("N", *(f"{name}, q known" for name in KL_ESTIMATORS), "95% CI", *(f"{name}, q sampled" for name in KL_ESTIMATORS)),
        tuple(kl_rows))
    averaged_table = DemoTable(
        f"bias: mean estimate − truth over {REPETITIONS} samples per N [bits per token]",
        ("N", *(f"H {name}" for name in averaged), *(f"KL {name}" for name in KL_ESTIMATORS),
         "−(K−1)/(2N ln 2)"),
        tuple(bias_rows))
    last = data_rows[-1]
    summary = (
        f"p: {k} types, H(p) = {bits(h_true)} bits; q: KL(p‖q) = {bits(kl_true)} bits; N from {sizes[0]:,} to {sizes[-1]:,}",
        f"at N = {sizes[0]:,} the plug-in H is {bits(data_rows[0]['entropy_plugin_bits_per_token'])} "
        f"(truth {bits(h_true)}); at N = {sizes[-1]:,} it is {bits(last['entropy_plugin_bits_per_token'])}, "
        f"Miller–Madow {bits(last['entropy_miller_madow_bits_per_token'])}, NSB {bits(last['entropy_nsb_bits_per_token'])}",
        f"first-order bias of the plug-in: −(K−1)/(2N ln 2) = {-(k - 1) / (2 * sizes[-1] * math.log(2)):+.4f} bits at "
        f"N = {sizes[-1]:,}; rule of thumb: N ≫ K = {k} for the plug-in, a few K for the corrected estimators",
    )
    explanation = number_steps([
        f"The truth: H(p) = −Σ p log2 p = {bits(h_true)} bits and KL(p‖q) = Σ p log2(p/q) = {bits(kl_true)} bits "
        f"({k} types).",
        "Draw N tokens from p and keep only their counts n(x).  The plug-in p̂ = n/N puts probability 0 on every type "
        "not seen and over-weights the ones seen, so Ĥ = −Σ p̂ log2 p̂ is too low and KL(p̂‖q) too high.",
        "Miller–Madow adds (m−1)/(2N) nats (m = types seen); the jackknife removes the bias estimated from the N "
        "leave-one-out samples; Chao–Shen rescales p̂ by the coverage 1 − f₁/N (f₁ singletons) and divides each "
        "term by the chance 1 − (1 − C p̂)^N that the type was seen at all; NSB averages the Bayesian posterior mean "
        f"of H over Dirichlet priors (here with K = {k}).",
        f"The 95 % interval is a percentile bootstrap of the Miller–Madow estimate ({REPLICATES} multinomial "
        "resamples of the counts); its width falls like 1/√N.",
        "With q known, KL̂ = Ĥ(p,q) − Ĥ(p) and the cross-entropy term −Σ p̂ log2 q is unbiased: KL's bias is minus "
        "H's, which the bias table shows.  With q sampled too (N tokens), q̂ adds its own bias Σ p(1−q)/(2Nq) nats, "
        "and KL is ∞ whenever the sample of q misses a type the sample of p has — at small N, usually.",
        "Intervals marked ? are unreliable: the estimate lies outside the central 95 % of its own bootstrap "
        "replicates (too few tokens for the types); no interval method repairs that, "
        "only more tokens do.",
        "The Huffman code built from the sample and measured on it is a real code: its bits per token are "
        "≥ the plug-in H of the sample (Huffman's bound) but may fall below the true H(p) at small N — the code has "
        "seen the very tokens it codes.",
        ("     averaged over samples, the bias per N:",) + tuple("     " + "  ".join(row) for row in bias_rows),
    ])
    data = {
        "types": k, "entropy_bits_per_token": h_true, "kl_bits_per_token": kl_true, "sizes": data_rows,
        "bias": bias_data, "repetitions": REPETITIONS, "replicates": REPLICATES, "seed": options.seed,
    }
    x = tuple(float(n) for n in sizes)
    panels = (
        Panel("H estimated from N tokens", "N tokens", "bits per token", x,
              {name: tuple(r[f"entropy_{name.replace('-', '_')}_bits_per_token"] for r in data_rows)
               for name in H_ESTIMATORS}, {"H(p)": h_true}, log_x=True),
        Panel("KL(p‖q) estimated from N tokens", "N tokens", "bits per token", x,
              {name: tuple(r[f"kl_{name.replace('-', '_')}_bits_per_token"] for r in data_rows)
               for name in KL_ESTIMATORS}, {"KL(p‖q)": kl_true}, log_x=True),
    )
    return DemoResult("estimators", "how many samples do I need? plug-in against corrected estimates, with intervals",
                      summary, (h_table, kl_table, averaged_table), explanation, data, panels)


register(Demo(
    "estimators",
    "draw N tokens from known p and q: plug-in H (low) and KL (high) against Miller–Madow, jackknife, Chao–Shen, "
    "NSB, with bootstrap intervals — how many samples do I need?",
    PARAMETERS,
    run,
))
