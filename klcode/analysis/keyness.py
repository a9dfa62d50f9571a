"""Keyness of every token of two corpora: log-likelihood G², its p-value, effect sizes, and its share of KL.

For a token x with counts a in A (N_A tokens) and b in B (N_B tokens), N = N_A + N_B:

* **G², 4-term** (the likelihood-ratio statistic of the 2 × 2 table
  [[a, b], [N_A − a, N_B − b]]; Dunning 1993):
  G² = 2 Σ_cells O ln(O/E), E = row total × column total / N.
  The same number is 2N·KL(O/N ‖ E/N) in nats: twice N times the KL
  divergence from the observed table to the table of the pooled model
  (independence of token and corpus).
* **G², 2-term** (Rayson & Garside 2000; the UCREL log-likelihood calculator):
  2[a ln(a/E_A) + b ln(b/E_B)], E_A = N_A(a+b)/N, E_B = N_B(a+b)/N; it drops the
  "other tokens" row.  Summed over every token it is the G² of the whole
  K × 2 table, 2[N_A·KL(p_A‖m) + N_B·KL(p_B‖m)] nats with m = (n_A + n_B)/N the
  pooled model (so G²/(2N) is a Jensen–Shannon divergence with weights N_A/N, N_B/N).
* **p-value**: P(χ²₁ ≥ G²) = erfc(√(G²/2)); the Bonferroni threshold for T
  tests (the tokens shown after ``min_count``) is p < α/T, i.e. G² above the
  critical value (Φ⁻¹(1 − α/(2T)))².
* **log ratio** (Hardie 2014): log₂((a/N_A)/(b/N_B)), a zero count replaced by
  0.5 (so a token absent from one corpus still gets a finite effect size).
* **%DIFF** (Gabrielatos & Marchi 2012): 100·(f_A − f_B)/f_B with f per million
  tokens; ∞ when b = 0.
* **simple maths** (Kilgarriff 2009): (f_A + k)/(f_B + k), f per million, k = 1
  by default.
* **KL contribution**: p_A(x)·log₂(p_A(x)/q'_B(x)) bits per token of A, q'_B the
  model B's code is built from (the unseen policy applied), as in ``compare``;
  these sum to KL(A‖B').

UCREL's worked example: 52 in 50,000 tokens against 57 in 75,000, LL = 2.65:

>>> rows = {r.symbol: r for r in keyness(np.array([52, 49_948]), np.array([57, 74_943]), ("w", "other")).rows}
>>> round(rows["w"].g2_two_term, 2), round(rows["w"].g2, 2), rows["w"].over_represented_in
(2.65, 2.65, 'A')
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

from ..errors import DataError

SORT_KEYS = ("g2", "log-ratio", "kl")
#: The stated smoothing of the log ratio: a zero count counts as this.
LOG_RATIO_ZERO = 0.5
SIMPLE_MATHS_K = 1.0
ALPHA = 0.05


@dataclass(frozen=True)
class KeynessRow:
    """The keyness statistics of one token (G² values in nats-based units of the χ² statistic)."""

    symbol: str
    count_a: int
    count_b: int
    per_million_a: float
    per_million_b: float
    g2: float
    g2_two_term: float
    p_value: float
    significant: bool
    log_ratio: float
    percent_diff: float
    simple_maths: float
    kl_bits_per_token: float
    over_represented_in: str


@dataclass(frozen=True)
class Keyness:
    """Keyness of the tokens of A against B, sorted, with the test settings (α, Bonferroni, smoothing, k)."""

    a_tokens: int
    b_tokens: int
    tested: int
    alpha: float
    bonferroni_p_threshold: float
    bonferroni_g2_threshold: float
    sort: str
    min_count: int
    simple_maths_k: float
    log_ratio_zero: float
    g2_two_term_total: float
    pooled_kl_nats: float
    rows: tuple[KeynessRow, ...]

    def top(self, side: str, n: int) -> tuple[KeynessRow, ...]:
        """The first ``n`` rows over-represented in ``side`` ("A" or "B"), in the sort order."""
        return tuple(row for row in self.rows if row.over_represented_in == side)[:n]


def _xlogy_ratio(o: np.ndarray, e: np.ndarray) -> np.ndarray:
    """O·ln(O/E) with 0·ln 0 = 0."""
    out = np.zeros(o.shape, dtype=np.float64)
    positive = o > 0
    out[positive] = o[positive] * np.log(o[positive] / e[positive])
    return out


def g2_four_term(a: np.ndarray, b: np.ndarray, n_a: int, n_b: int) -> np.ndarray:
    """G² = 2 Σ O ln(O/E) over the 2 × 2 table [[a, b], [N_A − a, N_B − b]] (per token, vectorized).

    >>> round(float(g2_four_term(np.array([52]), np.array([57]), 50_000, 75_000)[0]), 4)
    2.6541
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    n = float(n_a + n_b)
    row_x, row_rest = a + b, n - a - b
    cells = ((a, n_a * row_x / n), (b, n_b * row_x / n), (n_a - a, n_a * row_rest / n), (n_b - b, n_b * row_rest / n))
    return np.maximum(2 * sum(_xlogy_ratio(o, e) for o, e in cells), 0.0)


def g2_two_term(a: np.ndarray, b: np.ndarray, n_a: int, n_b: int) -> np.ndarray:
    """G² = 2[a ln(a/E_A) + b ln(b/E_B)], E_A = N_A(a+b)/N, E_B = N_B(a+b)/N (Rayson & Garside 2000).

    >>> round(float(g2_two_term(np.array([52]), np.array([57]), 50_000, 75_000)[0]), 2)  # UCREL's example
    2.65
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    n = float(n_a + n_b)
    return 2 * (_xlogy_ratio(a, n_a * (a + b) / n) + _xlogy_ratio(b, n_b * (a + b) / n))


def chi2_1_survival(g2: float) -> float:
    """P(χ²₁ ≥ g2) = erfc(√(g2/2)).

    >>> round(chi2_1_survival(3.841459), 6)
    0.05
    """
    return math.erfc(math.sqrt(max(g2, 0.0) / 2))


def chi2_1_critical(p: float) -> float:
    """The χ²₁ value whose upper tail is p: (Φ⁻¹(1 − p/2))².

    >>> round(chi2_1_critical(0.05), 4), round(chi2_1_critical(0.0001), 2)
    (3.8415, 15.14)
    """
    return NormalDist().inv_cdf(1 - p / 2) ** 2


def keyness(counts_a: np.ndarray, counts_b: np.ndarray, labels: Sequence[str], *, model_b: np.ndarray | None = None,
            sort: str = "g2", min_count: int = 1, alpha: float = ALPHA, k: float = SIMPLE_MATHS_K) -> Keyness:
    """Keyness of every token (aligned counts of A and B, one label each) with at least ``min_count`` in A + B.

    ``model_b`` is q'_B for the KL contributions (default: B's relative
    frequencies, so a token B lacks contributes ∞).  Rows are sorted by
    ``sort``: g2 (largest first), log-ratio (largest |log ratio| first) or
    kl (largest |contribution| first); ties by label.
    """
    a = np.asarray(counts_a, dtype=np.int64)
    b = np.asarray(counts_b, dtype=np.int64)
    if a.shape != b.shape or a.ndim != 1 or len(labels) != a.size:
        raise DataError(f"keyness needs aligned counts and labels (got {a.shape}, {b.shape}, {len(labels)} labels)")
    if sort not in SORT_KEYS:
        raise DataError(f"sort must be one of {', '.join(SORT_KEYS)} (got {sort!r})")
    if min_count < 1:
        raise DataError(f"min count must be at least 1 (got {min_count})")
    if not 0 < alpha < 1:
        raise DataError(f"alpha must be between 0 and 1 (got {alpha})")
    if k <= 0:
        raise DataError(f"the simple-maths constant k must be > 0 (got {k})")
    n_a, n_b = int(a.sum()), int(b.sum())
    if n_a == 0 or n_b == 0:
        raise DataError(f"keyness needs tokens in both corpora (got {n_a:,} and {n_b:,})")
    pa, pb = a / n_a, b / n_b
    q = pb if model_b is None else np.asarray(model_b, dtype=np.float64)
    kl = np.zeros(a.size)
    seen = a > 0
    with np.errstate(divide="ignore"):
        kl[seen] = pa[seen] * np.log2(pa[seen] / q[seen])
    g2, g2_2 = g2_four_term(a, b, n_a, n_b), g2_two_term(a, b, n_a, n_b)
    fa, fb = pa * 1e6, pb * 1e6
    za, zb = np.where(a > 0, a, LOG_RATIO_ZERO), np.where(b > 0, b, LOG_RATIO_ZERO)
    log_ratio = np.log2((za / n_a) / (zb / n_b))
    with np.errstate(divide="ignore", invalid="ignore"):
        percent = np.where(b > 0, 100 * (fa - fb) / np.where(fb > 0, fb, 1), np.inf)
    simple = (fa + k) / (fb + k)
    keep = np.flatnonzero((a + b) >= min_count)
    tested = int(keep.size)
    p_threshold = alpha / max(tested, 1)
    g2_threshold = chi2_1_critical(p_threshold)
    key = {"g2": g2, "log-ratio": np.abs(log_ratio), "kl": np.abs(kl)}[sort]
    order_labels = np.array([str(label) for label in labels], dtype=object)
    order = keep[np.lexsort((order_labels[keep], -key[keep]))]
    rows = tuple(
        KeynessRow(
            symbol=str(labels[i]), count_a=int(a[i]), count_b=int(b[i]),
            per_million_a=float(fa[i]), per_million_b=float(fb[i]),
            g2=float(g2[i]), g2_two_term=float(g2_2[i]), p_value=chi2_1_survival(float(g2[i])),
            significant=bool(g2[i] > g2_threshold),
            log_ratio=float(log_ratio[i]), percent_diff=float(percent[i]), simple_maths=float(simple[i]),
            kl_bits_per_token=float(kl[i]),
            over_represented_in="A" if pa[i] > pb[i] else ("B" if pb[i] > pa[i] else "="),
        )
        for i in order
    )
    pooled = (a + b) / (n_a + n_b)
    used_a, used_b = a > 0, b > 0
    pooled_kl = (n_a * float(np.sum(pa[used_a] * np.log(pa[used_a] / pooled[used_a])))
                 + n_b * float(np.sum(pb[used_b] * np.log(pb[used_b] / pooled[used_b])))) / (n_a + n_b)
    return Keyness(
        a_tokens=n_a, b_tokens=n_b, tested=tested, alpha=alpha, bonferroni_p_threshold=p_threshold,
        bonferroni_g2_threshold=g2_threshold, sort=sort, min_count=min_count, simple_maths_k=k,
        log_ratio_zero=LOG_RATIO_ZERO, g2_two_term_total=float(g2_2.sum()), pooled_kl_nats=pooled_kl, rows=rows,
    )
