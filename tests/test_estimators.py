"""Entropy, KL and JS estimators against independent implementations and published formulas."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.integrate
import scipy.special

from klcode.errors import DataError
from klcode.info import estimators as est

# The counts of the R package entropy's examples (entropy.MillerMadow, entropy.ChaoShen, ...).
R_EXAMPLE = np.array([4, 2, 3, 0, 2, 4, 0, 0, 2, 1, 1])


# ---------------------------------------------------------- R `entropy`, transcribed line by line
def r_entropy_empirical(y):
    freqs = y / y.sum()
    freqs = freqs[freqs > 0]
    return -np.sum(freqs * np.log(freqs))


def r_entropy_miller_madow(y):
    n, m = y.sum(), np.sum(y > 0)
    return r_entropy_empirical(y) + (m - 1) / (2 * n)


def r_entropy_chao_shen(y):
    yx = y[y > 0]
    n = yx.sum()
    p = yx / n
    f1 = np.sum(yx == 1)
    if f1 == n:
        f1 = n - 1
    c = 1 - f1 / n
    pa = c * p
    la = 1 - (1 - pa) ** n
    return -np.sum(pa * np.log(pa) / la)


def brute_jackknife(statistic, counts):
    """Leave every token out, one at a time, literally (a token list, not types)."""
    tokens = np.repeat(np.arange(counts.size), counts)
    values = []
    for i in range(tokens.size):
        values.append(statistic(np.bincount(np.delete(tokens, i), minlength=counts.size)))
    n = tokens.size
    return n * statistic(counts) - (n - 1) * np.mean(values)


@pytest.mark.parametrize("counts", [R_EXAMPLE, np.array([1, 1, 1, 1]), np.array([50, 3, 1, 0, 7]), np.array([9])])
def test_plugin_miller_madow_chao_shen_match_the_r_package_formulas(counts):
    assert est.entropy_plugin(counts, base=math.e) == pytest.approx(r_entropy_empirical(counts), abs=1e-12)
    assert est.entropy_miller_madow(counts, base=math.e) == pytest.approx(r_entropy_miller_madow(counts), abs=1e-12)
    assert est.entropy_chao_shen(counts, base=math.e) == pytest.approx(r_entropy_chao_shen(counts), abs=1e-12)


def test_r_example_values_in_bits_and_nats():
    # entropy.empirical(y) = 1.968382 nats; Miller–Madow adds (8 − 1)/(2·19) nats
    assert est.entropy_plugin(R_EXAMPLE, base=math.e) == pytest.approx(1.968382, abs=1e-6)
    assert est.entropy_miller_madow(R_EXAMPLE, base=math.e) - est.entropy_plugin(R_EXAMPLE, base=math.e) == pytest.approx(7 / 38)
    assert est.entropy_plugin(R_EXAMPLE) == pytest.approx(1.968382 / math.log(2), abs=1e-6)


@pytest.mark.parametrize("counts", [R_EXAMPLE, np.array([5, 1]), np.array([3, 3, 2, 1, 1, 1])])
def test_entropy_jackknife_equals_literal_leave_one_out(counts):
    expected = brute_jackknife(lambda c: r_entropy_empirical(c), counts)
    assert est.entropy_jackknife(counts, base=math.e) == pytest.approx(expected, abs=1e-10)


def test_special_functions_match_scipy():
    x = np.array([1e-7, 1e-3, 0.3, 1.0, 2.5, 9.99, 10.0, 37.2, 1e5])
    np.testing.assert_allclose(est.digamma(x), scipy.special.digamma(x), rtol=1e-12)
    np.testing.assert_allclose(est.trigamma(x), scipy.special.polygamma(1, x), rtol=1e-12)
    np.testing.assert_allclose(est.log_gamma(x), scipy.special.gammaln(x), rtol=1e-12, atol=1e-12)


def test_dirichlet_posterior_mean_matches_monte_carlo():
    counts, beta = np.array([6, 2, 1, 0]), 0.5
    rng = np.random.default_rng(3)
    samples = rng.dirichlet(counts + beta, size=200_000)
    mc = float(np.mean(-np.sum(samples * np.log(samples), axis=1)))
    assert est.entropy_dirichlet_posterior_mean(counts, beta, base=math.e) == pytest.approx(mc, abs=3e-3)


def scipy_nsb(counts, k):
    """NSB by scipy's quad over β, with scipy's special functions: an independent implementation."""
    n = counts[counts > 0]
    total = n.sum()

    def log_weight(beta):
        prior = k * scipy.special.polygamma(1, k * beta + 1) - scipy.special.polygamma(1, beta + 1)
        evidence = (scipy.special.gammaln(k * beta) - scipy.special.gammaln(total + k * beta)
                    + np.sum(scipy.special.gammaln(n + beta) - scipy.special.gammaln(beta)))
        return np.log(prior) + evidence

    def mean_h(beta):
        a = total + k * beta
        return (scipy.special.digamma(a + 1) - np.sum((n + beta) / a * scipy.special.digamma(n + beta + 1))
                - (k - n.size) * beta / a * scipy.special.digamma(beta + 1))

    # integrate over t = ln β, with the weights scaled by their maximum on a coarse grid
    grid = np.linspace(-15, 12, 2000)
    peak = max(log_weight(math.exp(t)) + t for t in grid)
    w = lambda t: math.exp(log_weight(math.exp(t)) + t - peak)  # noqa: E731
    num = scipy.integrate.quad(lambda t: w(t) * mean_h(math.exp(t)), -15, 12, limit=400, points=[0.0])[0]
    den = scipy.integrate.quad(w, -15, 12, limit=400, points=[0.0])[0]
    return num / den


@pytest.mark.parametrize("counts,k", [(np.array([5, 5]), 2), (R_EXAMPLE, 11), (np.array([20, 3, 1, 1, 0, 0]), 6),
                                      (np.array([3, 1, 1]), 50)])
def test_nsb_matches_an_independent_quadrature(counts, k):
    assert est.entropy_nsb(counts, alphabet_size=k, base=math.e) == pytest.approx(scipy_nsb(counts, k), abs=2e-5)


def test_nsb_is_near_the_truth_where_the_plugin_is_far():
    # 50 tokens from a uniform distribution on 100 types: plug-in is badly low, NSB much closer (ln 100 = 4.605)
    rng = np.random.default_rng(0)
    counts = rng.multinomial(50, np.full(100, 0.01))
    truth = math.log(100)
    plugin = est.entropy_plugin(counts, base=math.e)
    nsb = est.entropy_nsb(counts, alphabet_size=100, base=math.e)
    assert truth - plugin > 0.7
    assert abs(nsb - truth) < 0.25


# --------------------------------------------------------------------------------- KL and JS
def plugin_kl_nats(n, m):
    p, q = n / n.sum(), m / m.sum()
    used = p > 0
    return float(np.sum(p[used] * np.log(p[used] / q[used]))) if (q[used] > 0).all() else math.inf


def plugin_js_nats(n, m):
    p, q = n / n.sum(), m / m.sum()
    mix = (p + q) / 2
    return 0.5 * plugin_kl_nats(p * 1e9, mix * 1e9) + 0.5 * plugin_kl_nats(q * 1e9, mix * 1e9)


def brute_two_sample_jackknife(statistic, n, m):
    tokens_p, tokens_q = np.repeat(np.arange(n.size), n), np.repeat(np.arange(m.size), m)
    full = statistic(n, m)
    loo_p = [statistic(np.bincount(np.delete(tokens_p, i), minlength=n.size), m) for i in range(tokens_p.size)]
    loo_q = [statistic(n, np.bincount(np.delete(tokens_q, j), minlength=m.size)) for j in range(tokens_q.size)]
    return (full - (tokens_p.size - 1) * (np.mean(loo_p) - full) - (tokens_q.size - 1) * (np.mean(loo_q) - full))


@pytest.mark.parametrize("n,m", [(np.array([6, 3, 1]), np.array([4, 4, 2])), (np.array([5, 0, 2, 1]), np.array([2, 3, 2, 2])),
                                 (np.array([9, 1]), np.array([3, 7]))])
def test_kl_and_js_jackknife_equal_literal_leave_one_out(n, m):
    assert est.kl_jackknife(n, m, base=math.e) == pytest.approx(brute_two_sample_jackknife(plugin_kl_nats, n, m), abs=1e-10)
    assert est.js_jackknife(n, m, base=math.e) == pytest.approx(brute_two_sample_jackknife(plugin_js_nats, n, m), abs=1e-10)


def test_kl_jackknife_with_a_fixed_model_only_leaves_out_tokens_of_p():
    n, q = np.array([6, 3, 1]), np.array([0.5, 0.3, 0.2])
    expected = brute_jackknife(lambda c: plugin_kl_nats(c, q * 1e9), n)
    assert est.kl_jackknife(n, q, base=math.e) == pytest.approx(expected, abs=1e-10)


def test_kl_miller_madow_is_the_stated_formula():
    n, m = np.array([30, 12, 5, 3]), np.array([20, 20, 6, 4])
    p, q = n / 50, m / 50
    expected = plugin_kl_nats(n, m) - (4 - 1) / (2 * 50) - np.sum(p * (1 - q) / (2 * 50 * q))
    assert est.kl_miller_madow(n, m, base=math.e) == pytest.approx(expected, abs=1e-12)
    # a fixed model: only p's term
    assert est.kl_miller_madow(n, q, base=math.e) == pytest.approx(plugin_kl_nats(n, m) - 3 / 100, abs=1e-12)


def test_js_miller_madow_is_the_stated_formula():
    n, m = np.array([30, 12, 5, 3]), np.array([20, 20, 6, 0])
    p, q = n / 50, m / 46
    mix = (p + q) / 2
    expected = (plugin_js_nats(n, m) + np.sum((p * (1 - p) / 50 + q * (1 - q) / 46) / (8 * mix))
                - 0.5 * (3 / 100 + 2 / 92))
    assert est.js_miller_madow(n, m, base=math.e) == pytest.approx(expected, abs=1e-12)


def test_corrections_reduce_the_bias_on_simulated_samples():
    p, q = np.array([0.4, 0.3, 0.15, 0.1, 0.05]), np.array([0.2, 0.2, 0.2, 0.2, 0.2])
    truth_h, truth_kl = -np.sum(p * np.log2(p)), np.sum(p * np.log2(p / q))
    rng = np.random.default_rng(11)
    draws = [(rng.multinomial(60, p), rng.multinomial(60, q)) for _ in range(400)]
    bias = {name: np.mean([est.estimate_entropy(n, name) for n, _ in draws]) - truth_h
            for name in ("plugin", "miller-madow", "jackknife", "chao-shen")}
    assert bias["plugin"] < -0.02
    for name in ("miller-madow", "jackknife"):
        assert abs(bias[name]) < abs(bias["plugin"]) / 4, (name, bias)
    assert abs(bias["chao-shen"]) < abs(bias["plugin"])  # it corrects for unseen types; few here
    kl_bias = {name: np.mean([est.estimate_kl(n, m, name) for n, m in draws]) - truth_kl
               for name in ("plugin", "miller-madow", "jackknife")}
    assert kl_bias["plugin"] > 0.03
    assert abs(kl_bias["miller-madow"]) < abs(kl_bias["plugin"]) / 2
    assert abs(kl_bias["jackknife"]) < abs(kl_bias["plugin"]) / 2


def test_unseen_types_make_kl_infinite_and_estimate_all_keeps_the_plugin_beside():
    n, m = np.array([5, 1, 0]), np.array([3, 0, 4])
    for name in est.KL_ESTIMATORS:
        assert est.estimate_kl(n, m, name) == math.inf
    e = est.estimate_all(n, m, "chao-shen")
    assert e.kl_estimator == "miller-madow" and e.kl_bits_per_token == math.inf
    assert e.plugin_entropy_bits_per_token == est.entropy_plugin(n)
    assert e.entropy_bits_per_token == est.entropy_chao_shen(n)
    assert e.js_bits_per_token == est.js_miller_madow(n, m)


def test_jackknife_kl_is_infinite_when_a_singleton_of_q_carries_p():
    assert est.kl_jackknife(np.array([3, 2]), np.array([1, 5])) == math.inf
    assert math.isfinite(est.kl_miller_madow(np.array([3, 2]), np.array([1, 5])))


@pytest.mark.parametrize("bad,message", [
    (np.array([1.5, 2]), "counts must be integers (got dtype float64)"),
    (np.array([-1, 2]), "counts must not be negative (got -1)"),
    (np.array([0, 0]), "counts must hold at least one token (got total 0)"),
    (np.array([[1, 2]]), "counts must be one-dimensional (got shape (1, 2))"),
])
def test_bad_counts_are_refused_with_the_value(bad, message):
    with pytest.raises(DataError) as error:
        est.entropy_plugin(bad)
    assert str(error.value) == message


def test_unknown_estimator_names_the_choices():
    with pytest.raises(DataError, match="unknown entropy estimator 'mle' \\(choose from plugin, miller-madow"):
        est.estimate_entropy(np.array([1, 2]), "mle")
