"""The range coder: compiled steps against the plain-Python reference, byte for byte; round trips; cost vs ideal."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from klcode.coders import arithmetic as ac


def random_steps(rng: np.random.Generator, n: int) -> list[tuple[int, ...]]:
    """Mixed binary and multi-symbol steps, extremes included (p1 = 1, 65535; total = 2, 2^24)."""
    steps: list[tuple[int, ...]] = []
    for kind in rng.integers(0, 2, n):
        if kind == 0:
            p1 = int(rng.choice([1, 2, 32768, 65534, 65535, int(rng.integers(1, 65536))]))
            bit = int(rng.random() < p1 / 65536) if rng.random() < 0.7 else int(rng.integers(0, 2))
            steps.append((0, p1, bit))
        else:
            total = int(rng.choice([2, 3, 256, 1 << 24, int(rng.integers(2, (1 << 24) + 1))]))
            freq = int(rng.choice([1, total // 2 or 1, int(rng.integers(1, total + 1))]))
            cum = int(rng.integers(0, total - freq + 1))
            steps.append((1, cum, freq, total))
    return steps


def encode_compiled(steps: list[tuple[int, ...]]) -> bytes:
    state, out = ac.new_encoder(), np.zeros(3 * len(steps) + 64, dtype=np.uint8)
    for step in steps:
        if step[0] == 0:
            ac.encode_bit(state, out, step[1], step[2])
        else:
            ac.encode_symbol(state, out, step[1], step[2], step[3])
    return out[: ac.finish_encoder(state, out)].tobytes()


def encode_reference(steps: list[tuple[int, ...]]) -> bytes:
    encoder = ac.RangeEncoderReference()
    for step in steps:
        if step[0] == 0:
            encoder.encode_bit(step[1], step[2])
        else:
            encoder.encode_symbol(step[1], step[2], step[3])
    return encoder.finish()


def decode_both(payload: bytes, steps: list[tuple[int, ...]]) -> None:
    """Decode with the compiled and the reference decoder; both must give the steps' bits and symbols."""
    buf = np.frombuffer(payload, dtype=np.uint8).copy()
    compiled, reference = ac.new_decoder(buf), ac.RangeDecoderReference(payload)
    for step in steps:
        if step[0] == 0:
            assert ac.decode_bit(compiled, buf, step[1]) == reference.decode_bit(step[1]) == step[2]
        else:
            _, cum, freq, total = step
            target = ac.decode_target(compiled, buf, total)
            assert target == reference.decode_target(total)
            assert cum <= target < cum + freq
            ac.decode_symbol(compiled, buf, cum, freq, total)
            reference.decode_symbol(cum, freq, total)


def ideal_bits(steps: list[tuple[int, ...]]) -> float:
    return sum(-math.log2((s[1] if s[2] else 65536 - s[1]) / 65536) if s[0] == 0 else -math.log2(s[2] / s[3])
               for s in steps)


@pytest.mark.parametrize("seed", range(6))
def test_compiled_coder_writes_the_reference_bytes_and_both_decode(seed: int) -> None:
    rng = np.random.default_rng(seed)
    for n in (0, 1, 2, 5, 50, 400, 3000):
        steps = random_steps(rng, n)
        payload = encode_compiled(steps)
        assert payload == encode_reference(steps)
        decode_both(payload, steps)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 65535), st.integers(0, 1)), max_size=300))
def test_binary_round_trip_any_probabilities(steps: list[tuple[int, int]]) -> None:
    full = [(0, p1, bit) for p1, bit in steps]
    payload = encode_compiled(full)
    assert payload == encode_reference(full)
    decode_both(payload, full)


def test_carry_propagates_through_runs_of_ff_bytes() -> None:
    """Steps that keep low just under a byte boundary leave 0xFF bytes pending; a carry must reach them."""
    steps = [(0, 1, 1)] * 2000 + [(0, 65535, 1)] * 3000 + [(1, 255, 1, 256)] * 500 + [(0, 1, 1)] * 500
    payload = encode_compiled(steps)
    assert payload == encode_reference(steps)
    assert b"\xff\xff" in payload or b"\x00\x00" in payload  # long runs were held back and released
    decode_both(payload, steps)


def test_empty_stream_is_an_empty_payload() -> None:
    assert encode_compiled([]) == encode_reference([]) == b""


def test_measured_bits_stay_within_a_few_bytes_of_the_ideal_cost() -> None:
    rng = np.random.default_rng(7)
    steps = random_steps(rng, 20000)
    ideal, measured = ideal_bits(steps), 8 * len(encode_compiled(steps))
    assert ideal - 8 < measured < ideal * (1 + 1e-4) + 24


def test_payload_is_self_delimiting_whatever_follows() -> None:
    """Bytes appended to a payload do not change what it decodes to."""
    steps = random_steps(np.random.default_rng(3), 500)
    payload = encode_compiled(steps)
    for tail in (b"\xff" * 8, b"\x00" * 8, b"\x5a\xa5" * 4):
        decode_both(payload + tail, steps)


def test_reference_refuses_steps_outside_the_contract() -> None:
    encoder = ac.RangeEncoderReference()
    with pytest.raises(ValueError, match=r"p1 must be in 1\.\.65535 .*got 0"):
        encoder.encode_bit(0, 1)
    with pytest.raises(ValueError, match=r"got cum=3, freq=2, total=4"):
        encoder.encode_symbol(3, 2, 4)
    with pytest.raises(ValueError, match=r"total <= 2\^24"):
        encoder.encode_symbol(0, 1, (1 << 24) + 1)
