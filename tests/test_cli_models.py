"""klcode models on the command line: llama.cpp files and arrays, every format, one-line errors, no partial output."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import numpy as np
import pytest

from klcode.cli import main
from klcode.models import llama_format as lf

ROOT = Path(__file__).resolve().parent.parent
ALICE = ROOT / "corpora" / "canterbury" / "alice29.txt"


def run(capsys, *args):
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    """Two llama.cpp KL base files over the same tokens: a base model and a noisy copy."""
    folder = tmp_path_factory.mktemp("kld")
    rng = np.random.default_rng(0)
    n_ctx, vocab, n_chunk = 32, 50, 8
    tokens = rng.integers(0, vocab, n_ctx * n_chunk)
    rows = n_chunk * (n_ctx - 1 - n_ctx // 2)
    logits = (rng.normal(size=(rows, vocab)) * 3).astype(np.float32)
    noisy = logits + (rng.normal(size=logits.shape) * 0.5).astype(np.float32)
    lf.write_kl_base(folder / "base.kld", tokens, n_ctx, [logits], vocab)
    lf.write_kl_base(folder / "test.kld", tokens, n_ctx, [noisy], vocab)
    other = tokens.copy()
    other[n_ctx // 2 + 3] = (other[n_ctx // 2 + 3] + 1) % vocab   # a scored token that differs
    lf.write_kl_base(folder / "other.kld", other, n_ctx, [noisy], vocab)
    lf.write_kl_base(folder / "wide.kld", tokens, n_ctx, [np.hstack([noisy, noisy[:, :1]])], vocab + 1)
    elsewhere = tokens.copy()
    elsewhere[3] = (elsewhere[3] + 1) % vocab   # a context token (first half of chunk 0, never scored)
    lf.write_kl_base(folder / "elsewhere.kld", elsewhere, n_ctx, [noisy], vocab)
    return folder


def test_table_and_json(capsys, pair):
    code, out, err = run(capsys, "models", pair / "base.kld", pair / "test.kld", "--top", "3")
    assert code == 0, err
    assert "KL(base‖test)" in out and "KL(test‖base)" in out and "JS(base, test)" in out
    assert "same top token" in out and "range-coded under each model (decoded back)" in out
    code, out, err = run(capsys, "models", pair / "base.kld", pair / "test.kld", "--json", "--unit", "nats")
    assert code == 0, err
    data = json.loads(out)
    assert data["positions"] == 8 * 15 and data["vocab_size"] == 50 and data["unit"] == "nats"
    kl = data["kl_base_test"]
    assert 0 < kl["minimum"] <= kl["percentiles"]["1"] <= kl["median"] <= kl["percentiles"]["99"] <= kl["maximum"]
    assert set(kl["percentiles"]) == {"0.1", "1", "5", "10", "90", "95", "99", "99.9"}
    assert data["base_coding"]["verified"] and data["test_coding"]["verified"]
    assert data["extra_bytes"] == data["test_coding"]["payload_bytes"] - data["base_coding"]["payload_bytes"]
    # bits: the unit switch scales the divergences by ln 2, leaves probabilities alone
    code, out2, _ = run(capsys, "models", pair / "base.kld", pair / "test.kld", "--json")
    bits = json.loads(out2)
    assert bits["kl_base_test"]["mean"] == pytest.approx(kl["mean"] / np.log(2), rel=1e-12)
    assert bits["same_top"] == data["same_top"]


def test_csv_markdown_and_output_file(capsys, pair, tmp_path):
    code, out, err = run(capsys, "models", pair / "base.kld", pair / "test.kld", "--format", "csv")
    assert code == 0, err
    records = list(csv.DictReader(io.StringIO(out)))
    assert [r["quantity"] for r in records] == ["kl_base_test", "kl_test_base", "js", "kl_llama"]
    code, out, err = run(capsys, "models", pair / "base.kld", pair / "test.kld", "--format", "markdown")
    assert code == 0 and out.startswith("## klcode models") and "| KL(base‖test) |" in out
    target = tmp_path / "r.json"
    code, out, err = run(capsys, "models", pair / "base.kld", pair / "test.kld", "--json", "-o", target)
    assert code == 0 and out == "" and json.loads(target.read_text())["positions"] == 120


def test_plot(capsys, pair, tmp_path):
    pytest.importorskip("matplotlib")
    plot = tmp_path / "kl.png"
    code, _, err = run(capsys, "models", pair / "base.kld", pair / "test.kld", "--plot", plot, "-q")
    assert code == 0, err
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("make, message", [
    (lambda p, t: (p / "base.kld", p / "other.kld"),
     r"klcode: error: the token streams differ: at position 2 base.kld has token \d+, other.kld \d+ \(1 positions differ\)"),
    (lambda p, t: (p / "base.kld", p / "elsewhere.kld"),
     r"klcode: error: the token streams differ in their contexts: at token 3 base.kld has \d+, elsewhere.kld \d+"),
    (lambda p, t: (p / "base.kld", p / "wide.kld"),
     "klcode: error: the vocabularies differ: base.kld has 50 tokens, wide.kld 51"),
    (lambda p, t: (p / "base.kld", _cut(p / "test.kld", t)),
     r"klcode: error: '.*cut.kld' is truncated: n_ctx 32, n_vocab 50, n_chunk 8 make 14,004 bytes \(got 13,000\)"),
    (lambda p, t: (p / "base.kld", _write(t / "x.gguf", b"GGUF\x03\0\0\0" + bytes(40))),
     r"klcode: error: '.*x.gguf' is a GGUF model, not its outputs: run llama-perplexity --kl-divergence-base"),
    (lambda p, t: (p / "base.kld", _write(t / "x.bin", b"\x01\x02 not an array at all")),
     r"klcode: error: '.*x.bin' is neither .npy, .npz, .safetensors nor a llama.cpp KL base file"),
    (lambda p, t: (p / "base.kld", t / "missing.kld"), r"klcode: error: no such file: '.*missing.kld'"),
])
def test_data_errors_are_one_line_exit_1_and_write_nothing(capsys, pair, tmp_path, make, message):
    base, test = make(pair, tmp_path)
    target = tmp_path / "out.json"
    code, out, err = run(capsys, "models", base, test, "--json", "-o", target)
    assert code == 1 and out == ""
    assert len(err.strip().splitlines()) == 1, err
    assert re.fullmatch(message + ".*\n", err), err
    assert not target.exists() and [p.name for p in tmp_path.iterdir() if p.name.startswith(".out")] == []


def _cut(path, folder):
    data = path.read_bytes()
    return _write(folder / "cut.kld", data[:13000])


def _write(path, data):
    path.write_bytes(data)
    return path


def test_nan_logits_in_an_array_file(capsys, tmp_path):
    rng = np.random.default_rng(1)
    logits = rng.normal(size=(20, 6))
    tokens = rng.integers(0, 6, 21)
    np.savez(tmp_path / "a.npz", logits=logits, tokens=tokens)
    bad = logits.copy()
    bad[7, 1] = np.inf
    np.savez(tmp_path / "b.npz", logits=bad, tokens=tokens)
    code, out, err = run(capsys, "models", tmp_path / "a.npz", tmp_path / "b.npz", "-q")
    assert code == 1 and err == "klcode: error: b.npz: row 7 has a non-finite value (inf at token 1); logits must be finite\n"
    code, out, err = run(capsys, "models", tmp_path / "a.npz", tmp_path / "a.npz", "--json")
    assert code == 0 and json.loads(out)["kl_base_test"]["maximum"] == 0.0


def test_usage_errors_exit_2(capsys, pair):
    before = (pair / "test.kld").read_bytes()
    code, _, err = run(capsys, "models", pair / "base.kld", pair / "test.kld", "--json", "-o", pair / "test.kld")
    assert code == 2 and "is an input; klcode never overwrites its input" in err
    assert (pair / "test.kld").read_bytes() == before
    code, _, err = run(capsys, "models", pair / "base.kld", "quant:x")
    assert code == 2 and "quant:B[:MODEL] needs an integer number of bits (got 'x')" in err
    code, _, err = run(capsys, "models", "ppm", "quant:4")
    assert code == 2 and "runs over a text: give --text FILE" in err
    code, _, err = run(capsys, "models", pair / "base.kld", pair / "test.kld", "--plot", "kl.pdf")
    assert code == 2 and "plot file must end in .png or .svg" in err


def test_quantized_copy_of_a_file(capsys, pair):
    code, out, err = run(capsys, "models", pair / "base.kld", "quant:4", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["test"] == "base.kld quantized to 4 bits" and data["kl_base_test"]["mean"] > 0
    code, out, err = run(capsys, "models", pair / "base.kld", "quant:16", "--json")
    # re-storing llama.cpp's 16-bit rows in 16 bits changes them by less than a quantization step
    assert code == 0 and json.loads(out)["kl_base_test"]["mean"] < 1e-6


def test_context_model_and_its_4_bit_copy_end_to_end(capsys, tmp_path):
    """A real pair without a download: PPM trained on lcet10, and the same rows stored in 4 bits, over alice29."""
    text = tmp_path / "alice.txt"
    text.write_bytes(ALICE.read_bytes()[:6000])
    train = ROOT / "corpora" / "canterbury" / "lcet10.txt"
    code, out, err = run(capsys, "models", f"ppm:order=2@{train}", "quant:4", "--text", text, "--json", "-q")
    assert code == 0, err
    data = json.loads(out)
    assert data["positions"] == 6000 and data["vocab_size"] == 256
    kl = data["kl_base_test"]["mean"]
    assert 0.01 < kl < 2 and data["kl_test_base"]["mean"] > 0 and 0 < data["js"]["mean"] < kl
    assert 0.5 < data["same_top"] < 1 and data["same_top_error"] > 0
    base, test = data["base_coding"], data["test_coding"]
    assert base["verified"] and test["verified"]
    # the measured bit gap is the mean cross-entropy difference, within the two codings' overhead
    slack = (base["overhead_bits"] + test["overhead_bits"] + 16) / data["positions"]
    assert abs(data["measured_gap_bits_per_token"] - data["cross_entropy_gap_bits_per_token"]) <= slack
    assert data["cross_entropy_gap_bits_per_token"] > 0 and data["extra_bytes"] > 0   # 4 bits cost bits
    for coding in (base, test):
        assert coding["overhead_bits"] < 1e-3 * coding["measured_bits"]
