"""The context-mixing byte model and adaptive coding: round trips, frozen models, ideal bits, the plain twin."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from klcode import KlcodeError
from klcode.coders import arithmetic as ac
from klcode.coders import cm_kernel
from klcode.coders.adaptive import code_adaptive, decode_adaptive
from klcode.errors import DataError
from klcode.models import context_mixing as cm
from klcode.models.context import ContextModelError, ContextModelSpec

SMALL = ContextModelSpec.parse("cm:memory=1")
ALICE = Path(__file__).resolve().parent.parent / "corpora" / "canterbury" / "alice29.txt"


def alice(n: int, start: int = 0) -> np.ndarray:
    return np.frombuffer(ALICE.read_bytes()[start: start + n], dtype=np.uint8)


def round_trip(ids: np.ndarray, spec: ContextModelSpec = SMALL, **kwargs: object):
    coding = code_adaptive(spec, ids, alphabet_size=256, **kwargs)
    assert coding.verified
    train = kwargs.get("train", ())
    learn = kwargs.get("learn", True)
    decoded = decode_adaptive(spec, coding.payload, coding.tokens, alphabet_size=256, train=train, learn=learn)
    assert np.array_equal(decoded, np.asarray(ids))
    return coding


# ----------------------------------------------------------------------------- round trips
def test_empty_stream() -> None:
    coding = round_trip(np.zeros(0, dtype=np.uint8))
    assert coding.payload == b"" and coding.ideal_bits == 0 and coding.measured_bits_per_token == 0


def test_one_symbol_repeated_a_million_times_costs_almost_nothing() -> None:
    coding = round_trip(np.full(1_000_000, 97, dtype=np.uint8))
    assert coding.measured_bits < 3000  # < 0.003 bits per byte: the mixer's probabilities stop at 1 - 2^-12
    assert coding.measured_bits >= coding.ideal_bits - 8


def test_all_256_bytes_and_random_bytes() -> None:
    round_trip(np.arange(256, dtype=np.uint8))
    noise = np.random.default_rng(5).integers(0, 256, 30000)
    coding = round_trip(noise)
    assert 7.95 < coding.measured_bits_per_token < 8.5  # incompressible: about 8 bits plus the cost of learning so


@settings(max_examples=25, deadline=None)
@given(st.binary(max_size=400))
def test_round_trip_any_bytes(data: bytes) -> None:
    round_trip(np.frombuffer(data, dtype=np.uint8))


@settings(max_examples=10, deadline=None)
@given(st.lists(st.integers(0, 3), max_size=3000), st.integers(1, 5))
def test_round_trip_small_alphabets(ids: list[int], alphabet: int) -> None:
    stream = np.array([i % alphabet for i in ids], dtype=np.int64)
    coding = code_adaptive(SMALL, stream, alphabet_size=alphabet)
    assert coding.verified
    assert np.array_equal(decode_adaptive(SMALL, coding.payload, coding.tokens, alphabet_size=alphabet), stream)


# ----------------------------------------------------------------------------- training, freezing, determinism
def test_trained_and_frozen_models_decode_back() -> None:
    train, text = alice(20000), alice(8000, 60000)
    empty = round_trip(text)
    learning = round_trip(text, train=[train])
    frozen = round_trip(text, train=[train[:10000], train[10000:]], learn=False)
    assert frozen.training_tokens == learning.training_tokens == 20000 and not frozen.learning
    assert learning.ideal_bits < empty.ideal_bits  # training on the same author helps
    assert learning.ideal_bits < frozen.ideal_bits  # learning the coded text helps too


def test_a_frozen_model_does_not_drift_toward_the_coded_text() -> None:
    """Frozen, the cost of a repeated block is the same the second time; learning, it falls."""
    block = alice(3000, 90000)
    twice = np.concatenate([block, block])
    frozen = code_adaptive(SMALL, twice, alphabet_size=256, train=[alice(20000)], learn=False, per_token=True)
    learning = code_adaptive(SMALL, twice, alphabet_size=256, train=[alice(20000)], per_token=True)
    f, l_ = frozen.per_token_bits, learning.per_token_bits
    assert abs(f[3000:].sum() - f[:3000].sum()) < 0.02 * f[:3000].sum()
    assert l_[3000:].sum() < 0.2 * l_[:3000].sum()


def test_a_frozen_model_changes_nothing_in_its_tables() -> None:
    """learn=False: after coding, every table is as training left it (only the context registers moved)."""
    state = cm_kernel._trained_state(SMALL, [alice(5000)], 256, False)
    before = {name: getattr(state, name).copy() for name in ("hashed", "direct", "maps", "apm", "weights", "history",
                                                             "index")}
    text = alice(3000, 70000)
    coder, out = ac.new_encoder(), np.zeros(cm_kernel.worst_case_bytes(text.size), dtype=np.uint8)
    cm_kernel.run(state, 1, False, text.copy(), 0, text.size, coder, out, np.zeros(0, dtype=np.float32))
    for name, table in before.items():
        assert np.array_equal(getattr(state, name), table), name
    cm_kernel.run(state, 1, True, text.copy(), 0, text.size, coder, out, np.zeros(0, dtype=np.float32))
    assert not np.array_equal(state.maps, before["maps"])  # and learning does change them


def test_payload_decodes_the_same_whatever_follows_it() -> None:
    text = alice(4000, 30000)
    coding = code_adaptive(SMALL, text, alphabet_size=256)
    for tail in (b"\x00" * 9, b"\xff" * 9, b"klcode"):
        assert np.array_equal(decode_adaptive(SMALL, coding.payload + tail, text.size, alphabet_size=256), text)


def test_coding_is_deterministic() -> None:
    text = alice(5000)
    assert code_adaptive(SMALL, text, alphabet_size=256).payload == code_adaptive(SMALL, text, alphabet_size=256).payload


def test_decoding_with_another_training_set_does_not_give_the_text_back() -> None:
    text = alice(2000, 50000)
    coding = code_adaptive(SMALL, text, alphabet_size=256, train=[alice(5000)])
    wrong = decode_adaptive(SMALL, coding.payload, coding.tokens, alphabet_size=256, train=[alice(5000, 1)])
    assert not np.array_equal(wrong, text)


# ----------------------------------------------------------------------------- bits: ideal, measured, per token
def test_per_token_bits_sum_to_the_ideal_bits_and_overhead_is_small() -> None:
    coding = code_adaptive(SMALL, alice(60000), alphabet_size=256, per_token=True)
    assert coding.per_token_bits.dtype == np.float32 and coding.per_token_bits.shape == (60000,)
    assert math.isclose(float(coding.per_token_bits.astype(np.float64).sum()), coding.ideal_bits, rel_tol=1e-6)
    assert 0 <= coding.overhead_bits < 0.001 * coding.ideal_bits
    assert coding.measured_bits == 8 * len(coding.payload)
    assert 1.5 < coding.ideal_bits_per_token < 3.0  # English text with a real model


def test_progress_reports_every_token() -> None:
    seen: list[int] = []
    code_adaptive(SMALL, alice(150000), alphabet_size=256, verify=False, progress=seen.append)
    assert sum(seen) == 150000 and len(seen) == 3


# ----------------------------------------------------------------------------- the plain twin of the kernel
@pytest.fixture
def plain_model(monkeypatch: pytest.MonkeyPatch):
    """Run the model's functions by the Python interpreter (their .py_func), the coder compiled."""
    cm_kernel.encode(SMALL, alice(10), alphabet_size=256)  # compile everything first
    for name in ("predict", "update", "next_byte", "_find_slot", "_map_p", "_map_update", "_apm_p", "_mix32",
                 "_squash"):
        monkeypatch.setattr(cm, name, getattr(cm, name).py_func)


def test_plain_python_kernel_writes_the_same_bytes(plain_model: None) -> None:
    text, train = alice(300, 1000), alice(200, 5000)
    for learn in (True, False):
        compiled = cm_kernel.encode(SMALL, text, alphabet_size=256, train=[train], learn=learn, per_token=True)
        plain = cm_kernel.encode(SMALL, text, alphabet_size=256, train=[train], learn=learn, per_token=True,
                                 reference=True)
        assert plain[0] == compiled[0]
        assert plain[1] == compiled[1]
        assert np.array_equal(plain[2], compiled[2])
        decoded = cm_kernel.decode(SMALL, plain[0], text.size, alphabet_size=256, train=[train], learn=learn,
                                   reference=True)
        assert np.array_equal(decoded, text)


def test_ideal_bits_are_the_costs_of_the_probabilities_handed_to_the_coder(
        plain_model: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """Record every (p1, bit) the model hands the coder: −Σ log2 of them is ideal_bits, and the reference
    range coder fed the same steps writes the same payload."""
    steps: list[tuple[int, int]] = []
    compiled_encode_bit = ac.encode_bit

    def recording(state: np.ndarray, out: np.ndarray, p1: int, bit: int) -> None:
        steps.append((int(p1), int(bit)))
        compiled_encode_bit(state, out, p1, bit)

    monkeypatch.setattr(ac, "encode_bit", recording)
    text = alice(250, 2000)
    payload, ideal, _ = cm_kernel.encode(SMALL, text, alphabet_size=256, reference=True)
    assert len(steps) == 8 * text.size
    assert [bit for _, bit in steps] == [int(b) for b in np.unpackbits(text)]
    assert math.isclose(ideal, sum(-math.log2((p if b else 65536 - p) / 65536) for p, b in steps), rel_tol=1e-12)
    reference = ac.RangeEncoderReference()
    for p1, bit in steps:
        reference.encode_bit(p1, bit)
    assert reference.finish() == payload


# ----------------------------------------------------------------------------- specs and errors
def test_spec_parsing() -> None:
    assert ContextModelSpec.parse("cm") == ContextModelSpec("cm", 6, 64)
    spec = ContextModelSpec.parse(" CM:order=4, memory=16 ")
    assert (spec.kind, spec.order, spec.memory_mib) == ("cm", 4, 16)
    assert spec.describe() == "cm order 4, 16 MiB"
    assert ContextModelSpec.from_dict(spec.as_dict()) == spec


@pytest.mark.parametrize(("text", "message"), [
    ("", "a context model is KIND"),
    ("lstm", "unknown context model 'lstm'"),
    ("cm:order=9", r"order of model 'cm' must be in 2\.\.8 \(got 9\)"),
    ("cm:memory=3", r"memory of model 'cm' must be 1\.\.1024 MiB and a power of two \(got 3\)"),
    ("cm:order", "model option must be NAME=VALUE"),
    ("cm:depth=3", "unknown option 'depth'"),
    ("cm:order=six", "option order must be an integer"),
    ("cm:order=3,order=4", "given twice"),
])
def test_spec_errors(text: str, message: str) -> None:
    with pytest.raises(ContextModelError, match=message) as error:
        ContextModelSpec.parse(text)
    assert isinstance(error.value, KlcodeError) and isinstance(error.value, ValueError)


def test_data_errors() -> None:
    with pytest.raises(DataError, match=r"alphabet_size must be 1\.\.256 \(got 300\)"):
        code_adaptive(SMALL, np.zeros(3, dtype=np.int64), alphabet_size=300)
    with pytest.raises(DataError, match=r"ids outside 0\.\.3 \(got 0\.\.7\)"):
        code_adaptive(SMALL, np.array([0, 7]), alphabet_size=4)
    with pytest.raises(DataError, match="integer token ids"):
        code_adaptive(SMALL, np.array([0.5]), alphabet_size=4)


def test_memory_is_fixed_by_the_spec() -> None:
    state = cm.new_state(6, 1)
    assert state.table_bytes == cm.table_memory_bytes(6, 1)
    assert cm.table_memory_bytes(6, 64) - cm.table_memory_bytes(6, 32) == 32 << 20
