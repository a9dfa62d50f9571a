"""Length-limited Huffman codes: minimum Σ w(x)·l(x) subject to l(x) ≤ L, by package-merge.

Package-merge (Larmore & Hirschberg, 1990) solves the "coin collector's
problem" that length-limited coding reduces to.  Every symbol x with weight
w(x) > 0 has one coin at each level j = 1..L, of width 2^(−j) and value w(x).
Choosing the cheapest set of coins of total width n − 1 (n symbols) and
giving each symbol as many bits as it has chosen coins yields an optimal code
among all prefix codes whose codewords have at most L bits.

The algorithm works level by level from the deepest: the items of level j
(sorted by weight) are paired into *packages*, which join the coins of level
j − 1; the first 2n − 2 items of level 1 are chosen, and a chosen package
chooses the two items it was made of.  Each level is one stable numpy sort,
so the cost is O(n·L·log n) in C.

Tie rule (deterministic on ids): coins of equal weight are ordered by id, and
at equal weight a coin comes before a package.  Weights are exact integers
when the distribution carries counts, floats otherwise.

Facts pinned by the tests: no codeword is longer than L, the Kraft sum is
≤ 1, the cost equals a brute-force optimum on small alphabets, and when L is
at least the longest codeword of the unrestricted Huffman code, the cost is
Huffman's.  One symbol gets a 1-bit codeword, as in Huffman; zero weights get
no codeword.

>>> length_limited_lengths(np.array([1, 1, 2, 4, 8]), 3).tolist()
[3, 3, 3, 3, 1]
>>> length_limited_lengths(np.array([1, 1, 2, 4, 8]), 4).tolist()  # = Huffman
[4, 4, 3, 2, 1]
"""

from __future__ import annotations

import operator

import numpy as np

from ..errors import CodeError
from ..models.distribution import Distribution
from ._checks import checked_weights
from .prefix import PrefixCode

__all__ = ["LimitedHuffmanCode", "length_limited_lengths"]


def length_limited_lengths(weights: np.ndarray, max_length_bits: int) -> np.ndarray:
    """Optimal lengths under a limit: minimize Σ w(x)·l(x) with 1 ≤ l(x) ≤ L (package-merge).

    Returns int64 lengths, 0 where the weight is 0.  Refuses when no prefix
    code fits: 2^L must be at least the number of positive weights.

    >>> length_limited_lengths(np.array([5, 0, 1, 1, 1]), 2).tolist()
    [2, 0, 2, 2, 2]
    >>> length_limited_lengths(np.ones(7), 2)
    Traceback (most recent call last):
    ...
    klcode.errors.CodeError: no prefix code gives 7 symbols codewords of at most 2 bits (needs --max-length >= 3)
    """
    limit = _checked_limit(max_length_bits)
    weights, used = checked_weights(weights, "length-limited Huffman")
    n = int(used.size)
    needed = max(1, (n - 1).bit_length())
    if limit < needed:
        raise CodeError(
            f"no prefix code gives {n:,} symbols codewords of at most {limit} bits "
            f"(needs --max-length >= {needed})"
        )
    lengths = np.zeros(weights.size, dtype=np.int64)
    if n == 1:
        lengths[used[0]] = 1
        return lengths
    # an optimal code never needs more than n − 1 bits: a larger limit changes nothing
    limit = min(limit, n - 1)
    leaf_weights = _exact_weights(weights[used], levels=limit)
    order = np.argsort(leaf_weights, kind="stable")  # by weight, then id (used is sorted)
    lengths[used] = _package_merge(leaf_weights[order], limit)[np.argsort(order)]
    return lengths


def _checked_limit(max_length_bits: int) -> int:
    try:
        limit = operator.index(max_length_bits)
    except TypeError:
        raise CodeError(
            f"the maximum codeword length must be an integer number of bits (got {max_length_bits!r})"
        ) from None
    if isinstance(max_length_bits, bool) or limit < 1:
        raise CodeError(f"the maximum codeword length must be at least 1 bit (got {max_length_bits!r})")
    return limit


def _exact_weights(weights: np.ndarray, levels: int) -> np.ndarray:
    """Weights in a dtype whose sums do not overflow: int64 when safe, Python ints otherwise, or float64."""
    if weights.dtype.kind == "f":
        return weights.astype(np.float64)
    values = weights.tolist()
    # an item of any level weighs at most (levels) × the total weight
    if sum(values) * (levels + 1) < 2**62:
        return np.asarray(values, dtype=np.int64)
    return np.array(values, dtype=object)


def _package_merge(sorted_weights: np.ndarray, limit: int) -> np.ndarray:
    """Codeword lengths of leaves given in ascending weight order (n ≥ 2, 2^limit ≥ n).

    Leaves enter every level in the same order, so the leaves among the first
    c items of a level are the first leaves of ``sorted_weights``: a level is
    remembered by one boolean per item (package or leaf), 2n bytes.
    """
    n = sorted_weights.size
    is_package_by_level: list[np.ndarray] = []
    items_weights = sorted_weights
    is_package = np.zeros(n, dtype=bool)
    for _level in range(limit, 1, -1):
        is_package_by_level.append(is_package)
        pairs = items_weights.size // 2
        package_weights = items_weights[0 : 2 * pairs : 2] + items_weights[1 : 2 * pairs : 2]
        all_weights = np.concatenate((sorted_weights, package_weights))
        order = np.argsort(all_weights, kind="stable")  # at equal weight: leaves (by id) before packages
        items_weights, is_package = all_weights[order], order >= n
    is_package_by_level.append(is_package)
    lengths = np.zeros(n, dtype=np.int64)
    chosen = 2 * n - 2  # level 1: coins of width 1/2 adding up to n − 1
    for is_package in reversed(is_package_by_level):  # level 1 first
        packages = int(np.count_nonzero(is_package[:chosen]))
        lengths[: chosen - packages] += 1
        chosen = 2 * packages
    return lengths


class LimitedHuffmanCode(PrefixCode):
    """An optimal prefix code with no codeword longer than ``max_length_bits`` (package-merge).

    >>> from klcode.models.distribution import Distribution
    >>> code = LimitedHuffmanCode.from_distribution(Distribution.from_counts([8, 4, 2, 1, 1]), 3)
    >>> code.name, code.lengths_bits.tolist(), code.max_length_bits
    ('huffman[max-length=3]', [1, 3, 3, 3, 3], 3)
    """

    @classmethod
    def from_weights(cls, weights: np.ndarray, max_length_bits: int, name: str | None = None) -> LimitedHuffmanCode:
        lengths = length_limited_lengths(weights, max_length_bits)
        return cls(lengths, name or f"huffman[max-length={int(max_length_bits)}]")

    @classmethod
    def from_distribution(
        cls, distribution: Distribution, max_length_bits: int, name: str | None = None
    ) -> LimitedHuffmanCode:
        """Length-limited Huffman code of q, from its counts when it has them, else its probabilities."""
        weights = distribution.counts if distribution.counts is not None else distribution.probabilities
        return cls.from_weights(weights, max_length_bits, name)
