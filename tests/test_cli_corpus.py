"""The corpus commands end to end: count, compare, matrix, entropy; formats, files, stdin, errors."""

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from klcode.cli import main
from klcode.text.counts import load_counts

ROOT = Path(__file__).resolve().parent.parent
CORPORA = ROOT / "corpora"
GENESIS = CORPORA / "genesis"
UDHR = CORPORA / "udhr"


def run(capsys, *args):
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def test_genesis_french_needs_its_encoding(capsys):
    french, english = GENESIS / "french.txt", GENESIS / "english-kjv.txt"
    code, out, err = run(capsys, "compare", french, english, "--tokens", "chars")
    assert code == 1 and out == ""
    assert err == (f"klcode: error: cannot decode '{french}' as utf-8 at byte offset 24 (byte 0xe9); "
                   "use --encoding ENCODING (e.g. latin-1) or --errors replace\n")
    code, out, err = run(capsys, "compare", french, english, "--tokens", "chars", "--encoding", "latin-1", "--json")
    assert code == 0 and err == ""
    assert json.loads(out)["a_coded_with_b"]["q_code"]["roundtrip"] == "verified"
    code, out, err = run(capsys, "compare", french, english, "--json")  # bytes always work
    assert code == 0 and json.loads(out)["tokenizer"] == "bytes"
    code, out, err = run(capsys, "compare", GENESIS / "swedish.txt", english, "--tokens", "words",
                         "--encoding", "cp437", "--json")
    assert code == 0 and err == ""
    top = [t["symbol"] for t in json.loads(out)["top_a"]]
    assert "och" in top  # Swedish "and" carries the divergence from English


def test_count_saves_a_counts_file_that_compare_accepts(capsys, tmp_path):
    saved = tmp_path / "kjv.json"
    code, out, err = run(capsys, "count", GENESIS / "english-kjv.txt", "--tokens", "words", "-o", saved, "--json")
    assert code == 0 and err == ""
    summary = json.loads(out)
    counts = load_counts(saved)
    assert summary["total_tokens"] == counts.total_tokens == 38_495 and summary["saved_to"] == str(saved)
    assert summary["top"][0] == {"token": "and", "count": 2428}
    web = GENESIS / "english-web.txt"
    code, from_text, _ = run(capsys, "compare", GENESIS / "english-kjv.txt", web, "--tokens", "words", "--json")
    code2, from_counts, _ = run(capsys, "compare", saved, web, "--tokens", "words", "--json")
    assert code == code2 == 0
    text_doc, counts_doc = json.loads(from_text), json.loads(from_counts)
    assert counts_doc["a_stream"] == "counts" and text_doc["a_stream"] == "text"
    for key in ("p_code", "q_code"):
        assert counts_doc["a_coded_with_b"][key]["total_bits"] == text_doc["a_coded_with_b"][key]["total_bits"]


def test_counts_file_of_another_tokenizer_is_refused(capsys, tmp_path):
    saved = tmp_path / "bytes.json"
    assert run(capsys, "count", UDHR / "eng.txt", "-o", saved, "-q")[0] == 0
    code, out, err = run(capsys, "entropy", saved, "--tokens", "words")
    assert code == 1 and out == "" and err.count("\n") == 1
    assert err.startswith("klcode: error:") and "bytes" in err


@pytest.mark.parametrize("fmt", ["table", "json", "csv", "markdown"])
def test_every_output_format_of_compare(capsys, tmp_path, fmt):
    target = tmp_path / f"out.{fmt}"
    args = ["compare", UDHR / "spa.txt", UDHR / "glg.txt", "--tokens", "chars", "--format", fmt]
    code, out, err = run(capsys, *args)
    assert code == 0 and err == ""
    code, written, _ = run(capsys, *args, "-o", target)
    assert code == 0 and written == ""
    text = target.read_text(encoding="utf-8")
    if fmt == "json":
        assert json.loads(text)["a"] == "spa" and json.loads(out)["b"] == "glg"
    elif fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(text)))
        assert rows[0]["quantity"].startswith("H(A)") and float(rows[0]["formula_bits_per_token"]) > 3
    elif fmt == "markdown":
        assert "| H(A)  ·  L_A, A's code on A |" in text and text.startswith("## klcode compare")
    else:
        assert "JS(A,B)" in text and "tokens over-represented in A" in text
    assert not list(tmp_path.glob(".klcode-*"))  # no temporary file left behind


def test_unwritable_output_leaves_nothing(capsys, tmp_path):
    target = tmp_path / "missing-dir" / "out.json"
    code, out, err = run(capsys, "entropy", UDHR / "eng.txt", "--json", "-o", target)
    assert code == 1 and out == ""
    assert err.startswith(f"klcode: error: cannot write '{target}'") and err.count("\n") == 1
    assert not target.exists()


def test_quiet_drops_the_notes(capsys):
    _, loud, _ = run(capsys, "entropy", UDHR / "eng.txt")
    _, quiet, _ = run(capsys, "entropy", UDHR / "eng.txt", "--quiet")
    assert "zlib (level 9)" in loud and "zlib (level 9)" not in quiet and "eng.txt" in quiet


def test_matrix_formats_and_plot(capsys, tmp_path):
    paths = [UDHR / f"{name}.txt" for name in ("dan", "nob", "swe", "fin")]
    code, out, err = run(capsys, "matrix", *paths, "--tokens", "chars")
    assert code == 0 and err == ""
    assert "mutual nearest neighbours by JS: dan–nob" in out and "JS(row, column)" in out
    code, out, _ = run(capsys, "matrix", *paths, "--tokens", "chars", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert len(rows) == 4 * 3 and {r["a"] for r in rows} == {"dan", "nob", "swe", "fin"}
    assert all(float(r["js_bits_per_token"]) > 0 for r in rows)
    plot = tmp_path / "m.png"
    code, out, _ = run(capsys, "matrix", *paths, "--tokens", "chars", "--json", "--unit", "nats", "--plot", plot)
    doc = json.loads(out)
    assert code == 0 and doc["plot"] == str(plot) and doc["unit"] == "nats"
    assert len(doc["js_nats_per_token"]) == 4 and doc["nearest_by_js"][0]["nearest"] == "nob"
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_entropy_expands_directories(capsys):
    code, out, err = run(capsys, "entropy", CORPORA / "canterbury", "--no-compressors", "--json")
    assert code == 0 and err == ""
    files = json.loads(out)["files"]
    assert [Path(f["path"]).name for f in files] == ["alice29.txt", "asyoulik.txt", "lcet10.txt", "plrabn12.txt"]
    assert all(f["zlib_bits_per_byte"] == "nan" and f["roundtrip"] == "verified" for f in files)


@pytest.mark.parametrize(
    "args, message",
    [
        (["count", "x", "--tokens", "regex"], "klcode: usage error: --tokens regex needs --regex PATTERN (see 'klcode count --help')"),
        (["count", "x", "--tokens", "chars", "--regex", "a+"],
         "klcode: usage error: --regex defines the tokens; it cannot be combined with --tokens chars (see 'klcode count --help')"),
        (["matrix", "a", "b", "--plot", "m.pdf"],
         "klcode: usage error: --plot file must end in .png or .svg (got 'm.pdf') (see 'klcode matrix --help')"),
        (["count", "x", "--ngram", "0"],
         "klcode: usage error: Invalid value for '--ngram': 0 is not in the range 1<=x<=16. (see 'klcode count --help')"),
    ],
)
def test_corpus_usage_errors(capsys, args, message):
    code, out, err = run(capsys, *args)
    assert code == 2 and out == "" and err == message + "\n"


def test_data_errors_of_corpus_commands(capsys, tmp_path):
    code, _, err = run(capsys, "count", UDHR / "eng.txt", "--regex", "(")
    assert code == 2 and err.startswith("klcode: usage error: invalid --regex '('")  # a usage mistake (issue 9)
    code, _, err = run(capsys, "matrix", UDHR / "eng.txt")
    assert code == 1 and err == "klcode: error: a matrix needs at least two corpora (got 1)\n"
    code, _, err = run(capsys, "entropy", tmp_path / "nope.txt")
    assert code == 1 and err == f"klcode: error: cannot read '{tmp_path / 'nope.txt'}': no such file\n"


def test_stdin_as_a_corpus():
    text = (UDHR / "eng.txt").read_bytes()
    result = subprocess.run(
        [sys.executable, "-m", "klcode", "compare", "-", str(UDHR / "deu.txt"), "--tokens", "words", "--json"],
        input=text, capture_output=True, cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["a"] == "stdin" and doc["a_stream"] == "text" and doc["a_coded_with_b"]["q_code"]["roundtrip"] == "verified"


@pytest.mark.parametrize(
    "args, message",
    [
        (["report", "a.txt", "-o", "r.pdf"], "klcode: usage error: -o must end in .html or .md (got 'r.pdf') (see 'klcode report --help')"),
        (["report", "-", "-o", "r.html"],
         "klcode: usage error: report reads each corpus several times, so it cannot read stdin (-) (see 'klcode report --help')"),
    ],
)
def test_report_usage_errors(capsys, args, message):
    code, out, err = run(capsys, *args)
    assert code == 2 and out == "" and err == message + "\n"


def test_markdown_report_from_the_command_line(capsys, tmp_path):
    target = tmp_path / "r.md"
    code, out, err = run(capsys, "report", UDHR / "dan.txt", UDHR / "nob.txt", UDHR / "fin.txt", "-o", target,
                         "--tokens", "chars", "--quiet")
    assert code == 0 and out == "" and err == ""
    text = target.read_text(encoding="utf-8")
    assert text.startswith("# klcode report") and "dan" in text and "data:image/svg+xml;base64," in text
    assert "http://" not in text and "https://" not in text
