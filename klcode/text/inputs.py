"""A corpus as the commands see it: its token counts and, when it can be read again, its sources.

Every command accepts a saved counts file (``klcode count -o``) where it
accepts a corpus.  A corpus read from text can be streamed again to encode its
real token sequence; one read from a counts file cannot, and is encoded as a
stream with the same counts (an order-0 code spends Σ c(x)·l(x) bits on any
order of the same tokens, so the bits are the same).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from .corpus import Source, expand_sources
from .counts import Counts, count_corpus, is_counts_file
from .stream import TokenStream
from .tokenize import TokenizerSpec, stream_token_ids


@dataclass(frozen=True, eq=False)
class Corpus:
    """Counts of one corpus (one or several paths), with the sources to re-read it (None for a counts file)."""

    label: str
    counts: Counts
    sources: tuple[Source, ...] | None

    @property
    def rereadable(self) -> bool:
        return self.sources is not None

    def require_tokens(self) -> Corpus:
        """This corpus, or a DataError naming it when it has no tokens to measure."""
        self.counts.distribution()  # raises "no <tokens> in '<source>': nothing to measure"
        return self


def corpus_label(paths: Sequence[str]) -> str:
    """A short label: the file or folder name without a .txt/.json suffix, '+'-joined for several paths.

    >>> corpus_label(["corpora/udhr/por_BR.txt"]), corpus_label(["a/x.txt", "-"])
    ('por_BR', 'x+stdin')
    """
    names = []
    for path in paths:
        if path == "-":
            names.append("stdin")
            continue
        name = os.path.basename(os.path.normpath(path))
        for suffix in (".gz", ".bz2", ".xz", ".txt", ".json"):
            if name.endswith(suffix) and len(name) > len(suffix):
                name = name[: -len(suffix)]
        names.append(name)
    return "+".join(names)


def load_corpus(
    paths: Sequence[str],
    spec: TokenizerSpec,
    progress: Callable[[int], None] | None = None,
    label: str | None = None,
) -> Corpus:
    """Count a corpus (text files, directories, stdin, or saved counts files) with ``spec``."""
    counts = count_corpus(paths, spec, progress=progress)
    rereadable = not any(path != "-" and is_counts_file(path) for path in paths)
    sources = expand_sources(paths) if rereadable else None
    return Corpus(label or corpus_label(paths), counts, sources)


def corpus_stream(corpus: Corpus, index: Mapping[Hashable, int], size: int) -> TokenStream:
    """The corpus's token ids in the vocabulary ``index`` (of ``size`` ids), streamed chunk by chunk."""
    counts = np.zeros(size, dtype=np.int64)
    ids = np.fromiter((index[s] for s in corpus.counts.symbols), dtype=np.int64, count=corpus.counts.types)
    counts[ids] = corpus.counts.counts
    if corpus.sources is None:
        return TokenStream.from_counts(counts)
    sources, spec = corpus.sources, corpus.counts.spec
    return TokenStream(lambda: stream_token_ids(sources, spec, index), counts, "text")
