"""The coders by name: which families exist, how a name plus options becomes a :class:`Coder`.

``--coder NAME[,NAME...]`` chooses the families: the order-0 coders
``huffman``, ``shannon`` and ``ans`` are built from a model; the contextual
coders ``zlib``, ``bz2``, ``lzma`` and ``zstd`` are built from nothing and
exploit the order of tokens.  ``--block K`` (the k-th extension) and
``--max-length L`` (length-limited Huffman) modify the prefix codes only.

>>> [spec.label for spec in parse_coders("huffman,ans", block=2)]
['huffman[block=2]', 'ans']
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import DataError
from .base import Coder, PrefixCoder
from .huffman import HuffmanCode

PREFIX_FAMILIES = ("huffman", "shannon")
ORDER0_FAMILIES = (*PREFIX_FAMILIES, "ans")
CONTEXTUAL_FAMILIES = ("zlib", "bz2", "lzma", "zstd")
CODER_NAMES = ORDER0_FAMILIES + CONTEXTUAL_FAMILIES


@dataclass(frozen=True)
class CoderSpec:
    """A coder family with its options: ``block`` tokens per codeword, ``max_length_bits`` (Huffman only)."""

    name: str
    block: int = 1
    max_length_bits: int | None = None

    def __post_init__(self) -> None:
        if self.name not in CODER_NAMES:
            raise DataError(f"unknown coder {self.name!r} (choose from {', '.join(CODER_NAMES)})")
        if self.block < 1:
            raise DataError(f"--block must be >= 1 (got {self.block})")
        if self.max_length_bits is not None and self.max_length_bits < 1:
            raise DataError(f"--max-length must be >= 1 (got {self.max_length_bits})")
        if self.name not in PREFIX_FAMILIES:  # the options modify the prefix codes only
            object.__setattr__(self, "block", 1)
            object.__setattr__(self, "max_length_bits", None)
        elif self.name != "huffman":
            object.__setattr__(self, "max_length_bits", None)

    @property
    def order0(self) -> bool:
        return self.name in ORDER0_FAMILIES

    @property
    def plain_huffman(self) -> bool:
        """The default code: Huffman, one token per codeword, no length limit."""
        return self.name == "huffman" and self.block == 1 and self.max_length_bits is None

    @property
    def label(self) -> str:
        options = []
        if self.block > 1:
            options.append(f"block={self.block}")
        if self.max_length_bits is not None:
            options.append(f"max-length={self.max_length_bits}")
        return self.name + (f"[{','.join(options)}]" if options else "")


def parse_coders(text: str, block: int = 1, max_length_bits: int | None = None) -> tuple[CoderSpec, ...]:
    """Coder specs from a comma-separated list of names (duplicates dropped, order kept)."""
    names = [name.strip() for name in text.split(",") if name.strip()]
    if not names:
        raise DataError(f"--coder needs at least one name (got {text!r})")
    return tuple(CoderSpec(name, block, max_length_bits) for name in dict.fromkeys(names))


def build_coder(spec: CoderSpec, probabilities: np.ndarray, counts: np.ndarray | None = None) -> Coder:
    """The coder ``spec`` built from a model (per-id probabilities; integer counts give exact Huffman weights)."""
    probabilities = np.asarray(probabilities, dtype=np.float64)
    if spec.name in CONTEXTUAL_FAMILIES:
        from .contextual import CompressorCoder

        return CompressorCoder.create(spec.name, probabilities.size)
    if spec.name == "ans":
        from .ans import AnsCoder

        return AnsCoder.from_probabilities(probabilities)
    if spec.block > 1:
        from .block import BlockCoder

        family = "limited" if spec.max_length_bits is not None else spec.name
        return BlockCoder(probabilities, spec.block, family, max_length_bits=spec.max_length_bits)
    weights = counts if counts is not None else probabilities
    if spec.name == "shannon":
        from .shannon import ShannonCode

        return PrefixCoder(ShannonCode.from_probabilities(probabilities), spec.label, "Shannon code: l = ⌈−log2 q⌉")
    if spec.max_length_bits is not None:
        from .limited import LimitedHuffmanCode

        code = LimitedHuffmanCode.from_weights(weights, spec.max_length_bits, spec.label)
        return PrefixCoder(code, spec.label, f"length-limited Huffman (package-merge), codewords ≤ {spec.max_length_bits} bits")
    return PrefixCoder(HuffmanCode.from_weights(weights, spec.label), spec.label, "Huffman code")
