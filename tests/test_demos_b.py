"""The demos recoding, gaussians and cross-entropy: their numbers, their --explain lines, JSON, plots and errors."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from klcode.analysis.compare import shared_distributions
from klcode.analysis.measure import UnseenPolicy, effective_model
from klcode.coders import CoderSpec, HuffmanCode, build_coder
from klcode.demos import DEMOS, DemoOptions, crossentropy, gaussians, recoding  # noqa: F401  (each registers itself)
from klcode.errors import DataError, DistributionError, KlcodeError
from klcode.models.distribution import Distribution
from klcode.render.documents import demo_document, jsonable
from klcode.render.plots import save_panels
from klcode.text.inputs import load_corpus
from klcode.text.tokenize import TokenizerSpec

CORPORA = recoding.corpora_root()
UNITLESS = {"mu", "sigma", "mean", "variance", "sd", "sigma0", "from_x", "to_x", "step_x", "theta", "theta_step",
            "best_theta", "mle_theta", "p", "q_effective", "p_mass", "escape_probability"}


def run(name: str, **options) -> object:
    return DEMOS[name].run(DemoOptions(**options))


def raised(error_type: type, name: str, **options) -> Exception:
    """The error ``error_type`` that running demo ``name`` raises; its message is one line."""
    with pytest.raises(error_type) as error:
        run(name, **options)
    assert "\n" not in str(error.value)
    return error.value


def line(result, prefix: str) -> str:
    """The one explanation line starting with ``prefix``."""
    found = [text for text in result.explanation if text.startswith(prefix)]
    assert len(found) == 1, (prefix, result.explanation)
    return found[0]


def float_keys(data, path=""):
    """(key path, key) of every float value in nested dicts (lists of dicts included)."""
    if isinstance(data, dict):
        for key, value in data.items():
            if isinstance(value, float):
                yield f"{path}.{key}", key
            else:
                yield from float_keys(value, f"{path}.{key}")
    elif isinstance(data, list):
        for item in data:
            yield from float_keys(item, path)


@pytest.fixture(scope="module")
def recoded():
    return run("recoding")


@pytest.fixture(scope="module")
def gaussian():
    return run("gaussians")


@pytest.fixture(scope="module")
def cross():
    return run("cross-entropy")


# ------------------------------------------------------------------ all three
def test_registered_with_lesson_and_parameters():
    for name in ("recoding", "gaussians", "cross-entropy"):
        demo = DEMOS[name]
        assert demo.name == name and demo.lesson and demo.parameters
    assert "alice29" in DEMOS["recoding"].parameters and "not used" in DEMOS["recoding"].parameters
    assert "-2,2,0.6" in DEMOS["gaussians"].parameters
    assert "binomial:6,0.3" in DEMOS["cross-entropy"].parameters


@pytest.mark.parametrize("fixture", ["recoded", "gaussian", "cross"])
def test_json_ready_with_units_in_keys(fixture, request):
    result = request.getfixturevalue(fixture)
    text = json.dumps(jsonable(result.data), allow_nan=False)
    assert json.loads(text)
    for path, key in float_keys(result.data):
        assert "bits" in key or "bytes" in key or key in UNITLESS, path
    document = demo_document(result, explain=True)
    assert document.data["explanation"] == list(result.explanation)
    assert result.explanation[-1].startswith("Why: ")


@pytest.mark.parametrize("fixture", ["recoded", "gaussian", "cross"])
def test_panels_render_to_png(fixture, request, tmp_path):
    result = request.getfixturevalue(fixture)
    path = tmp_path / f"{result.name}.png"
    save_panels(result.panels, path, title=result.title)
    content = path.read_bytes()
    assert content.startswith(b"\x89PNG") and len(content) > 10_000


# ------------------------------------------------------------------ recoding
def _byte_ids(path, index):
    data = np.frombuffer(path.read_bytes(), dtype=np.uint8)
    lookup = np.full(256, -1)
    for symbol, i in index.items():
        lookup[symbol[0]] = i
    return lookup[data]


def test_recoding_saving_is_the_difference_of_actual_encoded_sizes(recoded):
    spec = TokenizerSpec("bytes")
    traffic = load_corpus([str(CORPORA / "canterbury/alice29.txt")], spec)
    training = load_corpus([str(CORPORA / "canterbury/lcet10.txt")], spec)
    p, q, index = shared_distributions(traffic, training)
    ids = _byte_ids(CORPORA / "canterbury/alice29.txt", index)
    sender = effective_model(p, q, UnseenPolicy("escape"), p.counts).code
    own = HuffmanCode.from_distribution(p)
    sender_bits, own_bits = len(sender.encode(ids)), len(own.encode(ids))
    huffman = recoded.data["huffman"]
    assert huffman["sender_total_bits"] == sender_bits and huffman["recoded_total_bits"] == own_bits
    assert huffman["sender_total_bytes"] == math.ceil(sender_bits / 8)
    assert huffman["saving_bytes"] == math.ceil(sender_bits / 8) - math.ceil(own_bits / 8) == 4_233
    assert huffman["saving_bits_per_token"] == pytest.approx((sender_bits - own_bits) / ids.size)
    assert huffman["roundtrip"] == recoded.data["ans"]["roundtrip"] == "verified"


def test_recoding_saving_per_byte_is_close_to_kl_to_the_escape_model(recoded):
    # q' by hand: one pseudo-count for the escape, ε = 1/(n_q + 1); the M byte values q lacks share ε
    p_counts = np.bincount(np.frombuffer((CORPORA / "canterbury/alice29.txt").read_bytes(), np.uint8), minlength=256)
    q_counts = np.bincount(np.frombuffer((CORPORA / "canterbury/lcet10.txt").read_bytes(), np.uint8), minlength=256)
    alphabet = (p_counts > 0) | (q_counts > 0)
    p, q = p_counts[alphabet] / p_counts.sum(), q_counts[alphabet] / q_counts.sum()
    epsilon, missing = 1 / (q_counts.sum() + 1), int(np.count_nonzero(q == 0))
    q_effective = np.where(q > 0, q * (1 - epsilon), epsilon / missing)
    used = p > 0
    kl = float(np.sum(p[used] * np.log2(p[used] / q_effective[used])))
    assert recoded.data["kl_effective_bits_per_token"] == pytest.approx(kl, abs=1e-9)
    assert recoded.data["kl_bits_per_token"] == math.inf
    assert abs(recoded.data["huffman"]["saving_bits_per_token"] - kl) < 0.05
    assert abs(recoded.data["ans"]["saving_bits_per_token"] - kl) < 0.005


def test_recoding_explain_lines_carry_the_numbers(recoded):
    h = recoded.data["huffman"]
    assert "alice29.txt, 152,089 bytes, 74 distinct byte values" in line(recoded, "1. ")
    assert "\\x1a, _, `" in line(recoded, "3. ") and "KL(p‖q) = ∞" in line(recoded, "3. ")
    assert f"{h['sender_total_bits']:,} bits = {h['sender_total_bytes']:,} bytes" in line(recoded, "5. ")
    assert f"{h['recoded_total_bits']:,} bits = {h['recoded_total_bytes']:,} bytes" in line(recoded, "6. ")
    seventh = line(recoded, "7. Saving: ")
    assert f"= {h['saving_bits_per_token']:.4f} bits/byte" in seventh
    assert f"KL(p‖q') = {recoded.data['kl_effective_bits_per_token']:.4f}" in seventh
    assert f"{h['sender_total_bytes']:,} − {h['recoded_total_bytes']:,} = {h['saving_bytes']:,} bytes" in seventh
    table = [text for text in recoded.explanation if text.startswith("   ")]
    assert table[1].split()[:3] == ["x", "p(x)", "q(x)"]  # after the table's title line
    assert any(text.split()[0] == "`" for text in table)
    assert any(text.strip().startswith("rest: ") for text in table)
    assert table[-1].split()[-1] == f"{recoded.data['kl_effective_bits_per_token']:.4f}"
    assert "not counted" in recoded.summary[-1] and "estimate" in recoded.summary[-1]


def test_recoding_other_texts_from_another_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run("recoding", p="corpora/canterbury/asyoulik.txt", q="canterbury/plrabn12.txt", n=10)
    assert result.data["traffic"]["label"] == "asyoulik" and result.data["training"]["label"] == "plrabn12"
    assert result.data["huffman"]["saving_bytes"] > 0
    assert any("--n is not used" in text for text in result.summary)


@pytest.mark.parametrize("options, message", [
    ({"p": "no/such/traffic.txt"}, "--p: no file 'no/such/traffic.txt'"),
    ({"q": "missing.txt"}, "--q: no file 'missing.txt'"),
])
def test_recoding_errors_are_one_line(options, message):
    assert str(raised(DataError, "recoding", **options)).startswith(message)


# ------------------------------------------------------------------ gaussians
def _grid_p(data):
    grid = data["grid"]
    x = grid["from_x"] + grid["step_x"] * np.arange(grid["points"])
    (m1, m2), s = data["mixture"]["means"], data["mixture"]["sd"]
    density = np.exp(-((x - m1) ** 2) / (2 * s * s)) + np.exp(-((x - m2) ** 2) / (2 * s * s))
    return x, density / density.sum()


def test_gaussians_forward_fit_is_the_moment_match(gaussian):
    x, p = _grid_p(gaussian.data)
    mean, variance = float(p @ x), float(p @ (x - p @ x) ** 2)
    forward = gaussian.data["fits"][0]
    assert forward["mu"] == pytest.approx(mean, abs=1e-6)
    assert forward["sigma"] ** 2 == pytest.approx(variance, abs=1e-6)
    assert variance == pytest.approx(0.6**2 + 2**2, abs=1e-6)  # the grid reaches far enough: no truncation
    check = gaussian.data["forward_check"]  # the numeric search lands on the closed form
    assert check["mu"] == pytest.approx(mean, abs=1e-6) and check["variance"] == pytest.approx(variance, abs=1e-6)


def test_gaussians_reverse_fits_lock_onto_opposite_modes(gaussian):
    forward, left, right = gaussian.data["fits"]
    assert left["mu"] == pytest.approx(-2, abs=0.01) and right["mu"] == pytest.approx(2, abs=0.01)
    for fit in (left, right):
        assert fit["sigma"] == pytest.approx(0.6, abs=0.01)
        assert fit["kl_qp_bits_per_token"] == pytest.approx(1.0, abs=0.01)  # log2(1/½) for the ignored mode
        assert fit["kl_qp_bits_per_token"] < forward["kl_qp_bits_per_token"]
        assert fit["kl_pq_bits_per_token"] > 10 * forward["kl_pq_bits_per_token"]


def test_gaussians_measured_bits_match_the_formulas(gaussian):
    forward, left, right = gaussian.data["fits"]
    assert forward["p_samples"]["ans_excess_bits_per_token"] == pytest.approx(forward["kl_pq_bits_per_token"], abs=0.02)
    for fit in (left, right):
        assert fit["q_samples"]["ans_excess_bits_per_token"] == pytest.approx(fit["kl_qp_bits_per_token"], abs=0.02)
        # the big forward KL of a reverse fit: ANS tracks its 24-bit model, below the formula
        samples = fit["p_samples"]
        assert samples["ans_excess_bits_per_token"] == pytest.approx(samples["ans_model_excess_bits_per_token"], abs=0.02)
        assert samples["ans_excess_bits_per_token"] < fit["kl_pq_bits_per_token"] - 3
        assert samples["roundtrip"] == "verified"


def test_gaussians_explain_lines_carry_the_numbers(gaussian):
    variance = gaussian.data["moments"]["variance"]
    forward, left, right = gaussian.data["fits"]
    assert "on 253 points x = -12.6, -12.5, ..., 12.6" in line(gaussian, "1. ")
    assert f"σ² = Var_p[x] = {variance:.6f}" in line(gaussian, "2. Forward: ")
    assert f"KL(p‖q) = {forward['kl_pq_bits_per_token']:.4f} bits" in line(gaussian, "4. ")
    fifth = line(gaussian, "5. Reverse from μ0 = -1")
    assert f"μ = {left['mu']:+.6f}" in fifth and f"KL(q‖p) = {left['kl_qp_bits_per_token']:.4f}" in fifth
    assert f"μ = {right['mu']:+.6f}" in line(gaussian, "6. Reverse from μ0 = +1")
    assert any(f"L_q − L_p = {forward['p_samples']['ans_excess_bits_per_token']:.4f}" in text
               for text in gaussian.explanation)
    assert any(text.strip().startswith("rest: 241 symbols") for text in gaussian.explanation)
    assert "from μ0 = -1 it ends at the mode at -2; from μ0 = +1 it ends at the mode at 2" in gaussian.summary[-1]


def test_gaussians_parameters_change_the_fits():
    result = run("gaussians", p="-3,3,0.8", q="0.5,-0.5", n=2000, seed=4)
    forward, first, second = result.data["fits"]
    reach = 6 * math.sqrt(0.8**2 + 3**2)  # six fitted σ a side, in at most 253 points
    assert result.data["grid"]["points"] == 253 and result.data["grid"]["to_x"] >= reach
    assert result.data["grid"]["step_x"] == pytest.approx(reach / 126)
    assert first["mu"] == pytest.approx(3, abs=0.02) and second["mu"] == pytest.approx(-3, abs=0.02)
    assert forward["sigma"] ** 2 == pytest.approx(0.64 + 9, abs=1e-5)
    assert result.data["fits"][0]["p_samples"]["samples"] == 2000


def test_gaussians_a_start_between_the_modes_stays_between():
    result = run("gaussians", q="0.2,-3", n=500)
    _, middle, left = result.data["fits"]
    assert middle["mu"] == pytest.approx(0, abs=1e-6) and middle["sigma"] > 1.5  # the broad local minimum
    assert left["mu"] == pytest.approx(-2, abs=0.01)
    assert "from μ0 = +0.2 it ends at the broad minimum between the modes" in result.summary[-1]
    assert "it ends at the mode at -2." in line(result, "6. Reverse from μ0 = -3")


@pytest.mark.parametrize("options, message", [
    ({"p": "a,b,c"}, "--p must be three numbers M1,M2,S"),
    ({"p": "-2,2"}, "--p must be three numbers M1,M2,S"),
    ({"p": "-2,2,0"}, "--p: the standard deviation S must be > 0 (got 0.0)"),
    ({"p": "-20,20,0.5"}, "--p: the means are 80 standard deviations apart; this demo allows at most 10"),
    ({"p": "-3,3,0.5"}, "--p: the means are 12 standard deviations apart"),
    ({"q": "1"}, "--q must be two numbers A,B"),
    ({"q": "nan,1"}, "--q must be two numbers A,B"),
])
def test_gaussians_errors_are_one_line(options, message):
    assert str(raised(DataError, "gaussians", **options)).startswith(message)


# ------------------------------------------------------------------ cross-entropy
def test_cross_entropy_best_theta_is_the_mle(cross):
    samples = Distribution.binomial(6, 0.3).sample(5000, np.random.default_rng(0))
    mle = samples.mean() / 6
    assert cross.data["mle_theta"] == pytest.approx(mle)
    assert abs(cross.data["best_theta"] - mle) <= cross.data["theta_step"]
    assert cross.data["best_ans_total_bits"] == min(row["ans_total_bits"] for row in cross.data["scan"])


def test_cross_entropy_measured_bits_are_actual_encodings(cross):
    samples = Distribution.binomial(6, 0.3).sample(5000, np.random.default_rng(0))
    row = next(row for row in cross.data["scan"] if row["theta"] == 0.5)
    coder = build_coder(CoderSpec("ans"), Distribution.binomial(6, 0.5).probabilities)
    assert coder.encode(samples).n_bits == row["ans_total_bits"]
    for row in cross.data["scan"]:
        if 0.1 <= row["theta"] <= 0.9:  # within ANS's stream overhead of the cross-entropy
            assert 0 < row["ans_bits_per_token"] - row["cross_entropy_bits_per_token"] < 96 / 5000


def test_cross_entropy_identities(cross):
    entropy = cross.data["entropy_bits_per_token"]
    for identity in cross.data["identities"]:
        assert identity["cross_entropy_bits_per_token"] == pytest.approx(entropy + identity["kl_bits_per_token"], abs=1e-12)
        assert identity["huffman_bits_per_token"] == pytest.approx(entropy + identity["kl_dyadic_bits_per_token"], abs=1e-9)
        excess = identity["ans_bits_per_token"] - cross.data["p_hat_ans_bits_per_token"]
        assert excess == pytest.approx(identity["kl_bits_per_token"], abs=0.02)


def test_cross_entropy_explain_lines_carry_the_numbers(cross):
    d = cross.data
    assert "Counts of 0..6: 0: 604, 1: 1511, 2: 1595, 3: 947, 4: 285, 5: 55, 6: 3" in line(cross, "1. ")
    assert f"{d['best_ans_total_bits']:,} bits at θ ∈ {{0.29, 0.30, 0.31}}" in line(cross, "4. ")
    assert f"θ̂ = {d['mle_theta']:.4f}: {d['mle_ans_total_bits']:,} bits" in line(cross, "4. ")
    fifth = line(cross, "5. Why that is the MLE")
    assert "θ̂ = Σx_i/(nN) = 8,975/30,000 = 0.2992" in fifth and "|θ* − θ̂| = 0.0008" in fifth
    q = d["identities"][1]
    eighth = line(cross, "8. The identity for q = binomial:6,0.5")
    assert f"= {entropy_text(d)} + {q['kl_bits_per_token']:.4f} = {q['cross_entropy_bits_per_token']:.4f}" in eighth
    assert f"L_q = {q['ans_total_bits']:,}/5,000 = {q['ans_bits_per_token']:.4f}" in eighth
    assert any(text.split()[:2] == ["6", "0.0006"] for text in cross.explanation)  # the per-symbol table


def entropy_text(data) -> str:
    return f"{data['entropy_bits_per_token']:.4f}"


def test_cross_entropy_parameters(tmp_path):
    result = run("cross-entropy", p="binomial:4,0.7", n=3000, seed=3, q="uniform:5")
    assert abs(result.data["best_theta"] - result.data["mle_theta"]) <= 0.01
    assert result.data["mle_theta"] == pytest.approx(0.7, abs=0.03)
    assert result.data["family"] == "Binomial(4, θ)" and result.data["model_q"] == "uniform:5"
    coin = run("cross-entropy", p="bernoulli:0.2", n=2000)
    assert abs(coin.data["best_theta"] - coin.data["mle_theta"]) <= 0.01
    path = tmp_path / "p.json"
    path.write_text(json.dumps({"0": 0.1, "1": 0.2, "3": 0.7}))
    custom = run("cross-entropy", p=str(path), n=1000)
    assert custom.data["counts"][2] == 0 and custom.data["family"] == "Binomial(3, θ)"


@pytest.mark.parametrize("options, error_type, message", [
    ({"p": "binomial:6"}, DistributionError, "bad distribution spec 'binomial:6'"),
    ({"p": "binomial:0,0.5"}, DataError, "--p needs at least two counts"),
    ({"p": "JSON:letters"}, DataError, "--p must be a distribution on the counts 0..N"),
    ({"q": "bernoulli:0.5"}, DataError, "bernoulli:0.5 (--q) gives probability 0 to a count the samples hold"),
    ({"q": "binomial:8,0.5"}, DataError, "--q must be a model on p's alphabet 0..6 (got symbols up to 8)"),
])
def test_cross_entropy_errors_are_one_line(options, error_type, message, tmp_path):
    if options.get("p") == "JSON:letters":
        path = tmp_path / "letters.json"
        path.write_text(json.dumps({"a": 0.5, "b": 0.5}))
        options = {"p": str(path)}
    error = raised(error_type, "cross-entropy", **options)
    assert isinstance(error, KlcodeError)
    assert message in str(error)
