"""klcode demo from the command line: the list, every demo's table, --explain, --json and --plot."""

import json

import pytest

from klcode.cli import main
from klcode.demos import load_all

NAMES = ["coin", "binomial", "worms", "recoding", "gaussians", "cross-entropy", "infinite", "estimators", "context",
         "recompress"]


def run(capsys, *args):
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def test_every_demo_is_listed(capsys):
    assert list(load_all()) == NAMES
    code, out, err = run(capsys, "demo", "--list", "--json")
    assert code == 0 and err == ""
    listed = json.loads(out)["demos"]
    assert [d["name"] for d in listed] == NAMES
    assert all(d["lesson"] and "--p" in d["parameters"] for d in listed)


@pytest.mark.parametrize("name", NAMES)
def test_each_demo_explains_plots_and_speaks_json(capsys, tmp_path, name):
    plot = tmp_path / f"{name}.png"
    code, out, err = run(capsys, "demo", name, "--explain", "--plot", plot)
    assert code == 0 and err == ""
    assert out.startswith(f"klcode demo {name}: ")
    assert "step by step:" in out and "  1. " in out
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and plot.stat().st_size > 10_000
    code, out, err = run(capsys, "demo", name, "--json")
    doc = json.loads(out)
    assert code == 0 and doc["demo"] == name and doc["summary"] and "explanation" not in doc
    assert "_bits" in json.dumps(doc)  # units are in the keys


def test_binomial_golden_numbers_on_the_command_line(capsys):
    code, out, _ = run(capsys, "demo", "binomial", "--explain")
    assert "KL(p‖q) = 0.0853 nats = 0.1231 bits" in out and "KL(q‖p) = 0.0975 nats = 0.1406 bits" in out
    assert "0.0277 + 0.1750 − 0.1174 = 0.0853 nats" in out


def test_coin_parameters(capsys):
    code, out, _ = run(capsys, "demo", "coin", "--p", "0.5", "--q", "0.5", "--n", "1000", "--json")
    doc = json.loads(out)
    assert code == 0 and doc["kl_bits_per_token"] == 0.0


@pytest.mark.parametrize(
    "args, code, message",
    [
        (["demo"], 2, "klcode: usage error: name a demo (coin, binomial, worms, recoding, gaussians, cross-entropy, "
                      "infinite, estimators, context, recompress) or give --list (see 'klcode demo --help')"),
        (["demo", "dice"], 2, "klcode: usage error: unknown demo 'dice' (choose from coin, binomial, worms, recoding, "
                              "gaussians, cross-entropy, infinite, estimators, context, recompress) (see 'klcode demo --help')"),
        (["demo", "coin", "--plot", "x.gif"], 2, "klcode: usage error: --plot file must end in .png or .svg (got 'x.gif') "
                                                 "(see 'klcode demo --help')"),
        (["demo", "coin", "--seed", "-1"], 2, "klcode: usage error: Invalid value for '--seed': -1 is not in the range x>=0. (see 'klcode demo --help')"),
    ],
)
def test_demo_errors(capsys, args, code, message):
    got, out, err = run(capsys, *args)
    assert got == code and out == "" and err == message + "\n"


def test_bad_demo_parameter_is_one_line(capsys):
    code, out, err = run(capsys, "demo", "coin", "--q", "1.5")
    assert code == 1 and out == "" and err.count("\n") == 1 and err.startswith("klcode: error: --q")
