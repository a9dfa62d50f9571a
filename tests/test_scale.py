"""Scale: the tie band under the unseen policies (issue 9), lazy per-symbol strings, the band's time budget, large vocabularies."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from klcode.analysis.measure import LazyStrings, UnseenPolicy, measure
from klcode.coders.huffman import HuffmanCode
from klcode.coders.ties import huffman_tie_band
from klcode.models.distribution import Distribution, align
from klcode.text.counts import count_tokens
from klcode.text.tokenize import TokenizerSpec

CC0 = "This work is dedicated to the public domain; the person who associated a work with this deed waives the work"
BSD = "Redistribution and use in source and binary forms of the work are permitted provided that the work is kept"


def _word_distributions(tmp_path: Path) -> tuple[Distribution, Distribution]:
    spec = TokenizerSpec("words")
    dists = []
    for name, text in (("a.txt", CC0), ("b.txt", BSD)):
        path = tmp_path / name
        path.write_text(text)
        dists.append(count_tokens([path], spec).distribution())
    return align(dists[0], dists[1])


def test_tie_band_is_given_under_the_escape_policy(tmp_path):
    p, q = _word_distributions(tmp_path)
    m = measure(p, q)
    assert m.unseen is not None and m.unseen.policy == "escape"
    band = m.tie_band
    assert band is not None
    assert band.canonical_bits_per_token == pytest.approx(m.q_code.expected_bits_per_token, abs=1e-12)
    assert band.width_bits_per_token > 0  # q's many count-1 words are tied, and the order moves L_q
    assert "index bits per escaped token" in band.method


def test_escape_band_contains_every_tie_order_cost(tmp_path):
    """Each cost in the band is a real code: q's weights plus the escape, relabelled, keep the band's bounds."""
    p, q = _word_distributions(tmp_path)
    m = measure(p, q)
    weights = np.append(q.counts, 1)
    p_band = np.zeros(weights.size, dtype=np.int64)
    seen = q.counts > 0
    p_band[: q.size][seen] = p.counts[seen]
    p_band[-1] = p.counts[~seen].sum()
    inner = huffman_tie_band(weights, p_band)
    shift = m.unseen.fallback_bits * float(p.probabilities[~seen].sum())
    assert m.tie_band.minimum_bits_per_token == pytest.approx(inner.minimum_bits_per_token + shift, abs=1e-12)
    assert m.tie_band.maximum_bits_per_token == pytest.approx(inner.maximum_bits_per_token + shift, abs=1e-12)


def test_tie_band_is_given_under_add_k(tmp_path):
    p, q = _word_distributions(tmp_path)
    m = measure(p, q, policy=UnseenPolicy("add-k"))
    assert m.tie_band is not None
    assert m.tie_band.canonical_bits_per_token == pytest.approx(m.q_code.expected_bits_per_token, abs=1e-12)


def test_tie_band_on_debian_licences_when_present():
    folder = Path("/usr/share/common-licenses")
    if not (folder / "CC0-1.0").exists() or not (folder / "BSD").exists():
        pytest.skip("Debian's licence texts are not installed")
    spec = TokenizerSpec("words")
    p, q = align(count_tokens([folder / "CC0-1.0"], spec).distribution(), count_tokens([folder / "BSD"], spec).distribution())
    m = measure(p, q)
    assert m.unseen is not None and m.tie_band is not None and m.tie_band.width_bits_per_token > 0.12
    assert m.tie_band.contains(m.q_code.expected_bits_per_token)


def test_tie_band_time_budget_is_kept_and_said():
    rng = np.random.default_rng(0)
    q = rng.integers(1, 4, size=3000)  # many ties
    p = rng.integers(1, 100, size=3000)
    start = time.monotonic()
    band = huffman_tie_band(q, p, max_states=10**9, budget_seconds=0.2)
    assert time.monotonic() - start < 5  # the budget, plus one order in progress and the canonical pass
    assert not band.exact and "time budget (0.2 s)" in band.method


def test_large_alphabet_tie_band_uses_the_compiled_canonical_order():
    rng = np.random.default_rng(1)
    q = rng.integers(1, 1000, size=60_000)
    p = rng.integers(1, 1000, size=60_000)
    band = huffman_tie_band(q, p, budget_seconds=0.5)
    code = HuffmanCode.from_weights(q)
    assert band.canonical_bits_per_token == pytest.approx(float(p @ code.lengths_bits) / p.sum(), abs=1e-12)


def test_measurement_strings_are_lazy_and_equal_the_eager_ones():
    p = Distribution.from_counts(np.array([5, 3, 1, 1]), ("a", "b", "c", "d"))
    m = measure(p, Distribution.from_counts(np.array([1, 1, 1, 1]), ("a", "b", "c", "d")))
    assert isinstance(m.symbols, LazyStrings) and isinstance(m.p_codewords, LazyStrings)
    assert m.symbols == ("a", "b", "c", "d") and m.symbols[-1] == "d" and m.symbols[1:3] == ("b", "c")
    assert tuple(m.p_codewords) == ("0", "10", "110", "111")
    assert m.q_codewords == ("00", "01", "10", "11")
    with pytest.raises(IndexError):
        m.symbols[4]


def test_large_vocabulary_measure_is_quick_and_round_trips():
    size = 200_000
    counts = np.maximum(1, (1e6 / np.arange(1, size + 1)).astype(np.int64))
    p = Distribution.from_counts(counts)
    q = Distribution.from_counts(counts[::-1].copy())
    stream = np.repeat(np.arange(size), np.minimum(counts, 3))
    m = measure(p, q, stream)
    assert m.p_code.roundtrip == "verified" and m.tie_band is not None
    assert m.q_code.total_bits == int(np.bincount(stream, minlength=size) @ np.array(m.q_code_lengths_bits))


@pytest.mark.parametrize("lower", [False, True])
def test_hashed_word_ids_equal_the_dictionary_ids(tmp_path, lower):
    from klcode.text.tokenize import iter_tokens, stream_token_ids, token_ids

    path = tmp_path / "w.txt"
    path.write_text("The cat_1 sat; on the MAT. naïve Ελλάδα the end\n" * 50 + "x" * 10 + " y z\n")
    spec = TokenizerSpec("words", lower=lower)
    index = count_tokens([path], spec).index()
    expected = np.concatenate(list(token_ids(iter_tokens([path], spec), index)))
    got = np.concatenate(list(stream_token_ids([path], spec, index)))
    assert np.array_equal(got, expected)
