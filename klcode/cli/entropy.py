"""klcode entropy: per-file entropy, measured codes and general-purpose compressors."""

from __future__ import annotations

import os

import click

from ..render.documents import entropy_document
from ..text.corpus import expand_sources
from .common import (
    bootstrap_settings,
    coder_options,
    coder_specs,
    emit,
    estimator_options,
    input_bytes,
    load_with_progress,
    output_options,
    progress_bar,
    tokenizer_options,
    tokenizer_spec,
)


@click.command("entropy")
@click.argument("paths", nargs=-1, required=True, metavar="PATH...")
@tokenizer_options
@click.option("--compressors/--no-compressors", default=True, show_default=True,
              help="Also compress each file with zlib, bz2 and lzma for scale.")
@click.option("--no-verify", is_flag=True, help="Skip decoding the Huffman bitstreams back (the output says so).")
@coder_options
@estimator_options
@output_options
def entropy(paths: tuple[str, ...], tokens: str, encoding: str, errors: str, lower: bool, ngram: int, regex: str | None,
            compressors: bool, no_verify: bool, coder_names: str, block: int, max_length: int | None, estimator: str,
            ci: float | None, bootstrap: int | None, resample: str, interval_method: str, bootstrap_seed: int,
            fmt: str, as_json: bool, output: str | None, unit: str, quiet: bool) -> None:
    """For each file: tokens, types, entropy, the measured Huffman size, and zlib/bz2/lzma for context.

    Directories are expanded to their files (recursively, sorted); each file
    gets its own row.

    \b
    Example:
      klcode entropy corpora/canterbury --tokens chars
    """
    from ..analysis.file_entropy import file_entropy

    spec = tokenizer_spec(tokens, encoding, errors, lower, ngram, regex)
    coders = coder_specs(coder_names, block, max_length)
    settings = bootstrap_settings(ci, bootstrap, resample, interval_method, bootstrap_seed)
    with_stats = estimator != "plugin" or settings is not None
    if with_stats:
        from ..analysis.uncertainty import corpus_entropy_statistics
    results, stats = [], []
    for source in expand_sources(list(paths)):
        corpus = load_with_progress([source.path], spec, quiet, label=source.label)
        with progress_bar(f"compressing {source.label}", lambda: input_bytes([source.path]), quiet or not compressors) as progress:
            results.append(file_entropy(corpus, verify=not no_verify, compressors=compressors, progress=progress,
                                        coders=coders))
        if with_stats:
            stats.append(corpus_entropy_statistics(corpus, estimator=estimator, bootstrap=settings))
    extra = {"command": "entropy", "paths": list(paths), "tokenizer_settings": spec.to_dict()}
    document = entropy_document(results, unit, extra)
    if with_stats:
        from ..render.statistics import with_entropy_statistics

        document = with_entropy_statistics(document, [os.path.basename(r.path) or r.path for r in results], stats,
                                           [r.huffman_bits_per_token for r in results], unit)
    emit(document, fmt, as_json, output, quiet)
