"""Keyness: G² (both forms), p-values, Bonferroni, log ratio, %DIFF, simple maths, KL share; the G²–KL identity."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.stats

from klcode.analysis.keyness import (
    chi2_1_critical,
    chi2_1_survival,
    g2_four_term,
    g2_two_term,
    keyness,
)
from klcode.errors import DataError

# Two small corpora, counted by hand on one alphabet
LABELS = ("a", "cat", "dog", "mat", "the")
A = np.array([0, 2, 0, 3, 5])   # 10 tokens
B = np.array([4, 1, 3, 0, 12])  # 20 tokens


def test_ucrel_worked_example():
    # UCREL log-likelihood wizard: a word 52 times in 50,000 tokens and 57 times in 75,000 → LL = 2.65, %1 0.10, %2 0.08
    rows = {r.symbol: r for r in keyness(np.array([52, 49_948]), np.array([57, 74_943]), ("word", "other")).rows}
    word = rows["word"]
    assert round(word.g2_two_term, 2) == 2.65
    assert round(word.per_million_a / 1e4, 2) == 0.10 and round(word.per_million_b / 1e4, 2) == 0.08
    assert word.over_represented_in == "A" and not word.significant and word.p_value > 0.05


def test_hand_computed_values_of_one_token():
    k = keyness(A, B, LABELS)
    cat = next(r for r in k.rows if r.symbol == "cat")
    n = 30
    e_a, e_b = 10 * 3 / n, 20 * 3 / n          # expected counts of "cat": 1 and 2
    e_ra, e_rb = 10 * 27 / n, 20 * 27 / n      # expected "other" counts: 9 and 18
    four = 2 * (2 * math.log(2 / e_a) + 1 * math.log(1 / e_b) + 8 * math.log(8 / e_ra) + 19 * math.log(19 / e_rb))
    two = 2 * (2 * math.log(2 / e_a) + 1 * math.log(1 / e_b))
    assert cat.g2 == pytest.approx(four, abs=1e-12)
    assert cat.g2_two_term == pytest.approx(two, abs=1e-12)
    assert cat.per_million_a == pytest.approx(200_000) and cat.per_million_b == pytest.approx(50_000)
    assert cat.log_ratio == pytest.approx(math.log2((2 / 10) / (1 / 20)))  # 2
    assert cat.percent_diff == pytest.approx(100 * (200_000 - 50_000) / 50_000)  # 300 %
    assert cat.simple_maths == pytest.approx((200_000 + 1) / (50_000 + 1))
    assert cat.kl_bits_per_token == pytest.approx(0.2 * math.log2(0.2 / 0.05))
    assert cat.p_value == pytest.approx(scipy.stats.chi2.sf(four, 1), rel=1e-10)


def test_zero_counts_use_the_stated_smoothing():
    k = keyness(A, B, LABELS)
    rows = {r.symbol: r for r in k.rows}
    assert rows["mat"].log_ratio == pytest.approx(math.log2((3 / 10) / (0.5 / 20)))
    assert rows["mat"].percent_diff == math.inf and rows["mat"].kl_bits_per_token == math.inf
    assert rows["a"].log_ratio == pytest.approx(math.log2((0.5 / 10) / (4 / 20)))
    assert rows["a"].kl_bits_per_token == 0.0 and rows["a"].percent_diff == pytest.approx(-100.0)
    # with a model of B's code (escape-smoothed), the contribution is finite
    model = np.array([4, 1, 3, 0.5, 12]) / 20.5
    k2 = keyness(A, B, LABELS, model_b=model)
    assert next(r for r in k2.rows if r.symbol == "mat").kl_bits_per_token == pytest.approx(0.3 * math.log2(0.3 / model[3]))


def test_four_term_g2_is_2n_times_kl_from_observed_to_expected_table():
    rng = np.random.default_rng(0)
    a, b = rng.integers(0, 50, 30), rng.integers(0, 80, 30)
    n_a, n_b = int(a.sum()), int(b.sum())
    n = n_a + n_b
    g2 = g2_four_term(a, b, n_a, n_b)
    for i in range(30):
        observed = np.array([a[i], b[i], n_a - a[i], n_b - b[i]]) / n
        rows, cols = np.array([a[i] + b[i], n - a[i] - b[i]]) / n, np.array([n_a, n_b]) / n
        expected = np.outer(rows, cols).ravel()
        used = observed > 0
        kl_nats = float(np.sum(observed[used] * np.log(observed[used] / expected[used])))
        assert g2[i] == pytest.approx(2 * n * kl_nats, rel=1e-10, abs=1e-10)


def test_two_term_g2_summed_over_tokens_is_2n_times_the_pooled_kl():
    rng = np.random.default_rng(1)
    a, b = rng.integers(0, 40, 50), rng.integers(1, 40, 50)
    n_a, n_b = int(a.sum()), int(b.sum())
    pooled = (a + b) / (n_a + n_b)
    pa, pb = a / n_a, b / n_b
    kl = lambda p: float(np.sum(p[p > 0] * np.log(p[p > 0] / pooled[p > 0])))  # noqa: E731
    total = float(g2_two_term(a, b, n_a, n_b).sum())
    assert total == pytest.approx(2 * (n_a * kl(pa) + n_b * kl(pb)), rel=1e-12)
    k = keyness(a, b, [f"t{i}" for i in range(50)])
    assert k.g2_two_term_total == pytest.approx(total) and 2 * (n_a + n_b) * k.pooled_kl_nats == pytest.approx(total)


def test_chi_square_tail_and_bonferroni_threshold():
    for g2 in (0.0, 0.5, 3.84, 10.83, 40.0):
        assert chi2_1_survival(g2) == pytest.approx(scipy.stats.chi2.sf(g2, 1), rel=1e-12, abs=1e-300)
    assert chi2_1_critical(0.05) == pytest.approx(scipy.stats.chi2.isf(0.05, 1), rel=1e-9)
    k = keyness(A, B, LABELS, min_count=4)
    assert k.tested == 2 and k.bonferroni_p_threshold == pytest.approx(0.05 / 2)
    assert k.bonferroni_g2_threshold == pytest.approx(scipy.stats.chi2.isf(0.05 / 2, 1), rel=1e-9)
    assert all(r.significant == (r.p_value < k.bonferroni_p_threshold) for r in k.rows)


def test_sorting_and_filtering():
    k = keyness(A, B, LABELS, sort="g2")
    assert [r.g2 for r in k.rows] == sorted((r.g2 for r in k.rows), reverse=True)
    lr = keyness(A, B, LABELS, sort="log-ratio")
    assert [abs(r.log_ratio) for r in lr.rows] == sorted((abs(r.log_ratio) for r in lr.rows), reverse=True)
    by_kl = keyness(A, B, LABELS, sort="kl")
    assert by_kl.rows[0].symbol == "mat"  # ∞: B has no "mat"
    assert {r.symbol for r in keyness(A, B, LABELS, min_count=4).rows} == {"a", "the"}  # a + b: 4, 3, 3, 3, 17
    assert [r.symbol for r in k.top("B", 2)] == [r.symbol for r in k.rows if r.over_represented_in == "B"][:2]


@pytest.mark.parametrize("kwargs,message", [
    ({"sort": "chi2"}, "sort must be one of g2, log-ratio, kl (got 'chi2')"),
    ({"min_count": 0}, "min count must be at least 1 (got 0)"),
    ({"k": 0}, "the simple-maths constant k must be > 0 (got 0)"),
])
def test_bad_settings(kwargs, message):
    with pytest.raises(DataError) as error:
        keyness(A, B, LABELS, **kwargs)
    assert str(error.value) == message
