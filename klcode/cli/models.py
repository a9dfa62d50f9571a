"""klcode models: two models' next-token distributions over one text, KL both ways, and the bits each pays."""

from __future__ import annotations

import os

import click

from ..errors import DataError, InputError
from .common import emit, output_options, progress_bar

SPEC_HELP = """\b
A model (BASE or TEST) is one of:
  FILE.kld              llama.cpp's --kl-divergence-base file (recognized by its magic)
  FILE.npy|.npz|.safetensors
                        logits or log-probabilities [positions x vocab] with token ids
                        beside them (an array named tokens, or FILE.tokens.npy)
  ppm[:order=K,...][@CORPUS]
                        klcode's PPM model over the bytes of --text, trained on CORPUS first
  quant:B[:MODEL]       MODEL (default: BASE) with its log-probabilities stored in B bits
                        as llama.cpp stores them in 16 (1 <= B <= 16)
  hf:DIR                a local causal LM (transformers) run over --text (a text file, or
                        FILE.npy of token ids); pip install 'klcode[llm]'
  hf-int8:DIR           the same with its Linear layers dynamically quantized to int8 (CPU)
"""


def _read_text_ids(path: str) -> "np.ndarray":  # noqa: F821
    import numpy as np

    try:
        with open(path, "rb") as file:
            data = file.read()
    except OSError as error:
        raise InputError(f"cannot read {path!r}: {error.strerror or error}") from None
    return np.frombuffer(data, dtype=np.uint8).astype(np.int64)


def open_source(spec: str, *, text: str | None, base=None, tokens_file: str | None = None, batch: int = 8,
                device: str | None = None, quiet: bool = True):
    """The :class:`~klcode.models.sources.PositionSource` a command-line spec names."""
    from ..models import sources

    if spec.startswith("quant:"):
        head, _, inner = spec[len("quant:"):].partition(":")
        try:
            bits = int(head)
        except ValueError:
            raise click.BadParameter(f"quant:B[:MODEL] needs an integer number of bits (got {head!r})") from None
        if not 1 <= bits <= 16:
            raise click.BadParameter(f"quant:B needs 1 <= B <= 16 (got {bits})")
        if inner:
            inner_source = open_source(inner, text=text, base=base, tokens_file=tokens_file, batch=batch,
                                       device=device, quiet=quiet)
        elif base is not None:
            inner_source = base
        else:
            raise click.BadParameter("quant:B without a model quantizes BASE; give BASE a model of its own")
        return sources.QuantizedSource(inner_source, bits)
    if spec == "ppm" or spec.startswith(("ppm:", "ppm@")):
        if text is None:
            raise click.UsageError(f"model {spec!r} runs over a text: give --text FILE")
        model, _, corpus = spec.partition("@")
        train, train_label = (), ""
        if corpus:
            train, train_label = (_read_text_ids(corpus),), os.path.basename(corpus)
        return sources.ContextModelSource(model, _read_text_ids(text), train=train, train_label=train_label,
                                          text_label=text)
    if spec.startswith(("hf:", "hf-int8:")):
        if text is None:
            raise click.UsageError(f"model {spec!r} runs over a text: give --text FILE (or FILE.npy of token ids)")
        from ..models.hf import HFSource

        kind, _, directory = spec.partition(":")
        return HFSource(directory, text, batch=batch, device=device, quantize_int8=kind == "hf-int8", quiet=quiet)
    if not os.path.exists(spec):
        raise InputError(f"no such file: {spec!r} (a model is a file, ppm[...], quant:B[:MODEL] or hf:DIR)")
    return sources.open_file_source(spec, tokens=tokens_file)


def _refuse_overwriting_inputs(outputs: list[str | None], specs: list[str | None]) -> None:
    """A usage error when an output file is one of the inputs (klcode never overwrites its input)."""
    inputs = []
    for spec in filter(None, specs):
        path = spec.rpartition("@")[2] if spec.startswith("ppm") else spec.split(":")[-1]
        if os.path.exists(path):
            inputs.append(path)
    for output in filter(None, outputs):
        if os.path.exists(output) and any(os.path.samefile(output, path) for path in inputs):
            raise click.UsageError(f"the output {output!r} is an input; klcode never overwrites its input")


@click.command("models", epilog=SPEC_HELP)
@click.argument("base_spec", metavar="BASE")
@click.argument("test_spec", metavar="TEST")
@click.option("--text", default=None, metavar="FILE", help="The text that ppm and hf models are run over.")
@click.option("--tokens-file", default=None, metavar="FILE.npy",
              help="Token ids of array models (targets, or a stream one longer than the rows).")
@click.option("--top-k", type=click.IntRange(1, 64), default=5, show_default=True,
              help="k of the top-k agreement: mean overlap of the k most probable tokens of each model.")
@click.option("--top", type=click.IntRange(min=0), default=10, show_default=True,
              help="How many positions and tokens to list among those that carry the most KL.")
@click.option("--context", "context_width", type=click.IntRange(min=0), default=24, show_default=True,
              help="Tokens of context shown before each listed position.")
@click.option("--no-verify", is_flag=True, help="Skip decoding the two codings back (one pass over the inputs, not two).")
@click.option("--plot", default=None, metavar="FILE.png|.svg",
              help="Draw the histogram and CDF of per-position KL and KL along the text.")
@click.option("--batch", type=click.IntRange(min=1), default=8, show_default=True, help="Sequences per batch (hf models).")
@click.option("--device", default=None, help="torch device of hf models (default: cuda when available, else cpu).")
@output_options
def models(base_spec: str, test_spec: str, text: str | None, tokens_file: str | None, top_k: int, top: int,
           context_width: int, no_verify: bool, plot: str | None, batch: int, device: str | None, fmt: str,
           as_json: bool, output: str | None, unit: str, quiet: bool) -> None:
    """Model against model: KL between two models' next-token distributions, and the bits each pays.

    At every scored position of one text: KL(base‖test) and KL(test‖base) over
    the whole vocabulary and JS (mean ± standard error, median, extremes and
    the 0.1 … 99.9 % points, as llama-perplexity --kl-divergence prints them);
    Δp of the actual next token, same-top-token share, top-k agreement, the
    PPL of each model and ln(PPL ratio); and the text range-coded under each
    model, decoded back, with its measured bits beside the cross-entropies.

    \b
    Examples:
      klcode models base.kld quant.kld --unit nats
      klcode models ppm@corpora/canterbury/lcet10.txt quant:4 --text corpora/canterbury/alice29.txt
    """
    from ..analysis.model_compare import compare_models
    from ..render.documents import model_comparison_document

    base = open_source(base_spec, text=text, tokens_file=tokens_file, batch=batch, device=device, quiet=quiet)
    test = open_source(test_spec, text=text, base=base, tokens_file=tokens_file, batch=batch, device=device,
                       quiet=quiet)
    if plot is not None and not plot.lower().endswith((".png", ".svg")):
        raise click.BadParameter(f"plot file must end in .png or .svg (got {plot!r})", param_hint="--plot")
    _refuse_overwriting_inputs([output, plot], [base_spec, test_spec, text, tokens_file])
    passes = 1 if no_verify else 2
    with progress_bar("models", lambda: base.positions * passes, quiet, unit="positions") as progress:
        result = compare_models(base, test, top_k=top_k, verify=not no_verify, top=top, context=context_width,
                                progress=progress)
    extra = {"command": "models", "base_spec": base_spec, "test_spec": test_spec, "text": text,
             "base_description": base.describe(), "test_description": test.describe()}
    document = model_comparison_document(result, unit=unit, spellings=base.spellings or test.spellings, extra=extra)
    if plot is not None:
        from ..render.model_plots import save_model_comparison

        save_model_comparison(result, plot)
    emit(document, fmt, as_json, output, quiet)


__all__ = ["models", "open_source", "DataError"]
