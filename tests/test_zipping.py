"""Relative entropy by zipping (Benedetto, Caglioti & Loreto 2002): the formula, English vs French, validation."""

from pathlib import Path

import pytest

from klcode.analysis.zipping import (
    ZippingEstimate,
    ZippingSizes,
    zipping_relative_entropy,
)
from klcode.coders.contextual import COMPRESSOR_NAMES, compress_bytes
from klcode.errors import DataError

GENESIS = Path(__file__).resolve().parents[1] / "corpora" / "genesis"


@pytest.fixture(scope="module")
def genesis():
    return {name: (GENESIS / f"{name}.txt").read_bytes() for name in ("english-kjv", "english-web", "french")}


@pytest.mark.parametrize("compressor", COMPRESSOR_NAMES)
def test_english_is_closer_to_english_than_to_french(genesis, compressor):
    english = zipping_relative_entropy(genesis["english-kjv"], genesis["english-web"], compressor=compressor)
    french = zipping_relative_entropy(genesis["english-kjv"], genesis["french"], compressor=compressor)
    assert english.relative_entropy_bits_per_byte < french.relative_entropy_bits_per_byte
    assert french.relative_entropy_bits_per_byte > 1.0  # French after English costs over a bit more per byte


def test_the_formula_on_its_four_sizes(genesis):
    a, b = genesis["english-kjv"], genesis["french"]
    estimate = zipping_relative_entropy(a, b, compressor="zlib", piece_bytes=500)
    reference, piece = b[:-500], b[-500:]
    assert estimate.sizes == ZippingSizes(
        compressed_a_bytes=len(compress_bytes("zlib", a)),
        compressed_a_piece_bytes=len(compress_bytes("zlib", a + piece)),
        compressed_reference_bytes=len(compress_bytes("zlib", reference)),
        compressed_reference_piece_bytes=len(compress_bytes("zlib", reference + piece)),
    )
    assert (estimate.compressor, estimate.piece_bytes, estimate.a_bytes, estimate.b_bytes) == ("zlib", 500, len(a), len(b))
    assert estimate.reference_bytes == len(b) - 500
    assert estimate.relative_entropy_bits_per_byte == pytest.approx(
        estimate.cross_bits_per_byte - estimate.self_bits_per_byte
    )
    sizes = estimate.sizes
    difference = (
        sizes.compressed_a_piece_bytes - sizes.compressed_a_bytes
        - sizes.compressed_reference_piece_bytes + sizes.compressed_reference_bytes
    )
    assert estimate.relative_entropy_bits_per_byte == 8 * difference / 500


def test_estimate_is_a_frozen_record(genesis):
    estimate = zipping_relative_entropy(b"abc" * 100, b"abd" * 100, piece_bytes=30)
    assert isinstance(estimate, ZippingEstimate)
    with pytest.raises(AttributeError):
        estimate.piece_bytes = 3


@pytest.mark.parametrize(
    ("a", "b", "options", "message"),
    [
        (b"", b"text b", {}, r"^text A must not be empty \(got 0 bytes\)$"),
        (b"text a", b"", {}, r"^text B must not be empty \(got 0 bytes\)$"),
        ("text a", b"text b", {}, r"^text A must be bytes \(got str\); encode it first"),
        (b"text a", [1, 2], {}, r"^text B must be bytes \(got list\)$"),
        (b"text a", b"text b", {"piece_bytes": 0}, r"at least 1 and smaller than text B.*\(got 0 for B of 6 bytes\)$"),
        (b"text a", b"text b", {"piece_bytes": 6}, r"\(got 6 for B of 6 bytes\)$"),
        (b"text a", b"text b", {"piece_bytes": 2.5}, r"^piece_bytes must be an integer \(got 2.5\)$"),
        (b"text a", b"text b", {"piece_bytes": 2, "compressor": "gzip"}, r"^unknown compressor 'gzip' \(known: zlib, bz2, lzma, zstd\)$"),
    ],
)
def test_validation(a, b, options, message):
    with pytest.raises(DataError, match=message):
        zipping_relative_entropy(a, b, **options)
