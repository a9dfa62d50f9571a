"""Every corpus against every other: directed KL, measured Huffman excess, JS, nearest neighbours.

Cell (i, j) codes corpus i with a code built from corpus j, on the union of
their symbols: KL(i‖j) by formula (∞ when j lacks symbols of i), KL(i‖j') to
the effective model of j's code (the unseen policy applied), and the measured
excess L_j − L_i of j's Huffman code over i's own, from an actual encoding of
a stream with i's token counts (an order-0 code's length does not depend on
the order of the tokens).  JS is symmetric and always finite.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from ..errors import DataError
from ..text.inputs import Corpus
from ..text.stream import TokenStream
from .compare import shared_distributions
from .measure import UnseenPolicy, measure

Matrix = tuple[tuple[float, ...], ...]


@dataclass(frozen=True)
class Neighbour:
    """The corpus nearest to ``corpus`` by some divergence, and that divergence."""

    corpus: str
    nearest: str
    bits_per_token: float


@dataclass(frozen=True)
class DivergenceMatrix:
    """Pairwise divergences of n corpora; ``kl_bits_per_token[i][j]`` is KL(corpus i ‖ corpus j), per token of i."""

    labels: tuple[str, ...]
    tokenizer: str
    tokens: tuple[int, ...]
    types: tuple[int, ...]
    kl_bits_per_token: Matrix
    effective_kl_bits_per_token: Matrix
    measured_excess_bits_per_token: Matrix
    js_bits_per_token: Matrix
    nearest_by_js: tuple[Neighbour, ...]
    nearest_by_measured_excess: tuple[Neighbour, ...]
    unseen_policy: str
    roundtrip: str


def as_matrix(matrix: np.ndarray) -> Matrix:
    """A 2-D array as a :data:`Matrix` (tuples of Python floats)."""
    return tuple(tuple(float(v) for v in row) for row in matrix)


def nearest(matrix: np.ndarray, labels: Sequence[str]) -> tuple[Neighbour, ...]:
    """For each row, the other column with the smallest value (ties: the first).

    >>> [n.nearest for n in nearest(np.array([[0, 2, 1], [2, 0, 3], [1, 3, 0.]]), "abc")]
    ['c', 'a', 'a']
    """
    result = []
    for i, row in enumerate(np.asarray(matrix, dtype=np.float64)):
        others = np.where(np.arange(row.size) == i, np.inf, row)
        j = int(np.argmin(others))
        result.append(Neighbour(labels[i], labels[j], float(row[j])))
    return tuple(result)


@dataclass(frozen=True)
class MutualPair:
    """Two corpora that are each other's nearest neighbour, at ``distance``."""

    a: str
    b: str
    distance: float


def mutual_neighbours(neighbours: Sequence[Neighbour]) -> tuple[MutualPair, ...]:
    """The pairs among ``neighbours`` (one per corpus, as :func:`nearest` gives them) that are each other's nearest.

    Each pair once, ``a`` before ``b`` in the order of ``neighbours``; closest first (ties: in that order).

    >>> d = np.array([[0, 1, 4, 5], [1, 0, 3, 6], [4, 3, 0, 2], [5, 6, 2, 0.]])
    >>> [(m.a, m.b, m.distance) for m in mutual_neighbours(nearest(d, "wxyz"))]
    [('w', 'x', 1.0), ('y', 'z', 2.0)]
    """
    position = {n.corpus: k for k, n in enumerate(neighbours)}
    nearest_of = {n.corpus: n.nearest for n in neighbours}
    pairs = [
        MutualPair(n.corpus, n.nearest, n.bits_per_token)
        for n in neighbours
        if nearest_of[n.nearest] == n.corpus and position[n.corpus] < position[n.nearest]
    ]
    return tuple(sorted(pairs, key=lambda pair: (pair.distance, position[pair.a])))


def divergence_matrix(
    corpora: Sequence[Corpus],
    *,
    policy: UnseenPolicy = UnseenPolicy(),
    verify: bool = True,
    progress: Callable[[int], None] | None = None,
) -> DivergenceMatrix:
    """All ordered pairs of ``corpora`` (at least two, one tokenizer); ``progress(1)`` after each pair."""
    if len(corpora) < 2:
        raise DataError(f"a matrix needs at least two corpora (got {len(corpora)})")
    labels = tuple(c.label for c in corpora)
    if len(set(labels)) != len(labels):
        duplicate = next(label for label in labels if labels.count(label) > 1)
        raise DataError(f"corpus labels must be distinct (got {duplicate!r} twice); rename a file")
    specs = {c.counts.spec for c in corpora}
    if len(specs) != 1:
        raise DataError(f"all corpora must be counted with one tokenizer (got {len(specs)} different ones)")
    n = len(corpora)
    kl, effective, excess, js = (np.zeros((n, n)) for _ in range(4))
    for i in range(n):
        for j in range(n):
            if i == j:
                continue
            p, q, _ = shared_distributions(corpora[i], corpora[j])
            m = measure(p, q, TokenStream.from_counts(p.counts), policy=policy, verify=verify)
            kl[i, j] = m.kl_bits_per_token
            effective[i, j] = m.effective_kl_bits_per_token
            excess[i, j] = m.measured_excess_bits_per_token
            js[i, j] = m.js_bits_per_token
            if progress is not None:
                progress(1)

    return DivergenceMatrix(
        labels=labels,
        tokenizer=corpora[0].counts.spec.describe(),
        tokens=tuple(c.counts.total_tokens for c in corpora),
        types=tuple(c.counts.types for c in corpora),
        kl_bits_per_token=as_matrix(kl),
        effective_kl_bits_per_token=as_matrix(effective),
        measured_excess_bits_per_token=as_matrix(excess),
        js_bits_per_token=as_matrix(js),
        nearest_by_js=nearest(js, labels),
        nearest_by_measured_excess=nearest(excess, labels),
        unseen_policy=policy.name,
        roundtrip="verified" if verify else "skipped",
    )
