"""JSON objects read strictly: a key repeated in one object is an error, not silently the last value.

>>> loads_strict('{"a": 1, "b": 2}')
{'a': 1, 'b': 2}
>>> loads_strict('{"a": 1, "a": 2}')
Traceback (most recent call last):
...
klcode.text.jsonfile.RepeatedKeyError: a
"""

from __future__ import annotations

import json


class RepeatedKeyError(ValueError):
    """A key seen twice in one JSON object (the key is its argument)."""


def _object_without_repeated_keys(pairs: list[tuple[str, object]]) -> dict:
    document = dict(pairs)
    if len(document) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise RepeatedKeyError(key)
            seen.add(key)
    return document


def loads_strict(text: str) -> object:
    """``json.loads(text)``, raising :class:`RepeatedKeyError` for a key that occurs twice in one object."""
    return json.loads(text, object_pairs_hook=_object_without_repeated_keys)
