"""Relative entropy of two texts by compression ("Language trees and zipping").

Benedetto, Caglioti and Loreto (Phys. Rev. Lett. 88, 048702, 2002) estimate
how much a compressor Z "trained" on a text A overpays for a piece b of a
text B, against what it pays when trained on B itself:

    S(A‖B) = ((|Z(A+b)| − |Z(A)|) − (|Z(B'+b)| − |Z(B')|)) × 8 / |b|   bits per byte,

where b is the **last** ``piece_bytes`` bytes of B and B' is B **without**
that piece, so that b is "more of B" for the second difference.
|Z(A+b)| − |Z(A)| is the cost of b coded after A (a cross-entropy-like
quantity), |Z(B'+b)| − |Z(B')| the cost of b coded after the rest of its own
text (an entropy-like one); their difference per byte of b is the estimate of
the relative entropy of B's source to A's.

Caveats (it is a contextual estimate, not an order-0 KL):

* The compressor exploits context (repeated words, phrases), so the estimate
  is not KL(p‖q) between symbol frequencies; it measures how well A's
  *phrases* predict b.
* zlib's window is 32 KiB: only the last 32 KiB of A (and of B') are seen
  while compressing b; longer texts change nothing.  bz2 works in 900 kB
  blocks, lzma and zstd have windows of megabytes.
* The sizes include container headers and trailers; they cancel in each
  difference, up to a byte or so of block-end rounding.
* The estimate is noisy for short pieces, and can be negative when A and B
  are nearly the same text (A may even hold b verbatim).
* Sizes are in bytes of the raw texts; for UTF-8 text a character may be
  several bytes, so "per byte" is not "per character".

>>> text = b"the cat sat on the mat and the dog sat on the log. " * 40
>>> estimate = zipping_relative_entropy(text, text, piece_bytes=200)
>>> estimate.reference_bytes, estimate.relative_entropy_bits_per_byte <= 0.5
(1840, True)
"""

from __future__ import annotations

from dataclasses import dataclass

from ..coders.contextual import COMPRESSOR_NAMES, compress_bytes
from ..errors import DataError


@dataclass(frozen=True)
class ZippingSizes:
    """The four compressed sizes, in bytes, that the estimate is made of."""

    #: |Z(A)|
    compressed_a_bytes: int
    #: |Z(A+b)|
    compressed_a_piece_bytes: int
    #: |Z(B')|, B' = B without its last piece
    compressed_reference_bytes: int
    #: |Z(B'+b)|
    compressed_reference_piece_bytes: int

    def relative_entropy_bits_per_byte(self, piece_bytes: int) -> float:
        """((|Z(A+b)| − |Z(A)|) − (|Z(B'+b)| − |Z(B')|)) · 8 / |b|: the estimate these sizes give."""
        cross = self.compressed_a_piece_bytes - self.compressed_a_bytes
        own = self.compressed_reference_piece_bytes - self.compressed_reference_bytes
        return 8 * (cross - own) / piece_bytes


@dataclass(frozen=True)
class ZippingEstimate:
    """Compression estimate of the relative entropy of text B to text A, in bits per byte of the piece b."""

    compressor: str
    piece_bytes: int
    a_bytes: int
    b_bytes: int
    sizes: ZippingSizes
    relative_entropy_bits_per_byte: float

    @property
    def reference_bytes(self) -> int:
        """|B'| = |B| − |b|: the part of B the piece is compared against."""
        return self.b_bytes - self.piece_bytes

    @property
    def cross_bits_per_byte(self) -> float:
        """(|Z(A+b)| − |Z(A)|) × 8 / |b|: the cost of b coded after A."""
        return 8 * (self.sizes.compressed_a_piece_bytes - self.sizes.compressed_a_bytes) / self.piece_bytes

    @property
    def self_bits_per_byte(self) -> float:
        """(|Z(B'+b)| − |Z(B')|) × 8 / |b|: the cost of b coded after the rest of B."""
        return 8 * (self.sizes.compressed_reference_piece_bytes - self.sizes.compressed_reference_bytes) / self.piece_bytes


def zipping_relative_entropy(
    a: bytes, b: bytes, *, compressor: str = "zlib", piece_bytes: int = 1000
) -> ZippingEstimate:
    """Relative entropy S = (|Z(A+b)| − |Z(A)| − |Z(B'+b)| + |Z(B')|) × 8 / |b| bits per byte (Benedetto et al. 2002).

    b is the last ``piece_bytes`` bytes of ``b`` and B' the rest of it; see the
    module docstring for the caveats.  ``compressor`` is one of zlib, bz2,
    lzma, zstd, at the settings of :mod:`klcode.coders.contextual`.

    >>> english = b"in the beginning god created the heaven and the earth. " * 30
    >>> french = b"au commencement dieu crea les cieux et la terre. " * 30
    >>> same = zipping_relative_entropy(english, english, piece_bytes=300)
    >>> other = zipping_relative_entropy(english, french, piece_bytes=300)
    >>> same.relative_entropy_bits_per_byte < other.relative_entropy_bits_per_byte
    True
    """
    a = _as_bytes(a, "A")
    b = _as_bytes(b, "B")
    if compressor not in COMPRESSOR_NAMES:
        raise DataError(f"unknown compressor {compressor!r} (known: {', '.join(COMPRESSOR_NAMES)})")
    if isinstance(piece_bytes, bool) or not isinstance(piece_bytes, int):
        raise DataError(f"piece_bytes must be an integer (got {piece_bytes!r})")
    if not 1 <= piece_bytes < len(b):
        raise DataError(
            f"piece_bytes must be at least 1 and smaller than text B, which keeps the rest as reference "
            f"(got {piece_bytes} for B of {len(b)} bytes)"
        )
    reference, piece = b[:-piece_bytes], b[-piece_bytes:]
    sizes = ZippingSizes(
        compressed_a_bytes=len(compress_bytes(compressor, a)),
        compressed_a_piece_bytes=len(compress_bytes(compressor, a + piece)),
        compressed_reference_bytes=len(compress_bytes(compressor, reference)),
        compressed_reference_piece_bytes=len(compress_bytes(compressor, reference + piece)),
    )
    estimate = sizes.relative_entropy_bits_per_byte(piece_bytes)
    return ZippingEstimate(compressor, piece_bytes, len(a), len(b), sizes, estimate)


def _as_bytes(text: object, label: str) -> bytes:
    if isinstance(text, str):
        raise DataError(f"text {label} must be bytes (got str); encode it first, e.g. text.encode('utf-8')")
    if not isinstance(text, (bytes, bytearray, memoryview)):
        raise DataError(f"text {label} must be bytes (got {type(text).__name__})")
    data = bytes(text)
    if not data:
        raise DataError(f"text {label} must not be empty (got 0 bytes)")
    return data
