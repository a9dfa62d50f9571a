"""Every corpus against every other: directed KL, measured Huffman excess, JS, nearest neighbours.

Cell (i, j) codes corpus i with a code built from corpus j, on the union of
their symbols: KL(i‖j) by formula (∞ when j lacks symbols of i), KL(i‖j') to
the effective model of j's code (the unseen policy applied), and the measured
excess L_j − L_i of j's Huffman code over i's own, from an actual encoding of
a stream with i's token counts (an order-0 code's length does not depend on
the order of the tokens).  JS is symmetric and always finite.

Each cell is the number :func:`~klcode.analysis.measure.measure` gives for
the pair, but what does not change from pair to pair is built once: corpus
i's own Huffman code and its measured bits, corpus j's Huffman code and its
code with the escape codeword (their lengths on j's symbols do not depend on
which union they sit in: Huffman's tie rule compares ids only by their order,
and a union keeps the order).  Per pair only j′'s canonical code on the union
is laid out, i's tokens are encoded with it and decoded back, and the formulas
are summed over the union, as :func:`measure` sums them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from ..coders import HuffmanCode, PrefixCode
from ..errors import DataError
from ..info.measures import js_divergence, kl_kernel
from ..text.inputs import Corpus
from ..text.stream import TokenStream
from .compare import shared_distributions
from .measure import UnseenPolicy, effective_model, encode_stream

#: Streams of at most this many tokens are laid out in one array; longer ones are streamed in chunks.
_ONE_ARRAY_TOKENS = 1 << 20

Matrix = tuple[tuple[float, ...], ...]


@dataclass(frozen=True)
class Neighbour:
    """The corpus nearest to ``corpus`` by some divergence, and that divergence."""

    corpus: str
    nearest: str
    bits_per_token: float


@dataclass(frozen=True)
class DivergenceMatrix:
    """Pairwise divergences of n corpora; ``kl_bits_per_token[i][j]`` is KL(corpus i ‖ corpus j), per token of i."""

    labels: tuple[str, ...]
    tokenizer: str
    tokens: tuple[int, ...]
    types: tuple[int, ...]
    kl_bits_per_token: Matrix
    effective_kl_bits_per_token: Matrix
    measured_excess_bits_per_token: Matrix
    js_bits_per_token: Matrix
    nearest_by_js: tuple[Neighbour, ...]
    nearest_by_measured_excess: tuple[Neighbour, ...]
    unseen_policy: str
    roundtrip: str


def as_matrix(matrix: np.ndarray) -> Matrix:
    """A 2-D array as a :data:`Matrix` (tuples of Python floats)."""
    return tuple(tuple(float(v) for v in row) for row in matrix)


def nearest(matrix: np.ndarray, labels: Sequence[str]) -> tuple[Neighbour, ...]:
    """For each row, the other column with the smallest value (ties: the first).

    >>> [n.nearest for n in nearest(np.array([[0, 2, 1], [2, 0, 3], [1, 3, 0.]]), "abc")]
    ['c', 'a', 'a']
    """
    result = []
    for i, row in enumerate(np.asarray(matrix, dtype=np.float64)):
        others = np.where(np.arange(row.size) == i, np.inf, row)
        j = int(np.argmin(others))
        result.append(Neighbour(labels[i], labels[j], float(row[j])))
    return tuple(result)


@dataclass(frozen=True)
class MutualPair:
    """Two corpora that are each other's nearest neighbour, at ``distance``."""

    a: str
    b: str
    distance: float


def mutual_neighbours(neighbours: Sequence[Neighbour]) -> tuple[MutualPair, ...]:
    """The pairs among ``neighbours`` (one per corpus, as :func:`nearest` gives them) that are each other's nearest.

    Each pair once, ``a`` before ``b`` in the order of ``neighbours``; closest first (ties: in that order).

    >>> d = np.array([[0, 1, 4, 5], [1, 0, 3, 6], [4, 3, 0, 2], [5, 6, 2, 0.]])
    >>> [(m.a, m.b, m.distance) for m in mutual_neighbours(nearest(d, "wxyz"))]
    [('w', 'x', 1.0), ('y', 'z', 2.0)]
    """
    position = {n.corpus: k for k, n in enumerate(neighbours)}
    nearest_of = {n.corpus: n.nearest for n in neighbours}
    pairs = [
        MutualPair(n.corpus, n.nearest, n.bits_per_token)
        for n in neighbours
        if nearest_of[n.nearest] == n.corpus and position[n.corpus] < position[n.nearest]
    ]
    return tuple(sorted(pairs, key=lambda pair: (pair.distance, position[pair.a])))


def divergence_matrix(
    corpora: Sequence[Corpus],
    *,
    policy: UnseenPolicy = UnseenPolicy(),
    verify: bool = True,
    progress: Callable[[int], None] | None = None,
) -> DivergenceMatrix:
    """KL(i‖j), KL(i‖j′), measured L_j′ − L_i and JS(i, j) for all ordered pairs; ``progress(1)`` after each pair.

    At least two corpora, counted with one tokenizer.  Cell (i, j) holds what
    ``measure(p_i, q_j, TokenStream.from_counts(p_i.counts))`` gives on the
    union of the two corpora's symbols (see the module docstring for what is
    built once instead of per pair).
    """
    if len(corpora) < 2:
        raise DataError(f"a matrix needs at least two corpora (got {len(corpora)})")
    labels = tuple(c.label for c in corpora)
    if len(set(labels)) != len(labels):
        duplicate = next(label for label in labels if labels.count(label) > 1)
        raise DataError(f"corpus labels must be distinct (got {duplicate!r} twice); rename a file")
    specs = {c.counts.spec for c in corpora}
    if len(specs) != 1:
        raise DataError(f"all corpora must be counted with one tokenizer (got {len(specs)} different ones)")
    for corpus in corpora:
        corpus.require_tokens()
    rows = _corpus_rows(corpora, policy, verify)
    n = len(corpora)
    kl, effective, excess, js = (np.zeros((n, n)) for _ in range(4))
    for i, row in enumerate(rows):
        for j, column in enumerate(rows):
            if i == j:
                continue
            pair = _Pair(row, column)
            kl[i, j] = math.inf if pair.unseen_types else kl_kernel(pair.p, pair.q)
            model_probabilities, code = _model(pair, policy, corpora[i], corpora[j])
            effective[i, j] = kl[i, j] if pair.unseen_types == 0 else kl_kernel(pair.p, model_probabilities)
            q_bits = _encoded_bits(code, pair.counts_of_row(), verify)
            excess[i, j] = q_bits / row.tokens - row.own_bits / row.tokens
            js[i, j] = js[j, i] if j < i else js_divergence(pair.p, pair.q)  # JS(p, q) = JS(q, p) bit for bit
            if progress is not None:
                progress(1)
    return DivergenceMatrix(
        labels=labels,
        tokenizer=corpora[0].counts.spec.describe(),
        tokens=tuple(c.counts.total_tokens for c in corpora),
        types=tuple(c.counts.types for c in corpora),
        kl_bits_per_token=as_matrix(kl),
        effective_kl_bits_per_token=as_matrix(effective),
        measured_excess_bits_per_token=as_matrix(excess),
        js_bits_per_token=as_matrix(js),
        nearest_by_js=nearest(js, labels),
        nearest_by_measured_excess=nearest(excess, labels),
        unseen_policy=policy.name,
        roundtrip="verified" if verify else "skipped",
    )


class _CorpusRow:
    """One corpus on the shared vocabulary: its ids, counts and p, its own code's measured bits, its codes as q."""

    def __init__(self, ids: np.ndarray, counts: np.ndarray, policy: UnseenPolicy, verify: bool) -> None:
        self.ids = ids  # ids of the corpus's symbols in the vocabulary of all corpora, ascending
        self.counts = counts
        self.total = sum(counts.tolist())  # a Python int, as Distribution.total_count
        self.tokens = int(self.total)
        self.probabilities = counts.astype(np.float64) / float(self.total)  # as Distribution.from_counts
        self.policy = policy
        self.own_bits = _encoded_bits(HuffmanCode.from_weights(counts, name="huffman(p)"), counts, verify)

    @cached_property
    def plain_lengths(self) -> np.ndarray:
        """Huffman lengths of q's counts on its own symbols (the code when q covers p)."""
        return HuffmanCode.from_weights(self.counts).lengths_bits

    @cached_property
    def escape(self) -> tuple[np.ndarray, int, float]:
        """Huffman lengths of q's symbols beside an escape, the escape's length, and ε (as measure's escape model)."""
        epsilon = self.policy.escape_probability
        if epsilon is not None:
            weights = np.append(self.probabilities * (1 - epsilon), epsilon)
        else:
            epsilon = 1 / (self.total + 1)
            weights = np.append(self.counts, 1)  # one pseudo-count for the escape, exact integer weights
        lengths = HuffmanCode.from_weights(weights).lengths_bits
        return lengths[:-1], int(lengths[-1]), epsilon


class _Pair:
    """Corpus i (p) and corpus j (q) on the union of their symbols, in vocabulary order."""

    def __init__(self, row: _CorpusRow, column: _CorpusRow) -> None:
        union = np.union1d(row.ids, column.ids)
        self.row, self.column, self.size = row, column, union.size
        self.in_row = np.searchsorted(union, row.ids)
        self.in_column = np.searchsorted(union, column.ids)
        self.p = np.zeros(union.size)
        self.p[self.in_row] = row.probabilities
        self.q = np.zeros(union.size)
        self.q[self.in_column] = column.probabilities
        self.unseen_types = union.size - column.ids.size  # symbols of i that j lacks (the union's others)

    def counts_of_row(self) -> np.ndarray:
        counts = np.zeros(self.size, dtype=np.int64)
        counts[self.in_row] = self.row.counts
        return counts


def _corpus_rows(corpora: Sequence[Corpus], policy: UnseenPolicy, verify: bool) -> list[_CorpusRow]:
    symbols = sorted(set().union(*(c.counts.symbols for c in corpora)))
    index = {s: i for i, s in enumerate(symbols)}
    return [
        _CorpusRow(np.fromiter((index[s] for s in c.counts.symbols), dtype=np.int64, count=c.counts.types),
                   np.asarray(c.counts.counts, dtype=np.int64), policy, verify)
        for c in corpora
    ]


def _model(pair: _Pair, policy: UnseenPolicy, corpus_i: Corpus, corpus_j: Corpus):
    """q′ on the pair's union and its code, as :func:`~klcode.analysis.measure.effective_model` builds them."""
    column = pair.column
    if pair.unseen_types == 0:
        lengths = np.zeros(pair.size, dtype=np.int64)
        lengths[pair.in_column] = column.plain_lengths
        return pair.q, PrefixCode.from_lengths(lengths, name="huffman(q)")
    if policy.name != "escape":  # add-k smooths over the union, error refuses: the pair's own model
        p, q, _ = shared_distributions(corpus_i, corpus_j)
        model = effective_model(p, q, policy, p.counts)
        return model.probabilities, model.code
    seen_lengths, escape_bits, epsilon = column.escape
    missing = pair.unseen_types
    fallback_bits = math.ceil(math.log2(missing)) if missing > 1 else 0
    unseen = pair.q <= 0
    lengths = np.zeros(pair.size, dtype=np.int64)
    lengths[pair.in_column] = seen_lengths
    lengths[unseen] = escape_bits + fallback_bits
    probabilities = pair.q * (1 - epsilon)
    probabilities[unseen] = epsilon / missing
    return probabilities, PrefixCode.from_lengths(lengths, name="huffman(q+escape)")


def _encoded_bits(code: PrefixCode, counts: np.ndarray, verify: bool) -> int:
    """Bits of a stream with these counts encoded with ``code`` (decoded back and compared when ``verify``)."""
    tokens = int(counts.sum())
    if tokens <= _ONE_ARRAY_TOKENS:  # int64 ids: the same bits as uint8 ones, without a per-code table of byte pairs
        stream = TokenStream.from_array(np.repeat(np.arange(counts.size), counts), counts.size, "counts")
    else:
        stream = TokenStream.from_counts(counts)
    (bits,), _ = encode_stream([code], stream, verify)
    return bits
