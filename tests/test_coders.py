"""Prefix and Huffman codes: golden lengths, the EOF trap, canonical codewords, round trips."""

import math
import re

import numpy as np
import pytest
from bitarray import bitarray
from dahuffman import HuffmanCodec
from hypothesis import given
from hypothesis import strategies as st

from klcode import (
    CodeError,
    DecodeError,
    Distribution,
    HuffmanCode,
    KlcodeError,
    PrefixCode,
    entropy,
)
from klcode.coders import TIE_RULE, huffman_lengths
from klcode.coders.prefix import _BATCH_TOKENS


def _reference_encode(code, ids):
    """bitarray's own encoder, with the code's codewords."""
    table = {i: bitarray(code.codeword(i)) for i in np.flatnonzero(code.lengths_bits).tolist()}
    bits = bitarray(endian="big")
    bits.encode(table, np.asarray(ids).tolist())
    return bits


def _round_trip(code, ids):
    bits = code.encode(ids)
    counts = np.bincount(np.asarray(ids, dtype=np.int64), minlength=code.size)
    assert len(bits) == code.total_bits(counts) == int(counts @ code.lengths_bits)
    assert bits == _reference_encode(code, ids)
    decoded = code.decode(bits, len(ids))
    assert decoded.dtype == np.int64
    assert np.array_equal(decoded, np.asarray(ids, dtype=np.int64))
    return bits


# ------------------------------------------------------------------ golden lengths
def test_cover_thomas_example_5_1():
    p = Distribution.from_probabilities([0.25, 0.25, 0.2, 0.15, 0.15])
    code = HuffmanCode.from_distribution(p)
    assert code.lengths_bits.tolist() == [2, 2, 2, 3, 3]
    assert code.expected_bits_per_token(p.probabilities) == pytest.approx(2.3, abs=1e-12)
    assert code.kraft_sum == 1.0


@pytest.mark.parametrize(
    "p",
    [
        Distribution.from_probabilities([0.5, 0.25, 0.125, 0.125]),
        Distribution.from_counts([4, 2, 1, 1]),
    ],
    ids=["probabilities", "counts"],
)
def test_eof_trap_dyadic_code_is_exact(p):
    code = HuffmanCode.from_distribution(p)
    assert code.lengths_bits.tolist() == [1, 2, 3, 3]
    assert code.expected_bits_per_token(p.probabilities) == 1.75
    assert entropy(p) == 1.75


@pytest.mark.parametrize(
    ("frequencies", "plain_average"),
    [({0: 0.5, 1: 0.25, 2: 0.125, 3: 0.125}, 2.75), ({0: 4, 1: 2, 2: 1, 3: 1}, 1.875)],
    ids=["probabilities", "counts"],
)
def test_eof_trap_plain_dahuffman_is_longer(frequencies, plain_average):
    """dahuffman without eof adds a weight-1 leaf that lengthens the code (DESIGN.md trap 1)."""
    table = HuffmanCodec.from_frequencies(frequencies).get_code_table()
    assert len(table) == 5  # one leaf too many
    total = sum(frequencies.values())
    average = sum(f / total * table[s][0] for s, f in frequencies.items())
    assert average == plain_average
    assert average > 1.75


def test_one_symbol_alphabet():
    code = HuffmanCode.from_distribution(Distribution.from_probabilities({"only": 1.0}))
    assert code.lengths_bits.tolist() == [1]
    assert code.kraft_sum == 0.5
    assert code.codeword(0) == "0"
    bits = code.encode(np.array([0, 0, 0]))
    assert bits.to01() == "000"
    assert code.decode(bits, 3).tolist() == [0, 0, 0]
    with pytest.raises(DecodeError):
        code.decode(bitarray("01"), 2)


def test_zero_weights_get_no_codeword():
    assert huffman_lengths(np.array([4, 2, 1, 1, 0])).tolist() == [1, 2, 3, 3, 0]
    assert huffman_lengths(np.array([0, 0, 7])).tolist() == [0, 0, 1]


# ------------------------------------------------------------------ canonical codewords
def test_canonical_codewords_sorted_by_length_then_id():
    code = PrefixCode.from_lengths([3, 1, 4, 2, 0, 4])
    assert [code.codeword(i) for i in range(6)] == ["110", "0", "1110", "10", "", "1111"]
    rows = code.table()
    assert [(r.id, r.length_bits, r.codeword) for r in rows] == [
        (0, 3, "110"), (1, 1, "0"), (2, 4, "1110"), (3, 2, "10"), (5, 4, "1111"),
    ]
    assert code.kraft_sum == 1.0
    assert _is_prefix_free([r.codeword for r in rows])


def _is_prefix_free(codewords):
    return not any(a != b and b.startswith(a) for a in codewords for b in codewords)


@given(st.lists(st.integers(0, 10_000), min_size=2, max_size=300).filter(lambda w: sum(1 for x in w if x) >= 2))
def test_huffman_is_canonical_prefix_free_and_complete(w):
    code = HuffmanCode.from_weights(np.array(w))
    rows = code.table()
    assert [r.id for r in rows] == [i for i, x in enumerate(w) if x > 0]
    codewords = [r.codeword for r in rows]
    assert all(len(c) == r.length_bits for c, r in zip(codewords, rows))
    assert len(set(codewords)) == len(codewords)
    # canonical: in (length, id) order the codewords increase as binary fractions
    ordered = sorted(rows, key=lambda r: (r.length_bits, r.id))
    values = [int(r.codeword, 2) / 2**r.length_bits for r in ordered]
    assert values == sorted(values) and len(set(values)) == len(values)
    assert ordered[0].codeword == "0" * ordered[0].length_bits
    assert ordered[-1].codeword == "1" * ordered[-1].length_bits
    assert code.kraft_sum == 1.0
    if len(rows) <= 120:
        assert _is_prefix_free(codewords)


# ------------------------------------------------------------------ ties
def test_tie_rule_is_deterministic_and_documented():
    first = HuffmanCode.from_distribution(Distribution.uniform(5))
    second = HuffmanCode.from_distribution(Distribution.uniform(5))
    assert np.array_equal(first.lengths_bits, second.lengths_bits)
    assert sorted(first.lengths_bits.tolist()) == [2, 2, 2, 3, 3]
    # the smaller ids are merged first, so they end up deepest
    assert first.lengths_bits.tolist() == [3, 3, 2, 2, 2]
    assert HuffmanCode.from_weights(np.ones(5, dtype=np.int64)).lengths_bits.tolist() == [3, 3, 2, 2, 2]
    assert "smaller id" in TIE_RULE


def test_ties_change_the_cost_of_coding_another_distribution():
    """DESIGN.md trap 2: p coded with the uniform-5 code costs what the tie order says."""
    p = np.array([0.5, 0.25, 0.125, 0.0625, 0.0625])
    code = HuffmanCode.from_distribution(Distribution.uniform(5))
    assert code.expected_bits_per_token(p) == 0.5 * 3 + 0.25 * 3 + 0.25 * 2  # 2.75, the worst order
    assert code.expected_bits_per_token(p[::-1].copy()) == 2.125  # the best order (DESIGN.md says 2.19)


# ------------------------------------------------------------------ properties
positive_weights = st.lists(st.integers(1, 10_000), min_size=2, max_size=300)


@given(positive_weights)
def test_kraft_sum_is_one_and_lengths_bound(w):
    p = Distribution.from_counts(w)
    code = HuffmanCode.from_distribution(p)
    assert code.kraft_sum == 1.0
    h = entropy(p)
    length = code.expected_bits_per_token(p.probabilities)
    assert h - 1e-12 <= length < h + 1
    # L_p = H(p) + KL(p‖q̂) with the dyadic model q̂ = 2^-l of the code
    q_hat = np.ldexp(1.0, -code.lengths_bits)
    assert length == pytest.approx(h + float(p.probabilities @ np.log2(p.probabilities / q_hat)), abs=1e-9)


@given(st.lists(st.floats(0.001, 1.0), min_size=2, max_size=300))
def test_kraft_and_bounds_with_float_probabilities(w):
    values = np.array(w) / math.fsum(w)
    p = Distribution.from_probabilities(values / math.fsum(values.tolist()))
    code = HuffmanCode.from_distribution(p)
    assert code.kraft_sum == 1.0
    h = entropy(p)
    assert h - 1e-12 <= code.expected_bits_per_token(p.probabilities) < h + 1


@st.composite
def code_and_stream(draw):
    size = draw(st.integers(1, 300))
    weights = np.array(draw(st.lists(st.integers(1, 1000), min_size=size, max_size=size)))
    code = HuffmanCode.from_weights(weights)
    dtype = draw(st.sampled_from([np.uint8, np.int64])) if size <= 256 else np.int64
    ids = draw(st.lists(st.integers(0, size - 1), min_size=0, max_size=5000))
    return code, np.array(ids, dtype=dtype)


@given(code_and_stream())
def test_round_trip_huffman(pair):
    code, ids = pair
    _round_trip(code, ids)


@st.composite
def kraft_lengths_and_stream(draw):
    """Arbitrary (often incomplete) prefix codes: lengths 0..64 with Kraft sum ≤ 1."""
    size = draw(st.integers(1, 80))
    lengths = draw(st.lists(st.integers(0, 64), min_size=size, max_size=size))
    lengths[draw(st.integers(0, size - 1))] = draw(st.integers(1, 64))
    while sum(2.0**-l for l in lengths if l) > 1:
        i = max(range(size), key=lambda k: (lengths[k] > 0, -lengths[k]))
        lengths[i] += 1
    used = [i for i, l in enumerate(lengths) if l]
    dtype = draw(st.sampled_from([np.uint8, np.int64]))
    ids = draw(st.lists(st.sampled_from(used), max_size=2000))
    return PrefixCode.from_lengths(lengths), np.array(ids, dtype=dtype)


@given(kraft_lengths_and_stream())
def test_round_trip_arbitrary_prefix_codes_bit_for_bit(pair):
    code, ids = pair
    assert code.kraft_sum <= 1.0
    _round_trip(code, ids)


# ------------------------------------------------------------------ round trips, special paths
@pytest.mark.parametrize("dtype", [np.uint8, np.int64])
def test_round_trip_across_the_batch_border(dtype):
    rng = np.random.default_rng(5)
    p = Distribution.from_counts(rng.integers(1, 100, 200))
    ids = p.sample(_BATCH_TOKENS + 12_345, rng).astype(dtype)  # odd length, two batches
    assert ids.size > _BATCH_TOKENS and ids.size % 2 == 1
    _round_trip(HuffmanCode.from_distribution(p), ids)


def test_round_trip_exactly_two_full_batches():
    rng = np.random.default_rng(6)
    code = HuffmanCode.from_weights(rng.integers(1, 1000, 256))
    _round_trip(code, rng.integers(0, 256, 2 * _BATCH_TOKENS).astype(np.uint8))


@pytest.mark.parametrize("n", [1, 3, 7, 101])
def test_odd_length_uint8_stream(n):
    code = HuffmanCode.from_distribution(Distribution.from_counts([5, 3, 1, 1]))
    ids = (np.arange(n) % 4).astype(np.uint8)
    _round_trip(code, ids)


def test_empty_stream():
    code = PrefixCode.from_lengths([1, 1])
    bits = code.encode(np.array([], dtype=np.int64))
    assert len(bits) == 0
    assert code.decode(bits, 0).tolist() == []
    with pytest.raises(DecodeError, match=r"^expected an empty bitstream for 0 tokens \(got 1 bits\)$"):
        code.decode(bitarray("0"), 0)


@pytest.mark.parametrize("longest", [32, 33, 63, 64, 65, 79])
def test_long_codewords_round_trip(longest):
    """p_i = 2^-i, i = 1..longest, plus one more 2^-longest: lengths 1..longest, longest."""
    probabilities = [2.0**-i for i in range(1, longest + 1)] + [2.0**-longest]
    p = Distribution.from_probabilities(probabilities)
    code = HuffmanCode.from_distribution(p)
    assert code.lengths_bits.tolist() == list(range(1, longest + 1)) + [longest]
    assert code.max_length_bits == longest
    assert code.kraft_sum == 1.0
    assert code.expected_bits_per_token(p.probabilities) == pytest.approx(entropy(p), abs=1e-12)
    rng = np.random.default_rng(longest)
    ids = np.concatenate([rng.integers(0, code.size, 3001), [code.size - 1, code.size - 2] * 40])
    for dtype in (np.uint8, np.int64):
        bits = _round_trip(code, ids.astype(dtype))
        assert len(bits) > 64 * 40


@given(st.integers(0, 2**32 - 1))
def test_vectorized_encoder_matches_bitarray(seed):
    rng = np.random.default_rng(seed)
    size = int(rng.integers(1, 300))
    code = HuffmanCode.from_weights(rng.integers(0, 50, size) ** 3 + (np.arange(size) == 0))
    used = np.flatnonzero(code.lengths_bits)
    ids = rng.choice(used, int(rng.integers(0, 3000)))
    dtype = np.uint8 if size <= 256 and rng.random() < 0.5 else np.int64
    assert code.encode(ids.astype(dtype)) == _reference_encode(code, ids)


# ------------------------------------------------------------------ errors
def test_id_without_codeword_is_named():
    code = PrefixCode.from_lengths([1, 0, 1])
    message = "1 id(s) of the stream have no codeword in the prefix code (first: id 1)"
    with pytest.raises(CodeError, match=f"^{re.escape(message)}$") as info:
        code.encode(np.array([0, 1, 2, 1]))
    assert isinstance(info.value, KlcodeError) and isinstance(info.value, ValueError)
    with pytest.raises(CodeError, match=re.escape("(first: id 1)")):
        code.total_bits(np.array([3, 1, 0]))
    assert code.expected_bits_per_token(np.array([0.5, 0.5, 0.0])) == math.inf


@pytest.mark.parametrize(("ids", "bad"), [([0, 3], 3), ([-1, 0], -1), ([0, 1, 300], 300)])
def test_id_outside_alphabet(ids, bad):
    code = PrefixCode.from_lengths([1, 2, 2])
    with pytest.raises(CodeError, match=f"^id {bad} is outside the code's alphabet of 3 ids$"):
        code.encode(np.array(ids))


def test_non_integer_ids_are_refused():
    code = PrefixCode.from_lengths([1, 1])
    with pytest.raises(CodeError, match=r"^ids must be a 1-D integer array \(got dtype float64, shape \(2,\)\)$"):
        code.encode(np.array([0.0, 1.0]))


@pytest.mark.parametrize(
    ("lengths", "message"),
    [
        ([1, 1, 1], "lengths violate the Kraft inequality, no prefix code exists (Kraft sum 1.5 > 1)"),
        ([0, 0], "a code needs at least one codeword (got all lengths 0)"),
        ([], "a code needs a 1-D array of codeword lengths (got shape (0,))"),
        ([1, 257], "codewords longer than 256 bits are not supported (got 257)"),
    ],
)
def test_invalid_lengths(lengths, message):
    with pytest.raises(CodeError, match=f"^{re.escape(message)}$"):
        PrefixCode.from_lengths(np.array(lengths, dtype=np.int64))


def test_kraft_check_is_exact_for_long_codewords():
    # 2^-1 + 2^-1 + 2^-256 exceeds 1 by less than float resolution
    with pytest.raises(CodeError, match="Kraft inequality"):
        PrefixCode.from_lengths([1, 1, 256])


@pytest.mark.parametrize(
    ("weights", "message"),
    [
        ([1, -1], "Huffman weights must not be negative (got -1)"),
        ([0, 0], "a Huffman code needs at least one positive weight (got all zero)"),
        ([0.5, math.nan], "Huffman weights must be finite (got a NaN or infinite weight)"),
    ],
)
def test_invalid_huffman_weights(weights, message):
    with pytest.raises(CodeError, match=f"^{re.escape(message)}$"):
        huffman_lengths(np.array(weights))


def test_truncated_bitstream_is_a_decode_error():
    code = PrefixCode.from_lengths([1, 2, 3, 3])
    ids = np.array([0, 3, 1, 2])
    bits = code.encode(ids)
    assert bits.to01() == "0111" "10" "110"
    with pytest.raises(DecodeError, match=r"^bitstream does not decode with this code \(.*\)$"):
        code.decode(bits[:-1], 4)  # ends inside a codeword
    with pytest.raises(DecodeError, match=r"^bitstream decoded to 3 tokens \(expected 4\)$"):
        code.decode(bits[:-3], 4)  # ends on a codeword border
    with pytest.raises(DecodeError, match=r"^bitstream decoded to 5 tokens \(expected 4\)$"):
        code.decode(bits + bitarray("0"), 4)


def test_bits_outside_an_incomplete_code_are_a_decode_error():
    code = PrefixCode.from_lengths([2, 2, 0])  # '00', '01'; '1...' is no codeword
    with pytest.raises(DecodeError, match="does not decode"):
        code.decode(bitarray("0011"), 2)


def test_units_that_do_not_fit_in_64_bits_stay_apart():
    from klcode.coders.prefix import _merge_neighbours, _pack

    lengths = np.array([30, 30, 40, 30, 10, 10, 5, 5, 7, 9, 11, 13, 1, 2, 3, 4], dtype=np.uint64)
    rng = np.random.default_rng(5)
    values = np.array([int(rng.integers(0, 2 ** int(l))) for l in lengths], dtype=np.uint64)
    merged = _merge_neighbours(lengths, values)
    assert merged is not None  # one pair of eight (40 + 30 bits) is too long: kept as two units
    merged_lengths, merged_values = merged
    assert merged_lengths.tolist() == [60, 40, 30, 20, 10, 16, 24, 3, 7]
    expected = "".join(format(int(v), f"0{int(l)}b") for l, v in zip(lengths, values))
    words, n_bits = _pack(merged_lengths, merged_values, 0)
    packed = bitarray(endian="big")
    packed.frombytes(words.byteswap().tobytes())
    assert n_bits == len(expected) and packed[:n_bits].to01() == expected
    too_many = np.array([40, 30] * 4, dtype=np.uint64)
    assert _merge_neighbours(too_many, np.zeros(8, dtype=np.uint64)) is None
