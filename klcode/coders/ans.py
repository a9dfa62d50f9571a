"""ANS coding through constriction: bits per token within a hair of the cross-entropy H(p, q̃).

An :class:`AnsCoder` is an order-0 coder built from a model q (one probability
per id).  It codes a stream with constriction's range-variant ANS
(``constriction.stream.stack.AnsCoder``: 32-bit words, a 64-bit state) and a
``constriction.stream.model.Categorical(..., perfect=False)`` entropy model.
Each token costs −log2 q̃(x) bits up to the integer rounding of the state
(measured below 10^−4 bit per token, of either sign), plus 32 to 64 bits per
stream for the starting and final states.  Unlike a prefix code it does not
round each token's cost up to whole bits, so the measured bits per token
approach H(p, q̃) = H(p) + KL(p‖q̃), where q̃ is q quantized as below.

Model quantization (what q̃ is, precisely)
------------------------------------------
*Only ids with q > 0 are in the model.*  They are numbered 0..n−1 in id order
(a dense model index), and ids with q = 0 are not in the model at all: a
stream holding one raises :class:`~klcode.errors.CodeError` naming the id,
just as a prefix code has no codeword for it.

constriction represents the model in fixed point with ``PRECISION_BITS = 24``:
model symbol k gets an integer weight f_k ≥ 1 with Σ f_k = 2^24, and
q̃(k) = f_k / 2^24.  With ``perfect=False`` (the fast quantizer of constriction
≥ 0.4) the left cumulative of symbol k is
``⌊(q_0 + … + q_(k−1)) · (2^24 − n) / Σq⌋ + k``: every symbol first gets one
unit (constriction's *leaky* quantization, so no symbol of the model has mass
0), then the other 2^24 − n units are shared in proportion to q by flooring
the float cumulative sum.  Hence q̃ ≥ 2^−24 ≈ 6·10^−8 for every id in the
model: an id with q = 10^−9 is still codable, at about 24 bits instead of the
ideal 30.  So where q < 2^−24 on ids that p produces, the measured bits are
*below* H(p, q) (p = 0.7 % on an id with q = 9·10^−9 saves 0.018 bit per
token); the bits track H(p, q̃), which :meth:`AnsCoder.expected_bits_per_token`
returns.  Otherwise the quantization costs little: KL(q‖q̃) is of order
10^−9 bit for 256 symbols, 10^−7 for 4 096 and 10^−4 for 65 536 (measured on
random q).
A model needs 1 ≤ n < 2^24 − 1 symbols; a model with a single id (q = 1)
gets a dummy second symbol of q = 0 (one unit, never coded), so the id costs
log2(2^24 / (2^24 − 1)) ≈ 9·10^−8 bit per token.

:attr:`AnsCoder.quantized_probabilities` is read *from constriction's model
itself*, not recomputed: decoding one symbol from a coder whose state is
2^24 + u leaves the state f_k + u − c_k, so walking u over the left
cumulatives c_k yields every weight (n decodes).  The readings are checked
(symbols in order, weights ≥ 1 summing to 2^24); if constriction ever changes
its internals so that the check fails, q̃ falls back to the ideal q and
:attr:`AnsCoder.quantized` is False.

Bits counted
------------
The payload is the compressed ``numpy.uint32`` array returned by
``get_compressed()`` and ``n_bits`` is 32 × its length — what
constriction's ``num_bits()`` returns ("the size of the compressed data in
bits, rounded up to full words"), not ``num_valid_bits()``, which leaves out
the zero bits above the state's leading one and that one bit.  The coder
starts from the state 2^32 (the words ``[0, 1]``) rather than constriction's
empty state 0: from state 0 (indeed from any state x < f) a run of the
model's first symbol is coded at no cost at all, so a stream of one repeated
token would measure 0 bits.  Those 32 starting bits are in the payload and
counted; an empty stream has an empty payload and 0 bits.  Decoding checks
that the state returns to 2^32 with nothing left over.

Encoding and decoding run in constriction (Rust), in chunks of 2^20 tokens
(ANS is a stack: chunks are pushed last to first and popped first to last);
no Python loop per token.  On 20 MB of byte ids: about 80 MB/s to encode and
25 MB/s to decode (18 MB/s when the ids are int64).

>>> coder = AnsCoder.from_probabilities([0.5, 0.25, 0.25, 0.0])
>>> encoded = coder.encode(np.array([0, 1, 2, 0, 0, 2, 1, 0]))
>>> encoded.n_bits, coder.decode(encoded).tolist()
(64, [0, 1, 2, 0, 0, 2, 1, 0])
>>> (coder.quantized_probabilities * 2**24).astype(int).tolist()  # f = 1 + floored share of 2^24 − 3
[8388607, 4194304, 4194305, 0]
>>> round(coder.expected_bits_per_token([0.5, 0.25, 0.25, 0.0]), 9)  # H(p, q̃), a hair above H(p) = 1.5
1.5
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import cached_property

import numpy as np

from ..errors import CodeError, DecodeError
from ..models.distribution import SUM_TOLERANCE, Distribution
from ._checks import checked_ids
from .base import Coder, Encoded

#: Fixed-point precision of constriction's default categorical model: q̃(x) = f(x) / 2^24.
PRECISION_BITS = 24
#: Size of one word of the compressed payload (numpy.uint32).
WORD_BITS = 32
#: Tokens handed to constriction per call (bounds the int32 working copies).
CHUNK_TOKENS = 1 << 20
#: The state every stream starts from and decoding must end in: 2^32, as the words [0, 1].
_INITIAL_WORDS = (0, 1)
_MAX_MODEL_SYMBOLS = (1 << PRECISION_BITS) - 2


def _constriction():
    """The constriction module, imported on first use (``import klcode`` stays fast)."""
    import constriction

    return constriction


class AnsCoder(Coder):
    """Order-0 ANS coder of a model q: each token costs −log2 q̃(x) bits (see the module docstring).

    >>> AnsCoder.from_probabilities([0.9, 0.1]).description
    'ANS (constriction), its model quantized to 24 bits (f/2^24), 2 ids of positive probability'
    """

    order0 = True

    def __init__(self, probabilities: Sequence[float] | np.ndarray, name: str = "ans") -> None:
        q = _checked_probabilities(probabilities)
        constriction = _constriction()
        model_ids = np.flatnonzero(q > 0)
        if model_ids.size > _MAX_MODEL_SYMBOLS:
            raise CodeError(
                f"an ans model holds at most {_MAX_MODEL_SYMBOLS} ids with q > 0 (got {model_ids.size})"
            )
        model_q = q[model_ids]
        if model_ids.size == 1:  # constriction needs two symbols: add a dummy one of q = 0 (one unit)
            model_q = np.array([1.0, 0.0])
        dense = np.full(q.size, -1, dtype=np.int32)
        dense[model_ids] = np.arange(model_ids.size, dtype=np.int32)
        dense.flags.writeable = False
        model_ids.flags.writeable = False
        q.flags.writeable = False
        self.name = name
        self.probabilities = q
        self.model_ids = model_ids
        self._dense = dense
        self._model_q = model_q
        self._model = constriction.stream.model.Categorical(model_q, perfect=False)
        self._constriction = constriction

    @classmethod
    def from_probabilities(cls, probabilities: Sequence[float] | np.ndarray | Distribution, name: str = "ans") -> AnsCoder:
        """The ANS coder of a model given as one probability per id (zeros allowed for ids never coded).

        >>> AnsCoder.from_probabilities([0.5, 0.5, 0.0]).model_ids.tolist()
        [0, 1]
        """
        if isinstance(probabilities, Distribution):
            probabilities = probabilities.probabilities
        return cls(probabilities, name)

    # ---------------------------------------------------------------- properties
    @property
    def size(self) -> int:
        """Number of ids the coder is defined over (with or without q > 0)."""
        return int(self.probabilities.size)

    @property
    def precision_bits(self) -> int:
        return PRECISION_BITS

    @property
    def description(self) -> str:
        # says "its model", not "q": the same description is shown for the coder built from p
        return (
            f"ANS (constriction), its model quantized to {PRECISION_BITS} bits (f/2^{PRECISION_BITS}), "
            f"{self.model_ids.size} ids of positive probability"
        )

    def quantization_shift(self, probabilities: Sequence[float] | np.ndarray) -> tuple[float, np.ndarray, float]:
        """H(p, q̃) − H(p, q) over the ids both give mass, the ids p produces with q < 2^−24, and their p-mass.

        The ids are those the 24-bit model cannot represent (each gets q̃ ≥ 2^−24); they are where the
        measured bits leave H(p, q) by more than a hair.

        >>> shift, ids, mass = AnsCoder.from_probabilities([1 - 2e-12, 1e-12, 1e-12]).quantization_shift([0.5, 0.25, 0.25])
        >>> round(shift, 2), ids.tolist(), mass
        (-8.18, [1, 2], 0.5)
        """
        p = np.asarray(probabilities, dtype=np.float64)
        q, q_tilde = self.probabilities, self.quantized_probabilities
        both = (p > 0) & (q > 0) & (q_tilde > 0)
        shift = float(np.dot(p[both], np.log2(q[both]) - np.log2(q_tilde[both])))
        small = np.flatnonzero((p > 0) & (q > 0) & (q < 2.0**-PRECISION_BITS))
        return shift, small, float(math.fsum(p[small].tolist()))

    @cached_property
    def _quantization(self) -> tuple[np.ndarray, bool]:
        weights = _read_weights(self._constriction, self._model, self._model_q.size)
        q_tilde = np.zeros(self.size, dtype=np.float64)
        if weights is None:
            q_tilde[:] = self.probabilities
            quantized = False
        else:
            q_tilde[self.model_ids] = np.ldexp(weights[: self.model_ids.size].astype(np.float64), -PRECISION_BITS)
            quantized = True
        q_tilde.flags.writeable = False
        return q_tilde, quantized

    @property
    def quantized_probabilities(self) -> np.ndarray:
        """q̃(x) = f(x) / 2^24 per id as read from constriction's model (0 for ids not in it).

        Falls back to the ideal q when the model could not be read (then :attr:`quantized` is False).
        """
        return self._quantization[0]

    @property
    def quantized(self) -> bool:
        """True when :attr:`quantized_probabilities` was read from constriction's model, False if it is the ideal q."""
        return self._quantization[1]

    def expected_bits_per_token(self, probabilities: np.ndarray) -> float:
        """Cross-entropy H(p, q̃) = −Σ p(x) log2 q̃(x) with the quantized model q̃ (∞ if p > 0 where q = 0).

        q̃ is the model read from constriction (:attr:`quantized_probabilities`);
        when it could not be read this is the ideal H(p, q) (:attr:`quantized`
        says which).  The ANS overhead (≤ 96 bits per stream) is not included.
        """
        p = np.asarray(probabilities, dtype=np.float64)
        if p.ndim != 1 or p.size > self.size:
            raise CodeError(f"p must be a 1-D array of at most {self.size} probabilities (got shape {p.shape})")
        q_tilde = self.quantized_probabilities[: p.size]
        used = p > 0
        if (q_tilde[used] <= 0).any():
            return math.inf
        return float(-np.dot(p[used], np.log2(q_tilde[used])))

    # ------------------------------------------------------------ encode / decode
    def encode(self, ids: np.ndarray) -> Encoded:
        """Encode a 1-D array of ids; the payload is a uint32 array, n_bits = 32 × its length.

        Raises :class:`CodeError` for an id outside the alphabet or with q = 0.
        """
        ids = checked_ids(ids, self.size, "the ans coder's alphabet")
        if ids.size == 0:
            return Encoded(np.zeros(0, dtype=np.uint32), 0, 0)
        coder = self._constriction.stream.stack.AnsCoder(np.array(_INITIAL_WORDS, dtype=np.uint32))
        starts = range(0, ids.size, CHUNK_TOKENS)
        for start in reversed(starts):  # a stack: push the last chunk first
            dense = self._dense[ids[start : start + CHUNK_TOKENS]]
            if dense.min() < 0:
                self._raise_uncodable(ids)
            coder.encode_reverse(dense, self._model)
        payload = coder.get_compressed()
        return Encoded(payload, WORD_BITS * int(payload.size), int(ids.size))

    def decode(self, encoded: Encoded) -> np.ndarray:
        """The ids of an encoded stream (int64); :class:`DecodeError` if the payload was not made by this coder."""
        payload = np.asarray(encoded.payload)
        n_tokens = int(encoded.n_tokens)
        if payload.ndim != 1 or (payload.size and payload.dtype != np.uint32):
            raise DecodeError(f"an ans payload is a 1-D uint32 array (got dtype {payload.dtype}, shape {payload.shape})")
        if n_tokens == 0:
            if payload.size:
                raise DecodeError(f"expected an empty ans payload for 0 tokens (got {payload.size} words)")
            return np.zeros(0, dtype=np.int64)
        try:
            decoder = self._constriction.stream.stack.AnsCoder(np.ascontiguousarray(payload))
            ids = np.empty(n_tokens, dtype=np.int64)
            for start in range(0, n_tokens, CHUNK_TOKENS):
                count = min(CHUNK_TOKENS, n_tokens - start)
                ids[start : start + count] = self.model_ids[decoder.decode(self._model, count)]
            rest = decoder.get_compressed()
        except (ValueError, KeyError, IndexError, TypeError, RuntimeError) as error:
            raise DecodeError(f"the ans payload does not decode with this model ({error})") from None
        if rest.tolist() != list(_INITIAL_WORDS):
            raise DecodeError(
                f"the ans payload did not decode back to the initial state after {n_tokens} tokens "
                f"(left {rest.size} words): it was made with another model or token count, or is damaged"
            )
        return ids

    def _raise_uncodable(self, ids: np.ndarray) -> None:
        bad = self._dense[ids] < 0
        first = int(ids[np.flatnonzero(bad)[0]])
        raise CodeError(
            f"id {first} has probability 0 in the ans model and cannot be coded "
            f"({int(np.count_nonzero(bad))} token(s) of the stream have q = 0)"
        )


def _checked_probabilities(probabilities: object) -> np.ndarray:
    try:
        q = np.array(probabilities, dtype=np.float64)
    except (TypeError, ValueError):
        raise CodeError(f"ans model probabilities must be numbers (got {probabilities!r:.60})") from None
    if q.ndim != 1 or q.size == 0:
        raise CodeError(f"ans model probabilities must be a non-empty 1-D array (got shape {q.shape})")
    if not np.isfinite(q).all():
        raise CodeError(f"ans model probabilities must be finite (got {q[~np.isfinite(q)][0]})")
    if (q < 0).any():
        i = int(np.flatnonzero(q < 0)[0])
        raise CodeError(f"ans model probabilities must not be negative (got {q[i]:g} for id {i})")
    total = math.fsum(q.tolist())
    if abs(total - 1.0) > SUM_TOLERANCE:
        raise CodeError(f"ans model probabilities must sum to 1 (got {total:.12g})")
    return q


def _read_weights(constriction, model, n_symbols: int) -> np.ndarray | None:
    """The integer weights f_k of constriction's model (Σ f_k = 2^24), or None if they cannot be read.

    Decoding from the one-word state 2^24 + u (nothing in the bulk, so no
    refill) returns the symbol k whose interval [c_k, c_k + f_k) holds u and
    leaves the state 1·f_k + u − c_k; starting at u = c_k gives f_k directly.
    """
    total = 1 << PRECISION_BITS
    weights = np.zeros(n_symbols, dtype=np.int64)
    left = 0
    try:
        for k in range(n_symbols):
            probe = constriction.stream.stack.AnsCoder(np.array([total | left], dtype=np.uint32))
            symbol = probe.decode(model)
            weight = int(probe.pos()[1])
            if symbol != k or not 1 <= weight <= total - left:
                return None
            weights[k] = weight
            left += weight
    except Exception:  # noqa: BLE001 - any surprise from constriction means: fall back to the ideal q
        return None
    return weights if left == total else None
