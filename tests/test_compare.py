"""compare, matrix and entropy on real corpora: both directions, keyness, neighbours, compressors."""

import math
from pathlib import Path

import numpy as np
import pytest

from klcode import DataError, UnseenSymbolError
from klcode.analysis.compare import compare, shared_distributions
from klcode.analysis.file_entropy import file_entropy
from klcode.analysis.matrix import divergence_matrix, nearest
from klcode.analysis.measure import UnseenPolicy
from klcode.info.measures import entropy, kl_divergence
from klcode.text.counts import save_counts
from klcode.text.inputs import corpus_label, load_corpus
from klcode.text.tokenize import TokenizerSpec

CORPORA = Path(__file__).resolve().parent.parent / "corpora"
UDHR = CORPORA / "udhr"
CHARS = TokenizerSpec(kind="chars")


def load(path, spec=CHARS):
    return load_corpus([str(path)], spec)


def test_compare_both_directions_on_udhr():
    a, b = load(UDHR / "spa.txt"), load(UDHR / "glg.txt")
    c = compare(a, b, top=5)
    ab, ba = c.a_coded_with_b, c.b_coded_with_a
    p_a, p_b, _ = shared_distributions(a, b)
    assert ab.entropy_bits_per_token == pytest.approx(entropy(p_a), abs=1e-12)
    assert ba.entropy_bits_per_token == pytest.approx(entropy(p_b), abs=1e-12)
    assert ab.kl_bits_per_token == kl_divergence(p_a, p_b)
    assert ba.kl_bits_per_token == kl_divergence(p_b, p_a)
    assert c.js_bits_per_token == pytest.approx(ab.js_bits_per_token) == pytest.approx(ba.js_bits_per_token)
    # A is coded from its real text, and A's own code is never worse than B's on it
    assert c.a_stream == "text" and ab.tokens == a.counts.total_tokens
    assert ab.p_code.total_bits <= ab.q_code.total_bits
    assert ab.p_code.roundtrip == ab.q_code.roundtrip == "verified"
    assert len(c.top_a) == 5 and all(x.kl_bits_per_token > 0 for x in c.top_a)
    assert all(x.kl_bits_per_token < 0 for x in c.top_b)
    values = [x.kl_bits_per_token for x in c.top_a]
    assert values == sorted(values, reverse=True)


def test_compare_reports_unseen_symbols_and_keyness():
    a, b = load(UDHR / "deu.txt"), load(UDHR / "eng.txt")
    c = compare(a, b, top=50)
    unseen = c.a_coded_with_b.unseen
    assert unseen is not None and "ß" in unseen.symbols and "ä" in unseen.symbols
    index = a.counts.index()
    assert unseen.stream_tokens == sum(int(a.counts.counts[index[s]]) for s in unseen.symbols)
    assert unseen.p_mass == pytest.approx(unseen.stream_tokens / a.counts.total_tokens)
    flagged = {x.symbol for x in c.top_a if x.unseen_in_b}
    assert "ä" in flagged
    assert math.isinf(c.a_coded_with_b.kl_bits_per_token)
    assert math.isfinite(c.a_coded_with_b.measured_excess_bits_per_token)


def test_compare_from_saved_counts_measures_the_same_bits(tmp_path):
    a, b = load(UDHR / "fra.txt"), load(UDHR / "ita.txt")
    save_counts(a.counts, tmp_path / "fra.json")
    from_counts = load_corpus([str(tmp_path / "fra.json")], CHARS)
    assert not from_counts.rereadable
    direct, saved = compare(a, b), compare(from_counts, b)
    assert saved.a_stream == "counts" and direct.a_stream == "text"
    assert saved.a_coded_with_b.q_code.total_bits == direct.a_coded_with_b.q_code.total_bits
    assert saved.a_coded_with_b.p_code.total_bits == direct.a_coded_with_b.p_code.total_bits


def test_unseen_policies_in_compare():
    a, b = load(UDHR / "deu.txt"), load(UDHR / "eng.txt")
    add_one = compare(a, b, policy=UnseenPolicy("add-k", alpha=1.0))
    assert add_one.a_coded_with_b.unseen.policy == "add-k"
    with pytest.raises(UnseenSymbolError, match="q gives probability 0 to 16 symbol"):
        compare(a, b, policy=UnseenPolicy("error"))


def test_matrix_nearest_neighbours_on_udhr_subset():
    names = ["por_PT", "por_BR", "dan", "nob", "ces", "slk", "spa", "glg"]
    corpora = [load(UDHR / f"{name}.txt") for name in names]
    steps = []
    mx = divergence_matrix(corpora, progress=steps.append)
    assert len(steps) == 8 * 7
    nearest_js = {n.corpus: n.nearest for n in mx.nearest_by_js}
    for left, right in [("por_PT", "por_BR"), ("dan", "nob"), ("ces", "slk"), ("spa", "glg")]:
        assert nearest_js[left] == right and nearest_js[right] == left
    js = np.array(mx.js_bits_per_token)
    assert np.allclose(js, js.T) and (np.diag(js) == 0).all()
    excess = np.array(mx.measured_excess_bits_per_token)
    assert np.isfinite(excess).all()
    assert mx.roundtrip == "verified"


def test_matrix_needs_two_distinct_corpora():
    one = load(UDHR / "eng.txt")
    with pytest.raises(DataError, match=r"a matrix needs at least two corpora \(got 1\)"):
        divergence_matrix([one])
    with pytest.raises(DataError, match="corpus labels must be distinct"):
        divergence_matrix([one, one])


def test_nearest_ties_take_the_first():
    result = nearest(np.array([[0.0, 1.0, 1.0], [1.0, 0.0, 2.0], [1.0, 2.0, 0.0]]), ["a", "b", "c"])
    assert [(n.corpus, n.nearest, n.bits_per_token) for n in result] == [("a", "b", 1.0), ("b", "a", 1.0), ("c", "a", 1.0)]


def test_file_entropy_against_compressors():
    corpus = load_corpus([str(CORPORA / "canterbury" / "alice29.txt")], TokenizerSpec(kind="bytes"))
    result = file_entropy(corpus)
    assert result.input_bytes == result.tokens == 152_089
    assert result.entropy_bits_per_token <= result.huffman_bits_per_token < result.entropy_bits_per_token + 1
    assert result.huffman_total_bits == 701_502 and result.huffman_bytes == 87_688
    assert result.roundtrip == "verified"
    c = result.compressed_bits_per_byte
    assert set(c) == {"zlib", "bz2", "lzma"}
    assert c["bz2"] < c["zlib"] < result.huffman_bits_per_byte  # context beats order-0


def test_corpus_labels():
    assert corpus_label(["corpora/udhr/por_BR.txt"]) == "por_BR"
    assert corpus_label(["corpora/udhr"]) == "udhr"
    assert corpus_label(["x.txt.gz"]) == "x"


def test_full_udhr_matrix_pairs_the_close_languages():
    """The acceptance check of the matrix: 48 languages, chars, these pairs are mutual nearest by JS."""
    corpora = [load(path) for path in sorted(UDHR.glob("*.txt"))]
    assert len(corpora) == 48
    mx = divergence_matrix(corpora, verify=False)
    nearest_js = {n.corpus: n.nearest for n in mx.nearest_by_js}
    for left, right in [("por_PT", "por_BR"), ("dan", "nob"), ("ces", "slk"), ("spa", "glg")]:
        assert nearest_js[left] == right and nearest_js[right] == left
