"""Rendering results: one :class:`Document` per command, written as table, JSON, CSV or Markdown.

The library's records hold bits; this module converts to nats on request
(every ``*_bits_per_token`` field becomes ``*_nats_per_token``; code sizes
stay in bits), writes infinities as the string ``"inf"`` (JSON has no
infinity), and lays out tables.  Nothing here prints or writes files: the CLI
decides where a rendered document goes.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # records of the demos layer, documented here; no import at run time
    from ..demos.base import Demo, DemoResult

from ..analysis.compare import Comparison, Contribution
from ..analysis.converge import Convergence
from ..analysis.file_entropy import FileEntropy
from ..analysis.matrix import DivergenceMatrix, mutual_neighbours
from ..analysis.measure import Measurement
from ..analysis.model_compare import ModelComparison
from ..text.counts import Counts
from ..text.tokenize import symbol_label

UNITS = ("bits", "nats")
FORMATS = ("table", "json", "csv", "markdown")
_PER_TOKEN = "_bits_per_token"
_CODE_TABLE_FIELDS = ("symbols", "p_code_lengths_bits", "q_code_lengths_bits", "p_codewords", "q_codewords")


@dataclass(frozen=True)
class Table:
    """A table twice: formatted cells for people, raw records (one dict per row) for CSV."""

    title: str
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    records: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True)
class Document:
    """What a command reports: tables and notes for people, ``data`` for JSON; CSV is the table ``csv_table``."""

    title: str
    tables: tuple[Table, ...]
    notes: tuple[str, ...]
    data: dict[str, Any]
    csv_table: int = 0
    unit: str = "bits"
    extra: dict[str, Any] = field(default_factory=dict)


# ------------------------------------------------------------------ conversions
def unit_factor(unit: str) -> float:
    """Multiplier from bits to ``unit``: 1 for bits, ln 2 for nats."""
    if unit not in UNITS:
        raise ValueError(f"unit must be one of {', '.join(UNITS)} (got {unit!r})")
    return 1.0 if unit == "bits" else math.log(2)


def _number(value: Any) -> Any:
    if isinstance(value, float):
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        if math.isnan(value):
            return "nan"
    return value


def _scale(value: Any, factor: float) -> Any:
    if isinstance(value, (list, tuple)):
        return [_scale(item, factor) for item in value]
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return _number(value * factor)
    return value


def jsonable(value: Any, unit: str = "bits") -> Any:
    """``value`` (dataclasses, dicts, tuples, floats) as JSON-ready data, per-token figures in ``unit``."""
    factor = unit_factor(unit)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        value = {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if isinstance(key, str) and key.endswith(_PER_TOKEN):
                out[key[: -len(_PER_TOKEN)] + f"_{unit}_per_token"] = _scale(item, factor)
            else:
                out[key] = jsonable(item, unit)
        return out
    if isinstance(value, (list, tuple)):
        return [jsonable(item, unit) for item in value]
    return _number(value)


def _fmt(value: float | None, digits: int = 6) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and math.isinf(value):
        return "∞" if value > 0 else "-∞"
    if isinstance(value, float) and math.isnan(value):
        return "n/a"
    text = f"{value:.{digits}f}"
    return text[1:] if text.startswith("-") and float(text) == 0 else text


# ------------------------------------------------------------------ measurement
def code_table_rows(measurement: Measurement) -> list[dict[str, Any]]:
    """The code tables of p and q side by side, one row per symbol."""
    m = measurement
    return [
        {
            "symbol": symbol,
            "p_code_length_bits": m.p_code_lengths_bits[i],
            "p_codeword": m.p_codewords[i],
            "q_code_length_bits": m.q_code_lengths_bits[i],
            "q_codeword": m.q_codewords[i],
        }
        for i, symbol in enumerate(m.symbols)
    ]


def measurement_dict(measurement: Measurement, unit: str = "bits", codes: bool = False) -> dict[str, Any]:
    """A JSON-ready dict of a measurement (per-token figures in ``unit``; code tables if ``codes``)."""
    raw = {f.name: getattr(measurement, f.name) for f in dataclasses.fields(measurement) if f.name not in _CODE_TABLE_FIELDS}
    raw["coders"] = {c.coder: c for c in measurement.coders}
    out = jsonable(raw, unit)
    out["unit"] = unit
    if codes:
        out["code_table"] = code_table_rows(measurement)
    return out


def measurement_rows(m: Measurement, unit: str = "bits", names: tuple[str, str] = ("p", "q")) -> Table:
    """The formulas-beside-codes table of one measurement, per token in ``unit``."""
    f = unit_factor(unit)
    a, b = names
    with_stream = m.stream != "expected"
    header = ["formula  ·  Huffman code", "formula", "code: expected Σp·l"]
    if with_stream:
        header.append(f"code: measured ({m.tokens:,} tokens)")
    header.append("code − formula")
    rows, records = [], []

    def row(name: str, formula: float | None, expected: float | None, measured: float | None) -> None:
        code_value = measured if with_stream else expected
        gap = None if formula is None or code_value is None or math.isinf(formula) else code_value - formula
        scaled = [None if v is None else v * f for v in (formula, expected, measured, gap)]
        cells = [name, _fmt(scaled[0]), _fmt(scaled[1])] + ([_fmt(scaled[2])] if with_stream else []) + [_fmt(scaled[3])]
        rows.append(tuple(cells))
        records.append({"quantity": name, f"formula_{unit}_per_token": _number(scaled[0]),
                        f"expected_{unit}_per_token": _number(scaled[1]),
                        f"measured_{unit}_per_token": _number(scaled[2]), f"gap_{unit}_per_token": _number(scaled[3])})

    lp, lq = m.p_code, m.q_code
    q_effective = f"{b}'"
    row(f"H({a}) entropy  ·  L_{a}", m.entropy_bits_per_token, lp.expected_bits_per_token, lp.measured_bits_per_token)
    row(f"H({a},{b}) cross-entropy  ·  L_{b}", m.cross_entropy_bits_per_token, lq.expected_bits_per_token, lq.measured_bits_per_token)
    if m.unseen is not None:
        row(f"H({a},{q_effective}) {q_effective} = model of {b}'s code  ·  L_{b}", m.effective_cross_entropy_bits_per_token,
            lq.expected_bits_per_token, lq.measured_bits_per_token)
    excess_expected = lq.expected_bits_per_token - lp.expected_bits_per_token
    excess_measured = m.measured_excess_bits_per_token if with_stream else None
    row(f"KL({a}‖{b})  ·  L_{b} − L_{a}", m.kl_bits_per_token, excess_expected, excess_measured)
    if m.unseen is not None:
        row(f"KL({a}‖{q_effective})  ·  L_{b} − L_{a}", m.effective_kl_bits_per_token, excess_expected, excess_measured)
    dyadic_measured = None if lq.measured_bits_per_token is None else lq.measured_bits_per_token - m.entropy_bits_per_token
    row(f"KL({a}‖{b}̂) {b}̂ = 2^−l_{b}  ·  L_{b} − H({a})", m.kl_to_dyadic_bits_per_token,
        lq.expected_bits_per_token - m.entropy_bits_per_token, dyadic_measured)
    row(f"KL({b}‖{a}) reverse", m.kl_reverse_bits_per_token, None, None)
    row(f"JS({a},{b}) Jensen–Shannon", m.js_bits_per_token, None, None)
    return Table(f"[{unit} per token]", tuple(header), tuple(rows), tuple(records))


def coders_table(m: Measurement, unit: str = "bits", names: tuple[str, str] = ("p", "q")) -> Table | None:
    """One row per coder family: expected and measured L_p and L_q, the excess, and its gap to KL(p‖q')."""
    if not m.coders:
        return None
    f = unit_factor(unit)
    a, b = names
    with_stream = m.stream != "expected"
    header = ["coder", f"L_{a} expected", f"L_{b} expected"]
    if with_stream:
        header += [f"L_{a} measured", f"L_{b} measured"]
    header += [f"L_{b} − L_{a}", f"− KL({a}‖{b}')"]
    rows, records = [], []
    for c in m.coders:
        cells = [c.coder + ("" if c.order0 else " (contextual)"), _fmt(_times(c.p_expected_bits_per_token, f)),
                 _fmt(_times(c.q_expected_bits_per_token, f))]
        if with_stream:
            cells += [_fmt(_times(c.p_measured_bits_per_token, f)), _fmt(_times(c.q_measured_bits_per_token, f))]
        cells += [_fmt(_times(c.measured_excess_bits_per_token, f)), _fmt(_times(c.gap_to_kl_bits_per_token, f))]
        rows.append(tuple(cells))
        records.append(jsonable(c, unit))
    title = f"coders [{unit} per token]; KL({a}‖{b}') = {_fmt(m.effective_kl_bits_per_token * f)}"
    return Table(title, tuple(header), tuple(rows), tuple(records))


def _times(value: float | None, factor: float) -> float | None:
    return None if value is None else value * factor


def _coder_notes(m: Measurement) -> list[str]:
    notes = [f"{c.coder}: {c.description}" for c in m.coders if not c.coder == "huffman"]
    if any(not c.order0 for c in m.coders):
        notes.append("contextual coders compress the id stream alone: they exploit token order, so their bits "
                     "are not an order-0 cross-entropy and have no code of q")
    return notes


def _unseen_note(m: Measurement, names: tuple[str, str]) -> str | None:
    u = m.unseen
    if u is None:
        return None
    shown = ", ".join(u.symbols[:12]) + (", …" if u.types > 12 else "")
    tokens = "" if u.stream_tokens is None else f", {u.stream_tokens:,} tokens"
    return (f"unseen: {u.types} symbol type(s) of {names[0]} are absent from {names[1]} ({shown}; "
            f"{u.p_mass:.4%} of {names[0]}{tokens}), so KL = ∞ by formula; policy {u.policy}: {u.description}")


def measurement_notes(m: Measurement, names: tuple[str, str] = ("p", "q")) -> list[str]:
    """The lines under the table: bound, stream and round trip, Kraft sums, unseen symbols, tie rule."""
    lp, lq = m.p_code, m.q_code
    held = "held" if m.huffman_bound_held else "did not hold"
    why = "" if m.huffman_bound_held or m.p_support_size > 1 else " (one symbol: its 1-bit codeword costs 1 bit while H = 0; the bound is for ≥ 2 symbols)"
    notes = [f"Huffman bound H({names[0]}) ≤ L_{names[0]} < H({names[0]}) + 1: {held}{why}"]
    if m.stream == "expected":
        notes.append("no stream: code columns are exact expected lengths Σ p(x)·l(x) (give --samples N to encode a real stream)")
    else:
        source = {
            "samples": f"{m.tokens:,} samples drawn from p (seed {m.seed})",
            "text": f"the text of {names[0]} ({m.tokens:,} tokens)",
            "counts": f"a stream with the token counts of {names[0]} ({m.tokens:,} tokens; its text was not available, "
                      "and an order-0 code's length does not depend on token order)",
        }[m.stream]
        skipped = " (--no-verify)" if lp.roundtrip == "skipped" else ""
        notes.append(f"stream: {source}; code of {names[0]}: {lp.total_bits:,} bits, code of {names[1]}: "
                     f"{lq.total_bits:,} bits; round trip: {lp.roundtrip}{skipped}")
    notes.append(f"codes: Kraft sum {lp.kraft_sum:.6g} ({names[0]}), {lq.kraft_sum:.6g} ({names[1]}); "
                 f"longest codeword {lp.max_codeword_bits} / {lq.max_codeword_bits} bits")
    band = m.tie_band
    if band is not None and band.maximum_bits_per_token > band.minimum_bits_per_token:
        notes.append(f"tie band: over the tie orders of {names[1]}'s Huffman code, expected L_{names[1]} ranges over "
                     f"[{band.minimum_bits_per_token:.6f}, {band.maximum_bits_per_token:.6f}] bits "
                     f"(klcode's canonical code: {band.canonical_bits_per_token:.6f}); {band.method}")
    unseen = _unseen_note(m, names)
    if unseen:
        notes.append(unseen)
    notes.extend(m.input_notes)
    notes.append(f"ties: {m.tie_rule}")
    return notes


def code_table(m: Measurement, names: tuple[str, str] = ("p", "q")) -> Table:
    """The code table (symbols with a codeword under either code)."""
    header = ("symbol", f"l_{names[0]}", f"codeword of {names[0]}", f"l_{names[1]}", f"codeword of {names[1]}")
    records = tuple(r for r in code_table_rows(m) if r["p_code_length_bits"] or r["q_code_length_bits"])
    rows = tuple(
        (r["symbol"], str(r["p_code_length_bits"] or ""), r["p_codeword"], str(r["q_code_length_bits"] or ""), r["q_codeword"])
        for r in records
    )
    return Table("code tables (canonical codewords)", header, rows, records)


def measurement_document(m: Measurement, title: str, extra: dict[str, Any], unit: str = "bits",
                         codes: bool = False, names: tuple[str, str] = ("p", "q")) -> Document:
    """The document of ``klcode measure``."""
    tables = [measurement_rows(m, unit, names)]
    coder_rows = coders_table(m, unit, names)
    if coder_rows is not None:
        tables.append(coder_rows)
    if codes:
        tables.append(code_table(m, names))
    data = {**extra, **measurement_dict(m, unit, codes)}
    notes = measurement_notes(m, names) + _coder_notes(m)
    return Document(title, tuple(tables), tuple(notes), data, unit=unit)


# --------------------------------------------------------------------- compare
def _contribution_table(title: str, rows: Sequence[Contribution], unit: str) -> Table:
    f = unit_factor(unit)
    header = ("token", "count in A", "count in B", "p_A", "p_B", f"p_A·log(p_A/q'_B) [{unit}]")
    cells = tuple(
        (c.symbol + (" (not in B)" if c.unseen_in_b else ""), f"{c.count_a:,}", f"{c.count_b:,}",
         f"{c.probability_a:.6f}", f"{c.probability_b:.6f}", _fmt(c.kl_bits_per_token * f))
        for c in rows
    )
    records = tuple(jsonable(c, unit) for c in rows)
    return Table(title, header, cells, records)


def comparison_document(c: Comparison, unit: str = "bits", codes: bool = False, extra: dict | None = None) -> Document:
    """The document of ``klcode compare``: both directions, then the keyness tables."""
    ab, ba = c.a_coded_with_b, c.b_coded_with_a
    f = unit_factor(unit)
    header = ("quantity", "formula", "Huffman measured", "measured − formula")
    rows, records = [], []

    def row(name: str, formula: float, measured: float | None) -> None:
        gap = None if measured is None or math.isinf(formula) else measured - formula
        scaled = [None if v is None else v * f for v in (formula, measured, gap)]
        rows.append((name, _fmt(scaled[0]), _fmt(scaled[1]), _fmt(scaled[2])))
        records.append({"quantity": name, f"formula_{unit}_per_token": _number(scaled[0]),
                        f"measured_{unit}_per_token": _number(scaled[1]), f"gap_{unit}_per_token": _number(scaled[2])})

    row("H(A)  ·  L_A, A's code on A", ab.entropy_bits_per_token, ab.p_code.measured_bits_per_token)
    row("H(B)  ·  L_B, B's code on B", ba.entropy_bits_per_token, ba.p_code.measured_bits_per_token)
    row("H(A,B)  ·  B's code on A", ab.cross_entropy_bits_per_token, ab.q_code.measured_bits_per_token)
    if ab.unseen is not None:
        row("H(A,B')  B' = model of B's code", ab.effective_cross_entropy_bits_per_token, ab.q_code.measured_bits_per_token)
    row("H(B,A)  ·  A's code on B", ba.cross_entropy_bits_per_token, ba.q_code.measured_bits_per_token)
    if ba.unseen is not None:
        row("H(B,A')  A' = model of A's code", ba.effective_cross_entropy_bits_per_token, ba.q_code.measured_bits_per_token)
    row("KL(A‖B)  ·  excess of B's code on A", ab.kl_bits_per_token, ab.measured_excess_bits_per_token)
    if ab.unseen is not None:
        row("KL(A‖B')", ab.effective_kl_bits_per_token, ab.measured_excess_bits_per_token)
    row("KL(B‖A)  ·  excess of A's code on B", ba.kl_bits_per_token, ba.measured_excess_bits_per_token)
    if ba.unseen is not None:
        row("KL(B‖A')", ba.effective_kl_bits_per_token, ba.measured_excess_bits_per_token)
    row("JS(A,B)", c.js_bits_per_token, None)
    main = Table(f"[{unit} per token]", header, tuple(rows), tuple(records))
    tables = [main] + [t for t in (coders_table(ab, unit, ("A", "B")), coders_table(ba, unit, ("B", "A"))) if t]
    tables += [
        _contribution_table("tokens over-represented in A (largest contributions to KL(A‖B'))", c.top_a, unit),
        _contribution_table("tokens over-represented in B (most negative contributions to KL(A‖B'))", c.top_b, unit),
    ]
    if c.zipping:
        tables.append(Table(
            "compression-based relative entropy (Benedetto, Caglioti & Loreto 2002) [bits per byte of the piece]",
            ("compressor", "piece of B after A", "piece of A after B", "piece bytes"),
            tuple((z.compressor, _fmt(z.piece_of_b_after_a.relative_entropy_bits_per_byte, 4),
                   _fmt(z.piece_of_a_after_b.relative_entropy_bits_per_byte, 4),
                   f"{z.piece_of_b_after_a.piece_bytes:,} / {z.piece_of_a_after_b.piece_bytes:,}") for z in c.zipping),
            tuple(jsonable(z) for z in c.zipping)))
    if codes:
        tables.append(code_table(ab, ("A", "B")))
    notes = [
        f"A = {c.a}: {c.a_tokens:,} tokens, {c.a_types:,} types; B = {c.b}: {c.b_tokens:,} tokens, {c.b_types:,} types; "
        f"{c.shared_types:,} types shared",
    ]
    for name, m, stream, names in (("A", ab, c.a_stream, ("A", "B")), ("B", ba, c.b_stream, ("B", "A"))):
        what = "its text" if stream == "text" else "a stream with its token counts (text not available)"
        notes.append(f"{name} encoded from {what} with both codes: {m.p_code.total_bits:,} / {m.q_code.total_bits:,} bits; "
                     f"round trip: {m.p_code.roundtrip}")
        unseen = _unseen_note(m, names)
        if unseen:
            notes.append(unseen)
    notes.append(f"ties: {ab.tie_rule}")
    notes += _coder_notes(ab)
    if c.zipping:
        notes.append("zipping: (|Z(A+b)| − |Z(A)| − |Z(B₀+b)| + |Z(B₀)|)·8/|b| with b the last piece of B and B₀ = B without b; "
                     "a contextual estimate (phrases, not symbol frequencies), not an order-0 KL; zlib sees only a 32 KiB window")
        negative = [f"{z.compressor} {side} {_fmt(e.relative_entropy_bits_per_byte, 4)}" for z in c.zipping
                    for side, e in (("piece of B after A", z.piece_of_b_after_a), ("piece of A after B", z.piece_of_a_after_b))
                    if e.relative_entropy_bits_per_byte < 0]
        if negative:
            notes.append(f"negative zipping estimate ({'; '.join(negative)}): not a divergence below 0 but the limit of "
                         "the method; it is a difference of compressed sizes and assumes |Z(X+b)| − |Z(X)| is what b "
                         "costs after X, which a block-sorting compressor (bz2 sorts whole 900 kB blocks) or a "
                         "compressor's framing need not give (the order-0 KL rows are ≥ 0 by construction)")
    data = {
        **(extra or {}),
        **jsonable({k: getattr(c, k) for k in ("a", "b", "tokenizer", "a_tokens", "b_tokens", "a_types", "b_types",
                                                 "shared_types", "a_stream", "b_stream", "js_bits_per_token",
                                                 "top_a", "top_b", "zipping")}, unit),
        "a_coded_with_b": measurement_dict(ab, unit, codes),
        "b_coded_with_a": measurement_dict(ba, unit, codes),
        "unit": unit,
    }
    title = f"klcode compare  A = {c.a}, B = {c.b}  ({c.tokenizer})"
    return Document(title, tuple(tables), tuple(notes), data, unit=unit)


# ---------------------------------------------------------------------- matrix
def matrix_document(mx: DivergenceMatrix, unit: str = "bits", full: bool | None = None, extra: dict | None = None) -> Document:
    """The document of ``klcode matrix``: nearest neighbours, and the full JS matrix when small (or ``full``)."""
    f = unit_factor(unit)
    n = len(mx.labels)
    header = ("corpus", "tokens", "types", "nearest by JS", "JS", "nearest by measured excess", "L_q − L_p")
    rows = tuple(
        (label, f"{mx.tokens[i]:,}", f"{mx.types[i]:,}", js.nearest, _fmt(js.bits_per_token * f, 4),
         ex.nearest, _fmt(ex.bits_per_token * f, 4))
        for i, (label, js, ex) in enumerate(zip(mx.labels, mx.nearest_by_js, mx.nearest_by_measured_excess))
    )
    pairs = tuple(
        {"a": mx.labels[i], "b": mx.labels[j],
         f"kl_{unit}_per_token": _number(mx.kl_bits_per_token[i][j] * f),
         f"effective_kl_{unit}_per_token": _number(mx.effective_kl_bits_per_token[i][j] * f),
         f"measured_excess_{unit}_per_token": _number(mx.measured_excess_bits_per_token[i][j] * f),
         f"js_{unit}_per_token": _number(mx.js_bits_per_token[i][j] * f)}
        for i in range(n) for j in range(n) if i != j
    )
    tables = [Table(f"nearest neighbours [{unit} per token]", header, rows, pairs)]
    if full or (full is None and n <= 12):
        for name, matrix in (("JS(row, column)", mx.js_bits_per_token),
                             ("measured excess L_column − L_row on the row's tokens", mx.measured_excess_bits_per_token)):
            cells = tuple((mx.labels[i],) + tuple("·" if i == j else _fmt(matrix[i][j] * f, 4) for j in range(n)) for i in range(n))
            tables.append(Table(f"{name} [{unit} per token]", ("",) + mx.labels, cells))
    mutual = sorted(tuple(sorted((pair.a, pair.b))) for pair in mutual_neighbours(mx.nearest_by_js))
    infinite = sum(1 for i in range(n) for j in range(n) if i != j and math.isinf(mx.kl_bits_per_token[i][j]))
    notes = [
        f"{n} corpora, {mx.tokenizer}; cell (row, column) codes the row's tokens with the column's code",
        "mutual nearest neighbours by JS: " + (", ".join(f"{a}–{b}" for a, b in mutual) or "none"),
        f"KL by formula is ∞ for {infinite} of {n * (n - 1)} ordered pairs (the column lacks symbols of the row); "
        f"measured codes use the {mx.unseen_policy} policy, so their excess stays finite",
        "measured: Huffman codes applied to a stream with each corpus's token counts (an order-0 code's length does not "
        f"depend on token order); round trip: {mx.roundtrip}",
    ]
    data = {**(extra or {}), **jsonable(mx, unit), "unit": unit}
    return Document(f"klcode matrix  ({n} corpora, {mx.tokenizer})", tuple(tables), tuple(notes), data, unit=unit)


# --------------------------------------------------------------------- entropy
def entropy_document(results: Sequence[FileEntropy], unit: str = "bits", extra: dict | None = None) -> Document:
    """The document of ``klcode entropy``: one row per file."""
    f = unit_factor(unit)
    names = ("zlib", "bz2", "lzma")
    coder_labels = list(results[0].coder_bits_per_token) if results else []
    header = ("file", "bytes", "tokens", "types", "H", "Huffman", *coder_labels, "Huffman size", "Huffman",
              "zlib", "bz2", "lzma")
    rows, records = [], []
    for r in results:
        compressed = r.compressed_bits_per_byte or {}
        rows.append((os.path.basename(r.path) or r.path, f"{r.input_bytes:,}", f"{r.tokens:,}", f"{r.types:,}",
                     _fmt(r.entropy_bits_per_token * f, 4), _fmt(r.huffman_bits_per_token * f, 4),
                     *(_fmt(r.coder_bits_per_token[label] * f, 4) for label in coder_labels),
                     f"{r.huffman_bytes:,} B", _fmt(r.huffman_bits_per_byte, 4))
                    + tuple(_fmt(compressed[name], 4) if name in compressed else "n/a" for name in names))
        record = jsonable(r, unit)
        record.pop("compressed_bits_per_byte")
        record.pop("coder_bits_per_token")
        record.update({f"{label}_{unit}_per_token": _number(r.coder_bits_per_token[label] * f) for label in coder_labels})
        record.update({f"{name}_bits_per_byte": _number(compressed.get(name, math.nan)) for name in names})
        records.append(record)
    tokenizer = results[0].tokenizer if results else ""
    notes = [
        f"tokens: {tokenizer}; Huffman: an order-0 code of each file's own token distribution, actually encoded "
        f"(round trip: {', '.join(sorted({r.roundtrip for r in results}))}), code table not counted",
        "zlib (level 9), bz2 (level 9), lzma (preset 6) compress the raw bytes and exploit context: "
        "they are not order-0 entropies, just scale",
    ]
    if any(r.stream == "counts" for r in results):
        notes.append("counts files: Huffman measured on a stream with the saved counts; no bytes for the compressors (n/a)")
    data = {**(extra or {}), "files": list(records), "unit": unit}
    title = (f"H, Huffman{''.join(', ' + label for label in coder_labels)} in {unit} per token; "
             "the last four columns in bits per byte of the file")
    return Document(f"klcode entropy  ({len(results)} file(s))", (Table(title, header, tuple(rows), tuple(records)),),
                    tuple(notes), data, unit=unit)


# ----------------------------------------------------------------------- count
def counts_document(counts: Counts, top: int = 20, output: str | None = None) -> Document:
    """The document of ``klcode count``: totals and the most frequent tokens."""
    order = sorted(range(counts.types), key=lambda i: (-int(counts.counts[i]), i))
    total = counts.total_tokens
    rows = tuple((symbol_label(counts.symbols[i]), f"{int(counts.counts[i]):,}", f"{counts.counts[i] / total:.4%}") for i in order[:top])
    records = tuple({"token": symbol_label(counts.symbols[i]), "count": int(counts.counts[i])} for i in order)
    notes = [f"{total:,} tokens, {counts.types:,} types, {counts.input_bytes:,} input bytes from "
             f"{len(counts.sources)} source(s); tokens: {counts.spec.describe()}"]
    if output:
        notes.append(f"counts saved to {output} (every command accepts it where it accepts a corpus)")
    data = {"tokenizer": counts.spec.to_dict(), "sources": list(counts.sources), "input_bytes": counts.input_bytes,
            "total_tokens": total, "types": counts.types, "saved_to": output,
            "top": [{"token": r["token"], "count": r["count"]} for r in records[:top]]}
    return Document("klcode count", (Table(f"most frequent tokens (top {min(top, counts.types)})",
                                           ("token", "count", "share"), rows, records),), tuple(notes), data)


# -------------------------------------------------------------------- rendering
def render_json(document: Document) -> str:
    return json.dumps(document.data, indent=2, ensure_ascii=False) + "\n"


def render_csv(document: Document) -> str:
    """The document's main table as CSV, one record per row, raw numbers."""
    table = document.tables[document.csv_table]
    records = table.records or tuple(dict(zip(table.header, row)) for row in table.rows)
    out = io.StringIO()
    if records:
        writer = csv.DictWriter(out, fieldnames=list(records[0]), lineterminator="\n")
        writer.writeheader()
        for record in records:
            writer.writerow({k: json.dumps(v, ensure_ascii=False) if isinstance(v, (list, dict)) else v for k, v in record.items()})
    return out.getvalue()


def _markdown_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(document: Document) -> str:
    """All tables as GitHub-flavoured Markdown, the notes as a list."""
    lines = [f"## {document.title}", ""]
    for table in document.tables:
        if table.title:
            lines += [f"**{table.title}**", ""]
        lines.append("| " + " | ".join(_markdown_cell(h) for h in table.header) + " |")
        lines.append("|" + "|".join([":---"] + ["---:"] * (len(table.header) - 1)) + "|")
        for row in table.rows:
            lines.append("| " + " | ".join(_markdown_cell(c) for c in row) + " |")
        lines.append("")
    lines += [f"- {note}" for note in document.notes]
    return "\n".join(lines) + "\n"


def rich_renderables(document: Document) -> list:
    """rich Tables and Texts for a terminal (rich is imported here, lazily); no text is read as markup."""
    from rich.table import Table as RichTable
    from rich.text import Text

    out: list = [Text(document.title, style="bold")]
    for table in document.tables:
        rich = RichTable(title=Text(table.title) if table.title else None, title_justify="left")
        for i, name in enumerate(table.header):
            widest = max((len(row[i]) for row in table.rows), default=0)
            prose = widest > 40  # long text (a lesson, a description) wraps anywhere
            # other cells never shrink below their width (a number is never cut); their headers wrap at spaces
            rich.add_column(Text(name), justify="left" if i == 0 or prose else "right", ratio=1 if prose else None)
        for row in table.rows:
            rich.add_row(*(Text(cell) for cell in row))
        out.append(_FittedTable(rich, table))
    out += [Text(f"  {note}") for note in document.notes]
    return out


def natural_width(document: Document, prose_width: int = 72) -> int:
    """Characters a document's widest table takes laid out in full (prose columns at ``prose_width``); at least 80.

    The width for output that is not a terminal (``-o``, pipes): no table is squeezed or stacked there.
    """
    widths = [80]
    for table in rich_renderables(document):
        if isinstance(table, _FittedTable):
            least, natural = table._bounds()
            prose = [bool(table.table.rows) and max(len(row[i]) for row in table.table.rows) > 40
                     for i in range(len(natural))]
            widths.append(sum(min(n, prose_width) if wrap else n for n, wrap in zip(natural, prose))
                          + 3 * len(natural) + 1)
    return max(widths)


class _FittedTable:
    """A rich table laid out to the width: at its natural width when it fits; else with the headers wrapped at
    spaces and prose wrapped (no other cell narrower than its widest entry); else each row stacked as
    ``header: cell`` lines.  No number is ever cut."""

    def __init__(self, rich, table: Table) -> None:
        self.rich, self.table = rich, table

    def _bounds(self) -> tuple[list[int], list[int]]:
        """Per column: the narrowest width that cuts nothing, and the natural width."""
        from rich.cells import cell_len

        least, natural = [], []
        for i, name in enumerate(self.table.header):
            cells = [cell_len(row[i]) for row in self.table.rows] or [0]
            words = [cell_len(word) for text in (name, *(row[i] for row in self.table.rows)) for word in text.split()]
            prose = max(len(row[i]) for row in self.table.rows) > 40 if self.table.rows else False
            least.append(max(words or [1]) if prose else max(max(cells), max((cell_len(w) for w in name.split()),
                                                                           default=0)))
            natural.append(max(cell_len(name), *cells))
        return least, natural

    def __rich_measure__(self, console, options):
        from rich.measure import Measurement

        least, natural = self._bounds()
        frame = 3 * len(least) + 1  # a border and two padding spaces per column, one closing border
        return Measurement(sum(least) + frame, sum(natural) + frame).clamp(max_width=options.max_width)

    def __rich_console__(self, console, options):
        from rich.text import Text

        least, natural = self._bounds()
        room = options.max_width - (3 * len(least) + 1)
        if sum(natural) <= room:
            yield self.rich
            return
        if sum(least) <= room:
            widths, spare = list(least), room - sum(least)
            for i in sorted(range(len(widths)), key=lambda k: natural[k] - least[k]):  # small gains first
                grant = min(spare, natural[i] - least[i])
                widths[i] += grant
                spare -= grant
            for column, width in zip(self.rich.columns, widths):
                column.width = width
            yield self.rich
            return
        if self.table.title:
            yield Text(self.table.title)
        for row in self.table.rows:
            yield Text(f"· {row[0]}" if row else "·")
            for name, cell in zip(self.table.header[1:], row[1:]):
                yield Text(f"    {name}: {cell}")


# -------------------------------------------------------------------- converge
def convergence_document(c: Convergence, unit: str = "bits", extra: dict | None = None) -> Document:
    """The document of ``klcode converge``: excess by sample size (with the coin-flip identity) and by block size."""
    f = unit_factor(unit)
    coders = list(dict.fromkeys(point.coder for point in c.by_samples))
    excess = {(point.coder, point.samples): point.measured_excess_bits_per_token for point in c.by_samples}
    header = ("N", *(f"{name}: L_q − L_p" for name in coders), "(P(obs|q)/P(obs|p))^(1/N)", "2^−KL")
    rows, records = [], []
    for n, lr in zip(c.sample_sizes, c.likelihood):
        rows.append((f"{n:,}", *(_fmt(excess[name, n] * f, 4) for name in coders), _fmt(lr.normalized_ratio, 4), _fmt(lr.limit, 4)))
        records.append({"samples": n, **{f"{name}_excess_{unit}_per_token": _number(excess[name, n] * f) for name in coders},
                        "normalized_likelihood_ratio": _number(lr.normalized_ratio), "limit": _number(lr.limit)})
    by_samples = Table(f"measured excess by sample size [{unit} per token]; KL(p‖q) = {_fmt(c.kl_bits_per_token * f, 4)}",
                       header, tuple(rows), tuple(records))
    block_rows = tuple(
        (str(point.block), _fmt(_times(point.expected_excess_bits_per_token, f), 4),
         _fmt(point.measured_excess_bits_per_token * f, 4),
         _fmt(_times(None if point.expected_excess_bits_per_token is None
                     else point.expected_excess_bits_per_token - c.effective_kl_bits_per_token, f), 4))
        for point in c.by_block
    )
    n = c.sample_sizes[-1]
    by_block = Table(f"block Huffman by block size k [{unit} per token]",
                     ("k", "expected L_q − L_p", f"measured on {n:,} samples", "expected − KL(p‖q')"), block_rows)
    notes = [
        f"H(p) = {_fmt(c.entropy_bits_per_token * f, 4)}, H(p,q) = {_fmt(c.cross_entropy_bits_per_token * f, 4)}, "
        f"KL(p‖q) = {_fmt(c.kl_bits_per_token * f, 4)} {unit} per token; samples drawn from p with seed {c.seed}; "
        f"round trips: {c.roundtrip}",
        "each coder tends to its own limit: Huffman to KL(p‖q̂) with q̂ = 2^−l (q rounded to powers of two), "
        "Shannon to Σ p(⌈−log q⌉ − ⌈−log p⌉), ANS to KL(p‖q) within its model quantization",
        "block codes: each block codeword is within 1 bit of ideal, i.e. within 1/k bit per token, so the excess → KL as k grows",
        "the coin-flip identity: (P(obs|q)/P(obs|p))^(1/N) = 2^(−(empirical KL)) → 2^(−KL(p‖q)) as N grows",
    ]
    if c.model != "q":
        notes.append(f"codes of q use the effective model: {c.model}")
    data = {**(extra or {}), **jsonable(c, unit), "unit": unit}
    return Document("klcode converge", (by_samples, by_block), tuple(notes), data, unit=unit)


# ------------------------------------------------------------------------ demo
def demo_document(result: DemoResult, explain: bool = False, extra: dict | None = None) -> Document:
    """The document of ``klcode demo NAME``: the numbers, the tables, and with ``explain`` the reasoning."""
    tables = tuple(Table(t.title, t.header, t.rows) for t in result.tables)
    notes = list(result.summary)
    if explain:
        notes += ["", "step by step:", *result.explanation]
    data = {**(extra or {}), "demo": result.name, "title": result.title, "summary": list(result.summary),
            **jsonable(result.data)}
    if explain:
        data["explanation"] = list(result.explanation)
    return Document(f"klcode demo {result.name}: {result.title}", tables, tuple(notes), data)


def demos_list_document(demos: dict[str, Demo]) -> Document:
    """The document of ``klcode demo --list``."""
    rows = tuple((d.name, d.lesson, d.parameters) for d in demos.values())
    records = tuple({"name": d.name, "lesson": d.lesson, "parameters": d.parameters} for d in demos.values())
    notes = ("run one with: klcode demo NAME [--explain] [--json] [--plot FILE.png]",)
    return Document("klcode demos", (Table("", ("demo", "lesson", "parameters"), rows, records),), notes,
                    {"demos": list(records)})


# ------------------------------------------------------------------------ rates
_COMPRESSOR_HEADERS = {"bz2": "bz2 -9", "xz": "xz -9e", "zstd": "zstd -19", "zlib": "zlib -9", "ppmd": "PPMd (order)"}


def _rate_cell(value: float, digits: int = 4) -> str:
    return _fmt(value, digits)


def rate_document(results: Sequence[Any], unit: str = "bits", extra: dict | None = None) -> Document:
    """The document of ``klcode rate``: per file, the model's bits per token (measured and ideal), per char, per byte,
    and the compressors' bits per byte."""
    f = unit_factor(unit)
    names = list(dict.fromkeys(c.compressor for r in results for c in r.compressors))
    header = ("file", "bytes", "tokens", "measured", "ideal", "overhead", "bits/char", "bits/byte",
              *(_COMPRESSOR_HEADERS.get(name, name) for name in names))
    rows, records = [], []
    for r in results:
        sizes = {c.compressor: c for c in r.compressors}
        cells = [os.path.basename(r.label) or r.label, f"{r.input_bytes:,}", f"{r.token_count:,}",
                 _rate_cell(r.measured_bits_per_token * f), _rate_cell(r.ideal_bits_per_token * f),
                 f"{r.model.overhead_bits / max(r.model.ideal_bits, 1e-300):.3%}",
                 _rate_cell(r.measured_bits_per_char), _rate_cell(r.measured_bits_per_byte)]
        for name in names:
            c = sizes.get(name)
            cells.append("n/a" if c is None else _rate_cell(c.bits_per_byte) + (f" (o{c.order})" if c.order else ""))
        rows.append(tuple(cells))
        record = jsonable(r, unit)
        record["measured_bits_per_char"] = _number(r.measured_bits_per_char)
        record["measured_bits_per_byte"] = _number(r.measured_bits_per_byte)
        record["compressors"] = {c.compressor: {**jsonable(c), "bits_per_byte": _number(c.bits_per_byte)}
                                 for c in r.compressors}
        records.append(record)
    model = results[0].model.model if results else ""
    notes = [
        f"model: {model}, started empty and learning as it codes (the entropy rate h(A) a compressor pays); "
        f"measured = 8 × the range-coded payload, decoded back ({', '.join(sorted({'verified' if r.model.verified else 'not verified (--no-verify)' for r in results}))}); "
        "ideal = Σ −log2 q(x_i | context) of the probabilities the coder was given",
        f"measured and ideal in {unit} per token; bits/char and bits/byte are the measured payload per char and per byte",
    ]
    partial = sorted({r.tokens for r in results} & {"words", "regex"})
    if partial:
        notes.append(f"{' and '.join(partial)} tokens leave out the text between tokens (spaces, punctuation): "
                     "bits/char and bits/byte here divide the token payload by the whole file's chars and bytes, "
                     "so they are not comparable with the compressors' columns, which code every byte")
    if names:
        notes.append("compressors on the same bytes, each decompressed and compared: "
                     + "; ".join(f"{name}: {next(c.setting for r in results for c in r.compressors if c.compressor == name)}"
                                 for name in names) + " (PPMd's best order in parentheses)")
    data = {**(extra or {}), "files": records, "unit": unit}
    kinds = ", ".join(sorted({r.tokens for r in results}))
    return Document(f"klcode rate  ({len(results)} file(s), {model}, {kinds})",
                    (Table(f"entropy rate: {unit} per token (measured, ideal), measured bits per char and per byte; "
                           "compressors in bits per byte", header, tuple(rows),
                           tuple(records)),), tuple(notes), data, unit=unit)


def _extra_cost_table(title: str, rows: Sequence[Any], unit: str) -> Table:
    f = unit_factor(unit)
    header = ("word", "occurrences", f"Σ extra [{unit}]", f"extra per occurrence [{unit}]",
              f"own model per occurrence [{unit}]", "costliest occurrence in context")
    cells = tuple((r.unit, f"{r.occurrences:,}", _fmt(r.extra_bits * f, 2), _fmt(r.extra_bits_per_occurrence * f, 3),
                   _fmt(r.own_bits_per_occurrence * f, 3), r.context) for r in rows)
    records = tuple({**jsonable(r), "extra_" + unit: _number(r.extra_bits * f)} for r in rows)
    return Table(title, header, cells, records)


def rate_comparison_tables(rc: Any, unit: str = "bits") -> tuple[tuple[Table, ...], tuple[str, ...], dict[str, Any]]:
    """Tables, notes and JSON data of ``compare --model``: h(A″‖A′), h(A″‖B), D(A‖B), both ways, and the costliest words."""
    f = unit_factor(unit)
    header = ("quantity", "measured", "ideal", "held-out tokens", "training tokens")
    rows, records = [], []

    def row(name: str, measured: float, ideal: float, d: Any) -> None:
        rows.append((name, _fmt(measured * f), _fmt(ideal * f), f"{d.heldout_tokens:,}", f"{d.training_tokens:,}"))
        records.append({"quantity": name, f"measured_{unit}_per_token": _number(measured * f),
                        f"ideal_{unit}_per_token": _number(ideal * f)})

    for d, x, y in ((rc.a_to_b, "A", "B"), (rc.b_to_a, "B", "A")):
        row(f"h({x}″‖{x}′)  {x}'s held-out part, {x}'s own model", d.own.measured_bits_per_token,
            d.own.ideal_bits_per_token, d)
        row(f"h({x}″‖{y})  {x}'s held-out part, {y}'s model", d.cross.measured_bits_per_token,
            d.cross.ideal_bits_per_token, d)
        row(f"D({x}‖{y}) = h({x}″‖{y}) − h({x}″‖{x}′)  KL rate", d.measured_kl_rate_bits_per_token,
            d.ideal_kl_rate_bits_per_token, d)
    tables = (
        Table(f"context model rates ({rc.model}, {rc.tokens}) [{unit} per token]", header, tuple(rows), tuple(records)),
        _extra_cost_table("where A costs most under B's model (Σ over the word's tokens of l_B − l_A, held-out A″)",
                          rc.top_a, unit),
        _extra_cost_table("where B costs most under A's model (Σ over the word's tokens of l_A − l_B, held-out B″)",
                          rc.top_b, unit),
    )
    verified = all(c.verified for d in (rc.a_to_b, rc.b_to_a) for c in (d.own, d.cross))
    notes = (
        f"KL rate estimator: each text split at {rc.train_fraction:g} of its tokens into X′ and a held-out X″; both models "
        f"trained on the first {rc.a_to_b.training_tokens:,} tokens of their text (the same budget) and frozen while they "
        f"code X″ (no drift toward the text being coded); round trips: {'verified' if verified else 'skipped'}",
        "the order-0 KL rows above ignore which token follows which; D(A‖B) counts it",
    )
    data = {"rates": jsonable(rc, unit)}
    return tables, notes, data


def with_rates(document: Document, tables: Sequence[Table], notes: Sequence[str], data: dict[str, Any]) -> Document:
    """``document`` with the tables, notes and JSON data of a context-model measurement added."""
    return dataclasses.replace(document, tables=document.tables + tuple(tables), notes=document.notes + tuple(notes),
                               data={**document.data, **data})


def rate_matrix_tables(rm: Any, unit: str = "bits", full: bool | None = None) -> tuple[tuple[Table, ...], tuple[str, ...], dict[str, Any]]:
    """Tables, notes and JSON data of ``matrix --model``: each text's nearest by KL rate, and the KL-rate matrix."""
    f = unit_factor(unit)
    n = len(rm.labels)
    rows = tuple((nb.corpus, f"{rm.heldout_tokens[i]:,}", _fmt(rm.cross_entropy_rate_bits_per_token[i][i] * f, 4),
                  nb.nearest, _fmt(nb.kl_rate_bits_per_token * f, 4)) for i, nb in enumerate(rm.nearest_by_kl_rate))
    tables = [Table(f"nearest by KL rate ({rm.model}, {rm.tokens}) [{unit} per token]",
                    ("corpus", "held-out tokens", "h(X″‖X′)", "nearest by KL rate", "D(X‖nearest)"), rows)]
    if full or (full is None and n <= 12):
        cells = tuple((rm.labels[i],) + tuple("·" if i == j else _fmt(rm.kl_rate_bits_per_token[i][j] * f, 4)
                                              for j in range(n)) for i in range(n))
        tables.append(Table(f"KL rate D(row‖column) = h(row″‖column) − h(row″‖row′) [{unit} per token]",
                            ("",) + rm.labels, cells))
    overhead = (rm.measured_bits - rm.ideal_bits) / rm.ideal_bits if rm.ideal_bits else math.nan
    notes = (
        f"KL rates: each text's held-out part coded, frozen, by the model of every text's first {rm.training_tokens:,} "
        f"tokens (one budget for all); cells are ideal bits (−Σ log2 q) of codings that "
        f"{'decoded back' if rm.verified else 'were not decoded back (--no-verify)'}; all codings together: "
        f"{rm.measured_bits:,} bits measured, {overhead:.3%} over ideal",
    )
    return tuple(tables), notes, {"rates": jsonable(rm, unit)}


def pack_document(command: str, record: dict[str, Any]) -> Document:
    """The document of ``klcode pack`` / ``klcode unpack``: sizes, the model, and the checks."""
    rows = tuple((key.replace("_", " "), f"{value:,}" if isinstance(value, int) else str(value))
                 for key, value in record.items())
    return Document(f"klcode {command}", (Table("", ("field", "value"), rows, (record,)),), (), {"command": command, **record})


# -------------------------------------------------------------------- models (model against model)
def _token_text(token: int, spellings: Sequence[bytes] | None) -> str:
    if spellings is not None and 0 <= token < len(spellings):
        return symbol_label(spellings[token])
    return f"#{token}"


def _context_text(context: Sequence[int], spellings: Sequence[bytes] | None) -> str:
    if spellings is not None:
        return symbol_label(b"".join(spellings[t] for t in context if 0 <= t < len(spellings)))
    return " ".join(f"#{t}" for t in context)


def model_comparison_document(c: ModelComparison, unit: str = "bits", spellings: Sequence[bytes] | None = None,
                              extra: dict | None = None) -> Document:
    """The document of ``klcode models``: divergences per position, the next token, the measured bits, the top list."""
    f = unit_factor(unit)
    per = f"{unit}/token"
    summaries = (("KL(base‖test)", "kl_base_test", c.kl_base_test_bits), ("KL(test‖base)", "kl_test_base", c.kl_test_base_bits),
                 ("JS(base, test)", "js", c.js_bits),
                 ("KL(base‖test) llama.cpp", "kl_llama", c.kl_llama_bits))
    percents = [p for p, _ in c.kl_base_test_bits.percentiles]
    header = ("per position", f"mean ({unit})", "± SE", "median", "min", "max")
    rows, point_rows, records = [], [], []
    for name, key, summary in summaries:
        s = summary.scaled(f)
        rows.append((name, _fmt(s.mean), _fmt(s.standard_error), _fmt(s.median), _fmt(s.minimum), _fmt(s.maximum)))
        point_rows.append((name, *[_fmt(v) for _, v in s.percentiles]))
        records.append({"quantity": key, "unit": unit, **{k: v for k, v in s.as_dict().items() if k != "percentiles"},
                        **{f"p{p:g}": v for p, v in s.percentiles}})
    divergence = Table("divergence at each position, over the whole vocabulary", header, tuple(rows), tuple(records))
    points = Table(f"percentiles ({unit})", ("per position", *[f"{p:g}%" for p in percents]), tuple(point_rows))

    b, t = c.base_coding, c.test_coding
    token_rows = (
        ("PPL(base)", _fmt(c.ppl_base, 4), _fmt(c.ppl_base_error, 4)),
        ("PPL(test)", _fmt(c.ppl_test, 4), _fmt(c.ppl_test_error, 4)),
        ("ln(PPL(test)/PPL(base)) (nats/token)", _fmt(c.ln_ppl_ratio), _fmt(c.ln_ppl_ratio_error)),
        (f"cross-entropy gap H(x,test) − H(x,base) ({per})", _fmt(c.cross_entropy_gap_bits_per_token * f),
         _fmt(c.ln_ppl_ratio_error / math.log(2) * f)),
        ("Cor(NLL base, NLL test)", _fmt(c.ppl_correlation, 4), ""),
        ("mean Δp = p_test(x) − p_base(x)", _fmt(c.delta_p.mean), _fmt(c.delta_p.standard_error)),
        ("RMS Δp", _fmt(c.rms_delta_p), _fmt(c.rms_delta_p_error)),
        ("same top token", _fmt(c.same_top), _fmt(c.same_top_error)),
        (f"top-{c.top_k} overlap", _fmt(c.top_k_overlap), ""),
    )
    next_token = Table("the actual next token x", ("quantity", "value", "± SE"), token_rows)
    low = [(p, v) for p, v in c.delta_p.percentiles if p < 50]
    high = [(p, v) for p, v in c.delta_p.percentiles if p > 50]
    delta = Table("Δp = p_test(x) − p_base(x)",
                  ("", "min", *[f"{p:g}%" for p, _ in low], "median", *[f"{p:g}%" for p, _ in high], "max"),
                  (("Δp", _fmt(c.delta_p.minimum), *[_fmt(v) for _, v in low], _fmt(c.delta_p.median),
                    *[_fmt(v) for _, v in high], _fmt(c.delta_p.maximum)),))
    verified = "decoded back" if b.verified else "decode skipped"
    bits_rows = tuple(
        (name, f"{coding.payload_bytes:,}", _fmt(coding.measured_bits_per_token * f), _fmt(coding.ideal_quantized_bits_per_token * f),
         _fmt(coding.cross_entropy_bits_per_token * f), f"{100 * coding.overhead_bits / coding.ideal_quantized_bits:.4f}%"
         if coding.ideal_quantized_bits > 0 else "n/a")
        for name, coding in (("base", b), ("test", t))
    ) + (("test − base", f"{c.extra_bytes:+,}", _fmt(c.measured_gap_bits_per_token * f),
          _fmt((t.ideal_quantized_bits_per_token - b.ideal_quantized_bits_per_token) * f),
          _fmt(c.cross_entropy_gap_bits_per_token * f), ""),)
    bits = Table(f"bits: the {c.positions:,} tokens range-coded under each model ({verified})",
                 ("coding", "bytes", f"measured {per}", f"ideal of 2^24 frequencies {per}", f"cross-entropy {per}",
                  "coder overhead"), bits_rows)
    top_rows = tuple((f"{p.position:,}", _token_text(p.target, spellings), _fmt(p.kl_base_test_bits * f),
                      _fmt(p.p_base), _fmt(p.p_test), _context_text(p.context, spellings)) for p in c.top_positions)
    positions = Table("positions that carry the most KL(base‖test)",
                      ("position", "next token", f"KL ({unit})", "p_base(x)", "p_test(x)", "context before it"), top_rows)
    token_rows2 = tuple((_token_text(s.token, spellings), f"{s.count:,}", _fmt(s.kl_total_bits * f), f"{100 * s.share:.2f}%")
                        for s in c.top_tokens)
    tokens = Table("next tokens whose positions carry the most KL(base‖test)",
                   ("next token", "positions", f"Σ KL ({unit})", "share of Σ KL"), token_rows2)
    notes = [
        f"base: {(extra or {}).get('base_description', c.base_label)}; test: {(extra or {}).get('test_description', c.test_label)}",
        "rows are renormalized (log-sum-exp) before every figure; the 'llama.cpp' row skips base entries "
        "with stored log-probability <= −16 nats and does not renormalize, as llama-perplexity --kl-divergence does",
        "SE = sqrt(Σ(x − x̄)²/(n(n − 1))); percentiles interpolate linearly at f·(n − 1) between sorted values "
        "(llama.cpp's rules); ln(PPL ratio) SE from the per-position differences",
        f"measured bits = 8 × payload bytes of a range coder driven by each row quantized to integer frequencies "
        f"(1 + ⌊p·(2^24 − V)⌋, the remainder to the top token); test pays {c.extra_bytes:+,} bytes on this text",
    ]
    data = jsonable({
        "base": c.base_label, "test": c.test_label, "positions": c.positions, "vocab_size": c.vocab_size,
        "unit": unit,
        **{key: s.scaled(f).as_dict() for _, key, s in summaries},
        "delta_p": c.delta_p.as_dict(), "rms_delta_p": c.rms_delta_p, "rms_delta_p_error": c.rms_delta_p_error,
        "same_top": c.same_top, "same_top_error": c.same_top_error, "top_k": c.top_k, "top_k_overlap": c.top_k_overlap,
        "ppl_base": c.ppl_base, "ppl_base_error": c.ppl_base_error, "ppl_test": c.ppl_test,
        "ppl_test_error": c.ppl_test_error, "ln_ppl_ratio_nats": c.ln_ppl_ratio,
        "ln_ppl_ratio_error_nats": c.ln_ppl_ratio_error, "ppl_correlation": c.ppl_correlation,
        "cross_entropy_gap_bits_per_token": c.cross_entropy_gap_bits_per_token,
        "measured_gap_bits_per_token": c.measured_gap_bits_per_token, "extra_bytes": c.extra_bytes,
        "base_coding": b.as_dict(), "test_coding": t.as_dict(),
        "top_positions": [{"position": p.position, "token": p.target, "token_text": _token_text(p.target, spellings),
                           "kl_base_test": p.kl_base_test_bits * f, "p_base": p.p_base, "p_test": p.p_test,
                           "context": list(p.context)} for p in c.top_positions],
        "top_tokens": [{"token": s.token, "token_text": _token_text(s.token, spellings), "positions": s.count,
                        "kl_total": s.kl_total_bits * f, "share": s.share} for s in c.top_tokens],
        **(extra or {}),
    }, unit)
    title = (f"klcode models  base = {c.base_label}, test = {c.test_label}  "
             f"({c.positions:,} positions, vocabulary {c.vocab_size:,}; {unit})")
    return Document(title, (divergence, points, next_token, delta, bits, positions, tokens), tuple(notes), data, 0, unit,
                    extra or {})
