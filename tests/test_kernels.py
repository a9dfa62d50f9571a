"""The compiled kernels against their plain references, bit for bit; the compiled and numpy paths of PrefixCode agree."""

from __future__ import annotations

import numpy as np
import pytest
from bitarray import bitarray
from hypothesis import given, settings
from hypothesis import strategies as st

import klcode.coders.prefix as prefix_module
from klcode.coders import kernels
from klcode.coders.huffman import HuffmanCode, huffman_lengths
from klcode.coders.prefix import PrefixCode
from klcode.errors import CodeError, DecodeError
from klcode.text.counting import bincount_chunked


def _sequential_canonical(lengths: list[int]) -> list[int]:
    """Canonical codewords one by one: ids sorted by (length, id), each the previous plus one, shifted as lengths grow."""
    order = sorted((l, i) for i, l in enumerate(lengths) if l)
    values, value, previous = [0] * len(lengths), 0, order[0][0]
    for position, (length, i) in enumerate(order):
        if position:
            value = (value + 1) << (length - previous)
        values[i] = value
        previous = length
    return values


def _numpy_path(monkeypatch) -> None:
    """Send every stream through the plain numpy / bitarray paths (the references of the compiled ones)."""
    monkeypatch.setattr(prefix_module, "COMPILED_MIN_TOKENS", 1 << 62)
    monkeypatch.setattr(prefix_module, "COMPILED_MIN_ALPHABET", 1 << 62)


def _compiled_path(monkeypatch) -> None:
    monkeypatch.setattr(prefix_module, "COMPILED_MIN_TOKENS", 0)


def _zipf_code(rng, size: int, tokens: int, dtype=np.int64) -> tuple[PrefixCode, np.ndarray]:
    weights = np.maximum(1, (1000.0 / np.arange(1, size + 1) ** 1.1).astype(np.int64))
    ids = rng.choice(size, size=tokens, p=weights / weights.sum()).astype(dtype)
    return HuffmanCode.from_weights(weights), ids


# ------------------------------------------------------------------ counting
@pytest.mark.parametrize("dtype", [np.uint8, np.int64])
def test_count_kernel_equals_bincount(dtype):
    rng = np.random.default_rng(3)
    ids = rng.integers(0, 200, size=100_003).astype(dtype)
    ids[:5000] = 7  # a long run of one id (the interleaved histograms)
    assert np.array_equal(kernels.count_ids(ids, 256), kernels.count_ids_reference(ids, 256))
    assert np.array_equal(bincount_chunked(ids, 300), np.bincount(ids.astype(np.int64), minlength=300))


def test_count_kernel_large_alphabet_uses_one_histogram():
    ids = np.random.default_rng(4).integers(0, 100_000, size=70_001)
    assert np.array_equal(kernels.count_ids(ids, 100_000), kernels.count_ids_reference(ids, 100_000))


def test_bincount_chunked_keeps_its_length_and_refuses_negative_ids():
    ids = np.full(1 << 17, 9, dtype=np.uint8)
    assert bincount_chunked(ids).size == 10 and bincount_chunked(ids)[9] == ids.size
    with pytest.raises(ValueError, match="non-negative"):
        bincount_chunked(np.full(1 << 17, -1))


# ------------------------------------------------------------------ encode
@pytest.mark.parametrize("dtype", [np.uint8, np.int64])
def test_encode_kernel_equals_python_reference(dtype):
    rng = np.random.default_rng(5)
    code, ids = _zipf_code(rng, 200, 5_000, dtype)
    lengths, values = code._kernel_tables
    out = np.zeros((ids.size * code.max_length_bits + 63) // 64 * 8, dtype=np.uint8)
    n_bits, bad = kernels.encode_prefix(ids, lengths, values, out)
    reference, reference_bits = kernels.encode_prefix_reference(ids, lengths, values)
    assert bad == -1 and n_bits == reference_bits == code.total_bits(np.bincount(ids, minlength=200))
    assert out[: len(reference)].tobytes() == reference


def test_encode_kernel_handles_64_bit_codewords():
    lengths = np.array(list(range(1, 64)) + [64, 64])  # a complete code with two 64-bit codewords
    code = PrefixCode.from_lengths(lengths)
    ids = np.random.default_rng(6).integers(0, lengths.size, size=3000)
    table_lengths, values = code._kernel_tables
    out = np.zeros((ids.size * 64 + 63) // 64 * 8, dtype=np.uint8)
    n_bits, _ = kernels.encode_prefix(ids, table_lengths, values, out)
    reference, reference_bits = kernels.encode_prefix_reference(ids, table_lengths, values)
    assert n_bits == reference_bits and out[: len(reference)].tobytes() == reference


@pytest.mark.parametrize("size, dtype", [(256, np.uint8), (256, np.int64), (5000, np.int64)])
def test_compiled_encode_writes_the_numpy_bitstream(monkeypatch, size, dtype):
    rng = np.random.default_rng(7)
    code, ids = _zipf_code(rng, size, 200_001, dtype)
    _numpy_path(monkeypatch)
    plain = code.encode(ids)
    _compiled_path(monkeypatch)
    compiled = code.encode(ids)
    assert compiled == plain and len(compiled) == code.total_bits(np.bincount(ids, minlength=size))


def test_compiled_encode_names_an_id_without_codeword(monkeypatch):
    _compiled_path(monkeypatch)
    code = PrefixCode.from_lengths([1, 0, 1])
    with pytest.raises(CodeError, match=r"1 id\(s\) of the stream have no codeword .*first: id 1"):
        code.encode(np.array([0, 2, 1, 0]))


# ------------------------------------------------------------------ decode
def test_decode_kernel_equals_bit_by_bit_reference(monkeypatch):
    rng = np.random.default_rng(8)
    code, ids = _zipf_code(rng, 3000, 4000)  # codewords longer than the 12-bit table: the canonical fallback
    assert code.max_length_bits > prefix_module.DECODE_TABLE_BITS
    _compiled_path(monkeypatch)
    bits = code.encode(ids)
    lengths, values = code._kernel_tables
    reference = kernels.decode_prefix_reference(bits.tobytes(), len(bits), lengths, values, ids.size)
    decoded = code.decode(bits, ids.size)
    assert decoded.tolist() == reference == ids.tolist() and decoded.dtype == np.int64


@pytest.mark.parametrize("longest", [13, 40, 64])
def test_compiled_decode_of_long_codewords(monkeypatch, longest):
    lengths = np.array(list(range(1, longest)) + [longest, longest])
    code = PrefixCode.from_lengths(lengths)
    ids = np.random.default_rng(9).integers(0, lengths.size, size=2000)
    _numpy_path(monkeypatch)
    plain_bits = code.encode(ids)
    _compiled_path(monkeypatch)
    bits = code.encode(ids)
    assert bits == plain_bits
    assert np.array_equal(code.decode(bits, ids.size), ids)
    assert code.decodes_to(bits, ids)


def test_decode_check_finds_a_difference_without_decoding_a_copy(monkeypatch):
    _compiled_path(monkeypatch)
    rng = np.random.default_rng(10)
    code, ids = _zipf_code(rng, 256, 50_000, np.uint8)
    bits = code.encode(ids)
    assert code.decodes_to(bits, ids)
    changed = ids.copy()
    changed[-3] = (int(changed[-3]) + 1) % 256
    assert not code.decodes_to(bits, changed)


def test_compiled_decode_errors(monkeypatch):
    _compiled_path(monkeypatch)
    code = PrefixCode.from_lengths([1, 2, 0])  # incomplete: no codeword starts with 11
    with pytest.raises(DecodeError, match="no codeword at bit 1, token 1"):
        code.decode(bitarray("011"), 2)
    with pytest.raises(DecodeError, match=r"decoded to 2 tokens \(expected 3\)"):
        code.decode(bitarray("010"), 3)
    with pytest.raises(DecodeError, match="1 bits left after the 1 tokens expected"):
        code.decode(bitarray("00"), 1)


def test_small_streams_stay_on_numpy_paths():
    code = HuffmanCode.from_weights(np.array([5, 3, 1, 1]))
    assert not code._compiled(1000) and code._compiled(prefix_module.COMPILED_MIN_TOKENS)
    large = HuffmanCode.from_weights(np.ones(prefix_module.COMPILED_MIN_ALPHABET + 1, dtype=np.int64))
    assert large._compiled(10)


# ------------------------------------------------------------------ codewords and Huffman lengths
@given(st.lists(st.integers(1, 40), min_size=1, max_size=60))
@settings(max_examples=150, deadline=None)
def test_vectorized_canonical_codewords_equal_sequential(weights):
    lengths = huffman_lengths(np.array(weights))
    code = PrefixCode.from_lengths(lengths)
    assert [int(v) for v in code._codewords] == _sequential_canonical(lengths.tolist())


@given(st.lists(st.integers(1, 9), min_size=2, max_size=80))
@settings(max_examples=150, deadline=None)
def test_huffman_heap_kernel_equals_dahuffman_on_counts(weights):
    w = np.array(weights, dtype=np.int64)
    reference = kernels.huffman_lengths_reference(w)
    assert np.array_equal(kernels.huffman_lengths_heap(w, 0.0)[0], reference)
    assert np.array_equal(huffman_lengths(w), reference)


@given(st.lists(st.sampled_from([0.1, 0.2, 0.3, 0.05, 0.25, 0.125]), min_size=2, max_size=60))
@settings(max_examples=100, deadline=None)
def test_huffman_heap_kernel_equals_dahuffman_on_floats(weights):
    w = np.array(weights, dtype=np.float64)
    reference = kernels.huffman_lengths_reference(w)
    assert np.array_equal(kernels.huffman_lengths_heap(w, 0.0)[0], reference)
    assert np.array_equal(huffman_lengths(w), reference)


def test_huffman_heap_reports_ties():
    assert kernels.huffman_lengths_heap(np.array([1, 1, 1], dtype=np.int64), 0.0)[1]
    assert not kernels.huffman_lengths_heap(np.array([1, 2, 4, 8], dtype=np.int64), 0.0)[1]
    floats = np.array([0.1, 0.2, 0.3, 0.3])  # 0.1 + 0.2 ties 0.3 within a relative 1e-12, not exactly
    assert kernels.huffman_lengths_heap(floats, 1e-12)[1] and not kernels.huffman_lengths_heap(floats, 0.0)[1]


def test_large_alphabet_lengths_equal_the_small_alphabet_rule():
    rng = np.random.default_rng(11)
    weights = rng.integers(1, 50, size=60_000)
    assert np.array_equal(huffman_lengths(weights), kernels.huffman_lengths_reference(weights))
