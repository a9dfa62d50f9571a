"""Cross-entropy is entropy plus KL, in bits; minimizing it (the usual loss) is minimizing KL and finds the MLE.

n samples are drawn from p (seeded); p̂ is their empirical distribution.  The
model family is Binomial(N, θ) on p's alphabet 0..N, θ on a grid of step
0.01.  For each θ the samples are *encoded* with the ANS code of q_θ (and
decoded back, checked): the code length is −log2 of the samples' likelihood
under q_θ, up to ANS's 24-bit model and its 32 to 64 bits a stream, so the
measured bits per token are the cross-entropy H(p̂, q_θ) = H(p̂) + KL(p̂‖q_θ).
H(p̂) does not depend on θ: the θ that makes the code shortest minimizes
KL(p̂‖q_θ) and maximizes the likelihood, i.e. it is the maximum-likelihood
estimate θ̂ = mean/N.

ANS output is counted in whole 32-bit words, so near the minimum, where the
code lengths of neighbouring θ differ by a few bits, several θ tie; the
measured best θ* is the middle of the tied run (which the output lists).
"""

from __future__ import annotations

from collections.abc import Hashable

import numpy as np

from ..analysis.measure import encode_stream
from ..coders import HuffmanCode
from ..coders.registry import CoderSpec, build_coder
from ..errors import CodeError, DataError
from ..info.measures import cross_entropy_kernel, entropy_kernel, kl_kernel
from ..models.distribution import Distribution, parse_distribution
from ..render.plots import Panel
from ..text.stream import TokenStream
from . import register
from .base import (
    Demo,
    check_demo_alphabet,
    DemoOptions,
    DemoResult,
    DemoTable,
    bits,
    table_lines,
    top_symbol_table,
)

NAME = "cross-entropy"
DEFAULT_P = "binomial:6,0.3"
DEFAULT_MODEL_THETA = 0.5
DEFAULT_SAMPLES = 5_000
#: The θ grid of the fit: 0.01, 0.02, ..., 0.99.
THETA_STEP = 0.01
THETAS = np.round(np.arange(1, 100) * THETA_STEP, 10)
#: Half-width of the zoomed panel around θ*.
ZOOM = 0.1


def _integer_symbol(symbol: Hashable) -> int | None:
    if isinstance(symbol, (int, np.integer)) and not isinstance(symbol, bool):
        return int(symbol)
    if isinstance(symbol, str) and symbol.strip().isdigit():
        return int(symbol)
    return None


def on_counts(distribution: Distribution, flag: str) -> Distribution:
    """The distribution on the alphabet 0..N (N its largest symbol); its symbols must be counts 0, 1, 2, ...

    >>> on_counts(Distribution.from_probabilities({"2": 0.5, "0": 0.5}), "--p").symbols
    (0, 1, 2)
    >>> on_counts(Distribution.from_probabilities({"a": 1.0}), "--p")
    Traceback (most recent call last):
    ...
    klcode.errors.DataError: --p must be a distribution on the counts 0..N (binomial:N,P, bernoulli:P, uniform:N, or a JSON file with keys 0..N) (got symbol 'a')
    """
    values = [_integer_symbol(s) for s in distribution.symbols]
    for symbol, value in zip(distribution.symbols, values):
        if value is None:
            raise DataError(
                f"{flag} must be a distribution on the counts 0..N (binomial:N,P, bernoulli:P, uniform:N, "
                f"or a JSON file with keys 0..N) (got symbol {symbol!r})"
            )
    if len(set(values)) != len(values):
        raise DataError(f"{flag}: symbols name the same count twice (got {distribution.symbols!r:.80})")
    renamed = Distribution(tuple(values), distribution.probabilities, distribution.counts)
    return renamed.reorder(tuple(range(max(values) + 1)))


def _model(text: str | None, size: int) -> tuple[str, Distribution]:
    if text is None:
        spec = f"binomial:{size - 1},{DEFAULT_MODEL_THETA:g}"
        return spec, Distribution.binomial(size - 1, DEFAULT_MODEL_THETA)
    model = on_counts(check_demo_alphabet(parse_distribution(text), "--q"), "--q")
    if model.size > size:
        raise DataError(f"--q must be a model on p's alphabet 0..{size - 1} (got symbols up to {model.size - 1})")
    return text, model.reorder(tuple(range(size)))


def _coded_bits(coder, stream: TokenStream, what: str) -> int:
    try:
        totals, _ = encode_stream([coder], stream, verify=True)
    except CodeError as error:
        raise DataError(f"{what} gives probability 0 to a count the samples hold, so its code cannot code them ({error})") from None
    return totals[0]


def run(options: DemoOptions) -> DemoResult:
    """Code the samples with Binomial(N, θ) for every θ on the grid; the shortest code is the MLE."""
    p_spec = options.p or DEFAULT_P
    p = on_counts(check_demo_alphabet(parse_distribution(p_spec), "--p"), "--p")
    size = p.size
    if size < 2:
        raise DataError(f"--p needs at least two counts 0..N with N >= 1 for Binomial(N, θ) (got {p_spec!r}, N = 0)")
    N = size - 1
    model_spec, model = _model(options.q, size)
    n = options.n or DEFAULT_SAMPLES
    samples = p.sample(n, np.random.default_rng(options.seed))  # ids = counts 0..N
    counts = np.bincount(samples, minlength=size)
    p_hat = Distribution.from_counts(counts)
    empirical = p_hat.probabilities
    entropy_hat = entropy_kernel(empirical)
    mle = float(samples.mean() / N)
    stream = TokenStream.from_array(samples, size, "samples")
    ans = CoderSpec("ans")

    # the scan: measured code length of the samples under each q_θ, beside H(p̂, q_θ)
    measured_bits = np.array([_coded_bits(build_coder(ans, Distribution.binomial(N, float(t)).probabilities), stream,
                                          f"Binomial({N}, {t:g})") for t in THETAS])
    formula = np.array([cross_entropy_kernel(empirical, Distribution.binomial(N, float(t)).probabilities) for t in THETAS])
    tied = np.flatnonzero(measured_bits == measured_bits.min())
    best_theta = float(np.round(THETAS[tied].mean(), 10))
    best_bits = int(measured_bits.min())
    mle_model = Distribution.binomial(N, mle)
    mle_bits = _coded_bits(build_coder(ans, mle_model.probabilities), stream, f"Binomial({N}, {mle:g})")

    # the identity H(p̂,q) = H(p̂) + KL(p̂‖q), measured, at θ* and at the --q model
    p_hat_bits = _coded_bits(build_coder(ans, empirical), stream, "p̂")
    best_model = Distribution.binomial(N, best_theta)
    identities = []
    for label, q in ((f"Binomial({N}, {best_theta:.3g}) (θ*)", best_model), (f"{model_spec} (--q)", model)):
        q_bits = _coded_bits(build_coder(ans, q.probabilities), stream, label)
        huffman = HuffmanCode.from_distribution(q)
        huffman_bits = _coded_bits(huffman, stream, label)
        dyadic = np.ldexp(1.0, -huffman.lengths_bits) * huffman.has_codeword()
        identities.append({
            "label": label, "q": q, "huffman": huffman,
            "ans_bits_per_token": q_bits / n, "ans_total_bits": q_bits,
            "cross_entropy_bits_per_token": cross_entropy_kernel(empirical, q.probabilities),
            "kl_bits_per_token": kl_kernel(empirical, q.probabilities),
            "huffman_bits_per_token": huffman_bits / n, "huffman_total_bits": huffman_bits,
            "kl_dyadic_bits_per_token": kl_kernel(empirical, dyadic),
        })
    l_p_hat = p_hat_bits / n
    at_best, at_model = identities

    def theta_row(theta: float, total: int, h: float) -> tuple[str, ...]:
        return (f"{theta:.2f}", f"{total:,}", bits(total / n), bits(h), bits(entropy_hat), bits(h - entropy_hat),
                bits(total / n - entropy_hat))

    near = [i for i in range(THETAS.size) if abs(THETAS[i] - best_theta) <= 0.025]
    shown = sorted({i for i in range(THETAS.size) if round(THETAS[i] * 100) % 10 == 0} | set(near))
    scan_rows = [theta_row(float(THETAS[i]), int(measured_bits[i]), float(formula[i])) for i in shown]
    mle_formula = cross_entropy_kernel(empirical, mle_model.probabilities)
    scan_rows.append(theta_row(mle, mle_bits, mle_formula))
    scan_rows[-1] = (f"θ̂ = {mle:.4f} (MLE)",) + scan_rows[-1][1:]
    scan_table = DemoTable(
        f"code length of the {n:,} samples under Binomial({N}, θ), ANS (measured) and H(p̂,q_θ) (formula)",
        ("θ", "bits (ANS)", "bits/token", "H(p̂,q_θ)", "H(p̂)", "KL(p̂‖q_θ)", "measured − H(p̂)"),
        tuple(scan_rows),
    )
    identity_table = DemoTable(
        "H(p̂,q) = H(p̂) + KL(p̂‖q): formula, and measured with ANS (L_q = L_p̂ + (L_q − L_p̂)) [bits per token]",
        ("model q", "H(p̂,q)", "H(p̂)", "KL(p̂‖q)", "L_q", "L_p̂", "L_q − L_p̂"),
        tuple((r["label"], bits(r["cross_entropy_bits_per_token"]), bits(entropy_hat), bits(r["kl_bits_per_token"]),
               bits(r["ans_bits_per_token"]), bits(l_p_hat), bits(r["ans_bits_per_token"] - l_p_hat))
              for r in identities),
    )

    tie_text = (f"θ* = {best_theta:.2f}" if tied.size == 1
                else f"θ ∈ {{{', '.join(f'{t:.2f}' for t in THETAS[tied])}}} (a tie: ANS counts whole 32-bit words), "
                     f"middle θ* = {best_theta:.3g}")
    overhead_bits = best_bits - n * at_best_formula(empirical, best_theta, N)
    floored = [float(t) for t, b, h in zip(THETAS, measured_bits, formula) if b / n < h]
    summary = [
        (f"p = {p_spec} (H(p) = {entropy_kernel(p.probabilities):.4f} bits); {n:,} samples (seed {options.seed}), "
         f"H(p̂) = {entropy_hat:.4f} bits/token"),
        (f"fit by code length: the ANS code of Binomial({N}, θ) is shortest, {best_bits:,} bits = "
         f"{best_bits / n:.4f} bits/token, at {tie_text}; maximum likelihood θ̂ = mean/{N} = {mle:.4f} "
         f"(|θ* − θ̂| = {abs(best_theta - mle):.4f}, grid step {THETA_STEP:g})"),
        (f"at θ*: measured L_q = {at_best['ans_bits_per_token']:.4f} bits/token ≈ H(p̂,q) = H(p̂) + KL(p̂‖q) = "
         f"{entropy_hat:.4f} + {at_best['kl_bits_per_token']:.4f} = {at_best['cross_entropy_bits_per_token']:.4f} "
         f"(the difference, {overhead_bits:.0f} bits in all, is ANS's stream overhead)"),
        (f"q = {model_spec}: measured L_q = L_p̂ + (L_q − L_p̂) = {l_p_hat:.4f} + "
         f"{at_model['ans_bits_per_token'] - l_p_hat:.4f} = {at_model['ans_bits_per_token']:.4f} bits/token; formula "
         f"H(p̂,q) = H(p̂) + KL(p̂‖q) = {entropy_hat:.4f} + {at_model['kl_bits_per_token']:.4f} = "
         f"{at_model['cross_entropy_bits_per_token']:.4f}"),
    ]

    count_text = ", ".join(f"{k}: {c}" for k, c in enumerate(counts.tolist()))
    sample_values = ", ".join(str(v) for v in samples[:12].tolist())
    explanation = [
        (f"1. The data: {n:,} samples of p = {p_spec} (seed {options.seed}): {sample_values}, ... Counts of 0..{N}: "
         f"{count_text}. p̂ = counts/{n:,}; H(p̂) = {entropy_hat:.4f} bits/token."),
        ("2. Code length is log-loss: an ideal code for a model q spends −log2 q(x) bits on x, so the whole sample "
         "costs Σ −log2 q(x_i) = −log2 Π q(x_i) = −log2 (likelihood of q) bits, and per token "
         "Σ_x p̂(x)·(−log2 q(x)) = H(p̂,q) = H(p̂) + KL(p̂‖q). ANS comes within its 24-bit model and 32 to 64 bits "
         f"a stream ({32 / n:.4f} to {64 / n:.4f} bits/token here)."),
        (f"3. The scan: for θ = {THETAS[0]:.2f}, {THETAS[1]:.2f}, ..., {THETAS[-1]:.2f}, encode the samples with the "
         f"ANS code of Binomial({N}, θ) and count the bits (each stream decoded back and checked). Near the minimum:"),
        *(f"   θ = {THETAS[i]:.2f}: {int(measured_bits[i]):,} bits = {measured_bits[i] / n:.4f} bits/token; "
          f"H(p̂,q_θ) = {formula[i]:.4f} = {entropy_hat:.4f} + {formula[i] - entropy_hat:.4f}" for i in near),
        f"4. The shortest code: {best_bits:,} bits at {tie_text}. At the MLE itself, θ̂ = {mle:.4f}: {mle_bits:,} bits"
        f" (n·H(p̂,q_θ̂) = {n * mle_formula:,.1f}: ANS adds {mle_bits - n * mle_formula:.1f} bits of stream overhead)."
        + ("" if not floored else
           f" Where θ is extreme ({_theta_span(floored)}) the measured bits fall below H(p̂,q_θ): those models give "
           f"some counts < 2^−24, and ANS's 24-bit model floors every probability at 2^−24."),
        (f"5. Why that is the MLE: H(p̂) = {entropy_hat:.4f} is the same for every θ, so the θ with the least "
         f"H(p̂,q_θ) has the least KL(p̂‖q_θ) and the largest likelihood. For Binomial({N}, θ), "
         f"Σ log q_θ(x_i) = (Σx_i)·log θ + (nN − Σx_i)·log(1 − θ) + const is largest at θ̂ = Σx_i/(nN) = "
         f"{int(samples.sum()):,}/{n * N:,} = {mle:.4f}. Measured θ* = {best_theta:.3g}: |θ* − θ̂| = "
         f"{abs(best_theta - mle):.4f} ≤ one grid step ({THETA_STEP:g})."),
        (f"6. What is left at the best fit: KL(p̂‖q_θ̂) = {kl_kernel(empirical, mle_model.probabilities):.5f} bits/token "
         f"(p̂'s frequencies are not exactly binomial), and KL(p‖q_θ̂) = "
         f"{kl_kernel(p.probabilities, mle_model.probabilities):.5f} to the true p."),
    ]
    for k, r in enumerate(identities):
        explanation += [
            (f"{7 + k}. The identity for q = {r['label']}: formula H(p̂,q) = H(p̂) + KL(p̂‖q) = {entropy_hat:.4f} + "
             f"{r['kl_bits_per_token']:.4f} = {r['cross_entropy_bits_per_token']:.4f}; measured with ANS, L_q = "
             f"{r['ans_total_bits']:,}/{n:,} = {r['ans_bits_per_token']:.4f} = L_p̂ + (L_q − L_p̂) = {l_p_hat:.4f} + "
             f"{r['ans_bits_per_token'] - l_p_hat:.4f} (L_p̂ = {p_hat_bits:,}/{n:,}, the ANS code of p̂ itself). "
             f"With Huffman codes it is exact: L_q = {r['huffman_total_bits']:,}/{n:,} = "
             f"{r['huffman_bits_per_token']:.4f} = H(p̂) + KL(p̂‖q̂) = {entropy_hat:.4f} + "
             f"{r['kl_dyadic_bits_per_token']:.4f}, q̂ = 2^−l_q. Symbol by symbol (Huffman lengths):"),
            *table_lines(top_symbol_table(p_hat, r["q"], HuffmanCode.from_distribution(p_hat), r["huffman"],
                                          title=r["label"])),
        ]
    explanation.append(
        "Why: the cross-entropy loss −(1/n)·Σ log2 q_θ(x_i) that models are trained on is exactly the number of bits "
        "per token a code built from q_θ spends on the data. It splits as H(p̂) + KL(p̂‖q_θ): the first part is "
        "fixed by the data, so all that training can lower is the KL, the bits wasted by the model's mistakes; its "
        "minimum is the maximum-likelihood model."
    )

    panels = _panels(measured_bits, formula, n, entropy_hat, best_theta, mle, mle_bits, mle_formula, N)
    data = {
        "p": p_spec, "model_q": model_spec, "family": f"Binomial({N}, θ)", "samples": n, "seed": options.seed,
        "counts": counts.tolist(),
        "entropy_bits_per_token": entropy_hat,
        "true_entropy_bits_per_token": entropy_kernel(p.probabilities),
        "theta_step": THETA_STEP,
        "scan": [{"theta": float(t), "ans_total_bits": int(b), "ans_bits_per_token": float(b / n),
                  "cross_entropy_bits_per_token": float(h), "kl_bits_per_token": float(h - entropy_hat)}
                 for t, b, h in zip(THETAS, measured_bits, formula)],
        "best_theta": best_theta,
        "tied_thetas": [float(t) for t in THETAS[tied]],
        "best_ans_total_bits": best_bits,
        "mle_theta": mle,
        "mle_ans_total_bits": mle_bits,
        "p_hat_ans_total_bits": p_hat_bits,
        "p_hat_ans_bits_per_token": l_p_hat,
        "identities": [{key: value for key, value in r.items() if key not in ("q", "huffman")} for r in identities],
        "roundtrip": "verified",
    }
    return DemoResult(NAME, "cross-entropy = entropy + KL; minimizing it finds the maximum-likelihood model",
                      tuple(summary), (scan_table, identity_table), tuple(explanation), data, panels)


def at_best_formula(empirical: np.ndarray, theta: float, N: int) -> float:
    """H(p̂, Binomial(N, θ)) in bits per token."""
    return cross_entropy_kernel(empirical, Distribution.binomial(N, theta).probabilities)


def _theta_span(thetas: list[float]) -> str:
    low = [t for t in thetas if t < 0.5]
    high = [t for t in thetas if t >= 0.5]
    parts = ([f"θ ≤ {max(low):.2f}"] if low else []) + ([f"θ ≥ {min(high):.2f}"] if high else [])
    return " and ".join(parts)


def _panels(measured_bits, formula, n, entropy_hat, best_theta, mle, mle_bits, mle_formula, N) -> tuple[Panel, ...]:
    """Measured bits per token against θ (whole range, and zoomed around θ* with the MLE's own code)."""
    per_token = measured_bits / n
    whole = Panel(
        f"code length of the samples under Binomial({N}, θ)", "θ", "bits per token", tuple(float(t) for t in THETAS),
        {"measured (ANS)": tuple(float(v) for v in per_token), "H(p̂, q_θ)": tuple(float(v) for v in formula)},
        {"H(p̂)": entropy_hat},
    )
    near = np.flatnonzero(np.abs(THETAS - best_theta) <= ZOOM + 1e-9)
    x = np.append(THETAS[near], mle)
    order = np.argsort(x, kind="stable")
    measured = np.append(per_token[near], mle_bits / n)[order]
    h = np.append(formula[near], mle_formula)[order]
    mle_point = np.where(x[order] == mle, mle_bits / n, np.nan)
    zoom = Panel(
        "near the minimum", "θ", "bits per token", tuple(float(v) for v in x[order]),
        {"measured (ANS)": tuple(float(v) for v in measured),
         "H(p̂, q_θ)": tuple(float(v) for v in h),
         f"MLE θ̂ = {mle:.4f} (measured)": tuple(None if np.isnan(v) else float(v) for v in mle_point)},
        {"H(p̂)": entropy_hat},
    )
    return whole, zoom


register(Demo(
    NAME,
    "cross-entropy = entropy + KL, in bits; the model whose code is shortest is the maximum-likelihood one",
    f"--p: the true distribution on 0..N (default {DEFAULT_P}; binomial:N,P, bernoulli:P, uniform:N or a JSON file); "
    f"--q: a model on 0..N to show H(p̂,q) = H(p̂) + KL(p̂‖q) for (default binomial:N,{DEFAULT_MODEL_THETA:g}); "
    f"--n samples (default {DEFAULT_SAMPLES}); --seed; the fitted family is Binomial(N, θ), θ = 0.01..0.99",
    run,
))
