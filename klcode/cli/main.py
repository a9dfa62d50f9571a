"""The klcode command line: parse, call the library, render, map errors to exit codes.

Exit codes: 0 ok, 1 data error (bad file, bad distribution, ...), 2 usage error.
Every error is one line on stderr: ``klcode: error: <what was wrong (what was given)>``.
One module per command (or group) beside this one; each is thin: it parses, calls the
library and renders. Nothing below :mod:`klcode.cli` prints or exits.
"""

from __future__ import annotations

import sys

import click

from .. import __version__
from ..atomic import guard_inputs
from ..errors import KlcodeError
from . import compare, converge, count, demo, entropy, matrix, measure, report
from . import pack, rate
from . import models as models_command
from .common import EXIT_DATA_ERROR, EXIT_USAGE_ERROR


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




cli.add_command(measure.measure_cmd)
cli.add_command(count.count)
cli.add_command(compare.compare)
cli.add_command(matrix.matrix)
cli.add_command(entropy.entropy)
cli.add_command(converge.converge)
cli.add_command(demo.demo)
cli.add_command(report.report)
cli.add_command(rate.rate)
cli.add_command(pack.pack)
cli.add_command(pack.unpack)
cli.add_command(models_command.models)


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the CLI, turning every expected failure into one line on stderr."""
    prog = "klcode"
    try:
        with guard_inputs():  # no output of this run may replace one of its inputs
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
    except MemoryError as error:  # the limits refuse what is known to be too big; this is the last line of defence
        click.echo(f"{prog}: error: out of memory{f' ({error})' if str(error) else ''}; try a smaller input", err=True)
        return EXIT_DATA_ERROR


def run() -> None:
    """Console-script wrapper: exit with :func:`main`'s code."""
    sys.exit(main())
