"""The klcode command line: parse, call the library, render, map errors to exit codes.

Exit codes: 0 ok, 1 data error (bad file, bad distribution, ...), 2 usage error.
Every error is one line on stderr: ``klcode: error: <what was wrong (what was given)>``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import click

from . import __version__
from .atomic import write_atomically
from .coders.registry import parse_coders
from .corpus import expand_sources
from .distribution import load_distribution
from .errors import KlcodeError
from .measure import POLICY_NAMES, UnseenPolicy, measure, measure_samples
from .report import (
    FORMATS,
    UNITS,
    Document,
    comparison_document,
    convergence_document,
    counts_document,
    entropy_document,
    matrix_document,
    measurement_document,
    render_csv,
    render_json,
    render_markdown,
    rich_renderables,
)
from .tokenize import TokenizerSpec

EXIT_DATA_ERROR = 1
EXIT_USAGE_ERROR = 2
TOKEN_CHOICES = ("bytes", "chars", "words", "regex")


# ------------------------------------------------------------------ option sets
def _apply_options(options: list) -> Callable:
    def decorate(command: Callable) -> Callable:
        for option in reversed(options):
            command = option(command)
        return command

    return decorate


tokenizer_options = _apply_options([
    click.option("--tokens", type=click.Choice(TOKEN_CHOICES), default="bytes", show_default=True,
                 help="What a token is: a byte, a Unicode character, a word (\\w+), or a --regex match."),
    click.option("--encoding", default="utf-8", show_default=True,
                 help="Encoding of the texts for chars, words and regex tokens (e.g. latin-1, cp437)."),
    click.option("--errors", type=click.Choice(("strict", "replace")), default="strict", show_default=True,
                 help="Undecodable bytes: stop with an error naming the file and offset, or replace them with U+FFFD."),
    click.option("--lower", is_flag=True, help="Lower-case the text first (chars, words, regex)."),
    click.option("--ngram", type=click.IntRange(1, 16), default=1, show_default=True, metavar="K",
                 help="Use overlapping K-grams of tokens (of characters for chars, of words for words)."),
    click.option("--regex", default=None, metavar="PATTERN", help="Tokens are the matches of this Python regex (implies --tokens regex)."),
])

policy_options = _apply_options([
    click.option("--unseen", type=click.Choice(POLICY_NAMES), default="escape", show_default=True,
                 help="Symbols of p that q never has: an escape codeword (finite bits), add-k smoothing of q's counts, or stop."),
    click.option("--alpha", type=float, default=1.0, show_default=True, help="k of add-k smoothing (with --unseen add-k)."),
    click.option("--escape-probability", type=float, default=None,
                 help="Probability of the escape codeword; default 1/(n_q + 1), one pseudo-count, when q is counts."),
    click.option("--no-verify", is_flag=True, help="Skip decoding the bitstreams back (faster; the output says so)."),
])

coder_options = _apply_options([
    click.option("--coder", "coder_names", default="huffman", show_default=True, metavar="NAME[,NAME...]",
                 help="Coder families to run: huffman, shannon, ans (order-0, built from a model) and zlib, bz2, "
                      "lzma, zstd (contextual: they exploit token order, so their bits are not an order-0 cross-entropy)."),
    click.option("--block", type=click.IntRange(min=1), default=1, show_default=True, metavar="K",
                 help="Prefix codes (huffman, shannon) code blocks of K tokens: the K-th extension."),
    click.option("--max-length", type=click.IntRange(min=1), default=None, metavar="L",
                 help="Huffman codes limited to codewords of at most L bits (package-merge)."),
])

output_options = _apply_options([
    click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True,
                 help="Output format: a table for people, or json, csv, markdown."),
    click.option("--json", "as_json", is_flag=True, help="Same as --format json."),
    click.option("-o", "--output", default=None, metavar="FILE", help="Write the output to FILE (atomically) instead of stdout."),
    click.option("--unit", type=click.Choice(UNITS), default="bits", show_default=True,
                 help="Unit of the per-token figures (code sizes are always counted in bits)."),
    click.option("-q", "--quiet", is_flag=True, help="No progress bar, and no notes under the tables."),
])


def _spec(tokens: str, encoding: str, errors: str, lower: bool, ngram: int, regex: str | None) -> TokenizerSpec:
    if regex is not None:
        if tokens not in ("bytes", "regex"):
            raise click.UsageError(f"--regex defines the tokens; it cannot be combined with --tokens {tokens}")
        tokens = "regex"
    elif tokens == "regex":
        raise click.UsageError("--tokens regex needs --regex PATTERN")
    return TokenizerSpec(kind=tokens, encoding=encoding, errors=errors, lower=lower, ngram=ngram, regex=regex)


def _policy(unseen: str, alpha: float, escape_probability: float | None) -> UnseenPolicy:
    return UnseenPolicy(unseen, alpha, escape_probability)


def _coders(names: str, block: int, max_length: int | None):
    """The coder specs of --coder/--block/--max-length; none when only the default Huffman is asked for."""
    specs = parse_coders(names, block, max_length)
    return () if [s.label for s in specs] == ["huffman"] else specs


# ------------------------------------------------------------- output, progress
def _table_text(document: Document, quiet: bool, width: int | None) -> str:
    from rich.console import Console

    buffer = io.StringIO()
    console = Console(file=buffer, width=width or 160, highlight=False, color_system=None, soft_wrap=False)
    _print_document(console, document, quiet)
    return buffer.getvalue()


def _print_document(console, document: Document, quiet: bool) -> None:
    for renderable in rich_renderables(document):
        if quiet and renderable.__class__.__name__ == "Text" and str(renderable).startswith("  "):
            continue
        console.print(renderable, soft_wrap=True)


def _emit(document: Document, fmt: str, as_json: bool, output: str | None, quiet: bool) -> None:
    fmt = "json" if as_json else fmt
    if fmt == "table" and output is None:
        from rich.console import Console

        console = Console(width=None if sys.stdout.isatty() else 160, highlight=False)
        _print_document(console, document, quiet)
        return
    text = {
        "json": render_json,
        "csv": render_csv,
        "markdown": render_markdown,
        "table": lambda d: _table_text(d, quiet, None),
    }[fmt](document)
    if output is None:
        click.echo(text, nl=False)
    else:
        write_atomically(output, lambda out: out.write(text.encode("utf-8")))


def _input_bytes(paths: Sequence[str]) -> int | None:
    """Total size of the files under ``paths`` (None when unknown: stdin, compressed files)."""
    total = 0
    for source in expand_sources(paths):
        if source.path == "-" or source.path.endswith((".gz", ".bz2", ".xz")):
            return None
        with contextlib.suppress(OSError):
            total += os.path.getsize(source.path)
    return total


@contextlib.contextmanager
def _progress(description: str, total: Callable[[], int | None], quiet: bool,
              unit: str = "bytes") -> Iterator[Callable[[int], None] | None]:
    """A rich progress bar on stderr when stderr is a terminal (and not --quiet); else no callback.

    ``total()`` is asked only when a bar is shown (it may walk directories).
    """
    if quiet or not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    amount = DownloadColumn() if unit == "bytes" else MofNCompleteColumn()
    with Progress(TextColumn("{task.description}"), BarColumn(), amount, TimeRemainingColumn(),
                  console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(description, total=total())
        yield lambda n: bar.advance(task, n)


def _load(paths: Sequence[str], spec: TokenizerSpec, quiet: bool, label: str | None = None):
    from .inputs import load_corpus

    with _progress(f"reading {label or ', '.join(paths)}", lambda: _input_bytes(paths), quiet) as progress:
        return load_corpus(paths, spec, progress=progress, label=label)


def _corpus_paths(paths: Sequence[str]) -> list[list[str]]:
    """One corpus per path; a single directory stands for one corpus per file under it."""
    if len(paths) == 1 and os.path.isdir(paths[0]):
        return [[source.path] for source in expand_sources(paths)]
    return [[path] for path in paths]


# --------------------------------------------------------------------- commands
@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="klcode")
def cli() -> None:
    """Measure Kullback–Leibler divergence by compression.

    klcode builds real Huffman codes from a true distribution p and from a
    model q, encodes real token streams with them, counts the bits, and sets
    the measured average code lengths beside the formulas for entropy H(p),
    cross-entropy H(p,q) and KL(p‖q) = H(p,q) − H(p).

    A CORPUS is a text file (.gz/.bz2/.xz read transparently), a directory
    (its files, recursively, in sorted order), - for stdin, or a counts file
    saved by `klcode count -o`.
    """


@cli.command("measure")
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
    policy = _policy(unseen, alpha, escape_probability)
    coders = _coders(coder_names, block, max_length)
    p, q = load_distribution(p_path), load_distribution(q_path)
    if samples is None:
        m = measure(p, q, policy=policy, verify=not no_verify, coders=coders)
    else:
        m = measure_samples(p, q, samples, seed, policy=policy, verify=not no_verify, coders=coders)
    title = f"klcode measure  p = {p_path}, q = {q_path}  ({m.alphabet_size} symbols)"
    document = measurement_document(m, title, {"command": "measure", "p": p_path, "q": q_path}, unit, codes)
    _emit(document, fmt, as_json, output, quiet)


@cli.command()
@click.argument("corpus", nargs=-1, required=True)
@tokenizer_options
@click.option("-o", "--output", default=None, metavar="COUNTS.json",
              help="Save the counts to this file (atomically); any command accepts it where it accepts a corpus.")
@click.option("--top", type=click.IntRange(min=0), default=20, show_default=True, help="Show the N most frequent tokens.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True, help="Output format of the summary.")
@click.option("--json", "as_json", is_flag=True, help="Same as --format json.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar, and no notes under the table.")
def count(corpus: tuple[str, ...], tokens: str, encoding: str, errors: str, lower: bool, ngram: int,
          regex: str | None, output: str | None, top: int, fmt: str, as_json: bool, quiet: bool) -> None:
    """Count the tokens of a corpus (all paths together), and save the counts with -o.

    Reading is streamed: memory does not grow with the corpus. A saved counts
    file lets every other command skip reading a big corpus again.

    \b
    Example:
      klcode count corpora/genesis --tokens words --lower -o genesis-words.json
      klcode entropy genesis-words.json --tokens words --lower
    """
    from .counts import save_counts

    spec = _spec(tokens, encoding, errors, lower, ngram, regex)
    counts = _load(list(corpus), spec, quiet).counts
    if output is not None:
        save_counts(counts, output)
    _emit(counts_document(counts, top, output), fmt, as_json, None, quiet)


@cli.command()
@click.argument("text_a", metavar="A")
@click.argument("text_b", metavar="B")
@tokenizer_options
@policy_options
@click.option("--top", type=click.IntRange(min=0), default=10, show_default=True,
              help="How many tokens to list on each side of the keyness view.")
@click.option("--codes", is_flag=True, help="Also show the code tables of A and B.")
@coder_options
@output_options
def compare(text_a: str, text_b: str, tokens: str, encoding: str, errors: str, lower: bool, ngram: int,
            regex: str | None, unseen: str, alpha: float, escape_probability: float | None, no_verify: bool,
            top: int, codes: bool, coder_names: str, block: int, max_length: int | None, fmt: str, as_json: bool,
            output: str | None, unit: str, quiet: bool) -> None:
    """Compare two corpora in both directions: each coded with its own code and with the other's.

    H(A), H(B), H(A,B), H(B,A), KL(A‖B), KL(B‖A) and JS by formula, beside the
    bits per token actually measured by Huffman-encoding A and B with both
    codes; then the tokens that carry the divergence (largest contributions
    p·log(p/q) of either sign, with their counts in A and B).

    Tokens of one corpus that the other never has make KL infinite by formula;
    they are reported with their share and coded by the --unseen policy, so the
    measured bits stay finite.

    \b
    Example:
      klcode compare corpora/genesis/french.txt corpora/genesis/english-kjv.txt --tokens chars --encoding latin-1
    """
    from .compare import compare as compare_corpora

    spec = _spec(tokens, encoding, errors, lower, ngram, regex)
    policy = _policy(unseen, alpha, escape_probability)
    a = _load([text_a], spec, quiet)
    b = _load([text_b], spec, quiet)
    if a.label == b.label:  # e.g. two files of one name in different folders
        a, b = dataclasses.replace(a, label=f"A:{a.label}"), dataclasses.replace(b, label=f"B:{b.label}")
    coders = _coders(coder_names, block, max_length)
    result = compare_corpora(a, b, policy=policy, verify=not no_verify, top=top, coders=coders)
    extra = {"command": "compare", "a_path": text_a, "b_path": text_b, "tokenizer_settings": spec.to_dict()}
    _emit(comparison_document(result, unit, codes, extra), fmt, as_json, output, quiet)


@cli.command()
@click.argument("paths", nargs=-1, required=True, metavar="CORPUS...")
@tokenizer_options
@policy_options
@click.option("--plot", default=None, metavar="FILE.png|FILE.svg",
              help="Draw the JS matrix as a heatmap ordered by hierarchical clustering (needs matplotlib).")
@click.option("--full/--summary", default=None, help="Show the full matrices in the table (default: when ≤ 12 corpora).")
@output_options
def matrix(paths: tuple[str, ...], tokens: str, encoding: str, errors: str, lower: bool, ngram: int, regex: str | None,
           unseen: str, alpha: float, escape_probability: float | None, no_verify: bool, plot: str | None,
           full: bool | None, fmt: str, as_json: bool, output: str | None, unit: str, quiet: bool) -> None:
    """Every corpus against every other: directed KL, measured Huffman excess, JS, nearest neighbours.

    Each PATH is one corpus; a single directory stands for one corpus per file
    under it. Cell (row, column) codes the row's tokens with a code built from
    the column.

    \b
    Example:
      klcode matrix corpora/udhr --tokens chars --plot udhr.png
    """
    from .matrix import divergence_matrix

    spec = _spec(tokens, encoding, errors, lower, ngram, regex)
    policy = _policy(unseen, alpha, escape_probability)
    if plot is not None and not plot.lower().endswith((".png", ".svg")):
        raise click.UsageError(f"--plot file must end in .png or .svg (got {plot!r})")
    groups = _corpus_paths(paths)
    corpora = [_load(group, spec, quiet) for group in groups]
    n = len(corpora)
    with _progress("coding pairs", lambda: n * (n - 1), quiet, unit="pairs") as progress:
        result = divergence_matrix(corpora, policy=policy, verify=not no_verify, progress=progress)
    if plot is not None:
        _plot_matrix(result, plot, unit)
    extra: dict[str, Any] = {"command": "matrix", "paths": list(paths), "tokenizer_settings": spec.to_dict(), "plot": plot}
    _emit(matrix_document(result, unit, full, extra), fmt, as_json, output, quiet)


def _plot_matrix(result, path: str, unit: str) -> None:
    import numpy as np

    from .cluster import average_linkage, symmetric_distances
    from .plots import save_heatmap
    from .report import unit_factor

    js = np.array(result.js_bits_per_token) * unit_factor(unit)
    linkage = average_linkage(symmetric_distances(js), result.labels)
    save_heatmap(js, result.labels, path, title=f"Jensen–Shannon divergence ({result.tokenizer})",
                 value_label=f"JS [{unit} per token]", linkage=linkage)


@cli.command()
@click.argument("paths", nargs=-1, required=True, metavar="PATH...")
@tokenizer_options
@click.option("--compressors/--no-compressors", default=True, show_default=True,
              help="Also compress each file with zlib, bz2 and lzma for scale.")
@click.option("--no-verify", is_flag=True, help="Skip decoding the Huffman bitstreams back (the output says so).")
@coder_options
@output_options
def entropy(paths: tuple[str, ...], tokens: str, encoding: str, errors: str, lower: bool, ngram: int, regex: str | None,
            compressors: bool, no_verify: bool, coder_names: str, block: int, max_length: int | None, fmt: str,
            as_json: bool, output: str | None, unit: str, quiet: bool) -> None:
    """For each file: tokens, types, entropy, the measured Huffman size, and zlib/bz2/lzma for context.

    Directories are expanded to their files (recursively, sorted); each file
    gets its own row.

    \b
    Example:
      klcode entropy corpora/canterbury --tokens chars
    """
    from .filestats import file_entropy

    spec = _spec(tokens, encoding, errors, lower, ngram, regex)
    coders = _coders(coder_names, block, max_length)
    results = []
    for source in expand_sources(list(paths)):
        corpus = _load([source.path], spec, quiet, label=source.label)
        with _progress(f"compressing {source.label}", lambda: _input_bytes([source.path]), quiet or not compressors) as progress:
            results.append(file_entropy(corpus, verify=not no_verify, compressors=compressors, progress=progress,
                                        coders=coders))
    extra = {"command": "entropy", "paths": list(paths), "tokenizer_settings": spec.to_dict()}
    _emit(entropy_document(results, unit, extra), fmt, as_json, output, quiet)


@cli.command()
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
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the random generator.")
@click.option("--plot", default=None, metavar="FILE.png|FILE.svg", help="Draw both views (needs matplotlib).")
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
    from .converge import converge as run_converge
    from .converge import default_block_sizes, log_spaced_sizes
    from .distribution import align, parse_distribution

    if plot is not None and not plot.lower().endswith((".png", ".svg")):
        raise click.UsageError(f"--plot file must end in .png or .svg (got {plot!r})")
    policy = _policy(unseen, alpha, escape_probability)
    coders = parse_coders(coder_names)
    p, q = align(parse_distribution(p_spec), parse_distribution(q_spec))
    support = int(((p.probabilities > 0) | (q.probabilities > 0)).sum())
    result = run_converge(p, q, coders=coders, sample_sizes=log_spaced_sizes(max_samples, points),
                          block_sizes=default_block_sizes(support, max_block), seed=seed, policy=policy,
                          verify=not no_verify)
    if plot is not None:
        _plot_convergence(result, plot, unit)
    extra = {"command": "converge", "p": p_spec, "q": q_spec, "plot": plot}
    _emit(convergence_document(result, unit, extra), fmt, as_json, output, quiet)


def _plot_convergence(result, path: str, unit: str) -> None:
    from .plots import Panel, save_panels
    from .report import unit_factor

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


@cli.command()
@click.argument("name", required=False, metavar="NAME")
@click.option("--list", "list_demos", is_flag=True, help="List the demos and what each teaches.")
@click.option("--explain", is_flag=True, help="Walk through the reasoning step by step, with the actual values.")
@click.option("--p", "p_value", default=None, help="The true distribution (each demo says what it accepts; see --list).")
@click.option("--q", "q_value", default=None, help="The model (each demo says what it accepts; see --list).")
@click.option("--n", type=click.IntRange(min=1), default=None, help="Sample size (flips, tokens) where the demo draws samples.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the random generator.")
@click.option("--plot", default=None, metavar="FILE.png|FILE.svg", help="Draw the demo's figure (needs matplotlib).")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True,
              help="Output format: a table for people, or json, csv, markdown.")
@click.option("--json", "as_json", is_flag=True, help="Same as --format json.")
@click.option("-o", "--output", default=None, metavar="FILE", help="Write the output to FILE (atomically) instead of stdout.")
def demo(name: str | None, list_demos: bool, explain: bool, p_value: str | None, q_value: str | None, n: int | None,
         seed: int, plot: str | None, fmt: str, as_json: bool, output: str | None) -> None:
    """The classic KL lessons, reproduced with real codes and exact numbers.

    \b
    Examples:
      klcode demo --list
      klcode demo binomial --explain
      klcode demo coin --q 0.9 --n 100000 --plot coin.png
    """
    from .demos import DemoOptions, load_all
    from .report import demo_document, demos_list_document

    demos = load_all()
    if list_demos:
        _emit(demos_list_document(demos), fmt, as_json, output, False)
        return
    if name is None:
        raise click.UsageError(f"name a demo ({', '.join(demos)}) or give --list")
    if name not in demos:
        raise click.UsageError(f"unknown demo {name!r} (choose from {', '.join(demos)})")
    if plot is not None and not plot.lower().endswith((".png", ".svg")):
        raise click.UsageError(f"--plot file must end in .png or .svg (got {plot!r})")
    result = demos[name].run(DemoOptions(p=p_value, q=q_value, n=n, seed=seed))
    if plot is not None:
        from .plots import save_panels

        save_panels(result.panels, plot, title=f"klcode demo {name}: {result.title}")
    extra = {"command": "demo", "parameters": {"p": p_value, "q": q_value, "n": n, "seed": seed}, "plot": plot}
    _emit(demo_document(result, explain, extra), fmt, as_json, output, False)


@cli.command()
@click.argument("paths", nargs=-1, required=True, metavar="CORPUS...")
@click.option("-o", "--output", required=True, metavar="REPORT.html|REPORT.md",
              help="The report file: self-contained HTML (.html) or Markdown (.md), written atomically.")
@click.option("--tokens", "tokenizations", default="bytes,chars,words", show_default=True, metavar="KIND[,KIND...]",
              help="Tokenizations of the per-corpus table (bytes, chars, words).")
@click.option("--matrix-tokens", type=click.Choice(("bytes", "chars", "words")), default="chars", show_default=True,
              help="Tokenization of the divergence matrix, the trees and the convergence plots.")
@click.option("--encoding", default="utf-8", show_default=True, help="Encoding of the texts for chars and words.")
@click.option("--errors", type=click.Choice(("strict", "replace")), default="strict", show_default=True,
              help="Undecodable bytes: stop with an error, or replace them with U+FFFD.")
@click.option("--compressor", type=click.Choice(("zlib", "bz2", "lzma", "zstd")), default="zlib", show_default=True,
              help="Compressor of the zipping tree (compression-based relative entropy).")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True, help="Seed of the convergence samples.")
@click.option("--bench", "bench_path", default=None, metavar="BENCH.json",
              help="Include benchmark results (the JSON `python -m benchmarks` writes, benchmarks/results/all.json).")
@click.option("-q", "--quiet", is_flag=True, help="No progress display.")
def report(paths: tuple[str, ...], output: str, tokenizations: str, matrix_tokens: str, encoding: str, errors: str,
           compressor: str, seed: int, bench_path: str | None, quiet: bool) -> None:
    """One self-contained report (HTML or Markdown) on corpora: tables, heatmap, language trees, convergence.

    Per corpus and tokenization: tokens, types, H and the measured bits of
    Huffman, block Huffman, ANS and zlib/bz2/lzma; the pairwise JS matrix as a
    clustered heatmap; two language trees side by side, from JS and from the
    compression-based relative entropy ("language trees and zipping"); the
    convergence of measured bits to KL; and a reproducibility block (versions,
    settings, seeds, code-table hashes, the command line). Figures are inline
    SVG: the file makes no network fetch.

    \b
    Example:
      klcode report corpora/udhr -o udhr-report.html
    """
    import json
    import shlex

    from .corpusreport import build_report
    from .htmlreport import render_html, render_markdown

    suffix = os.path.splitext(output)[1].lower()
    if suffix not in (".html", ".htm", ".md"):
        raise click.UsageError(f"-o must end in .html or .md (got {output!r})")
    if "-" in paths:
        raise click.UsageError("report reads each corpus several times, so it cannot read stdin (-)")
    kinds = tuple(kind.strip() for kind in tokenizations.split(",") if kind.strip())
    bench = None
    if bench_path is not None:
        from .corpus import read_bytes

        try:
            bench = json.loads(read_bytes(bench_path).decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise click.ClickException(f"{bench_path!r} is not a benchmark JSON file ({error})") from None
    command_line = shlex.join(["klcode", *sys.argv[1:]]) if sys.argv[1:] else "klcode report"
    with _report_progress(quiet) as progress:
        result = build_report(list(paths), tokenizations=kinds, encoding=encoding, errors=errors, seed=seed,
                              compressor=compressor, matrix_tokens=matrix_tokens, command_line=command_line,
                              progress=progress)
    text = (render_markdown if suffix == ".md" else render_html)(result, bench=bench)
    write_atomically(output, lambda out: out.write(text.encode("utf-8")))
    if not quiet:
        click.echo(f"report written to {output} ({len(text.encode('utf-8')):,} bytes)", err=True)


@contextlib.contextmanager
def _report_progress(quiet: bool) -> Iterator[Callable[[str, int, int], None] | None]:
    """A rich progress display of the report's steps on stderr (a terminal only, and not --quiet)."""
    if quiet or not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=Console(stderr=True), transient=True) as bar:
        tasks: dict[str, int] = {}

        def update(step: str, done: int, total: int) -> None:
            if step not in tasks:
                tasks[step] = bar.add_task(step, total=total)
            bar.update(tasks[step], completed=done, total=total)

        yield update


# ------------------------------------------------------------------ entry point
def main(argv: list[str] | None = None) -> int:
    """Entry point: run the CLI, turning every expected failure into one line on stderr."""
    prog = "klcode"
    try:
        result = cli.main(args=argv, prog_name=prog, standalone_mode=False)
        return result if isinstance(result, int) else 0
    except click.exceptions.NoArgsIsHelpError as error:
        click.echo(error.format_message(), err=True)
        return EXIT_USAGE_ERROR
    except click.UsageError as error:
        where = f"{error.ctx.command_path} --help" if error.ctx is not None else f"{prog} --help"
        click.echo(f"{prog}: usage error: {error.format_message()} (see '{where}')", err=True)
        return EXIT_USAGE_ERROR
    except click.ClickException as error:
        click.echo(f"{prog}: error: {error.format_message()}", err=True)
        return EXIT_DATA_ERROR
    except click.Abort:
        click.echo(f"{prog}: aborted", err=True)
        return 130
    except KlcodeError as error:
        click.echo(f"{prog}: error: {error}", err=True)
        return EXIT_DATA_ERROR
    except OSError as error:  # e.g. a broken pipe or a full disk while writing output
        click.echo(f"{prog}: error: {error.strerror or error}", err=True)
        return EXIT_DATA_ERROR


def run() -> None:
    """Console-script wrapper: exit with :func:`main`'s code."""
    sys.exit(main())
