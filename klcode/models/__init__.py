"""Models: what the coders are built from.

Order 0 is a :class:`~klcode.models.distribution.Distribution`; adaptive context models and
per-position model sources live beside it.
"""
