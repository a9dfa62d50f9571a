"""klcode compare: two corpora coded with each other's codes, both directions, with keyness."""

from __future__ import annotations

import dataclasses

import click

from ..render.documents import comparison_document
from .common import (
    bootstrap_settings,
    coder_options,
    coder_specs,
    emit,
    estimator_options,
    load_with_progress,
    output_options,
    policy_options,
    tokenizer_options,
    tokenizer_spec,
    unseen_policy,
)
from .rate import compare_rates, rate_options


@click.command("compare")
@click.argument("text_a", metavar="A")
@click.argument("text_b", metavar="B")
@tokenizer_options
@policy_options
@click.option("--top", type=click.IntRange(min=0), default=10, show_default=True,
              help="How many tokens to list on each side of the keyness view.")
@click.option("--codes", is_flag=True, help="Also show the code tables of A and B.")
@coder_options
@rate_options
@estimator_options
@click.option("--keyness", is_flag=True,
              help="Show the keyness table (counts, per million, G², p, log ratio, %DIFF, simple maths, KL share) "
                   "instead of the contributions.")
@click.option("--sort", "sort_key", type=click.Choice(("g2", "log-ratio", "kl")), default="g2", show_default=True,
              help="Order of the keyness table (with --keyness).")
@click.option("--min-count", type=click.IntRange(min=1), default=1, show_default=True,
              help="Keyness: only tokens seen at least this often in A and B together (they are the tests counted by "
                   "the Bonferroni threshold).")
@output_options
def compare(text_a: str, text_b: str, tokens: str, encoding: str, errors: str, lower: bool, ngram: int,
            regex: str | None, unseen: str, alpha: float, escape_probability: float | None, no_verify: bool,
            top: int, codes: bool, coder_names: str, block: int, max_length: int | None, model_text: str | None,
            train_fraction: float, estimator: str, ci: float | None, bootstrap: int | None, resample: str,
            interval_method: str, bootstrap_seed: int, keyness: bool, sort_key: str, min_count: int, fmt: str,
            as_json: bool, output: str | None, unit: str, quiet: bool) -> None:
    """Compare two corpora in both directions: each coded with its own code and with the other's.

    H(A), H(B), H(A,B), H(B,A), KL(A‖B), KL(B‖A) and JS by formula, beside the
    bits per token actually measured by Huffman-encoding A and B with both
    codes; then the tokens that carry the divergence (largest contributions
    p·log(p/q) of either sign, with their counts in A and B).

    Tokens of one corpus that the other never has make KL infinite by formula;
    they are reported with their share and coded by the --unseen policy, so the
    measured bits stay finite.

    --estimator, --ci and --keyness add the bias-corrected estimates, bootstrap
    intervals (over the files of a directory corpus) and the keyness table
    (G², log ratio, %DIFF, ...); see docs/estimators.md.

    \b
    Example:
      klcode compare corpora/genesis/french.txt corpora/genesis/english-kjv.txt --tokens chars --encoding latin-1
      klcode compare a.txt b.txt --tokens words --estimator miller-madow --ci 0.95 --keyness --min-count 5
    """
    from ..analysis.compare import compare as compare_corpora

    spec = tokenizer_spec(tokens, encoding, errors, lower, ngram, regex)
    policy = unseen_policy(unseen, alpha, escape_probability)
    settings = bootstrap_settings(ci, bootstrap, resample, interval_method, bootstrap_seed)
    if not keyness and (sort_key != "g2" or min_count != 1):
        raise click.UsageError("--sort and --min-count order and filter the keyness table: add --keyness")
    a = load_with_progress([text_a], spec, quiet)
    b = load_with_progress([text_b], spec, quiet)
    if a.label == b.label:  # e.g. two files of one name in different folders
        a, b = dataclasses.replace(a, label=f"A:{a.label}"), dataclasses.replace(b, label=f"B:{b.label}")
    coders = coder_specs(coder_names, block, max_length)
    result = compare_corpora(a, b, policy=policy, verify=not no_verify, top=top, coders=coders)
    extra = {"command": "compare", "a_path": text_a, "b_path": text_b, "tokenizer_settings": spec.to_dict()}
    document = comparison_document(result, unit, codes, extra)
    if estimator != "plugin" or settings is not None or keyness:
        from ..analysis.uncertainty import comparison_statistics
        from ..render.statistics import with_comparison_statistics

        stats = comparison_statistics(a, b, estimator=estimator, bootstrap=settings,
                                      keyness_sort=sort_key if keyness else None, min_count=min_count, policy=policy)
        document = with_comparison_statistics(document, result, stats, unit, top)
    if model_text is not None:
        document = compare_rates(document, [text_a, text_b], tokens, model_text, encoding, errors, lower, ngram, regex,
                                 train_fraction, not no_verify, top, unit, quiet)
    emit(document, fmt, as_json, output, quiet)
