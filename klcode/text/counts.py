"""Token counts of a corpus: a mergeable record, saved to and loaded from JSON.

A corpus is read once: :func:`count_corpus` streams it (or loads a saved
counts file) into a :class:`Counts` record, and :func:`save_counts` keeps it
for later commands, which accept the counts file wherever they accept a corpus.

The counts file is JSON (UTF-8)::

    {"format": "klcode-counts", "version": 1,
     "tokenizer": {"kind": "words", "encoding": "utf-8", "errors": "strict",
                   "lower": false, "ngram": 1, "regex": null},
     "sources": ["corpora/genesis/english-kjv.txt"],
     "input_bytes": 195515, "total_tokens": 38263, "types": 2839,
     "counts": {"A": 24, "Abel": 4, ...}}

``counts`` lists every token seen once, in symbol order.  Byte tokens are
written as the string whose code points are the byte values (the bytes decoded
as Latin-1: ``b"\\xe9"`` is written ``"é"``).

>>> a = Counts.from_mapping(TokenizerSpec("chars"), {"a": 2, "b": 1}, ("a.txt",), 3)
>>> b = Counts.from_mapping(TokenizerSpec("chars"), {"b": 1, "c": 4}, ("b.txt",), 5)
>>> merged = a.merge(b)
>>> merged.symbols, merged.counts.tolist(), merged.total_tokens, merged.sources
(('a', 'b', 'c'), [2, 2, 4], 8, ('a.txt', 'b.txt'))
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from os import PathLike
from typing import TYPE_CHECKING

import numpy as np

from ..atomic import write_atomically
from .corpus import CHUNK_BYTES, STDIN_PATH, Source, expand_sources, read_bytes

if TYPE_CHECKING:
    from ..models.distribution import Distribution

from ..errors import DataError, InputError
from .jsonfile import RepeatedKeyError, loads_strict
from .tokenize import TokenizerSpec, symbol_label, tally_tokens

#: The "format" and "version" of counts files.
COUNTS_FORMAT = "klcode-counts"
COUNTS_VERSION = 1
#: How much of a file :func:`is_counts_file` looks at.
_SNIFF_BYTES = 4096


@dataclass(frozen=True, eq=False)
class Counts:
    """How often each token occurs in a corpus: sorted distinct ``symbols`` with int64 ``counts`` > 0.

    ``sources`` are the labels of the files read, ``input_bytes`` the number of
    (decompressed) bytes read.  Validated once; ``counts`` is read-only.
    """

    spec: TokenizerSpec
    symbols: tuple[Hashable, ...]
    counts: np.ndarray
    sources: tuple[str, ...] = ()
    input_bytes: int = 0

    def __post_init__(self) -> None:
        if not isinstance(self.spec, TokenizerSpec):
            raise DataError(f"counts need a TokenizerSpec (got {type(self.spec).__name__})")
        symbols = tuple(self.symbols)
        counts = np.array(self.counts, copy=True)
        if counts.ndim != 1 or len(symbols) != counts.size:
            raise DataError(
                f"counts must be one per symbol (got {len(symbols)} symbols, counts of shape {counts.shape})"
            )
        if counts.size and counts.dtype.kind not in "iu":
            raise DataError(f"counts must be integers (got dtype {counts.dtype})")
        counts = counts.astype(np.int64)
        if counts.size and counts.min() <= 0:
            i = int(np.argmin(counts))
            raise DataError(f"counts must be positive (got {counts[i]} for {symbols[i]!r})")
        kind = self.spec.symbol_type
        width = self.spec.ngram if self.spec.kind in ("bytes", "chars") else None
        for symbol in symbols:
            if type(symbol) is not kind or not symbol or (width is not None and len(symbol) != width):
                shape = f"{width}-unit " if width is not None else "non-empty "
                raise DataError(f"{self.spec.describe()} tokens are {shape}{kind.__name__} (got {symbol!r})")
        for before, after in zip(symbols, symbols[1:]):
            if not before < after:
                raise DataError(f"symbols must be sorted and distinct (got {before!r} before {after!r})")
        sources = tuple(self.sources)
        if not all(isinstance(source, str) for source in sources):
            raise DataError(f"sources must be labels (strings) (got {sources!r})")
        if isinstance(self.input_bytes, bool) or not isinstance(self.input_bytes, (int, np.integer)) or self.input_bytes < 0:
            raise DataError(f"input_bytes must be a non-negative integer (got {self.input_bytes!r})")
        counts.flags.writeable = False
        object.__setattr__(self, "symbols", symbols)
        object.__setattr__(self, "counts", counts)
        object.__setattr__(self, "sources", sources)
        object.__setattr__(self, "input_bytes", int(self.input_bytes))

    @classmethod
    def from_mapping(
        cls,
        spec: TokenizerSpec,
        counts: Mapping[Hashable, int],
        sources: Sequence[str] = (),
        input_bytes: int = 0,
    ) -> Counts:
        """Counts from a mapping token → count (any order; zero counts dropped)."""
        try:
            symbols = tuple(sorted(symbol for symbol, count in counts.items() if count != 0))
        except TypeError:
            raise DataError(f"{spec.describe()} tokens must all be {spec.symbol_type.__name__}") from None
        values = np.fromiter((counts[symbol] for symbol in symbols), dtype=np.int64, count=len(symbols))
        return cls(spec, symbols, values, tuple(sources), input_bytes)

    @property
    def total_tokens(self) -> int:
        """Σ c(x): the number of tokens counted."""
        return int(self.counts.sum())

    @property
    def types(self) -> int:
        """The number of distinct tokens."""
        return len(self.symbols)

    def index(self) -> dict[Hashable, int]:
        """Symbol → its position (id) in :attr:`symbols`."""
        return {symbol: i for i, symbol in enumerate(self.symbols)}

    def as_mapping(self) -> dict[Hashable, int]:
        """Symbol → count, in symbol order."""
        return dict(zip(self.symbols, self.counts.tolist()))

    def merge(self, other: Counts) -> Counts:
        """The counts of both corpora together (same tokenizer required).

        >>> Counts.from_mapping(TokenizerSpec("bytes"), {b"a": 1}).merge(Counts.from_mapping(TokenizerSpec("chars"), {"a": 1}))
        Traceback (most recent call last):
        ...
        klcode.errors.DataError: cannot merge counts of different tokenizers (bytes vs chars, utf-8)
        """
        if self.spec != other.spec:
            raise DataError(
                f"cannot merge counts of different tokenizers ({self.spec.describe()} vs {other.spec.describe()})"
            )
        merged = self.as_mapping()
        for symbol, count in zip(other.symbols, other.counts.tolist()):
            merged[symbol] = merged.get(symbol, 0) + count
        return Counts.from_mapping(self.spec, merged, self.sources + other.sources, self.input_bytes + other.input_bytes)

    def distribution(self) -> Distribution:
        """p(x) = c(x) / Σ c over :attr:`symbols` (a :class:`Distribution` that keeps the counts)."""
        if not self.symbols:
            where = ", ".join(repr(source) for source in self.sources) or "the corpus"
            raise DataError(f"no {self.spec.describe()} tokens in {where}: nothing to measure")
        from ..models.distribution import Distribution

        return Distribution.from_counts(self.counts, self.symbols)

    def labels(self) -> tuple[str, ...]:
        """Printable labels of the symbols (:func:`klcode.text.tokenize.symbol_label`)."""
        return tuple(symbol_label(symbol) for symbol in self.symbols)


def count_tokens(
    sources: Iterable[Source | str | PathLike],
    spec: TokenizerSpec,
    chunk_bytes: int = CHUNK_BYTES,
    progress: Callable[[int], None] | None = None,
) -> Counts:
    """Stream ``sources`` (not expanded: see :func:`count_corpus`) and count their tokens.

    >>> import tempfile, os
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = os.path.join(folder, "t.txt")
    ...     _ = open(path, "w").write("to be or not to be")
    ...     counts = count_tokens([path], TokenizerSpec("words"))
    >>> counts.as_mapping(), counts.input_bytes
    ({'be': 2, 'not': 1, 'or': 1, 'to': 2}, 18)
    """
    sources = tuple(Source.of(source) for source in sources)
    read_bytes_total = 0

    def counting(n_bytes: int) -> None:
        nonlocal read_bytes_total
        read_bytes_total += n_bytes
        if progress is not None:
            progress(n_bytes)

    symbols, counts = tally_tokens(sources, spec, chunk_bytes, counting)
    return Counts(spec, symbols, counts, tuple(source.label for source in sources), read_bytes_total)


def count_corpus(
    paths: Sequence[str | PathLike],
    spec: TokenizerSpec,
    progress: Callable[[int], None] | None = None,
    chunk_bytes: int = CHUNK_BYTES,
    count_sources: Callable[[Sequence[Source]], Counts] | None = None,
) -> Counts:
    """The counts of a corpus given as paths: text files, directories, ``-``, or saved counts files.

    Text inputs are expanded (:func:`klcode.text.corpus.expand_sources`) and counted;
    a path that is a counts file (:func:`is_counts_file`) is loaded, and must have
    been counted with ``spec``.  Several inputs are merged into one record.
    ``count_sources`` counts each run of text inputs instead of the serial
    :func:`count_tokens` (the Dask path passes its own).
    """
    if isinstance(paths, (str, PathLike)):
        paths = [paths]
    paths = [os.fspath(path) for path in paths]
    if not paths:
        raise InputError("no input given")
    parts: list[Counts] = []
    text_run: list[str] = []
    for path in paths + [None]:
        if path is not None and not is_counts_file(path):
            text_run.append(path)
            continue
        if text_run:
            sources = expand_sources(text_run)
            parts.append(count_tokens(sources, spec, chunk_bytes, progress) if count_sources is None
                         else count_sources(sources))
            text_run = []
        if path is not None:
            counts = load_counts(path)
            if counts.spec != spec:
                raise DataError(
                    f"{path!r} was counted with {counts.spec.describe()}, not {spec.describe()}; "
                    f"count the corpus again with these tokenizer options"
                )
            parts.append(counts)
    result = parts[0]
    for part in parts[1:]:
        result = result.merge(part)
    return result


# ------------------------------------------------------------------ files
def counts_document(counts: Counts) -> dict:
    """The JSON-ready document of a counts file (see the module docstring)."""
    if counts.spec.kind == "bytes":
        keys = [symbol.decode("latin-1") for symbol in counts.symbols]
    else:
        keys = list(counts.symbols)
    return {
        "format": COUNTS_FORMAT,
        "version": COUNTS_VERSION,
        "tokenizer": counts.spec.to_dict(),
        "sources": list(counts.sources),
        "input_bytes": counts.input_bytes,
        "total_tokens": counts.total_tokens,
        "types": counts.types,
        "counts": dict(zip(keys, counts.counts.tolist())),
    }


def save_counts(counts: Counts, path: str | PathLike) -> None:
    """Write ``counts`` to ``path`` as JSON, atomically: a temporary file in the same folder, then renamed.

    On any failure the temporary file is removed and ``path`` is left as it was.  Counts of no token are
    refused (every command would reject the file when it is read back).
    """
    path = os.fspath(path)
    if counts.total_tokens == 0:
        sources = ", ".join(repr(s) for s in counts.sources) or "the input"
        raise DataError(f"not writing {path!r}: {sources} held no {counts.spec.kind} token (0 tokens), "
                        "and a counts file of nothing cannot be measured")
    document = counts_document(counts)
    text = json.dumps(document, ensure_ascii=False, indent=1) + "\n"
    write_atomically(path, lambda out: out.write(text.encode("utf-8")))


def is_counts_file(path: str | PathLike) -> bool:
    """Whether ``path`` is a saved counts file: a ``.json`` file whose first 4 kB name the counts format."""
    path = os.fspath(path)
    if path == STDIN_PATH or not path.lower().endswith(".json") or not os.path.isfile(path):
        return False
    try:
        with open(path, "rb") as handle:
            head = handle.read(_SNIFF_BYTES)
    except OSError:
        return False
    return f'"{COUNTS_FORMAT}"'.encode() in head


def load_counts(path: str | PathLike) -> Counts:
    """The :class:`Counts` saved in ``path`` by :func:`save_counts`, checked.

    Raises :class:`InputError` when the file cannot be read or is not a counts
    file, :class:`DataError` when its content is inconsistent.
    """
    path = os.fspath(path)
    data = read_bytes(path)
    try:
        document = loads_strict(data.decode("utf-8"))
    except UnicodeDecodeError as error:
        raise InputError(f"{path!r} is not a klcode counts file (not UTF-8 at byte offset {error.start})") from None
    except RepeatedKeyError as error:
        raise DataError(f"{path!r} has the key {error.args[0]!r} twice") from None
    except json.JSONDecodeError as error:
        raise InputError(f"{path!r} is not valid JSON ({error})") from None
    if not isinstance(document, dict) or document.get("format") != COUNTS_FORMAT:
        raise InputError(f'{path!r} is not a klcode counts file (no "format": "{COUNTS_FORMAT}")')
    version = document.get("version")
    if version != COUNTS_VERSION:
        raise DataError(f"{path!r} is a counts file of version {version!r}; this klcode reads version {COUNTS_VERSION}")
    try:
        spec = TokenizerSpec.from_dict(document.get("tokenizer"))
    except (DataError, TypeError) as error:
        raise DataError(f"{path!r}: bad tokenizer: {error}") from None
    table = document.get("counts")
    if not isinstance(table, dict):
        raise DataError(f'{path!r}: "counts" must be a mapping token → count (got {type(table).__name__})')
    mapping: dict[Hashable, int] = {}
    for key, count in table.items():
        if isinstance(count, bool) or not isinstance(count, int) or count <= 0:
            raise DataError(f"{path!r}: the count of {key!r} must be a positive integer (got {count!r})")
        symbol: Hashable = key
        if spec.kind == "bytes":
            try:
                symbol = key.encode("latin-1")
            except UnicodeEncodeError:
                raise DataError(f"{path!r}: byte token {key!r} has a character above U+00FF") from None
        mapping[symbol] = count
    sources = document.get("sources", [])
    if not isinstance(sources, list) or not all(isinstance(source, str) for source in sources):
        raise DataError(f'{path!r}: "sources" must be a list of strings (got {sources!r})')
    input_bytes = document.get("input_bytes", 0)
    if isinstance(input_bytes, bool) or not isinstance(input_bytes, int) or input_bytes < 0:
        raise DataError(f'{path!r}: "input_bytes" must be a non-negative integer (got {input_bytes!r})')
    try:
        counts = Counts.from_mapping(spec, mapping, tuple(sources), input_bytes)
    except DataError as error:
        raise DataError(f"{path!r}: {error}") from None
    for field, actual in (("total_tokens", counts.total_tokens), ("types", counts.types)):
        stated = document.get(field, actual)
        if stated != actual:
            raise DataError(f'{path!r} says "{field}": {stated!r}, but its counts give {actual}')
    return counts
