"""Input checks shared by the coders: Huffman-style weights and streams of ids."""

from __future__ import annotations

import numpy as np

from ..errors import CodeError


def checked_weights(weights: np.ndarray, what: str, *, numbers_only: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Weights as an array, checked: non-empty 1-D, finite, non-negative, one positive; and the positive ids.

    ``what`` names the code in the messages ("Huffman", "length-limited Huffman").
    ``numbers_only`` also refuses dtypes other than integers and floats.
    """
    weights = np.asarray(weights)
    if weights.ndim != 1 or weights.size == 0:
        raise CodeError(f"{what} weights must be a non-empty 1-D array (got shape {weights.shape})")
    if numbers_only and weights.dtype.kind not in "iuf":
        raise CodeError(f"{what} weights must be numbers (got dtype {weights.dtype})")
    if weights.dtype.kind == "f" and not np.isfinite(weights).all():
        raise CodeError(f"{what} weights must be finite (got a NaN or infinite weight)")
    if (weights < 0).any():
        raise CodeError(f"{what} weights must not be negative (got {weights[weights < 0][0]})")
    used = np.flatnonzero(weights > 0)
    if used.size == 0:
        raise CodeError(f"a {what} code needs at least one positive weight (got all zero)")
    return weights, used


def checked_ids(ids: np.ndarray, size: int, alphabet: str = "the code's alphabet") -> np.ndarray:
    """``ids`` as a 1-D integer array, every id in 0..size−1 (``alphabet`` names the alphabet in the message)."""
    ids = np.asarray(ids)
    if ids.ndim != 1 or (ids.size and ids.dtype.kind not in "iu"):
        raise CodeError(f"ids must be a 1-D integer array (got dtype {ids.dtype}, shape {ids.shape})")
    if ids.size:
        lowest, highest = int(ids.min()), int(ids.max())
        if lowest < 0 or highest >= size:
            bad = lowest if lowest < 0 else highest
            raise CodeError(f"id {bad} is outside {alphabet} of {size} ids")
    return ids
