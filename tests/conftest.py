"""Hypothesis profile of the suite: deterministic (derandomize), no deadline."""

from hypothesis import settings

settings.register_profile("klcode", deadline=None, max_examples=100, derandomize=True, database=None)
settings.load_profile("klcode")
