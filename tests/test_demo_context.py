"""`klcode demo context` and `klcode demo recompress`: real codings, the identities they teach, JSON and plots."""

from __future__ import annotations

import json

import numpy as np
import pytest

from klcode.cli.main import main
from klcode.demos.base import DemoOptions
from klcode.demos.context import plug_in_conditional_entropy
from klcode.demos.context import run as run_context
from klcode.demos.recompress import run as run_recompress


@pytest.fixture(scope="module")
def context():
    return run_context(DemoOptions(n=8000))


def test_context_bits_fall_with_order_and_kl_rate_grows(context):
    rows = context.data["orders"]
    assert [r["order"] for r in rows] == [0, 1, 2, 3, 4, 5] and all(r["verified"] for r in rows)
    h = [r["measured_bits_per_byte"] for r in rows]
    assert h[0] > h[1] > h[2] and min(h) < 0.7 * h[0]
    # the plug-in estimate keeps falling below every real code (overfitting), the codes do not
    plug = [r["plug_in_conditional_entropy_bits"] for r in rows]
    assert plug == sorted(plug, reverse=True) and plug[5] < min(h) - 0.5
    # order 0 of the model is close to the order-0 KL; higher orders see several times more
    d = [r["kl_rate_a_b_bits_per_token"] for r in rows]
    assert abs(d[0] - context.data["order0_kl_bits_per_token"]) < 0.15
    assert max(d) > 4 * context.data["order0_kl_bits_per_token"]


def test_plug_in_conditional_entropy_matches_a_direct_count():
    data = np.frombuffer(b"abracadabra abracadabra", dtype=np.uint8)
    # order 1 by hand: contexts and the next byte, over positions 1..n-1
    pairs = {}
    for x, y in zip(data[:-1].tolist(), data[1:].tolist()):
        pairs.setdefault(x, []).append(y)
    n = data.size - 1
    expected = 0.0
    for followers in pairs.values():
        values, counts = np.unique(followers, return_counts=True)
        p = counts / counts.sum()
        expected += counts.sum() / n * float(-(p * np.log2(p)).sum())
    assert plug_in_conditional_entropy(data, 1) == pytest.approx(expected)
    assert plug_in_conditional_entropy(data, 0) == pytest.approx(
        float(-(lambda p: p @ np.log2(p))(np.bincount(data)[np.bincount(data) > 0] / data.size)))


def test_recompress_identity():
    result = run_recompress(DemoOptions(n=30000))
    d = result.data
    assert d["klc_bytes"] < d["gz_bytes"] and d["saved_bytes"] == d["gz_bytes"] - d["klc_bytes"]
    assert d["saved_bytes_per_byte"] == pytest.approx((d["gz_bits_per_byte"] - d["klc_bits_per_byte"]) / 8)
    assert d["klc_payload_bytes"] + d["klc_header_bytes"] == d["klc_bytes"]
    assert d["klc_bits_per_byte"] < d["compressors"]["bz2"]["bits_per_byte"]


def test_cli_demo_context_json_explain_plot(tmp_path, capsys):
    plot = tmp_path / "context.svg"
    assert main(["demo", "context", "--n", "6000", "--json", "--explain", "--plot", str(plot)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["demo"] == "context" and len(data["orders"]) == 6 and data["explanation"]
    assert plot.read_text().lstrip().startswith("<?xml")
    assert main(["demo", "--list"]) == 0
    listing = capsys.readouterr().out
    assert "context" in listing and "recompress" in listing


def test_cli_demo_context_missing_text(tmp_path, capsys):
    assert main(["demo", "context", "--p", str(tmp_path / "none.txt")]) == 1
    assert "no such file" in capsys.readouterr().err
