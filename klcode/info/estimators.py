"""Entropy, KL and JS estimated from counts: the plug-in value and its bias-corrected rivals.

The plug-in ("maximum likelihood") entropy Ĥ = −Σ (n_x/N) log(n_x/N) of a
sample of N tokens is biased low: E[Ĥ] ≈ H − (K−1)/(2N) nats for K types.
The plug-in KL between two samples is biased high by about
(K_p−1)/(2N) + Σ p(1−q)/(2Mq).  This module gives, for counts:

=================  ======================================================  ==================================
name               entropy H                                               KL(p‖q), JS(p, q)
=================  ======================================================  ==================================
``plugin``         −Σ p̂ log p̂                                              Σ p̂ log(p̂/q̂); JS of p̂, q̂
``miller-madow``   Ĥ + (m−1)/(2N)          (Miller 1955)                   second-order (delta-method) bias removed
``jackknife``      N·Ĥ − (N−1)·mean Ĥ₋ᵢ    (Zahl 1977)                     two-sample leave-one-token-out
``chao-shen``      −Σ C p̂ log(C p̂) / (1 − (1 − C p̂)^N), C = 1 − f₁/N       (entropy only; KL: miller-madow)
                   (Chao & Shen 2003, Horvitz–Thompson)
``nsb``            posterior mean of H under the NSB mixture of            (entropy only; KL: miller-madow)
                   Dirichlet(β) priors (Nemenman, Shafee & Bialek 2002)
=================  ======================================================  ==================================

m is the number of types seen, f₁ the number of singletons; every formula
is in nats and converted with ``base`` (2 by default: bits).  Counts are
one-dimensional non-negative integer arrays (zeros allowed: types of the
alphabet not seen).  KL takes q either as counts (a second sample: both
sides are corrected) or as probabilities (a fixed model: only p is).  A type
with n_p > 0 and q = 0 makes every KL estimate infinite, as the formula is.
Cross-entropy is estimated as Ĥ(p) + KL̂(p‖q) (the identity H(p,q) = H(p) + KL).

The digamma, trigamma and log-gamma functions NSB needs are computed here
with numpy (recurrence, then the asymptotic series), so that scipy is not
needed at run time; the tests compare them with scipy.special.

>>> counts = np.array([4, 2, 3, 0, 2, 4, 0, 0, 2, 1, 1])
>>> round(entropy_plugin(counts, base=math.e), 6), round(entropy_miller_madow(counts, base=math.e), 6)
(1.968382, 2.152593)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..errors import DataError

ENTROPY_ESTIMATORS = ("plugin", "miller-madow", "jackknife", "chao-shen", "nsb")
KL_ESTIMATORS = ("plugin", "miller-madow", "jackknife")

#: What each estimator is, in one line (the CLI notes and the JSON carry it).
ESTIMATOR_FORMULAS = {
    "plugin": "plug-in (maximum likelihood): H = −Σ p̂ log p̂, KL = Σ p̂ log(p̂/q̂), p̂ = n/N",
    "miller-madow": "Miller–Madow: H = Ĥ + (m−1)/(2N); KL = KL̂ − (m_p−1)/(2N) − Σ p̂(1−q̂)/(2M q̂) (q a sample of M)",
    "jackknife": "jackknife: θ = θ̂ − (N−1)(mean θ̂₋ᵢ − θ̂) [− (M−1)(mean θ̂₋ⱼ − θ̂) over q's tokens]",
    "chao-shen": "Chao–Shen: H = −Σ C p̂ log(C p̂)/(1 − (1 − C p̂)^N), C = 1 − f₁/N (KL: Miller–Madow)",
    "nsb": "NSB: posterior mean of H under a Dirichlet(β) mixture, prior ∝ dE[H|β]/dβ, K types (KL: Miller–Madow)",
}


# ------------------------------------------------------------------ validation
def _counts(counts: np.ndarray | list, what: str = "counts") -> np.ndarray:
    array = np.asarray(counts)
    if array.ndim != 1:
        raise DataError(f"{what} must be one-dimensional (got shape {array.shape})")
    if array.size and array.dtype.kind not in "iu":
        if array.dtype.kind == "f" and np.all(np.isfinite(array)) and np.all(array == np.round(array)):
            array = array.astype(np.int64)
        else:
            raise DataError(f"{what} must be integers (got dtype {array.dtype})")
    array = array.astype(np.int64)
    if array.size and array.min() < 0:
        raise DataError(f"{what} must not be negative (got {int(array.min())})")
    if array.sum() == 0:
        raise DataError(f"{what} must hold at least one token (got total 0)")
    return array


def _convert(nats: float, base: float) -> float:
    return nats if base == math.e else nats / math.log(base)


def _xlogx(x: np.ndarray) -> np.ndarray:
    """x·ln x with 0·ln 0 = 0 (float array)."""
    x = np.asarray(x, dtype=np.float64)
    out = np.zeros_like(x)
    positive = x > 0
    out[positive] = x[positive] * np.log(x[positive])
    return out


# ------------------------------------------------------------ special functions
def digamma(x: np.ndarray | float) -> np.ndarray:
    """ψ(x) = d ln Γ(x)/dx for x > 0: ψ(x) = ψ(x+1) − 1/x up to x ≥ 10, then the asymptotic series.

    >>> round(float(digamma(1.0)), 12)  # −γ
    -0.577215664902
    """
    shape = np.shape(x)
    x = np.array(x, dtype=np.float64, ndmin=1)
    result = np.zeros_like(x)
    small = x < 10
    while small.any():
        result[small] -= 1.0 / x[small]
        x[small] += 1.0
        small = x < 10
    inv2 = 1.0 / (x * x)
    series = inv2 * (1 / 12 - inv2 * (1 / 120 - inv2 * (1 / 252 - inv2 * (1 / 240 - inv2 * (1 / 132)))))
    return (result + np.log(x) - 0.5 / x - series).reshape(shape)


def trigamma(x: np.ndarray | float) -> np.ndarray:
    """ψ₁(x) = d²ln Γ(x)/dx² for x > 0: ψ₁(x) = ψ₁(x+1) + 1/x² up to x ≥ 10, then the asymptotic series.

    >>> round(float(trigamma(1.0)), 12)  # π²/6
    1.644934066848
    """
    shape = np.shape(x)
    x = np.array(x, dtype=np.float64, ndmin=1)
    result = np.zeros_like(x)
    small = x < 10
    while small.any():
        result[small] += 1.0 / (x[small] * x[small])
        x[small] += 1.0
        small = x < 10
    inv = 1.0 / x
    inv2 = inv * inv
    series = inv + 0.5 * inv2 + inv * inv2 * (1 / 6 - inv2 * (1 / 30 - inv2 * (1 / 42 - inv2 * (1 / 30 - inv2 * 5 / 66))))
    return (result + series).reshape(shape)


def log_gamma(x: np.ndarray | float) -> np.ndarray:
    """ln Γ(x) for x > 0: ln Γ(x) = ln Γ(x+1) − ln x up to x ≥ 10, then Stirling's series.

    >>> round(float(log_gamma(5.0)), 12) == round(math.log(24), 12)
    True
    """
    shape = np.shape(x)
    x = np.array(x, dtype=np.float64, ndmin=1)
    result = np.zeros_like(x)
    small = x < 10
    while small.any():
        result[small] -= np.log(x[small])
        x[small] += 1.0
        small = x < 10
    inv = 1.0 / x
    inv2 = inv * inv
    series = inv * (1 / 12 - inv2 * (1 / 360 - inv2 * (1 / 1260 - inv2 * (1 / 1680 - inv2 / 1188))))
    return (result + (x - 0.5) * np.log(x) - x + 0.5 * math.log(2 * math.pi) + series).reshape(shape)


# --------------------------------------------------------------------- entropy
def entropy_plugin(counts: np.ndarray, base: float = 2) -> float:
    """Plug-in entropy Ĥ = −Σ (n/N) log(n/N) = log N − (1/N) Σ n log n.

    >>> entropy_plugin(np.array([2, 1, 1]))
    1.5
    """
    n = _counts(counts)
    total = int(n.sum())
    return _convert(max(0.0, math.log(total) - float(_xlogx(n).sum()) / total), base)


def entropy_miller_madow(counts: np.ndarray, base: float = 2) -> float:
    """Miller–Madow entropy H_MM = Ĥ + (m − 1)/(2N) nats, m = types with n > 0 (Miller 1955).

    The R package ``entropy`` (``entropy.MillerMadow``) computes the same.

    >>> round(entropy_miller_madow(np.array([2, 1, 1]), base=math.e) - entropy_plugin(np.array([2, 1, 1]), base=math.e), 6)
    0.25
    """
    n = _counts(counts)
    seen = int(np.count_nonzero(n))
    return _convert(entropy_plugin(n, base=math.e) + (seen - 1) / (2 * int(n.sum())), base)


def _entropy_leave_one_out(n: np.ndarray) -> np.ndarray:
    """Ĥ (nats) of the sample with one token of type x removed, for each type x with n_x > 0 (same order)."""
    total = int(n.sum())
    seen = n[n > 0].astype(np.float64)
    s = float(_xlogx(n).sum())
    rest = s - _xlogx(seen) + _xlogx(seen - 1)
    return np.log(total - 1) - rest / (total - 1)


def entropy_jackknife(counts: np.ndarray, base: float = 2) -> float:
    """Jackknife entropy H_JK = N·Ĥ − (N−1)·(1/N) Σᵢ Ĥ₋ᵢ over the N leave-one-token-out samples (Zahl 1977).

    The N leave-one-out values take only m distinct values (one per type), so
    the mean is Σ_x n_x·Ĥ₋ₓ / N, computed in O(m).  One token: Ĥ (= 0).

    >>> round(entropy_jackknife(np.array([1, 1]), base=math.e), 6)  # 2·ln 2 − 1·0
    1.386294
    """
    n = _counts(counts)
    total = int(n.sum())
    plugin = entropy_plugin(n, base=math.e)
    if total == 1:
        return _convert(plugin, base)
    mean = float(np.dot(n[n > 0], _entropy_leave_one_out(n))) / total
    return _convert(total * plugin - (total - 1) * mean, base)


def entropy_chao_shen(counts: np.ndarray, base: float = 2) -> float:
    """Chao–Shen entropy H_CS = −Σ C p̂ log(C p̂) / (1 − (1 − C p̂)^N), C = 1 − f₁/N (Chao & Shen 2003).

    C is the Good–Turing estimate of the sample coverage (f₁ singletons; when
    every token is a singleton f₁ is taken as N − 1, as ``entropy.ChaoShen``
    in R does); the denominator is the Horvitz–Thompson inclusion probability.

    >>> round(entropy_chao_shen(np.array([10, 10]), base=math.e), 6)  # no singletons: C = 1; ln 2 / (1 − 2⁻²⁰)
    0.693148
    """
    n = _counts(counts)
    seen = n[n > 0].astype(np.float64)
    total = float(seen.sum())
    singletons = float(np.count_nonzero(seen == 1))
    if singletons == total:
        singletons = total - 1
    coverage = 1.0 - singletons / total
    pa = coverage * seen / total
    inclusion = 1.0 - (1.0 - pa) ** total
    return _convert(float(-np.sum(pa * np.log(pa) / inclusion)), base)


def entropy_dirichlet_posterior_mean(counts: np.ndarray, beta: float, alphabet_size: int | None = None,
                                     base: float = 2) -> float:
    """E[H | n, β] = ψ(A+1) − Σ_x (n_x+β)/A · ψ(n_x+β+1), A = N + Kβ (Wolpert & Wolf 1995).

    The posterior mean of the entropy under a symmetric Dirichlet(β) prior on
    K types (``alphabet_size``, at least the length of ``counts``; the types
    beyond it have count 0).  β = ½ is Jeffreys', 1 Laplace's prior.

    >>> round(entropy_dirichlet_posterior_mean(np.array([0, 0]), 1.0, base=math.e), 6)  # uniform prior: ψ(3) − ψ(2)
    0.5
    """
    n = _counts(counts) if np.asarray(counts).sum() else np.asarray(counts, dtype=np.int64)
    k = n.size if alphabet_size is None else int(alphabet_size)
    if k < n.size:
        raise DataError(f"alphabet size must be at least the number of counts (got {k} < {n.size})")
    if not beta > 0:
        raise DataError(f"the Dirichlet concentration β must be > 0 (got {beta})")
    return _convert(float(_posterior_mean_entropy(n, k, np.array([float(beta)]))[0]), base)


def _posterior_mean_entropy(n: np.ndarray, k: int, betas: np.ndarray) -> np.ndarray:
    """E[H | n, β] in nats for each β of ``betas`` (vectorized; zero counts grouped)."""
    values, multiplicity = np.unique(n[n > 0], return_counts=True)
    zeros = k - int(multiplicity.sum())
    a = n.sum() + k * betas
    nb = values[None, :] + betas[:, None]  # (β, distinct counts)
    terms = (multiplicity[None, :] * nb * digamma(nb + 1).reshape(nb.shape)).sum(axis=1)
    terms = terms + zeros * betas * digamma(betas + 1)
    return digamma(a + 1) - terms / a


def _log_evidence(n: np.ndarray, k: int, betas: np.ndarray) -> np.ndarray:
    """ln P(n | β) up to a constant: ln Γ(Kβ) − ln Γ(N+Kβ) + Σ_x [ln Γ(n_x+β) − ln Γ(β)]."""
    values, multiplicity = np.unique(n[n > 0], return_counts=True)
    total = float(n.sum())
    kb = k * betas
    nb = values[None, :] + betas[:, None]
    per_type = (multiplicity[None, :] * (log_gamma(nb).reshape(nb.shape) - log_gamma(betas)[:, None])).sum(axis=1)
    return log_gamma(kb) - log_gamma(total + kb) + per_type


def _nsb_log_weights(n: np.ndarray, k: int, log_betas: np.ndarray) -> np.ndarray:
    """ln of the NSB posterior density over ln β: ln[(Kψ₁(Kβ+1) − ψ₁(β+1))·β·P(n|β)]."""
    betas = np.exp(log_betas)
    prior = k * trigamma(k * betas + 1) - trigamma(betas + 1)
    return np.log(np.maximum(prior, 1e-300)) + log_betas + _log_evidence(n, k, betas)


def entropy_nsb(counts: np.ndarray, alphabet_size: int | None = None, base: float = 2) -> float:
    """NSB entropy: ∫ E[H|n,β] P(n|β) p(β) dβ / ∫ P(n|β) p(β) dβ, p(β) ∝ Kψ₁(Kβ+1) − ψ₁(β+1).

    Nemenman, Shafee & Bialek (2002): a mixture of symmetric Dirichlet(β)
    priors on K types (``alphabet_size``; default the length of ``counts``),
    weighted so that the prior on H is nearly flat on [0, ln K].  The integral
    over ln β is a trapezoid sum on a grid, refined once around the
    posterior's mass.  With K = 1 the entropy is 0.

    >>> round(entropy_nsb(np.array([5, 5]), base=2), 3)
    0.951
    """
    n = _counts(counts)
    k = n.size if alphabet_size is None else int(alphabet_size)
    if k < n.size:
        raise DataError(f"alphabet size must be at least the number of counts (got {k} < {n.size})")
    if k == 1:
        return 0.0
    grid = np.linspace(math.log(1e-8), math.log(1e6), 401)
    log_w = _nsb_log_weights(n, k, grid)
    keep = np.flatnonzero(log_w > log_w.max() - 40)
    lo, hi = grid[max(keep[0] - 1, 0)], grid[min(keep[-1] + 1, grid.size - 1)]
    grid = np.linspace(lo, hi, 801)
    log_w = _nsb_log_weights(n, k, grid)
    weights = np.exp(log_w - log_w.max())
    means = _posterior_mean_entropy(n, k, np.exp(grid))
    step = np.diff(grid)
    numerator = float(np.sum(step * 0.5 * (weights[1:] * means[1:] + weights[:-1] * means[:-1])))
    denominator = float(np.sum(step * 0.5 * (weights[1:] + weights[:-1])))
    return _convert(numerator / denominator, base)


def estimate_entropy(counts: np.ndarray, estimator: str = "plugin", base: float = 2,
                     alphabet_size: int | None = None) -> float:
    """H estimated from ``counts`` by ``estimator`` (one of :data:`ENTROPY_ESTIMATORS`).

    >>> round(estimate_entropy(np.array([3, 1]), "miller-madow"), 4)
    0.9916
    """
    if estimator == "plugin":
        return entropy_plugin(counts, base)
    if estimator == "miller-madow":
        return entropy_miller_madow(counts, base)
    if estimator == "jackknife":
        return entropy_jackknife(counts, base)
    if estimator == "chao-shen":
        return entropy_chao_shen(counts, base)
    if estimator == "nsb":
        return entropy_nsb(counts, alphabet_size, base)
    raise DataError(f"unknown entropy estimator {estimator!r} (choose from {', '.join(ENTROPY_ESTIMATORS)})")


# -------------------------------------------------------------------------- KL
def _model(q: np.ndarray, size: int) -> tuple[np.ndarray, int | None]:
    """q as (values, sample size): counts keep their total M, probabilities get None (a fixed model)."""
    array = np.asarray(q)
    if array.shape != (size,):
        raise DataError(f"p and q must be aligned on one alphabet (got {size} and {array.size} entries)")
    if array.dtype.kind in "iu":
        counts = _counts(array, "q counts")
        return counts.astype(np.float64), int(counts.sum())
    values = np.asarray(array, dtype=np.float64)
    if (values < 0).any() or not np.isfinite(values).all() or abs(float(values.sum()) - 1) > 1e-9:
        raise DataError(f"q must be counts or probabilities summing to 1 (got sum {float(values.sum()):.6g})")
    return values, None


def _kl_parts(n: np.ndarray, q: np.ndarray, m: int | None) -> tuple[np.ndarray, np.ndarray, np.ndarray, float] | None:
    """(n_x, q̂_x, counts of q, KL̂ nats) over types with n_x > 0; None when some q̂_x = 0 there (KL = ∞)."""
    seen = n > 0
    nx = n[seen].astype(np.float64)
    qx = q[seen] / (m if m is not None else 1.0)
    if (qx <= 0).any():
        return None
    total = float(nx.sum())
    px = nx / total
    return nx, qx, q[seen], float(np.dot(px, np.log(px / qx)))


def kl_plugin(counts_p: np.ndarray, q: np.ndarray, base: float = 2) -> float:
    """Plug-in KL(p̂‖q̂) = Σ p̂ log(p̂/q̂), p̂ = n/N, q̂ = m/M (or q itself when given as probabilities).

    >>> kl_plugin(np.array([1, 1]), np.array([1, 3]))
    0.20751874963942185
    """
    n = _counts(counts_p, "p counts")
    values, m = _model(q, n.size)
    parts = _kl_parts(n, values, m)
    return math.inf if parts is None else _convert(max(parts[3], 0.0), base)


def kl_miller_madow(counts_p: np.ndarray, q: np.ndarray, base: float = 2) -> float:
    """Bias-corrected KL = KL̂ − (m_p − 1)/(2N) − Σ_x p̂_x (1 − q̂_x)/(2M q̂_x) nats (delta method).

    KL̂ = H(p̂, q̂) − H(p̂).  The plug-in entropy is low by (m_p−1)/(2N) to
    second order (Miller–Madow), and E[−log q̂_x] ≈ −log q_x + (1−q_x)/(2M q_x)
    makes the plug-in cross-entropy high by Σ p(1−q)/(2Mq); both are removed.
    With q a fixed model (probabilities) the second term is 0.  The
    correction may take the estimate below 0 when p ≈ q: it is not clipped,
    as an estimator it should not be.

    >>> round(kl_miller_madow(np.array([5, 5]), np.array([0.5, 0.5]), base=math.e), 4)  # 0 − 1/20
    -0.05
    """
    n = _counts(counts_p, "p counts")
    values, m = _model(q, n.size)
    parts = _kl_parts(n, values, m)
    if parts is None:
        return math.inf
    nx, qx, _, kl = parts
    total = float(nx.sum())
    correction = (nx.size - 1) / (2 * total)
    if m is not None:
        correction += float(np.sum((nx / total) * (1 - qx) / (2 * m * qx)))
    return _convert(kl - correction, base)


def kl_jackknife(counts_p: np.ndarray, q: np.ndarray, base: float = 2) -> float:
    """Two-sample jackknife KL = KL̂ − (N−1)(mean_i KL̂₋ᵢ − KL̂) − (M−1)(mean_j KL̂₋ⱼ − KL̂).

    i runs over the N tokens of p, j over the M tokens of q (only p when q
    is a fixed model).  Each leave-one-out value depends only on the type left
    out, so both means are O(K) sums with the counts as weights.  Removing the
    only token of q of a type p has makes that leave-one-out KL infinite, and
    so the estimate.

    >>> round(kl_jackknife(np.array([3, 1]), np.array([0.5, 0.5]), base=math.e), 4)
    -0.124
    """
    n = _counts(counts_p, "p counts")
    values, m = _model(q, n.size)
    parts = _kl_parts(n, values, m)
    if parts is None:
        return math.inf
    nx, qx, q_counts, kl = parts
    total = float(nx.sum())
    # KL̂ = (1/N)[Σ n ln n − Σ n ln q̂] − ln N
    s_nn = float(_xlogx(nx).sum())
    s_nq = float(np.dot(nx, np.log(qx)))
    estimate = kl
    if total > 1:
        rest_nn = s_nn - _xlogx(nx) + _xlogx(nx - 1)
        rest_nq = s_nq - np.log(qx)
        loo = (rest_nn - rest_nq) / (total - 1) - math.log(total - 1)
        estimate -= (total - 1) * (float(np.dot(nx, loo)) / total - kl)
    if m is not None and m > 1:
        # leaving out a token of q of type y: q̂ → (m_y − δ)/(M − 1); only types with n_y > 0 move s_nq
        if (q_counts == 1).any():
            return math.inf
        shift = total * (math.log(m) - math.log(m - 1))  # every q̂ = m_x/(M−1) after the removal
        moved = s_nq + shift + nx * (np.log(q_counts - 1) - np.log(q_counts))  # the removed type y had n_y > 0
        unmoved = s_nq + shift  # the removed type had n_y = 0: only M moved
        moved_sum = float(np.dot(q_counts, s_nn / total - math.log(total) - moved / total))
        unmoved_sum = (m - float(q_counts.sum())) * (s_nn / total - math.log(total) - unmoved / total)
        estimate -= (m - 1) * ((moved_sum + unmoved_sum) / m - kl)
    return _convert(estimate, base)


def estimate_kl(counts_p: np.ndarray, q: np.ndarray, estimator: str = "plugin", base: float = 2) -> float:
    """KL(p‖q) estimated by ``estimator``: plugin, miller-madow or jackknife (chao-shen and nsb: miller-madow).

    >>> estimate_kl(np.array([1, 1]), np.array([1, 3]), "plugin") == kl_plugin(np.array([1, 1]), np.array([1, 3]))
    True
    """
    name = kl_estimator_for(estimator)
    if name == "plugin":
        return kl_plugin(counts_p, q, base)
    if name == "miller-madow":
        return kl_miller_madow(counts_p, q, base)
    return kl_jackknife(counts_p, q, base)


def kl_estimator_for(estimator: str) -> str:
    """The KL estimator that goes with an entropy estimator (entropy-only ones use Miller–Madow).

    >>> kl_estimator_for("chao-shen"), kl_estimator_for("jackknife")
    ('miller-madow', 'jackknife')
    """
    if estimator not in ENTROPY_ESTIMATORS:
        raise DataError(f"unknown estimator {estimator!r} (choose from {', '.join(ENTROPY_ESTIMATORS)})")
    return estimator if estimator in KL_ESTIMATORS else "miller-madow"


# -------------------------------------------------------------------------- JS
def _js_nats(n: np.ndarray, m: np.ndarray) -> float:
    total_n, total_m = float(n.sum()), float(m.sum())
    mix = 0.5 * (n / total_n + m / total_m)
    return float(-_xlogx(mix).sum()) - 0.5 * (
        math.log(total_n) - float(_xlogx(n).sum()) / total_n + math.log(total_m) - float(_xlogx(m).sum()) / total_m)


def js_plugin(counts_p: np.ndarray, counts_q: np.ndarray, base: float = 2) -> float:
    """Plug-in JS(p̂, q̂) = H(m̂) − ½H(p̂) − ½H(q̂), m̂ = ½(p̂ + q̂).

    >>> js_plugin(np.array([1, 0]), np.array([0, 1]))
    1.0
    """
    n, m = _counts(counts_p, "p counts"), _counts(counts_q, "q counts")
    if n.size != m.size:
        raise DataError(f"p and q must be aligned on one alphabet (got {n.size} and {m.size} entries)")
    return _convert(max(_js_nats(n, m), 0.0), base)


def js_miller_madow(counts_p: np.ndarray, counts_q: np.ndarray, base: float = 2) -> float:
    """Bias-corrected JS = JŜ + Σ_x [p̂(1−p̂)/N + q̂(1−q̂)/M]/(8 m̂) − ½[(m_p−1)/(2N) + (m_q−1)/(2M)] nats.

    Each plug-in entropy is low by Σ Var(estimate)/(2·mean) to second order:
    for H(p̂) that is (m_p−1)/(2N), for H(m̂) with Var(m̂) = ¼[p(1−p)/N + q(1−q)/M]
    the first sum; JS = H(m) − ½H(p) − ½H(q) gets the signed combination.

    >>> round(js_miller_madow(np.array([5, 5]), np.array([5, 5]), base=math.e), 4)  # 2·(.025 + .025)/(8·.5) − ½(1/20 + 1/20)
    -0.025
    """
    n, m = _counts(counts_p, "p counts"), _counts(counts_q, "q counts")
    if n.size != m.size:
        raise DataError(f"p and q must be aligned on one alphabet (got {n.size} and {m.size} entries)")
    total_n, total_m = float(n.sum()), float(m.sum())
    p, q = n / total_n, m / total_m
    mix = 0.5 * (p + q)
    used = mix > 0
    bias_mix = float(np.sum((p * (1 - p) / total_n + q * (1 - q) / total_m)[used] / (8 * mix[used])))
    bias_sides = 0.5 * ((np.count_nonzero(n) - 1) / (2 * total_n) + (np.count_nonzero(m) - 1) / (2 * total_m))
    return _convert(float(_js_nats(n, m) + bias_mix - bias_sides), base)


def _js_leave_one_out(n: np.ndarray, m: np.ndarray) -> np.ndarray:
    """JŜ (nats) with one token of p of type x removed, for every type x with n_x > 0 (p's side)."""
    total_n, total_m = float(n.sum()), float(m.sum())
    a = n / (2 * (total_n - 1))
    b = m / (2 * total_m)
    h_mix = float(-_xlogx(a + b).sum())
    seen = n > 0
    mixed = a[seen] + b[seen]
    h_mix_loo = h_mix + _xlogx(mixed) - _xlogx(mixed - 1 / (2 * (total_n - 1)))
    h_p_loo = _entropy_leave_one_out(n)
    h_q = math.log(total_m) - float(_xlogx(m).sum()) / total_m
    return h_mix_loo - 0.5 * h_p_loo - 0.5 * h_q


def js_jackknife(counts_p: np.ndarray, counts_q: np.ndarray, base: float = 2) -> float:
    """Two-sample jackknife JS = JŜ − (N−1)(mean_i JŜ₋ᵢ − JŜ) − (M−1)(mean_j JŜ₋ⱼ − JŜ), O(K) per side.

    >>> round(js_jackknife(np.array([5, 5]), np.array([5, 5]), base=math.e), 4)
    -0.0279
    """
    n, m = _counts(counts_p, "p counts"), _counts(counts_q, "q counts")
    if n.size != m.size:
        raise DataError(f"p and q must be aligned on one alphabet (got {n.size} and {m.size} entries)")
    js = _js_nats(n, m)
    estimate = js
    for x, y in ((n, m), (m, n)):  # JS is symmetric: q's side is p's side with the roles swapped
        total = float(x.sum())
        if total > 1:
            loo = _js_leave_one_out(x.astype(np.float64), y.astype(np.float64))
            estimate -= (total - 1) * (float(np.dot(x[x > 0], loo)) / total - js)
    return _convert(estimate, base)


def estimate_js(counts_p: np.ndarray, counts_q: np.ndarray, estimator: str = "plugin", base: float = 2) -> float:
    """JS(p, q) estimated by ``estimator`` (as :func:`estimate_kl`: entropy-only estimators use Miller–Madow)."""
    name = kl_estimator_for(estimator)
    if name == "plugin":
        return js_plugin(counts_p, counts_q, base)
    if name == "miller-madow":
        return js_miller_madow(counts_p, counts_q, base)
    return js_jackknife(counts_p, counts_q, base)


# ------------------------------------------------------------------- a record
@dataclass(frozen=True)
class Estimates:
    """H(p), H(p,q), KL(p‖q), KL(q‖p), JS (and H(q), H(q,p)) estimated from two samples' counts, beside the plug-in.

    ``kl_estimator`` names the estimator used for KL, cross-entropy and JS
    (``estimator`` itself, or Miller–Madow for the entropy-only ones).
    """

    estimator: str
    kl_estimator: str
    formula: str
    alphabet_size: int
    entropy_bits_per_token: float
    cross_entropy_bits_per_token: float
    kl_bits_per_token: float
    kl_reverse_bits_per_token: float
    js_bits_per_token: float
    plugin_entropy_bits_per_token: float
    plugin_cross_entropy_bits_per_token: float
    plugin_kl_bits_per_token: float
    plugin_kl_reverse_bits_per_token: float
    plugin_js_bits_per_token: float
    entropy_reverse_bits_per_token: float = math.nan
    cross_entropy_reverse_bits_per_token: float = math.nan
    plugin_entropy_reverse_bits_per_token: float = math.nan
    plugin_cross_entropy_reverse_bits_per_token: float = math.nan


def estimate_all(counts_p: np.ndarray, counts_q: np.ndarray, estimator: str = "plugin",
                 alphabet_size: int | None = None) -> Estimates:
    """Every headline number of p against q (two samples, aligned counts) by ``estimator``, in bits.

    >>> e = estimate_all(np.array([30, 10, 0]), np.array([20, 15, 5]), "miller-madow")
    >>> e.kl_estimator, round(e.plugin_kl_bits_per_token, 4), e.kl_reverse_bits_per_token
    ('miller-madow', 0.2925, inf)
    """
    n, m = _counts(counts_p, "p counts"), _counts(counts_q, "q counts")
    if n.size != m.size:
        raise DataError(f"p and q must be aligned on one alphabet (got {n.size} and {m.size} entries)")
    kl_name = kl_estimator_for(estimator)
    h = estimate_entropy(n, estimator, alphabet_size=alphabet_size)
    h_q = estimate_entropy(m, estimator, alphabet_size=alphabet_size)
    kl, kl_reverse = estimate_kl(n, m, kl_name), estimate_kl(m, n, kl_name)
    plugin_h, plugin_kl = entropy_plugin(n), kl_plugin(n, m)
    plugin_h_q, plugin_kl_reverse = entropy_plugin(m), kl_plugin(m, n)
    return Estimates(
        estimator=estimator, kl_estimator=kl_name, formula=ESTIMATOR_FORMULAS[estimator],
        alphabet_size=int(alphabet_size or n.size),
        entropy_bits_per_token=h, cross_entropy_bits_per_token=h + kl, kl_bits_per_token=kl,
        kl_reverse_bits_per_token=kl_reverse, js_bits_per_token=estimate_js(n, m, kl_name),
        plugin_entropy_bits_per_token=plugin_h, plugin_cross_entropy_bits_per_token=plugin_h + plugin_kl,
        plugin_kl_bits_per_token=plugin_kl, plugin_kl_reverse_bits_per_token=plugin_kl_reverse,
        plugin_js_bits_per_token=js_plugin(n, m),
        entropy_reverse_bits_per_token=h_q, cross_entropy_reverse_bits_per_token=h_q + kl_reverse,
        plugin_entropy_reverse_bits_per_token=plugin_h_q,
        plugin_cross_entropy_reverse_bits_per_token=plugin_h_q + plugin_kl_reverse,
    )
