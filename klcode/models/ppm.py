"""PPM over token ids: q(x | last k tokens) by escapes from order k to 0, then to a spelling (or a uniform new id).

The model (Cleary & Witten's prediction by partial matching, with the escape of
PPMD by Howard and absolute discounting in the manner of Kneser-Ney) keeps, for
each context of the last 1..k tokens, the counts of the tokens seen after it,
and order-0 counts of every token.  A token is coded at the highest order whose
context has seen it; on the way down every context that has not seen it codes
an *escape*:

* a symbol of count c weighs ``16·c − β16`` and the escape ``β16·d'``, with d' the
  context's symbols not yet excluded and β16 = ``discount`` (sixteenths; default
  11, β ≈ 0.69); ``discount=8`` is PPMD exactly and ``discount=0`` is PPMC
  (symbol weight c, escape d).  β = 11/16 codes words best of the discounts
  tried on the Canterbury texts and Genesis (``benchmarks/bench_ppm.py``;
  PPMD's 1/2 costs 1.4 % more), as absolute discounting in language modelling
  suggests; on bytes PPMD's 1/2 is better (alice29 at order 4: 2.18 against
  2.25 bits per byte), so byte users pass ``discount=8``;
* ``discount2`` / ``discount3`` (0: as the one before) discount symbols seen
  twice / 3 times or more apart, as modified Kneser-Ney does (escape Σ D(c));
  measured, they do not beat one discount on these texts;
* **exclusions**: symbols listed in a higher-order context that escaped are left
  out of the lower orders' totals (they cannot be the token);
* **update exclusion** (``update_exclusion=1``): a token coded at order j is
  counted in the contexts of orders j..k only, so lower orders count in how many
  contexts a token is new (Kneser-Ney's continuation counts);
* **order −1**: a token no context has seen escapes from order 0 too.  With
  ``spellings`` (any vocabulary: words, n-grams) it is then spelled, its bytes
  and an end marker coded by a second PPM over the 257 symbols (orders
  0..``spelling_order`` (default 4), context = the previous bytes of the same spelling, its
  own order −1 uniform over the byte values it has not seen); the decoder reads
  the spelling and names the token, so the vocabulary is rebuilt as it goes and
  every bit of it is counted.  Without spellings the alphabet ``0..V−1`` is
  known to both sides and a new id costs log2(number of ids not seen yet).
  Spelled tokens may spell a token already held (their probability is not
  renormalized away), a small redundancy of the spelling model.

Counts are halved (``c → ⌈c/2⌉``) in a context whose total would pass 2^24, the
range coder's limit, identically in encoder and decoder.

**Memory**: ``memory_mib`` bounds the context tables: up to half for the hashed
contexts (open addressing, linear probing, the full context checked on every
probe; 21 + 4k bytes a slot, filled to 3/4 at most) and the rest for the pooled
symbol lists (12 bytes a symbol: id, count, next).  When either is full the model
stops adding contexts and symbols (existing ones keep counting) — deterministic,
and still a valid code, since a symbol missing from a context escapes to a lower
order.  Order 0 takes 28 bytes per vocabulary id on top, and the spelling model
``max(1, memory_mib // 16)`` MiB.

>>> import numpy as np
>>> from klcode.models.context import ContextModelSpec
>>> ids = np.array([0, 1, 0, 1, 0, 1, 0, 1, 2, 0, 1], dtype=np.int64)
>>> coding = ppm_encode(ContextModelSpec.parse("ppm"), ids, alphabet_size=3)
>>> decoded = ppm_decode(ContextModelSpec.parse("ppm"), coding.payload, len(ids), alphabet_size=3)
>>> decoded.tolist() == ids.tolist(), round(coding.ideal_bits, 2), 8 * len(coding.payload)
(True, 15.89, 24)
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from ..errors import DataError, DecodeError
from .context import ContextModelError, ContextModelSpec

#: The ids one call of a compiled block handles (the granularity of ``progress``).
BLOCK_TOKENS = 1 << 16
#: The largest alphabet without spellings (order −1 codes a new id in one step of total ≤ 2^24).
MAX_CLOSED_ALPHABET = 1 << 24
#: The largest alphabet whose full next-token distributions :func:`next_token_distributions` gives.
MAX_DISTRIBUTION_ALPHABET = 1 << 16
_OUT_BYTES = 1 << 20
_EVENTS = 1 << 14


@dataclass(frozen=True)
class PpmSettings:
    """The parameters of the PPM model, read from a ``ppm`` :class:`ContextModelSpec`."""

    order: int
    memory_mib: int
    discount: int  # sixteenths of a count taken from a symbol seen once; 0 = PPMC
    spelling_order: int
    update_exclusion: bool
    discount2: int = 0  # from a symbol seen twice (0: as discount)
    discount3: int = 0  # from a symbol seen 3 times or more (0: as discount2)

    @classmethod
    def from_spec(cls, spec: ContextModelSpec) -> PpmSettings:
        if spec.kind != "ppm":
            raise ContextModelError(f"the PPM model needs a spec of kind 'ppm' (got {spec.kind!r})")
        return cls(spec.order, spec.memory_mib, spec.option("discount"), spec.option("spelling_order"),
                   bool(spec.option("update_exclusion")), spec.option("discount2"), spec.option("discount3"))

    @property
    def weights(self) -> tuple[int, int, int, int, int]:
        """(S, D1, D2, D3, E): a symbol of count c weighs S·c − D(c), the escape E·d' + Σ D(c) of the d' symbols."""
        if self.discount == 0:
            return 16, 0, 0, 0, 16
        second = self.discount2 or self.discount
        return 16, self.discount, second, self.discount3 or second, 0


@dataclass(frozen=True)
class PpmCoding:
    """A stream coded by the PPM model: the range-coded payload and the ideal Σ −log2 q(x_i | context) bits."""

    tokens: int
    payload: bytes
    ideal_bits: float
    per_token_bits: np.ndarray | None


def new_model_arrays(order: int, memory_mib: int, vocabulary: int, closed: bool,
                     weights: tuple[int, int, int, int, int], update_exclusion: bool) -> tuple:
    """The preallocated state of one PPM model (the tuple the kernels of :mod:`.ppm_kernels` take)."""
    from . import ppm_kernels as K

    budget = memory_mib << 20
    width = max(order, 1)
    slot_bytes = 21 + 4 * width
    slots = 16
    if order > 0:
        while slots * 2 * slot_bytes <= budget // 2:
            slots *= 2
    nodes = max(16, (budget - slots * slot_bytes) // 12) if order > 0 else 16
    meta = np.zeros(K.META_SIZE, dtype=np.int64)
    S, d1, d2, d3, e = weights
    meta[[K.K_, K.V_, K.S_, K.D1_, K.D2_, K.D3_, K.E_, K.MASK_, K.NCAP_, K.CLIM_, K.CLOSED_, K.UPDX_, K.EMAX_]] = (
        order, vocabulary, S, d1, d2, d3, e, slots - 1, nodes, slots * 3 // 4, int(closed), int(update_exclusion),
        e + max(d1, d2, d3))
    return (
        meta,
        np.zeros(vocabulary + 1, dtype=np.int64),  # fw
        np.zeros(vocabulary, dtype=np.int32),  # cnt0
        np.zeros(vocabulary + 1 if closed else 1, dtype=np.int32),  # seen
        np.zeros(slots, dtype=np.int8),  # ctx_ord
        np.zeros(slots * width, dtype=np.int32),  # ctx_tok
        np.zeros(slots, dtype=np.int32),  # ctx_head
        np.zeros(slots, dtype=np.int32),  # ctx_tot
        np.zeros(slots, dtype=np.int32),  # ctx_d
        np.zeros(nodes, dtype=np.int32),  # nsym
        np.zeros(nodes, dtype=np.int32),  # ncnt
        np.zeros(nodes, dtype=np.int32),  # nnext
        np.zeros(vocabulary, dtype=np.int64),  # stamp
        np.zeros(vocabulary, dtype=np.int32),  # excl
        np.full(order, -1, dtype=np.int32),  # hist
        np.zeros(2 * (order + 1), dtype=np.int64),  # scratch: slots and nodes of the last look-up
        np.zeros(slots, dtype=np.int32),  # ctx_tail
        np.zeros(slots, dtype=np.int32),  # ctx_dsum: Σ D(c) of the context's symbols
    )


class _Model:
    """A token model and its spelling model, trained on ``train``, with the id maps of a spelled vocabulary."""

    def __init__(self, settings: PpmSettings, alphabet_size: int, spellings: Sequence[bytes] | None,
                 train: Sequence[np.ndarray]) -> None:
        from . import ppm_kernels as K

        self.K = K
        self.closed = spellings is None
        if alphabet_size < 1:
            raise DataError(f"the alphabet of a PPM model needs at least one id (got alphabet_size {alphabet_size})")
        if self.closed and alphabet_size > MAX_CLOSED_ALPHABET:
            raise DataError(f"a PPM model without spellings takes at most 2^24 ids (got alphabet_size "
                            f"{alphabet_size}); pass the tokens' spellings")
        self.alphabet_size = alphabet_size
        self.model = new_model_arrays(settings.order, settings.memory_mib, alphabet_size, self.closed,
                                      settings.weights, settings.update_exclusion)
        self.speller = new_model_arrays(settings.spelling_order, max(1, settings.memory_mib // 16),
                                        K.END_OF_SPELLING + 1, True, settings.weights, settings.update_exclusion)
        if self.closed:
            self.ext2int = np.zeros(1, dtype=np.int64)
            self.sp_bytes = np.zeros(1, dtype=np.uint8)
            self.sp_off = np.zeros(2, dtype=np.int64)
            self.max_len = 0
            self.lookup: dict[bytes, int] = {}
        else:
            if len(spellings) < alphabet_size:
                raise DataError(f"a PPM model needs a spelling for every id (got {len(spellings)} spellings for "
                                f"alphabet_size {alphabet_size})")
            if any(not isinstance(s, (bytes, bytearray, memoryview)) for s in spellings[:alphabet_size]):
                bad = next(s for s in spellings if not isinstance(s, (bytes, bytearray, memoryview)))
                raise DataError(f"spellings must be bytes, one per id (got {type(bad).__name__} {bad!r:.40})")
            spellings = [bytes(s) for s in spellings[:alphabet_size]]
            self.lookup = {s: i for i, s in enumerate(spellings)}
            if len(self.lookup) < alphabet_size:
                raise DataError(f"the spellings of a PPM vocabulary must be distinct (got {alphabet_size - len(self.lookup)}"
                                f" repeated among {alphabet_size})")
            lengths = np.fromiter((len(s) for s in spellings), dtype=np.int64, count=alphabet_size)
            self.sp_off = np.zeros(alphabet_size + 1, dtype=np.int64)
            np.cumsum(lengths, out=self.sp_off[1:])
            self.sp_bytes = np.frombuffer(bytearray(b"".join(spellings) or b"\0"), dtype=np.uint8)
            self.max_len = int(lengths.max())
            self.ext2int = np.full(alphabet_size, -1, dtype=np.int64)
        self.trained = 0
        for stream in train:
            self.trained += self.run(_ids(stream, alphabet_size, "training stream"), mode=K.DRY, learn=True)

    def start(self) -> None:
        self.K.reset_history(self.model)

    def run(self, ids: np.ndarray, *, mode: int, learn: bool, cs: np.ndarray | None = None,
            out: list | None = None, per_token: np.ndarray | None = None,
            progress: Callable[[int], None] | None = None) -> float:
        """Train on (mode DRY) or encode (ENCODE, bytes appended to ``out``) ``ids``; returns the ideal bits."""
        K = self.K
        from ..coders.arithmetic import drain, new_encoder

        self.start()
        cs = new_encoder() if cs is None else cs
        buf = np.zeros(_OUT_BYTES if mode == K.ENCODE else 1, dtype=np.uint8)
        empty = np.zeros(0, dtype=np.float64)
        bits = 0.0
        for a in range(0, len(ids), BLOCK_TOKENS):
            chunk = np.ascontiguousarray(ids[a:a + BLOCK_TOKENS], dtype=np.int64)
            slots = per_token[a:a + len(chunk)] if per_token is not None else empty
            i = 0
            while i < len(chunk):
                j, more = K.encode_block(self.model, self.speller, cs, buf, chunk, i, len(chunk), self.ext2int,
                                         self.sp_bytes, self.sp_off, mode, learn, slots)
                bits += more
                if j < len(chunk):
                    written = drain(cs)
                    out.append(buf[:written].tobytes())
                    if j == i and written == 0:  # one token's spelling needs a larger buffer
                        buf = np.zeros(2 * len(buf), dtype=np.uint8)
                i = j
            if progress is not None:
                progress(len(chunk))
        if mode == K.ENCODE:
            out.append(buf[:drain(cs)].tobytes())
        return bits if mode == K.ENCODE else len(ids)


def _ids(ids: object, alphabet_size: int, what: str) -> np.ndarray:
    array = np.asarray(ids)
    if array.ndim != 1 or (array.size and array.dtype.kind not in "iu"):
        raise DataError(f"a {what} must be a 1-d integer array of ids (got dtype {array.dtype}, shape {array.shape})")
    if array.size and (int(array.min()) < 0 or int(array.max()) >= alphabet_size):
        raise DataError(f"ids of a {what} must be in 0..{alphabet_size - 1} (got {int(array.min())}..{int(array.max())})")
    return array


def ppm_encode(spec: ContextModelSpec, ids: np.ndarray, *, alphabet_size: int, train: Sequence[np.ndarray] = (),
               learn: bool = True, per_token: bool = False, progress: Callable[[int], None] | None = None,
               spellings: Sequence[bytes] | None = None) -> PpmCoding:
    """Range-code ``ids`` under the PPM model: payload bytes and ideal bits Σ −log2 q(x_i | x_<i).

    ``train`` streams are learned first (nothing coded); ``learn=False`` freezes the model after them.
    """
    from ..coders.arithmetic import finish_encoder, new_encoder

    settings = PpmSettings.from_spec(spec)
    ids = _ids(ids, alphabet_size, "stream to code")
    model = _Model(settings, alphabet_size, spellings, train)
    cs = new_encoder()
    pieces: list[bytes] = []
    bits_per_token = np.zeros(len(ids), dtype=np.float64) if per_token else None
    ideal = model.run(ids, mode=model.K.ENCODE, learn=learn, cs=cs, out=pieces, per_token=bits_per_token,
                      progress=progress)
    tail = np.zeros(int(cs[3]) + 16, dtype=np.uint8)
    pieces.append(tail[:finish_encoder(cs, tail)].tobytes())
    payload = b"".join(pieces)
    return PpmCoding(len(ids), payload, float(ideal),
                     bits_per_token.astype(np.float32) if bits_per_token is not None else None)


def ppm_decode(spec: ContextModelSpec, payload: bytes, tokens: int, *, alphabet_size: int,
               train: Sequence[np.ndarray] = (), learn: bool = True, spellings: Sequence[bytes] | None = None,
               progress: Callable[[int], None] | None = None) -> np.ndarray:
    """The ``tokens`` ids that :func:`ppm_encode` coded into ``payload`` with the same settings (int64)."""
    from ..coders.arithmetic import new_decoder

    settings = PpmSettings.from_spec(spec)
    model = _Model(settings, alphabet_size, spellings, train)
    K = model.K
    model.start()
    buf = np.frombuffer(bytearray(payload), dtype=np.uint8)  # writable: one compiled signature
    cs = new_decoder(buf)
    out = np.zeros(tokens, dtype=np.int64)
    if model.closed:
        events = _event_arrays(0)
        for i in range(0, tokens, BLOCK_TOKENS):
            stop = min(tokens, i + BLOCK_TOKENS)
            K.decode_block(model.model, model.speller, cs, buf, out, i, stop, learn, *events, 0, 0)
            if progress is not None:
                progress(stop - i)
        return out
    int2ext = np.full(alphabet_size, -1, dtype=np.int64)
    held = np.flatnonzero(model.ext2int >= 0)
    int2ext[model.ext2int[held]] = held
    ev_pos, ev_int, ev_off, ev_bytes = _event_arrays(model.max_len)
    frozen_pos: list[np.ndarray] = []
    frozen_ext: list[int] = []
    i = 0
    while i < tokens:
        ev_off[0] = 0
        j, n_ev = K.decode_block(model.model, model.speller, cs, buf, out, i, min(tokens, i + BLOCK_TOKENS), learn,
                                 ev_pos, ev_int, ev_off, ev_bytes, 0, model.max_len)
        if j < 0:
            raise DecodeError(f"corrupt PPM payload: a spelled token longer than the longest spelling "
                              f"({model.max_len} bytes) near token {i}")
        for k in range(n_ev):
            spelling = ev_bytes[ev_off[k]:ev_off[k + 1]].tobytes()
            ext = model.lookup.get(spelling)
            if ext is None:
                raise DecodeError(f"corrupt PPM payload: token {int(ev_pos[k])} spells {spelling[:40]!r}, "
                                  f"which is not in the vocabulary")
            if ev_int[k] >= 0:
                int2ext[ev_int[k]] = ext
            else:
                frozen_pos.append(ev_pos[k])
                frozen_ext.append(ext)
        if progress is not None and j > i:
            progress(j - i)
        i = j
    known = out >= 0
    out[known] = int2ext[out[known]]
    if frozen_pos:
        out[np.asarray(frozen_pos, dtype=np.int64)] = np.asarray(frozen_ext, dtype=np.int64)
    return out


def encode(spec: ContextModelSpec, ids: np.ndarray, *, alphabet_size: int, train: Sequence[np.ndarray] = (),
           learn: bool = True, per_token: bool = False, progress: Callable[[int], None] | None = None,
           spellings: Sequence[bytes] | None = None) -> tuple[bytes, float, np.ndarray | None]:
    """The backend of :func:`klcode.coders.adaptive.code_adaptive`: (payload, ideal bits, per-token bits)."""
    coding = ppm_encode(spec, ids, alphabet_size=alphabet_size, train=train, learn=learn, per_token=per_token,
                        progress=progress, spellings=spellings)
    return coding.payload, coding.ideal_bits, coding.per_token_bits


def decode(spec: ContextModelSpec, payload: bytes, tokens: int, *, alphabet_size: int,
           train: Sequence[np.ndarray] = (), learn: bool = True, progress: Callable[[int], None] | None = None,
           spellings: Sequence[bytes] | None = None) -> np.ndarray:
    """The backend of :func:`klcode.coders.adaptive.decode_adaptive`."""
    return ppm_decode(spec, payload, tokens, alphabet_size=alphabet_size, train=train, learn=learn,
                      spellings=spellings, progress=progress)


def _event_arrays(max_len: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    size = 1 if max_len == 0 else _EVENTS
    return (np.zeros(size, dtype=np.int64), np.zeros(size, dtype=np.int64), np.zeros(size + 1, dtype=np.int64),
            np.zeros(max(1, 16 * (max_len + 1), size * 8 if max_len else 1), dtype=np.uint8))


def next_token_distributions(spec: ContextModelSpec, ids: np.ndarray, *, alphabet_size: int,
                             train: Sequence[np.ndarray] = (), learn: bool = False,
                             chunk: int | None = None) -> Iterator[np.ndarray]:
    """q(· | x_<i) at every position i of ``ids``: float64 rows of ``alphabet_size``, in chunks of rows.

    Each row is exactly the distribution the coder would be given before ``ids[i]``
    (escapes, exclusions, order −1 over the unseen ids), so
    Σ_i −log2 row_i[ids[i]] is :func:`ppm_encode`'s ideal bits with the same settings.
    Closed alphabets only (no spellings: a spelled vocabulary is open), at most 2^16 ids.
    """
    if alphabet_size > MAX_DISTRIBUTION_ALPHABET:
        raise DataError(f"next-token distributions take at most 2^16 ids (got alphabet_size {alphabet_size})")
    settings = PpmSettings.from_spec(spec)
    ids = _ids(ids, alphabet_size, "stream")
    rows_per_chunk = chunk if chunk is not None else max(1, (1 << 22) // alphabet_size)
    if rows_per_chunk < 1:
        raise DataError(f"chunk must be at least 1 row (got {chunk})")
    return _distributions(settings, ids, alphabet_size, train, learn, rows_per_chunk)


def _distributions(settings: PpmSettings, ids: np.ndarray, alphabet_size: int, train: Sequence[np.ndarray],
                   learn: bool, rows_per_chunk: int) -> Iterator[np.ndarray]:
    model = _Model(settings, alphabet_size, None, train)
    model.start()
    for a in range(0, len(ids), rows_per_chunk):
        chunk = np.ascontiguousarray(ids[a:a + rows_per_chunk], dtype=np.int64)
        rows = np.empty((len(chunk), alphabet_size), dtype=np.float64)
        model.K.distribution_block(model.model, chunk, 0, len(chunk), rows, learn)
        yield rows
