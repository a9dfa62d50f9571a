"""ANS (constriction) and the contextual compressors: acceptance against H(p, q), quantization, round trips, errors."""

import zlib
from pathlib import Path

import numpy as np
import pytest

from klcode.coders.ans import PRECISION_BITS, AnsCoder
from klcode.coders.base import Encoded
from klcode.coders.contextual import (
    COMPRESSOR_NAMES,
    CompressorCoder,
    available_compressors,
    compress_bytes,
    decompress_bytes,
    id_dtype,
)
from klcode.errors import CodeError, DecodeError
from klcode.info.measures import cross_entropy_kernel
from klcode.models.distribution import Distribution

CORPORA = Path(__file__).resolve().parents[1] / "corpora"
N_SAMPLES = 100_000


def _random_pair(seed):
    """A seeded random (p, q) over 2..256 symbols, q > 0 everywhere (Dirichlet(1) both)."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 257))
    p = Distribution.from_probabilities(rng.dirichlet(np.ones(n)))
    q = rng.dirichlet(np.ones(n))
    return p, q


def _ideal_bits(coder, ids):
    """Σ −log2 q̃(x) over the stream: what the ANS payload must match up to its state overhead."""
    return float(-np.log2(coder.quantized_probabilities[ids]).sum())


# ------------------------------------------------------------------ ANS acceptance
@pytest.mark.parametrize("seed", range(10))
def test_ans_bits_per_token_within_0_01_of_cross_entropy(seed):
    p, q = _random_pair(seed)
    assert (q > 0).all()
    coder = AnsCoder.from_probabilities(q)
    ids = p.sample(N_SAMPLES, np.random.default_rng(seed))
    encoded = coder.encode(ids)
    assert encoded.n_tokens == N_SAMPLES and encoded.n_bits == 32 * encoded.payload.size
    assert np.array_equal(coder.decode(encoded), ids)
    measured = encoded.n_bits / N_SAMPLES
    # the coder's own error: the payload is Σ −log2 q̃(x) plus 32..64 bits of states and a tiny rounding
    assert 0 < encoded.n_bits - _ideal_bits(coder, ids) < 64 + 1e-3 * N_SAMPLES
    # the acceptance, against the cross-entropy of the model the coder really uses
    assert abs(measured - coder.expected_bits_per_token(p.probabilities)) < 0.01
    if q.min() >= 2.0**-20:  # q̃ ≈ q: the acceptance against the ideal H(p, q)
        assert abs(measured - cross_entropy_kernel(p.probabilities, q)) < 0.01


def test_ans_random_pairs_cover_tiny_q_and_it_is_the_quantization():
    """Seed 5 draws q = 9.3e-9 on a symbol p gives 0.7 %: q̃ = 2^-24 there, and ANS beats H(p, q) by 0.018 bit."""
    p, q = _random_pair(5)
    coder = AnsCoder.from_probabilities(q)
    tiny = int(np.argmin(q))
    assert q[tiny] < 1e-8 and coder.quantized_probabilities[tiny] == 2.0**-PRECISION_BITS
    ideal = cross_entropy_kernel(p.probabilities, q)
    quantized = coder.expected_bits_per_token(p.probabilities)
    assert ideal - quantized == pytest.approx(p.probabilities[tiny] * np.log2(2.0**-24 / q[tiny]), rel=1e-2)
    encoded = coder.encode(p.sample(N_SAMPLES, np.random.default_rng(5)))
    assert encoded.n_bits / N_SAMPLES < ideal - 0.01
    assert abs(encoded.n_bits / N_SAMPLES - quantized) < 0.01


def test_ans_quantization_follows_constrictions_formula():
    """f_k = c_(k+1) − c_k with c_k = ⌊(q_0 + … + q_(k−1)) (2^24 − n)⌋ + k (the fast, leaky quantizer)."""
    rng = np.random.default_rng(3)
    for n in (2, 7, 256, 3000):
        q = rng.dirichlet(np.ones(n))
        coder = AnsCoder.from_probabilities(q)
        assert coder.quantized
        weights = np.ldexp(coder.quantized_probabilities, PRECISION_BITS)
        assert np.array_equal(weights, np.round(weights)) and weights.sum() == 2**24 and weights.min() >= 1
        left = np.floor(np.concatenate(([0.0], np.cumsum(q)[:-1])) * (2**24 - n)) + np.arange(n)
        assert np.array_equal(weights, np.diff(np.append(left, 2**24)))


def test_ans_zero_probability_ids_are_not_in_the_model():
    coder = AnsCoder.from_probabilities([0.0, 0.5, 0.0, 0.5])
    assert coder.model_ids.tolist() == [1, 3]
    assert coder.quantized_probabilities.tolist() == [0.0, 0.5, 0.0, 0.5]  # dyadic and n = 2: exact
    encoded = coder.encode(np.array([1, 3, 3, 1] * 25))
    assert encoded.n_bits == 160  # 100 tokens at 1 bit + the 32-bit starting state = 132 bits, in 5 words
    assert coder.decode(encoded).tolist() == [1, 3, 3, 1] * 25
    with pytest.raises(CodeError, match=r"^id 2 has probability 0 in the ans model and cannot be coded \(2 token"):
        coder.encode(np.array([1, 2, 3, 2]))
    assert coder.expected_bits_per_token([0.0, 0.5, 0.5, 0.0]) == float("inf")


def test_ans_stream_with_a_zero_probability_id_in_a_later_chunk(monkeypatch):
    monkeypatch.setattr("klcode.coders.ans.CHUNK_TOKENS", 1000)
    coder = AnsCoder.from_probabilities([0.5, 0.5, 0.0])
    ids = np.zeros(5000, dtype=np.int64)
    ids[1234] = 2
    with pytest.raises(CodeError, match="^id 2 has probability 0"):
        coder.encode(ids)


def test_ans_skewed_models_round_trip():
    q = np.array([1e-9, 0.5 - 1e-9, 0.25, 0.25])
    coder = AnsCoder.from_probabilities(q)
    assert coder.quantized_probabilities[0] == 2.0**-24
    rng = np.random.default_rng(7)
    ids = rng.integers(0, 4, 20_000)  # the rare id 0 is a quarter of the stream
    encoded = coder.encode(ids)
    assert np.array_equal(coder.decode(encoded), ids)
    assert 0 < encoded.n_bits - _ideal_bits(coder, ids) < 96
    extreme = AnsCoder.from_probabilities([1 - 1e-12, 1e-12])
    ids = np.r_[np.zeros(10_000, dtype=np.int64), 1, np.zeros(10, dtype=np.int64)]
    assert np.array_equal(extreme.decode(extreme.encode(ids)), ids)


def test_ans_runs_of_the_first_symbol_are_not_free():
    """From constriction's empty state a run of the model's first symbol would cost 0 bits; from 2^32 it costs 1 bit each."""
    coder = AnsCoder.from_probabilities([0.5, 0.5])
    encoded = coder.encode(np.zeros(1000, dtype=np.int64))
    assert encoded.n_bits == 32 * 33  # 1000 bits + 32 starting bits, rounded up to words
    assert coder.decode(encoded).tolist() == [0] * 1000


def test_ans_one_symbol_model_and_empty_stream():
    coder = AnsCoder.from_probabilities([0.0, 1.0, 0.0])
    assert coder.quantized_probabilities[1] == (2**24 - 1) / 2**24  # the dummy symbol holds one unit
    ids = np.ones(100_000, dtype=np.uint8)
    encoded = coder.encode(ids)
    assert encoded.n_bits == 64 and coder.decode(encoded).tolist() == ids.tolist()
    empty = coder.encode(np.zeros(0, dtype=np.int64))
    assert (empty.n_bits, empty.n_tokens, empty.payload.size) == (0, 0, 0)
    assert coder.decode(empty).size == 0


def test_ans_long_streams_are_coded_in_chunks(monkeypatch):
    monkeypatch.setattr("klcode.coders.ans.CHUNK_TOKENS", 1000)
    q = np.random.default_rng(1).dirichlet(np.ones(300))
    coder = AnsCoder.from_probabilities(q)
    ids = Distribution.from_probabilities(q).sample(10_500, np.random.default_rng(2))
    encoded = coder.encode(ids)
    assert np.array_equal(coder.decode(encoded), ids)
    monkeypatch.setattr("klcode.coders.ans.CHUNK_TOKENS", 1 << 20)
    assert np.array_equal(coder.encode(ids).payload, encoded.payload)  # chunking changes nothing


def test_ans_round_trips_corpus_bytes():
    data = np.frombuffer((CORPORA / "canterbury" / "alice29.txt").read_bytes(), dtype=np.uint8)
    p = Distribution.from_counts(np.bincount(data, minlength=256))
    coder = AnsCoder.from_probabilities(p)
    encoded = coder.encode(data)
    assert np.array_equal(coder.decode(encoded), data)
    assert abs(encoded.n_bits / data.size - coder.expected_bits_per_token(p.probabilities)) < 1e-3


def test_ans_round_trips_a_large_alphabet():
    rng = np.random.default_rng(11)
    q = rng.dirichlet(np.ones(70_000))
    q[::7] = 0.0  # every 7th id out of the model
    q /= q.sum()
    coder = AnsCoder.from_probabilities(q)
    assert coder.model_ids.size == 60_000 and coder.quantized
    ids = Distribution.from_probabilities(q).sample(50_000, rng)
    encoded = coder.encode(ids)
    assert np.array_equal(coder.decode(encoded), ids)
    assert 0 < encoded.n_bits - _ideal_bits(coder, ids) < 96


def test_ans_decode_detects_a_foreign_payload():
    rng = np.random.default_rng(0)
    ids = rng.integers(0, 3, 1000)
    encoded = AnsCoder.from_probabilities([0.5, 0.25, 0.25]).encode(ids)
    other = AnsCoder.from_probabilities([0.25, 0.25, 0.5])
    with pytest.raises(DecodeError, match="did not decode back to the initial state"):
        other.decode(encoded)
    with pytest.raises(DecodeError, match="did not decode back"):
        AnsCoder.from_probabilities([0.5, 0.25, 0.25]).decode(Encoded(encoded.payload, encoded.n_bits, 999))
    with pytest.raises(DecodeError, match="uint32"):
        other.decode(Encoded(np.zeros(3, dtype=np.int64), 96, 3))


@pytest.mark.parametrize(
    ("probabilities", "message"),
    [
        ([0.5, 0.4], r"must sum to 1 \(got 0.9\)"),
        ([1.5, -0.5], r"must not be negative \(got -0.5 for id 1\)"),
        ([], r"non-empty 1-D array \(got shape \(0,\)\)"),
        ([[0.5, 0.5]], r"non-empty 1-D array \(got shape \(1, 2\)\)"),
        ([np.nan, 1.0], r"must be finite \(got nan\)"),
    ],
)
def test_ans_rejects_bad_models(probabilities, message):
    with pytest.raises(CodeError, match=message):
        AnsCoder.from_probabilities(probabilities)


def test_ans_rejects_ids_outside_the_alphabet():
    coder = AnsCoder.from_probabilities([0.5, 0.5])
    with pytest.raises(CodeError, match=r"^id 2 is outside the ans coder's alphabet of 2 ids$"):
        coder.encode(np.array([0, 2]))
    with pytest.raises(CodeError, match="1-D integer array"):
        coder.encode(np.array([0.0, 1.0]))


def test_ans_from_distribution_and_description():
    coder = AnsCoder.from_probabilities(Distribution.from_probabilities({"a": 0.25, "b": 0.75}))
    assert coder.order0 and coder.name == "ans" and coder.lengths_bits is None
    assert "quantized to 24 bits" in coder.description


# ------------------------------------------------------------------ contextual coders
@pytest.mark.parametrize("name", COMPRESSOR_NAMES)
@pytest.mark.parametrize(("alphabet_size", "width"), [(256, 1), (65536, 2), (70000, 4)])
def test_compressors_round_trip_random_streams_of_each_width(name, alphabet_size, width):
    rng = np.random.default_rng(alphabet_size)
    ids = rng.integers(0, alphabet_size, 3000)
    ids[:2] = [0, alphabet_size - 1]
    coder = CompressorCoder.create(name, alphabet_size)
    assert coder.dtype.itemsize == width and not coder.order0
    encoded = coder.encode(ids)
    assert encoded.n_bits == 8 * len(encoded.payload) and encoded.n_tokens == ids.size
    decoded = coder.decode(encoded)
    assert decoded.dtype == np.int64 and np.array_equal(decoded, ids)
    little_endian = ids.astype(f"<u{width}" if width > 1 else np.uint8).tobytes()
    assert encoded.payload == compress_bytes(name, little_endian)


@pytest.mark.parametrize("name", COMPRESSOR_NAMES)
def test_compressors_round_trip_corpus_bytes_and_empty_streams(name):
    data = (CORPORA / "canterbury" / "alice29.txt").read_bytes()
    ids = np.frombuffer(data, dtype=np.uint8)
    coder = CompressorCoder.create(name, 256)
    encoded = coder.encode(ids)
    assert encoded.payload == compress_bytes(name, data)  # byte ids compress exactly as the file
    assert np.array_equal(coder.decode(encoded), ids)
    assert encoded.n_bits < 8 * len(data) * 0.45  # context: far below the order-0 entropy of ~4.6 bits per byte
    empty = coder.encode(np.zeros(0, dtype=np.int64))
    assert coder.decode(empty).size == 0


def test_zlib_bits_on_alice_are_zlib_level_9():
    data = (CORPORA / "canterbury" / "alice29.txt").read_bytes()
    encoded = CompressorCoder.create("zlib", 256).encode(np.frombuffer(data, dtype=np.uint8))
    assert encoded.n_bits == 8 * len(zlib.compress(data, 9))


def test_compressor_descriptions_say_contextual():
    for name in COMPRESSOR_NAMES:
        description = CompressorCoder.create(name, 300).description
        assert "contextual: exploits the order of tokens; not an order-0 cross-entropy" in description
        assert "uint16 little-endian" in description


def test_id_dtype_widths():
    assert [id_dtype(n).itemsize for n in (1, 256, 257, 65536, 65537, 2**32)] == [1, 1, 2, 2, 4, 4]


def test_unknown_compressor_lists_the_known_ones():
    with pytest.raises(CodeError, match=r"^unknown compressor 'gzip' \(known: zlib, bz2, lzma, zstd\)$"):
        CompressorCoder.create("gzip", 256)
    with pytest.raises(CodeError, match="alphabet_size must be between 1 and 2\\*\\*32 \\(got 0\\)"):
        CompressorCoder.create("zlib", 0)


def test_compressor_rejects_ids_outside_the_alphabet_and_damaged_payloads():
    coder = CompressorCoder.create("lzma", 10)
    with pytest.raises(CodeError, match=r"^id 10 is outside the lzma coder's alphabet of 10 ids$"):
        coder.encode(np.array([1, 10]))
    with pytest.raises(DecodeError, match="the lzma payload does not decompress"):
        coder.decode(Encoded(b"not lzma", 64, 8))
    encoded = coder.encode(np.arange(10))
    with pytest.raises(DecodeError, match=r"holds 10 bytes \(expected 11 ids of 1 byte"):
        coder.decode(Encoded(encoded.payload, encoded.n_bits, 11))
    with pytest.raises(DecodeError, match="the zstd payload does not decompress"):
        decompress_bytes("zstd", b"garbage")


def test_available_compressors_with_zstandard_installed():
    assert available_compressors() == COMPRESSOR_NAMES
