"""A context-mixing byte model: q(bit | past) from byte orders 1-6, the current word and a match model.

The approach of lpaq1 / paq8 (Matt Mahoney), written anew for klcode.  A
byte is coded as 8 binary decisions, most significant bit first; the
*partial byte* ``c0`` (1 followed by the bits of the byte seen so far) is
part of every context.  For each bit:

1. **Inputs.**  Each context (order 1 directly indexed; byte orders 2, 3,
   4 and 6 and the current word, hashed) points at a *bit history*: a state
   byte holding the counts (n0, n1) of the zeros and ones seen in that
   context (each at most 15; when a bit comes, the opposite count is
   discounted past 3 to n/2 + 2, so recent bits weigh more).  An adaptive
   map per context (a *StateMap*) turns the state into a probability,
   learnt with rate 1/(n + 1.5) for the n-th time it was used (n capped at
   1023).  The hashed contexts live in slots of 16 bytes, one per context
   and nibble (a checksum and the 15 nodes of the nibble's binary tree),
   found among 3 neighbours of a 64-byte line, the least used replaced.
   The word is the hash of the letters (A-Z folded to a-z) since the last
   non-letter.  The **match model** finds the most recent earlier
   occurrence of the last 6 bytes (by a hash, verified backwards, up to 62
   bytes) and predicts the bit of the byte that followed it, through a map
   indexed by the match length, that bit and that byte.  Every probability
   enters the mixer as stretch(p) = ln(p / (1 − p)).
2. **Mixer.**  A gated linear combination in the stretch domain,
   p = squash(Σ_i (w_i + v_i) · stretch(p_i)), with the weight vector w
   chosen out of 80 by the match length (or how many contexts were seen
   before) and the top 3 bits of the previous byte, and v out of 256 by the
   partial byte; both trained online to minimise the coding cost:
   w_i += η · stretch(p_i) · (bit − p), and the same for v_i.
3. **APM / SSE.**  An adaptive probability map refines p given the
   order-1 context (hashed to 14 bits), interpolating between 16 bins of
   stretch(p); its output is averaged 1:1 with p.

The final probability is handed to the range coder as ``p1 = P(bit = 1)`` in
units of 2^-16, clipped to 1..65535, and the ideal cost −log2 of the
probability of the bit that came is summed beside it.

Everything is integer arithmetic (12-bit probabilities in the mixer, 16-bit
at the coder, 22-bit in the maps), so encoder and decoder, on any machine,
compute the same predictions.  All tables are preallocated numpy arrays
(see :class:`CMState`; their size is fixed by ``memory_mib``); the per-bit
loop (predict → code → update) is one numba kernel
(:func:`klcode.coders.cm_kernel.cm_kernel`) built from the small njit
functions here (:func:`predict`, :func:`update`, :func:`next_byte`) and the
coder's (:mod:`klcode.coders.arithmetic`): model and coder stay apart in
source.  With ``learn=False`` nothing in the tables changes: a context never
seen reads as an empty history, the match model follows the training text
only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

# ----------------------------------------------------------------------------- fixed tables (integer, reproducible)
#: squash(x) = 4096 / (1 + e^(−x/256)) at x = −2048, −1920, ..., 2048 (33 points, rounded): interpolated between.
_SQUASH_POINTS = np.array([
    1, 2, 3, 6, 10, 16, 27, 45, 73, 120, 194, 310, 488, 747, 1101, 1546, 2047, 2549, 2994, 3348, 3607, 3785,
    3901, 3975, 4022, 4050, 4068, 4079, 4085, 4089, 4092, 4093, 4094], dtype=np.int64)


def _squash_table() -> np.ndarray:
    x = np.arange(-2047, 2048, dtype=np.int64)
    w = x & 127
    i = (x >> 7) + 16
    return (_SQUASH_POINTS[i] * (128 - w) + _SQUASH_POINTS[np.minimum(i + 1, 32)] * w + 64) >> 7


#: squash(d) for d = −2047..2047 (index d + 2047): the 12-bit probability of stretch value d.
SQUASH = _squash_table().astype(np.int32)


def _squash_py(d: int) -> int:
    return int(SQUASH[min(max(d, -2047), 2047) + 2047])


def _stretch_table() -> np.ndarray:
    """stretch(p) = the inverse of squash: the smallest d whose squash(d) >= p, for p = 0..4095."""
    table = np.empty(4096, dtype=np.int64)
    pi = 0
    for x in range(-2047, 2048):
        v = int(SQUASH[x + 2047])
        for j in range(pi, v + 1):
            table[j] = x
        pi = v + 1
    table[pi:] = 2047
    return table


STRETCH = _stretch_table().astype(np.int32)

MAX_COUNT = 15


def _state_tables() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Bit-history state s = 16·n0 + n1: next state after a bit, the initial 22-bit probability, the priority."""
    next_state = np.empty(512, dtype=np.uint8)
    initial = np.empty(256, dtype=np.uint32)
    priority = np.empty(256, dtype=np.uint8)
    for n0 in range(16):
        for n1 in range(16):
            s = 16 * n0 + n1
            for bit in (0, 1):
                a, b = (n0, n1) if bit == 0 else (n1, n0)  # a: count of the bit that came, b: the other
                a = min(a + 1, MAX_COUNT)
                if b > 3:
                    b = b // 2 + 2
                z, o = (a, b) if bit == 0 else (b, a)
                next_state[2 * s + bit] = 16 * z + o
            p = ((2 * n1 + 1) << 22) // (2 * (n0 + n1) + 2)  # (n1 + 1/2) / (n + 1)
            initial[s] = (p << 10) & 0xFFFFFC00
            priority[s] = n0 + n1
    return next_state, initial, priority


NEXT_STATE, STATE_INITIAL, STATE_PRIORITY = _state_tables()

#: 16384 / (2n + 3): the update step of a map entry used n times so far (rate 1 / (n + 1.5)).
MAP_RATE = (16384 // (2 * np.arange(1024, dtype=np.int64) + 3)).astype(np.int32)

#: −log2(p / 2^16) for p = 0..65536 (index 0 unused): the ideal cost of a bit given probability p / 2^16.
COST_BITS = np.concatenate(([0.0], -np.log2(np.arange(1, 65537, dtype=np.float64) / 65536.0)))

# ----------------------------------------------------------------------------- layout of the state
N_HASHED = 5  # byte orders 2, 3, 4, 6 (for order 6; see HASHED_ORDERS) and the current word
N_INPUTS = 1 + N_HASHED + 1 + 1  # order 1, hashed, match, bias
N_MAPS = 1 + N_HASHED  # StateMaps of the bit-history inputs: order 1, then the hashed contexts
MATCH_CONTEXTS = 56 * 256  # match StateMap: (length bucket, expected bit) x previous byte
MIXER_SETS = 80
APM_BINS = 16  # one 64-byte cache line per context
APM_CONTEXTS = 16384  # order 1 hashed to 14 bits: c0 ^ (c1 << 6), as lpaq1 (small enough to stay in cache)
SLOT = 16  # bytes per hash slot: checksum + 15 nodes of a nibble's binary tree
MAX_MATCH = 62
MIN_MATCH = 2  # a match shorter than this (a hash collision, mostly) is dropped
RECENT = 64  # ring of the recent bytes of the stream being coded (the match model's side)

# scalar registers in the int64 array ``regs``
C0, C4, C8, BITS, WORD, POS, MPTR, MLEN, MSET, PMIX = range(10)
MSET2, A2, MCTX, TOUCH, NRECENT, P16 = range(12, 18)
HASH = 24  # .. 24 + N_HASHED: the context hashes of the current byte
NODE = 32  # .. 32 + N_HASHED: the slot (byte offset) of each hashed context for the current nibble
INPUT = 40  # .. 40 + N_INPUTS: the stretched inputs of the current bit
MAPIDX = 56  # .. 56 + N_MAPS: the map entries used for the current bit
DIRECT = 72  # index of the order-1 node in the direct table
REGS = 80

#: hashed byte orders used for a given max order (the word contexts come on top)
HASHED_ORDERS = {2: (2, 2, 2, 2), 3: (2, 3, 3, 3), 4: (2, 3, 4, 4), 5: (2, 3, 4, 5), 6: (2, 3, 4, 6),
                 7: (2, 3, 5, 7), 8: (2, 4, 6, 8)}


@dataclass
class CMState:
    """All the memory of a context-mixing model: preallocated numpy arrays, updated in place by the kernel."""

    hashed: np.ndarray  # uint8: slots of 16 bytes (checksum + 15 bit-history states), + 1 scratch slot
    direct: np.ndarray  # uint8: order-1 bit-history states (previous byte x partial byte)
    maps: np.ndarray  # uint32: StateMaps (22-bit probability << 10 | count)
    apm: np.ndarray  # uint32: the two APMs, same format
    weights: np.ndarray  # int32: mixer weights, 16.16 fixed point
    history: np.ndarray  # uint8: match model buffer (a ring)
    index: np.ndarray  # int32: match model hash -> position in history
    recent: np.ndarray  # uint8: the last 64 bytes of the stream being coded
    regs: np.ndarray  # int64: registers (contexts, hashes, pointers) and per-bit scratch
    orders: np.ndarray  # int64: the 4 hashed byte orders

    @property
    def table_bytes(self) -> int:
        """Bytes held by all the tables."""
        return sum(a.nbytes for a in (self.hashed, self.direct, self.maps, self.apm, self.weights, self.history,
                                      self.index, self.recent, self.regs, self.orders))


def _aligned_zeros(size: int, dtype: type) -> np.ndarray:
    """``size`` zeros of ``dtype`` starting on a 64-byte boundary (a cache line)."""
    array = np.zeros(size + 64 // np.dtype(dtype).itemsize, dtype=dtype)
    skip = (-array.ctypes.data % 64) // array.itemsize
    return array[skip: skip + size]


def new_state(order: int, memory_mib: int) -> CMState:
    """A model started empty, with ``memory_mib`` MiB for its hashed tables and match model."""
    memory = memory_mib << 20
    n_slots = memory // 2 // SLOT
    maps = np.empty(N_MAPS * 256 + MATCH_CONTEXTS, dtype=np.uint32)
    maps[: N_MAPS * 256] = np.tile(STATE_INITIAL, N_MAPS)
    maps[N_MAPS * 256:] = np.uint32(1 << 31)
    apm_row = np.array([(int(_squash_py((i * 4096) // (APM_BINS - 1) - 2048)) << 20) for i in range(APM_BINS)],
                       dtype=np.uint32)
    apm = _aligned_zeros(APM_CONTEXTS * APM_BINS, np.uint32)
    apm[:] = np.tile(apm_row, APM_CONTEXTS)
    weights = np.full((MIXER_SETS + 256) * N_INPUTS, (1 << 16) // 12, dtype=np.int32)
    regs = np.zeros(REGS, dtype=np.int64)
    regs[C0] = 1
    return CMState(
        hashed=_aligned_zeros(n_slots * SLOT + SLOT, np.uint8),
        direct=np.zeros(65536, dtype=np.uint8),
        maps=maps, apm=apm, weights=weights,
        history=np.zeros(memory // 4, dtype=np.uint8),
        index=np.zeros(memory // 16, dtype=np.int32),
        recent=np.zeros(RECENT, dtype=np.uint8),
        regs=regs,
        orders=np.array(HASHED_ORDERS[order], dtype=np.int64),
    )


def table_memory_bytes(order: int, memory_mib: int) -> int:
    """The memory a model of this spec allocates, in bytes (the bound, whatever the input size)."""
    memory = memory_mib << 20
    fixed = 65536 + 4 * (N_MAPS * 256 + MATCH_CONTEXTS) + 4 * APM_BINS * APM_CONTEXTS
    fixed += 4 * (MIXER_SETS + 256) * N_INPUTS + RECENT + 8 * REGS + 32
    return (memory // 2 // SLOT) * SLOT + SLOT + memory // 4 + memory // 16 * 4 + fixed


# ----------------------------------------------------------------------------- small compiled pieces
@njit(cache=True, _nrt=False)
def _mix32(x: int) -> int:
    """A 32-bit integer hash (xorshift-multiply), products kept below 2^63."""
    x = ((x ^ (x >> 16)) * 0x45D9F3B) & 0xFFFFFFFF
    x = ((x ^ (x >> 16)) * 0x45D9F3B) & 0xFFFFFFFF
    return x ^ (x >> 16)


@njit(cache=True, _nrt=False)
def _squash(d: int) -> int:
    if d > 2047:
        d = 2047
    if d < -2047:
        d = -2047
    return SQUASH[d + 2047]


@njit(cache=True, _nrt=False)
def _find_slot(hashed: np.ndarray, key: int, learn: bool) -> int:
    """Byte offset of the slot of a 32-bit context key: one of 3 neighbours, replacing the least used on a miss."""
    n_slots = (hashed.shape[0] - SLOT) // SLOT
    check = (key >> 24) & 0xFF
    base = (key * 0x2F0B4C25 >> 8) & (n_slots - 1)
    for j in range(3):
        offset = (base ^ j) * SLOT
        if hashed[offset] == check:
            return offset
    if not learn:  # a frozen model creates nothing: an unseen context reads as the empty history
        return n_slots * SLOT
    best, best_priority = base * SLOT, 1 << 30
    for j in range(3):
        offset = (base ^ j) * SLOT
        priority = np.int64(STATE_PRIORITY[hashed[offset + 1]])
        if priority < best_priority:
            best, best_priority = offset, priority
    for k in range(SLOT):
        hashed[best + k] = 0
    hashed[best] = check
    return best


@njit(cache=True, _nrt=False)
def _map_p(maps: np.ndarray, index: int) -> int:
    """The 12-bit probability of a map entry."""
    return np.int64(maps[index]) >> 20


@njit(cache=True, _nrt=False)
def _map_update(maps: np.ndarray, index: int, bit: int, limit: int) -> None:
    """Move a map entry toward the bit with rate 1 / (n + 1.5), n = times used (capped at limit)."""
    entry = np.int64(maps[index])
    n = entry & 1023
    p = entry >> 10
    if n < limit:
        entry += 1
    else:
        entry = (entry & 0xFFFFFC00) | limit
    entry += (((bit << 22) - p) >> 3) * MAP_RATE[n] & -1024
    maps[index] = entry & 0xFFFFFFFF


@njit(cache=True, _nrt=False)
def _apm_p(apm: np.ndarray, regs: np.ndarray, slot: int, pr: int, context: int) -> int:
    """An APM's refinement (16-bit) of the 12-bit probability pr in a context; remembers the bin to update."""
    s = (np.int64(STRETCH[pr]) + 2048) * (APM_BINS - 1)
    weight = s & 4095
    index = context * APM_BINS + (s >> 12)
    regs[slot] = index + (weight >> 11)
    return ((np.int64(apm[index]) >> 10) * (4096 - weight) + (np.int64(apm[index + 1]) >> 10) * weight) >> 18


# ----------------------------------------------------------------------------- the model: predict and update
@njit(cache=True, _nrt=False, inline="always")
def next_byte(st_hashed, regs, orders, history, index, recent, byte: int, learn: bool) -> None:
    """After a whole byte: shift the byte histories, hash the contexts, update and extend the match."""
    c4 = ((regs[C4] << 8) | byte) & 0xFFFFFFFF
    c8 = ((regs[C8] << 8) | byte) & 0xFFFFFFFFFFFFFF
    regs[C4], regs[C8] = c4, c8
    # word contexts: letters folded to lower case
    if 65 <= byte <= 90:
        byte_lower = byte + 32
    else:
        byte_lower = byte
    if 97 <= byte_lower <= 122:
        regs[WORD] = ((regs[WORD] + byte_lower + 1) * 0x2F0B4C25) & 0xFFFFFFFF
    else:
        regs[WORD] = 0
    for k in range(4):
        n = orders[k]
        mask = (np.int64(1) << (8 * n)) - 1 if n < 7 else np.int64(0xFFFFFFFFFFFFFF)
        ctx = c8 & mask
        regs[HASH + k] = _mix32((ctx & 0xFFFFFFFF) ^ _mix32(((ctx >> 32) + n * 0x1000193 + k * 0x3C6EF35) & 0xFFFFFFFF))
    regs[HASH + 4] = _mix32(regs[WORD] ^ 0x5A17)
    # match model: the stream's recent bytes, then find or extend the match
    nrecent = regs[NRECENT]
    recent[nrecent & (RECENT - 1)] = byte
    nrecent += 1
    regs[NRECENT] = nrecent
    hmask = index.shape[0] - 1
    bmask = history.shape[0] - 1
    h6 = _mix32((c8 & 0xFFFFFFFF) ^ _mix32((c8 >> 32) & 0xFFFF)) & hmask
    pos = regs[POS]
    if learn:
        history[pos & bmask] = byte
        pos += 1
        regs[POS] = pos
    length = regs[MLEN]
    if length > 0:  # the last prediction was right (else it was reset to 0): extend
        regs[MPTR] = (regs[MPTR] + 1) & bmask
        if length < MAX_MATCH:
            regs[MLEN] = length + 1
    else:  # look the last 6 bytes up; the match length is the number of bytes that agree, verified backwards
        ptr = np.int64(index[h6])
        length = 0
        if ptr > 0:
            while length < MAX_MATCH and length < nrecent and length < min(pos, bmask) and \
                    history[(ptr - length - 1) & bmask] == recent[(nrecent - length - 1) & (RECENT - 1)]:
                length += 1
        if length < MIN_MATCH:
            length = 0
        regs[MPTR], regs[MLEN] = ptr & bmask, length
    if learn:
        index[h6] = pos & bmask


@njit(cache=True, _nrt=False, inline="always")
def predict(hashed, direct, maps, apm, weights, history, regs, learn: bool) -> int:
    """P(next bit = 1) in units of 2^-16 (1..65535), leaving in ``regs`` what the update needs."""
    c0 = regs[C0]
    bits = regs[BITS]
    c1 = regs[C4] & 0xFF
    apm_context = c0 ^ (c1 << 6)
    regs[TOUCH] = apm[apm_context * APM_BINS]  # start loading the APM's line now: it is needed last
    # bit-history inputs: direct order 1, then the hashed contexts' nodes in their nibble slots
    if bits == 0 or bits == 4:
        touch = 0
        n_slots = (hashed.shape[0] - SLOT) // SLOT
        for k in range(N_HASHED):  # load the slots' lines first, so that their cache misses overlap
            key = regs[HASH + k] if bits == 0 else (regs[HASH + k] ^ (c0 * 0x6F4F2A1)) & 0xFFFFFFFF
            regs[NODE + k] = key
            touch += np.int64(hashed[((key * 0x2F0B4C25 >> 8) & (n_slots - 1)) * SLOT])
        regs[NODE + N_HASHED] = touch
        for k in range(N_HASHED):
            regs[NODE + k] = _find_slot(hashed, regs[NODE + k], learn)
    elif bits == 2:  # the second nibble's slots are one of 4: start loading their lines now
        touch = 0
        n_slots = (hashed.shape[0] - SLOT) // SLOT
        for k in range(N_HASHED):
            for low in range(4):
                key = (regs[HASH + k] ^ ((c0 * 4 + low) * 0x6F4F2A1)) & 0xFFFFFFFF
                touch += np.int64(hashed[((key * 0x2F0B4C25 >> 8) & (n_slots - 1)) * SLOT])
        regs[NODE + N_HASHED] = touch
    # position of c0's node inside the nibble tree: 1..15
    if bits < 4:
        nib = c0
    else:
        nib = (c0 & ((1 << (bits - 4)) - 1)) | (1 << (bits - 4))
    regs[DIRECT] = c1 << 8 | c0
    state = np.int64(direct[regs[DIRECT]])
    regs[MAPIDX] = state
    regs[INPUT] = STRETCH[_map_p(maps, state)]
    n_in = 1
    for k in range(N_HASHED):
        state = np.int64(hashed[regs[NODE + k] + nib])
        regs[MAPIDX + 1 + k] = (1 + k) * 256 + state
        regs[INPUT + n_in] = STRETCH[_map_p(maps, (1 + k) * 256 + state)]
        n_in += 1
    # match model
    length = regs[MLEN]
    mctx = c0
    if length > 0:
        expected = np.int64(history[regs[MPTR]])
        if ((expected + 256) >> (8 - bits)) == c0:
            bit = (expected >> (7 - bits)) & 1
            if length < 16:
                mctx = length * 2 + bit
            else:
                mctx = (length >> 2) * 2 + bit + 24
            mctx = mctx * 256 + expected
        else:
            regs[MLEN] = 0
            length = 0
    regs[MCTX] = N_MAPS * 256 + mctx
    regs[INPUT + n_in] = STRETCH[_map_p(maps, N_MAPS * 256 + mctx)]
    n_in += 1
    regs[INPUT + n_in] = 256  # bias
    n_in += 1
    # mixer: weight set by match length (or how many contexts were seen) and the previous byte's top bits
    if length == 0:
        order = 0
        for k in range(4):
            if hashed[regs[NODE + k] + nib] != 0:
                order += 1
    else:
        order = 5 + (length >= 8) + (length >= 12) + (length >= 16) + (length >= 32)
    mset = (order + 10 * (c1 >> 5)) * N_INPUTS
    regs[MSET] = mset
    mset2 = (MIXER_SETS + c0) * N_INPUTS
    regs[MSET2] = mset2
    dot = 0
    for k in range(N_INPUTS):
        dot += regs[INPUT + k] * (np.int64(weights[mset + k]) + np.int64(weights[mset2 + k]))
    pr = _squash(dot >> 16)
    regs[PMIX] = pr
    # two APM stages, averaged 1:3 with their input
    p16 = pr << 4
    pr12 = p16 >> 4
    if pr12 < 1:
        pr12 = 1
    if pr12 > 4095:
        pr12 = 4095
    a2 = _apm_p(apm, regs, A2, pr12, apm_context)
    p16 = (p16 + a2) >> 1
    if p16 < 1:
        p16 = 1
    if p16 > 65535:
        p16 = 65535
    regs[P16] = p16
    return p16


@njit(cache=True, _nrt=False, inline="always")
def update(hashed, direct, maps, apm, weights, regs, bit: int, learn: bool) -> None:
    """Learn from the bit that came (when ``learn``) and advance the partial byte."""
    bits = regs[BITS]
    c0 = regs[C0]
    if learn:
        if bits < 4:
            nib = c0
        else:
            nib = (c0 & ((1 << (bits - 4)) - 1)) | (1 << (bits - 4))
        i = regs[DIRECT]
        direct[i] = NEXT_STATE[2 * np.int64(direct[i]) + bit]
        _map_update(maps, regs[MAPIDX], bit, 1023)
        for k in range(N_HASHED):
            i = regs[NODE + k] + nib
            hashed[i] = NEXT_STATE[2 * np.int64(hashed[i]) + bit]
            _map_update(maps, regs[MAPIDX + 1 + k], bit, 1023)
        _map_update(maps, regs[MCTX], bit, 1023)
        err = ((bit << 12) - regs[PMIX]) * 5
        mset = regs[MSET]
        mset2 = regs[MSET2]
        for k in range(N_INPUTS):
            weights[mset + k] = weights[mset + k] + ((regs[INPUT + k] * err + 0x8000) >> 16)
            weights[mset2 + k] = weights[mset2 + k] + ((regs[INPUT + k] * err + 0x8000) >> 16)
        _map_update(apm, regs[A2], bit, 255)
    regs[C0] = c0 * 2 + bit
    regs[BITS] = bits + 1
