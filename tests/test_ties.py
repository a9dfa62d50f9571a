"""Tie band of Huffman codes: the issue's example, brute force, realized tie orders, collapse without ties."""

import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from klcode import (
    CodeError,
    Distribution,
    DistributionError,
    HuffmanCode,
    cross_entropy,
)
from klcode.coders import huffman_lengths
from klcode.coders.ties import TieBand, huffman_tie_band

EXAMPLE_P = np.array([0.5, 0.25, 0.125, 0.0625, 0.0625])


def _brute_force_band(weights, p, tolerance=0.0):
    """Min and max of the p-cost over every tie order, node by node (no types, no memo)."""
    nodes = [(w, Fraction(x)) for w, x in zip(weights, p) if w > 0]
    if len(nodes) == 1:
        return float(nodes[0][1]), float(nodes[0][1])
    costs = set()

    def merge(nodes, cost):
        if len(nodes) == 1:
            costs.add(cost)
            return
        lightest = min(w for w, _ in nodes)
        for i, (wa, pa) in enumerate(nodes):
            if wa > lightest * (1 + tolerance):
                continue
            rest = nodes[:i] + nodes[i + 1 :]
            second = min(w for w, _ in rest)
            for j, (wb, pb) in enumerate(rest):
                if wb <= second * (1 + tolerance):
                    merge(rest[:j] + rest[j + 1 :] + [(wa + wb, pa + pb)], cost + pa + pb)

    merge(nodes, Fraction(0))
    return float(min(costs)), float(max(costs))


def _cost(lengths, p):
    return float(np.asarray(p) @ np.asarray(lengths))


# ------------------------------------------------------------------ the example
@pytest.mark.parametrize("q", [np.full(5, 0.2), np.ones(5, dtype=np.int64)], ids=["probabilities", "counts"])
def test_issue_example_uniform_five(q):
    band = huffman_tie_band(q, EXAMPLE_P)
    assert (band.minimum_bits_per_token, band.maximum_bits_per_token) == (2.125, 2.75)
    assert band.exact
    assert band.contains(band.canonical_bits_per_token)
    canonical = HuffmanCode.from_weights(q).expected_bits_per_token(EXAMPLE_P)
    assert band.canonical_bits_per_token == canonical == 2.75  # the dahuffman rule lands on the top
    h_pq = cross_entropy(Distribution.from_probabilities(EXAMPLE_P), Distribution.uniform(5))
    assert h_pq == pytest.approx(math.log2(5)) and round(h_pq, 4) == 2.3219
    assert band.minimum_bits_per_token < h_pq < band.maximum_bits_per_token
    assert band.width_bits_per_token == 0.625
    assert band.method.startswith("exact: all ")


def test_realized_extremes_of_the_example():
    """Both ends are real codes: lengths (2,2,2,3,3) and (3,3,2,2,2) are Huffman codes of uniform q."""
    assert _cost([2, 2, 2, 3, 3], EXAMPLE_P) == 2.125
    assert _cost([3, 3, 2, 2, 2], EXAMPLE_P) == 2.75


# ------------------------------------------------------------------- exactness
small_weights = st.lists(st.integers(0, 4), min_size=1, max_size=7).filter(any)


@st.composite
def weights_and_p(draw, weights=small_weights):
    q = draw(weights)
    raw = draw(st.lists(st.integers(0, 20), min_size=len(q), max_size=len(q)))
    raw = [r if w > 0 else 0 for r, w in zip(raw, q)]
    if not any(raw):
        raw[next(i for i, w in enumerate(q) if w > 0)] = 1
    p = np.array(raw, dtype=np.float64) / sum(raw)
    return np.array(q), p


@given(weights_and_p())
def test_exact_band_equals_brute_force(case):
    q, p = case
    band = huffman_tie_band(q, p)
    assert band.exact
    low, high = _brute_force_band(q.tolist(), p)
    assert band.minimum_bits_per_token == pytest.approx(low, abs=1e-12)
    assert band.maximum_bits_per_token == pytest.approx(high, abs=1e-12)
    assert band.contains(band.canonical_bits_per_token)


@given(weights_and_p(), st.randoms(use_true_random=False))
def test_every_realized_tie_order_lies_inside_the_band(case, random):
    """Relabel the ids, build klcode's Huffman code, map back: a tie order that must be inside the band."""
    q, p = case
    band = huffman_tie_band(q, p)
    for _ in range(5):
        order = list(range(q.size))
        random.shuffle(order)
        order = np.array(order)  # new id i is old id order[i]
        lengths = np.empty(q.size, dtype=np.int64)
        lengths[order] = huffman_lengths(q[order])
        assert band.contains(_cost(lengths, p)), (q, p, lengths, band)


@given(st.lists(st.sampled_from([1, 2, 3, 4, 6, 7]), min_size=2, max_size=6), st.integers(0, 2**32 - 1))
def test_float_weights_tie_within_the_tolerance(tenths, seed):
    """q = (0.1, 0.2, ...) in floats: 0.1 + 0.2 ≠ 0.3 exactly, but they are tied as meant."""
    q = np.array(tenths) / 10
    p = np.random.default_rng(seed).dirichlet(np.ones(q.size))
    band = huffman_tie_band(q, p)
    low, high = _brute_force_band(q.tolist(), p, tolerance=1e-12)
    assert band.exact and "relative 1e-12" in band.method
    assert (band.minimum_bits_per_token, band.maximum_bits_per_token) == pytest.approx((low, high), abs=1e-12)
    assert band.contains(band.canonical_bits_per_token)


def test_dyadic_float_weights_are_compared_exactly():
    band = huffman_tie_band(np.array([0.25, 0.25, 0.25, 0.125, 0.125]), np.array([0.1, 0.2, 0.3, 0.2, 0.2]))
    assert band.exact and "compared exactly" in band.method
    low, high = _brute_force_band([2, 2, 2, 1, 1], [0.1, 0.2, 0.3, 0.2, 0.2])
    assert (band.minimum_bits_per_token, band.maximum_bits_per_token) == pytest.approx((low, high), abs=1e-12)


# ------------------------------------------------------------------- collapse
@given(st.permutations(range(8)), st.lists(st.integers(1, 50), min_size=8, max_size=8))
def test_band_collapses_without_ties(order, raw_p):
    """Weights 3^i: no two nodes ever weigh the same, so there is one Huffman code."""
    q = np.array([3**i for i in order])
    p = np.array(raw_p) / sum(raw_p)
    band = huffman_tie_band(q, p)
    assert band.exact and band.tie_orders == 1 and "no tie to break" in band.method
    assert band.minimum_bits_per_token == band.canonical_bits_per_token == band.maximum_bits_per_token
    assert band.canonical_bits_per_token == pytest.approx(_cost(huffman_lengths(q), p), abs=1e-12)


def test_band_collapses_when_p_is_proportional_to_q():
    """With p ∝ q (given as counts) every tie order costs the same: all Huffman codes of q are optimal for q."""
    counts = np.array([5, 1, 1, 1, 1, 2, 2, 3, 3, 3, 1, 1, 8, 1])
    band = huffman_tie_band(counts, counts)
    assert band.exact and band.width_bits_per_token == 0
    assert band.canonical_bits_per_token == pytest.approx(_cost(huffman_lengths(counts), counts / counts.sum()))


def test_one_symbol():
    band = huffman_tie_band(np.array([0, 3, 0]), np.array([0.0, 1.0, 0.0]))
    assert (band.minimum_bits_per_token, band.maximum_bits_per_token, band.exact) == (1.0, 1.0, True)


def test_p_outside_the_support_of_q_costs_infinity():
    band = huffman_tie_band(np.array([1, 1, 0]), np.array([0.5, 0.25, 0.25]))
    assert band.minimum_bits_per_token == band.maximum_bits_per_token == math.inf
    assert band.canonical_bits_per_token == math.inf


def test_p_given_as_counts_equals_p_given_as_probabilities():
    q = np.array([1, 1, 1, 1, 2, 2])
    by_counts = huffman_tie_band(q, np.array([4, 2, 1, 1, 0, 0]))
    by_probabilities = huffman_tie_band(q, np.array([0.5, 0.25, 0.125, 0.125, 0.0, 0.0]))
    assert by_counts == by_probabilities


# ------------------------------------------------------------------- estimate
def test_inner_estimate_when_the_search_is_too_large():
    q = np.ones(9, dtype=np.int64)
    p = np.random.default_rng(7).dirichlet(np.ones(9))
    exact = huffman_tie_band(q, p)
    estimate = huffman_tie_band(q, p, max_states=3, samples=40, seed=1)
    assert exact.exact and not estimate.exact
    assert "inner estimate" in estimate.method and "40 random with seed 1" in estimate.method
    assert estimate.tie_orders == 43  # canonical, two greedy, 40 random
    assert exact.minimum_bits_per_token <= estimate.minimum_bits_per_token
    assert estimate.maximum_bits_per_token <= exact.maximum_bits_per_token
    assert estimate.contains(estimate.canonical_bits_per_token)
    assert estimate.canonical_bits_per_token == exact.canonical_bits_per_token
    assert huffman_tie_band(q, p, max_states=3, samples=40, seed=1) == estimate  # seeded: reproducible


def test_estimate_on_a_large_alphabet_is_quick_and_inside_the_range():
    rng = np.random.default_rng(3)
    q = rng.integers(1, 4, 300)
    p = rng.dirichlet(np.ones(300))
    band = huffman_tie_band(q, p, max_states=2_000, samples=20)
    assert not band.exact
    assert band.minimum_bits_per_token < band.maximum_bits_per_token
    assert band.contains(band.canonical_bits_per_token)


# ----------------------------------------------------------------- validation
@pytest.mark.parametrize(
    ("q", "p", "error", "message"),
    [
        ([1, 1], [0.5, 0.4], DistributionError, "p must sum to 1 (got 0.9)"),
        ([1, 1], [1.0], DistributionError, "p must have one value per Huffman weight (got shape (1,), expected (2,))"),
        ([1, -1], [0.5, 0.5], CodeError, "Huffman weights must not be negative (got -1)"),
        ([0, 0], [0.5, 0.5], CodeError, "a Huffman code needs at least one positive weight (got all zero)"),
    ],
)
def test_invalid_input_is_refused(q, p, error, message):
    with pytest.raises(error) as raised:
        huffman_tie_band(np.array(q), np.array(p))
    assert str(raised.value) == message


def test_tie_band_is_validated():
    with pytest.raises(CodeError, match=r"^a tie band needs minimum <= canonical <= maximum \(got 3, 2.5, 2\)$"):
        TieBand(3, 2, 2.5, True, 1, "exact")
    with pytest.raises(CodeError, match=r"^a tie band covers at least one tie order \(got 0\)$"):
        TieBand(2, 3, 2.5, True, 0, "exact")


@given(weights_and_p(st.lists(st.integers(1, 3), min_size=2, max_size=8)), st.integers(0, 2**32 - 1))
def test_every_estimate_lies_inside_the_exact_band(case, seed):
    q, p = case
    exact = huffman_tie_band(q, p)
    estimate = huffman_tie_band(q, p, max_states=1, samples=10, seed=seed)
    assert exact.exact
    assert exact.contains(estimate.minimum_bits_per_token) and exact.contains(estimate.maximum_bits_per_token)
    assert estimate.canonical_bits_per_token == exact.canonical_bits_per_token


@given(weights_and_p(st.lists(st.integers(0, 3), min_size=1, max_size=30).filter(any)))
def test_canonical_cost_is_the_cost_of_klcodes_huffman_code(case):
    q, p = case
    band = huffman_tie_band(q, p, max_states=50, samples=5)
    expected = HuffmanCode.from_weights(q).expected_bits_per_token(p)
    assert band.canonical_bits_per_token == pytest.approx(expected, abs=1e-12)
    assert band.contains(band.canonical_bits_per_token)


def test_large_alphabet_without_ties_is_exact_and_quick():
    rng = np.random.default_rng(11)
    q = rng.random(20_000)
    q /= q.sum()
    p = rng.dirichlet(np.ones(20_000))
    band = huffman_tie_band(q, p)
    assert band.exact and band.tie_orders == 1
    assert band.canonical_bits_per_token == pytest.approx(HuffmanCode.from_weights(q).expected_bits_per_token(p))
