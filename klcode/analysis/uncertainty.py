"""How sure is the number: estimates, bootstrap intervals and keyness for corpora and distributions.

The commands' main results (``compare``, ``measure``, ``entropy``, ``matrix``)
are unchanged; these functions compute, only when asked, the bias-corrected
estimates beside the plug-in values, the bootstrap intervals (over tokens, or
over the documents of a corpus that is a directory of files), and the keyness
table of two corpora.

>>> from klcode.text.counts import Counts
>>> from klcode.text.inputs import Corpus
>>> from klcode.text.tokenize import TokenizerSpec
>>> a = Corpus("a", Counts.from_mapping(TokenizerSpec("chars"), {"x": 30, "y": 10}), None)
>>> b = Corpus("b", Counts.from_mapping(TokenizerSpec("chars"), {"x": 20, "y": 20}), None)
>>> s = comparison_statistics(a, b, estimator="miller-madow")
>>> s.estimates.kl_estimator, s.alphabet_size, s.intervals
('miller-madow', 2, None)
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass

import numpy as np

from ..errors import DataError
from ..info.estimators import (
    ESTIMATOR_FORMULAS,
    Estimates,
    entropy_plugin,
    estimate_all,
    estimate_entropy,
    estimate_kl,
    kl_estimator_for,
    kl_plugin,
)
from ..info.intervals import (
    BootstrapIntervals,
    BootstrapSettings,
    FixedSide,
    Side,
    TokenSide,
    bootstrap_intervals,
    choose_side,
)
from ..info.measures import js_divergence, kl_kernel
from ..models.distribution import Distribution, align
from ..text.counts import count_tokens
from ..text.inputs import Corpus
from ..text.tokenize import TokenizerSpec, symbol_label
from .compare import shared_distributions
from .keyness import Keyness, keyness
from .measure import UnseenPolicy, effective_model


@dataclass(frozen=True)
class ComparisonStatistics:
    """Estimates (beside the plug-in), intervals and keyness of p = A against q = B; None where not asked."""

    estimates: Estimates
    intervals: BootstrapIntervals | None
    keyness: Keyness | None
    alphabet_size: int
    alphabet_note: str
    #: KL(A‖B') and KL(B‖A') to the models of the codes (the unseen policy applied), by the KL estimator with
    #: B' (A') taken as a fixed model; None when the direction has no unseen types (then B' = B).
    effective_kl_bits_per_token: float | None = None
    effective_kl_reverse_bits_per_token: float | None = None


def nsb_alphabet_size(spec: TokenizerSpec | None, observed: int) -> tuple[int, str]:
    """K for NSB: every possible byte K-gram for byte tokens, else the types observed (stated in the output).

    >>> nsb_alphabet_size(TokenizerSpec("bytes"), 70), nsb_alphabet_size(TokenizerSpec("words"), 900)[0]
    ((256, 'K = 256 possible byte values'), 900)
    """
    if spec is not None and spec.kind == "bytes":
        k = 256 ** spec.ngram
        return max(k, observed), f"K = {k:,} possible byte {'values' if spec.ngram == 1 else f'{spec.ngram}-grams'}"
    return observed, f"K = {observed:,} types observed (types never seen are not in the prior)"


def corpus_documents(corpus: Corpus, index: Mapping[Hashable, int], size: int) -> np.ndarray | None:
    """One row of counts per document (source file) of a corpus, on the ids of ``index``; None for one document.

    A corpus read from a counts file has no documents (None).  The files are
    read again, one by one, only when a bootstrap over documents is asked for.
    """
    if corpus.sources is None or len(corpus.sources) < 2:
        return None
    rows = np.zeros((len(corpus.sources), size), dtype=np.int64)
    for row, source in enumerate(corpus.sources):
        counts = count_tokens([source], corpus.counts.spec)
        if counts.types:
            ids = np.fromiter((index[s] for s in counts.symbols), dtype=np.int64, count=counts.types)
            rows[row, ids] = counts.counts
    return rows


def _side(counts: np.ndarray, corpus: Corpus | None, index, size: int, resample: str) -> Side:
    documents = None
    if corpus is not None and resample != "tokens":
        documents = corpus_documents(corpus, index, size)
        if documents is None and resample == "documents":
            what = "a counts file" if corpus.sources is None else "a single file"
            raise DataError(f"resampling documents needs a corpus of several files; {corpus.label!r} is {what}")
    return choose_side(counts, documents, resample)


def comparison_statistics(a: Corpus, b: Corpus, *, estimator: str = "plugin", bootstrap: BootstrapSettings | None = None,
                          keyness_sort: str | None = None, min_count: int = 1,
                          policy: UnseenPolicy = UnseenPolicy()) -> ComparisonStatistics:
    """Estimates of A against B, intervals when ``bootstrap`` is given, keyness when ``keyness_sort`` is given."""
    p_a, p_b, index = shared_distributions(a, b)
    size = len(index)
    k, note = nsb_alphabet_size(a.counts.spec, size)
    estimates = estimate_all(p_a.counts, p_b.counts, estimator, alphabet_size=k)
    kl_name = kl_estimator_for(estimator)
    custom = {}
    effective = [None, None]
    for slot, (name, label, forward) in enumerate((("kl_effective", "KL(p‖q')", True),
                                                   ("kl_reverse_effective", "KL(q‖p')", False))):
        x, y = (p_a.counts, p_b.counts) if forward else (p_b.counts, p_a.counts)
        if ((x > 0) & (y == 0)).any():
            statistic = _effective_kl(p_a.symbols, policy, kl_name, forward)
            effective[slot] = statistic(p_a.counts, p_b.counts)
            custom[name] = (label, statistic)
    intervals = None
    if bootstrap is not None:
        # the measured codes: q's code (its Huffman code, with the unseen policy) on p's tokens, and its excess
        for forward, suffix, names in ((True, "", ("q", "p")), (False, "_reverse", ("p", "q"))):
            cross = _cross_code_bits(p_a.symbols, policy, forward)
            custom[f"code_cross{suffix}"] = (f"L_{names[0]} on {names[1]}: {names[0]}'s code on {names[1]}'s tokens",
                                             cross)
            custom[f"code_excess{suffix}"] = (f"L_{names[0]} − L_{names[1]} measured on {names[1]}",
                                              _excess(cross, forward))
        side_a = _side(p_a.counts, a, index, size, bootstrap.resample)
        side_b = _side(p_b.counts, b, index, size, bootstrap.resample)
        intervals = bootstrap_intervals(side_a, side_b, estimator=estimator, level=bootstrap.level,
                                        replicates=bootstrap.replicates, seed=bootstrap.seed, method=bootstrap.method,
                                        alphabet_size=k, custom=custom)
    table = None
    if keyness_sort is not None:
        model = effective_model(p_a, p_b, policy, p_a.counts)
        labels = [symbol_label(s) for s in p_a.symbols]
        table = keyness(p_a.counts, p_b.counts, labels, model_b=model.probabilities, sort=keyness_sort,
                        min_count=min_count)
    return ComparisonStatistics(estimates, intervals, table, k, note, *effective)


def _cross_code_bits(symbols: tuple, policy: UnseenPolicy, forward: bool):
    """f(n, m) = bits per token of q's Huffman code (built as ``measure`` builds it, the policy applied) on p's counts.

    That is what encoding p's tokens with q's code gives (an order-0 code's
    length does not depend on token order).  The last result is kept, as the
    excess statistic asks for the same replicate right after.
    """
    last: dict = {}

    def statistic(n: np.ndarray, m: np.ndarray) -> float:
        if not forward:
            n, m = m, n
        key = (n.tobytes(), m.tobytes())
        if key not in last:
            p, q = Distribution.from_counts(n, symbols), Distribution.from_counts(m, symbols)
            code = effective_model(p, q, policy, n).code
            last.clear()
            last[key] = float(n @ code.lengths_bits[: n.size]) / int(n.sum())
        return last[key]

    return statistic


def _excess(cross, forward: bool):
    """f(n, m) = L_q − L_p on p's tokens: q's code against p's own Huffman code (the measured KL)."""
    from ..info.intervals import huffman_total_bits

    def statistic(n: np.ndarray, m: np.ndarray) -> float:
        own = n if forward else m
        return cross(n, m) - huffman_total_bits(own) / int(own.sum())

    return statistic


def _effective_kl(symbols: tuple, policy: UnseenPolicy, kl_name: str, forward: bool):
    """f(n, m) = KL̂(p‖q') with q' = the model of q's code (the policy applied to these counts), q' a fixed model."""

    def statistic(n: np.ndarray, m: np.ndarray) -> float:
        if not forward:
            n, m = m, n
        p, q = Distribution.from_counts(n, symbols), Distribution.from_counts(m, symbols)
        model = effective_model(p, q, policy, n, build_code=False)
        return estimate_kl(n, model.probabilities, kl_name)

    return statistic


def distribution_statistics(p_counts: np.ndarray, q: Distribution, *, estimator: str = "plugin",
                            bootstrap: BootstrapSettings | None = None,
                            code_lengths: np.ndarray | None = None) -> ComparisonStatistics:
    """Estimates (and intervals) of a sample of p (counts aligned with q) against q.

    When q has counts it is a second sample (both sides corrected and
    resampled).  When q is given by probabilities it is a fixed model: the KL
    estimators correct p's side alone, the reverse KL and JS are the plug-in
    values (there is no sample of q to correct), and the bootstrap resamples p
    alone, for H(p), H(p,q), KL(p‖q) and p's code.  With ``code_lengths`` (a
    fixed code of p, as ``measure`` builds it from p itself) the code's interval
    is that of Σ c*·l / N* for that code ("code_fixed"), else of the Huffman
    code rebuilt from each replicate ("code").
    """
    n = np.asarray(p_counts, dtype=np.int64)
    size = n.size
    if q.counts is not None:
        estimates = estimate_all(n, q.counts, estimator, alphabet_size=size)
        side_q: Side = TokenSide(np.asarray(q.counts, dtype=np.int64))
        quantities = ("entropy", "cross_entropy", "kl", "kl_reverse", "js", "code")
    else:
        kl_name = kl_estimator_for(estimator)
        h, plugin_h = estimate_entropy(n, estimator, alphabet_size=size), entropy_plugin(n)
        kl, plugin_kl = estimate_kl(n, q.probabilities, kl_name), kl_plugin(n, q.probabilities)
        p_hat = n / n.sum()
        reverse, js = kl_kernel(q.probabilities, p_hat), js_divergence(p_hat, q.probabilities)
        estimates = Estimates(estimator, kl_name, ESTIMATOR_FORMULAS[estimator], size, h, h + kl, kl, reverse, js,
                              plugin_h, plugin_h + plugin_kl, plugin_kl, reverse, js)
        side_q = FixedSide(q.probabilities)
        quantities = ("entropy", "cross_entropy", "kl", "code")
    intervals = None
    if bootstrap is not None:
        if bootstrap.resample == "documents":
            raise DataError("resampling documents needs corpora of several files; a distribution has no documents")
        custom = {}
        if code_lengths is not None:
            lengths = np.asarray(code_lengths, dtype=np.int64)
            quantities = tuple(name for name in quantities if name != "code")
            custom["code_fixed"] = ("L_p measured (p's code, fixed)", lambda c, _m: float(c @ lengths) / int(c.sum()))
        intervals = bootstrap_intervals(TokenSide(n), side_q, quantities=quantities, estimator=estimator,
                                        level=bootstrap.level, replicates=bootstrap.replicates, seed=bootstrap.seed,
                                        method=bootstrap.method, alphabet_size=size, custom=custom)
    return ComparisonStatistics(estimates, intervals, None, size, f"K = {size:,} symbols of the alphabet")


def measure_statistics(p: Distribution, q: Distribution, *, samples: int | None = None, seed: int = 0,
                       estimator: str = "plugin", bootstrap: BootstrapSettings | None = None,
                       code_lengths: np.ndarray | None = None) -> ComparisonStatistics:
    """Estimates (and intervals) for ``klcode measure``: from the ``samples`` drawn from p, or from p's counts.

    The sample is the one :func:`~klcode.analysis.measure.measure_samples`
    encodes (the same seed, the same draw).  p given by probabilities and no
    samples: there is nothing to estimate from (a DataError says so).
    """
    p_aligned, q_aligned = align(p, q)
    if samples is not None:
        stream = p.sample(samples, np.random.default_rng(seed))
        counts = np.bincount(stream, minlength=p_aligned.size).astype(np.int64)
    elif p_aligned.counts is not None:
        counts = p_aligned.counts
    else:
        raise DataError("estimators and intervals need a sample of p: give p as counts ({\"counts\": {...}}) "
                        "or draw one with --samples N")
    if code_lengths is not None:
        code_lengths = np.asarray(code_lengths, dtype=np.int64)[: counts.size]
    return distribution_statistics(counts, q_aligned, estimator=estimator, bootstrap=bootstrap,
                                   code_lengths=code_lengths)


def corpus_entropy_statistics(corpus: Corpus, *, estimator: str = "plugin",
                              bootstrap: BootstrapSettings | None = None) -> ComparisonStatistics:
    """H of one corpus by ``estimator`` beside the plug-in, with intervals of H and of its own Huffman code.

    The KL and JS fields of the estimates are NaN (there is no second corpus).
    A corpus of several files (a directory) is resampled by its files when
    ``bootstrap.resample`` says so (auto: from 5 files on).
    """
    counts = corpus.require_tokens().counts
    n = np.asarray(counts.counts, dtype=np.int64)
    k, note = nsb_alphabet_size(counts.spec, counts.types)
    h, plugin = estimate_entropy(n, estimator, alphabet_size=k), entropy_plugin(n)
    nan = float("nan")
    estimates = Estimates(estimator, kl_estimator_for(estimator), ESTIMATOR_FORMULAS[estimator], k, h, nan, nan, nan,
                          nan, plugin, nan, nan, nan, nan)
    intervals = None
    if bootstrap is not None:
        side = _side(n, corpus, counts.index(), counts.types, bootstrap.resample)
        intervals = bootstrap_intervals(side, FixedSide(n / n.sum()), quantities=("entropy", "code"),
                                        estimator=estimator, level=bootstrap.level, replicates=bootstrap.replicates,
                                        seed=bootstrap.seed, method=bootstrap.method, alphabet_size=k)
    return ComparisonStatistics(estimates, intervals, None, k, note)


@dataclass(frozen=True)
class MatrixEstimates:
    """KL(row‖column) of every ordered pair by an estimator, and KL(row‖column') to the column's code model."""

    estimator: str
    kl_estimator: str
    formula: str
    kl_bits_per_token: tuple[tuple[float, ...], ...]
    effective_kl_bits_per_token: tuple[tuple[float, ...], ...]


def matrix_estimates(corpora: list[Corpus], *, estimator: str = "plugin",
                     policy: UnseenPolicy = UnseenPolicy()) -> MatrixEstimates:
    """Every ordered pair (i, j): KL̂(i‖j) by the KL estimator of ``estimator``, and KL̂(i‖j') with j' fixed.

    >>> from klcode.text.counts import Counts
    >>> c = [Corpus(x, Counts.from_mapping(TokenizerSpec("chars"), m), None) for x, m in
    ...      (("a", {"x": 30, "y": 10}), ("b", {"x": 20, "y": 20}))]
    >>> [round(v, 4) for v in matrix_estimates(c, estimator="miller-madow").kl_bits_per_token[0]]
    [0.0, 0.1527]
    """
    kl_name = kl_estimator_for(estimator)
    n = len(corpora)
    kl, effective = np.zeros((n, n)), np.zeros((n, n))
    for i in range(n):
        for j in range(n):
            if i == j:
                continue
            p, q, _ = shared_distributions(corpora[i], corpora[j])
            kl[i, j] = estimate_kl(p.counts, q.counts, kl_name)
            model = effective_model(p, q, policy, p.counts, build_code=False)
            effective[i, j] = estimate_kl(p.counts, model.probabilities, kl_name)
    as_tuples = lambda m: tuple(tuple(float(v) for v in row) for row in m)  # noqa: E731
    return MatrixEstimates(estimator, kl_name, ESTIMATOR_FORMULAS[estimator], as_tuples(kl), as_tuples(effective))
