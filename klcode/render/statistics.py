"""Rendering "how sure is the number": the estimates table, the intervals, the keyness table.

Each ``with_*`` function takes a command's :class:`~klcode.render.documents.Document`
and returns it with the statistics added (tables, notes, JSON keys
``estimates``, ``intervals``, ``keyness``); without statistics a command's
document is exactly what it was.  ``compare --keyness`` replaces the two
contribution tables with the keyness tables (the JSON keys ``top_a`` and
``top_b`` stay), and its CSV becomes the keyness table.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import Any

from ..analysis.compare import Comparison
from ..analysis.keyness import Keyness, KeynessRow
from ..analysis.measure import Measurement
from ..analysis.uncertainty import ComparisonStatistics, MatrixEstimates
from ..info.intervals import BootstrapIntervals
from .documents import Document, Table, _fmt, _number, jsonable, unit_factor

#: Title prefix of compare's contribution tables (replaced by the keyness tables with --keyness).
CONTRIBUTION_TITLE = "tokens over-represented in"


def _ci_cell(intervals: BootstrapIntervals | None, quantity: str | None, f: float) -> tuple[str, float | None, float | None]:
    if intervals is None or quantity is None:
        return "", None, None
    i = intervals.get(quantity)
    if i is None:
        return "", None, None
    if math.isnan(i.low_bits_per_token):
        return f"n/a ({i.infinite_replicates} replicates ∞)", None, None
    mark = "" if i.reliable else " ?"
    return f"[{_fmt(i.low_bits_per_token * f)}, {_fmt(i.high_bits_per_token * f)}]{mark}", i.low_bits_per_token * f, \
        i.high_bits_per_token * f


def estimates_table(rows: Sequence[tuple[str, float | None, float | None, str | None, float | None]],
                    stats: ComparisonStatistics, unit: str, code_label: str = "measured code") -> Table:
    """quantity | plug-in | <estimator> | CI | measured: one row per (name, plug-in, estimate, interval key, measured)."""
    f = unit_factor(unit)
    e, intervals = stats.estimates, stats.intervals
    header = ["quantity", "plug-in", e.estimator if e.estimator == e.kl_estimator else f"{e.estimator} / {e.kl_estimator}"]
    if intervals is not None:
        header.append(f"{intervals.level:.0%} CI ({intervals.method})")
    header.append(code_label)
    cells, records = [], []
    for name, plugin, estimate, key, measured in rows:
        ci, low, high = _ci_cell(intervals, key, f)
        row = [name, _fmt(None if plugin is None else plugin * f), _fmt(None if estimate is None else estimate * f)]
        if intervals is not None:
            row.append(ci)
        row.append(_fmt(None if measured is None else measured * f))
        cells.append(tuple(row))
        record: dict[str, Any] = {"quantity": name, f"plugin_{unit}_per_token": _number(None if plugin is None else plugin * f),
                                  f"estimate_{unit}_per_token": _number(None if estimate is None else estimate * f)}
        if intervals is not None:
            record[f"ci_low_{unit}_per_token"] = _number(low)
            record[f"ci_high_{unit}_per_token"] = _number(high)
        record[f"measured_{unit}_per_token"] = _number(None if measured is None else measured * f)
        records.append(record)
    return Table(f"how sure is the number [{unit} per token]", tuple(header), tuple(cells), tuple(records))


def statistics_notes(stats: ComparisonStatistics, names: tuple[str, str] = ("p", "q")) -> list[str]:
    e = stats.estimates
    notes = [f"estimator: {e.formula}"]
    if e.estimator == "nsb":
        notes.append(f"NSB alphabet: {stats.alphabet_note}")
    if stats.intervals is not None:
        text = stats.intervals.description.replace(" of p", f" of {names[0]}").replace(" of q", f" of {names[1]}")
        notes.append(f"intervals: {text}; replicates whose KL is ∞ (a resampled model lacks a type) are counted, "
                     "and no interval is given when they exceed α/2")
        if any(not i.reliable for i in stats.intervals.intervals):
            notes.append("intervals marked ? are unreliable: the estimate lies outside the central band of its own "
                         "bootstrap replicates (too few tokens for the types, or a boundary such as KL = 0); they are shown as "
                         "percentile intervals")
    return notes


def statistics_data(stats: ComparisonStatistics, unit: str) -> dict[str, Any]:
    data: dict[str, Any] = {"estimates": jsonable(stats.estimates, unit)}
    if stats.estimates.estimator == "nsb":
        data["estimates"]["nsb_alphabet"] = stats.alphabet_note
    if stats.intervals is not None:
        data["intervals"] = {**jsonable(stats.intervals, unit), "description": stats.intervals.description}
    return data


# --------------------------------------------------------------------- compare
def keyness_table(title: str, rows: Sequence[KeynessRow], unit: str, k: Keyness) -> Table:
    f = unit_factor(unit)
    header = ("token", "count A", "count B", "per M A", "per M B", "G²", "p", "log ratio", "%DIFF",
              f"simple maths (k={k.simple_maths_k:g})", f"KL share [{unit}]")
    cells = tuple(
        (r.symbol + (" *" if r.significant else ""), f"{r.count_a:,}", f"{r.count_b:,}", f"{r.per_million_a:,.1f}",
         f"{r.per_million_b:,.1f}", f"{r.g2:.2f}", f"{r.p_value:.2g}" if r.p_value >= 1e-300 else "<1e-300",
         f"{r.log_ratio:+.2f}",
         "∞" if math.isinf(r.percent_diff) else f"{r.percent_diff:+,.1f}%", f"{r.simple_maths:.3f}",
         _fmt(r.kl_bits_per_token * f))
        for r in rows
    )
    records = tuple(jsonable(r, unit) for r in rows)
    return Table(title, header, cells, records)


def keyness_data(k: Keyness, top: int, unit: str) -> dict[str, Any]:
    settings = {name: getattr(k, name) for name in ("a_tokens", "b_tokens", "tested", "alpha", "bonferroni_p_threshold",
                                                    "bonferroni_g2_threshold", "sort", "min_count", "simple_maths_k",
                                                    "log_ratio_zero", "g2_two_term_total", "pooled_kl_nats")}
    return {**jsonable(settings), "top_a": [jsonable(r, unit) for r in k.top("A", top)],
            "top_b": [jsonable(r, unit) for r in k.top("B", top)]}


def keyness_notes(k: Keyness) -> list[str]:
    return [
        f"keyness: G² is the 4-term log-likelihood of the 2×2 table (= 2N·KL(observed‖expected) in nats); * marks "
        f"p < {k.alpha:g}/{k.tested:,} = {k.bonferroni_p_threshold:.3g} (Bonferroni over the {k.tested:,} tokens with "
        f"A + B ≥ {k.min_count}; G² > {k.bonferroni_g2_threshold:.2f}); p = erfc(√(G²/2)), χ² with 1 df",
        f"keyness: log ratio = log₂ of the ratio of relative frequencies, a zero count taken as {k.log_ratio_zero:g}; "
        f"%DIFF = 100·(f_A − f_B)/f_B per million (∞ when B has none); simple maths = (f_A + k)/(f_B + k), k = "
        f"{k.simple_maths_k:g}; KL share = p_A·log₂(p_A/q'_B); sorted by {k.sort}",
        f"keyness: Σ of the 2-term G² over all tokens = {k.g2_two_term_total:,.2f} = 2·[N_A·KL(A‖M) + N_B·KL(B‖M)] "
        f"with M the pooled model (2N × {k.pooled_kl_nats:.6f} nats per token)",
    ]


def with_comparison_statistics(document: Document, c: Comparison, stats: ComparisonStatistics, unit: str,
                               top: int) -> Document:
    """compare's document with the estimates (and intervals, keyness) added."""
    e = stats.estimates
    ab, ba = c.a_coded_with_b, c.b_coded_with_a
    rows = [
        ("H(A)", e.plugin_entropy_bits_per_token, e.entropy_bits_per_token, "entropy", ab.p_code.measured_bits_per_token),
        ("H(B)", e.plugin_entropy_reverse_bits_per_token, e.entropy_reverse_bits_per_token, "entropy_reverse",
         ba.p_code.measured_bits_per_token),
        ("H(A,B)", e.plugin_cross_entropy_bits_per_token, e.cross_entropy_bits_per_token, "cross_entropy",
         ab.q_code.measured_bits_per_token),
        ("H(B,A)", e.plugin_cross_entropy_reverse_bits_per_token, e.cross_entropy_reverse_bits_per_token,
         "cross_entropy_reverse", ba.q_code.measured_bits_per_token),
        ("KL(A‖B)", e.plugin_kl_bits_per_token, e.kl_bits_per_token, "kl", ab.measured_excess_bits_per_token),
        ("KL(B‖A)", e.plugin_kl_reverse_bits_per_token, e.kl_reverse_bits_per_token, "kl_reverse",
         ba.measured_excess_bits_per_token),
    ]
    if stats.effective_kl_bits_per_token is not None:
        rows.append(("KL(A‖B')  B' = model of B's code", ab.effective_kl_bits_per_token,
                     stats.effective_kl_bits_per_token, "kl_effective", ab.measured_excess_bits_per_token))
    if stats.effective_kl_reverse_bits_per_token is not None:
        rows.append(("KL(B‖A')  A' = model of A's code", ba.effective_kl_bits_per_token,
                     stats.effective_kl_reverse_bits_per_token, "kl_reverse_effective", ba.measured_excess_bits_per_token))
    rows += [
        ("JS(A,B)", e.plugin_js_bits_per_token, e.js_bits_per_token, "js", None),
        ("L_A: A's Huffman code on A", None, None, "code", ab.p_code.measured_bits_per_token),
        ("L_B: B's Huffman code on B", None, None, "code_reverse", ba.p_code.measured_bits_per_token),
    ]
    if stats.intervals is not None:
        rows += [
            ("B's code on A", None, None, "code_cross", ab.q_code.measured_bits_per_token),
            ("A's code on B", None, None, "code_cross_reverse", ba.q_code.measured_bits_per_token),
            ("L_B − L_A on A (measured KL)", None, None, "code_excess", ab.measured_excess_bits_per_token),
            ("L_A − L_B on B (measured KL)", None, None, "code_excess_reverse", ba.measured_excess_bits_per_token),
        ]
    tables = list(document.tables)
    tables.insert(1, estimates_table(rows, stats, unit))
    notes = list(document.notes) + statistics_notes(stats, ("A", "B"))
    if stats.effective_kl_bits_per_token is not None or stats.effective_kl_reverse_bits_per_token is not None:
        notes.append("KL to B' (A'): the estimator with the model of the code as a fixed model (the unseen policy "
                     "applied again to every bootstrap replicate); KL by formula stays ∞")
    data = {**document.data, **statistics_data(stats, unit)}
    f = unit_factor(unit)
    for key, value in (("effective_kl", stats.effective_kl_bits_per_token),
                       ("effective_kl_reverse", stats.effective_kl_reverse_bits_per_token)):
        if value is not None:
            data["estimates"][f"{key}_{unit}_per_token"] = _number(value * f)
    csv_table = document.csv_table
    if stats.keyness is not None:
        k = stats.keyness
        tables = [t for t in tables if not t.title.startswith(CONTRIBUTION_TITLE)]
        first = len(tables) if not any(t.title.startswith("compression-based") for t in tables) else \
            next(i for i, t in enumerate(tables) if t.title.startswith("compression-based"))
        side_tables = [keyness_table(f"keyness: tokens over-represented in A (by {k.sort})", k.top("A", top), unit, k),
                       keyness_table(f"keyness: tokens over-represented in B (by {k.sort})", k.top("B", top), unit, k)]
        tables[first:first] = side_tables
        csv_table = first
        # the CSV is every shown row, A's then B's
        tables[first] = dataclasses.replace(tables[first], records=side_tables[0].records + side_tables[1].records)
        notes += keyness_notes(k)
        data["keyness"] = keyness_data(k, top, unit)
    return dataclasses.replace(document, tables=tuple(tables), notes=tuple(notes), data=data, csv_table=csv_table)


# --------------------------------------------------------------------- measure
def with_measurement_statistics(document: Document, m: Measurement, stats: ComparisonStatistics, unit: str,
                                source: str) -> Document:
    """measure's document with the estimates (and intervals) of p's sample added; ``source`` says what the sample is."""
    e = stats.estimates
    sampled = m.stream != "expected"
    rows = [
        ("H(p)", e.plugin_entropy_bits_per_token, e.entropy_bits_per_token, "entropy",
         m.p_code.measured_bits_per_token if sampled else m.p_code.expected_bits_per_token),
        ("H(p,q)", e.plugin_cross_entropy_bits_per_token, e.cross_entropy_bits_per_token, "cross_entropy",
         m.q_code.measured_bits_per_token if sampled else m.q_code.expected_bits_per_token),
        ("KL(p‖q)", e.plugin_kl_bits_per_token, e.kl_bits_per_token, "kl",
         m.measured_excess_bits_per_token),
        ("KL(q‖p)", e.plugin_kl_reverse_bits_per_token, e.kl_reverse_bits_per_token, "kl_reverse", None),
        ("JS(p,q)", e.plugin_js_bits_per_token, e.js_bits_per_token, "js", None),
        ("L_p: p's Huffman code", None, None, "code_fixed",
         m.p_code.measured_bits_per_token if sampled else m.p_code.expected_bits_per_token),
    ]
    tables = list(document.tables)
    label = "measured code" if sampled else "code: expected Σp·l"
    tables.insert(1, estimates_table(rows, stats, unit, label))
    notes = list(document.notes) + [f"estimates from {source}"] + statistics_notes(stats)
    data = {**document.data, **statistics_data(stats, unit)}
    return dataclasses.replace(document, tables=tuple(tables), notes=tuple(notes), data=data)


# --------------------------------------------------------------------- entropy
def with_entropy_statistics(document: Document, labels: Sequence[str], stats: Sequence[ComparisonStatistics],
                            measured: Sequence[float], unit: str) -> Document:
    """entropy's document with one row per file: plug-in H, the estimate, its interval, and the measured Huffman code."""
    f = unit_factor(unit)
    first = stats[0]
    with_ci = first.intervals is not None
    level = f"{first.intervals.level:.0%} CI ({first.intervals.method})" if with_ci else ""
    header = ["file", "plug-in H", first.estimates.estimator] + ([f"H {level}"] if with_ci else []) + ["Huffman"] \
        + ([f"Huffman {level}"] if with_ci else [])
    rows, records = [], []
    for label, s, huffman in zip(labels, stats, measured):
        e = s.estimates
        row = [label, _fmt(e.plugin_entropy_bits_per_token * f, 4), _fmt(e.entropy_bits_per_token * f, 4)]
        record: dict[str, Any] = {"file": label, "estimator": e.estimator,
                                  f"plugin_entropy_{unit}_per_token": _number(e.plugin_entropy_bits_per_token * f),
                                  f"entropy_{unit}_per_token": _number(e.entropy_bits_per_token * f)}
        h_ci, h_lo, h_hi = _ci_cell(s.intervals, "entropy", f)
        c_ci, c_lo, c_hi = _ci_cell(s.intervals, "code", f)
        row += ([h_ci] if with_ci else []) + [_fmt(huffman * f, 4)] + ([c_ci] if with_ci else [])
        record[f"huffman_{unit}_per_token"] = _number(huffman * f)
        if with_ci:
            record.update({f"entropy_ci_low_{unit}_per_token": _number(h_lo),
                           f"entropy_ci_high_{unit}_per_token": _number(h_hi),
                           f"huffman_ci_low_{unit}_per_token": _number(c_lo),
                           f"huffman_ci_high_{unit}_per_token": _number(c_hi)})
        rows.append(tuple(row))
        records.append(record)
    table = Table(f"how sure is the number [{unit} per token]", tuple(header), tuple(rows), tuple(records))
    notes = list(document.notes) + statistics_notes(first, ("the file", "q"))[:1]
    if first.estimates.estimator == "nsb":
        notes.append("NSB alphabet per file: " + "; ".join(f"{label}: {s.alphabet_note}" for label, s in zip(labels, stats)))
    if first.intervals is not None:
        notes.append(f"intervals: {first.intervals.level:.0%} {first.intervals.method} bootstrap over the tokens of each "
                     f"file, {first.intervals.replicates:,} replicates (seed {first.intervals.seed}); the Huffman code "
                     "is rebuilt for each replicate")
    data = {**document.data, "estimates": list(records)}
    return dataclasses.replace(document, tables=document.tables + (table,), notes=tuple(notes), data=data)


# ---------------------------------------------------------------------- matrix
def with_matrix_estimates(document: Document, labels: Sequence[str], estimates: MatrixEstimates, unit: str,
                          full: bool | None = None) -> Document:
    """matrix's document with KL(row‖column) and KL(row‖column') by the estimator (tables when ≤ 12 corpora or ``full``)."""
    f = unit_factor(unit)
    n = len(labels)
    tables = list(document.tables)
    if full or (full is None and n <= 12):
        for name, matrix in (("KL(row‖column)", estimates.kl_bits_per_token),
                             ("KL(row‖column') to the column's code model", estimates.effective_kl_bits_per_token)):
            cells = tuple((labels[i],) + tuple("·" if i == j else _fmt(matrix[i][j] * f, 4) for j in range(n))
                          for i in range(n))
            tables.append(Table(f"{name} by {estimates.kl_estimator} [{unit} per token]", ("",) + tuple(labels), cells))
    pairs = [{"a": labels[i], "b": labels[j], f"kl_{unit}_per_token": _number(estimates.kl_bits_per_token[i][j] * f),
              f"effective_kl_{unit}_per_token": _number(estimates.effective_kl_bits_per_token[i][j] * f)}
             for i in range(n) for j in range(n) if i != j]
    data = {**document.data, "estimates": {"estimator": estimates.estimator, "kl_estimator": estimates.kl_estimator,
                                           "formula": estimates.formula, "pairs": pairs}}
    notes = list(document.notes) + [f"estimator: {estimates.formula}; KL to the column's code model takes that model "
                                    "as fixed (p's side corrected only)"]
    return dataclasses.replace(document, tables=tuple(tables), notes=tuple(notes), data=data)
