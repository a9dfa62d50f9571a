"""Compiled loops of the token PPM (:mod:`klcode.models.ppm`): q(x | context) by escapes from order k down to −1.

One model instance is a tuple of preallocated arrays (see :func:`klcode.models.ppm.new_model_arrays`):

``meta`` (int64 scalars, indices below), ``fw`` (Fenwick tree of the order-0 weights over internal ids),
``cnt0`` (order-0 counts), ``seen`` (Fenwick tree of "id has been seen" indicators, closed alphabets only),
the hashed context table ``ctx_ord`` (order + 1, 0 = empty slot), ``ctx_tok`` (the full context, checked on
every probe), ``ctx_head`` (first node of the context's symbol list), ``ctx_tot`` (Σ weights of its symbols),
``ctx_d`` (distinct symbols), the node pool ``nsym`` / ``ncnt`` / ``nnext``, the exclusion stamps ``stamp``,
the exclusion list ``excl``, the history ``hist`` (last ``k`` internal ids, −1 = before the start, −2 = a
token the model does not hold), a scratch array (the slots and nodes the last look-up found, for the update)
``ctx_tail`` (the last node of each context's list) and ``ctx_dsum`` (Σ D(c) of its symbols).

A symbol of count c weighs ``S·c − D(c)`` and a context's escape weighs ``E·d' + Σ D(c)`` over its d' symbols
not excluded by higher orders (0 when no symbol of a closed alphabet would be left below), with the discount
D(c) = D1, D2 or D3 for c = 1, 2, ≥ 3 (S = 16; the discounts of modified Kneser-Ney smoothing).  PPMD is
D1 = D2 = D3 = 8, E = 0; PPMC is D = 0, E = 16.  Nothing here allocates per token, prints or reads files; the
coder calls are those of :mod:`klcode.coders.arithmetic`.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from ..coders.arithmetic import MAX_TOTAL, PENDING, POSITION, decode_symbol, decode_target, encode_symbol

# Every kernel is compiled without numba's reference counting (_nrt=False): nothing here allocates, and with
# it each call of a helper that takes the model tuple paid ~1 µs of reference-count updates of its 16 arrays.

#: sha256 (first 16 hex digits) of coders/arithmetic.py, whose steps are compiled into these kernels.  numba's
#: cache is invalidated only when *this* file changes, not when a function it calls does; a test checks the
#: digest, so a change to the coder must edit this line, and numba then recompiles instead of loading stale code.
KERNEL_SOURCES_DIGEST = "f2074414e1236fd4"
KERNEL_SOURCES = ("coders/arithmetic.py",)

# indices into meta
(K_, V_, S_, D1_, D2_, D3_, E_, MASK_, NCAP_, NUSED_, CUSED_, CLIM_, D0_, CLOSED_, UPDX_, STAMP_, FWTOT_, DSUM0_,
 EMAX_) = range(19)
META_SIZE = 20
_HASH_MASK = (1 << 38) - 1
ENCODE, DECODE, DRY = 0, 1, 2
#: The end-of-spelling marker of the spelling model (bytes are 0..255).
END_OF_SPELLING = 256


@njit(cache=True, _nrt=False)
def _prefix(tree, i):
    """Σ of the first i elements of a Fenwick tree (1-indexed array of n + 1 entries)."""
    s = 0
    while i > 0:
        s += tree[i]
        i -= i & -i
    return s


@njit(cache=True, _nrt=False)
def _add(tree, i, delta):
    n = tree.shape[0] - 1
    j = i + 1
    while j <= n:
        tree[j] += delta
        j += j & -j


@njit(cache=True, _nrt=False)
def _descend(tree, t, complement):
    """(i, offset): the element i whose interval of the prefix sums contains t, and t − prefix(i).

    With ``complement`` the elements are 1 − indicator (the k-th unseen id).
    """
    n = tree.shape[0] - 1
    step = 1
    while step * 2 <= n:
        step *= 2
    pos = 0
    while step > 0:
        nxt = pos + step
        if nxt <= n:
            value = step - tree[nxt] if complement else tree[nxt]
            if value <= t:
                pos = nxt
                t -= value
        step >>= 1
    return pos, t


@njit(cache=True, _nrt=False)
def _discount(meta, c):
    """D(c): the discount of a symbol of count c >= 1."""
    if c >= 3:
        return meta[D3_]
    if c == 2:
        return meta[D2_]
    return meta[D1_]


@njit(cache=True, _nrt=False)
def _sift(a, root, n):
    while True:
        child = 2 * root + 1
        if child >= n:
            return
        if child + 1 < n and a[child + 1] > a[child]:
            child += 1
        if a[root] >= a[child]:
            return
        a[root], a[child] = a[child], a[root]
        root = child


@njit(cache=True, _nrt=False)
def _heapsort(a, n):
    """Sort a[:n] in place (ascending), without allocating."""
    for root in range(n // 2 - 1, -1, -1):
        _sift(a, root, n)
    for end in range(n - 1, 0, -1):
        a[0], a[end] = a[end], a[0]
        _sift(a, 0, end)


@njit(cache=True, _nrt=False)
def _rebuild(M):
    """Recompute the order-0 Fenwick tree and its total from the counts (after halving)."""
    meta, fw, cnt0 = M[0], M[1], M[2]
    S = meta[S_]
    n = fw.shape[0] - 1
    total = 0
    discounts = 0
    fw[0] = 0
    for i in range(n):
        w = 0
        if cnt0[i] > 0:
            d = _discount(meta, cnt0[i])
            w = S * cnt0[i] - d
            discounts += d
        fw[i + 1] = w
        total += w
    for i in range(1, n + 1):
        j = i + (i & -i)
        if j <= n:
            fw[j] += fw[i]
    meta[FWTOT_] = total
    meta[DSUM0_] = discounts


@njit(cache=True, _nrt=False)
def _find(M, o, insert):
    """Slot of the order-o context of the current history (created when ``insert`` and there is room), or −1."""
    meta, ctx_ord, ctx_tok, ctx_head, ctx_tot, ctx_d, hist = M[0], M[4], M[5], M[6], M[7], M[8], M[14]
    K = meta[K_]
    h = o + 1  # a multiplicative hash kept below 2^62: signed overflow is undefined in compiled code
    for j in range(o):
        t = hist[K - 1 - j]
        if t == -2:
            return -1
        h = ((h * 10368889 + t + 3) & _HASH_MASK) * 10368889 & _HASH_MASK
    h ^= h >> 19
    mask = meta[MASK_]
    i = h & mask
    while True:
        od = ctx_ord[i]
        if od == 0:
            if not insert or meta[CUSED_] >= meta[CLIM_] or meta[NUSED_] >= meta[NCAP_]:
                return -1
            ctx_ord[i] = o + 1
            for j in range(o):
                ctx_tok[i * K + j] = hist[K - 1 - j]
            ctx_head[i] = -1
            M[16][i] = -1
            M[17][i] = 0
            ctx_tot[i] = 0
            ctx_d[i] = 0
            meta[CUSED_] += 1
            return i
        if od == o + 1:
            same = True
            for j in range(o):
                if ctx_tok[i * K + j] != hist[K - 1 - j]:
                    same = False
                    break
            if same:
                return i
        i = (i + 1) & mask


@njit(cache=True, _nrt=False)
def _halve_context(M, s):
    meta, ctx_head, ctx_tot, ncnt, nnext, ctx_dsum = M[0], M[6], M[7], M[10], M[11], M[17]
    S = meta[S_]
    total = 0
    discounts = 0
    node = ctx_head[s]
    while node >= 0:
        ncnt[node] = (ncnt[node] + 1) >> 1
        d = _discount(meta, ncnt[node])
        total += S * ncnt[node] - d
        discounts += d
        node = nnext[node]
    ctx_tot[s] = total
    ctx_dsum[s] = discounts


@njit(cache=True, _nrt=False)
def _increment(M, s, node):
    """Count the symbol of ``node`` once more in context s; halve first if the total could pass 2^24."""
    meta, ctx_tot, ctx_d, ncnt = M[0], M[7], M[8], M[10]
    S, e = meta[S_], meta[EMAX_]  # e: a bound of the escape weight per symbol
    if ctx_tot[s] + S + e * (ctx_d[s] + 1) > MAX_TOTAL:  # the growth is at most S + max D
        _halve_context(M, s)
        if ctx_tot[s] + S + e * (ctx_d[s] + 1) > MAX_TOTAL:
            return
    c = ncnt[node]
    ncnt[node] = c + 1
    more = _discount(meta, c + 1) - _discount(meta, c)
    ctx_tot[s] += S - more
    M[17][s] += more


@njit(cache=True, _nrt=False)
def _append(M, s, x):
    """Add x (not listed yet) to the end of context s with count 1, if the pool and the total have room."""
    meta, ctx_head, ctx_tot, ctx_d, nsym, ncnt, nnext, ctx_tail = M[0], M[6], M[7], M[8], M[9], M[10], M[11], M[16]
    S, e = meta[S_], meta[EMAX_]
    if meta[NUSED_] >= meta[NCAP_]:
        return
    if ctx_tot[s] + S + e * (ctx_d[s] + 1) > MAX_TOTAL:
        _halve_context(M, s)
        if ctx_tot[s] + S + e * (ctx_d[s] + 1) > MAX_TOTAL:
            return
    new = meta[NUSED_]
    meta[NUSED_] += 1
    nsym[new] = x
    ncnt[new] = 1
    nnext[new] = -1
    if ctx_tail[s] < 0:
        ctx_head[s] = new
    else:
        nnext[ctx_tail[s]] = new
    ctx_tail[s] = new
    ctx_tot[s] += S - meta[D1_]
    M[17][s] += meta[D1_]
    ctx_d[s] += 1


@njit(cache=True, _nrt=False)
def _count_in_context(M, s, x):
    """Count x once more in context s (appended if not listed)."""
    ctx_head, nsym, nnext = M[6], M[9], M[11]
    node = ctx_head[s]
    while node >= 0:
        if nsym[node] == x:
            _increment(M, s, node)
            return
        node = nnext[node]
    _append(M, s, x)


@njit(cache=True, _nrt=False)
def _count_order0(M, x):
    """Count x once more at order 0 (x new: its count becomes 1); False when the total has no room for a new id."""
    meta, fw, cnt0, seen = M[0], M[1], M[2], M[3]
    S, e = meta[S_], meta[EMAX_]
    new = cnt0[x] == 0
    d = meta[D0_] + (1 if new else 0)
    if meta[FWTOT_] + S + e * (d + 1) > MAX_TOTAL:  # the growth is at most S + max D
        for i in range(cnt0.shape[0]):
            cnt0[i] = (cnt0[i] + 1) >> 1
        _rebuild(M)
        if meta[FWTOT_] + S + e * (d + 1) > MAX_TOTAL:
            return False
    c = cnt0[x]
    more = _discount(meta, c + 1) - (_discount(meta, c) if c > 0 else 0)
    grow = S - more
    cnt0[x] = c + 1
    _add(fw, x, grow)
    meta[FWTOT_] += grow
    meta[DSUM0_] += more
    if new:
        meta[D0_] += 1
        if meta[CLOSED_]:
            _add(seen, x, 1)
    return True


@njit(cache=True, _nrt=False)
def find_order(M, x):
    """The order PPM codes x at: the highest order whose context lists x; 0 if only order 0 has it; −1 if new.

    Like :func:`code_orders` it leaves the slots of the contexts it looked at (and x's node) for :func:`update`.
    """
    meta, cnt0, ctx_head, nsym, nnext, scratch = M[0], M[2], M[6], M[9], M[11], M[15]
    K = meta[K_]
    held = x >= 0 and cnt0[x] > 0
    for o in range(K, 0, -1):
        s = _find(M, o, False)
        scratch[o] = s
        if s < 0 or not held:
            continue
        node = ctx_head[s]
        while node >= 0:
            if nsym[node] == x:
                scratch[K + 1 + o] = node
                return o
            node = nnext[node]
    return 0 if held else -1


@njit(cache=True, _nrt=False)
def update(M, x, found):
    """Learn x coded at order ``found``: orders found..k (all with update exclusion off); True if x is held."""
    meta, scratch = M[0], M[15]
    K = meta[K_]
    if found == -1:
        if not _count_order0(M, x):
            return False
    elif found == 0 or not meta[UPDX_]:
        _count_order0(M, x)
    if not meta[UPDX_]:
        for o in range(1, K + 1):
            s = _find(M, o, True)
            if s >= 0:
                _count_in_context(M, s, x)
        return True
    # the contexts of orders found..k were just looked at (code_orders / find_order left their slots): x is
    # listed at order found (its node is known) and in none above, so nothing needs a scan
    for o in range(max(found, 1), K + 1):
        if o == found:
            _increment(M, scratch[o], scratch[K + 1 + o])
            continue
        s = scratch[o]
        if s < 0:
            s = _find(M, o, True)
        if s >= 0:
            _append(M, s, x)
    return True


@njit(cache=True, _nrt=False)
def push_history(M, token):
    hist = M[14]
    K = hist.shape[0]
    for j in range(K - 1):
        hist[j] = hist[j + 1]
    if K > 0:
        hist[K - 1] = token


@njit(cache=True, _nrt=False)
def reset_history(M):
    M[14][:] = -1


@njit(cache=True, _nrt=False)
def code_orders(M, cs, buf, x, mode):
    """Code (or decode) one symbol at orders k..0: returns (symbol or −1 after the order-0 escape, order, bits).

    ``x`` is the internal id (encode; −1 if the model does not hold it); the bits are Σ log2(total/freq) of the
    steps given to the coder.
    """
    meta, fw, cnt0 = M[0], M[1], M[2]
    ctx_head, nsym, ncnt, nnext, stamp, excl, scratch = M[6], M[9], M[10], M[11], M[12], M[13], M[15]
    ctx_tot, ctx_d, ctx_dsum = M[7], M[8], M[17]
    K, V, S, e, closed = meta[K_], meta[V_], meta[S_], meta[E_], meta[CLOSED_]
    decoding = mode == DECODE
    meta[STAMP_] += 1
    st = meta[STAMP_]
    nex = 0
    bits = 0.0
    for o in range(K, 0, -1):
        s = _find(M, o, False)
        scratch[o] = s  # for update
        if s < 0:
            continue
        head = ctx_head[s]
        cumx = -1
        fx = 0
        if nex == 0:  # nothing excluded: the context's own sums, and the encoder scans only up to x
            sumw = np.int64(ctx_tot[s])
            dd = np.int64(ctx_d[s])
            discounts = np.int64(ctx_dsum[s])
            if not decoding:
                run = 0
                node = head
                while node >= 0:
                    w = S * ncnt[node] - _discount(meta, ncnt[node])
                    if nsym[node] == x:
                        cumx = run
                        fx = w
                        scratch[K + 1 + o] = node
                        break
                    run += w
                    node = nnext[node]
        else:
            sumw = 0
            dd = 0
            discounts = 0
            node = head
            while node >= 0:
                y = nsym[node]
                if stamp[y] != st:
                    d = _discount(meta, ncnt[node])
                    w = S * ncnt[node] - d
                    discounts += d
                    if y == x:
                        cumx = sumw
                        fx = w
                        scratch[K + 1 + o] = node
                    sumw += w
                    dd += 1
                node = nnext[node]
        if dd == 0:
            continue
        left = (V - nex - dd) if closed else 1
        esc = e * dd + discounts if left > 0 else 0
        total = sumw + esc
        if decoding:
            t = decode_target(cs, buf, total)
            if t < sumw:
                run = 0
                node = head
                while node >= 0:
                    y = nsym[node]
                    if stamp[y] != st:
                        w = S * ncnt[node] - _discount(meta, ncnt[node])
                        if t < run + w:
                            scratch[K + 1 + o] = node
                            decode_symbol(cs, buf, run, w, total)
                            return np.int64(y), o, bits + math.log2(total / w)
                        run += w
                    node = nnext[node]
            decode_symbol(cs, buf, sumw, esc, total)
        else:
            if cumx >= 0:
                encode_symbol(cs, buf, cumx, fx, total)
                return x, o, bits + math.log2(total / fx)
            encode_symbol(cs, buf, sumw, esc, total)
        bits += math.log2(total / esc)
        node = head
        while node >= 0:
            y = nsym[node]
            if stamp[y] != st:
                stamp[y] = st
                excl[nex] = y
                nex += 1
            node = nnext[node]
    dd = meta[D0_] - nex
    if dd <= 0:
        return np.int64(-1), -1, bits
    exmass = 0
    exdisc = 0
    for j in range(nex):
        d = _discount(meta, cnt0[excl[j]])
        exmass += S * cnt0[excl[j]] - d
        exdisc += d
    sumw = meta[FWTOT_] - exmass
    left = (V - meta[D0_]) if closed else 1
    esc = e * dd + meta[DSUM0_] - exdisc if left > 0 else 0
    total = sumw + esc
    if decoding:
        t = decode_target(cs, buf, total)
        if t < sumw:
            _heapsort(excl, nex)
            raw = t
            below = 0
            for j in range(nex):
                y = excl[j]
                if _prefix(fw, y) <= raw:
                    w = S * cnt0[y] - _discount(meta, cnt0[y])
                    raw += w
                    below += w
                else:
                    break
            y, offset = _descend(fw, raw, False)
            w = S * cnt0[y] - _discount(meta, cnt0[y])
            decode_symbol(cs, buf, raw - offset - below, w, total)
            return np.int64(y), 0, bits + math.log2(total / w)
        decode_symbol(cs, buf, sumw, esc, total)
    else:
        if x >= 0 and cnt0[x] > 0:
            cum = _prefix(fw, x)
            for j in range(nex):
                y = excl[j]
                if y < x:
                    cum -= S * cnt0[y] - _discount(meta, cnt0[y])
            w = S * cnt0[x] - _discount(meta, cnt0[x])
            encode_symbol(cs, buf, cum, w, total)
            return x, 0, bits + math.log2(total / w)
        encode_symbol(cs, buf, sumw, esc, total)
    return np.int64(-1), -1, bits + math.log2(total / esc)


@njit(cache=True, _nrt=False)
def code_uniform(M, cs, buf, x, mode):
    """Order −1 of a closed alphabet: x uniform over the ids the model has not seen (log2 of their number)."""
    meta, seen = M[0], M[3]
    unseen = meta[V_] - meta[D0_]
    if unseen <= 1:
        if mode == DECODE:
            x, _ = _descend(seen, 0, True)
        return x, 0.0
    if mode == DECODE:
        t = decode_target(cs, buf, unseen)
        x, _ = _descend(seen, t, True)
        decode_symbol(cs, buf, t, 1, unseen)
    else:
        encode_symbol(cs, buf, x - _prefix(seen, x), 1, unseen)
    return x, math.log2(unseen)


@njit(cache=True, _nrt=False)
def _symbol_step(M, cs, buf, x, mode, learn):
    """One symbol of a closed-alphabet model, coded (orders k..−1), learned and pushed; returns (x, bits)."""
    if mode == DRY:
        found = find_order(M, x)
        bits = 0.0
    else:
        y, found, bits = code_orders(M, cs, buf, x, mode)
        if found == -1:
            y, more = code_uniform(M, cs, buf, x, mode)
            bits += more
        x = y
    held = update(M, x, found) if learn else M[2][x] > 0
    push_history(M, x if held else -2)
    return x, bits


@njit(cache=True, _nrt=False)
def _spell(Bm, cs, buf, src, a, z, mode, learn, dst, dpos, max_len):
    """A token's spelling (bytes, then the end marker) under the spelling model; decoding writes it to dst.

    Returns (bytes written to dst or −1 on a spelling longer than max_len, bits).
    """
    reset_history(Bm)
    bits = 0.0
    n = 0
    while True:
        if mode == DECODE:
            c, more = _symbol_step(Bm, cs, buf, 0, mode, learn)
            bits += more
            if c == END_OF_SPELLING:
                return n, bits
            if n >= max_len:
                return -1, bits
            dst[dpos + n] = c
            n += 1
        else:
            c = np.int64(src[a + n]) if a + n < z else END_OF_SPELLING
            _, more = _symbol_step(Bm, cs, buf, c, mode, learn)
            bits += more
            if c == END_OF_SPELLING:
                return z - a, bits
            n += 1


@njit(cache=True, _nrt=False)
def encode_block(M, Bm, cs, out, ids, start, stop, ext2int, sp_bytes, sp_off, mode, learn, per_token):
    """Code ids[start:stop] (mode ENCODE, or DRY to train): returns (next index, bits).

    Stops early when ``out`` might not hold the next token's bytes (the caller drains it and calls again).
    """
    meta = M[0]
    closed = meta[CLOSED_]
    steps0 = meta[K_] + 2
    spell_steps = Bm[0][K_] + 2
    bits = 0.0
    for i in range(start, stop):
        x = np.int64(ids[i])
        if mode == ENCODE:
            steps = steps0 if closed else steps0 + (sp_off[x + 1] - sp_off[x] + 1) * spell_steps
            if cs[POSITION] + cs[PENDING] + 3 * steps + 16 > out.shape[0]:
                return i, bits
        if closed:
            _, bt = _symbol_step(M, cs, out, x, mode, learn)
        else:
            xi = ext2int[x]
            if mode == DRY:
                found = find_order(M, xi)
                bt = 0.0
            else:
                _, found, bt = code_orders(M, cs, out, xi, mode)
            if found == -1:
                _, more = _spell(Bm, cs, out, sp_bytes, sp_off[x], sp_off[x + 1], mode, learn, sp_bytes, 0, 0)
                bt += more
                if learn:
                    xi = meta[D0_]
                    if xi < meta[V_] and update(M, xi, -1):
                        ext2int[x] = xi
                    else:
                        xi = -1
            elif learn:
                update(M, xi, found)
            push_history(M, xi if xi >= 0 else -2)
        bits += bt
        if per_token.shape[0] > 0:
            per_token[i] = bt
    return stop, bits


@njit(cache=True, _nrt=False)
def decode_block(M, Bm, cs, buf, out, start, stop, learn, ev_pos, ev_int, ev_off, ev_bytes, n_ev, max_len):
    """Decode tokens start..stop−1 into ``out`` (internal ids; −1 for a spelled token the model does not hold).

    Spelled tokens are recorded as events (position, internal id or −1, spelling in ev_bytes[ev_off[j]:
    ev_off[j+1]]).  Returns (next index, events); stops early when the event arrays are full, and returns
    index −1 on a corrupt stream (a spelling longer than max_len).
    """
    meta = M[0]
    closed = meta[CLOSED_]
    for i in range(start, stop):
        if closed:
            x, _ = _symbol_step(M, cs, buf, 0, DECODE, learn)
            out[i] = x
            continue
        if n_ev >= ev_pos.shape[0] or ev_off[n_ev] + max_len + 1 > ev_bytes.shape[0]:
            return i, n_ev
        xi, found, _ = code_orders(M, cs, buf, 0, DECODE)
        if found == -1:
            n, _ = _spell(Bm, cs, buf, ev_bytes, 0, 0, DECODE, learn, ev_bytes, ev_off[n_ev], max_len)
            if n < 0:
                return -1, n_ev
            xi = -1
            if learn:
                new = meta[D0_]
                if new < meta[V_] and update(M, new, -1):
                    xi = new
            ev_pos[n_ev] = i
            ev_int[n_ev] = xi
            ev_off[n_ev + 1] = ev_off[n_ev] + n
            n_ev += 1
        elif learn:
            update(M, xi, found)
        push_history(M, xi if xi >= 0 else -2)
        out[i] = xi
    return stop, n_ev


@njit(cache=True, _nrt=False)
def distribution_block(M, ids, start, stop, rows, learn):
    """rows[i − start] = q(· | context before ids[i]) over the closed alphabet, exactly the coder's steps."""
    meta, cnt0 = M[0], M[2]
    ctx_head, nsym, ncnt, nnext, stamp = M[6], M[9], M[10], M[11], M[12]
    K, V, S, e = meta[K_], meta[V_], meta[S_], meta[E_]
    for i in range(start, stop):
        row = rows[i - start]
        row[:] = 0.0
        meta[STAMP_] += 1
        st = meta[STAMP_]
        nex = 0
        exmass = 0
        exdisc = 0
        reach = 1.0  # probability of escaping to the current order
        for o in range(K, 0, -1):
            s = _find(M, o, False)
            if s < 0:
                continue
            sumw = 0
            dd = 0
            discounts = 0
            node = ctx_head[s]
            while node >= 0:
                y = nsym[node]
                if stamp[y] != st:
                    d = _discount(meta, ncnt[node])
                    sumw += S * ncnt[node] - d
                    discounts += d
                    dd += 1
                node = nnext[node]
            if dd == 0:
                continue
            esc = e * dd + discounts if V - nex - dd > 0 else 0
            total = sumw + esc
            node = ctx_head[s]
            while node >= 0:
                y = nsym[node]
                if stamp[y] != st:
                    row[y] += reach * ((S * ncnt[node] - _discount(meta, ncnt[node])) / total)
                    stamp[y] = st
                    d = _discount(meta, cnt0[y])
                    exmass += S * cnt0[y] - d
                    exdisc += d
                    nex += 1
                node = nnext[node]
            reach *= esc / total
        dd = meta[D0_] - nex
        if dd > 0:
            sumw = meta[FWTOT_] - exmass
            esc = e * dd + meta[DSUM0_] - exdisc if V - meta[D0_] > 0 else 0
            total = sumw + esc
            for y in range(V):
                if cnt0[y] > 0 and stamp[y] != st:
                    row[y] += reach * ((S * cnt0[y] - _discount(meta, cnt0[y])) / total)
            reach *= esc / total
        unseen = V - meta[D0_]
        if unseen > 0 and reach > 0.0:
            for y in range(V):
                if cnt0[y] == 0:
                    row[y] += reach / unseen
        x = np.int64(ids[i])
        found = find_order(M, x)
        held = update(M, x, found) if learn else cnt0[x] > 0
        push_history(M, x if held else -2)
