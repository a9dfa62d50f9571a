"""klcode converge: measured excess against KL as the sample size and the block size grow."""

from __future__ import annotations

import click

from ..render.documents import convergence_document
from .common import (
    coder_names_specs,
    emit,
    output_options,
    output_path,
    policy_options,
    unseen_policy,
)


@click.command("converge")
@click.option("--p", "p_spec", required=True, metavar="P",
              help="The true distribution: a JSON file, or bernoulli:P, binomial:N,P, uniform:N.")
@click.option("--q", "q_spec", required=True, metavar="Q", help="The model, in the same forms as --p.")
@click.option("--coder", "coder_names", default="huffman,shannon,ans", show_default=True, metavar="NAME[,NAME...]",
              help="Order-0 coder families to follow as N grows (huffman, shannon, ans).")
@click.option("--max-samples", type=click.IntRange(min=10), default=1_000_000, show_default=True, metavar="N",
              help="The largest sample size (sizes are log-spaced from 10).")
@click.option("--points", type=click.IntRange(min=2), default=11, show_default=True, help="How many sample sizes.")
@click.option("--max-block", type=click.IntRange(min=1), default=None, metavar="K",
              help="Largest block size of the block-Huffman view (default: while the block alphabet has ≤ 65,536 symbols).")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True, help="Seed of the random generator.")
@click.option("--plot", default=None, metavar="FILE.png|FILE.svg", callback=output_path, help="Draw both views (needs matplotlib).")
@policy_options
@output_options
def converge(p_spec: str, q_spec: str, coder_names: str, max_samples: int, points: int, max_block: int | None,
             seed: int, plot: str | None, unseen: str, alpha: float, escape_probability: float | None, no_verify: bool,
             fmt: str, as_json: bool, output: str | None, unit: str, quiet: bool) -> None:
    """Watch measured L_q − L_p approach KL(p‖q) as the sample size N and the block size k grow.

    One line per coder: the excess of q's code over p's, measured on N samples
    drawn from p (seeded); the coin-flip identity (P(obs|q)/P(obs|p))^(1/N) →
    2^(−KL) beside it; then block Huffman codes of the k-th extension.

    \b
    Example:
      klcode converge --p bernoulli:0.5 --q bernoulli:0.9 --plot coin.png
    """
    from ..analysis.converge import converge as run_converge
    from ..analysis.converge import default_block_sizes, log_spaced_sizes
    from ..models.distribution import align, parse_distribution

    if plot is not None and not plot.lower().endswith((".png", ".svg")):
        raise click.UsageError(f"--plot file must end in .png or .svg (got {plot!r})")
    policy = unseen_policy(unseen, alpha, escape_probability)
    coders = coder_names_specs(coder_names)
    p, q = align(parse_distribution(p_spec), parse_distribution(q_spec))
    support = int(((p.probabilities > 0) | (q.probabilities > 0)).sum())
    result = run_converge(p, q, coders=coders, sample_sizes=log_spaced_sizes(max_samples, points),
                          block_sizes=default_block_sizes(support, max_block), seed=seed, policy=policy,
                          verify=not no_verify)
    if plot is not None:
        _plot_convergence(result, plot, unit)
    extra = {"command": "converge", "p": p_spec, "q": q_spec, "plot": plot}
    emit(convergence_document(result, unit, extra), fmt, as_json, output, quiet)


def _plot_convergence(result, path: str, unit: str) -> None:
    from ..render.documents import unit_factor
    from ..render.plots import Panel, save_panels

    f = unit_factor(unit)
    coders = list(dict.fromkeys(point.coder for point in result.by_samples))
    by_samples = Panel(
        "measured L_q − L_p against N", "samples N", f"{unit} per token", tuple(result.sample_sizes),
        {name: tuple(pt.measured_excess_bits_per_token * f for pt in result.by_samples if pt.coder == name) for name in coders},
        {"KL(p‖q)": result.kl_bits_per_token * f}, log_x=True,
    )
    coin = Panel(
        "coin-flip identity", "samples N", "(P(obs|q)/P(obs|p))^(1/N)", tuple(result.sample_sizes),
        {"normalized likelihood ratio": tuple(lr.normalized_ratio for lr in result.likelihood)},
        {"2^−KL(p‖q)": 2.0 ** -result.kl_bits_per_token}, log_x=True,
    )
    by_block = Panel(
        "block Huffman against block size k", "block size k", f"{unit} per token", tuple(result.block_sizes),
        {"expected": tuple(_scaled(pt.expected_excess_bits_per_token, f) for pt in result.by_block),
         f"measured ({result.sample_sizes[-1]:,} samples)": tuple(pt.measured_excess_bits_per_token * f for pt in result.by_block)},
        {"KL(p‖q)": result.kl_bits_per_token * f},
    )
    save_panels((by_samples, coin, by_block), path, title="measured bits converging to the formulas")


def _scaled(value: float | None, factor: float) -> float | None:
    return None if value is None else value * factor
