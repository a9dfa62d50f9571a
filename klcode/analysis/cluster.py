"""Hierarchical clustering of texts by their divergences (numpy only).

A matrix of directed divergences ``m[i, j] = KL(p_i‖p_j)`` is not symmetric;
:func:`symmetric_distances` averages it with its transpose, and
:func:`average_linkage` clusters the result with UPGMA.  Infinite distances
(a model that gives probability 0 to a symbol the other text uses) are kept
as ``inf``: they merge last, at height ``inf``.  The result is a
:class:`Linkage` in scipy's layout, so ``scipy.cluster.hierarchy`` can draw or
cut it (``np.array(linkage.merges)``), but klcode itself never needs scipy.

>>> m = np.array([[0.0, 1.0, 6.0], [3.0, 0.0, 4.0], [6.0, 4.0, 0.0]])
>>> tree = average_linkage(symmetric_distances(m), ["a", "b", "c"])
>>> tree.merges
((0, 1, 2.0, 2), (2, 3, 5.0, 3))
>>> tree.ordered_labels
('c', 'a', 'b')
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..errors import DataError

#: Negative values down to this are rounding noise and are clipped to 0.
NEGATIVE_TOLERANCE = 1e-12
#: Relative tolerance of the symmetry check of :func:`average_linkage`.
SYMMETRY_RTOL = 1e-9


# ---------------------------------------------------------------- validation
def _first(mask: np.ndarray) -> tuple[int, ...]:
    return tuple(int(k) for k in np.argwhere(mask)[0])


def _divergence_matrix(matrix: np.ndarray, name: str) -> np.ndarray:
    """A float64 copy of a square matrix of divergences: ≥ 0 or +inf, zero diagonal."""
    try:
        a = np.array(matrix, dtype=np.float64, copy=True)
    except (TypeError, ValueError):
        raise DataError(f"{name} must be a square array of numbers (got {type(matrix).__name__})") from None
    if a.ndim != 2 or a.shape[0] != a.shape[1]:
        raise DataError(f"{name} must be a square 2-D array (got shape {a.shape})")
    if a.shape[0] == 0:
        raise DataError(f"{name} must have at least one row (got shape {a.shape})")
    if np.isnan(a).any():
        i, j = _first(np.isnan(a))
        raise DataError(f"{name} must not contain NaN (got {name}[{i}, {j}] = nan)")
    if (a < -NEGATIVE_TOLERANCE).any():
        i, j = _first(a < -NEGATIVE_TOLERANCE)
        raise DataError(f"{name} must be non-negative (got {name}[{i}, {j}] = {float(a[i, j])!r})")
    a[a < 0] = 0.0
    diagonal = np.diagonal(a)
    if (diagonal > NEGATIVE_TOLERANCE).any():
        (i,) = _first(diagonal > NEGATIVE_TOLERANCE)
        raise DataError(f"{name} must have a zero diagonal (got {name}[{i}, {i}] = {float(a[i, i])!r})")
    np.fill_diagonal(a, 0.0)
    return a


def _labels(labels: Sequence[str], n: int) -> tuple[str, ...]:
    if isinstance(labels, str):
        raise DataError(f"labels must be a sequence of strings, not one string (got {labels!r})")
    labels = tuple(labels)
    for k, label in enumerate(labels):
        if not isinstance(label, str):
            raise DataError(f"labels must be strings (got {type(label).__name__} {label!r} at position {k})")
    if len(labels) != n:
        raise DataError(f"need one label per row (got {len(labels)} labels for {n} rows)")
    return labels


def _leaf_order(merges: Sequence[tuple[int, int, float, int]], n: int) -> tuple[int, ...]:
    """Leaves left to right: each merge draws its first cluster left of its second (scipy's rule)."""
    order: list[int] = []
    stack = [2 * n - 2]
    while stack:
        cluster = stack.pop()
        if cluster < n:
            order.append(cluster)
        else:
            a, b = merges[cluster - n][:2]
            stack += [b, a]
    return tuple(order)


# ---------------------------------------------------------------- public API
def symmetric_distances(matrix: np.ndarray) -> np.ndarray:
    """Symmetric distances d = (m + mᵀ)/2 from a square matrix m of directed divergences.

    ``m`` must have a zero diagonal and values ≥ 0 or +inf (negatives down to
    −1e-12 are rounding and become 0); an infinite divergence in either
    direction makes the distance infinite.  The input is not modified.

    >>> symmetric_distances(np.array([[0.0, 1.0, np.inf], [3.0, 0.0, 1.0], [2.0, 1.0, 0.0]])).tolist()
    [[0.0, 2.0, inf], [2.0, 0.0, 1.0], [inf, 1.0, 0.0]]
    """
    m = _divergence_matrix(matrix, "matrix")
    return (m + m.T) / 2


@dataclass(frozen=True)
class Linkage:
    """A dendrogram: the merges of a hierarchical clustering, in scipy's linkage layout.

    Leaves are clusters ``0 .. n-1`` (``labels[k]`` names leaf ``k``); the
    i-th merge ``(a, b, height, size)`` joins clusters ``a < b`` into cluster
    ``n + i`` of ``size`` leaves.  ``order`` lists the leaves left to right as
    the dendrogram draws them (every cluster's leaves are contiguous in it).
    ``np.array(linkage.merges)`` is a scipy linkage matrix.

    >>> Linkage(merges=((0, 1, 0.5, 2),), order=(0, 1), labels=("x", "y")).ordered_labels
    ('x', 'y')
    >>> Linkage(merges=(), order=(0,), labels=("x", "y"))
    Traceback (most recent call last):
    ...
    klcode.errors.DataError: a linkage of 2 leaves needs 1 merges (got 0)
    """

    merges: tuple[tuple[int, int, float, int], ...]
    order: tuple[int, ...]
    labels: tuple[str, ...]

    def __post_init__(self) -> None:
        labels = _labels(self.labels, len(self.labels))
        try:
            merges = tuple((int(a), int(b), float(h), int(s)) for a, b, h, s in self.merges)
            order = tuple(int(k) for k in self.order)
        except (TypeError, ValueError):
            raise DataError(f"merges must be rows (a, b, height, size) and order integers (got {self.merges!r}, "
                            f"{self.order!r})") from None
        object.__setattr__(self, "labels", labels)
        object.__setattr__(self, "merges", merges)
        object.__setattr__(self, "order", order)
        n = len(labels)
        if n == 0:
            raise DataError("a linkage needs at least one leaf (got 0 labels)")
        if len(self.merges) != n - 1:
            raise DataError(f"a linkage of {n} leaves needs {n - 1} merges (got {len(self.merges)})")
        sizes = [1] * n
        merged = [False] * n
        for i, row in enumerate(self.merges):
            a, b, height, size = row
            if not (0 <= a < b < n + i) or merged[a] or merged[b]:
                raise DataError(f"merge {i} must join two unmerged clusters a < b < {n + i} (got {row!r})")
            if not height >= 0:
                raise DataError(f"merge heights must be ≥ 0 (got {height!r} in merge {i})")
            if size != sizes[a] + sizes[b]:
                raise DataError(f"merge {i} joins {sizes[a] + sizes[b]} leaves (got size {size})")
            merged[a] = merged[b] = True
            sizes.append(size)
            merged.append(False)
        if sorted(self.order) != list(range(n)):
            raise DataError(f"order must be a permutation of 0..{n - 1} (got {self.order!r})")

    @property
    def ordered_labels(self) -> tuple[str, ...]:
        """The labels in dendrogram order, left to right."""
        return tuple(self.labels[k] for k in self.order)


def average_linkage(distances: np.ndarray, labels: Sequence[str]) -> Linkage:
    """UPGMA (average linkage): merge the two closest clusters, d(A, B) = mean of d(a, b) over a ∈ A, b ∈ B.

    ``distances`` is a symmetric matrix (see :func:`symmetric_distances`)
    with a zero diagonal and values ≥ 0 or +inf; only its upper triangle is
    read.  An average with an infinite member is infinite, so clusters that
    are infinitely far apart merge last, at height ``inf``.  Ties go to the
    smallest pair of cluster ids ``(a, b)``.  On finite data the merges equal
    ``scipy.cluster.hierarchy.linkage(squareform(d), "average")`` and
    ``order`` equals its ``leaves_list``.  Time O(n³), memory O(n²).

    >>> tree = average_linkage(np.array([[0, 1, np.inf], [1, 0, np.inf], [np.inf, np.inf, 0]]), ["a", "b", "c"])
    >>> tree.merges
    ((0, 1, 1.0, 2), (2, 3, inf, 3))
    """
    d = _divergence_matrix(distances, "distances")
    n = d.shape[0]
    labels = _labels(labels, n)
    asymmetric = ~np.isclose(d, d.T, rtol=SYMMETRY_RTOL, atol=NEGATIVE_TOLERANCE)
    if asymmetric.any():
        i, j = _first(asymmetric)
        raise DataError(
            f"distances must be symmetric (got distances[{i}, {j}] = {float(d[i, j])!r} and "
            f"distances[{j}, {i}] = {float(d[j, i])!r}); symmetric_distances() makes them so"
        )
    # Cluster-by-cluster distances, indexed by cluster id (leaves, then merges).
    between = np.full((2 * n - 1, 2 * n - 1), np.inf)
    between[:n, :n] = np.triu(d, 1) + np.triu(d, 1).T
    active = np.zeros(2 * n - 1, dtype=bool)
    active[:n] = True
    sizes = np.zeros(2 * n - 1, dtype=np.int64)
    sizes[:n] = 1
    merges: list[tuple[int, int, float, int]] = []
    for step in range(n - 1):
        ids = np.flatnonzero(active)  # ascending, so row-major order breaks ties by (a, b)
        rows, cols = np.triu_indices(len(ids), 1)
        values = between[ids[rows], ids[cols]]
        k = int(np.argmin(values))  # first minimum; inf when everything left is inf
        a, b = int(ids[rows[k]]), int(ids[cols[k]])
        new = n + step
        size_a, size_b = int(sizes[a]), int(sizes[b])
        # Lance-Williams update for the average (as scipy computes it); inf stays inf.
        row = (size_a * between[a] + size_b * between[b]) / (size_a + size_b)
        between[new], between[:, new] = row, row
        between[new, new] = 0.0
        active[[a, b]] = False
        active[new] = True
        sizes[new] = size_a + size_b
        merges.append((a, b, float(values[k]), size_a + size_b))
    return Linkage(merges=tuple(merges), order=_leaf_order(merges, n), labels=labels)


def nearest_neighbours(matrix: np.ndarray, labels: Sequence[str]) -> tuple[tuple[str, str, float], ...]:
    """For each row i, its nearest neighbour j = argmin over j ≠ i of matrix[i, j], as (label_i, label_j, value).

    ``matrix`` may be directed (row i is read as "from i"); ties go to the
    smallest j; a row of infinities gives its first other label at ``inf``.

    >>> nearest_neighbours(np.array([[0.0, 2.0, 1.0], [3.0, 0.0, 3.0], [1.0, 0.5, 0.0]]), ["a", "b", "c"])
    (('a', 'c', 1.0), ('b', 'a', 3.0), ('c', 'b', 0.5))
    """
    m = _divergence_matrix(matrix, "matrix")
    n = m.shape[0]
    labels = _labels(labels, n)
    if n < 2:
        raise DataError(f"nearest neighbours need at least 2 rows (got {n})")
    others = ~np.eye(n, dtype=bool)
    smallest = np.where(others, m, np.inf).min(axis=1, keepdims=True)
    nearest = np.argmax(others & (m == smallest), axis=1)  # first j ≠ i at the minimum, even in a row of infinities
    return tuple((labels[i], labels[int(j)], float(m[i, j])) for i, j in enumerate(nearest))
