"""Reading corpora: sources (files, directories, stdin), compressed files, chunked and decoded streams.

A corpus is one or several paths.  :func:`expand_sources` turns them into
:class:`Source` records (directories walked recursively in sorted order, ``-``
for stdin); :func:`open_source` opens one (``.gz``, ``.bz2`` and ``.xz``
decompressed transparently); :func:`iter_chunks` streams its bytes in chunks,
and :func:`iter_text` decodes them incrementally, so memory does not grow with
the size of the corpus.

Errors are one line naming the file.  A decoding error names the absolute byte
offset in the (decompressed) file, the byte and the encoding, with the hint to
declare another encoding or to replace undecodable bytes:

>>> decode_text(b"caf\\xe9", "utf-8", "menu.txt")
Traceback (most recent call last):
...
klcode.errors.InputError: cannot decode 'menu.txt' as utf-8 at byte offset 3 (byte 0xe9); use --encoding ENCODING (e.g. latin-1) or --errors replace
"""

from __future__ import annotations

import bz2
import codecs
import contextlib
import errno
import gzip
import io
import lzma
import os
import shutil
import sys
import tempfile
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from os import PathLike
from typing import BinaryIO

from ..atomic import note_input
from ..errors import InputError

#: Bytes read per chunk by default (4 MiB).
CHUNK_BYTES = 1 << 22
#: How undecodable bytes may be handled: stop with an error, or replace them by U+FFFD.
DECODE_ERRORS: tuple[str, ...] = ("strict", "replace")
#: The path that stands for standard input, and the label it gets in messages.
STDIN_PATH = "-"
STDIN_LABEL = "<stdin>"

#: Extension → (module that opens it, name used in messages).
_COMPRESSED = {".gz": (gzip, "gzip"), ".bz2": (bz2, "bz2"), ".xz": (lzma, "xz")}
#: Errors the decompressors raise on corrupt or truncated data.
_CORRUPT_ERRORS = (OSError, EOFError, zlib.error, lzma.LZMAError)


@dataclass(frozen=True)
class Source:
    """One input of a corpus: a file path (or ``-`` for stdin) and the label used in messages.

    >>> Source("-", "<stdin>").is_stdin
    True
    """

    path: str
    label: str

    def __post_init__(self) -> None:
        if not isinstance(self.path, str) or not self.path:
            raise InputError(f"a source path must be a non-empty string (got {self.path!r})")

    @property
    def is_stdin(self) -> bool:
        return self.path == STDIN_PATH

    @property
    def compression(self) -> str | None:
        """``gzip``, ``bz2`` or ``xz`` when the path's extension says so, else None."""
        if self.is_stdin:
            return None
        entry = _COMPRESSED.get(os.path.splitext(self.path)[1].lower())
        return entry[1] if entry else None

    @classmethod
    def of(cls, path: str | PathLike | Source) -> Source:
        """A source for one path as given (not expanded: use :func:`expand_sources` for directories)."""
        if isinstance(path, Source):
            return path
        path = os.fspath(path)
        return cls(path, STDIN_LABEL if path == STDIN_PATH else path)


def expand_sources(paths: Sequence[str | PathLike]) -> tuple[Source, ...]:
    """The sources of a corpus: files as given, directories walked, ``-`` for stdin.

    Directories are walked recursively; their files come in sorted order of
    their relative paths (as ``find DIR | sort`` lists them), skipping hidden
    files and directories (names starting with ``.``).  Stdin may be given once.

    >>> expand_sources([])
    Traceback (most recent call last):
    ...
    klcode.errors.InputError: no input given
    """
    if isinstance(paths, (str, PathLike)):
        paths = [paths]
    if not paths:
        raise InputError("no input given")
    sources: list[Source] = []
    stdin_seen = False
    for raw in paths:
        path = os.fspath(raw)
        if path == STDIN_PATH:
            if stdin_seen:
                raise InputError("stdin ('-') can be given only once")
            stdin_seen = True
            sources.append(Source(path, STDIN_LABEL))
        elif os.path.isdir(path):
            sources.extend(_directory_sources(path))
        elif os.path.exists(path):
            sources.append(Source(path, path))
        elif os.path.islink(path):
            raise InputError(f"cannot read {path!r}: {_link_problem(path)}")
        else:
            raise InputError(f"cannot read {path!r}: no such file")
    return tuple(sources)


def _link_problem(path: str) -> str:
    """Why a symbolic link does not lead to a file: a loop of links, or a target that does not exist."""
    try:
        os.stat(path)
    except OSError as error:
        if error.errno == errno.ELOOP:
            return "symbolic link loop (the links point to each other, never to a file)"
    return f"broken symbolic link (its target {os.readlink(path)!r} does not exist)"


def _directory_sources(directory: str) -> list[Source]:
    found: list[tuple[tuple[str, ...], str]] = []
    for root, dirnames, filenames in os.walk(directory, onerror=_raise_walk_error):
        dirnames[:] = [name for name in dirnames if not name.startswith(".")]
        for name in filenames:
            if name.startswith("."):
                continue
            path = os.path.join(root, name)
            if os.path.isfile(path):
                parts = os.path.relpath(path, directory).split(os.sep)
                found.append((tuple(parts), path))
    if not found:
        raise InputError(f"no files under directory {directory!r}")
    return [Source(path, path) for _, path in sorted(found)]


def _raise_walk_error(error: OSError) -> None:
    raise InputError(f"cannot read {error.filename!r}: {error.strerror or error}")


# ------------------------------------------------------------------ opening
#: Standard input spooled to a temporary file: {"-": (the stdin buffer object spooled, spool file)}.
#: Stdin can be read only once, and a measurement reads a corpus twice (counting, then
#: encoding), so the first :func:`open_source` of ``-`` copies stdin into an anonymous
#: temporary file (constant memory) and every open, the first included, reads that copy.
#: The spool lives until the process ends, or until ``sys.stdin`` is replaced (then the
#: new stdin is spooled on its next open).  One reader of stdin at a time.
_STDIN_SPOOL: dict[str, tuple[object, BinaryIO]] = {}


def _stdin_spool() -> BinaryIO:
    stdin = getattr(sys.stdin, "buffer", None)
    if stdin is None:
        raise InputError("cannot read stdin: it is closed or not a byte stream")
    cached = _STDIN_SPOOL.get(STDIN_PATH)
    if cached is not None and cached[0] is stdin:
        return cached[1]
    spool = tempfile.TemporaryFile(prefix="klcode-stdin-")
    try:
        shutil.copyfileobj(stdin, spool, CHUNK_BYTES)
    except OSError as error:
        spool.close()
        raise InputError(f"cannot read stdin: {error.strerror or error}") from None
    if cached is not None:
        cached[1].close()
    _STDIN_SPOOL[STDIN_PATH] = (stdin, spool)
    return spool


class _Reader(io.RawIOBase):
    """A read-only binary stream that turns read failures into one-line :class:`InputError`."""

    def __init__(self, raw: BinaryIO, label: str, compression: str | None, close_raw: bool = True) -> None:
        super().__init__()
        self._raw, self._label, self._compression, self._close_raw = raw, label, compression, close_raw

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        try:
            return self._raw.read(size)
        except _CORRUPT_ERRORS as error:
            raise self._error(error) from None

    def readall(self) -> bytes:
        return self.read(-1)

    def readinto(self, buffer) -> int:  # pragma: no cover - read() is what klcode uses
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        if not self.closed and self._close_raw:
            self._raw.close()
        super().close()

    def _error(self, error: BaseException) -> InputError:
        if isinstance(error, InputError):
            return error
        if self._compression is None or (isinstance(error, OSError) and error.errno is not None):
            reason = getattr(error, "strerror", None) or str(error) or type(error).__name__
            return InputError(f"cannot read {self._label!r}: {reason}")
        detail = str(error) or type(error).__name__
        return InputError(f"cannot read {self._label!r}: not valid {self._compression} data ({detail})")


@contextlib.contextmanager
def open_source(source: Source | str | PathLike) -> Iterator[BinaryIO]:
    """The source opened for binary reading: decompressed by extension (.gz, .bz2, .xz); stdin spooled.

    Corrupt or truncated compressed data raises :class:`InputError` naming the
    file, when it is read.  Stdin is copied once to a temporary file and read
    from there (see ``_STDIN_SPOOL``), so it can be opened again.
    """
    source = Source.of(source)
    if source.is_stdin:
        spool = _stdin_spool()
        spool.seek(0)
        with _Reader(spool, source.label, None, close_raw=False) as reader:
            yield reader
        return
    compression = source.compression
    try:
        if compression is None:
            raw = open(source.path, "rb", buffering=0)
        else:
            module = _COMPRESSED[os.path.splitext(source.path)[1].lower()][0]
            raw = module.open(source.path, "rb")
    except FileNotFoundError:
        raise InputError(f"cannot read {source.label!r}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"cannot read {source.label!r}: it is a directory") from None
    except OSError as error:
        raise InputError(f"cannot read {source.label!r}: {error.strerror or error}") from None
    note_input(source.path)
    with _Reader(raw, source.label, compression) as reader:
        yield reader


def iter_chunks(
    source: Source | str | PathLike,
    chunk_bytes: int = CHUNK_BYTES,
    progress: Callable[[int], None] | None = None,
) -> Iterator[bytes]:
    """The (decompressed) bytes of ``source`` in chunks of at most ``chunk_bytes``, in order.

    ``progress(n)`` is called after each chunk with the number of bytes just read.

    >>> import tempfile, os
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = os.path.join(folder, "t.txt")
    ...     _ = open(path, "wb").write(b"abcdefg")
    ...     list(iter_chunks(path, chunk_bytes=3))
    [b'abc', b'def', b'g']
    """
    if chunk_bytes < 1:
        raise InputError(f"chunk size must be at least 1 byte (got {chunk_bytes})")
    with open_source(source) as stream:
        while True:
            chunk = stream.read(chunk_bytes)
            if not chunk:
                return
            if progress is not None:
                progress(len(chunk))
            yield chunk


def read_bytes(path: str | PathLike) -> bytes:
    """The content of the file at ``path``, raising :class:`InputError` with a one-line reason."""
    try:
        with open(path, "rb") as handle:
            note_input(path)
            return handle.read()
    except FileNotFoundError:
        raise InputError(f"cannot read {str(path)!r}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"cannot read {str(path)!r}: it is a directory") from None
    except OSError as error:
        raise InputError(f"cannot read {str(path)!r}: {error.strerror or error}") from None


# ------------------------------------------------------------------ decoding
def check_encoding(encoding: str) -> codecs.CodecInfo:
    """The codec of a text encoding, or :class:`InputError` naming the unknown encoding.

    >>> check_encoding("Latin-1").name
    'iso8859-1'
    >>> check_encoding("klingon")
    Traceback (most recent call last):
    ...
    klcode.errors.InputError: unknown encoding 'klingon'
    """
    try:
        info = codecs.lookup(encoding)
    except (LookupError, TypeError):
        raise InputError(f"unknown encoding {encoding!r}") from None
    if not getattr(info, "_is_text_encoding", True):
        raise InputError(f"{encoding!r} is not a text encoding")
    return info


def decode_error_message(label: str, encoding: str, offset: int, byte: int) -> str:
    """The one-line message of an undecodable byte at an absolute ``offset`` of the file ``label``."""
    return (
        f"cannot decode {label!r} as {encoding} at byte offset {offset} (byte 0x{byte:02x}); "
        f"use --encoding ENCODING (e.g. latin-1) or --errors replace"
    )


def codec_error_message(label: str, encoding: str, error: UnicodeError) -> str:
    """The one-line message of a codec that refuses a whole stream (UTF-16/32 without a byte-order mark).

    >>> codec_error_message("t.txt", "utf-16", UnicodeError("UTF-16 stream does not start with BOM"))
    "cannot decode 't.txt' as utf-16: UTF-16 stream does not start with BOM; use --encoding utf-16-le or utf-16-be"
    """
    name = codecs.lookup(encoding).name
    hint = (f"use --encoding {name}-le or {name}-be" if "BOM" in str(error) and name in ("utf-16", "utf-32")
            else "use --encoding ENCODING (e.g. latin-1)")
    return f"cannot decode {label!r} as {encoding}: {error}; {hint}"


def decode_text(data: bytes, encoding: str, source: str, errors: str = "strict") -> str:
    """``data`` decoded with ``encoding``; ``source`` names the file in errors.

    >>> decode_text(b"caf\\xe9", "latin-1", "menu.txt")
    'café'
    >>> decode_text(b"caf\\xe9", "utf-8", "menu.txt", errors="replace")
    'caf\\ufffd'
    """
    check_encoding(encoding)
    _check_errors(errors)
    try:
        return data.decode(encoding, errors)
    except UnicodeDecodeError as error:
        raise InputError(decode_error_message(source, encoding, error.start, error.object[error.start])) from None
    except UnicodeError as error:
        raise InputError(codec_error_message(source, encoding, error)) from None


def _check_errors(errors: str) -> None:
    if errors not in DECODE_ERRORS:
        raise InputError(f"decoding errors must be one of {', '.join(DECODE_ERRORS)} (got {errors!r})")


class TextDecoder:
    """An incremental decoder of one file that knows its absolute byte offset, for error messages.

    Feed it the file's chunks in order; a decoding error names the offset of the
    bad byte counted from the start of the (decompressed) file, whatever chunk
    it is in.  :meth:`skip` accounts for a chunk decoded elsewhere (a fast path);
    it is only valid while nothing is pending (:attr:`pending_bytes` is 0).

    >>> decoder = TextDecoder("utf-8", "strict", "t.txt")
    >>> decoder.decode(b"a\\xc3"), decoder.pending_bytes, decoder.decode(b"\\xa9"), decoder.decode(b"", final=True)
    ('a', 1, 'é', '')
    >>> decoder.decode(b"\\xff")
    Traceback (most recent call last):
    ...
    klcode.errors.InputError: cannot decode 't.txt' as utf-8 at byte offset 3 (byte 0xff); use --encoding ENCODING (e.g. latin-1) or --errors replace
    """

    def __init__(self, encoding: str, errors: str, label: str) -> None:
        info = check_encoding(encoding)
        _check_errors(errors)
        self.encoding, self.errors, self.label = encoding, errors, label
        self._decoder = info.incrementaldecoder(errors)
        self._fed_bytes = 0

    @property
    def pending_bytes(self) -> int:
        """Bytes fed but not yet decoded (an incomplete multi-byte sequence)."""
        try:
            return len(self._decoder.getstate()[0])
        except (AttributeError, NotImplementedError, TypeError):  # pragma: no cover - codec without state
            return 0

    def decode(self, chunk: bytes, final: bool = False) -> str:
        """The text of ``chunk`` (with what was pending before it); ``final`` at the end of the file."""
        pending = self.pending_bytes
        try:
            text = self._decoder.decode(chunk, final)
        except UnicodeDecodeError as error:
            offset = self._fed_bytes - pending + error.start
            raise InputError(
                decode_error_message(self.label, self.encoding, offset, error.object[error.start])
            ) from None
        except UnicodeError as error:
            raise InputError(codec_error_message(self.label, self.encoding, error)) from None
        self._fed_bytes += len(chunk)
        return text

    def skip(self, chunk_size: int) -> None:
        """Count ``chunk_size`` bytes decoded by the caller (only while nothing is pending)."""
        self._fed_bytes += chunk_size


def iter_text(
    source: Source | str | PathLike,
    encoding: str = "utf-8",
    errors: str = "strict",
    chunk_bytes: int = CHUNK_BYTES,
    progress: Callable[[int], None] | None = None,
) -> Iterator[str]:
    """The text of ``source`` decoded incrementally, piece by piece (a character split across chunks comes out whole).

    ``errors="replace"`` turns undecodable bytes into U+FFFD; with ``strict`` an
    undecodable byte raises :class:`InputError` naming the file, its absolute
    byte offset and the encoding.  Pieces may be empty strings.
    """
    source = Source.of(source)
    decoder = TextDecoder(encoding, errors, source.label)
    for chunk in iter_chunks(source, chunk_bytes, progress):
        yield decoder.decode(chunk)
    yield decoder.decode(b"", final=True)
