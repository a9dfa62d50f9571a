"""A token stream: ids into a vocabulary, readable chunk by chunk (more than once), with known symbol counts."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Literal

import numpy as np

from ..errors import DataError
from .counting import bincount_chunked

StreamKind = Literal["expected", "samples", "text", "counts"]

#: Ids per chunk when a stream is rebuilt from counts.
_COUNTS_CHUNK_TOKENS = 1 << 20


@dataclass(frozen=True, eq=False)
class TokenStream:
    """A stream of symbol ids, readable (more than once) chunk by chunk, whose symbol counts are known.

    ``chunks()`` returns a fresh iterator of id arrays each time it is called.

    >>> stream = TokenStream.from_counts(np.array([2, 0, 3]))
    >>> [chunk.tolist() for chunk in stream.chunks()], stream.tokens
    ([[0, 0, 2, 2, 2]], 5)
    """

    chunks: Callable[[], Iterable[np.ndarray]]
    counts: np.ndarray
    kind: StreamKind = "text"

    def __post_init__(self) -> None:
        counts = np.asarray(self.counts)
        if counts.ndim != 1 or counts.dtype.kind not in "iu" or (counts < 0).any():
            raise DataError(f"stream counts must be non-negative integers (got dtype {counts.dtype}, shape {counts.shape})")
        if counts.sum() == 0:
            raise DataError("the stream to encode is empty (got 0 tokens)")

    @property
    def tokens(self) -> int:
        return int(self.counts.sum())

    @classmethod
    def from_array(cls, ids: np.ndarray, size: int, kind: StreamKind = "samples") -> TokenStream:
        """A stream held in memory as one array of ids < ``size``."""
        ids = np.asarray(ids)
        if ids.size == 0:
            raise DataError("the stream to encode is empty (got 0 tokens)")
        return cls(lambda: iter((ids,)), bincount_chunked(ids, size), kind)

    @classmethod
    def from_counts(cls, counts: np.ndarray) -> TokenStream:
        """A stream with exactly these symbol counts, in id order.

        An order-0 code spends Σ c(x)·l(x) bits on any order of the same
        tokens, so this stream measures what the original text would.
        """
        counts = np.asarray(counts, dtype=np.int64)

        def chunks() -> Iterator[np.ndarray]:
            ids = np.arange(counts.size)
            dtype = np.uint8 if counts.size <= 256 else np.int64
            start, pending = 0, counts.copy()
            while start < counts.size:
                # take whole symbols until the chunk is full, then part of the next one
                room, chunk_ids, chunk_counts = _COUNTS_CHUNK_TOKENS, [], []
                while start < counts.size and room > 0:
                    take = min(int(pending[start]), room)
                    if take:
                        chunk_ids.append(ids[start])
                        chunk_counts.append(take)
                        room -= take
                        pending[start] -= take
                    if pending[start] == 0:
                        start += 1
                if chunk_counts:
                    yield np.repeat(np.array(chunk_ids, dtype=dtype), chunk_counts)

        return cls(chunks, counts, "counts")
