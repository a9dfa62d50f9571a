"""Model against model: KL(base‖test) over the whole vocabulary at every position, and the bits each model pays.

For two sources of next-token distributions over the same tokens (:mod:`klcode.models.sources`), at
every position i with b = P_base(· | x_<i) and t = P_test(· | x_<i):

* KL(b‖t) = Σ_v b_v log2(b_v / t_v), KL(t‖b), JS(b, t) = H(m) − (H(b) + H(t))/2 with m = (b + t)/2;
* −log2 b(x_i) and −log2 t(x_i): their means are the cross-entropies of the text under each model, and
  mean(−log2 t(x_i)) − mean(−log2 b(x_i)) = (1/n) Σ log2(b(x_i)/t(x_i)) is what the test model pays more
  per token on this text (ln of the PPL ratio, in nats);
* Δp = t(x_i) − b(x_i), whether the top tokens agree, the overlap of the top-k sets;
* the measured bits: the tokens range-coded under each model's rows quantized to integer frequencies
  summing to 2^24 (:mod:`klcode.analysis.model_kernels`), decoded back and compared with the input.

Rows are normalized with a log-sum-exp (llama.cpp's stored log-probabilities are not exactly
normalized); llama.cpp's own KL convention is reported beside (``kl_llama_bits``).  Statistics follow
llama.cpp's: standard error of a mean ``sqrt(Σ(x − x̄)²/(n(n − 1)))``, percentiles by linear
interpolation between sorted values at ``f·(n − 1)``, the median the mean of the two middle values,
PPL = exp(mean NLL) ± PPL·SE, the ratio's SE from the per-position differences (the covariance term of
llama.cpp's formula), RMS Δp ± SE/(2·RMS), same-top share ± sqrt(p(1 − p)/(n − 1)).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from ..errors import DataError, DecodeError
from ..models.sources import PositionSource

LN2 = math.log(2)
KL_PERCENTS = (0.1, 1.0, 5.0, 10.0, 90.0, 95.0, 99.0, 99.9)
DELTA_P_PERCENTS = (0.1, 1.0, 5.0, 10.0, 25.0, 75.0, 90.0, 95.0, 99.0, 99.9)
FREQUENCY_TOTAL = 1 << 24
#: Rows per block of the comparison: about this many values per model.
COMPARE_BLOCK_VALUES = 1 << 21
#: Worker threads (numpy and the compiled kernels release the GIL).
THREADS = 2


@dataclass(frozen=True)
class Summary:
    """mean ± standard error, median, min, max and percentiles of a per-position quantity (llama.cpp's rules)."""

    mean: float
    standard_error: float
    median: float
    minimum: float
    maximum: float
    percentiles: tuple[tuple[float, float], ...]   # (percent, value)

    def scaled(self, factor: float) -> Summary:
        return Summary(self.mean * factor, self.standard_error * factor, self.median * factor,
                       self.minimum * factor, self.maximum * factor,
                       tuple((p, v * factor) for p, v in self.percentiles))

    def as_dict(self) -> dict:
        return {"mean": self.mean, "standard_error": self.standard_error, "median": self.median,
                "minimum": self.minimum, "maximum": self.maximum,
                "percentiles": {f"{p:g}": v for p, v in self.percentiles}}


def standard_error(values: np.ndarray) -> float:
    """Standard error of the mean, sqrt(Σ(x − x̄)² / (n(n − 1))); 0 for fewer than 2 values."""
    n = len(values)
    if n < 2:
        return 0.0
    return float(np.std(values, ddof=1) / math.sqrt(n))


def summarize(values: np.ndarray, percents: Sequence[float] = KL_PERCENTS) -> Summary:
    """The :class:`Summary` of ``values`` (float64): mean ± SE, median, extremes, linear-interpolated percentiles."""
    values = np.asarray(values, dtype=np.float64)
    if len(values) == 0:
        raise DataError("no positions to summarize")
    ordered = np.sort(values)
    points = tuple((float(p), float(np.percentile(ordered, p))) for p in percents)
    return Summary(float(values.mean()), standard_error(values), float(np.median(ordered)),
                   float(ordered[0]), float(ordered[-1]), points)


@dataclass(frozen=True)
class ModelCoding:
    """The text range-coded under one model: payload size, ideal bits of the quantized rows, exact bits."""

    label: str
    tokens: int
    payload_bytes: int
    ideal_quantized_bits: float     # Σ −log2(f_x / 2^24): what the coder was asked to spend
    cross_entropy_bits: float       # Σ −log2 q(x_i): the exact cost under the model's rows
    verified: bool
    payload: bytes = b""            # the range-coded bitstream itself

    @property
    def measured_bits(self) -> int:
        return 8 * self.payload_bytes

    @property
    def measured_bits_per_token(self) -> float:
        return self.measured_bits / self.tokens

    @property
    def ideal_quantized_bits_per_token(self) -> float:
        return self.ideal_quantized_bits / self.tokens

    @property
    def cross_entropy_bits_per_token(self) -> float:
        return self.cross_entropy_bits / self.tokens

    @property
    def overhead_bits(self) -> float:
        """measured − ideal of the quantized rows: the coder's own overhead."""
        return self.measured_bits - self.ideal_quantized_bits

    def as_dict(self) -> dict:
        return {"label": self.label, "tokens": self.tokens, "payload_bytes": self.payload_bytes,
                "measured_bits": self.measured_bits, "measured_bits_per_token": self.measured_bits_per_token,
                "ideal_quantized_bits_per_token": self.ideal_quantized_bits_per_token,
                "cross_entropy_bits_per_token": self.cross_entropy_bits_per_token,
                "overhead_bits": self.overhead_bits, "verified": self.verified}


@dataclass(frozen=True)
class TopPosition:
    """One position that carries much of KL(base‖test): its target token, both probabilities, its context."""

    position: int
    target: int
    kl_base_test_bits: float
    p_base: float
    p_test: float
    context: tuple[int, ...]


@dataclass(frozen=True)
class TokenShare:
    """A target token and the part of Σ_i KL(base‖test)_i at the positions that predict it."""

    token: int
    count: int
    kl_total_bits: float
    share: float


@dataclass(frozen=True)
class ModelComparison:
    """Everything ``klcode models`` reports for one pair of sources (per-position arrays kept for plots)."""

    base_label: str
    test_label: str
    positions: int
    vocab_size: int
    top_k: int
    kl_base_test_bits: Summary
    kl_test_base_bits: Summary
    js_bits: Summary
    kl_llama_bits: Summary          # llama.cpp's convention: base entries <= −16 nats skipped, not renormalized
    delta_p: Summary                # t(x) − b(x), probabilities
    rms_delta_p: float
    rms_delta_p_error: float
    same_top: float
    same_top_error: float
    top_k_overlap: float            # mean |top_k(b) ∩ top_k(t)| / k
    ppl_base: float
    ppl_base_error: float
    ppl_test: float
    ppl_test_error: float
    ln_ppl_ratio: float             # mean(NLL_test − NLL_base), nats
    ln_ppl_ratio_error: float
    ppl_correlation: float          # Pearson correlation of the per-position NLLs
    base_coding: ModelCoding
    test_coding: ModelCoding
    top_positions: tuple[TopPosition, ...]
    top_tokens: tuple[TokenShare, ...]
    input_bytes: int
    kl_per_position_bits: np.ndarray
    cross_entropy_gap_per_position_bits: np.ndarray

    @property
    def cross_entropy_gap_bits_per_token(self) -> float:
        """mean(−log2 t(x_i)) − mean(−log2 b(x_i)) = ln(PPL_test/PPL_base)/ln 2."""
        return self.ln_ppl_ratio / LN2

    @property
    def measured_gap_bits_per_token(self) -> float:
        """Measured bits per token of the test coding minus those of the base coding."""
        return self.test_coding.measured_bits_per_token - self.base_coding.measured_bits_per_token

    @property
    def extra_bytes(self) -> int:
        """Bytes the test model's coding of this text takes beyond the base model's."""
        return self.test_coding.payload_bytes - self.base_coding.payload_bytes


# ----------------------------------------------------------------------------- the pass over both sources
def _aligned_blocks(base: PositionSource, test: PositionSource, rows: int) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
    """Blocks of both sources over the same positions (pieces of whichever block is longer)."""
    base_iter, test_iter = base.blocks(rows), test.blocks(rows)
    b_start, b_block, t_start, t_block = 0, None, 0, None
    while True:
        if b_block is None or len(b_block) == 0:
            item = next(base_iter, None)
            if item is None:
                break
            b_start, b_block = item
        if t_block is None or len(t_block) == 0:
            item = next(test_iter, None)
            if item is None:
                break
            t_start, t_block = item
        if b_start != t_start:
            raise DataError(f"the sources' rows are out of step (base at {b_start}, test at {t_start})")
        k = min(len(b_block), len(t_block))
        b_piece, t_piece = b_block[:k], t_block[:k]
        if b_piece.dtype != t_piece.dtype:
            b_piece, t_piece = b_piece.astype(np.float64), t_piece.astype(np.float64)
        yield b_start, np.ascontiguousarray(b_piece), np.ascontiguousarray(t_piece)
        b_block, t_block = b_block[k:], t_block[k:]
        b_start += k
        t_start += k


def _prefetched(blocks: Iterator[tuple[int, np.ndarray, np.ndarray]]) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
    """The aligned blocks, the next one read in a reader thread while the caller works on the current one.

    Sources keep a block valid while the next one is read (:meth:`PositionSource.blocks`), so no copy is made.
    """
    def step() -> tuple[int, np.ndarray, np.ndarray] | None:
        return next(blocks, None)

    with ThreadPoolExecutor(1) as reader:
        future = reader.submit(step)
        while True:
            item = future.result()
            if item is None:
                return
            future = reader.submit(step)
            yield item


def check_pair(base: PositionSource, test: PositionSource) -> None:
    """Both sources must predict the same tokens with the same vocabulary; else one line saying where not.

    When both know their whole token stream (contexts included) and the streams are of one length, they must
    be equal too: two llama.cpp files over different texts can share their scored tokens by chance only.
    """
    if base.vocab_size != test.vocab_size:
        raise DataError(f"the vocabularies differ: {base.label} has {base.vocab_size:,} tokens, "
                        f"{test.label} {test.vocab_size:,}")
    if base.positions != test.positions:
        raise DataError(f"the token streams differ in length: {base.label} scores {base.positions:,} positions, "
                        f"{test.label} {test.positions:,}")
    if base.positions == 0:
        raise DataError(f"{base.label} scores no positions")
    differ = base.targets != test.targets
    if differ.any():
        at = int(np.argmax(differ))
        raise DataError(f"the token streams differ: at position {at} {base.label} has token {int(base.targets[at])}, "
                        f"{test.label} {int(test.targets[at])} ({int(differ.sum()):,} positions differ)")
    b_stream, t_stream = base.stream(), test.stream()
    if b_stream is not None and t_stream is not None and len(b_stream) == len(t_stream):
        differ = b_stream != t_stream
        if differ.any():
            at = int(np.argmax(differ))
            raise DataError(f"the token streams differ in their contexts: at token {at} {base.label} has "
                            f"{int(b_stream[at])}, {test.label} {int(t_stream[at])} (the scored tokens agree, "
                            f"the texts before them do not)")
    if 2 * base.vocab_size > FREQUENCY_TOTAL:
        raise DataError(f"vocabularies above {FREQUENCY_TOTAL // 2:,} tokens cannot be range-coded with 24-bit "
                        f"frequencies (got {base.vocab_size:,})")


def compare_models(base: PositionSource, test: PositionSource, *, top_k: int = 5, verify: bool = True,
                   top: int = 10, context: int = 24, rows: int | None = None,
                   progress: Callable[[int], None] | None = None) -> ModelComparison:
    """KL(base‖test), KL(test‖base), JS, Δp, top-token agreement, PPLs and the measured bits of both codings.

    ``progress(n)`` is called with the number of positions done (twice over the text when verifying).
    """
    from ..coders import arithmetic as ac
    from . import model_kernels as mk

    check_pair(base, test)
    if not 1 <= top_k <= min(64, base.vocab_size):
        raise DataError(f"top-k must be in 1..{min(64, base.vocab_size)} (got {top_k})")
    n, vocab = base.positions, base.vocab_size
    rows = rows or max(2, COMPARE_BLOCK_VALUES // vocab)
    targets = base.targets.astype(np.int64)
    stats = np.full((n, mk.COLUMNS), np.nan)
    encoders = [ac.new_encoder(), ac.new_encoder()]
    payloads = [bytearray(), bytearray()]

    scratches = [Scratch() for _ in range(THREADS)]

    def compare_piece(b_piece: np.ndarray, t_piece: np.ndarray, first: int, thread: int) -> None:
        k = len(b_piece)
        block_statistics(b_piece, t_piece, targets[first:first + k], base.stored_log_probs, top_k,
                         stats[first:first + k], scratches[thread])

    with ThreadPoolExecutor(THREADS) as pool:
        for start, b_block, t_block in _prefetched(_aligned_blocks(base, test, rows)):
            k = len(b_block)
            jobs = [pool.submit(compare_piece, b_block[a:z], t_block[a:z], start + a, j)
                    for j, (a, z) in enumerate(_halves(k))]
            for job in jobs:
                job.result()
            out = stats[start:start + k]
            for which, (cum, freq) in enumerate(((mk.CUM_B, mk.FREQ_B), (mk.CUM_T, mk.FREQ_T))):
                state = encoders[which]
                buffer = np.empty(3 * k + int(state[ac.PENDING]) + 16, dtype=np.uint8)
                written = mk.encode_intervals(state, buffer, out[:, cum].astype(np.int64),
                                              out[:, freq].astype(np.int64), FREQUENCY_TOTAL)
                payloads[which] += buffer[:written].tobytes()
            if progress is not None:
                progress(k)
        done = int(np.count_nonzero(~np.isnan(stats[:, mk.KL_BT])))
        if done != n:
            raise DataError(f"the sources ended early ({done:,} of {n:,} positions)")
        for which in range(2):
            state = encoders[which]
            buffer = np.empty(int(state[ac.PENDING]) + 32, dtype=np.uint8)
            written = ac.finish_encoder(state, buffer)
            payloads[which] += buffer[:written].tobytes()
        if verify:
            _verify(base, test, [bytes(p) for p in payloads], targets, rows, progress, pool)

    nll_b, nll_t = stats[:, mk.NLL_B], stats[:, mk.NLL_T]
    ideal_b = -np.log2(stats[:, mk.FREQ_B] / FREQUENCY_TOTAL).sum()
    ideal_t = -np.log2(stats[:, mk.FREQ_T] / FREQUENCY_TOTAL).sum()
    base_coding = ModelCoding(base.label, n, len(payloads[0]), float(ideal_b), float(nll_b.sum() / LN2), verify,
                              bytes(payloads[0]))
    test_coding = ModelCoding(test.label, n, len(payloads[1]), float(ideal_t), float(nll_t.sum() / LN2), verify,
                              bytes(payloads[1]))

    p_b, p_t = np.exp(-nll_b), np.exp(-nll_t)
    delta_p = p_t - p_b
    squares = delta_p * delta_p
    rms = math.sqrt(float(squares.mean()))
    same = (stats[:, mk.TOP_B] == stats[:, mk.TOP_T]).astype(np.float64)
    same_share = float(same.mean())
    gap = nll_t - nll_b
    with np.errstate(invalid="ignore", divide="ignore"):
        correlation = float(np.corrcoef(nll_t, nll_b)[0, 1]) if n > 1 else float("nan")
    kl_bt = stats[:, mk.KL_BT] / LN2
    order = np.argsort(-kl_bt, kind="stable")[:top]
    tops = tuple(TopPosition(int(i), int(targets[i]), float(kl_bt[i]), float(p_b[i]), float(p_t[i]),
                             tuple(int(x) for x in base.context(int(i), context))) for i in order)
    per_token = np.bincount(targets, weights=kl_bt, minlength=vocab)
    counts = np.bincount(targets, minlength=vocab)
    total_kl = float(kl_bt.sum())
    token_order = np.argsort(-per_token, kind="stable")[:top]
    token_shares = tuple(TokenShare(int(x), int(counts[x]), float(per_token[x]),
                                    float(per_token[x] / total_kl) if total_kl > 0 else 0.0)
                         for x in token_order if counts[x] > 0)
    ppl_b, ppl_t = math.exp(float(nll_b.mean())), math.exp(float(nll_t.mean()))
    return ModelComparison(
        base_label=base.label, test_label=test.label, positions=n, vocab_size=vocab, top_k=top_k,
        kl_base_test_bits=summarize(kl_bt), kl_test_base_bits=summarize(stats[:, mk.KL_TB] / LN2),
        js_bits=summarize(stats[:, mk.JS] / LN2), kl_llama_bits=summarize(stats[:, mk.KL_LLAMA] / LN2),
        delta_p=summarize(delta_p, DELTA_P_PERCENTS), rms_delta_p=rms,
        rms_delta_p_error=standard_error(squares) / (2 * rms) if rms > 0 else 0.0,
        same_top=same_share,
        same_top_error=math.sqrt(same_share * (1 - same_share) / (n - 1)) if n > 1 else 0.0,
        top_k_overlap=float(stats[:, mk.TOP_K_SHARED].mean() / top_k),
        ppl_base=ppl_b, ppl_base_error=ppl_b * standard_error(nll_b),
        ppl_test=ppl_t, ppl_test_error=ppl_t * standard_error(nll_t),
        ln_ppl_ratio=float(gap.mean()), ln_ppl_ratio_error=standard_error(gap), ppl_correlation=correlation,
        base_coding=base_coding, test_coding=test_coding, top_positions=tops, top_tokens=token_shares,
        input_bytes=base.input_bytes + test.input_bytes,
        kl_per_position_bits=kl_bt.astype(np.float32), cross_entropy_gap_per_position_bits=(gap / LN2).astype(np.float32),
    )


class Scratch:
    """Reused float64 work arrays of one thread (fresh pages for every block would cost more than the work)."""

    def __init__(self) -> None:
        self.arrays: dict[str, np.ndarray] = {}

    def get(self, name: str, shape: tuple[int, int]) -> np.ndarray:
        size = shape[0] * shape[1]
        array = self.arrays.get(name)
        if array is None or array.size < size:
            array = self.arrays[name] = np.empty(size, dtype=np.float64)
        return array[:size].reshape(shape)


def block_statistics(base: np.ndarray, test: np.ndarray, targets: np.ndarray, base_stored: bool, top_k: int,
                     out: np.ndarray | None = None, scratch: Scratch | None = None) -> np.ndarray:
    """The per-row statistics [k × model_kernels.COLUMNS] of two blocks of logits (nats; intervals of 2^24)."""
    from . import model_kernels as mk

    scratch = scratch or Scratch()
    shape = base.shape
    eb, ib, lb, ab = mk.exponentials(base, scratch.get("eb", shape))
    et, it, lt, at = mk.exponentials(test, scratch.get("et", shape))
    if out is None:
        out = np.empty((len(base), mk.COLUMNS))
    mixture = scratch.get("mixture", shape)
    mk.compare_rows(base, test, eb, et, ib, it, lb, lt, ab, at, targets, base_stored, top_k, FREQUENCY_TOTAL,
                    mixture, out)
    mk.add_mixture_entropy(mixture, out, scratch.get("logs", shape))
    return out


def _halves(k: int) -> list[tuple[int, int]]:
    """The block's rows split in two for the two threads (one piece when k = 1)."""
    half = (k + 1) // 2
    return [(0, half), (half, k)] if k > 1 else [(0, k)]


def _verify(base: PositionSource, test: PositionSource, payloads: list[bytes], targets: np.ndarray, rows: int,
            progress: Callable[[int], None] | None, pool: ThreadPoolExecutor | None = None) -> None:
    """Decode both payloads, re-reading both sources' rows, and compare with the tokens (one thread per model)."""
    from ..coders import arithmetic as ac
    from . import model_kernels as mk

    buffers = [np.frombuffer(p, dtype=np.uint8) for p in payloads]
    decoders = [ac.new_decoder(b) for b in buffers]
    decoded = [np.empty(rows, dtype=np.int64), np.empty(rows, dtype=np.int64)]
    scratches = [Scratch(), Scratch()]

    def decode(which: int, block: np.ndarray, start: int) -> None:
        for a, z in _halves(len(block)):  # the pieces the encoder's frequencies were computed on
            piece = block[a:z]
            e, inverse, _, args = mk.exponentials(piece, scratches[which].get("e", piece.shape))
            mk.decode_rows(decoders[which], buffers[which], e, inverse, args, FREQUENCY_TOTAL, decoded[which][a:z])
        k = len(block)
        wrong = decoded[which][:k] != targets[start:start + k]
        if wrong.any():
            at = int(np.argmax(wrong))
            name = (base, test)[which].label
            raise DecodeError(f"the coding under {name} did not decode back: position {start + at} gave token "
                              f"{int(decoded[which][at])}, expected {int(targets[start + at])}")

    own = pool is None
    pool = pool or ThreadPoolExecutor(THREADS)
    try:
        for start, b_block, t_block in _prefetched(_aligned_blocks(base, test, rows)):
            jobs = [pool.submit(decode, 0, b_block, start), pool.submit(decode, 1, t_block, start)]
            for job in jobs:
                job.result()
            if progress is not None:
                progress(len(b_block))
    finally:
        if own:
            pool.shutdown()


# ----------------------------------------------------------------------------- references for the tests
def reference_frequencies(row: np.ndarray, total: int = FREQUENCY_TOTAL) -> list[int]:
    """Plain numpy reference of :func:`model_kernels.row_frequencies` on :func:`model_kernels.exponentials`."""
    from . import model_kernels as mk

    e, inverse, _, arg = mk.exponentials(np.asarray(row)[None, :])
    freq = 1 + np.floor(e[0] * inverse[0] * (total - len(row))).astype(np.int64)
    freq[arg[0]] += total - int(freq.sum())
    return freq.tolist()
