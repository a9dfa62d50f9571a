"""Counting on a Dask cluster: c(x) = Σ over partitions of the partition's counts, identical to the serial count.

``count_corpus_distributed(paths, spec, client)`` splits the inputs into
partitions, counts each one on a worker with the same tokenizer code as the
serial path (:func:`klcode.text.tokenize.tally_tokens`, which reads a
:class:`ByteRange` exactly as it reads a file), and tree-reduces the partial
counts on the cluster (pairs merged, level by level).  The result is the
:class:`~klcode.text.counts.Counts` record the serial count gives — same
symbols, counts, sources and bytes read — so the counts file saved from it is
byte-identical.

Partitions, and why a token is counted once:

* **bytes**: ranges of ``partition_bytes`` cut anywhere; a byte n-gram belongs
  to the range its first byte is in (the range is read K−1 bytes further).
* **chars and words** (one unit each, lower-cased or not) in UTF-8 or a
  one-byte ASCII-compatible encoding: ranges cut just after a newline byte
  at or after the nominal border.  0x0A is never part of a multi-byte UTF-8
  character, is not a word character, and is whitespace (lower-casing has no
  context across it), so no token spans a cut.
* **everything else** (regex, word and character n-grams, other encodings,
  compressed files): one partition per file.

Workers read the files themselves: they must see the same paths (one
machine, or a shared file system).  Standard input cannot be distributed.
``dask[distributed]`` is an extra (``pip install 'klcode[dask]'``); without it
:func:`connect` raises one line naming the pip command.
"""

from __future__ import annotations

import codecs
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from os import PathLike

import numpy as np

from ..errors import DataError, InputError, KlcodeError
from .corpus import Source
from .counts import Counts, count_corpus
from .tokenize import TokenizerSpec, tally_tokens

#: Bytes per partition (nominal: text partitions end at the next newline).
PARTITION_BYTES = 64 << 20
#: Encodings whose text partitions may be cut after a newline byte (ASCII-compatible, self-synchronizing).
_CUTTABLE_ENCODINGS = frozenset({"utf-8", "ascii", "latin-1", "iso8859-1", "cp1252", "iso8859-15"})
#: Bytes read at a time while looking for the newline after a nominal border.
_SCAN_BYTES = 1 << 16
#: Seconds to wait for a cluster to answer.
CONNECT_TIMEOUT_SECONDS = 30


class DaskUnavailableError(KlcodeError, ImportError):
    """The dask extra is not installed."""


@dataclass(frozen=True)
class ByteRange:
    """Bytes [start, end) of a file, read a further ``overlap`` bytes (a part of a file the tokenizer reads as a file).

    >>> import tempfile, os
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = os.path.join(folder, "t.txt")
    ...     _ = open(path, "wb").write(b"abcdefg")
    ...     list(ByteRange(Source.of(path), 2, 5, 1).read_chunks(2, None))
    [b'cd', b'ef']
    """

    source: Source
    start: int
    end: int
    overlap: int = 0

    @property
    def label(self) -> str:
        return self.source.label

    def read_chunks(self, chunk_bytes: int, progress: Callable[[int], None] | None) -> Iterator[bytes]:
        """The range's bytes in chunks (``progress`` gets the bytes of [start, end), not of the overlap)."""
        try:
            handle = open(self.source.path, "rb", buffering=0)
        except OSError as error:
            raise InputError(f"cannot read {self.label!r}: {error.strerror or error}") from None
        with handle:
            handle.seek(self.start)
            left, owned = self.end + self.overlap - self.start, self.end - self.start
            while left > 0:
                chunk = handle.read(min(chunk_bytes, left))
                if not chunk:
                    return
                left -= len(chunk)
                if progress is not None:
                    counted = min(len(chunk), owned)
                    owned -= counted
                    progress(counted)
                yield chunk


def connect(address: str, timeout_seconds: float = CONNECT_TIMEOUT_SECONDS):
    """A ``distributed.Client``: ``local`` / ``local:N`` starts a LocalCluster of N worker processes, else an address.

    The caller closes it (and its cluster): ``client.close(); client.cluster.close()`` for a local one.
    """
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise DaskUnavailableError("--dask needs the dask extra: pip install 'klcode[dask]'") from None
    if address == "local" or address.startswith("local:"):
        workers_text = address.partition(":")[2] or str(os.cpu_count() or 1)
        if not workers_text.isdigit() or int(workers_text) < 1:
            raise DataError(f"--dask local:N needs a worker count N >= 1 (got {address!r})")
        cluster = LocalCluster(n_workers=int(workers_text), threads_per_worker=1, processes=True,
                               dashboard_address=":0", silence_logs=50)
        return Client(cluster, timeout=timeout_seconds)
    try:
        return Client(address, timeout=timeout_seconds)
    except (OSError, TimeoutError, ValueError) as error:
        raise InputError(f"cannot connect to the Dask scheduler at {address!r} ({error})") from None


def partitions(sources: Sequence[Source], spec: TokenizerSpec, partition_bytes: int = PARTITION_BYTES) -> list:
    """The parts the sources are counted in, in stream order: :class:`ByteRange` objects, or whole-file Sources."""
    if partition_bytes < 1:
        raise DataError(f"partition size must be at least 1 byte (got {partition_bytes})")
    mode = _split_mode(spec)
    parts: list = []
    for source in sources:
        if source.is_stdin:
            raise InputError("--dask reads files by path; standard input cannot be split: count it without --dask")
        if mode is None or source.compression is not None:
            parts.append(source)
            continue
        try:
            size = os.path.getsize(source.path)
        except OSError as error:
            raise InputError(f"cannot read {source.label!r}: {error.strerror or error}") from None
        borders = list(range(0, size, partition_bytes)) + [size]
        if mode == "text":
            borders = sorted(set(_after_newline(source, border, size) for border in borders))
        overlap = spec.ngram - 1 if mode == "bytes" else 0
        parts.extend(ByteRange(source, start, end, overlap) for start, end in zip(borders, borders[1:]))
        if size == 0:
            parts.append(source)
    return parts


def _split_mode(spec: TokenizerSpec) -> str | None:
    """How a file may be split for this tokenizer: "bytes" (anywhere), "text" (after newlines), None (not at all)."""
    if spec.kind == "bytes":
        return "bytes"
    if spec.kind in ("chars", "words") and spec.ngram == 1:
        name = codecs.lookup(spec.encoding).name
        return "text" if name in _CUTTABLE_ENCODINGS else None
    return None


def _after_newline(source: Source, border: int, size: int) -> int:
    """The offset just after the first newline byte at or after ``border`` − 1 (0 and ``size`` stay)."""
    if border <= 0 or border >= size:
        return border
    with open(source.path, "rb") as handle:
        handle.seek(border - 1)
        position = border - 1
        while True:
            block = handle.read(_SCAN_BYTES)
            if not block:
                return size
            found = block.find(b"\n")
            if found >= 0:
                return position + found + 1
            position += len(block)


def count_part(part, spec: TokenizerSpec) -> tuple[tuple, np.ndarray, int]:
    """(sorted symbols, counts, bytes owned) of one partition, by the serial tokenizer (runs on a worker)."""
    owned = 0

    def counting(n_bytes: int) -> None:
        nonlocal owned
        owned += n_bytes

    symbols, counts = tally_tokens([part], spec, progress=counting)
    return symbols, counts, owned


def merge_parts(a: tuple[tuple, np.ndarray, int], b: tuple[tuple, np.ndarray, int]) -> tuple[tuple, np.ndarray, int]:
    """Two partial counts as one: symbols merged in sorted order, counts added (runs on a worker)."""
    merged = dict(zip(a[0], a[1].tolist()))
    for symbol, count in zip(b[0], b[1].tolist()):
        merged[symbol] = merged.get(symbol, 0) + count
    symbols = tuple(sorted(merged))
    return symbols, np.fromiter(map(merged.__getitem__, symbols), dtype=np.int64, count=len(symbols)), a[2] + b[2]


def count_sources_distributed(sources: Sequence[Source], spec: TokenizerSpec, client,
                              partition_bytes: int = PARTITION_BYTES) -> Counts:
    """The counts of text sources, counted by partition on the cluster and tree-reduced there."""
    parts = partitions(sources, spec, partition_bytes)
    futures = client.map(count_part, parts, spec=spec, pure=False)
    while len(futures) > 1:
        paired = [client.submit(merge_parts, futures[i], futures[i + 1], pure=False)
                  for i in range(0, len(futures) - 1, 2)]
        futures = paired + ([futures[-1]] if len(futures) % 2 else [])
    symbols, counts, read = futures[0].result()
    return Counts(spec, symbols, counts, tuple(source.label for source in sources), read)


def count_corpus_distributed(paths: Sequence[str | PathLike], spec: TokenizerSpec, client,
                             partition_bytes: int = PARTITION_BYTES) -> Counts:
    """:func:`klcode.text.counts.count_corpus` on a Dask cluster: text inputs counted by partition, counts files loaded.

    The record equals the serial one (symbols, counts, sources, bytes read).
    """
    return count_corpus(paths, spec, count_sources=lambda sources: count_sources_distributed(
        sources, spec, client, partition_bytes))
