"""The klcode command line: parse, call the library, render, map errors to exit codes.

Exit codes: 0 ok, 1 data error (bad file, bad distribution, ...), 2 usage error.
Every error is one line on stderr: ``klcode: error: <what was wrong (what was given)>``.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from typing import Any

import click

from . import __version__
from .distribution import load_distribution
from .errors import KlcodeError
from .measure import POLICY_NAMES, Measurement, UnseenPolicy, measure, measure_samples, measure_texts
from .report import UNITS, code_table, measurement_dict, measurement_notes, measurement_rows, rich_table
from .tokenize import TOKEN_KINDS, read_tokens

EXIT_DATA_ERROR = 1
EXIT_USAGE_ERROR = 2


def _measurement_options(command: Callable) -> Callable:
    """Options shared by every command that measures."""
    options = [
        click.option("--unseen", type=click.Choice(POLICY_NAMES), default="escape", show_default=True,
                     help="What to do with symbols of p that q never gives: an escape codeword (finite bits), "
                          "add-k smoothing of q's counts, or stop with an error."),
        click.option("--alpha", type=float, default=1.0, show_default=True, help="k of add-k smoothing (with --unseen add-k)."),
        click.option("--escape-probability", type=float, default=None,
                     help="Probability of the escape codeword (with --unseen escape); default 1/(n_q + 1) when q is counts."),
        click.option("--unit", type=click.Choice(UNITS), default="bits", show_default=True,
                     help="Unit of the per-token figures (code lengths are always counted in bits)."),
        click.option("--codes", is_flag=True, help="Also show the code tables (codeword of every symbol under both codes)."),
        click.option("--no-verify", is_flag=True, help="Skip decoding the bitstreams back (faster; the output says so)."),
        click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts instead of the table."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _policy(unseen: str, alpha: float, escape_probability: float | None) -> UnseenPolicy:
    return UnseenPolicy(unseen, alpha, escape_probability)


def _render(m: Measurement, title: str, names: tuple[str, str], extra: dict[str, Any], unit: str, codes: bool, as_json: bool) -> None:
    if as_json:
        document = {**extra, **measurement_dict(m, unit, codes)}
        click.echo(json.dumps(document, indent=2, ensure_ascii=False))
        return
    from rich.console import Console

    console = Console(width=None if sys.stdout.isatty() else 130, highlight=False)
    header, rows = measurement_rows(m, unit)
    console.print(rich_table(f"{title}   [{unit} per token]", header, rows))
    for line in measurement_notes(m, names):
        console.print(f"  {line}", soft_wrap=True)
    if codes:
        header, rows = code_table(m)
        console.print(rich_table("code tables (canonical codewords)", header, rows))


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="klcode")
def cli() -> None:
    """Measure Kullback–Leibler divergence by compression.

    klcode builds real Huffman codes from a true distribution p and from a
    model q, encodes real token streams with them, counts the bits, and sets
    the measured average code lengths beside the formulas for entropy H(p),
    cross-entropy H(p,q) and KL(p‖q) = H(p,q) − H(p).
    """


@cli.command()
@click.option("--p", "p_path", required=True, metavar="P.json",
              help="The true distribution: JSON mapping symbol → probability (or integer count).")
@click.option("--q", "q_path", required=True, metavar="Q.json",
              help="The model: JSON mapping symbol → probability (or integer count).")
@click.option("--samples", type=click.IntRange(min=1), default=None, metavar="N",
              help="Also encode N samples drawn from p and report the bits actually measured.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the random generator for --samples.")
@_measurement_options
def measure_cmd(p_path: str, q_path: str, samples: int | None, seed: int, unseen: str, alpha: float,
                escape_probability: float | None, unit: str, codes: bool, no_verify: bool, as_json: bool) -> None:
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
    p, q = load_distribution(p_path), load_distribution(q_path)
    if samples is None:
        m = measure(p, q, policy=policy, verify=not no_verify)
    else:
        m = measure_samples(p, q, samples, seed, policy=policy, verify=not no_verify)
    extra = {"command": "measure", "p": p_path, "q": q_path}
    title = f"klcode measure  p = {p_path}, q = {q_path}  ({m.alphabet_size} symbols)"
    _render(m, title, ("p", "q"), extra, unit, codes, as_json)


measure_cmd.name = "measure"


@cli.command()
@click.argument("text_a", metavar="A")
@click.argument("text_b", metavar="B")
@click.option("--tokens", type=click.Choice(TOKEN_KINDS), default="bytes", show_default=True,
              help="What a token is: a byte, or a Unicode character (decoded with --encoding).")
@click.option("--encoding", default="utf-8", show_default=True, help="Encoding of both texts for --tokens chars.")
@_measurement_options
def compare(text_a: str, text_b: str, tokens: str, encoding: str, unseen: str, alpha: float,
            escape_probability: float | None, unit: str, codes: bool, no_verify: bool, as_json: bool) -> None:
    """Code text A with a code built on A (p) and with one built on text B (q).

    p is the token distribution of A, q that of B, and the stream encoded is A
    itself: the measured L_q − L_p is what a code tuned on B wastes on A, per
    token.  Tokens of A that B never has are reported with their share of A and
    coded by the --unseen policy, so the bits stay finite.

    \b
    Example:
      klcode compare corpora/genesis/english-kjv.txt corpora/genesis/german.txt
    """
    policy = _policy(unseen, alpha, escape_probability)
    raw_a = read_tokens(text_a, tokens, encoding)
    raw_b = read_tokens(text_b, tokens, encoding)
    m = measure_texts(raw_a, raw_b, policy=policy, verify=not no_verify)
    extra = {"command": "compare", "a": text_a, "b": text_b, "tokens": tokens,
             "encoding": encoding if tokens == "chars" else None}
    title = (f"klcode compare  A = {os.path.basename(text_a)}, B = {os.path.basename(text_b)}  "
             f"({tokens}; p = A, q = B, stream = A)")
    _render(m, title, ("A", "B"), extra, unit, codes, as_json)


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
        return error.exit_code
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
