"""Counting token ids: ``np.bincount`` in cache-sized chunks.

``np.bincount`` converts its input to the platform integer first; on a long
uint8 stream that copy dominates.  Counting chunk by chunk keeps the copy in
cache (about 10x faster on 20 MB of bytes, measured in benchmarks/).

>>> bincount_chunked(np.array([0, 2, 2], dtype=np.uint8), 4).tolist()
[1, 0, 2, 0]
"""

from __future__ import annotations

import numpy as np

#: Ids counted per np.bincount call.
CHUNK_TOKENS = 1 << 16


def bincount_chunked(ids: np.ndarray, minlength: int = 0) -> np.ndarray:
    """Counts of each id in ``ids`` (int64 array of length ≥ ``minlength``)."""
    ids = np.asarray(ids)
    if ids.size <= CHUNK_TOKENS:
        return np.bincount(ids, minlength=minlength).astype(np.int64, copy=False)
    size = max(minlength, int(ids.max()) + 1)
    counts = np.zeros(size, dtype=np.int64)
    for start in range(0, ids.size, CHUNK_TOKENS):
        counts += np.bincount(ids[start : start + CHUNK_TOKENS], minlength=size)
    return counts
