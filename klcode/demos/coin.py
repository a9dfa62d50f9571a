"""Demo ``coin``: the likelihood-ratio lesson, then why a code must see more than one flip to see KL.

Flip the true coin p N times.  The probability of the observations under the
true coin and under a second coin q are both astronomically small; their
ratio shrinks exponentially with N, and its N-th root tends to 2^(−KL(p‖q)):

    (1/N) log2 (P(obs | q) / P(obs | p)) = Σ (c(x)/N) log2 (q(x)/p(x))  →  −KL(p‖q).

The coding angle is the same identity read in bits: a code built from q
spends about −log2 P(obs | q) bits on the observations, so its excess over
the code of p is the log-likelihood ratio.  A Huffman code on single flips
cannot show it (every complete prefix code on two symbols spends one bit per
flip, whatever q is), block codes of k flips show it as k grows, and ANS
shows it directly.

>>> result = run(DemoOptions(n=1000))
>>> round(result.data["kl_bits_per_token"], 4), result.data["single_flip_huffman"]["measured_excess_bits_per_token"]
(0.737, 0.0)
"""

from __future__ import annotations

import math

import numpy as np

from ..analysis.likelihood import likelihood_ratio_path
from ..analysis.measure import encode_stream
from ..coders import CoderSpec, HuffmanCode, build_coder
from ..errors import DataError
from ..info.measures import entropy, kl_divergence
from ..models.distribution import Distribution
from ..render.plots import Panel
from ..text.stream import TokenStream
from . import register
from .base import (
    NATS_PER_BIT,
    Demo,
    DemoOptions,
    DemoResult,
    DemoTable,
    bits,
    largest_block,
    symbol_table,
    table_lines,
)

DEFAULT_P = 0.5
DEFAULT_Q = 0.9
DEFAULT_FLIPS = 100_000
#: Block sizes of the coding part: k = 1..MAX_BLOCK (2^12 = 4,096 block codewords at most).
MAX_BLOCK = 12
#: Checkpoints of the likelihood path per decade of N.
POINTS_PER_DECADE = 6
SIDES = ("T", "H")

PARAMETERS = (
    f"--p TRUE_BIAS (P(heads) of the true coin, a number in [0, 1] or bernoulli:X; default {DEFAULT_P}) "
    f"--q MODEL_BIAS (P(heads) of coin 2, same forms; default {DEFAULT_Q}) "
    f"--n FLIPS (default {DEFAULT_FLIPS:,}) --seed SEED (default 0)"
)


def parse_bias(text: str | None, default: float, flag: str) -> float:
    """A coin's P(heads) from ``0.9`` or ``bernoulli:0.9``; ``default`` when ``text`` is None.

    >>> parse_bias("bernoulli:0.25", 0.5, "--q"), parse_bias(None, 0.5, "--q")
    (0.25, 0.5)
    >>> parse_bias("heads", 0.5, "--q")
    Traceback (most recent call last):
    ...
    klcode.errors.DataError: --q must be a coin bias in [0, 1] or bernoulli:X (got 'heads')
    """
    if text is None:
        return default
    value = text.strip()
    if value.startswith("bernoulli:"):
        value = value[len("bernoulli:"):]
    try:
        bias = float(value)
    except ValueError:
        bias = math.nan
    if not (0.0 <= bias <= 1.0):  # also refuses nan
        raise DataError(f"{flag} must be a coin bias in [0, 1] or bernoulli:X (got {text!r})")
    return bias


def _checkpoints(n: int) -> list[int]:
    """N from 1 to n, log-spaced (POINTS_PER_DECADE per decade), distinct, ending at n."""
    points = max(2, int(math.ceil(math.log10(n) * POINTS_PER_DECADE)) + 1) if n > 1 else 1
    values = np.unique(np.round(np.logspace(0, math.log10(n), points)).astype(np.int64)) if n > 1 else np.array([1])
    return sorted(set(values.tolist()) | {n})


def _power_of_ten(log2_value: float) -> str:
    """2^x written also as 10^(x·log10 2), for probabilities far below the float range."""
    if math.isinf(log2_value):
        return "0"
    return f"2^{log2_value:,.1f} = 10^{log2_value * math.log10(2):,.1f}"


def _factor(q: Distribution, p: Distribution, i: int) -> str:
    """q(x)/p(x) for side i, as text (— when p(x) = 0: that side never comes up)."""
    if p.probabilities[i] == 0:
        return "—"
    return f"×{q.probabilities[i] / p.probabilities[i]:.4g}"


def run(options: DemoOptions) -> DemoResult:
    """Flip the true coin N times: likelihood ratio, its N-th root against 2^(−KL), and the codes' excess bits."""
    p_bias = parse_bias(options.p, DEFAULT_P, "--p")
    q_bias = parse_bias(options.q, DEFAULT_Q, "--q")
    n = options.n or DEFAULT_FLIPS
    p, q = Distribution.bernoulli(p_bias, SIDES), Distribution.bernoulli(q_bias, SIDES)
    for i, side in enumerate(("tails", "heads")):
        if p.probabilities[i] > 0 and q.probabilities[i] == 0:
            raise DataError(
                f"--q {q_bias:g} gives probability 0 to {side}, which the true coin (--p {p_bias:g}) produces: "
                f"KL(p‖q) = ∞ and no code of q has a codeword for it (see: klcode demo infinite)"
            )
    kl_bits = kl_divergence(p, q)
    limit = 2.0**-kl_bits
    flips = p.sample(n, np.random.default_rng(options.seed))
    heads = int(np.count_nonzero(flips == 1))
    checkpoints = _checkpoints(n)
    path = likelihood_ratio_path(flips, p, q, checkpoints)
    final = path[-1]
    heads_at = np.cumsum(flips)[np.array(checkpoints) - 1]

    # ---- the coding angle: codes of p and of q, one flip, k flips, and ANS, on the same flips
    stream = TokenStream.from_array(flips, 2)
    support = max(p.support_size, q.support_size)
    blocks = []
    for k in range(1, largest_block(support, limit=2**MAX_BLOCK, cap=MAX_BLOCK) + 1):
        spec = CoderSpec("huffman", block=k)
        p_coder, q_coder = build_coder(spec, p.probabilities), build_coder(spec, q.probabilities)
        (p_bits, q_bits), _ = encode_stream([p_coder, q_coder], stream, verify=True)
        p_expected = p_coder.expected_bits_per_token(p.probabilities)
        q_expected = q_coder.expected_bits_per_token(p.probabilities)
        blocks.append({
            "block_size_flips": k,
            "p_expected_bits_per_token": p_expected,
            "q_expected_bits_per_token": q_expected,
            "expected_excess_bits_per_token": q_expected - p_expected,
            "p_total_bits": p_bits,
            "q_total_bits": q_bits,
            "p_measured_bits_per_token": p_bits / n,
            "q_measured_bits_per_token": q_bits / n,
            "measured_excess_bits_per_token": (q_bits - p_bits) / n,
        })
    ans_p, ans_q = build_coder(CoderSpec("ans"), p.probabilities), build_coder(CoderSpec("ans"), q.probabilities)
    (ans_p_bits, ans_q_bits), _ = encode_stream([ans_p, ans_q], stream, verify=True)
    ans = {
        "p_total_bits": ans_p_bits,
        "q_total_bits": ans_q_bits,
        "p_measured_bits_per_token": ans_p_bits / n,
        "q_measured_bits_per_token": ans_q_bits / n,
        "measured_excess_bits_per_token": (ans_q_bits - ans_p_bits) / n,
    }
    single = blocks[0]
    p_code, q_code = HuffmanCode.from_distribution(p, "huffman(p)"), HuffmanCode.from_distribution(q, "huffman(q)")
    per_symbol = symbol_table(p, q, p_code, q_code, title="one flip: p, q, ideal lengths, Huffman lengths, KL terms")
    last = blocks[-1]

    # ---- tables
    decades = [i for i, r in enumerate(path) if math.log10(r.flips).is_integer() or r.flips == n]
    likelihood_table = DemoTable(
        "the likelihood ratio as N grows (log2 of probabilities, in bits)",
        ("N", "heads", "log2 P(obs|p)", "log2 P(obs|q)", "log2 ratio", "ratio^(1/N)", "2^−KL", "−log2(ratio)/N"),
        tuple((f"{path[i].flips:,}", f"{int(heads_at[i]):,}", f"{path[i].log2_likelihood_true:,.1f}",
               f"{path[i].log2_likelihood_model:,.1f}", f"{path[i].log2_ratio:,.1f}",
               f"{path[i].normalized_ratio:.4f}", f"{limit:.4f}", bits(path[i].empirical_kl_bits_per_token))
              for i in decades),
    )
    block_rows = tuple(
        (str(b["block_size_flips"]), bits(b["p_expected_bits_per_token"]), bits(b["q_expected_bits_per_token"]),
         bits(b["expected_excess_bits_per_token"]), bits(b["p_measured_bits_per_token"]),
         bits(b["q_measured_bits_per_token"]), bits(b["measured_excess_bits_per_token"]),
         f"{b['measured_excess_bits_per_token'] - kl_bits:+.4f}")
        for b in blocks
    ) + (("ANS", "", "", "", bits(ans["p_measured_bits_per_token"]), bits(ans["q_measured_bits_per_token"]),
          bits(ans["measured_excess_bits_per_token"]), f"{ans['measured_excess_bits_per_token'] - kl_bits:+.4f}"),)
    coding_table = DemoTable(
        f"coding the {n:,} flips in blocks of k (Huffman of p^k and of q^k), and with ANS; bits per flip",
        ("k", "L_p expected", "L_q expected", "excess expected", "L_p measured", "L_q measured",
         "excess measured", "measured − KL"),
        block_rows,
    )

    # ---- summary
    kl_nats = kl_bits * NATS_PER_BIT
    summary = (
        (f"true coin p: P(heads) = {p_bias:g}; coin 2 (the model q): P(heads) = {q_bias:g}; "
        f"N = {n:,} flips (seed {options.seed}), {heads:,} heads"),
        f"KL(p‖q) = {kl_bits:.4f} bits = {kl_nats:.4f} nats per flip; 2^−KL = {limit:.4f}",
        (f"log2 P(obs|p) = {final.log2_likelihood_true:,.1f}, log2 P(obs|q) = {final.log2_likelihood_model:,.1f}: "
        f"the ratio P(obs|q)/P(obs|p) = 2^{final.log2_ratio:,.1f}"),
        (f"per-flip ratio (P(obs|q)/P(obs|p))^(1/N) = {final.normalized_ratio:.4f} against 2^−KL = {limit:.4f} "
        f"(difference {final.normalized_ratio - limit:+.4f}); −log2(ratio)/N = "
        f"{final.empirical_kl_bits_per_token:.4f} bits against KL = {kl_bits:.4f}"),
        (f"Huffman on single flips: {single['p_measured_bits_per_token']:.4f} bits/flip with p's code, "
        f"{single['q_measured_bits_per_token']:.4f} with q's: measured excess "
        f"{single['measured_excess_bits_per_token']:.4f} bits/flip (blind to KL)"),
        (f"blocks of k = {last['block_size_flips']} flips: measured excess {last['measured_excess_bits_per_token']:.4f} "
        f"bits/flip; ANS: measured excess {ans['measured_excess_bits_per_token']:.4f} bits/flip "
        f"(KL = {kl_bits:.4f})"),
    )

    # ---- explanation
    t_count = n - heads
    log_p_t, log_p_h = (math.log2(x) if x > 0 else -math.inf for x in p.probabilities)
    log_q_t, log_q_h = (math.log2(x) if x > 0 else -math.inf for x in q.probabilities)

    def term(count: int, log_value: float) -> str:
        return "0" if count == 0 else f"{count:,}·({log_value:.4f})"

    explanation = (
        (f"1. Flip the true coin (P(heads) = {p_bias:g}) N = {n:,} times with seed {options.seed}: "
        f"{heads:,} heads and {t_count:,} tails."),
        (f"2. Probability of exactly these flips under the true coin: log2 P(obs|p) = heads·log2 p(H) + tails·log2 p(T) "
        f"= {term(heads, log_p_h)} + {term(t_count, log_p_t)} = {final.log2_likelihood_true:,.1f}, "
        f"i.e. P(obs|p) = {_power_of_ten(final.log2_likelihood_true)}: far below the smallest float, so we work in logs."),
        (f"3. Under coin 2: log2 P(obs|q) = {term(heads, log_q_h)} + {term(t_count, log_q_t)} "
        f"= {final.log2_likelihood_model:,.1f}, i.e. P(obs|q) = {_power_of_ten(final.log2_likelihood_model)}."),
        (f"4. Their ratio: log2 (P(obs|q)/P(obs|p)) = {final.log2_ratio:,.1f}. Each flip multiplies the ratio by "
        f"q(x)/p(x) ({_factor(q, p, 1)} for heads, {_factor(q, p, 0)} for tails), so its log grows in proportion "
        f"to N and the ratio itself runs off to 0: it is not a per-flip quantity yet."),
        (f"5. Take the N-th root, the ratio per flip: (P(obs|q)/P(obs|p))^(1/N) = 2^({final.log2_ratio:,.1f}/{n:,}) "
        f"= {final.normalized_ratio:.4f}. Its log: −log2(ratio)/N = {final.empirical_kl_bits_per_token:.4f} bits "
        f"= {final.empirical_kl_bits_per_token * NATS_PER_BIT:.4f} nats per flip."),
        f"6. Why the 1/N power: (1/N)·log2 ratio = Σ (c(x)/N)·log2(q(x)/p(x)), an average over flips; by the law "
        f"of large numbers c(x)/N → p(x), so it tends to Σ p(x)·log2(q(x)/p(x)) = −KL(p‖q), and the per-flip ratio "
        f"to 2^−KL = {limit:.4f}. Convergence, N = "
        + ", ".join(f"{path[i].flips:,}: {path[i].normalized_ratio:.4f}" for i in decades) + ".",
        ("7. KL(p‖q) symbol by symbol (p·log2(p/q) terms sum to KL; l_p, l_q are the Huffman codeword lengths "
        "for one flip):"),
        *table_lines(per_symbol),
        f"   KL(p‖q) = {kl_bits:.4f} bits = {kl_nats:.4f} nats per flip; H(p) = {entropy(p):.4f} bits.",
        (f"8. The coding angle: a code built from q spends about −log2 q(x) bits on flip x, so on all N flips about "
        f"−log2 P(obs|q) = {-final.log2_likelihood_model:,.0f} bits, against −log2 P(obs|p) = "
        f"{-final.log2_likelihood_true:,.0f} for the code of p: the excess is the log-likelihood ratio, "
        f"{-final.log2_ratio:,.0f} bits, i.e. {final.empirical_kl_bits_per_token:.4f} bits per flip."),
        (f"9. Huffman on single flips: p's code spent {single['p_total_bits']:,} bits, q's code "
        f"{single['q_total_bits']:,} bits (measured, decoded back): excess "
        f"{single['measured_excess_bits_per_token']:.4f} bits/flip although KL = {kl_bits:.4f}. Why blind: the "
        f"only complete prefix code on two symbols is {{0, 1}}, one bit each, so q can only choose which side "
        f"gets '0' and never what it costs; the dyadic model such a code implies is (½, ½) for any two coins."),
        "10. Blocks of k flips: the Huffman code of q^k has 2^k codewords whose lengths follow −log2 q^k of each "
        "block, and the whole-bit rounding is paid once per block, about 1/k bit per flip. Measured excess per flip: "
        + ", ".join(f"k={b['block_size_flips']}: {b['measured_excess_bits_per_token']:.4f}" for b in blocks)
        + f" (KL = {kl_bits:.4f}); it moves towards KL as k grows, not monotonically (rounding differs with k).",
        (f"11. ANS codes without whole-bit rounding: q's coder spent {ans['q_total_bits']:,} bits, p's "
        f"{ans['p_total_bits']:,}: excess {ans['measured_excess_bits_per_token']:.4f} bits/flip, which is "
        f"−log2(ratio)/N = {final.empirical_kl_bits_per_token:.4f} of step 5 up to the coder's 32–64 bits of "
        f"state per stream: the per-flip likelihood ratio measured by a compressor is 2^−excess = "
        f"{2.0 ** -ans['measured_excess_bits_per_token']:.4f}."),
        (f"12. What is left between the measured {final.empirical_kl_bits_per_token:.4f} and KL = {kl_bits:.4f} is "
        f"sampling noise of the {n:,} flips (the heads fraction is {heads / n:.4f}, not {p_bias:g}); it shrinks "
        f"like 1/√N."),
    )

    data = {
        "p_heads_probability": p_bias,
        "q_heads_probability": q_bias,
        "flips": n,
        "seed": options.seed,
        "heads": heads,
        "entropy_bits_per_token": entropy(p),
        "kl_bits_per_token": kl_bits,
        "kl_nats_per_token": kl_nats,
        "limit_ratio_per_flip": limit,
        "log2_likelihood_p_bits": final.log2_likelihood_true,
        "log2_likelihood_q_bits": final.log2_likelihood_model,
        "log2_ratio_bits": final.log2_ratio,
        "normalized_ratio_per_flip": final.normalized_ratio,
        "empirical_kl_bits_per_token": final.empirical_kl_bits_per_token,
        "empirical_kl_nats_per_token": final.empirical_kl_bits_per_token * NATS_PER_BIT,
        "likelihood_path": [
            {"flips": r.flips, "heads": int(h), "log2_ratio_bits": r.log2_ratio,
             "normalized_ratio_per_flip": r.normalized_ratio, "empirical_kl_bits_per_token": r.empirical_kl_bits_per_token}
            for r, h in zip(path, heads_at)
        ],
        "single_flip_huffman": single,
        "blocks": blocks,
        "ans": ans,
        "roundtrip": "verified",
    }
    panels = (
        Panel("per-flip likelihood ratio against N", "N flips", "(P(obs|q)/P(obs|p))^(1/N)",
              tuple(float(r.flips) for r in path), {"measured on the flips": tuple(r.normalized_ratio for r in path)},
              {"2^−KL(p‖q)": limit}, log_x=True),
        Panel("excess bits per flip of q's code over p's code", "block size k (flips per codeword)", "bits per flip",
              tuple(float(b["block_size_flips"]) for b in blocks),
              {"block Huffman, measured": tuple(b["measured_excess_bits_per_token"] for b in blocks),
               "block Huffman, expected": tuple(b["expected_excess_bits_per_token"] for b in blocks)},
              {"KL(p‖q)": kl_bits, "ANS, measured": ans["measured_excess_bits_per_token"]}),
    )
    return DemoResult("coin", "the likelihood ratio per flip tends to 2^−KL; codes see KL only beyond single flips",
                      summary, (likelihood_table, per_symbol, coding_table), explanation, data, panels)


register(Demo(
    "coin",
    "flip a coin N times: the per-flip likelihood ratio tends to 2^−KL; Huffman on single flips is blind, blocks and ANS are not",
    PARAMETERS,
    run,
))
