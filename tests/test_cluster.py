"""Clustering: UPGMA against scipy, its definition as an oracle, infinities, ties, errors, nearest neighbours."""

import math

import numpy as np
import pytest
import scipy.cluster.hierarchy as sch
import scipy.spatial.distance as ssd
from hypothesis import given
from hypothesis import strategies as st

from klcode.analysis.cluster import (
    Linkage,
    average_linkage,
    nearest_neighbours,
    symmetric_distances,
)
from klcode.errors import DataError, KlcodeError


def _labels(n):
    return [f"t{k}" for k in range(n)]


def _random_distances(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 41))
    directed = rng.gamma(2.0, 0.5, size=(n, n))
    np.fill_diagonal(directed, 0.0)
    return symmetric_distances(directed)


def _members(linkage):
    """The set of leaves of every cluster id."""
    n = len(linkage.labels)
    members = [frozenset([k]) for k in range(n)]
    for a, b, _, _ in linkage.merges:
        members.append(members[a] | members[b])
    return members


def _assert_contiguous(linkage):
    position = {leaf: k for k, leaf in enumerate(linkage.order)}
    for cluster in _members(linkage):
        places = sorted(position[leaf] for leaf in cluster)
        assert places == list(range(places[0], places[0] + len(places)))


# ------------------------------------------------------------- against scipy
@pytest.mark.parametrize("seed", range(40))
def test_average_linkage_equals_scipy(seed):
    d = _random_distances(seed)
    n = d.shape[0]
    ours = average_linkage(d, _labels(n))
    theirs = sch.linkage(ssd.squareform(d, checks=False), method="average")
    merges = np.array(ours.merges, dtype=np.float64)
    assert merges.shape == theirs.shape == (n - 1, 4)
    np.testing.assert_allclose(merges[:, 2], theirs[:, 2], rtol=0, atol=1e-12)
    assert merges[:, [0, 1, 3]].tolist() == theirs[:, [0, 1, 3]].tolist()
    scipy_members = [frozenset([k]) for k in range(n)]
    for a, b, _, _ in theirs:
        scipy_members.append(scipy_members[int(a)] | scipy_members[int(b)])
    assert _members(ours) == scipy_members
    # Same convention as scipy's dendrogram: the first cluster of a merge is drawn left.
    assert list(ours.order) == sch.leaves_list(theirs).tolist()
    _assert_contiguous(ours)


def test_order_matches_scipy_dendrogram_leaves():
    d = _random_distances(123)
    ours = average_linkage(d, _labels(d.shape[0]))
    theirs = sch.dendrogram(np.array(ours.merges, dtype=np.float64), no_plot=True)
    assert list(ours.order) == theirs["leaves"]


# ---------------------------------------------------- the definition as an oracle
@st.composite
def _integer_distances(draw):
    """Small integer distances (many ties), some of them infinite."""
    n = draw(st.integers(1, 9))
    values = draw(st.lists(st.sampled_from([0.0, 1.0, 2.0, 3.0, math.inf]), min_size=n * n, max_size=n * n))
    upper = np.triu(np.array(values).reshape(n, n), 1)
    return upper + upper.T


@given(_integer_distances())
def test_merge_heights_are_mean_distances_between_the_merged_clusters(d):
    linkage = average_linkage(d, _labels(d.shape[0]))
    members = _members(linkage)
    heights = []
    for a, b, height, size in linkage.merges:
        between = d[np.ix_(sorted(members[a]), sorted(members[b]))]
        expected = math.inf if np.isinf(between).any() else float(between.mean())
        assert height == pytest.approx(expected, rel=1e-12, abs=1e-12)
        assert size == len(members[a]) + len(members[b])
        assert a < b
        heights.append(height)
    assert heights == sorted(heights)  # UPGMA is monotone; inf merges come last
    _assert_contiguous(linkage)


def test_ties_merge_the_smallest_pair_of_cluster_ids_first():
    d = np.ones((4, 4)) - np.eye(4)
    assert average_linkage(d, _labels(4)).merges == ((0, 1, 1.0, 2), (2, 3, 1.0, 2), (4, 5, 1.0, 4))
    linkage = average_linkage(d, _labels(4))
    assert linkage.order == (0, 1, 2, 3)


# -------------------------------------------------------------- infinities
def test_infinitely_distant_blocks_merge_last_and_blocks_match_scipy():
    rng = np.random.default_rng(7)
    sizes = (5, 4)
    n = sum(sizes)
    d = np.full((n, n), np.inf)
    start = 0
    for size in sizes:
        x = rng.random((size, size))
        block = (x + x.T) / 2
        np.fill_diagonal(block, 0)
        d[start:start + size, start:start + size] = block
        start += size
    linkage = average_linkage(d, _labels(n))
    *finite, last = linkage.merges
    assert last[2] == math.inf and last[3] == n
    assert all(math.isfinite(h) for _, _, h, _ in finite)
    members = _members(linkage)
    assert {members[last[0]], members[last[1]]} == {frozenset(range(5)), frozenset(range(5, 9))}
    first = sch.linkage(ssd.squareform(d[:5, :5], checks=False), "average")
    heights = sorted(h for a, b, h, _ in linkage.merges if members[a] | members[b] <= frozenset(range(5)))
    np.testing.assert_allclose(heights, first[:, 2], rtol=0, atol=1e-12)


def test_an_average_with_an_infinite_member_is_infinite():
    d = np.array([[0.0, 0.5, math.inf], [0.5, 0.0, 1.0], [math.inf, 1.0, 0.0]])
    assert average_linkage(d, ["a", "b", "c"]).merges == ((0, 1, 0.5, 2), (2, 3, math.inf, 3))


def test_all_infinite_still_builds_a_tree_in_id_order():
    d = np.full((3, 3), np.inf)
    np.fill_diagonal(d, 0)
    assert average_linkage(d, ["a", "b", "c"]).merges == ((0, 1, math.inf, 2), (2, 3, math.inf, 3))


def test_one_and_two_leaves():
    one = average_linkage(np.zeros((1, 1)), ["only"])
    assert (one.merges, one.order, one.labels) == ((), (0,), ("only",))
    two = average_linkage(np.array([[0.0, 2.5], [2.5, 0.0]]), ["a", "b"])
    assert (two.merges, two.order, two.ordered_labels) == (((0, 1, 2.5, 2),), (0, 1), ("a", "b"))
    assert average_linkage(np.array([[0, np.inf], [np.inf, 0]]), ["a", "b"]).merges == ((0, 1, math.inf, 2),)


def test_merges_hold_python_numbers():
    (a, b, height, size), = average_linkage(np.array([[0, 1], [1, 0]]), ["a", "b"]).merges
    assert [type(v) for v in (a, b, height, size)] == [int, int, float, int]


# ------------------------------------------------------- symmetric_distances
def test_symmetric_distances_averages_both_directions_and_keeps_inf():
    m = np.array([[0.0, 1.0, np.inf], [3.0, 0.0, 2.0], [0.5, 4.0, 0.0]])
    before = m.copy()
    d = symmetric_distances(m)
    assert d.tolist() == [[0.0, 2.0, math.inf], [2.0, 0.0, 3.0], [math.inf, 3.0, 0.0]]
    assert np.array_equal(m, before)


def test_symmetric_distances_clips_rounding_negatives():
    d = symmetric_distances(np.array([[-1e-13, -5e-13], [1e-12, 1e-13]]))
    assert d.tolist() == [[0.0, 5e-13], [5e-13, 0.0]]
    assert not np.signbit(d).any()


@pytest.mark.parametrize(
    ("matrix", "message"),
    [
        (np.zeros((2, 3)), "matrix must be a square 2-D array (got shape (2, 3))"),
        (np.zeros(3), "matrix must be a square 2-D array (got shape (3,))"),
        (np.zeros((0, 0)), "matrix must have at least one row (got shape (0, 0))"),
        ([[0, 1], [np.nan, 0]], "matrix must not contain NaN (got matrix[1, 0] = nan)"),
        ([[0, -0.25], [1, 0]], "matrix must be non-negative (got matrix[0, 1] = -0.25)"),
        ([[0, -np.inf], [1, 0]], "matrix must be non-negative (got matrix[0, 1] = -inf)"),
        ([[0, 1], [1, 0.5]], "matrix must have a zero diagonal (got matrix[1, 1] = 0.5)"),
        ([[np.inf, 1], [1, 0]], "matrix must have a zero diagonal (got matrix[0, 0] = inf)"),
        ([["a", "b"], ["c", "d"]], "matrix must be a square array of numbers (got list)"),
    ],
)
def test_symmetric_distances_rejects(matrix, message):
    with pytest.raises(DataError) as info:
        symmetric_distances(matrix)
    assert str(info.value) == message
    assert isinstance(info.value, KlcodeError) and isinstance(info.value, ValueError)


# ---------------------------------------------------------------- errors
def test_average_linkage_rejects_asymmetric_distances():
    with pytest.raises(DataError) as info:
        average_linkage(np.array([[0.0, 1.0], [3.0, 0.0]]), ["a", "b"])
    assert str(info.value) == (
        "distances must be symmetric (got distances[0, 1] = 1.0 and distances[1, 0] = 3.0); "
        "symmetric_distances() makes them so"
    )


def test_average_linkage_tolerates_rounding_asymmetry():
    d = np.array([[0.0, 1.0], [1.0 + 1e-15, 0.0]])
    assert average_linkage(d, ["a", "b"]).merges == ((0, 1, 1.0, 2),)


def test_average_linkage_checks_the_matrix_like_symmetric_distances():
    with pytest.raises(DataError, match=r"^distances must be non-negative \(got distances\[0, 1\] = -1.0\)$"):
        average_linkage(np.array([[0.0, -1.0], [-1.0, 0.0]]), ["a", "b"])


@pytest.mark.parametrize(
    ("labels", "message"),
    [
        (["a"], "need one label per row (got 1 labels for 2 rows)"),
        ("ab", "labels must be a sequence of strings, not one string (got 'ab')"),
        (["a", 2], "labels must be strings (got int 2 at position 1)"),
    ],
)
def test_labels_are_checked(labels, message):
    for function in (average_linkage, nearest_neighbours):
        with pytest.raises(DataError) as info:
            function(np.array([[0.0, 1.0], [1.0, 0.0]]), labels)
        assert str(info.value) == message


@pytest.mark.parametrize(
    ("merges", "order", "message"),
    [
        ((), (0, 1), "a linkage of 2 leaves needs 1 merges (got 0)"),
        (((1, 0, 1.0, 2),), (0, 1), "merge 0 must join two unmerged clusters a < b < 2 (got (1, 0, 1.0, 2))"),
        (((0, 1, 1.0, 2), (0, 2, 1.0, 3)), (0, 1, 2),
         "merge 1 must join two unmerged clusters a < b < 4 (got (0, 2, 1.0, 3))"),
        (((0, 1, float("nan"), 2),), (0, 1), "merge heights must be ≥ 0 (got nan in merge 0)"),
        (((0, 1, 1.0, 3),), (0, 1), "merge 0 joins 2 leaves (got size 3)"),
        (((0, 1, 1.0, 2),), (0, 0), "order must be a permutation of 0..1 (got (0, 0))"),
    ],
)
def test_linkage_is_validated(merges, order, message):
    with pytest.raises(DataError) as info:
        Linkage(merges=merges, order=order, labels=("a", "b") if len(order) == 2 else ("a", "b", "c"))
    assert str(info.value) == message


def test_linkage_normalizes_to_tuples_of_python_numbers():
    linkage = Linkage(merges=[np.array([0, 1, 2, 2])], order=np.array([1, 0]), labels=["a", "b"])
    assert linkage == Linkage(merges=((0, 1, 2.0, 2),), order=(1, 0), labels=("a", "b"))
    assert type(linkage.merges[0][0]) is int and type(linkage.merges[0][2]) is float
    hash(linkage)


def test_linkage_is_frozen():
    linkage = average_linkage(np.zeros((1, 1)), ["a"])
    with pytest.raises(AttributeError):
        linkage.order = (0,)


# ---------------------------------------------------------- nearest_neighbours
def test_nearest_neighbours_reads_rows_as_directed():
    m = np.array([[0.0, 2.0, 1.0], [3.0, 0.0, 5.0], [4.0, 0.5, 0.0]])
    assert nearest_neighbours(m, ["a", "b", "c"]) == (("a", "c", 1.0), ("b", "a", 3.0), ("c", "b", 0.5))


def test_nearest_neighbours_ties_go_to_the_smallest_j_and_never_to_i():
    m = np.array([[0.0, 1.0, 1.0], [2.0, 0.0, 2.0], [0.0, 0.0, 0.0]])
    assert nearest_neighbours(m, ["a", "b", "c"]) == (("a", "b", 1.0), ("b", "a", 2.0), ("c", "a", 0.0))
    inf_row = np.array([[0.0, np.inf, np.inf], [np.inf, 0.0, 1.0], [np.inf, np.inf, 0.0]])
    assert nearest_neighbours(inf_row, ["a", "b", "c"]) == (
        ("a", "b", math.inf), ("b", "c", 1.0), ("c", "a", math.inf))


def test_nearest_neighbours_does_not_modify_its_input_and_needs_two_rows():
    m = np.array([[0.0, 1.0], [2.0, 0.0]])
    nearest_neighbours(m, ["a", "b"])
    assert m.tolist() == [[0.0, 1.0], [2.0, 0.0]]
    with pytest.raises(DataError, match=r"^nearest neighbours need at least 2 rows \(got 1\)$"):
        nearest_neighbours(np.zeros((1, 1)), ["a"])


def test_average_linkage_is_fast_enough_for_200_items():
    rng = np.random.default_rng(0)
    x = rng.random((200, 200))
    d = (x + x.T) / 2
    np.fill_diagonal(d, 0)
    linkage = average_linkage(d, _labels(200))
    assert len(linkage.merges) == 199
    assert list(linkage.order) == sch.leaves_list(sch.linkage(ssd.squareform(d), "average")).tolist()
