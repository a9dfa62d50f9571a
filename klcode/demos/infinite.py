"""Demo ``infinite``: q gives probability 0 to something p produces — KL = ∞, and what the policies make of it.

With p = (0.5, 0.3, 0.2) over (a, b, c) and q = (0.6, 0.4, 0) (counts 6, 4, 0),
the term p(c)·log(p(c)/q(c)) is infinite, and so is KL(p‖q).  In codes: q's
code has no codeword for c, so the sample cannot be encoded at all (the demo
tries, and shows the coder's error).  The two policies of
:class:`~klcode.analysis.measure.UnseenPolicy` make the bits finite by changing the
model: an *escape* codeword of probability ε (its best value is the unseen
p-mass), or *add-k* smoothing of q's counts.  Each is measured on a real
stream, beside the formula KL(p‖q') of the model q' it really codes with.

>>> result = run(DemoOptions(n=2000))
>>> result.data["kl_bits_per_token"], result.data["unseen"]["symbols"], result.data["unseen"]["p_mass"]
(inf, ['c'], 0.2)
>>> result.data["escape_best_probability"]
0.2
"""

from __future__ import annotations

import math

import numpy as np

from ..analysis.measure import Measurement, UnseenPolicy, effective_model, measure
from ..coders import CoderSpec, HuffmanCode, build_coder
from ..errors import CodeError, UnseenSymbolError
from ..info.measures import entropy, kl_divergence, unseen_symbols
from ..models.distribution import Distribution, align
from ..render.plots import Panel
from ..text.tokenize import symbol_label
from . import register
from .base import (
    NATS_PER_BIT,
    Demo,
    DemoOptions,
    DemoResult,
    DemoTable,
    bits,
    number_steps,
    parse_spec,
    probabilities_text,
    symbol_table,
    table_lines,
)

DEFAULT_P = {"a": 0.5, "b": 0.3, "c": 0.2}
DEFAULT_Q_COUNTS = {"a": 6, "b": 4, "c": 0}
DEFAULT_SAMPLES = 100_000
#: Escape probabilities measured (the best one, the unseen p-mass, is added).
ESCAPE_PROBABILITIES = (0.001, 0.01, 0.05, 0.1, 0.3, 0.5)
#: Add-k smoothing constants measured.
ALPHAS = (0.01, 0.1, 0.5, 1.0, 2.0, 5.0, 20.0, 100.0)

PARAMETERS = (
    "--p SPEC (the true distribution: a JSON file or a family spec; default {\"a\": 0.5, \"b\": 0.3, \"c\": 0.2}) "
    "--q SPEC (the model; a JSON file of integer counts enables add-k; default counts {\"a\": 6, \"b\": 4, \"c\": 0}) "
    f"--n SAMPLES (drawn from p and coded under each policy, default {DEFAULT_SAMPLES:,}) --seed SEED (default 0)"
)


def _stream_error(q: Distribution, stream: np.ndarray) -> tuple[str, str]:
    """Try to encode the stream with q's own Huffman code and ANS model: the coders' errors (empty if they coded it)."""
    messages = []
    for coder in (HuffmanCode.from_distribution(q, "huffman(q)"), build_coder(CoderSpec("ans"), q.probabilities)):
        try:
            coder.encode(stream)
            messages.append("")
        except CodeError as error:
            messages.append(str(error))
    return messages[0], messages[1]


def _record(m: Measurement, setting: dict) -> dict:
    ans = next(c for c in m.coders if c.coder == "ans")
    return {
        **setting,
        "model": m.model,
        "effective_kl_bits_per_token": m.effective_kl_bits_per_token,
        "effective_kl_nats_per_token": m.effective_kl_bits_per_token * NATS_PER_BIT,
        "effective_cross_entropy_bits_per_token": m.effective_cross_entropy_bits_per_token,
        "huffman_code_lengths_bits": list(m.q_code_lengths_bits),
        "huffman_total_bits": m.q_code.total_bits,
        "huffman_measured_bits_per_token": m.q_code.measured_bits_per_token,
        "huffman_measured_excess_bits_per_token": m.measured_excess_bits_per_token,
        "ans_total_bits": ans.q_total_bits,
        "ans_measured_bits_per_token": ans.q_measured_bits_per_token,
        "ans_measured_excess_bits_per_token": ans.measured_excess_bits_per_token,
        "unseen_tokens": None if m.unseen is None else m.unseen.stream_tokens,
        "roundtrip": m.q_code.roundtrip,
    }


def run(options: DemoOptions) -> DemoResult:
    """KL = ∞ by formula, no codeword by construction, and the measured bits of the escape and add-k policies."""
    p = parse_spec(options.p, Distribution.from_probabilities(DEFAULT_P), "--p")
    q = parse_spec(options.q, Distribution.from_counts(DEFAULT_Q_COUNTS), "--q")
    p, q = align(p, q)
    n = options.n or DEFAULT_SAMPLES
    stream = p.sample(n, np.random.default_rng(options.seed))
    kl_bits = kl_divergence(p, q)
    unseen = unseen_symbols(p, q)
    unseen_labels = [symbol_label(s) for s in unseen.symbols]
    unseen_ids = [i for i, s in enumerate(p.symbols) if s in set(unseen.symbols)]
    unseen_tokens = int(np.isin(stream, unseen_ids).sum())
    huffman_error, ans_error = _stream_error(q, stream)
    try:
        measure(p, q, stream, policy=UnseenPolicy("error"))
        error_policy_message = ""
    except UnseenSymbolError as error:
        error_policy_message = str(error)
    coders = (CoderSpec("ans"),)

    # ---- escape: a few probabilities, the best one (the unseen p-mass), and q's own pseudo-count when it has counts
    best_epsilon = unseen.p_mass if 0 < unseen.p_mass < 1 else None
    epsilons = sorted(set(ESCAPE_PROBABILITIES) | ({round(best_epsilon, 12)} if best_epsilon else set()))
    escape_rows = []
    for epsilon in epsilons:
        m = measure(p, q, stream, seed=options.seed, coders=coders,
                    policy=UnseenPolicy("escape", escape_probability=epsilon))
        escape_rows.append(_record(m, {"escape_probability": epsilon, "setting": f"ε = {epsilon:g}"}))
    pseudo = None
    if q.counts is not None:
        m = measure(p, q, stream, seed=options.seed, coders=coders, policy=UnseenPolicy("escape"))
        pseudo = _record(m, {"escape_probability": 1 / (q.total_count + 1),
                             "setting": f"one pseudo-count, ε = 1/{q.total_count + 1}"})

    # ---- add-k: needs q as counts
    add_k_rows = []
    if q.counts is not None:
        for alpha in ALPHAS:
            m = measure(p, q, stream, seed=options.seed, coders=coders, policy=UnseenPolicy("add-k", alpha=alpha))
            smoothed = (q.counts + alpha) / (q.total_count + alpha * q.size)
            add_k_rows.append(_record(m, {"alpha": alpha, "setting": f"α = {alpha:g}",
                                          "smoothed_q_probabilities": smoothed.tolist()}))

    # ---- tables
    p_code = HuffmanCode.from_distribution(p, "huffman(p)")
    q_code = HuffmanCode.from_distribution(q, "huffman(q)")
    infinite_table = symbol_table(p, q, p_code, q_code, title="p against q: the unseen symbol's term is ∞")
    escape_table = DemoTable(
        f"escape policy: q'(x) = (1 − ε)·q(x) seen, ε/M unseen; {n:,} tokens from p (bits per token)",
        ("ε", "KL(p‖q') formula", "Huffman L_q' measured", "Huffman excess", "ANS excess"),
        tuple((r["setting"], bits(r["effective_kl_bits_per_token"]), bits(r["huffman_measured_bits_per_token"]),
               bits(r["huffman_measured_excess_bits_per_token"]), bits(r["ans_measured_excess_bits_per_token"]))
              for r in escape_rows + ([pseudo] if pseudo else [])),
    )
    tables = [infinite_table, escape_table]
    if add_k_rows:
        tables.append(DemoTable(
            f"add-k policy: q'(x) = (c(x) + α)/(n + α·|V|); {n:,} tokens from p (bits per token)",
            ("α", "q' = ", "KL(p‖q') formula", "Huffman L_q' measured", "Huffman excess", "ANS excess"),
            tuple((r["setting"], "(" + ", ".join(f"{x:.3f}" for x in r["smoothed_q_probabilities"]) + ")",
                   bits(r["effective_kl_bits_per_token"]), bits(r["huffman_measured_bits_per_token"]),
                   bits(r["huffman_measured_excess_bits_per_token"]), bits(r["ans_measured_excess_bits_per_token"]))
                  for r in add_k_rows),
        ))

    # ---- summary
    q_text = options.q or "counts (" + ", ".join(str(c) for c in DEFAULT_Q_COUNTS.values()) + ")"
    labels = ", ".join(symbol_label(s) for s in p.symbols)
    best_escape = min(escape_rows, key=lambda r: r["effective_kl_bits_per_token"])
    best_add_k = min(add_k_rows, key=lambda r: r["effective_kl_bits_per_token"]) if add_k_rows else None
    summary = [
        f"p = {probabilities_text(p)}, q = {q_text} = {probabilities_text(q)} over ({labels})",
    ]
    if unseen.types:
        summary += [
            (f"q gives probability 0 to {', '.join(unseen_labels)} (p-mass {unseen.p_mass:.4g}): KL(p‖q) = ∞ by "
            f"formula; {unseen_tokens:,} of the {n:,} sampled tokens are unseen by q"),
            f"q's Huffman code has no codeword for {', '.join(unseen_labels)}: "
            + (f"encoding the sample fails ({huffman_error})" if huffman_error else
               "this sample happens to hold none, but any sample holding one cannot be encoded"),
            f"escape: best ε = {best_escape['escape_probability']:g}"
            + (" (the unseen p-mass)" if best_epsilon and abs(best_escape["escape_probability"] - best_epsilon) < 1e-9
               else " of those tried") + ": KL(p‖q') = "
            f"{best_escape['effective_kl_bits_per_token']:.4f} bits, measured excess Huffman "
            f"{best_escape['huffman_measured_excess_bits_per_token']:.4f}, ANS "
            f"{best_escape['ans_measured_excess_bits_per_token']:.4f} bits/token",
        ]
        if best_add_k is not None:
            summary.append(
                f"add-k: best α of {', '.join(f'{a:g}' for a in ALPHAS)} is {best_add_k['alpha']:g}: KL(p‖q') = "
                f"{best_add_k['effective_kl_bits_per_token']:.4f} bits, measured excess Huffman "
                f"{best_add_k['huffman_measured_excess_bits_per_token']:.4f}, ANS "
                f"{best_add_k['ans_measured_excess_bits_per_token']:.4f} bits/token")
        else:
            summary.append("add-k: not measured, q was given as probabilities (add-k smoothing needs counts)")
        summary.append("finite bits, but for the smoothed model q', not for q: KL(p‖q) itself stays ∞")
    else:
        summary.append(f"q gives every symbol of p a positive probability: KL(p‖q) = {kl_bits:.4f} bits is finite, "
                       f"and the policies change nothing")

    # ---- explanation
    pa, qa = p.probabilities, q.probabilities
    term_texts = []
    for i, s in enumerate(p.symbols):
        if pa[i] == 0:
            continue
        value = "∞" if qa[i] == 0 else f"{pa[i] * math.log2(pa[i] / qa[i]):.4f}"
        term_texts.append(f"{symbol_label(s)}: {pa[i]:.4g}·log2({pa[i]:.4g}/{qa[i]:.4g}) = {value}")
    steps: list[str | tuple[str, ...]] = [
        f"The distributions over ({labels}): p = {probabilities_text(p)}; q = {q_text} = {probabilities_text(q)}.",
        "KL(p‖q) = Σ p·log2(p/q), term by term: " + "; ".join(term_texts)
        + (f". One infinite term is enough: KL(p‖q) = ∞ (unseen by q: {', '.join(unseen_labels)}, p-mass "
           f"{unseen.p_mass:.4g})." if unseen.types else f". KL(p‖q) = {kl_bits:.4f} bits, finite."),
        table_lines(infinite_table),
    ]
    if unseen.types:
        lengths = ", ".join(f"{symbol_label(s)}: {int(q_code.lengths_bits[i]) or '—'}" for i, s in enumerate(p.symbols))
        steps += [
            f"No codeword by construction: the Huffman code of q is built from q's weights, and a symbol of weight "
            f"0 gets no leaf (lengths {lengths}). "
            + (f"Encoding the {n:,} sampled tokens with it, {unseen_tokens:,} of them unseen, fails: "
               f"\"{huffman_error}\". ANS with q's model fails too: \"{ans_error}\". "
               if huffman_error else
               f"The {n:,} sampled tokens happen to hold no unseen symbol, so they encode; a single draw of "
               f"{unseen_labels[0]} (probability {unseen.p_mass:.4g} each) and they would not. ")
            + f"A code cannot spend ∞ bits; it simply cannot say {', '.join(unseen_labels)}.",
            f"Refusing is a policy too (--unseen error): \"{error_policy_message}\".",
            "Escape: give q an extra codeword of probability ε for \"something q did not expect\", followed by the "
            "symbol's index among the M symbols q lacks (⌈log2 M⌉ bits). The model coded with is then "
            "q'(x) = (1 − ε)·q(x) for seen x and ε/M for unseen x. Measured on the same tokens, bits per token: "
            + "; ".join(f"ε = {r['escape_probability']:g}: KL(p‖q') = {r['effective_kl_bits_per_token']:.4f}, "
                        f"Huffman excess {r['huffman_measured_excess_bits_per_token']:.4f}, ANS excess "
                        f"{r['ans_measured_excess_bits_per_token']:.4f}" for r in escape_rows) + ".",
            (f"The best ε is the unseen p-mass, {unseen.p_mass:.4g}: KL(p‖q') = const − (1 − m)·log2(1 − ε) − "
            f"m·log2 ε with m the unseen mass, smallest at ε = m. There KL(p‖q') = "
            f"{best_escape['effective_kl_bits_per_token']:.4f} bits: what is left is the mismatch on the seen "
            f"symbols. Too small an ε is expensive: at ε = {escape_rows[0]['escape_probability']:g} each unseen "
            f"token costs about −log2 ε = {-math.log2(escape_rows[0]['escape_probability']):.2f} bits, and as ε → 0 "
            f"the cost grows without bound: the formula's ∞ is the limit of ever rarer escapes."),
        ]
        by_lengths: dict[tuple[int, ...], list[str]] = {}
        for r in escape_rows:
            by_lengths.setdefault(tuple(r["huffman_code_lengths_bits"]), []).append(f"{r['escape_probability']:g}")
        steps.append(
            "Why Huffman barely sees ε: its codeword lengths for q' are "
            + "; ".join(f"({', '.join(str(x) for x in lengths)}) for ε = {', '.join(values)}"
                        for lengths, values in by_lengths.items())
            + f", against ({', '.join(str(int(x)) for x in p_code.lengths_bits)}) for p's own code. Whole-bit "
            f"codewords on {p.size} symbols can charge an unseen symbol only a few bits however small ε is, so the "
            f"measured Huffman excess stays put while KL(p‖q') moves; ANS charges −log2 q'(x) bits, fractions "
            f"included, and follows the formula (as blocks of flips do in the coin demo).")
        if pseudo is not None:
            steps.append(
                f"Escape with one pseudo-count (the default when q has counts): ε = 1/(n_q + 1) = "
                f"{pseudo['escape_probability']:.4g}: KL(p‖q') = {pseudo['effective_kl_bits_per_token']:.4f}, Huffman "
                f"excess {pseudo['huffman_measured_excess_bits_per_token']:.4f}, ANS excess "
                f"{pseudo['ans_measured_excess_bits_per_token']:.4f} bits/token.")
        if add_k_rows:
            steps.append(
                f"Add-k smoothing of q's counts {q.counts.tolist()}: q'(x) = (c(x) + α)/(n + α·|V|) with n = "
                f"{q.total_count}, |V| = {q.size}; every symbol, seen or not, gets α extra counts. Measured: "
                + "; ".join(f"α = {r['alpha']:g}: q' = ("
                            + ", ".join(f"{x:.3f}" for x in r["smoothed_q_probabilities"])
                            + f"), KL(p‖q') = {r['effective_kl_bits_per_token']:.4f}, Huffman excess "
                            f"{r['huffman_measured_excess_bits_per_token']:.4f}, ANS excess "
                            f"{r['ans_measured_excess_bits_per_token']:.4f}" for r in add_k_rows) + ".")
        else:
            steps.append("Add-k smoothing needs q as counts; q was given as probabilities, so it is not measured here.")
        steps.append(
            f"Why ∞: KL(p‖q) is the extra cost of coding p's data with q's code, and q's code has no word for "
            f"{', '.join(unseen_labels)}; equivalently, P(sample | q) = 0 as soon as one unseen token occurs, so the "
            f"likelihood ratio is 0 and its log −∞: a single observation of {unseen_labels[0]} refutes q for good. "
            f"The policies make the bits finite by coding with another model q'; the finite numbers above are "
            f"KL(p‖q'), a statement about q', never about q.")
    else:
        steps.append("q covers every symbol p produces, so there is nothing to escape or smooth: every policy codes "
                     "with q itself and the measured bits are the same.")
    explanation = number_steps(steps)

    # the effective model at the best escape, as a per-symbol table (the finite counterpart of the ∞ table)
    if unseen.types:
        model = effective_model(p, q, UnseenPolicy("escape", escape_probability=best_escape["escape_probability"]))
        q_best = Distribution(p.symbols, model.probabilities)
        best_table = symbol_table(p, q_best, p_code, model.code,
                                  title=f"p against q' (escape, ε = {best_escape['escape_probability']:g})")
        tables.append(DemoTable(best_table.title, tuple(h.replace("q", "q'") for h in best_table.header),
                                best_table.rows))

    data = {
        "symbols": [symbol_label(s) for s in p.symbols],
        "p_probabilities": pa.tolist(), "q_probabilities": qa.tolist(),
        "q_counts": None if q.counts is None else q.counts.tolist(),
        "samples": n, "seed": options.seed,
        "entropy_bits_per_token": entropy(p),
        "kl_bits_per_token": kl_bits, "kl_nats_per_token": kl_bits * NATS_PER_BIT,
        "unseen": {"symbols": unseen_labels, "types": unseen.types, "p_mass": unseen.p_mass,
                   "stream_tokens": unseen_tokens},
        "q_huffman_encode_error": huffman_error or None,
        "q_ans_encode_error": ans_error or None,
        "error_policy_message": error_policy_message or None,
        "escape": escape_rows,
        "escape_pseudo_count": pseudo,
        "escape_best_probability": best_escape["escape_probability"],
        "add_k": add_k_rows,
        "add_k_best_alpha": None if best_add_k is None else best_add_k["alpha"],
    }
    panels = [
        Panel("escape: bits per token over p's code against ε", "escape probability ε", "bits per token",
              tuple(float(r["escape_probability"]) for r in escape_rows),
              {"KL(p‖q') formula": tuple(r["effective_kl_bits_per_token"] for r in escape_rows),
               "Huffman, measured excess": tuple(r["huffman_measured_excess_bits_per_token"] for r in escape_rows),
               "ANS, measured excess": tuple(r["ans_measured_excess_bits_per_token"] for r in escape_rows)},
              log_x=True),
    ]
    if add_k_rows:
        panels.append(Panel(
            "add-k: bits per token over p's code against α", "smoothing α", "bits per token",
            tuple(float(r["alpha"]) for r in add_k_rows),
            {"KL(p‖q') formula": tuple(r["effective_kl_bits_per_token"] for r in add_k_rows),
             "Huffman, measured excess": tuple(r["huffman_measured_excess_bits_per_token"] for r in add_k_rows),
             "ANS, measured excess": tuple(r["ans_measured_excess_bits_per_token"] for r in add_k_rows)},
            log_x=True))
    return DemoResult("infinite", "q(x) = 0 where p(x) > 0: KL = ∞, no codeword, and what escape and smoothing cost",
                      tuple(summary), tuple(tables), explanation, data, tuple(panels))


register(Demo(
    "infinite",
    "q gives probability 0 to a symbol p produces: KL = ∞, no codeword; escape and add-k make the bits finite",
    PARAMETERS,
    run,
))
