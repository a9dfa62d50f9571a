"""llama.cpp's KL-divergence base file (``llama-perplexity --kl-divergence-base FILE``): read and write it.

The layout, as ``tools/perplexity/perplexity.cpp`` writes it (all little-endian):

==========================  =========================================================================
``"_logits_"``              8 bytes, the magic
``n_ctx``                   uint32, the context length of one chunk
``n_vocab``                 int32
``n_chunk``                 int32, the number of chunks scored
``tokens``                  int32 × (n_ctx · n_chunk): the evaluated text, chunk after chunk
rows                        per chunk, ``n_ctx − 1 − n_ctx/2`` rows of ``nv = 2·⌈n_vocab/2⌉ + 4`` uint16
==========================  =========================================================================

Row ``r`` of chunk ``c`` is the model's distribution at position ``first + r`` of the chunk
(``first = n_ctx/2``, integer division), i.e. the prediction of token
``tokens[c·n_ctx + first + r + 1]``: only the second half of every chunk is scored, so that every scored
token has at least ``n_ctx/2`` tokens of context.  A row starts with two float32 (in the place of four
uint16): ``scale`` and ``min_log_prob``, then ``n_vocab`` uint16 codes ``k_i`` (one zero pad when
n_vocab is odd).  The log-probability (nats) of token i is ``scale·k_i + min_log_prob``.

Quantization (``log_softmax`` in perplexity.cpp): with ``m = max logit``, the floor is
``lo = max(min logit, m − 16)``, ``lse = ln Σ exp(l_i − m)``, ``min_log_prob = lo − m − lse``,
``scale = (m − lo)/65535`` and ``k_i = round((l_i − lo)/scale)`` for ``l_i > lo``, else 0 (all codes 0
when ``scale = 0``).  Every logit more than 16 nats below the top one is stored at the floor.

>>> import io, numpy as np
>>> logits = np.array([[0.0, -1.0, -30.0]], dtype=np.float32)
>>> row = quantize_log_probs(logits)
>>> row.scale.dtype, int(row.codes[0, 0]), int(row.codes[0, 2])
(dtype('float32'), 65535, 0)
>>> np.round(dequantize(row.scale, row.min_log_prob, row.codes), 4)
array([[ -0.3133,  -1.3133, -16.3133]], dtype=float32)
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import BinaryIO

import numpy as np

from ..atomic import write_atomically
from ..errors import InputError

MAGIC = b"_logits_"
HEADER_BYTES = 8 + 4 + 4 + 4
LOGIT_FLOOR_NATS = 16.0
CODE_LEVELS = 65535


@dataclass(frozen=True)
class LlamaKLHeader:
    """The header of a llama.cpp KL-divergence base file: n_ctx, n_vocab, n_chunk, and the file's size."""

    path: str
    n_ctx: int
    n_vocab: int
    n_chunk: int
    file_bytes: int

    @property
    def first_scored(self) -> int:
        """Index in its chunk of the first position scored: ``n_ctx // 2``."""
        return self.n_ctx // 2

    @property
    def rows_per_chunk(self) -> int:
        """Scored positions per chunk: ``n_ctx − 1 − n_ctx // 2``."""
        return self.n_ctx - 1 - self.n_ctx // 2

    @property
    def row_words(self) -> int:
        """uint16 words per row: ``2·⌈n_vocab/2⌉ + 4`` (scale and minimum as two float32, then the codes)."""
        return 2 * ((self.n_vocab + 1) // 2) + 4

    @property
    def positions(self) -> int:
        """Scored positions in the file: ``n_chunk · rows_per_chunk``."""
        return self.n_chunk * self.rows_per_chunk

    @property
    def data_offset(self) -> int:
        """Byte offset of the first row."""
        return HEADER_BYTES + 4 * self.n_ctx * self.n_chunk

    @property
    def expected_bytes(self) -> int:
        """Size of a complete file with this header."""
        return self.data_offset + 2 * self.row_words * self.positions

    def target_indices(self) -> np.ndarray:
        """Index into ``tokens`` of the token each scored position predicts (int64, one per row)."""
        chunk = np.arange(self.n_chunk, dtype=np.int64)[:, None] * self.n_ctx
        rows = np.arange(self.rows_per_chunk, dtype=np.int64)[None, :] + self.first_scored + 1
        return (chunk + rows).reshape(-1)


def read_header(path: str | os.PathLike[str]) -> tuple[LlamaKLHeader, np.ndarray]:
    """The header and the token array (int32, n_ctx · n_chunk) of a KL-divergence base file; checks its size."""
    path = os.fspath(path)
    try:
        size = os.path.getsize(path)
        with open(path, "rb") as file:
            head = file.read(HEADER_BYTES)
            if len(head) < 8 or head[:8] != MAGIC:
                raise InputError(f"{path!r} is not a llama.cpp KL-divergence base file "
                                 f"(it does not start with '_logits_'; got {head[:8]!r})")
            if len(head) < HEADER_BYTES:
                raise InputError(f"{path!r} is truncated: its header needs {HEADER_BYTES} bytes (got {size})")
            n_ctx, n_vocab, n_chunk = struct.unpack("<Iii", head[8:])
            if n_ctx < 3 or n_vocab < 1 or n_chunk < 1:
                raise InputError(f"{path!r} has an impossible header (n_ctx {n_ctx}, n_vocab {n_vocab}, "
                                 f"n_chunk {n_chunk}; llama.cpp writes n_ctx >= 3 and n_vocab, n_chunk >= 1)")
            header = LlamaKLHeader(path, n_ctx, n_vocab, n_chunk, size)
            if size != header.expected_bytes:
                what = "truncated" if size < header.expected_bytes else "longer than its header says"
                raise InputError(f"{path!r} is {what}: n_ctx {n_ctx}, n_vocab {n_vocab}, n_chunk {n_chunk} "
                                 f"make {header.expected_bytes:,} bytes (got {size:,})")
            tokens = np.fromfile(file, dtype="<i4", count=n_ctx * n_chunk).astype(np.int64)
    except OSError as error:
        if isinstance(error, InputError):
            raise
        raise InputError(f"cannot read {path!r}: {error.strerror or error}") from None
    bad = (tokens < 0) | (tokens >= n_vocab)
    if bad.any():
        at = int(np.argmax(bad))
        raise InputError(f"{path!r}: token {int(tokens[at])} at index {at} is outside the vocabulary [0, {n_vocab})")
    return header, tokens


@dataclass(frozen=True)
class QuantizedRows:
    """Rows as llama.cpp stores them: per row a float32 scale and minimum log-probability, uint16 codes."""

    scale: np.ndarray          # float32 [k]
    min_log_prob: np.ndarray   # float32 [k]
    codes: np.ndarray          # uint16 [k × n_vocab]


def dequantize(scale: np.ndarray, min_log_prob: np.ndarray, codes: np.ndarray,
               out: np.ndarray | None = None) -> np.ndarray:
    """Log-probabilities (nats, float32) ``scale·k + min_log_prob`` of stored rows, computed in float32."""
    if out is None:
        out = np.empty(codes.shape, dtype=np.float32)
    np.multiply(codes, scale[:, None], out=out, dtype=np.float32)
    out += min_log_prob[:, None]
    return out


def quantize_log_probs(logits: np.ndarray, bits: int = 16, floor_nats: float = LOGIT_FLOOR_NATS) -> QuantizedRows:
    """llama.cpp's row quantization of logits: codes ``round((l − lo)/scale)``, ``lo = max(min l, max l − 16)``.

    ``bits`` < 16 gives the same scheme with ``2^bits − 1`` levels (codes still stored as uint16); 16 is
    llama.cpp's.  Arithmetic is float32 with the sum of exponentials in float64, as in perplexity.cpp.
    """
    if not 1 <= bits <= 16:
        raise ValueError(f"bits must be in 1..16 (got {bits})")
    logits = np.asarray(logits, dtype=np.float32)
    if logits.ndim != 2:
        raise ValueError(f"logits must be a 2-D array [positions × vocab] (got shape {logits.shape})")
    levels = np.float32((1 << bits) - 1)
    top = logits.max(axis=1)
    low = np.maximum(logits.min(axis=1), top - np.float32(floor_nats))
    sum_exp = np.exp(logits - top[:, None]).sum(axis=1, dtype=np.float64)
    log_sum_exp = np.log(sum_exp).astype(np.float32)
    min_log_prob = (low - top - log_sum_exp).astype(np.float32)
    scale = ((top - low) / levels).astype(np.float32)
    with np.errstate(divide="ignore", invalid="ignore"):
        inverse = np.where(scale > 0, np.float32(1) / scale, np.float32(0)).astype(np.float32)
    scaled = inverse[:, None] * (logits - low[:, None])
    codes = np.where(logits > low[:, None], np.rint(scaled), 0).astype(np.uint16)
    return QuantizedRows(scale, min_log_prob, codes)


def iter_quantized_rows(header: LlamaKLHeader, rows: int, start: int = 0) -> Iterator[tuple[int, QuantizedRows]]:
    """Rows ``start …`` of the file in blocks of at most ``rows``, read into one reused buffer (constant memory).

    Yields ``(first position, QuantizedRows)``; the arrays are views of the buffer, valid until the next step.
    """
    words = header.row_words
    rows = max(1, min(rows, header.positions))
    buffer = np.empty((rows, words), dtype="<u2")
    try:
        with open(header.path, "rb", buffering=0) as file:
            file.seek(header.data_offset + 2 * words * start)
            position = start
            while position < header.positions:
                k = min(rows, header.positions - position)
                view = buffer[:k]
                got = file.readinto(memoryview(view).cast("B"))
                if got != view.nbytes:
                    raise InputError(f"{header.path!r} is truncated at row {position + got // (2 * words)} "
                                     f"of {header.positions} (the file changed while being read?)")
                pair = view[:, :4].view("<f4")
                yield position, QuantizedRows(pair[:, 0], pair[:, 1], view[:, 4:4 + header.n_vocab])
                position += k
    except OSError as error:
        if isinstance(error, InputError):
            raise
        raise InputError(f"cannot read {header.path!r}: {error.strerror or error}") from None


def _write_header(file: BinaryIO, n_ctx: int, n_vocab: int, tokens: np.ndarray) -> None:
    n_chunk = len(tokens) // n_ctx
    file.write(MAGIC)
    file.write(struct.pack("<Iii", n_ctx, n_vocab, n_chunk))
    file.write(np.ascontiguousarray(tokens[: n_chunk * n_ctx], dtype="<i4").tobytes())


def write_quantized_rows(file: BinaryIO, rows: QuantizedRows) -> None:
    """Append stored rows (scale, minimum, codes, pad) to an open KL-divergence base file."""
    k, n_vocab = rows.codes.shape
    words = 2 * ((n_vocab + 1) // 2) + 4
    block = np.zeros((k, words), dtype="<u2")
    pair = block[:, :4].view("<f4")
    pair[:, 0] = rows.scale
    pair[:, 1] = rows.min_log_prob
    block[:, 4:4 + n_vocab] = rows.codes
    file.write(block.tobytes())


def _check_stream(tokens: np.ndarray, n_ctx: int, n_vocab: int) -> np.ndarray:
    tokens = np.asarray(tokens)
    if tokens.ndim != 1 or not np.issubdtype(tokens.dtype, np.integer):
        raise ValueError(f"tokens must be a 1-D integer array (got {tokens.dtype} of shape {tokens.shape})")
    if n_ctx < 3:
        raise ValueError(f"n_ctx must be at least 3 (got {n_ctx})")
    if len(tokens) < n_ctx:
        raise ValueError(f"a KL-divergence base file needs at least one chunk of n_ctx = {n_ctx} tokens (got {len(tokens)})")
    if len(tokens) and (tokens.min() < 0 or tokens.max() >= n_vocab):
        raise ValueError(f"token ids must be in [0, {n_vocab}) (got {int(tokens.min())}..{int(tokens.max())})")
    return tokens


def write_kl_base(path: str | os.PathLike[str], tokens: np.ndarray, n_ctx: int,
                  logit_blocks: Iterable[np.ndarray], n_vocab: int) -> LlamaKLHeader:
    """Write a KL-divergence base file from the logits of every scored position, quantized as llama.cpp does.

    ``tokens``: the evaluated text (only whole chunks of ``n_ctx`` are kept); ``logit_blocks``: float arrays
    [k × n_vocab] of logits (or log-probabilities) of the scored positions in file order, in blocks of any
    size, ``n_chunk · (n_ctx − 1 − n_ctx//2)`` rows in all.  Written atomically.
    """
    tokens = _check_stream(tokens, n_ctx, n_vocab)
    n_chunk = len(tokens) // n_ctx
    expected = n_chunk * (n_ctx - 1 - n_ctx // 2)

    def write(file: BinaryIO) -> None:
        _write_header(file, n_ctx, n_vocab, tokens)
        written = 0
        for block in logit_blocks:
            block = np.asarray(block)
            if block.ndim != 2 or block.shape[1] != n_vocab:
                raise ValueError(f"logit blocks must have shape [k × {n_vocab}] (got {block.shape})")
            if not np.isfinite(block).all():
                raise ValueError(f"logits must be finite (block at row {written} has NaN or inf)")
            write_quantized_rows(file, quantize_log_probs(block))
            written += len(block)
        if written != expected:
            raise ValueError(f"{n_chunk} chunk(s) of n_ctx {n_ctx} score {expected} positions (got {written} rows)")

    write_atomically(path, write)
    return read_header(path)[0]


def write_stored_rows(path: str | os.PathLike[str], tokens: np.ndarray, n_ctx: int, n_vocab: int,
                      row_blocks: Iterable[QuantizedRows]) -> LlamaKLHeader:
    """Write a KL-divergence base file from rows already in stored form (for converting and benchmarks)."""
    tokens = _check_stream(tokens, n_ctx, n_vocab)
    expected = (len(tokens) // n_ctx) * (n_ctx - 1 - n_ctx // 2)

    def write(file: BinaryIO) -> None:
        _write_header(file, n_ctx, n_vocab, tokens)
        written = 0
        for rows in row_blocks:
            write_quantized_rows(file, rows)
            written += len(rows.codes)
        if written != expected:
            raise ValueError(f"the file needs {expected} rows (got {written})")

    write_atomically(path, write)
    return read_header(path)[0]
