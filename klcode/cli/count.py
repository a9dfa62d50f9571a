"""klcode count: token counts of a corpus, saved as a counts file every command accepts."""

from __future__ import annotations

import click

from ..render.documents import FORMATS, counts_document
from .common import (
    emit,
    load_with_progress,
    output_path,
    tokenizer_options,
    tokenizer_spec,
)


@click.command("count")
@click.argument("corpus", nargs=-1, required=True)
@tokenizer_options
@click.option("-o", "--output", default=None, metavar="COUNTS.json", callback=output_path,
              help="Save the counts to this file (atomically); any command accepts it where it accepts a corpus.")
@click.option("--top", type=click.IntRange(min=0), default=20, show_default=True, help="Show the N most frequent tokens.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True, help="Output format of the summary.")
@click.option("--json", "as_json", is_flag=True, help="Same as --format json.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar, and no notes under the table.")
@click.option("--dask", "dask_address", default=None, metavar="ADDRESS|local[:N]",
              help="Count on a Dask cluster: a scheduler address, or local:N to start N local worker processes "
                   "(needs pip install 'klcode[dask]'). The counts equal the serial ones.")
def count(corpus: tuple[str, ...], tokens: str, encoding: str, errors: str, lower: bool, ngram: int,
          regex: str | None, output: str | None, top: int, fmt: str, as_json: bool, quiet: bool,
          dask_address: str | None) -> None:
    """Count the tokens of a corpus (all paths together), and save the counts with -o.

    Reading is streamed: memory does not grow with the corpus. A saved counts
    file lets every other command skip reading a big corpus again.

    \b
    Example:
      klcode count corpora/udhr --tokens words --lower -o udhr-words.json
      klcode entropy udhr-words.json --tokens words --lower
    """
    from ..text.counts import save_counts

    spec = tokenizer_spec(tokens, encoding, errors, lower, ngram, regex)
    if dask_address is None:
        counts = load_with_progress(list(corpus), spec, quiet).counts
    else:
        counts = _count_on_dask(list(corpus), spec, dask_address)
    if output is not None:
        save_counts(counts, output)
    emit(counts_document(counts, top, output), fmt, as_json, None, quiet)


def _count_on_dask(paths: list[str], spec, address: str):
    """The counts of the corpus, counted by partition on a Dask cluster (started here for local[:N], then stopped)."""
    from ..text.distributed import connect, count_corpus_distributed

    if address != "local" and not address.startswith("local:") and "://" not in address and ":" not in address:
        raise click.BadParameter(f"expected a scheduler address (tcp://HOST:PORT) or local[:N] (got {address!r})",
                                 param_hint="--dask")
    client = connect(address)
    try:
        return count_corpus_distributed(paths, spec, client)
    finally:
        cluster = client.cluster if address.startswith("local") else None
        client.close()
        if cluster is not None:
            cluster.close()
