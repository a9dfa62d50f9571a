"""Plots of divergence matrices, drawn with matplotlib.

matplotlib is imported inside the functions, never at module level, so
``import klcode`` and ``import klcode.render.plots`` stay fast.  Figures are drawn with matplotlib's
object-oriented API (no pyplot, no global backend switch), so they render
headless and leave the caller's matplotlib state alone.  Files are written
atomically: a failed render never leaves a partial file, nor replaces an
existing one.  :func:`heatmap_svg`, :func:`panels_svg` and
:func:`dendrograms_svg` return the same figures as SVG text instead, for
embedding in a report.

>>> save_heatmap(np.zeros((2, 2)), ["a", "b"], "kl.pdf", title="KL", value_label="bits")
Traceback (most recent call last):
...
klcode.errors.DataError: plot file must end in .png or .svg (got 'kl.pdf')
"""

from __future__ import annotations

import io
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from ..analysis.cluster import Linkage
from ..atomic import write_atomically
from ..errors import DataError

if TYPE_CHECKING:  # pragma: no cover
    from typing import BinaryIO

    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

#: Colour of the cells (and dashed dendrogram links) whose value is +inf.
INF_COLOUR = "#d62728"
#: Colour map of the finite values.
COLOUR_MAP = "viridis"
#: Labels longer than this are shortened with an ellipsis on the axes.
MAX_LABEL_CHARS = 40
_FORMATS = {".png": "png", ".svg": "svg"}
_PNG_DPI = 150
#: Settings of every render: reproducible SVG ids, text kept as text, images embedded (self-contained SVG).
_RENDER_RC = {"svg.hashsalt": "klcode", "svg.fonttype": "none", "svg.image_inline": True}


def _matplotlib() -> Any:
    """The matplotlib module with the submodules the plots use, imported on first use."""
    import matplotlib
    import matplotlib.collections  # noqa: F401
    import matplotlib.figure  # noqa: F401  (loads the submodules the plots use)
    import matplotlib.lines  # noqa: F401
    import matplotlib.patches  # noqa: F401
    import matplotlib.ticker  # noqa: F401

    return matplotlib


def _format(path: str | os.PathLike[str]) -> str:
    suffix = os.path.splitext(os.fspath(path))[1].lower()
    if suffix not in _FORMATS:
        raise DataError(f"plot file must end in .png or .svg (got {os.fspath(path)!r})")
    return _FORMATS[suffix]


def _render(fig: Figure, file: BinaryIO, fmt: str) -> None:
    """Write ``fig`` to ``file`` as ``fmt``; SVG is byte-for-byte reproducible (fixed hash salt, no date)."""
    mpl = _matplotlib()
    with mpl.rc_context(_RENDER_RC):
        fig.savefig(file, format=fmt, dpi=_PNG_DPI, metadata={"Date": None} if fmt == "svg" else {})


def _save(fig: Figure, path: str | os.PathLike[str], fmt: str) -> None:
    write_atomically(path, lambda file: _render(fig, file, fmt))


def _svg_text(fig: Figure) -> str:
    buffer = io.BytesIO()
    _render(fig, buffer, "svg")
    return buffer.getvalue().decode("utf-8")


def _label_layout(n: int) -> tuple[float, float]:
    """(length in inches of an axis of ``n`` labels, their font size in points): fonts shrink to 4 pt as n grows."""
    side = float(np.clip(n * 0.14, 3.5, 16.0))
    return side, float(np.clip(side / n * 72 * 0.8, 4.0, 9.0))


def _label_room(names: Sequence[str], font: float) -> float:
    """Inches taken by the longest of ``names`` at ``font`` points."""
    return max(len(s) for s in names) * font * 0.62 / 72 + 0.15


def _heatmap_matrix(matrix: np.ndarray, labels: Sequence[str], linkage: Linkage | None) -> tuple[np.ndarray, tuple[str, ...]]:
    try:
        a = np.array(matrix, dtype=np.float64, copy=True)
    except (TypeError, ValueError):
        raise DataError(f"matrix must be a square array of numbers (got {type(matrix).__name__})") from None
    if a.ndim != 2 or a.shape[0] != a.shape[1] or a.shape[0] == 0:
        raise DataError(f"matrix must be a non-empty square 2-D array (got shape {a.shape})")
    bad = np.isnan(a) | (a == -np.inf)
    if bad.any():
        i, j = (int(k) for k in np.argwhere(bad)[0])
        raise DataError(f"matrix must hold numbers or +inf (got matrix[{i}, {j}] = {float(a[i, j])!r})")
    if isinstance(labels, str) or len(labels) != a.shape[0] or not all(isinstance(s, str) for s in labels):
        raise DataError(f"need one string label per row (got {labels!r} for {a.shape[0]} rows)")
    labels = tuple(labels)
    if linkage is not None and linkage.labels != labels:
        raise DataError(
            f"linkage must cluster the matrix's labels (got linkage labels {linkage.labels!r} for {labels!r})"
        )
    return a, labels


def _short(label: str) -> str:
    return label if len(label) <= MAX_LABEL_CHARS else label[: MAX_LABEL_CHARS - 1] + "…"


def _draw_dendrogram(ax: Axes, linkage: Linkage, side: str, inf_height: float) -> None:
    """Draw ``linkage`` on ``ax`` from the root down to leaves at positions 0..n-1 (``side`` "top" or "left")."""
    from matplotlib.collections import LineCollection

    n = len(linkage.labels)
    position = {leaf: float(k) for k, leaf in enumerate(linkage.order)}
    height = dict.fromkeys(range(n), 0.0)
    solid, dashed = [], []
    for i, (a, b, h, _size) in enumerate(linkage.merges):
        top = h if np.isfinite(h) else inf_height
        link = [(position[a], height[a]), (position[a], top), (position[b], top), (position[b], height[b])]
        (solid if np.isfinite(h) else dashed).append(link if side == "top" else [(y, x) for x, y in link])
        position[n + i] = (position[a] + position[b]) / 2
        height[n + i] = top
    ax.add_collection(LineCollection(solid, colors="#404040", linewidths=0.8))
    ax.add_collection(LineCollection(dashed, colors=INF_COLOUR, linewidths=0.8, linestyles="dashed"))
    reach = max(height.values()) * 1.03 or 1.0
    if side == "top":
        ax.set_xlim(-0.5, n - 0.5)
        ax.set_ylim(0, reach)
    else:
        ax.set_xlim(reach, 0)
        ax.set_ylim(n - 0.5, -0.5)
    ax.set_axis_off()


def _heatmap_figure(matrix: np.ndarray, labels: tuple[str, ...], title: str, value_label: str,
                    linkage: Linkage | None) -> Figure:
    """The heatmap as a matplotlib Figure (not attached to pyplot); see :func:`save_heatmap`."""
    mpl = _matplotlib()
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    n = matrix.shape[0]
    order = list(linkage.order) if linkage is not None else list(range(n))
    shown = matrix[np.ix_(order, order)]
    names = [_short(labels[k]) for k in order]
    infinite = np.isposinf(shown)
    finite_values = shown[~infinite]

    # Layout in inches: [left dendrogram] heatmap [row labels] colour bar; title, [top dendrogram] above, column labels below.
    side, font = _label_layout(n)
    label_room = _label_room(names, font)
    tree = float(np.clip(side * 0.2, 0.8, 2.0)) if linkage is not None else 0.0
    pad, gap, title_room, bar, bar_room = 0.2, 0.05, 0.45, 0.18, 1.0
    left_room = tree + gap if linkage is not None else label_room  # row labels go right of a dendrogram, else left
    right_room = label_room if linkage is not None else 0.1
    width = pad + left_room + side + right_room + 0.15 + bar + bar_room + pad
    height = pad + title_room + (tree + gap if linkage is not None else 0.0) + side + label_room + pad

    def box(x: float, y: float, w: float, h: float) -> list[float]:
        return [x / width, y / height, w / width, h / height]

    fig = Figure(figsize=(width, height))
    map_x, map_y = pad + left_room, pad + label_room
    ax = fig.add_axes(box(map_x, map_y, side, side))
    colours = mpl.colormaps[COLOUR_MAP].with_extremes(bad=INF_COLOUR)
    low, high = (float(finite_values.min()), float(finite_values.max())) if finite_values.size else (0.0, 1.0)
    image = ax.imshow(np.ma.masked_array(shown, mask=infinite), cmap=colours, vmin=low, vmax=high,
                      aspect="auto", interpolation="nearest")
    ax.set_xticks(range(n), labels=names, rotation=90, fontsize=font)
    ax.set_yticks(range(n), labels=names, fontsize=font)
    ax.tick_params(length=2, width=0.5, pad=1)
    if linkage is not None:
        ax.yaxis.tick_right()
        _draw_dendrogram(fig.add_axes(box(pad, map_y, tree, side)), linkage, "left", _inf_height(linkage))
        _draw_dendrogram(fig.add_axes(box(map_x, map_y + side + gap, side, tree)), linkage, "top",
                         _inf_height(linkage))
    bar_x = map_x + side + right_room + 0.15
    bar_h = min(side, 4.0)
    cax = fig.add_axes(box(bar_x, map_y + side - bar_h, bar, bar_h))
    colourbar = fig.colorbar(image, cax=cax)
    colourbar.set_label(value_label, fontsize=9)
    cax.tick_params(labelsize=8)
    notes = []
    if infinite.any():
        notes.append(Patch(facecolor=INF_COLOUR, label=f"∞ ({int(infinite.sum())} cells)"))
    if linkage is not None and any(not np.isfinite(h) for _, _, h, _ in linkage.merges):
        notes.append(Line2D([], [], color=INF_COLOUR, linestyle="dashed", linewidth=0.8, label="merge at ∞"))
    if notes:
        fig.legend(handles=notes, loc="upper left", fontsize=8, frameon=False, borderaxespad=0,
                   bbox_to_anchor=((bar_x - 0.05) / width, (map_y + side - bar_h - 0.25) / height))
    fig.text((map_x + side / 2) / width, 1 - (pad + title_room / 2) / height, title,
             ha="center", va="center", fontsize=11)
    return fig


def _inf_height(linkage: Linkage) -> float:
    """Where merges at height ∞ are drawn: a fifth above the highest finite merge."""
    finite = [h for _, _, h, _ in linkage.merges if np.isfinite(h)]
    return max(finite) * 1.2 if finite and max(finite) > 0 else 1.0


def save_heatmap(matrix: np.ndarray, labels: Sequence[str], path: str | os.PathLike[str], *, title: str,
                 value_label: str, linkage: Linkage | None = None) -> None:
    """Heatmap of a square matrix (cell [i, j] = matrix[i, j]) written to ``path`` (.png or .svg).

    Rows and columns follow ``linkage.order`` when a :class:`~klcode.analysis.cluster.Linkage`
    of the same labels is given, with its dendrogram drawn on the left and on
    top; otherwise the order of ``labels``.  Finite values are coloured on
    one scale (the colour bar, labelled ``value_label``); +inf cells are
    red and counted in a note under the colour bar; merges at ∞ are dashed.
    Label fonts shrink with the number of labels (down to 4 pt); labels
    over 40 characters are shortened.  SVG output is byte-for-byte
    reproducible (fixed hash salt, no date) and keeps text as text.
    """
    fmt = _format(path)
    matrix, labels = _heatmap_matrix(matrix, labels, linkage)
    _save(_heatmap_figure(matrix, labels, title, value_label, linkage), path, fmt)


def heatmap_svg(matrix: np.ndarray, labels: Sequence[str], *, title: str, value_label: str,
                linkage: Linkage | None = None) -> str:
    """The heatmap of :func:`save_heatmap` as an SVG document (text), reproducible and self-contained.

    The cells are one embedded PNG image; labels and titles stay SVG text.
    """
    matrix, labels = _heatmap_matrix(matrix, labels, linkage)
    return _svg_text(_heatmap_figure(matrix, labels, title, value_label, linkage))


@dataclass(frozen=True)
class Panel:
    """One panel of line plots: series of y against x, with optional horizontal reference lines."""

    title: str
    x_label: str
    y_label: str
    x: tuple[float, ...]
    series: dict[str, tuple[float | None, ...]]
    references: dict[str, float] = field(default_factory=dict)
    log_x: bool = False

    def __post_init__(self) -> None:
        for label, values in self.series.items():
            if len(values) != len(self.x):
                raise DataError(f"series {label!r} has {len(values)} values for {len(self.x)} x values")


def _panels_figure(panels: Sequence[Panel], title: str) -> Figure:
    """The panels side by side as a matplotlib Figure (not attached to pyplot); see :func:`save_panels`."""
    if not panels:
        raise DataError("a plot needs at least one panel (got none)")
    _matplotlib()
    from matplotlib.figure import Figure

    fig = Figure(figsize=(5.5 * len(panels), 4.2), layout="constrained")
    fig.suptitle(title)
    for ax, panel in zip(fig.subplots(1, len(panels), squeeze=False)[0], panels):
        x = np.asarray(panel.x, dtype=np.float64)
        for label, values in panel.series.items():
            y = np.array([np.nan if v is None else v for v in values], dtype=np.float64)
            ax.plot(x, y, marker="o", markersize=3, label=label)
        for label, value in panel.references.items():
            ax.axhline(value, linestyle="--", linewidth=1, color="black" if "KL" in label else "grey", label=label)
        if panel.log_x:
            ax.set_xscale("log")
        ax.set_title(panel.title, fontsize=10)
        ax.set_xlabel(panel.x_label)
        ax.set_ylabel(panel.y_label)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8)
    return fig


def save_panels(panels: Sequence[Panel], path: str | os.PathLike[str], *, title: str) -> None:
    """Line plots side by side, one per :class:`Panel`, written to ``path`` (.png or .svg), atomically.

    Missing values (None or NaN) leave gaps; reference lines are dashed and
    labelled in the legend.
    """
    fmt = _format(path)
    _save(_panels_figure(panels, title), path, fmt)


def panels_svg(panels: Sequence[Panel], *, title: str) -> str:
    """The panels of :func:`save_panels` as an SVG document (text), reproducible.

    """
    return _svg_text(_panels_figure(panels, title))


def _dendrograms_figure(trees: Sequence[tuple[str, Linkage]], title: str) -> Figure:
    """Horizontal dendrograms side by side (root left, labelled leaves right), as a matplotlib Figure."""
    if isinstance(trees, tuple) and len(trees) == 2 and isinstance(trees[0], str):
        raise DataError("trees must be a sequence of (title, Linkage) pairs (got one pair; wrap it in a list)")
    if not trees:
        raise DataError("a figure needs at least one tree (got none)")
    for k, tree in enumerate(trees):
        if not (isinstance(tree, tuple) and len(tree) == 2 and isinstance(tree[0], str)
                and isinstance(tree[1], Linkage)):
            raise DataError(f"trees must be (title, Linkage) pairs (got {tree!r} at position {k})")
    _matplotlib()
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.ticker import MaxNLocator

    # Layout in inches: title, then per tree [dendrogram][leaf labels] side by side, top-aligned; height axis below.
    layouts = []
    for _, linkage in trees:
        names = [_short(linkage.labels[k]) for k in linkage.order]
        side, font = _label_layout(len(names))
        layouts.append((names, side, font, _label_room(names, font), float(np.clip(side * 0.45, 2.0, 4.0))))
    any_infinite = any(not np.isfinite(h) for _, linkage in trees for _, _, h, _ in linkage.merges)
    pad, gap, title_room, subtitle_room, axis_room = 0.2, 0.35, 0.45, 0.3, 0.55
    note_room = 0.3 if any_infinite else 0.0
    tallest = max(side for _, side, _, _, _ in layouts)
    width = pad + sum(tree_w + room for _, _, _, room, tree_w in layouts) + gap * (len(trees) - 1) + pad
    height = pad + title_room + subtitle_room + tallest + axis_room + note_room + pad

    fig = Figure(figsize=(width, height))
    top = height - pad - title_room - subtitle_room
    x = pad
    for (tree_title, linkage), (names, side, font, room, tree_w) in zip(trees, layouts):
        ax = fig.add_axes([x / width, (top - side) / height, tree_w / width, side / height])
        inf_height = _inf_height(linkage)
        _draw_dendrogram(ax, linkage, "left", inf_height)
        ax.set_axis_on()  # the leaf labels and the height axis of a stand-alone dendrogram
        for spine in ("top", "right", "left"):
            ax.spines[spine].set_visible(False)
        ax.spines["bottom"].set_linewidth(0.5)
        ax.set_yticks(range(len(names)), labels=names, fontsize=font)
        ax.yaxis.tick_right()
        ax.tick_params(axis="y", length=0, pad=2)
        ax.tick_params(axis="x", labelsize=7, length=2, width=0.5, pad=1)
        finite = [h for _, _, h, _ in linkage.merges if np.isfinite(h)]
        if len(finite) < len(linkage.merges):  # merges at ∞ are drawn at inf_height: label that tick ∞
            highest = max(finite, default=0.0)
            ticks = [float(t) for t in MaxNLocator(4).tick_values(0, highest) if 0 <= t <= highest * (1 + 1e-9)]
            ax.set_xticks([*ticks, inf_height], labels=[f"{t:g}" for t in ticks] + ["∞"])
        else:
            ax.xaxis.set_major_locator(MaxNLocator(4))
        ax.set_xlabel("merge height", fontsize=7, labelpad=2)
        ax.set_title(tree_title, fontsize=10, pad=6)
        x += tree_w + room + gap
    if any_infinite:
        fig.legend(handles=[Line2D([], [], color=INF_COLOUR, linestyle="dashed", linewidth=0.8, label="merge at ∞")],
                   loc="lower left", fontsize=8, frameon=False, borderaxespad=0,
                   bbox_to_anchor=(pad / width, pad / height))
    fig.text(0.5, 1 - (pad + title_room / 2) / height, title, ha="center", va="center", fontsize=11)
    return fig


def dendrograms_svg(trees: Sequence[tuple[str, Linkage]], *, title: str) -> str:
    """Dendrograms side by side, one per ``(title, linkage)`` pair, as an SVG document (text), reproducible.

    Each is horizontal: the root on the left, the leaves in ``linkage.order``
    top to bottom with their labels on the right (fonts shrink with the number
    of leaves, down to 4 pt; labels over 40 characters are shortened), merge
    heights on the axis below; merges at ∞ are dashed red, a fifth above the
    highest finite merge, on a tick labelled ∞.
    """
    return _svg_text(_dendrograms_figure(trees, title))
