"""Prefix codes on integer symbol ids: canonical codewords, Kraft sum, encode and decode.

A :class:`PrefixCode` is defined by one codeword length per id (0 = the id has
no codeword).  Codewords are the *canonical* ones for those lengths: ids sorted
by (length, id), each codeword the previous one plus one, shifted left when the
length grows.  Only lengths decide the cost of a stream, so every family of
prefix codes (Huffman, Shannon, length-limited, ...) shares this class.

Long streams (≥ :data:`~klcode.coders.kernels.KERNEL_MIN_TOKENS` ids) and
large alphabets are encoded and decoded by the compiled kernels of
:mod:`klcode.coders.kernels` (a 64-bit accumulator; a 12-bit decode table with
a canonical fallback for longer codewords), for codewords of up to 64 bits.
Short streams stay on the plain paths, which are also the kernels' references:
encoding in vectorized numpy (tokens grouped into units of up to 64 bits,
packed into 64-bit words with a cumulative sum of lengths and a
``bitwise_or.reduceat``), decoding in C through :meth:`bitarray.bitarray.decode`.
Both write the identical bitstream.

>>> code = PrefixCode.from_lengths([1, 2, 3, 3])
>>> [code.codeword(i) for i in range(4)], code.kraft_sum
(['0', '10', '110', '111'], 1.0)
>>> bits = code.encode(np.array([0, 3, 1]))
>>> bits.to01(), code.decode(bits, 3).tolist()
('011110', [0, 3, 1])
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from functools import cached_property

import numpy as np
from bitarray import bitarray, decodetree

from ..errors import CodeError, DecodeError
from ..text.counting import COMPILED_MIN_TOKENS, bincount_chunked
from ._checks import checked_ids

#: bitarray's decoder accepts codewords of at most this many bits.
MAX_CODEWORD_BITS = 256

_U64 = np.uint64
#: Tokens encoded per vectorized batch (keeps the working arrays in cache).
_BATCH_TOKENS = 1 << 18
#: Length given to ids without a codeword while encoding: longer than any unit, so they are caught.
_NO_CODEWORD = 200
#: Longest codeword of the compiled kernels (klcode.coders.kernels.MAX_KERNEL_CODEWORD_BITS, kept here so
#: that deciding does not import numba), the width of their decode table, and the alphabet size past which
#: even short streams use them (bitarray's decode tree is a Python object per codeword).
MAX_KERNEL_CODEWORD_BITS = 64
DECODE_TABLE_BITS = 12
COMPILED_MIN_ALPHABET = 50_000
#: The compiled decoder's output array while it only checks (never written).
_NO_OUTPUT = np.zeros(0, dtype=np.int64)


@dataclass(frozen=True)
class CodewordRow:
    """One line of a code table."""

    id: int
    length_bits: int
    codeword: str


@dataclass(frozen=True, eq=False)
class PrefixCode:
    """A prefix code over ids 0..n-1 given by codeword lengths (0 = no codeword)."""

    lengths_bits: np.ndarray
    name: str = "prefix"
    #: Canonical codeword values per id: uint64 when every codeword fits in 64 bits, else Python ints.
    _codewords: np.ndarray | tuple[int, ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        lengths = np.array(self.lengths_bits, copy=True)
        if lengths.ndim != 1 or lengths.size == 0:
            raise CodeError(f"a code needs a 1-D array of codeword lengths (got shape {lengths.shape})")
        if lengths.dtype.kind not in "iu" or (lengths < 0).any():
            raise CodeError(f"codeword lengths must be non-negative integers (got {lengths[:8].tolist()}...)")
        lengths = lengths.astype(np.int64)
        if not (lengths > 0).any():
            raise CodeError("a code needs at least one codeword (got all lengths 0)")
        longest = int(lengths.max())
        if longest > MAX_CODEWORD_BITS:
            raise CodeError(f"codewords longer than {MAX_CODEWORD_BITS} bits are not supported (got {longest})")
        per_length = np.bincount(lengths, minlength=longest + 1).tolist()  # codewords of each length
        kraft = Fraction(sum(count << (longest - l) for l, count in enumerate(per_length) if l and count), 1 << longest)
        if kraft > 1:
            raise CodeError(f"lengths violate the Kraft inequality, no prefix code exists (Kraft sum {float(kraft):.6g} > 1)")
        lengths.flags.writeable = False
        object.__setattr__(self, "lengths_bits", lengths)
        object.__setattr__(self, "_codewords", _canonical_codewords(lengths))

    @classmethod
    def from_lengths(cls, lengths_bits: Sequence[int] | np.ndarray, name: str = "prefix") -> PrefixCode:
        """The canonical prefix code with the given codeword lengths."""
        return cls(np.asarray(lengths_bits), name)

    # ------------------------------------------------------------------ properties
    @property
    def size(self) -> int:
        """Number of ids the code is defined over (with or without a codeword)."""
        return int(self.lengths_bits.size)

    @property
    def max_length_bits(self) -> int:
        return int(self.lengths_bits.max())

    @property
    def kraft_sum(self) -> float:
        """Σ 2^(−l(x)) over ids with a codeword: 1 for a complete code, ≤ 1 for every prefix code."""
        lengths = self.lengths_bits[self.lengths_bits > 0]
        return float(np.sum(np.ldexp(1.0, -lengths)))

    def has_codeword(self) -> np.ndarray:
        """Boolean mask of the ids that have a codeword."""
        return self.lengths_bits > 0

    def codeword(self, symbol_id: int) -> str:
        """The codeword of an id as a string of 0 and 1 ('' when it has none)."""
        length = int(self.lengths_bits[symbol_id])
        return format(int(self._codewords[symbol_id]), f"0{length}b") if length else ""

    def table(self) -> list[CodewordRow]:
        """The code table: one row per id that has a codeword, in id order."""
        return [CodewordRow(i, int(l), self.codeword(i)) for i, l in enumerate(self.lengths_bits) if l > 0]

    # ------------------------------------------------------------------- costing
    def expected_bits_per_token(self, probabilities: np.ndarray) -> float:
        """Average length L = Σ p(x)·l(x); ∞ if p > 0 on an id with no codeword."""
        p = np.asarray(probabilities, dtype=np.float64)
        if (p[~self.has_codeword()] > 0).any():
            return float("inf")
        return float(p @ self.lengths_bits)

    def total_bits(self, counts: np.ndarray) -> int:
        """Bits of a stream with these symbol counts: Σ c(x)·l(x) (exact integer)."""
        counts = np.asarray(counts, dtype=np.int64)
        self._check_codable(np.flatnonzero(counts))
        return int(counts @ self.lengths_bits)

    # ------------------------------------------------------------ encode / decode
    def encode(self, ids: np.ndarray) -> bitarray:
        """Encode a stream of ids into a bitarray (big-endian bit order), in vectorized numpy.

        Raises :class:`CodeError` for an id outside the code or without a codeword.
        """
        ids = checked_ids(ids, self.size)
        if ids.size == 0:
            return bitarray(endian="big")
        if self._compiled(ids.size):
            return self._encode_compiled(ids)
        if self.max_length_bits > 64:
            self._check_codable(np.flatnonzero(bincount_chunked(ids, minlength=self.size)))
            bits = bitarray(endian="big")
            bits.encode(self._codeword_bits(), ids.tolist())
            return bits
        lengths, values = self._unit_tables
        pair_table = self._pair_table if ids.dtype == np.uint8 and 2 * self.max_length_bits <= 64 else None
        pieces: list[np.ndarray] = []
        bit = 0
        for start in range(0, ids.size, _BATCH_TOKENS):
            batch = ids[start : start + _BATCH_TOKENS]
            unit_lengths, unit_values = _units(batch, lengths, values, pair_table)
            if int(unit_lengths.max()) > 64:
                self._check_codable(np.flatnonzero(bincount_chunked(batch, minlength=self.size)))
                raise CodeError("internal error: a unit longer than 64 bits")  # pragma: no cover
            words, batch_bits = _pack(unit_lengths, unit_values, bit & 63)
            if bit & 63:  # the batch's first word is the previous batch's last, partial word
                pieces[-1][-1] |= words[0]
                words = words[1:]
            pieces.append(words)
            bit += batch_bits
        words = np.concatenate(pieces)
        words.byteswap(inplace=True)
        bits = bitarray(endian="big")
        bits.frombytes(words.tobytes())
        del bits[bit:]
        return bits

    def decode(self, bits: bitarray, n_tokens: int) -> np.ndarray:
        """Decode exactly ``n_tokens`` ids from ``bits`` (in C, through bitarray's decode tree)."""
        if n_tokens == 0:
            if len(bits):
                raise DecodeError(f"expected an empty bitstream for 0 tokens (got {len(bits)} bits)")
            return np.zeros(0, dtype=np.int64)
        if self._compiled(n_tokens):
            ids = np.empty(n_tokens, dtype=np.int64)
            self._decode_compiled(bits, ids, check=False)
            return ids
        tree = self._decode_tree
        try:
            if self.size <= 256:  # bytes() drains the C iterator faster than np.fromiter
                ids = np.frombuffer(bytes(bits.decode(tree)), dtype=np.uint8)
            else:
                ids = np.fromiter(bits.decode(tree), dtype=np.int64)
        except ValueError as error:
            raise DecodeError(f"bitstream does not decode with this code ({error})") from None
        if ids.size != n_tokens:
            raise DecodeError(f"bitstream decoded to {ids.size} tokens (expected {n_tokens})")
        return ids.astype(np.int64, copy=False)

    def decodes_to(self, bits: bitarray, ids: np.ndarray) -> bool:
        """Whether ``bits`` decodes to exactly ``ids`` (the round-trip check; compiled, without a decoded copy).

        Raises :class:`DecodeError` when the bitstream is not a stream of this code.
        """
        ids = np.asarray(ids)
        if ids.size == 0 or not self._compiled(ids.size):
            return bool(np.array_equal(self.decode(bits, ids.size), ids))
        if ids.dtype != np.uint8 and ids.dtype != np.int64:
            ids = ids.astype(np.int64)
        return self._decode_compiled(bits, ids, check=True)

    # ------------------------------------------------------------------- helpers
    def _compiled(self, n_tokens: int) -> bool:
        """Whether the compiled kernels code this stream: codewords ≤ 64 bits, and a long stream or a large alphabet."""
        return self.max_length_bits <= MAX_KERNEL_CODEWORD_BITS and (
            n_tokens >= COMPILED_MIN_TOKENS or self.size > COMPILED_MIN_ALPHABET
        )

    def _encode_compiled(self, ids: np.ndarray) -> bitarray:
        """:meth:`encode` by the compiled 64-bit accumulator (the identical bitstream)."""
        from .kernels import encode_prefix

        if ids.dtype != np.uint8 and ids.dtype != np.int64:
            ids = ids.astype(np.int64)
        lengths, values = self._kernel_tables
        out = np.empty((ids.size * self.max_length_bits + 63) // 64 * 8, dtype=np.uint8)  # pages touched only as written
        n_bits, bad = encode_prefix(ids, lengths, values, out)
        if bad >= 0:
            self._check_codable(np.flatnonzero(bincount_chunked(ids, minlength=self.size)))
        bits = bitarray(endian="big")
        bits.frombytes(out[: (n_bits + 7) // 8].data)
        del bits[n_bits:]
        return bits

    def _decode_compiled(self, bits: bitarray, ids: np.ndarray, check: bool) -> bool:
        """Decode ``ids.size`` ids into ``ids`` (or, with ``check``, compare them with ``ids``) by the table kernel."""
        from .kernels import (
            DECODE_INVALID,
            DECODE_MISMATCH,
            DECODE_PAST_END,
            decode_prefix,
        )

        n_bits = len(bits)
        padded = np.zeros((n_bits + 63) // 64 * 8 + 8, dtype=np.uint8)  # whole words, and one zero word after them
        padded[: (n_bits + 7) // 8] = np.frombuffer(bits, dtype=np.uint8)[: (n_bits + 7) // 8]
        words = padded.view(">u8").astype(_U64)
        symbols, table_lengths, table_bits, first_code, first_index, code_count, sorted_ids = self._decode_tables
        out, expected = (_NO_OUTPUT, ids) if check else (ids, ids)
        status, token, position = decode_prefix(words, n_bits, symbols, table_lengths, table_bits, first_code,
                                                first_index, code_count, sorted_ids, self.max_length_bits,
                                                out, expected, check)
        if status == DECODE_MISMATCH:
            return False
        if status == DECODE_INVALID:
            raise DecodeError(f"bitstream does not decode with this code (no codeword at bit {position}, token {token})")
        if status == DECODE_PAST_END:
            raise DecodeError(f"bitstream decoded to {token} tokens (expected {ids.size})")
        if position != n_bits:
            raise DecodeError(f"bitstream has {n_bits - position} bits left after the {ids.size} tokens expected")
        return True

    @cached_property
    def _kernel_tables(self) -> tuple[np.ndarray, np.ndarray]:
        """Length (0 = no codeword) and value of each id's codeword as uint64, for the compiled encoder."""
        return self.lengths_bits.astype(_U64), np.asarray(self._codewords, dtype=_U64)

    @cached_property
    def _decode_tables(self) -> tuple:
        """The compiled decoder's tables: a DECODE_TABLE_BITS-wide (id, length) table, and the canonical ones.

        Entry w of the table is the codeword that the window w starts with
        (-1: none does, the code is incomplete there; -2: a longer codeword).
        """
        lengths, values = self._kernel_tables
        longest = self.max_length_bits
        width = min(DECODE_TABLE_BITS, longest)
        symbols = np.full(1 << width, -1, dtype=np.int64)
        table_lengths = np.zeros(1 << width, dtype=np.int64)
        short = np.flatnonzero((self.lengths_bits > 0) & (self.lengths_bits <= width))
        spans = np.left_shift(1, width - self.lengths_bits[short])
        starts = values[short].astype(np.int64) << (width - self.lengths_bits[short])
        entries = np.repeat(starts - np.cumsum(spans) + spans, spans) + np.arange(int(spans.sum()))
        symbols[entries] = np.repeat(short, spans)
        table_lengths[entries] = np.repeat(self.lengths_bits[short], spans)
        long = np.flatnonzero(self.lengths_bits > width)
        symbols[(values[long] >> (lengths[long] - _U64(width))).astype(np.int64)] = -2
        order = np.flatnonzero(self.lengths_bits)[np.argsort(self.lengths_bits[self.lengths_bits > 0], kind="stable")]
        code_count = np.bincount(self.lengths_bits[order], minlength=longest + 1).astype(np.int64)
        first_index = np.concatenate(([0], np.cumsum(code_count)[:-1])).astype(np.int64)
        first_code = np.zeros(longest + 1, dtype=_U64)
        present = code_count > 0
        first_code[present] = values[order[first_index[present]]]
        return symbols, table_lengths, width, first_code, first_index, code_count, order.astype(np.int64)

    @cached_property
    def _unit_tables(self) -> tuple[np.ndarray, np.ndarray]:
        """Length and value of each id's codeword as uint64 (codewords of ≤ 64 bits), for :meth:`encode`.

        An id without a codeword gets an impossible length, caught after grouping (its value is 0).
        """
        lengths = np.where(self.has_codeword(), self.lengths_bits, _NO_CODEWORD).astype(_U64)
        return lengths, np.array(self._codewords, dtype=_U64)

    @cached_property
    def _pair_table(self) -> tuple[np.ndarray, np.ndarray]:
        """Length and value of every pair of byte ids (65,536 entries), built once per code."""
        return _pair_tables(*self._unit_tables)

    @cached_property
    def _decode_tree(self) -> decodetree:
        """bitarray's decode tree of the code, built once (dropped when pickling: see ``__getstate__``)."""
        return decodetree(self._codeword_bits())

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state.pop("_decode_tree", None)  # a decodetree cannot be pickled; it is rebuilt on demand
        return state

    def _codeword_bits(self) -> dict[int, bitarray]:
        """Codeword of every id that has one, as a bitarray."""
        return {
            i: bitarray(format(value, f"0{length}b"))
            for i, (length, value) in enumerate(zip(self.lengths_bits.tolist(), self._codewords))
            if length
        }

    def _check_codable(self, used_ids: np.ndarray) -> None:
        missing = used_ids[self.lengths_bits[used_ids] == 0]
        if missing.size:
            raise CodeError(
                f"{missing.size} id(s) of the stream have no codeword in the {self.name} code "
                f"(first: id {int(missing[0])})"
            )


def _canonical_codewords(lengths: np.ndarray) -> np.ndarray | tuple[int, ...]:
    """Canonical codeword values: ids sorted by (length, id), consecutive values per length.

    With codewords of at most 64 bits: a uint64 array, from the first codeword
    of each length, first(l) = (first(l−1) + n(l−1))·2, plus the rank of the id
    among the ids of its length.  Longer codes: Python integers, one by one.

    >>> _canonical_codewords(np.array([2, 1, 3, 3, 0])).tolist()
    [2, 0, 6, 7, 0]
    """
    longest = int(lengths.max())
    if longest <= 64:
        per_length = np.bincount(lengths, minlength=longest + 1).tolist()
        first = [0] * (longest + 1)
        for length in range(2, longest + 1):
            first[length] = (first[length - 1] + per_length[length - 1]) << 1
        order = np.flatnonzero(lengths)[np.argsort(lengths[lengths > 0], kind="stable")]  # by (length, id)
        sorted_lengths = lengths[order]
        starts = np.searchsorted(sorted_lengths, sorted_lengths)  # position of the first id of each length
        values = np.zeros(lengths.size, dtype=_U64)
        values[order] = np.array(first, dtype=_U64)[sorted_lengths] + (np.arange(order.size) - starts).astype(_U64)
        return values
    codewords = [0] * lengths.size
    length_of = lengths.tolist()
    order = np.flatnonzero(lengths)[np.argsort(lengths[lengths > 0], kind="stable")].tolist()  # by (length, id)
    value, previous = 0, length_of[order[0]]
    for position, i in enumerate(order):
        length = length_of[i]
        if position:
            value = (value + 1) << (length - previous)
        codewords[i] = value
        previous = length
    return tuple(codewords)


def _pair_tables(lengths: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Length and value of every pair of byte ids, indexed by a little-endian uint16 view."""
    size = min(lengths.size, 256)
    padded_lengths = np.zeros(256, dtype=_U64)
    padded_values = np.zeros(256, dtype=_U64)
    padded_lengths[:size], padded_values[:size] = lengths[:size], values[:size]
    first = np.arange(65536) & 255
    second = np.arange(65536) >> 8
    pair_lengths = padded_lengths[first] + padded_lengths[second]
    pair_values = (padded_values[first] << padded_lengths[second]) | padded_values[second]
    return pair_lengths, pair_values


def _units(batch, lengths, values, pair_table):
    """Group consecutive tokens into units of ≤ 64 bits: (unit lengths, unit values).

    Byte ids start from a table of every pair of bytes; then neighbouring units
    are merged level by level wherever their lengths sum to ≤ 64 bits (a pair
    that would not fit stays two units), while merging still pays.
    """
    if pair_table is not None and batch.size >= 2:
        even = batch.size - (batch.size & 1)
        pairs = np.ascontiguousarray(batch[:even]).view("<u2")
        unit_lengths, unit_values = pair_table[0][pairs], pair_table[1][pairs]
        if even < batch.size:
            unit_lengths = np.append(unit_lengths, lengths[batch[-1]])
            unit_values = np.append(unit_values, values[batch[-1]])
    else:
        unit_lengths, unit_values = lengths[batch], values[batch]
    while unit_lengths.size > 1:
        merged = _merge_neighbours(unit_lengths, unit_values)
        if merged is None:
            break
        unit_lengths, unit_values = merged
    return unit_lengths, unit_values


def _merge_neighbours(unit_lengths, unit_values):
    """Merge units 2i and 2i+1 wherever their lengths sum to ≤ 64 bits.

    Returns (lengths, values), or None when more than 1/4 of the pairs would
    not fit (the splits would cost more than the merge saves).
    """
    if unit_lengths.size & 1:
        unit_lengths = np.append(unit_lengths, _U64(0))
        unit_values = np.append(unit_values, _U64(0))
    first_lengths, second_lengths = unit_lengths[0::2], unit_lengths[1::2]
    merged_lengths = first_lengths + second_lengths
    too_long = np.flatnonzero(merged_lengths > _U64(64))
    if 4 * too_long.size > merged_lengths.size:
        return None
    first_values, second_values = unit_values[0::2], unit_values[1::2]
    merged_values = first_values << second_lengths
    merged_values |= second_values
    if too_long.size == 0:
        return merged_lengths, merged_values
    # keep those pairs as two units: each later unit moves right by the number of splits before it
    splits = np.zeros(merged_lengths.size, dtype=np.intp)
    splits[too_long] = 1
    position = np.cumsum(splits) - splits  # splits strictly before each pair
    position += np.arange(merged_lengths.size)
    out_lengths = np.empty(merged_lengths.size + too_long.size, dtype=_U64)
    out_values = np.empty_like(out_lengths)
    out_lengths[position] = merged_lengths
    out_values[position] = merged_values
    split_at = position[too_long]
    out_lengths[split_at], out_values[split_at] = first_lengths[too_long], first_values[too_long]
    out_lengths[split_at + 1], out_values[split_at + 1] = second_lengths[too_long], second_values[too_long]
    return out_lengths, out_values


def _pack(unit_lengths: np.ndarray, unit_values: np.ndarray, first_bit: int) -> tuple[np.ndarray, int]:
    """Pack units of ≤ 64 bits into big-endian 64-bit words, starting at bit ``first_bit`` of word 0.

    Returns the words and the number of bits packed.  Units never overlap, so
    the units that fall in one word are combined with ``bitwise_or.reduceat``;
    a unit that crosses a word border sends its low bits to the next word.
    """
    ends = np.cumsum(unit_lengths, dtype=_U64)
    ends += _U64(first_bit)
    starts = ends - unit_lengths
    word_of = starts >> _U64(6)
    end_in_word = (starts & _U64(63)) + unit_lengths  # 1..127
    words = np.zeros(int(word_of[-1]) + 2, dtype=_U64)
    high = unit_values << (_U64(64) - np.minimum(end_in_word, _U64(64)))
    high >>= np.maximum(end_in_word, _U64(64)) - _U64(64)
    firsts = np.flatnonzero(word_of[1:] != word_of[:-1])
    firsts += 1
    firsts = np.concatenate(([0], firsts))
    words[word_of[firsts]] |= np.bitwise_or.reduceat(high, firsts)
    crossing = np.flatnonzero(end_in_word > _U64(64))
    words[word_of[crossing] + _U64(1)] |= unit_values[crossing] << (_U64(128) - end_in_word[crossing])
    end = int(ends[-1])
    return words[: (end + 63) // 64], end - first_bit
