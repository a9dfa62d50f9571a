"""klcode rate: entropy rates by coding — each file coded by a context model started empty, beside compressors."""

from __future__ import annotations

import click

from ..render.documents import rate_document
from .common import emit, output_options, progress_bar

#: The context models ``--model`` accepts, for help texts.
MODEL_HELP = ("Context model KIND[:NAME=VALUE,...]: cm (context mixing of bytes; options order=2..8, memory=MiB) or "
              "ppm (PPM blending of token ids; options order, memory). Default: cm for bytes and chars, ppm for words.")


def model_option(default: str | None = None):
    return click.option("--model", "model_text", default=default, metavar="cm|ppm[:OPTIONS]", help=MODEL_HELP)


def rate_token_options(command):
    for option in reversed([
        click.option("--tokens", type=click.Choice(("bytes", "chars", "words")), default="bytes", show_default=True,
                     help="What a token is: a byte, a Unicode character (coded as its UTF-8 bytes by cm), a word (\\w+)."),
        click.option("--encoding", default="utf-8", show_default=True, help="Encoding of the texts (chars, words)."),
        click.option("--errors", type=click.Choice(("strict", "replace")), default="strict", show_default=True,
                     help="Undecodable bytes: stop with an error naming the file and offset, or replace them."),
        click.option("--lower", is_flag=True, help="Lower-case the text first (chars, words)."),
    ]):
        command = option(command)
    return command


def parse_model_option(model_text: str | None, tokens: str):
    """The ContextModelSpec of ``--model`` (a usage error when it does not parse); default by token kind."""
    from ..analysis.rates import parse_model
    from ..errors import KlcodeError

    text = model_text or ("ppm" if tokens == "words" else "cm")
    try:
        return parse_model(text)
    except KlcodeError as error:
        raise click.BadParameter(str(error), param_hint="'--model'") from None


def load_rate_texts(paths, tokens: str, spec, encoding: str, errors: str, lower: bool):
    """Each path's bytes (decompressed) prepared for coding by ``spec``, with one vocabulary for all of them."""
    from ..analysis.rates import rate_texts, read_corpus_bytes
    from ..text.inputs import corpus_label

    raws = [read_corpus_bytes(path) for path in paths]
    labels = [corpus_label([path]) for path in paths]
    if len(set(labels)) != len(labels):
        labels = [f"{k}:{label}" for k, label in enumerate(labels, 1)]
    return rate_texts(raws, labels, tokens, model_kind=spec.kind, encoding=encoding, errors=errors, lower=lower)


@click.command("rate")
@click.argument("paths", nargs=-1, required=True, metavar="PATH...")
@model_option()
@rate_token_options
@click.option("--compressors/--no-compressors", default=True, show_default=True,
              help="Also compress each file with bz2 -9, xz -9e, zstd -19, zlib -9 and PPMd (best order).")
@click.option("--no-verify", is_flag=True, help="Skip decoding the model's bitstream back (the output says so).")
@output_options
def rate(paths: tuple[str, ...], model_text: str | None, tokens: str, encoding: str, errors: str, lower: bool,
         compressors: bool, no_verify: bool, fmt: str, as_json: bool, output: str | None, unit: str,
         quiet: bool) -> None:
    """Entropy rate of each file: bits per token under a context model started empty, beside compressors.

    The model codes the file into a real range-coded bitstream that is decoded
    back and compared; `measured` is 8 × its length per token, `ideal` the sum
    of −log2 q(x_i | context) the coder was given.  bz2, xz, zstd, zlib and
    PPMd compress the same bytes for scale.  Directories are expanded to their
    files (recursively, sorted).

    \b
    Example:
      klcode rate corpora/canterbury
      klcode rate corpora/udhr/eng.txt --tokens words --model ppm:order=2
    """
    from ..analysis.rates import entropy_rate
    from ..text.corpus import expand_sources

    spec = parse_model_option(model_text, tokens)
    results = []
    for source in expand_sources(list(paths)):
        (text,) = load_rate_texts([source.path], tokens, spec, encoding, errors, lower)
        with progress_bar(f"coding {source.label}", lambda: text.symbols.size, quiet, unit="tokens") as progress:
            results.append(entropy_rate(spec, text, verify=not no_verify, compressors=compressors, progress=progress))
    extra = {"command": "rate", "paths": list(paths), "model": spec.as_dict(), "tokens": tokens, "encoding": encoding,
             "lower": lower}
    emit(rate_document(results, unit, extra), fmt, as_json, output, quiet)


# ------------------------------------------------------ compare/matrix --model
_model_option = click.option(
    "--model", "model_text", default=None, metavar="cm|ppm[:OPTIONS]",
    help="Also measure cross-entropy and KL *rates* with this context model (cm, ppm[:order=N,...]): each text's "
         "held-out part coded, frozen, by the models of both texts trained on equal budgets.")


def _with_train_fraction(command):
    return click.option("--train-fraction", type=click.FloatRange(0.05, 0.95), default=0.5, show_default=True,
                        help="With --model: the share of each text that trains its model (the rest is held out).")(command)


def rate_options(command):
    """--model and --train-fraction, for compare and matrix."""
    return _model_option(_with_train_fraction(command))


def _check_rate_tokens(tokens: str, ngram: int, regex: str | None) -> None:
    if regex is not None or tokens not in ("bytes", "chars", "words"):
        raise click.UsageError("--model measures rates of bytes, chars or words (not --regex tokens)")
    if ngram != 1:
        raise click.UsageError("--model codes the tokens themselves; it cannot be combined with --ngram")


def compare_rates(document, paths, tokens: str, model_text: str, encoding: str, errors: str, lower: bool, ngram: int,
                  regex: str | None, train_fraction: float, verify: bool, top: int, unit: str, quiet: bool):
    """``document`` (of compare) with the rates of A and B under ``--model``: D(A‖B), D(B‖A), the costliest words."""
    from ..analysis.rates import kl_rates
    from ..render.documents import rate_comparison_tables, with_rates

    _check_rate_tokens(tokens, ngram, regex)
    spec = parse_model_option(model_text, tokens)
    a, b = load_rate_texts(paths, tokens, spec, encoding, errors, lower)
    total = lambda: 2 * (a.symbols.size - int(train_fraction * a.symbols.size) + b.symbols.size  # noqa: E731
                         - int(train_fraction * b.symbols.size))
    with progress_bar("coding held-out parts", total, quiet, unit="tokens") as progress:
        result = kl_rates(spec, a, b, train_fraction=train_fraction, verify=verify, top=top, progress=progress)
    return with_rates(document, *rate_comparison_tables(result, unit))


def matrix_rates(document, paths, tokens: str, model_text: str, encoding: str, errors: str, lower: bool, ngram: int,
                 regex: str | None, train_fraction: float, verify: bool, full: bool | None, unit: str, quiet: bool):
    """``document`` (of matrix) with the KL-rate matrix under ``--model`` and each text's nearest by KL rate."""
    from ..analysis.rates import rate_matrix
    from ..render.documents import rate_matrix_tables, with_rates

    _check_rate_tokens(tokens, ngram, regex)
    spec = parse_model_option(model_text, tokens)
    texts = load_rate_texts(paths, tokens, spec, encoding, errors, lower)
    n = len(texts)
    with progress_bar("coding held-out parts", lambda: n * n, quiet, unit="codings") as progress:
        result = rate_matrix(spec, texts, train_fraction=train_fraction, verify=verify, progress=progress)
    return with_rates(document, *rate_matrix_tables(result, unit, full))
