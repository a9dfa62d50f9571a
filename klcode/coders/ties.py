"""Tie band: the range of L_q = Σ p(x)·l(x) over every Huffman code of q that breaking ties can give.

Huffman's algorithm merges the two lightest nodes; when several nodes weigh
the same (leaves, or merged nodes — ties arise at any step), every choice
gives an optimal code for q, but not the same lengths, and coding another
distribution p with them costs different amounts (DESIGN.md, trap 2).  klcode
builds the *canonical* one (dahuffman's rule on ids, :data:`TIE_RULE`); the
band says how much the choice can matter:

    band = [min, max] of Σ p(x)·l(x) over the Huffman codes of q reachable by
    choosing, at every merge, any node tied for lightest, then any node tied
    for lightest among the rest.

Only the lengths matter, and a merge of nodes a and b adds P(a) + P(b) (their
p-mass) to the cost, so L = Σ over merges of the merged p-mass.  Nodes of
equal weight *and* equal p-mass are interchangeable; the search state is the
multiset of (weight, p-mass) node types, with a multiplicity each.

A first pass builds the canonical code on a heap and notes whether any of
its steps had a choice; when none had, the band is that one point (exact, in
O(n log n), for alphabets of any size).  Otherwise:

- **Exact** (``exact=True``): a depth-first search over every tie choice,
  memoized on the state; runs of forced merges are followed without
  branching.  ``tie_orders`` counts the distinct merge orders, orders that
  differ only by swapping interchangeable nodes counted once.
- **Estimate** (``exact=False``), when the search would pass ``max_states``
  states (or about as many merges, or as many choices at one step — large
  tie groups): the band over the canonical order, two greedy orders (ties
  broken towards the least, or the most, p-mass) and up to ``samples``
  orders with a random priority per node (seeded; fewer on large alphabets,
  at most 300,000 merges in all).  Every one is a real Huffman code of q, so
  this is an *inner* estimate: the true band contains it.

Tie test: integer weights (counts) and float weights that are multiples of
2^−32 (dyadic: ½, ¼, ...; summing to less than 2^21, so float sums are
exact) are compared exactly, as Python integers.  Other float weights are
tied when they differ by at most a relative 1e-12, so that q = (0.1, 0.2,
0.3, ...) has the ties it was meant to have (0.1 + 0.2 is not 0.3 in
floats); node weights are summed in floats as the canonical code sums them,
so the canonical code is one of the orders the exact search explores.  The
greedy and random orders of an estimate break exact ties only.
Costs are summed exactly (p as integers over a common power of two).

>>> band = huffman_tie_band(np.full(5, 0.2), np.array([0.5, 0.25, 0.125, 0.0625, 0.0625]))
>>> band.minimum_bits_per_token, band.maximum_bits_per_token, band.canonical_bits_per_token, band.exact
(2.125, 2.75, 2.75, True)
"""

from __future__ import annotations

import heapq
import math
import time
from bisect import bisect_left, bisect_right
from dataclasses import dataclass

import numpy as np

from ..errors import CodeError, DistributionError
from ..models.distribution import SUM_TOLERANCE
from ._checks import checked_weights

__all__ = ["TieBand", "huffman_tie_band"]

#: Relative tolerance within which float weights (not dyadic) are tied.
RELATIVE_TIE_TOLERANCE = 1e-12
#: Float weights that are multiples of 2^−DYADIC_BITS are compared exactly.
DYADIC_BITS = 32
#: Merges the random orders may make in all (under a second): fewer than ``samples`` orders on large alphabets.
_MAX_SAMPLE_MERGES = 300_000
#: Alphabets of at least this many symbols get their canonical order from the compiled heap.
COMPILED_MIN_SYMBOLS = 50_000


@dataclass(frozen=True)
class TieBand:
    """[min, max] of L_q = Σ p(x)·l(x) over the tie orders of the Huffman code of q, beside the canonical L_q.

    >>> TieBand(2.125, 2.75, 2.25, True, 9, "exact").width_bits_per_token
    0.625
    """

    minimum_bits_per_token: float
    maximum_bits_per_token: float
    canonical_bits_per_token: float
    exact: bool
    #: Tie orders the band was taken over (all of them when exact, else the orders sampled).
    tie_orders: int
    #: How the band was computed, in words (exact search or inner estimate, tie test).
    method: str

    def __post_init__(self) -> None:
        low, mid, high = self.minimum_bits_per_token, self.canonical_bits_per_token, self.maximum_bits_per_token
        if not low <= mid <= high:
            raise CodeError(f"a tie band needs minimum <= canonical <= maximum (got {low}, {mid}, {high})")
        if self.tie_orders < 1:
            raise CodeError(f"a tie band covers at least one tie order (got {self.tie_orders})")

    @property
    def width_bits_per_token(self) -> float:
        """maximum − minimum: how much the tie rule alone can move L_q."""
        return self.maximum_bits_per_token - self.minimum_bits_per_token

    def shifted(self, bits_per_token: float, why: str) -> TieBand:
        """The band moved by a cost every tie order pays alike (e.g. the index bits of escaped symbols).

        >>> TieBand(2.0, 2.5, 2.25, True, 3, "exact").shifted(0.5, "plus a constant").maximum_bits_per_token
        3.0
        """
        return TieBand(self.minimum_bits_per_token + bits_per_token, self.maximum_bits_per_token + bits_per_token,
                       self.canonical_bits_per_token + bits_per_token, self.exact, self.tie_orders,
                       f"{self.method}; {why}")

    def contains(self, bits_per_token: float, tolerance_bits: float = 1e-12) -> bool:
        """Whether a cost lies inside the band (within ``tolerance_bits``)."""
        low, high = self.minimum_bits_per_token, self.maximum_bits_per_token
        return low - tolerance_bits <= bits_per_token <= high + tolerance_bits


def huffman_tie_band(
    q_weights: np.ndarray,
    p: np.ndarray,
    *,
    max_states: int = 200_000,
    samples: int = 2_000,
    seed: int = 0,
    budget_seconds: float | None = None,
) -> TieBand:
    """Tie band of L_q = Σ p(x)·l(x): min and max over the Huffman codes of q_weights (see the module docstring).

    ``q_weights`` are the weights the Huffman code of q is built from (counts
    or probabilities; 0 = no codeword).  ``p`` is the distribution coded with
    it, on the same ids: probabilities summing to 1, or integer counts
    (p = c / Σ c, exactly — with p ∝ q every tie order costs the same, and
    exact counts let the search see it).

    ``max_states`` is the exact search's budget: memoized states, and about
    5·max_states merges and pair choices (a failed search takes about a
    second).  Past it, the band is an inner estimate over the canonical
    order, two greedy orders and up to ``samples`` random orders drawn with
    ``seed``.  ``budget_seconds`` bounds the whole computation in time (the
    canonical order always counts; the search and the other orders stop when
    the time is up, and ``method`` says so).  Alphabets of
    :data:`COMPILED_MIN_SYMBOLS` symbols or more take their canonical order
    from the compiled Huffman heap.

    >>> band = huffman_tie_band(np.array([3, 2, 1]), np.array([0.2, 0.3, 0.5]))
    >>> (band.minimum_bits_per_token, band.maximum_bits_per_token, band.exact, band.tie_orders)
    (1.8, 1.8, True, 1)
    """
    weights, tolerant = _checked_weights(q_weights)
    p_integers, scale = _checked_p(p, len(weights))
    used = [i for i, w in enumerate(weights) if w > 0]
    tie_test = (
        f"float weights tied within a relative {RELATIVE_TIE_TOLERANCE:g}" if tolerant else "weights compared exactly"
    )
    if sum(p_integers) != sum(p_integers[i] for i in used):
        infinite = float("inf")
        method = "p gives mass to ids q weighs 0: every code of q costs ∞"
        return TieBand(infinite, infinite, infinite, True, 1, method)
    leaf_weights, leaf_masses = [weights[i] for i in used], [p_integers[i] for i in used]
    if len(used) == 1:  # one symbol: a 1-bit codeword, nothing to tie
        point = _bits(leaf_masses[0], scale)
        return TieBand(point, point, point, True, 1, "exact: one symbol, one code (a 1-bit codeword)")
    deadline = math.inf if budget_seconds is None else time.monotonic() + budget_seconds
    search = _Search(tolerant, deadline)
    if len(used) >= COMPILED_MIN_SYMBOLS:
        canonical, tied = _compiled_canonical(np.asarray(q_weights)[used], leaf_masses, tolerant)
    else:
        canonical, tied = search.canonical(leaf_weights, leaf_masses)
    if not tied:
        point = _bits(canonical, scale)
        method = f"exact: no tie to break, one Huffman code; {tie_test}"
        return TieBand(point, point, point, True, 1, method)
    initial = _initial_types(leaf_weights, leaf_masses)
    try:
        low, high, orders = search.exact(initial, max_states)
    except _TooLarge:
        pass
    else:
        method = (
            f"exact: all {orders:,} tie orders explored (interchangeable nodes counted once); {tie_test}"
            if orders > 1
            else f"exact: ties only between interchangeable nodes (equal weight and p-mass), one cost; {tie_test}"
        )
        return TieBand(_bits(low, scale), _bits(high, scale), _bits(canonical, scale), True, orders, method)
    rng = np.random.default_rng(seed)
    costs = [canonical]
    orders: list = ["least", "most"] + [rng] * min(samples, _MAX_SAMPLE_MERGES // len(used))
    for rule in orders:
        if time.monotonic() > deadline:
            break
        costs.append(_order_cost(leaf_weights, leaf_masses, rule))
    drawn = max(0, len(costs) - 3)
    greedy = "greedy least and most p-mass" if len(costs) >= 3 else ("greedy least p-mass" if len(costs) == 2 else "")
    taken = ", ".join(part for part in ("canonical", greedy, f"{drawn:,} random with seed {seed}" if drawn else "") if part)
    timed_out = time.monotonic() > deadline
    budget = (f"the time budget ({budget_seconds:g} s)" if timed_out or search.timed_out
              else f"its budget (max_states={max_states:,})")
    method = (
        f"inner estimate (the true band contains it): the exact search passed {budget}, "
        f"so the band is taken over {len(costs):,} tie orders ({taken}); {tie_test}"
    )
    low, high = _bits(min(costs), scale), _bits(max(costs), scale)
    return TieBand(low, high, _bits(canonical, scale), False, len(costs), method)


# ---------------------------------------------------------------------- input
def _checked_weights(q_weights: np.ndarray) -> tuple[list, bool]:
    """Weights as Python ints (exact ties) or floats (tied within a relative tolerance), and which."""
    q, _used = checked_weights(q_weights, "Huffman")
    if q.dtype.kind in "iu":
        return q.tolist(), False
    scaled = np.ldexp(q.astype(np.float64), DYADIC_BITS)
    if np.array_equal(scaled, np.floor(scaled)) and math.fsum(scaled.tolist()) < 2**53:
        # every float sum of these weights is exact, so integer sums order the nodes as the canonical code does
        return [int(x) for x in scaled.tolist()], False
    return q.astype(np.float64).tolist(), True


def _checked_p(p: np.ndarray, size: int) -> tuple[list[int], int]:
    """p as exact integers over a common denominator: (numerators, denominator)."""
    values = np.asarray(p)
    if values.shape != (size,):
        raise DistributionError(
            f"p must have one value per Huffman weight (got shape {values.shape}, expected ({size},))"
        )
    if values.dtype.kind in "iu":
        if (values < 0).any() or not (values > 0).any():
            raise DistributionError(f"p counts must be non-negative and not all zero (got {values[:8].tolist()}...)")
        numerators = values.tolist()
        return numerators, sum(numerators)
    values = values.astype(np.float64)
    if not np.isfinite(values).all() or (values < 0).any():
        raise DistributionError("p must be finite and non-negative (got a NaN, infinite or negative value)")
    total = math.fsum(values.tolist())
    if abs(total - 1) > SUM_TOLERANCE:
        raise DistributionError(f"p must sum to 1 (got {total:.12g})")
    ratios = [x.as_integer_ratio() for x in values.tolist()]
    scale = max(denominator for _, denominator in ratios)
    return [numerator * (scale // denominator) for numerator, denominator in ratios], scale


def _bits(cost: int, scale: int) -> float:
    return cost / scale  # int / int is correctly rounded in Python


def _initial_types(weights: list, p_integers: list[int]) -> list[tuple]:
    """The sorted multiset of leaf types: (weight, p-mass, multiplicity)."""
    tally: dict[tuple, int] = {}
    for w, x in zip(weights, p_integers):
        tally[(w, x)] = tally.get((w, x), 0) + 1
    return sorted((w, x, m) for (w, x), m in tally.items())


# --------------------------------------------------------------------- search
class _TooLarge(Exception):
    """The exact search passed its budget."""


_ABOVE = float("inf")  # compares above every p-mass: (w, _ABOVE) sorts after every type of weight w


class _Search:
    """Tie-order search on a sorted list of node types (weight, p-mass, multiplicity)."""

    def __init__(self, tolerant: bool, deadline: float = math.inf) -> None:
        self.tolerant = tolerant
        #: Work of the exact search: merges, pairs of types considered, node types copied / 64.
        self.work = 0
        self.max_work = math.inf
        #: time.monotonic() past which the exact search gives up; whether it did.
        self.deadline = deadline
        self.timed_out = False
        self._next_clock = 0

    def _tie_limit(self, weight):
        """The heaviest weight tied with ``weight``."""
        return weight * (1 + RELATIVE_TIE_TOLERANCE) if self.tolerant else weight

    def canonical(self, weights: list, masses: list[int]) -> tuple[int, bool]:
        """Cost of the canonical code (dahuffman's rule) and whether any step of it had a choice.

        dahuffman's heap holds (weight, list of leaves) and compares equal
        weights by the lists, that is by their first leaf id: (weight, first
        leaf id) on a heap is the same order.  A step has a choice exactly when
        the node after the two it merges is tied with the second of them.
        """
        heap = [(w, i, x) for i, (w, x) in enumerate(zip(weights, masses))]
        heapq.heapify(heap)
        pop, push = heapq.heappop, heapq.heappush
        cost, tied = 0, False
        while len(heap) > 1:
            weight_a, first_leaf, mass_a = pop(heap)
            weight_b, _, mass_b = pop(heap)
            if heap and not tied:
                tied = heap[0][0] <= self._tie_limit(weight_b)
            cost += mass_a + mass_b
            push(heap, (weight_a + weight_b, first_leaf, mass_a + mass_b))
        return cost, tied

    def _end_of_tie(self, types: list[tuple], weight, start: int = 0) -> int:
        """Index after the last type whose weight is tied with ``weight`` (types before ``start`` are lighter)."""
        return bisect_right(types, (self._tie_limit(weight), _ABOVE), start)

    def _second_range(self, types: list[tuple], a: int) -> int:
        """End of the types the second node may come from, once one node of type a is taken."""
        if a == 0 and types[0][2] == 1:
            return self._end_of_tie(types, types[1][0], 1)
        return self._end_of_tie(types, types[0][0])

    def _choices(self, types: list[tuple]) -> list[tuple[int, int]]:
        """Distinct pairs (a, b), a ≤ b, of type indices that a Huffman step may merge."""
        pairs: dict[tuple[int, int], None] = {}
        candidates = 0
        for a in range(self._end_of_tie(types, types[0][0])):
            end = self._second_range(types, a)
            candidates += end
            if self.work + candidates > self.max_work:
                raise _TooLarge
            for b in range(end):
                if b != a or types[a][2] > 1:
                    pairs[(a, b) if a <= b else (b, a)] = None
        self.work += candidates
        return list(pairs)

    def _forced_batch(self, types: list[tuple]) -> int | None:
        """When one type alone is lightest, with several nodes: merge them pairwise at once; returns the cost."""
        weight, mass, count = types[0]
        if count < 2 or (len(types) > 1 and self._end_of_tie(types, weight) > 1):
            return None
        pairs = count // 2
        if count % 2:
            types[0] = (weight, mass, 1)
        else:
            del types[0]
        _add(types, weight + weight, mass + mass, pairs)
        self.work += 1
        return pairs * (mass + mass)

    def _merge(self, types: list[tuple], a: int, b: int) -> int:
        """Merge one node of type a with one of type b in place; returns the merged p-mass."""
        weight_a, mass_a, _ = types[a]
        weight_b, mass_b, _ = types[b]
        for index in (max(a, b), min(a, b)):  # the right one first: the other index stays valid
            weight, mass, count = types[index]
            if count == 1:
                del types[index]
            else:
                types[index] = (weight, mass, count - 1)
        _add(types, weight_a + weight_b, mass_a + mass_b, 1)
        self.work += 1 + len(types) // 4096  # and the list's memmove
        return mass_a + mass_b

    def _advance(self, types: list[tuple]) -> tuple[int, list[tuple[int, int]]]:
        """Follow forced merges in place: (their cost, the choices where the order branches; [] = one node left)."""
        cost = 0
        while len(types) > 1 or types[0][2] > 1:
            batch = self._forced_batch(types)
            if batch is not None:
                cost += batch
                continue
            choices = self._choices(types)
            if len(choices) > 1:
                return cost, choices
            cost += self._merge(types, *choices[0])
        return cost, []

    def exact(self, initial: list[tuple], max_states: int) -> tuple[int, int, int]:
        """(min cost, max cost, number of tie orders) over every tie order, by memoized depth-first search.

        Gives up (raises :class:`_TooLarge`) past ``max_states`` states, merges, or choices at one state.
        """
        self.max_work = 5 * max_states
        types = list(initial)
        cost, choices = self._advance(types)
        if not choices:
            return cost, cost, 1
        root = tuple(types)
        memo: dict[tuple, tuple[int, int, int]] = {}
        # a frame: [state, its choices, next choice, min, max, orders, cost of the edge into it]
        stack = [[root, choices, 0, None, None, 0, 0]]
        while stack:
            frame = stack[-1]
            state, frame_choices, position = frame[0], frame[1], frame[2]
            if position == len(frame_choices):
                stack.pop()
                memo[state] = (frame[3], frame[4], frame[5])
                if stack:
                    _fold(stack[-1], frame[6] + frame[3], frame[6] + frame[4], frame[5])
                continue
            frame[2] += 1
            if self.work > self.max_work:
                raise _TooLarge
            if self.work >= self._next_clock:
                self._next_clock = self.work + 1024
                if time.monotonic() > self.deadline:
                    self.timed_out = True
                    raise _TooLarge
            self.work += len(state) // 64
            child = list(state)
            edge = self._merge(child, *frame_choices[position])
            forced, child_choices = self._advance(child)
            edge += forced
            if not child_choices:
                _fold(frame, edge, edge, 1)
                continue
            key = tuple(child)
            if key in memo:
                low, high, orders = memo[key]
                _fold(frame, edge + low, edge + high, orders)
                continue
            if len(memo) + len(stack) >= max_states or self.work > self.max_work:
                raise _TooLarge
            stack.append([key, child_choices, 0, None, None, 0, edge])
        low, high, orders = memo[root]
        return cost + low, cost + high, orders



def _compiled_canonical(weights: np.ndarray, masses: list[int], tolerant: bool) -> tuple[int, bool]:
    """Cost of the canonical code and whether any of its steps had a choice, by the compiled heap (same order).

    The cost of a code is Σ p-mass(x)·l(x) (= Σ over merges of the merged p-mass).
    """
    from .kernels import huffman_lengths_heap

    dtype = np.int64 if weights.dtype.kind in "iu" else np.float64
    lengths, tied = huffman_lengths_heap(np.ascontiguousarray(weights, dtype=dtype),
                                         RELATIVE_TIE_TOLERANCE if tolerant else 0.0)
    return sum(map(int.__mul__, masses, lengths.tolist())), bool(tied)


def _order_cost(weights: list, masses: list[int], rule: str | np.random.Generator) -> int:
    """Cost Σ merged p-mass of the Huffman order that breaks exact ties by a priority per node.

    ``rule`` is ``"least"`` (the node of least p-mass first), ``"most"``, or a
    seeded generator (a random priority per node).  A heap of (weight,
    priority, serial, p-mass): O(n log n), for alphabets of any size.
    """
    n = len(weights)
    if isinstance(rule, str):
        sign = 1 if rule == "least" else -1
        heap = [(w, sign * x, i, x) for i, (w, x) in enumerate(zip(weights, masses))]
    else:
        sign = 0
        priorities = rule.random(2 * n - 1).tolist()
        heap = [(w, priorities[i], i, x) for i, (w, x) in enumerate(zip(weights, masses))]
    heapq.heapify(heap)
    pop, push = heapq.heappop, heapq.heappush
    cost = 0
    for node in range(n, 2 * n - 1):
        weight_a, _, _, mass_a = pop(heap)
        weight_b, _, _, mass_b = pop(heap)
        mass = mass_a + mass_b
        cost += mass
        push(heap, (weight_a + weight_b, sign * mass if sign else priorities[node], node, mass))
    return cost


def _fold(frame: list, low: int, high: int, orders: int) -> None:
    frame[3] = low if frame[3] is None else min(frame[3], low)
    frame[4] = high if frame[4] is None else max(frame[4], high)
    frame[5] += orders


def _add(types: list[tuple], weight, mass: int, count: int) -> None:
    """Add ``count`` nodes of type (weight, mass) to the sorted type list."""
    index = bisect_left(types, (weight, mass))
    if index < len(types) and types[index][0] == weight and types[index][1] == mass:
        types[index] = (weight, mass, types[index][2] + count)
    else:
        types.insert(index, (weight, mass, count))
