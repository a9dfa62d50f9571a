"""The measurement record: codes of p and q applied to streams, beside the formulas."""

import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from klcode import (
    DataError,
    Distribution,
    DistributionError,
    UnseenSymbolError,
    entropy,
    kl_divergence,
)
from klcode.analysis.measure import UnseenPolicy, measure, measure_samples

CANTERBURY = Path(__file__).resolve().parent.parent / "corpora" / "canterbury"


def probability_vectors(min_size=2, max_size=40, allow_zero=False):
    low = 0.0 if allow_zero else 1e-3
    return st.lists(st.floats(low, 1.0), min_size=min_size, max_size=max_size).filter(
        lambda xs: sum(xs) > 1e-3
    ).map(lambda xs: np.array(xs) / math.fsum(xs))


def test_dyadic_p_against_uniform_is_exact():
    p = Distribution.from_probabilities([0.5, 0.25, 0.125, 0.125])
    m = measure(p, Distribution.uniform(4))
    assert m.p_code.expected_bits_per_token == 1.75
    assert m.q_code.expected_bits_per_token == 2.0
    assert m.kl_bits_per_token == 0.25
    assert m.measured_excess_bits_per_token == 0.25
    assert m.kl_to_dyadic_bits_per_token == 0.25
    assert m.p_code.roundtrip == "no stream" and m.tokens is None
    assert m.huffman_bound_held


def test_binomial_against_uniform_codes():
    p, q = Distribution.binomial(2, 0.4), Distribution.uniform(3)
    m = measure(p, q)
    assert m.p_code_lengths_bits == (2, 1, 2)
    assert sorted(m.q_code_lengths_bits) == [1, 2, 2]
    assert m.p_code.expected_bits_per_token == pytest.approx(1.52, abs=1e-12)
    assert m.kl_bits_per_token * math.log(2) == pytest.approx(0.0853, abs=5e-5)
    assert m.kl_reverse_bits_per_token * math.log(2) == pytest.approx(0.0975, abs=5e-5)


@given(probability_vectors(), st.data())
def test_code_of_q_costs_entropy_plus_kl_to_its_dyadic_model(p_values, data):
    q_values = data.draw(probability_vectors(len(p_values), len(p_values)))
    p = Distribution.from_probabilities(p_values)
    q = Distribution.from_probabilities(q_values)
    m = measure(p, q)
    identity = m.entropy_bits_per_token + m.kl_to_dyadic_bits_per_token
    assert m.q_code.expected_bits_per_token == pytest.approx(identity, abs=1e-9)
    assert m.kl_bits_per_token >= -1e-12
    assert m.huffman_bound_held
    assert m.entropy_bits_per_token <= m.p_code.expected_bits_per_token + 1e-12
    assert m.p_code.expected_bits_per_token <= m.q_code.expected_bits_per_token + 1e-12  # Huffman is optimal


def test_samples_are_encoded_decoded_and_counted():
    p = Distribution.from_probabilities({"a": 0.7, "b": 0.2, "c": 0.1})
    q = Distribution.from_probabilities({"a": 0.1, "b": 0.2, "c": 0.7})
    m = measure_samples(p, q, 100_000, seed=7)
    again = measure_samples(p, q, 100_000, seed=7)
    assert m == again
    stream = p.sample(100_000, np.random.default_rng(7))
    counts = np.bincount(stream, minlength=3)
    assert m.p_code.total_bits == int(counts @ np.array(m.p_code_lengths_bits))
    assert m.q_code.total_bits == int(counts @ np.array(m.q_code_lengths_bits))
    assert m.p_code.roundtrip == m.q_code.roundtrip == "verified"
    assert m.tokens == 100_000 and m.seed == 7 and m.stream == "samples"
    assert m.measured_excess_bits_per_token == pytest.approx(
        m.q_code.expected_bits_per_token - m.p_code.expected_bits_per_token, abs=0.02
    )


def test_no_verify_says_skipped():
    p = Distribution.uniform(3)
    m = measure_samples(p, p, 100, seed=0, verify=False)
    assert m.p_code.roundtrip == m.q_code.roundtrip == "skipped"


def test_empty_stream_is_refused():
    p = Distribution.uniform(2)
    with pytest.raises(DataError, match=r"the stream to encode is empty \(got 0 tokens\)"):
        measure(p, p, np.zeros(0, dtype=np.int64))
    with pytest.raises(DataError, match=r"the number of samples must be >= 1 \(got 0\)"):
        measure_samples(p, p, 0, seed=1)


# ----------------------------------------------------------------- unseen symbols
CRLF_A = b"ab\r\nab\r\nabc\r\n"
LF_B = b"aab\nbba\nc\n"


def measure_texts(a: bytes, b: bytes, **options):
    """p = the bytes of A, q = the bytes of B (one-byte symbols, sorted), the stream = A."""
    symbols = sorted({bytes([x]) for x in a + b})
    index = {s: i for i, s in enumerate(symbols)}
    stream = np.array([index[bytes([x])] for x in a])
    p = Distribution.from_counts(np.bincount(stream, minlength=len(symbols)), symbols)
    q = Distribution.from_counts(np.bincount([index[bytes([x])] for x in b], minlength=len(symbols)), symbols)
    return measure(p, q, stream, stream_kind="text", **options)


def test_escape_policy_counts_every_bit_and_reports_unseen():
    m = measure_texts(CRLF_A, LF_B)
    assert math.isinf(m.kl_bits_per_token) and math.isinf(m.cross_entropy_bits_per_token)
    u = m.unseen
    assert u.policy == "escape" and u.symbols == ("\\r",) and u.types == 1
    assert u.stream_tokens == 3 and u.p_mass == pytest.approx(3 / 13)
    assert u.escape_probability == pytest.approx(1 / 11)  # one pseudo-count over B's 10 tokens
    assert u.fallback_bits == 0  # one missing symbol: the escape alone names it
    assert math.isfinite(m.q_code.measured_bits_per_token)
    assert m.q_code.roundtrip == "verified"
    assert m.q_code.kraft_sum <= 1
    # the measured cost is the code of the effective model q', and its formula is finite
    assert m.effective_kl_bits_per_token == pytest.approx(
        kl_divergence(m_p(CRLF_A), effective_q(m)), abs=1e-12
    )
    assert m.q_code.expected_bits_per_token == pytest.approx(m.entropy_bits_per_token + m.kl_to_dyadic_bits_per_token)


def m_p(text: bytes):
    values, counts = np.unique(np.frombuffer(text, dtype=np.uint8), return_counts=True)
    return Distribution.from_counts(counts, [bytes([v]) for v in values])


def effective_q(m):
    # B's counts (a:3 b:3 c:1 \n:3, n=10) with escape probability 1/11 for the missing '\r'
    counts = {b"\n": 3, b"\r": 0, b"a": 3, b"b": 3, b"c": 1}
    probabilities = {s: c / 11 for s, c in counts.items()}
    probabilities[b"\r"] = 1 / 11
    return Distribution.from_probabilities(probabilities)


def test_escape_fallback_bits_for_several_missing_symbols():
    m = measure_texts(b"abcdefg", b"aaab")
    assert m.unseen.types == 5 and m.unseen.fallback_bits == 3
    escape_lengths = {m.q_code_lengths_bits[i] for i, s in enumerate(m.symbols) if s in "cdefg"}
    assert len(escape_lengths) == 1


def test_add_k_policy_codes_every_symbol():
    m = measure_texts(CRLF_A, LF_B, policy=UnseenPolicy("add-k", alpha=1.0))
    assert m.unseen.policy == "add-k" and m.unseen.alpha == 1.0
    assert all(length > 0 for length in m.q_code_lengths_bits)
    assert m.q_code.kraft_sum == 1.0
    assert m.q_code.roundtrip == "verified"


def test_error_policy_names_the_symbols():
    with pytest.raises(UnseenSymbolError) as error:
        measure_texts(CRLF_A, LF_B, policy=UnseenPolicy("error"))
    assert str(error.value) == (
        "q gives probability 0 to 1 symbol(s) of p (\\r; p-mass 0.230769), "
        "so KL(p||q) is infinite; choose --unseen escape or add-k"
    )


def test_unseen_with_probability_q_needs_an_escape_probability():
    p = Distribution.uniform(["x", "y"])
    q = Distribution.from_probabilities({"x": 1.0})
    with pytest.raises(DistributionError, match="give --escape-probability"):
        measure(p, q)
    with pytest.raises(DistributionError, match="add-k smoothing needs q as counts"):
        measure(p, q, policy=UnseenPolicy("add-k"))
    m = measure(p, q, policy=UnseenPolicy(escape_probability=0.5))
    assert m.q_code_lengths_bits == (1, 1)
    assert m.effective_kl_bits_per_token == pytest.approx(0.0)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"name": "smooth"}, r"unseen policy must be one of escape, add-k, error \(got 'smooth'\)"),
        ({"alpha": 0.0}, r"add-k alpha must be a positive number \(got 0.0\)"),
        ({"escape_probability": 1.5}, r"escape probability must be in \(0, 1\) \(got 1.5\)"),
    ],
)
def test_policy_validation(kwargs, message):
    with pytest.raises(DataError, match=message):
        UnseenPolicy(**kwargs)


def test_texts_measure_equals_expected_lengths():
    a = (CANTERBURY / "alice29.txt").read_bytes()
    b = (CANTERBURY / "lcet10.txt").read_bytes()
    m = measure_texts(a, b)
    # p is A's own distribution and the stream is A: measured and expected coincide
    assert m.p_code.measured_bits_per_token == pytest.approx(m.p_code.expected_bits_per_token, abs=1e-12)
    assert m.entropy_bits_per_token == pytest.approx(entropy(m_p(a)), abs=1e-12)
    assert m.p_code.total_bits < m.q_code.total_bits
    assert m.tokens == len(a) == 152_089


def test_empty_stream_of_text_is_refused():
    with pytest.raises(DataError, match=r"the stream to encode is empty \(got 0 tokens\)"):
        measure(Distribution.uniform(2), Distribution.uniform(2), np.zeros(0, dtype=np.int64), stream_kind="text")
