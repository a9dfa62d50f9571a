"""The coin-flip identity: (P(obs | q) / P(obs | p))^(1/N) → 2^(−KL(p‖q)) for N draws from p.

Observe N i.i.d. draws from the true distribution p (N flips of the true
coin).  With c(x) the count of symbol x, log2 P(obs | p) = Σ c(x) log2 p(x),
and likewise for a model q, so

    (1/N) log2 (P(obs | q) / P(obs | p)) = Σ (c(x)/N) log2 (q(x)/p(x))  →  −KL(p‖q)

by the law of large numbers, and the per-flip likelihood ratio tends to
2^(−KL(p‖q)).  Everything is computed in log space (P(obs | p) itself
underflows to 0 after a few thousand flips).

Conventions: an observation with p(x) = 0 cannot have come from p and raises
:class:`~klcode.errors.DataError`.  An observation with q(x) = 0 makes
log2 P(obs | q) = −∞, the normalized ratio 0.0 and the empirical KL ∞.

>>> p, q = Distribution.bernoulli(0.5), Distribution.bernoulli(0.9)
>>> r = likelihood_ratio(np.array([1, 1, 0, 1]), p, q)
>>> r.log2_likelihood_true, round(r.log2_likelihood_model, 4), round(r.normalized_ratio, 4), round(r.limit, 4)
(-4.0, -3.7779, 1.0392, 0.6)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..errors import DataError
from ..info.measures import kl_divergence
from ..models.distribution import Distribution, align

#: Cells (checkpoints × symbols) of cumulative counts held at once by :func:`likelihood_ratio_path`.
_BLOCK_CELLS = 1 << 22


@dataclass(frozen=True)
class LikelihoodRatio:
    """Likelihoods of N observations under the true p and a model q, and the per-flip ratio against 2^(−KL)."""

    #: N, the number of observations.
    flips: int
    #: log2 P(obs | p) = Σ c(x) log2 p(x).
    log2_likelihood_true: float
    #: log2 P(obs | q) = Σ c(x) log2 q(x) (−∞ if q = 0 on an observed symbol).
    log2_likelihood_model: float
    #: log2 (P(obs | q) / P(obs | p)).
    log2_ratio: float
    #: (P(obs | q) / P(obs | p))^(1/N) = 2^(log2_ratio / N).
    normalized_ratio: float
    #: 2^(−KL(p‖q)), what the normalized ratio tends to.
    limit: float
    #: KL(p‖q) in bits.
    kl_bits_per_token: float
    #: −log2_ratio / N, what tends to KL(p‖q).
    empirical_kl_bits_per_token: float


def likelihood_ratio(observations: np.ndarray, p: Distribution, q: Distribution) -> LikelihoodRatio:
    """Per-flip likelihood ratio (P(obs | q) / P(obs | p))^(1/N), beside its limit 2^(−KL(p‖q)).

    ``observations`` are ids into p's symbols (``p.sample(n, rng)`` gives
    them); q is aligned to p's alphabet by symbol.

    >>> p, q = Distribution.bernoulli(0.5), Distribution.bernoulli(0.9)
    >>> r = likelihood_ratio(p.sample(100_000, np.random.default_rng(0)), p, q)
    >>> abs(r.normalized_ratio - r.limit) < 0.01, round(r.limit, 3)
    (True, 0.6)
    """
    observations = _checked_observations(observations, p)
    return likelihood_ratio_path(observations, p, q, [observations.size])[0]


def likelihood_ratio_path(
    observations: np.ndarray, p: Distribution, q: Distribution, checkpoints: Sequence[int]
) -> tuple[LikelihoodRatio, ...]:
    """:func:`likelihood_ratio` of the first N observations for each N in ``checkpoints`` (increasing).

    Counts at the checkpoints come from one ``np.bincount`` of (segment, id)
    pairs and a cumulative sum over segments, not a loop per flip; the record
    at N = len(observations) is exactly :func:`likelihood_ratio`'s.

    >>> p, q = Distribution.bernoulli(0.5), Distribution.bernoulli(0.9)
    >>> path = likelihood_ratio_path(np.array([1, 0, 0, 1]), p, q, [1, 2, 4])
    >>> [(r.flips, round(r.normalized_ratio, 3)) for r in path]
    [(1, 1.8), (2, 0.6), (4, 0.6)]
    """
    observations = _checked_observations(observations, p)
    checkpoints = _checked_checkpoints(checkpoints, observations.size)
    p_aligned, q_aligned = align(p, q)
    log2_p = _log2_or_zero(p.probabilities)
    q_model = q_aligned.probabilities[: p.size]
    log2_q = _log2_or_zero(q_model)
    q_zero = q_model <= 0
    kl = kl_divergence(p_aligned, q_aligned)
    limit = 2.0 ** (-kl)

    size = p.size
    records: list[LikelihoodRatio] = []
    running = np.zeros(size, dtype=np.int64)
    block = max(1, _BLOCK_CELLS // size)
    previous_end = 0
    for first in range(0, checkpoints.size, block):
        ends = checkpoints[first : first + block]
        chunk = observations[previous_end : ends[-1]]
        # segment s holds the observations between checkpoint s−1 and checkpoint s
        segment = np.searchsorted(ends, np.arange(previous_end, ends[-1]), side="right")
        segment_counts = np.bincount(segment * size + chunk, minlength=ends.size * size).reshape(ends.size, size)
        counts = np.cumsum(segment_counts, axis=0)
        counts += running
        log2_true = (counts * log2_p).sum(axis=1)
        log2_model = (counts * log2_q).sum(axis=1)
        log2_model[(counts[:, q_zero] > 0).any(axis=1)] = -math.inf
        for n, true, model in zip(ends.tolist(), log2_true.tolist(), log2_model.tolist()):
            records.append(_record(n, true, model, kl, limit))
        running = counts[-1].copy()
        previous_end = int(ends[-1])
    return tuple(records)


def _record(n: int, log2_true: float, log2_model: float, kl: float, limit: float) -> LikelihoodRatio:
    log2_ratio = log2_model - log2_true
    return LikelihoodRatio(
        flips=n,
        log2_likelihood_true=log2_true,
        log2_likelihood_model=log2_model,
        log2_ratio=log2_ratio,
        normalized_ratio=2.0 ** (log2_ratio / n),
        limit=limit,
        kl_bits_per_token=kl,
        empirical_kl_bits_per_token=-log2_ratio / n,
    )


def _log2_or_zero(probabilities: np.ndarray) -> np.ndarray:
    """log2 of the positive probabilities, 0 elsewhere (their counts are 0 or handled apart)."""
    logs = np.zeros(probabilities.size, dtype=np.float64)
    positive = probabilities > 0
    logs[positive] = np.log2(probabilities[positive])
    return logs


def _checked_observations(observations: object, p: Distribution) -> np.ndarray:
    ids = np.asarray(observations)
    if ids.ndim != 1 or (ids.size and ids.dtype.kind not in "iu"):
        raise DataError(f"observations must be a 1-D array of integer ids (got dtype {ids.dtype}, shape {ids.shape})")
    if ids.size == 0:
        raise DataError("observations must not be empty (got 0 observations)")
    lowest, highest = int(ids.min()), int(ids.max())
    if lowest < 0 or highest >= p.size:
        bad = lowest if lowest < 0 else highest
        raise DataError(f"observation id {bad} is outside p's alphabet of {p.size} symbols")
    impossible = np.flatnonzero((np.bincount(ids, minlength=p.size) > 0) & (p.probabilities <= 0))
    if impossible.size:
        symbol = p.symbols[int(impossible[0])]
        raise DataError(
            f"observation {symbol!r} has probability 0 under the true distribution p, "
            "so the observations cannot come from p"
        )
    return ids.astype(np.int64, copy=False)


def _checked_checkpoints(checkpoints: Sequence[int], n: int) -> np.ndarray:
    values = list(checkpoints)
    if not values:
        raise DataError("checkpoints must not be empty (got none)")
    for value in values:
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise DataError(f"checkpoints must be integers (got {value!r})")
    array = np.array(values, dtype=np.int64)
    if array[0] < 1 or array[-1] > n:
        bad = int(array[0]) if array[0] < 1 else int(array[-1])
        raise DataError(f"checkpoints must be between 1 and the {n} observations (got {bad})")
    if (np.diff(array) <= 0).any():
        i = int(np.flatnonzero(np.diff(array) <= 0)[0])
        raise DataError(f"checkpoints must increase strictly (got {int(array[i])} then {int(array[i + 1])})")
    return array
