"""Tokenizers: text to integer token ids over a shared :class:`Vocabulary`.

A tokenizer turns a text into *raw codes* (byte values, or Unicode code
points), a numpy array; a :class:`Vocabulary` built over one or several such
arrays maps raw codes to dense ids 0..n-1 in increasing raw-code order.  No
Python object per token flows past this module.

>>> raw_a, raw_b = raw_codes(b"abca", "bytes"), raw_codes(b"cd", "bytes")
>>> vocabulary = Vocabulary.from_raw(raw_a, raw_b)
>>> vocabulary.labels(), vocabulary.ids(raw_a).tolist()
(('a', 'b', 'c', 'd'), [0, 1, 2, 0])
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from .corpus import decode_text, read_bytes
from .counting import bincount_chunked
from .errors import DataError

TokenKind = Literal["bytes", "chars"]
TOKEN_KINDS: tuple[str, ...] = ("bytes", "chars")


def raw_codes(data: bytes | str, kind: TokenKind) -> np.ndarray:
    """Raw token codes: byte values (uint8) for ``bytes``, code points (uint32) for ``chars``.

    >>> raw_codes("añ", "chars").tolist()
    [97, 241]
    """
    if kind == "bytes":
        if isinstance(data, str):
            raise DataError("bytes tokens need the undecoded bytes (got str)")
        return np.frombuffer(data, dtype=np.uint8)
    if kind == "chars":
        if isinstance(data, bytes):
            raise DataError("chars tokens need decoded text (got bytes)")
        return np.frombuffer(data.encode("utf-32-le"), dtype="<u4")
    raise DataError(f"unknown token kind {kind!r} (choose from {', '.join(TOKEN_KINDS)})")


def read_tokens(path: str, kind: TokenKind, encoding: str = "utf-8") -> np.ndarray:
    """Raw token codes of the file at ``path`` (chars decoded with ``encoding``, strictly)."""
    data = read_bytes(path)
    if kind == "chars":
        codes = raw_codes(decode_text(data, encoding, str(path)), "chars")
    else:
        codes = raw_codes(data, kind)
    if codes.size == 0:
        raise DataError(f"{str(path)!r} is empty: no {kind} tokens to measure")
    return codes


@dataclass(frozen=True, eq=False)
class Vocabulary:
    """Sorted distinct raw codes; id i stands for ``codes[i]``."""

    codes: np.ndarray
    kind: TokenKind

    @classmethod
    def from_raw(cls, *streams: np.ndarray) -> Vocabulary:
        """The vocabulary of every code that occurs in any of ``streams`` (all of one kind)."""
        if not streams:
            raise DataError("a vocabulary needs at least one token stream (got none)")
        kinds = {stream.dtype for stream in streams}
        if len(kinds) != 1:
            raise DataError(f"token streams must be of one kind (got dtypes {sorted(map(str, kinds))})")
        dtype = streams[0].dtype
        if dtype == np.uint8:
            present = np.zeros(256, dtype=bool)
            for stream in streams:
                present |= bincount_chunked(stream, 256) > 0
            codes = np.flatnonzero(present).astype(np.uint8)
            kind: TokenKind = "bytes"
        else:
            codes = np.unique(np.concatenate([np.unique(stream) for stream in streams]))
            kind = "chars"
        codes.flags.writeable = False
        return cls(codes, kind)

    @property
    def size(self) -> int:
        return int(self.codes.size)

    def ids(self, raw: np.ndarray) -> np.ndarray:
        """Dense ids of a raw stream (uint8 when the vocabulary has ≤ 256 entries, else int64)."""
        if self.kind == "bytes":
            table = np.zeros(256, dtype=np.int64)
            table[self.codes] = np.arange(self.size)
            ids = table[raw]
        else:
            ids = np.searchsorted(self.codes, raw)
        return ids.astype(np.uint8 if self.size <= 256 else np.int64)

    def symbols(self) -> tuple[bytes, ...] | tuple[str, ...]:
        """The symbols as Python objects: one-byte ``bytes`` or one-character ``str``."""
        if self.kind == "bytes":
            return tuple(bytes([int(c)]) for c in self.codes)
        return tuple(chr(int(c)) for c in self.codes)

    def labels(self) -> tuple[str, ...]:
        """Printable labels of the symbols (see :func:`symbol_label`)."""
        return tuple(symbol_label(s) for s in self.symbols())


def symbol_label(symbol: object) -> str:
    """A printable label: printable characters as themselves, others escaped.

    >>> symbol_label(b"a"), symbol_label(b"\\n"), symbol_label(b"\\xe9"), symbol_label(" "), symbol_label(3)
    ('a', '\\\\n', '\\\\xe9', "' '", '3')
    """
    if isinstance(symbol, bytes):
        text = symbol.decode("latin-1")
        if len(symbol) == 1 and symbol[0] >= 0x80:
            return f"\\x{symbol[0]:02x}"
    else:
        text = str(symbol)
    if text == " ":
        return "' '"
    if text.isprintable():
        return text
    return text.encode("unicode_escape").decode("ascii")
