"""What every demo returns, and the per-symbol table every ``--explain`` shows.

A demo is a function ``run(options: DemoOptions) -> DemoResult``.  The result
holds the numbers (``summary`` lines and ``tables``, always shown), the
step-by-step reasoning with the actual values (``explanation``, shown with
``--explain``), JSON-ready ``data`` (units in every key), and line-plot
``panels`` for ``--plot``.  Demos compute; they never print.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..coders import PrefixCode
from ..errors import DataError, DistributionError, InputError
from ..info.measures import kl_contributions_kernel, kl_kernel
from ..models.distribution import Distribution, align, parse_distribution
from ..render.plots import Panel
from ..text.tokenize import symbol_label


@dataclass(frozen=True)
class DemoOptions:
    """The parameters a user may change; None means the demo's default."""

    p: str | None = None
    q: str | None = None
    n: int | None = None
    seed: int = 0

    def __post_init__(self) -> None:
        if self.n is not None and self.n < 1:
            raise DataError(f"--n must be >= 1 (got {self.n})")
        if self.seed < 0:
            raise DataError(f"--seed must be >= 0 (got {self.seed})")


@dataclass(frozen=True)
class DemoTable:
    """A table of formatted cells."""

    title: str
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class DemoResult:
    """A demo's numbers, tables, explanation, JSON data and plot panels."""

    name: str
    title: str
    summary: tuple[str, ...]
    tables: tuple[DemoTable, ...]
    explanation: tuple[str, ...]
    data: dict[str, Any]
    panels: tuple[Panel, ...] = field(default=())


@dataclass(frozen=True)
class Demo:
    """A registered demo: its name, one line saying what it teaches, its parameters, and its function."""

    name: str
    lesson: str
    parameters: str
    run: Any  # Callable[[DemoOptions], DemoResult]


def bits(value: float, digits: int = 4) -> str:
    """A number of bits (or ∞) for a table cell."""
    if math.isinf(value):
        return "∞"
    return f"{value:.{digits}f}"


def symbol_table(p: Distribution, q: Distribution, p_code: PrefixCode, q_code: PrefixCode,
                 title: str = "symbol by symbol") -> DemoTable:
    """The table of ``--explain``: x, p, q, −log2 p, −log2 q, l_p, l_q, p·log2(p/q) per symbol, and the sums.

    >>> from klcode.coders import HuffmanCode
    >>> p, q = Distribution.from_probabilities([0.5, 0.5]), Distribution.from_probabilities([0.25, 0.75])
    >>> table = symbol_table(p, q, HuffmanCode.from_distribution(p), HuffmanCode.from_distribution(q))
    >>> table.rows[0]
    ('0', '0.5000', '0.2500', '1.0000', '2.0000', '1', '1', '0.5000')
    """
    p, q = align(p, q)
    pa, qa = p.probabilities, q.probabilities
    contributions = kl_contributions_kernel(pa, qa)
    rows = []
    for i, symbol in enumerate(p.symbols):
        pi, qi = float(pa[i]), float(qa[i])
        rows.append((
            symbol_label(symbol), f"{pi:.4f}", f"{qi:.4f}",
            bits(-math.log2(pi)) if pi > 0 else "∞", bits(-math.log2(qi)) if qi > 0 else "∞",
            str(int(p_code.lengths_bits[i])) if p_code.lengths_bits[i] else "—",
            str(int(q_code.lengths_bits[i])) if i < q_code.size and q_code.lengths_bits[i] else "—",
            bits(float(contributions[i])),
        ))
    l_p = float(pa @ p_code.lengths_bits[: p.size])
    l_q = q_code.expected_bits_per_token(np.pad(pa, (0, max(0, q_code.size - p.size))))
    kl = kl_kernel(pa, qa)
    rows.append(("Σ p·", "1", "", "", "", bits(l_p), bits(l_q), bits(kl)))
    header = ("x", "p(x)", "q(x)", "−log2 p", "−log2 q", "l_p (code of p)", "l_q (code of q)", "p·log2(p/q)")
    return DemoTable(title, header, tuple(rows))


#: Nats in one bit (a KL in bits times this is the KL in nats).
NATS_PER_BIT = math.log(2)
#: Rows of the symbol-by-symbol table before the "rest" line.
TOP_SYMBOLS = 12
#: Largest block alphabet the demos build (block codes stay quick to build and print).
DEMO_BLOCK_SYMBOLS = 4096


def table_lines(table: DemoTable, indent: str = "     ") -> tuple[str, ...]:
    """A :class:`DemoTable` as aligned plain-text lines (title, header, rule, rows) for ``--explain``.

    >>> for line in table_lines(DemoTable("t", ("x", "p(x)"), (("a", "0.5"), ("bb", "0.25"))), indent=""):
    ...     print(line)
    t
    x   p(x)
    --  ----
    a    0.5
    bb  0.25
    """
    columns = list(zip(table.header, *table.rows))
    widths = [max(len(cell) for cell in column) for column in columns]

    def line(cells: tuple[str, ...]) -> str:
        # the first column (labels) left-aligned, numbers right-aligned
        parts = [cells[0].ljust(widths[0])] + [cell.rjust(w) for cell, w in zip(cells[1:], widths[1:])]
        return (indent + "  ".join(parts)).rstrip()

    rule = tuple("-" * w for w in widths)
    title = (indent + table.title,) if table.title else ()
    return title + (line(table.header), line(rule)) + tuple(line(row) for row in table.rows)


def number_steps(steps: list[str | tuple[str, ...]]) -> tuple[str, ...]:
    """Explanation lines: each string is a numbered step, each tuple (a table's lines) is kept as it is.

    >>> number_steps(["Setup.", ("   a  b",), "Result."])
    ('1. Setup.', '   a  b', '2. Result.')
    """
    lines: list[str] = []
    number = 0
    for step in steps:
        if isinstance(step, tuple):
            lines.extend(step)
        else:
            number += 1
            lines.append(f"{number}. {step}")
    return tuple(lines)


def parse_spec(text: str | None, default: Distribution, flag: str) -> Distribution:
    """A distribution from a spec (``binomial:N,P``, ``uniform:N``, ``bernoulli:P``) or a JSON file; ``default`` for None.

    Errors keep their type and one line, prefixed by the option:

    >>> parse_spec("binomial:2", Distribution.uniform(3), "--q")
    Traceback (most recent call last):
    ...
    klcode.errors.DistributionError: --q: bad distribution spec 'binomial:2' (expected binomial:N,P)
    """
    if text is None:
        return default
    try:
        distribution = parse_distribution(text)
    except (DistributionError, InputError) as error:
        raise type(error)(f"{flag}: {error}") from None
    return check_demo_alphabet(distribution, flag)


#: The most symbols a demo's --p or --q may have: a lesson shows per-symbol tables and runs in seconds.
DEMO_MAX_SYMBOLS = 4096


def check_demo_alphabet(distribution: Distribution, flag: str) -> Distribution:
    """``distribution`` itself, or a :class:`DistributionError` when it has more than :data:`DEMO_MAX_SYMBOLS` symbols.

    >>> check_demo_alphabet(Distribution.binomial(5000, 0.5), "--p")
    Traceback (most recent call last):
    ...
    klcode.errors.DistributionError: --p: a demo takes at most 4,096 symbols (got 5,001); use klcode measure for larger alphabets
    """
    if distribution.size > DEMO_MAX_SYMBOLS:
        raise DistributionError(f"{flag}: a demo takes at most {DEMO_MAX_SYMBOLS:,} symbols (got {distribution.size:,}); "
                                "use klcode measure for larger alphabets")
    return distribution


def probabilities_text(distribution: Distribution, digits: int = 4) -> str:
    """``(0.36, 0.48, 0.16)``: probabilities rounded, trailing zeros dropped.

    >>> probabilities_text(Distribution.binomial(2, 0.4))
    '(0.36, 0.48, 0.16)'
    """
    return "(" + ", ".join(f"{float(x):.{digits}f}".rstrip("0").rstrip(".") for x in distribution.probabilities) + ")"


def largest_block(support: int, limit: int = DEMO_BLOCK_SYMBOLS, cap: int = 8) -> int:
    """The largest k ≤ ``cap`` with support^k ≤ ``limit`` (at least 1).

    >>> largest_block(3), largest_block(2), largest_block(11), largest_block(100)
    (7, 8, 3, 1)
    """
    k = 1
    while k < cap and support ** (k + 1) <= limit:
        k += 1
    return k


def top_symbol_ids(p: Distribution, q: Distribution, top: int = TOP_SYMBOLS) -> np.ndarray:
    """Ids (of the aligned alphabet) of the ``top`` largest |p(x)·log2(p(x)/q(x))|, largest first, ties by id.

    >>> top_symbol_ids(Distribution.from_probabilities([0.5, 0.3, 0.2]), Distribution.uniform(3), 2).tolist()
    [0, 2]
    """
    p, q = align(p, q)
    terms = kl_contributions_kernel(p.probabilities, q.probabilities)
    return np.lexsort((np.arange(p.size), -np.abs(terms)))[:top]


def top_symbol_table(p: Distribution, q: Distribution, p_code: PrefixCode, q_code: PrefixCode,
                     top: int = TOP_SYMBOLS, title: str = "symbol by symbol") -> DemoTable:
    """:func:`~klcode.demos.base.symbol_table` cut to the ``top`` symbols of largest |p·log2(p/q)|, then one line for the rest.

    Rows come in order of |contribution| (largest first, ties by id); the
    "rest" line sums p, q, p·l_p, p·l_q and the contributions of the others;
    the Σ line of the full table closes it.  Small alphabets are listed whole.
    """
    full = symbol_table(p, q, p_code, q_code, title)
    p, q = align(p, q)
    if p.size <= top + 1:
        return full
    pa, qa = p.probabilities, q.probabilities
    terms = kl_contributions_kernel(pa, qa)
    shown = top_symbol_ids(p, q, top)
    rest = np.setdiff1d(np.arange(p.size), shown)
    l_p = np.pad(p_code.lengths_bits, (0, max(0, p.size - p_code.size)))[: p.size]
    l_q = np.pad(q_code.lengths_bits, (0, max(0, p.size - q_code.size)))[: p.size]
    rest_terms = terms[rest]
    rest_kl = math.inf if np.isinf(rest_terms).any() else math.fsum(rest_terms.tolist())
    rest_row = (
        f"rest: {rest.size} symbols (Σ)", f"{pa[rest].sum():.4f}", f"{qa[rest].sum():.4f}", "", "",
        bits(float(pa[rest] @ l_p[rest])), bits(float(pa[rest] @ l_q[rest])), bits(rest_kl),
    )
    rows = tuple(full.rows[i] for i in shown) + (rest_row, full.rows[-1])
    return DemoTable(f"{title}: the {top} largest |p·log2(p/q)| of {p.size} symbols, then the rest", full.header, rows)
