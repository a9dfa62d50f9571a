"""Codes on integer symbol ids behind one interface: lengths, encode, decode, Kraft sum."""

from .base import Coder, Encoded, PrefixCoder
from .huffman import TIE_RULE, HuffmanCode, huffman_lengths
from .prefix import CodewordRow, PrefixCode

__all__ = ["TIE_RULE", "Coder", "CodewordRow", "Encoded", "HuffmanCode", "PrefixCode", "PrefixCoder", "huffman_lengths"]
