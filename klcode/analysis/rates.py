"""Entropy, cross-entropy and KL *rates* of texts, measured by coding them with an adaptive context model.

Order-0 figures ignore which token follows which; a context model does not.
Every rate here is the cost of an actual arithmetic-coded bitstream that
decoded back to its input (:func:`klcode.coders.adaptive.code_adaptive`),
reported twice: ``measured_bits_per_token`` (8 × the payload's length, per
token) and ``ideal_bits_per_token`` (Σ −log2 q(x_i | context) of the
probabilities the coder was given, per token); their difference is the
coder's overhead.

* **Entropy rate** h(A): bits per token of A under the model started empty
  (what a compressor pays, learning cost included), beside bz2 -9, xz -9e,
  zstd -19, zlib -9 and PPMd (var. H, the best of orders 2..16) on the same
  bytes, each decompressed and checked.
* **Cross-entropy rate** h(A″‖B) and **KL rate** D(A‖B) = h(A″‖B) − h(A″‖A′),
  by the held-out estimator of ``docs/rates.md``: each text X is split at
  ⌊f·|X|⌋ tokens (f = ``train_fraction``, ½ by default) into a prefix X′ and a
  held-out suffix X″; with N = min(|A′|, |B′|) (the same training budget) a
  model is trained on the first N tokens of A and one on the first N tokens
  of B; each codes A″ *frozen* (``learn=False``), so the B-model cannot drift
  toward A while it codes.  D(A‖B) is the difference of their bits per token
  of A″; D(B‖A) is the same with the roles swapped.
* **Where A costs most under B**: the per-position code lengths of A″ under
  both models; their difference summed per word (and per word pair for word
  tokens), the context-model counterpart of keyness.

Token kinds: ``bytes``; ``chars`` (the text decoded, re-encoded as UTF-8: the
``cm`` model codes those bytes, rates are reported per char); ``words``
(``\\w+`` matches: ``cm`` codes the words spelled as UTF-8 and separated by one
space, which the decoder splits again; ``ppm`` codes word ids of a vocabulary
shared by the texts, with their spellings for words it has never seen).
"""

from __future__ import annotations

import bz2
import lzma
import math
import re
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import DataError, DecodeError
from ..text.corpus import decode_text, expand_sources, iter_chunks
from .matrix import as_matrix, nearest

#: The token kinds a rate can be measured in.
RATE_TOKEN_KINDS = ("bytes", "chars", "words")
#: Default share of each text used as its training prefix A′ (the rest, A″, is held out).
DEFAULT_TRAIN_FRACTION = 0.5
#: PPMd orders tried (the best one is reported), its variant and its memory.
PPMD_ORDERS = tuple(range(2, 17))
PPMD_MEMORY_BYTES = 16 << 20
#: The compressors set beside the model, with their settings, in the order shown.
COMPRESSOR_SETTINGS = {
    "bz2": "bz2 -9",
    "xz": "xz -9e (lzma preset 9 | PRESET_EXTREME)",
    "zstd": "zstd -19",
    "zlib": "zlib -9",
    "ppmd": f"PPMd var. H, best of orders {PPMD_ORDERS[0]}..{PPMD_ORDERS[-1]}, {PPMD_MEMORY_BYTES >> 20} MiB",
}
_WORD = re.compile(r"\w+")


# ---------------------------------------------------------------------- inputs
@dataclass(frozen=True, eq=False)
class RateText:
    """A text as the model codes it: ``symbols`` (what is coded) and where each token of ``tokens`` ends.

    ``symbols`` are bytes (alphabet 256) for the ``cm`` model and for byte
    tokens; token ids of a vocabulary shared by the texts compared otherwise
    (``spellings`` then holds each id's UTF-8 spelling).  ``token_ends[i]`` is
    the index in ``symbols`` just past token i, so per-token costs are sums of
    per-symbol costs.  ``text`` is the decoded text (None for bytes) and
    ``text_offsets[i]`` the character where token i starts, for contexts.
    """

    label: str
    tokens: str
    symbols: np.ndarray
    alphabet_size: int
    token_ends: np.ndarray
    chars: int
    input_bytes: int
    raw: bytes
    spellings: tuple[bytes, ...] | None = None
    text: str | None = None
    text_offsets: np.ndarray | None = None

    @property
    def token_count(self) -> int:
        return int(self.token_ends.size)

    def symbol_slice(self, start_token: int, stop_token: int) -> tuple[int, int]:
        """The range of ``symbols`` that codes tokens [start_token, stop_token)."""
        begin = 0 if start_token == 0 else int(self.token_ends[start_token - 1])
        end = 0 if stop_token == 0 else int(self.token_ends[stop_token - 1])
        return begin, end


def read_corpus_bytes(path: str) -> bytes:
    """The (decompressed) bytes of a corpus path: a file, or a directory's files concatenated in sorted order."""
    return b"".join(chunk for source in expand_sources([path]) for chunk in iter_chunks(source))


def _utf8_lengths(code_points: np.ndarray) -> np.ndarray:
    """Bytes of each code point in UTF-8 (surrogates U+D800..U+DFFF counted as 3, as Python's surrogatepass)."""
    cp = code_points.astype(np.int64)
    return 1 + (cp >= 0x80) + (cp >= 0x800) + (cp >= 0x10000)


def rate_texts(raws: Sequence[bytes], labels: Sequence[str], tokens: str = "bytes", *, model_kind: str = "cm",
               encoding: str = "utf-8", errors: str = "strict", lower: bool = False) -> list[RateText]:
    """The texts ``raws`` prepared for coding by a model of ``model_kind`` ("cm" codes bytes; "ppm" token ids).

    Texts coded by ``ppm`` in chars or words share one vocabulary (sorted
    symbols), so that an id means the same token in every model.

    >>> [t.token_count for t in rate_texts([b"ab ab", b"ba"], ["x", "y"], "words", model_kind="cm")]
    [2, 1]
    """
    if tokens not in RATE_TOKEN_KINDS:
        raise DataError(f"rate tokens must be one of {', '.join(RATE_TOKEN_KINDS)} (got {tokens!r})")
    if lower and tokens == "bytes":
        raise DataError("--lower needs text tokens (chars or words), not bytes")
    if tokens == "bytes":
        return [_byte_text(raw, label) for raw, label in zip(raws, labels)]
    texts = [decode_text(raw, encoding, label, errors) for raw, label in zip(raws, labels)]
    if lower:
        texts = [text.lower() for text in texts]
    if tokens == "chars":
        points = [np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32) for text in texts]
        if model_kind == "cm":
            return [_spelled_chars(raw, label, text, cp) for raw, label, text, cp in zip(raws, labels, texts, points)]
        vocabulary = np.unique(np.concatenate(points)) if points else np.zeros(0, np.uint32)
        spellings = tuple(chr(int(c)).encode("utf-8", "surrogatepass") for c in vocabulary)
        return [
            RateText(label, "chars", np.searchsorted(vocabulary, cp).astype(np.int64), int(vocabulary.size),
                     np.arange(1, cp.size + 1, dtype=np.int64), int(cp.size), len(raw), raw, spellings, text,
                     np.arange(cp.size, dtype=np.int64))
            for raw, label, text, cp in zip(raws, labels, texts, points)
        ]
    matches = [[(m.start(), m.group()) for m in _WORD.finditer(text)] for text in texts]
    if model_kind == "cm":
        return [_spelled_words(raw, label, text, found) for raw, label, text, found in zip(raws, labels, texts, matches)]
    vocabulary = sorted({word for found in matches for _, word in found})
    index = {word: i for i, word in enumerate(vocabulary)}
    spellings = tuple(word.encode("utf-8", "surrogatepass") for word in vocabulary)
    out = []
    for raw, label, text, found in zip(raws, labels, texts, matches):
        ids = np.fromiter((index[word] for _, word in found), dtype=np.int64, count=len(found))
        offsets = np.fromiter((start for start, _ in found), dtype=np.int64, count=len(found))
        out.append(RateText(label, "words", ids, len(vocabulary), np.arange(1, ids.size + 1, dtype=np.int64),
                            len(text), len(raw), raw, spellings, text, offsets))
    return out


def _byte_text(raw: bytes, label: str) -> RateText:
    symbols = np.frombuffer(raw, dtype=np.uint8)
    return RateText(label, "bytes", symbols, 256, np.arange(1, symbols.size + 1, dtype=np.int64), len(raw), len(raw), raw)


def _spelled_chars(raw: bytes, label: str, text: str, points: np.ndarray) -> RateText:
    spelled = text.encode("utf-8", "surrogatepass")
    ends = np.cumsum(_utf8_lengths(points))
    return RateText(label, "chars", np.frombuffer(spelled, dtype=np.uint8), 256, ends, len(text), len(raw), raw,
                    None, text, np.arange(points.size, dtype=np.int64))


def _spelled_words(raw: bytes, label: str, text: str, found: list[tuple[int, str]]) -> RateText:
    """Words spelled in UTF-8, each followed by one space (the delimiter a decoder splits on), as bytes."""
    pieces = [word.encode("utf-8", "surrogatepass") for _, word in found]
    spelled = b" ".join(pieces) + (b" " if pieces else b"")
    ends = np.cumsum(np.fromiter((len(p) + 1 for p in pieces), dtype=np.int64, count=len(pieces)))
    offsets = np.fromiter((start for start, _ in found), dtype=np.int64, count=len(found))
    return RateText(label, "words", np.frombuffer(spelled, dtype=np.uint8), 256, ends, len(text), len(raw), raw,
                    None, text, offsets)


# ----------------------------------------------------------------- compressors
@dataclass(frozen=True)
class CompressorSize:
    """Z(data): the size of the bytes compressed by a general-purpose compressor, checked by decompressing."""

    compressor: str
    setting: str
    input_bytes: int
    compressed_bytes: int
    verified: bool
    order: int | None = None

    @property
    def bits_per_byte(self) -> float:
        return 8 * self.compressed_bytes / self.input_bytes if self.input_bytes else math.nan


def _ppmd_best(data: bytes) -> tuple[bytes, int]:
    import pyppmd

    best: tuple[bytes, int] | None = None
    for order in PPMD_ORDERS:
        encoder = pyppmd.Ppmd7Encoder(order, PPMD_MEMORY_BYTES)
        payload = encoder.encode(data) + encoder.flush()
        if best is None or len(payload) < len(best[0]):
            best = (payload, order)
    assert best is not None
    return best


def compressor_sizes(data: bytes, verify: bool = True) -> tuple[CompressorSize, ...]:
    """bz2 -9, xz -9e, zstd -19, zlib -9 and PPMd (best order of 2..16) on ``data``, each decompressed and compared.

    >>> sizes = compressor_sizes(b"abracadabra " * 100)
    >>> [s.compressor for s in sizes], all(s.verified for s in sizes)
    (['bz2', 'xz', 'zstd', 'zlib', 'ppmd'], True)
    """
    import pyppmd
    import zstandard

    filters = lzma.PRESET_EXTREME | 9
    payloads: dict[str, tuple[bytes, Callable[[bytes], bytes], int | None]] = {
        "bz2": (bz2.compress(data, 9), bz2.decompress, None),
        "xz": (lzma.compress(data, preset=filters), lzma.decompress, None),
        "zstd": (zstandard.ZstdCompressor(level=19).compress(data),
                 lambda b: zstandard.ZstdDecompressor().decompress(b, max_output_size=max(1, len(data))), None),
        "zlib": (zlib.compress(data, 9), zlib.decompress, None),
    }
    ppmd_payload, order = _ppmd_best(data)
    payloads["ppmd"] = (ppmd_payload,
                        lambda b: pyppmd.Ppmd7Decoder(order, PPMD_MEMORY_BYTES).decode(b, len(data)), order)
    out = []
    for name, (payload, decompress, best_order) in payloads.items():
        if verify and decompress(payload) != data:
            raise DecodeError(f"{name} did not decompress back to its input ({len(data):,} bytes)")
        out.append(CompressorSize(name, COMPRESSOR_SETTINGS[name], len(data), len(payload), verify, best_order))
    return tuple(out)


# ------------------------------------------------------------ Markov sources
def stationary_distribution(transitions: np.ndarray) -> np.ndarray:
    """π with π·T = π and Σπ = 1 for a row-stochastic matrix T (the left eigenvector of eigenvalue 1).

    >>> stationary_distribution(np.array([[0.9, 0.1], [0.5, 0.5]])).round(6).tolist()
    [0.833333, 0.166667]
    """
    t = np.asarray(transitions, dtype=np.float64)
    n = t.shape[0]
    # solve (Tᵀ − I)π = 0 with Σπ = 1 by least squares on the stacked system
    system = np.vstack([t.T - np.eye(n), np.ones((1, n))])
    target = np.zeros(n + 1)
    target[-1] = 1.0
    pi, *_ = np.linalg.lstsq(system, target, rcond=None)
    pi = np.clip(pi, 0.0, None)
    return pi / pi.sum()


def pair_chain(conditional: np.ndarray) -> np.ndarray:
    """The transition matrix of the pair-state chain (a, b) → (b, x) of an order-2 source P(x | a, b).

    ``conditional[a, b, x]`` = P(x | previous two a, b); the pair (a, b) is state a·k + b.
    """
    p = np.asarray(conditional, dtype=np.float64)
    k = p.shape[0]
    t = np.zeros((k * k, k * k))
    for a in range(k):
        for b in range(k):
            t[a * k + b, b * k: b * k + k] = p[a, b]
    return t


def markov_entropy_rate(conditional: np.ndarray) -> float:
    """h = −Σ_s π(s) Σ_x P(x|s) log2 P(x|s), bits per token, of an order-2 source (π: stationary over pairs).

    >>> round(markov_entropy_rate(np.full((2, 2, 2), 0.5)), 12)
    1.0
    """
    p = np.asarray(conditional, dtype=np.float64)
    k = p.shape[0]
    pi = stationary_distribution(pair_chain(p))
    rows = p.reshape(k * k, k)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(rows > 0, -rows * np.log2(rows), 0.0)
    return float(pi @ terms.sum(axis=1))


def markov_kl_rate(p_conditional: np.ndarray, q_conditional: np.ndarray) -> float:
    """D = Σ_s π_P(s)·KL(P(·|s) ‖ Q(·|s)), bits per token, of two order-2 sources on one alphabet.

    >>> p = np.full((2, 2, 2), 0.5); q = p.copy(); q[..., 0], q[..., 1] = 0.25, 0.75
    >>> round(markov_kl_rate(p, q), 6)
    0.207519
    """
    p = np.asarray(p_conditional, dtype=np.float64)
    q = np.asarray(q_conditional, dtype=np.float64)
    k = p.shape[0]
    pi = stationary_distribution(pair_chain(p))
    rows_p, rows_q = p.reshape(k * k, k), q.reshape(k * k, k)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(rows_p > 0, rows_p * np.log2(rows_p / rows_q), 0.0)
    return float(pi @ terms.sum(axis=1))


# ------------------------------------------------------------- model coding
@dataclass(frozen=True)
class ModelCost:
    """What a model's code of a stream cost: measured bits (the decoded-back payload) and ideal −Σ log2 q."""

    model: str
    tokens: int
    symbols: int
    measured_bits: int
    ideal_bits: float
    verified: bool
    training_tokens: int
    learning: bool
    measured_bits_per_token: float = field(init=False)
    ideal_bits_per_token: float = field(init=False)

    def __post_init__(self) -> None:
        per = self.tokens if self.tokens else math.nan
        object.__setattr__(self, "measured_bits_per_token", self.measured_bits / per)
        object.__setattr__(self, "ideal_bits_per_token", self.ideal_bits / per)

    @property
    def overhead_bits(self) -> float:
        return self.measured_bits - self.ideal_bits


def parse_model(text: str):
    """The :class:`~klcode.models.context.ContextModelSpec` of ``--model`` text (``cm``, ``ppm:order=3``, ...)."""
    from ..models.context import ContextModelSpec

    return ContextModelSpec.parse(text)


def _code(spec, text: RateText, symbols: np.ndarray, tokens: int, train: Sequence[np.ndarray], learn: bool,
          verify: bool, per_token: bool, progress: Callable[[int], None] | None):
    from ..coders.adaptive import code_adaptive

    extra: dict[str, Any] = {}
    if text.spellings is not None and spec.kind == "ppm":
        extra["spellings"] = text.spellings
    coding = code_adaptive(spec, symbols, alphabet_size=text.alphabet_size, train=tuple(train), learn=learn,
                           verify=verify, per_token=per_token, progress=progress, **extra)
    if verify and not coding.verified:
        raise DecodeError(f"the {spec.describe()} code of {text.label!r} did not decode back to its input")
    cost = ModelCost(spec.describe(), tokens, int(symbols.size), coding.measured_bits, float(coding.ideal_bits),
                     bool(coding.verified), int(coding.training_tokens), bool(coding.learning))
    return cost, coding


@dataclass(frozen=True)
class EntropyRate:
    """h(A): bits per token of A under the adaptive model started empty, beside general-purpose compressors."""

    label: str
    tokens: str
    token_count: int
    chars: int
    input_bytes: int
    model: ModelCost
    compressors: tuple[CompressorSize, ...]
    measured_bits_per_token: float = field(init=False)
    ideal_bits_per_token: float = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "measured_bits_per_token", self.model.measured_bits_per_token)
        object.__setattr__(self, "ideal_bits_per_token", self.model.ideal_bits_per_token)

    @property
    def measured_bits_per_char(self) -> float:
        return self.model.measured_bits / self.chars if self.chars else math.nan

    @property
    def measured_bits_per_byte(self) -> float:
        return self.model.measured_bits / self.input_bytes if self.input_bytes else math.nan


def entropy_rate(spec, text: RateText, *, verify: bool = True, compressors: bool = True,
                 progress: Callable[[int], None] | None = None) -> EntropyRate:
    """h(A) = (bits of A's code under the model started empty, learning as it codes) / tokens of A."""
    if text.token_count == 0:
        raise DataError(f"no {text.tokens} in {text.label!r}: nothing to measure")
    cost, _ = _code(spec, text, text.symbols, text.token_count, (), True, verify, False, progress)
    sizes = compressor_sizes(text.raw, verify) if compressors else ()
    return EntropyRate(text.label, text.tokens, text.token_count, text.chars, text.input_bytes, cost, sizes)


# --------------------------------------------------------------- KL rates
@dataclass(frozen=True)
class ExtraCost:
    """A word (or word pair) of A″ and the extra bits B's model pays for it: Σ (l_B − l_A) over its occurrences."""

    unit: str
    occurrences: int
    extra_bits: float
    extra_bits_per_occurrence: float
    own_bits_per_occurrence: float
    context: str


@dataclass(frozen=True)
class DirectedRate:
    """D(A‖B) = h(A″‖B) − h(A″‖A′): A's held-out part coded, frozen, by B's model and by A's own (same budget)."""

    a: str
    b: str
    heldout_tokens: int
    training_tokens: int
    own: ModelCost
    cross: ModelCost
    measured_kl_rate_bits_per_token: float = field(init=False)
    ideal_kl_rate_bits_per_token: float = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "measured_kl_rate_bits_per_token",
                           self.cross.measured_bits_per_token - self.own.measured_bits_per_token)
        object.__setattr__(self, "ideal_kl_rate_bits_per_token",
                           self.cross.ideal_bits_per_token - self.own.ideal_bits_per_token)


@dataclass(frozen=True)
class RateComparison:
    """Both directions of the KL rate of two texts, and where each costs most under the other's model."""

    model: str
    tokens: str
    train_fraction: float
    a_to_b: DirectedRate
    b_to_a: DirectedRate
    top_a: tuple[ExtraCost, ...]
    top_b: tuple[ExtraCost, ...]


def split_point(token_count: int, train_fraction: float = DEFAULT_TRAIN_FRACTION) -> int:
    """|A′|: the tokens of the training prefix, ⌊f·n⌋, leaving at least one held-out token when n ≥ 2.

    >>> split_point(10), split_point(3, 0.9), split_point(1)
    (5, 2, 0)
    """
    if not 0 < train_fraction < 1:
        raise DataError(f"the training fraction must be in (0, 1) (got {train_fraction})")
    return max(0, min(int(train_fraction * token_count), token_count - 1))


def _check_pair(texts: Sequence[RateText], train_fraction: float) -> None:
    for text in texts:
        if text.token_count < 2 or split_point(text.token_count, train_fraction) < 1:
            raise DataError(f"{text.label!r} has {text.token_count} {text.tokens}: too few to split into a training "
                            "prefix and a held-out part")


def _directed(spec, a: RateText, b: RateText, budget: int, train_fraction: float, verify: bool, per_token: bool,
              progress) -> tuple[DirectedRate, np.ndarray | None, np.ndarray | None]:
    """A″ coded frozen by the model of A[:budget] and by the model of B[:budget]; per-token bits when asked."""
    split = split_point(a.token_count, train_fraction)
    begin, end = a.symbol_slice(split, a.token_count)
    heldout = a.symbols[begin:end]
    own_train = a.symbols[slice(*a.symbol_slice(0, budget))]
    cross_train = b.symbols[slice(*b.symbol_slice(0, budget))]
    tokens = a.token_count - split
    own, own_coding = _code(spec, a, heldout, tokens, (own_train,), False, verify, per_token, progress)
    cross, cross_coding = _code(spec, a, heldout, tokens, (cross_train,), False, verify, per_token, progress)
    rate = DirectedRate(a.label, b.label, tokens, budget, own, cross)
    if not per_token:
        return rate, None, None
    return rate, _per_token(a, split, own_coding.per_token_bits), _per_token(a, split, cross_coding.per_token_bits)


def _per_token(text: RateText, split: int, per_symbol: np.ndarray) -> np.ndarray:
    """Per-token bits of tokens split.. from per-symbol bits of their symbols (sums over each token's symbols)."""
    begin, _ = text.symbol_slice(split, text.token_count)
    ends = text.token_ends[split:] - begin
    cumulative = np.concatenate([[0.0], np.cumsum(np.asarray(per_symbol, dtype=np.float64))])
    starts = np.concatenate([[0], ends[:-1]])
    return cumulative[ends] - cumulative[starts]


def kl_rates(spec, a: RateText, b: RateText, *, train_fraction: float = DEFAULT_TRAIN_FRACTION, verify: bool = True,
             top: int = 10, progress: Callable[[int], None] | None = None) -> RateComparison:
    """D(A‖B) and D(B‖A) by the held-out estimator (equal training budgets, frozen models), with the costliest words."""
    _check_pair((a, b), train_fraction)
    budget = min(split_point(a.token_count, train_fraction), split_point(b.token_count, train_fraction))
    per_token = top > 0
    forward, own_a, cross_a = _directed(spec, a, b, budget, train_fraction, verify, per_token, progress)
    backward, own_b, cross_b = _directed(spec, b, a, budget, train_fraction, verify, per_token, progress)
    top_a = top_b = ()
    if per_token:
        top_a = extra_cost_units(a, split_point(a.token_count, train_fraction), own_a, cross_a, top)
        top_b = extra_cost_units(b, split_point(b.token_count, train_fraction), own_b, cross_b, top)
    return RateComparison(spec.describe(), a.tokens, train_fraction, forward, backward, top_a, top_b)


# ------------------------------------------------------- where the bits go
def _word_spans(text: RateText, split: int) -> tuple[list[str], np.ndarray, np.ndarray, list[int]]:
    """Words of the held-out part as (word, first token, end token, char offset) lists, in token indices from split."""
    if text.tokens == "words":
        offsets = text.text_offsets[split:]
        n = offsets.size
        words = [_WORD.match(text.text, int(o)).group() for o in offsets] if text.text is not None else []
        return words, np.arange(n), np.arange(1, n + 1), [int(o) for o in offsets]
    if text.tokens == "chars":
        body = text.text[split:]
        found = list(_WORD.finditer(body))
        starts = np.fromiter((m.start() for m in found), dtype=np.int64, count=len(found))
        ends = np.fromiter((m.end() for m in found), dtype=np.int64, count=len(found))
        return [m.group() for m in found], starts, ends, [split + int(s) for s in starts]
    # bytes: words of the bytes decoded as UTF-8 (undecodable bytes kept as one char each), mapped back to bytes
    body = text.raw[split:].decode("utf-8", "surrogateescape")
    points = np.frombuffer(body.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    lengths = _utf8_lengths(points)
    lengths[(points >= 0xDC80) & (points <= 0xDCFF)] = 1  # surrogateescape: one raw byte each
    byte_of_char = np.concatenate([[0], np.cumsum(lengths)])
    found = list(_WORD.finditer(body))
    starts = np.fromiter((byte_of_char[m.start()] for m in found), dtype=np.int64, count=len(found))
    ends = np.fromiter((byte_of_char[m.end()] for m in found), dtype=np.int64, count=len(found))
    return [m.group() for m in found], starts, ends, [split + int(s) for s in starts]


def extra_cost_units(text: RateText, split: int, own_bits: np.ndarray, cross_bits: np.ndarray,
                     top: int = 10) -> tuple[ExtraCost, ...]:
    """The words of A″ (and word pairs, for word tokens) with the largest Σ (l_B − l_A) of their tokens' bits.

    A word's cost is the sum of the per-token code lengths of its tokens
    (bytes or chars) under each frozen model; the rows are the word types
    with the largest total extra bits, each with the occurrence that cost
    most, in its context.
    """
    extra = np.asarray(cross_bits, dtype=np.float64) - np.asarray(own_bits, dtype=np.float64)
    words, starts, ends, offsets = _word_spans(text, split)
    if not words:
        return ()
    cum_extra = np.concatenate([[0.0], np.cumsum(extra)])
    cum_own = np.concatenate([[0.0], np.cumsum(np.asarray(own_bits, dtype=np.float64))])
    units, unit_starts, unit_ends, unit_offsets = list(words), starts, ends, list(offsets)
    if text.tokens == "words" and len(words) > 1:
        units += [f"{x} {y}" for x, y in zip(words[:-1], words[1:])]
        unit_starts = np.concatenate([starts, starts[:-1]])
        unit_ends = np.concatenate([ends, ends[1:]])
        unit_offsets += offsets[:-1]
    occurrence_extra = cum_extra[unit_ends] - cum_extra[unit_starts]
    occurrence_own = cum_own[unit_ends] - cum_own[unit_starts]
    types, inverse = np.unique(np.array(units, dtype=object), return_inverse=True)
    inverse = inverse.ravel()
    total = np.bincount(inverse, weights=occurrence_extra, minlength=types.size)
    own = np.bincount(inverse, weights=occurrence_own, minlength=types.size)
    count = np.bincount(inverse, minlength=types.size)
    order = np.lexsort((np.arange(types.size), -total))[:top]
    rows = []
    for t in order:
        if total[t] <= 0:
            break
        where = np.flatnonzero(inverse == t)
        worst = int(where[np.argmax(occurrence_extra[where])])
        rows.append(ExtraCost(str(types[t]), int(count[t]), float(total[t]), float(total[t] / count[t]),
                              float(own[t] / count[t]), _context(text, unit_offsets[worst], len(units[worst]))))
    return tuple(rows)


def _context(text: RateText, offset: int, length: int, width: int = 24) -> str:
    """The unit at ``offset`` with ``width`` characters of text either side, newlines shown as ⏎."""
    if text.text is not None:
        body, start = text.text, offset
    else:
        body, start = text.raw.decode("utf-8", "replace"), len(text.raw[:offset].decode("utf-8", "replace"))
    left = body[max(0, start - width): start]
    right = body[start + length: start + length + width]
    snippet = f"{left}[{body[start:start + length]}]{right}"
    snippet = snippet.replace("\r\n", "⏎").replace("\n", "⏎").replace("\r", "⏎")
    return re.sub(r"[ \t]*⏎[ \t⏎]*", "⏎", re.sub(r"[ \t]+", " ", snippet))


# ------------------------------------------------------------ rate matrix
@dataclass(frozen=True)
class RateNeighbour:
    """The text whose model codes ``corpus``'s held-out part with the smallest KL rate."""

    corpus: str
    nearest: str
    kl_rate_bits_per_token: float


@dataclass(frozen=True)
class RateMatrix:
    """h(row″ ‖ column) and D(row ‖ column) = h(row″‖column) − h(row″‖row′) for every pair, one training budget.

    Cell (i, j) is the held-out part of text i coded, frozen, by the model
    trained on the first ``training_tokens`` tokens of text j (ideal bits per
    token of text i from a verified coding, unless ``verified`` is False).
    """

    labels: tuple[str, ...]
    model: str
    tokens: str
    training_tokens: int
    heldout_tokens: tuple[int, ...]
    cross_entropy_rate_bits_per_token: tuple[tuple[float, ...], ...]
    kl_rate_bits_per_token: tuple[tuple[float, ...], ...]
    nearest_by_kl_rate: tuple[RateNeighbour, ...]
    measured_bits: int
    ideal_bits: float
    verified: bool


#: Separator coded between held-out parts in a batched byte coding (its cost is left out of every part's sum).
BATCH_SEPARATOR = b"\n\n"


def rate_matrix(spec, texts: Sequence[RateText], *, train_fraction: float = DEFAULT_TRAIN_FRACTION,
                heldout_tokens: int | None = None, verify: bool = True, batched: bool = False,
                progress: Callable[[int], None] | None = None) -> RateMatrix:
    """Every text's held-out part under every text's frozen model (one budget N = min |X′|); ``progress(1)`` per cell.

    ``heldout_tokens`` caps each held-out part (its first tokens), to bound
    the work.  ``batched`` codes all held-out parts in one stream per model
    (n codings instead of n², each model trained once), the parts joined by
    :data:`BATCH_SEPARATOR` for byte models (nothing for token ids); each
    cell is then the sum of its part's per-token ideal costs, and a part's
    first few tokens see the separator (not the end of the previous part) as
    context only through the model's longer contexts.
    """
    if len(texts) < 2:
        raise DataError(f"a rate matrix needs at least two texts (got {len(texts)})")
    _check_pair(texts, train_fraction)
    splits = [split_point(t.token_count, train_fraction) for t in texts]
    budget = min(splits)
    n = len(texts)
    cross = np.zeros((n, n))
    measured, ideal = 0, 0.0
    held, parts = [], []
    for i, text in enumerate(texts):
        stop = text.token_count if heldout_tokens is None else min(text.token_count, splits[i] + heldout_tokens)
        held.append(stop - splits[i])
        begin, end = text.symbol_slice(splits[i], stop)
        parts.append(text.symbols[begin:end])
    if batched:
        separator = np.frombuffer(BATCH_SEPARATOR, dtype=np.uint8) if texts[0].alphabet_size == 256 and \
            texts[0].spellings is None else np.zeros(0, dtype=parts[0].dtype)
        pieces, bounds, at = [], [], 0
        for part in parts:
            pieces += [part, separator.astype(part.dtype)]
            bounds.append((at, at + part.size))
            at += part.size + separator.size
        stream = np.concatenate(pieces)
        for j, model_text in enumerate(texts):
            train = model_text.symbols[slice(*model_text.symbol_slice(0, budget))]
            cost, coding = _code(spec, model_text, stream, int(stream.size), (train,), False, verify, True, None)
            cumulative = np.concatenate([[0.0], np.cumsum(coding.per_token_bits, dtype=np.float64)])
            for i, (first, last) in enumerate(bounds):
                cross[i, j] = (cumulative[last] - cumulative[first]) / held[i]
            measured += cost.measured_bits
            ideal += cost.ideal_bits
            if progress is not None:
                progress(n)
    else:
        for i, text in enumerate(texts):
            for j, model_text in enumerate(texts):
                train = model_text.symbols[slice(*model_text.symbol_slice(0, budget))]
                cost, _ = _code(spec, text, parts[i], held[i], (train,), False, verify, False, None)
                cross[i, j] = cost.ideal_bits_per_token
                measured += cost.measured_bits
                ideal += cost.ideal_bits
                if progress is not None:
                    progress(1)
    kl = cross - np.diag(cross)[:, None]
    labels = tuple(t.label for t in texts)
    neighbours = tuple(RateNeighbour(nb.corpus, nb.nearest, nb.bits_per_token) for nb in nearest(kl, labels))
    return RateMatrix(labels, spec.describe(), texts[0].tokens, budget, tuple(held), as_matrix(cross),
                      as_matrix(kl), neighbours, measured, ideal, verify)
