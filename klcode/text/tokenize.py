"""Tokenizers: a corpus streamed to tokens, and tokens to integer ids of a vocabulary.

What a token is, is a :class:`TokenizerSpec`:

* ``bytes``: one token per byte of the (decompressed) file; symbols are ``bytes``.
* ``chars``: one token per Unicode code point of the text decoded with ``encoding``.
* ``words``: the matches of ``\\w+`` (Python ``re``, Unicode word characters).
* ``regex``: the matches (group 0) of a user regular expression; empty matches are skipped.
* ``lower``: text kinds only; the text is lower-cased with ``str.lower`` before it is
  tokenized (so ``words`` are the ``\\w+`` matches of the lower-cased text).
* ``ngram`` K: overlapping K-grams of consecutive units: K bytes (a K-byte ``bytes``),
  K characters (a K-character ``str``), or K words / regex matches joined by one space.
  No token runs across files: words, matches and n-grams restart at each file of a corpus.

Symbols are ``bytes`` for byte tokens and ``str`` for every other kind.

Reading is streamed (:func:`iter_tokens`, :func:`tally_tokens`): memory is bounded
by the chunk size plus the vocabulary, and a token split across a chunk border
comes out once, whole:

* characters: the incremental decoder keeps an incomplete multi-byte sequence;
* words: a chunk's text is cut just after its last non-word character and the
  rest is carried into the next chunk, which is exact for ``\\w+`` (a run of more
  than ``MAX_TOKEN_CHARS`` word characters is cut there);
* regex: matches ending at least ``REGEX_TAIL_CHARS`` (65,536) characters before
  the end of the text read so far are final; the text from the end of the last
  final match on is carried, with ``REGEX_CONTEXT_CHARS`` (256) characters before
  it kept as look-behind context.  This is exact for any regex whose matches,
  with their look-ahead, span fewer than 65,536 characters and whose look-behind
  reaches back at most 256 characters; a match longer than ``MAX_TOKEN_CHARS``
  raises :class:`DataError`;
* lower-casing: a chunk's text is lower-cased up to its last whitespace
  character, where casing has no context (Greek final sigma);
* n-grams: the last K−1 units of a chunk are carried into the next.

>>> spec = TokenizerSpec("words", lower=True)
>>> spec.describe()
'words, lower-cased, utf-8'

"""

from __future__ import annotations

import codecs
import functools
import re
import sys
from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from os import PathLike
from typing import Any, Literal

import numpy as np

from ..errors import DataError, InputError
from .corpus import (
    CHUNK_BYTES,
    DECODE_ERRORS,
    Source,
    TextDecoder,
    check_encoding,
    iter_chunks,
    iter_text,
)
from .counting import COMPILED_MIN_TOKENS, bincount_chunked

TokenKind = Literal["bytes", "chars", "words", "regex"]
#: Every token kind, and the kinds that read decoded text.
TOKEN_KINDS: tuple[str, ...] = ("bytes", "chars", "words", "regex")
TEXT_KINDS: tuple[str, ...] = ("chars", "words", "regex")
#: The largest n of n-grams.
MAX_NGRAM = 16
#: The regular expression of ``words``.
WORD_PATTERN = re.compile(r"\w+")
#: Regex matches this close to the end of the text read so far wait for more text.
REGEX_TAIL_CHARS = 1 << 16
#: Characters kept before the resume point of a regex scan, for look-behind.
REGEX_CONTEXT_CHARS = 256
#: The longest word (a run of word characters) kept whole, and the longest regex match allowed.
MAX_TOKEN_CHARS = 1 << 20
#: Number of distinct Unicode code points (the size of a code point count array).
CODE_POINTS = 0x110000

_LAST_NONWORD = re.compile(r".*\W", re.DOTALL)
_LAST_SPACE = re.compile(r".*\s", re.DOTALL)
_SPEC_KEYS = ("kind", "encoding", "errors", "lower", "ngram", "regex")


# ------------------------------------------------------------------ the tokenizer
@dataclass(frozen=True, eq=False)
class TokenizerSpec:
    """What a token is: kind, decoding, lower-casing, n-gram length and regex, validated once.

    Two specs are equal when they tokenize alike: encodings compare by codec
    (``latin-1`` equals ``iso-8859-1``), and byte tokens ignore the decoding.

    >>> TokenizerSpec("chars", encoding="latin-1") == TokenizerSpec("chars", encoding="ISO-8859-1")
    True
    >>> TokenizerSpec("regex", regex="(")
    Traceback (most recent call last):
    ...
    klcode.errors.DataError: invalid --regex '(': missing ), unterminated subpattern at position 0
    """

    kind: str = "bytes"
    encoding: str = "utf-8"
    errors: str = "strict"
    lower: bool = False
    ngram: int = 1
    regex: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in TOKEN_KINDS:
            raise DataError(f"unknown token kind {self.kind!r} (choose from {', '.join(TOKEN_KINDS)})")
        if isinstance(self.ngram, bool) or not isinstance(self.ngram, (int, np.integer)):
            raise DataError(f"n-gram length must be an integer (got {self.ngram!r})")
        if not 1 <= self.ngram <= MAX_NGRAM:
            raise DataError(f"n-gram length must be between 1 and {MAX_NGRAM} (got {self.ngram})")
        object.__setattr__(self, "ngram", int(self.ngram))
        if not isinstance(self.lower, bool):
            raise DataError(f"lower must be true or false (got {self.lower!r})")
        if self.lower and self.kind == "bytes":
            raise DataError("--lower applies to text tokens (chars, words, regex), not to bytes")
        if not isinstance(self.encoding, str):
            raise DataError(f"encoding must be a name (got {self.encoding!r})")
        try:
            check_encoding(self.encoding)
        except InputError as error:
            raise DataError(str(error)) from None
        if self.errors not in DECODE_ERRORS:
            raise DataError(f"--errors must be one of {', '.join(DECODE_ERRORS)} (got {self.errors!r})")
        if self.kind == "regex":
            if not isinstance(self.regex, str) or not self.regex:
                raise DataError(f"regex tokens need a --regex (got {self.regex!r})")
            _compiled(self.regex)
        elif self.regex is not None:
            raise DataError(f"--regex applies to regex tokens only (got it with {self.kind} tokens)")

    # -- identity
    def _key(self) -> tuple:
        text = self.kind in TEXT_KINDS
        codec = codecs.lookup(self.encoding).name if text else None
        return (self.kind, codec, self.errors if text else None, self.lower, self.ngram, self.regex)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, TokenizerSpec):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    # -- properties
    @property
    def is_text(self) -> bool:
        """Whether tokens come from decoded text (chars, words, regex)."""
        return self.kind in TEXT_KINDS

    @property
    def symbol_type(self) -> type:
        """``bytes`` for byte tokens, ``str`` for the others."""
        return bytes if self.kind == "bytes" else str

    @property
    def pattern(self) -> re.Pattern | None:
        """The compiled regex of ``words`` or ``regex`` tokens (None for bytes and chars)."""
        if self.kind == "words":
            return WORD_PATTERN
        if self.kind == "regex":
            return _compiled(self.regex)
        return None

    def describe(self) -> str:
        """A short human description.

        >>> TokenizerSpec("words", lower=True, ngram=2).describe()
        'words, lower-cased, 2-grams, utf-8'
        >>> TokenizerSpec("bytes").describe(), TokenizerSpec("regex", regex=r"\\d+", errors="replace").describe()
        ('bytes', 'regex /\\\\d+/, utf-8, undecodable bytes replaced')
        """
        parts = [f"regex /{self.regex}/" if self.kind == "regex" else self.kind]
        if self.lower:
            parts.append("lower-cased")
        if self.ngram > 1:
            parts.append(f"{self.ngram}-grams")
        if self.is_text:
            parts.append(self.encoding)
            if self.errors == "replace":
                parts.append("undecodable bytes replaced")
        return ", ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        """The fields as a JSON-ready mapping (see :meth:`from_dict`)."""
        return {key: getattr(self, key) for key in _SPEC_KEYS}

    @classmethod
    def from_dict(cls, document: object) -> TokenizerSpec:
        """The spec of a mapping made by :meth:`to_dict` (missing fields take their defaults).

        >>> TokenizerSpec.from_dict({"kind": "chars", "ngram": 3}).describe()
        'chars, 3-grams, utf-8'
        """
        if not isinstance(document, Mapping):
            raise DataError(f"a tokenizer must be a mapping of {', '.join(_SPEC_KEYS)} (got {document!r})")
        unknown = sorted(set(document) - set(_SPEC_KEYS))
        if unknown:
            raise DataError(f"unknown tokenizer field {unknown[0]!r} (expected {', '.join(_SPEC_KEYS)})")
        if "kind" not in document:
            raise DataError("a tokenizer needs a kind (got none)")
        return cls(**dict(document))


@functools.lru_cache(maxsize=64)
def _compiled(regex: str) -> re.Pattern:
    try:
        return re.compile(regex)
    except re.error as error:
        raise DataError(f"invalid --regex {regex!r}: {error}") from None


# ------------------------------------------------------------------ streaming tokens
def iter_tokens(
    sources: Iterable[Source | str | PathLike],
    spec: TokenizerSpec,
    chunk_bytes: int = CHUNK_BYTES,
    progress: Callable[[int], None] | None = None,
) -> Iterator[np.ndarray | list]:
    """The tokens of ``sources`` in stream order, chunk by chunk (empty chunks are skipped).

    Byte tokens come as uint8 arrays of byte values, character tokens as uint32
    arrays of code points; every other tokenizer yields lists of symbols
    (``str``, or ``bytes`` for byte n-grams).  ``progress(n)`` is called with the
    bytes read after each chunk.

    >>> import tempfile, os
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = os.path.join(folder, "t.txt")
    ...     _ = open(path, "w").write("Tu es, tu dis.")
    ...     [token for chunk in iter_tokens([path], TokenizerSpec("words", lower=True, ngram=2)) for token in chunk]
    ['tu es', 'es tu', 'tu dis']
    """
    for source in sources:
        source = _as_source(source)
        for chunk in _source_tokens(source, spec, chunk_bytes, progress):
            if len(chunk):
                yield chunk


def _source_tokens(source: Source, spec: TokenizerSpec, chunk_bytes: int, progress) -> Iterator:
    k = spec.ngram
    if spec.kind == "bytes":
        chunks = _chunks_of(source, chunk_bytes, progress)
        if k == 1:
            return (np.frombuffer(chunk, dtype=np.uint8) for chunk in chunks)
        return _sequence_ngrams(chunks, k)
    if spec.kind == "chars":
        if k == 1:
            return _char_code_points(source, spec, chunk_bytes, progress)
        return _sequence_ngrams(_source_texts(source, spec, chunk_bytes, progress), k)
    lists = _match_lists(source, spec, chunk_bytes, progress)
    return lists if k == 1 else _token_ngrams(lists, k)


def _source_texts(source: Source, spec: TokenizerSpec, chunk_bytes: int, progress) -> Iterator[str]:
    texts = _texts_of(source, spec.encoding, spec.errors, chunk_bytes, progress)
    return _lowered(texts) if spec.lower else texts


def _as_source(source) -> Source:
    """A :class:`Source` for a path, or the object itself when it reads its own chunks (a part of a file)."""
    return source if hasattr(source, "read_chunks") else Source.of(source)


def _chunks_of(source, chunk_bytes: int, progress) -> Iterator[bytes]:
    """The bytes of a source chunk by chunk: a whole file (:func:`iter_chunks`), or a part of one that reads itself.

    A part (e.g. :class:`klcode.text.distributed.ByteRange`) has ``label``,
    ``start`` (its byte offset in the file, for messages) and
    ``read_chunks(chunk_bytes, progress)``; it is tokenized by exactly the code
    that tokenizes a whole file.
    """
    reader = getattr(source, "read_chunks", None)
    return iter_chunks(source, chunk_bytes, progress) if reader is None else reader(chunk_bytes, progress)


def _decoder_of(source, encoding: str, errors: str) -> TextDecoder:
    """An incremental decoder for the source whose error messages count bytes from the start of the file."""
    decoder = TextDecoder(encoding, errors, source.label)
    decoder.skip(getattr(source, "start", 0))
    return decoder


def _texts_of(source, encoding: str, errors: str, chunk_bytes: int, progress) -> Iterator[str]:
    """The decoded text of a source piece by piece (as :func:`iter_text`; also for a part of a file)."""
    if not hasattr(source, "read_chunks"):
        yield from iter_text(source, encoding, errors, chunk_bytes, progress)
        return
    decoder = _decoder_of(source, encoding, errors)
    for chunk in _chunks_of(source, chunk_bytes, progress):
        yield decoder.decode(chunk)
    yield decoder.decode(b"", final=True)


def _match_lists(source: Source, spec: TokenizerSpec, chunk_bytes: int, progress) -> Iterator[list[str]]:
    texts = _source_texts(source, spec, chunk_bytes, progress)
    if spec.kind == "words":
        return (WORD_PATTERN.findall(segment) for segment in _word_segments(texts))
    return _regex_matches(texts, _compiled(spec.regex), source.label)


def _lowered(texts: Iterable[str]) -> Iterator[str]:
    """The texts lower-cased, each cut after its last whitespace (where casing has no context)."""
    carry = ""
    for text in texts:
        joined = carry + text
        match = _LAST_SPACE.match(joined)
        if match is None and len(joined) <= MAX_TOKEN_CHARS:
            carry = joined
            continue
        cut = len(joined) if match is None else match.end()
        yield joined[:cut].lower()
        carry = joined[cut:]
    if carry:
        yield carry.lower()


def _word_segments(texts: Iterable[str]) -> Iterator[str]:
    """The texts re-cut so that each piece ends just after a non-word character (or at the end)."""
    carry = ""
    for text in texts:
        joined = carry + text
        match = _LAST_NONWORD.match(joined)
        if match is None and len(joined) <= MAX_TOKEN_CHARS:
            carry = joined
            continue
        cut = len(joined) if match is None else match.end()
        yield joined[:cut]
        carry = joined[cut:]
    if carry:
        yield carry


def _regex_matches(texts: Iterable[str], pattern: re.Pattern, label: str) -> Iterator[list[str]]:
    """Non-empty matches (group 0) of ``pattern`` over the concatenated texts, chunk by chunk."""
    carry, start = "", 0  # carry[:start] is look-behind context; scanning resumes at start
    for text in texts:
        if not text:
            continue
        joined = carry + text
        cut = len(joined) - REGEX_TAIL_CHARS
        if cut <= start:
            carry = joined
            continue
        tokens: list[str] = []
        resume = cut
        for match in pattern.finditer(joined, start):
            end = match.end()
            if end > cut:
                resume = min(match.start(), cut)
                break
            if end > match.start():
                tokens.append(match.group())
        if len(joined) - resume > MAX_TOKEN_CHARS:
            raise DataError(
                f"--regex {pattern.pattern!r} matches more than {MAX_TOKEN_CHARS} characters at once "
                f"in {label!r}; tokens that long are not supported"
            )
        context = min(resume, REGEX_CONTEXT_CHARS)
        carry, start = joined[resume - context :], context
        yield tokens
    yield [match.group() for match in pattern.finditer(carry, start) if match.end() > match.start()]


def _sequence_ngrams(pieces: Iterable[str] | Iterable[bytes], k: int) -> Iterator[list]:
    """Overlapping ``k``-unit slices of the concatenated pieces (str or bytes), chunk by chunk."""
    carry = None
    for piece in pieces:
        sequence = carry + piece if carry else piece
        n = len(sequence) - k + 1
        if n > 0:
            yield [sequence[i : i + k] for i in range(n)]
            carry = sequence[n:]
        else:
            carry = sequence


def _token_ngrams(lists: Iterable[list[str]], k: int) -> Iterator[list[str]]:
    """Overlapping ``k``-token n-grams, joined by one space, of the concatenated token lists."""
    carry: list[str] = []
    for tokens in lists:
        sequence = carry + tokens if carry else tokens
        n = len(sequence) - k + 1
        if n > 0:
            yield list(map(" ".join, zip(*(sequence[i : i + n] for i in range(k)))))
            carry = sequence[n:]
        else:
            carry = sequence


# ------------------------------------------------------------------ characters, fast
@dataclass(frozen=True, eq=False)
class _ByteMap:
    """Code point of each byte for chunks an encoding decodes byte by byte, without context.

    ``ascii_only``: only pure-ASCII chunks qualify (UTF-8); otherwise a chunk
    qualifies when it holds none of the ``undefined`` bytes (charmap codecs).
    """

    table: np.ndarray  # int64[256], -1 where the byte is not decoded on its own
    ascii_only: bool
    undefined: re.Pattern | None

    def covers(self, chunk: bytes) -> bool:
        if self.ascii_only:
            return chunk.isascii()
        return self.undefined is None or self.undefined.search(chunk) is None


@functools.lru_cache(maxsize=32)
def _byte_map(encoding: str, errors: str) -> _ByteMap | None:
    """The byte map of ``encoding``, or None when its chunks must always go through the decoder."""
    info = codecs.lookup(encoding)
    table = np.full(256, -1, dtype=np.int64)
    if info.name == "utf-8":
        table[:128] = np.arange(128)
        return _ByteMap(table, True, None)
    if info.name == "iso8859-1":
        return _ByteMap(np.arange(256, dtype=np.int64), False, None)
    if info.name == "ascii":
        characters = "".join(map(chr, range(128))) + "\ufffe" * 128
    else:
        module = sys.modules.get(getattr(info.incrementaldecoder, "__module__", ""))
        characters = getattr(module, "decoding_table", None)
        if not isinstance(characters, str) or len(characters) != 256:
            return None
    undefined = [b for b, character in enumerate(characters) if character == "\ufffe"]
    for b, character in enumerate(characters):
        table[b] = 0xFFFD if character == "\ufffe" else ord(character)
    if errors == "strict" and undefined:
        table[undefined] = -1
    else:
        undefined = []
    defined = bytes(b for b in range(256) if table[b] >= 0)
    try:  # the table must agree with the codec itself
        if defined.decode(encoding, errors) != "".join(chr(table[b]) for b in defined):
            return None  # pragma: no cover - a charmap codec with a table it does not use
    except UnicodeDecodeError:  # pragma: no cover
        return None
    pattern = re.compile(b"[" + b"".join(re.escape(bytes([b])) for b in undefined) + b"]") if undefined else None
    return _ByteMap(table, False, pattern)


def _code_points(text: str, narrow: bool = False) -> np.ndarray:
    """The code points of ``text``: uint32, or uint8 when ``narrow`` and all are below 256."""
    try:
        codes = np.frombuffer(text.encode("latin-1"), dtype=np.uint8)
        return codes if narrow else codes.astype(np.uint32)
    except UnicodeEncodeError:
        return np.frombuffer(text.encode("utf-32-le"), dtype="<u4").astype(np.uint32, copy=False)


def _char_chunks(source: Source, spec: TokenizerSpec, chunk_bytes: int, progress) -> Iterator[tuple[np.ndarray, bool]]:
    """Character tokens of one file as (array, raw): raw uint8 bytes to map with the byte map, or code points.

    A chunk the encoding decodes byte by byte (an ASCII chunk of UTF-8, any chunk
    of Latin-1, a chunk of cp437 ...) is not decoded at all: its bytes are mapped.
    """
    if spec.lower:
        for text in _source_texts(source, spec, chunk_bytes, progress):
            yield _code_points(text, narrow=True), False
        return
    byte_map = _byte_map(spec.encoding, spec.errors)
    decoder = _decoder_of(source, spec.encoding, spec.errors)
    for chunk in _chunks_of(source, chunk_bytes, progress):
        if byte_map is not None and decoder.pending_bytes == 0 and byte_map.covers(chunk):
            decoder.skip(len(chunk))
            yield np.frombuffer(chunk, dtype=np.uint8), True
        else:
            yield _code_points(decoder.decode(chunk), narrow=True), False
    yield _code_points(decoder.decode(b"", final=True), narrow=True), False


def _char_code_points(source: Source, spec: TokenizerSpec, chunk_bytes: int, progress) -> Iterator[np.ndarray]:
    byte_map = None if spec.lower else _byte_map(spec.encoding, spec.errors)
    for codes, raw in _char_chunks(source, spec, chunk_bytes, progress):
        if raw:
            yield byte_map.table[codes].astype(np.uint32)
        else:
            yield codes.astype(np.uint32, copy=False)


# ------------------------------------------------------------------ counting
def tally_tokens(
    sources: Iterable[Source | str | PathLike],
    spec: TokenizerSpec,
    chunk_bytes: int = CHUNK_BYTES,
    progress: Callable[[int], None] | None = None,
) -> tuple[tuple, np.ndarray]:
    """The distinct tokens of ``sources`` in sorted order, and how often each occurs (int64, all > 0).

    Streams the sources; memory is bounded by the chunk size plus the
    vocabulary.  Bytes are counted with ``np.bincount`` (over byte pairs, see
    :class:`_ByteTally`); a chunk of characters that needs no decoding (ASCII
    in UTF-8, any chunk of a one-byte encoding) is counted as bytes, others by
    code point; words are split in C (:func:`_tally_words`); byte n-grams up to
    8 bytes and character n-grams up to 3 characters are packed into integer
    keys (:func:`_tally_packed_ngrams`); other tokenizers count the lists
    :func:`iter_tokens` yields with ``collections.Counter``.
    :func:`klcode.text.counts.count_tokens` wraps the result in a ``Counts`` record.
    """
    sources = [_as_source(source) for source in sources]
    if spec.kind == "bytes" and spec.ngram == 1:
        tally = _ByteTally()
        for source in sources:
            for chunk in _chunks_of(source, chunk_bytes, progress):
                tally.add(chunk)
        totals = tally.totals()
        present = np.flatnonzero(totals)
        return tuple(bytes([int(b)]) for b in present), totals[present]
    if spec.kind == "chars" and spec.ngram == 1:
        return _tally_chars(sources, spec, chunk_bytes, progress)
    if spec.kind == "words" and spec.ngram == 1:
        counter = _tally_words(sources, spec, chunk_bytes, progress)
    elif spec.kind in ("bytes", "chars") and spec.ngram * _UNIT_BITS[spec.kind] <= 64:
        return _tally_packed_ngrams(sources, spec, chunk_bytes, progress)
    else:
        counter = Counter()
        for chunk in iter_tokens(sources, spec, chunk_bytes, progress):
            counter.update(chunk)
    symbols = tuple(sorted(counter))
    return symbols, np.fromiter(map(counter.__getitem__, symbols), dtype=np.int64, count=len(symbols))


class _ByteTally:
    """Byte counts of a stream of chunks: compiled for long chunks, else ``np.bincount`` over byte *pairs*.

    Counting 16-bit pairs halves the number of elements ``np.bincount`` converts
    and scans (about 1 GB/s against 0.65 GB/s for single bytes, measured); the
    count of byte b is then the row plus column sum b of the 256×256 pair table.
    """

    #: Pairs counted per np.bincount call (512 KiB of input, 2 MiB converted).
    PAIRS_PER_CALL = 1 << 18

    def __init__(self) -> None:
        self._pairs = np.zeros(1 << 16, dtype=np.int64)
        self._singles = np.zeros(256, dtype=np.int64)

    def add(self, chunk: bytes | np.ndarray) -> None:
        data = np.frombuffer(chunk, dtype=np.uint8) if not isinstance(chunk, np.ndarray) else chunk
        if data.size >= COMPILED_MIN_TOKENS:  # the compiled counter (about 3 GB/s), numba imported only here
            self._singles += bincount_chunked(data, 256)
            return
        even = data.size & ~1
        if data.size & 1:
            self._singles[data[-1]] += 1
        if even < 4096:
            np.add.at(self._singles, data[:even], 1)
            return
        pairs = data[:even].view(np.uint16)
        for start in range(0, pairs.size, self.PAIRS_PER_CALL):
            self._pairs += np.bincount(pairs[start : start + self.PAIRS_PER_CALL], minlength=1 << 16)

    def totals(self) -> np.ndarray:
        table = self._pairs.reshape(256, 256)
        return table.sum(axis=0) + table.sum(axis=1) + self._singles


def _tally_chars(sources, spec: TokenizerSpec, chunk_bytes: int, progress) -> tuple[tuple, np.ndarray]:
    raw = _ByteTally()
    totals = np.zeros(CODE_POINTS, dtype=np.int64)
    for source in sources:
        for codes, is_raw in _char_chunks(source, spec, chunk_bytes, progress):
            if is_raw:
                raw.add(codes)
            elif codes.dtype == np.uint8:
                totals[:256] += bincount_chunked(codes, 256)
            elif codes.size:
                counted = bincount_chunked(codes)
                totals[: counted.size] += counted
    raw_totals = raw.totals()
    if raw_totals.any():
        table = _byte_map(spec.encoding, spec.errors).table
        present = np.flatnonzero(raw_totals)
        np.add.at(totals, table[present], raw_totals[present])
    present = np.flatnonzero(totals)
    return tuple(map(chr, present.tolist())), totals[present]


#: Bits of one unit in a packed n-gram key: a byte, or a code point (< 2**21).
_UNIT_BITS = {"bytes": 8, "chars": 21}


def _tally_packed_ngrams(sources, spec: TokenizerSpec, chunk_bytes: int, progress) -> tuple[tuple, np.ndarray]:
    """Counts of byte or character n-grams, each packed into one uint64 key (K·bits ≤ 64).

    Keys are big-endian (first unit in the high bits), so their numeric order is
    the order of the n-grams as ``bytes`` or ``str``.  Byte bigrams are counted
    with ``np.bincount``, longer keys with ``np.unique`` per chunk, merged.
    """
    k, bits = spec.ngram, _UNIT_BITS[spec.kind]
    merged = _KeyTally(dense_size=1 << (k * bits) if k * bits <= 16 else None)
    for source in sources:
        if spec.kind == "bytes":
            units = (np.frombuffer(chunk, dtype=np.uint8) for chunk in _chunks_of(source, chunk_bytes, progress))
        else:
            units = _char_code_points(source, spec, chunk_bytes, progress)
        carry = np.zeros(0, dtype=np.uint64)
        for array in units:
            sequence = np.concatenate([carry, array.astype(np.uint64)]) if carry.size else array.astype(np.uint64)
            n = sequence.size - k + 1
            if n <= 0:
                carry = sequence
                continue
            keys = sequence[:n].copy()
            for j in range(1, k):
                keys <<= np.uint64(bits)
                keys |= sequence[j : j + n]
            merged.add(keys)
            carry = sequence[n:]
    keys, counts = merged.totals()
    mask = (1 << bits) - 1
    shifts = [bits * (k - 1 - j) for j in range(k)]
    if spec.kind == "bytes":
        symbols = tuple(key.to_bytes(k, "big") for key in keys.tolist())
    else:
        symbols = tuple("".join(chr((key >> shift) & mask) for shift in shifts) for key in keys.tolist())
    return symbols, counts


class _KeyTally:
    """Counts of uint64 keys: dense ``np.bincount`` for small key spaces, else ``np.unique`` merged in batches."""

    #: Distinct keys held unmerged before a merge.
    PENDING_KEYS = 1 << 22

    def __init__(self, dense_size: int | None) -> None:
        self._dense = None if dense_size is None else np.zeros(dense_size, dtype=np.int64)
        self._keys = np.zeros(0, dtype=np.uint64)
        self._counts = np.zeros(0, dtype=np.int64)
        self._pending: list[tuple[np.ndarray, np.ndarray]] = []
        self._pending_size = 0

    def add(self, keys: np.ndarray) -> None:
        if self._dense is not None:
            self._dense += np.bincount(keys.astype(np.intp), minlength=self._dense.size)
            return
        unique, counts = np.unique(keys, return_counts=True)
        self._pending.append((unique, counts))
        self._pending_size += unique.size
        if self._pending_size > self.PENDING_KEYS:
            self._merge()

    def _merge(self) -> None:
        keys = np.concatenate([self._keys] + [keys for keys, _ in self._pending])
        counts = np.concatenate([self._counts] + [counts for _, counts in self._pending])
        self._pending, self._pending_size = [], 0
        self._keys, inverse = np.unique(keys, return_inverse=True)
        self._counts = np.zeros(self._keys.size, dtype=np.int64)
        np.add.at(self._counts, inverse, counts)

    def totals(self) -> tuple[np.ndarray, np.ndarray]:
        """The distinct keys in increasing order, and their counts."""
        if self._dense is not None:
            present = np.flatnonzero(self._dense)
            return present.astype(np.uint64), self._dense[present]
        self._merge()
        return self._keys, self._counts


#: ASCII bytes that are not word characters, mapped to spaces (see :func:`_tally_words`).
_ASCII_NONWORD = bytes(b for b in range(128) if not WORD_PATTERN.match(chr(b)))
_NONWORD_TO_SPACE = bytes.maketrans(_ASCII_NONWORD, b" " * len(_ASCII_NONWORD))


def _tally_words(sources, spec: TokenizerSpec, chunk_bytes: int, progress) -> Counter:
    """Counts of ``\\w+`` matches, split in C rather than by the regex engine.

    Each segment of text is encoded as UTF-8, its ASCII non-word bytes turned
    into spaces and split (``bytes.translate`` then ``bytes.split``), and the
    pieces counted.  A piece is a run of ASCII word characters and non-ASCII
    characters: a pure-ASCII piece is a word; the few distinct pieces holding
    non-ASCII characters are split with ``\\w+`` once per distinct piece, at the
    end.  The result equals counting ``re.findall(r"\\w+", text)``, about twice
    as fast.
    """
    pieces: Counter = Counter()
    for source in sources:
        for segment in _word_segments(_source_texts(source, spec, chunk_bytes, progress)):
            pieces.update(segment.encode("utf-8", "surrogatepass").translate(_NONWORD_TO_SPACE).split())
    counter: Counter = Counter()
    for piece, count in pieces.items():
        if piece.isascii():
            counter[piece.decode("ascii")] += count
        else:
            for word in WORD_PATTERN.findall(piece.decode("utf-8", "surrogatepass")):
                counter[word] += count
    return counter


# ------------------------------------------------------------------ ids
def stream_token_ids(sources: Iterable[Source | str | PathLike], spec: TokenizerSpec,
                     index: Mapping[Hashable, int]) -> Iterator[np.ndarray]:
    """The ids of the tokens of ``sources`` in ``index``, chunk by chunk: ``token_ids(iter_tokens(sources, spec), index)``.

    Words (one per token) in ASCII text skip the per-token dictionary: each
    segment's words are found with numpy and hashed into a numpy-backed
    vocabulary (:class:`_HashedVocabulary`); other text takes the dictionary path.
    The ids are the same either way (tests compare them).
    """
    if spec.kind != "words" or spec.ngram != 1:
        yield from token_ids(iter_tokens(sources, spec), index)
        return
    vocabulary = _HashedVocabulary.of(index)
    dtype = np.uint8 if len(index) <= 256 else np.int64
    for source in sources:
        source = _as_source(source)
        for segment in _word_segments(_source_texts(source, spec, CHUNK_BYTES, None)):
            if vocabulary is not None and segment.isascii():
                ids = vocabulary.ids(np.frombuffer(segment.encode("ascii"), dtype=np.uint8))
            else:
                ids = next(token_ids([WORD_PATTERN.findall(segment)], index), np.zeros(0, dtype=dtype))
            if ids.size:
                yield ids.astype(dtype, copy=False)


#: ASCII word characters of ``\w`` (letters, digits, underscore), as a byte table.
_ASCII_WORD_BYTES = np.zeros(256, dtype=bool)
_ASCII_WORD_BYTES[[b for b in range(128) if WORD_PATTERN.match(chr(b))]] = True
#: Multiplier of the polynomial hash (odd, so invertible modulo 2^64) and the length mix.
_HASH_BASE = np.uint64(0x9E3779B97F4A7C15)
_HASH_LENGTH = np.uint64(0xC2B2AE3D27D4EB4F)


class _HashedVocabulary:
    """ASCII words → ids by a 64-bit hash h(w) = Σ b_i·P^i + |w|·Q (mod 2^64), sorted for ``np.searchsorted``.

    Hashes of all the words of a text are found at once from prefix sums:
    h = (S[end] − S[start])·P^(−start) + length·Q, with S[k] = Σ_{i<k} b_i·P^i.
    Built only when the vocabulary's ASCII words have distinct hashes.  A
    stream's words are in the vocabulary it was counted into, so a word's hash
    names it; a hash found nowhere raises :class:`DataError` as the dictionary does.
    """

    def __init__(self, hashes: np.ndarray, ids: np.ndarray, size: int) -> None:
        self.hashes, self.id_of, self.size = hashes, ids, size
        self._powers = np.ones(1, dtype=np.uint64)
        self._inverse_powers = np.ones(1, dtype=np.uint64)

    @classmethod
    def of(cls, index: Mapping[Hashable, int]) -> _HashedVocabulary | None:
        words = [w for w in index if type(w) is str and w.isascii()]
        if not words:
            return None
        vocabulary = cls(np.zeros(0, dtype=np.uint64), np.zeros(0, dtype=np.int64), len(index))
        hashes = vocabulary._hashes(np.frombuffer(" ".join(words).encode("ascii"), dtype=np.uint8))[0]
        if hashes.size != len(words):  # a key that is not one \w+ word: keep the dictionary
            return None
        order = np.argsort(hashes, kind="stable")
        hashes = hashes[order]
        if hashes.size > 1 and not (hashes[1:] != hashes[:-1]).all():
            return None  # a collision: keep the dictionary
        ids = np.fromiter(map(index.__getitem__, words), dtype=np.int64, count=len(words))[order]
        vocabulary.hashes, vocabulary.id_of = hashes, ids
        return vocabulary

    def _tables(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        """P^i and P^(−i) mod 2^64 for i < n (grown on demand)."""
        if self._powers.size < n:
            size = max(n, 2 * self._powers.size)
            inverse = _HASH_BASE  # Newton's iteration for P^(−1) mod 2^64: x ← x·(2 − P·x)
            with np.errstate(over="ignore"):
                for _ in range(6):
                    inverse = inverse * (np.uint64(2) - _HASH_BASE * inverse)
            factors = np.full(size, _HASH_BASE, dtype=np.uint64)
            factors[0] = 1
            self._powers = np.cumprod(factors, dtype=np.uint64)
            factors[1:] = inverse
            self._inverse_powers = np.cumprod(factors, dtype=np.uint64)
        return self._powers[:n], self._inverse_powers[:n]

    def _hashes(self, data: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Hashes of the \\w+ words of ASCII bytes, with their start and end offsets."""
        word = _ASCII_WORD_BYTES[data]
        edges = np.flatnonzero(np.diff(word.view(np.int8), prepend=0, append=0))
        starts, ends = edges[0::2], edges[1::2]
        powers, inverse_powers = self._tables(data.size)
        prefix = np.zeros(data.size + 1, dtype=np.uint64)
        np.cumsum(data.astype(np.uint64) * powers, out=prefix[1:])
        hashes = (prefix[ends] - prefix[starts]) * inverse_powers[starts]
        hashes += (ends - starts).astype(np.uint64) * _HASH_LENGTH
        return hashes, starts, ends

    def ids(self, data: np.ndarray) -> np.ndarray:
        """The ids of the words of ASCII bytes, in order."""
        hashes, starts, ends = self._hashes(data)
        position = np.searchsorted(self.hashes, hashes)
        position[position == self.hashes.size] = 0
        found = self.hashes[position] == hashes
        if not found.all():
            first = int(np.argmin(found))
            word = data[starts[first] : ends[first]].tobytes().decode("ascii")
            raise DataError(f"token {symbol_label(word)!r} is not in the vocabulary (of {self.size} symbols)")
        return self.id_of[position]


def token_ids(chunks: Iterable[np.ndarray | list], index: Mapping[Hashable, int]) -> Iterator[np.ndarray]:
    """The ids of the tokens of ``chunks`` (as :func:`iter_tokens` yields them) in the vocabulary ``index``.

    Ids are uint8 when the vocabulary has at most 256 symbols, else int64.  A
    token missing from ``index`` raises :class:`DataError`.

    >>> index = {"a": 0, "b": 1, "c": 2}
    >>> [ids.tolist() for ids in token_ids([np.array([97, 99], dtype=np.uint32), ["b"]], index)]
    [[0, 2], [1]]
    """
    dtype = np.uint8 if len(index) <= 256 else np.int64
    byte_table = code_table = None
    for chunk in chunks:
        if isinstance(chunk, np.ndarray):
            if chunk.dtype == np.uint8:
                if byte_table is None:
                    byte_table = _lookup_table(index, bytes, 256)
                table = byte_table
            else:
                if code_table is None:
                    code_table = _lookup_table(index, str, None)
                table = code_table
            if chunk.size and int(chunk.max()) >= table.size:
                _missing(chunk[chunk >= table.size][0], index, chunk.dtype)
            ids = table[chunk]
            if ids.size and int(ids.min()) < 0:
                _missing(chunk[ids < 0][0], index, chunk.dtype)
            yield ids.astype(dtype)
        else:
            try:
                ids = np.fromiter(map(index.__getitem__, chunk), dtype=np.int64, count=len(chunk))
            except KeyError as error:
                raise DataError(
                    f"token {symbol_label(error.args[0])!r} is not in the vocabulary (of {len(index)} symbols)"
                ) from None
            yield ids.astype(dtype, copy=False)


def _lookup_table(index: Mapping[Hashable, int], kind: type, size: int | None) -> np.ndarray:
    """Dense table raw code (byte value or code point) → id, -1 where the code is not in ``index``."""
    singles = {}
    for symbol, i in index.items():
        if isinstance(symbol, kind) and len(symbol) == 1:
            singles[symbol[0] if kind is bytes else ord(symbol)] = i
    if size is None:
        size = max(singles, default=-1) + 1
    table = np.full(size, -1, dtype=np.int64)
    if singles:
        table[np.fromiter(singles.keys(), dtype=np.int64)] = np.fromiter(singles.values(), dtype=np.int64)
    return table


def _missing(code, index: Mapping, dtype: np.dtype) -> None:
    symbol = bytes([int(code)]) if dtype == np.uint8 else chr(int(code))
    raise DataError(f"token {symbol_label(symbol)!r} is not in the vocabulary (of {len(index)} symbols)")


def symbol_label(symbol: object) -> str:
    """A printable label: printable characters as themselves, others escaped; a token of spaces quoted.

    Bytes are labelled byte by byte (bytes ≥ 0x80 as ``\\xNN``), strings
    character by character.

    >>> symbol_label(b"a"), symbol_label(b"\\n"), symbol_label(b"\\xe9"), symbol_label(" "), symbol_label(3)
    ('a', '\\\\n', '\\\\xe9', "' '", '3')
    >>> symbol_label(b"a\\xe9 "), symbol_label("the end"), symbol_label("é\\n")
    ('a\\\\xe9 ', 'the end', 'é\\\\n')
    """
    if isinstance(symbol, bytes):
        text = "".join(_byte_label(b) for b in symbol)
    else:
        text = "".join(c if c.isprintable() else _escaped(c) for c in str(symbol))
    if text and text.strip(" ") == "":
        return f"'{text}'"
    return text


def _byte_label(byte: int) -> str:
    if byte >= 0x80:
        return f"\\x{byte:02x}"
    character = chr(byte)
    return character if character.isprintable() else _escaped(character)


def _escaped(character: str) -> str:
    return character.encode("unicode_escape").decode("ascii")
