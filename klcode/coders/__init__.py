"""Codes on integer symbol ids behind one interface: lengths, encode, decode, exact bits.

Order-0 families built from a model: Huffman (and length-limited Huffman),
Shannon, block codes of the k-th extension, ANS; contextual ones built from
nothing: zlib, bz2, lzma, zstd.  :func:`build_coder` makes one by name.
"""

from .ans import AnsCoder
from .base import Coder, Encoded, PrefixCoder
from .block import BlockCoder
from .contextual import CompressorCoder
from .huffman import TIE_RULE, HuffmanCode, huffman_lengths
from .limited import LimitedHuffmanCode, length_limited_lengths
from .prefix import CodewordRow, PrefixCode
from .registry import CODER_NAMES, CoderSpec, build_coder, parse_coders
from .shannon import ShannonCode, shannon_lengths
from .ties import TieBand, huffman_tie_band

__all__ = [
    "CODER_NAMES",
    "TIE_RULE",
    "AnsCoder",
    "BlockCoder",
    "Coder",
    "CoderSpec",
    "CodewordRow",
    "CompressorCoder",
    "Encoded",
    "HuffmanCode",
    "LimitedHuffmanCode",
    "PrefixCode",
    "PrefixCoder",
    "ShannonCode",
    "TieBand",
    "build_coder",
    "huffman_lengths",
    "huffman_tie_band",
    "length_limited_lengths",
    "parse_coders",
    "shannon_lengths",
]
