"""Shannon, length-limited Huffman and block codes: exact lengths, optimality, the 1/k bound, round trips."""

import itertools
import math
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from klcode import CodeError, Distribution, HuffmanCode, KlcodeError, entropy
from klcode.coders import huffman_lengths
from klcode.coders.base import Coder
from klcode.coders.block import MAX_BLOCK_SYMBOLS, BlockCoder, _huffman_lengths_heap
from klcode.coders.limited import LimitedHuffmanCode, length_limited_lengths
from klcode.coders.shannon import ShannonCode, shannon_lengths

ALICE = Path(__file__).resolve().parents[1] / "corpora" / "canterbury" / "alice29.txt"

positive_weights = st.lists(st.integers(1, 1000), min_size=2, max_size=40)


def _kraft(lengths) -> Fraction:
    return sum((Fraction(1, 2**int(l)) for l in lengths if l > 0), Fraction(0))


# ------------------------------------------------------------------------ Shannon
def test_shannon_lengths_of_powers_of_two_are_exact():
    """q = 2^-k gets exactly k bits, down to the smallest subnormal float."""
    for k in range(1, 1075):
        q = np.ldexp(1.0, -k)
        assert shannon_lengths(np.array([q])).tolist() == [k]
        if k < 1074:  # around 2^-1074 the neighbours are 0 and 2^-1073
            assert shannon_lengths(np.array([np.nextafter(q, 1.0)])).tolist() == [k]
            assert shannon_lengths(np.array([np.nextafter(q, 0.0)])).tolist() == [k + 1]


def test_shannon_dyadic_code_is_complete_and_optimal():
    p = Distribution.from_probabilities([0.5, 0.25, 0.125, 0.0625, 0.0625])
    code = ShannonCode.from_distribution(p)
    assert code.name == "shannon"
    assert code.lengths_bits.tolist() == [1, 2, 3, 4, 4]
    assert code.kraft_sum == 1.0
    assert code.expected_bits_per_token(p.probabilities) == entropy(p) == 1.875


@given(positive_weights.map(np.array))
def test_shannon_lengths_bracket_q(counts):
    """2^-l ≤ q < 2^-(l-1) for every symbol, Kraft ≤ 1, H ≤ L < H + 1 (two or more symbols)."""
    q = counts / counts.sum()
    lengths = shannon_lengths(q)
    assert (np.ldexp(1.0, -lengths) <= q).all()
    assert (q < np.ldexp(1.0, -(lengths - 1))).all()
    assert _kraft(lengths) <= 1
    h = -float(q @ np.log2(q))
    length = float(q @ lengths)
    assert h - 1e-12 <= length < h + 1


@given(st.lists(st.integers(0, 10**15), min_size=1, max_size=30).filter(any).map(np.array))
def test_shannon_lengths_from_counts_are_exact(counts):
    """Counts: l = the least l with c·2^l ≥ N, in integers (no rounding of c/N)."""
    total = int(counts.sum())
    expected = [0 if c == 0 else next(l for l in itertools.count() if int(c) << l >= total) for c in counts]
    expected = [max(l, 1) if c else 0 for l, c in zip(expected, counts)]
    assert shannon_lengths(counts).tolist() == expected


def test_shannon_one_symbol_gets_one_bit():
    assert shannon_lengths([0.0, 1.0, 0.0]).tolist() == [0, 1, 0]
    assert shannon_lengths(np.array([0, 7])).tolist() == [0, 1]
    assert ShannonCode.from_probabilities([1.0]).kraft_sum == 0.5


def test_shannon_counts_and_probabilities_agree():
    counts = Distribution.from_counts([5, 3, 1, 1, 0])
    assert ShannonCode.from_distribution(counts).lengths_bits.tolist() == [1, 2, 4, 4, 0]
    assert shannon_lengths(counts.probabilities).tolist() == [1, 2, 4, 4, 0]


@pytest.mark.parametrize(
    ("probabilities", "message"),
    [
        ([0.6, 0.6], "Shannon code probabilities must sum to at most 1 (got 1.2)"),
        ([0.5, -0.1], "Shannon code probabilities must not be negative (got -0.1)"),
        ([0.0, 0.0], "a Shannon code needs at least one positive probability (got all zero)"),
        ([0.5, float("nan")], "Shannon code probabilities must be finite (got a NaN or infinite value)"),
        ([[0.5, 0.5]], "Shannon code probabilities must be a non-empty 1-D array (got shape (1, 2))"),
    ],
)
def test_shannon_refuses_invalid_input(probabilities, message):
    with pytest.raises(CodeError) as error:
        shannon_lengths(probabilities)
    assert str(error.value) == message
    assert isinstance(error.value, (KlcodeError, ValueError))


# --------------------------------------------------------- length-limited Huffman
def _brute_force_cost(weights, limit):
    """Least Σ w·l over length multisets with Kraft ≤ 1 and max ≤ limit (longest lengths to the lightest)."""
    descending = sorted(weights, reverse=True)
    best = None
    for lengths in itertools.combinations_with_replacement(range(1, limit + 1), len(descending)):
        if _kraft(lengths) <= 1:
            cost = sum(w * l for w, l in zip(descending, lengths))
            best = cost if best is None else min(best, cost)
    return best


@given(st.lists(st.integers(0, 50), min_size=1, max_size=6).filter(any), st.integers(1, 6))
def test_package_merge_equals_brute_force_optimum(weights, limit):
    used = sum(1 for w in weights if w > 0)
    needed = max(1, (used - 1).bit_length())
    if limit < needed:
        with pytest.raises(CodeError, match=rf"needs --max-length >= {needed}\)$"):
            length_limited_lengths(np.array(weights), limit)
        return
    lengths = length_limited_lengths(np.array(weights), limit)
    assert lengths.max() <= limit
    assert _kraft(lengths) <= 1
    assert all((l > 0) == (w > 0) for w, l in zip(weights, lengths))
    assert int(np.array(weights) @ lengths) == _brute_force_cost([w for w in weights if w > 0], limit)


def test_package_merge_exhaustive_check_on_one_alphabet():
    """Every length vector (not only sorted multisets) for one small case."""
    weights = [9, 1, 4, 1, 2]
    for limit in (3, 4):
        best = min(
            sum(w * l for w, l in zip(weights, lengths))
            for lengths in itertools.product(range(1, limit + 1), repeat=len(weights))
            if _kraft(lengths) <= 1
        )
        assert int(np.array(weights) @ length_limited_lengths(np.array(weights), limit)) == best


@given(positive_weights, st.booleans())
def test_package_merge_with_a_large_limit_costs_what_huffman_costs(weights, as_float):
    w = np.array(weights, dtype=np.float64) / sum(weights) if as_float else np.array(weights)
    huffman = huffman_lengths(w)
    for limit in (int(huffman.max()), int(huffman.max()) + 3, 1000):
        lengths = length_limited_lengths(w, limit)
        if as_float:
            assert float(w @ lengths) == pytest.approx(float(w @ huffman), rel=1e-12)
        else:
            assert int(w @ lengths) == int(w @ huffman)


@given(positive_weights, st.integers(0, 6))
def test_package_merge_never_exceeds_the_limit(weights, extra):
    w = np.array(weights)
    limit = max(1, (w.size - 1).bit_length()) + extra
    lengths = length_limited_lengths(w, limit)
    assert 1 <= lengths.min() and lengths.max() <= limit
    assert _kraft(lengths) <= 1
    assert int(w @ lengths) >= int(w @ huffman_lengths(w))


def test_package_merge_refuses_too_short_a_limit():
    with pytest.raises(CodeError) as error:
        length_limited_lengths(np.ones(7), 2)
    assert str(error.value) == "no prefix code gives 7 symbols codewords of at most 2 bits (needs --max-length >= 3)"
    assert length_limited_lengths(np.ones(8), 3).tolist() == [3] * 8


@pytest.mark.parametrize("limit", [0, -1, True, 2.5, "3"])
def test_package_merge_refuses_a_limit_that_is_not_a_positive_integer(limit):
    with pytest.raises(CodeError, match=r"^the maximum codeword length must be"):
        length_limited_lengths(np.array([1, 2]), limit)


def test_package_merge_edge_cases():
    assert length_limited_lengths(np.array([0, 5, 0]), 1).tolist() == [0, 1, 0]
    assert length_limited_lengths(np.array([3, 0, 1]), 1).tolist() == [1, 0, 1]
    # weights whose level sums overflow int64 go through Python integers
    big = np.array([2**61, 2**61, 3, 1], dtype=np.int64)
    assert length_limited_lengths(big, 2).tolist() == [2, 2, 2, 2]
    assert length_limited_lengths(big, 3).tolist() == huffman_lengths(big).tolist() == [2, 1, 3, 3]


def test_limited_code_from_distribution():
    q = Distribution.from_counts([8, 4, 2, 1, 1])
    code = LimitedHuffmanCode.from_distribution(q, 3)
    assert code.name == "huffman[max-length=3]"
    assert code.lengths_bits.tolist() == [1, 3, 3, 3, 3]
    assert LimitedHuffmanCode.from_distribution(q, 8).lengths_bits.tolist() == [1, 2, 3, 4, 4]


# ------------------------------------------------------------------ block codes
def _coin():
    return Distribution.bernoulli(0.9, ("T", "H"))


@pytest.mark.parametrize("k", range(1, 13))
def test_block_huffman_on_a_biased_coin_is_within_one_over_k_of_the_entropy(k):
    """H(p) ≤ L_k / k < H(p) + 1/k for the Huffman code of the k-th extension of p."""
    p = _coin()
    coder = BlockCoder.from_distribution(p, k)
    h = entropy(p)
    per_token = coder.expected_bits_per_token(p.probabilities)
    assert h - 1e-12 <= per_token < h + 1 / k
    assert coder.block_symbols == 2**k and coder.block_lengths_bits.size == 2**k


def test_block_huffman_on_measured_coin_flips():
    """10^5 seeded flips: measured bits per flip near L_k / k, so within 1/k (+ sampling noise) of H."""
    p = _coin()
    flips = p.sample(100_000, np.random.default_rng(2024))
    h = entropy(p)
    measured = []
    for k in range(1, 13):
        coder = BlockCoder.from_distribution(p, k)
        encoded = coder.encode(flips)
        per_token = encoded.n_bits / flips.size
        assert per_token == pytest.approx(coder.expected_bits_per_token(p.probabilities), abs=0.01)
        assert h - 0.01 < per_token < h + 1 / k + 0.01
        if k in (5, 12):  # the slowest decodes: checked on two sizes
            assert np.array_equal(coder.decode(encoded), flips)
        measured.append(per_token)
    assert measured[-1] < measured[0] - 0.5  # 1 bit per flip at k = 1, about H = 0.469 at k = 12


def test_block_bits_are_blocks_plus_tail_exactly():
    q = Distribution.from_probabilities([0.5, 0.3, 0.2])
    coder = BlockCoder.from_distribution(q, 3)
    ids = np.array([0, 1, 2, 2, 2, 0, 1, 1])  # two blocks and a tail of two tokens
    encoded = coder.encode(ids)
    blocks, tail = encoded.payload
    block_ids = [0 * 9 + 1 * 3 + 2, 2 * 9 + 2 * 3 + 0]
    assert len(blocks) == int(coder.block_lengths_bits[block_ids].sum())
    assert len(tail) == 2 * int(coder.tail_code.lengths_bits[1])
    assert encoded.n_bits == len(blocks) + len(tail)
    assert coder.decode(encoded).tolist() == ids.tolist()


def test_block_code_refuses_a_block_alphabet_that_is_too_large(monkeypatch):
    from klcode.coders import block

    def fail(*_args):
        raise AssertionError("the block alphabet was built before the refusal")

    monkeypatch.setattr(block, "_extension", fail)
    with pytest.raises(CodeError) as error:
        BlockCoder(np.full(200, 1 / 200), 3)
    assert str(error.value) == (
        "a block code of k=3 over 200 symbols needs 8,000,000 block symbols (limit 1,048,576); use a smaller --block"
    )
    assert MAX_BLOCK_SYMBOLS == 2**20
    # zero-probability ids do not count: the support is what is taken k times
    q = np.zeros(300)
    q[:4] = 0.25
    with pytest.raises(CodeError, match="over 4 symbols needs 1,099,511,627,776 block symbols"):
        BlockCoder(q, 20)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"block_size": 0}, "the block size must be an integer k >= 1 (got 0)"),
        ({"block_size": True}, "the block size must be an integer k >= 1 (got True)"),
        (
            {"block_size": 2, "family": "arith"},
            "unknown code family 'arith' (expected one of huffman, shannon, limited)",
        ),
        ({"block_size": 2, "family": "limited"}, "the limited family needs max_length_bits (got None)"),
        (
            {"block_size": 2, "max_length_bits": 4},
            "max_length_bits applies to the limited family only (got family 'huffman')",
        ),
        (
            {"block_size": 2, "family": "limited", "max_length_bits": "8"},
            "the maximum codeword length must be an integer number of bits (got '8')",
        ),
        (
            {"block_size": 3, "family": "limited", "max_length_bits": 4},
            "no prefix code gives 27 block symbols (k=3) codewords of at most 4 bits (needs --max-length >= 5)",
        ),
    ],
)
def test_block_code_refuses_bad_parameters(kwargs, message):
    with pytest.raises(CodeError) as error:
        BlockCoder(np.array([0.5, 0.25, 0.25]), **kwargs)
    assert str(error.value) == message


def test_block_code_names_and_lengths():
    q = Distribution.from_counts([5, 3, 1, 1, 0])
    one = BlockCoder.from_distribution(q, 1)
    assert isinstance(one, Coder) and one.order0
    assert one.name == "huffman"
    assert one.lengths_bits.tolist() == HuffmanCode.from_distribution(q).lengths_bits.tolist()
    assert one.expected_bits_per_token(q.probabilities) == HuffmanCode.from_distribution(q).expected_bits_per_token(
        q.probabilities
    )
    assert BlockCoder.from_distribution(q, 1, "shannon").lengths_bits.tolist() == [1, 2, 4, 4, 0]
    assert BlockCoder.from_distribution(q, 1, "limited", 2).name == "huffman[max-length=2]"
    two = BlockCoder.from_distribution(q, 2, "limited", 5)
    assert two.name == "huffman[max-length=5,block=2]" and two.lengths_bits is None
    assert two.block_lengths_bits.max() <= 5 and two.block_symbols == 16
    assert "k=2 extension of q" in two.description and "last n mod 2 tokens" in two.description
    assert BlockCoder.from_distribution(q, 3, "shannon").name == "shannon[block=3]"


def test_block_shannon_cross_entropy_bound():
    """Coding p with the Shannon code of q^k: H(p,q) ≤ L/k < H(p,q) + 1/k."""
    p = np.array([0.6, 0.3, 0.1])
    q = np.array([0.2, 0.5, 0.3])
    cross = -float(p @ np.log2(q))
    for k in range(1, 7):
        per_token = BlockCoder(q, k, "shannon").expected_bits_per_token(p)
        assert cross - 1e-12 <= per_token < cross + 1 / k


def test_block_expected_length_is_infinite_off_the_support():
    coder = BlockCoder(np.array([0.5, 0.5, 0.0]), 2)
    assert coder.expected_bits_per_token(np.array([0.5, 0.25, 0.25])) == float("inf")
    assert coder.expected_bits_per_token(np.array([0.5, 0.5, 0.0, 0.0])) == 1.0


def test_block_code_names_an_id_without_codeword():
    coder = BlockCoder(np.array([0.5, 0.0, 0.5, 0.0]), 2)
    with pytest.raises(CodeError) as error:
        coder.encode(np.array([0, 2, 3, 1, 3]))
    assert str(error.value) == (
        "id 1 has probability 0 under q, so the huffman[block=2] code has no codeword for it "
        "(2 such id(s) in the stream)"
    )
    with pytest.raises(CodeError, match=r"^id 4 is outside the code's alphabet of 4 ids$"):
        coder.encode(np.array([0, 4]))


@given(
    st.lists(st.integers(0, 6), min_size=1, max_size=7).filter(any),
    st.integers(1, 4),
    st.sampled_from(["huffman", "shannon", "limited"]),
    st.integers(0, 60),
    st.integers(0, 2**32 - 1),
)
def test_block_round_trips_on_random_streams(counts, k, family, n, seed):
    counts = np.array(counts)
    q = counts / counts.sum()
    support = np.flatnonzero(counts)
    limit = max(1, (support.size**k - 1).bit_length()) + 1 if family == "limited" else None
    coder = BlockCoder(q, k, family, max_length_bits=limit, counts=counts)
    ids = np.random.default_rng(seed).choice(support, size=n)  # n not a multiple of k, often
    encoded = coder.encode(ids)
    assert encoded.n_tokens == n
    assert encoded.n_bits == len(encoded.payload.blocks) + len(encoded.payload.tail)
    decoded = coder.decode(encoded)
    assert decoded.dtype == np.int64 and np.array_equal(decoded, ids)


@pytest.mark.parametrize(
    ("family", "k", "limit"),
    [("huffman", 2, None), ("shannon", 1, None), ("shannon", 2, None), ("limited", 1, 9), ("limited", 2, 14)],
)
def test_block_round_trips_on_alice(family, k, limit):
    ids = np.frombuffer(ALICE.read_bytes(), dtype=np.uint8)
    q = Distribution.from_counts(np.bincount(ids, minlength=256))
    coder = BlockCoder.from_distribution(q, k, family, limit)
    encoded = coder.encode(ids)
    assert np.array_equal(coder.decode(encoded), ids)
    if k == 1:  # the measured bits are Σ c(x)·l(x): the bound on the empirical distribution applies
        h, bits_per_token = entropy(q), encoded.n_bits / ids.size
        assert bits_per_token >= h
        assert bits_per_token < h + 1 or family == "limited"
    if family == "limited":
        assert coder.block_lengths_bits.max() <= limit


@given(st.lists(st.integers(0, 5), min_size=1, max_size=80).filter(any), st.booleans())
def test_block_huffman_helper_matches_dahuffman(weights, as_float):
    """The heap Huffman used for block alphabets follows huffman_lengths' tie rule exactly."""
    w = np.array(weights, dtype=np.float64) / 7 if as_float else np.array(weights)
    assert _huffman_lengths_heap(w).tolist() == huffman_lengths(w).tolist()


def test_block_code_with_one_symbol():
    coder = BlockCoder(np.array([0.0, 1.0]), 3)
    assert coder.block_lengths_bits.tolist() == [1]
    encoded = coder.encode(np.array([1, 1, 1, 1]))
    assert encoded.n_bits == 2 and coder.decode(encoded).tolist() == [1, 1, 1, 1]
    assert math.isclose(coder.expected_bits_per_token(np.array([0.0, 1.0])), 1 / 3)
