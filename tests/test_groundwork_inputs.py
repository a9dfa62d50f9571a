"""Groundwork (issue 9): lazy heavy imports, extras that exist, and the bad inputs of the audit, each one line."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: Dependencies imported only where they are used: never by ``import klcode`` or ``klcode --help``.
HEAVY = ("numba", "matplotlib", "constriction", "zstandard", "pyppmd", "scipy", "dask", "torch", "transformers")


def _blocked(names) -> str:
    return "import sys\n" + "".join(f"sys.modules[{name!r}] = None\n" for name in names)


def test_import_klcode_and_help_load_no_heavy_dependency():
    code = _blocked(HEAVY) + (
        "import klcode\n"
        "from klcode.cli.main import cli\n"
        "try:\n"
        "    cli.main(['--help'], prog_name='klcode', standalone_mode=False)\n"
        "except SystemExit as exit:\n"
        "    assert not exit.code, exit.code\n"
        "for command in sorted(cli.commands):\n"
        "    cli.main([command, '--help'], prog_name='klcode', standalone_mode=False)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Usage: klcode" in result.stdout


def test_every_extra_named_in_messages_and_docs_exists():
    """A ``klcode[NAME]`` anywhere in the package, the README or docs/ names an extra of pyproject.toml."""
    extras = set(tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["optional-dependencies"])
    files = [*sorted((ROOT / "klcode").rglob("*.py")), ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
    named = {}
    for path in files:
        for name in re.findall(r"klcode\[([A-Za-z0-9_,-]+)\]", path.read_text(encoding="utf-8")):
            for extra in name.split(","):
                named.setdefault(extra, path.relative_to(ROOT).as_posix())
    unknown = {extra: where for extra, where in named.items() if extra not in extras}
    assert not unknown, f"extras named but not in pyproject.toml: {unknown}"


def test_no_message_says_a_dependency_is_missing():
    """constriction, matplotlib and zstandard are dependencies: no code path tells the user to install them."""
    pattern = re.compile(r"(constriction|matplotlib|zstandard)[^\n]{0,40}not installed")
    offenders = [path.relative_to(ROOT).as_posix() for path in sorted((ROOT / "klcode").rglob("*.py"))
                 if pattern.search(path.read_text(encoding="utf-8"))]
    assert not offenders


# --- bad inputs: one line, the right exit, never a traceback ---------------------------------------------------
import json  # noqa: E402
import math  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from klcode.cli import main  # noqa: E402
from klcode.errors import DistributionError  # noqa: E402
from klcode.info.measures import kl_divergence, kl_kernel  # noqa: E402
from klcode.models.distribution import MAX_SAMPLES, Distribution, distribution_from_json  # noqa: E402


def klcode(capsys, *args, cwd=None):
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def one_line_error(capsys, *args, code=1, contains=""):
    status, out, err = klcode(capsys, *args)
    assert status == code, (status, err)
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert contains in err, err
    return err


@pytest.fixture
def files(tmp_path):
    def write(name, text):
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path
    return write


def test_overflowing_inputs_are_one_line(capsys, files):
    q = files("q.json", '{"a": 0.5, "b": 0.5}')
    one_line_error(capsys, "measure", "--p", files("big.json", '{"a": 1e308, "b": 1e308}'), "--q", q,
                   contains="probabilities must sum to 1 (got inf)")
    one_line_error(capsys, "measure", "--p", files("huge.json", '{"a": %d, "b": 1}' % 10**400), "--q", q,
                   contains="counts must be below 2**63 (got 1.000e+400)")
    one_line_error(capsys, "measure", "--p", files("mixed.json", '{"a": %d, "b": 0.5}' % 10**400), "--q", q,
                   contains="too large for a float")


def test_sample_sizes_beyond_the_limit_are_refused_before_allocating(capsys, files):
    p = files("p.json", '{"a": 0.5, "b": 0.5}')
    one_line_error(capsys, "measure", "--p", p, "--q", p, "--samples", 10_000_000_000, contains=f"at most {MAX_SAMPLES:,}")
    one_line_error(capsys, "demo", "coin", "--n", 1_000_000_000, contains=f"at most {MAX_SAMPLES:,}")
    with pytest.raises(DistributionError, match="sample size must be at most"):
        Distribution.uniform(2).sample(MAX_SAMPLES + 1, np.random.default_rng(0))


def test_every_seed_option_refuses_a_negative_seed_as_a_usage_error(capsys, files):
    from klcode.cli.main import cli

    p = files("p.json", '{"a": 0.5, "b": 0.5}')
    args = {"measure": ["--p", p, "--q", p, "--samples", 10], "converge": ["--p", p, "--q", p], "demo": ["coin"],
            "report": [files("t.txt", "abc")]}
    with_seed = [name for name, command in cli.commands.items() if any(param.name == "seed" for param in command.params)]
    assert {"measure", "converge", "demo"} <= set(with_seed)
    for name in with_seed:
        one_line_error(capsys, name, *args.get(name, []), "--seed", -1, code=2, contains="--seed")


def test_utf16_without_a_bom_is_one_line(capsys, tmp_path):
    path = tmp_path / "nobom.txt"
    path.write_bytes(b"hello world")
    for command in ("entropy", "count"):
        one_line_error(capsys, command, path, "--tokens", "chars", "--encoding", "utf-16",
                       contains="does not start with BOM; use --encoding utf-16-le or utf-16-be")


def test_big_family_specs(capsys):
    one_line_error(capsys, "demo", "binomial", "--p", "binomial:1000000,0.5", contains="a demo takes at most 4,096 symbols")
    one_line_error(capsys, "demo", "cross-entropy", "--p", "binomial:5000,0.5", contains="a demo takes at most")
    big = Distribution.binomial(100_000, 0.5)  # log space: C(n, k) overflows a float
    assert math.isclose(big.probabilities[50_000], 1 / math.sqrt(math.pi * 50_000), rel_tol=1e-4)
    with pytest.raises(DistributionError, match="at most 16,777,216 symbols"):
        Distribution.uniform(10**8)


def test_converge_stops_on_a_one_symbol_support_and_bounds_the_alphabet(capsys):
    status, out, err = klcode(capsys, "converge", "--p", "uniform:1", "--q", "uniform:1", "--max-samples", 1000, "--json")
    assert status == 0, err
    assert json.loads(out)["block_sizes"][-1] == 16
    one_line_error(capsys, "converge", "--p", "uniform:100000", "--q", "uniform:3", contains="at most 65,536 symbols")


def test_subnormal_probabilities_give_a_finite_reverse_kl_and_the_huffman_bound_holds(capsys, files):
    p = files("p.json", '{"a": 1e-320, "b": 1}')
    q = files("q.json", '{"a": 0.5, "b": 0.5}')
    status, out, err = klcode(capsys, "measure", "--p", p, "--q", q, "--json")
    doc = json.loads(out)
    assert status == 0
    assert math.isclose(doc["kl_reverse_bits_per_token"], 0.5 * (math.log2(0.5) - math.log2(1e-320)) + 0.5 * math.log2(0.5),
                        rel_tol=1e-9)
    assert 530 < doc["kl_reverse_bits_per_token"] < 531
    status, out, err = klcode(capsys, "measure", "--p", p, "--q", q)
    assert "did not hold" not in out and "H(p) + 1: held" in out


def test_near_one_sums_are_renormalized_said_in_a_note_and_kl_is_never_negative(capsys, files):
    p = files("p.json", '{"a": 0.3333333333, "b": 0.3333333333, "c": 0.3333333333}')
    q = files("q.json", '{"a": 1, "b": 1, "c": 1}')
    status, out, err = klcode(capsys, "measure", "--p", p, "--q", q, "--json")
    doc = json.loads(out)
    assert doc["kl_bits_per_token"] >= 0 and doc["kl_reverse_bits_per_token"] >= 0 and doc["effective_kl_bits_per_token"] >= 0
    assert any("divided by their sum" in note for note in doc["input_notes"])
    status, out, err = klcode(capsys, "measure", "--p", p, "--q", q)
    assert "sum to 0.9999999999 (within 1e-09 of 1); they were divided by their sum" in out
    # the kernel: a negative sum of terms is rounding, never shown
    pa = np.array([0.3333333333] * 3)
    assert kl_kernel(pa, np.full(3, 1 / 3)) == 0.0
    assert kl_divergence(Distribution.from_probabilities(pa), Distribution.uniform(3)) >= 0.0


def test_one_rule_for_integer_and_float_models(capsys, files):
    assert distribution_from_json({"a": 0, "b": 1}).counts is None
    assert distribution_from_json({"a": 0.0, "b": 1.0}).counts is None
    assert distribution_from_json({"a": 3, "b": 1}).counts.tolist() == [3, 1]
    p = files("p.json", '{"a": 0.5, "b": 0.5}')
    errors = {one_line_error(capsys, "measure", "--p", p, "--q", files(name, text))
              for name, text in (("i.json", '{"a": 0, "b": 1}'), ("f.json", '{"a": 0.0, "b": 1.0}'))}
    assert len(errors) == 1 and "give --escape-probability" in errors.pop()


@pytest.mark.parametrize("command", ["entropy", "count", "compare", "measure"])
def test_o_naming_an_input_never_overwrites_it(capsys, files, command):
    a = files("a.txt", "to be or not to be\n")
    b = files("b.txt", "that is the question\n")
    pj = files("p.json", '{"a": 0.5, "b": 0.5}')
    args = {"entropy": [a, "-o", a], "count": [a, "-o", a], "compare": [a, b, "-o", b],
            "measure": ["--p", pj, "--q", pj, "-o", pj]}[command]
    before = {path: path.read_bytes() for path in (a, b, pj)}
    one_line_error(capsys, command, *args, contains="it is an input of this command")
    assert {path: path.read_bytes() for path in (a, b, pj)} == before


def test_count_refuses_to_write_a_counts_file_of_nothing(capsys, tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    target = tmp_path / "c.json"
    one_line_error(capsys, "count", empty, "-o", target, contains="held no bytes token")
    assert not target.exists()


def test_report_bench_must_be_a_benchmark_file(capsys, files):
    text = files("t.txt", "abc abd")
    one_line_error(capsys, "report", text, "--bench", files("x.json", '{"a": 1}'), "-o", text.with_suffix(".html"),
                   contains="is not a benchmark file of python -m benchmarks")
    assert not text.with_suffix(".html").exists()


def test_ans_names_the_symbols_below_its_precision_and_shows_h_p_q_tilde(capsys, files):
    from klcode.coders.ans import AnsCoder

    p = files("p.json", '{"x": 0.5, "y": 0.25, "z": 0.25}')
    q = files("q.json", '{"probabilities": {"x": 0.999999999998, "y": 1e-12, "z": 1e-12}}')
    status, out, err = klcode(capsys, "measure", "--p", p, "--q", q, "--coder", "ans", "--samples", 20000, "--json")
    assert status == 0, err
    ans = json.loads(out)["coders"]["ans"]
    coder = AnsCoder.from_probabilities([0.999999999998, 1e-12, 1e-12])
    q_tilde = coder.quantized_probabilities
    h_p_q_tilde = -(0.5 * math.log2(q_tilde[0]) + 0.25 * math.log2(q_tilde[1]) + 0.25 * math.log2(q_tilde[2]))
    assert math.isclose(ans["q_expected_bits_per_token"], h_p_q_tilde, rel_tol=1e-12)
    assert "below what the 24-bit model represents (y, z; p-mass 0.5)" in ans["description"]
    # a q the 24-bit model represents well gets no such note
    status, out, err = klcode(capsys, "measure", "--p", p, "--q", p, "--coder", "ans", "--json")
    assert "moves the cost" not in json.loads(out)["coders"]["ans"]["description"]


def test_one_name_per_thing_in_compare_notes(capsys):
    corpora = ROOT / "corpora" / "canterbury"
    status, out, err = klcode(capsys, "compare", corpora / "alice29.txt", corpora / "asyoulik.txt", "--coder", "ans,zlib")
    assert status == 0, err
    assert "B' = model of B's code" in out  # B′ is the model of B's code, everywhere
    assert "B₀ = B without b" in out and "B'+b" not in out and "B' the rest" not in out
    ans_note = next(line for line in out.splitlines() if line.strip().startswith("ans:"))
    assert not re.search(r"model q\b", ans_note) and "with q > 0" not in ans_note
