"""Demo ``recompress``: a .gz of a text recompressed by a better model — bytes saved = the difference of cross-entropies.

The "zip vs 7z" lesson.  A file's compressed size under a code is
n·h_code / 8 bytes, where h_code = 8·|Z(x)|/n bits per byte is the data's
cross-entropy under the model the code implies (a real, decodable code:
Kraft's inequality makes 2^(−length) a sub-probability).  So, per byte of
the original,

    (|gz| − |klc|) / n  =  (h_gz − h_cm) / 8  =  (KL(p‖q_gz) − KL(p‖q_cm)) / 8

for any source p: the entropy H(p) cancels, and the bytes a better model
saves measure how much closer its model is to the source.  The demo takes a
text (default ``corpora/canterbury/alice29.txt``), gzips it (level 9),
then decompresses the .gz and packs the bytes into klcode's ``.klc``
container (the context-mixing model; decoded back and checked by SHA-256),
and sets the sizes of bz2, xz and PPMd beside them.

>>> from klcode.demos.base import DemoOptions
>>> result = run(DemoOptions(n=20000))
>>> d = result.data
>>> d["klc_bytes"] < d["gz_bytes"], abs(d["saved_bytes_per_byte"] - (d["gz_bits_per_byte"] - d["klc_bits_per_byte"]) / 8) < 1e-12
(True, True)
"""

from __future__ import annotations

import gzip

from ..analysis.rates import compressor_sizes, parse_model
from ..coders.container import pack_bytes, read_header, unpack_bytes
from ..errors import DecodeError
from ..render.plots import Panel
from . import register
from .base import (
    Demo,
    DemoOptions,
    DemoResult,
    DemoTable,
    bits,
    number_steps,
    table_lines,
)
from .context import default_text

MODEL = "cm:memory=16"
DEFAULT_TEXT = "canterbury/alice29.txt"
PARAMETERS = "--p TEXT (default corpora/canterbury/alice29.txt) --n BYTES (use the first N bytes, default all)"


def run(options: DemoOptions) -> DemoResult:
    label, raw = default_text(options.p, DEFAULT_TEXT, "--p")
    if options.n is not None:
        raw = raw[: options.n]
    n = len(raw)
    gz = gzip.compress(raw, compresslevel=9, mtime=0)
    restored = gzip.decompress(gz)
    if restored != raw:
        raise DecodeError("gzip did not decompress back to the text")
    spec = parse_model(MODEL)
    container = pack_bytes(restored, spec)
    if unpack_bytes(container) != raw:
        raise DecodeError("the .klc container did not unpack back to the text")
    header = read_header(container)
    others = {c.compressor: c for c in compressor_sizes(raw)}
    h_gz, h_klc = 8 * len(gz) / n, 8 * len(container) / n
    h_payload = 8 * header.payload_bytes / n
    saved = len(gz) - len(container)
    rows = [("gzip -9 (.gz file)", f"{len(gz):,}", bits(h_gz)),
            ("bz2 -9", f"{others['bz2'].compressed_bytes:,}", bits(others["bz2"].bits_per_byte)),
            ("xz -9e", f"{others['xz'].compressed_bytes:,}", bits(others["xz"].bits_per_byte)),
            (f"PPMd order {others['ppmd'].order}", f"{others['ppmd'].compressed_bytes:,}",
             bits(others["ppmd"].bits_per_byte)),
            (f"klcode .klc ({spec.describe()})", f"{len(container):,}", bits(h_klc)),
            ("  of which the header", f"{header.header_bytes + 4:,}", ""),
            ("  of which the payload", f"{header.payload_bytes:,}", bits(h_payload))]
    table = DemoTable(f"{label}: {n:,} bytes, and its sizes under each code", ("code", "bytes", "bits per byte"),
                      tuple(rows))
    summary = (
        f"{label}.gz: {len(gz):,} bytes ({h_gz:.4f} bits/byte); recompressed into .klc: {len(container):,} bytes "
        f"({h_klc:.4f} bits/byte); saved {saved:,} bytes = {saved / n:.4f} bytes per byte of text",
        f"(h_gz − h_klc)/8 = ({h_gz:.4f} − {h_klc:.4f})/8 = {(h_gz - h_klc) / 8:.4f} bytes per byte: the bytes saved "
        "are the difference of the two models' cross-entropies on the data (H(p) cancels: it is KL(p‖q_gz) − "
        "KL(p‖q_cm))",
        "both files decode back to the text (gzip checked by comparison, .klc by its SHA-256)",
    )
    explanation = number_steps([
        f"Gzip the text ({n:,} bytes) at level 9: {len(gz):,} bytes. Deflate's model is 'the next bytes repeat "
        "something in the last 32 KiB, or are literals with Huffman codes of their frequencies'.",
        "Decompress the .gz (nothing is lost) and code the same bytes with a context-mixing model that predicts "
        "every bit from the bytes before it, through an arithmetic coder: the .klc container.",
        table_lines(table),
        "A code's length in bits is −log2 of the probability its model gave the data, so 8·|file|/n is the "
        "cross-entropy H(p, q_code) in bits per byte, and H(p, q) = H(p) + KL(p‖q) for every model q.",
        f"The difference of two file sizes is therefore n·(KL(p‖q_gz) − KL(p‖q_cm))/8: {saved:,} bytes here. The "
        "source's entropy cancels: recompression measures how much nearer one model is to the source than the "
        "other, without knowing the source.",
    ])
    names = ["gzip", "bz2", "xz", "PPMd", "klc"]
    values = [h_gz, others["bz2"].bits_per_byte, others["xz"].bits_per_byte, others["ppmd"].bits_per_byte, h_klc]
    panels = (Panel("bits per byte of the text under each code", "code (0 gzip, 1 bz2, 2 xz, 3 PPMd, 4 klc)",
                    "bits per byte", tuple(float(i) for i in range(len(names))), {"bits per byte": tuple(values)}),)
    data = {"text": label, "bytes": n, "gz_bytes": len(gz), "klc_bytes": len(container),
            "klc_payload_bytes": header.payload_bytes, "klc_header_bytes": header.header_bytes + 4,
            "gz_bits_per_byte": h_gz, "klc_bits_per_byte": h_klc, "saved_bytes": saved, "saved_bytes_per_byte": saved / n,
            "model": spec.as_dict(),
            "compressors": {name: {"bytes": c.compressed_bytes, "bits_per_byte": c.bits_per_byte, "order": c.order}
                            for name, c in others.items()}}
    return DemoResult("recompress", "a .gz recompressed by a better model: bytes saved = difference of cross-entropies",
                      summary, (table,), explanation, data, panels)


register(Demo("recompress", "zip vs 7z: the bytes a better model saves are n·(H(p,q_gz) − H(p,q_cm))/8, the "
              "difference of two KLs to the source", PARAMETERS, run))
