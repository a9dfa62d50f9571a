"""CLI of "how sure is the number": --estimator, --ci/--bootstrap, --resample, --keyness/--sort/--min-count."""

from __future__ import annotations

import csv
import io
import json
import math

import numpy as np
import pytest

from klcode.analysis.keyness import keyness
from klcode.cli import main
from klcode.info import estimators as est


def run(capsys, *args):
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def corpora(tmp_path):
    """A and B as single files, and A as a directory of 6 documents (the same text split)."""
    rng = np.random.default_rng(0)
    words_a = rng.choice(["the", "cat", "sat", "on", "mat", "dog"], size=600, p=[.3, .2, .15, .15, .1, .1])
    words_b = rng.choice(["the", "cat", "sat", "on", "mat", "dog"], size=500, p=[.25, .1, .15, .15, .05, .3])
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_text(" ".join(words_a), encoding="utf-8")
    b.write_text(" ".join(words_b), encoding="utf-8")
    folder = tmp_path / "docs_a"
    folder.mkdir()
    for i, part in enumerate(np.array_split(words_a, 6)):
        (folder / f"doc{i}.txt").write_text(" ".join(part), encoding="utf-8")
    counts_a = {w: int(np.sum(words_a == w)) for w in set(words_a)}
    counts_b = {w: int(np.sum(words_b == w)) for w in set(words_b)}
    return str(a), str(b), str(folder), counts_a, counts_b


def aligned(counts_a, counts_b):
    symbols = sorted(set(counts_a) | set(counts_b))
    return symbols, np.array([counts_a.get(s, 0) for s in symbols]), np.array([counts_b.get(s, 0) for s in symbols])


def test_compare_without_new_flags_is_unchanged(capsys, corpora):
    a, b, *_ = corpora
    code, out, _ = run(capsys, "compare", a, b, "--tokens", "words", "--json")
    data = json.loads(out)
    assert code == 0 and "estimates" not in data and "intervals" not in data and "keyness" not in data
    assert "top_a" in data and "top_b" in data


def test_compare_estimator_values_equal_the_library(capsys, corpora):
    a, b, _, counts_a, counts_b = corpora
    _, n, m = aligned(counts_a, counts_b)
    code, out, _ = run(capsys, "compare", a, b, "--tokens", "words", "--estimator", "jackknife", "--json")
    e = json.loads(out)["estimates"]
    assert code == 0 and e["estimator"] == "jackknife" and e["kl_estimator"] == "jackknife"
    assert e["kl_bits_per_token"] == pytest.approx(est.kl_jackknife(n, m))
    assert e["plugin_kl_bits_per_token"] == pytest.approx(est.kl_plugin(n, m))
    assert e["entropy_reverse_bits_per_token"] == pytest.approx(est.entropy_jackknife(m))
    assert e["js_bits_per_token"] == pytest.approx(est.js_jackknife(n, m))
    code, out, _ = run(capsys, "compare", a, b, "--tokens", "words", "--estimator", "jackknife", "--unit", "nats", "--json")
    assert json.loads(out)["estimates"]["kl_nats_per_token"] == pytest.approx(est.kl_jackknife(n, m, base=math.e))


def test_compare_ci_table_and_json(capsys, corpora):
    a, b, *_ = corpora
    code, out, _ = run(capsys, "compare", a, b, "--tokens", "words", "--estimator", "miller-madow", "--ci", "0.9",
                       "--bootstrap", "100")
    assert code == 0
    assert "how sure is the number [bits per token]" in out and "90% CI (percentile)" in out  # auto: corrected
    assert ("intervals: 90% percentile bootstrap, 100 replicates (seed 0) of the miller-madow estimates, over 600 "
            "tokens of A") in out
    code, out, _ = run(capsys, "compare", a, b, "--tokens", "words", "--bootstrap", "50", "--interval", "percentile",
                       "--json")
    intervals = json.loads(out)["intervals"]
    assert intervals["method"] == "percentile" and intervals["level"] == 0.95 and intervals["replicates"] == 50
    kl = next(i for i in intervals["intervals"] if i["quantity"] == "kl")
    assert kl["low_bits_per_token"] <= kl["estimate_bits_per_token"] <= kl["high_bits_per_token"]


def test_compare_resamples_documents_of_a_directory(capsys, corpora):
    _, b, folder, *_ = corpora
    code, out, _ = run(capsys, "compare", folder, b, "--tokens", "words", "--bootstrap", "50", "--json")
    intervals = json.loads(out)["intervals"]
    assert code == 0 and intervals["resampled_p"] == "documents" and intervals["units_p"] == 6
    assert intervals["resampled_q"] == "tokens"
    code, out, _ = run(capsys, "compare", folder, b, "--tokens", "words", "--bootstrap", "50", "--resample", "tokens",
                       "--json")
    assert json.loads(out)["intervals"]["resampled_p"] == "tokens"


def test_compare_keyness_in_every_format(capsys, corpora):
    a, b, _, counts_a, counts_b = corpora
    symbols, n, m = aligned(counts_a, counts_b)
    expected = keyness(n, m, symbols)
    code, out, _ = run(capsys, "compare", a, b, "--tokens", "words", "--keyness", "--json")
    data = json.loads(out)
    assert code == 0 and "top_a" in data and data["keyness"]["sort"] == "g2"
    first = data["keyness"]["top_a"][0]
    row = expected.top("A", 1)[0]
    assert first["symbol"] == row.symbol and first["g2"] == pytest.approx(row.g2)
    assert first["log_ratio"] == pytest.approx(row.log_ratio) and first["kl_bits_per_token"] > 0
    code, out, _ = run(capsys, "compare", a, b, "--tokens", "words", "--keyness")
    assert "keyness: tokens over-represented in A (by g2)" in out and "tokens over-represented in A (largest" not in out
    assert "G² is the 4-term log-likelihood" in out
    code, out, _ = run(capsys, "compare", a, b, "--tokens", "words", "--keyness", "--format", "csv")
    records = list(csv.DictReader(io.StringIO(out)))
    assert {r["symbol"] for r in records} == set(symbols) and "g2" in records[0] and "percent_diff" in records[0]
    code, out, _ = run(capsys, "compare", a, b, "--tokens", "words", "--keyness", "--format", "markdown")
    assert "**keyness: tokens over-represented in B (by g2)**" in out


def test_compare_keyness_sort_and_min_count(capsys, corpora):
    a, b, *_ = corpora
    code, out, _ = run(capsys, "compare", a, b, "--tokens", "words", "--keyness", "--sort", "log-ratio",
                       "--min-count", "100", "--json")
    k = json.loads(out)["keyness"]
    rows = k["top_a"] + k["top_b"]
    assert k["sort"] == "log-ratio" and k["min_count"] == 100
    assert all(r["count_a"] + r["count_b"] >= 100 for r in rows) and k["tested"] == len(rows)
    ratios = [abs(r["log_ratio"]) for r in k["top_a"]]
    assert ratios == sorted(ratios, reverse=True)


def test_measure_estimates_from_samples(capsys, tmp_path):
    p, q = tmp_path / "p.json", tmp_path / "q.json"
    p.write_text('{"a": 0.5, "b": 0.25, "c": 0.125, "d": 0.125}', encoding="utf-8")
    q.write_text('{"a": 0.25, "b": 0.25, "c": 0.25, "d": 0.25}', encoding="utf-8")
    code, out, _ = run(capsys, "measure", "--p", str(p), "--q", str(q), "--samples", "500", "--estimator",
                       "miller-madow", "--ci", "0.95", "--bootstrap", "100", "--json")
    data = json.loads(out)
    assert code == 0 and data["estimates"]["estimator"] == "miller-madow"
    names = {i["quantity"] for i in data["intervals"]["intervals"]}
    assert names == {"entropy", "cross_entropy", "kl", "code_fixed"}
    code_fixed = next(i for i in data["intervals"]["intervals"] if i["quantity"] == "code_fixed")
    assert code_fixed["estimate_bits_per_token"] == pytest.approx(data["p_code"]["measured_bits_per_token"])


def test_entropy_estimator_column(capsys, corpora):
    a, _, _, counts_a, _ = corpora
    n = np.array(list(counts_a.values()))
    code, out, _ = run(capsys, "entropy", a, "--tokens", "words", "--estimator", "chao-shen", "--no-compressors", "--json")
    row = json.loads(out)["estimates"][0]
    assert code == 0 and row["entropy_bits_per_token"] == pytest.approx(est.entropy_chao_shen(n))
    code, out, _ = run(capsys, "entropy", a, "--tokens", "words", "--bootstrap", "50", "--no-compressors")
    assert "H 95% CI (bca)" in out and "Huffman 95% CI (bca)" in out


def test_matrix_estimator(capsys, corpora):
    a, b, _, counts_a, counts_b = corpora
    _, n, m = aligned(counts_a, counts_b)
    code, out, _ = run(capsys, "matrix", a, b, "--tokens", "words", "--estimator", "miller-madow", "--json")
    pairs = json.loads(out)["estimates"]["pairs"]
    assert code == 0 and pairs[0]["kl_bits_per_token"] == pytest.approx(est.kl_miller_madow(n, m))


@pytest.mark.parametrize("args,message", [
    (["--ci", "1.5"], "Invalid value for --ci: must be between 0 and 1, e.g. 0.95 (got 1.5)"),
    (["--resample", "documents"], "--resample documents needs --ci LEVEL or --bootstrap N"),
    (["--sort", "kl"], "--sort and --min-count order and filter the keyness table: add --keyness"),
    (["--bootstrap", "5"], "Invalid value for '--bootstrap': 5 is not in the range x>=10."),
])
def test_usage_errors_exit_2(capsys, corpora, args, message):
    a, b, *_ = corpora
    code, out, err = run(capsys, "compare", a, b, *args)
    assert code == 2 and message in err and "Traceback" not in err


def test_data_errors_exit_1(capsys, corpora, tmp_path):
    a, b, *_ = corpora
    code, _, err = run(capsys, "compare", a, b, "--bootstrap", "20", "--resample", "documents")
    assert code == 1 and "resampling documents needs a corpus of several files; 'a' is a single file" in err
    p = tmp_path / "p.json"
    p.write_text('{"a": 0.5, "b": 0.5}', encoding="utf-8")
    code, _, err = run(capsys, "measure", "--p", str(p), "--q", str(p), "--estimator", "nsb")
    assert code == 1 and "estimators and intervals need a sample of p" in err and len(err.strip().splitlines()) == 1


def test_compare_intervals_of_the_measured_codes_center_on_the_measured_bits(capsys, corpora):
    a, b, *_ = corpora
    code, out, _ = run(capsys, "compare", a, b, "--tokens", "words", "--bootstrap", "30", "--json")
    data = json.loads(out)
    intervals = {i["quantity"]: i for i in data["intervals"]["intervals"]}
    ab, ba = data["a_coded_with_b"], data["b_coded_with_a"]
    assert code == 0
    assert intervals["code"]["estimate_bits_per_token"] == pytest.approx(ab["p_code"]["measured_bits_per_token"])
    assert intervals["code_cross"]["estimate_bits_per_token"] == pytest.approx(ab["q_code"]["measured_bits_per_token"])
    assert intervals["code_cross_reverse"]["estimate_bits_per_token"] == pytest.approx(
        ba["q_code"]["measured_bits_per_token"])
    assert intervals["code_excess"]["estimate_bits_per_token"] == pytest.approx(ab["measured_excess_bits_per_token"])
