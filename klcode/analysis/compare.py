"""Two corpora against each other, in both directions, with the tokens that carry the divergence.

``compare(A, B)`` measures A coded with B's code (p = A, q = B, stream = A)
and B coded with A's code (p = B, q = A, stream = B), and ranks the tokens by
their contribution p_A(x)·log2(p_A(x)/q'_B(x)) to KL(A‖B'), where q'_B is the
effective model B's code is built from (B itself, or B with the unseen
policy applied, so that tokens B never has still get a finite contribution).
Positive contributions are tokens over-represented in A, negative ones tokens
over-represented in B: the corpus linguist's keyness view.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..coders.registry import CoderSpec
from ..info.measures import js_divergence, kl_contributions_kernel
from ..models.distribution import Distribution
from ..text.corpus import iter_chunks
from ..text.inputs import Corpus, corpus_stream
from ..text.tokenize import symbol_label
from .measure import Measurement, UnseenPolicy, effective_model, measure
from .zipping import ZippingEstimate, zipping_relative_entropy

#: Bytes in the piece b of the zipping estimate (at most a tenth of the text it is taken from).
ZIPPING_PIECE_BYTES = 1000


@dataclass(frozen=True)
class Contribution:
    """One token's share of KL(A‖B'): p_A(x)·log2(p_A(x)/q'_B(x)) bits per token of A."""

    symbol: str
    count_a: int
    count_b: int
    probability_a: float
    probability_b: float
    kl_bits_per_token: float
    unseen_in_b: bool


@dataclass(frozen=True)
class Comparison:
    """A against B and B against A: formulas, measured Huffman bits, JS, and the top contributions."""

    a: str
    b: str
    tokenizer: str
    a_tokens: int
    b_tokens: int
    a_types: int
    b_types: int
    shared_types: int
    a_stream: str
    b_stream: str
    a_coded_with_b: Measurement
    b_coded_with_a: Measurement
    js_bits_per_token: float
    top_a: tuple[Contribution, ...]
    top_b: tuple[Contribution, ...]
    zipping: tuple[Zipping, ...] = ()


@dataclass(frozen=True)
class Zipping:
    """A compression-based relative entropy of the two texts (Benedetto, Caglioti & Loreto 2002), both ways.

    ``piece_of_b_after_a`` codes the last piece of B after all of A, against
    after the rest of B (how badly A's phrases predict B); the reverse for
    ``piece_of_a_after_b``.  Bits per byte of the piece; contextual, not order-0.
    """

    compressor: str
    piece_of_b_after_a: ZippingEstimate
    piece_of_a_after_b: ZippingEstimate


def shared_distributions(a: Corpus, b: Corpus) -> tuple[Distribution, Distribution, dict]:
    """p_A and p_B on the union of their symbols (sorted), and the symbol → id index."""
    a, b = a.require_tokens(), b.require_tokens()
    symbols = tuple(sorted(set(a.counts.symbols) | set(b.counts.symbols)))
    index = {s: i for i, s in enumerate(symbols)}
    distributions = []
    for corpus in (a, b):
        counts = np.zeros(len(symbols), dtype=np.int64)
        counts[[index[s] for s in corpus.counts.symbols]] = corpus.counts.counts
        distributions.append(Distribution.from_counts(counts, symbols))
    return distributions[0], distributions[1], index


def compare(a: Corpus, b: Corpus, *, policy: UnseenPolicy = UnseenPolicy(), verify: bool = True, top: int = 10,
            coders: Sequence[CoderSpec] = ()) -> Comparison:
    """Compare corpora A and B (counted with the same tokenizer) in both directions."""
    p_a, p_b, index = shared_distributions(a, b)
    size = len(index)
    stream_a, stream_b = corpus_stream(a, index, size), corpus_stream(b, index, size)
    a_with_b = measure(p_a, p_b, stream_a, policy=policy, verify=verify, coders=coders)
    b_with_a = measure(p_b, p_a, stream_b, policy=policy, verify=verify, coders=coders)
    model = effective_model(p_a, p_b, policy, p_a.counts, build_code=False)  # its probabilities only: no code rebuilt
    terms = kl_contributions_kernel(p_a.probabilities, model.probabilities)
    unseen = (p_a.probabilities > 0) & (p_b.probabilities <= 0)
    in_a = np.flatnonzero(p_a.probabilities > 0)
    order = in_a[np.lexsort((in_a, -terms[in_a]))]  # largest first; ties by id

    def row(i: int) -> Contribution:
        return Contribution(
            symbol_label(p_a.symbols[i]), int(p_a.counts[i]), int(p_b.counts[i]),
            float(p_a.probabilities[i]), float(p_b.probabilities[i]), float(terms[i]), bool(unseen[i]),
        )

    top_a = tuple(row(i) for i in order[:top] if terms[i] > 0)
    top_b = tuple(row(i) for i in order[::-1][:top] if terms[i] < 0)
    compressors = [spec.name for spec in coders if not spec.order0]
    zipping = ()
    if compressors and a.rereadable and b.rereadable:
        zipping = _zipping(corpus_bytes(a), corpus_bytes(b), compressors)
    return Comparison(
        a=a.label, b=b.label, tokenizer=a.counts.spec.describe(),
        a_tokens=a.counts.total_tokens, b_tokens=b.counts.total_tokens,
        a_types=a.counts.types, b_types=b.counts.types,
        shared_types=int(np.count_nonzero((p_a.probabilities > 0) & (p_b.probabilities > 0))),
        a_stream="text" if a.rereadable else "counts", b_stream="text" if b.rereadable else "counts",
        a_coded_with_b=a_with_b, b_coded_with_a=b_with_a,
        js_bits_per_token=js_divergence(p_a, p_b),
        top_a=top_a, top_b=top_b, zipping=zipping,
    )


def corpus_bytes(corpus: Corpus) -> bytes:
    """The raw bytes of a corpus read from text (all its sources, concatenated)."""
    return b"".join(chunk for source in corpus.sources for chunk in iter_chunks(source))


def zipping_piece_bytes(text: bytes, piece_bytes: int = ZIPPING_PIECE_BYTES) -> int:
    """Bytes of the piece b taken from ``text``: ``piece_bytes``, at most a tenth of the text, at least 1.

    >>> zipping_piece_bytes(b"x" * 50_000), zipping_piece_bytes(b"x" * 250), zipping_piece_bytes(b"x")
    (1000, 25, 1)
    """
    return max(1, min(piece_bytes, len(text) // 10))


def _zipping(raw_a: bytes, raw_b: bytes, compressors: Sequence[str]) -> tuple[Zipping, ...]:
    """Both zipping estimates per compressor, with pieces of ZIPPING_PIECE_BYTES (or a tenth of a short text)."""
    return tuple(
        Zipping(name,
                zipping_relative_entropy(raw_a, raw_b, compressor=name, piece_bytes=zipping_piece_bytes(raw_b)),
                zipping_relative_entropy(raw_b, raw_a, compressor=name, piece_bytes=zipping_piece_bytes(raw_a)))
        for name in compressors
    )
