"""Recoding: a sender codes with its imperfect model q; recoding with the true p's code saves L_q − L_p ≈ KL(p‖q') bits a token.

The network operator's story.  A sender Huffman-codes its traffic with a code
trained on another text (its model q).  You know the traffic's true byte
frequencies p.  Decoding the sender's bits and recoding the same bytes with
the Huffman code of p saves L_q − L_p bits per byte, and that saving is
KL(p‖q') up to the rounding of both codes to whole bits.

Both codes are real: the traffic file is encoded with each (and decoded back,
checked), and the sizes are the lengths of the bitstreams, in bytes rounded
up.  q' is the model the sender's code is built from: q with one escape
codeword for the bytes q never saw (``UnseenPolicy("escape")``, see
:mod:`klcode.analysis.measure`); KL(p‖q) itself is ∞ as soon as the traffic holds one
such byte.  The code tables themselves are not in the totals (both ends are
assumed to hold them); their size is estimated separately and labelled so.

This module also holds two helpers the other demos use:
:func:`top_symbol_table` (the symbol-by-symbol table of ``--explain`` cut to
the largest contributions plus one line for the rest) and :func:`table_lines`
(a table as aligned text lines).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

import klcode

from ..analysis.compare import shared_distributions
from ..analysis.measure import UnseenPolicy, effective_model, measure
from ..coders import HuffmanCode, PrefixCode
from ..coders.registry import CoderSpec
from ..errors import DataError
from ..info.measures import kl_contributions_kernel
from ..models.distribution import Distribution
from ..render.plots import Panel
from ..text.inputs import corpus_stream, load_corpus
from ..text.tokenize import TokenizerSpec, symbol_label
from . import register
from .base import (
    Demo,
    DemoOptions,
    DemoResult,
    DemoTable,
    bits,
    table_lines,
    top_symbol_ids,
    top_symbol_table,
)

NAME = "recoding"
#: The defaults: texts shipped in the package (klcode/data/, the same bytes as corpora/canterbury/), so that
#: the demo runs from an installed klcode too.
DEFAULT_TRAFFIC = "alice29.txt"
DEFAULT_TRAINING = "lcet10.txt"
#: Points of the cumulative-saving curve in the plot.
CURVE_POINTS = 200


def corpora_root() -> Path:
    """The bundled corpora/ folder at the repository root (next to the klcode package; absent when installed)."""
    return Path(klcode.__file__).resolve().parents[1] / "corpora"


def data_root() -> Path:
    """The texts shipped inside the package (klcode/data/): the demo's defaults."""
    return Path(klcode.__file__).resolve().parent / "data"


def resolve_text(value: str | None, default: str, flag: str) -> Path:
    """The file a ``--p``/``--q`` value names: as given, else relative to the repository root or to corpora/.

    >>> resolve_text("no/such/file.txt", DEFAULT_TRAFFIC, "--p")
    Traceback (most recent call last):
    ...
    klcode.errors.DataError: --p: no file 'no/such/file.txt' (looked in the current directory, the repository root and corpora/)
    """
    root = corpora_root()
    if value is None:
        path = data_root() / default
        if not path.is_file():
            raise DataError(f"the texts shipped with klcode were not found ({path} does not exist); give {flag} PATH")
        return path
    given = Path(value).expanduser()
    candidates = [given] if given.is_absolute() else [given, root.parent / given, root / given]
    for candidate in candidates:
        if candidate.exists():
            return candidate
    raise DataError(f"{flag}: no file {value!r} (looked in the current directory, the repository root and corpora/)")


def _byte_list(labels: tuple[str, ...], limit: int = 8) -> str:
    shown = ", ".join(labels[:limit])
    return shown + (f", ... ({len(labels)} in all)" if len(labels) > limit else "")


def run(options: DemoOptions) -> DemoResult:
    """Code the traffic (--p) with the sender's code trained on --q and with its own code; the saving beside KL."""
    traffic_path = resolve_text(options.p, DEFAULT_TRAFFIC, "--p")
    training_path = resolve_text(options.q, DEFAULT_TRAINING, "--q")
    spec = TokenizerSpec("bytes")
    traffic = load_corpus([str(traffic_path)], spec)
    training = load_corpus([str(training_path)], spec)
    p, q, index = shared_distributions(traffic, training)
    stream = corpus_stream(traffic, index, len(index))
    policy = UnseenPolicy("escape")
    m = measure(p, q, stream, policy=policy, coders=(CoderSpec("ans"),))
    model = effective_model(p, q, policy, p.counts)
    q_effective = Distribution(p.symbols, model.probabilities)
    p_code = HuffmanCode.from_distribution(p, name="huffman(p)")
    q_code = model.code
    ans = m.coders[0]

    n_bytes = m.tokens
    l_p, l_q = m.p_code.measured_bits_per_token, m.q_code.measured_bits_per_token
    p_bits, q_bits = m.p_code.total_bits, m.q_code.total_bits
    p_bytes, q_bytes = math.ceil(p_bits / 8), math.ceil(q_bits / 8)
    saving_bits, saving_bytes = q_bits - p_bits, q_bytes - p_bytes
    saving = m.measured_excess_bits_per_token
    kl_effective = m.effective_kl_bits_per_token
    entropy = m.entropy_bits_per_token
    ans_p_bytes, ans_q_bytes = math.ceil(ans.p_total_bits / 8), math.ceil(ans.q_total_bits / 8)
    ans_saving = ans.measured_excess_bits_per_token
    unseen = m.unseen
    # the code table, if it had to be sent: one codeword length per byte value (canonical code)
    length_field_bits = max(1, math.ceil(math.log2(max(p_code.max_length_bits, q_code.max_length_bits) + 1)))
    table_bytes = math.ceil(256 * length_field_bits / 8)

    labels = {"p": traffic.label, "q": training.label}
    summary = [
        (f"traffic p: {traffic_path.name} ({n_bytes:,} bytes, {p.support_size} distinct byte values); "
         f"the sender's code was trained on q: {training_path.name} ({training.counts.total_tokens:,} bytes)"),
        (f"sender's code, Huffman of q': {q_bits:,} bits = {q_bytes:,} bytes, L_q = {l_q:.4f} bits/byte "
         f"(formula H(p,q') = {m.effective_cross_entropy_bits_per_token:.4f})"),
        (f"recoded with p's Huffman code: {p_bits:,} bits = {p_bytes:,} bytes, L_p = {l_p:.4f} bits/byte "
         f"(formula H(p) = {entropy:.4f})"),
        (f"saving: L_q − L_p = {saving:.4f} bits/byte measured, KL(p‖q') = {kl_effective:.4f} bits/byte formula; "
         f"{saving_bytes:,} bytes on the whole file ({100 * saving_bytes / q_bytes:.1f}% of the sender's output)"),
        (f"with ANS codes instead: saving {ans_saving:.4f} bits/byte ({ans_q_bytes - ans_p_bytes:,} bytes), "
         f"{ans_saving - kl_effective:+.4f} from KL(p‖q')"),
    ]
    if unseen is not None:
        summary.append(
            f"KL(p‖q) = ∞: {unseen.types} byte value(s) of the traffic never occur in the training text "
            f"({_byte_list(unseen.symbols)}; {unseen.stream_tokens:,} bytes, {100 * unseen.p_mass:.2f}% of the traffic), "
            f"so q' = q plus an escape codeword"
        )
    summary.append(f"not counted: the code tables (about {table_bytes} bytes to send one: "
                   f"256 lengths × {length_field_bits} bits, an estimate)")
    if options.n is not None:
        summary.append(f"--n is not used by this demo (the whole file is coded; got --n {options.n})")

    coding_table = DemoTable(
        f"the traffic ({traffic_path.name}): raw, with the sender's code, recoded with p's",
        ("code", "bits", "bytes (⌈bits/8⌉)", "bits per byte", "formula", "formula value"),
        (
            ("raw (8 bits a byte)", f"{8 * n_bytes:,}", f"{n_bytes:,}", "8.0000", "log2 256", "8.0000"),
            ("sender: Huffman of q'", f"{q_bits:,}", f"{q_bytes:,}", bits(l_q), "H(p,q') = H(p) + KL(p‖q')",
             bits(m.effective_cross_entropy_bits_per_token)),
            ("recoded: Huffman of p", f"{p_bits:,}", f"{p_bytes:,}", bits(l_p), "H(p)", bits(entropy)),
            ("sender: ANS of q'", f"{ans.q_total_bits:,}", f"{ans_q_bytes:,}", bits(ans.q_measured_bits_per_token),
             "H(p,q') (ANS: + ≤ 64 bits a stream)", bits(m.effective_cross_entropy_bits_per_token)),
            ("recoded: ANS of p", f"{ans.p_total_bits:,}", f"{ans_p_bytes:,}", bits(ans.p_measured_bits_per_token),
             "H(p)", bits(entropy)),
        ),
    )
    saving_table = DemoTable(
        "the saving of recoding",
        ("codes", "L_q − L_p measured [bits/byte]", "KL(p‖q') formula", "gap", "saved on the file [bytes]"),
        (
            ("Huffman", bits(saving), bits(kl_effective), f"{saving - kl_effective:+.4f}", f"{saving_bytes:,}"),
            ("ANS", bits(ans_saving), bits(kl_effective), f"{ans_saving - kl_effective:+.4f}",
             f"{ans_q_bytes - ans_p_bytes:,}"),
        ),
    )
    symbols_table = top_symbol_table(p, q_effective, p_code, q_code, title="byte by byte (q = q', the sender's model)")

    explanation = [
        (f"1. The traffic: {traffic_path.name}, {n_bytes:,} bytes, {p.support_size} distinct byte values. p(x) is the "
         f"share of byte x in it; H(p) = −Σ p log2 p = {entropy:.4f} bits/byte, the least an order-0 code can spend."),
        (f"2. The sender's model q: the byte frequencies of {training_path.name} ({training.counts.total_tokens:,} bytes, "
         f"{q.support_size} distinct byte values)."),
    ]
    if unseen is not None:
        explanation.append(
            f"3. q gives probability 0 to {unseen.types} byte value(s) of the traffic: {_byte_list(unseen.symbols)} "
            f"({unseen.stream_tokens:,} bytes, p-mass {unseen.p_mass:.6f}). So KL(p‖q) = ∞ and q's code has no codeword "
            f"for them. The sender's code is built from q' instead: {unseen.description}."
        )
    else:
        explanation.append("3. q gives every byte of the traffic a probability > 0, so q' = q.")
    explanation += [
        (f"4. Formula: H(p,q') = H(p) + KL(p‖q') = {entropy:.4f} + {kl_effective:.4f} = "
         f"{m.effective_cross_entropy_bits_per_token:.4f} bits/byte."),
        (f"5. The sender's code on the traffic: {q_bits:,} bits = {q_bytes:,} bytes; L_q = {q_bits:,} / {n_bytes:,} = "
         f"{l_q:.4f} bits/byte (decoded back: {m.q_code.roundtrip})."),
        (f"6. Recoded with the Huffman code of p: {p_bits:,} bits = {p_bytes:,} bytes; L_p = {p_bits:,} / {n_bytes:,} = "
         f"{l_p:.4f} bits/byte, and H(p) ≤ L_p < H(p) + 1: {entropy:.4f} ≤ {l_p:.4f} < {entropy + 1:.4f} "
         f"(decoded back: {m.p_code.roundtrip})."),
        (f"7. Saving: L_q − L_p = {l_q:.4f} − {l_p:.4f} = {saving:.4f} bits/byte, against KL(p‖q') = {kl_effective:.4f}; "
         f"the gap {saving - kl_effective:+.4f} is the rounding of both codes to whole bits. On the file: "
         f"{q_bytes:,} − {p_bytes:,} = {saving_bytes:,} bytes ({saving_bits:,} bits)."),
        (f"8. Exactly, for the Huffman code: L_q = H(p) + KL(p‖q̂) with q̂(x) = 2^−l_q(x): "
         f"{entropy:.4f} + {m.kl_to_dyadic_bits_per_token:.4f} = {entropy + m.kl_to_dyadic_bits_per_token:.4f} bits/byte "
         f"(Kraft sum of the sender's code {m.q_code.kraft_sum:.6f}). With ANS, which does not round to whole bits: "
         f"L_q − L_p = {ans.q_measured_bits_per_token:.4f} − {ans.p_measured_bits_per_token:.4f} = {ans_saving:.4f} "
         f"bits/byte, {ans_saving - kl_effective:+.4f} from KL(p‖q')."),
        (f"9. Byte by byte: p, q', −log2 of each, the codeword lengths l_p and l_q, and p·log2(p/q'), "
         f"whose sum is KL(p‖q') = {kl_effective:.4f}:"),
        *table_lines(symbols_table),
        (f"10. Not counted: the code tables. Sending one as a canonical code takes one length per byte value, "
         f"about 256 × {length_field_bits} bits = {table_bytes} bytes (an estimate); net of sending p's table the "
         f"saving is about {saving_bytes - table_bytes:,} bytes."),
        ("Why: each byte x costs l_q(x) ≈ −log2 q'(x) bits in the sender's code and l_p(x) ≈ −log2 p(x) in p's code; "
         "averaged over the traffic the difference is Σ p(x)·log2(p(x)/q'(x)) = KL(p‖q'). The bytes the training "
         "text under-predicts (top of the table) pay the most; those it over-predicts give a little back."),
    ]

    panels = _panels(p, q_effective, p_code, q_code, stream, kl_effective, labels)
    data = {
        "tokens": "bytes",
        "traffic": {"path": str(traffic_path), "label": traffic.label, "bytes": n_bytes,
                    "distinct_bytes": p.support_size},
        "training": {"path": str(training_path), "label": training.label,
                     "bytes": training.counts.total_tokens, "distinct_bytes": q.support_size},
        "entropy_bits_per_token": entropy,
        "kl_bits_per_token": m.kl_bits_per_token,
        "kl_effective_bits_per_token": kl_effective,
        "cross_entropy_effective_bits_per_token": m.effective_cross_entropy_bits_per_token,
        "kl_to_dyadic_bits_per_token": m.kl_to_dyadic_bits_per_token,
        "model": m.model,
        "unseen": None if unseen is None else {
            "symbols": list(unseen.symbols), "p_mass": unseen.p_mass, "traffic_bytes": unseen.stream_tokens,
            "escape_probability": unseen.escape_probability, "fallback_bits": unseen.fallback_bits},
        "huffman": {
            "sender_total_bits": q_bits, "sender_total_bytes": q_bytes, "sender_bits_per_token": l_q,
            "recoded_total_bits": p_bits, "recoded_total_bytes": p_bytes, "recoded_bits_per_token": l_p,
            "saving_bits_per_token": saving, "saving_total_bits": saving_bits, "saving_bytes": saving_bytes,
            "roundtrip": m.q_code.roundtrip,
        },
        "ans": {
            "sender_total_bits": ans.q_total_bits, "sender_total_bytes": ans_q_bytes,
            "sender_bits_per_token": ans.q_measured_bits_per_token,
            "recoded_total_bits": ans.p_total_bits, "recoded_total_bytes": ans_p_bytes,
            "recoded_bits_per_token": ans.p_measured_bits_per_token,
            "saving_bits_per_token": ans_saving, "saving_bytes": ans_q_bytes - ans_p_bytes,
            "roundtrip": ans.roundtrip,
        },
        "code_table_estimate_bytes": table_bytes,
        "code_tables_counted": False,
        "top_symbols": _top_symbols(p, q_effective, p_code, q_code),
    }
    return DemoResult(NAME, "recoding a sender's traffic with the true distribution's code", tuple(summary),
                      (coding_table, saving_table), tuple(explanation), data, panels)


def _top_symbols(p: Distribution, q: Distribution, p_code: PrefixCode, q_code: PrefixCode) -> list[dict]:
    """The rows of the byte-by-byte table as JSON records (q is q', so every term is finite)."""
    terms = kl_contributions_kernel(p.probabilities, q.probabilities)
    return [
        {"symbol": symbol_label(p.symbols[i]), "p": float(p.probabilities[i]), "q_effective": float(q.probabilities[i]),
         "p_code_length_bits": int(p_code.lengths_bits[i]), "q_code_length_bits": int(q_code.lengths_bits[i]),
         "kl_contribution_bits_per_token": float(terms[i])}
        for i in top_symbol_ids(p, q).tolist()
    ]


def _panels(p: Distribution, q: Distribution, p_code: PrefixCode, q_code: PrefixCode, stream, kl: float,
            labels: dict[str, str]) -> tuple[Panel, ...]:
    """Code lengths by rank of p, and the bits saved along the file (from the codeword lengths actually emitted)."""
    pa, qa = p.probabilities, q.probabilities
    by_rank = np.lexsort((np.arange(p.size), -pa))
    by_rank = by_rank[pa[by_rank] > 0]
    rank = tuple(float(r) for r in range(1, by_rank.size + 1))
    lengths = Panel(
        f"bytes of {labels['p']} by rank of p", "rank of the byte in the traffic (1 = most frequent)", "bits",
        rank,
        {"l_q (sender's code)": tuple(float(v) for v in q_code.lengths_bits[by_rank]),
         "l_p (p's code)": tuple(float(v) for v in p_code.lengths_bits[by_rank]),
         "−log2 q'": tuple(float(v) for v in -np.log2(qa[by_rank])),
         "−log2 p": tuple(float(v) for v in -np.log2(pa[by_rank]))},
    )
    ids = np.concatenate([np.asarray(chunk) for chunk in stream.chunks()])
    saved = np.cumsum(q_code.lengths_bits[ids] - p_code.lengths_bits[ids])
    positions = np.unique(np.linspace(1, ids.size, CURVE_POINTS).round().astype(np.int64))
    along = Panel(
        "bits saved along the file", "bytes of traffic read", "bits saved (sender's code − p's code)",
        tuple(float(v) for v in positions),
        {"measured: Σ (l_q − l_p) so far": tuple(float(saved[i - 1]) for i in positions),
         "KL(p‖q') × bytes read": tuple(float(kl * i) for i in positions)},
    )
    return lengths, along


register(Demo(
    NAME,
    "a sender codes with a model q trained on another text; recoding with p's code saves L_q − L_p ≈ KL(p‖q') bits a byte",
    "--p TEXT: the traffic (default alice29.txt, shipped in klcode/data/); --q TEXT: the sender's training text "
    "(default lcet10.txt, shipped in klcode/data/); byte tokens, paths as given or relative to the repository; "
    "--n and --seed are not used (the whole file is coded, nothing is sampled)",
    run,
))
