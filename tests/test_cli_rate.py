"""`klcode rate`, `compare --model` and `matrix --model`: JSON names, tables, and one-line usage errors."""

from __future__ import annotations

import json

import pytest

from klcode.cli.main import main

ENG, DEU, NLD = "corpora/udhr/eng.txt", "corpora/udhr/deu.txt", "corpora/udhr/nld.txt"
CM = ["--model", "cm:memory=1"]


def run_json(capsys, argv: list[str]) -> dict:
    assert main([*argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_rate_json(capsys):
    data = run_json(capsys, ["rate", ENG, *CM])
    (record,) = data["files"]
    assert data["command"] == "rate" and data["model"] == {"kind": "cm", "order": 6, "memory_mib": 1}
    assert record["model"]["verified"] is True and record["model"]["training_tokens"] == 0
    assert record["measured_bits_per_token"] == pytest.approx(record["model"]["measured_bits"] / record["token_count"])
    assert 0 <= record["measured_bits_per_token"] - record["ideal_bits_per_token"] < 0.01
    assert set(record["compressors"]) == {"bz2", "xz", "zstd", "zlib", "ppmd"}
    assert record["measured_bits_per_token"] < record["compressors"]["ppmd"]["bits_per_byte"]


def test_rate_chars_words_and_nats(capsys):
    chars = run_json(capsys, ["rate", ENG, *CM, "--tokens", "chars", "--no-compressors", "--unit", "nats"])
    (record,) = chars["files"]
    assert record["tokens"] == "chars" and "measured_nats_per_token" in record and not record["compressors"]
    assert record["measured_bits_per_char"] * record["chars"] == record["model"]["measured_bits"]
    words = run_json(capsys, ["rate", ENG, "--tokens", "words", "--no-compressors"])
    assert words["model"]["kind"] == "ppm" and words["files"][0]["tokens"] == "words"


def test_rate_table(capsys):
    assert main(["rate", ENG, *CM, "--no-compressors"]) == 0
    out = capsys.readouterr().out
    assert "klcode rate  (1 file(s), cm order 6, 1 MiB, bytes)" in out and "decoded back (verified)" in out


def test_compare_model_rows(capsys):
    data = run_json(capsys, ["compare", ENG, DEU, *CM, "--top", "3"])
    rates = data["rates"]
    assert rates["model"] == "cm order 6, 1 MiB" and rates["train_fraction"] == 0.5
    forward, backward = rates["a_to_b"], rates["b_to_a"]
    assert forward["a"] == "eng" and backward["a"] == "deu"
    assert forward["ideal_kl_rate_bits_per_token"] == pytest.approx(
        forward["cross"]["ideal_bits_per_token"] - forward["own"]["ideal_bits_per_token"])
    # the KL rate sees far more than the order-0 KL of the letters
    assert forward["ideal_kl_rate_bits_per_token"] > 3 * data["a_coded_with_b"]["effective_kl_bits_per_token"]
    assert len(rates["top_a"]) == 3 and rates["top_a"][0]["extra_bits"] > 0
    assert main(["compare", ENG, DEU, *CM, "--top", "3"]) == 0
    out = capsys.readouterr().out
    assert "D(A‖B) = h(A″‖B) − h(A″‖A′)  KL rate" in out and "where A costs most under B's model" in out


def test_matrix_model(capsys):
    data = run_json(capsys, ["matrix", ENG, DEU, NLD, *CM])
    rates = data["rates"]
    assert rates["labels"] == ["eng", "deu", "nld"] and rates["verified"] is True
    nearest = {n["corpus"]: n["nearest"] for n in rates["nearest_by_kl_rate"]}
    assert nearest["deu"] == "nld" and nearest["nld"] == "deu"
    assert all(rates["kl_rate_bits_per_token"][i][i] == 0 for i in range(3))


@pytest.mark.parametrize("argv, message", [
    (["rate", ENG, "--model", "cm:order=1"], "order of model 'cm' must be in 2..8 (got 1)"),
    (["rate", ENG, "--model", "zip"], "unknown context model 'zip'"),
    (["compare", ENG, DEU, *CM, "--ngram", "2"], "cannot be combined with --ngram"),
    (["compare", ENG, DEU, *CM, "--regex", "[a-z]+"], "not --regex tokens"),
])
def test_usage_errors(capsys, argv, message):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_data_errors(capsys, tmp_path):
    short = tmp_path / "short.txt"
    short.write_bytes(b"a")
    assert main(["compare", ENG, str(short), *CM]) == 1
    assert "'short' has 1 bytes: too few to split" in capsys.readouterr().err
    assert main(["rate", str(tmp_path / "missing.txt"), *CM]) == 1
