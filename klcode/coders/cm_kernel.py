"""Coding bytes with the context-mixing model: the per-bit loop predict → range-code → update, compiled.

:func:`cm_kernel` is the one numba kernel of the ``cm`` model: for every bit
it asks the model (:mod:`klcode.models.context_mixing`) for P(bit = 1),
hands it to the range coder (:mod:`klcode.coders.arithmetic`), adds the
ideal cost −log2 q(bit) and lets the model learn the bit.  The drivers
:func:`encode` and :func:`decode` run it over blocks of bytes (output
copied out between blocks, progress reported per block) and are what
:mod:`klcode.coders.adaptive` calls for ``kind == "cm"``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from numba import njit

from ..errors import DataError
from ..models import context_mixing as cm
from ..models.context import ContextModelSpec
from . import arithmetic as ac

BLOCK = 1 << 16  # bytes per kernel call: the output buffer holds one block's worst case

#: sha256 (first 16 hex digits) of models/context_mixing.py + coders/arithmetic.py, the sources compiled into
#: cm_kernel.  numba's cache of cm_kernel is invalidated only when *this* file changes, not when the functions
#: it inlines do; a test checks this digest, so a change to either source must edit this line, which makes
#: numba recompile the kernel instead of loading a stale one.
KERNEL_SOURCES_DIGEST = "6337271944d6a58d"
KERNEL_SOURCES = ("models/context_mixing.py", "coders/arithmetic.py")


@njit(cache=True, _nrt=False)  # never allocates: no reference counting of its arrays (see arithmetic)
def cm_kernel(mode: int, learn: bool, data: np.ndarray, start: int, stop: int, coder: np.ndarray, out: np.ndarray,
              hashed: np.ndarray, direct: np.ndarray, maps: np.ndarray, apm: np.ndarray, weights: np.ndarray,
              history: np.ndarray, index: np.ndarray, recent: np.ndarray, regs: np.ndarray, orders: np.ndarray,
              costs: np.ndarray, per_token: np.ndarray) -> float:
    """Σ −log2 q(bit) over the bits of data[start:stop] run through the model: mode 0 trains, 1 encodes, 2 decodes.

    Mode 0 only updates the model (nothing coded, returns 0); mode 1 range-codes each bit into ``out``;
    mode 2 decodes each bit from ``out`` and writes the bytes into ``data``.  With ``learn`` False the model
    is frozen (nothing in its tables changes).  When ``per_token`` is non-empty, per_token[i] gets the ideal
    bits of byte i.
    """
    total = 0.0
    keep = per_token.shape[0] > 0
    for i in range(start, stop):
        byte = np.int64(data[i]) if mode != 2 else np.int64(0)
        cost = 0.0
        for j in range(7, -1, -1):
            p1 = cm.predict(hashed, direct, maps, apm, weights, history, regs, learn)
            if mode == 2:
                bit = ac.decode_bit(coder, out, p1)
                byte |= bit << j
            else:
                bit = (byte >> j) & 1
                if mode == 1:
                    ac.encode_bit(coder, out, p1, bit)
            cost += costs[p1] if bit else costs[65536 - p1]
            cm.update(hashed, direct, maps, apm, weights, regs, bit, learn)
        if mode == 2:
            data[i] = byte
        total += cost
        if keep:
            per_token[i] = cost
        regs[cm.C0] = 1
        regs[cm.BITS] = 0
        cm.next_byte(hashed, regs, orders, history, index, recent, byte, learn)
    return total if mode != 0 else 0.0


def run(state: cm.CMState, mode: int, learn: bool, data: np.ndarray, start: int, stop: int, coder: np.ndarray,
        out: np.ndarray, per_token: np.ndarray, *, reference: bool = False) -> float:
    """:func:`cm_kernel` on a model state; ``reference=True`` runs its plain-Python twin (``.py_func``: slow)."""
    kernel = cm_kernel.py_func if reference else cm_kernel
    return kernel(mode, learn, data, start, stop, coder, out, state.hashed, state.direct, state.maps, state.apm,
                  state.weights, state.history, state.index, state.recent, state.regs, state.orders, cm.COST_BITS,
                  per_token)


def worst_case_bytes(n_bytes: int) -> int:
    """Output bytes that coding n bytes can take at most: 8 binary steps of at most 16 bits each, plus slack."""
    return 16 * n_bytes + 16


def _check_bytes(ids: np.ndarray, alphabet_size: int, what: str) -> np.ndarray:
    ids = np.asarray(ids)
    if ids.ndim != 1:
        raise DataError(f"{what} must be a 1-d array of token ids (got shape {ids.shape})")
    if ids.size and (ids.dtype.kind not in "iu"):
        raise DataError(f"{what} must hold integer token ids (got dtype {ids.dtype})")
    if ids.size and (int(ids.min()) < 0 or int(ids.max()) >= alphabet_size):
        raise DataError(f"{what} holds ids outside 0..{alphabet_size - 1} (got {int(ids.min())}..{int(ids.max())})")
    data = np.ascontiguousarray(ids, dtype=np.uint8)
    return data if data.flags.writeable else data.copy()  # one array type for the kernel: one compilation


def _trained_state(spec: ContextModelSpec, train: Sequence[np.ndarray], alphabet_size: int,
                   reference: bool) -> cm.CMState:
    if alphabet_size > 256 or alphabet_size < 1:
        raise DataError(f"the cm model codes bytes: alphabet_size must be 1..256 (got {alphabet_size}); "
                        "code characters as their UTF-8 bytes")
    state = cm.new_state(spec.order, spec.memory_mib)
    nothing, no_out = np.zeros(0, dtype=np.float32), np.zeros(1, dtype=np.uint8)
    for number, stream in enumerate(train):
        data = _check_bytes(stream, alphabet_size, f"training stream {number}")
        for start in range(0, data.size, BLOCK):
            run(state, 0, True, data, start, min(start + BLOCK, data.size), ac.new_encoder(), no_out, nothing,
                reference=reference)
    return state


def encode(spec: ContextModelSpec, ids: np.ndarray, *, alphabet_size: int, train: Sequence[np.ndarray] = (),
           learn: bool = True, per_token: bool = False, progress: Callable[[int], None] | None = None,
           reference: bool = False, spellings: Sequence[bytes] | None = None) -> tuple[bytes, float, np.ndarray | None]:
    """Range-code byte ids with the model (trained first on ``train``): (payload, ideal bits, per-byte bits).

    ``spellings`` is accepted for the callers that pass it to every kind, and ignored: bytes spell themselves.
    """
    data = _check_bytes(ids, alphabet_size, "the stream")
    state = _trained_state(spec, train, alphabet_size, reference)
    coder = ac.new_encoder()
    out = np.zeros(worst_case_bytes(min(BLOCK, max(data.size, 1))), dtype=np.uint8)
    costs = np.zeros(data.size if per_token else 0, dtype=np.float32)
    chunks: list[bytes] = []
    ideal = 0.0
    for start in range(0, data.size, BLOCK):
        stop = min(start + BLOCK, data.size)
        need = worst_case_bytes(stop - start) + int(coder[ac.PENDING]) + 8
        if out.size < need:
            out = np.zeros(need, dtype=np.uint8)
        ideal += run(state, 1, learn, data, start, stop, coder, out, costs, reference=reference)
        chunks.append(out[: ac.drain(coder)].tobytes())
        if progress is not None:
            progress(stop - start)
    need = int(coder[ac.PENDING]) + 16
    if out.size < need:
        out = np.zeros(need, dtype=np.uint8)
    chunks.append(out[: ac.finish_encoder(coder, out)].tobytes())
    payload = b"".join(chunks)
    return payload, ideal, costs if per_token else None


def decode(spec: ContextModelSpec, payload: bytes, tokens: int, *, alphabet_size: int,
           train: Sequence[np.ndarray] = (), learn: bool = True, progress: Callable[[int], None] | None = None,
           reference: bool = False, spellings: Sequence[bytes] | None = None) -> np.ndarray:
    """The bytes (uint8) back from a payload of ``tokens`` bytes coded by :func:`encode` with the same settings."""
    state = _trained_state(spec, train, alphabet_size, reference)
    buf = np.frombuffer(bytes(payload), dtype=np.uint8).copy()  # writable, as the encoder's buffer: one compilation
    coder = ac.new_decoder(buf)
    data = np.zeros(tokens, dtype=np.uint8)
    nothing = np.zeros(0, dtype=np.float32)
    for start in range(0, tokens, BLOCK):
        stop = min(start + BLOCK, tokens)
        run(state, 2, learn, data, start, stop, coder, buf, nothing, reference=reference)
        if progress is not None:
            progress(stop - start)
    return data  # uint8: decode_adaptive hands out int64 ids, the verification compares these directly
