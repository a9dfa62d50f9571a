"""One interface for every coder: built from a model, it encodes a stream of ids, decodes it back, counts bits.

A :class:`Coder` codes streams of ids 0..size-1.  *Order-0* coders (prefix
codes, block codes, ANS) are built from a model distribution and code each
token (or block of tokens) independently of the others, so their bits per
token are comparable with the cross-entropy formula.  *Contextual* coders
(zlib, bz2, lzma, zstd) exploit the order of tokens and are built from
nothing: their bits are not an order-0 cross-entropy and are labelled so.

The payload of an :class:`Encoded` stream is the coder's own (a bitarray,
an array of words, bytes); ``n_bits`` is its exact size in bits.

>>> import numpy as np
>>> from klcode.coders import PrefixCode
>>> coder = PrefixCoder(PrefixCode.from_lengths([1, 2, 2]), "huffman")
>>> encoded = coder.encode(np.array([0, 2, 1, 0]))
>>> encoded.n_bits, coder.decode(encoded).tolist()
(6, [0, 2, 1, 0])
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np

from .prefix import PrefixCode


@dataclass(frozen=True, eq=False)
class Encoded:
    """An encoded stream: the coder's payload, its exact size in bits, and the number of tokens in it."""

    payload: object
    n_bits: int
    n_tokens: int


class Coder(ABC):
    """A code for streams of ids 0..size-1 (see the module docstring)."""

    #: Short name used on the command line and as a JSON key, e.g. "huffman", "ans", "zlib".
    name: str
    #: True for coders built from a model that code tokens independently; False for contextual coders.
    order0: bool = True

    @property
    def lengths_bits(self) -> np.ndarray | None:
        """Codeword length of each id for codes that have them (prefix codes), else None."""
        return None

    @property
    def description(self) -> str:
        """One line saying what the coder is (shown under result tables)."""
        return self.name

    def expected_bits_per_token(self, probabilities: np.ndarray) -> float | None:
        """Average bits per token when tokens are drawn i.i.d. from ``probabilities``, when defined."""
        lengths = self.lengths_bits
        if lengths is None:
            return None
        p = np.asarray(probabilities, dtype=np.float64)
        if (p[lengths[: p.size] == 0] > 0).any():
            return float("inf")
        return float(p @ lengths[: p.size])

    @abstractmethod
    def encode(self, ids: np.ndarray) -> Encoded:
        """Encode a 1-D array of ids."""

    @abstractmethod
    def decode(self, encoded: Encoded) -> np.ndarray:
        """The ids of an encoded stream (int64)."""


class PrefixCoder(Coder):
    """A :class:`~klcode.coders.prefix.PrefixCode` (Huffman, Shannon, length-limited) as a coder."""

    def __init__(self, code: PrefixCode, name: str, description: str | None = None) -> None:
        self.code = code
        self.name = name
        self._description = description or name

    @property
    def lengths_bits(self) -> np.ndarray:
        return self.code.lengths_bits

    @property
    def description(self) -> str:
        return self._description

    def encode(self, ids: np.ndarray) -> Encoded:
        bits = self.code.encode(np.asarray(ids))
        return Encoded(bits, len(bits), int(np.asarray(ids).size))

    def decode(self, encoded: Encoded) -> np.ndarray:
        return self.code.decode(encoded.payload, encoded.n_tokens)
