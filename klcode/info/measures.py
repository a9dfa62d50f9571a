"""Entropy, cross-entropy, Kullback-Leibler and Jensen-Shannon divergences.

Each measure takes two :class:`~klcode.models.distribution.Distribution` objects (aligned
on one alphabet first when their symbols differ) or two bare probability
arrays of equal length.  Results are in bits by default (``base=2``); pass
``base=math.e`` for nats.  Conventions: 0·log 0 = 0 and 0·log(0/q) = 0;
p(x) > 0 where q(x) = 0 makes cross-entropy and KL infinite
(:func:`unseen_symbols` names those symbols).

The identities hold as code: ``cross_entropy(p, q) == entropy(p) + kl_divergence(p, q)``
up to rounding.  KL is summed from its per-symbol terms p·log(p/q) rather
than taken as a difference, so it stays accurate (and ≥ 0) when p ≈ q.

>>> import math
>>> p, q = Distribution.binomial(2, 0.4), Distribution.uniform(3)
>>> round(kl_divergence(p, q, base=math.e), 4), round(kl_divergence(q, p, base=math.e), 4)
(0.0853, 0.0975)
"""

from __future__ import annotations

import math
from collections.abc import Hashable
from dataclasses import dataclass

import numpy as np

from ..errors import DistributionError
from ..models.distribution import Distribution, align

ArrayLike = Distribution | np.ndarray


# ----------------------------------------------------------------- array kernels
def _log(values: np.ndarray, base: float) -> np.ndarray:
    if base == 2:
        return np.log2(values)
    return np.log(values) / math.log(base)


def entropy_kernel(p: np.ndarray, base: float = 2) -> float:
    """H(p) = −Σ p log p over a probability array (0·log 0 = 0)."""
    mask = p > 0
    return float(-np.dot(p[mask], _log(p[mask], base)))


def cross_entropy_kernel(p: np.ndarray, q: np.ndarray, base: float = 2) -> float:
    """H(p, q) = −Σ p log q over two aligned arrays; ∞ if p > 0 where q = 0."""
    mask = p > 0
    if (q[mask] <= 0).any():
        return math.inf
    return float(-np.dot(p[mask], _log(q[mask], base)))


def kl_contributions_kernel(p: np.ndarray, q: np.ndarray, base: float = 2) -> np.ndarray:
    """Per-symbol terms p·log(p/q): 0 where p = 0, +∞ where p > 0 and q = 0.

    The ratio p/q is taken first (exact when p ≈ q); where it leaves the normal float range (q subnormal,
    p/q = 1/1e-320 overflows) the term is p·(log p − log q) instead, which is finite.

    >>> kl_contributions_kernel(np.array([1.0]), np.array([1e-320])).round(1).tolist()
    [1063.0]
    """
    terms = np.zeros(p.shape, dtype=np.float64)
    mask = p > 0
    seen = mask & (q > 0)
    ps, qs = p[seen], q[seen]
    with np.errstate(over="ignore", under="ignore"):
        ratio = ps / qs
    outside = ~(np.isfinite(ratio) & (ratio >= np.finfo(np.float64).tiny))
    logs = np.empty_like(ratio)
    logs[~outside] = _log(ratio[~outside], base)
    logs[outside] = _log(ps[outside], base) - _log(qs[outside], base)
    terms[seen] = ps * logs
    terms[mask & (q <= 0)] = math.inf
    return terms


def kl_kernel(p: np.ndarray, q: np.ndarray, base: float = 2) -> float:
    """KL(p‖q) = Σ p·log(p/q) over two aligned arrays; never below 0.

    KL ≥ 0 for any two distributions (Gibbs' inequality), so a negative sum of the terms is rounding
    (p = q up to the last digits) and is returned as 0.0.

    >>> kl_kernel(np.array([0.5, 0.5]), np.array([0.5 + 1e-17, 0.5 - 1e-17]))
    0.0
    """
    terms = kl_contributions_kernel(p, q, base)
    if np.isinf(terms).any():
        return math.inf
    return max(0.0, float(math.fsum(terms.tolist())))


# ------------------------------------------------------------------ public API
def _arrays(p: ArrayLike, q: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    if isinstance(p, Distribution) and isinstance(q, Distribution):
        p, q = align(p, q)
        return p.probabilities, q.probabilities
    if isinstance(p, Distribution) or isinstance(q, Distribution):
        raise DistributionError(
            f"give two Distributions or two arrays (got {type(p).__name__} and {type(q).__name__})"
        )
    pa, qa = np.asarray(p, dtype=np.float64), np.asarray(q, dtype=np.float64)
    if pa.shape != qa.shape or pa.ndim != 1:
        raise DistributionError(f"p and q must be 1-D arrays of one length (got shapes {pa.shape} and {qa.shape})")
    return pa, qa


def _array(p: ArrayLike) -> np.ndarray:
    return p.probabilities if isinstance(p, Distribution) else np.asarray(p, dtype=np.float64)


def entropy(p: ArrayLike, base: float = 2) -> float:
    """Entropy H(p) = −Σ p(x) log p(x).

    >>> entropy(Distribution.from_probabilities([0.5, 0.25, 0.125, 0.125]))
    1.75
    """
    return entropy_kernel(_array(p), base)


def cross_entropy(p: ArrayLike, q: ArrayLike, base: float = 2) -> float:
    """Cross-entropy H(p, q) = −Σ p(x) log q(x): the cost of coding p with an ideal code for q.

    >>> cross_entropy(Distribution.from_probabilities([0.5, 0.5]), Distribution.from_probabilities([0.25, 0.75]))
    1.207518749639422
    """
    return cross_entropy_kernel(*_arrays(p, q), base)


def kl_divergence(p: ArrayLike, q: ArrayLike, base: float = 2) -> float:
    """Kullback-Leibler divergence KL(p‖q) = Σ p(x) log(p(x)/q(x)) = H(p, q) − H(p).

    >>> kl_divergence(Distribution.from_probabilities([0.5, 0.5]), Distribution.from_probabilities([1.0, 0.0]))
    inf
    """
    return kl_kernel(*_arrays(p, q), base)


def kl_contributions(p: ArrayLike, q: ArrayLike, base: float = 2) -> np.ndarray:
    """Per-symbol terms p(x)·log(p(x)/q(x)) on the aligned alphabet (they sum to KL(p‖q)).

    >>> kl_contributions(Distribution.from_probabilities([0.5, 0.5]), Distribution.from_probabilities([0.25, 0.75])).round(3).tolist()
    [0.5, -0.292]
    """
    return kl_contributions_kernel(*_arrays(p, q), base)


def js_divergence(p: ArrayLike, q: ArrayLike, base: float = 2) -> float:
    """Jensen-Shannon divergence JS(p, q) = ½ KL(p‖m) + ½ KL(q‖m), m = ½(p + q); ≤ 1 bit, never ∞.

    >>> js_divergence(Distribution.from_probabilities({"a": 1.0}), Distribution.from_probabilities({"b": 1.0}))
    1.0
    """
    pa, qa = _arrays(p, q)
    m = 0.5 * (pa + qa)
    return 0.5 * kl_kernel(pa, m, base) + 0.5 * kl_kernel(qa, m, base)


@dataclass(frozen=True)
class UnseenSymbols:
    """Symbols with p(x) > 0 and q(x) = 0: the reason KL(p‖q) is infinite."""

    symbols: tuple[Hashable, ...]
    p_mass: float

    @property
    def types(self) -> int:
        return len(self.symbols)


def unseen_symbols(p: Distribution, q: Distribution) -> UnseenSymbols:
    """The symbols p produces and q gives probability 0, and their total p-mass.

    >>> unseen_symbols(Distribution.uniform(["a", "b"]), Distribution.from_probabilities({"a": 1.0}))
    UnseenSymbols(symbols=('b',), p_mass=0.5)
    """
    p, q = align(p, q)
    mask = (p.probabilities > 0) & (q.probabilities <= 0)
    symbols = tuple(p.symbols[i] for i in np.flatnonzero(mask))
    return UnseenSymbols(symbols, float(math.fsum(p.probabilities[mask].tolist())))
