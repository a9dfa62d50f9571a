"""What every command shares: option sets, tokenizer and policy specs, output, progress, corpus loading."""

from __future__ import annotations

import contextlib
import io
import os
import sys
from collections.abc import Callable, Iterator, Sequence

import click

from ..analysis.measure import POLICY_NAMES, UnseenPolicy
from ..atomic import write_atomically
from ..coders.registry import parse_coders
from ..errors import KlcodeError, OutputError
from ..render.documents import (
    FORMATS,
    UNITS,
    Document,
    natural_width,
    render_csv,
    render_json,
    render_markdown,
    rich_renderables,
)
from ..text.corpus import expand_sources
from ..text.tokenize import TokenizerSpec

EXIT_DATA_ERROR = 1
EXIT_USAGE_ERROR = 2
TOKEN_CHOICES = ("bytes", "chars", "words", "regex")


# ------------------------------------------------------------------ option sets
def apply_options(options: list) -> Callable:
    def decorate(command: Callable) -> Callable:
        for option in reversed(options):
            command = option(command)
        return command

    return decorate


tokenizer_options = apply_options([
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

policy_options = apply_options([
    click.option("--unseen", type=click.Choice(POLICY_NAMES), default="escape", show_default=True,
                 help="Symbols of p that q never has: an escape codeword (finite bits), add-k smoothing of q's counts, or stop."),
    click.option("--alpha", type=float, default=1.0, show_default=True, help="k of add-k smoothing (with --unseen add-k)."),
    click.option("--escape-probability", type=float, default=None,
                 help="Probability of the escape codeword; default 1/(n_q + 1), one pseudo-count, when q is counts."),
    click.option("--no-verify", is_flag=True, help="Skip decoding the bitstreams back (faster; the output says so)."),
])

coder_options = apply_options([
    click.option("--coder", "coder_names", default="huffman", show_default=True, metavar="NAME[,NAME...]",
                 help="Coder families to run: huffman, shannon, ans (order-0, built from a model) and zlib, bz2, "
                      "lzma, zstd (contextual: they exploit token order, so their bits are not an order-0 cross-entropy)."),
    click.option("--block", type=click.IntRange(min=1), default=1, show_default=True, metavar="K",
                 help="Prefix codes (huffman, shannon) code blocks of K tokens: the K-th extension."),
    click.option("--max-length", type=click.IntRange(min=1), default=None, metavar="L",
                 help="Huffman codes limited to codewords of at most L bits (package-merge)."),
])

ESTIMATOR_CHOICES = ("plugin", "miller-madow", "jackknife", "chao-shen", "nsb")  # klcode.info.estimators.ENTROPY_ESTIMATORS
estimator_choice = click.option(
    "--estimator", type=click.Choice(ESTIMATOR_CHOICES), default="plugin", show_default=True,
    help="Also estimate H, KL and JS from the counts with a bias correction, shown beside the plug-in value and the "
         "measured code (chao-shen and nsb estimate H; their KL and JS use miller-madow). See docs/estimators.md.")
estimator_options = apply_options([
    estimator_choice,
    click.option("--ci", type=float, default=None, metavar="LEVEL",
                 help="Bootstrap confidence intervals at LEVEL (e.g. 0.95) for every headline number; "
                      "with --bootstrap 1000 unless given."),
    click.option("--bootstrap", type=click.IntRange(min=10), default=None, metavar="N",
                 help="Bootstrap replicates (with --ci 0.95 unless given). The bootstrap runs only when asked."),
    click.option("--resample", type=click.Choice(("auto", "tokens", "documents")), default="auto", show_default=True,
                 help="What the bootstrap resamples: documents (the files of a directory corpus: the honest unit, "
                      "as tokens of one text are not independent), tokens, or auto (documents when there are ≥ 5)."),
    click.option("--interval", "interval_method", type=click.Choice(("auto", "bca", "percentile", "basic")),
                 default="auto", show_default=True,
                 help="Bootstrap interval: bias-corrected and accelerated, plain percentile, basic (the replicates "
                      "reflected about the estimate), or auto: bca for plugin, percentile for the corrected estimators "
                      "(what held its level in the coverage study, docs/estimators.md)."),
    click.option("--bootstrap-seed", type=click.IntRange(min=0), default=0, show_default=True,
                 help="Seed of the bootstrap's random generator."),
])


def bootstrap_settings(ci: float | None, bootstrap: int | None, resample: str, interval_method: str, seed: int):
    """The bootstrap asked for by --ci/--bootstrap (None when neither is given: no bootstrap runs)."""
    from ..info.intervals import BootstrapSettings

    if ci is None and bootstrap is None:
        if resample != "auto":
            raise click.UsageError(f"--resample {resample} needs --ci LEVEL or --bootstrap N")
        return None
    level = 0.95 if ci is None else ci
    if not 0 < level < 1:
        raise click.BadParameter(f"must be between 0 and 1, e.g. 0.95 (got {ci})", param_hint="--ci")
    return BootstrapSettings(level=level, replicates=bootstrap or 1000, seed=seed, method=interval_method,
                             resample=resample)

def check_output(path: str | None, plot: bool = False) -> str | None:
    """Refuse, before any work, an output path that cannot be written.

    Creates and removes a probe file beside ``path``, as the atomic writer
    will create its temporary file there, so a missing folder, a directory in
    the way, a read-only folder or file system is said at once rather than
    after the whole computation.  Returns ``path``; a click callback as well.
    """
    if path is None:
        return None
    if os.path.isdir(path):
        raise OutputError(f"cannot write {path!r}: Is a directory")
    directory = os.path.dirname(os.path.abspath(path))
    probe = os.path.join(directory, f".{os.path.basename(path)}.{os.getpid()}.probe")
    try:
        os.close(os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except OSError as error:
        raise OutputError(f"cannot write {path!r}: {error.strerror or error}") from None
    os.unlink(probe)
    return path


def output_path(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """The callback of every -o/--output and --plot option: :func:`check_output` while parsing, before any work."""
    return check_output(value, plot=param.name == "plot")

output_options = apply_options([
    click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True,
                 help="Output format: a table for people, or json, csv, markdown."),
    click.option("--json", "as_json", is_flag=True, help="Same as --format json."),
    click.option("-o", "--output", default=None, metavar="FILE", callback=output_path,
                 help="Write the output to FILE (atomically) instead of stdout."),
    click.option("--unit", type=click.Choice(UNITS), default="bits", show_default=True,
                 help="Unit of the per-token figures (code sizes are always counted in bits)."),
    click.option("-q", "--quiet", is_flag=True, help="No progress bar, and no notes under the tables."),
])


def tokenizer_spec(tokens: str, encoding: str, errors: str, lower: bool, ngram: int, regex: str | None) -> TokenizerSpec:
    if regex is not None:
        if tokens not in ("bytes", "regex"):
            raise click.UsageError(f"--regex defines the tokens; it cannot be combined with --tokens {tokens}")
        tokens = "regex"
    elif tokens == "regex":
        raise click.UsageError("--tokens regex needs --regex PATTERN")
    with usage_errors():
        return TokenizerSpec(kind=tokens, encoding=encoding, errors=errors, lower=lower, ngram=ngram, regex=regex)


def unseen_policy(unseen: str, alpha: float, escape_probability: float | None) -> UnseenPolicy:
    with usage_errors():
        return UnseenPolicy(unseen, alpha, escape_probability)


def coder_names_specs(names: str, block: int = 1, max_length: int | None = None):
    """The coder specs of --coder/--block/--max-length (a name klcode does not know is a usage error)."""
    with usage_errors():
        return parse_coders(names, block, max_length)


def coder_specs(names: str, block: int, max_length: int | None):
    """The coder specs of --coder/--block/--max-length; none when only the default Huffman is asked for."""
    specs = coder_names_specs(names, block, max_length)
    return () if [s.label for s in specs] == ["huffman"] else specs


@contextlib.contextmanager
def usage_errors() -> Iterator[None]:
    """The library's refusal of an option's value (an unknown encoding, a bad regex, ...) as a usage error: exit 2."""
    try:
        yield
    except KlcodeError as error:
        raise click.UsageError(str(error)) from None


# ------------------------------------------------------------- output, progress
def table_text(document: Document, quiet: bool, width: int | None) -> str:
    from rich.console import Console

    buffer = io.StringIO()
    console = Console(file=buffer, width=width or natural_width(document), highlight=False, color_system=None,
                      soft_wrap=False)
    print_document(console, document, quiet)
    return buffer.getvalue()


def print_document(console, document: Document, quiet: bool) -> None:
    for renderable in rich_renderables(document):
        if quiet and renderable.__class__.__name__ == "Text" and str(renderable).startswith("  "):
            continue
        console.print(renderable, soft_wrap=renderable.__class__.__name__ == "Text")  # tables fit the width


def emit(document: Document, fmt: str, as_json: bool, output: str | None, quiet: bool) -> None:
    fmt = "json" if as_json else fmt
    if fmt == "table" and output is None:
        from rich.console import Console

        console = Console(width=None if sys.stdout.isatty() else natural_width(document), highlight=False)
        print_document(console, document, quiet)
        return
    text = {
        "json": render_json,
        "csv": render_csv,
        "markdown": render_markdown,
        "table": lambda d: table_text(d, quiet, None),
    }[fmt](document)
    if output is None:
        click.echo(text, nl=False)
    else:
        write_atomically(output, lambda out: out.write(text.encode("utf-8")))


def input_bytes(paths: Sequence[str]) -> int | None:
    """Total size of the files under ``paths`` (None when unknown: stdin, compressed files)."""
    total = 0
    for source in expand_sources(paths):
        if source.path == "-" or source.path.endswith((".gz", ".bz2", ".xz")):
            return None
        with contextlib.suppress(OSError):
            total += os.path.getsize(source.path)
    return total


@contextlib.contextmanager
def progress_bar(description: str, total: Callable[[], int | None], quiet: bool,
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


def load_with_progress(paths: Sequence[str], spec: TokenizerSpec, quiet: bool, label: str | None = None):
    from ..text.inputs import load_corpus

    with progress_bar(f"reading {label or ', '.join(paths)}", lambda: input_bytes(paths), quiet) as progress:
        return load_corpus(paths, spec, progress=progress, label=label)


def load_corpora_with_progress(groups: Sequence[Sequence[str]], spec: TokenizerSpec, quiet: bool) -> list:
    """One corpus per group of paths, read under one progress bar (in bytes) for them all."""
    from ..text.inputs import load_corpus

    if len(groups) == 1:
        return [load_with_progress(groups[0], spec, quiet)]
    every_path = [path for group in groups for path in group]
    with progress_bar(f"reading {len(groups)} corpora", lambda: input_bytes(every_path), quiet) as progress:
        return [load_corpus(group, spec, progress=progress) for group in groups]


def corpus_paths(paths: Sequence[str]) -> list[list[str]]:
    """One corpus per path; a single directory stands for one corpus per file under it."""
    if len(paths) == 1 and os.path.isdir(paths[0]):
        return [[source.path] for source in expand_sources(paths)]
    return [[path] for path in paths]
