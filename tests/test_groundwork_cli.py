"""The second half of the new-user audit (issue 9, §4): matrix speed, outputs checked first, exit codes, wording, tables."""

from __future__ import annotations

import numpy as np
import pytest

from klcode.analysis.compare import shared_distributions
from klcode.analysis.matrix import divergence_matrix
from klcode.analysis.measure import UnseenPolicy, measure
from klcode.cli import main
from klcode.errors import UnseenSymbolError
from klcode.text.inputs import load_corpus
from klcode.text.stream import TokenStream
from klcode.text.tokenize import TokenizerSpec

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPORA = ROOT / "corpora"
MATRIX_FIELDS = ("kl_bits_per_token", "effective_kl_bits_per_token", "measured_excess_bits_per_token",
                 "js_bits_per_token")


def run(capsys, *args):
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


# ------------------------------------------------------------------------------------------------ matrix
def pair_by_pair(corpora, policy):
    """The matrix as the audit found it: measure() on each ordered pair, on the union of the pair's symbols."""
    n = len(corpora)
    cells = {name: np.zeros((n, n)) for name in MATRIX_FIELDS}
    for i in range(n):
        for j in range(n):
            if i != j:
                p, q, _ = shared_distributions(corpora[i], corpora[j])
                m = measure(p, q, TokenStream.from_counts(p.counts), policy=policy)
                cells["kl_bits_per_token"][i, j] = m.kl_bits_per_token
                cells["effective_kl_bits_per_token"][i, j] = m.effective_kl_bits_per_token
                cells["measured_excess_bits_per_token"][i, j] = m.measured_excess_bits_per_token
                cells["js_bits_per_token"][i, j] = m.js_bits_per_token
    return cells


def pieces(tmp_path, kind, count, size):
    """``count`` pieces of ``size`` bytes cut from the bundled Genesis texts, and all of them in one (which covers
    every other), counted as ``kind`` tokens."""
    texts = sorted((CORPORA / "genesis").glob("*.txt"))
    spec = TokenizerSpec(kind=kind, encoding="latin-1")
    written = []
    for k in range(count):
        raw = texts[k % len(texts)].read_bytes()
        start = (k * 7919 * size) % (len(raw) - size)
        written.append(raw[start:start + size])
    written.append(b" ".join(written))
    for k, raw in enumerate(written):
        (tmp_path / f"{k:02d}.txt").write_bytes(raw)
    return [load_corpus([str(tmp_path / f"{k:02d}.txt")], spec) for k in range(len(written))]


@pytest.mark.parametrize("kind,size", [("bytes", 400), ("words", 1500)])
@pytest.mark.parametrize("policy", [UnseenPolicy(), UnseenPolicy("escape", escape_probability=0.01),
                                    UnseenPolicy("add-k", 0.5)], ids=["escape", "escape-0.01", "add-k"])
def test_matrix_equals_measure_pair_by_pair(tmp_path, kind, size, policy):
    corpora = pieces(tmp_path, kind, 6, size)
    result = divergence_matrix(corpora, policy=policy)
    expected = pair_by_pair(corpora, policy)
    for name in MATRIX_FIELDS:  # the same numbers, bit for bit
        assert np.array_equal(np.array(getattr(result, name)), expected[name]), name
    kl = np.array(result.kl_bits_per_token)
    assert np.isinf(kl).any() and np.isfinite(kl[:-1, -1]).all()  # pairs with unseen symbols, and pairs without


def test_matrix_error_policy_says_what_measure_says(tmp_path):
    corpora = pieces(tmp_path, "bytes", 3, 300)
    p, q, _ = shared_distributions(corpora[0], corpora[1])
    with pytest.raises(UnseenSymbolError) as expected:
        measure(p, q, TokenStream.from_counts(p.counts), policy=UnseenPolicy("error"))
    with pytest.raises(UnseenSymbolError) as got:
        divergence_matrix(corpora, policy=UnseenPolicy("error"))
    assert str(got.value) == str(expected.value)


def test_matrix_shows_progress_on_a_terminal(capsys, monkeypatch, tmp_path):
    for k, text in enumerate(("abracadabra", "banana bandana", "cabbage")):
        (tmp_path / f"{k}.txt").write_text(text)
    monkeypatch.setattr("sys.stderr.isatty", lambda: True, raising=False)
    code, out, err = run(capsys, "matrix", str(tmp_path))
    assert code == 0 and "klcode matrix  (3 corpora, bytes)" in out
    assert "reading 3 corpora" in err and "coding pairs" in err
    monkeypatch.undo()
    code, out, err = run(capsys, "matrix", str(tmp_path))
    assert code == 0 and err == ""  # not a terminal: no bar


# ------------------------------------------------------------------------- outputs checked before the work
def never_called(*args, **kwargs):
    raise AssertionError("the computation ran although the output cannot be written")


@pytest.mark.parametrize("args", [
    ("matrix", str(CORPORA / "udhr"), "--plot", "{missing}/heat.png"),
    ("matrix", str(CORPORA / "udhr"), "-o", "{missing}/m.json"),
    ("matrix", str(CORPORA / "udhr"), "--plot", "{folder}"),
    ("report", str(CORPORA / "udhr"), "-o", "{missing}/r.html"),
])
def test_unwritable_output_is_refused_before_the_work(capsys, monkeypatch, tmp_path, args):
    monkeypatch.setattr("klcode.analysis.matrix.divergence_matrix", never_called)
    monkeypatch.setattr("klcode.analysis.corpus_report.build_report", never_called)
    args = [a.format(missing=tmp_path / "no-such-dir", folder=tmp_path) for a in args]
    code, out, err = run(capsys, *args)
    reason = "Is a directory" if args[-1] == str(tmp_path) else "No such file or directory"
    assert (code, out, err) == (1, "", f"klcode: error: cannot write {args[-1]!r}: {reason}\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # no probe left behind


@pytest.mark.parametrize("command", [
    ("entropy", "{input}", "-o", "{output}"),
    ("count", "{input}", "-o", "{output}"),
    ("compare", "{input}", "{input}", "-o", "{output}"),
    ("matrix", "{input}", "{input}", "-o", "{output}"),
    ("converge", "--p", "{input}", "--q", "uniform:2", "--plot", "{output}"),
    ("measure", "--p", "{input}", "--q", "{input}", "-o", "{output}"),
    ("demo", "coin", "--plot", "{output}"),
    ("demo", "coin", "-o", "{output}"),
])
def test_every_command_checks_its_outputs_first(capsys, tmp_path, command):
    """The output is refused before the (here missing) input is even read."""
    output = str(tmp_path / "no-such-dir" / "out.png")
    args = [a.format(input=str(tmp_path / "missing-input.txt"), output=output) for a in command]
    code, out, err = run(capsys, *args)
    assert (code, out, err) == (1, "", f"klcode: error: cannot write {output!r}: No such file or directory\n")



# ------------------------------------------------------------------------------------------------ wording
@pytest.mark.parametrize("text,message", [
    ('{"a": 1, "b": 2, "a": 3}', "the key 'a' appears twice in one object (JSON readers keep only the last; remove one)"),
    ('{"counts": {"a": 1, "a": 2}}', "the key 'a' appears twice in one object"),
    ('{"counts": {"a": 1}, "probabilities": {"a": 1.0}}',
     'an explicit distribution is one object {"counts": {...}} or {"probabilities": {...}}, nothing beside it '
     "(got the keys 'counts', 'probabilities')"),
])
def test_distribution_files_with_two_readings_are_refused(capsys, tmp_path, text, message):
    path = tmp_path / "p.json"
    path.write_text(text)
    code, out, err = run(capsys, "measure", "--p", str(path), "--q", str(path))
    assert code == 1 and out == "" and err.startswith(f"klcode: error: {str(path)!r}: {message}")
    assert err.count("\n") == 1


def test_symbols_named_counts_are_still_symbols(capsys, tmp_path):
    path = tmp_path / "p.json"
    path.write_text('{"counts": 3, "probabilities": 1}')
    code, out, err = run(capsys, "measure", "--p", str(path), "--q", str(path), "--json")
    assert code == 0 and err == ""


@pytest.mark.parametrize("command", [("converge", "--p", "gauss:0,1", "--q", "uniform:2"),
                                     ("demo", "binomial", "--p", "gauss:0,1")])
def test_an_unknown_family_is_named_as_such(capsys, command):
    code, out, err = run(capsys, *command)
    assert code == 1 and out == ""
    assert err.endswith("'gauss:0,1' is not a file, and 'gauss' is not a known family "
                        "(bernoulli:P, binomial:N,P, uniform:N)\n")
    assert "no such file" not in err


# ------------------------------------------------------------------------------------------------ exit codes
@pytest.mark.parametrize("args,message", [
    (("entropy", "{text}", "--coder", "bogus"), "unknown coder 'bogus' (choose from huffman, shannon, ans, zlib, bz2, "
                                                "lzma, zstd) (see 'klcode entropy --help')"),
    (("compare", "{text}", "{text}", "--coder", "huffman,gzip"), "unknown coder 'gzip'"),
    (("converge", "--p", "uniform:2", "--q", "uniform:3", "--coder", "bogus"), "unknown coder 'bogus'"),
    (("entropy", "{text}", "--tokens", "chars", "--encoding", "nonsense"),
     "unknown encoding 'nonsense' (see 'klcode entropy --help')"),
    (("compare", "{text}", "{text}", "--tokens", "chars", "--encoding", "klingon"), "unknown encoding 'klingon'"),
    (("count", "{text}", "--regex", "("), "invalid --regex '(': missing ), unterminated subpattern at position 0"),
    (("matrix", "{text}", "{text}", "--lower"), "--lower applies to text tokens (chars, words, regex), not to bytes"),
    (("report", "{text}", "--tokens", "bogus", "-o", "{out}"),
     "Invalid value for '--tokens': unknown tokenization 'bogus' (choose from bytes, chars, words)"),
    (("measure", "--p", "{json}", "--q", "{json}", "--escape-probability", "2"), "escape probability must be in (0, 1)"),
    (("compare", "{text}", "{text}", "--unseen", "add-k", "--alpha", "0"), "add-k alpha must be a positive number"),
])
def test_usage_mistakes_exit_2(capsys, tmp_path, args, message):
    (tmp_path / "t.txt").write_text("abracadabra")
    (tmp_path / "p.json").write_text('{"a": 1, "b": 3}')
    names = {"text": str(tmp_path / "t.txt"), "json": str(tmp_path / "p.json"), "out": str(tmp_path / "r.html")}
    code, out, err = run(capsys, *(a.format(**names) for a in args))
    assert code == 2 and out == ""
    assert err.startswith(f"klcode: usage error: {message}") and err.count("\n") == 1


def test_a_symlink_loop_is_not_called_a_broken_link(capsys, tmp_path):
    (tmp_path / "a").symlink_to(tmp_path / "b")
    (tmp_path / "b").symlink_to(tmp_path / "a")
    (tmp_path / "c").symlink_to(tmp_path / "nothing")
    code, out, err = run(capsys, "entropy", str(tmp_path / "a"))
    assert (code, err) == (1, f"klcode: error: cannot read {str(tmp_path / 'a')!r}: symbolic link loop "
                              "(the links point to each other, never to a file)\n")
    code, out, err = run(capsys, "entropy", str(tmp_path / "c"))
    assert (code, err) == (1, f"klcode: error: cannot read {str(tmp_path / 'c')!r}: broken symbolic link "
                              f"(its target {str(tmp_path / 'nothing')!r} does not exist)\n")


# ------------------------------------------------------------------------------------------------ tables
def rendered(document, width):
    import io

    from rich.console import Console

    from klcode.cli.common import print_document

    buffer = io.StringIO()
    print_document(Console(file=buffer, width=width, color_system=None, highlight=False), document, False)
    return buffer.getvalue()


@pytest.mark.parametrize("width", [60, 80, 100, 130, 200])
def test_no_number_is_cut_at_any_width(width):
    from klcode.render.documents import Document, Table

    header = ("fit", "μ", "KL(p‖q)", "L_q − L_p ANS", "H(p̂,q̃) − H(p̂,p̃)", "L_q − L_p Huffman", "KL(q‖p)",
              "L_p − L_q ANS", "H(q̂,p̃) − H(q̂,q̃)", "L_p − L_q Huffman")
    rows = tuple((f"reverse fit from μ0 = {k}", *(f"{k * 1.234567 + j:.6f}" for j in range(9))) for k in range(3))
    text = rendered(Document("t", (Table("numbers", header, rows),), (), {}), width)
    assert "…" not in text
    assert all(cell in text for row in rows for cell in row[1:])  # every number whole, on one line
    from rich.cells import cell_len

    assert all(cell_len(line) <= width for line in text.splitlines())  # columns on screen (p̂ is one)


def test_piped_tables_take_their_natural_width(capsys):
    code, out, err = run(capsys, "demo", "gaussians")
    assert code == 0 and "…" not in out
    assert "H(p̂,q̃) − H(p̂,p̃)" in out  # a header on one line: the table is not squeezed to a fixed width


# ------------------------------------------------------------------------------------------------ help examples
@pytest.mark.parametrize("command", ["count", "matrix", "entropy"])
def test_the_help_examples_run_in_order(capsys, monkeypatch, tmp_path, command):
    """Every `klcode ...` line under "Example:" in a command's --help runs from the repository root."""
    import shlex

    code, out, _ = run(capsys, command, "--help")
    lines = out.split("Example:")[1].split("Options:")[0].strip().splitlines()
    examples = [shlex.split(line) for line in lines if line.strip().startswith("klcode ")]
    assert examples
    monkeypatch.chdir(ROOT)
    for args in examples:
        args = [str(tmp_path / a) if a.endswith((".json", ".png")) else a for a in args[1:]]  # outputs go to tmp
        code, out, err = run(capsys, *args)
        assert code == 0, f"{args}: {err}"


# ------------------------------------------------------------------------------------------------ package data
def test_recoding_runs_without_the_repository_corpora(capsys, monkeypatch, tmp_path):
    import klcode.demos.recoding as recoding

    for name in (recoding.DEFAULT_TRAFFIC, recoding.DEFAULT_TRAINING):  # the shipped texts are the corpus files
        assert (recoding.data_root() / name).read_bytes() == (CORPORA / "canterbury" / name).read_bytes()
    monkeypatch.setattr(recoding, "corpora_root", lambda: tmp_path / "no-corpora")  # as on an installed klcode
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys, "demo", "recoding", "--json")
    assert code == 0 and err == ""
    assert "alice29.txt" in out


def test_a_negative_zipping_estimate_is_explained(capsys):
    a, b = CORPORA / "canterbury" / "alice29.txt", CORPORA / "canterbury" / "asyoulik.txt"
    code, out, err = run(capsys, "compare", str(a), str(b), "--coder", "bz2", "--json")
    estimates = [z[side]["relative_entropy_bits_per_byte"] for z in __import__("json").loads(out)["zipping"]
                 for side in ("piece_of_b_after_a", "piece_of_a_after_b")]
    assert code == 0 and min(estimates) < 0  # bz2 gives one here
    code, out, err = run(capsys, "compare", str(a), str(b), "--coder", "bz2")
    assert "negative zipping estimate (bz2 piece of A after B -0.1680): not a divergence below 0" in out
