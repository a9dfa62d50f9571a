"""Shannon codes: codeword lengths l(x) = ⌈−log2 q(x)⌉, computed exactly.

The Shannon code of q gives each symbol the shortest length with
2^(−l) ≤ q(x), so Σ 2^(−l(x)) ≤ Σ q(x) ≤ 1 (Kraft holds, a prefix code exists)
and, for p = q, H(q) ≤ L < H(q) + 1.  Unlike Huffman it is not optimal, but
its lengths are a closed formula of q, which makes the rounding of q to
powers of two visible symbol by symbol: l(x) − (−log2 q(x)) ∈ [0, 1).

Exactness: a float q = m·2^e with m ∈ [½, 1) (``np.frexp``) has
⌈−log2 q⌉ = 1 − e exactly, whatever m is (m = ½ is the power-of-two case
q = 2^(e−1), whose length is 1 − e as well).  No floating-point logarithm is
involved, so q = 2^(−k) gets exactly k bits and 2^(−l) ≤ q < 2^(−(l−1)) holds
for every symbol.  Integer counts c(x) are turned into lengths with integer
arithmetic only: l = the smallest l with c·2^l ≥ N, where N = Σ c.

A symbol with q = 1 (the only one) would get 0 bits; like Huffman
(:mod:`klcode.coders.huffman`, trap 3) it gets 1 bit instead, since every
codeword of a code is at least 1 bit long: L = 1 while H = 0, Kraft sum ½.

>>> shannon_lengths(np.array([0.5, 0.25, 0.125, 0.125, 0.0])).tolist()
[1, 2, 3, 3, 0]
>>> code = ShannonCode.from_probabilities([0.4, 0.3, 0.2, 0.1])
>>> code.lengths_bits.tolist(), code.kraft_sum
([2, 2, 3, 4], 0.6875)
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..errors import CodeError
from ..models.distribution import SUM_TOLERANCE, Distribution
from .prefix import PrefixCode

__all__ = ["ShannonCode", "shannon_lengths"]


def shannon_lengths(probabilities: Sequence[float] | np.ndarray) -> np.ndarray:
    """Shannon codeword lengths l(x) = ⌈−log2 q(x)⌉ (int64; 0 where q(x) = 0), exactly.

    ``probabilities`` are floats with Σ q ≤ 1, or non-negative integer counts
    (then q = c / Σ c and the lengths come from integer arithmetic).  A lone
    symbol with q = 1 gets 1 bit (see the module docstring).

    >>> shannon_lengths([0.3, 0.7]).tolist()
    [2, 1]
    >>> shannon_lengths(np.array([3, 1, 0])).tolist()  # counts: q = (3/4, 1/4, 0)
    [1, 2, 0]
    """
    q = np.asarray(probabilities)
    if q.ndim != 1 or q.size == 0:
        raise CodeError(f"Shannon code probabilities must be a non-empty 1-D array (got shape {q.shape})")
    if q.dtype.kind in "iu":
        return _lengths_from_counts(q)
    if q.dtype.kind != "f":
        q = q.astype(np.float64)
    if not np.isfinite(q).all():
        raise CodeError("Shannon code probabilities must be finite (got a NaN or infinite value)")
    if (q < 0).any():
        raise CodeError(f"Shannon code probabilities must not be negative (got {q[q < 0][0]:g})")
    if not (q > 0).any():
        raise CodeError("a Shannon code needs at least one positive probability (got all zero)")
    total = float(np.sum(q, dtype=np.float64))
    if total > 1 + SUM_TOLERANCE:
        raise CodeError(f"Shannon code probabilities must sum to at most 1 (got {total:.12g})")
    _mantissa, exponent = np.frexp(q.astype(np.float64))
    lengths = np.where(q > 0, 1 - exponent.astype(np.int64), 0)
    return _at_least_one_bit(lengths, q > 0)


def _lengths_from_counts(counts: np.ndarray) -> np.ndarray:
    """⌈log2(N / c)⌉ for each count c > 0, N = Σ c, in exact integer arithmetic."""
    if (counts < 0).any():
        raise CodeError(f"Shannon code counts must not be negative (got {counts[counts < 0][0]})")
    values = counts.tolist()
    total = sum(values)  # a Python int: exact however large
    if total == 0:
        raise CodeError("a Shannon code needs at least one positive count (got all zero)")
    # smallest l with c·2^l ≥ N  ⇔  2^l ≥ ⌈N/c⌉  ⇔  l = bit_length(⌈N/c⌉ − 1)
    lengths = np.array([(-(-total // c) - 1).bit_length() if c else 0 for c in values], dtype=np.int64)
    return _at_least_one_bit(lengths, counts > 0)


def _at_least_one_bit(lengths: np.ndarray, used: np.ndarray) -> np.ndarray:
    lengths[used & (lengths == 0)] = 1  # q = 1: a codeword is at least 1 bit long
    return lengths


class ShannonCode(PrefixCode):
    """The Shannon code of q: lengths ⌈−log2 q(x)⌉, canonical codewords, Kraft sum ≤ 1.

    >>> from klcode.models.distribution import Distribution
    >>> ShannonCode.from_distribution(Distribution.from_counts([5, 2, 1])).lengths_bits.tolist()
    [1, 2, 3]
    """

    @classmethod
    def from_probabilities(cls, probabilities: Sequence[float] | np.ndarray, name: str = "shannon") -> ShannonCode:
        """Shannon code of the probabilities q (or of integer counts, exactly)."""
        return cls(shannon_lengths(probabilities), name)

    @classmethod
    def from_distribution(cls, distribution: Distribution, name: str = "shannon") -> ShannonCode:
        """Shannon code of q, from its exact counts when it has them, else its probabilities."""
        weights = distribution.counts if distribution.counts is not None else distribution.probabilities
        return cls.from_probabilities(weights, name)
