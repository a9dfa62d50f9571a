"""Compiled hot loops (numba), each beside a plain numpy/Python reference that tests compare bit for bit.

Kernels (``@njit(cache=True)``; numba is imported only when this module is,
never by ``import klcode`` or ``klcode --help``; callers import it lazily and
only for streams long enough to pay for it):

* :func:`count_ids` — counts c(x) = #{i : ids[i] = x} (``np.bincount``), with
  four interleaved histograms for byte ids so that repeated bytes do not
  serialize on one counter;
* :func:`encode_prefix` — the prefix-code bitstream Σ codeword(ids[i]) with a
  64-bit accumulator, written as big-endian bytes: the identical bitstream to
  :meth:`klcode.coders.prefix.PrefixCode.encode` (bitarray, big-endian);
* :func:`decode_prefix` — table-driven canonical decode: the first
  ``table_bits`` bits of the window index a table (symbol, length); codewords
  longer than the table are decoded by the canonical first-code rule, one
  length at a time, so codes of any length up to 64 bits decode.  With
  ``check=True`` it compares each decoded id with ``out`` instead of writing
  it: the decode check of a round trip, without an output array.
* :func:`huffman_lengths_heap` — Huffman codeword lengths on a binary heap of
  (weight, first leaf id): dahuffman's tie rule, in O(n log n).

The references are :func:`count_ids_reference` (``np.bincount``),
:func:`encode_prefix_reference` (Python integers, one codeword at a time),
:func:`decode_prefix_reference` (bit-by-bit canonical decode) and
:func:`huffman_lengths_reference` (dahuffman itself).

Which stream takes which path is decided by the callers without importing
numba: :data:`klcode.text.counting.COMPILED_MIN_TOKENS` (shorter streams stay
on the numpy paths) and ``klcode.coders.prefix.MAX_KERNEL_CODEWORD_BITS``
(64: one 64-bit accumulator, one 64-bit decode window).
"""

from __future__ import annotations

import numpy as np
from numba import njit

#: Status codes returned by :func:`decode_prefix`.
DECODE_OK, DECODE_INVALID, DECODE_PAST_END, DECODE_MISMATCH = 0, 1, 2, 3


# ------------------------------------------------------------------ counting
@njit(cache=True, nogil=True)
def count_ids(ids, size):  # pragma: no cover - compiled; compared with count_ids_reference in tests
    """Counts c(x) = #{i : ids[i] = x} for x < size (int64); ids must be < size.

    Alphabets of up to 65,536 ids are counted into four interleaved
    histograms (summed at the end), so that runs of one id do not wait on one counter.
    """
    rows = 4 if size <= 65536 else 1
    counts = np.zeros((rows, size), dtype=np.int64)
    n = ids.size
    if rows == 4:
        quads = n - n % 4
        for i in range(0, quads, 4):
            counts[0, ids[i]] += 1
            counts[1, ids[i + 1]] += 1
            counts[2, ids[i + 2]] += 1
            counts[3, ids[i + 3]] += 1
    else:
        quads = 0
    for i in range(quads, n):
        counts[0, ids[i]] += 1
    total = counts[0].copy()
    for row in range(1, rows):
        for x in range(size):
            total[x] += counts[row, x]
    return total


def count_ids_reference(ids: np.ndarray, size: int) -> np.ndarray:
    """Counts c(x) of each id x < size, by ``np.bincount`` (the reference of :func:`count_ids`)."""
    return np.bincount(np.asarray(ids, dtype=np.int64), minlength=size).astype(np.int64)


# ------------------------------------------------------------------ encoding
@njit(cache=True, nogil=True)
def encode_prefix(ids, lengths, values, out):  # pragma: no cover - compiled
    """Write Σ codeword(ids[i]) into ``out`` (uint8, big-endian bits); returns (bits written, first bad index or -1).

    ``lengths`` (uint64, 0 = no codeword, each ≤ 64) and ``values`` (uint64)
    give each id's codeword; ``out`` needs ⌈Σ l / 64⌉·8 bytes.  Stops at the
    first id without a codeword.
    """
    acc = np.uint64(0)
    fill = np.uint64(0)  # bits held in acc (0..63)
    word = 0  # bytes written, in units of 8
    full = np.uint64(64)
    one = np.uint64(1)
    total = 0
    for i in range(ids.size):
        symbol = ids[i]
        length = lengths[symbol]
        if length == 0:
            return total, i
        value = values[symbol]
        total += length
        free = full - fill
        if length < free:
            acc = (acc << length) | value
            fill += length
        else:
            rest = length - free
            if fill == 0:
                flushed = value >> rest
            else:
                flushed = (acc << free) | (value >> rest)
            for b in range(8):
                out[word + b] = (flushed >> np.uint64(56 - 8 * b)) & np.uint64(255)
            word += 8
            acc = value & ((one << rest) - one)
            fill = rest
    if fill > 0:
        flushed = acc << (full - fill)
        for b in range(8):
            out[word + b] = (flushed >> np.uint64(56 - 8 * b)) & np.uint64(255)
    return total, -1


def encode_prefix_reference(ids: np.ndarray, lengths: np.ndarray, values: np.ndarray) -> tuple[bytes, int]:
    """The bitstream Σ codeword(ids[i]) as big-endian bytes (zero-padded) and its length in bits, with Python integers."""
    stream, n_bits = 0, 0
    for symbol in np.asarray(ids).tolist():
        length = int(lengths[symbol])
        stream = (stream << length) | int(values[symbol])
        n_bits += length
    pad = -n_bits % 8
    return (stream << pad).to_bytes((n_bits + pad) // 8, "big"), n_bits


# ------------------------------------------------------------------ decoding
@njit(cache=True, nogil=True)
def decode_prefix(words, n_bits, table_symbols, table_lengths, table_bits, first_code, first_index, code_count,
                  sorted_ids, max_length, out, expected, check):  # pragma: no cover - compiled
    """Decode out.size ids from a bitstream of n_bits bits held in native uint64 ``words``; returns (status, token, bits read).

    ``words`` are the stream's big-endian 64-bit words (first bit = most
    significant) plus one zero word.  ``table_symbols[w]`` / ``table_lengths[w]``
    give the id and length of the codeword that starts with the table_bits-bit
    window w (-1: no codeword starts so; -2: a codeword longer than the table
    does).  Longer codewords are found with the canonical tables: the
    codewords of length l are the values first_code[l] .. first_code[l] +
    code_count[l] − 1, for the ids sorted_ids[first_index[l] ...].  With
    ``check``, the ids are compared with ``expected`` (status DECODE_MISMATCH
    at the first difference) and ``out`` is not written (its size is the number of ids).
    """
    position = 0
    shift = np.uint64(64 - table_bits)
    n = expected.size if check else out.size
    for i in range(n):
        word = position >> 6
        offset_bits = position & 63
        if offset_bits == 0:
            window = words[word]
        else:
            window = (words[word] << np.uint64(offset_bits)) | (words[word + 1] >> np.uint64(64 - offset_bits))
        entry = window >> shift
        symbol = table_symbols[entry]
        if symbol >= 0:
            length = table_lengths[entry]
        elif symbol == -2:
            length = 0
            for l in range(table_bits + 1, max_length + 1):
                code = window >> np.uint64(64 - l)
                if code >= first_code[l]:
                    rank = code - first_code[l]
                    if rank < np.uint64(code_count[l]):
                        symbol = sorted_ids[first_index[l] + np.int64(rank)]
                        length = l
                        break
            if length == 0:
                return DECODE_INVALID, i, position
        else:
            return DECODE_INVALID, i, position
        position += length
        if position > n_bits:
            return DECODE_PAST_END, i, position
        if check:
            if expected[i] != symbol:
                return DECODE_MISMATCH, i, position
        else:
            out[i] = symbol
    return DECODE_OK, n, position


def decode_prefix_reference(data: bytes, n_bits: int, lengths: np.ndarray, values: np.ndarray, n_tokens: int) -> list[int]:
    """Decode ``n_tokens`` ids bit by bit with a {(length, value): id} map of the codewords (the reference of decode_prefix)."""
    codewords = {(int(l), int(v)): i for i, (l, v) in enumerate(zip(lengths.tolist(), values.tolist())) if l}
    stream = int.from_bytes(data, "big")
    total = len(data) * 8
    ids, value, length, position = [], 0, 0, 0
    while len(ids) < n_tokens:
        if position >= n_bits:
            raise ValueError(f"the bitstream ends inside token {len(ids)}")
        value = (value << 1) | ((stream >> (total - 1 - position)) & 1)
        length += 1
        position += 1
        if (length, value) in codewords:
            ids.append(codewords[(length, value)])
            value, length = 0, 0
    return ids


# ------------------------------------------------------------------ Huffman lengths
@njit(cache=True, nogil=True)
def huffman_lengths_heap(weights, tie_tolerance):  # pragma: no cover - compiled
    """Huffman codeword lengths of ``weights`` (all > 0, ≥ 2 of them) with dahuffman's tie rule, in O(n log n).

    A binary heap of nodes ordered by (weight, first leaf id): pop two, push
    their sum with the first leaf of the first popped (dahuffman keeps
    (weight, [leaves]) and lists the first child's leaves first, so lists
    compare by their first leaf).  Lengths are the leaf depths, from the
    parent links.  Also returns whether any step had a choice: the lightest
    node left after the two merged weighs at most (1 + tie_tolerance) times the second.
    """
    n = weights.size
    nodes = 2 * n - 1
    node_weight = np.empty(nodes, dtype=weights.dtype)
    node_first = np.empty(nodes, dtype=np.int64)
    parent = np.empty(nodes, dtype=np.int64)
    heap = np.empty(n, dtype=np.int64)
    for i in range(n):
        node_weight[i] = weights[i]
        node_first[i] = i
        heap[i] = i
    size = n
    tied = False
    # leaves in id order with their weights: heapify
    for start in range(size // 2 - 1, -1, -1):
        _sift_down(heap, start, size, node_weight, node_first)
    for new in range(n, nodes):
        a = heap[0]
        size -= 1
        heap[0] = heap[size]
        _sift_down(heap, 0, size, node_weight, node_first)
        b = heap[0]
        if not tied and size > 1:
            following = heap[1]
            if size > 2 and node_weight[heap[2]] < node_weight[following]:
                following = heap[2]
            if tie_tolerance == 0.0:
                tied = node_weight[following] <= node_weight[b]
            else:
                tied = node_weight[following] <= node_weight[b] * (1.0 + tie_tolerance)
        node_weight[new] = node_weight[a] + node_weight[b]
        node_first[new] = node_first[a]
        parent[a] = new
        parent[b] = new
        heap[0] = new
        _sift_down(heap, 0, size, node_weight, node_first)
    depth = np.zeros(nodes, dtype=np.int64)
    for node in range(nodes - 2, -1, -1):
        depth[node] = depth[parent[node]] + 1
    return depth[:n].copy(), tied


@njit(cache=True, nogil=True, inline="always")
def _sift_down(heap, start, size, node_weight, node_first):  # pragma: no cover - compiled
    item = heap[start]
    weight, first = node_weight[item], node_first[item]
    position = start
    while True:
        child = 2 * position + 1
        if child >= size:
            break
        right = child + 1
        if right < size:
            cw, rw = node_weight[heap[child]], node_weight[heap[right]]
            if rw < cw or (rw == cw and node_first[heap[right]] < node_first[heap[child]]):
                child = right
        c = heap[child]
        if node_weight[c] < weight or (node_weight[c] == weight and node_first[c] < first):
            heap[position] = c
            position = child
        else:
            break
    heap[position] = item


def huffman_lengths_reference(weights: np.ndarray) -> np.ndarray:
    """Huffman codeword lengths by dahuffman (the reference of :func:`huffman_lengths_heap`), all weights > 0."""
    from dahuffman import HuffmanCodec

    values = np.asarray(weights).tolist()
    table = HuffmanCodec.from_frequencies(dict(enumerate(values)), eof=0).get_code_table()
    lengths = np.zeros(len(values), dtype=np.int64)
    for symbol, (length, _value) in table.items():
        lengths[symbol] = length
    return lengths
