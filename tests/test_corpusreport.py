"""The corpus report: build_report's sections, and the HTML and Markdown renderings of them."""

import re
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

from klcode.analysis.corpus_report import CorpusReport, build_report, code_table_sha256
from klcode.analysis.zipping import zipping_relative_entropy
from klcode.errors import DataError, KlcodeError
from klcode.render import corpus_report as report_page
from klcode.render import plots
from klcode.render.corpus_report import format_value, render_html, render_markdown
from klcode.text.inputs import load_corpus
from klcode.text.tokenize import TokenizerSpec

UDHR = Path(__file__).resolve().parent.parent / "corpora" / "udhr"
NAMES = ("dan", "nob", "swe", "spa", "glg", "por_PT")
PATHS = [str(UDHR / f"{name}.txt") for name in NAMES]
SECTIONS = ("corpora", "matrix", "trees", "convergence", "reproducibility")
NUMBER = re.compile(r"[-−]?\d[\d,]*(?:\.\d+)?(?:e[+-]?\d+)?|∞")
BENCH = {
    "benchmark": "coders-bytes",
    "machine": {"python": "3.11.7", "cpu_count": 2},
    "coders": [{"label": "huffman", "bits": 94915386, "bits_per_token": 4.70810189538091},
               {"label": "ans", "bits": 94500000, "bits_per_token": 4.6875, "note": "a | pipe"}],
    "speed_ratios": {"encode": 13.324959663019987},
}


@pytest.fixture(scope="module")
def built():
    calls = []
    report = build_report(PATHS, tokenizations=("bytes", "chars"), command_line="klcode report ... -o r.html",
                          progress=lambda step, done, total: calls.append((step, done, total)))
    return report, calls


@pytest.fixture(scope="module")
def report(built) -> CorpusReport:
    return built[0]


@pytest.fixture(scope="module")
def html(report) -> str:
    return render_html(report, bench=BENCH)


@pytest.fixture(scope="module")
def markdown(report) -> str:
    return render_markdown(report, bench=BENCH)


# ------------------------------------------------------------------ parsing the renderings
class _Cells(HTMLParser):
    """The text of every table cell, table by table (figures and everything else ignored)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tables: list[list[str]] = []
        self.ids: list[str] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.tables.append([])
            self.ids.append(dict(attrs).get("id", ""))
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self.tables[-1].append("".join(self._cell))
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def html_cells(text: str) -> list[list[str]]:
    parser = _Cells()
    parser.feed(text)
    return parser.tables


def markdown_cells(text: str) -> list[list[str]]:
    tables, current = [], None
    for line in text.splitlines():
        if line.startswith("|"):
            if current is None:
                current = []
                tables.append(current)
            if re.fullmatch(r"\|(?::?-+:?\|)+", line):
                continue  # the alignment row
            cells = re.split(r"(?<!\\)\|", line.strip())[1:-1]
            current += [cell.strip().replace("\\|", "|") for cell in cells]
        else:
            current = None
    return tables


def numbers(tables: list[list[str]]) -> list[str]:
    return [n for table in tables for cell in table for n in NUMBER.findall(cell)]


# ------------------------------------------------------------------ the report record
def test_rows_hold_every_corpus_and_tokenization_with_gaps_to_h(report):
    assert report.corpora == NAMES
    assert [(row.corpus, row.tokenization) for row in report.rows] == [
        (name, kind) for kind in ("bytes", "chars") for name in NAMES]
    for row in report.rows:
        assert row.roundtrip == "verified"
        assert row.entropy_bits_per_token > 0 and row.tokens > 0 and 0 < row.types <= row.tokens
        for name in ("huffman", "huffman[block=2]", "ans"):
            figure = row.coder(name)
            assert figure.order0
            assert figure.gap_bits_per_token == pytest.approx(figure.bits_per_token - row.entropy_bits_per_token)
        huffman = row.coder("huffman")
        assert 0 <= huffman.gap_bits_per_token < 1  # H ≤ L < H + 1
        for name in ("zlib", "bz2", "lzma"):
            figure = row.coder(name)
            assert not figure.order0 and figure.gap_bits_per_token is None and figure.bits_per_token > 0
        files = dict(row.file_compressed_bits_per_byte)
        assert (set(files) == {"zlib", "bz2", "lzma"}) if row.tokenization == "bytes" else files == {}


def test_block_huffman_is_left_out_beyond_the_limit_and_says_why():
    report = build_report(PATHS[:2], tokenizations=("chars",), max_block_symbols=100)
    figure = report.rows[0].coder("huffman[block=2]")
    types = report.rows[0].types
    assert figure.bits_per_token is None and figure.gap_bits_per_token is None
    assert figure.note == (f"not measured: {types:,} types give {types**2:,} block symbols, over the report's "
                           f"limit of 100")
    assert "Huffman k=2 not measured for 2 corpora" in render_markdown(report, figures=False)


def test_matrix_trees_and_mutual_nearest_neighbours(report):
    m = report.matrix
    assert m.tokenization == "chars" and m.labels == NAMES
    assert m.js_tree.labels == NAMES and m.zipping_tree.labels == NAMES
    for pairs in (m.js_mutual_neighbours, m.zipping_mutual_neighbours):
        assert ("dan", "nob") in [(pair.a, pair.b) for pair in pairs]
    assert ("spa", "glg") in [(pair.a, pair.b) for pair in m.js_mutual_neighbours]  # in corpus order
    z = np.array(m.zipping_bits_per_byte)
    assert z.shape == (6, 6) and np.all(np.diag(z) == 0)
    assert m.zipping_negative_cells == int((z < 0).sum())


def test_the_cached_zipping_matrix_equals_zipping_relative_entropy(report):
    z = report.matrix.zipping_bits_per_byte
    raw = {name: (UDHR / f"{name}.txt").read_bytes() for name in ("dan", "spa")}
    # row = the text whose last piece is coded, column = the text it is coded after
    expected = zipping_relative_entropy(raw["spa"], raw["dan"], compressor="zlib", piece_bytes=1000)
    assert z[0][3] == pytest.approx(expected.relative_entropy_bits_per_byte, abs=1e-12)


def test_convergence_takes_the_first_two_corpora_unless_told(report):
    section = report.convergence
    assert (section.p_corpus, section.q_corpus, section.tokenization) == ("dan", "nob", "chars")
    c = section.convergence
    assert c.sample_sizes[-1] == 100_000 and len(c.sample_sizes) == 6
    assert 1 <= len(c.block_sizes) <= 3
    assert c.roundtrip == "verified"
    with pytest.raises(DataError, match=r"convergence corpus 'eng' is not among the corpora \(dan, nob\)"):
        build_report(PATHS[:2], tokenizations=("bytes",), convergence_pair=("dan", "eng"))


def test_code_table_hashes_are_deterministic_across_builds(report):
    again = build_report(PATHS[:2], tokenizations=("bytes", "chars"))
    first = {(h.corpus, h.tokenization): h.huffman_table_sha256 for h in report.reproducibility.code_tables}
    second = {(h.corpus, h.tokenization): h.huffman_table_sha256 for h in again.reproducibility.code_tables}
    assert second and all(first[key] == value for key, value in second.items())
    assert all(re.fullmatch(r"[0-9a-f]{16}", value) for value in first.values())
    assert first["dan", "bytes"] == code_table_sha256(load_corpus([PATHS[0]], TokenizerSpec("bytes")))
    assert first["dan", "bytes"] != first["nob", "bytes"]


def test_progress_is_called_for_every_step(built):
    report, calls = built
    steps = list(dict.fromkeys(step for step, _, _ in calls))
    assert steps == ["reading and coding bytes tokens", "reading and coding chars tokens", "coding pairs (chars tokens)",
                     "zipping pairs (zlib)", "KL rates (cm order 6, 1 MiB)", "convergence (dan vs nob)"]
    for step in steps:
        progress = [(done, total) for name, done, total in calls if name == step]
        assert progress[0][0] == 0 and progress[-1][0] == progress[-1][1]
        assert [done for done, _ in progress] == sorted(done for done, _ in progress)
    assert [(step, done, total) for step, done, total in calls if step.startswith("reading")][:2] == [
        ("reading and coding bytes tokens", 0, 6), ("reading and coding bytes tokens", 1, 6)]
    assert [step for step, _ in report.reproducibility.step_seconds] == steps


def test_reproducibility_block(report, html):
    r = report.reproducibility
    versions = dict(r.package_versions)
    assert set(versions) == {"numpy", "dahuffman", "bitarray", "constriction", "zstandard", "matplotlib", "click",
                             "rich"}
    assert versions["numpy"] == np.__version__
    assert [spec.kind for spec in r.tokenizers] == ["bytes", "chars"]
    assert (r.seed, r.compressor, r.piece_bytes, r.command_line) == (0, "zlib", 1000, "klcode report ... -o r.html")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", r.created_utc)
    section = html[html.index('<section id="reproducibility"'):]
    for text in ("klcode report ... -o r.html", r.code_tables[0].huffman_table_sha256, "dahuffman", r.created_utc):
        assert text in section


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"tokenizations": ("bytes", "bits")}, "unknown tokenization 'bits' in tokenizations (choose from bytes, chars, words)"),
    ({"tokenizations": ()}, "tokenizations needs at least one of bytes, chars, words (got none)"),
    ({"matrix_tokens": "regex"}, "unknown tokenization 'regex' in matrix_tokens (choose from bytes, chars, words)"),
    ({"compressor": "gzip"}, "unknown compressor 'gzip' (choose from zlib, bz2, lzma, zstd)"),
    ({"piece_bytes": 0}, "piece_bytes must be a positive integer (got 0)"),
    ({"seed": 1.5}, "seed must be an integer (got 1.5)"),
])
def test_invalid_arguments_are_refused_with_the_value(kwargs, message):
    with pytest.raises(DataError) as error:
        build_report(PATHS[:2], **kwargs)
    assert str(error.value) == message
    assert isinstance(error.value, KlcodeError) and isinstance(error.value, ValueError)


def test_duplicate_labels_are_refused_before_any_reading(tmp_path):
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "x.txt").write_text("some text here")
    with pytest.raises(DataError, match=r"corpus labels must be distinct \(got 'x' twice\); rename a file"):
        build_report([str(tmp_path / "a" / "x.txt"), str(tmp_path / "b" / "x.txt")])


def test_a_directory_is_one_corpus_per_file(tmp_path):
    for name, text in (("one.txt", "abracadabra " * 40), ("two.txt", "the cat sat on the mat " * 30)):
        (tmp_path / name).write_text(text)
    report = build_report([str(tmp_path)], tokenizations=("chars",))
    assert report.corpora == ("one", "two") and report.matrix is not None


def test_one_corpus_gives_the_corpora_section_only():
    report = build_report(PATHS[:1], tokenizations=("bytes",))
    assert report.matrix is None and report.convergence is None
    assert report.notes == ("one corpus only (dan): no matrix, trees or convergence (they need two or more)",)
    text = render_html(report, figures=False)
    assert all(f'<section id="{key}">' in text for key in SECTIONS)
    assert "one corpus only (dan)" in text


# ------------------------------------------------------------------ the renderings
def test_every_section_is_present_in_both_renderings(html, markdown):
    for key in (*SECTIONS, "benchmarks"):
        assert html.count(f'<section id="{key}">') == 1
        assert f'<a id="{key}"></a>' in markdown
    assert html.count("<figure") == 4 and html.count("<svg") == 4 and html.count('class="missing"') == 0
    assert markdown.count("](data:image/svg+xml;base64,") == 4
    for table in ("corpora-bytes", "corpora-chars", "nearest", "matrix-js", "matrix-zipping", "mutual-js",
                  "mutual-zipping", "convergence-samples", "convergence-blocks", "code-tables", "packages"):
        assert f'<table class="numbers" id="{table}">' in html
    ids = re.findall(r'\bid="([^"]+)"', html)
    assert len(ids) == len(set(ids))  # figure ids are prefixed, so several SVGs share the page


def test_the_benchmarks_section_only_when_given(report, html):
    assert '<section id="benchmarks">' not in render_html(report, figures=False)
    section = html[html.index('<section id="benchmarks">'):]
    for text in ("coders-bytes", "94,915,386", "4.708", "13.32", "a | pipe"):
        assert text in section


def test_the_html_has_no_external_references(html):
    assert not re.search(r"https?://|ftp://|//[a-z0-9.-]+\.[a-z]{2,}/", html, re.IGNORECASE)
    assert not re.search(r"<script|<link|<iframe|<object|<embed|@import|@font-face", html, re.IGNORECASE)
    for attribute in re.findall(r'\b(?:src|href|xlink:href|action|poster)\s*=\s*["\']?([^"\'\s>]*)', html,
                                re.IGNORECASE):
        assert attribute.startswith(("#", "data:")), attribute
    for target in re.findall(r"url\(\s*['\"]?([^)'\"]*)", html, re.IGNORECASE):
        assert target.startswith(("#", "data:")), target


def test_the_markdown_is_self_contained(markdown):
    assert not re.search(r"https?://", markdown)
    assert not re.search(r"!\[[^\]]*\]\((?!data:)", markdown)


def test_markdown_and_html_carry_the_same_numbers(html, markdown):
    from_html, from_markdown = html_cells(html), markdown_cells(markdown)
    assert len(from_html) == len(from_markdown) >= 15
    assert from_html == from_markdown  # cell for cell, tables in the same order
    assert numbers(from_html) == numbers(from_markdown)
    assert len(numbers(from_html)) > 300
    assert Counter(numbers(from_html)) == Counter(numbers(from_markdown))


def test_the_tables_show_the_report_numbers(report, html):
    tables = dict(zip(_ids(html), html_cells(html)))
    dan = report.rows_for("bytes")[0]
    cells = tables["corpora-bytes"]
    assert [format_value(dan.tokens), format_value(dan.entropy_bits_per_token),
            format_value(dan.coder("huffman").bits_per_token), format_value(dan.coder("ans").gap_bits_per_token)] == [
        cells[cells.index("dan") + k] for k in (2, 4, 5, 10)]
    mutual = tables["mutual-js"]
    assert mutual[3:6] == ["dan", "nob", format_value(report.matrix.js_mutual_neighbours[0].distance)]


def _ids(text: str) -> list[str]:
    parser = _Cells()
    parser.feed(text)
    return parser.ids


def test_text_is_escaped(report):
    import dataclasses

    odd = dataclasses.replace(report, reproducibility=dataclasses.replace(
        report.reproducibility, command_line="klcode report <b>x</b> & 'y'"))
    text = render_html(odd, figures=False)
    assert "<b>x</b>" not in text and "klcode report &lt;b&gt;x&lt;/b&gt; &amp; &#x27;y&#x27;" in text


def test_inline_svg_prefixes_ids_and_drops_namespaces():
    svg = plots.heatmap_svg(np.array([[0.0, 1.0], [1.0, 0.0]]), ["a", "b"], title="t", value_label="v")
    inline = report_page.inline_svg(svg, "f-")
    assert inline.startswith("<svg") and "http" not in inline and "xlink:" not in inline
    ids = re.findall(r'\bid="([^"]+)"', inline)
    assert ids and all(i.startswith("f-") for i in ids)
    assert all(ref.startswith("f-") for ref in re.findall(r"url\(#([^)]+)\)", inline))


def test_benchmark_tables_of_python_m_benchmarks_are_rendered(tmp_path):
    from klcode.analysis.corpus_report import build_report
    from klcode.render.corpus_report import render_html, render_markdown

    udhr = Path(__file__).resolve().parent.parent / "corpora" / "udhr"
    report = build_report([str(udhr / "dan.txt"), str(udhr / "nob.txt")], tokenizations=("bytes",), matrix_tokens="bytes")
    bench = {"schema": "klcode-benchmarks/1", "date": "2026-11-21T07:48:24+00:00", "display_command": "python -m benchmarks",
             "machine": {"cpu_count": 2, "memory_gib": 23.54, "python": "3.11.7"},
             "tables": [{"id": "libraries", "title": "Libraries", "columns": ["contender", "MB/s"],
                         "rows": [["klcode huffman", "87.4"], ["dahuffman", "7.1"]], "notes": ["MB = 10^6 bytes."]}]}
    html, markdown = render_html(report, bench=bench), render_markdown(report, bench=bench)
    for text in (html, markdown):
        assert "Libraries" in text and "87.4" in text and "dahuffman" in text and "MB = 10^6 bytes." in text
        assert "on 2 cores, 24 GiB, Python 3.11.7" in text
    assert 'id="benchmarks"' in html and 'id="bench-libraries"' in html
