"""Demo estimators: the estimates close on the truth as N grows, the corrections beat the plug-in, real codes."""

from __future__ import annotations

import math

import numpy as np
import pytest

from klcode.demos import DemoOptions, load_all
from klcode.demos.estimators import flatter, run, sample_sizes, zipf
from klcode.errors import DataError
from klcode.info.measures import entropy, kl_divergence


@pytest.fixture(scope="module")
def result():
    return run(DemoOptions(n=3000, seed=2))


def test_truth_and_sizes(result):
    p = zipf(30)
    assert result.data["entropy_bits_per_token"] == pytest.approx(entropy(p))
    assert result.data["kl_bits_per_token"] == pytest.approx(kl_divergence(p, flatter(p)))
    assert [r["tokens"] for r in result.data["sizes"]] == [10, 30, 100, 300, 1000, 3000]


def test_plugin_is_biased_and_corrections_shrink_the_bias(result):
    bias = result.data["bias"]
    for row in bias:
        assert row["entropy_plugin_bias_bits_per_token"] < 0 and row["kl_plugin_bias_bits_per_token"] > 0
    for row in bias[2:]:  # from N = 100 on, Miller–Madow and the jackknife remove most of the bias
        plugin = abs(row["entropy_plugin_bias_bits_per_token"])
        assert abs(row["entropy_miller_madow_bias_bits_per_token"]) < plugin / 2
        assert abs(row["entropy_jackknife_bias_bits_per_token"]) < plugin / 2
    magnitudes = [abs(row["entropy_plugin_bias_bits_per_token"]) for row in bias]
    assert magnitudes == sorted(magnitudes, reverse=True)


def test_intervals_close_on_the_truth(result):
    rows = result.data["sizes"]
    widths = [r["entropy_ci_bits_per_token"][1] - r["entropy_ci_bits_per_token"][0] for r in rows[3:]]
    assert widths[-1] < widths[0] / 2 and widths[-1] < widths[-2]  # N = 3000 against 300 and 1000: about 1/√N
    last = rows[-1]
    low, high = last["kl_ci_bits_per_token"]
    assert last["kl_ci_reliable"] and low < result.data["kl_bits_per_token"] < high


def test_the_sample_is_really_coded(result):
    for row in result.data["sizes"]:
        assert row["roundtrip"] == "verified"
        assert row["huffman_of_sample_measured_bits_per_token"] >= row["entropy_plugin_bits_per_token"] - 1e-12


def test_small_n_is_flagged_and_registered():
    assert "estimators" in load_all()
    small = run(DemoOptions(n=30, seed=0))
    assert not small.data["sizes"][0]["entropy_ci_reliable"]
    assert any(math.isinf(r["kl_two_samples_plugin_bits_per_token"]) for r in small.data["sizes"])
    assert sample_sizes(10) == [10]
    with pytest.raises(DataError, match="--n must be at least 10 for this demo \\(got 5\\)"):
        run(DemoOptions(n=5))


def test_custom_p_and_q(tmp_path):
    q = tmp_path / "q.json"
    q.write_text('{"0": 0.5, "1": 0.5}', encoding="utf-8")
    with pytest.raises(DataError, match="KL\\(p‖q\\) = ∞"):
        run(DemoOptions(p="uniform:3", q="uniform:2", n=100))
    out = run(DemoOptions(p="binomial:4,0.3", n=100))
    assert out.data["types"] == 5 and np.isfinite(out.data["kl_bits_per_token"])
