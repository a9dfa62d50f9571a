"""klcode: Kullback-Leibler divergence measured by compression.

>>> import klcode
>>> p = klcode.Distribution.from_probabilities([0.5, 0.25, 0.125, 0.125])
>>> klcode.entropy(p)
1.75
"""

from .analysis.likelihood import likelihood_ratio
from .analysis.measure import Measurement, UnseenPolicy, measure, measure_samples
from .coders import HuffmanCode, PrefixCode
from .errors import (
    CodeError,
    DataError,
    DecodeError,
    DistributionError,
    InputError,
    KlcodeError,
    UnseenSymbolError,
)
from .info.measures import (
    cross_entropy,
    entropy,
    js_divergence,
    kl_contributions,
    kl_divergence,
    unseen_symbols,
)
from .models.distribution import Distribution, align, load_distribution

__version__ = "0.1.0"

__all__ = [
    "CodeError",
    "DataError",
    "DecodeError",
    "Distribution",
    "DistributionError",
    "HuffmanCode",
    "InputError",
    "KlcodeError",
    "Measurement",
    "PrefixCode",
    "UnseenPolicy",
    "UnseenSymbolError",
    "align",
    "cross_entropy",
    "entropy",
    "js_divergence",
    "kl_contributions",
    "kl_divergence",
    "likelihood_ratio",
    "load_distribution",
    "measure",
    "measure_samples",
    "unseen_symbols",
]
