"""Teaching mode: the classic KL lessons, reproduced with real codes and exact numbers.

``DEMOS`` maps each name to a :class:`~klcode.demos.base.Demo`; ``klcode demo --list`` shows them.
Each demo lives in its own module and registers itself here.
"""

from __future__ import annotations

from .base import Demo, DemoOptions, DemoResult, DemoTable

DEMOS: dict[str, Demo] = {}


def register(demo: Demo) -> Demo:
    """Add a demo to :data:`DEMOS` (its name must be new)."""
    if demo.name in DEMOS:
        raise ValueError(f"a demo named {demo.name!r} is registered already")
    DEMOS[demo.name] = demo
    return demo


def load_all() -> dict[str, Demo]:
    """Import every demo module (each registers itself) and return :data:`DEMOS` in lesson order."""
    from . import binomial, coin, crossentropy, estimators, gaussians, infinite, recoding, worms  # noqa: F401

    from . import context, recompress  # noqa: F401

    order = ("coin", "binomial", "worms", "recoding", "gaussians", "cross-entropy", "infinite", "estimators",
             "context", "recompress")
    return {name: DEMOS[name] for name in order if name in DEMOS}


__all__ = ["DEMOS", "Demo", "DemoOptions", "DemoResult", "DemoTable", "load_all", "register"]
