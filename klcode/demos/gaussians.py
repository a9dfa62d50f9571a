"""Forward against reverse KL: one Gaussian fitted to a two-mode mixture, both ways, with real codes.

p is the mixture ½·N(m1, s²) + ½·N(m2, s²) *discretized on a grid*: grid
points x_i = c + i·h for i = −k..k, with c = (m1 + m2)/2 and k·h ≥ R =
6·√(s² + d²) (d = |m2 − m1|/2), i.e. six standard deviations of the
one-Gaussian fit on each side; the step is h = max(s/6, R/126), so at most
253 points (Huffman codes of the far tails grow one bit deeper per point, and
codewords are limited to 256 bits); p_i = density(x_i) / Σ_j density(x_j).
The defaults give 253 points, step 0.1, over [−12.6, 12.6].  The
model q_(μ,σ) is N(μ, σ²) discretized the same way.  All log-probabilities are
computed in the log domain (log-sum-exp normalization), so far tails never
underflow in the formulas.

* Forward KL(p‖q) = H(p, q) − H(p): only H(p, q) depends on q, and for a
  Gaussian q it is minimized by matching moments, μ = E_p[x], σ² = Var_p[x]
  (closed form).  On a grid the family is truncated; with the grid reaching
  six fitted σ on each side, the truncation moves the exact minimizer by
  < 10^−6, which the demo checks with a small numeric search.  (On 121
  points over [−6, 6] it would not: there KL(p‖q) is least at σ² = 4.544,
  4 % above the moment-matched 4.36, because q's tails are cut off.)
* Reverse KL(q‖p) has no closed form: a compass search (a local, gradient-free
  pattern search over μ and log σ, steps halved down to 10^−10) from each of
  two starts μ0 (with σ0 = s, the modes' own width) slides into the mode
  nearest its start; a start between the modes can also end in the broad
  local minimum centred between them (the plot's KL(q‖p) curve shows both).

Measured: n samples of p (seeded) are coded with the Huffman and the ANS code
of p and of each fitted q; the excess L_q − L_p is the measured KL(p‖q).
n samples of each fitted q are coded with q's and p's codes: the measured
KL(q‖p).  ANS keeps every probability ≥ 2^−24 (24-bit model), so a token a
model gives ≈ 2^−32 costs ≤ 24 bits: where KL(p‖q) is large the ANS bits fall
short of the formula and track H(p̂, q̃) instead, which the demo prints.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..analysis.measure import encode_stream
from ..coders import TIE_RULE, AnsCoder, HuffmanCode
from ..coders.registry import CoderSpec, build_coder
from ..errors import DataError
from ..info.measures import entropy_kernel
from ..models.distribution import Distribution
from ..render.plots import Panel
from ..text.stream import TokenStream
from . import register
from .base import (
    NATS_PER_BIT,
    TOP_SYMBOLS,
    Demo,
    DemoOptions,
    DemoResult,
    DemoTable,
    bits,
    table_lines,
    top_symbol_table,
)

NAME = "gaussians"
DEFAULT_MIXTURE = (-2.0, 2.0, 0.6)
DEFAULT_STARTS = (-1.0, 1.0)
DEFAULT_SAMPLES = 20_000
#: Grid: step s/STEPS_PER_SD (or coarser, for at most 2·MAX_HALF_POINTS + 1 points), reaching GRID_SDS fitted σ a side.
STEPS_PER_SD = 6
GRID_SDS = 6.0
MAX_HALF_POINTS = 126
#: The largest |m2 − m1| / s: beyond it the far tails of p underflow on the grid.
MAX_SEPARATION_SDS = 10.0
#: The compass search stops when both steps are below this.
SEARCH_TOLERANCE = 1e-10
#: The profile curves: μ points and log σ points.
PROFILE_MU_POINTS = 81
PROFILE_SIGMA_POINTS = 121
LOG2_E = 1 / NATS_PER_BIT


@dataclass(frozen=True)
class Grid:
    """The discretization: points x_i and the mixture p on them (log-probabilities)."""

    x: np.ndarray
    step: float
    log_p: np.ndarray

    def log_q(self, mu: np.ndarray | float, sigma: np.ndarray | float) -> np.ndarray:
        """log q_i of N(μ, σ²) discretized on the grid (broadcast over leading axes of μ and σ)."""
        mu, sigma = np.asarray(mu, dtype=np.float64)[..., None], np.asarray(sigma, dtype=np.float64)[..., None]
        return _log_normalized(-((self.x - mu) ** 2) / (2 * sigma**2))


def _log_normalized(log_weights: np.ndarray) -> np.ndarray:
    top = log_weights.max(axis=-1, keepdims=True)
    return log_weights - (top + np.log(np.exp(log_weights - top).sum(axis=-1, keepdims=True)))


def kl_bits(log_a: np.ndarray, log_b: np.ndarray) -> np.ndarray:
    """KL(a‖b) = Σ a·log2(a/b) from log-probabilities (natural log), over the last axis.

    >>> round(float(kl_bits(np.log([0.5, 0.5]), np.log([0.25, 0.75]))), 6)
    0.207519
    """
    return (np.exp(log_a) * (log_a - log_b)).sum(axis=-1) * LOG2_E


def make_grid(m1: float, m2: float, s: float) -> Grid:
    """The grid and the mixture p = ½·N(m1, s²) + ½·N(m2, s²) on it (see the module docstring).

    >>> grid = make_grid(-2.0, 2.0, 0.6)
    >>> grid.x.size, round(float(grid.x[0]), 6), round(grid.step, 6)
    (253, -12.6, 0.1)
    """
    center, half = (m1 + m2) / 2, abs(m2 - m1) / 2
    reach = GRID_SDS * math.sqrt(s * s + half * half)
    step = max(s / STEPS_PER_SD, reach / MAX_HALF_POINTS)
    k = min(MAX_HALF_POINTS, math.ceil(reach / step - 1e-9))
    x = center + step * np.arange(-k, k + 1)
    log_p = _log_normalized(np.logaddexp(-((x - m1) ** 2) / (2 * s * s), -((x - m2) ** 2) / (2 * s * s)))
    return Grid(x, step, log_p)


def compass_search(objective, start: tuple[float, float], step: float = 0.5,
                   tolerance: float = SEARCH_TOLERANCE) -> tuple[tuple[float, float], float, int]:
    """Local minimum of objective(μ, log σ) by compass search from ``start``: (point, value, evaluations).

    Try ± step along each axis, move to the best improving neighbour, else halve the steps.

    >>> point, value, _ = compass_search(lambda a, b: (a - 1) ** 2 + (b + 2) ** 2, (0.0, 0.0))
    >>> [round(v, 6) for v in point], round(value, 9)
    ([1.0, -2.0], 0.0)
    """
    point = np.array(start, dtype=np.float64)
    value = float(objective(*point))
    steps = np.array([step, step])
    evaluations = 1
    directions = (np.array([1.0, 0.0]), np.array([-1.0, 0.0]), np.array([0.0, 1.0]), np.array([0.0, -1.0]))
    while steps.max() > tolerance:
        candidates = [point + steps * d for d in directions]
        values = [float(objective(*c)) for c in candidates]
        evaluations += len(candidates)
        best = int(np.argmin(values))
        if values[best] < value:
            point, value = candidates[best], values[best]
        else:
            steps = steps / 2
    return (float(point[0]), float(point[1])), value, evaluations


def _numbers(text: str, count: tuple[int, ...], flag: str, expected: str) -> tuple[float, ...]:
    parts = [part.strip() for part in text.split(",")]
    try:
        values = tuple(float(part) for part in parts)
    except ValueError:
        raise DataError(f"{flag} must be {expected} (got {text!r})") from None
    if len(values) not in count or not all(math.isfinite(v) for v in values):
        raise DataError(f"{flag} must be {expected} (got {text!r})")
    return values


def parse_mixture(text: str | None) -> tuple[float, float, float]:
    """--p 'M1,M2,S': the two means and their common standard deviation.

    >>> parse_mixture("-3, 3, 0.8")
    (-3.0, 3.0, 0.8)
    >>> parse_mixture("-2,2,0")
    Traceback (most recent call last):
    ...
    klcode.errors.DataError: --p: the standard deviation S must be > 0 (got 0.0)
    """
    if text is None:
        return DEFAULT_MIXTURE
    m1, m2, s = _numbers(text, (3,), "--p", "three numbers M1,M2,S (the two means and their standard deviation)")
    if s <= 0:
        raise DataError(f"--p: the standard deviation S must be > 0 (got {s})")
    if abs(m2 - m1) > MAX_SEPARATION_SDS * s:
        raise DataError(
            f"--p: the means are {abs(m2 - m1) / s:.3g} standard deviations apart; this demo allows at most "
            f"{MAX_SEPARATION_SDS:g} (beyond, the grid's far tails underflow) (got {text!r})"
        )
    return m1, m2, s


def parse_starts(text: str | None) -> tuple[float, float]:
    """--q 'A,B': the two starting means of the reverse-KL search.

    >>> parse_starts("-0.5,0.5")
    (-0.5, 0.5)
    """
    if text is None:
        return DEFAULT_STARTS
    a, b = _numbers(text, (2,), "--q", "two numbers A,B (the starting means of the reverse-KL search)")
    return a, b


@dataclass(frozen=True)
class Codes:
    """The Huffman and ANS codes of one distribution on the grid."""

    huffman: HuffmanCode
    ans: AnsCoder

    @classmethod
    def of(cls, distribution: Distribution) -> Codes:
        return cls(HuffmanCode.from_distribution(distribution), build_coder(CoderSpec("ans"), distribution.probabilities))


@dataclass(frozen=True)
class Coded:
    """A sample stream coded with the codes of its own distribution and of the other one: bits actually produced.

    ``*_model_bits_per_token`` are H(p̂, q̃) for ANS's quantized models, p̂ the
    samples' empirical distribution: what the ANS bits track (plus ≤ 64 bits a stream).
    """

    tokens: int
    entropy_bits_per_token: float  # H(p̂) of the samples
    huffman_own_bits: int
    huffman_other_bits: int
    ans_own_bits: int
    ans_other_bits: int
    ans_own_model_bits_per_token: float
    ans_other_model_bits_per_token: float
    roundtrip: str

    def per_token(self, total_bits: int) -> float:
        return total_bits / self.tokens

    @property
    def huffman_excess_bits_per_token(self) -> float:
        return (self.huffman_other_bits - self.huffman_own_bits) / self.tokens

    @property
    def ans_excess_bits_per_token(self) -> float:
        return (self.ans_other_bits - self.ans_own_bits) / self.tokens

    @property
    def ans_model_excess_bits_per_token(self) -> float:
        return self.ans_other_model_bits_per_token - self.ans_own_model_bits_per_token


def code_samples(stream: np.ndarray, own: Codes, other: Codes) -> Coded:
    """Encode ``stream`` (grid ids) with both codes of ``own`` and of ``other``; every stream is decoded back and checked."""
    size = own.huffman.size
    counts = np.bincount(stream, minlength=size)
    empirical = counts / stream.size
    coders = [own.huffman, other.huffman, own.ans, other.ans]
    totals, roundtrip = encode_stream(coders, TokenStream.from_array(stream, size, "samples"), verify=True)
    return Coded(int(stream.size), entropy_kernel(empirical), *totals,
                 own.ans.expected_bits_per_token(empirical), other.ans.expected_bits_per_token(empirical), roundtrip)


@dataclass(frozen=True)
class Fit:
    """One fitted Gaussian with both divergences (formulas) and both measurements."""

    label: str
    mu: float
    sigma: float
    q: Distribution
    kl_pq_bits: float
    kl_qp_bits: float
    p_samples: Coded  # p's samples coded with p's codes (own) and q's (other)
    q_samples: Coded  # q's samples coded with q's codes (own) and p's (other)


def _distribution(log_probabilities: np.ndarray, symbols: tuple[str, ...]) -> Distribution:
    probabilities = np.exp(log_probabilities)
    return Distribution(symbols, probabilities / probabilities.sum())


def _number(value: float, digits: int = 4, sign: bool = False) -> str:
    """A value with ``digits`` decimals, never "-0.0000"."""
    text = f"{value:{'+' if sign else ''}.{digits}f}"
    return text.replace("-", "+" if sign else "", 1) if float(text) == 0 else text


def run(options: DemoOptions) -> DemoResult:
    """Fit N(μ, σ²) to the two-mode mixture by forward and by reverse KL; formulas and measured bits."""
    m1, m2, s = parse_mixture(options.p)
    starts = parse_starts(options.q)
    n = options.n or DEFAULT_SAMPLES
    grid = make_grid(m1, m2, s)
    x, log_p = grid.x, grid.log_p
    digits = max(2, math.ceil(-math.log10(grid.step)) + 1)
    symbols = tuple(f"{v:+.{digits}f}" for v in x)
    p = _distribution(log_p, symbols)
    entropy_p = float(-(np.exp(log_p) @ log_p) * LOG2_E)

    # forward: closed form (moment matching), checked by a numeric search
    pa = np.exp(log_p)
    mean = float(pa @ x)
    variance = float(pa @ (x - mean) ** 2)

    def forward(mu: float, log_sigma: float) -> float:
        return float(kl_bits(log_p, grid.log_q(mu, math.exp(log_sigma))))

    def reverse(mu: float, log_sigma: float) -> float:
        return float(kl_bits(grid.log_q(mu, math.exp(log_sigma)), log_p))

    check_start = (mean + 1.0, 0.0)
    (check_mu, check_log_sigma), _, check_evaluations = compass_search(forward, check_start)
    check_variance = math.exp(2 * check_log_sigma)
    found = [("forward fit", mean, math.sqrt(variance))]
    evaluations = []
    for start in starts:
        (mu, log_sigma), _, count = compass_search(reverse, (start, math.log(s)))
        found.append((f"reverse fit from μ0 = {start:+g}", mu, math.exp(log_sigma)))
        evaluations.append(count)

    # measured: p's samples with p's and q's codes; q's samples with q's and p's codes
    rng = np.random.default_rng(options.seed)
    p_stream = p.sample(n, rng)
    p_codes = Codes.of(p)
    fits = []
    for label, mu, sigma in found:
        log_q = grid.log_q(mu, sigma)
        q = _distribution(log_q, symbols)
        q_codes = Codes.of(q)
        q_stream = q.sample(n, rng)
        # KL ≥ 0; a sum of terms can round to −1e−17 when q = p
        kl_pq, kl_qp = max(0.0, float(kl_bits(log_p, log_q))), max(0.0, float(kl_bits(log_q, log_p)))
        fits.append(Fit(label, mu, sigma, q, kl_pq, kl_qp,
                        code_samples(p_stream, p_codes, q_codes), code_samples(q_stream, q_codes, p_codes)))
    forward_fit, left, right = fits
    p_side = forward_fit.p_samples
    landings = [landing(fit.mu, m1, m2, s) for fit in (left, right)]
    on_modes = m1 != m2 and all(where.startswith("the mode") for where in landings)

    summary = [
        (f"p = ½·N({m1:g}, {s:g}²) + ½·N({m2:g}, {s:g}²) on {x.size} grid points (step {grid.step:g}, "
         f"{x[0]:g} to {x[-1]:g}); H(p) = {entropy_p:.4f} bits; {n:,} samples coded each way (seed {options.seed})"),
    ]
    for fit in fits:
        summary.append(
            f"{fit.label}: μ = {_number(fit.mu, sign=True)}, σ = {fit.sigma:.4f}; "
            f"KL(p‖q) = {fit.kl_pq_bits:.4f} bits (measured L_q − L_p on p's samples: ANS "
            f"{fit.p_samples.ans_excess_bits_per_token:.4f}, Huffman {fit.p_samples.huffman_excess_bits_per_token:.4f}); "
            f"KL(q‖p) = {fit.kl_qp_bits:.4f} bits (measured L_p − L_q on q's samples: ANS "
            f"{fit.q_samples.ans_excess_bits_per_token:.4f})"
        )
    if m1 == m2:
        summary.append("p is a single Gaussian (M1 = M2): the forward and the reverse fits both recover it")
    else:
        summary.append(
            f"forward KL covers both modes (σ = {forward_fit.sigma:.4f}, mass-covering); reverse KL is mode-seeking: "
            + "; ".join(f"from μ0 = {start:+g} it ends at {where}" for start, where in zip(starts, landings))
            + (f"; they pay KL(q‖p) = {left.kl_qp_bits:.4f} and {right.kl_qp_bits:.4f} bits, ≈ log2(1/½) = 1 bit "
               "for ignoring p's other half" if on_modes else
               " (a local search ends in the basin its start lies in)")
        )

    header = ("fit", "μ", "σ", "KL(p‖q)", "L_q − L_p ANS", "H(p̂,q̃) − H(p̂,p̃)", "L_q − L_p Huffman",
              "KL(q‖p)", "L_p − L_q ANS", "H(q̂,p̃) − H(q̂,q̃)", "L_p − L_q Huffman")
    rows = tuple(
        (fit.label, _number(fit.mu, sign=True), f"{fit.sigma:.4f}",
         bits(fit.kl_pq_bits), bits(fit.p_samples.ans_excess_bits_per_token),
         bits(fit.p_samples.ans_model_excess_bits_per_token), bits(fit.p_samples.huffman_excess_bits_per_token),
         bits(fit.kl_qp_bits), bits(fit.q_samples.ans_excess_bits_per_token),
         bits(fit.q_samples.ans_model_excess_bits_per_token), bits(fit.q_samples.huffman_excess_bits_per_token))
        for fit in fits
    )
    fits_table = DemoTable(
        f"one Gaussian fitted to the mixture [bits per token]: formulas, and measured on {n:,} samples of p "
        f"(L_q − L_p) and of q (L_p − L_q)", header, rows)

    explanation = [
        (f"1. p: the mixture ½·N({m1:g}, {s:g}²) + ½·N({m2:g}, {s:g}²) on {x.size} points x = {x[0]:g}, "
         f"{x[0] + grid.step:g}, ..., {x[-1]:g} (step {grid.step:.4g}, reaching {GRID_SDS:g} "
         f"fitted σ on each side); p_i = density(x_i)/Σ density. H(p) = {entropy_p:.4f} bits. The model q_(μ,σ) is "
         f"N(μ, σ²) on the same points."),
        (f"2. Forward: KL(p‖q) = H(p,q) − H(p), and −log2 q(x) = (x − μ)²/(2σ²)·log2 e + a term in σ only, so "
         f"H(p,q) is smallest at μ = E_p[x] = {_number(mean, 6, True)}, σ² = Var_p[x] = {variance:.6f} "
         f"(σ = {math.sqrt(variance):.6f}): moment matching, in closed form."),
        (f"3. Check: a compass search on KL(p‖q) over (μ, log σ) from (μ, σ) = ({_number(check_start[0], 6, True)}, 1) "
         f"stops after {check_evaluations} evaluations at μ = {_number(check_mu, 6, True)}, σ² = {check_variance:.6f}: "
         f"|Δμ| = {abs(check_mu - mean):.1e}, |Δσ²| = {abs(check_variance - variance):.1e}."),
        (f"4. The forward fit: KL(p‖q) = {forward_fit.kl_pq_bits:.4f} bits, KL(q‖p) = {forward_fit.kl_qp_bits:.4f} bits: "
         f"q covers both modes, and pays in KL(q‖p) for the mass it puts where p has little (the valley between "
         f"the modes, the far tails)."),
    ]
    for k, (fit, start, count) in enumerate(zip((left, right), starts, evaluations)):
        explanation.append(
            f"{5 + k}. Reverse from μ0 = {start:+g}, σ0 = s = {s:g}: the compass search on KL(q‖p) "
            f"stops after {count} evaluations at μ = {_number(fit.mu, 6, True)}, σ = {fit.sigma:.6f}; "
            f"KL(q‖p) = {fit.kl_qp_bits:.4f} bits, KL(p‖q) = {fit.kl_pq_bits:.4f} bits: it ends at {landings[k]}."
        )
    explanation.append(
        f"7. Measured on p's side: {n:,} samples of p (seed {options.seed}), H(p̂) = {p_side.entropy_bits_per_token:.4f}. "
        f"p's own codes: Huffman L_p = {p_side.per_token(p_side.huffman_own_bits):.4f}, "
        f"ANS L_p = {p_side.per_token(p_side.ans_own_bits):.4f} bits/token (decoded back: {p_side.roundtrip}). "
        f"Each fitted q's codes on the same samples:"
    )
    for fit in fits:
        c = fit.p_samples
        explanation.append(
            f"   {fit.label}: ANS L_q = {c.per_token(c.ans_other_bits):.4f}, L_q − L_p = "
            f"{c.ans_excess_bits_per_token:.4f} against KL(p‖q) = {fit.kl_pq_bits:.4f} (with ANS's 24-bit models: "
            f"H(p̂,q̃) − H(p̂,p̃) = {c.ans_model_excess_bits_per_token:.4f}); Huffman L_q = "
            f"{c.per_token(c.huffman_other_bits):.4f}, L_q − L_p = {c.huffman_excess_bits_per_token:.4f}."
        )
    if on_modes:
        other = m2 if landings[0] == f"the mode at {m1:g}" else m1
        other_mode_bits = -float(grid.log_q(left.mu, left.sigma)[int(np.argmin(np.abs(x - other)))]) * LOG2_E
        explanation.append(
            f"   The reverse fit from μ0 = {starts[0]:+g} gives the grid point at the other mode ({other:g}) q = "
            f"2^−{other_mode_bits:.1f}. Where q < 2^−24, ANS's 24-bit model floors the probability at 2^−24, so such "
            f"a token costs ≤ 24 bits and ANS measures less than the formula (it tracks H(p̂,q̃), shown). The Huffman "
            f"code rounds q to q̂ = 2^−l (L_q = H(p̂) + KL(p̂‖q̂) exactly) and its deep codewords come closer."
        )
    explanation.append(f"8. Measured on q's side: {n:,} samples of each fitted q, coded with q's and with p's ANS code:")
    for fit in fits:
        c = fit.q_samples
        explanation.append(
            f"   {fit.label}: L_p − L_q = {c.per_token(c.ans_other_bits):.4f} − {c.per_token(c.ans_own_bits):.4f} = "
            f"{c.ans_excess_bits_per_token:.4f} bits/token against KL(q‖p) = {fit.kl_qp_bits:.4f} (with ANS's "
            f"24-bit models: H(q̂,p̃) − H(q̂,q̃) = {c.ans_model_excess_bits_per_token:.4f}; Huffman: "
            f"{c.huffman_excess_bits_per_token:.4f})."
        )
    explanation.append(
        "   Where the forward fit's samples fall in p's far tails, p gives them < 2^−24 and ANS charges ≤ 24 bits: "
        "again the measured bits track the 24-bit models, and fall short of the formula."
    )
    explanation += [
        f"9. Point by point for the forward fit (the {TOP_SYMBOLS} largest |p·log2(p/q)|, Huffman code lengths):",
        *table_lines(top_symbol_table(p, forward_fit.q, p_codes.huffman, HuffmanCode.from_distribution(forward_fit.q),
                                      title="forward fit")),
        f"10. Point by point for the reverse fit from μ0 = {starts[0]:+g}:",
        *table_lines(top_symbol_table(p, left.q, p_codes.huffman, HuffmanCode.from_distribution(left.q),
                                      title="reverse fit")),
        ("Why: KL(p‖q) weighs log(p/q) by p, so wherever p has mass q must have some too, or pay −log2 q bits a token "
         "there; the cheapest single Gaussian spreads over both modes (the maximum-likelihood fit). KL(q‖p) weighs by q: "
         "q is charged only where it puts mass, and mass where p has none is dear, so q hides inside one mode and pays "
         "only log2(1/½) = 1 bit for the half of p it ignores. Which mode it finds depends on where the search starts."),
    ]

    panels = _panels(grid, m1, m2, s, fits)
    data = {
        "mixture": {"means": [m1, m2], "sd": s, "weights": [0.5, 0.5]},
        "grid": {"points": int(x.size), "from_x": float(x[0]), "to_x": float(x[-1]), "step_x": grid.step},
        "entropy_bits_per_token": entropy_p,
        "samples": n,
        "seed": options.seed,
        "moments": {"mean": mean, "variance": variance},
        "forward_check": {"mu": check_mu, "variance": check_variance, "evaluations": check_evaluations},
        "reverse_starts": {"mu0": list(starts), "sigma0": s, "evaluations": evaluations},
        "huffman_tie_rule": TIE_RULE,
        "fits": [_fit_record(fit) for fit in fits],
    }
    return DemoResult(NAME, "forward against reverse KL: one Gaussian fitted to two modes", tuple(summary),
                      (fits_table,), tuple(explanation), data, panels)


def landing(mu: float, m1: float, m2: float, s: float) -> str:
    """Where a fitted mean ended: "the mode at M" (within s/2 of it) or "the broad minimum between the modes".

    >>> landing(-1.997, -2.0, 2.0, 0.6), landing(0.0, -2.0, 2.0, 0.6)
    ('the mode at -2', 'the broad minimum between the modes (μ = +0.0000)')
    """
    for mode in (m1, m2):
        if abs(mu - mode) <= s / 2:
            return f"the mode at {mode:g}" if m1 != m2 else "the single mode"
    return f"the broad minimum between the modes (μ = {_number(mu, sign=True)})"


def _coded_record(c: Coded) -> dict:
    return {
        "samples": c.tokens,
        "entropy_bits_per_token": c.entropy_bits_per_token,
        "huffman_own_total_bits": c.huffman_own_bits, "huffman_other_total_bits": c.huffman_other_bits,
        "ans_own_total_bits": c.ans_own_bits, "ans_other_total_bits": c.ans_other_bits,
        "huffman_excess_bits_per_token": c.huffman_excess_bits_per_token,
        "ans_excess_bits_per_token": c.ans_excess_bits_per_token,
        "ans_model_excess_bits_per_token": c.ans_model_excess_bits_per_token,
        "roundtrip": c.roundtrip,
    }


def _fit_record(fit: Fit) -> dict:
    return {
        "fit": fit.label, "mu": fit.mu, "sigma": fit.sigma,
        "kl_pq_bits_per_token": fit.kl_pq_bits, "kl_qp_bits_per_token": fit.kl_qp_bits,
        "p_samples": _coded_record(fit.p_samples),  # own = p, other = q: the excess measures KL(p‖q)
        "q_samples": _coded_record(fit.q_samples),  # own = q, other = p: the excess measures KL(q‖p)
    }


def _panels(grid: Grid, m1: float, m2: float, s: float, fits: list[Fit]) -> tuple[Panel, ...]:
    """p and the fitted q's over the grid; min over σ of both KLs against μ."""
    center, half = (m1 + m2) / 2, abs(m2 - m1) / 2
    shown = np.abs(grid.x - center) <= half + 5 * s
    x = tuple(float(v) for v in grid.x[shown])
    series = {"p (mixture)": tuple(float(v) for v in np.exp(grid.log_p[shown]))}
    for fit in fits:
        series[f"q {fit.label}"] = tuple(float(v) for v in fit.q.probabilities[shown])
    densities = Panel("p and the fitted Gaussians", "x (grid point)", "probability of the grid point", x, series)

    mus = np.linspace(center - half - 3 * s, center + half + 3 * s, PROFILE_MU_POINTS)
    sigma_forward = math.sqrt(s * s + half * half)
    sigmas = np.exp(np.linspace(math.log(s / 3), math.log(2 * sigma_forward), PROFILE_SIGMA_POINTS))
    log_q = grid.log_q(mus[:, None], sigmas[None, :])  # (μ, σ, x)
    forward = kl_bits(grid.log_p, log_q).min(axis=1)
    reverse = kl_bits(log_q, grid.log_p).min(axis=1)
    profile = Panel(
        "KL against μ (σ at its best for each μ)", "μ", "bits", tuple(float(v) for v in mus),
        {"min over σ of KL(p‖q)": tuple(float(v) for v in forward),
         "min over σ of KL(q‖p)": tuple(float(v) for v in reverse)},
    )
    return densities, profile


register(Demo(
    NAME,
    "fit one Gaussian to two modes: KL(p‖q) covers both, KL(q‖p) locks onto one (which depends on the start)",
    f"--p M1,M2,S: the mixture ½·N(M1,S²) + ½·N(M2,S²) (default {','.join(f'{v:g}' for v in DEFAULT_MIXTURE)}); "
    f"--q A,B: starting means of the reverse fit (default {','.join(f'{v:g}' for v in DEFAULT_STARTS)}); "
    f"--n samples coded (default {DEFAULT_SAMPLES}); --seed",
    run,
))
