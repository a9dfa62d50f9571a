"""A whole-corpus report: entropies and measured codes per corpus, the pairwise matrix, two trees, convergence.

:func:`build_report` runs every measurement of ``klcode report`` and returns
one :class:`CorpusReport` (frozen dataclasses all the way down); rendering it
as HTML or Markdown is :mod:`klcode.render.corpus_report`'s job.  The sections:

* **corpora**: per corpus and per tokenization (bytes, chars, words): tokens,
  types, H, and the bits per token measured by actually encoding (and decoding
  back) the corpus with order-0 coders built from its own distribution:
  Huffman, block Huffman (k = 2) and ANS, each with its gap to H
  (measured − H); and with the contextual compressors zlib, bz2 and lzma on
  the token-id stream, which exploit order and have no gap to a formula.
  Byte tokens also get the compressors' bits per byte of the file itself.
* **matrix**: for one tokenization (``matrix_tokens``, chars by default) the
  pairwise JS divergence and measured Huffman excess
  (:func:`klcode.analysis.matrix.divergence_matrix`), clustered by average linkage on JS;
  beside it the compression-based relative entropy of Benedetto, Caglioti &
  Loreto ("Language trees and zipping", 2002) for every ordered pair of raw
  files, clustered the same way.  The zipping estimate can be negative (two
  near-identical texts); the tree clips it at 0 (and the report says how many
  cells were clipped).
* **convergence**: :func:`klcode.analysis.converge.converge` on one pair (por_PT vs
  por_BR when both are there, else the first two corpora): the measured
  excess of each coder closing on KL as the sample size and block size grow.
* **reproducibility**: versions, tokenizer settings, seed, compressor, a hash
  of each Huffman code table, the command line, the date.

Time on corpora/udhr (48 files, bytes, chars and words) on a 2-core machine:
about half a minute, most of it the chars matrix (2,256 encoded pairs).
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version

import numpy as np

from .. import __version__
from ..coders import HuffmanCode
from ..coders.contextual import COMPRESSOR_NAMES, compress_bytes
from ..coders.registry import CoderSpec
from ..errors import DataError
from ..text.corpus import expand_sources
from ..text.inputs import Corpus, corpus_label, load_corpus
from ..text.tokenize import TokenizerSpec, symbol_label
from .cluster import Linkage, average_linkage, symmetric_distances
from .compare import corpus_bytes, shared_distributions, zipping_piece_bytes
from .converge import Convergence, converge, default_block_sizes, log_spaced_sizes
from .file_entropy import file_entropy
from .language_families import FamilyScore, family_score
from .matrix import (
    DivergenceMatrix,
    Matrix,
    MutualPair,
    Neighbour,
    as_matrix,
    divergence_matrix,
    mutual_neighbours,
    nearest,
)
from .measure import UnseenPolicy
from .rates import RateMatrix, parse_model, rate_matrix, rate_texts
from .zipping import ZippingSizes

#: The tokenizations a report can use, in the order they are shown.
REPORT_TOKENIZATIONS: tuple[str, ...] = ("bytes", "chars", "words")
#: Contextual compressors run on each token-id stream.
STREAM_COMPRESSORS: tuple[str, ...] = ("zlib", "bz2", "lzma")
#: Block Huffman (k = 2) is measured only when types² is at most this (above it building the code takes seconds).
DEFAULT_MAX_BLOCK_SYMBOLS = 1 << 18
#: The largest sample size and the number of sample sizes of the convergence view.
CONVERGENCE_MAX_SAMPLES = 10**5
CONVERGENCE_POINTS = 6
#: The block-size view of the convergence stops at this k, or where support^k passes the next limit.
CONVERGENCE_MAX_BLOCK = 3
CONVERGENCE_BLOCK_SYMBOLS = 1 << 19
#: The pair the convergence uses when both are among the corpora (the closest pair of corpora/udhr).
PREFERRED_CONVERGENCE_PAIR = ("por_PT", "por_BR")
#: The context model of the report's KL-rate tree (klcode report --rate-model), and the held-out bytes per text.
REPORT_RATE_MODEL = "cm:memory=1"
REPORT_RATE_HELDOUT_BYTES = 1000
#: Share of each text whose first bytes train the models (the budget is the smallest such prefix).
REPORT_RATE_TRAIN_FRACTION = 0.8
#: Packages whose versions the reproducibility block lists.
VERSION_PACKAGES: tuple[str, ...] = ("numpy", "dahuffman", "bitarray", "constriction", "zstandard",
                                     "matplotlib", "click", "rich")
#: Hex digits kept of a code table's SHA-256.
HASH_HEX_DIGITS = 16

Progress = Callable[[str, int, int], None]


# ------------------------------------------------------------------ records
@dataclass(frozen=True)
class CoderFigure:
    """One coder on one corpus: measured bits per token and, for order-0 coders, the gap measured − H.

    ``bits_per_token`` is None when the coder was not run; ``note`` says why.
    """

    coder: str
    order0: bool
    bits_per_token: float | None
    gap_bits_per_token: float | None
    note: str = ""


@dataclass(frozen=True)
class CorpusRow:
    """One corpus under one tokenization: counts, H, and every coder's measured bits per token."""

    corpus: str
    tokenization: str
    tokenizer: str
    input_bytes: int
    tokens: int
    types: int
    entropy_bits_per_token: float
    coders: tuple[CoderFigure, ...]
    #: zlib/bz2/lzma bits per byte of the file itself (byte tokens only; else empty).
    file_compressed_bits_per_byte: tuple[tuple[str, float], ...]
    #: First hex digits of the SHA-256 of the Huffman code table (see :func:`code_table_sha256`).
    huffman_table_sha256: str
    roundtrip: str

    def coder(self, name: str) -> CoderFigure | None:
        """The figure of coder ``name`` (e.g. ``"huffman[block=2]"``), or None."""
        return next((figure for figure in self.coders if figure.coder == name), None)


@dataclass(frozen=True)
class MatrixSection:
    """The pairwise view: JS and measured excess (order-0), zipping (contextual), a tree from each.

    ``zipping_bits_per_byte[i][j]`` codes the last piece of text i after all of
    text j, against after the rest of text i (row = the text coded, column =
    the model, as in the divergence matrix); it is
    ``zipping_relative_entropy(raw_j, raw_i)``.  The zipping tree clusters
    (max(z, 0) + max(z, 0)ᵀ)/2: negative estimates are clipped at 0.
    """

    tokenization: str
    divergence: DivergenceMatrix
    js_tree: Linkage
    js_mutual_neighbours: tuple[MutualPair, ...]
    compressor: str
    zipping_piece_bytes: tuple[int, ...]
    zipping_bits_per_byte: Matrix | None
    zipping_negative_cells: int
    zipping_nearest: tuple[Neighbour, ...]
    zipping_tree: Linkage | None
    zipping_mutual_neighbours: tuple[MutualPair, ...]
    zipping_note: str = ""
    #: KL rates by a context model (:func:`klcode.analysis.rates.rate_matrix`, batched) and the tree from them
    rates: RateMatrix | None = None
    rates_tree: Linkage | None = None
    rates_mutual_neighbours: tuple[MutualPair, ...] = ()
    rates_note: str = ""
    #: per method (JS, zipping, KL rate): how many texts have their nearest neighbour in their own language family
    family_scores: tuple[FamilyScore, ...] = ()

    @property
    def labels(self) -> tuple[str, ...]:
        return self.divergence.labels


@dataclass(frozen=True)
class ConvergenceSection:
    """The convergence experiment on one pair: p = ``p_corpus``, q = ``q_corpus``, both counted with ``tokenization``."""

    p_corpus: str
    q_corpus: str
    tokenization: str
    convergence: Convergence


@dataclass(frozen=True)
class CodeTableHash:
    """The hash of the Huffman code table of one corpus under one tokenization."""

    corpus: str
    tokenization: str
    huffman_table_sha256: str


@dataclass(frozen=True)
class Reproducibility:
    """What it takes to run the report again and get the same numbers."""

    klcode_version: str
    python_version: str
    platform: str
    package_versions: tuple[tuple[str, str], ...]
    tokenizers: tuple[TokenizerSpec, ...]
    seed: int
    compressor: str
    piece_bytes: int
    max_block_symbols: int
    unseen_policy: str
    code_tables: tuple[CodeTableHash, ...]
    command_line: str
    created_utc: str
    step_seconds: tuple[tuple[str, float], ...]


@dataclass(frozen=True)
class CorpusReport:
    """Everything ``klcode report`` shows (see the module docstring); render with :mod:`klcode.render.corpus_report`."""

    paths: tuple[str, ...]
    corpora: tuple[str, ...]
    tokenizations: tuple[str, ...]
    rows: tuple[CorpusRow, ...]
    matrix: MatrixSection | None
    convergence: ConvergenceSection | None
    reproducibility: Reproducibility
    notes: tuple[str, ...]
    wall_seconds: float

    def rows_for(self, tokenization: str) -> tuple[CorpusRow, ...]:
        """The rows of one tokenization, in corpus order."""
        return tuple(row for row in self.rows if row.tokenization == tokenization)


# ------------------------------------------------------------------ helpers
def code_table_sha256(corpus: Corpus, digits: int = HASH_HEX_DIGITS) -> str:
    """SHA-256 (first ``digits`` hex digits) of the corpus's Huffman code table: JSON of [[symbol label, length], ...].

    The code is :meth:`HuffmanCode.from_distribution` of the corpus counts
    (canonical, ties by id), symbols in sorted order; the JSON is compact
    UTF-8 (``separators=(",", ":")``, ``ensure_ascii=False``).

    >>> from klcode.text.counts import Counts
    >>> counts = Counts.from_mapping(TokenizerSpec("chars"), {"a": 2, "b": 1, "c": 1})
    >>> code_table_sha256(Corpus("abc", counts, None)) == hashlib.sha256(b'[["a",1],["b",2],["c",2]]').hexdigest()[:16]
    True
    """
    counts = corpus.counts
    lengths = HuffmanCode.from_distribution(counts.distribution()).lengths_bits[: counts.types]
    table = [[symbol_label(symbol), int(length)] for symbol, length in zip(counts.symbols, lengths)]
    text = json.dumps(table, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:digits]


def package_versions(names: Sequence[str] = VERSION_PACKAGES) -> tuple[tuple[str, str], ...]:
    """(name, version) of each package, "not installed" when it is missing.

    >>> dict(package_versions(["surely-not-a-package-name"]))
    {'surely-not-a-package-name': 'not installed'}
    """
    out = []
    for name in names:
        try:
            out.append((name, version(name)))
        except PackageNotFoundError:
            out.append((name, "not installed"))
    return tuple(out)


def mutual_nearest_pairs(distances: np.ndarray, labels: Sequence[str]) -> tuple[MutualPair, ...]:
    """Pairs (a, b) that are each other's nearest neighbour in a symmetric distance matrix, closest first.

    >>> d = np.array([[0, 1, 4, 5], [1, 0, 3, 6], [4, 3, 0, 2], [5, 6, 2, 0.]])
    >>> [(m.a, m.b, m.distance) for m in mutual_nearest_pairs(d, "wxyz")]
    [('w', 'x', 1.0), ('y', 'z', 2.0)]
    """
    return mutual_neighbours(nearest(distances, tuple(labels)))


def _corpus_groups(paths: Sequence[str]) -> list[list[str]]:
    """One corpus per path; a single directory stands for one corpus per file under it."""
    if len(paths) == 1 and os.path.isdir(paths[0]):
        return [[source.path] for source in expand_sources(paths)]
    return [[path] for path in paths]


class _Steps:
    """Progress calls and the wall time of each step."""

    def __init__(self, progress: Progress | None) -> None:
        self.progress = progress
        self.seconds: dict[str, float] = {}
        self._current: str | None = None
        self._started = 0.0

    def start(self, description: str, total: int) -> None:
        self._finish()
        self._current, self._started = description, time.perf_counter()
        self.tick(0, total)

    def tick(self, done: int, total: int) -> None:
        if self.progress is not None and self._current is not None:
            self.progress(self._current, done, total)

    def _finish(self) -> None:
        if self._current is not None:
            self.seconds[self._current] = time.perf_counter() - self._started
            self._current = None

    def done(self) -> tuple[tuple[str, float], ...]:
        self._finish()
        return tuple(self.seconds.items())


def _validated_tokenizations(tokenizations: Sequence[str], name: str) -> tuple[str, ...]:
    if isinstance(tokenizations, str):
        tokenizations = [tokenizations]
    kinds = tuple(dict.fromkeys(tokenizations))
    if not kinds:
        raise DataError(f"{name} needs at least one of {', '.join(REPORT_TOKENIZATIONS)} (got none)")
    for kind in kinds:
        if kind not in REPORT_TOKENIZATIONS:
            raise DataError(f"unknown tokenization {kind!r} in {name} (choose from {', '.join(REPORT_TOKENIZATIONS)})")
    return kinds


# ------------------------------------------------------------------ the sections
def _corpus_row(corpus: Corpus, kind: str, max_block_symbols: int) -> CorpusRow:
    types = corpus.counts.types
    block_allowed = types**2 <= max_block_symbols
    specs = [CoderSpec("huffman", block=2)] if block_allowed else []
    specs += [CoderSpec("ans")]
    specs += [CoderSpec(name) for name in STREAM_COMPRESSORS]
    result = file_entropy(corpus, compressors=kind == "bytes", coders=specs)
    h = result.entropy_bits_per_token
    measured = result.coder_bits_per_token

    def order0(name: str, bits: float | None, note: str = "") -> CoderFigure:
        return CoderFigure(name, True, bits, None if bits is None else bits - h, note)

    block_note = "" if block_allowed else (
        f"not measured: {types:,} types give {types**2:,} block symbols, over the report's limit of "
        f"{max_block_symbols:,}")
    figures = [
        order0("huffman", result.huffman_bits_per_token),
        order0("huffman[block=2]", measured.get("huffman[block=2]"), block_note),
        order0("ans", measured.get("ans")),
        *(CoderFigure(name, False, measured[name], None) for name in STREAM_COMPRESSORS),
    ]
    compressed = tuple((result.compressed_bits_per_byte or {}).items())
    return CorpusRow(
        corpus=corpus.label, tokenization=kind, tokenizer=result.tokenizer, input_bytes=result.input_bytes,
        tokens=result.tokens, types=result.types, entropy_bits_per_token=h, coders=tuple(figures),
        file_compressed_bits_per_byte=compressed, huffman_table_sha256=code_table_sha256(corpus),
        roundtrip=result.roundtrip,
    )


def _zipping_matrix(raws: Sequence[bytes], compressor: str, piece_bytes: int,
                    tick: Callable[[int], None]) -> tuple[np.ndarray, tuple[int, ...]]:
    """z[i, j] = zipping_relative_entropy(raw_j, raw_i, piece) with |Z(·)| of each whole text computed once.

    The piece of text i is its last min(piece_bytes, |raw_i| // 10) bytes (at least 1), as ``compare`` takes it.
    """
    n = len(raws)
    pieces = tuple(zipping_piece_bytes(raw, piece_bytes) for raw in raws)
    whole = [len(compress_bytes(compressor, raw)) for raw in raws]  # |Z(A)|, and |Z(B'+b)| = |Z(B)|
    rest = [len(compress_bytes(compressor, raw[:-k])) for raw, k in zip(raws, pieces)]  # |Z(B')|
    z = np.zeros((n, n))
    for i in range(n):
        piece = raws[i][-pieces[i]:]
        for j in range(n):
            if i != j:
                sizes = ZippingSizes(compressed_a_bytes=whole[j],
                                     compressed_a_piece_bytes=len(compress_bytes(compressor, raws[j] + piece)),
                                     compressed_reference_bytes=rest[i], compressed_reference_piece_bytes=whole[i])
                z[i, j] = sizes.relative_entropy_bits_per_byte(pieces[i])
        tick(i + 1)
    return z, pieces


def _rates_fields(raws: Sequence[bytes], labels: Sequence[str], rate_model: str | None, steps: _Steps,
                  js_nearest: Sequence[Neighbour], zipping_nearest: Sequence[Neighbour]) -> dict:
    """The KL-rate fields of the matrix section (empty with no ``rate_model``) and the language-family scores."""
    fields: dict = {}
    scores = [family_score("order-0 JS", [(n.corpus, n.nearest) for n in js_nearest]),
              family_score("zipping", [(n.corpus, n.nearest) for n in zipping_nearest])]
    if rate_model:
        spec = parse_model(rate_model)
        n = len(raws)
        steps.start(f"KL rates ({spec.describe()})", n * n)
        done = [0]

        def tick(k: int) -> None:
            done[0] += k
            steps.tick(done[0], n * n)

        texts = rate_texts(raws, labels, "bytes", model_kind=spec.kind)
        rates = rate_matrix(spec, texts, train_fraction=REPORT_RATE_TRAIN_FRACTION,
                            heldout_tokens=REPORT_RATE_HELDOUT_BYTES, batched=True, progress=tick)
        distances = symmetric_distances(np.maximum(np.array(rates.kl_rate_bits_per_token), 0.0))
        fields = {"rates": rates, "rates_tree": average_linkage(distances, labels),
                  "rates_mutual_neighbours": mutual_nearest_pairs(distances, labels)}
        scores.append(family_score("KL rate", [(nb.corpus, nb.nearest) for nb in rates.nearest_by_kl_rate]))
    fields["family_scores"] = tuple(score for score in scores if score is not None)
    return fields


def _matrix_section(corpora: Sequence[Corpus], kind: str, compressor: str, piece_bytes: int,
                    steps: _Steps, rate_model: str | None = None) -> MatrixSection:
    n = len(corpora)
    labels = tuple(c.label for c in corpora)
    pairs = n * (n - 1)
    steps.start(f"coding pairs ({kind} tokens)", pairs)
    done = [0]

    def pair_done(k: int) -> None:
        done[0] += k
        if done[0] % (n - 1) == 0:  # one call per row of the matrix
            steps.tick(done[0], pairs)

    divergence = divergence_matrix(corpora, policy=UnseenPolicy(), progress=pair_done)
    js = np.array(divergence.js_bits_per_token)
    js_distances = symmetric_distances(js)
    js_tree = average_linkage(js_distances, labels)
    js_mutual = mutual_nearest_pairs(js_distances, labels)
    if not all(c.rereadable for c in corpora):
        return MatrixSection(kind, divergence, js_tree, js_mutual, compressor,
                             (), None, 0, (), None, (),
                             "zipping needs the texts themselves; some corpora are counts files")
    steps.start(f"zipping pairs ({compressor})", pairs)
    raws = [corpus_bytes(c) for c in corpora]
    z, pieces = _zipping_matrix(raws, compressor, piece_bytes, lambda rows: steps.tick(rows * (n - 1), pairs))
    negative = int((z < 0).sum())
    zip_distances = symmetric_distances(np.maximum(z, 0.0))
    return MatrixSection(
        tokenization=kind, divergence=divergence, js_tree=js_tree,
        js_mutual_neighbours=js_mutual, compressor=compressor,
        zipping_piece_bytes=pieces, zipping_bits_per_byte=as_matrix(z),
        zipping_negative_cells=negative, zipping_nearest=nearest(z, labels),
        zipping_tree=average_linkage(zip_distances, labels),
        zipping_mutual_neighbours=mutual_nearest_pairs(zip_distances, labels),
        **_rates_fields(raws, labels, rate_model, steps, divergence.nearest_by_js, nearest(z, labels)),
    )


def _convergence_pair(labels: Sequence[str], pair: tuple[str, str] | None) -> tuple[int, int]:
    if pair is not None:
        missing = [label for label in pair if label not in labels]
        if missing:
            raise DataError(f"convergence corpus {missing[0]!r} is not among the corpora ({', '.join(labels)})")
        return labels.index(pair[0]), labels.index(pair[1])
    if all(label in labels for label in PREFERRED_CONVERGENCE_PAIR):
        return labels.index(PREFERRED_CONVERGENCE_PAIR[0]), labels.index(PREFERRED_CONVERGENCE_PAIR[1])
    return 0, 1


def _convergence_section(a: Corpus, b: Corpus, kind: str, seed: int) -> ConvergenceSection:
    p, q, _ = shared_distributions(a, b)
    support = int(np.count_nonzero((p.probabilities > 0) | (q.probabilities > 0)))
    blocks = default_block_sizes(support, limit=CONVERGENCE_BLOCK_SYMBOLS)[:CONVERGENCE_MAX_BLOCK]
    coders = (CoderSpec("huffman"), CoderSpec("shannon"), CoderSpec("ans"))
    result = converge(p, q, coders=coders, sample_sizes=log_spaced_sizes(CONVERGENCE_MAX_SAMPLES, CONVERGENCE_POINTS),
                      block_sizes=blocks, seed=seed)
    return ConvergenceSection(a.label, b.label, kind, result)


# ------------------------------------------------------------------ the report
def build_report(
    paths: Sequence[str],
    *,
    tokenizations: Sequence[str] = REPORT_TOKENIZATIONS,
    encoding: str = "utf-8",
    errors: str = "strict",
    seed: int = 0,
    compressor: str = "zlib",
    piece_bytes: int = 1000,
    matrix_tokens: str = "chars",
    rate_model: str | None = REPORT_RATE_MODEL,
    convergence_pair: tuple[str, str] | None = None,
    max_block_symbols: int = DEFAULT_MAX_BLOCK_SYMBOLS,
    command_line: str = "",
    progress: Progress | None = None,
) -> CorpusReport:
    """Measure everything ``klcode report`` shows for the corpora at ``paths`` (see the module docstring).

    One corpus per path; a single directory stands for one corpus per file
    under it.  ``progress(step, done, total)`` is called when a step starts
    (``done`` = 0) and as it advances: once per corpus read and coded, once
    per row of each pairwise matrix, once around the convergence; ``step``
    names the step and changes when the next one starts.  The matrix, the
    trees and the convergence need at least two corpora (with one they are
    None, and a note says so).

    >>> build_report(["corpora/udhr/dan.txt"], tokenizations=["bytes", "bits"])
    Traceback (most recent call last):
    ...
    klcode.errors.DataError: unknown tokenization 'bits' in tokenizations (choose from bytes, chars, words)
    """
    started = time.perf_counter()
    created = datetime.now(UTC).replace(microsecond=0).isoformat()
    if isinstance(paths, str):
        paths = [paths]
    kinds = _validated_tokenizations(tokenizations, "tokenizations")
    (matrix_kind,) = _validated_tokenizations([matrix_tokens], "matrix_tokens")
    if compressor not in COMPRESSOR_NAMES:
        raise DataError(f"unknown compressor {compressor!r} (choose from {', '.join(COMPRESSOR_NAMES)})")
    if isinstance(piece_bytes, bool) or not isinstance(piece_bytes, int) or piece_bytes < 1:
        raise DataError(f"piece_bytes must be a positive integer (got {piece_bytes!r})")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise DataError(f"seed must be an integer (got {seed!r})")
    if isinstance(max_block_symbols, bool) or not isinstance(max_block_symbols, int) or max_block_symbols < 1:
        raise DataError(f"max_block_symbols must be a positive integer (got {max_block_symbols!r})")
    groups = _corpus_groups(list(paths))
    labels = tuple(corpus_label(group) for group in groups)
    duplicate = next((label for label in labels if labels.count(label) > 1), None)
    if duplicate is not None:
        raise DataError(f"corpus labels must be distinct (got {duplicate!r} twice); rename a file")
    specs = {kind: TokenizerSpec(kind, encoding=encoding, errors=errors) for kind in (*kinds, matrix_kind)}
    steps = _Steps(progress)
    notes: list[str] = []

    rows: list[CorpusRow] = []
    corpora_by_kind: dict[str, list[Corpus]] = {}
    for kind, spec in specs.items():
        measured = kind in kinds
        steps.start(f"{'reading and coding' if measured else 'reading'} {kind} tokens", len(groups))
        loaded = []
        for k, group in enumerate(groups):
            corpus = load_corpus(group, spec).require_tokens()
            loaded.append(corpus)
            if measured:
                rows.append(_corpus_row(corpus, kind, max_block_symbols))
            steps.tick(k + 1, len(groups))
        corpora_by_kind[kind] = loaded

    matrix = convergence = None
    if len(groups) < 2:
        notes.append(f"one corpus only ({labels[0]}): no matrix, trees or convergence (they need two or more)")
    else:
        matrix = _matrix_section(corpora_by_kind[matrix_kind], matrix_kind, compressor, piece_bytes, steps, rate_model)
        i, j = _convergence_pair(labels, convergence_pair)
        steps.start(f"convergence ({labels[i]} vs {labels[j]})", 1)
        convergence = _convergence_section(corpora_by_kind[matrix_kind][i], corpora_by_kind[matrix_kind][j],
                                           matrix_kind, seed)
        steps.tick(1, 1)
    reproducibility = Reproducibility(
        klcode_version=__version__,
        python_version=sys.version.split()[0],
        platform=platform.platform(),
        package_versions=package_versions(),
        tokenizers=tuple(specs.values()),
        seed=seed,
        compressor=compressor,
        piece_bytes=piece_bytes,
        max_block_symbols=max_block_symbols,
        unseen_policy=UnseenPolicy().name,
        code_tables=tuple(CodeTableHash(row.corpus, row.tokenization, row.huffman_table_sha256) for row in rows),
        command_line=command_line,
        created_utc=created,
        step_seconds=steps.done(),
    )
    return CorpusReport(
        paths=tuple(paths), corpora=labels, tokenizations=kinds, rows=tuple(rows), matrix=matrix,
        convergence=convergence, reproducibility=reproducibility, notes=tuple(notes),
        wall_seconds=time.perf_counter() - started,
    )

