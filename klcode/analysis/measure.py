"""The measurement: Huffman codes of p and of q applied to a stream, beside the formulas.

Given p, q and optionally a token stream (ids into p's symbols), :func:`measure`
builds the Huffman code of p and of q, encodes the stream with both, checks
that both bitstreams decode back to the stream, and returns one frozen
:class:`Measurement`.

Two exact facts are part of every record (DESIGN.md):

* ``L_q = H(p) + KL(p‖q̂)`` where q̂(x) = 2^(−l_q(x)) is the dyadic model q's
  code implies, so the "measured KL" of a Huffman code is KL to q̂;
* ``L_q = L_p + (L_q − L_p)``: cross-entropy = entropy + excess, in bits.

Symbols p produces and q does not (KL = ∞) are handled by an explicit
:class:`UnseenPolicy`, so that the measured bits stay finite; the formula
columns then also give the cross-entropy and KL of the *effective* model the
code was built from, so measured and formula stay comparable.

>>> p = Distribution.from_probabilities([0.5, 0.25, 0.125, 0.125])
>>> m = measure(p, Distribution.uniform(4))
>>> m.p_code.expected_bits_per_token, m.q_code.expected_bits_per_token, m.kl_bits_per_token
(1.75, 2.0, 0.25)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from ..coders import TIE_RULE, Coder, HuffmanCode, PrefixCode, PrefixCoder
from ..coders.registry import CoderSpec, build_coder
from ..coders.ties import TieBand, huffman_tie_band
from ..errors import DataError, DecodeError, DistributionError, UnseenSymbolError
from ..info.measures import (
    cross_entropy_kernel,
    entropy_kernel,
    js_divergence,
    kl_kernel,
)
from ..models.distribution import SUM_TOLERANCE, Distribution, align
from ..text.stream import StreamKind, TokenStream
from ..text.tokenize import symbol_label

PolicyName = Literal["escape", "add-k", "error"]
POLICY_NAMES: tuple[str, ...] = ("escape", "add-k", "error")

#: Search budget of the tie band shown with every measurement (beyond it, sampled tie orders: an inner estimate).
TIE_BAND_STATES = 20_000
TIE_BAND_SAMPLES = 200
#: Time budget of the tie band (seconds): past it, the band is an inner estimate and says so.
TIE_BAND_SECONDS = 2.0

@dataclass(frozen=True)
class UnseenPolicy:
    """What to do with symbols p produces and q gives probability 0.

    * ``escape`` (default): q's code gets one extra *escape* codeword; an unseen
      token is coded as the escape codeword followed by its index among the M
      alphabet symbols q lacks, in ⌈log2 M⌉ bits (the decoder knows the shared
      alphabet and q).  The escape has probability ``escape_probability``, by
      default one pseudo-count, 1/(n_q + 1), when q has counts.  Effective model:
      q'(x) = (1 − ε)·q(x) for seen x, ε/M for unseen x.
    * ``add-k``: additive smoothing over the whole shared alphabet,
      q'(x) = (c(x) + α)/(n + α·|V|) (q must have counts).
    * ``error``: refuse, naming the unseen symbols.
    """

    name: PolicyName = "escape"
    alpha: float = 1.0
    escape_probability: float | None = None

    def __post_init__(self) -> None:
        if self.name not in POLICY_NAMES:
            raise DataError(f"unseen policy must be one of {', '.join(POLICY_NAMES)} (got {self.name!r})")
        if not (math.isfinite(self.alpha) and self.alpha > 0):
            raise DataError(f"add-k alpha must be a positive number (got {self.alpha!r})")
        epsilon = self.escape_probability
        if epsilon is not None and not (0 < epsilon < 1):
            raise DataError(f"escape probability must be in (0, 1) (got {epsilon!r})")


@dataclass(frozen=True)
class UnseenReport:
    """The symbols of p absent from q, and what the policy did about them."""

    policy: str
    description: str
    types: int
    symbols: tuple[str, ...]
    p_mass: float
    stream_tokens: int | None
    escape_probability: float | None
    fallback_bits: int | None
    alpha: float | None


@dataclass(frozen=True)
class CodeMeasurement:
    """One code applied to p: its expected length and, with a stream, the bits actually produced."""

    code: str
    expected_bits_per_token: float
    kraft_sum: float
    max_codeword_bits: int
    total_bits: int | None
    measured_bits_per_token: float | None
    roundtrip: Literal["verified", "skipped", "no stream"]


@dataclass(frozen=True)
class CoderMeasurement:
    """One coder family built from p and from q', applied to p's stream: expected and measured bits per token.

    For a contextual coder (zlib, ...) there is no model: ``p_*`` hold the
    bits of the stream compressed alone and the ``q_*`` fields are None.
    """

    coder: str
    description: str
    order0: bool
    p_expected_bits_per_token: float | None
    q_expected_bits_per_token: float | None
    p_total_bits: int | None
    q_total_bits: int | None
    p_measured_bits_per_token: float | None
    q_measured_bits_per_token: float | None
    measured_excess_bits_per_token: float | None
    gap_to_kl_bits_per_token: float | None
    roundtrip: str


@dataclass(frozen=True)
class Measurement:
    """Formulas and measured code lengths for p coded with codes built from p and from q (bits)."""

    stream: StreamKind
    tokens: int | None
    seed: int | None
    alphabet_size: int
    p_support_size: int
    q_support_size: int
    entropy_bits_per_token: float
    cross_entropy_bits_per_token: float
    kl_bits_per_token: float
    kl_reverse_bits_per_token: float
    js_bits_per_token: float
    model: str
    effective_cross_entropy_bits_per_token: float
    effective_kl_bits_per_token: float
    p_code: CodeMeasurement
    q_code: CodeMeasurement
    measured_excess_bits_per_token: float
    kl_to_dyadic_bits_per_token: float
    huffman_bound_held: bool
    unseen: UnseenReport | None
    tie_rule: str
    symbols: tuple[str, ...]
    p_code_lengths_bits: tuple[int, ...]
    q_code_lengths_bits: tuple[int, ...]
    p_codewords: tuple[str, ...]
    q_codewords: tuple[str, ...]
    coders: tuple[CoderMeasurement, ...] = ()
    tie_band: TieBand | None = None
    #: How the inputs were taken, when that changed them (probabilities within 1e-9 of 1 divided by their sum).
    input_notes: tuple[str, ...] = ()

    @property
    def excess_source(self) -> str:
        """Where ``measured_excess_bits_per_token`` comes from: the stream, or expected lengths."""
        return "expected" if self.stream == "expected" else "stream"


@dataclass(frozen=True)
class EffectiveModel:
    """The model q' that q's code is built from (probabilities per id of the aligned alphabet), with its code.

    ``huffman_weights`` are the weights the Huffman code was built from (q's,
    smoothed ones, or q's with the escape's appended at id ``q.size``), and
    ``fallback_bits`` the index bits an escaped symbol adds: what the tie band
    is computed over.  ``code`` is None when only the probabilities were asked for.
    """

    probabilities: np.ndarray
    code: PrefixCode | None
    description: str
    unseen: UnseenReport | None
    huffman_weights: np.ndarray | None = field(default=None, repr=False)
    fallback_bits: int = 0


class LazyStrings(Sequence):
    """A tuple-like sequence of strings made on demand (symbol labels, codewords): memory does not follow the vocabulary.

    Compares equal to the tuple of its items.

    >>> LazyStrings(3, str) == ("0", "1", "2")
    True
    """

    def __init__(self, size: int, item) -> None:
        self._size, self._item = size, item

    def __len__(self) -> int:
        return self._size

    def __getitem__(self, index):
        if isinstance(index, slice):
            return tuple(self._item(i) for i in range(*index.indices(self._size)))
        if index < 0:
            index += self._size
        if not 0 <= index < self._size:
            raise IndexError(f"index {index} out of range for {self._size} items")
        return self._item(index)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, (LazyStrings, tuple, list)):
            return len(self) == len(other) and all(a == b for a, b in zip(self, other))
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        shown = ", ".join(repr(self._item(i)) for i in range(min(self._size, 4)))
        return f"LazyStrings({shown}{', ...' if self._size > 4 else ''}; {self._size} items)"


class _Label:
    """symbol_label of the i-th symbol (a picklable item maker for LazyStrings)."""

    def __init__(self, symbols: Sequence) -> None:
        self.symbols = symbols

    def __call__(self, i: int) -> str:
        return symbol_label(self.symbols[i])


class _Codeword:
    """The codeword of id i as a 0/1 string (a picklable item maker for LazyStrings)."""

    def __init__(self, code: PrefixCode) -> None:
        self.code = code

    def __call__(self, i: int) -> str:
        return self.code.codeword(i)


def measure(
    p: Distribution,
    q: Distribution,
    stream: np.ndarray | TokenStream | None = None,
    *,
    stream_kind: StreamKind | None = None,
    seed: int | None = None,
    policy: UnseenPolicy = UnseenPolicy(),
    verify: bool = True,
    coders: Sequence[CoderSpec] = (),
) -> Measurement:
    """Measure KL(p‖q) by coding: Huffman codes of p and q, applied to ``stream`` (ids of p's symbols).

    ``stream`` is an array of ids, or a :class:`TokenStream` read chunk by
    chunk.  Without a stream only expected lengths Σ p(x)·l(x) are reported.
    ``verify=False`` skips the decode check (the record then says ``skipped``).
    ``coders`` adds one :class:`CoderMeasurement` per coder family (built from
    p and from the effective model q'), encoded in the same pass.
    """
    p, q = align(p, q)
    if stream is not None and not isinstance(stream, TokenStream):
        stream = TokenStream.from_array(stream, p.size, stream_kind or "samples")
    if stream is not None and stream.counts.size > p.size:
        raise DataError(f"the stream has ids up to {stream.counts.size - 1}, beyond p's {p.size} symbols")
    stream_kind = "expected" if stream is None else (stream_kind or stream.kind)
    pa, qa = p.probabilities, q.probabilities
    entropy_bits = entropy_kernel(pa)
    p_code = HuffmanCode.from_distribution(p, name="huffman(p)")
    stream_counts = None if stream is None else np.pad(stream.counts, (0, p.size - stream.counts.size))
    model = effective_model(p, q, policy, stream_counts)
    q_code = model.code
    extra = _build_coders(coders, p, model)
    all_coders = [p_code, q_code] + [coder for pair in extra.values() for coder in pair if coder is not None]
    totals, roundtrip = (None, "no stream") if stream is None else encode_stream(all_coders, stream, verify)
    p_result = _code_result(p_code, pa, stream, None if totals is None else totals[0], roundtrip)
    q_result = _code_result(q_code, pa, stream, None if totals is None else totals[1], roundtrip)
    if stream is None:
        excess = q_result.expected_bits_per_token - p_result.expected_bits_per_token
    else:
        excess = q_result.measured_bits_per_token - p_result.measured_bits_per_token
    dyadic = np.ldexp(1.0, -q_code.lengths_bits[: p.size]) * q_code.has_codeword()[: p.size]
    effective_kl = kl_kernel(pa, model.probabilities)
    return Measurement(
        stream=stream_kind,
        tokens=None if stream is None else stream.tokens,
        seed=seed,
        alphabet_size=p.size,
        p_support_size=p.support_size,
        q_support_size=q.support_size,
        entropy_bits_per_token=entropy_bits,
        cross_entropy_bits_per_token=cross_entropy_kernel(pa, qa),
        kl_bits_per_token=kl_kernel(pa, qa),
        kl_reverse_bits_per_token=kl_kernel(qa, pa),
        js_bits_per_token=js_divergence(p, q),
        model=model.description,
        effective_cross_entropy_bits_per_token=cross_entropy_kernel(pa, model.probabilities),
        effective_kl_bits_per_token=effective_kl,
        p_code=p_result,
        q_code=q_result,
        measured_excess_bits_per_token=excess,
        kl_to_dyadic_bits_per_token=kl_kernel(pa, dyadic),
        # L_p − 1 < H rather than L_p < H + 1: with H ≈ 1e-317 (p = {1e-320, 1}) H + 1 rounds to 1
        huffman_bound_held=bool(entropy_bits <= p_result.expected_bits_per_token
                                and p_result.expected_bits_per_token - 1 < entropy_bits),
        unseen=model.unseen,
        tie_rule=TIE_RULE,
        symbols=LazyStrings(p.size, _Label(p.symbols)),
        p_code_lengths_bits=tuple(p_code.lengths_bits[: p.size].tolist()),
        q_code_lengths_bits=tuple(q_code.lengths_bits[: p.size].tolist()),
        p_codewords=LazyStrings(p.size, _Codeword(p_code)),
        q_codewords=LazyStrings(p.size, _Codeword(q_code)),
        coders=_coder_results(coders, extra, all_coders, totals, roundtrip, pa, stream,
                              p_result, q_result, effective_kl, LazyStrings(p.size, _Label(p.symbols))),
        tie_band=_tie_band(p, model),
        input_notes=renormalized_notes(p=p, q=q),
    )


def renormalized_notes(**distributions: Distribution) -> tuple[str, ...]:
    """One note per distribution whose given probabilities summed to 1 only within 1e-9 and were divided by the sum.

    >>> renormalized_notes(p=Distribution.from_probabilities([0.3333333333] * 3))
    ('p: the probabilities as given sum to 0.9999999999 (within 1e-09 of 1); they were divided by their sum',)
    """
    return tuple(f"{name}: the probabilities as given sum to {d.renormalized_from:.12g} (within {SUM_TOLERANCE:g} of 1); "
                 "they were divided by their sum" for name, d in distributions.items() if d.renormalized_from is not None)


def _tie_band(p: Distribution, model: EffectiveModel) -> TieBand:
    """The band of expected L_q over the Huffman tie orders of the weights q's code was built from (q, q + escape, smoothed q).

    With the escape, p's unseen mass sits on the escape's id and the fallback
    index bits it adds are the same under every order (a constant shift).
    On a search budget (states and seconds): an inner estimate beyond it.
    """
    p_weights = p.counts if p.counts is not None else p.probabilities
    weights, shift = model.huffman_weights, 0.0
    if weights.size > p_weights.size:  # the escape: q's ids, then the escape's
        q_has = weights[: p_weights.size] > 0
        escaped = p_weights[~q_has]
        p_band = np.zeros(weights.size, dtype=p_weights.dtype)
        p_band[: p_weights.size][q_has] = p_weights[q_has]
        p_band[-1] = escaped.sum() if escaped.dtype.kind in "iu" else math.fsum(escaped.tolist())
        shift = model.fallback_bits * float(p.probabilities[~q_has].sum())
        p_weights = p_band
    band = huffman_tie_band(weights, p_weights, max_states=TIE_BAND_STATES, samples=TIE_BAND_SAMPLES,
                            budget_seconds=TIE_BAND_SECONDS)
    if shift:
        band = band.shifted(shift, f"plus {model.fallback_bits} index bits per escaped token ({shift:.6g} bits/token)")
    return band


def _build_coders(specs: Sequence[CoderSpec], p: Distribution, model: EffectiveModel) -> dict:
    """spec → (coder built from p, coder built from q'); contextual coders have no q side. Plain Huffman reuses the main codes."""
    built = {}
    for spec in specs:
        if spec.plain_huffman:
            continue
        p_coder = build_coder(spec, p.probabilities, p.counts)
        q_coder = build_coder(spec, model.probabilities) if spec.order0 else None
        built[spec] = (p_coder, q_coder)
    return built


def _quantization_note(shift_bits: float, ids: np.ndarray, p_mass: float, labels: Sequence[str]) -> str:
    """The words added to the ANS row's description when q̃ moves the cost off H(p,q') by more than 0.01 bit."""
    if abs(shift_bits) <= 0.01:
        return ""
    shown = ", ".join(labels[i] for i in ids[:8].tolist()) + (", …" if ids.size > 8 else "")
    where = (f"; {ids.size} symbol(s) p produces have q' < 2^−24, below what the 24-bit model represents "
             f"({shown}; p-mass {p_mass:.4g})") if ids.size else ""
    return (f"; the quantized model q̃ moves the cost by {shift_bits:+.4f} bit per token from H(p,q'): the "
            f"expected column is H(p,q̃){where}")


def _coder_results(specs, built, all_coders, totals, roundtrip, pa, stream, p_result, q_result, effective_kl,
                   labels: Sequence[str] = ()):
    """One CoderMeasurement per spec, in the order given."""
    position = {id(coder): i for i, coder in enumerate(all_coders)}
    results = []
    for spec in specs:
        if spec.plain_huffman:
            values = (p_result.expected_bits_per_token, q_result.expected_bits_per_token,
                      p_result.total_bits, q_result.total_bits)
            description = "Huffman code (q with the unseen policy's escape or smoothing)"
        else:
            p_coder, q_coder = built[spec]
            bits = [None if c is None or totals is None else totals[position[id(c)]] for c in (p_coder, q_coder)]
            values = (p_coder.expected_bits_per_token(pa),
                      None if q_coder is None else q_coder.expected_bits_per_token(pa), bits[0], bits[1])
            description = p_coder.description
            shift = getattr(q_coder, "quantization_shift", None)
            if shift is not None:
                description += _quantization_note(*shift(pa), labels)
        p_expected, q_expected, p_bits, q_bits = values
        p_measured = None if p_bits is None else p_bits / stream.tokens
        q_measured = None if q_bits is None else q_bits / stream.tokens
        if stream is None:
            excess = None if p_expected is None or q_expected is None else q_expected - p_expected
        else:
            excess = None if q_measured is None else q_measured - p_measured
        gap = None if excess is None or math.isinf(effective_kl) else excess - effective_kl
        results.append(CoderMeasurement(spec.label, description, spec.order0, p_expected, q_expected, p_bits, q_bits,
                                        p_measured, q_measured, excess, gap, roundtrip))
    return tuple(results)


def measure_samples(
    p: Distribution,
    q: Distribution,
    n: int,
    seed: int,
    *,
    policy: UnseenPolicy = UnseenPolicy(),
    verify: bool = True,
    coders: Sequence[CoderSpec] = (),
) -> Measurement:
    """:func:`measure` on ``n`` samples drawn from p with ``numpy.random.default_rng(seed)``."""
    if n < 1:
        raise DataError(f"the number of samples must be >= 1 (got {n})")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise DataError(f"the seed must be a non-negative integer (got {seed!r})")
    stream = p.sample(n, np.random.default_rng(seed))
    return measure(p, q, stream, stream_kind="samples", seed=seed, policy=policy, verify=verify, coders=coders)


def encode_stream(coders: Sequence[Coder | PrefixCode], stream: TokenStream, verify: bool) -> tuple[list[int], str]:
    """Encode the stream chunk by chunk with every coder; returns each coder's total bits and the round-trip status.

    Prefix codes are also checked against their lengths: the bits produced
    must equal Σ c(x)·l(x) over the stream's counts.
    """
    coders = [PrefixCoder(c, c.name) if isinstance(c, PrefixCode) else c for c in coders]
    totals, tokens = [0] * len(coders), 0
    for chunk in stream.chunks():
        tokens += chunk.size
        for k, coder in enumerate(coders):
            encoded = coder.encode(chunk)
            totals[k] += encoded.n_bits
            if verify and not _decodes_back(coder, encoded, chunk):
                raise DecodeError(f"{coder.name}: the decoded stream differs from the encoded one")
    if tokens != stream.tokens:
        raise DataError(f"the stream held {tokens} tokens, its counts say {stream.tokens} (did the input change while read?)")
    for coder, total in zip(coders, totals):
        if isinstance(coder, PrefixCoder):
            code = coder.code
            if total != code.total_bits(np.pad(stream.counts, (0, code.size - stream.counts.size))):  # pragma: no cover
                raise DecodeError(f"{code.name}: encoded {total} bits, the code lengths say otherwise")
    return totals, "verified" if verify else "skipped"


def _decodes_back(coder: Coder, encoded, chunk: np.ndarray) -> bool:
    """Whether the encoded chunk decodes back to it: prefix codes compare while decoding (compiled, no decoded copy)."""
    if isinstance(coder, PrefixCoder):
        return coder.code.decodes_to(encoded.payload, chunk)
    return bool(np.array_equal(coder.decode(encoded), chunk))


def _code_result(code: PrefixCode, pa: np.ndarray, stream, total_bits: int | None, roundtrip: str) -> CodeMeasurement:
    expected = code.expected_bits_per_token(np.pad(pa, (0, code.size - pa.size)))
    measured = None if stream is None else total_bits / stream.tokens
    return CodeMeasurement(code.name, expected, code.kraft_sum, code.max_length_bits, total_bits, measured, roundtrip)


def effective_model(p: Distribution, q: Distribution, policy: UnseenPolicy, stream_counts: np.ndarray | None = None,
                    *, build_code: bool = True) -> EffectiveModel:
    """The model q' that q's code is built from: q itself, or q with the unseen policy applied.

    ``p`` and ``q`` must be aligned; ``stream_counts`` (per id of p) adds the
    symbols of a stream that must be coded and counts the unseen tokens.
    ``build_code=False`` gives the probabilities (and the rest) without building the code.
    """
    pa, qa = p.probabilities, q.probabilities
    unseen_mask = (pa > 0) & (qa <= 0)
    if stream_counts is not None:
        unseen_mask |= (stream_counts > 0) & (qa <= 0)
    if not unseen_mask.any():
        weights = q.counts if q.counts is not None else qa
        code = HuffmanCode.from_weights(weights, name="huffman(q)") if build_code else None
        return EffectiveModel(qa, code, "q", None, weights)
    unseen_ids = np.flatnonzero(unseen_mask)
    labels = tuple(symbol_label(p.symbols[i]) for i in unseen_ids)
    p_mass = float(math.fsum(pa[unseen_mask].tolist()))
    stream_tokens = None if stream_counts is None else int(stream_counts[unseen_mask].sum())
    if policy.name == "error":
        shown = ", ".join(labels[:5]) + (", ..." if len(labels) > 5 else "")
        raise UnseenSymbolError(
            f"q gives probability 0 to {len(labels)} symbol(s) of p ({shown}; p-mass {p_mass:.6g}), "
            f"so KL(p||q) is infinite; choose --unseen escape or add-k"
        )
    if policy.name == "add-k":
        return _add_k_model(q, policy, labels, p_mass, stream_tokens, build_code)
    return _escape_model(q, policy, unseen_ids, labels, p_mass, stream_tokens, build_code)


def _add_k_model(q, policy, labels, p_mass, stream_tokens, build_code: bool = True) -> EffectiveModel:
    if q.counts is None:
        raise DistributionError("add-k smoothing needs q as counts (q was given as probabilities); use --unseen escape")
    alpha = policy.alpha
    smoothed = q.counts + (int(alpha) if float(alpha).is_integer() else alpha)
    probabilities = smoothed / smoothed.sum()
    code = HuffmanCode.from_weights(smoothed, name=f"huffman(q add-{alpha:g})") if build_code else None
    description = f"add-{alpha:g} smoothed q: (c(x) + {alpha:g}) / (n + {alpha:g}*{q.size})"
    unseen = UnseenReport("add-k", description, len(labels), labels, p_mass, stream_tokens, None, None, alpha)
    return EffectiveModel(probabilities, code, description, unseen, smoothed)


def _escape_model(q, policy, unseen_ids, labels, p_mass, stream_tokens, build_code: bool = True) -> EffectiveModel:
    missing = int(np.count_nonzero(q.probabilities <= 0))
    if policy.escape_probability is not None:
        epsilon = policy.escape_probability
        weights = np.append(q.probabilities * (1 - epsilon), epsilon)
    elif q.counts is not None:
        epsilon = 1 / (q.total_count + 1)
        weights = np.append(q.counts, 1)  # one pseudo-count for the escape, exact integer weights
    else:
        raise DistributionError(
            "q is given as probabilities, so the escape probability cannot be derived from counts; "
            "give --escape-probability E, or q's counts as {\"counts\": {...}}"
        )
    escape_id = q.size
    fallback_bits = math.ceil(math.log2(missing)) if missing > 1 else 0
    in_q_missing = q.probabilities <= 0
    probabilities = q.probabilities * (1 - epsilon)
    probabilities[in_q_missing] = epsilon / missing
    if build_code:
        huffman = HuffmanCode.from_weights(weights)
        lengths = huffman.lengths_bits[: q.size].copy()
        lengths[in_q_missing] = huffman.lengths_bits[escape_id] + fallback_bits
        code = PrefixCode.from_lengths(lengths, name="huffman(q+escape)")
        escape_bits = f"{int(huffman.lengths_bits[escape_id])} bits"
    else:
        code, escape_bits = None, "its codeword"
    description = (
        f"q with an escape codeword (probability {epsilon:.6g}); an unseen symbol costs the escape "
        f"({escape_bits}) + its index among the {missing} symbols q lacks "
        f"({fallback_bits} bits)"
    )
    unseen = UnseenReport("escape", description, len(labels), labels, p_mass, stream_tokens, epsilon, fallback_bits, None)
    return EffectiveModel(probabilities, code, description, unseen, weights, fallback_bits)
