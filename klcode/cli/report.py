"""klcode report: one self-contained HTML or Markdown report of whole corpora."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Iterator

import click

from ..atomic import write_atomically
from .common import output_path


@click.command("report")
@click.argument("paths", nargs=-1, required=True, metavar="CORPUS...")
@click.option("-o", "--output", required=True, metavar="REPORT.html|REPORT.md", callback=output_path,
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

    from ..analysis.corpus_report import build_report
    from ..render.corpus_report import render_html, render_markdown

    suffix = os.path.splitext(output)[1].lower()
    if suffix not in (".html", ".htm", ".md"):
        raise click.UsageError(f"-o must end in .html or .md (got {output!r})")
    if "-" in paths:
        raise click.UsageError("report reads each corpus several times, so it cannot read stdin (-)")
    kinds = tuple(kind.strip() for kind in tokenizations.split(",") if kind.strip())
    from ..analysis.corpus_report import REPORT_TOKENIZATIONS

    unknown = [kind for kind in kinds if kind not in REPORT_TOKENIZATIONS] or ([] if kinds else [tokenizations])
    if unknown:
        raise click.BadParameter(f"unknown tokenization {unknown[0]!r} (choose from {', '.join(REPORT_TOKENIZATIONS)})",
                                 param_hint="'--tokens'")
    bench = None
    if bench_path is not None:
        from ..text.corpus import read_bytes

        try:
            bench = json.loads(read_bytes(bench_path).decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise click.ClickException(f"{bench_path!r} is not a benchmark JSON file ({error})") from None
        from ..render.corpus_report import benchmark_problem

        problem = benchmark_problem(bench)
        if problem is not None:
            raise click.ClickException(f"{bench_path!r} is not a benchmark file of python -m benchmarks: {problem}")
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
