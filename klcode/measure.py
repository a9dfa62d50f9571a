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
from dataclasses import dataclass
from typing import Literal

import numpy as np

from .coders import TIE_RULE, HuffmanCode, PrefixCode
from .counting import bincount_chunked
from .distribution import Distribution, align
from .errors import DataError, DecodeError, DistributionError, UnseenSymbolError
from .measures import (
    cross_entropy_kernel,
    entropy_kernel,
    js_divergence,
    kl_divergence,
    kl_kernel,
)
from .tokenize import Vocabulary, symbol_label

PolicyName = Literal["escape", "add-k", "error"]
POLICY_NAMES: tuple[str, ...] = ("escape", "add-k", "error")
StreamKind = Literal["expected", "samples", "text"]


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

    @property
    def excess_source(self) -> str:
        """Where ``measured_excess_bits_per_token`` comes from: the stream, or expected lengths."""
        return "expected" if self.stream == "expected" else "stream"


@dataclass(frozen=True)
class _Model:
    """The model q' that q's code is built from, with the code itself."""

    probabilities: np.ndarray
    code: PrefixCode
    description: str
    unseen: UnseenReport | None


def measure(
    p: Distribution,
    q: Distribution,
    stream: np.ndarray | None = None,
    *,
    stream_kind: StreamKind | None = None,
    seed: int | None = None,
    policy: UnseenPolicy = UnseenPolicy(),
    verify: bool = True,
) -> Measurement:
    """Measure KL(p‖q) by coding: Huffman codes of p and q, applied to ``stream`` (ids of p's symbols).

    Without a stream only expected lengths Σ p(x)·l(x) are reported.
    ``verify=False`` skips the decode check (the record then says ``skipped``).
    """
    p, q = align(p, q)
    if stream is not None:
        stream = np.asarray(stream)
        if stream.size == 0:
            raise DataError("the stream to encode is empty (got 0 tokens)")
        stream_kind = stream_kind or "samples"
    else:
        stream_kind = "expected"
    pa, qa = p.probabilities, q.probabilities
    entropy_bits = entropy_kernel(pa)
    p_code = HuffmanCode.from_distribution(p, name="huffman(p)")
    model = _effective_model(p, q, policy, stream)
    q_code = model.code

    stream_counts = None if stream is None else bincount_chunked(stream, p.size)
    p_result = _apply(p_code, pa, stream, stream_counts, verify)
    q_result = _apply(q_code, pa, stream, stream_counts, verify)
    if stream is None:
        excess = q_result.expected_bits_per_token - p_result.expected_bits_per_token
    else:
        excess = q_result.measured_bits_per_token - p_result.measured_bits_per_token
    dyadic = np.ldexp(1.0, -q_code.lengths_bits) * q_code.has_codeword()
    labels = tuple(symbol_label(s) for s in p.symbols)
    return Measurement(
        stream=stream_kind,
        tokens=None if stream is None else int(stream.size),
        seed=seed,
        alphabet_size=p.size,
        p_support_size=p.support_size,
        q_support_size=q.support_size,
        entropy_bits_per_token=entropy_bits,
        cross_entropy_bits_per_token=cross_entropy_kernel(pa, qa),
        kl_bits_per_token=kl_divergence(p, q),
        kl_reverse_bits_per_token=kl_divergence(q, p),
        js_bits_per_token=js_divergence(p, q),
        model=model.description,
        effective_cross_entropy_bits_per_token=cross_entropy_kernel(pa, model.probabilities),
        effective_kl_bits_per_token=kl_kernel(pa, model.probabilities),
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
    )


def measure_samples(
    p: Distribution,
    q: Distribution,
    n: int,
    seed: int,
    *,
    policy: UnseenPolicy = UnseenPolicy(),
    verify: bool = True,
) -> Measurement:
    """:func:`measure` on ``n`` samples drawn from p with ``numpy.random.default_rng(seed)``."""
    if n < 1:
        raise DataError(f"the number of samples must be >= 1 (got {n})")
    stream = p.sample(n, np.random.default_rng(seed))
    return measure(p, q, stream, stream_kind="samples", seed=seed, policy=policy, verify=verify)


def measure_texts(
    raw_a: np.ndarray,
    raw_b: np.ndarray,
    *,
    policy: UnseenPolicy = UnseenPolicy(),
    verify: bool = True,
) -> Measurement:
    """:func:`measure` with p = the token distribution of text A, q = that of text B, stream = A.

    ``raw_a`` and ``raw_b`` are raw token codes (:func:`klcode.tokenize.raw_codes`).

    >>> from klcode.tokenize import raw_codes
    >>> m = measure_texts(raw_codes(b"abracadabra", "bytes"), raw_codes(b"banana", "bytes"))
    >>> m.unseen.symbols, m.p_code.total_bits, m.p_code.roundtrip
    (('c', 'd', 'r'), 23, 'verified')
    """
    for name, raw in (("A", raw_a), ("B", raw_b)):
        if raw.size == 0:
            raise DataError(f"text {name} is empty: no tokens to measure")
    vocabulary = Vocabulary.from_raw(raw_a, raw_b)
    ids_a = vocabulary.ids(raw_a)
    symbols = vocabulary.symbols()
    p = Distribution.from_counts(bincount_chunked(ids_a, vocabulary.size), symbols)
    q = Distribution.from_counts(bincount_chunked(vocabulary.ids(raw_b), vocabulary.size), symbols)
    return measure(p, q, ids_a, stream_kind="text", policy=policy, verify=verify)


def _apply(code: PrefixCode, pa: np.ndarray, stream, stream_counts, verify: bool) -> CodeMeasurement:
    expected = code.expected_bits_per_token(pa)
    if stream is None:
        return CodeMeasurement(code.name, expected, code.kraft_sum, code.max_length_bits, None, None, "no stream")
    bits = code.encode(stream)
    if len(bits) != code.total_bits(stream_counts):  # pragma: no cover - an internal invariant
        raise DecodeError(f"{code.name}: encoded {len(bits)} bits, the code lengths say {code.total_bits(stream_counts)}")
    roundtrip = "skipped"
    if verify:
        decoded = code.decode(bits, stream.size)
        if not np.array_equal(decoded, stream):
            raise DecodeError(f"{code.name}: the decoded stream differs from the encoded one")
        roundtrip = "verified"
    return CodeMeasurement(
        code.name, expected, code.kraft_sum, code.max_length_bits, len(bits), len(bits) / stream.size, roundtrip
    )


def _effective_model(p: Distribution, q: Distribution, policy: UnseenPolicy, stream) -> _Model:
    pa, qa = p.probabilities, q.probabilities
    unseen_mask = (pa > 0) & (qa <= 0)
    if stream is not None:
        # a stream may hold symbols p gives tiny mass; what counts is what must be coded
        unseen_mask |= (bincount_chunked(stream, p.size) > 0) & (qa <= 0)
    if not unseen_mask.any():
        return _Model(qa, HuffmanCode.from_distribution(q, name="huffman(q)"), "q", None)
    unseen_ids = np.flatnonzero(unseen_mask)
    labels = tuple(symbol_label(p.symbols[i]) for i in unseen_ids)
    p_mass = float(math.fsum(pa[unseen_mask].tolist()))
    stream_tokens = None
    if stream is not None:
        stream_tokens = int(bincount_chunked(stream, p.size)[unseen_mask].sum())
    if policy.name == "error":
        shown = ", ".join(labels[:5]) + (", ..." if len(labels) > 5 else "")
        raise UnseenSymbolError(
            f"q gives probability 0 to {len(labels)} symbol(s) of p ({shown}; p-mass {p_mass:.6g}), "
            f"so KL(p||q) is infinite; choose --unseen escape or add-k"
        )
    if policy.name == "add-k":
        return _add_k_model(q, policy, labels, p_mass, stream_tokens)
    return _escape_model(q, policy, unseen_ids, labels, p_mass, stream_tokens)


def _add_k_model(q, policy, labels, p_mass, stream_tokens) -> _Model:
    if q.counts is None:
        raise DistributionError("add-k smoothing needs q as counts (q was given as probabilities); use --unseen escape")
    alpha = policy.alpha
    smoothed = q.counts + (int(alpha) if float(alpha).is_integer() else alpha)
    probabilities = smoothed / smoothed.sum()
    code = HuffmanCode.from_weights(smoothed, name=f"huffman(q add-{alpha:g})")
    description = f"add-{alpha:g} smoothed q: (c(x) + {alpha:g}) / (n + {alpha:g}*{q.size})"
    unseen = UnseenReport("add-k", description, len(labels), labels, p_mass, stream_tokens, None, None, alpha)
    return _Model(probabilities, code, description, unseen)


def _escape_model(q, policy, unseen_ids, labels, p_mass, stream_tokens) -> _Model:
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
    return _Model(probabilities, code, description, unseen)
