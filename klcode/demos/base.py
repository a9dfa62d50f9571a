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
from ..distribution import Distribution, align
from ..errors import DataError
from ..plots import Panel
from ..tokenize import symbol_label


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
    rows = []
    for i, symbol in enumerate(p.symbols):
        pi, qi = float(p.probabilities[i]), float(q.probabilities[i])
        contribution = 0.0 if pi == 0 else (math.inf if qi == 0 else pi * math.log2(pi / qi))
        rows.append((
            symbol_label(symbol), f"{pi:.4f}", f"{qi:.4f}",
            bits(-math.log2(pi)) if pi > 0 else "∞", bits(-math.log2(qi)) if qi > 0 else "∞",
            str(int(p_code.lengths_bits[i])) if p_code.lengths_bits[i] else "—",
            str(int(q_code.lengths_bits[i])) if i < q_code.size and q_code.lengths_bits[i] else "—",
            bits(contribution),
        ))
    pa = p.probabilities
    l_p = float(pa @ p_code.lengths_bits[: p.size])
    l_q = q_code.expected_bits_per_token(np.pad(pa, (0, max(0, q_code.size - p.size))))
    kl = sum(float(pa[i]) * math.log2(float(pa[i]) / float(q.probabilities[i])) if q.probabilities[i] > 0 else math.inf
             for i in range(p.size) if pa[i] > 0)
    rows.append(("Σ p·", "1", "", "", "", bits(l_p), bits(l_q), bits(kl)))
    header = ("x", "p(x)", "q(x)", "−log2 p", "−log2 q", "l_p (code of p)", "l_q (code of q)", "p·log2(p/q)")
    return DemoTable(title, header, tuple(rows))
