"""General-purpose compressors (zlib, bz2, lzma, zstd) as *contextual* coders.

A :class:`CompressorCoder` is built from nothing (no model) and exploits the
order of tokens: repeats, common words, long-range matches.  Its bits are not
an order-0 cross-entropy, can fall far below H(p) on real text, and are
labelled so (``order0`` is False; :attr:`CompressorCoder.description` says it).

Settings (one place, also used by :mod:`klcode.analysis.zipping`): zlib level 9, bz2
level 9 (900 kB blocks), lzma preset 6 in the .xz container, zstd level 19
(through the ``zstandard`` package, imported on first use).
``n_bits`` is 8 × the compressed size in bytes, container headers included.

The compressor sees the *id stream*, not the text: ids are serialized as
uint8 when the alphabet has ≤ 256 ids (so byte tokens of a file compress
exactly as the file itself), as uint16 little-endian when it has ≤ 65 536,
and as uint32 little-endian otherwise.  Word ids are therefore compressed as
2- or 4-byte integers whose values depend on the vocabulary's order.

>>> coder = CompressorCoder.create("zlib", 256)
>>> data = np.frombuffer(b"abracadabra " * 50, dtype=np.uint8)
>>> encoded = coder.encode(data)
>>> encoded.n_bits == 8 * len(zlib.compress(data.tobytes(), 9)), np.array_equal(coder.decode(encoded), data)
(True, True)
"""

from __future__ import annotations

import bz2
import lzma
import zlib

import numpy as np

from ..errors import CodeError, DecodeError
from ._checks import checked_ids
from .base import Coder, Encoded

#: The compressors klcode knows, in the order they are shown.
COMPRESSOR_NAMES = ("zlib", "bz2", "lzma", "zstd")
#: The settings each compressor runs with (shown beside its figures).
COMPRESSOR_SETTINGS = {"zlib": "level 9", "bz2": "level 9", "lzma": "preset 6, .xz container", "zstd": "level 19"}
#: Largest alphabet a compressor coder serializes (ids as uint32).
MAX_ALPHABET_SIZE = 1 << 32


def _zstandard():
    """The zstandard module, imported on first use (``import klcode`` stays fast)."""
    import zstandard

    return zstandard


def _check_name(name: str) -> None:
    if name not in COMPRESSOR_NAMES:
        raise CodeError(f"unknown compressor {name!r} (known: {', '.join(COMPRESSOR_NAMES)})")


def compress_bytes(name: str, data: bytes | bytearray | memoryview) -> bytes:
    """Z(data): ``data`` compressed by the compressor ``name`` at klcode's settings.

    >>> len(compress_bytes("zlib", b"aaaa")) == len(zlib.compress(b"aaaa", 9))
    True
    """
    _check_name(name)
    if name == "zlib":
        return zlib.compress(data, 9)
    if name == "bz2":
        return bz2.compress(data, 9)
    if name == "lzma":
        return lzma.compress(data, preset=6)
    return _zstandard().ZstdCompressor(level=19).compress(data)


def decompress_bytes(name: str, data: bytes | bytearray | memoryview) -> bytes:
    """The bytes that :func:`compress_bytes` compressed into ``data``; :class:`DecodeError` if they are damaged.

    >>> decompress_bytes("bz2", compress_bytes("bz2", b"klcode"))
    b'klcode'
    """
    _check_name(name)
    if name == "zstd":
        zstandard = _zstandard()
        try:
            return zstandard.ZstdDecompressor().decompress(data)
        except zstandard.ZstdError as error:
            raise DecodeError(f"the zstd payload does not decompress ({error})") from None
    try:
        if name == "zlib":
            return zlib.decompress(data)
        if name == "bz2":
            return bz2.decompress(data)
        return lzma.decompress(data)
    except (zlib.error, OSError, EOFError, lzma.LZMAError, ValueError) as error:
        raise DecodeError(f"the {name} payload does not decompress ({error})") from None


def available_compressors() -> tuple[str, ...]:
    """The compressors of :data:`COMPRESSOR_NAMES`: all of them (zstandard is a dependency of klcode).

    >>> available_compressors()
    ('zlib', 'bz2', 'lzma', 'zstd')
    """
    return COMPRESSOR_NAMES


def id_dtype(alphabet_size: int) -> np.dtype:
    """The dtype ids are serialized as: uint8 up to 256 ids, little-endian uint16 up to 65 536, else uint32.

    >>> [str(id_dtype(n)) for n in (256, 257, 65536, 65537)]
    ['uint8', 'uint16', 'uint16', 'uint32']
    """
    if alphabet_size <= 1 << 8:
        return np.dtype(np.uint8)
    if alphabet_size <= 1 << 16:
        return np.dtype("<u2")
    return np.dtype("<u4")


class CompressorCoder(Coder):
    """A general-purpose compressor on the serialized id stream: contextual, not an order-0 code.

    >>> CompressorCoder.create("bz2", 1000).description
    'bz2 (level 9) on the id stream as uint16 little-endian: contextual: exploits the order of tokens; not an order-0 cross-entropy'
    """

    order0 = False

    def __init__(self, name: str, alphabet_size: int) -> None:
        _check_name(name)
        if isinstance(alphabet_size, bool) or not isinstance(alphabet_size, (int, np.integer)):
            raise CodeError(f"alphabet_size must be an integer (got {alphabet_size!r})")
        if not 1 <= alphabet_size <= MAX_ALPHABET_SIZE:
            raise CodeError(f"alphabet_size must be between 1 and 2**32 (got {alphabet_size})")
        self.name = name
        self.alphabet_size = int(alphabet_size)
        self.dtype = id_dtype(self.alphabet_size)

    @classmethod
    def create(cls, name: str, alphabet_size: int) -> CompressorCoder:
        """The coder of compressor ``name`` (one of :data:`COMPRESSOR_NAMES`) for ids 0..alphabet_size−1."""
        return cls(name, alphabet_size)

    @property
    def description(self) -> str:
        width = "uint8" if self.dtype.itemsize == 1 else f"uint{8 * self.dtype.itemsize} little-endian"
        return (
            f"{self.name} ({COMPRESSOR_SETTINGS[self.name]}) on the id stream as {width}: "
            "contextual: exploits the order of tokens; not an order-0 cross-entropy"
        )

    def encode(self, ids: np.ndarray) -> Encoded:
        """Serialize the ids (see the module docstring) and compress them; n_bits = 8 × compressed bytes."""
        ids = checked_ids(ids, self.alphabet_size, f"the {self.name} coder's alphabet")
        serialized = np.ascontiguousarray(ids, dtype=self.dtype)
        payload = compress_bytes(self.name, memoryview(serialized).cast("B"))
        return Encoded(payload, 8 * len(payload), int(ids.size))

    def decode(self, encoded: Encoded) -> np.ndarray:
        """The ids of an encoded stream (int64)."""
        data = decompress_bytes(self.name, encoded.payload)
        if len(data) != encoded.n_tokens * self.dtype.itemsize:
            raise DecodeError(
                f"the {self.name} payload holds {len(data)} bytes "
                f"(expected {encoded.n_tokens} ids of {self.dtype.itemsize} byte(s))"
            )
        return np.frombuffer(data, dtype=self.dtype).astype(np.int64)
