"""Adaptive coding: a stream range-coded with an adaptive context model, ideal cost Σ −log2 q(x_i | x_<i) beside it.

:func:`code_adaptive` codes token ids with the model a
:class:`~klcode.models.context.ContextModelSpec` names (trained first on
``train``, then learning as it codes unless ``learn=False``), decodes the
payload back and checks it (``verify``), and returns an
:class:`AdaptiveCoding`: the payload, its measured bits ``8·len(payload)``,
the ideal bits Σ −log2 q(x_i | context) of the probabilities the coder was
handed, and their difference, the coder's overhead.
:func:`decode_adaptive` is the decoder: it trains the same model on the same
``train`` streams, so a frozen model's code (``learn=False``) stays decodable.

Each kind of model is one module with ``encode`` and ``decode`` functions
(:data:`BACKENDS`), imported only when used, so importing this module costs
nothing (numba compiles, or loads its cache, on the first use of a kind).

>>> import numpy as np
>>> from klcode.models.context import ContextModelSpec
>>> ids = np.frombuffer(b"abracadabra, abracadabra, abracadabra", dtype=np.uint8)
>>> coding = code_adaptive(ContextModelSpec.parse("cm:memory=1"), ids, alphabet_size=256)
>>> coding.verified, coding.tokens, coding.measured_bits == 8 * len(coding.payload)
(True, 37, True)
>>> bytes(decode_adaptive(coding.model, coding.payload, coding.tokens, alphabet_size=256).astype(np.uint8))
b'abracadabra, abracadabra, abracadabra'
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import DecodeError
from ..models.context import ContextModelSpec

#: kind of model -> the module that codes with it (``encode(spec, ids, ...)``, ``decode(spec, payload, ...)``).
BACKENDS: dict[str, str] = {
    "cm": "klcode.coders.cm_kernel",
    "ppm": "klcode.models.ppm",
}


@dataclass(frozen=True, eq=False)
class AdaptiveCoding:
    """A stream coded by an adaptive model: payload, measured bits 8·len(payload), ideal Σ −log2 q(x_i | context)."""

    model: ContextModelSpec
    tokens: int  # symbols coded
    payload: bytes  # the range-coded bitstream
    ideal_bits: float  # Σ −log2 q(x_i | context) of the probabilities handed to the coder
    verified: bool  # the payload decoded back to the input (False only when verify=False)
    training_tokens: int  # tokens the model saw before coding (0 = started empty)
    learning: bool  # whether the model kept learning while coding the stream
    per_token_bits: np.ndarray | None = None  # float32 ideal cost of each token, when asked for

    @property
    def measured_bits(self) -> int:
        """Bits of the payload: 8 · len(payload)."""
        return 8 * len(self.payload)

    @property
    def measured_bits_per_token(self) -> float:
        """measured_bits / tokens (0 for an empty stream)."""
        return self.measured_bits / self.tokens if self.tokens else 0.0

    @property
    def ideal_bits_per_token(self) -> float:
        """ideal_bits / tokens: the model's cross-entropy on the stream (0 for an empty stream)."""
        return self.ideal_bits / self.tokens if self.tokens else 0.0

    @property
    def overhead_bits(self) -> float:
        """measured_bits − ideal_bits: what the coder adds to the model's ideal cost."""
        return self.measured_bits - self.ideal_bits

    def as_dict(self) -> dict[str, Any]:
        """The figures for JSON output (no payload, no per-token array)."""
        return {
            "model": self.model.as_dict(),
            "tokens": self.tokens,
            "measured_bits": self.measured_bits,
            "measured_bits_per_token": self.measured_bits_per_token,
            "ideal_bits": self.ideal_bits,
            "ideal_bits_per_token": self.ideal_bits_per_token,
            "overhead_bits": self.overhead_bits,
            "verified": self.verified,
            "training_tokens": self.training_tokens,
            "learning": self.learning,
        }


def _backend(spec: ContextModelSpec) -> Any:
    spec.validate()
    return importlib.import_module(BACKENDS[spec.kind])


def code_adaptive(spec: ContextModelSpec, ids: np.ndarray, *, alphabet_size: int, train: Sequence[np.ndarray] = (),
                  learn: bool = True, verify: bool = True, per_token: bool = False,
                  progress: Callable[[int], None] | None = None, **options: Any) -> AdaptiveCoding:
    """Range-code ``ids`` with the adaptive model ``spec`` (trained first on ``train``); decode back when ``verify``.

    ``learn=False`` freezes the model after training.  ``progress(n)`` is called with the tokens done since
    its last call (per block of tokens).  Kind-specific keywords (``spellings=`` for ``ppm``) go to the model.
    """
    backend = _backend(spec)
    ids = np.asarray(ids)
    train = tuple(np.asarray(stream) for stream in train)
    payload, ideal_bits, costs = backend.encode(spec, ids, alphabet_size=alphabet_size, train=train, learn=learn,
                                                per_token=per_token, progress=progress, **options)
    if verify:
        decoded = backend.decode(spec, payload, int(ids.size), alphabet_size=alphabet_size, train=train,
                                 learn=learn, **options)
        if decoded.shape != ids.shape or not np.array_equal(decoded, ids):
            raise DecodeError(f"the {spec.describe()} payload did not decode back to the {ids.size} tokens coded")
    return AdaptiveCoding(
        model=spec, tokens=int(ids.size), payload=payload, ideal_bits=float(ideal_bits), verified=verify,
        training_tokens=sum(int(stream.size) for stream in train), learning=learn,
        per_token_bits=costs if per_token else None,
    )


def decode_adaptive(spec: ContextModelSpec, payload: bytes, tokens: int, *, alphabet_size: int,
                    train: Sequence[np.ndarray] = (), learn: bool = True,
                    progress: Callable[[int], None] | None = None, **options: Any) -> np.ndarray:
    """The ``tokens`` ids back from a payload of :func:`code_adaptive` (same spec, train, learn; int64 ids)."""
    backend = _backend(spec)
    if tokens < 0:
        raise DecodeError(f"the number of tokens to decode must be >= 0 (got {tokens})")
    decoded = backend.decode(spec, bytes(payload), int(tokens), alphabet_size=alphabet_size,
                             train=tuple(np.asarray(stream) for stream in train), learn=learn, progress=progress,
                             **options)
    return np.asarray(decoded, dtype=np.int64)
