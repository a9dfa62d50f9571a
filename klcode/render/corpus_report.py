"""A :class:`~klcode.analysis.corpus_report.CorpusReport` as one self-contained HTML page, or as Markdown.

Both renderers walk the same laid-out document (:func:`report_sections`):
the same sections, tables, cells and figures, every number formatted once by
:func:`format_value`, so the HTML and the Markdown show the same numbers.

* **HTML**: one file, no network: the style sheet is inline, figures are
  inline SVG (stripped of their XML prolog, metadata and namespace
  declarations, their ids prefixed per figure so that several figures can
  share the page), no scripts, no external fonts, links only to anchors of
  the page.  Sections have the ids ``corpora``, ``matrix``, ``trees``,
  ``convergence``, ``reproducibility`` and, when benchmark results are given,
  ``benchmarks``; tables have ids and the class ``numbers``; figures are
  ``<figure>`` elements.  All text is HTML-escaped.
* **Markdown** (GitHub-flavoured): the same tables; figures are images whose
  source is a ``data:image/svg+xml;base64,...`` URI, so the file stands alone.

Figures are drawn with matplotlib (imported on first use); with figures
turned off each is replaced by a line saying so, and the tables are unchanged.

>>> format_value(1234567), format_value(0.123456), format_value(float("inf")), format_value(None)
('1,234,567', '0.1235', '∞', '—')
"""

from __future__ import annotations

import base64
import html
import json
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..analysis.corpus_report import STREAM_COMPRESSORS, CorpusReport, CorpusRow
from .documents import _fmt
from .documents import _markdown_cell as _md

#: Decimal places of bits, gaps and divergences in the tables.
DIGITS = 4
#: What an empty cell shows (a coder that was not run, a value that does not exist).
MISSING = "—"
_HEADLINE_CODERS = ("huffman", "huffman[block=2]", "ans")
_CODER_TITLES = {"huffman": "Huffman", "huffman[block=2]": "Huffman k=2", "ans": "ANS"}


# ------------------------------------------------------------------ formatting
def format_value(value: Any, digits: int | None = DIGITS) -> str:
    """The one way a value is written in a report cell (HTML and Markdown alike).

    Integers with thousands separators; floats with ``digits`` decimals
    (``digits=None``: four significant digits, thousands separated above
    10,000, for values of unknown scale such as benchmark results); ±∞ as ∞,
    NaN as n/a, None as —, booleans as yes/no, anything else as ``str``.

    >>> format_value(2.5, 2), format_value(-0.00001), format_value(True), format_value(0.000771003, None)
    ('2.50', '0.0000', 'yes', '0.000771')
    >>> format_value(20160011.0, None), format_value(13.32495, None), format_value([1, 2.5], None)
    ('20,160,011', '13.32', '1, 2.5')
    """
    if value is None:
        return MISSING
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (int, np.integer)):
        return f"{int(value):,}"
    if isinstance(value, (float, np.floating)):
        value = float(value)
        if not math.isfinite(value) or digits is not None:
            return _fmt(value, DIGITS if digits is None else digits)
        if value == 0:
            return "0"
        if abs(value) >= 10_000:
            return f"{value:,.0f}"
        return f"{value:.4g}"
    if isinstance(value, (list, tuple)):
        return ", ".join(format_value(item, digits) for item in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, default=str)
    return str(value)


# ------------------------------------------------------------------ the laid-out document
@dataclass(frozen=True)
class Table:
    """A table of formatted cells; ``key`` becomes its HTML id; ``collapsed`` tables fold away in HTML."""

    key: str
    title: str
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    collapsed: bool = False


@dataclass(frozen=True)
class Figure:
    """A figure: SVG text, or None with the reason it was not drawn."""

    key: str
    title: str
    caption: str
    svg: str | None
    missing: str = ""


@dataclass(frozen=True)
class Section:
    """A section of the report: an id, a title, paragraphs, then tables and figures in order, then notes."""

    key: str
    title: str
    paragraphs: tuple[str, ...]
    blocks: tuple[Table | Figure, ...]
    notes: tuple[str, ...] = ()


def _figure(key: str, title: str, caption: str, draw: Callable[[], str], enabled: bool) -> Figure:
    if not enabled:
        return Figure(key, title, caption, None, "figures were turned off")
    return Figure(key, title, caption, draw())


def _row_cells(row: CorpusRow, with_file: bool) -> tuple[str, ...]:
    cells = [row.corpus, format_value(row.input_bytes), format_value(row.tokens), format_value(row.types),
             format_value(row.entropy_bits_per_token)]
    for name in _HEADLINE_CODERS:
        figure = row.coder(name)
        cells += [format_value(figure.bits_per_token), format_value(figure.gap_bits_per_token)]
    cells += [format_value(row.coder(name).bits_per_token) for name in STREAM_COMPRESSORS]
    if with_file:
        compressed = dict(row.file_compressed_bits_per_byte)
        cells += [format_value(compressed.get(name)) for name in STREAM_COMPRESSORS]
    return tuple(cells)


def _corpora_section(report: CorpusReport) -> Section:
    blocks, notes = [], []
    for kind in report.tokenizations:
        rows = report.rows_for(kind)
        with_file = any(row.file_compressed_bits_per_byte for row in rows)
        header = ["corpus", "bytes", "tokens", "types", "H"]
        for name in _HEADLINE_CODERS:
            header += [_CODER_TITLES[name], "gap"]
        header += [f"{name} (ids)" for name in STREAM_COMPRESSORS]
        if with_file:
            header += [f"{name} (file, bits/byte)" for name in STREAM_COMPRESSORS]
        blocks.append(Table(f"corpora-{kind}", f"{rows[0].tokenizer} tokens [bits per token]", tuple(header),
                            tuple(_row_cells(row, with_file) for row in rows)))
        for name in _HEADLINE_CODERS:
            skipped = [row for row in rows if row.coder(name).bits_per_token is None]
            if skipped:
                reason = skipped[0].coder(name).note.split(": ", 1)[0]
                if name == "huffman[block=2]":
                    listed = ", ".join(f"{row.corpus} ({format_value(row.types)} types)" for row in skipped)
                    notes.append(f"{kind}: {_CODER_TITLES[name]} {reason} for {format_value(len(skipped))} corpora whose "
                                 f"types² passes {format_value(report.reproducibility.max_block_symbols)} block "
                                 f"symbols (building such a code takes seconds): {listed}")
                else:
                    notes.append(f"{kind}: {_CODER_TITLES[name]} {skipped[0].coder(name).note}")
    roundtrips = sorted({row.roundtrip for row in report.rows})
    notes.append(f"round trips: {', '.join(roundtrips)} (every order-0 and contextual stream decoded back and compared)")
    notes.append("Huffman k=2 is built from p×p, the pairs of independent tokens, but measured on the text's real "
                 "pairs of neighbouring tokens; their frequencies differ from p×p, so its gap to H can be negative")
    notes.append("ANS carries 32 to 64 bits of stream state and word rounding per stream: on a text of a few "
                 "hundred tokens (words of Chinese or Japanese) that alone is a tenth of a bit per token or more")
    paragraphs = (
        ("H is the order-0 entropy −Σ p log2 p of each corpus's own token distribution. Huffman, Huffman k=2 "
        "(blocks of two tokens) and ANS are codes built from that distribution; their columns are the bits per "
        "token of an actual encoding of the corpus, decoded back and checked, and each gap is measured − H "
        "(the code table itself is not counted)."),
        ("zlib, bz2 and lzma (ids) compress the token-id stream: they exploit the order of tokens (context), so "
        "they can fall below H and have no formula to be compared with. For byte tokens the last columns give "
        "the same compressors on the file itself, in bits per byte."),
    )
    return Section("corpora", "Corpora: entropy and measured codes", paragraphs, tuple(blocks), tuple(notes))


def _matrix_table(key: str, title: str, labels: Sequence[str], matrix: Sequence[Sequence[float]]) -> Table:
    rows = tuple((label, *(format_value(v) for v in row)) for label, row in zip(labels, matrix))
    return Table(key, title, ("coded ↓ · model →", *labels), rows, collapsed=True)


def _matrix_section(report: CorpusReport, figures: bool) -> Section:
    m = report.matrix
    if m is None:
        return Section("matrix", "Pairwise divergences", (), (), report.notes)
    from .plots import heatmap_svg

    d = m.divergence
    labels = m.labels
    tokens = d.tokenizer
    blocks: list[Table | Figure] = [
        _figure("figure-js-heatmap", f"Jensen–Shannon divergence ({tokens} tokens)",
                "JS(p_row, p_column) in bits per token, rows and columns in the order of the JS tree.",
                lambda: heatmap_svg(np.array(d.js_bits_per_token), labels, title=f"Jensen–Shannon divergence ({tokens})",
                                    value_label="JS [bits per token]", linkage=m.js_tree), figures),
    ]
    if m.zipping_bits_per_byte is not None:
        blocks.append(_figure(
            "figure-zipping-heatmap", f"Relative entropy by zipping ({m.compressor})",
            "The last piece of the row's text coded after the column's text, against after the rest of its own "
            "text, in bits per byte of the piece; ordered by the zipping tree.",
            lambda: heatmap_svg(np.array(m.zipping_bits_per_byte), labels,
                                title=f"Relative entropy by zipping ({m.compressor})",
                                value_label="bits per byte", linkage=m.zipping_tree), figures))
    nearest_zip = {n.corpus: n for n in m.zipping_nearest}
    rows = []
    for by_js, by_excess in zip(d.nearest_by_js, d.nearest_by_measured_excess):
        zipped = nearest_zip.get(by_js.corpus)
        rows.append((by_js.corpus, by_js.nearest, format_value(by_js.bits_per_token), by_excess.nearest,
                     format_value(by_excess.bits_per_token), zipped.nearest if zipped else MISSING,
                     format_value(zipped.bits_per_token if zipped else None)))
    blocks.append(Table("nearest", "nearest neighbour of each corpus",
                        ("corpus", "by JS", "JS [bits/token]", "by measured excess", "L_col − L_row [bits/token]",
                         "by zipping", "zipping [bits/byte]"), tuple(rows)))
    blocks.append(_matrix_table("matrix-js", f"JS divergence [bits per token] ({tokens})", labels, d.js_bits_per_token))
    blocks.append(_matrix_table(
        "matrix-excess", f"measured excess L_column − L_row of the column's Huffman code on the row's tokens "
        f"[bits per token] ({tokens})", labels, d.measured_excess_bits_per_token))
    if m.zipping_bits_per_byte is not None:
        blocks.append(_matrix_table("matrix-zipping", f"relative entropy by zipping ({m.compressor}) [bits per byte]",
                                    labels, m.zipping_bits_per_byte))
    paragraphs = (
        (f"Every corpus against every other, {tokens} tokens. JS is the Jensen–Shannon divergence of the two token "
        "distributions (symmetric, finite). The measured excess codes the row corpus with a Huffman code built "
        f"from the column corpus (unseen symbols by the {d.unseen_policy} policy) and subtracts the row's own "
        f"Huffman code; round trips {d.roundtrip}."),
        ("The zipping estimate (Benedetto, Caglioti & Loreto, \"Language trees and zipping\", 2002) uses the raw "
        f"files and {m.compressor}: (|Z(A+b)| − |Z(A)| − |Z(B′+b)| + |Z(B′)|)·8/|b| bits per byte, b the last "
        "piece of the row text B, B′ the rest of it, A the column text. It is contextual: it measures how well "
        "A's phrases predict b, not an order-0 KL."),
    )
    notes = []
    if m.zipping_bits_per_byte is not None:
        pieces = sorted(set(m.zipping_piece_bytes))
        notes.append("zipping pieces: " + ", ".join(format_value(k) for k in pieces)
                     + " bytes (the last min(piece bytes, a tenth of the text) bytes of each text)")
    if m.zipping_note:
        notes.append(m.zipping_note)
    return Section("matrix", "Pairwise divergences", paragraphs, tuple(blocks), tuple(notes))


def _mutual_table(key: str, title: str, pairs, unit: str) -> Table:
    return Table(key, title, ("corpus", "corpus", f"distance [{unit}]"),
                 tuple((pair.a, pair.b, format_value(pair.distance)) for pair in pairs))


def _rates_blocks(m) -> list[Table]:
    """The KL-rate view of the trees section: mutual neighbours, nearest by KL rate, family scores, the matrix."""
    blocks: list[Table] = []
    if m.rates is not None:
        r = m.rates
        blocks.append(_mutual_table("mutual-rates", f"mutual nearest neighbours by KL rate ({r.model})",
                                    m.rates_mutual_neighbours, "bits per byte"))
        blocks.append(Table("nearest-rates", f"nearest neighbour by KL rate ({r.model}, bytes)",
                            ("corpus", "held-out bytes", "h(X″‖X′) [bits/byte]", "nearest by KL rate",
                             "D(X‖nearest) [bits/byte]"),
                            tuple((nb.corpus, format_value(r.heldout_tokens[i]),
                                   format_value(r.cross_entropy_rate_bits_per_token[i][i]), nb.nearest,
                                   format_value(nb.kl_rate_bits_per_token))
                                  for i, nb in enumerate(r.nearest_by_kl_rate))))
        blocks.append(_matrix_table("matrix-rates", f"KL rate D(row‖column) = h(row″‖column) − h(row″‖row′) "
                                    f"[bits per byte] ({r.model})", m.labels, r.kl_rate_bits_per_token))
    if m.family_scores:
        blocks.append(Table("family-scores", "nearest neighbour in its own language family "
                            "(texts with another member of their family in the set)",
                            ("method", "in own family", "of", "share", "misses (corpus → nearest)"),
                            tuple((score.method, format_value(score.in_family), format_value(score.eligible),
                                   f"{score.share:.0%}", ", ".join(f"{a} → {b}" for a, b in score.misses))
                                  for score in m.family_scores)))
    return blocks


def _trees_section(report: CorpusReport, figures: bool) -> Section:
    m = report.matrix
    if m is None:
        return Section("trees", "Language trees", (), (), report.notes)
    from .plots import dendrograms_svg

    tokens = m.divergence.tokenizer
    trees = [(f"JS, {tokens}", m.js_tree)]
    if m.zipping_tree is not None:
        trees.append((f"zipping, {m.compressor}", m.zipping_tree))
    if m.rates_tree is not None:
        trees.append((f"KL rate, {m.rates.model}", m.rates_tree))
    blocks: list[Table | Figure] = [_figure(
        "figure-trees", "Language trees: " + ", ".join(title for title, _ in trees) + " (left to right)",
        "Average-linkage (UPGMA) clustering of the symmetric distances; merge height on the axis.",
        lambda: dendrograms_svg(trees, title="Language trees by average linkage"), figures)]
    blocks.append(_mutual_table("mutual-js", f"mutual nearest neighbours by JS ({tokens})", m.js_mutual_neighbours,
                                "bits per token"))
    if m.zipping_tree is not None:
        blocks.append(_mutual_table("mutual-zipping", f"mutual nearest neighbours by zipping ({m.compressor})",
                                    m.zipping_mutual_neighbours, "bits per byte"))
    blocks += _rates_blocks(m)
    orders = [tree.ordered_labels for _, tree in trees]
    blocks.append(Table("tree-order", "leaves of each tree, top to bottom", ("position", *(title for title, _ in trees)),
                        tuple((format_value(k + 1), *(order[k] for order in orders)) for k in range(len(orders[0]))),
                        collapsed=True))
    paragraphs = (
        ("Two trees of the same corpora, side by side: on the left from the Jensen–Shannon divergence of the "
        "token distributions, on the right from the compression-based relative entropy (the 'language trees "
        "and zipping' experiment). Both use average linkage on symmetric distances d = (m + mᵀ)/2."),
    ) + (() if m.rates is None else (
        (f"The third tree is from KL rates by coding: each text's held-out part (its first "
         f"{format_value(max(m.rates.heldout_tokens))} bytes after its training prefix) coded, frozen, by the context model "
         f"({m.rates.model}) of every text's first {format_value(m.rates.training_tokens)} bytes — one training "
         "budget for all — so D(A‖B) = h(A″‖B) − h(A″‖A′) counts which byte follows which, not only how often "
         "each occurs. Negative estimates are clipped at 0 before symmetrizing."),
    ))
    notes = []
    if m.zipping_tree is not None:
        notes.append(f"the zipping estimate was negative in {format_value(m.zipping_negative_cells)} of "
                     f"{format_value(len(m.labels) * (len(m.labels) - 1))} cells (near-identical texts); the tree "
                     "clips it at 0 before symmetrizing, so such pairs merge at height 0")
    return Section("trees", "Language trees", paragraphs, tuple(blocks), tuple(notes))


def _convergence_section(report: CorpusReport, figures: bool) -> Section:
    section = report.convergence
    if section is None:
        return Section("convergence", "Convergence", (), (), report.notes)
    from .plots import Panel, panels_svg

    c = section.convergence
    coders = list(dict.fromkeys(point.coder for point in c.by_samples))
    excess = {(point.coder, point.samples): point.measured_excess_bits_per_token for point in c.by_samples}
    references = {"KL(p‖q′)": c.effective_kl_bits_per_token}
    if math.isfinite(c.kl_bits_per_token):
        references["KL(p‖q)"] = c.kl_bits_per_token

    def draw() -> str:
        panels = [
            Panel("measured L_q − L_p by sample size", "N samples drawn from p", "bits per token",
                  tuple(float(n) for n in c.sample_sizes),
                  {name: tuple(excess[name, n] for n in c.sample_sizes) for name in coders}, references, log_x=True),
            Panel("block Huffman by block size k", "k", "bits per token", tuple(float(p.block) for p in c.by_block),
                  {"expected": tuple(p.expected_excess_bits_per_token for p in c.by_block),
                   f"measured (N = {c.sample_sizes[-1]:,})": tuple(p.measured_excess_bits_per_token for p in c.by_block)},
                  references),
        ]
        return panels_svg(panels, title=f"p = {section.p_corpus}, q = {section.q_corpus} ({section.tokenization})")

    blocks: list[Table | Figure] = [_figure(
        "figure-convergence", "Measured bits closing on the formula",
        "The measured excess of q's code over p's on samples of p, as N and the block size grow, against KL.",
        draw, figures)]
    blocks.append(Table("convergence-formulas", "formulas [bits per token]", ("quantity", "value"), (
        ("H(p)", format_value(c.entropy_bits_per_token)),
        ("H(p,q)", format_value(c.cross_entropy_bits_per_token)),
        ("KL(p‖q)", format_value(c.kl_bits_per_token)),
        ("KL(p‖q′), q′ = model of q's code", format_value(c.effective_kl_bits_per_token)),
    )))
    rows = tuple(
        (format_value(n), *(format_value(excess[name, n]) for name in coders), format_value(lr.normalized_ratio),
         format_value(lr.limit))
        for n, lr in zip(c.sample_sizes, c.likelihood)
    )
    blocks.append(Table("convergence-samples", "measured L_q − L_p by sample size [bits per token]",
                        ("N", *coders, "(P(obs|q)/P(obs|p))^(1/N)", "2^−KL"), rows))
    blocks.append(Table("convergence-blocks", f"block Huffman by block size k [bits per token], N = {c.sample_sizes[-1]:,}",
                        ("k", "expected L_q − L_p", "measured L_q − L_p"),
                        tuple((format_value(p.block), format_value(p.expected_excess_bits_per_token),
                               format_value(p.measured_excess_bits_per_token)) for p in c.by_block)))
    paragraphs = (
        (f"p = {section.p_corpus}, q = {section.q_corpus}, {section.tokenization} tokens. Samples of p (seed "
        f"{c.seed}) are coded with codes built from p and from q′ ({c.model}); the measured excess L_q − L_p of "
        "each coder tends to its own limit: Huffman to KL to q rounded to powers of two, ANS to KL(p‖q′) within "
        "its quantization; block codes lose at most 1/k bit per token to rounding, so they close in as k grows."),
    )
    notes = [f"round trips: {c.roundtrip}"]
    if not math.isfinite(c.kl_bits_per_token):
        notes.append("q lacks symbols of p, so KL(p‖q) = ∞ by formula; the codes of q use q′, which gives them "
                     "an escape codeword, and the finite KL(p‖q′) is the reference")
        notes.append("the likelihood ratio uses q itself, so it drops to 0 (and 2^−KL is 0) as soon as the sample "
                     "draws a symbol q lacks")
    return Section("convergence", "Convergence", paragraphs, tuple(blocks), tuple(notes))


def _reproducibility_section(report: CorpusReport) -> Section:
    r = report.reproducibility
    settings = Table("settings", "run", ("setting", "value"), (
        ("klcode", r.klcode_version),
        ("Python", r.python_version),
        ("platform", r.platform),
        ("command line", r.command_line or MISSING),
        ("created (UTC)", r.created_utc),
        ("seed", format_value(r.seed)),
        ("zipping compressor", r.compressor),
        ("zipping piece bytes", format_value(r.piece_bytes)),
        ("block Huffman limit [block symbols]", format_value(r.max_block_symbols)),
        ("unseen-symbol policy", r.unseen_policy),
        ("wall time [s]", format_value(report.wall_seconds, 1)),
    ))
    packages = Table("packages", "package versions", ("package", "version"), r.package_versions)
    fields = ("kind", "encoding", "errors", "lower", "ngram", "regex")
    tokenizers = Table("tokenizers", "tokenizer settings", fields,
                       tuple(tuple(format_value(spec.to_dict()[key]) for key in fields) for spec in r.tokenizers))
    kinds = report.tokenizations
    hashes = {(h.corpus, h.tokenization): h.huffman_table_sha256 for h in r.code_tables}
    tables = Table("code-tables", "SHA-256 of each Huffman code table (first 16 hex digits)", ("corpus", *kinds),
                   tuple((label, *(hashes.get((label, kind), MISSING) for kind in kinds)) for label in report.corpora))
    steps = Table("steps", "time per step", ("step", "seconds"),
                  tuple((step, format_value(seconds, 2)) for step, seconds in r.step_seconds))
    paragraphs = (
        ("A code table's hash is the SHA-256 of the compact JSON [[symbol, codeword length], ...] of the corpus's "
        "Huffman code (canonical; ties broken by symbol id), so two runs that build the same codes show the same "
        "hashes."),
    )
    return Section("reproducibility", "Reproducibility", paragraphs, (settings, packages, tokenizers, tables, steps))


# ------------------------------------------------------------------ benchmarks (any JSON shape)
def _scalar(value: Any) -> bool:
    return value is None or isinstance(value, (str, int, float, bool))


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "table"


def _bench_tables(name: str, value: Any) -> list[Table]:
    """Tables of a JSON value: scalars of a mapping as setting/value rows, lists of mappings as tables."""
    key = f"bench-{_slug(name)}"
    if isinstance(value, dict):
        tables = []
        scalars = tuple((str(k), format_value(v, None)) for k, v in value.items()
                        if _scalar(v) or (isinstance(v, list) and all(_scalar(x) for x in v)))
        if scalars:
            tables.append(Table(key, name, ("key", "value"), scalars))
        for k, v in value.items():
            if not (_scalar(v) or (isinstance(v, list) and all(_scalar(x) for x in v))):
                tables += _bench_tables(f"{name} › {k}", v)
        return tables
    if isinstance(value, list) and value and all(isinstance(item, dict) for item in value):
        columns = list(dict.fromkeys(k for item in value for k in item))
        rows = tuple(tuple(format_value(item.get(c), None) if c in item else "" for c in columns) for item in value)
        return [Table(key, name, tuple(str(c) for c in columns), rows)]
    return [Table(key, name, ("value",), ((format_value(value, None),),))]


def _benchmark_summary_section(bench: dict) -> Section:
    """The tables of ``python -m benchmarks`` (schema klcode-benchmarks/1): title, columns, rows, notes."""
    machine = bench.get("machine", {})
    memory = machine.get("memory_gib")
    memory = f"{memory:.0f}" if isinstance(memory, (int, float)) else "?"
    tables = tuple(
        Table(f"bench-{_slug(str(t.get('id', t.get('title', 'table'))))}", str(t.get("title", "")),
              tuple(str(c) for c in t.get("columns", ())), tuple(tuple(str(cell) for cell in row) for row in t.get("rows", ())))
        for t in bench["tables"]
    )
    notes = tuple(str(note) for t in bench["tables"] for note in t.get("notes", ()))
    taken = (f"Taken on {bench.get('date', 'an unknown date')} with `{bench.get('display_command', 'python -m benchmarks')}` "
             f"on {machine.get('cpu_count', '?')} cores, {memory} GiB, Python {machine.get('python', '?')}.")
    return Section("benchmarks", "Benchmarks", (taken,), tables, notes)


#: The schema of the summary ``python -m benchmarks`` writes (benchmarks/results/all.json).
BENCHMARK_SCHEMA = "klcode-benchmarks/1"


def benchmark_problem(bench: Any) -> str | None:
    """What makes ``bench`` not a benchmark document of klcode, or None when it is one.

    Accepted: the summary of ``python -m benchmarks`` (``"schema": "klcode-benchmarks/1"`` and ``tables``,
    each with ``title``, ``columns`` and rows of as many cells), or one benchmark's result file
    (``"benchmark"``: its name, and ``"machine"``: where it ran).

    >>> print(benchmark_problem({"a": 1}))
    expected "schema": "klcode-benchmarks/1" with "tables", or one benchmark's result with "benchmark" and "machine" (got the keys a)
    >>> benchmark_problem({"schema": "klcode-benchmarks/1", "tables": [{"title": "t", "columns": ["x"], "rows": [["1", "2"]]}]})
    'table 1 (t): a row has 2 cells for 1 columns'
    """
    if not isinstance(bench, dict):
        return f"expected a JSON object (got {type(bench).__name__})"
    if bench.get("schema") == BENCHMARK_SCHEMA and isinstance(bench.get("tables"), list):
        for i, t in enumerate(bench["tables"], 1):
            if not (isinstance(t, dict) and isinstance(t.get("title"), str) and isinstance(t.get("columns"), list)
                    and isinstance(t.get("rows"), list)):
                return f"table {i} needs a title, columns and rows"
            for row in t["rows"]:
                if not isinstance(row, list) or len(row) != len(t["columns"]):
                    cells = len(row) if isinstance(row, list) else type(row).__name__
                    return f"table {i} ({t['title']}): a row has {cells} cells for {len(t['columns'])} columns"
        return None
    if isinstance(bench.get("benchmark"), str) and isinstance(bench.get("machine"), dict):
        return None
    keys = ", ".join(sorted(map(str, bench))[:8]) or "none"
    return (f'expected "schema": "{BENCHMARK_SCHEMA}" with "tables", or one benchmark\'s result with "benchmark" '
            f'and "machine" (got the keys {keys})')


def _benchmarks_section(bench: dict) -> Section:
    if isinstance(bench, dict) and isinstance(bench.get("tables"), list):
        return _benchmark_summary_section(bench)
    title = str(bench.get("benchmark", "benchmarks")) if isinstance(bench, dict) else "benchmarks"
    tables = _bench_tables(title, bench)
    seen: dict[str, int] = {}
    unique = []
    for table in tables:  # keep HTML ids distinct
        count = seen.get(table.key, 0)
        seen[table.key] = count + 1
        unique.append(table if not count else Table(f"{table.key}-{count + 1}", table.title, table.header, table.rows))
    return Section("benchmarks", "Benchmarks", ("Benchmark results as given, every field shown.",), tuple(unique))


def report_sections(report: CorpusReport, *, bench: dict | None = None, figures: bool = True) -> tuple[Section, ...]:
    """The report laid out once: sections of formatted tables and figures, shared by both renderers."""
    sections = [
        _corpora_section(report),
        _matrix_section(report, figures),
        _trees_section(report, figures),
        _convergence_section(report, figures),
        _reproducibility_section(report),
    ]
    if bench is not None:
        sections.append(_benchmarks_section(bench))
    return tuple(sections)


def _title(report: CorpusReport) -> str:
    return f"klcode report: {len(report.corpora)} corpora, {', '.join(report.tokenizations)} tokens"


# ------------------------------------------------------------------ SVG clean-up
_PROLOG = re.compile(r"\A.*?(?=<svg\b)", re.DOTALL)
_METADATA = re.compile(r"<metadata>.*?</metadata>\s*", re.DOTALL)
_NAMESPACES = re.compile(r'\s+xmlns(?::\w+)?="[^"]*"')


def inline_svg(svg: str, prefix: str) -> str:
    """An SVG document made fit to sit inside HTML: no XML prolog, DOCTYPE, metadata or namespace declarations,
    ``xlink:href`` as plain ``href``, and every id (and reference to it) prefixed with ``prefix``.

    >>> inline_svg('<?xml version="1.0"?>\\n<svg xmlns="http://www.w3.org/2000/svg"><metadata>m</metadata>'
    ...            '<clipPath id="c"/><g clip-path="url(#c)"/><use xlink:href="#c"/></svg>', "f1-")
    '<svg><clipPath id="f1-c"/><g clip-path="url(#f1-c)"/><use href="#f1-c"/></svg>'
    """
    text = _NAMESPACES.sub("", _METADATA.sub("", _PROLOG.sub("", svg, count=1)))
    text = text.replace("xlink:href=", "href=")
    text = re.sub(r'\bid="([^"]+)"', lambda m: f'id="{prefix}{m.group(1)}"', text)
    text = re.sub(r"url\(#([^)]+)\)", lambda m: f"url(#{prefix}{m.group(1)})", text)
    return re.sub(r'href="#([^"]+)"', lambda m: f'href="#{prefix}{m.group(1)}"', text)


def standalone_svg(svg: str) -> str:
    """An SVG document without its DOCTYPE (an external DTD reference) and metadata, namespaces kept."""
    text = _PROLOG.sub("", svg, count=1)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + _METADATA.sub("", text)


# ------------------------------------------------------------------ HTML
_STYLE = """
:root { color-scheme: light; }
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
       margin: 0 auto; max-width: 1500px; padding: 1rem 2rem 4rem; color: #1d1d1f; background: #fff;
       line-height: 1.45; }
h1 { font-size: 1.6rem; margin-bottom: .2rem; }
h2 { font-size: 1.3rem; margin-top: 2.5rem; border-bottom: 1px solid #ccc; padding-bottom: .2rem; }
nav a { margin-right: 1rem; }
p.meta, code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: .85rem; }
table.numbers { border-collapse: collapse; margin: .8rem 0 1.2rem; font-size: .82rem; }
table.numbers caption { text-align: left; font-weight: 600; padding: .3rem 0; }
table.numbers th, table.numbers td { border: 1px solid #d6d6d6; padding: .15rem .45rem; white-space: nowrap; }
table.numbers th { background: #f3f3f3; }
table.numbers td.num { text-align: right; font-variant-numeric: tabular-nums; }
table.numbers tbody tr:nth-child(even) { background: #fafafa; }
.scroll { overflow-x: auto; }
figure { margin: 1rem 0 1.5rem; }
figure svg { max-width: 100%; height: auto; }
figcaption { font-size: .85rem; color: #444; margin-top: .3rem; }
figure.missing { padding: .6rem; border: 1px dashed #bbb; color: #666; }
ul.notes { font-size: .85rem; color: #333; }
details summary { cursor: pointer; font-size: .9rem; }
"""
_NUMBER = re.compile(r"^[−\-+]?(?:[\d,]+(?:\.\d+)?(?:e[+-]?\d+)?|∞|n/a|—)$")


def _html_table(table: Table) -> str:
    e = html.escape
    head = "".join(f"<th>{e(h)}</th>" for h in table.header)
    body = []
    for row in table.rows:
        cells = "".join(f'<td class="num">{e(c)}</td>' if _NUMBER.match(c) else f"<td>{e(c)}</td>" for c in row)
        body.append(f"<tr>{cells}</tr>")
    out = (f'<div class="scroll"><table class="numbers" id="{e(table.key)}"><caption>{e(table.title)}</caption>'
           f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table></div>")
    if table.collapsed:
        out = f"<details><summary>{e(table.title)}</summary>{out}</details>"
    return out


def _html_figure(figure: Figure) -> str:
    e = html.escape
    if figure.svg is None:
        return (f'<figure class="missing" id="{e(figure.key)}"><figcaption>{e(figure.title)}: figure not drawn '
                f"({e(figure.missing)})</figcaption></figure>")
    return (f'<figure id="{e(figure.key)}">{inline_svg(figure.svg, figure.key + "-")}'
            f"<figcaption><strong>{e(figure.title)}.</strong> {e(figure.caption)}</figcaption></figure>")


def render_html(report: CorpusReport, *, bench: dict | None = None, figures: bool = True) -> str:
    """The report as one self-contained HTML document (see the module docstring); ``bench`` adds a section."""
    e = html.escape
    sections = report_sections(report, bench=bench, figures=figures)
    r = report.reproducibility
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{e(_title(report))}</title>",
        f"<style>{_STYLE}</style></head><body>",
        f"<header><h1>{e(_title(report))}</h1>",
        f'<p class="meta">{e(", ".join(report.corpora))}</p>',
        f'<p class="meta">klcode {e(r.klcode_version)} · {e(r.created_utc)}'
        + (f" · {e(r.command_line)}" if r.command_line else "") + "</p>",
        "<nav>" + "".join(f'<a href="#{e(s.key)}">{e(s.title)}</a>' for s in sections) + "</nav></header>",
    ]
    for section in sections:
        parts.append(f'<section id="{e(section.key)}"><h2>{e(section.title)}</h2>')
        parts += [f"<p>{e(text)}</p>" for text in section.paragraphs]
        for block in section.blocks:
            parts.append(_html_table(block) if isinstance(block, Table) else _html_figure(block))
        if section.notes:
            parts.append('<ul class="notes">' + "".join(f"<li>{e(n)}</li>" for n in section.notes) + "</ul>")
        parts.append("</section>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


# ------------------------------------------------------------------ Markdown
def _markdown_table(table: Table) -> list[str]:
    lines = [f"**{_md(table.title)}**", ""]
    lines.append("| " + " | ".join(_md(h) for h in table.header) + " |")
    lines.append("|" + "|".join([":---"] + ["---:"] * (len(table.header) - 1)) + "|")
    lines += ["| " + " | ".join(_md(c) for c in row) + " |" for row in table.rows]
    return [*lines, ""]


def _markdown_figure(figure: Figure) -> list[str]:
    if figure.svg is None:
        return [f"*{_md(figure.title)}: figure not drawn ({_md(figure.missing)})*", ""]
    data = base64.b64encode(standalone_svg(figure.svg).encode("utf-8")).decode("ascii")
    alt = figure.title.replace("[", "(").replace("]", ")")
    return [f"![{alt}](data:image/svg+xml;base64,{data})", "", f"*{_md(figure.caption)}*", ""]


def render_markdown(report: CorpusReport, *, bench: dict | None = None, figures: bool = True) -> str:
    """The report as GitHub-flavoured Markdown: the same tables and numbers as :func:`render_html`."""
    r = report.reproducibility
    lines = [f"# {_title(report)}", "", ", ".join(report.corpora), "",
             f"klcode {r.klcode_version} · {r.created_utc}" + (f" · `{r.command_line}`" if r.command_line else ""), ""]
    for section in report_sections(report, bench=bench, figures=figures):
        lines += [f'<a id="{section.key}"></a>', "", f"## {section.title}", ""]
        for text in section.paragraphs:
            lines += [text, ""]
        for block in section.blocks:
            lines += _markdown_table(block) if isinstance(block, Table) else _markdown_figure(block)
        lines += [f"- {note}" for note in section.notes]
        if section.notes:
            lines.append("")
    return "\n".join(lines)
