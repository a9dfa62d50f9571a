"""Compiled loops of ``klcode models``: per-row divergences and integer frequencies, and the coding of a stream.

One pass over a block of rows of two models (logits, any float dtype) computes, per row, in nats:
KL(b‖t) = Σ b_i (ln b_i − ln t_i), KL(t‖b), JS = H(m) − (H(b) + H(t))/2 with m = (b + t)/2, the
negative log-likelihoods of the target, the argmax of each row, the overlap of the top-k sets,
llama.cpp's KL (base entries with stored log-probability ≤ −16 skipped, base not renormalized), and the
interval ``[cum, cum + freq)`` of the target under each model's integer frequencies.

**Frequencies** (:func:`row_frequencies`): with ``p_i = exp(l_i − max) / Σ_j exp(l_j − max)`` in float64,
``f_i = 1 + ⌊p_i · (T − V)⌋`` for a vocabulary of V and total T = 2^24, and the remainder
``T − Σ f_i`` added to the first most probable token: every token can be coded, the frequencies sum to T
exactly, and the arithmetic coder's cost of token x is −log2(f_x / T).  Encoder and decoder compute them
with the same function, in the same order (no fast-math), so they agree bit for bit.

The exponentials and logarithms are numpy's (vectorized); the kernels do the arithmetic.  The tests
compare every kernel with a plain numpy computation (``model_compare.reference_frequencies`` for the
frequencies, bit for bit).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from ..coders import arithmetic as ac

#: sha256 (first 16 hex digits) of the sources whose functions are compiled into these kernels (the coder's
#: steps are inlined).  numba's cache follows only this file; tests/test_kernel_caches.py checks the digest,
#: so a change to the coder must edit this line, and numba then recompiles instead of loading stale code.
KERNEL_SOURCES_DIGEST = "f2074414e1236fd4"
KERNEL_SOURCES = ("coders/arithmetic.py",)

TOTAL = 1 << 24
#: Columns of the per-row statistics array.
KL_BT, KL_TB, JS, NLL_B, NLL_T, TOP_B, TOP_T, TOP_K_SHARED, KL_LLAMA, CUM_B, FREQ_B, CUM_T, FREQ_T = range(13)
COLUMNS = 13


def exponentials(block: np.ndarray, out: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(e, 1/Σe, log-sum-exp, first argmax) of each row: e_i = exp(l_i − max l) in float64 (numpy's SIMD exp).

    ``out``: a float64 array of the block's shape to reuse (no fresh pages per block).  Encoder and decoder
    both call this on the same rows, so their frequencies agree bit for bit.
    """
    if out is None:
        out = np.empty(block.shape, dtype=np.float64)
    np.copyto(out, block)
    arg = out.argmax(axis=1).astype(np.int64)
    top = out[np.arange(len(out)), arg]
    out -= top[:, None]
    np.exp(out, out=out)
    sums = out.sum(axis=1)
    return out, 1.0 / sums, top + np.log(sums), arg


@njit(cache=True, nogil=True)
def _frequency(e: float, inverse_sum: float, scale: int) -> int:
    return 1 + np.int64(math.floor(e * inverse_sum * scale))


@njit(cache=True, nogil=True)
def row_frequencies(e: np.ndarray, inverse_sum: float, arg: int, total: int, freq: np.ndarray) -> None:
    """Integer frequencies of one row: f_i = 1 + ⌊e_i/Σe · (T − V)⌋, the remainder to the first argmax; Σ f = T."""
    n = e.shape[0]
    scale = total - n
    used = 0
    for i in range(n):
        f = _frequency(e[i], inverse_sum, scale)
        freq[i] = f
        used += f
    freq[arg] += total - used


@njit(cache=True, nogil=True, inline="always")
def _insert_top(values: np.ndarray, keys: np.ndarray, value: float, key: int) -> None:
    """Insert (value, key) into the descending top list (values, keys) if it beats the last entry; ties keep the
    earlier key (as argmax does)."""
    j = values.shape[0] - 1
    if value > values[j]:
        while j > 0 and value > values[j - 1]:
            values[j] = values[j - 1]
            keys[j] = keys[j - 1]
            j -= 1
        values[j] = value
        keys[j] = key


@njit(cache=True, nogil=True)
def compare_rows(base: np.ndarray, test: np.ndarray, eb: np.ndarray, et: np.ndarray, inv_b: np.ndarray,
                 inv_t: np.ndarray, lse_b: np.ndarray, lse_t: np.ndarray, arg_b: np.ndarray, arg_t: np.ndarray,
                 targets: np.ndarray, base_stored: bool, top_k: int, total: int, mixture: np.ndarray,
                 out: np.ndarray) -> None:
    """Per-row statistics of two blocks of logits into ``out`` [k × COLUMNS]; ``mixture`` gets m = (b + t)/2.

    ``eb``, ``inv_b``, ``lse_b``, ``arg_b`` (and the test's) come from :func:`exponentials`.  The JS column
    holds −(H(b) + H(t))/2 until the caller adds H(m) (its logarithms are numpy's).
    """
    rows, n = base.shape
    kb = np.empty(top_k, dtype=np.int64)
    kt = np.empty(top_k, dtype=np.int64)
    vb = np.empty(top_k, dtype=np.float64)
    vt = np.empty(top_k, dtype=np.float64)
    scale = total - n
    for r in range(rows):
        b = base[r]
        t = test[r]
        e_b = eb[r]
        e_t = et[r]
        m_r = mixture[r]
        tok = targets[r]
        ib = inv_b[r]
        it = inv_t[r]
        lb_shift = lse_b[r]
        lt_shift = lse_t[r]
        scale_stored = math.exp(lb_shift) if base_stored else 1.0
        kl_bt = 0.0
        kl_tb = 0.0
        h_b = 0.0
        h_t = 0.0
        kl_llama = 0.0
        for i in range(n):
            pb = e_b[i] * ib
            pt = e_t[i] * it
            lb = np.float64(b[i]) - lb_shift
            lt = np.float64(t[i]) - lt_shift
            d = lb - lt
            kl_bt += pb * d
            kl_tb -= pt * d
            h_b -= pb * lb
            h_t -= pt * lt
            m_r[i] = 0.5 * (pb + pt)
            raw = np.float64(b[i]) if base_stored else lb
            if raw > -16.0:
                kl_llama += pb * scale_stored * (raw - lt)
        # the target's interval under each model's frequencies
        cum_b = 0
        cum_t = 0
        for i in range(tok):
            cum_b += _frequency(e_b[i], ib, scale)
            cum_t += _frequency(e_t[i], it, scale)
        freq_b = _frequency(e_b[tok], ib, scale)
        freq_t = _frequency(e_t[tok], it, scale)
        used_b = cum_b + freq_b
        used_t = cum_t + freq_t
        for i in range(tok + 1, n):
            used_b += _frequency(e_b[i], ib, scale)
            used_t += _frequency(e_t[i], it, scale)
        ab = arg_b[r]
        at = arg_t[r]
        if ab < tok:
            cum_b += total - used_b
        elif ab == tok:
            freq_b += total - used_b
        if at < tok:
            cum_t += total - used_t
        elif at == tok:
            freq_t += total - used_t
        # top-k sets (first occurrence wins ties, as the argmax does)
        for j in range(top_k):
            vb[j] = -np.inf
            vt[j] = -np.inf
            kb[j] = -1
            kt[j] = -1
        for i in range(n):
            _insert_top(vb, kb, np.float64(b[i]), i)
            _insert_top(vt, kt, np.float64(t[i]), i)
        shared = 0
        for x in range(top_k):
            for y in range(top_k):
                if kb[x] == kt[y] and kb[x] >= 0:
                    shared += 1
        o = out[r]
        o[KL_BT] = kl_bt
        o[KL_TB] = kl_tb
        o[JS] = -0.5 * (h_b + h_t)
        o[NLL_B] = lb_shift - np.float64(b[tok])
        o[NLL_T] = lt_shift - np.float64(t[tok])
        o[TOP_B] = ab
        o[TOP_T] = at
        o[TOP_K_SHARED] = shared
        o[KL_LLAMA] = kl_llama
        o[CUM_B] = cum_b
        o[FREQ_B] = freq_b
        o[CUM_T] = cum_t
        o[FREQ_T] = freq_t


def add_mixture_entropy(mixture: np.ndarray, out: np.ndarray, logs: np.ndarray | None = None) -> None:
    """JS column += H(m) = −Σ m_i ln m_i (numpy's logarithms; m_i = 0 contributes 0); ``logs``: scratch."""
    if logs is None:
        logs = np.empty_like(mixture)
    logs.fill(0.0)
    np.log(mixture, out=logs, where=mixture > 0)
    out[:, JS] -= np.einsum("ij,ij->i", mixture, logs)


@njit(cache=True, nogil=True)
def encode_intervals(state: np.ndarray, out: np.ndarray, cums: np.ndarray, freqs: np.ndarray, total: int) -> int:
    """Range-code a run of intervals [cum, cum + freq) of ``total`` into ``out``; returns the bytes written."""
    for i in range(cums.shape[0]):
        ac.encode_symbol(state, out, cums[i], freqs[i], total)
    return ac.drain(state)


@njit(cache=True, nogil=True)
def decode_rows(state: np.ndarray, payload: np.ndarray, e: np.ndarray, inverse_sums: np.ndarray, args: np.ndarray,
                total: int, decoded: np.ndarray) -> None:
    """Decode one token per row from the range coder, each row's frequencies rebuilt from :func:`exponentials`."""
    n = e.shape[1]
    freq = np.empty(n, dtype=np.int64)
    for r in range(e.shape[0]):
        row_frequencies(e[r], inverse_sums[r], args[r], total, freq)
        target = ac.decode_target(state, payload, total)
        cum = 0
        x = 0
        while cum + freq[x] <= target:
            cum += freq[x]
            x += 1
        ac.decode_symbol(state, payload, cum, freq[x], total)
        decoded[r] = x
