"""Exceptions of klcode.

Every exception subclasses :class:`KlcodeError` *and* the built-in that fits, so
callers can catch either ``klcode.KlcodeError`` or the usual ``ValueError`` /
``OSError``.  Messages name what was wrong and the value that was given:
``probabilities must sum to 1 (got 0.97)``.
"""

from __future__ import annotations


class KlcodeError(Exception):
    """Base class of every error klcode raises on purpose."""


class DistributionError(KlcodeError, ValueError):
    """A distribution's symbols, counts or probabilities are invalid."""


class UnseenSymbolError(KlcodeError, ValueError):
    """The model q gives probability 0 to symbols that p produces, and the policy is ``error``."""


class CodeError(KlcodeError, ValueError):
    """A prefix code cannot be built or cannot code the given stream."""


class DecodeError(KlcodeError, ValueError):
    """A bitstream did not decode back to the stream that was encoded."""


class InputError(KlcodeError, OSError):
    """A file could not be read, or its contents are not what klcode expects."""


class DataError(KlcodeError, ValueError):
    """Input that was read fine but cannot be measured (an empty text, say)."""


class OutputError(KlcodeError, OSError):
    """An output file (a report, a plot, a counts file) could not be written."""


