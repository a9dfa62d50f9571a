"""Codes on integer symbol ids behind one interface: lengths, encode, decode, Kraft sum."""

from .huffman import TIE_RULE, HuffmanCode, huffman_lengths
from .prefix import CodewordRow, PrefixCode

__all__ = ["TIE_RULE", "CodewordRow", "HuffmanCode", "PrefixCode", "huffman_lengths"]
