"""Bootstrap intervals: coverage on simulated data with known KL, resampling units, BCa parts, seeds."""

from __future__ import annotations

import math

import numpy as np
import pytest

from klcode.coders.huffman import huffman_lengths
from klcode.errors import DataError
from klcode.info import intervals as iv
from klcode.info.measures import kl_kernel

# (p, q, N): KL(p‖q) known exactly; N tokens are drawn from each
CASES = [
    (np.array([0.5, 0.3, 0.2]), np.array([0.3, 0.4, 0.3]), 200),
    (np.array([0.4, 0.3, 0.2, 0.1]), np.array([0.25, 0.25, 0.25, 0.25]), 400),
    (np.array([0.6, 0.25, 0.1, 0.05]), np.array([0.4, 0.3, 0.2, 0.1]), 800),
]


# the default interval ("auto"): bca for the plug-in, percentile for Miller–Madow
@pytest.mark.parametrize("p,q,n,estimator", [case + ("plugin",) for case in CASES] + [CASES[2] + ("miller-madow",)])
def test_95_percent_interval_covers_the_true_kl_in_90_to_98_percent_of_200_runs(p, q, n, estimator):
    truth = kl_kernel(p, q)
    rng = np.random.default_rng(123)
    hits = 0
    for run in range(200):
        a, b = iv.TokenSide(rng.multinomial(n, p)), iv.TokenSide(rng.multinomial(n, q))
        interval = iv.bootstrap_intervals(a, b, quantities=("kl",), estimator=estimator, replicates=200, seed=run).intervals[0]
        hits += interval.low_bits_per_token <= truth <= interval.high_bits_per_token
    assert 0.90 <= hits / 200 <= 0.98


def test_entropy_interval_covers_with_documents():
    # 30 documents of 40 tokens each from p: the document bootstrap of H covers H(p) most of the time
    p = np.array([0.5, 0.2, 0.2, 0.1])
    truth = -np.sum(p * np.log2(p))
    rng = np.random.default_rng(5)
    hits = 0
    for run in range(100):
        docs = rng.multinomial(40, p, size=30)
        side = iv.DocumentSide(docs)
        other = iv.TokenSide(np.array([1, 1, 1, 1]))
        interval = iv.bootstrap_intervals(side, other, quantities=("entropy",), estimator="miller-madow",
                                          replicates=200, seed=run).intervals[0]
        hits += interval.low_bits_per_token <= truth <= interval.high_bits_per_token
    assert 0.88 <= hits / 100 <= 1.0


def test_documents_widen_the_interval_when_documents_differ():
    # documents drawn from two different topics: tokens look independent, documents show the spread
    rng = np.random.default_rng(2)
    topic_a, topic_b = np.array([0.7, 0.1, 0.1, 0.1]), np.array([0.1, 0.1, 0.1, 0.7])
    docs = np.vstack([rng.multinomial(200, topic_a if i % 2 else topic_b) for i in range(20)])
    other = iv.TokenSide(np.array([50_000, 20_000, 20_000, 10_000]))
    by_tokens = iv.bootstrap_intervals(iv.TokenSide(docs.sum(axis=0)), other, quantities=("kl",), replicates=300).get("kl")
    by_docs = iv.bootstrap_intervals(iv.DocumentSide(docs), other, quantities=("kl",), replicates=300).get("kl")
    width = lambda i: i.high_bits_per_token - i.low_bits_per_token  # noqa: E731
    assert width(by_docs) > 2 * width(by_tokens)


def test_seeded_and_deterministic_with_the_method_in_the_record():
    a, b = iv.TokenSide(np.array([50, 30, 20])), iv.TokenSide(np.array([30, 40, 30]))
    one = iv.bootstrap_intervals(a, b, replicates=100, seed=4)
    two = iv.bootstrap_intervals(a, b, replicates=100, seed=4)
    other = iv.bootstrap_intervals(a, b, replicates=100, seed=5)
    assert one == two and one != other
    assert one.description == ("95% bca bootstrap, 100 replicates (seed 4) of the plugin estimates, over 100 tokens of p "
                               "and 100 tokens of q")
    assert [i.quantity for i in one.intervals] == list(iv.QUANTITIES)
    for i in one.intervals:
        assert i.low_bits_per_token <= i.estimate_bits_per_token <= i.high_bits_per_token or i.quantity == "code"


def test_code_interval_is_the_huffman_cost_of_each_replicate():
    counts = np.array([40, 25, 20, 10, 5])
    assert iv.huffman_total_bits(counts) == int(counts @ huffman_lengths(counts))
    assert int(counts @ iv.huffman_depths(counts)) == int(counts @ huffman_lengths(counts))
    rng = np.random.default_rng(9)
    for _ in range(50):
        c = rng.multinomial(300, np.array([0.3, 0.25, 0.2, 0.1, 0.1, 0.05]))
        assert iv.huffman_total_bits(c) == int(c @ huffman_lengths(c)) == int(c @ iv.huffman_depths(c))
    result = iv.bootstrap_intervals(iv.TokenSide(counts), iv.TokenSide(counts), quantities=("code",), replicates=50)
    assert result.intervals[0].estimate_bits_per_token == iv.huffman_total_bits(counts) / 100


def test_infinite_replicates_are_counted_and_leave_no_interval_when_too_many():
    # q has a type of p only once in 50 tokens: many replicates of q lack it, KL* = ∞
    p, q = iv.TokenSide(np.array([20, 20, 10])), iv.TokenSide(np.array([25, 24, 1]))
    kl = iv.bootstrap_intervals(p, q, quantities=("kl", "js"), replicates=200, seed=1)
    assert kl.get("kl").infinite_replicates > 10
    assert math.isnan(kl.get("kl").low_bits_per_token) and kl.get("kl").high_bits_per_token == math.inf
    assert kl.get("js").infinite_replicates == 0 and math.isfinite(kl.get("js").high_bits_per_token)


def test_unreliable_estimate_outside_its_replicates_gets_the_basic_interval():
    # 10 tokens on 9 types: every replicate has fewer types, so the Miller–Madow estimate lies above them all
    counts = np.array([2, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0])
    fixed = iv.FixedSide(np.full(11, 1 / 11))
    result = iv.bootstrap_intervals(iv.TokenSide(counts), fixed, quantities=("entropy",), estimator="miller-madow",
                                    replicates=200, seed=0, method="bca")
    interval = result.get("entropy")
    percentile = iv.bootstrap_intervals(iv.TokenSide(counts), fixed, quantities=("entropy",), estimator="miller-madow",
                                        replicates=200, seed=0, method="percentile").get("entropy")
    assert not interval.reliable and not percentile.reliable
    assert percentile.high_bits_per_token < percentile.estimate_bits_per_token  # the replicates all lie below
    # the basic interval reflects them about the estimate: it moves up, against the bias they show
    assert interval.low_bits_per_token > interval.estimate_bits_per_token
    width = lambda i: i.high_bits_per_token - i.low_bits_per_token  # noqa: E731
    assert width(interval) == pytest.approx(width(percentile))


def test_bca_parts_reduce_to_percentile_and_known_acceleration():
    values = np.linspace(0, 1, 1001)
    assert iv.bca_interval(values, 0.5, 0.0, 0.9) == pytest.approx(iv.percentile_interval(values, 0.9))
    u = np.array([1.0, 2.0, -3.0])
    assert iv.acceleration([u]) == pytest.approx((np.sum(u ** 3) / 27) / (6 * (np.sum(u ** 2) / 9) ** 1.5))


def test_token_influence_matches_the_jackknife_for_large_samples():
    # the delta-method influence of the plug-in KL is the N → ∞ limit of (N−1)(mean − leave-one-out)
    from klcode.info.estimators import kl_plugin

    n, m = np.array([4000, 3000, 2000, 1000]), np.array([2500, 2500, 2500, 2500])
    influence = iv._token_influence("kl", n, m, True)
    by_type = {}
    for x in range(4):
        reduced = n.copy()
        reduced[x] -= 1
        by_type[x] = kl_plugin(reduced, m, base=math.e)
    mean = sum(n[x] * by_type[x] for x in range(4)) / n.sum()
    jack = np.array([(n.sum() - 1) * (mean - by_type[x]) for x in range(4)])
    first = np.cumsum(n) - n  # the first token of each type in the repeated influence vector
    np.testing.assert_allclose(influence[first], jack, rtol=2e-3, atol=1e-6)


@pytest.mark.parametrize("kwargs,message", [
    ({"level": 1.5}, "confidence level must be between 0 and 1 (got 1.5)"),
    ({"replicates": 3}, "the bootstrap needs at least 10 replicates (got 3)"),
    ({"method": "studentized"}, "interval method must be one of auto, bca, percentile, basic (got 'studentized')"),
])
def test_bad_settings_are_refused(kwargs, message):
    with pytest.raises(DataError) as error:
        iv.bootstrap_intervals(iv.TokenSide(np.array([1, 2])), iv.TokenSide(np.array([2, 1])), **kwargs)
    assert str(error.value) == message


def test_choose_side_auto_uses_documents_from_five_on():
    docs = np.ones((5, 3), dtype=np.int64)
    assert iv.choose_side(docs.sum(axis=0), docs).unit == "documents"
    assert iv.choose_side(docs.sum(axis=0), docs[:4]).unit == "tokens"
    assert iv.choose_side(docs.sum(axis=0), docs[:4], "documents").unit == "documents"
    with pytest.raises(DataError, match="resampling documents needs a corpus of at least 2 documents \\(got 0\\)"):
        iv.choose_side(docs.sum(axis=0), None, "documents")
