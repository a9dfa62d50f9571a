"""Measures: oracle tests against scipy, infinities, golden numbers, properties."""

import math

import numpy as np
import pytest
import scipy.spatial.distance
import scipy.stats
from hypothesis import given, settings
from hypothesis import strategies as st

from klcode import (
    Distribution,
    DistributionError,
    cross_entropy,
    entropy,
    js_divergence,
    kl_contributions,
    kl_divergence,
    unseen_symbols,
)


def _random_probabilities(rng, size, zero_fraction):
    values = rng.dirichlet(np.full(size, rng.choice([0.1, 1.0, 10.0])))
    if size > 1 and zero_fraction:
        values[rng.random(size) < zero_fraction] = 0.0
        if values.sum() == 0:
            values[rng.integers(size)] = 1.0
    return values / values.sum()


def _random_pair(seed):
    """p (with zeros) and q > 0 everywhere p > 0 (q may be 0 where p is 0)."""
    rng = np.random.default_rng(seed)
    size = int(rng.integers(1, 301))
    p = _random_probabilities(rng, size, 0.3)
    q = _random_probabilities(rng, size, 0.0)
    q[(p == 0) & (rng.random(size) < 0.3)] = 0.0
    q /= q.sum()
    return Distribution.from_probabilities(p), Distribution.from_probabilities(q)


seeds = st.integers(0, 2**32 - 1)


# ------------------------------------------------------------------ oracle: scipy
@settings(max_examples=200)
@given(seeds)
def test_measures_match_scipy(seed):
    p, q = _random_pair(seed)
    pa, qa = p.probabilities, q.probabilities
    h = entropy(p)
    kl = kl_divergence(p, q)
    assert h == pytest.approx(scipy.stats.entropy(pa, base=2), abs=1e-12)
    assert kl == pytest.approx(scipy.stats.entropy(pa, qa, base=2), abs=1e-12)
    assert cross_entropy(p, q) == pytest.approx(h + kl, abs=1e-12)
    assert entropy(p, base=math.e) == pytest.approx(scipy.stats.entropy(pa), abs=1e-12)
    assert kl_divergence(p, q, base=math.e) == pytest.approx(scipy.stats.entropy(pa, qa), abs=1e-12)
    assert cross_entropy(p, q, base=math.e) == pytest.approx(
        scipy.stats.entropy(pa) + scipy.stats.entropy(pa, qa), abs=1e-12
    )
    assert js_divergence(p, q) == pytest.approx(
        scipy.spatial.distance.jensenshannon(pa, qa, base=2) ** 2, abs=1e-9
    )
    # the bare-array API gives the same numbers
    assert kl_divergence(pa, qa) == kl
    assert entropy(pa) == h


def test_oracle_includes_zeros_in_p_and_q_and_both_size_extremes():
    """The seeded generator really covers what the oracle test claims."""
    pairs = [_random_pair(seed) for seed in range(200)]
    assert any((p.probabilities == 0).any() for p, _ in pairs)
    assert any((q.probabilities == 0).any() for _, q in pairs)
    sizes = [p.size for p, _ in pairs]
    assert min(sizes) < 10 and max(sizes) > 250


# ------------------------------------------------------------------ infinities
def test_q_zero_where_p_positive_is_infinite():
    p = Distribution.from_probabilities({"a": 0.5, "b": 0.25, "c": 0.25})
    q = Distribution.from_probabilities({"a": 1.0, "b": 0.0, "c": 0.0})
    assert kl_divergence(p, q) == math.inf
    assert cross_entropy(p, q) == math.inf
    terms = kl_contributions(p, q)
    assert terms[0] == pytest.approx(-0.5)
    assert np.isinf(terms[1:]).all()
    js = js_divergence(p, q)
    assert math.isfinite(js) and 0 < js <= 1
    unseen = unseen_symbols(p, q)
    assert unseen.symbols == ("b", "c")
    assert unseen.p_mass == 0.5
    assert unseen.types == 2


def test_q_zero_where_p_zero_is_finite():
    p = Distribution.from_probabilities([0.5, 0.5, 0.0])
    q = Distribution.from_probabilities([0.25, 0.75, 0.0])
    assert kl_divergence(p, q) == pytest.approx(0.5 * math.log2(2) + 0.5 * math.log2(2 / 3))
    assert math.isfinite(cross_entropy(p, q))
    assert kl_contributions(p, q)[2] == 0.0
    assert unseen_symbols(p, q).symbols == ()
    assert unseen_symbols(p, q).p_mass == 0.0


def test_unseen_symbols_outside_q_alphabet():
    p = Distribution.from_counts({"a": 2, "b": 1, "z": 1})
    q = Distribution.from_probabilities({"b": 0.5, "a": 0.5})
    unseen = unseen_symbols(p, q)
    assert unseen.symbols == ("z",)
    assert unseen.p_mass == 0.25
    assert kl_divergence(p, q) == math.inf


def test_js_of_disjoint_supports_is_exactly_one_bit():
    p = Distribution.from_probabilities({"a": 0.5, "b": 0.5})
    q = Distribution.from_probabilities({"c": 0.25, "d": 0.75})
    assert js_divergence(p, q) == 1.0
    assert js_divergence(p, q, base=math.e) == pytest.approx(math.log(2))


# ------------------------------------------------------------------ golden numbers
def test_binomial_vs_uniform_golden_numbers():
    p, q = Distribution.binomial(2, 0.4), Distribution.uniform(3)
    forward = kl_divergence(p, q, base=math.e)
    backward = kl_divergence(q, p, base=math.e)
    assert round(forward, 4) == 0.0853
    assert round(backward, 4) == 0.0975
    assert forward == pytest.approx(0.08529960131837057, abs=1e-15)
    assert backward == pytest.approx(0.09745500678538754, abs=1e-15)
    assert kl_divergence(p, q) == pytest.approx(0.12306131181181891, abs=1e-15)
    assert forward < backward  # KL is not symmetric


def test_textbook_values():
    dyadic = Distribution.from_probabilities([0.5, 0.25, 0.125, 0.125])
    assert entropy(dyadic) == 1.75
    assert entropy(Distribution.uniform(8)) == 3.0
    assert entropy(Distribution.from_probabilities([1.0])) == 0.0
    assert entropy(Distribution.bernoulli(0.5), base=math.e) == pytest.approx(math.log(2), abs=1e-15)
    half, quarter = Distribution.from_probabilities([0.5, 0.5]), Distribution.from_probabilities([0.25, 0.75])
    assert cross_entropy(half, quarter) == pytest.approx(1.207518749639422, abs=1e-15)
    assert kl_contributions(half, quarter).tolist() == pytest.approx([0.5, 0.5 * math.log2(2 / 3)], abs=1e-15)


# ------------------------------------------------------------------ alignment and API errors
def test_different_alphabets_are_aligned_automatically():
    p = Distribution.from_probabilities({"a": 0.5, "b": 0.5})
    q = Distribution.from_probabilities({"c": 0.2, "b": 0.4, "a": 0.4})
    expected = 0.5 * math.log2(0.5 / 0.4) * 2
    assert kl_divergence(p, q) == pytest.approx(expected, abs=1e-15)
    assert cross_entropy(p, q) == pytest.approx(-math.log2(0.4), abs=1e-15)
    terms = kl_contributions(p, q)
    assert terms.shape == (3,)  # on the aligned alphabet (a, b, c)
    assert terms[2] == 0.0
    assert js_divergence(p, q) == pytest.approx(js_divergence(q, p), abs=1e-15)


def test_mixing_distribution_and_array_is_refused():
    with pytest.raises(DistributionError, match=r"^give two Distributions or two arrays \(got Distribution and list\)$"):
        kl_divergence(Distribution.uniform(2), [0.5, 0.5])


def test_arrays_of_different_lengths_are_refused():
    with pytest.raises(DistributionError, match=r"^p and q must be 1-D arrays of one length \(got shapes \(2,\) and \(3,\)\)$"):
        kl_divergence(np.array([0.5, 0.5]), np.ones(3) / 3)


# ------------------------------------------------------------------ properties
weights = st.lists(st.integers(0, 1000), min_size=1, max_size=60).filter(lambda w: sum(w) > 0)


@st.composite
def aligned_pairs(draw):
    size = draw(st.integers(1, 60))
    p = draw(st.lists(st.integers(0, 1000), min_size=size, max_size=size).filter(lambda w: sum(w) > 0))
    q = draw(st.lists(st.integers(0, 1000), min_size=size, max_size=size).filter(lambda w: sum(w) > 0))
    return Distribution.from_counts(p), Distribution.from_counts(q)


@given(aligned_pairs())
def test_kl_is_non_negative_and_contributions_sum_to_it(pair):
    p, q = pair
    kl = kl_divergence(p, q)
    assert kl >= -1e-12
    terms = kl_contributions(p, q)
    if math.isinf(kl):
        assert np.isinf(terms).any()
        assert unseen_symbols(p, q).p_mass > 0
    else:
        assert math.fsum(terms.tolist()) == pytest.approx(kl, abs=1e-12)
        assert unseen_symbols(p, q).symbols == ()


@given(weights)
def test_kl_of_p_with_itself_is_zero(w):
    p = Distribution.from_counts(w)
    assert kl_divergence(p, p) == 0.0
    assert js_divergence(p, p) == 0.0
    assert cross_entropy(p, p) == pytest.approx(entropy(p), abs=1e-12)


@given(aligned_pairs())
def test_js_is_symmetric_finite_and_at_most_one_bit(pair):
    p, q = pair
    js = js_divergence(p, q)
    assert js == pytest.approx(js_divergence(q, p), abs=1e-12)
    assert -1e-12 <= js <= 1 + 1e-12


@given(weights)
def test_entropy_is_between_0_and_log_of_support(w):
    p = Distribution.from_counts(w)
    h = entropy(p)
    assert -1e-12 <= h <= math.log2(p.support_size) + 1e-12
    assert cross_entropy(p, Distribution.uniform(p.size)) == pytest.approx(math.log2(p.size), abs=1e-12)
