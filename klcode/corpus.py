"""Reading texts: whole files as bytes, and decoding them with a declared encoding.

Errors say which file failed and why; a decoding error names the byte offset
and the encoding, with the hint to declare another one.
"""

from __future__ import annotations

import codecs
from os import PathLike

from .errors import InputError


def read_bytes(path: str | PathLike) -> bytes:
    """The content of the file at ``path``, raising :class:`InputError` with a one-line reason."""
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except FileNotFoundError:
        raise InputError(f"cannot read {str(path)!r}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"cannot read {str(path)!r}: it is a directory") from None
    except OSError as error:
        raise InputError(f"cannot read {str(path)!r}: {error.strerror or error}") from None


def decode_text(data: bytes, encoding: str, source: str) -> str:
    """``data`` decoded with ``encoding`` (strict); ``source`` names the file in errors.

    >>> decode_text(b"caf\\xe9", "latin-1", "menu.txt")
    'café'
    >>> decode_text(b"caf\\xe9", "utf-8", "menu.txt")
    Traceback (most recent call last):
    ...
    klcode.errors.InputError: cannot decode 'menu.txt' as utf-8 at byte offset 3 (byte 0xe9); declare the file's encoding with --encoding
    """
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise InputError(f"unknown encoding {encoding!r}") from None
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as error:
        raise InputError(
            f"cannot decode {source!r} as {encoding} at byte offset {error.start} "
            f"(byte 0x{data[error.start]:02x}); declare the file's encoding with --encoding"
        ) from None
