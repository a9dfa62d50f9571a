"""Codes beyond Huffman from the command line: --coder, --block, --max-length, converge, zipping."""

import json
import math
from pathlib import Path

import pytest

from klcode import DataError, DistributionError
from klcode.cli import main
from klcode.coders.registry import CODER_NAMES, CoderSpec, parse_coders
from klcode.models.distribution import parse_distribution

ROOT = Path(__file__).resolve().parent.parent
CORPORA = ROOT / "corpora"


def run(capsys, *args):
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def pq(tmp_path):
    p = tmp_path / "p.json"
    q = tmp_path / "q.json"
    p.write_text('{"a": 0.5, "b": 0.25, "c": 0.125, "d": 0.125}')
    q.write_text('{"a": 0.1, "b": 0.2, "c": 0.3, "d": 0.4}')
    return p, q


def test_coder_specs():
    specs = parse_coders("huffman, ans,huffman,zlib", block=3, max_length_bits=5)
    assert [s.label for s in specs] == ["huffman[block=3,max-length=5]", "ans", "zlib"]
    assert [s.order0 for s in specs] == [True, True, False]
    assert CoderSpec("shannon", max_length_bits=4).label == "shannon"  # --max-length is Huffman's
    with pytest.raises(DataError, match=r"unknown coder 'gzip' \(choose from huffman, shannon, ans, zlib, bz2, lzma, zstd\)"):
        parse_coders("gzip")
    assert CODER_NAMES == ("huffman", "shannon", "ans", "zlib", "bz2", "lzma", "zstd")


def test_family_specs():
    assert parse_distribution("bernoulli:0.9").probabilities.tolist() == pytest.approx([0.1, 0.9])
    assert parse_distribution("uniform:3").size == 3
    with pytest.raises(DistributionError, match=r"bad distribution spec 'uniform:x' \(expected uniform:N\)"):
        parse_distribution("uniform:x")
    with pytest.raises(DistributionError, match=r"bernoulli p must be in \[0, 1\] \(got 1.5\)"):
        parse_distribution("bernoulli:1.5")


def test_measure_with_every_order0_coder(capsys, pq):
    p, q = pq
    code, out, err = run(capsys, "measure", "--p", p, "--q", q, "--samples", "100000", "--json",
                         "--coder", "huffman,shannon,ans,zlib")
    assert code == 0 and err == ""
    doc = json.loads(out)
    coders = doc["coders"]
    assert list(coders) == ["huffman", "shannon", "ans", "zlib"]
    kl = doc["kl_bits_per_token"]
    assert abs(coders["ans"]["measured_excess_bits_per_token"] - kl) < 0.01  # ANS is near exact
    assert coders["huffman"]["q_total_bits"] == doc["q_code"]["total_bits"]
    assert coders["shannon"]["q_expected_bits_per_token"] == 3.25  # ⌈−log2 q⌉ = (4, 3, 2, 2)
    assert coders["zlib"]["order0"] is False and coders["zlib"]["q_total_bits"] is None
    assert all(c["roundtrip"] == "verified" for c in coders.values())


def test_block_and_max_length_modify_the_prefix_codes(capsys, pq):
    p, q = pq
    code, out, _ = run(capsys, "measure", "--p", p, "--q", q, "--coder", "huffman,shannon,ans", "--block", "3", "--json")
    coders = json.loads(out)["coders"]
    assert list(coders) == ["huffman[block=3]", "shannon[block=3]", "ans"]
    assert coders["huffman[block=3]"]["q_expected_bits_per_token"] == pytest.approx(2.614583, abs=1e-6)
    code, out, _ = run(capsys, "measure", "--p", p, "--q", q, "--max-length", "2", "--coder", "huffman", "--json")
    coders = json.loads(out)["coders"]
    assert coders["huffman[max-length=2]"]["q_expected_bits_per_token"] == 2.0  # four symbols, two bits each
    code, out, err = run(capsys, "measure", "--p", p, "--q", q, "--max-length", "1", "--coder", "huffman")
    assert code == 1 and err == "klcode: error: no prefix code gives 4 symbols codewords of at most 1 bits (needs --max-length >= 2)\n"


def test_block_refusal_is_one_line(capsys, tmp_path):
    big = tmp_path / "big.json"
    big.write_text(json.dumps({f"s{i}": 1 for i in range(200)}))
    code, out, err = run(capsys, "measure", "--p", big, "--q", big, "--coder", "huffman", "--block", "3")
    assert code == 1 and out == ""
    assert err == ("klcode: error: a block code of k=3 over 200 symbols needs 8,000,000 block symbols "
                   "(limit 1,048,576); use a smaller --block\n")


def test_entropy_with_coders(capsys):
    code, out, err = run(capsys, "entropy", CORPORA / "canterbury" / "alice29.txt", "--coder", "huffman,ans,zlib",
                         "--no-compressors", "--json")
    assert code == 0 and err == ""
    (row,) = json.loads(out)["files"]
    assert row["entropy_bits_per_token"] <= row["ans_bits_per_token"] < row["entropy_bits_per_token"] + 0.001
    # zlib compresses the stream of token ids: context makes it beat any order-0 code
    assert 2 < row["zlib_bits_per_token"] < row["entropy_bits_per_token"]


def test_compare_zipping(capsys):
    kjv, web, french = (CORPORA / "genesis" / name for name in ("english-kjv.txt", "english-web.txt", "french.txt"))
    code, out, _ = run(capsys, "compare", kjv, french, "--coder", "huffman,zlib", "--json")
    to_french = json.loads(out)["zipping"][0]
    code, out, _ = run(capsys, "compare", kjv, web, "--coder", "huffman,zlib", "--json")
    to_english = json.loads(out)["zipping"][0]
    assert to_french["compressor"] == "zlib"
    b_after_a = "piece_of_b_after_a"
    assert to_english[b_after_a]["relative_entropy_bits_per_byte"] < to_french[b_after_a]["relative_entropy_bits_per_byte"]


def test_converge_coin(capsys, tmp_path):
    plot = tmp_path / "coin.svg"
    code, out, err = run(capsys, "converge", "--p", "bernoulli:0.5", "--q", "bernoulli:0.9", "--max-samples", "100000",
                         "--points", "5", "--max-block", "8", "--json", "--plot", plot)
    assert code == 0 and err == ""
    doc = json.loads(out)
    kl = doc["kl_bits_per_token"]
    assert kl == pytest.approx(0.5 * math.log2(0.5 / 0.1) + 0.5 * math.log2(0.5 / 0.9))
    assert doc["sample_sizes"] == [10, 100, 1000, 10000, 100000]
    last = {pt["coder"]: pt for pt in doc["by_samples"] if pt["samples"] == 100000}
    # one flip per codeword: any 2-symbol Huffman code spends exactly 1 bit, blind to the divergence
    assert last["huffman"]["measured_excess_bits_per_token"] == 0.0
    assert abs(last["ans"]["measured_excess_bits_per_token"] - kl) < 0.01
    blocks = [pt["expected_excess_bits_per_token"] for pt in doc["by_block"]]
    assert len(blocks) == 8 and abs(blocks[-1] - kl) < 1 / 8
    ratio = doc["likelihood"][-1]
    assert abs(ratio["normalized_ratio"] - 2 ** -kl) < 0.01
    assert plot.read_text().startswith("<?xml")


def test_converge_refuses_contextual_coders(capsys):
    code, _, err = run(capsys, "converge", "--p", "uniform:2", "--q", "uniform:2", "--coder", "zlib")
    assert code == 1 and err.startswith("klcode: error: converge compares order-0 codes of p and q; zlib is contextual")
