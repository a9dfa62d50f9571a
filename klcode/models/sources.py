"""Per-position next-token distributions q(· | x_<i) of a model over a text, streamed in blocks of positions.

A *source* knows the tokens it predicts (``targets``: the actual next token at every scored position),
its vocabulary size, and yields its rows in blocks: float arrays [k × vocab] of *logits* (log-probabilities
up to a constant per row; klcode normalizes every row with a log-sum-exp).  Memory is constant in the
number of rows (one reused block per source); only per-position scalars grow with the text.

Sources:

* :class:`LlamaKLSource`: llama.cpp's ``--kl-divergence-base`` file (see :mod:`klcode.models.llama_format`);
* :class:`ArraySource`: ``.npy``, ``.npz`` (stored or deflated) and ``.safetensors`` arrays of logits or
  log-probabilities [positions × vocab], with the token ids beside them;
* :class:`ContextModelSource`: klcode's own PPM model over a text (``ppm:...``), trained on a corpus;
* :class:`QuantizedSource`: any source with its rows re-quantized to b bits as llama.cpp stores rows;
* :class:`~klcode.models.hf.HFSource` (optional extra ``klcode[llm]``): a local causal LM run over a text.

Token ids beside an array: ``tokens`` of length ``positions`` are the targets; of length ``positions + 1``
they are a stream whose row i predicts ``tokens[i + 1]`` (the first token is context only).
"""

from __future__ import annotations

import json
import os
import struct
import zipfile
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import BinaryIO

import numpy as np

from ..errors import DataError, InputError
from . import llama_format

#: Rows per block are chosen so that one block holds about this many values.
BLOCK_VALUES = 1 << 22

_NPY_MAGIC = b"\x93NUMPY"
_SAFETENSORS_DTYPES = {"F64": "<f8", "F32": "<f4", "F16": "<f2", "BF16": "bf16", "I64": "<i8", "I32": "<i4",
                       "I16": "<i2", "U16": "<u2", "I8": "i1", "U8": "u1"}
ROW_NAMES = ("logits", "log_probs", "logprobs")
TOKEN_NAMES = ("tokens", "token_ids", "ids", "targets")


def rows_per_block(vocab_size: int) -> int:
    """Rows in one block: about :data:`BLOCK_VALUES` values, at least one row."""
    return max(1, BLOCK_VALUES // max(1, vocab_size))


class PositionSource(ABC):
    """Next-token distributions of one model at every scored position of one text."""

    label: str
    vocab_size: int
    targets: np.ndarray           # int64 [positions]: the token each row predicts
    stored_log_probs: bool = False  # rows are llama.cpp's stored (unnormalized) log-probabilities
    input_bytes: int = 0          # bytes read per pass (for throughput figures)
    spellings: Sequence[bytes] | None = None

    @property
    def positions(self) -> int:
        return int(len(self.targets))

    @abstractmethod
    def blocks(self, rows: int) -> Iterator[tuple[int, np.ndarray]]:
        """Blocks ``(first position, logits [k × vocab])`` in order.

        A block's array stays valid while the next block is read (two buffers in turn, so that a reader
        thread can fetch block n + 1 while block n is worked on); it may be reused by the step after that.
        """

    def context(self, position: int, width: int) -> np.ndarray:
        """Up to ``width`` token ids that precede the target of ``position`` (its context), or none."""
        return np.zeros(0, dtype=np.int64)

    def stream(self) -> np.ndarray | None:
        """The whole evaluated token stream, contexts included (None when the source does not know it)."""
        return None

    def describe(self) -> str:
        return self.label


def _check_finite(block: np.ndarray, start: int, label: str) -> None:
    if not np.isfinite(block).all():
        bad = ~np.isfinite(block)
        row, column = np.unravel_index(int(np.argmax(bad)), block.shape)
        raise DataError(f"{label}: row {start + int(row)} has a non-finite value ({float(block[row, column])!r} "
                        f"at token {int(column)}); logits must be finite")


# ----------------------------------------------------------------------------- llama.cpp files
class LlamaKLSource(PositionSource):
    """Rows of a llama.cpp KL-divergence base file, dequantized to float32 log-probabilities (nats)."""

    stored_log_probs = True

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = os.fspath(path)
        self.header, self.tokens = llama_format.read_header(self.path)
        self.label = os.path.basename(self.path)
        self.vocab_size = self.header.n_vocab
        self.target_index = self.header.target_indices()
        self.targets = self.tokens[self.target_index]
        self.input_bytes = self.header.file_bytes

    def blocks(self, rows: int) -> Iterator[tuple[int, np.ndarray]]:
        size = (max(1, min(rows, self.positions)), self.vocab_size)
        outs = (np.empty(size, dtype=np.float32), np.empty(size, dtype=np.float32))  # two: see PositionSource
        for step, (start, stored) in enumerate(llama_format.iter_quantized_rows(self.header, rows)):
            k = len(stored.scale)
            block = llama_format.dequantize(stored.scale, stored.min_log_prob, stored.codes, out=outs[step % 2][:k])
            if not (np.isfinite(stored.scale).all() and np.isfinite(stored.min_log_prob).all()):
                _check_finite(block, start, self.label)
            yield start, block

    def context(self, position: int, width: int) -> np.ndarray:
        index = int(self.target_index[position])
        chunk_start = index - index % self.header.n_ctx
        return self.tokens[max(chunk_start, index - width):index]

    def stream(self) -> np.ndarray | None:
        return self.tokens

    def describe(self) -> str:
        h = self.header
        return (f"{self.label} (llama.cpp KL base: n_ctx {h.n_ctx}, n_vocab {h.n_vocab}, n_chunk {h.n_chunk}, "
                f"{h.positions:,} scored positions)")


# ----------------------------------------------------------------------------- arrays
@dataclass(frozen=True)
class _ArrayLocation:
    """Where a 2-D array's raw little-endian rows are: file, byte offset, dtype, shape; or a zip member."""

    path: str
    offset: int
    dtype: str
    shape: tuple[int, ...]
    member: str | None = None   # a deflated .npz member: read as a stream


def _npy_header(file: BinaryIO, where: str) -> tuple[str, tuple[int, ...]]:
    try:
        version = np.lib.format.read_magic(file)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(file)
        else:
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(file)
    except ValueError as error:
        raise InputError(f"{where}: not a valid .npy array ({error})") from None
    if fortran and len(shape) > 1:
        raise InputError(f"{where}: Fortran-ordered arrays are not supported (save it with np.ascontiguousarray)")
    if dtype.hasobject:
        raise InputError(f"{where}: object arrays cannot be read")
    return dtype.newbyteorder("<").str if dtype.byteorder not in ("<", "|", "=") else dtype.str, tuple(shape)


def _npy_location(path: str) -> _ArrayLocation:
    with open(path, "rb") as file:
        dtype, shape = _npy_header(file, repr(path))
        return _ArrayLocation(path, file.tell(), dtype, shape)


def _npz_locations(path: str) -> dict[str, _ArrayLocation]:
    locations = {}
    try:
        with zipfile.ZipFile(path) as archive:
            for info in archive.infolist():
                name = info.filename[:-4] if info.filename.endswith(".npy") else info.filename
                with archive.open(info) as member:
                    dtype, shape = _npy_header(member, f"{path!r} member {info.filename!r}")
                    header_bytes = member.tell() if info.compress_type == zipfile.ZIP_STORED else None
                if info.compress_type == zipfile.ZIP_STORED:
                    with open(path, "rb") as raw:  # data offset = local header + its name and extra fields
                        raw.seek(info.header_offset)
                        local = raw.read(30)
                        name_length, extra_length = struct.unpack("<HH", local[26:30])
                        offset = info.header_offset + 30 + name_length + extra_length + header_bytes
                    locations[name] = _ArrayLocation(path, offset, dtype, shape)
                else:
                    locations[name] = _ArrayLocation(path, 0, dtype, shape, member=info.filename)
    except zipfile.BadZipFile as error:
        raise InputError(f"{path!r} is not a valid .npz archive ({error})") from None
    return locations


def _safetensors_locations(path: str) -> dict[str, _ArrayLocation]:
    """Tensors of a .safetensors file: 8-byte little-endian header length, a JSON header, then raw data."""
    size = os.path.getsize(path)
    with open(path, "rb") as file:
        head = file.read(8)
        if len(head) < 8:
            raise InputError(f"{path!r} is truncated: a .safetensors file starts with an 8-byte header length")
        (length,) = struct.unpack("<Q", head)
        if length > min(size - 8, 100 << 20):
            raise InputError(f"{path!r} is not a .safetensors file (header length {length:,} for a file of {size:,} bytes)")
        try:
            header = json.loads(file.read(length))
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise InputError(f"{path!r} is not a .safetensors file (its header is not JSON: {error})") from None
    if not isinstance(header, dict):
        raise InputError(f"{path!r} is not a .safetensors file (its header is not a JSON object)")
    locations = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        try:
            dtype = _SAFETENSORS_DTYPES[entry["dtype"]]
            begin, end = (int(v) for v in entry["data_offsets"])
            shape = tuple(int(v) for v in entry["shape"])
        except (KeyError, TypeError, ValueError):
            raise InputError(f"{path!r}: tensor {name!r} has an unsupported or malformed entry ({entry!r})") from None
        itemsize = 2 if dtype == "bf16" else np.dtype(dtype).itemsize
        if end - begin != itemsize * int(np.prod(shape)) or 8 + length + end > size:
            raise InputError(f"{path!r}: tensor {name!r} is truncated or inconsistent "
                             f"(shape {shape}, {entry['dtype']}, bytes {begin}..{end}, file {size:,} bytes)")
        locations[name] = _ArrayLocation(path, 8 + length + begin, dtype, shape)
    return locations


def _read_whole(location: _ArrayLocation) -> np.ndarray:
    """A small array (the tokens) read completely."""
    count = int(np.prod(location.shape))
    if location.member is not None:
        with zipfile.ZipFile(location.path) as archive, archive.open(location.member) as member:
            _npy_header(member, location.member)
            data = np.frombuffer(member.read(), dtype=location.dtype, count=count)
    else:
        itemsize = np.dtype(location.dtype).itemsize
        with open(location.path, "rb") as file:
            file.seek(location.offset)
            data = np.frombuffer(file.read(itemsize * count), dtype=location.dtype)
        if len(data) != count:
            raise InputError(f"{location.path!r} is truncated (an array of {count:,} values ends early)")
    return data.reshape(location.shape)


def _bf16_to_float32(raw: np.ndarray) -> np.ndarray:
    return (raw.astype(np.uint32) << 16).view(np.float32)


class ArraySource(PositionSource):
    """Rows of logits or log-probabilities [positions × vocab] in a .npy/.npz/.safetensors file, with tokens."""

    def __init__(self, path: str | os.PathLike[str], tokens: np.ndarray | str | None = None,
                 rows_name: str | None = None) -> None:
        self.path = os.fspath(path)
        self.label = os.path.basename(self.path)
        try:
            locations = self._locations()
        except OSError as error:
            if isinstance(error, InputError):
                raise
            raise InputError(f"cannot read {self.path!r}: {error.strerror or error}") from None
        names = [rows_name] if rows_name else [n for n in ROW_NAMES if n in locations]
        if not names or names[0] not in locations:
            wanted = rows_name or " or ".join(ROW_NAMES)
            raise InputError(f"{self.path!r} has no array named {wanted} (it has {', '.join(sorted(locations)) or 'none'})")
        self.rows_name = names[0]
        self.location = locations[self.rows_name]
        if len(self.location.shape) != 2 or self.location.shape[0] < 1 or self.location.shape[1] < 2:
            raise InputError(f"{self.path!r}: {self.rows_name} must be a 2-D array [positions × vocab] "
                             f"with vocab >= 2 (got shape {self.location.shape})")
        if self.location.dtype not in ("<f8", "<f4", "<f2", "bf16"):
            raise InputError(f"{self.path!r}: {self.rows_name} must hold floats (got {self.location.dtype})")
        positions, self.vocab_size = self.location.shape
        itemsize = 2 if self.location.dtype == "bf16" else np.dtype(self.location.dtype).itemsize
        self.input_bytes = positions * self.vocab_size * itemsize
        self.token_stream = self._tokens(tokens, locations)
        if len(self.token_stream) == positions:
            self.targets, self.offset = self.token_stream, 0
        elif len(self.token_stream) == positions + 1:
            self.targets, self.offset = self.token_stream[1:], 1
        else:
            raise InputError(f"{self.path!r}: {positions:,} rows need {positions:,} target tokens or a stream of "
                             f"{positions + 1:,} (got {len(self.token_stream):,} tokens)")
        if len(self.targets) and (self.targets.min() < 0 or self.targets.max() >= self.vocab_size):
            raise InputError(f"{self.path!r}: token ids must be in [0, {self.vocab_size}) "
                             f"(got {int(self.targets.min())}..{int(self.targets.max())})")

    def _locations(self) -> dict[str, _ArrayLocation]:
        with open(self.path, "rb") as file:
            magic = file.read(9)
        if magic.startswith(_NPY_MAGIC):
            return {"logits": _npy_location(self.path)}
        if magic.startswith(b"PK"):
            return _npz_locations(self.path)
        if self.path.endswith(".safetensors") or magic[8:9] == b"{":
            return _safetensors_locations(self.path)
        if magic.startswith(b"GGUF"):
            raise InputError(f"{self.path!r} is a GGUF model, not its outputs: run llama-perplexity "
                             f"--kl-divergence-base FILE with it and give FILE")
        magic = magic[:8]
        raise InputError(f"{self.path!r} is neither .npy, .npz, .safetensors nor a llama.cpp KL base file "
                         f"(it starts with {magic!r})")

    def _tokens(self, tokens: np.ndarray | str | None, locations: dict[str, _ArrayLocation]) -> np.ndarray:
        if tokens is None:
            found = [n for n in TOKEN_NAMES if n in locations]
            if found:
                data = _read_whole(locations[found[0]])
            else:
                stem = self.path[: -len(".npy")] if self.path.endswith(".npy") else self.path
                beside = stem + ".tokens.npy"
                if not os.path.exists(beside):
                    raise InputError(f"{self.path!r} has no token ids: store an array named tokens beside the "
                                     f"rows, or put them in {os.path.basename(beside)!r}")
                data = np.load(beside)
        elif isinstance(tokens, str):
            data = np.load(tokens)
        else:
            data = np.asarray(tokens)
        if data.ndim != 1 or not np.issubdtype(data.dtype, np.integer):
            raise InputError(f"{self.path!r}: token ids must be a 1-D integer array (got {data.dtype} of shape {data.shape})")
        return data.astype(np.int64)

    def blocks(self, rows: int) -> Iterator[tuple[int, np.ndarray]]:
        loc = self.location
        positions, vocab = loc.shape
        rows = max(1, min(rows, positions))
        raw_dtype = "<u2" if loc.dtype == "bf16" else loc.dtype
        buffers = (np.empty((rows, vocab), dtype=raw_dtype), np.empty((rows, vocab), dtype=raw_dtype))
        try:
            with self._open() as file:
                start = 0
                while start < positions:
                    k = min(rows, positions - start)
                    view = buffers[(start // rows) % 2][:k]
                    got = _read_into(file, memoryview(view).cast("B"))
                    if got != view.nbytes:
                        raise InputError(f"{self.path!r} is truncated at row {start + got // (view.itemsize * vocab)} "
                                         f"of {positions:,}")
                    block = _bf16_to_float32(view) if loc.dtype == "bf16" else (
                        view.astype(np.float32) if loc.dtype == "<f2" else view)
                    _check_finite(block, start, self.label)
                    yield start, block
                    start += k
        except OSError as error:
            if isinstance(error, InputError):
                raise
            raise InputError(f"cannot read {self.path!r}: {error.strerror or error}") from None

    def _open(self):
        loc = self.location
        if loc.member is None:
            file = open(loc.path, "rb", buffering=0)
            file.seek(loc.offset)
            return file
        archive = zipfile.ZipFile(loc.path)
        member = archive.open(loc.member)
        _npy_header(member, loc.member)
        return _Closing(member, archive)

    def context(self, position: int, width: int) -> np.ndarray:
        index = position + self.offset
        return self.token_stream[max(0, index - width):index]

    def stream(self) -> np.ndarray | None:
        return self.token_stream

    def describe(self) -> str:
        return f"{self.label} ({self.rows_name} {self.location.shape[0]:,} × {self.vocab_size:,}, {self.location.dtype})"


class _Closing:
    """A zip member that closes its archive too."""

    def __init__(self, member, archive) -> None:
        self.member, self.archive = member, archive

    def readinto(self, view) -> int:
        return self.member.readinto(view)

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.member.close()
        self.archive.close()


def _read_into(file, view: memoryview) -> int:
    """Fill ``view`` from ``file`` (several reads when a stream returns less); the bytes read."""
    done = 0
    while done < len(view):
        got = file.readinto(view[done:])
        if not got:
            break
        done += got
    return done


# ----------------------------------------------------------------------------- in-memory rows
class MemorySource(PositionSource):
    """Rows held in memory (a test's or a library caller's array), with the tokens they predict."""

    def __init__(self, logits: np.ndarray, tokens: np.ndarray, label: str = "array",
                 spellings: Sequence[bytes] | None = None) -> None:
        logits = np.asarray(logits)
        if logits.ndim != 2 or not np.issubdtype(logits.dtype, np.floating):
            raise DataError(f"{label}: logits must be a 2-D float array [positions × vocab] (got {logits.dtype} {logits.shape})")
        tokens = np.asarray(tokens, dtype=np.int64)
        if len(tokens) not in (len(logits), len(logits) + 1):
            raise DataError(f"{label}: {len(logits)} rows need {len(logits)} targets or a stream of {len(logits) + 1} "
                            f"tokens (got {len(tokens)})")
        self.logits, self.token_stream, self.label, self.spellings = logits, tokens, label, spellings
        self.offset = len(tokens) - len(logits)
        self.targets = tokens[self.offset:]
        self.vocab_size = logits.shape[1]
        self.input_bytes = logits.nbytes
        if len(self.targets) and (self.targets.min() < 0 or self.targets.max() >= self.vocab_size):
            raise DataError(f"{label}: token ids must be in [0, {self.vocab_size})")

    def blocks(self, rows: int) -> Iterator[tuple[int, np.ndarray]]:
        for start in range(0, len(self.logits), max(1, rows)):
            block = self.logits[start:start + rows]
            _check_finite(block, start, self.label)
            yield start, block

    def context(self, position: int, width: int) -> np.ndarray:
        index = position + self.offset
        return self.token_stream[max(0, index - width):index]

    def stream(self) -> np.ndarray | None:
        return self.token_stream


# ----------------------------------------------------------------------------- re-quantized rows
class QuantizedSource(PositionSource):
    """A source whose rows are stored as llama.cpp stores them, with ``bits`` instead of 16 bits per value.

    Each row's log-probabilities are quantized to ``2^bits − 1`` equal steps between the floor
    ``max − 16`` nats and the top logit (everything below the floor to the floor), then read back:
    ``bits = 16`` is exactly llama.cpp's storage; the rows are renormalized downstream.
    """

    def __init__(self, inner: PositionSource, bits: int) -> None:
        if not 1 <= bits <= 16:
            raise DataError(f"quantization bits must be in 1..16 (got {bits})")
        self.inner, self.bits = inner, bits
        self.label = f"{inner.label} quantized to {bits} bits"
        self.vocab_size, self.targets = inner.vocab_size, inner.targets
        self.input_bytes, self.spellings = inner.input_bytes, inner.spellings

    def blocks(self, rows: int) -> Iterator[tuple[int, np.ndarray]]:
        for start, block in self.inner.blocks(rows):
            stored = llama_format.quantize_log_probs(block, bits=self.bits)
            yield start, llama_format.dequantize(stored.scale, stored.min_log_prob, stored.codes)

    def context(self, position: int, width: int) -> np.ndarray:
        return self.inner.context(position, width)

    def stream(self) -> np.ndarray | None:
        return self.inner.stream()

    def describe(self) -> str:
        return f"{self.inner.describe()}, log-probabilities quantized to {self.bits} bits (llama.cpp's scheme)"


# ----------------------------------------------------------------------------- klcode's context models
class ContextModelSource(PositionSource):
    """klcode's PPM model over a byte text: row i is q(· | x_<i), the prediction of x_i, after training on corpora.

    Every position is scored, the first one too (its context is empty).  ``learn=False`` (default) freezes
    the model after training: the rows are those of a fixed model, as a language model's are.
    """

    def __init__(self, spec_text: str, text_ids: np.ndarray, *, train: Sequence[np.ndarray] = (),
                 train_label: str = "", text_label: str = "text", learn: bool = False) -> None:
        from . import ppm  # noqa: F401  (registers the ppm kind)
        from .context import ContextModelSpec

        self.spec = ContextModelSpec.parse(spec_text)
        if self.spec.kind != "ppm":
            raise DataError(f"only ppm models give next-token distributions (got {spec_text!r})")
        self.ids = np.asarray(text_ids, dtype=np.int64)
        if len(self.ids) < 1:
            raise DataError(f"{text_label}: the text is empty")
        self.train, self.learn = tuple(train), learn
        self.vocab_size = 256
        self.targets = self.ids
        self.input_bytes = len(self.ids)
        self.spellings = [bytes([b]) for b in range(256)]
        trained = f" trained on {train_label}" if train_label else " (untrained)"
        frozen = "" if learn else ", frozen"
        self.label = f"{self.spec.describe()}{trained}{frozen}"

    def blocks(self, rows: int) -> Iterator[tuple[int, np.ndarray]]:
        from .ppm import next_token_distributions

        start = 0
        for block in next_token_distributions(self.spec, self.ids, alphabet_size=256, train=self.train,
                                              learn=self.learn, chunk=max(1, rows)):
            with np.errstate(divide="ignore"):
                logits = np.log(block)
            if not np.isfinite(logits).all():
                raise DataError(f"{self.label}: the model gave probability 0 to a token (rows from {start})")
            yield start, logits
            start += len(logits)

    def context(self, position: int, width: int) -> np.ndarray:
        return self.ids[max(0, position - width):position]

    def stream(self) -> np.ndarray | None:
        return self.ids


def open_file_source(path: str, tokens: str | None = None) -> PositionSource:
    """The source stored in ``path``: a llama.cpp KL base file (by its magic) or an array file."""
    try:
        with open(path, "rb") as file:
            magic = file.read(8)
    except OSError as error:
        raise InputError(f"cannot read {path!r}: {error.strerror or error}") from None
    if magic == llama_format.MAGIC:
        return LlamaKLSource(path)
    return ArraySource(path, tokens=tokens)
