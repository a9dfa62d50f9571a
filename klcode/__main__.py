"""``python -m klcode``: the klcode command line."""

from .cli import run

run()
