"""The coin-flip identity: (P(obs | q) / P(obs | p))^(1/N) → 2^(−KL(p‖q))."""

import math

import numpy as np
import pytest

from klcode.analysis.likelihood import (
    LikelihoodRatio,
    likelihood_ratio,
    likelihood_ratio_path,
)
from klcode.errors import DataError
from klcode.info.measures import kl_divergence
from klcode.models.distribution import Distribution

P = Distribution.bernoulli(0.5)
Q = Distribution.bernoulli(0.9)


@pytest.fixture(scope="module")
def flips():
    return P.sample(100_000, np.random.default_rng(0))


def test_normalized_ratio_tends_to_two_to_the_minus_kl(flips):
    ratio = likelihood_ratio(flips, P, Q)
    assert ratio.flips == 100_000
    assert ratio.kl_bits_per_token == pytest.approx(kl_divergence(P, Q))
    assert ratio.limit == pytest.approx(0.6)  # 2^(−KL(½‖0.9)) = √(0.09 / 0.25)
    assert abs(ratio.normalized_ratio - ratio.limit) < 0.01
    assert abs(ratio.empirical_kl_bits_per_token - ratio.kl_bits_per_token) < 0.01
    assert ratio.log2_likelihood_true == pytest.approx(-100_000)  # a fair coin: exactly 1 bit per flip


def test_fields_follow_from_the_counts(flips):
    ratio = likelihood_ratio(flips, P, Q)
    heads = int(flips.sum())
    tails = flips.size - heads
    model = heads * math.log2(0.9) + tails * math.log2(0.1)
    assert ratio.log2_likelihood_model == pytest.approx(model, rel=1e-12)
    assert ratio.log2_ratio == ratio.log2_likelihood_model - ratio.log2_likelihood_true
    assert ratio.normalized_ratio == 2.0 ** (ratio.log2_ratio / ratio.flips)
    assert ratio.empirical_kl_bits_per_token == -ratio.log2_ratio / ratio.flips


def test_path_follows_the_checkpoints_and_ends_at_the_full_ratio(flips):
    checkpoints = [1, 10, 100, 1000, 10_000, 100_000]
    path = likelihood_ratio_path(flips, P, Q, checkpoints)
    assert [r.flips for r in path] == checkpoints
    assert path[-1] == likelihood_ratio(flips, P, Q)
    for record in path:
        assert record == likelihood_ratio(flips[: record.flips], P, Q)
    errors = [abs(r.normalized_ratio - r.limit) for r in path]
    assert errors[-1] < 0.01 < errors[0]


def test_path_in_blocks_matches_one_block(flips, monkeypatch):
    checkpoints = list(range(1000, 100_001, 1000))
    whole = likelihood_ratio_path(flips, P, Q, checkpoints)
    monkeypatch.setattr("klcode.analysis.likelihood._BLOCK_CELLS", 14)  # 7 checkpoints of 2 symbols per block
    assert likelihood_ratio_path(flips, P, Q, checkpoints) == whole


def test_zero_model_probability_on_an_observed_symbol():
    certain = Distribution.from_probabilities([1.0, 0.0])
    ratio = likelihood_ratio(np.array([0, 0, 1, 0]), P, certain)
    assert ratio.log2_likelihood_model == -math.inf and ratio.log2_ratio == -math.inf
    assert ratio.normalized_ratio == 0.0 and ratio.limit == 0.0
    assert ratio.empirical_kl_bits_per_token == math.inf == ratio.kl_bits_per_token
    early, late = likelihood_ratio_path(np.array([0, 0, 1, 0]), P, certain, [2, 3])
    assert early.normalized_ratio == 2.0 and late.normalized_ratio == 0.0


def test_q_is_aligned_to_p_by_symbol():
    p = Distribution.from_probabilities({"H": 0.5, "T": 0.5})
    q = Distribution.from_probabilities({"T": 0.1, "H": 0.9})
    ratio = likelihood_ratio(np.array([0, 0, 1]), p, q)  # H, H, T
    assert ratio.log2_likelihood_model == pytest.approx(2 * math.log2(0.9) + math.log2(0.1))
    assert isinstance(ratio, LikelihoodRatio)


@pytest.mark.parametrize(
    ("observations", "checkpoints", "message"),
    [
        (np.array([], dtype=np.int64), [1], r"^observations must not be empty \(got 0 observations\)$"),
        (np.array([0, 2]), [1], r"^observation id 2 is outside p's alphabet of 2 symbols$"),
        (np.array([0.0, 1.0]), [1], r"1-D array of integer ids \(got dtype float64"),
        (np.array([0, 1, 1]), [], r"^checkpoints must not be empty \(got none\)$"),
        (np.array([0, 1, 1]), [0, 2], r"^checkpoints must be between 1 and the 3 observations \(got 0\)$"),
        (np.array([0, 1, 1]), [1, 4], r"\(got 4\)$"),
        (np.array([0, 1, 1]), [2, 2], r"^checkpoints must increase strictly \(got 2 then 2\)$"),
        (np.array([0, 1, 1]), [1.5], r"^checkpoints must be integers \(got 1.5\)$"),
    ],
)
def test_validation(observations, checkpoints, message):
    with pytest.raises(DataError, match=message):
        likelihood_ratio_path(observations, P, Q, checkpoints)


def test_observation_impossible_under_p():
    p = Distribution.from_probabilities({"H": 1.0, "T": 0.0})
    with pytest.raises(DataError, match=r"^observation 'T' has probability 0 under the true distribution p"):
        likelihood_ratio(np.array([0, 1]), p, Q)
