"""Distribution: constructors, immutability, validation messages, sampling, align, JSON files."""

import dataclasses
import json
import math
import re

import numpy as np
import pytest

import klcode
from klcode import (
    Distribution,
    DistributionError,
    InputError,
    KlcodeError,
    align,
    load_distribution,
)


# ------------------------------------------------------------------ constructors
def test_from_probabilities_mapping_keeps_key_order():
    p = Distribution.from_probabilities({"b": 0.25, "a": 0.75})
    assert p.symbols == ("b", "a")
    assert p.probabilities.tolist() == [0.25, 0.75]
    assert p.counts is None
    assert p.total_count is None


def test_from_probabilities_sequence_gets_integer_symbols():
    p = Distribution.from_probabilities([0.5, 0.25, 0.25])
    assert p.symbols == (0, 1, 2)
    assert p.probabilities.dtype == np.float64
    assert p.probabilities.tolist() == [0.5, 0.25, 0.25]


def test_from_probabilities_sequence_with_symbols():
    p = Distribution.from_probabilities([0.5, 0.5], symbols=["x", "y"])
    assert p.symbols == ("x", "y")
    assert p.probability_of("y") == 0.5
    assert p.probability_of("z") == 0.0


def test_from_counts_normalizes_and_keeps_counts():
    p = Distribution.from_counts({"a": 3, "b": 0, "c": 1})
    assert p.symbols == ("a", "b", "c")
    assert p.probabilities.tolist() == [0.75, 0.0, 0.25]
    assert p.counts.tolist() == [3, 0, 1]
    assert p.counts.dtype == np.int64
    assert p.total_count == 4
    assert p.size == 3 and p.support_size == 2


def test_from_counts_accepts_whole_floats():
    p = Distribution.from_counts([2.0, 6.0])
    assert p.counts.tolist() == [2, 6]
    assert p.probabilities.tolist() == [0.25, 0.75]


def test_from_samples_counts_in_order_of_first_appearance():
    p = Distribution.from_samples("abracadabra")
    assert p.symbols == ("a", "b", "r", "c", "d")
    assert p.counts.tolist() == [5, 2, 2, 1, 1]
    assert p.probabilities[0] == 5 / 11


def test_uniform():
    assert Distribution.uniform(4).probabilities.tolist() == [0.25] * 4
    p = Distribution.uniform(["x", "y", "z"])
    assert p.symbols == ("x", "y", "z")
    assert np.allclose(p.probabilities, 1 / 3, rtol=0, atol=1e-16)


def test_bernoulli():
    p = Distribution.bernoulli(0.25, ("T", "H"))
    assert p.symbols == ("T", "H")
    assert p.probabilities.tolist() == [0.75, 0.25]
    assert Distribution.bernoulli(0.5).symbols == (0, 1)


def test_binomial_2_04_exact():
    p = Distribution.binomial(2, 0.4)
    assert p.symbols == (0, 1, 2)
    np.testing.assert_allclose(p.probabilities, [0.36, 0.48, 0.16], rtol=0, atol=1e-15)


def test_binomial_10_half_is_symmetric_and_sums_to_1():
    p = Distribution.binomial(10, 0.5)
    assert p.size == 11
    np.testing.assert_allclose(p.probabilities, p.probabilities[::-1], rtol=0, atol=1e-15)
    assert math.fsum(p.probabilities.tolist()) == pytest.approx(1.0, abs=1e-15)
    assert p.probabilities[5] == pytest.approx(252 / 1024, abs=1e-15)


# ------------------------------------------------------------------ immutability
def test_probabilities_and_counts_are_read_only():
    p = Distribution.from_counts([1, 3])
    assert not p.probabilities.flags.writeable
    assert not p.counts.flags.writeable
    with pytest.raises(ValueError):
        p.probabilities[0] = 0.5
    with pytest.raises(ValueError):
        p.counts[0] = 7


def test_dataclass_is_frozen():
    p = Distribution.uniform(2)
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.symbols = ("a", "b")
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.probabilities = np.array([1.0, 0.0])


def test_constructor_copies_its_input():
    values = np.array([0.5, 0.5])
    p = Distribution((0, 1), values)
    values[0] = 0.9
    assert p.probabilities.tolist() == [0.5, 0.5]


# ------------------------------------------------------------------ validation
@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: Distribution.from_probabilities([1.5, -0.5]), "probabilities must not be negative (got -0.5 for 1)"),
        (lambda: Distribution.from_probabilities([math.nan, 1.0]), "probabilities must be finite (got nan)"),
        (lambda: Distribution.from_probabilities([math.inf, 0.0]), "probabilities must be finite (got inf)"),
        (lambda: Distribution((0, 1), [math.nan, 1.0]), "probabilities must be finite (got nan for 0)"),
        (lambda: Distribution.from_probabilities([]), "a distribution needs at least one symbol (got none)"),
        (lambda: Distribution.from_probabilities({"H": 0.5, "T": 0.4}), "probabilities must sum to 1 (got 0.9)"),
        (lambda: Distribution.from_probabilities([0.5, 0.5], symbols=["a", "a"]), "symbols must be distinct (got 'a' twice)"),
        (
            lambda: Distribution.from_probabilities([0.5, 0.5], symbols=["a", "b", "c"]),
            "symbols and probabilities differ in length (got 3 symbols, 2 probabilities)",
        ),
        (
            lambda: Distribution.from_probabilities({"a": 1.0}, symbols=["a"]),
            "give symbols either as mapping keys or as symbols=, not both",
        ),
        (lambda: Distribution.from_counts([3, -1]), "counts must not be negative (got -1)"),
        (lambda: Distribution.from_counts([0, 0]), "counts must not all be zero (got 2 zero counts)"),
        (lambda: Distribution.from_counts([1.5, 1]), "counts must be whole numbers (got 1.5)"),
        (lambda: Distribution.from_samples([]), "samples must not be empty (got no samples)"),
        (lambda: Distribution.uniform(0), "a uniform distribution needs n >= 1 symbols (got 0)"),
        (lambda: Distribution.bernoulli(1.5), "bernoulli p must be in [0, 1] (got 1.5)"),
        (lambda: Distribution.binomial(-1, 0.5), "binomial n must be a non-negative integer (got -1)"),
        (lambda: Distribution.uniform(2).sample(-1, np.random.default_rng(0)), "sample size must be >= 0 (got -1)"),
    ],
)
def test_validation_messages_are_exact(make, message):
    with pytest.raises(DistributionError, match=f"^{re.escape(message)}$") as info:
        make()
    assert isinstance(info.value, KlcodeError)
    assert isinstance(info.value, ValueError)


def test_sum_tolerance_accepts_rounding_but_not_more():
    Distribution.from_probabilities([0.1] * 10)  # sums to 0.9999999999999999
    with pytest.raises(DistributionError, match=r"^probabilities must sum to 1 \(got 1\.000001\)$"):
        Distribution.from_probabilities([0.5, 0.500001])


# ------------------------------------------------------------------ sampling
def test_sample_is_deterministic_for_a_seed():
    p = Distribution.from_probabilities([0.2, 0.3, 0.5])
    a = p.sample(1000, np.random.default_rng(42))
    b = p.sample(1000, np.random.default_rng(42))
    c = p.sample(1000, np.random.default_rng(43))
    assert a.dtype == np.int64 and a.shape == (1000,)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)
    assert p.sample(0, np.random.default_rng(0)).shape == (0,)


def test_sample_never_draws_a_zero_probability_symbol():
    p = Distribution.from_probabilities([0.0, 0.5, 0.0, 0.5, 0.0])
    ids = p.sample(100_000, np.random.default_rng(7))
    assert set(np.unique(ids).tolist()) == {1, 3}


def test_sample_frequencies_match_p():
    p = Distribution.from_probabilities([0.1, 0.0, 0.2, 0.3, 0.4])
    ids = p.sample(100_000, np.random.default_rng(2024))
    frequencies = np.bincount(ids, minlength=p.size) / ids.size
    assert np.abs(frequencies - p.probabilities).max() < 0.01
    assert frequencies[1] == 0.0


# ------------------------------------------------------------------ align
def test_align_puts_p_symbols_first_then_new_q_symbols_zero_filled():
    p = Distribution.from_counts({"b": 1, "a": 3})
    q = Distribution.from_probabilities({"c": 0.5, "a": 0.25, "d": 0.25})
    pa, qa = align(p, q)
    assert pa.symbols == qa.symbols == ("b", "a", "c", "d")
    assert pa.probabilities.tolist() == [0.25, 0.75, 0.0, 0.0]
    assert qa.probabilities.tolist() == [0.0, 0.25, 0.5, 0.25]
    assert pa.counts.tolist() == [1, 3, 0, 0]
    assert qa.counts is None


def test_align_on_equal_alphabets_is_identity():
    p, q = Distribution.uniform(3), Distribution.binomial(2, 0.5)
    pa, qa = align(p, q)
    assert pa is p and qa is q


def test_align_reorders_q_to_p_order():
    p = Distribution.from_probabilities({"x": 0.5, "y": 0.5})
    q = Distribution.from_counts({"y": 3, "x": 1})
    _, qa = align(p, q)
    assert qa.symbols == ("x", "y")
    assert qa.probabilities.tolist() == [0.25, 0.75]
    assert qa.counts.tolist() == [1, 3]


# ------------------------------------------------------------------ JSON files
def _write(tmp_path, text, name="d.json"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_load_integers_are_counts(tmp_path):
    p = load_distribution(_write(tmp_path, '{"a": 3, "b": 1}'))
    assert p.symbols == ("a", "b")
    assert p.counts.tolist() == [3, 1]
    assert p.probabilities.tolist() == [0.75, 0.25]


def test_load_floats_are_probabilities(tmp_path):
    p = load_distribution(_write(tmp_path, '{"a": 0.75, "b": 0.25}'))
    assert p.counts is None
    assert p.probabilities.tolist() == [0.75, 0.25]


def test_load_floats_that_do_not_sum_to_1_are_refused(tmp_path):
    path = _write(tmp_path, '{"a": 2.0, "b": 2.0}')
    with pytest.raises(DistributionError, match=re.escape(f"{str(path)!r}: probabilities must sum to 1 (got 4)")):
        load_distribution(path)


def test_load_explicit_counts_and_probabilities(tmp_path):
    counts = load_distribution(_write(tmp_path, json.dumps({"counts": {"a": 1, "b": 1}})))
    assert counts.counts.tolist() == [1, 1]
    probabilities = load_distribution(_write(tmp_path, json.dumps({"probabilities": {"a": 1, "b": 0}})))
    assert probabilities.counts is None
    assert probabilities.probabilities.tolist() == [1.0, 0.0]
    with pytest.raises(DistributionError, match=r"probabilities must sum to 1 \(got 2\)"):
        load_distribution(_write(tmp_path, json.dumps({"probabilities": {"a": 1, "b": 1}})))


def test_load_missing_file(tmp_path):
    path = tmp_path / "nope.json"
    with pytest.raises(InputError, match=f"^{re.escape(f'cannot read {str(path)!r}: no such file')}$") as info:
        load_distribution(path)
    assert isinstance(info.value, OSError)
    assert isinstance(info.value, KlcodeError)


def test_load_directory(tmp_path):
    with pytest.raises(InputError, match="it is a directory"):
        load_distribution(tmp_path)


def test_load_malformed_json(tmp_path):
    path = _write(tmp_path, '{"a": 1,')
    with pytest.raises(InputError, match=re.escape(f"{str(path)!r} is not valid JSON (")):
        load_distribution(path)


def test_load_non_utf8(tmp_path):
    path = tmp_path / "latin1.json"
    path.write_bytes(b'{"\xe9": 1}')
    with pytest.raises(InputError, match=r"is not UTF-8 JSON \(bad byte at offset 2\)"):
        load_distribution(path)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"a": "x", "b": 1}', "the value of 'a' must be a number (got 'x')"),
        ('{"a": true}', "the value of 'a' must be a number (got True)"),
        ("{}", "a distribution needs at least one symbol (got an empty object)"),
        ("[0.5, 0.5]", "expected a JSON object mapping symbol to probability or count (got list)"),
        ('{"a": -1, "b": 2}', "counts must not be negative (got -1)"),
        ('{"a": -0.5, "b": 1.5}', "probabilities must not be negative (got -0.5 for 'a')"),
        ('{"a": NaN, "b": 1.0}', "probabilities must be finite (got nan)"),
        ('{"a": Infinity, "b": 1.0}', "probabilities must be finite (got inf)"),
    ],
)
def test_load_bad_contents(tmp_path, text, message):
    path = _write(tmp_path, text)
    with pytest.raises(DistributionError, match=f"^{re.escape(f'{str(path)!r}: {message}')}$") as info:
        load_distribution(path)
    assert isinstance(info.value, klcode.KlcodeError)


# ------------------------------------------------------------------ bugs: int64 overflow of counts
def test_huge_json_count_is_not_reported_as_negative(tmp_path):
    # A count beyond int64 wraps around in from_counts (values.astype(np.int64))
    # and is then reported as a *negative* count it never was.
    path = _write(tmp_path, '{"a": 1000000000000000000000000000000, "b": 1}')
    with pytest.raises(DistributionError) as info:
        load_distribution(path)
    assert "negative" not in str(info.value)


def test_counts_whose_total_exceeds_int64_do_not_turn_negative():
    # int(raw.sum()) wraps past 2**63: the probabilities come out negative.
    p = Distribution.from_counts([2**62, 2**62])
    assert p.probabilities.tolist() == [0.5, 0.5]
