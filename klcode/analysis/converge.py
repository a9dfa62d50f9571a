"""How fast measured bits approach the formulas: L_q − L_p against KL(p‖q) as N and the block size grow.

Two views of one seeded experiment:

* **by sample size**: N samples drawn from p (prefixes of one long seeded
  sample, N log-spaced from 10 to ``max_samples``), encoded with each coder
  family built from p and from q' (the effective model of q); the measured
  excess (bits of q's coder − bits of p's coder)/N tends to the coder's own
  limit: KL(p‖q̂) for Huffman (q rounded to powers of two), KL(p‖q) within
  the model quantization for ANS.  Beside it the coin-flip identity:
  (P(obs | q)/P(obs | p))^(1/N) → 2^(−KL(p‖q)).
* **by block size**: block Huffman codes of the k-th extensions of p and q'
  (k = 1, 2, ...): the expected per-token excess, exact, and the excess
  measured on the longest sample; it tends to KL as k grows, since each
  block codeword is within one bit of its ideal length, i.e. 1/k per token.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..coders.block import MAX_BLOCK_SYMBOLS
from ..coders.registry import CoderSpec, build_coder
from ..errors import DataError
from ..info.measures import cross_entropy_kernel, entropy_kernel, kl_kernel
from ..models.distribution import Distribution, align
from ..text.stream import TokenStream
from .likelihood import LikelihoodRatio, likelihood_ratio_path
from .measure import UnseenPolicy, effective_model, encode_stream

#: Default cap on the block alphabet of the block-size view (the coder's own limit is MAX_BLOCK_SYMBOLS).
DEFAULT_BLOCK_SYMBOLS = 1 << 16
#: The longest default block (a coin's 2^16 block symbols; with one symbol every k would pass the cap).
MAX_DEFAULT_BLOCK = 16
#: The largest aligned alphabet converge takes: it builds every coder's code of p and q at each of its
#: sample sizes, which on 10^7 symbols ran for minutes.
MAX_CONVERGE_SYMBOLS = 1 << 16


@dataclass(frozen=True)
class ConvergencePoint:
    """One coder at one sample size and block size: measured (and, when defined, expected) bits per token."""

    coder: str
    samples: int
    block: int
    p_measured_bits_per_token: float
    q_measured_bits_per_token: float
    measured_excess_bits_per_token: float
    expected_excess_bits_per_token: float | None


@dataclass(frozen=True)
class Convergence:
    """The whole experiment: formulas, both views, and the coin-flip identity at each sample size."""

    seed: int
    model: str
    entropy_bits_per_token: float
    cross_entropy_bits_per_token: float
    kl_bits_per_token: float
    effective_kl_bits_per_token: float
    sample_sizes: tuple[int, ...]
    block_sizes: tuple[int, ...]
    by_samples: tuple[ConvergencePoint, ...]
    by_block: tuple[ConvergencePoint, ...]
    likelihood: tuple[LikelihoodRatio, ...]
    roundtrip: str


def log_spaced_sizes(max_samples: int, points: int) -> tuple[int, ...]:
    """``points`` sample sizes from 10 to ``max_samples``, evenly spaced in log, distinct.

    >>> log_spaced_sizes(10**6, 6)
    (10, 100, 1000, 10000, 100000, 1000000)
    """
    if max_samples < 10:
        raise DataError(f"the largest sample size must be >= 10 (got {max_samples})")
    if points < 2:
        raise DataError(f"a convergence needs at least 2 sample sizes (got {points})")
    sizes = np.unique(np.round(np.logspace(1, math.log10(max_samples), points)).astype(np.int64))
    return tuple(int(n) for n in sizes)


def default_block_sizes(support: int, max_block: int | None = None, limit: int = DEFAULT_BLOCK_SYMBOLS) -> tuple[int, ...]:
    """Block sizes 1..k: k the largest with support^k ≤ ``limit``, or ``max_block`` when given.

    ``max_block`` is refused when its block alphabet passes the block coder's limit.

    >>> default_block_sizes(2), default_block_sizes(256), default_block_sizes(3, max_block=4)
    ((1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16), (1, 2), (1, 2, 3, 4))
    >>> default_block_sizes(1)[-1]  # one symbol: 1^k never passes the limit, so the length cap stops it
    16
    """
    largest = 1
    while largest < MAX_DEFAULT_BLOCK and support ** (largest + 1) <= limit:
        largest += 1
    if max_block is not None:
        if support**max_block > MAX_BLOCK_SYMBOLS:
            raise DataError(
                f"--max-block {max_block} over {support} symbols needs {support**max_block:,} block symbols "
                f"(limit {MAX_BLOCK_SYMBOLS:,})"
            )
        largest = max_block
    return tuple(range(1, largest + 1))


def converge(
    p: Distribution,
    q: Distribution,
    *,
    coders: Sequence[CoderSpec] = (CoderSpec("huffman"), CoderSpec("shannon"), CoderSpec("ans")),
    sample_sizes: Sequence[int] = (10, 100, 1000, 10_000, 100_000, 1_000_000),
    block_sizes: Sequence[int] | None = None,
    seed: int = 0,
    policy: UnseenPolicy = UnseenPolicy(),
    verify: bool = True,
) -> Convergence:
    """Run both views of the convergence experiment (see the module docstring)."""
    if not sample_sizes or min(sample_sizes) < 1:
        raise DataError(f"sample sizes must be >= 1 (got {list(sample_sizes)})")
    if any(not spec.order0 for spec in coders):
        names = ", ".join(spec.name for spec in coders if not spec.order0)
        raise DataError(f"converge compares order-0 codes of p and q; {names} is contextual (use huffman, shannon, ans)")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise DataError(f"the seed must be a non-negative integer (got {seed!r})")
    p, q = align(p, q)
    if p.size > MAX_CONVERGE_SYMBOLS:
        raise DataError(f"converge takes at most {MAX_CONVERGE_SYMBOLS:,} symbols (got {p.size:,} in p and q together); "
                        "use klcode measure --samples N for larger alphabets")
    sizes = tuple(sorted(set(int(n) for n in sample_sizes)))
    model = effective_model(p, q, policy)
    q_model = model.probabilities
    stream = p.sample(sizes[-1], np.random.default_rng(seed))
    if block_sizes is None:
        block_sizes = default_block_sizes(int(np.count_nonzero((p.probabilities > 0) | (q_model > 0))))
    built = [(spec, build_coder(spec, p.probabilities, p.counts), build_coder(spec, q_model)) for spec in coders]
    by_samples = []
    roundtrip = "verified" if verify else "skipped"
    for n in sizes:
        prefix = TokenStream.from_array(stream[:n], p.size)
        totals, _ = encode_stream([c for _, p_coder, q_coder in built for c in (p_coder, q_coder)], prefix, verify)
        for i, (spec, p_coder, q_coder) in enumerate(built):
            p_bits, q_bits = totals[2 * i], totals[2 * i + 1]
            expected_p, expected_q = p_coder.expected_bits_per_token(p.probabilities), q_coder.expected_bits_per_token(p.probabilities)
            expected = None if expected_p is None or expected_q is None else expected_q - expected_p
            by_samples.append(ConvergencePoint(spec.label, n, spec.block, p_bits / n, q_bits / n, (q_bits - p_bits) / n, expected))
    by_block = []
    longest = TokenStream.from_array(stream, p.size)
    for k in block_sizes:
        spec = CoderSpec("huffman", block=k)
        p_coder, q_coder = build_coder(spec, p.probabilities), build_coder(spec, q_model)
        (p_bits, q_bits), _ = encode_stream([p_coder, q_coder], longest, verify)
        expected = q_coder.expected_bits_per_token(p.probabilities) - p_coder.expected_bits_per_token(p.probabilities)
        n = stream.size
        by_block.append(ConvergencePoint(spec.label, n, k, p_bits / n, q_bits / n, (q_bits - p_bits) / n, expected))
    pa = p.probabilities
    return Convergence(
        seed=seed,
        model=model.description,
        entropy_bits_per_token=entropy_kernel(pa),
        cross_entropy_bits_per_token=cross_entropy_kernel(pa, q.probabilities),
        kl_bits_per_token=kl_kernel(pa, q.probabilities),
        effective_kl_bits_per_token=kl_kernel(pa, q_model),
        sample_sizes=sizes,
        block_sizes=tuple(block_sizes),
        by_samples=tuple(by_samples),
        by_block=tuple(by_block),
        likelihood=likelihood_ratio_path(stream, p, q, sizes),
        roundtrip=roundtrip,
    )
