"""Huffman codes built with dahuffman on integer ids, free of dahuffman's end-of-file leaf.

dahuffman adds an end-of-file leaf of weight 1 unless ``eof`` is one of the
symbols (DESIGN.md, trap 1): with p = (.5, .25, .125, .125) that leaf would
make the average length 2.75 bits instead of 1.75.  We pass the first id with
a codeword as ``eof``, so the tree has exactly one leaf per symbol; only the
codeword *lengths* are taken from dahuffman, and the codewords are the
canonical ones for those lengths (:class:`~klcode.coders.prefix.PrefixCode`).

Tie rule (documented because ties change the cost of coding another
distribution, DESIGN.md trap 2): dahuffman keeps a heap of
(weight, [leaves]) pairs; among equal weights the pair whose leaf list starts
with the smaller id is merged first.  Leaves enter in id order and a merged
node lists the leaves of its first-popped child first, so the rule is total
and deterministic on ids.  Weights are exact integer counts when the
distribution carries counts, the float probabilities otherwise.

One-symbol alphabets (trap 3) get a 1-bit codeword, as every prefix code
needs at least one bit to be a code at all: L = 1 bit while H = 0, Kraft sum ½.
The bound H ≤ L < H + 1 is a theorem for two or more symbols only.

>>> from klcode.models.distribution import Distribution
>>> code = HuffmanCode.from_distribution(Distribution.from_probabilities([0.25, 0.25, 0.2, 0.15, 0.15]))
>>> code.lengths_bits.tolist(), round(code.expected_bits_per_token([0.25, 0.25, 0.2, 0.15, 0.15]), 10)
([2, 2, 2, 3, 3], 2.3)
"""

from __future__ import annotations

import numpy as np
from dahuffman import HuffmanCodec

from ..models.distribution import Distribution
from ._checks import checked_weights
from .prefix import PrefixCode

TIE_RULE = (
    "dahuffman heap on integer ids: among equal weights, the node whose first leaf "
    "has the smaller id is merged first; codewords are canonical (sorted by length, then id)"
)


def huffman_lengths(weights: np.ndarray) -> np.ndarray:
    """Huffman codeword lengths for non-negative weights (0 weight = no codeword).

    >>> huffman_lengths(np.array([4, 2, 1, 1, 0])).tolist()
    [1, 2, 3, 3, 0]
    """
    weights, used = checked_weights(weights, "Huffman", numbers_only=False)
    lengths = np.zeros(weights.size, dtype=np.int64)
    if used.size == 1:
        lengths[used[0]] = 1
        return lengths
    values = weights[used].tolist()  # Python ints or floats: exact comparisons in the heap
    frequencies = dict(zip(used.tolist(), values))
    table = HuffmanCodec.from_frequencies(frequencies, eof=int(used[0])).get_code_table()
    for symbol_id, (length, _value) in table.items():
        lengths[symbol_id] = length
    return lengths


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
