"""klcode measure: p and q from files or families, their codes, the formulas beside the bits."""

from __future__ import annotations

import click

from ..analysis.measure import measure, measure_samples
from ..models.distribution import load_distribution
from ..render.documents import measurement_document
from .common import (
    coder_options,
    coder_specs,
    emit,
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
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the random generator for --samples.")
@click.option("--codes", is_flag=True, help="Also show the code tables (codeword of every symbol under both codes).")
@coder_options
@policy_options
@output_options
def measure_cmd(p_path: str, q_path: str, samples: int | None, seed: int, codes: bool, coder_names: str, block: int,
                max_length: int | None, unseen: str, alpha: float, escape_probability: float | None, no_verify: bool,
                fmt: str, as_json: bool, output: str | None, unit: str, quiet: bool) -> None:
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
    p, q = load_distribution(p_path), load_distribution(q_path)
    if samples is None:
        m = measure(p, q, policy=policy, verify=not no_verify, coders=coders)
    else:
        m = measure_samples(p, q, samples, seed, policy=policy, verify=not no_verify, coders=coders)
    title = f"klcode measure  p = {p_path}, q = {q_path}  ({m.alphabet_size} symbols)"
    document = measurement_document(m, title, {"command": "measure", "p": p_path, "q": q_path}, unit, codes)
    emit(document, fmt, as_json, output, quiet)
