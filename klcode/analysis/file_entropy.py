"""Per-file entropy: tokens, types, H, the measured Huffman size, and general-purpose compressors for context.

The Huffman figure is an order-0 code of the file's own token distribution,
actually encoded (and decoded back); the code table itself is not counted.
zlib (level 9), bz2 (level 9) and lzma (preset 6) compress the file's bytes
and exploit context, so their bits per byte are not order-0 entropies: they
are there for scale.
"""

from __future__ import annotations

import bz2
import lzma
import math
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from ..coders import HuffmanCode
from ..coders.registry import CoderSpec, build_coder
from ..info.measures import entropy
from ..text.corpus import iter_chunks
from ..text.inputs import Corpus, corpus_stream
from .measure import encode_stream

#: name → factory of a streaming compressor object with .compress() and .flush()
COMPRESSORS: dict[str, Callable[[], object]] = {
    "zlib": lambda: zlib.compressobj(9),
    "bz2": lambda: bz2.BZ2Compressor(9),
    "lzma": lambda: lzma.LZMACompressor(preset=6),
}


@dataclass(frozen=True)
class FileEntropy:
    """Order-0 entropy and measured code sizes of one file (or one counts file)."""

    path: str
    tokenizer: str
    input_bytes: int
    tokens: int
    types: int
    entropy_bits_per_token: float
    huffman_bits_per_token: float
    huffman_total_bits: int
    huffman_bytes: int
    roundtrip: str
    stream: str
    compressed_bits_per_byte: dict[str, float] | None
    coder_bits_per_token: dict[str, float] = field(default_factory=dict)

    @property
    def huffman_bits_per_byte(self) -> float:
        return self.huffman_total_bits / self.input_bytes if self.input_bytes else math.nan


def file_entropy(corpus: Corpus, *, verify: bool = True, compressors: bool = True,
                 progress: Callable[[int], None] | None = None, coders: Sequence[CoderSpec] = ()) -> FileEntropy:
    """Entropy, Huffman size (encoded and verified) and compressor sizes of one corpus (normally one file).

    ``coders`` adds the bits per token of each coder family built from the
    file's own distribution (contextual ones compress the token-id stream).
    """
    counts = corpus.require_tokens().counts
    p = counts.distribution()
    code = HuffmanCode.from_distribution(p, name="huffman(p)")
    stream = corpus_stream(corpus, counts.index(), counts.types)
    extra = [build_coder(spec, p.probabilities, p.counts) for spec in coders if not spec.plain_huffman]
    (total_bits, *extra_bits), roundtrip = encode_stream([code, *extra], stream, verify)
    compressed = None
    if compressors and corpus.rereadable:
        compressed = _compressed_bits_per_byte(corpus, progress)
    return FileEntropy(
        path=corpus.label,
        tokenizer=counts.spec.describe(),
        input_bytes=counts.input_bytes,
        tokens=counts.total_tokens,
        types=counts.types,
        entropy_bits_per_token=entropy(p),
        huffman_bits_per_token=total_bits / counts.total_tokens,
        huffman_total_bits=total_bits,
        huffman_bytes=(total_bits + 7) // 8,
        roundtrip=roundtrip,
        stream="text" if corpus.rereadable else "counts",
        compressed_bits_per_byte=compressed,
        coder_bits_per_token={c.name: bits / counts.total_tokens for c, bits in zip(extra, extra_bits)},
    )


def _compressed_bits_per_byte(corpus: Corpus, progress) -> dict[str, float]:
    engines = {name: factory() for name, factory in COMPRESSORS.items()}
    sizes = dict.fromkeys(engines, 0)
    total = 0
    for source in corpus.sources:
        for chunk in iter_chunks(source, progress=progress):
            total += len(chunk)
            for name, engine in engines.items():
                sizes[name] += len(engine.compress(chunk))
    for name, engine in engines.items():
        sizes[name] += len(engine.flush())
    return {name: 8 * size / total if total else math.nan for name, size in sizes.items()}
