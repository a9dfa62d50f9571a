"""The command line: output, JSON, help everywhere, and one-line errors with exit codes."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from klcode.cli import cli, main

ROOT = Path(__file__).resolve().parent.parent
CORPORA = ROOT / "corpora"


@pytest.fixture
def files(tmp_path):
    def write(name, text):
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return str(path)

    return write


def run(capsys, *args):
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_every_command_has_help(capsys):
    names = [[]] + [[name] for name in cli.commands]
    assert len(names) >= 3
    for name in names:
        code, out, err = run(capsys, *name, "--help")
        assert code == 0 and err == ""
        assert out.startswith("Usage: klcode")
        assert "--help" in out


def test_measure_table(capsys, files):
    p = files("p.json", '{"a": 0.5, "b": 0.25, "c": 0.125, "d": 0.125}')
    q = files("q.json", '{"a": 1, "b": 1, "c": 1, "d": 1}')
    code, out, err = run(capsys, "measure", "--p", p, "--q", q, "--codes")
    assert code == 0 and err == ""
    assert "H(p) entropy  ·  L_p" in out and "1.750000" in out
    assert "KL(p‖q)  ·  L_q − L_p" in out and "0.250000" in out
    assert "Huffman bound H(p) ≤ L_p < H(p) + 1: held" in out
    assert "no stream: code columns are exact expected lengths" in out
    assert "│ d      │   3 │           111 │   2 │            11 │" in out


def test_measure_json_with_samples(capsys, files):
    p = files("p.json", '{"H": 0.9, "T": 0.1}')
    q = files("q.json", '{"H": 0.5, "T": 0.5}')
    code, out, err = run(capsys, "measure", "--p", p, "--q", q, "--samples", "1000", "--seed", "3", "--json")
    assert code == 0 and err == ""
    doc = json.loads(out)
    assert doc["stream"] == "samples" and doc["tokens"] == 1000 and doc["seed"] == 3
    # a 2-symbol Huffman code spends 1 bit per flip for any coin: it cannot see the divergence
    assert doc["p_code"]["total_bits"] == doc["q_code"]["total_bits"] == 1000
    assert doc["measured_excess_bits_per_token"] == 0.0
    assert doc["kl_bits_per_token"] == pytest.approx(0.531004, abs=1e-6)
    assert doc["p_code"]["roundtrip"] == "verified" and doc["unit"] == "bits"


def test_measure_nats_and_infinity_in_json(capsys, files):
    p = files("p.json", '{"a": 0.5, "b": 0.5}')
    q = files("q.json", '{"a": 0.75, "c": 0.25}')
    code, out, _ = run(capsys, "measure", "--p", p, "--q", q, "--unit", "nats", "--json", "--escape-probability", "0.01")
    assert code == 0
    doc = json.loads(out)
    assert doc["kl_nats_per_token"] == "inf" and doc["unit"] == "nats"
    assert doc["unseen"]["symbols"] == ["b"] and doc["unseen"]["p_mass"] == 0.5
    assert isinstance(doc["effective_kl_nats_per_token"], float)


def test_compare_corpora_bytes_and_chars(capsys):
    a, b = str(CORPORA / "genesis" / "french.txt"), str(CORPORA / "genesis" / "english-kjv.txt")
    code, out, err = run(capsys, "compare", a, b, "--json")
    assert code == 0 and err == ""
    doc = json.loads(out)
    assert doc["a_tokens"] == (CORPORA / "genesis" / "french.txt").stat().st_size
    assert doc["a_coded_with_b"]["unseen"]["types"] > 0
    assert doc["a_coded_with_b"]["q_code"]["roundtrip"] == "verified"
    code, out, err = run(capsys, "compare", a, b, "--tokens", "chars", "--encoding", "latin-1")
    assert code == 0 and "unseen:" in out and "é" in out


@pytest.mark.parametrize(
    "args, message",
    [
        (["measure", "--p", "{missing}", "--q", "{p}"], "klcode: error: cannot read '{missing}': no such file"),
        (["measure", "--p", "{bad}", "--q", "{p}"],
         "klcode: error: '{bad}' is not valid JSON (Expecting property name enclosed in double quotes at line 1, column 12)"),
        (["measure", "--p", "{negative}", "--q", "{p}"],
         "klcode: error: '{negative}': probabilities must not be negative (got -0.5 for 'a')"),
        (["measure", "--p", "{nan}", "--q", "{p}"], "klcode: error: '{nan}': probabilities must be finite (got nan)"),
        (["measure", "--p", "{short}", "--q", "{p}"], "klcode: error: '{short}': probabilities must sum to 1 (got 0.97)"),
        (["measure", "--p", "{text}", "--q", "{p}"],
         "klcode: error: '{text}': the value of 'a' must be a number (got 'x')"),
        (["compare", "{empty}", "{p}"], "klcode: error: no bytes tokens in '{empty}': nothing to measure"),
        (["compare", "{latin}", "{p}", "--tokens", "chars"],
         "klcode: error: cannot decode '{latin}' as utf-8 at byte offset 3 (byte 0xe9); "
         "use --encoding ENCODING (e.g. latin-1) or --errors replace"),
        (["compare", "{missing}", "{p}"], "klcode: error: cannot read '{missing}': no such file"),
        (["measure", "--p", "{p}", "--q", "{p}", "--unseen", "error"], None),
    ],
)
def test_errors_are_one_line_with_exit_1(capsys, tmp_path, args, message):
    paths = {
        "missing": tmp_path / "missing.json",
        "bad": tmp_path / "bad.json",
        "negative": tmp_path / "negative.json",
        "nan": tmp_path / "nan.json",
        "short": tmp_path / "short.json",
        "text": tmp_path / "text.json",
        "empty": tmp_path / "empty.txt",
        "latin": tmp_path / "latin.txt",
        "p": tmp_path / "p.json",
        "dir": tmp_path,
    }
    paths["bad"].write_text('{"a": 0.5, ')
    paths["negative"].write_text('{"a": -0.5, "b": 1.5}')
    paths["nan"].write_text('{"a": NaN, "b": 1.0}')
    paths["short"].write_text('{"a": 0.5, "b": 0.47}')
    paths["text"].write_text('{"a": "x"}')
    paths["empty"].write_bytes(b"")
    paths["latin"].write_bytes(b"caf\xe9")
    paths["p"].write_text('{"a": 0.5, "b": 0.5}')
    names = {key: str(value) for key, value in paths.items()}
    code, out, err = run(capsys, *[arg.format(**names) for arg in args])
    if message is None:  # a valid command: exit 0
        assert code == 0 and err == ""
        return
    assert code == 1 and out == ""
    assert err == message.format(**names) + "\n"


def test_unseen_error_policy_message(capsys, files):
    p = files("p.json", '{"a": 0.5, "b": 0.5}')
    q = files("q.json", '{"a": 3}')
    code, out, err = run(capsys, "measure", "--p", p, "--q", q, "--unseen", "error")
    assert code == 1 and out == ""
    assert err == (
        "klcode: error: q gives probability 0 to 1 symbol(s) of p (b; p-mass 0.5), "
        "so KL(p||q) is infinite; choose --unseen escape or add-k\n"
    )


@pytest.mark.parametrize(
    "args, message",
    [
        (["measure", "--p", "x.json"], "klcode: usage error: Missing option '--q'. (see 'klcode measure --help')"),
        (["measure", "--bogus"], "klcode: usage error: No such option '--bogus'. (see 'klcode measure --help')"),
        (["compare", "a"], "klcode: usage error: Missing argument 'B'. (see 'klcode compare --help')"),
        (["frobnicate"], "klcode: usage error: No such command 'frobnicate'. (see 'klcode --help')"),
        (["measure", "--p", "a", "--q", "b", "--samples", "0"],
         "klcode: usage error: Invalid value for '--samples': 0 is not in the range x>=1. (see 'klcode measure --help')"),
    ],
)
def test_usage_errors_exit_2(capsys, args, message):
    code, out, err = run(capsys, *args)
    assert code == 2 and out == ""
    assert err == message + "\n"


def test_console_entry_point_never_shows_a_traceback(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "klcode", "measure", "--p", str(tmp_path / "none.json"), "--q", "x"],
        capture_output=True, text=True, cwd=ROOT,
    )
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert result.stderr.startswith("klcode: error: cannot read")


def test_library_imports_without_click_rich_or_matplotlib():
    code = (
        "import sys\n"
        "for name in ('click', 'rich', 'matplotlib'):\n"
        "    sys.modules[name] = None\n"
        "import klcode, klcode.analysis.measure, klcode.render.documents\n"
        "print(klcode.entropy(klcode.Distribution.uniform(8)))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "3.0\n"
