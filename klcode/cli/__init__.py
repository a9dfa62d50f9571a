"""The klcode command line (click); see :mod:`klcode.cli.main`. Nothing in the library imports it."""

from .main import cli, main, run

__all__ = ["cli", "main", "run"]
