"""klcode models' analysis: statistics against an independent numpy computation, frequencies, measured bits."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.special import logsumexp

from klcode.analysis import model_compare as mc
from klcode.analysis import model_kernels as mk
from klcode.errors import DataError, DecodeError
from klcode.models import llama_format as lf
from klcode.models.sources import LlamaKLSource, MemorySource, QuantizedSource

LN2 = math.log(2)


def pair(dtype, n=400, v=60, seed=0):
    rng = np.random.default_rng(seed)
    base = rng.normal(size=(n, v)) * 2.5
    test = base + rng.normal(size=(n, v)) * 0.4
    p = np.exp(base - logsumexp(base, axis=1, keepdims=True))
    tokens = (p.cumsum(axis=1) < rng.random((n, 1))).sum(axis=1)  # drawn from base
    return base.astype(dtype), test.astype(dtype), np.minimum(tokens, v - 1)


def numpy_statistics(base, test, tokens):
    """The quantities of klcode models computed directly with numpy/scipy, in nats."""
    b = np.asarray(base, dtype=np.float64)
    t = np.asarray(test, dtype=np.float64)
    lb = b - logsumexp(b, axis=1, keepdims=True)
    lt = t - logsumexp(t, axis=1, keepdims=True)
    pb, pt = np.exp(lb), np.exp(lt)
    m = (pb + pt) / 2
    n = len(tokens)
    rows = np.arange(n)
    out = {
        "kl_bt": (pb * (lb - lt)).sum(1), "kl_tb": (pt * (lt - lb)).sum(1),
        "js": 0.5 * (pb * np.log(pb / m)).sum(1) + 0.5 * (pt * np.log(pt / m)).sum(1),
        "nll_b": -lb[rows, tokens], "nll_t": -lt[rows, tokens],
        "same": (b.argmax(1) == t.argmax(1)).astype(float),
    }
    out["dp"] = np.exp(-out["nll_t"]) - np.exp(-out["nll_b"])
    return out


def llama_se(values):
    """llama.cpp's mean_and_uncertainty: sqrt((mean(x²) − mean²)/(n − 1))."""
    n = len(values)
    f = values.sum() / n
    return math.sqrt((np.square(values).sum() / n - f * f) / (n - 1))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_statistics_agree_with_numpy(dtype):
    base, test, tokens = pair(dtype)
    c = mc.compare_models(MemorySource(base, tokens, "b"), MemorySource(test, tokens, "t"), top_k=3)
    ref = numpy_statistics(base, test, tokens)
    tol = 1e-9
    for summary, key in ((c.kl_base_test_bits, "kl_bt"), (c.kl_test_base_bits, "kl_tb"), (c.js_bits, "js")):
        values = ref[key] / LN2
        assert summary.mean == pytest.approx(values.mean(), abs=tol)
        assert summary.standard_error == pytest.approx(llama_se(values), abs=tol)
        assert summary.median == pytest.approx(np.median(values), abs=tol)
        assert summary.minimum == pytest.approx(values.min(), abs=tol)
        assert summary.maximum == pytest.approx(values.max(), abs=tol)
        ordered = np.sort(values)
        for percent, got in summary.percentiles:
            x = percent / 100 * (len(ordered) - 1)            # llama.cpp: linear between sorted values
            i = int(x)
            want = (1 - (x - i)) * ordered[i] + (x - i) * ordered[min(i + 1, len(ordered) - 1)]
            assert got == pytest.approx(want, abs=tol)
    n = len(tokens)
    assert c.ppl_base == pytest.approx(math.exp(ref["nll_b"].mean()), rel=tol)
    assert c.ppl_test == pytest.approx(math.exp(ref["nll_t"].mean()), rel=tol)
    assert c.ppl_test_error == pytest.approx(c.ppl_test * llama_se(ref["nll_t"]), rel=1e-7)
    # llama.cpp: sqrt(se_t² + se_b² − 2 cov), cov = (mean(ab) − mean(a)mean(b))/(n − 1)
    a, bb = ref["nll_t"], ref["nll_b"]
    cov = ((a * bb).sum() / n - a.mean() * bb.mean()) / (n - 1)
    assert c.ln_ppl_ratio == pytest.approx((a - bb).mean(), abs=tol)
    assert c.ln_ppl_ratio_error == pytest.approx(math.sqrt(llama_se(a) ** 2 + llama_se(bb) ** 2 - 2 * cov), rel=1e-6)
    assert c.same_top == pytest.approx(ref["same"].mean(), abs=0)
    assert c.same_top_error == pytest.approx(math.sqrt(c.same_top * (1 - c.same_top) / (n - 1)), abs=tol)
    dp = ref["dp"]
    assert c.delta_p.mean == pytest.approx(dp.mean(), abs=tol)
    assert c.rms_delta_p == pytest.approx(math.sqrt(np.mean(dp ** 2)), abs=tol)
    assert c.rms_delta_p_error == pytest.approx(0.5 / c.rms_delta_p * llama_se(dp ** 2), rel=1e-6)
    # top-k overlap against sets from argsort
    kb = np.argsort(-base.astype(np.float64), axis=1, kind="stable")[:, :3]
    kt = np.argsort(-test.astype(np.float64), axis=1, kind="stable")[:, :3]
    overlap = np.mean([len(set(x) & set(y)) for x, y in zip(kb, kt)]) / 3
    assert c.top_k_overlap == pytest.approx(overlap, abs=1e-12)
    # identities: KL ≥ 0, JS ≤ 1 bit, JS ≤ min of the KLs / ... and the top list is sorted
    assert (c.kl_per_position_bits >= 0).all() and c.js_bits.maximum <= 1
    kls = [p.kl_base_test_bits for p in c.top_positions]
    assert kls == sorted(kls, reverse=True) and kls[0] == pytest.approx(c.kl_base_test_bits.maximum)


def test_frequencies_match_the_python_reference_bit_for_bit():
    rng = np.random.default_rng(5)
    freq = np.empty(300, dtype=np.int64)
    for trial in range(30):
        v = int(rng.integers(2, 300))
        row = rng.normal(size=v) * rng.uniform(0.1, 30)
        if trial % 3 == 0:
            row[rng.integers(0, v)] += 200.0  # one near-certain token
        e, inverse, _, arg = mk.exponentials(row[None, :])
        mk.row_frequencies(e[0], inverse[0], arg[0], mc.FREQUENCY_TOTAL, freq[:v])
        reference = mc.reference_frequencies(row)
        assert freq[:v].tolist() == reference
        assert sum(reference) == mc.FREQUENCY_TOTAL and min(reference) >= 1
    # the cum/freq of the targets from compare_rows are those of the same frequencies
    base, test, tokens = pair(np.float64, n=20, v=9, seed=6)
    out = mc.block_statistics(base, test, tokens, False, 2)
    for r in range(20):
        for which, row, cum, f in ((0, base[r], mk.CUM_B, mk.FREQ_B), (1, test[r], mk.CUM_T, mk.FREQ_T)):
            ref = mc.reference_frequencies(row)
            assert out[r, cum] == sum(ref[: tokens[r]]) and out[r, f] == ref[tokens[r]]


def test_measured_bits_are_the_ideal_bits_plus_a_tiny_overhead_and_decode_back():
    base, test, tokens = pair(np.float64, n=3000, v=40, seed=7)
    c = mc.compare_models(MemorySource(base, tokens, "b"), MemorySource(test, tokens, "t"))
    for coding in (c.base_coding, c.test_coding):
        assert coding.verified
        assert 0 <= coding.overhead_bits < 8 * 3        # a few flush bytes at most
        # the quantized rows cost a hair more than the exact cross-entropy
        assert abs(coding.ideal_quantized_bits - coding.cross_entropy_bits) < 1e-3 * coding.cross_entropy_bits
    assert c.extra_bytes == c.test_coding.payload_bytes - c.base_coding.payload_bytes
    assert c.measured_gap_bits_per_token == pytest.approx(c.cross_entropy_gap_bits_per_token, abs=0.01)


def test_a_corrupt_payload_does_not_decode_back():
    base, test, tokens = pair(np.float64, n=200, v=30, seed=8)
    b, t = MemorySource(base, tokens, "b"), MemorySource(test, tokens, "t")
    c = mc.compare_models(b, t, verify=False)
    assert not c.base_coding.verified
    from klcode.coders import arithmetic as ac

    state, out = ac.new_encoder(), np.zeros(4096, dtype=np.uint8)
    out2 = mc.block_statistics(base, test, tokens, False, 1)
    written = mk.encode_intervals(state, out, out2[:, mk.CUM_B].astype(np.int64), out2[:, mk.FREQ_B].astype(np.int64),
                                  mc.FREQUENCY_TOTAL)
    payload = bytearray(out[:written].tobytes())
    tail = np.zeros(64, dtype=np.uint8)
    payload += tail[: ac.finish_encoder(state, tail)].tobytes()
    mc._verify(b, b, [bytes(payload), bytes(payload)], tokens, 64, None)  # both decode back under base
    payload[len(payload) // 2] ^= 0x5A
    with pytest.raises(DecodeError, match="did not decode back"):
        mc._verify(b, b, [bytes(payload), bytes(payload)], tokens, 64, None)


def test_llama_convention_kl_on_a_llama_file(tmp_path):
    rng = np.random.default_rng(9)
    n_ctx, v, n_chunk = 16, 40, 4
    tokens = rng.integers(0, v, n_ctx * n_chunk)
    rows = n_chunk * (n_ctx - 1 - n_ctx // 2)
    base_logits = (rng.normal(size=(rows, v)) * 6).astype(np.float32)
    test_logits = (base_logits + rng.normal(size=(rows, v)) * 0.5).astype(np.float32)
    lf.write_kl_base(tmp_path / "b.kld", tokens, n_ctx, [base_logits], v)
    lf.write_kl_base(tmp_path / "t.kld", tokens, n_ctx, [test_logits], v)
    base, test = LlamaKLSource(tmp_path / "b.kld"), LlamaKLSource(tmp_path / "t.kld")
    c = mc.compare_models(base, test)
    # llama.cpp: Σ over base entries with stored log-prob > −16 of exp(s)(s − log_softmax(test)), s unnormalized
    s = np.concatenate([blk.copy() for _, blk in base.blocks(100)]).astype(np.float64)
    t = np.concatenate([blk.copy() for _, blk in test.blocks(100)]).astype(np.float64)
    lt = t - logsumexp(t, axis=1, keepdims=True)
    llama = np.where(s > -16, np.exp(s) * (s - lt), 0.0).sum(1) / LN2
    assert c.kl_llama_bits.mean == pytest.approx(llama.mean(), abs=1e-9)
    assert (s <= -16).any()  # the floor really was hit
    ref = numpy_statistics(s, t, base.targets)
    assert c.kl_base_test_bits.mean == pytest.approx(ref["kl_bt"].mean() / LN2, abs=1e-9)


def test_mismatched_pairs_are_refused():
    base, test, tokens = pair(np.float64, n=10, v=6)
    b = MemorySource(base, tokens, "b")
    other = tokens.copy()
    other[3] = (other[3] + 1) % 6
    with pytest.raises(DataError, match=r"the token streams differ: at position 3 b has token \d, t2 \d \(1 positions differ\)"):
        mc.compare_models(b, MemorySource(test, other, "t2"))
    with pytest.raises(DataError, match="the vocabularies differ: b has 6 tokens, t3 5"):
        mc.compare_models(b, MemorySource(test[:, :5], np.minimum(tokens, 4), "t3"))
    with pytest.raises(DataError, match="the token streams differ in length"):
        mc.compare_models(b, MemorySource(test[:8], tokens[:8], "t4"))


def test_quantized_copy_kl_and_bits_are_consistent():
    base, _, tokens = pair(np.float64, n=1500, v=50, seed=10)
    b = MemorySource(base, tokens, "b")
    c = mc.compare_models(b, QuantizedSource(b, 4))
    assert 0.001 < c.kl_base_test_bits.mean < 1
    assert c.same_top > 0.5
    # the bit gap measured by coding is the cross-entropy gap, within the coders' few flush bytes
    slack = (c.base_coding.overhead_bits + c.test_coding.overhead_bits + 16) / c.positions
    assert abs(c.measured_gap_bits_per_token - c.cross_entropy_gap_bits_per_token) <= slack


def test_the_codings_are_the_python_reference_coders_bytes():
    """The payloads of compare_models equal those of the plain-Python range coder fed the same intervals,
    and the Python decoder reads the tokens back from them with the reference frequencies."""
    from klcode.coders.arithmetic import RangeDecoderReference, RangeEncoderReference

    base, test, tokens = pair(np.float64, n=300, v=25, seed=11)
    b, t = MemorySource(base, tokens, "b"), MemorySource(test, tokens, "t")
    c = mc.compare_models(b, t, rows=64)
    for rows, coding in ((base, c.base_coding), (test, c.test_coding)):
        payload = coding.payload
        assert len(payload) == coding.payload_bytes
        encoder = RangeEncoderReference()
        frequencies = [mc.reference_frequencies(row) for row in rows]
        for freq, x in zip(frequencies, tokens):
            encoder.encode_symbol(sum(freq[:x]), freq[x], mc.FREQUENCY_TOTAL)
        assert encoder.finish() == payload
        decoder = RangeDecoderReference(payload)
        decoded = []
        for freq in frequencies:
            target, cum, x = decoder.decode_target(mc.FREQUENCY_TOTAL), 0, 0
            while cum + freq[x] <= target:
                cum += freq[x]
                x += 1
            decoder.decode_symbol(cum, freq[x], mc.FREQUENCY_TOTAL)
            decoded.append(x)
        assert decoded == tokens.tolist()
