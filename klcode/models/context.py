"""Adaptive context models, named by a spec: which model predicts q(x_i | x_<i), its order and its table memory.

A :class:`ContextModelSpec` says which adaptive model a coder is driven by;
:mod:`klcode.coders.adaptive` codes a stream with it.  Kinds:

* ``cm``: context mixing over bytes (klcode's own, in the manner of lpaq1 /
  paq8 by Matt Mahoney; :mod:`klcode.models.context_mixing`).  ``order`` is
  the longest hashed byte context (2..8; the byte orders used are 2, 3, 4, 6
  for the default 6: see ``HASHED_ORDERS``; the word context and the match
  model come on top); ``memory`` (MiB, a power of two, 1..1024) is the
  bound on its tables: half for the hashed bit histories, a quarter for the
  match model's history buffer (the last memory/4 bytes seen) and a quarter
  for its index, plus 1.13 MiB of fixed tables (order 1, the adaptive
  probability maps, the APM, the mixer weights).  The memory is allocated
  once, whatever the input size.
* ``ppm``: PPM over token ids of any vocabulary (:mod:`klcode.models.ppm`): ``order``
  0..8 (default 2), ``memory`` MiB 1..4096 (default 64: the hashed contexts and the
  pooled symbol lists), ``discount`` (sixteenths, default 11; 8 = PPMD, 0 = PPMC),
  ``discount2`` / ``discount3`` (for counts 2 / 3+, default 0: as the one before),
  ``spelling_order`` (default 4) and ``update_exclusion`` (default 1).

>>> spec = ContextModelSpec.parse("cm:order=6,memory=32")
>>> spec.describe(), spec.as_dict()
('cm order 6, 32 MiB', {'kind': 'cm', 'order': 6, 'memory_mib': 32})
>>> ContextModelSpec.parse("cm") == ContextModelSpec.default("cm")
True
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..errors import KlcodeError


class ContextModelError(KlcodeError, ValueError):
    """A context model spec (``cm:order=6,memory=64``) names an unknown kind or option, or a value out of range."""


@dataclass(frozen=True)
class KindInfo:
    """What a kind of model accepts: its default order and memory, their ranges, and its extra options."""

    default_order: int
    order_range: tuple[int, int]
    default_memory_mib: int
    memory_range: tuple[int, int]
    power_of_two_memory: bool
    #: extra options: name -> (default, (low, high)); integers only
    options: dict[str, tuple[int, tuple[int, int]]] = field(default_factory=dict)
    description: str = ""


#: Every kind of context model, by name.  Another kind is one more entry here (and one in coders/adaptive.py).
KINDS: dict[str, KindInfo] = {
    "cm": KindInfo(6, (2, 8), 64, (1, 1024), True, {},
                   "context mixing of byte orders 0-k, words and a match model (bytes)"),
    "ppm": KindInfo(2, (0, 8), 64, (1, 4096), False,
                    {"discount": (11, (0, 15)), "discount2": (0, (0, 31)), "discount3": (0, (0, 47)),
                     "spelling_order": (4, (0, 8)), "update_exclusion": (1, (0, 1))},
                    "PPM over token ids, orders 0-k, escapes down to a spelling of new tokens (any vocabulary)"),
}


@dataclass(frozen=True)
class ContextModelSpec:
    """An adaptive model of q(x_i | x_<i): its kind, its max context order, its table memory bound in MiB."""

    kind: str
    order: int
    memory_mib: int
    #: kind-specific integer options, as sorted (name, value) pairs (defaults filled in)
    options: tuple[tuple[str, int], ...] = ()

    @classmethod
    def default(cls, kind: str = "cm") -> ContextModelSpec:
        """The default model of a kind."""
        info = _kind(kind)
        return cls(kind, info.default_order, info.default_memory_mib,
                   tuple(sorted((name, default) for name, (default, _) in info.options.items())))

    @classmethod
    def parse(cls, text: str) -> ContextModelSpec:
        """Read ``KIND[:NAME=VALUE,...]``: ``cm``, ``cm:order=6,memory=64``, ``ppm:order=2``."""
        if not isinstance(text, str) or not text.strip():
            raise ContextModelError(f"a context model is KIND[:NAME=VALUE,...] with KIND one of "
                                    f"{', '.join(sorted(KINDS))} (got {text!r})")
        kind, _, rest = text.strip().partition(":")
        kind = kind.strip().lower()
        info = _kind(kind)
        values: dict[str, int] = {}
        for item in (part.strip() for part in rest.split(",")) if rest.strip() else ():
            name, equals, value = item.partition("=")
            name = name.strip().lower()
            if not equals or not name:
                raise ContextModelError(f"model option must be NAME=VALUE (got {item!r} in {text!r})")
            if name == "memory_mib":
                name = "memory"
            allowed = ("order", "memory", *info.options)
            if name not in allowed:
                raise ContextModelError(f"unknown option {name!r} for model {kind!r} "
                                        f"(choose from {', '.join(allowed)}; got {text!r})")
            if name in values:
                raise ContextModelError(f"option {name!r} given twice (got {text!r})")
            try:
                values[name] = int(value.strip())
            except ValueError:
                raise ContextModelError(f"option {name} must be an integer (got {value.strip()!r} in {text!r})") from None
        default = cls.default(kind)
        options = dict(default.options)
        options.update((name, value) for name, value in values.items() if name not in ("order", "memory"))
        spec = cls(kind, values.get("order", default.order), values.get("memory", default.memory_mib),
                   tuple(sorted(options.items())))
        spec.validate()
        return spec

    def validate(self) -> None:
        """Refuse an order, a memory or an option out of its kind's range."""
        info = _kind(self.kind)
        low, high = info.order_range
        if not low <= self.order <= high:
            raise ContextModelError(f"order of model {self.kind!r} must be in {low}..{high} (got {self.order})")
        low, high = info.memory_range
        if not low <= self.memory_mib <= high or (
                info.power_of_two_memory and self.memory_mib & (self.memory_mib - 1)):
            two = " and a power of two" if info.power_of_two_memory else ""
            raise ContextModelError(f"memory of model {self.kind!r} must be {low}..{high} MiB{two} "
                                    f"(got {self.memory_mib})")
        for name, value in self.options:
            if name not in info.options:
                raise ContextModelError(f"unknown option {name!r} for model {self.kind!r}")
            low, high = info.options[name][1]
            if not low <= value <= high:
                raise ContextModelError(f"option {name} of model {self.kind!r} must be in {low}..{high} "
                                        f"(got {value})")

    def option(self, name: str) -> int:
        """A kind-specific option's value (its default when not given)."""
        for key, value in self.options:
            if key == name:
                return value
        return _kind(self.kind).options[name][0]

    def describe(self) -> str:
        """One line: ``cm order 6, 64 MiB`` (and any options that differ from the default)."""
        defaults = dict(ContextModelSpec.default(self.kind).options)
        extra = "".join(f", {name} {value}" for name, value in self.options if defaults.get(name) != value)
        return f"{self.kind} order {self.order}, {self.memory_mib} MiB{extra}"

    def as_dict(self) -> dict[str, Any]:
        """The spec for JSON output and container headers: kind, order, memory_mib and the options."""
        return {"kind": self.kind, "order": self.order, "memory_mib": self.memory_mib, **dict(self.options)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ContextModelSpec:
        """The spec back from :meth:`as_dict` (as read from a container header)."""
        try:
            kind, order, memory = str(data["kind"]), int(data["order"]), int(data["memory_mib"])
        except (KeyError, TypeError, ValueError):
            raise ContextModelError(f"a model needs kind, order and memory_mib (got {data!r})") from None
        default = cls.default(kind)
        options = dict(default.options)
        for name, value in data.items():
            if name not in ("kind", "order", "memory_mib"):
                if name not in options:
                    raise ContextModelError(f"unknown option {name!r} for model {kind!r}")
                options[name] = int(value)
        spec = cls(kind, order, memory, tuple(sorted(options.items())))
        spec.validate()
        return spec

    def __str__(self) -> str:
        return self.describe()


def _kind(kind: str) -> KindInfo:
    if kind not in KINDS:
        raise ContextModelError(f"unknown context model {kind!r} (choose from {', '.join(sorted(KINDS))})")
    return KINDS[kind]
