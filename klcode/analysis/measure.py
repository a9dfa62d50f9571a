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
from dataclasses import dataclass
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
from ..models.distribution import Distribution, align
from ..text.stream import StreamKind, TokenStream
from ..text.tokenize import symbol_label

PolicyName = Literal["escape", "add-k", "error"]
POLICY_NAMES: tuple[str, ...] = ("escape", "add-k", "error")

#: Search budget of the tie band shown with every measurement (beyond it, sampled tie orders: an inner estimate).
TIE_BAND_STATES = 20_000
TIE_BAND_SAMPLES = 200

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

    @property
    def excess_source(self) -> str:
        """Where ``measured_excess_bits_per_token`` comes from: the stream, or expected lengths."""
        return "expected" if self.stream == "expected" else "stream"


@dataclass(frozen=True)
class EffectiveModel:
    """The model q' that q's code is built from (probabilities per id of the aligned alphabet), with its code."""

    probabilities: np.ndarray
    code: PrefixCode
    description: str
    unseen: UnseenReport | None


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
    labels = tuple(symbol_label(s) for s in p.symbols)
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
        huffman_bound_held=bool(entropy_bits <= p_result.expected_bits_per_token < entropy_bits + 1),
        unseen=model.unseen,
        tie_rule=TIE_RULE,
        symbols=labels,
        p_code_lengths_bits=tuple(p_code.lengths_bits[: p.size].tolist()),
        q_code_lengths_bits=tuple(q_code.lengths_bits[: p.size].tolist()),
        p_codewords=tuple(p_code.codeword(i) for i in range(p.size)),
        q_codewords=tuple(q_code.codeword(i) for i in range(p.size)),
        coders=_coder_results(coders, extra, all_coders, totals, roundtrip, pa, stream,
                              p_result, q_result, effective_kl),
        tie_band=None if model.unseen is not None else _tie_band(q, pa),
    )


def _tie_band(q: Distribution, pa: np.ndarray) -> TieBand:
    """The band of expected L_q over Huffman tie orders of q, on a small search budget (an estimate beyond it)."""
    weights = q.counts if q.counts is not None else q.probabilities
    return huffman_tie_band(weights, pa, max_states=TIE_BAND_STATES, samples=TIE_BAND_SAMPLES)


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


def _coder_results(specs, built, all_coders, totals, roundtrip, pa, stream, p_result, q_result, effective_kl):
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
            if verify and not np.array_equal(coder.decode(encoded), chunk):
                raise DecodeError(f"{coder.name}: the decoded stream differs from the encoded one")
    if tokens != stream.tokens:
        raise DataError(f"the stream held {tokens} tokens, its counts say {stream.tokens} (did the input change while read?)")
    for coder, total in zip(coders, totals):
        if isinstance(coder, PrefixCoder):
            code = coder.code
            if total != code.total_bits(np.pad(stream.counts, (0, code.size - stream.counts.size))):  # pragma: no cover
                raise DecodeError(f"{code.name}: encoded {total} bits, the code lengths say otherwise")
    return totals, "verified" if verify else "skipped"


def _code_result(code: PrefixCode, pa: np.ndarray, stream, total_bits: int | None, roundtrip: str) -> CodeMeasurement:
    expected = code.expected_bits_per_token(np.pad(pa, (0, code.size - pa.size)))
    measured = None if stream is None else total_bits / stream.tokens
    return CodeMeasurement(code.name, expected, code.kraft_sum, code.max_length_bits, total_bits, measured, roundtrip)


def effective_model(p: Distribution, q: Distribution, policy: UnseenPolicy, stream_counts: np.ndarray | None = None) -> EffectiveModel:
    """The model q' that q's code is built from: q itself, or q with the unseen policy applied.

    ``p`` and ``q`` must be aligned; ``stream_counts`` (per id of p) adds the
    symbols of a stream that must be coded and counts the unseen tokens.
    """
    pa, qa = p.probabilities, q.probabilities
    unseen_mask = (pa > 0) & (qa <= 0)
    if stream_counts is not None:
        unseen_mask |= (stream_counts > 0) & (qa <= 0)
    if not unseen_mask.any():
        return EffectiveModel(qa, HuffmanCode.from_distribution(q, name="huffman(q)"), "q", None)
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
        return _add_k_model(q, policy, labels, p_mass, stream_tokens)
    return _escape_model(q, policy, unseen_ids, labels, p_mass, stream_tokens)


def _add_k_model(q, policy, labels, p_mass, stream_tokens) -> EffectiveModel:
    if q.counts is None:
        raise DistributionError("add-k smoothing needs q as counts (q was given as probabilities); use --unseen escape")
    alpha = policy.alpha
    smoothed = q.counts + (int(alpha) if float(alpha).is_integer() else alpha)
    probabilities = smoothed / smoothed.sum()
    code = HuffmanCode.from_weights(smoothed, name=f"huffman(q add-{alpha:g})")
    description = f"add-{alpha:g} smoothed q: (c(x) + {alpha:g}) / (n + {alpha:g}*{q.size})"
    unseen = UnseenReport("add-k", description, len(labels), labels, p_mass, stream_tokens, None, None, alpha)
    return EffectiveModel(probabilities, code, description, unseen)


def _escape_model(q, policy, unseen_ids, labels, p_mass, stream_tokens) -> EffectiveModel:
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
            "give --escape-probability"
        )
    escape_id = q.size
    huffman = HuffmanCode.from_weights(weights)
    fallback_bits = math.ceil(math.log2(missing)) if missing > 1 else 0
    lengths = huffman.lengths_bits[: q.size].copy()
    in_q_missing = q.probabilities <= 0
    lengths[in_q_missing] = huffman.lengths_bits[escape_id] + fallback_bits
    code = PrefixCode.from_lengths(lengths, name="huffman(q+escape)")
    probabilities = q.probabilities * (1 - epsilon)
    probabilities[in_q_missing] = epsilon / missing
    description = (
        f"q with an escape codeword (probability {epsilon:.6g}); an unseen symbol costs the escape "
        f"({int(huffman.lengths_bits[escape_id])} bits) + its index among the {missing} symbols q lacks "
        f"({fallback_bits} bits)"
    )
    unseen = UnseenReport("escape", description, len(labels), labels, p_mass, stream_tokens, epsilon, fallback_bits, None)
    return EffectiveModel(probabilities, code, description, unseen)
