"""Bootstrap confidence intervals for H, H(p,q), KL both ways, JS and the bits/token of the order-0 code.

A *side* is one sample: its token counts, and optionally the counts of each
of its documents.  A bootstrap replicate resamples each side independently:

* over **tokens**: counts* ~ Multinomial(N, n/N), drawn for a block of
  replicates at once (``rng.multinomial``; no Python per token);
* over **documents**: D documents drawn with replacement, counts* = Σ of
  their count vectors (a weight matrix times the D × K document matrix).
  Tokens of one text are not independent (topic, repetition, burstiness), so
  where documents exist this is the honest unit; resampling tokens then
  understates the spread.

Every statistic is recomputed on each replicate with the chosen estimator
(:mod:`klcode.info.estimators`); the order-0 code's bits per token are those
of the Huffman code rebuilt from the replicate (Σ c*·l* / N*: exactly what
encoding the replicate stream with that code produces, since an order-0
code's length does not depend on token order; every Huffman code of a
weight vector has the same, optimal, total length).

Intervals (level 1 − α):

* **percentile**: the α/2 and 1 − α/2 quantiles of the replicates θ*;
* **basic**: [2θ̂ − q(1 − α/2), 2θ̂ − q(α/2)], the replicates reflected about θ̂;
* **auto** (the default): bca for the plug-in estimates, percentile for the
  bias-corrected ones — the pairs that held their level in the coverage
  study (``benchmarks/bench_coverage.py``): the percentile interval of a
  corrected estimate is centred right, and BCa's z₀ would correct again;
* **bca** (bias-corrected and accelerated; Efron 1987; Efron & Tibshirani
  1993, ch. 14): the quantiles Φ(z₀ + (z₀ + z)/(1 − a(z₀ + z))) of θ*, with
  z₀ = Φ⁻¹(#{θ* < θ̂}/B) and the acceleration
  a = Σₖ Σᵢ Uₖᵢ³/nₖ³ / (6 (Σₖ Σᵢ Uₖᵢ²/nₖ²)^{3/2}) from the jackknife
  influence values Uₖᵢ = (nₖ − 1)(θ̄ₖ − θ₍ᵢ₎) of the units (tokens, by type,
  or documents) of each side k.

Replicates whose statistic is infinite (KL when a replicate of q lacks a
type p has) are counted (``infinite_replicates``); an interval is then
reported only if they are fewer than α/2 of all, its upper end being ∞ if
any are there.  Near a boundary (KL = 0 when p = q) no bootstrap interval is
reliable; the docs show the coverage study.

>>> p, q = TokenSide(np.array([60, 30, 10])), TokenSide(np.array([40, 40, 20]))
>>> result = bootstrap_intervals(p, q, replicates=200, seed=7)
>>> result.method, result.replicates, [i.quantity for i in result.intervals][:3]
('bca', 200, ['entropy', 'entropy_reverse', 'cross_entropy'])
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

from ..errors import DataError
from .estimators import (
    ENTROPY_ESTIMATORS,
    estimate_entropy,
    estimate_js,
    estimate_kl,
    kl_estimator_for,
)

INTERVAL_METHODS = ("auto", "bca", "percentile", "basic")
RESAMPLING_UNITS = ("auto", "tokens", "documents")
#: Fewest documents for which ``auto`` resamples documents rather than tokens.
MIN_DOCUMENTS = 5
#: Replicates drawn per block (bounds the memory of a block to BLOCK × K counts).
BLOCK = 64
#: The quantities of p against q; each ``*_reverse`` one is the same with the roles of p and q swapped.
QUANTITIES = ("entropy", "entropy_reverse", "cross_entropy", "cross_entropy_reverse", "kl", "kl_reverse", "js",
              "code", "code_reverse")
QUANTITY_NAMES = {
    "entropy": "H(p)",
    "entropy_reverse": "H(q)",
    "cross_entropy": "H(p,q)",
    "cross_entropy_reverse": "H(q,p)",
    "kl": "KL(p‖q)",
    "kl_reverse": "KL(q‖p)",
    "js": "JS(p,q)",
    "code": "L_p measured (p's Huffman code on p)",
    "code_reverse": "L_q measured (q's Huffman code on q)",
}
#: Quantities that depend on one side only (the other side's influence is 0).
_ONE_SIDED = {"entropy": "p", "code": "p", "entropy_reverse": "q", "code_reverse": "q"}


@dataclass(frozen=True)
class BootstrapSettings:
    """How to bootstrap: confidence level, replicates, seed, interval method, resampling unit (auto, tokens, documents)."""

    level: float = 0.95
    replicates: int = 1000
    seed: int = 0
    method: str = "auto"
    resample: str = "auto"


# ------------------------------------------------------------------ sides
@dataclass(frozen=True, eq=False)
class TokenSide:
    """A sample resampled over its tokens: counts per type (aligned with the other side)."""

    counts: np.ndarray

    @property
    def unit(self) -> str:
        return "tokens"

    @property
    def units(self) -> int:
        return int(np.asarray(self.counts).sum())


@dataclass(frozen=True, eq=False)
class DocumentSide:
    """A sample resampled over its documents: a D × K matrix, one row of counts per document."""

    documents: np.ndarray

    def __post_init__(self) -> None:
        docs = np.asarray(self.documents)
        if docs.ndim != 2 or docs.shape[0] < 2:
            raise DataError(f"document resampling needs at least 2 documents (got shape {docs.shape})")
        object.__setattr__(self, "documents", docs.astype(np.int64))

    @property
    def counts(self) -> np.ndarray:
        return self.documents.sum(axis=0)

    @property
    def unit(self) -> str:
        return "documents"

    @property
    def units(self) -> int:
        return int(self.documents.shape[0])


@dataclass(frozen=True, eq=False)
class FixedSide:
    """A model that is not a sample (probabilities given, not counted): every replicate keeps it as it is."""

    probabilities: np.ndarray

    @property
    def counts(self) -> np.ndarray:
        return np.asarray(self.probabilities, dtype=np.float64)

    @property
    def unit(self) -> str:
        return "nothing (a fixed model)"

    @property
    def units(self) -> int:
        return 0


Side = TokenSide | DocumentSide | FixedSide


def choose_side(counts: np.ndarray, documents: np.ndarray | None, resample: str = "auto") -> Side:
    """The side to resample: documents when asked (or, for ``auto``, when there are ≥ MIN_DOCUMENTS), else tokens.

    >>> choose_side(np.array([3, 1]), None).unit, choose_side(np.array([3, 1]), np.array([[2, 0], [1, 1]]), "auto").unit
    ('tokens', 'tokens')
    """
    if resample not in RESAMPLING_UNITS:
        raise DataError(f"resampling unit must be one of {', '.join(RESAMPLING_UNITS)} (got {resample!r})")
    if resample == "tokens" or (documents is None and resample == "auto"):
        return TokenSide(np.asarray(counts, dtype=np.int64))
    if documents is None or len(documents) < 2:
        got = 0 if documents is None else len(documents)
        raise DataError(f"resampling documents needs a corpus of at least 2 documents (got {got})")
    if resample == "auto" and len(documents) < MIN_DOCUMENTS:
        return TokenSide(np.asarray(counts, dtype=np.int64))
    return DocumentSide(np.asarray(documents))


def _replicate_blocks(side: Side, replicates: int, rng: np.random.Generator):
    """Blocks of replicate count vectors (rows) of one side, BLOCK at a time."""
    done = 0
    if isinstance(side, FixedSide):
        while done < replicates:
            size = min(BLOCK, replicates - done)
            yield np.broadcast_to(side.counts, (size, side.counts.size))
            done += size
    elif isinstance(side, TokenSide):
        counts = np.asarray(side.counts, dtype=np.int64)
        total = int(counts.sum())
        probabilities = counts / total
        while done < replicates:
            size = min(BLOCK, replicates - done)
            yield rng.multinomial(total, probabilities, size=size)
            done += size
    else:
        docs = side.documents
        d = docs.shape[0]
        while done < replicates:
            size = min(BLOCK, replicates - done)
            picks = rng.integers(0, d, size=(size, d))
            weights = np.zeros((size, d), dtype=np.int64)
            np.add.at(weights, (np.repeat(np.arange(size), d), picks.ravel()), 1)
            yield weights @ docs
            done += size


# ------------------------------------------------------------- statistics
def huffman_total_bits(counts: np.ndarray) -> int:
    """Σ c(x)·l(x) of a Huffman code of ``counts``: the sum of the weights of every merge (one type: 1 bit per token).

    >>> huffman_total_bits(np.array([4, 2, 1, 1, 0]))  # lengths 1, 2, 3, 3
    14
    """
    weights = [int(c) for c in np.asarray(counts).tolist() if c > 0]
    if len(weights) == 1:
        return weights[0]
    heapq.heapify(weights)
    total = 0
    while len(weights) > 1:
        merged = heapq.heappop(weights) + heapq.heappop(weights)
        total += merged
        heapq.heappush(weights, merged)
    return total


def huffman_depths(counts: np.ndarray) -> np.ndarray:
    """Codeword lengths of a Huffman code of ``counts`` (0 for count 0; one type: 1), from the merge tree's depths.

    Ties may be broken otherwise than klcode's coders do (``klcode.coders.huffman``), but every Huffman code
    has the same total Σ c·l (:func:`huffman_total_bits`), which is what the intervals use.

    >>> huffman_depths(np.array([4, 2, 1, 1, 0])).tolist()
    [1, 2, 3, 3, 0]
    """
    counts = np.asarray(counts)
    used = np.flatnonzero(counts > 0)
    lengths = np.zeros(counts.size, dtype=np.int64)
    if used.size == 1:
        lengths[used[0]] = 1
        return lengths
    heap = [(int(counts[i]), k) for k, i in enumerate(used.tolist())]
    heapq.heapify(heap)
    parent = list(range(used.size))
    while len(heap) > 1:
        (w1, a), (w2, b) = heapq.heappop(heap), heapq.heappop(heap)
        node = len(parent)
        parent.append(node)
        parent[a] = parent[b] = node
        heapq.heappush(heap, (w1 + w2, node))
    depth = [0] * len(parent)
    for node in range(len(parent) - 2, -1, -1):  # parents are created after their children
        depth[node] = depth[parent[node]] + 1
    lengths[used] = depth[: used.size]
    return lengths


def _base(quantity: str) -> tuple[str, bool]:
    """("kl", True) for "kl_reverse": the quantity of q against p."""
    if quantity not in QUANTITIES:
        raise DataError(f"unknown quantity {quantity!r} (choose from {', '.join(QUANTITIES)})")
    return (quantity[: -len("_reverse")], True) if quantity.endswith("_reverse") else (quantity, False)


def _statistic(quantity: str, estimator: str, alphabet_size: int | None) -> Callable[[np.ndarray, np.ndarray], float]:
    kl_name = kl_estimator_for(estimator)
    base, reverse = _base(quantity)
    if base == "entropy":
        forward = lambda n, m: estimate_entropy(n, estimator, alphabet_size=alphabet_size)  # noqa: E731
    elif base == "cross_entropy":
        forward = lambda n, m: estimate_entropy(n, estimator, alphabet_size=alphabet_size) + estimate_kl(n, m, kl_name)  # noqa: E731
    elif base == "kl":
        forward = lambda n, m: estimate_kl(n, m, kl_name)  # noqa: E731
    elif base == "js":
        forward = lambda n, m: estimate_js(n, m, kl_name)  # noqa: E731
    else:
        forward = lambda n, m: huffman_total_bits(n) / int(n.sum())  # noqa: E731
    return (lambda n, m: forward(m, n)) if reverse else forward


# --------------------------------------------------------------- the record
@dataclass(frozen=True)
class Interval:
    """A confidence interval [low, high] for one quantity, around its estimate (bits per token).

    ``reliable`` is False when the estimate lies outside the central ``level``
    band of its own replicates (fewer than α/2 of them on one side): the
    bootstrap distribution does not describe the estimator there (too few
    tokens for the types, or a boundary such as KL = 0), and no interval
    method repairs that.  BCa's z₀ would then put both ends on one extreme
    replicate, so the interval is the basic one (the replicates reflected
    about the estimate, which moves it against the bias they show), or the
    percentile one when some replicates are infinite.
    """

    quantity: str
    name: str
    estimate_bits_per_token: float
    low_bits_per_token: float
    high_bits_per_token: float
    standard_error_bits_per_token: float
    infinite_replicates: int
    reliable: bool = True


@dataclass(frozen=True)
class BootstrapIntervals:
    """Bootstrap intervals of the headline numbers, with how they were made (method, level, units, seed)."""

    method: str
    level: float
    replicates: int
    seed: int
    estimator: str
    resampled_p: str
    resampled_q: str
    units_p: int
    units_q: int
    intervals: tuple[Interval, ...]

    @property
    def description(self) -> str:
        """One line: "95 % bca bootstrap, 1000 replicates (seed 0) over 12 documents of p and 40,000 tokens of q"."""
        q_part = "q fixed" if self.units_q == 0 else f"{self.units_q:,} {self.resampled_q} of q"
        return (f"{self.level:.0%} {self.method} bootstrap, {self.replicates:,} replicates (seed {self.seed}) of the "
                f"{self.estimator} estimates, over {self.units_p:,} {self.resampled_p} of p and {q_part}")

    def get(self, quantity: str) -> Interval | None:
        return next((i for i in self.intervals if i.quantity == quantity), None)


# ------------------------------------------------------------------ BCa parts
def _token_influence(name: str, n: np.ndarray, m: np.ndarray, p_side: bool) -> np.ndarray:
    """Empirical influence values of the tokens of one side (p's when ``p_side``), by the delta method.

    For a token of type x the influence of a plug-in functional T is
    ∂T/∂p_x − Σ p ∂T/∂p (nats): −ln p_x − H for H; ln(p_x/q_x) − KL and
    1 − p_y/q_y (a token of q) for KL; ½ln(p_x/m_x) − ½KL(p‖m) for JS; l_x − L for
    the code.  The estimators differ from the plug-in by O(1/N), which does
    not change the acceleration to its order.  Tokens of one type share a value.
    """
    if name not in QUANTITIES:  # a custom statistic: no delta-method influence, a = 0 (the bias correction z₀ stays)
        return np.zeros(0)
    base, reverse = _base(name)
    if reverse:  # the quantity of q against p: swap the samples, and which side is asked for
        n, m, p_side = m, n, not p_side
    name = base
    own, other = (n, m) if p_side else (m, n)
    total_own, total_other = float(own.sum()), float(other.sum())
    po, pt = own / total_own, other / total_other
    used = own > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        if name == "code":
            lengths = huffman_depths(own).astype(np.float64)
            value = lengths - float(np.dot(po, lengths))
        elif name == "entropy":
            value = -np.log(po) - float(-np.dot(po[used], np.log(po[used])))
        elif name == "js":
            mix = 0.5 * (po + pt)
            value = 0.5 * np.log(po / mix) - 0.5 * float(np.dot(po[used], np.log(po[used] / mix[used])))
        else:
            # for KL(p‖q) (and H(p,q) = H(p) + KL) p's tokens move the first argument, q's the model
            if p_side:  # the side whose distribution is KL's first argument
                term = -np.log(pt) if name == "cross_entropy" else np.log(po / pt)
                value = term - float(np.dot(po[used], term[used]))
            else:  # the side that is KL's model: ∂/∂q_y of −Σ p log q is −p_y/q_y
                value = 1.0 - pt / po
    value = value[used]
    if not np.isfinite(value).all():
        return np.full(1, np.nan)
    return np.repeat(value, own[used])


def _document_influence(side: DocumentSide, other: np.ndarray, statistic: Callable, p_side: bool) -> np.ndarray:
    """U_i = (D−1)(θ̄ − θ₍ᵢ₎) over the D leave-one-document-out values of one side, the other side fixed."""
    total = side.documents.sum(axis=0)
    loo = np.array([_safe(statistic, total - row, other) if p_side else _safe(statistic, other, total - row)
                    for row in side.documents])
    if not np.isfinite(loo).all():
        return np.full(1, np.nan)
    return (loo.size - 1) * (loo.mean() - loo)


def _influence(name: str, side: Side, n: np.ndarray, m: np.ndarray, statistic: Callable, p_side: bool) -> np.ndarray:
    if isinstance(side, TokenSide):
        return _token_influence(name, n, m, p_side)
    return _document_influence(side, m if p_side else n, statistic, p_side)


def acceleration(influence: list[np.ndarray]) -> float:
    """a = Σₖ Σᵢ Uₖᵢ³/nₖ³ / (6 (Σₖ Σᵢ Uₖᵢ²/nₖ²)^{3/2}) over the sides k (0 when undefined).

    >>> acceleration([np.array([1.0, -1.0])])
    0.0
    """
    cube = square = 0.0
    for u in influence:
        if u.size == 0 or not np.isfinite(u).all():
            return 0.0
        cube += float(np.sum(u ** 3)) / u.size ** 3
        square += float(np.sum(u ** 2)) / u.size ** 2
    return 0.0 if square <= 0 else cube / (6 * square ** 1.5)


def percentile_interval(replicates: np.ndarray, level: float) -> tuple[float, float]:
    """The (1−level)/2 and (1+level)/2 quantiles of the replicates (linear interpolation).

    >>> percentile_interval(np.arange(101.0), 0.5)
    (25.0, 75.0)
    """
    alpha = 1 - level
    return _quantiles(replicates, (alpha / 2, 1 - alpha / 2))


def _quantiles(replicates: np.ndarray, probabilities: tuple[float, float]) -> tuple[float, float]:
    """Quantiles, interpolated linearly; with infinite replicates, actual order statistics (no ∞ − ∞)."""
    method = "linear" if np.isfinite(replicates).all() else "inverted_cdf"
    low, high = np.quantile(replicates, probabilities, method=method)
    return float(low), float(high)


def basic_interval(replicates: np.ndarray, estimate: float, level: float) -> tuple[float, float]:
    """The basic (reflected) interval [2θ̂ − q_{1−α/2}, 2θ̂ − q_{α/2}]: θ̂ − θ is taken to vary as θ* − θ̂ does.

    It moves the interval against the bias the replicates show (Davison & Hinkley 1997, §5.2).

    >>> basic_interval(np.arange(101.0), 60.0, 0.5)
    (45.0, 95.0)
    """
    low, high = percentile_interval(replicates, level)
    return 2 * estimate - high, 2 * estimate - low


def bca_interval(replicates: np.ndarray, estimate: float, accel: float, level: float) -> tuple[float, float]:
    """The BCa quantiles Φ(z₀ + (z₀ + z_α)/(1 − a(z₀ + z_α))) of the replicates.

    z₀ = Φ⁻¹(share of replicates below the estimate, ties counted half).
    With a = 0 and z₀ = 0 it is the percentile interval.

    >>> bca_interval(np.arange(101.0), 50.0, 0.0, 0.5)
    (25.0, 75.0)
    """
    normal = NormalDist()
    b = replicates.size
    below = (np.count_nonzero(replicates < estimate) + 0.5 * np.count_nonzero(replicates == estimate)) / b
    below = min(max(below, 0.5 / b), 1 - 0.5 / b)
    z0 = normal.inv_cdf(below)
    alpha = 1 - level
    ends = []
    for z in (normal.inv_cdf(alpha / 2), normal.inv_cdf(1 - alpha / 2)):
        shifted = z0 + (z0 + z) / (1 - accel * (z0 + z))
        ends.append(normal.cdf(shifted) if math.isfinite(shifted) else float(shifted > 0))
    return _quantiles(replicates, (ends[0], ends[1]))


# ------------------------------------------------------------------ the bootstrap
def bootstrap_intervals(p: Side, q: Side, *, quantities: tuple[str, ...] = QUANTITIES, estimator: str = "plugin",
                        level: float = 0.95, replicates: int = 1000, seed: int = 0, method: str = "auto",
                        alphabet_size: int | None = None,
                        custom: Mapping[str, tuple[str, Callable[[np.ndarray, np.ndarray], float]]] | None = None,
                        ) -> BootstrapIntervals:
    """Bootstrap intervals of ``quantities`` of p against q, each side resampled over its own units.

    The statistic on the original counts is the estimate; each of the
    ``replicates`` resamples both sides (seeded: ``np.random.default_rng(seed)``,
    p's block first, then q's).  ``custom`` adds statistics f(counts_p, counts_q)
    by name, with a label; over tokens their BCa acceleration is taken as 0
    (no delta-method influence is known for them), over documents it is the jackknife's.
    """
    if not 0 < level < 1:
        raise DataError(f"confidence level must be between 0 and 1 (got {level})")
    if replicates < 10:
        raise DataError(f"the bootstrap needs at least 10 replicates (got {replicates})")
    if method not in INTERVAL_METHODS:
        raise DataError(f"interval method must be one of {', '.join(INTERVAL_METHODS)} (got {method!r})")
    if estimator not in ENTROPY_ESTIMATORS:
        raise DataError(f"unknown estimator {estimator!r} (choose from {', '.join(ENTROPY_ESTIMATORS)})")
    if method == "auto":  # what held its level best in benchmarks/bench_coverage.py (docs/estimators.md)
        method = "bca" if estimator == "plugin" else "percentile"
    if isinstance(p, FixedSide):
        raise DataError("p must be a sample (counts), not a fixed model")
    n = np.asarray(p.counts, dtype=np.int64)
    m = q.counts if isinstance(q, FixedSide) else np.asarray(q.counts, dtype=np.int64)
    if isinstance(q, FixedSide) and any(_base(name)[1] or name == "js" for name in quantities):
        raise DataError("with q a fixed model only H(p), H(p,q), KL(p‖q) and p's code are bootstrapped")
    if n.shape != m.shape:
        raise DataError(f"p and q must be aligned on one alphabet (got {n.size} and {m.size} entries)")
    statistics = {name: _statistic(name, estimator, alphabet_size) for name in quantities}
    labels = {name: QUANTITY_NAMES[name] for name in quantities}
    for name, (label, statistic) in (custom or {}).items():
        statistics[name], labels[name] = statistic, label
    rng = np.random.default_rng(seed)
    values = {name: np.empty(replicates) for name in statistics}
    done = 0
    for block_p, block_q in zip(_replicate_blocks(p, replicates, rng), _replicate_blocks(q, replicates, rng)):
        for row_p, row_q in zip(block_p, block_q):
            for name, statistic in statistics.items():
                values[name][done] = _safe(statistic, row_p, row_q)
            done += 1
    intervals = []
    for name, statistic in statistics.items():
        estimate = _safe(statistic, n, m)
        intervals.append(_interval(name, labels[name], estimate, values[name], level, method, p, q, n, m, statistic))
    return BootstrapIntervals(method, level, replicates, seed, estimator, p.unit, q.unit, p.units, q.units,
                              tuple(intervals))


def _safe(statistic: Callable, n: np.ndarray, m: np.ndarray) -> float:
    """The statistic, or ∞ when a replicate leaves a side without tokens."""
    if n.sum() == 0 or m.sum() == 0:
        return math.inf
    return float(statistic(n, m))


def _interval(name: str, label: str, estimate: float, values: np.ndarray, level: float, method: str, p: Side, q: Side,
              n: np.ndarray, m: np.ndarray, statistic: Callable) -> Interval:
    finite = values[np.isfinite(values)]
    infinite = int(values.size - finite.size)
    if not math.isfinite(estimate) or infinite > (1 - level) / 2 * values.size or finite.size < 2:
        return Interval(name, label, estimate, math.nan, math.inf if infinite else math.nan, math.nan, infinite)
    # infinite replicates sit above every finite one: keep them in the ranks
    ranked = np.concatenate([np.sort(finite), np.full(infinite, np.inf)])
    share_below = float(np.count_nonzero(ranked < estimate) + 0.5 * np.count_nonzero(ranked == estimate)) / ranked.size
    reliable = (1 - level) / 2 <= share_below <= 1 - (1 - level) / 2
    if method == "basic" or (method == "bca" and not reliable and not infinite):
        # BCa's z₀ would push both ends to one extreme replicate; reflect the replicates about the estimate instead
        low, high = basic_interval(ranked, estimate, level)
    elif method == "percentile" or not reliable:
        low, high = percentile_interval(ranked, level)
    else:
        influence = []
        if _ONE_SIDED.get(name, "p") == "p":
            influence.append(_influence(name, p, n, m, statistic, True))
        if _ONE_SIDED.get(name, "q") == "q" and not isinstance(q, FixedSide):
            influence.append(_influence(name, q, n, m, statistic, False))
        low, high = bca_interval(ranked, estimate, acceleration(influence), level)
    return Interval(name, label, estimate, low, high, float(np.std(finite, ddof=1)), infinite, reliable)
