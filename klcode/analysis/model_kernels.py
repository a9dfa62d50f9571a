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

Every kernel has a plain numpy reference in :mod:`klcode.analysis.model_compare` (``reference_*``),
which the tests compare with it.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from ..coders import arithmetic as ac

TOTAL = 1 << 24
#: Columns of the per-row statistics array.
KL_BT, KL_TB, JS, NLL_B, NLL_T, TOP_B, TOP_T, TOP_K_SHARED, KL_LLAMA, CUM_B, FREQ_B, CUM_T, FREQ_T = range(13)
COLUMNS = 13


@njit(cache=True)
def _normalizer(row: np.ndarray, scratch: np.ndarray) -> tuple[float, float, int]:
    """(max, Σ exp(l_i − max), first argmax) of a row; scratch[i] = exp(l_i − max) in float64."""
    n = row.shape[0]
    top = np.float64(row[0])
    arg = 0
    for i in range(1, n):
        v = np.float64(row[i])
        if v > top:
            top = v
            arg = i
    total = 0.0
    for i in range(n):
        e = math.exp(np.float64(row[i]) - top)
        scratch[i] = e
        total += e
    return top, total, arg


@njit(cache=True)
def _frequency(e: float, inverse_sum: float, scale: int) -> int:
    return 1 + np.int64(math.floor(e * inverse_sum * scale))


@njit(cache=True)
def row_frequencies(row: np.ndarray, total: int, scratch: np.ndarray, freq: np.ndarray) -> None:
    """Integer frequencies of one row: f_i = 1 + ⌊p_i (T − V)⌋, the remainder to the first argmax; Σ f = T."""
    n = row.shape[0]
    top, s, arg = _normalizer(row, scratch)
    inverse = 1.0 / s
    scale = total - n
    used = 0
    for i in range(n):
        f = _frequency(scratch[i], inverse, scale)
        freq[i] = f
        used += f
    freq[arg] += total - used


@njit(cache=True)
def compare_rows(base: np.ndarray, test: np.ndarray, targets: np.ndarray, base_stored: bool, top_k: int,
                 total: int, out: np.ndarray) -> None:
    """Per-row statistics of two blocks of logits (see the module docstring) into ``out`` [k × COLUMNS]."""
    rows, n = base.shape
    eb = np.empty(n, dtype=np.float64)
    et = np.empty(n, dtype=np.float64)
    kb = np.empty(top_k, dtype=np.int64)
    kt = np.empty(top_k, dtype=np.int64)
    vb = np.empty(top_k, dtype=np.float64)
    vt = np.empty(top_k, dtype=np.float64)
    scale = total - n
    for r in range(rows):
        b = base[r]
        t = test[r]
        tok = targets[r]
        mb, sb, ab = _normalizer(b, eb)
        mt, st, at = _normalizer(t, et)
        lse_b = mb + math.log(sb)
        lse_t = mt + math.log(st)
        ib = 1.0 / sb
        it = 1.0 / st
        scale_stored = math.exp(lse_b) if base_stored else 1.0
        kl_bt = 0.0
        kl_tb = 0.0
        h_m = 0.0
        h_b = 0.0
        h_t = 0.0
        kl_llama = 0.0
        used_b = 0
        used_t = 0
        cum_b = 0
        cum_t = 0
        freq_b = 0
        freq_t = 0
        for j in range(top_k):
            vb[j] = -np.inf
            vt[j] = -np.inf
            kb[j] = -1
            kt[j] = -1
        for i in range(n):
            pb = eb[i] * ib
            pt = et[i] * it
            lb = np.float64(b[i]) - lse_b
            lt = np.float64(t[i]) - lse_t
            d = lb - lt
            kl_bt += pb * d
            kl_tb -= pt * d
            h_b -= pb * lb
            h_t -= pt * lt
            m = 0.5 * (pb + pt)
            if m > 0.0:
                h_m -= m * math.log(m)
            raw = np.float64(b[i]) if base_stored else lb
            if raw > -16.0:
                kl_llama += pb * scale_stored * (raw - lt)
            fb = _frequency(eb[i], ib, scale)
            ft = _frequency(et[i], it, scale)
            used_b += fb
            used_t += ft
            if i < tok:
                cum_b += fb
                cum_t += ft
            elif i == tok:
                freq_b = fb
                freq_t = ft
            # top-k sets (first occurrence wins ties, as the argmax does)
            vbi = np.float64(b[i])
            if vbi > vb[top_k - 1]:
                j = top_k - 1
                while j > 0 and vbi > vb[j - 1]:
                    vb[j] = vb[j - 1]
                    kb[j] = kb[j - 1]
                    j -= 1
                vb[j] = vbi
                kb[j] = i
            vti = np.float64(t[i])
            if vti > vt[top_k - 1]:
                j = top_k - 1
                while j > 0 and vti > vt[j - 1]:
                    vt[j] = vt[j - 1]
                    kt[j] = kt[j - 1]
                    j -= 1
                vt[j] = vti
                kt[j] = i
        rest_b = total - used_b
        rest_t = total - used_t
        if ab < tok:
            cum_b += rest_b
        elif ab == tok:
            freq_b += rest_b
        if at < tok:
            cum_t += rest_t
        elif at == tok:
            freq_t += rest_t
        shared = 0
        for x in range(top_k):
            for y in range(top_k):
                if kb[x] == kt[y] and kb[x] >= 0:
                    shared += 1
        o = out[r]
        o[KL_BT] = kl_bt
        o[KL_TB] = kl_tb
        o[JS] = h_m - 0.5 * (h_b + h_t)
        o[NLL_B] = lse_b - np.float64(b[tok])
        o[NLL_T] = lse_t - np.float64(t[tok])
        o[TOP_B] = ab
        o[TOP_T] = at
        o[TOP_K_SHARED] = shared
        o[KL_LLAMA] = kl_llama
        o[CUM_B] = cum_b
        o[FREQ_B] = freq_b
        o[CUM_T] = cum_t
        o[FREQ_T] = freq_t


@njit(cache=True)
def encode_intervals(state: np.ndarray, out: np.ndarray, cums: np.ndarray, freqs: np.ndarray, total: int) -> int:
    """Range-code a run of intervals [cum, cum + freq) of ``total`` into ``out``; returns the bytes written."""
    for i in range(cums.shape[0]):
        ac.encode_symbol(state, out, cums[i], freqs[i], total)
    return ac.drain(state)


@njit(cache=True)
def decode_rows(state: np.ndarray, payload: np.ndarray, rows: np.ndarray, total: int, decoded: np.ndarray) -> None:
    """Decode one token per row of logits (the model's rows at these positions) from the range coder."""
    n = rows.shape[1]
    scratch = np.empty(n, dtype=np.float64)
    freq = np.empty(n, dtype=np.int64)
    for r in range(rows.shape[0]):
        row_frequencies(rows[r], total, scratch, freq)
        target = ac.decode_target(state, payload, total)
        cum = 0
        x = 0
        while cum + freq[x] <= target:
            cum += freq[x]
            x += 1
        ac.decode_symbol(state, payload, cum, freq[x], total)
        decoded[r] = x
