"""klcode measure: p and q from files or families, their codes, the formulas beside the bits."""

from __future__ import annotations

import click

from ..analysis.measure import measure, measure_samples
from ..models.distribution import load_distribution
from ..render.documents import measurement_document
from .common import (
    bootstrap_settings,
    coder_options,
    coder_specs,
    emit,
    estimator_options,
    output_options,
    policy_options,
    unseen_policy,
)


@click.command("measure")
@click.option("--p", "p_path", required=True, metavar="P.json",
              help="The true distribution: JSON mapping symbol → probability (or integer count).")
@click.option("--q", "q_path", required=True, metavar="Q.json",
              help="The model: JSON mapping symbol → probability (or integer count).")
@click.option("--samples", type=click.IntRange(min=1), default=None, metavar="N",
              help="Also encode N samples drawn from p and report the bits actually measured.")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True, help="Seed of the random generator for --samples.")
@click.option("--codes", is_flag=True, help="Also show the code tables (codeword of every symbol under both codes).")
@coder_options
@policy_options
@estimator_options
@output_options
def measure_cmd(p_path: str, q_path: str, samples: int | None, seed: int, codes: bool, coder_names: str, block: int,
                max_length: int | None, unseen: str, alpha: float, escape_probability: float | None, no_verify: bool,
                estimator: str, ci: float | None, bootstrap: int | None, resample: str, interval_method: str,
                bootstrap_seed: int, fmt: str, as_json: bool, output: str | None, unit: str, quiet: bool) -> None:
    """Code p with Huffman codes built from p and from q: formulas beside code lengths.

    Without --samples the code columns are exact expected lengths Σ p(x)·l(x);
    with it, N samples drawn from p are encoded, decoded back, and counted.

    \b
    Example:
      echo '{"a": 0.5, "b": 0.25, "c": 0.25}' > p.json
      echo '{"a": 0.25, "b": 0.25, "c": 0.5}' > q.json
      klcode measure --p p.json --q q.json --samples 100000
    """
    policy = unseen_policy(unseen, alpha, escape_probability)
    coders = coder_specs(coder_names, block, max_length)
    settings = bootstrap_settings(ci, bootstrap, resample, interval_method, bootstrap_seed)
    p, q = load_distribution(p_path), load_distribution(q_path)
    if samples is None:
        m = measure(p, q, policy=policy, verify=not no_verify, coders=coders)
    else:
        m = measure_samples(p, q, samples, seed, policy=policy, verify=not no_verify, coders=coders)
    title = f"klcode measure  p = {p_path}, q = {q_path}  ({m.alphabet_size} symbols)"
    document = measurement_document(m, title, {"command": "measure", "p": p_path, "q": q_path}, unit, codes)
    if estimator != "plugin" or settings is not None:
        from ..analysis.uncertainty import measure_statistics
        from ..render.statistics import with_measurement_statistics

        stats = measure_statistics(p, q, samples=samples, seed=seed, estimator=estimator, bootstrap=settings,
                                   code_lengths=m.p_code_lengths_bits)
        source = f"the {samples:,} samples drawn from p (seed {seed})" if samples else f"the counts of p ({p_path})"
        document = with_measurement_statistics(document, m, stats, unit, source)
    emit(document, fmt, as_json, output, quiet)
