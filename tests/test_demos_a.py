"""Demos coin, binomial, worms, infinite: golden numbers, the coin acceptance, --explain lines, JSON, plots, errors."""

from __future__ import annotations

import json
import math
import re

import numpy as np
import pytest
from scipy.stats import entropy as scipy_kl

from klcode.demos import DEMOS, DemoOptions, binomial, coin, infinite, worms
from klcode.errors import DataError, DistributionError, InputError, KlcodeError
from klcode.models.distribution import Distribution
from klcode.render.documents import demo_document, jsonable
from klcode.render.plots import save_panels

MODULES = {"coin": coin, "binomial": binomial, "worms": worms, "infinite": infinite}
LN2 = math.log(2)


@pytest.fixture(scope="module")
def default():
    """Each demo run once with its defaults (the runs the CLI makes without options)."""
    return {name: module.run(DemoOptions()) for name, module in MODULES.items()}


def has_line(lines, pattern: str) -> bool:
    return any(re.search(pattern, line) for line in lines)


def assert_has_lines(lines, *patterns: str) -> None:
    """Assert, pattern by pattern, that some line matches it."""
    for pattern in patterns:
        assert has_line(lines, pattern), pattern


# ------------------------------------------------------------------ registration
@pytest.mark.parametrize("name", MODULES)
def test_registered_with_documented_parameters(name):
    demo = DEMOS[name]
    assert demo.run is MODULES[name].run
    for flag in ("--p", "--q", "--n", "--seed", "default"):
        assert flag in demo.parameters


# ------------------------------------------------------------------ coin
def test_coin_acceptance_normalized_ratio_within_001_of_two_to_minus_kl(default):
    data = default["coin"].data
    assert data["flips"] == 100_000 and data["seed"] == 0
    assert data["limit_ratio_per_flip"] == pytest.approx(0.6, abs=1e-12)  # 2^−KL = √(0.9·0.1)/0.5 for p = ½
    assert abs(data["normalized_ratio_per_flip"] - data["limit_ratio_per_flip"]) < 0.01
    assert data["kl_bits_per_token"] == pytest.approx(0.5 * math.log2(0.5 / 0.9) + 0.5 * math.log2(0.5 / 0.1), abs=1e-12)
    assert data["kl_nats_per_token"] == pytest.approx(data["kl_bits_per_token"] * LN2)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_coin_acceptance_other_seeds(seed):
    data = coin.run(DemoOptions(seed=seed)).data
    assert abs(data["normalized_ratio_per_flip"] - 0.6) < 0.01


def test_coin_likelihoods_are_the_counts_times_the_logs(default):
    data = default["coin"].data
    heads, tails = data["heads"], data["flips"] - data["heads"]
    assert data["log2_likelihood_p_bits"] == pytest.approx(-data["flips"])  # a fair coin: one bit per flip
    assert data["log2_likelihood_q_bits"] == pytest.approx(heads * math.log2(0.9) + tails * math.log2(0.1))
    assert data["normalized_ratio_per_flip"] == pytest.approx(2 ** (data["log2_ratio_bits"] / data["flips"]))
    path = data["likelihood_path"]
    assert path[0]["flips"] == 1 and path[-1]["flips"] == 100_000
    assert [r["flips"] for r in path] == sorted({r["flips"] for r in path})


def test_coin_single_flip_huffman_is_blind_blocks_and_ans_are_not(default):
    data = default["coin"].data
    kl = data["kl_bits_per_token"]
    single = data["single_flip_huffman"]
    assert single["p_total_bits"] == single["q_total_bits"] == 100_000
    assert single["measured_excess_bits_per_token"] == 0.0 and single["expected_excess_bits_per_token"] == 0.0
    last = data["blocks"][-1]
    assert last["block_size_flips"] == 12
    assert abs(last["measured_excess_bits_per_token"] - kl) < 1 / 12
    assert data["blocks"][1]["measured_excess_bits_per_token"] > 0.1  # k = 2 already sees part of it
    # ANS spends −log2 q̃ per flip: its excess is the log-likelihood ratio per flip, up to 64 bits of state
    ans = data["ans"]["measured_excess_bits_per_token"]
    assert abs(ans - data["empirical_kl_bits_per_token"]) < 64 / data["flips"]
    assert abs(ans - kl) < 0.01


def test_coin_same_coins_give_kl_zero_and_ratio_one():
    data = coin.run(DemoOptions(q="0.5", n=10_000)).data
    assert data["kl_bits_per_token"] == 0.0
    assert data["normalized_ratio_per_flip"] == 1.0 and data["limit_ratio_per_flip"] == 1.0
    assert all(b["measured_excess_bits_per_token"] == 0.0 for b in data["blocks"])


def test_coin_accepts_bernoulli_specs_and_n():
    data = coin.run(DemoOptions(p="bernoulli:0.3", q="bernoulli:0.6", n=500, seed=7)).data
    assert (data["p_heads_probability"], data["q_heads_probability"], data["flips"]) == (0.3, 0.6, 500)
    assert data["kl_bits_per_token"] == pytest.approx(0.3 * math.log2(0.3 / 0.6) + 0.7 * math.log2(0.7 / 0.4))


def test_coin_explain_lines(default):
    result = default["coin"]
    lines, data = result.explanation, result.data
    assert_has_lines(
        lines,
        r"^1\. Flip the true coin .* 100,000 times with seed 0: 49,902 heads and 50,098 tails\.$",
        r"log2 P\(obs\|p\) = .* = -100,000\.0, i\.e\. P\(obs\|p\) = 2\^-100,000\.0 = 10\^-30,103\.0",
        re.escape(f"(P(obs|q)/P(obs|p))^(1/N) = 2^({data['log2_ratio_bits']:,.1f}/100,000) "
                   f"= {data['normalized_ratio_per_flip']:.4f}"),
        r"per-flip ratio to 2\^−KL = 0\.6000",
        r"^\s+T\s+0\.5000\s+0\.1000\s+1\.0000\s+3\.3219\s+1\s+1\s+1\.1610$",
        r"KL\(p‖q\) = 0\.7370 bits = 0\.5108 nats per flip",
        r"p's code spent 100,000 bits, q's code 100,000 bits .* excess 0\.0000 bits/flip although KL = 0\.7370",
        r"only complete prefix code on two symbols is \{0, 1\}",
        r"k=12: 0\.7647",
    )


def test_coin_summary_has_the_headline(default):
    summary = default["coin"].summary
    assert has_line(summary, r"KL\(p‖q\) = 0\.7370 bits = 0\.5108 nats per flip; 2\^−KL = 0\.6000")
    assert has_line(summary, r"\(P\(obs\|q\)/P\(obs\|p\)\)\^\(1/N\) = 0\.5987 against 2\^−KL = 0\.6000")


# ------------------------------------------------------------------ binomial
def test_binomial_golden_numbers(default):
    data = default["binomial"].data
    assert data["p_probabilities"] == pytest.approx([0.36, 0.48, 0.16], abs=1e-15)
    assert data["kl_pq_nats_per_token"] == pytest.approx(0.0852996013, abs=1e-9)
    assert data["kl_qp_nats_per_token"] == pytest.approx(0.0974550068, abs=1e-9)
    assert round(data["kl_pq_nats_per_token"], 4) == 0.0853 and round(data["kl_qp_nats_per_token"], 4) == 0.0975
    p, q = [0.36, 0.48, 0.16], [1 / 3] * 3
    assert data["kl_pq_nats_per_token"] == pytest.approx(scipy_kl(p, q), abs=1e-12)
    assert data["kl_qp_nats_per_token"] == pytest.approx(scipy_kl(q, p), abs=1e-12)
    assert data["kl_pq_bits_per_token"] == pytest.approx(scipy_kl(p, q, base=2), abs=1e-12)


def test_binomial_two_directions_measured(default):
    data = default["binomial"].data
    for key, kl_key in (("p_data_q_code", "kl_pq_bits_per_token"), ("q_data_p_code", "kl_qp_bits_per_token")):
        direction = data[key]
        ans = next(c for c in direction["coders"] if c["coder"] == "ans")
        assert abs(ans["measured_excess_bits_per_token"] - direction["sample_kl_bits_per_token"]) < 0.001
        assert abs(ans["measured_excess_bits_per_token"] - data[kl_key]) < 0.01
        assert direction["roundtrip"] == "verified"
    # the asymmetry shows in the measured bits, not only in the formula
    ans_pq = next(c for c in data["p_data_q_code"]["coders"] if c["coder"] == "ans")
    ans_qp = next(c for c in data["q_data_p_code"]["coders"] if c["coder"] == "ans")
    assert ans_qp["measured_excess_bits_per_token"] > ans_pq["measured_excess_bits_per_token"]
    # single-symbol Huffman: q's code has ties, L_q on p is anywhere in [1.52, 1.84]
    assert data["huffman_tie_band_bits_per_token"] == pytest.approx([1.52, 1.84])


def test_binomial_explain_lines(default):
    lines = default["binomial"].explanation
    assert_has_lines(
        lines,
        r"So KL\(p‖q\) = 0\.0853 nats = 0\.1231 bits\.$",
        r"So KL\(q‖p\) = 0\.0975 nats = 0\.1406 bits\.$",
        re.escape("0.36·ln(0.36/0.3333) + 0.48·ln(0.48/0.3333) + 0.16·ln(0.16/0.3333) "
                  "= 0.0277 + 0.1750 − 0.1174 = 0.0853 nats"),
        r"^\s+1\s+0\.4800\s+0\.3333\s+1\.0589\s+1\.5850\s+1\s+2\s+0\.2525$",
        r"^\s+2\s+0\.3333\s+0\.1600\s+1\.5850\s+2\.6439\s+1\s+2\s+0\.3530$",
        r"^\s+Σ q·\s+1\s+1\.6667\s+1\.6667\s+0\.1406$",
        r"anywhere in \[1\.5200, 1\.8400\] bits",
        r"^10\. Why asymmetric: .*0\.0853 against 0\.0975 nats\.$",
    )


def test_binomial_other_distributions():
    data = binomial.run(DemoOptions(p="binomial:3,0.5", q="uniform:4", n=1000)).data
    p = Distribution.binomial(3, 0.5).probabilities
    assert data["kl_pq_nats_per_token"] == pytest.approx(scipy_kl(p, [0.25] * 4), abs=1e-12)
    assert data["block_size_tokens"] == 6  # 4^6 = 4,096 block symbols


def test_binomial_from_json_file(tmp_path):
    path = tmp_path / "q.json"
    path.write_text(json.dumps({"0": 1, "1": 1, "2": 2}))  # integer values: counts, keys are strings
    result = binomial.run(DemoOptions(p=str(path), q=str(path), n=100))
    assert result.data["kl_pq_bits_per_token"] == 0.0


# ------------------------------------------------------------------ worms
WORMS_KL_UNIFORM_NATS = 0.13667971094966938
WORMS_KL_BINOMIAL_NATS = 0.4273497248561932


def test_worms_golden_numbers(default):
    data = default["worms"].data
    assert data["mean_teeth"] == pytest.approx(5.44, abs=1e-12)
    assert data["theta_moment_matched"] == pytest.approx(0.544, abs=1e-12)
    assert data["uniform"]["kl_nats_per_token"] == pytest.approx(WORMS_KL_UNIFORM_NATS, abs=1e-6)
    assert data["uniform"]["kl_bits_per_token"] == pytest.approx(0.197187141177225, abs=1e-6)
    assert data["binomial"]["kl_nats_per_token"] == pytest.approx(WORMS_KL_BINOMIAL_NATS, abs=1e-6)
    assert data["binomial"]["kl_bits_per_token"] == pytest.approx(0.6165353287752929, abs=1e-6)
    # independently: scipy on the blog's table
    p = np.array(worms.TEETH_PROBABILITIES)
    binom = Distribution.binomial(10, 0.544).probabilities
    assert scipy_kl(p, np.full(11, 1 / 11)) == pytest.approx(WORMS_KL_UNIFORM_NATS, abs=1e-12)
    assert scipy_kl(p, binom) == pytest.approx(WORMS_KL_BINOMIAL_NATS, abs=1e-12)
    assert data["fewer_bits"] == "uniform"


def test_worms_measured_codes_and_theta_curve(default):
    data = default["worms"].data
    for key in ("uniform", "binomial"):
        record = data[key]
        assert abs(record["ans_measured_excess_bits_per_token"] - record["sample_kl_bits_per_token"]) < 0.001
        assert abs(record["ans_measured_excess_bits_per_token"] - record["kl_bits_per_token"]) < 0.02
    assert data["uniform"]["huffman_measured_excess_bits_per_token"] < data["binomial"]["huffman_measured_excess_bits_per_token"]
    assert data["theta_minimizer_grid"] == 0.544
    curve = data["theta_curve"]
    thetas = [c["theta"] for c in curve]
    assert thetas[0] == 0.3 and thetas[-1] == 0.8 and 0.544 in thetas
    best = min(curve, key=lambda c: c["kl_bits_per_token"])
    assert best["theta"] == 0.544
    assert best["kl_bits_per_token"] == pytest.approx(data["kl_min_binomial_bits_per_token"])
    assert min(c["ans_measured_excess_bits_per_token"] for c in curve) > data["uniform"]["kl_bits_per_token"]


def test_worms_explain_lines(default):
    lines = default["worms"].explanation
    assert_has_lines(
        lines,
        r"Σ k·p\(k\) = 5\.44\. .* θ = 5\.44/10 = 0\.544",
        r"KL\(p‖uniform\) = .* = 0\.1972 bits = 0\.1367 nats per worm",
        r"KL\(p‖binomial\) = .* = 0\.6165 bits = 0\.4273 nats per worm",
        r"^\s+10\s+0\.0700\s+0\.0023\s+3\.8365\s+8\.7832\s+4\s+8\s+0\.3463$",
        r"Verdict: the uniform wastes fewer bits, by formula \(0\.1972 < 0\.6165 bits per worm\)",
        r"minimum on a 0\.001 grid is at θ = 0\.544, exactly the moment-matched mean/10 = 0\.544",
        r"≈ 0\.338 nats .* ≈ 0\.477 nats .* KL\(p‖uniform\) = 0\.1367 nats",
    )
    assert lines[-1].split(". ", 1)[1].startswith("Why: KL(p‖q) is the expected number of extra bits")


def test_worms_parameters():
    moved = worms.run(DemoOptions(q="0.6", n=1000)).data
    assert moved["binomial"]["model"] == "Binomial(10, 0.6)"
    assert moved["binomial"]["kl_bits_per_token"] == pytest.approx(
        scipy_kl(worms.TEETH_PROBABILITIES, Distribution.binomial(10, 0.6).probabilities, base=2), abs=1e-12)
    narrow = worms.run(DemoOptions(p="binomial:10,0.3", n=1000)).data
    assert narrow["theta_moment_matched"] == pytest.approx(0.3) and narrow["fewer_bits"] == "binomial"
    assert narrow["binomial"]["kl_bits_per_token"] == pytest.approx(0.0, abs=1e-12)


def test_worms_json_file_with_counts(tmp_path):
    path = tmp_path / "teeth.json"
    path.write_text(json.dumps({"0": 1, "1": 3, "3": 2}))  # teeth 2 unobserved: p(2) = 0
    data = worms.run(DemoOptions(p=str(path), n=500)).data
    assert data["teeth"] == [0, 1, 2, 3]
    assert data["p_probabilities"] == pytest.approx([1 / 6, 3 / 6, 0.0, 2 / 6])
    assert data["mean_teeth"] == pytest.approx((3 + 6) / 6)


# ------------------------------------------------------------------ infinite
def test_infinite_kl_is_infinite_and_no_codeword(default):
    data = default["infinite"].data
    assert data["kl_bits_per_token"] == math.inf
    assert data["unseen"] == {"symbols": ["c"], "types": 1, "p_mass": 0.2, "stream_tokens": data["unseen"]["stream_tokens"]}
    assert 19_000 < data["unseen"]["stream_tokens"] < 21_000
    assert "no codeword" in data["q_huffman_encode_error"]
    assert "probability 0" in data["q_ans_encode_error"]
    assert "KL(p||q) is infinite" in data["error_policy_message"]


def test_infinite_policies_measured(default):
    data = default["infinite"].data
    escape = {r["escape_probability"]: r for r in data["escape"]}
    assert data["escape_best_probability"] == 0.2
    best = escape[0.2]
    # q' = (0.48, 0.32, 0.2) against p = (0.5, 0.3, 0.2)
    assert best["effective_kl_bits_per_token"] == pytest.approx(
        0.5 * math.log2(0.5 / 0.48) + 0.3 * math.log2(0.3 / 0.32), abs=1e-12)
    for r in data["escape"] + data["add_k"]:
        assert r["roundtrip"] == "verified"
        assert abs(r["ans_measured_excess_bits_per_token"] - r["effective_kl_bits_per_token"]) < 0.02
    # the smaller ε, the more each unseen token costs: bits grow without bound as ε → 0
    assert escape[0.001]["ans_measured_excess_bits_per_token"] > escape[0.01]["ans_measured_excess_bits_per_token"] > 0.5
    assert data["escape_pseudo_count"]["escape_probability"] == pytest.approx(1 / 11)
    add_k = {r["alpha"]: r for r in data["add_k"]}
    assert add_k[1.0]["smoothed_q_probabilities"] == pytest.approx([7 / 13, 5 / 13, 1 / 13])
    assert data["add_k_best_alpha"] == 5.0


def test_infinite_explain_lines(default):
    lines = default["infinite"].explanation
    assert_has_lines(
        lines,
        r"c: 0\.2·log2\(0\.2/0\) = ∞\. One infinite term is enough: KL\(p‖q\) = ∞ "
        r"\(unseen by q: c, p-mass 0\.2\)",
        r"^\s+c\s+0\.2000\s+0\.0000\s+2\.3219\s+∞\s+2\s+—\s+∞$",
        r"lengths a: 1, b: 1, c: —\)\. Encoding the 100,000 sampled tokens .* fails",
        r"The best ε is the unseen p-mass, 0\.2: .* There KL\(p‖q'\) = 0\.0015 bits",
        r"α = 1: q' = \(0\.538, 0\.385, 0\.077\), KL\(p‖q'\) = 0\.1147",
        r"Why ∞: .* a single observation of c refutes q for good",
    )


def test_infinite_without_counts_skips_add_k(tmp_path):
    path = tmp_path / "q.json"
    path.write_text(json.dumps({"a": 0.6, "b": 0.4, "c": 0.0}))
    result = infinite.run(DemoOptions(q=str(path), n=1000))
    assert result.data["add_k"] == [] and result.data["escape_pseudo_count"] is None
    assert has_line(result.summary, r"add-k: not measured, q was given as probabilities")
    assert len(result.panels) == 1


def test_infinite_with_q_covering_p_is_finite():
    result = infinite.run(DemoOptions(q="uniform:3", p="binomial:2,0.4", n=1000))
    assert result.data["kl_bits_per_token"] == pytest.approx(scipy_kl([0.36, 0.48, 0.16], [1 / 3] * 3, base=2))
    assert has_line(result.summary, r"is finite, and the policies change nothing")


# ------------------------------------------------------------------ every demo: JSON, plots, rendering
UNIT_WORDS = ("bits", "nats", "probabilit", "ratio", "theta", "mass", "teeth", "alpha")


def float_keys_without_unit(value, path=""):
    """Keys of float leaves whose name says no unit (lists of floats count as leaves)."""
    missing = []
    if isinstance(value, dict):
        for key, item in value.items():
            leaf = isinstance(item, float) or (isinstance(item, list) and item and all(isinstance(x, float) for x in item))
            if leaf and not any(word in key for word in UNIT_WORDS):
                missing.append(f"{path}/{key}")
            missing += float_keys_without_unit(item, f"{path}/{key}")
    elif isinstance(value, list):
        for item in value:
            missing += float_keys_without_unit(item, path + "[]")
    return missing


@pytest.mark.parametrize("name", MODULES)
def test_json_data_has_units_and_serializes(default, name):
    result = default[name]
    assert float_keys_without_unit(result.data) == []
    document = demo_document(result, explain=True)
    text = json.dumps(jsonable(document.data), allow_nan=False)
    assert json.loads(text)["demo"] == name
    assert document.data["explanation"] == list(result.explanation)


@pytest.mark.parametrize("name,keys", [
    ("coin", ("kl_bits_per_token", "kl_nats_per_token", "normalized_ratio_per_flip", "limit_ratio_per_flip",
              "log2_likelihood_p_bits", "log2_likelihood_q_bits", "empirical_kl_bits_per_token")),
    ("binomial", ("kl_pq_bits_per_token", "kl_pq_nats_per_token", "kl_qp_bits_per_token", "kl_qp_nats_per_token")),
    ("worms", ("mean_teeth", "theta_moment_matched", "theta_minimizer_grid", "kl_min_binomial_nats_per_token")),
    ("infinite", ("kl_bits_per_token", "kl_nats_per_token", "escape_best_probability", "add_k_best_alpha")),
])
def test_json_headline_keys(default, name, keys):
    for key in keys:
        assert key in default[name].data


@pytest.mark.parametrize("name", MODULES)
def test_every_demo_has_summary_tables_and_a_symbol_table_in_the_explanation(default, name):
    result = default[name]
    assert result.name == name and result.summary and result.tables
    assert all(len(row) == len(table.header) for table in result.tables for row in table.rows)
    assert has_line(result.explanation, r"−log2 p\s+−log2 q")  # the symbol table's header, as text lines
    assert has_line(result.explanation, r"^1\. ")


@pytest.mark.parametrize("name", MODULES)
def test_plot_writes_a_non_empty_png(default, name, tmp_path):
    result = default[name]
    assert 1 <= len(result.panels) <= 3
    path = tmp_path / f"{name}.png"
    save_panels(result.panels, path, title=f"klcode demo {name}: {result.title}")
    content = path.read_bytes()
    assert content.startswith(b"\x89PNG\r\n\x1a\n") and len(content) > 10_000


# ------------------------------------------------------------------ bad parameters: one-line errors
@pytest.mark.parametrize("name,options,error,message", [
    ("coin", DemoOptions(q="heads"), DataError, "--q must be a coin bias in [0, 1] or bernoulli:X (got 'heads')"),
    ("coin", DemoOptions(p="1.5"), DataError, "--p must be a coin bias in [0, 1] or bernoulli:X (got '1.5')"),
    ("coin", DemoOptions(p="0.3", q="1"), DataError, "--q 1 gives probability 0 to tails, which the true coin "
     "(--p 0.3) produces: KL(p‖q) = ∞ and no code of q has a codeword for it (see: klcode demo infinite)"),
    ("binomial", DemoOptions(q="binomial:2"), DistributionError, "--q: bad distribution spec 'binomial:2' (expected binomial:N,P)"),
    ("binomial", DemoOptions(q="missing.json"), InputError, "--q: cannot read 'missing.json': no such file"),
    ("binomial", DemoOptions(q="uniform:2"), DataError, "KL(p‖q) is infinite: q gives probability 0 to 2 (mass 0.16); "
     "this demo compares two finite directions (see: klcode demo infinite)"),
    ("worms", DemoOptions(q="1.5"), DataError, "--q: a binomial θ must be in (0, 1) (got '1.5')"),
    ("worms", DemoOptions(p="uniform:1"), DataError, "--p: worms needs at least two numbers of teeth, 0..N with N >= 1 (got N = 0)"),
    ("worms", DemoOptions(q="binomial:9,0.5"), DataError, "--q: the model gives probability 0 to 1 number(s) of teeth the "
     "worms have (p-mass 0.07): KL = ∞ (see: klcode demo infinite)"),
    ("infinite", DemoOptions(p="uniform:0"), DistributionError, "--p: a uniform distribution needs n >= 1 symbols (got 0)"),
])
def test_bad_parameters_give_one_line_errors(name, options, error, message):
    with pytest.raises(error) as caught:
        MODULES[name].run(options)
    assert str(caught.value) == message
    assert "\n" not in str(caught.value) and isinstance(caught.value, KlcodeError)


def test_worms_refuses_symbols_that_are_not_teeth(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"x": 1, "y": 3}))
    with pytest.raises(DataError, match=r"^--p: worms needs symbols that are numbers of teeth 0, 1, 2, \.\.\. \(got 'x'\)$"):
        worms.run(DemoOptions(p=str(path)))


def test_n_below_one_is_refused_by_the_options():
    with pytest.raises(DataError, match=r"^--n must be >= 1 \(got 0\)$"):
        DemoOptions(n=0)
