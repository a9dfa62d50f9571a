"""Discrete probability distributions over a finite, ordered alphabet.

A :class:`Distribution` is immutable and validated once, in its constructor.
Symbols are any hashable values (``str`` for JSON files and characters,
one-byte ``bytes`` for byte tokens); their order is the order of the ids that
codes and token streams use.

>>> p = Distribution.binomial(2, 0.4)
>>> p.symbols, p.probabilities.round(2).tolist()
((0, 1, 2), [0.36, 0.48, 0.16])
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from os import PathLike

import numpy as np

from ..errors import DistributionError, InputError
from ..text.corpus import read_bytes
from ..text.jsonfile import RepeatedKeyError, loads_strict

#: How far from 1 a sum of probabilities may be and still be accepted.
SUM_TOLERANCE = 1e-9
#: The largest count a distribution keeps (counts are int64).
_MAX_COUNT = 2**63 - 1
#: The most samples :meth:`Distribution.sample` draws at once.  The ids, the codes' bit arrays and the
#: decode check of N samples are held in memory (about 24 bytes a token; 200 million took 4.6 GB), so a
#: larger N is refused before anything is allocated.
MAX_SAMPLES = 50_000_000
#: The most symbols a family spec (``binomial:N,P``, ``uniform:N``) may have: 2^24, the largest alphabet a
#: 24-bit model of the ANS coder can hold, and far more than a family needs to show a lesson.
MAX_FAMILY_SYMBOLS = 1 << 24
#: Up to this n the binomial is computed exactly as C(n,k)·p^k·(1−p)^(n−k); beyond, C(n,k) overflows a
#: float and the log-space form exp(lgamma…) is used.
_BINOMIAL_EXACT_N = 1000


def _frozen(array: np.ndarray) -> np.ndarray:
    array.flags.writeable = False
    return array


@dataclass(frozen=True, eq=False)
class Distribution:
    """A probability distribution p(x) over ``symbols``, with Σ p(x) = 1.

    ``counts`` is kept when the distribution was made from counts (a text, a
    sample): codes are then built from exact integer weights, and add-k
    smoothing or an escape symbol can be derived from it.

    >>> Distribution.from_probabilities({"H": 0.5, "T": 0.5}).support_size
    2
    >>> Distribution.from_probabilities({"H": 0.5, "T": 0.4})
    Traceback (most recent call last):
    ...
    klcode.errors.DistributionError: probabilities must sum to 1 (got 0.9)
    """

    symbols: tuple[Hashable, ...]
    probabilities: np.ndarray
    counts: np.ndarray | None = field(default=None)
    #: The sum of the probabilities as given, when it was within :data:`SUM_TOLERANCE` of 1 but not 1 and
    #: :meth:`from_probabilities` divided them by it (None otherwise); measurements say so in a note.
    renormalized_from: float | None = field(default=None)

    def __post_init__(self) -> None:
        symbols = tuple(self.symbols)
        probabilities = np.array(self.probabilities, dtype=np.float64, copy=True)
        if probabilities.ndim != 1:
            raise DistributionError(
                f"probabilities must be one-dimensional (got shape {probabilities.shape})"
            )
        if len(symbols) == 0:
            raise DistributionError("a distribution needs at least one symbol (got none)")
        if len(symbols) != probabilities.size:
            raise DistributionError(
                f"symbols and probabilities differ in length "
                f"(got {len(symbols)} symbols, {probabilities.size} probabilities)"
            )
        if len(set(symbols)) != len(symbols):
            seen: set = set()
            duplicates = [s for s in symbols if s in seen or seen.add(s)]
            raise DistributionError(f"symbols must be distinct (got {duplicates[0]!r} twice)")
        bad = ~np.isfinite(probabilities)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise DistributionError(
                f"probabilities must be finite (got {probabilities[i]} for {symbols[i]!r})"
            )
        if (probabilities < 0).any():
            i = int(np.flatnonzero(probabilities < 0)[0])
            raise DistributionError(
                f"probabilities must not be negative (got {probabilities[i]:g} for {symbols[i]!r})"
            )
        total = _sum(probabilities)
        if not abs(total - 1.0) <= SUM_TOLERANCE:
            raise DistributionError(f"probabilities must sum to 1 (got {total:.12g})")
        counts = self.counts
        if counts is not None:
            counts = np.array(counts, copy=True)
            if counts.shape != probabilities.shape or counts.dtype.kind not in "iu":
                raise DistributionError(
                    f"counts must be integers, one per symbol "
                    f"(got dtype {counts.dtype}, shape {counts.shape})"
                )
            counts = _frozen(counts.astype(np.int64))
        object.__setattr__(self, "symbols", symbols)
        object.__setattr__(self, "probabilities", _frozen(probabilities))
        object.__setattr__(self, "counts", counts)

    # ----------------------------------------------------------------- constructors
    @classmethod
    def from_probabilities(
        cls,
        probabilities: Mapping[Hashable, float] | Sequence[float] | np.ndarray,
        symbols: Sequence[Hashable] | None = None,
    ) -> Distribution:
        """Distribution from probabilities that sum to 1 within :data:`SUM_TOLERANCE` (a sum farther off is refused).

        A sum within the tolerance but not exactly 1 (``0.3333333333`` three times) is divided out, so the
        measures see a normalized p (KL ≥ 0 exactly); :attr:`renormalized_from` keeps the given sum.

        >>> Distribution.from_probabilities([0.25, 0.75]).symbols
        (0, 1)
        >>> p = Distribution.from_probabilities([0.3333333333] * 3)
        >>> p.renormalized_from, p.probabilities.tolist() == [1 / 3] * 3
        (0.9999999999, True)
        """
        if isinstance(probabilities, Mapping):
            if symbols is not None:
                raise DistributionError("give symbols either as mapping keys or as symbols=, not both")
            symbols = tuple(probabilities)
            probabilities = [probabilities[s] for s in symbols]
        values = _as_float_array(probabilities, "probabilities")
        if symbols is None:
            symbols = tuple(range(values.size))
        total = _sum(values)
        if total != 1.0 and abs(total - 1.0) <= SUM_TOLERANCE and (values >= 0).all():
            return cls(tuple(symbols), values / total, renormalized_from=total)
        return cls(tuple(symbols), values)

    @classmethod
    def from_counts(
        cls,
        counts: Mapping[Hashable, int] | Sequence[int] | np.ndarray,
        symbols: Sequence[Hashable] | None = None,
    ) -> Distribution:
        """Distribution p(x) = c(x) / Σ c from non-negative integer counts (normalized).

        >>> Distribution.from_counts({"a": 3, "b": 1}).probabilities.tolist()
        [0.75, 0.25]
        """
        if isinstance(counts, Mapping):
            if symbols is not None:
                raise DistributionError("give symbols either as mapping keys or as symbols=, not both")
            symbols = tuple(counts)
            counts = [counts[s] for s in symbols]
        too_large = next((c for c in np.asarray(counts, dtype=object).ravel().tolist()
                          if isinstance(c, int) and not isinstance(c, bool) and c > _MAX_COUNT), None)
        if too_large is not None:
            raise DistributionError(f"counts must be below 2**63 (got {_short_number(too_large)})")
        raw = np.asarray(counts)
        if raw.dtype == object or raw.dtype.kind not in "iub":
            values = _as_float_array(raw, "counts")
            if not np.all(values == np.round(values)):
                bad = values[values != np.round(values)][0]
                raise DistributionError(f"counts must be whole numbers (got {bad:g})")
            raw = values
        raw = raw.ravel()
        if (raw < 0).any():
            raise DistributionError(f"counts must not be negative (got {raw[raw < 0][0]:g})")
        if raw.size and raw.max() > _MAX_COUNT:
            raise DistributionError(f"counts must be below 2**63 (got {raw.max():g})")
        raw = raw.astype(np.int64)
        total = sum(raw.tolist())  # a Python int: no overflow however large the counts
        if total == 0:
            raise DistributionError(f"counts must not all be zero (got {raw.size} zero counts)")
        if symbols is None:
            symbols = tuple(range(raw.size))
        return cls(tuple(symbols), raw.astype(np.float64) / float(total), raw)

    @classmethod
    def from_samples(cls, samples: Iterable[Hashable]) -> Distribution:
        """Empirical distribution of a sequence of symbols, symbols in order of first appearance.

        >>> Distribution.from_samples("abca").counts.tolist()
        [2, 1, 1]
        """
        tally: dict[Hashable, int] = {}
        for s in samples:
            tally[s] = tally.get(s, 0) + 1
        if not tally:
            raise DistributionError("samples must not be empty (got no samples)")
        return cls.from_counts(tally)

    @classmethod
    def uniform(cls, symbols: int | Sequence[Hashable]) -> Distribution:
        """Uniform distribution, p(x) = 1/n.

        >>> Distribution.uniform(4).probabilities.tolist()
        [0.25, 0.25, 0.25, 0.25]
        """
        if isinstance(symbols, int):
            if symbols < 1:
                raise DistributionError(f"a uniform distribution needs n >= 1 symbols (got {symbols})")
            if symbols > MAX_FAMILY_SYMBOLS:
                raise DistributionError(
                    f"a uniform distribution has at most {MAX_FAMILY_SYMBOLS:,} symbols (got {symbols:,})")
            symbols = range(symbols)
        symbols = tuple(symbols)
        if not symbols:
            raise DistributionError("a uniform distribution needs n >= 1 symbols (got 0)")
        return cls(symbols, np.full(len(symbols), 1.0 / len(symbols)))

    @classmethod
    def bernoulli(cls, p: float, symbols: tuple[Hashable, Hashable] = (0, 1)) -> Distribution:
        """Bernoulli(p): P(symbols[1]) = p, P(symbols[0]) = 1 - p.

        >>> Distribution.bernoulli(0.9, ("T", "H")).probabilities.tolist()
        [0.09999999999999998, 0.9]
        """
        _check_unit_interval(p, "bernoulli p")
        return cls(tuple(symbols), np.array([1.0 - p, p]))

    @classmethod
    def binomial(cls, n: int, p: float) -> Distribution:
        """Binomial(n, p) on 0..n: P(k) = C(n,k) p^k (1-p)^(n-k).

        >>> Distribution.binomial(10, 0.5).probabilities[5].round(4)
        np.float64(0.2461)
        """
        if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 0:
            raise DistributionError(f"binomial n must be a non-negative integer (got {n!r})")
        if n + 1 > MAX_FAMILY_SYMBOLS:
            raise DistributionError(f"binomial n must be below {MAX_FAMILY_SYMBOLS:,} (got {n:,})")
        _check_unit_interval(p, "binomial p")
        p = float(p)
        if n <= _BINOMIAL_EXACT_N or p in (0.0, 1.0):
            probabilities = np.array(
                [math.comb(n, k) * p**k * (1.0 - p) ** (n - k) if n <= _BINOMIAL_EXACT_N else float(k == n * p)
                 for k in range(n + 1)]
            )
        else:
            probabilities = _binomial_log_space(int(n), p)
        return cls(tuple(range(n + 1)), probabilities / math.fsum(probabilities))

    # --------------------------------------------------------------------- queries
    @property
    def size(self) -> int:
        """Number of symbols of the alphabet (including those of probability 0)."""
        return len(self.symbols)

    @property
    def support_size(self) -> int:
        """Number of symbols with p(x) > 0."""
        return int(np.count_nonzero(self.probabilities))

    @property
    def total_count(self) -> int | None:
        """Σ counts when the distribution was made from counts, else None."""
        return None if self.counts is None else sum(self.counts.tolist())

    def index(self) -> dict[Hashable, int]:
        """Map each symbol to its id (its position in ``symbols``)."""
        return {s: i for i, s in enumerate(self.symbols)}

    def probability_of(self, symbol: Hashable) -> float:
        """p(symbol), 0.0 for a symbol outside the alphabet."""
        i = self.index().get(symbol)
        return 0.0 if i is None else float(self.probabilities[i])

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """Draw ``n`` symbol ids (positions in ``symbols``) i.i.d. from p with ``rng``.

        >>> Distribution.bernoulli(0.5).sample(5, np.random.default_rng(1)).tolist()
        [1, 1, 0, 1, 0]
        """
        if n < 0:
            raise DistributionError(f"sample size must be >= 0 (got {n})")
        if n > MAX_SAMPLES:
            raise DistributionError(
                f"sample size must be at most {MAX_SAMPLES:,} (got {n:,}): the samples and their codes are "
                f"held in memory, about 24 bytes a token")
        cumulative = np.cumsum(self.probabilities)
        cumulative /= cumulative[-1]
        ids = np.searchsorted(cumulative, rng.random(n), side="right")
        # a symbol of probability 0 is never drawn, even at the edges of the float grid
        return np.minimum(ids, self.size - 1).astype(np.int64)

    def reorder(self, symbols: Sequence[Hashable]) -> Distribution:
        """The same distribution on the alphabet ``symbols`` (a superset): new symbols get p = 0."""
        index = self.index()
        wanted = set(symbols)  # once: a set per symbol made this quadratic (minutes on 10^7 symbols)
        missing = [s for s in self.symbols if s not in wanted]
        if missing:
            raise DistributionError(f"reorder needs every symbol of the distribution (got none for {missing[0]!r})")
        positions = np.array([index.get(s, -1) for s in symbols])
        known = positions >= 0
        probabilities = np.zeros(len(symbols))
        probabilities[known] = self.probabilities[positions[known]]
        counts = None
        if self.counts is not None:
            counts = np.zeros(len(symbols), dtype=np.int64)
            counts[known] = self.counts[positions[known]]
        return Distribution(tuple(symbols), probabilities, counts, self.renormalized_from)

    def as_mapping(self) -> dict[Hashable, float]:
        """{symbol: probability}."""
        return dict(zip(self.symbols, self.probabilities.tolist()))


def align(p: Distribution, q: Distribution) -> tuple[Distribution, Distribution]:
    """p and q on one alphabet: p's symbols in order, then q's symbols missing from p.

    >>> a, b = align(Distribution.from_probabilities({"x": 1.0}), Distribution.uniform(["y", "x"]))
    >>> a.symbols, a.probabilities.tolist(), b.probabilities.tolist()
    (('x', 'y'), [1.0, 0.0], [0.5, 0.5])
    """
    if p.symbols == q.symbols:
        return p, q
    in_p = set(p.symbols)
    symbols = p.symbols + tuple(s for s in q.symbols if s not in in_p)
    return p.reorder(symbols), q.reorder(symbols)


def load_distribution(path: str | PathLike) -> Distribution:
    """Read a distribution from a JSON file.

    Accepted shapes: ``{"symbol": number, ...}``, or explicitly ``{"counts": {...}}`` /
    ``{"probabilities": {...}}``.  The rule for the plain shape: integers are counts (normalized),
    except one 1 among 0s, which reads as the probabilities it also is (``{"a": 0, "b": 1}`` as
    ``{"a": 0.0, "b": 1.0}``: n = 1 would make the escape ε = ½); other numbers are probabilities
    that must sum to 1.
    """
    data = read_bytes(path)
    try:
        document = loads_strict(data.decode("utf-8"))
    except UnicodeDecodeError as error:
        raise InputError(f"{str(path)!r} is not UTF-8 JSON (bad byte at offset {error.start})") from None
    except RepeatedKeyError as error:
        raise DistributionError(
            f"{str(path)!r}: the key {error.args[0]!r} appears twice in one object (JSON readers keep only the "
            f"last; remove one)") from None
    except json.JSONDecodeError as error:
        raise InputError(
            f"{str(path)!r} is not valid JSON ({error.msg} at line {error.lineno}, column {error.colno})"
        ) from None
    try:
        return distribution_from_json(document)
    except DistributionError as error:
        raise DistributionError(f"{str(path)!r}: {error}") from None


def distribution_from_json(document: object) -> Distribution:
    """Distribution from a parsed JSON document (see :func:`load_distribution`).

    >>> distribution_from_json({"a": 3, "b": 1}).counts.tolist()
    [3, 1]
    >>> distribution_from_json({"probabilities": {"a": 0.5, "b": 0.5}}).counts is None
    True
    >>> distribution_from_json({"a": 0, "b": 1}).counts is None  # sums to 1: probabilities, like {"a": 0.0, "b": 1.0}
    True
    """
    kind = None
    explicit = isinstance(document, dict) and any(isinstance(document.get(k), dict) for k in ("counts", "probabilities"))
    if explicit and len(document) > 1:
        keys = ", ".join(repr(key) for key in document)
        raise DistributionError(
            f'an explicit distribution is one object {{"counts": {{...}}}} or {{"probabilities": {{...}}}}, '
            f"nothing beside it (got the keys {keys})")
    if (
        isinstance(document, dict)
        and len(document) == 1
        and next(iter(document)) in ("counts", "probabilities")
        and isinstance(next(iter(document.values())), dict)
    ):
        kind, document = next(iter(document.items()))
    if not isinstance(document, dict):
        raise DistributionError(
            f"expected a JSON object mapping symbol to probability or count (got {type(document).__name__})"
        )
    if not document:
        raise DistributionError("a distribution needs at least one symbol (got an empty object)")
    for symbol, value in document.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise DistributionError(f"the value of {symbol!r} must be a number (got {value!r})")
    if kind is None:
        integers = all(isinstance(v, int) for v in document.values())
        one_hot = all(v in (0, 1) for v in document.values()) and sum(document.values()) == 1
        kind = "counts" if integers and not one_hot else "probabilities"
    if kind == "counts":
        return Distribution.from_counts(document)
    return Distribution.from_probabilities(document)


def _sum(values: np.ndarray) -> float:
    """Σ values, exactly rounded (math.fsum); +∞ when the sum of finite values overflows a float."""
    try:
        return math.fsum(values.tolist())
    except OverflowError:
        return math.inf


def _short_number(value: int) -> str:
    """An integer as written, or in e-notation when it has more than 20 digits (``10**400`` → ``1.000e+400``)."""
    digits = str(abs(value))
    if len(digits) <= 20:
        return str(value)
    return f"{'-' if value < 0 else ''}{digits[0]}.{digits[1:4]}e+{len(digits) - 1}"


def _binomial_log_space(n: int, p: float) -> np.ndarray:
    """Binomial(n, p) probabilities as exp(ln C(n,k) + k ln p + (n−k) ln(1−p)), scaled by the largest term."""
    k = np.arange(n + 1, dtype=np.float64)
    log_factorial = np.array([math.lgamma(x) for x in range(1, n + 2)])  # ln k! for k = 0..n
    log_comb = log_factorial[n] - log_factorial - log_factorial[::-1]
    log_terms = log_comb + k * math.log(p) + (n - k) * math.log1p(-p)
    return np.exp(log_terms - log_terms.max())


def _as_float_array(values: object, what: str) -> np.ndarray:
    try:
        array = np.asarray(values, dtype=np.float64).ravel()
    except OverflowError:
        raise DistributionError(f"{what} must be finite numbers (got a number too large for a float)") from None
    except (TypeError, ValueError):
        raise DistributionError(f"{what} must be numbers (got {values!r:.60})") from None
    bad = ~np.isfinite(array)
    if bad.any():
        raise DistributionError(f"{what} must be finite (got {array[bad][0]})")
    return array


def _check_unit_interval(p: float, what: str) -> None:
    if not (isinstance(p, (int, float, np.floating)) and 0.0 <= float(p) <= 1.0):
        raise DistributionError(f"{what} must be in [0, 1] (got {p!r})")


#: The built-in families accepted where a distribution file is: ``NAME:PARAMETERS``.
FAMILY_SPECS = {"bernoulli": "bernoulli:P", "binomial": "binomial:N,P", "uniform": "uniform:N"}


def parse_distribution(text: str) -> Distribution:
    """A distribution from a built-in family spec or, failing that, a JSON file path.

    Families: ``bernoulli:P`` (P(1) = P on {0, 1}), ``binomial:N,P`` (on 0..N),
    ``uniform:N`` (on 0..N−1).

    >>> parse_distribution("binomial:2,0.4").probabilities.round(2).tolist()
    [0.36, 0.48, 0.16]
    >>> parse_distribution("binomial:2")
    Traceback (most recent call last):
    ...
    klcode.errors.DistributionError: bad distribution spec 'binomial:2' (expected binomial:N,P)
    """
    family, colon, parameters = text.partition(":")
    if not colon or family not in FAMILY_SPECS:
        if colon and family.isidentifier() and not os.path.exists(text):
            families = ", ".join(FAMILY_SPECS.values())
            raise DistributionError(f"{text!r} is not a file, and {family!r} is not a known family ({families})")
        return load_distribution(text)
    values = [v.strip() for v in parameters.split(",")] if parameters else []
    try:
        if family == "bernoulli" and len(values) == 1:
            return Distribution.bernoulli(float(values[0]))
        if family == "binomial" and len(values) == 2:
            return Distribution.binomial(int(values[0]), float(values[1]))
        if family == "uniform" and len(values) == 1:
            return Distribution.uniform(int(values[0]))
    except ValueError as error:
        if isinstance(error, DistributionError):
            raise
    raise DistributionError(f"bad distribution spec {text!r} (expected {FAMILY_SPECS[family]})")
