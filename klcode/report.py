"""Rendering measurements: JSON-ready dictionaries and rich tables.

The library's records hold bits; this module converts to nats on request
(every ``*_bits_per_token`` field becomes ``*_nats_per_token``), writes
infinities as the string ``"inf"`` (JSON has no infinity), and lays out the
human table.  Nothing here prints: :func:`measurement_table` returns rich
renderables for the CLI to print.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable
from typing import Any

from .measure import Measurement

UNITS = ("bits", "nats")
_PER_TOKEN = "_bits_per_token"
_CODE_TABLE_FIELDS = ("symbols", "p_code_lengths_bits", "q_code_lengths_bits", "p_codewords", "q_codewords")


def unit_factor(unit: str) -> float:
    """Multiplier from bits to ``unit``: 1 for bits, ln 2 for nats."""
    if unit not in UNITS:
        raise ValueError(f"unit must be one of {', '.join(UNITS)} (got {unit!r})")
    return 1.0 if unit == "bits" else math.log(2)


def _convert(value: Any, factor: float, unit: str) -> Any:
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if key.endswith(_PER_TOKEN) and (item is None or isinstance(item, float)):
                converted = None if item is None else _number(item * factor)
                out[key[: -len(_PER_TOKEN)] + f"_{unit}_per_token"] = converted
            else:
                out[key] = _convert(item, factor, unit)
        return out
    if isinstance(value, (list, tuple)):
        return [_convert(item, factor, unit) for item in value]
    if isinstance(value, float):
        return _number(value)
    return value


def _number(value: float) -> float | str:
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    if math.isnan(value):
        return "nan"
    return value


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
    raw = dataclasses.asdict(measurement)
    for name in _CODE_TABLE_FIELDS:
        raw.pop(name)
    out = _convert(raw, unit_factor(unit), unit)
    out["unit"] = unit
    if codes:
        out["code_table"] = code_table_rows(measurement)
    return out


# ----------------------------------------------------------------------- tables
def _fmt(value: float | None, digits: int = 6) -> str:
    if value is None:
        return ""
    if math.isinf(value):
        return "∞" if value > 0 else "-∞"
    text = f"{value:.{digits}f}"
    return text[1:] if text.startswith("-") and float(text) == 0 else text


def measurement_rows(m: Measurement, unit: str = "bits") -> tuple[list[str], list[list[str]]]:
    """Header and rows of the formulas-beside-codes table, per token in ``unit``."""
    f = unit_factor(unit)

    def u(value: float | None) -> float | None:
        return None if value is None else value * f

    with_stream = m.stream != "expected"
    header = ["formula  ·  Huffman code", "formula", "code: expected Σp·l"]
    if with_stream:
        header.append(f"code: measured ({m.tokens:,} tokens)")
    header.append("code − formula")

    def row(name: str, formula: float | None, expected: float | None, measured: float | None) -> list[str]:
        cells = [name, _fmt(u(formula)), _fmt(u(expected))]
        if with_stream:
            cells.append(_fmt(u(measured)))
        code_value = measured if with_stream else expected
        gap = None if formula is None or code_value is None or math.isinf(formula) else code_value - formula
        cells.append(_fmt(u(gap)))
        return cells

    lp, lq = m.p_code, m.q_code
    rows = [
        row("H(p) entropy  ·  L_p", m.entropy_bits_per_token, lp.expected_bits_per_token, lp.measured_bits_per_token),
        row("H(p,q) cross-entropy  ·  L_q", m.cross_entropy_bits_per_token, lq.expected_bits_per_token, lq.measured_bits_per_token),
    ]
    if m.unseen is not None:
        rows.append(row("H(p,q') q' = model of q's code  ·  L_q", m.effective_cross_entropy_bits_per_token, lq.expected_bits_per_token, lq.measured_bits_per_token))
    excess_expected = lq.expected_bits_per_token - lp.expected_bits_per_token
    rows.append(row("KL(p‖q)  ·  L_q − L_p", m.kl_bits_per_token, excess_expected, m.measured_excess_bits_per_token if with_stream else None))
    if m.unseen is not None:
        rows.append(row("KL(p‖q')  ·  L_q − L_p", m.effective_kl_bits_per_token, excess_expected, m.measured_excess_bits_per_token if with_stream else None))
    dyadic_expected = lq.expected_bits_per_token - m.entropy_bits_per_token
    dyadic_measured = None if lq.measured_bits_per_token is None else lq.measured_bits_per_token - m.entropy_bits_per_token
    rows.append(row("KL(p‖q̂) q̂ = 2^−l_q  ·  L_q − H(p)", m.kl_to_dyadic_bits_per_token, dyadic_expected, dyadic_measured))
    rows.append(row("KL(q‖p) reverse", m.kl_reverse_bits_per_token, None, None))
    rows.append(row("JS(p,q) Jensen–Shannon", m.js_bits_per_token, None, None))
    return header, rows


def measurement_notes(m: Measurement, names: tuple[str, str] = ("p", "q")) -> list[str]:
    """The lines under the table: bound, round trip, bits, unseen symbols, tie rule."""
    lp, lq = m.p_code, m.q_code
    held = "held" if m.huffman_bound_held else "did not hold"
    why = "" if m.huffman_bound_held or m.p_support_size > 1 else " (one symbol: its 1-bit codeword costs 1 bit while H = 0; the bound is for ≥ 2 symbols)"
    notes = [f"Huffman bound H(p) ≤ L_p < H(p) + 1: {held}{why}"]
    if m.stream != "expected":
        source = {"samples": f"{m.tokens:,} samples drawn from p (seed {m.seed})", "text": f"the text of {names[0]} ({m.tokens:,} tokens)"}[m.stream]
        notes.append(
            f"stream: {source}; code of p: {lp.total_bits:,} bits, code of q: {lq.total_bits:,} bits; "
            f"round trip: {lp.roundtrip}" + (" (--no-verify)" if lp.roundtrip == "skipped" else "")
        )
    else:
        notes.append("no stream: code columns are exact expected lengths Σ p(x)·l(x) (give --samples N to encode a real stream)")
    notes.append(f"codes: Kraft sum {lp.kraft_sum:.6g} (p), {lq.kraft_sum:.6g} (q); longest codeword {lp.max_codeword_bits} / {lq.max_codeword_bits} bits")
    if m.unseen is not None:
        u = m.unseen
        shown = ", ".join(u.symbols[:12]) + (", …" if u.types > 12 else "")
        tokens = "" if u.stream_tokens is None else f", {u.stream_tokens:,} tokens"
        notes.append(
            f"unseen: {u.types} symbol(s) of {names[0]} are absent from {names[1]} ({shown}; {u.p_mass:.4%} of {names[0]}{tokens}), "
            f"so KL = ∞ by formula; policy {u.policy}: {u.description}"
        )
    notes.append(f"ties: {m.tie_rule}")
    return notes


def code_table(m: Measurement) -> tuple[list[str], list[list[str]]]:
    """Header and rows of the code table (symbols with a codeword under either code)."""
    header = ["symbol", "l_p", "codeword of p", "l_q", "codeword of q"]
    rows = [
        [r["symbol"], str(r["p_code_length_bits"] or ""), r["p_codeword"], str(r["q_code_length_bits"] or ""), r["q_codeword"]]
        for r in code_table_rows(m)
        if r["p_code_length_bits"] or r["q_code_length_bits"]
    ]
    return header, rows


def rich_table(title: str, header: list[str], rows: Iterable[list[str]]):
    """A rich Table (rich is imported here, lazily, so ``import klcode`` does not need it)."""
    from rich.table import Table

    table = Table(title=title, title_justify="left", show_lines=False)
    for i, name in enumerate(header):
        table.add_column(name, justify="left" if i == 0 else "right", no_wrap=True)
    for cells in rows:
        table.add_row(*cells)
    return table
