"""Demo ``worms``: which simple model of the space worms' teeth wastes fewer bits — uniform or binomial?

The classic blog example: the observed distribution of teeth (0…10) of a
species of space worms, modelled by the uniform 1/11 and by the binomial
with the same mean, Binomial(10, 0.544).  KL(p‖model) is the information
lost per worm by sending the model instead of the data, i.e. the extra bits
per worm of coding the observations with the model's code.  Both are
measured on real codes here, and KL(p‖Binomial(10, θ)) is traced as θ moves
away from 0.544: it is smallest exactly at the moment-matched θ, and still
above the uniform's.

>>> result = run(DemoOptions(n=2000))
>>> result.data["mean_teeth"], result.data["theta_moment_matched"]
(5.44, 0.544)
>>> round(result.data["uniform"]["kl_nats_per_token"], 4), round(result.data["binomial"]["kl_nats_per_token"], 4)
(0.1367, 0.4273)
"""

from __future__ import annotations

import math

import numpy as np

from ..analysis.likelihood import likelihood_ratio
from ..analysis.measure import Measurement, encode_stream, measure
from ..coders import CoderSpec, HuffmanCode, build_coder
from ..errors import DataError
from ..info.measures import entropy, kl_contributions, kl_divergence, unseen_symbols
from ..models.distribution import Distribution, align
from ..render.plots import Panel
from ..text.stream import TokenStream
from . import register
from .base import (
    NATS_PER_BIT,
    Demo,
    DemoOptions,
    DemoResult,
    DemoTable,
    bits,
    largest_block,
    number_steps,
    parse_spec,
    probabilities_text,
    symbol_table,
    table_lines,
)

#: The observed distribution of teeth 0..10 (the blog's figure).
TEETH_PROBABILITIES = (0.02, 0.03, 0.05, 0.14, 0.16, 0.15, 0.12, 0.08, 0.10, 0.08, 0.07)
DEFAULT_SAMPLES = 100_000
#: The θ range of the KL-against-θ curve, and its step.
THETA_RANGE = (0.3, 0.8)
THETA_STEP = 0.01
#: Resolution of the grid search for the minimizing θ (checked against the closed form mean/N).
THETA_GRID_RESOLUTION = 0.001

PARAMETERS = (
    "--p SPEC (the observed distribution over 0..N teeth: a JSON file {\"0\": p0, ..., \"N\": pN} or a family "
    "spec such as binomial:10,0.5; default the blog's observed teeth) "
    "--q MODEL (the second model instead of the moment-matched binomial: a θ in (0, 1) for Binomial(N, θ), or a "
    "spec/JSON file; default Binomial(N, mean/N)) "
    f"--n SAMPLES (worms drawn from p and coded, default {DEFAULT_SAMPLES:,}) --seed SEED (default 0)"
)


def observed_teeth() -> Distribution:
    """The observed distribution of teeth, 0..10."""
    return Distribution.from_probabilities(TEETH_PROBABILITIES)


def _on_counts(distribution: Distribution, flag: str) -> Distribution:
    """``distribution`` with integer symbols 0..N (JSON keys "0".."N" become ints), missing counts at p = 0."""
    values = []
    for symbol in distribution.symbols:
        try:
            value = int(symbol) if not isinstance(symbol, (bytes, float)) else None
        except (TypeError, ValueError):
            value = None
        if value is None or value < 0 or str(value) != str(symbol).strip():
            raise DataError(f"{flag}: worms needs symbols that are numbers of teeth 0, 1, 2, ... (got {symbol!r})")
        values.append(value)
    relabelled = Distribution(tuple(values), distribution.probabilities, distribution.counts)
    return relabelled.reorder(tuple(range(max(values) + 1)))


def _model(text: str | None, teeth: int, theta: float) -> tuple[Distribution, str]:
    """The second model: Binomial(N, θ) for the moment-matched θ, a given θ, or a spec."""
    if text is None:
        return Distribution.binomial(teeth, theta), f"Binomial({teeth}, {theta:.4g})"
    try:
        value = float(text)
    except ValueError:
        value = None
    if value is not None:
        if not 0.0 < value < 1.0:
            raise DataError(f"--q: a binomial θ must be in (0, 1) (got {text!r})")
        return Distribution.binomial(teeth, value), f"Binomial({teeth}, {value:g})"
    return _on_counts(parse_spec(text, None, "--q"), "--q"), text


def _theta_grid() -> np.ndarray:
    low, high = THETA_RANGE
    return np.round(np.arange(low, high + THETA_STEP / 2, THETA_STEP), 10)


def run(options: DemoOptions) -> DemoResult:
    """Uniform against binomial for the worms' teeth: KL by formula and by measured codes, and KL against θ."""
    p = _on_counts(parse_spec(options.p, observed_teeth(), "--p"), "--p")
    teeth = p.size - 1
    if teeth < 1:
        raise DataError(f"--p: worms needs at least two numbers of teeth, 0..N with N >= 1 (got N = {teeth})")
    k = np.arange(teeth + 1)
    mean = float(math.fsum((k * p.probabilities).tolist()))
    variance = float(math.fsum(((k - mean) ** 2 * p.probabilities).tolist()))
    theta = mean / teeth
    uniform = Distribution.uniform(tuple(range(teeth + 1)))
    model, model_name = _model(options.q, teeth, theta)
    p, model = align(p, model)
    uniform = uniform.reorder(p.symbols)
    unseen = unseen_symbols(p, model)
    if unseen.types:
        raise DataError(f"--q: the model gives probability 0 to {unseen.types} number(s) of teeth the worms have "
                        f"(p-mass {unseen.p_mass:.4g}): KL = ∞ (see: klcode demo infinite)")
    n = options.n or DEFAULT_SAMPLES
    stream = p.sample(n, np.random.default_rng(options.seed))
    block = largest_block(p.support_size)
    coders = (CoderSpec("huffman", block=block), CoderSpec("ans")) if block > 1 else (CoderSpec("ans"),)
    measured = {
        "uniform": measure(p, uniform, stream, seed=options.seed, coders=coders),
        "binomial": measure(p, model, stream, seed=options.seed, coders=coders),
    }
    models = {"uniform": uniform, "binomial": model}
    names = {"uniform": f"uniform 1/{teeth + 1}", "binomial": model_name}
    kls = {key: kl_divergence(p, q) for key, q in models.items()}
    sample_kls = {key: likelihood_ratio(stream, p, q).empirical_kl_bits_per_token for key, q in models.items()}

    # ---- KL against θ: the formula on a fine grid, and measured with ANS on the same stream on the plotted grid
    fine = np.arange(THETA_RANGE[0], THETA_RANGE[1] + THETA_GRID_RESOLUTION / 2, THETA_GRID_RESOLUTION)
    fine_kl = [kl_divergence(p, Distribution.binomial(teeth, float(t))) for t in fine]
    theta_grid_min = float(np.round(fine[int(np.argmin(fine_kl))], 6))
    thetas = _theta_grid()
    if THETA_RANGE[0] <= theta <= THETA_RANGE[1]:  # the moment-matched θ is a point of the curve
        thetas = np.unique(np.append(thetas, round(theta, 6)))
    token_stream = TokenStream.from_array(stream, p.size)
    ans_p = build_coder(CoderSpec("ans"), p.probabilities)
    ans_models = [build_coder(CoderSpec("ans"), Distribution.binomial(teeth, float(t)).probabilities) for t in thetas]
    totals, _ = encode_stream([ans_p, *ans_models], token_stream, verify=True)
    curve = [
        {"theta": float(t), "kl_bits_per_token": kl_divergence(p, Distribution.binomial(teeth, float(t))),
         "ans_measured_excess_bits_per_token": (total - totals[0]) / n}
        for t, total in zip(thetas, totals[1:])
    ]
    kl_at_theta = kl_divergence(p, Distribution.binomial(teeth, theta))

    # ---- per-model records
    def record(key: str) -> dict:
        m: Measurement = measured[key]
        result = {
            "model": names[key],
            "probabilities": models[key].probabilities.tolist(),
            "kl_bits_per_token": kls[key], "kl_nats_per_token": kls[key] * NATS_PER_BIT,
            "kl_reverse_bits_per_token": kl_divergence(models[key], p),
            "cross_entropy_bits_per_token": m.cross_entropy_bits_per_token,
            "sample_kl_bits_per_token": sample_kls[key],
            "huffman_code_lengths_bits": list(m.q_code_lengths_bits),
            "huffman_measured_bits_per_token": m.q_code.measured_bits_per_token,
            "huffman_total_bits": m.q_code.total_bits,
            "huffman_measured_excess_bits_per_token": m.measured_excess_bits_per_token,
            "huffman_tie_band_bits_per_token": None if m.tie_band is None else
            [m.tie_band.minimum_bits_per_token, m.tie_band.maximum_bits_per_token],
        }
        for c in m.coders:
            result[f"{c.coder}_measured_bits_per_token"] = c.q_measured_bits_per_token
            result[f"{c.coder}_measured_excess_bits_per_token"] = c.measured_excess_bits_per_token
        return result

    records = {key: record(key) for key in models}
    m_u, m_b = measured["uniform"], measured["binomial"]
    ans_u = next(c for c in m_u.coders if c.coder == "ans")
    ans_b = next(c for c in m_b.coders if c.coder == "ans")
    winner = min(kls, key=kls.get)
    loser = "binomial" if winner == "uniform" else "uniform"

    # ---- tables
    symbols_table = DemoTable(
        "the observed teeth and the two models",
        ("teeth", "p observed", names["uniform"], names["binomial"], "p·log2(p/uniform)", "p·log2(p/binomial)"),
        tuple((str(t), f"{p.probabilities[t]:.4f}", f"{uniform.probabilities[t]:.4f}", f"{model.probabilities[t]:.4f}",
               bits(float(kl_contributions(p, uniform)[t])), bits(float(kl_contributions(p, model)[t])))
              for t in range(p.size)),
    )
    p_code = HuffmanCode.from_distribution(p, "huffman(p)")
    table_u = symbol_table(p, uniform, p_code, HuffmanCode.from_distribution(uniform, "huffman(uniform)"),
                           title=f"p against the {names['uniform']}")
    table_b = symbol_table(p, model, p_code, HuffmanCode.from_distribution(model, "huffman(binomial)"),
                           title=f"p against {names['binomial']}")
    coder_labels = [c.coder for c in m_u.coders]
    model_rows = []
    for key in models:
        m = measured[key]
        row = [names[key], bits(kls[key]), f"{kls[key] * NATS_PER_BIT:.4f}", bits(m.q_code.measured_bits_per_token),
               bits(m.measured_excess_bits_per_token)]
        row += [bits(c.measured_excess_bits_per_token) for c in m.coders]
        model_rows.append(tuple(row))
    models_table = DemoTable(
        f"bits per worm over the code of p, measured on {n:,} worms drawn from p (seed {options.seed})",
        ("model", "KL bits", "KL nats", "Huffman L_q", "Huffman excess", *(f"{c} excess" for c in coder_labels)),
        tuple(model_rows),
    )
    shown = [0.3, 0.4, 0.5, round(theta, 4), 0.6, 0.7, 0.8]
    theta_table = DemoTable(
        f"KL(p‖Binomial({teeth}, θ)) as θ moves (bits per worm)",
        ("θ", "KL formula", "ANS measured excess"),
        tuple((f"{c['theta']:g}", bits(c["kl_bits_per_token"]), bits(c["ans_measured_excess_bits_per_token"]))
              for c in curve if any(abs(c["theta"] - s) < 1e-9 for s in shown)),
    )

    # ---- summary
    summary = (
        (f"observed teeth p on 0..{teeth}: mean {mean:.4g}, so the moment-matched binomial is Binomial({teeth}, "
        f"{theta:.4g}); H(p) = {entropy(p):.4f} bits"),
        f"KL(p‖uniform) = {kls['uniform'] * NATS_PER_BIT:.4f} nats = {kls['uniform']:.4f} bits per worm",
        f"KL(p‖{names['binomial']}) = {kls['binomial'] * NATS_PER_BIT:.4f} nats = {kls['binomial']:.4f} bits per worm",
        (f"measured on {n:,} worms: ANS excess {ans_u.measured_excess_bits_per_token:.4f} (uniform) against "
        f"{ans_b.measured_excess_bits_per_token:.4f} (binomial) bits/worm; Huffman excess "
        f"{m_u.measured_excess_bits_per_token:.4f} against {m_b.measured_excess_bits_per_token:.4f}"),
        f"the {winner} wastes fewer bits: {kls[loser] - kls[winner]:.4f} bits per worm fewer than the {loser}",
        f"KL(p‖Binomial({teeth}, θ)) over θ in [{THETA_RANGE[0]}, {THETA_RANGE[1]}] is smallest at θ = "
        f"{theta_grid_min:g} (= mean/{teeth} = {theta:.4g}), {kl_at_theta:.4f} bits: "
        + ("even the best binomial is worse than the uniform" if kl_at_theta > kls["uniform"]
           else "the best binomial beats the uniform"),
    )

    # ---- explanation
    largest = {key: int(np.argmax(kl_contributions(p, q))) for key, q in models.items()}
    tails = [t for t in range(p.size) if model.probabilities[t] < p.probabilities[t] / 4]
    tail_p = float(p.probabilities[tails].sum()) if tails else 0.0
    tail_q = float(model.probabilities[tails].sum()) if tails else 0.0
    band_u = m_u.tie_band
    p_text = probabilities_text(p)
    steps: list[str | tuple[str, ...]] = [
        f"The data: p(teeth) for 0..{teeth} = {p_text} (sum 1).",
        f"Mean number of teeth: Σ k·p(k) = {mean:.4g}. A Binomial({teeth}, θ) has mean {teeth}·θ, so matching "
        f"the mean gives θ = {mean:.4g}/{teeth} = {theta:.4g}: {names['binomial']} = {probabilities_text(model)}."
        if options.q is None else
        f"Mean number of teeth: Σ k·p(k) = {mean:.4g} (moment-matched θ = {theta:.4g}); the second model is "
        f"the one given, {names['binomial']} = {probabilities_text(model)}.",
        (f"KL(p‖uniform) = Σ p·log2(p·{teeth + 1}) = log2 {teeth + 1} − H(p) = {math.log2(teeth + 1):.4f} − "
        f"{entropy(p):.4f} = {kls['uniform']:.4f} bits = {kls['uniform'] * NATS_PER_BIT:.4f} nats per worm "
        f"(against a uniform, KL is how far the entropy of p falls short of the maximum, log2 {teeth + 1})."),
        (f"KL(p‖binomial) = Σ p·log2(p/binomial) = H(p, binomial) − H(p) = "
        f"{m_b.cross_entropy_bits_per_token:.4f} − {entropy(p):.4f} = {kls['binomial']:.4f} bits = "
        f"{kls['binomial'] * NATS_PER_BIT:.4f} nats per worm."),
        "Symbol by symbol, with each model's Huffman code (l_q) beside p's own (l_p):",
        table_lines(table_u),
        table_lines(table_b),
        (f"Measured on {n:,} worms drawn from p (seed {options.seed}), every code decoded back: p's own Huffman "
        f"code spent {m_u.p_code.total_bits:,} bits ({m_u.p_code.measured_bits_per_token:.4f}/worm); the "
        f"uniform's {m_u.q_code.total_bits:,} ({m_u.q_code.measured_bits_per_token:.4f}); the binomial's "
        f"{m_b.q_code.total_bits:,} ({m_b.q_code.measured_bits_per_token:.4f}). ANS, which does not round to "
        f"whole bits: excess {ans_u.measured_excess_bits_per_token:.4f} (uniform) and "
        f"{ans_b.measured_excess_bits_per_token:.4f} (binomial) bits/worm, against this sample's KL "
        f"{sample_kls['uniform']:.4f} and {sample_kls['binomial']:.4f}. Huffman's excesses "
        f"({m_u.measured_excess_bits_per_token:.4f}, {m_b.measured_excess_bits_per_token:.4f}) are not KL: with "
        f"whole-bit codewords L_q − L_p = KL(p‖q̂) − KL(p‖p̂), where q̂ = 2^−l_q is the model the code rounds q "
        f"to (KL(p‖q̂) = {m_u.kl_to_dyadic_bits_per_token:.4f} for the uniform, "
        f"{m_b.kl_to_dyadic_bits_per_token:.4f} for the binomial; KL(p‖p̂) = "
        f"{m_u.p_code.expected_bits_per_token - entropy(p):.4f}), in expectation."),
        (f"Verdict: the {winner} wastes fewer bits, by formula ({kls[winner]:.4f} < {kls[loser]:.4f} bits per worm) "
        f"and by measured codes."),
        f"Why the binomial loses: {names['binomial']} is narrow"
        + (f" (variance {teeth}·θ·(1−θ) = {teeth * theta * (1 - theta):.4g}) while the worms' teeth spread out "
           f"(variance {variance:.4g})" if options.q is None else "")
        + f". It gives the teeth counts {tails} only {tail_q:.4f} of its mass where the worms have {tail_p:.4f}, "
        f"so those worms cost many bits each under its code. The largest term is at {largest['binomial']} teeth: "
        f"p = {p.probabilities[largest['binomial']]:.4f}, binomial {model.probabilities[largest['binomial']]:.4g}, "
        f"−log2 = {-math.log2(model.probabilities[largest['binomial']]):.4f} bits instead of "
        f"{-math.log2(p.probabilities[largest['binomial']]):.4f}. The uniform is never that wrong: its largest "
        f"term (at {largest['uniform']} teeth) is {float(kl_contributions(p, uniform)[largest['uniform']]):.4f} bits.",
        f"Moving θ: KL(p‖Binomial({teeth}, θ)) = "
        + ", ".join(f"{row[1]} at θ = {row[0]}" for row in theta_table.rows)
        + f" bits. The minimum on a {THETA_GRID_RESOLUTION:g} grid is at θ = {theta_grid_min:g}, exactly the "
        f"moment-matched mean/{teeth} = {theta:.4g}: setting d/dθ Σ p(k)·log q_θ(k) = Σ p(k)·(k/θ − "
        f"({teeth}−k)/(1−θ)) to 0 gives θ = mean/{teeth}, so matching the mean is the KL-optimal binomial. "
        + (f"Even so it costs {kl_at_theta:.4f} bits per worm, above the uniform's {kls['uniform']:.4f}: no binomial "
           f"is wide enough." if kl_at_theta > kls["uniform"] else
           f"It costs {kl_at_theta:.4f} bits per worm, below the uniform's {kls['uniform']:.4f}."),
    ]
    if band_u is not None and band_u.width_bits_per_token > 0:
        steps.append(
            f"A Huffman caveat: the uniform on {teeth + 1} symbols has many tied Huffman codes; on this p they cost "
            f"between {band_u.minimum_bits_per_token:.4f} and {band_u.maximum_bits_per_token:.4f} bits/worm "
            f"({'exact band' if band_u.exact else 'inner estimate over sampled tie orders'}; this code "
            f"{band_u.canonical_bits_per_token:.4f}), against {m_b.q_code.expected_bits_per_token:.4f} for the "
            f"binomial's code. At whole-bit resolution the verdict can hang on a tie rule; ANS and the formula "
            f"do not.")
    if options.p is None and options.q is None:
        blog_057 = kl_divergence(p, Distribution.binomial(teeth, 0.57), base=math.e)
        steps.append(
            f"About the blog's numbers: the well-known post quotes a mean of 5.7 (θ = 0.57) and KL ≈ 0.338 nats "
            f"(uniform) and ≈ 0.477 nats (binomial). With the eleven probabilities above the mean is {mean:.4g}, "
            f"KL(p‖uniform) = {kls['uniform'] * NATS_PER_BIT:.4f} nats and KL(p‖Binomial(10, 0.544)) = "
            f"{kls['binomial'] * NATS_PER_BIT:.4f} nats (at θ = 0.57: {blog_057:.4f} nats): its figures do not "
            f"follow from the table it shows. The verdict is the same: the uniform wastes fewer bits.")
    steps.append(
        "Why: KL(p‖q) is the expected number of extra bits (or nats) per observation when data that follow p are "
        "coded, or described, with q. A model with one parameter can still be a poor code: what matters is whether "
        "it gives enough probability to every value that actually happens.")
    explanation = number_steps(steps)

    data = {
        "teeth": list(range(teeth + 1)),
        "p_probabilities": p.probabilities.tolist(),
        "mean_teeth": round(mean, 12),
        "variance_teeth2": variance,
        "theta_moment_matched": round(theta, 12),
        "entropy_bits_per_token": entropy(p),
        "samples": n, "seed": options.seed,
        "uniform": records["uniform"],
        "binomial": records["binomial"],
        "fewer_bits": winner,
        "theta_curve": curve,
        "theta_minimizer_grid": theta_grid_min,
        "theta_grid_resolution": THETA_GRID_RESOLUTION,
        "kl_min_binomial_bits_per_token": kl_at_theta,
        "kl_min_binomial_nats_per_token": kl_at_theta * NATS_PER_BIT,
        "roundtrip": m_u.p_code.roundtrip,
    }
    teeth_x = tuple(float(t) for t in range(teeth + 1))
    panels = (
        Panel("observed teeth and the two models", "teeth", "probability", teeth_x,
              {"p observed": tuple(p.probabilities.tolist()), names["uniform"]: tuple(uniform.probabilities.tolist()),
               names["binomial"]: tuple(model.probabilities.tolist())}),
        Panel(f"KL(p‖Binomial({teeth}, θ)), minimum at θ = {theta_grid_min:g}", "θ", "bits per worm",
              tuple(c["theta"] for c in curve),
              {"KL formula": tuple(c["kl_bits_per_token"] for c in curve),
               "ANS, measured excess": tuple(c["ans_measured_excess_bits_per_token"] for c in curve)},
              {"KL(p‖uniform)": kls["uniform"]}),
        Panel("per-tooth KL terms p·log2(p/q)", "teeth", "bits", teeth_x,
              {"uniform": tuple(kl_contributions(p, uniform).tolist()),
               "binomial": tuple(kl_contributions(p, model).tolist())}),
    )
    return DemoResult("worms", f"the space worms' teeth: the {winner} wastes fewer bits",
                      summary, (symbols_table, models_table, theta_table, table_u, table_b),
                      explanation, data, panels)


register(Demo(
    "worms",
    "the space-worm teeth: uniform 1/11 or Binomial(10, 0.544)? KL in bits and nats, measured codes, "
    "and KL as the binomial's θ moves",
    PARAMETERS,
    run,
))
