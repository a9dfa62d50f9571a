"""A carry-propagating range coder (LZMA style, 48-bit window): a step of probability p costs −log2 p bits, plus < 2^-15.

The coder turns a sequence of probabilities handed to it by a model into one
bitstream; it knows nothing of the model (the model is kept apart, as in
constriction).  Two kinds of step share one coder state, so a model may mix
them:

* **binary**: ``encode_bit(state, out, p1, bit)`` with ``P(bit = 1) = p1 / 2^16``
  and ``1 <= p1 <= 65535``.  With ``bound = (range >> 16) * (65536 - p1)`` the
  bit 0 takes the bottom interval ``[low, low + bound)`` and the bit 1 the rest,
  ``[low + bound, low + range)``.
* **multi-symbol**: ``encode_symbol(state, out, cum, freq, total)`` with
  ``1 <= freq``, ``cum + freq <= total <= 2^24``: with ``r = range // total``
  the symbol takes ``[low + cum·r, low + (cum + freq)·r)``; the top symbol does
  *not* take the remainder ``range − total·r`` (that sliver, < total/range <=
  2^-16 of the interval, is lost: at most 2.2e-5 bits per step).

The state ``low`` is an integer below 2^48 plus a carry bit 48, ``range`` stays
in [2^40, 2^48): after each step, while ``range < 2^40`` the encoder shifts out
bits 40..47 of ``low`` (LZMA's ``ShiftLow``: the last byte written is held
back as a *cache* byte, followed by a count of pending 0xFF bytes, so that a
carry out of bit 48 can still be added to them) and ``range <<= 8``.  With
16-bit probabilities and ``range >> 16 >= 2^24`` the interval a step gets is
its probability up to a relative error below 2^-24·65536 = 2^-8 of one unit
of ``range >> 16``, so the excess cost is below 2^-15 bits per binary step
(measured with the cm model on the Canterbury texts: 1 to 8 bits per text
of 1 to 4 million steps, the flush included).

Unlike LZMA the first byte (always 0: no carry can reach it) is not written,
and the flush writes only the bytes that pin the coarsest aligned block
``[v, v + 2^k)`` lying inside the final interval: whatever bytes follow (the
decoder reads zero bytes past the end of its buffer), the value stays in the
interval.  So the payload is self-delimiting given the number of steps and
is at most ``ideal_bits / 8 + 2`` bytes long on top of the per-step excess
(measured bits are never below the ideal cost by more than a fraction of a
byte).

State arrays (``numpy.int64``, every value fits in 49 bits): the encoder's is
``[low, range, cache, pending, position, has_cache]`` and the decoder's
``[code, range, 0, 0, position, 0]`` (``code`` = value − low).  Every function
is ``@njit(cache=True)`` and callable from other njit code, which is how the
models' kernels drive it; the steps are inlined into their callers and
compiled with ``_nrt=False`` (no reference counting): they never allocate,
and numba's reference counting of the array arguments on every call (atomic
updates) cost ten times the arithmetic of a step (measured: 27 ns against
2.5 ns).  ``position`` is the next byte to write to (or read from) the
caller's buffer: the caller provides an output
buffer large enough for its steps, at most ``3`` bytes per step (a binary step
costs at most 16 bits, a multi-symbol step at most 24) plus the pending count
``state[PENDING]`` plus 8, and may copy out ``out[:state[POSITION]]`` between
blocks and set ``state[POSITION] = 0`` (:func:`drain`).

:class:`RangeEncoderReference` and :class:`RangeDecoderReference` are the
same coder in plain Python integers, written apart from the compiled one:
tests compare the two byte for byte.

>>> import numpy as np
>>> state, out = new_encoder(), np.zeros(64, dtype=np.uint8)
>>> for bit in (1, 0, 1, 1):
...     encode_bit(state, out, 49152, bit)
>>> payload = out[: finish_encoder(state, out)].tobytes()
>>> decoder = new_decoder(np.frombuffer(payload, dtype=np.uint8))
>>> [decode_bit(decoder, np.frombuffer(payload, dtype=np.uint8), 49152) for _ in range(4)]
[1, 0, 1, 1]
"""

from __future__ import annotations

import numpy as np
from numba import njit

#: Width of ``low`` and ``range`` in bits; bytes leave from bits 40..47.
WINDOW_BITS = 48
TOP = 1 << 40  # range is renormalized (one byte out) while below TOP
MASK48 = (1 << 48) - 1
MASK40 = (1 << 40) - 1
MAX_TOTAL = 1 << 24  # largest total of a multi-symbol step
PROBABILITY_BITS = 16  # p1 of a binary step is P(bit = 1) in units of 2^-16
STATE_SIZE = 6
LOW, RANGE, CACHE, PENDING, POSITION, HAS_CACHE = range(6)
CODE = LOW  # the decoder keeps value − low where the encoder keeps low
#: Bytes a step may add to the output, at most (pending 0xFF bytes aside).
MAX_BYTES_PER_STEP = 3


@njit(cache=True)
def new_encoder() -> np.ndarray:
    """A fresh encoder state: low 0, range 2^48 − 1, no byte written yet."""
    state = np.zeros(STATE_SIZE, dtype=np.int64)
    state[RANGE] = MASK48
    return state


@njit(cache=True, _nrt=False, inline="always")
def _shift_low(state: np.ndarray, out: np.ndarray) -> None:
    """Move bits 40..47 of low out (held as the cache byte), propagating a carry out of bit 48."""
    low = state[LOW]
    if low < 0xFF0000000000 or low > MASK48:  # the held bytes are final: a carry can no longer reach them
        carry = low >> 48
        position = state[POSITION]
        if state[HAS_CACHE]:
            out[position] = (state[CACHE] + carry) & 0xFF
            position += 1
        pending = state[PENDING]
        while pending > 0:
            out[position] = (0xFF + carry) & 0xFF
            position += 1
            pending -= 1
        state[PENDING] = 0
        state[POSITION] = position
        state[CACHE] = (low >> 40) & 0xFF
        state[HAS_CACHE] = 1
    else:  # the byte is 0xFF and a carry may still come: hold it back
        state[PENDING] += 1
    state[LOW] = (low & MASK40) << 8


@njit(cache=True, _nrt=False, inline="always")
def encode_bit(state: np.ndarray, out: np.ndarray, p1: int, bit: int) -> None:
    """Code one binary decision with P(bit = 1) = p1 / 2^16 (1 <= p1 <= 65535): cost −log2 of that."""
    bound = (state[RANGE] >> 16) * (65536 - p1)
    if bit:
        state[LOW] += bound
        state[RANGE] -= bound
    else:
        state[RANGE] = bound
    while state[RANGE] < TOP:
        state[RANGE] <<= 8
        _shift_low(state, out)


@njit(cache=True, _nrt=False)
def encode_symbol(state: np.ndarray, out: np.ndarray, cum: int, freq: int, total: int) -> None:
    """Code a symbol of probability freq / total whose interval starts at cum (cum + freq <= total <= 2^24)."""
    r = state[RANGE] // total
    state[LOW] += cum * r
    state[RANGE] = freq * r
    while state[RANGE] < TOP:
        state[RANGE] <<= 8
        _shift_low(state, out)


@njit(cache=True, _nrt=False)
def finish_encoder(state: np.ndarray, out: np.ndarray) -> int:
    """Flush: write the fewest bytes that pin a value of the final interval, whatever follows; returns len(out)."""
    low, span = state[LOW], state[RANGE]
    if span == MASK48 and not state[HAS_CACHE] and state[PENDING] == 0:  # no step coded: nothing to pin
        return state[POSITION]
    k = 48
    while k > 0:  # the coarsest aligned block [value, value + 2^k) inside [low, low + range)
        value = ((low + (np.int64(1) << k) - 1) >> k) << k
        if value + (np.int64(1) << k) <= low + span:
            break
        k -= 1
    value = ((low + (np.int64(1) << k) - 1) >> k) << k
    state[LOW] = value
    for _ in range(7):  # the held bytes, then the six bytes of low
        _shift_low(state, out)
    state[POSITION] -= 5 - (47 - k) // 8  # keep low's bytes down to the one holding bit k
    return state[POSITION]


@njit(cache=True, _nrt=False)
def drain(state: np.ndarray) -> int:
    """Bytes written to the caller's buffer since the last drain; the next ones go to its start again."""
    position = state[POSITION]
    state[POSITION] = 0
    return position


@njit(cache=True, _nrt=False, inline="always")
def _next_byte(state: np.ndarray, buf: np.ndarray) -> int:
    position = state[POSITION]
    state[POSITION] = position + 1
    if position < buf.shape[0]:
        return np.int64(buf[position])
    return 0  # past the end: zero bytes


@njit(cache=True)
def new_decoder(buf: np.ndarray) -> np.ndarray:
    """A decoder state on ``buf`` (uint8): the first six bytes read as the 48-bit code value."""
    state = np.zeros(STATE_SIZE, dtype=np.int64)
    state[RANGE] = MASK48
    code = 0
    for _ in range(6):
        code = (code << 8) | _next_byte(state, buf)
    state[CODE] = code
    return state


@njit(cache=True, _nrt=False, inline="always")
def _normalize_decoder(state: np.ndarray, buf: np.ndarray) -> None:
    while state[RANGE] < TOP:
        state[RANGE] <<= 8
        state[CODE] = ((state[CODE] << 8) | _next_byte(state, buf)) & MASK48


@njit(cache=True, _nrt=False, inline="always")
def decode_bit(state: np.ndarray, buf: np.ndarray, p1: int) -> int:
    """Decode one binary decision coded with P(bit = 1) = p1 / 2^16."""
    bound = (state[RANGE] >> 16) * (65536 - p1)
    if state[CODE] < bound:
        state[RANGE] = bound
        bit = 0
    else:
        state[CODE] -= bound
        state[RANGE] -= bound
        bit = 1
    _normalize_decoder(state, buf)
    return bit


@njit(cache=True, _nrt=False)
def decode_target(state: np.ndarray, buf: np.ndarray, total: int) -> int:
    """The cumulative count in [0, total) that the next symbol's interval contains (then call decode_symbol)."""
    target = state[CODE] // (state[RANGE] // total)
    return target if target < total else total - 1  # only a corrupt stream lands in the lost sliver


@njit(cache=True, _nrt=False)
def decode_symbol(state: np.ndarray, buf: np.ndarray, cum: int, freq: int, total: int) -> None:
    """Consume the symbol whose interval [cum, cum + freq) of total decode_target pointed into."""
    r = state[RANGE] // total
    state[CODE] -= cum * r
    state[RANGE] = freq * r
    _normalize_decoder(state, buf)


def check_bit_probability(p1: int) -> None:
    """Refuse a binary step probability outside 1..65535 (the compiled steps do not check)."""
    if not 1 <= p1 <= 65535:
        raise ValueError(f"p1 must be in 1..65535 (P(bit=1) = p1 / 2^16; got {p1})")


def check_symbol_interval(cum: int, freq: int, total: int) -> None:
    """Refuse a multi-symbol step outside 1 <= freq, cum + freq <= total <= 2^24."""
    if not (freq >= 1 and cum >= 0 and cum + freq <= total <= MAX_TOTAL):
        raise ValueError(f"need 0 <= cum, 1 <= freq, cum + freq <= total <= 2^24 (got cum={cum}, freq={freq}, "
                         f"total={total})")


class RangeEncoderReference:
    """The range coder in plain Python integers (the compiled one's reference: same bytes for the same steps)."""

    def __init__(self) -> None:
        self.low = 0
        self.range = MASK48
        self.held: list[int] = []  # the cache byte (if any) followed by pending 0xFF bytes
        self.output = bytearray()

    def _emit(self) -> None:
        carry, byte = self.low >> 48, (self.low >> 40) & 0xFF
        if carry or self.low < 0xFF0000000000:
            self.output.extend((b + carry) & 0xFF for b in self.held)
            self.held = [byte]
        else:
            self.held.append(0xFF)
        self.low = (self.low & MASK40) << 8

    def _renormalize(self) -> None:
        while self.range < TOP:
            self.range <<= 8
            self._emit()

    def encode_bit(self, p1: int, bit: int) -> None:
        """Binary step, P(bit = 1) = p1 / 2^16."""
        check_bit_probability(p1)
        bound = (self.range >> 16) * (65536 - p1)
        if bit:
            self.low, self.range = self.low + bound, self.range - bound
        else:
            self.range = bound
        self._renormalize()

    def encode_symbol(self, cum: int, freq: int, total: int) -> None:
        """Multi-symbol step, probability freq / total."""
        check_symbol_interval(cum, freq, total)
        r = self.range // total
        self.low, self.range = self.low + cum * r, freq * r
        self._renormalize()

    def finish(self) -> bytes:
        """The whole payload: the held bytes and the bytes of low down to the one holding bit k."""
        if self.range == MASK48 and not self.held:  # no step coded
            return bytes(self.output)
        k = 48
        while k > 0 and -(-self.low >> k << k) + (1 << k) > self.low + self.range:
            k -= 1
        self.low = -(-self.low >> k << k)
        for _ in range(7):
            self._emit()
        return bytes(self.output[: len(self.output) - 5 + (47 - k) // 8])


class RangeDecoderReference:
    """Decoder of :class:`RangeEncoderReference` (and of the compiled coder) in plain Python integers."""

    def __init__(self, payload: bytes) -> None:
        self.payload = bytes(payload)
        self.position = 0
        self.range = MASK48
        self.code = 0
        for _ in range(6):
            self.code = (self.code << 8) | self._next()

    def _next(self) -> int:
        byte = self.payload[self.position] if self.position < len(self.payload) else 0
        self.position += 1
        return byte

    def _renormalize(self) -> None:
        while self.range < TOP:
            self.range <<= 8
            self.code = ((self.code << 8) | self._next()) & MASK48

    def decode_bit(self, p1: int) -> int:
        """Binary step, P(bit = 1) = p1 / 2^16."""
        bound = (self.range >> 16) * (65536 - p1)
        if self.code < bound:
            self.range, bit = bound, 0
        else:
            self.code, self.range, bit = self.code - bound, self.range - bound, 1
        self._renormalize()
        return bit

    def decode_target(self, total: int) -> int:
        """The cumulative count the next symbol's interval contains."""
        return min(self.code // (self.range // total), total - 1)

    def decode_symbol(self, cum: int, freq: int, total: int) -> None:
        """Consume the symbol [cum, cum + freq) of total."""
        r = self.range // total
        self.code, self.range = self.code - cum * r, freq * r
        self._renormalize()
