"""Plots: PNG and SVG files, SVG text, reproducible SVG, bad suffixes, lazy matplotlib, atomic writes."""

import os
import re
import subprocess
import sys

import numpy as np
import pytest

from klcode.analysis.cluster import average_linkage, symmetric_distances
from klcode.errors import DataError, OutputError
from klcode.render.plots import (
    Panel,
    dendrograms_svg,
    heatmap_svg,
    panels_svg,
    save_heatmap,
    save_panels,
)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _divergences(n, seed=0):
    rng = np.random.default_rng(seed)
    m = rng.gamma(2.0, 0.3, size=(n, n))
    np.fill_diagonal(m, 0.0)
    m[0, 1:3] = np.inf  # p_0 uses symbols the models 1 and 2 never saw
    return m


def _labels(n):
    return [f"text_{k:02d}" for k in range(n)]


def test_png_with_dendrogram_and_infinities(tmp_path):
    m = _divergences(48)
    labels = _labels(48)
    linkage = average_linkage(symmetric_distances(m), labels)
    path = tmp_path / "kl.png"
    save_heatmap(m, labels, str(path), title="KL(row ‖ column)", value_label="bits per char", linkage=linkage)
    data = path.read_bytes()
    assert data.startswith(PNG_SIGNATURE)
    assert len(data) > 1024
    assert os.listdir(tmp_path) == ["kl.png"]


def test_svg_holds_the_labels_in_linkage_order_and_is_reproducible(tmp_path):
    m = _divergences(5)
    labels = ["alpha", "beta", "gamma", "delta", "epsilon"]
    linkage = average_linkage(symmetric_distances(m), labels)
    first, second = tmp_path / "a.svg", tmp_path / "b.svg"
    for path in (first, second):
        save_heatmap(m, labels, path, title="five texts", value_label="bits", linkage=linkage)
    text = first.read_text(encoding="utf-8")
    assert text.lstrip().startswith("<?xml") and "<svg" in text
    shown = re.findall(r">(" + "|".join(labels) + r")<", text)
    assert shown == list(linkage.ordered_labels) * 2  # columns, then rows
    assert linkage.ordered_labels != tuple(labels)
    assert "five texts" in text and "bits" in text and "∞ (2 cells)" in text
    assert first.read_bytes() == second.read_bytes()


def test_without_linkage_rows_keep_the_given_order(tmp_path):
    path = tmp_path / "plain.SVG"
    save_heatmap(np.array([[0.0, 1.0], [2.0, 0.0]]), ["zz_first", "aa_second"], path, title="t", value_label="v")
    text = path.read_text(encoding="utf-8")
    assert text.index("zz_first") < text.index("aa_second")
    assert "∞" not in text


def test_edge_cases_render(tmp_path):
    one = average_linkage(np.zeros((1, 1)), ["solo"])
    save_heatmap(np.zeros((1, 1)), ["solo"], tmp_path / "one.png", title="t", value_label="v", linkage=one)
    everything_infinite = np.full((3, 3), np.inf)
    np.fill_diagonal(everything_infinite, 0)
    tree = average_linkage(everything_infinite, ["a", "b", "c"])
    save_heatmap(everything_infinite, ["a", "b", "c"], tmp_path / "inf.png", title="t", value_label="v", linkage=tree)
    assert (tmp_path / "one.png").stat().st_size > 1024 and (tmp_path / "inf.png").stat().st_size > 1024


@pytest.mark.parametrize("name", ["x.pdf", "x", "x.png.bak"])
def test_bad_suffix_is_rejected_before_anything_is_drawn(tmp_path, monkeypatch, name):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # the suffix is checked first, even without matplotlib
    with pytest.raises(DataError) as info:
        save_heatmap(np.zeros((1, 1)), ["a"], name, title="t", value_label="v")
    assert str(info.value) == f"plot file must end in .png or .svg (got {name!r})"
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize(
    ("matrix", "labels", "message"),
    [
        (np.zeros((2, 3)), ["a", "b"], "matrix must be a non-empty square 2-D array (got shape (2, 3))"),
        ([[0, np.nan], [1, 0]], ["a", "b"], "matrix must hold numbers or +inf (got matrix[0, 1] = nan)"),
        (np.zeros((2, 2)), ["a"], "need one string label per row (got ['a'] for 2 rows)"),
    ],
)
def test_bad_matrices_are_rejected(tmp_path, matrix, labels, message):
    with pytest.raises(DataError) as info:
        save_heatmap(matrix, labels, tmp_path / "x.png", title="t", value_label="v")
    assert str(info.value) == message
    assert not list(tmp_path.iterdir())


def test_linkage_of_other_labels_is_rejected(tmp_path):
    linkage = average_linkage(np.zeros((2, 2)), ["a", "b"])
    with pytest.raises(DataError, match=r"^linkage must cluster the matrix's labels"):
        save_heatmap(np.zeros((2, 2)), ["b", "a"], tmp_path / "x.png", title="t", value_label="v", linkage=linkage)


def test_klcode_imports_without_matplotlib():
    code = (
        "import sys; sys.modules['matplotlib'] = None\n"
        "import klcode, klcode.analysis.cluster, klcode.render.plots\n"
        "assert not any(name.startswith('matplotlib.') for name in sys.modules)\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_failed_render_leaves_no_file_and_keeps_the_old_one(tmp_path, monkeypatch):
    from matplotlib.figure import Figure

    def broken_savefig(self, file, **kwargs):
        file.write(b"half a picture")
        raise RuntimeError("renderer exploded")

    monkeypatch.setattr(Figure, "savefig", broken_savefig)
    new, old = tmp_path / "new.png", tmp_path / "old.svg"
    old.write_text("previous plot")
    for path in (new, old):
        with pytest.raises(RuntimeError, match="renderer exploded"):
            save_heatmap(np.zeros((2, 2)), ["a", "b"], path, title="t", value_label="v")
    assert sorted(os.listdir(tmp_path)) == ["old.svg"]
    assert old.read_text() == "previous plot"


def test_unwritable_destination_is_an_input_error(tmp_path):
    with pytest.raises(OutputError) as info:
        save_heatmap(np.zeros((2, 2)), ["a", "b"], tmp_path / "no-such-dir" / "x.png", title="t", value_label="v")
    assert str(info.value) == f"cannot write {str(tmp_path / 'no-such-dir' / 'x.png')!r}: No such file or directory"
    (tmp_path / "taken.png").mkdir()
    with pytest.raises(OutputError, match="^cannot write .*taken.png"):
        save_heatmap(np.zeros((2, 2)), ["a", "b"], tmp_path / "taken.png", title="t", value_label="v")
    assert sorted(os.listdir(tmp_path)) == ["taken.png"]


# ------------------------------------------------------------------ SVG text for reports
SVG_LIMIT = 1_500_000  # bytes: a report embeds several figures


def _panels():
    return [
        Panel(title="loss by size", x_label="n", y_label="bits", x=(1.0, 10.0, 100.0),
              series={"estimate": (2.0, None, 1.1)}, references={"true KL": 1.0}, log_x=True),
        Panel(title="second panel", x_label="k", y_label="count", x=(0.0, 1.0), series={"a": (1.0, 2.0)}),
    ]


def _is_svg(text):
    return isinstance(text, str) and text.lstrip().startswith(("<?xml", "<svg")) and text.rstrip().endswith("</svg>")


def test_heatmap_svg_is_the_saved_svg_as_text(tmp_path):
    m = _divergences(5)
    labels = ["alpha", "beta", "gamma", "delta", "epsilon"]
    linkage = average_linkage(symmetric_distances(m), labels)
    text = heatmap_svg(m, labels, title="five texts", value_label="bits", linkage=linkage)
    assert _is_svg(text)
    assert re.findall(r">(" + "|".join(labels) + r")<", text) == list(linkage.ordered_labels) * 2
    assert "five texts" in text and "bits" in text and "∞ (2 cells)" in text
    assert text == heatmap_svg(m, labels, title="five texts", value_label="bits", linkage=linkage)
    save_heatmap(m, labels, tmp_path / "kl.svg", title="five texts", value_label="bits", linkage=linkage)
    assert (tmp_path / "kl.svg").read_text(encoding="utf-8") == text
    plain = heatmap_svg(np.array([[0.0, 1.0], [2.0, 0.0]]), ["zz_first", "aa_second"], title="t", value_label="v")
    assert plain.index("zz_first") < plain.index("aa_second")


def test_panels_svg_is_the_saved_svg_as_text(tmp_path):
    text = panels_svg(_panels(), title="two panels")
    assert _is_svg(text)
    for word in ("two panels", "loss by size", "second panel", "estimate", "true KL", "count"):
        assert word in text
    assert text == panels_svg(_panels(), title="two panels")
    save_panels(_panels(), tmp_path / "p.svg", title="two panels")
    assert (tmp_path / "p.svg").read_text(encoding="utf-8") == text
    save_panels(_panels(), tmp_path / "p.png", title="two panels")
    assert (tmp_path / "p.png").read_bytes().startswith(PNG_SIGNATURE)
    assert sorted(os.listdir(tmp_path)) == ["p.png", "p.svg"]


def test_dendrograms_svg_labels_every_leaf_of_every_tree_and_stays_small():
    labels = _labels(48)
    first = average_linkage(symmetric_distances(_divergences(48, seed=1)), labels)  # merges at ∞
    second_matrix = _divergences(48, seed=2)
    second_matrix[0, 1:3] = 1.0
    second = average_linkage(symmetric_distances(second_matrix), labels)
    trees = [("order 1 & co", first), ("order 3", second)]
    text = dendrograms_svg(trees, title="48 texts clustered")
    assert _is_svg(text)
    assert "48 texts clustered" in text and "order 1 &amp; co" in text and "order 3" in text
    shown = re.findall(r">(text_\d\d)<", text)
    assert shown == list(first.ordered_labels) + list(second.ordered_labels)  # top to bottom, tree by tree
    assert "merge at ∞" in text and ">∞<" in text
    assert text == dendrograms_svg(trees, title="48 texts clustered")
    assert len(text.encode()) < SVG_LIMIT
    finite_only = dendrograms_svg([("order 3", second)], title="one tree")
    assert "merge at ∞" not in finite_only and re.findall(r">(text_\d\d)<", finite_only) == list(second.ordered_labels)


def test_48_by_48_heatmap_svg_is_small_and_embeds_its_cells_as_one_image():
    m = _divergences(48)
    labels = _labels(48)
    text = heatmap_svg(m, labels, title="t", value_label="v", linkage=average_linkage(symmetric_distances(m), labels))
    assert len(text.encode()) < SVG_LIMIT
    assert "data:image/png;base64," in text  # the cells are one embedded image ...
    assert text.count("<path") < 48 * 48  # ... not one path per cell


def test_dendrograms_of_one_leaf_and_of_all_infinite_merges_render():
    infinite = np.full((3, 3), np.inf)
    np.fill_diagonal(infinite, 0)
    trees = [("solo", average_linkage(np.zeros((1, 1)), ["only"])),
             ("apart", average_linkage(infinite, ["a", "b", "c"])),
             ("equal", average_linkage(np.zeros((2, 2)), ["x", "y"]))]
    text = dendrograms_svg(trees, title="edges")
    assert _is_svg(text) and all(f">{word}<" in text for word in ("only", "a", "b", "c", "x", "y", "solo", "apart"))


@pytest.mark.parametrize(
    ("trees", "message"),
    [
        ([], "a figure needs at least one tree (got none)"),
        (("t", average_linkage(np.zeros((1, 1)), ["a"])),
         "trees must be a sequence of (title, Linkage) pairs (got one pair; wrap it in a list)"),
        ([("t", "not a tree")], "trees must be (title, Linkage) pairs (got ('t', 'not a tree') at position 0)"),
    ],
)
def test_bad_trees_are_rejected(trees, message):
    with pytest.raises(DataError) as info:
        dendrograms_svg(trees, title="t")
    assert str(info.value) == message


def test_no_panels_are_rejected():
    with pytest.raises(DataError, match=r"^a plot needs at least one panel \(got none\)$"):
        panels_svg([], title="t")
