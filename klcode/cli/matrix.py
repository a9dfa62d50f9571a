"""klcode matrix: every corpus against every other (KL, measured excess, JS), nearest neighbours, heatmap."""

from __future__ import annotations

from typing import Any

import click

from ..render.documents import matrix_document
from .common import (
    corpus_paths,
    emit,
    estimator_choice,
    load_corpora_with_progress,
    output_options,
    output_path,
    policy_options,
    progress_bar,
    tokenizer_options,
    tokenizer_spec,
    unseen_policy,
)
from .rate import matrix_rates, rate_options


@click.command("matrix")
@click.argument("paths", nargs=-1, required=True, metavar="CORPUS...")
@tokenizer_options
@policy_options
@click.option("--plot", default=None, metavar="FILE.png|FILE.svg", callback=output_path,
              help="Draw the JS matrix as a heatmap ordered by hierarchical clustering (needs matplotlib).")
@click.option("--full/--summary", default=None, help="Show the full matrices in the table (default: when ≤ 12 corpora).")
@rate_options
@estimator_choice
@output_options
def matrix(paths: tuple[str, ...], tokens: str, encoding: str, errors: str, lower: bool, ngram: int, regex: str | None,
           unseen: str, alpha: float, escape_probability: float | None, no_verify: bool, plot: str | None,
           full: bool | None, model_text: str | None, train_fraction: float, estimator: str, fmt: str, as_json: bool,
           output: str | None, unit: str, quiet: bool) -> None:
    """Every corpus against every other: directed KL, measured Huffman excess, JS, nearest neighbours.

    Each PATH is one corpus; a single directory stands for one corpus per file
    under it. Cell (row, column) codes the row's tokens with a code built from
    the column.

    \b
    Example:
      klcode matrix corpora/udhr --tokens chars --plot udhr.png
    """
    from ..analysis.matrix import divergence_matrix

    spec = tokenizer_spec(tokens, encoding, errors, lower, ngram, regex)
    policy = unseen_policy(unseen, alpha, escape_probability)
    if plot is not None and not plot.lower().endswith((".png", ".svg")):
        raise click.UsageError(f"--plot file must end in .png or .svg (got {plot!r})")
    groups = corpus_paths(paths)
    corpora = load_corpora_with_progress(groups, spec, quiet)
    n = len(corpora)
    with progress_bar("coding pairs", lambda: n * (n - 1), quiet, unit="pairs") as progress:
        result = divergence_matrix(corpora, policy=policy, verify=not no_verify, progress=progress)
    if plot is not None:
        _plot_matrix(result, plot, unit)
    extra: dict[str, Any] = {"command": "matrix", "paths": list(paths), "tokenizer_settings": spec.to_dict(), "plot": plot}
    document = matrix_document(result, unit, full, extra)
    if estimator != "plugin":
        from ..analysis.uncertainty import matrix_estimates
        from ..render.statistics import with_matrix_estimates

        document = with_matrix_estimates(document, result.labels, matrix_estimates(corpora, estimator=estimator,
                                                                                   policy=policy), unit, full)
    if model_text is not None:
        document = matrix_rates(document, [group[0] for group in groups], tokens, model_text, encoding, errors, lower,
                                ngram, regex, train_fraction, not no_verify, full, unit, quiet)
    emit(document, fmt, as_json, output, quiet)


def _plot_matrix(result, path: str, unit: str) -> None:
    import numpy as np

    from ..analysis.cluster import average_linkage, symmetric_distances
    from ..render.documents import unit_factor
    from ..render.plots import save_heatmap

    js = np.array(result.js_bits_per_token) * unit_factor(unit)
    linkage = average_linkage(symmetric_distances(js), result.labels)
    save_heatmap(js, result.labels, path, title=f"Jensen–Shannon divergence ({result.tokenizer})",
                 value_label=f"JS [{unit} per token]", linkage=linkage)
