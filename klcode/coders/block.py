"""Block codes: a prefix code of the k-th extension of q, coding k tokens per codeword.

The k-th extension of q is the distribution of k independent tokens,
q^k(x1…xk) = q(x1)·…·q(xk), over the block alphabet (support of q)^k.  A
Huffman code of q^k spends L_k bits per block with H(q^k) ≤ L_k < H(q^k) + 1,
and H(q^k) = k·H(q), so per token H(q) ≤ L_k / k < H(q) + 1/k: the rounding
loss of a prefix code shrinks like 1/k (Cover & Thomas, §5.4).  Coding p
with the Shannon code of q^k costs, per token, between H(p, q) and
H(p, q) + 1/k, so the measured gap L_q − L_p tends to KL(p‖q).  Huffman and
length-limited codes of q^k are built the same way.

Layout of a stream of n tokens: the first ⌊n/k⌋·k tokens form ⌊n/k⌋ blocks;
block b = (x1, …, xk) has the mixed-radix id Σ i(xj)·s^(k−j), where i(x) is
the index of x in the support of q (s symbols).  The last n mod k tokens (the
*tail*) are coded one by one with the same family's code of q itself (k = 1);
their bits count in ``n_bits`` like every other bit.  The payload is a
:class:`BlockBits` pair (block bits, tail bits).

:meth:`BlockCoder.expected_bits_per_token` is the per-token cost of an
infinitely long i.i.d. stream, Σ_b p^k(b)·l(b) / k: the tail, at most k − 1
tokens, vanishes in that limit.

The block alphabet has s^k symbols; beyond :data:`MAX_BLOCK_SYMBOLS` the coder
refuses before building anything.  Block weights are float products (counts,
when given, are the exact weights of the k = 1 code and of the tail only).

>>> from klcode.models.distribution import Distribution
>>> q = Distribution.bernoulli(0.9, ("T", "H"))
>>> coder = BlockCoder.from_distribution(q, block_size=2)
>>> coder.name, coder.block_lengths_bits.tolist()
('huffman[block=2]', [3, 3, 2, 1])
>>> round(coder.expected_bits_per_token(q.probabilities), 4)
0.645
>>> encoded = coder.encode(np.array([1, 1, 0, 1, 1]))
>>> encoded.n_bits, coder.decode(encoded).tolist()
(5, [1, 1, 0, 1, 1])
"""

from __future__ import annotations

import heapq
import math
import operator
from typing import NamedTuple

import numpy as np
from bitarray import bitarray

from ..errors import CodeError
from ..models.distribution import SUM_TOLERANCE, Distribution
from ._checks import checked_ids
from .base import Coder, Encoded
from .huffman import huffman_lengths
from .limited import _checked_limit, length_limited_lengths
from .prefix import PrefixCode
from .shannon import shannon_lengths

__all__ = ["FAMILIES", "MAX_BLOCK_SYMBOLS", "BlockBits", "BlockCoder"]

#: The largest block alphabet (s^k symbols) a block code is built for.
MAX_BLOCK_SYMBOLS = 2**20
#: Code families a block coder can build, with the name used in its description.
FAMILIES = {"huffman": "Huffman", "shannon": "Shannon", "limited": "length-limited Huffman"}


class BlockBits(NamedTuple):
    """Payload of a block-coded stream: the bits of the blocks, then the bits of the tail."""

    blocks: bitarray
    tail: bitarray


class BlockCoder(Coder):
    """A prefix code of the k-th extension q^k, coding blocks of k tokens (k = 1: the code of q itself).

    ``probabilities`` is q over ids 0..size−1; ``counts`` (optional integer
    counts of q) give the exact weights of the k = 1 code and of the tail.
    ``family`` is ``"huffman"``, ``"shannon"`` or ``"limited"`` (length-limited
    Huffman, then ``max_length_bits`` is the longest codeword allowed, for
    block codewords and tail codewords alike).

    >>> coder = BlockCoder([0.5, 0.25, 0.25], block_size=3, family="shannon")
    >>> coder.name, coder.block_symbols, coder.expected_bits_per_token([0.5, 0.25, 0.25])
    ('shannon[block=3]', 27, 1.5)
    """

    def __init__(
        self,
        probabilities: np.ndarray,
        block_size: int,
        family: str = "huffman",
        *,
        max_length_bits: int | None = None,
        counts: np.ndarray | None = None,
    ) -> None:
        k = _checked_block_size(block_size)
        if family not in FAMILIES:
            raise CodeError(f"unknown code family {family!r} (expected one of {', '.join(FAMILIES)})")
        if family == "limited" and max_length_bits is None:
            raise CodeError("the limited family needs max_length_bits (got None)")
        if family != "limited" and max_length_bits is not None:
            raise CodeError(f"max_length_bits applies to the limited family only (got family {family!r})")
        limit = None if max_length_bits is None else _checked_limit(max_length_bits)
        q = _checked_probabilities(probabilities)
        if counts is not None:
            counts = _checked_counts(counts, q)
        support = np.flatnonzero(q > 0)
        s = int(support.size)
        block_symbols = s**k  # a Python int: no overflow before the check
        if k > 1 and block_symbols > MAX_BLOCK_SYMBOLS:
            raise CodeError(
                f"a block code of k={k} over {s:,} symbols needs {block_symbols:,} block symbols "
                f"(limit {MAX_BLOCK_SYMBOLS:,}); use a smaller --block"
            )
        needed = max(1, (block_symbols - 1).bit_length())
        if limit is not None and k > 1 and limit < needed:
            raise CodeError(
                f"no prefix code gives {block_symbols:,} block symbols (k={k}) codewords of at most "
                f"{limit} bits (needs --max-length >= {needed})"
            )
        self.block_size = k
        self.family = family
        self.max_length_bits = limit
        self.probabilities = q
        self.support_ids = support
        self.block_symbols = block_symbols
        options = [f"max-length={self.max_length_bits}"] if family == "limited" else []
        options += [f"block={k}"] if k > 1 else []
        self.name = ("huffman" if family == "limited" else family) + (f"[{','.join(options)}]" if options else "")
        weights = counts if counts is not None else q
        self.tail_code = PrefixCode(self._lengths(weights, block=False), self.name)
        if k == 1:
            self.block_code = PrefixCode(self.tail_code.lengths_bits[support], self.name)
        else:
            self.block_code = PrefixCode(self._lengths(_extension(q[support], k), block=True), self.name)
        self._index = np.full(q.size, -1, dtype=np.int64)
        self._index[support] = np.arange(s)
        self._radix = s ** np.arange(k - 1, -1, -1, dtype=np.int64)

    @classmethod
    def from_distribution(
        cls, distribution: Distribution, block_size: int, family: str = "huffman", max_length_bits: int | None = None
    ) -> BlockCoder:
        """Block coder of q^k for a distribution q (its counts, when it has them, weigh the k = 1 code)."""
        return cls(
            distribution.probabilities,
            block_size,
            family,
            max_length_bits=max_length_bits,
            counts=distribution.counts,
        )

    # --------------------------------------------------------------- properties
    @property
    def size(self) -> int:
        """Number of ids the coder is defined over (with or without a codeword)."""
        return int(self.probabilities.size)

    @property
    def lengths_bits(self) -> np.ndarray | None:
        """Codeword length per id when k = 1; None for k > 1 (lengths are per block)."""
        return self.tail_code.lengths_bits if self.block_size == 1 else None

    @property
    def block_lengths_bits(self) -> np.ndarray:
        """Codeword length per block id (mixed radix over the support of q, first token most significant)."""
        return self.block_code.lengths_bits

    @property
    def description(self) -> str:
        label = FAMILIES[self.family]
        limit = f" (codewords of at most {self.max_length_bits} bits)" if self.family == "limited" else ""
        s, k = self.support_ids.size, self.block_size
        if k == 1:
            return f"{label} code of q over its {s:,} symbols{limit}"
        return (
            f"{label} code of the k={k} extension of q{limit}: blocks of {k} tokens over {s:,} symbols "
            f"({self.block_symbols:,} block symbols); the last n mod {k} tokens use the {label} code of q"
        )

    # ------------------------------------------------------------------ costing
    def expected_bits_per_token(self, probabilities: np.ndarray) -> float:
        """Per-token length of an endless i.i.d. stream: Σ_b p^k(b)·l(b) / k (∞ if p leaves the support of q)."""
        p = np.asarray(probabilities, dtype=np.float64)
        if p.ndim != 1:
            raise CodeError(f"probabilities must be a 1-D array (got shape {p.shape})")
        if p.size > self.size:
            if (p[self.size :] > 0).any():
                return float("inf")
            p = p[: self.size]
        padded = np.zeros(self.size)
        padded[: p.size] = p
        if (padded[self._index < 0] > 0).any():
            return float("inf")
        block_probabilities = _extension(padded[self.support_ids], self.block_size)
        return float(block_probabilities @ self.block_code.lengths_bits) / self.block_size

    # ----------------------------------------------------------- encode / decode
    def encode(self, ids: np.ndarray) -> Encoded:
        """Encode ids: ⌊n/k⌋ blocks with the code of q^k, then the n mod k tail tokens with the code of q."""
        ids = checked_ids(ids, self.size)
        n, k = int(ids.size), self.block_size
        if n == 0:
            return Encoded(BlockBits(bitarray(endian="big"), bitarray(endian="big")), 0, 0)
        positions = self._index[ids]
        if (positions < 0).any():
            unseen = np.unique(ids[positions < 0])
            raise CodeError(
                f"id {int(unseen[0])} has probability 0 under q, so the {self.name} code has no codeword for it "
                f"({unseen.size} such id(s) in the stream)"
            )
        n_full = n - n % k
        block_ids = positions[:n_full].reshape(-1, k) @ self._radix
        block_bits = self.block_code.encode(block_ids)
        tail_bits = self.tail_code.encode(ids[n_full:])
        return Encoded(BlockBits(block_bits, tail_bits), len(block_bits) + len(tail_bits), n)

    def decode(self, encoded: Encoded) -> np.ndarray:
        """The ids of a block-coded stream (int64)."""
        blocks, tail = encoded.payload
        k, n = self.block_size, encoded.n_tokens
        block_ids = self.block_code.decode(blocks, n // k)
        digits = (block_ids[:, None] // self._radix) % self.support_ids.size
        head = self.support_ids[digits].reshape(-1)
        return np.concatenate((head, self.tail_code.decode(tail, n % k))).astype(np.int64, copy=False)

    # ----------------------------------------------------------------- helpers
    def _lengths(self, weights: np.ndarray, *, block: bool) -> np.ndarray:
        if self.family == "shannon":
            return shannon_lengths(weights)
        if self.family == "limited":
            return length_limited_lengths(weights, self.max_length_bits)
        return huffman_lengths(weights)  # compiled for large (block) alphabets, the same tie rule


def _checked_block_size(block_size: int) -> int:
    try:
        k = operator.index(block_size)
    except TypeError:
        raise CodeError(f"the block size must be an integer k >= 1 (got {block_size!r})") from None
    if isinstance(block_size, bool) or k < 1:
        raise CodeError(f"the block size must be an integer k >= 1 (got {block_size!r})")
    return k


def _checked_probabilities(probabilities: np.ndarray) -> np.ndarray:
    q = np.array(probabilities, dtype=np.float64, copy=True)
    if q.ndim != 1 or q.size == 0:
        raise CodeError(f"block code probabilities must be a non-empty 1-D array (got shape {q.shape})")
    if not np.isfinite(q).all():
        raise CodeError("block code probabilities must be finite (got a NaN or infinite value)")
    if (q < 0).any():
        raise CodeError(f"block code probabilities must not be negative (got {q[q < 0][0]:g})")
    total = math.fsum(q.tolist())
    if abs(total - 1) > SUM_TOLERANCE:
        raise CodeError(f"block code probabilities must sum to 1 (got {total:.12g})")
    q.flags.writeable = False
    return q


def _checked_counts(counts: np.ndarray, q: np.ndarray) -> np.ndarray:
    counts = np.asarray(counts)
    if counts.shape != q.shape or counts.dtype.kind not in "iu":
        raise CodeError(
            f"counts must be integers, one per probability (got dtype {counts.dtype}, shape {counts.shape})"
        )
    if not np.array_equal(counts > 0, q > 0):
        bad = int(np.flatnonzero((counts > 0) != (q > 0))[0])
        raise CodeError(
            f"counts and probabilities disagree on the support (id {bad}: count {counts[bad]}, q {q[bad]:g})"
        )
    return counts


def _extension(q: np.ndarray, k: int) -> np.ndarray:
    """Probabilities of the k-th extension, q(x1)·…·q(xk), flattened with x1 most significant."""
    product = q
    for _ in range(k - 1):
        product = np.multiply.outer(product, q).reshape(-1)
    return product


def _huffman_lengths_heap(weights: np.ndarray) -> np.ndarray:
    """Huffman lengths with exactly dahuffman's tie rule (as in :func:`huffman_lengths`), for large alphabets.

    dahuffman merges Python lists of leaves at every step, which takes about
    40 s for 2^20 block symbols.  This keeps (weight, first leaf id, node) on
    the heap instead — the same order, since dahuffman compares equal weights
    by the leaf lists, i.e. by their first leaf id — and reads depths off the
    parent links: the same lengths in a few seconds.
    """
    weights = np.asarray(weights)
    used = np.flatnonzero(weights > 0)
    if used.size < 2:
        return huffman_lengths(weights)
    n = int(used.size)
    heap = list(zip(weights[used].tolist(), used.tolist(), range(n)))
    heapq.heapify(heap)
    parent = [0] * (2 * n - 1)
    node = n
    pop, push = heapq.heappop, heapq.heappush
    while len(heap) > 1:
        weight_a, first_leaf, a = pop(heap)
        weight_b, _, b = pop(heap)
        parent[a] = parent[b] = node
        push(heap, (weight_a + weight_b, first_leaf, node))
        node += 1
    depth = [0] * (2 * n - 1)
    for internal in range(2 * n - 3, n - 1, -1):  # parents are created after their children
        depth[internal] = depth[parent[internal]] + 1
    parents = np.asarray(parent[:n])
    lengths = np.zeros(weights.size, dtype=np.int64)
    lengths[used] = np.asarray(depth, dtype=np.int64)[parents] + 1
    return lengths
