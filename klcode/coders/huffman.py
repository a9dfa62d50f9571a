"""Huffman codes on integer ids with dahuffman's tie rule, in O(n log n), free of dahuffman's end-of-file leaf.

The lengths are those of dahuffman's Huffman tree (the reference the tests
compare with) built without its end-of-file leaf: dahuffman adds a leaf of
weight 1 unless ``eof`` is one of the symbols (DESIGN.md, trap 1), which with
p = (.5, .25, .125, .125) would make the average length 2.75 bits instead of
1.75.  Only the codeword *lengths* come from the tree; the codewords are the
canonical ones for those lengths (:class:`~klcode.coders.prefix.PrefixCode`).

Tie rule (documented because ties change the cost of coding another
distribution, DESIGN.md trap 2): dahuffman keeps a heap of
(weight, [leaves]) pairs; among equal weights the pair whose leaf list starts
with the smaller id is merged first.  Leaves enter in id order and a merged
node lists the leaves of its first-popped child first, so the rule is total
and deterministic on ids.  Weights are exact integer counts when the
distribution carries counts, the float probabilities otherwise.

The same heap on (weight, first leaf id) gives the same tree: with Python's
``heapq`` for small alphabets, and compiled
(:func:`klcode.coders.kernels.huffman_lengths_heap`, numba) from
:data:`COMPILED_MIN_SYMBOLS` symbols on, where 10^6 types take well under a
second (dahuffman itself rebuilds leaf lists at every merge: a minute).

One-symbol alphabets (trap 3) get a 1-bit codeword, as every prefix code
needs at least one bit to be a code at all: L = 1 bit while H = 0, Kraft sum ½.
The bound H ≤ L < H + 1 is a theorem for two or more symbols only.

>>> from klcode.models.distribution import Distribution
>>> code = HuffmanCode.from_distribution(Distribution.from_probabilities([0.25, 0.25, 0.2, 0.15, 0.15]))
>>> code.lengths_bits.tolist(), round(code.expected_bits_per_token([0.25, 0.25, 0.2, 0.15, 0.15]), 10)
([2, 2, 2, 3, 3], 2.3)
"""

from __future__ import annotations

import heapq

import numpy as np

from ..models.distribution import Distribution
from ._checks import checked_weights
from .prefix import PrefixCode

TIE_RULE = (
    "dahuffman heap on integer ids: among equal weights, the node whose first leaf "
    "has the smaller id is merged first; codewords are canonical (sorted by length, then id)"
)


#: Alphabets of at least this many symbols are built by the compiled heap (numba); smaller ones by heapq.
COMPILED_MIN_SYMBOLS = 50_000


def huffman_lengths(weights: np.ndarray) -> np.ndarray:
    """Huffman codeword lengths l(x) for non-negative weights w(x) (0 weight = no codeword), dahuffman's tie rule.

    >>> huffman_lengths(np.array([4, 2, 1, 1, 0])).tolist()
    [1, 2, 3, 3, 0]
    """
    weights, used = checked_weights(weights, "Huffman", numbers_only=False)
    lengths = np.zeros(weights.size, dtype=np.int64)
    if used.size == 1:
        lengths[used[0]] = 1
        return lengths
    positive = weights[used]
    exact_int64 = positive.dtype.kind in "iu" and int(positive.sum(dtype=np.float64)) < 2**62
    if used.size >= COMPILED_MIN_SYMBOLS and (exact_int64 or positive.dtype.kind == "f"):
        from .kernels import huffman_lengths_heap

        dtype = np.int64 if positive.dtype.kind in "iu" else np.float64
        lengths[used] = huffman_lengths_heap(np.ascontiguousarray(positive, dtype=dtype), 0.0)[0]
        return lengths
    lengths[used] = _heap_lengths(positive.tolist())  # Python ints or floats: exact comparisons
    return lengths


def _heap_lengths(weights: list) -> list[int]:
    """Leaf depths of the Huffman tree on a heap of (weight, first leaf id, node), with Python's heapq."""
    n = len(weights)
    heap = [(w, i, i) for i, w in enumerate(weights)]
    heapq.heapify(heap)
    parent = [0] * (2 * n - 1)
    pop, push = heapq.heappop, heapq.heappush
    for node in range(n, 2 * n - 1):
        weight_a, first, a = pop(heap)
        weight_b, _, b = pop(heap)
        parent[a] = parent[b] = node
        push(heap, (weight_a + weight_b, first, node))
    depth = [0] * (2 * n - 1)
    for node in range(2 * n - 3, -1, -1):
        depth[node] = depth[parent[node]] + 1
    return depth[:n]


class HuffmanCode(PrefixCode):
    """An optimal prefix code: the Huffman code of a distribution, on its ids."""

    @classmethod
    def from_weights(cls, weights: np.ndarray, name: str = "huffman") -> HuffmanCode:
        return cls(huffman_lengths(weights), name)

    @classmethod
    def from_distribution(cls, distribution: Distribution, name: str = "huffman") -> HuffmanCode:
        """Huffman code of p, from its counts when it has them, else its probabilities."""
        weights = distribution.counts if distribution.counts is not None else distribution.probabilities
        return cls.from_weights(weights, name)
