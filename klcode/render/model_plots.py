"""The figure of ``klcode models --plot``: per-position KL(base‖test) as histogram, CDF, and along the text.

matplotlib (a dependency) is imported when drawing, never at import; the file is written atomically.
"""

from __future__ import annotations

import os

import numpy as np

from ..analysis.model_compare import ModelComparison
from .plots import _format, _matplotlib, _save


def _running_mean(values: np.ndarray, window: int) -> np.ndarray:
    """Mean of each window of ``window`` consecutive values (np.convolve; 'valid' part)."""
    window = max(1, min(window, len(values)))
    return np.convolve(values, np.full(window, 1.0 / window), mode="valid")


def save_model_comparison(c: ModelComparison, path: str | os.PathLike[str]) -> None:
    """Three panels: histogram of per-position KL (log x), its CDF, and KL and the cross-entropy gap along the text."""
    fmt = _format(path)
    _matplotlib()
    from matplotlib.figure import Figure

    kl = c.kl_per_position_bits.astype(np.float64)
    fig = Figure(figsize=(12, 3.6), layout="constrained")
    hist, cdf, along = fig.subplots(1, 3)
    positive = kl[kl > 0]
    if len(positive):
        edges = np.logspace(np.log10(max(positive.min(), 1e-12)), np.log10(positive.max()) + 1e-9, 50)
        hist.hist(positive, bins=edges, color="#1f77b4")
        hist.set_xscale("log")
    hist.set_title("per-position KL(base‖test)")
    hist.set_xlabel("bits")
    hist.set_ylabel("positions")
    ordered = np.sort(kl)
    cdf.plot(ordered, np.arange(1, len(ordered) + 1) / len(ordered), color="#1f77b4")
    if len(positive):
        cdf.set_xscale("log")
    cdf.axvline(c.kl_base_test_bits.mean, color="#d62728", linestyle="--", label=f"mean {c.kl_base_test_bits.mean:.4g}")
    cdf.set_title("CDF")
    cdf.set_xlabel("bits")
    cdf.set_ylabel("share of positions")
    cdf.legend(loc="lower right", fontsize=8)
    window = max(1, len(kl) // 200)
    x = np.arange(len(_running_mean(kl, window))) + (window - 1) / 2
    along.plot(x, _running_mean(kl, window), label="KL(base‖test)", color="#1f77b4")
    gap = c.cross_entropy_gap_per_position_bits.astype(np.float64)
    along.plot(x, _running_mean(gap, window), label="−log2 t(x) + log2 b(x)", color="#ff7f0e", alpha=0.8)
    along.axhline(0, color="#888888", linewidth=0.5)
    along.set_title(f"along the text (mean of {window} positions)")
    along.set_xlabel("position")
    along.set_ylabel("bits")
    along.legend(loc="upper right", fontsize=8)
    fig.suptitle(f"{c.base_label}  vs  {c.test_label}", fontsize=9)
    _save(fig, path, fmt)
