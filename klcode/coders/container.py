"""The ``.klc`` container: a file's bytes range-coded by a context model, with what it takes to check them.

Layout (all integers little-endian)::

    offset          size  field
    0               8     magic b"\\x89KLC\\r\\n\\x1a\\n" (a text-mode transfer or a truncated first line shows)
    8               1     format version (1)
    9               4     H: bytes of the settings
    13              H     settings, UTF-8 JSON: {"model": ContextModelSpec.as_dict(), "model_text": "...",
                          "alphabet_size": 256, "tokens": "bytes"}
    13+H            8     n: length of the original in bytes
    21+H            8     m: length of the payload in bytes
    29+H            32    SHA-256 of the original
    61+H            4     CRC-32 of bytes 0 .. 61+H (everything above)
    65+H            m     payload: the range-coded bitstream (klcode.coders.adaptive), m bytes
    65+H+m          4     CRC-32 of the payload

A container is read only if it is exactly 69 + H + m bytes long, both CRCs
match, the model settings parse, and the decoded bytes have the stored
SHA-256; anything else is one :class:`ContainerError` naming what was wrong,
and no output.  The header costs 69 + H bytes (about 150); ``payload_bytes``
is what the model's code of the data costs.

>>> from klcode.coders.container import MAGIC, read_header
>>> read_header(b"not a container")
Traceback (most recent call last):
...
klcode.coders.container.ContainerError: not a klcode container (no magic b'\\x89KLC\\r\\n\\x1a\\n' at its start; 15 bytes)
"""

from __future__ import annotations

import hashlib
import json
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import DecodeError

MAGIC = b"\x89KLC\r\n\x1a\n"
VERSION = 1
#: Bytes of the fixed fields around the settings and the payload.
FIXED_BYTES = len(MAGIC) + 1 + 4 + 8 + 8 + 32 + 4 + 4
#: Largest settings block accepted (a damaged length field must not make a reader allocate much).
MAX_SETTINGS_BYTES = 1 << 16


class ContainerError(DecodeError):
    """A .klc container is truncated, corrupted, or not a container at all."""


@dataclass(frozen=True)
class ContainerHeader:
    """What a container says about itself: the model, the original's length and SHA-256, the payload's length."""

    version: int
    settings: dict[str, Any]
    original_bytes: int
    payload_bytes: int
    sha256: str
    header_bytes: int

    @property
    def model_text(self) -> str:
        return str(self.settings["model_text"])

    @property
    def container_bytes(self) -> int:
        return self.header_bytes + self.payload_bytes + 4


def model_text(spec) -> str:
    """The ``--model`` text that parses back to ``spec``: ``cm:order=6,memory=64`` (and its options)."""
    options = "".join(f",{name}={value}" for name, value in spec.options)
    return f"{spec.kind}:order={spec.order},memory={spec.memory_mib}{options}"


def _spec_from_settings(settings: dict[str, Any]):
    from ..models.context import ContextModelSpec

    try:
        return ContextModelSpec.from_dict(dict(settings["model"]))
    except (KeyError, TypeError, ValueError) as error:
        raise ContainerError(f"the container's model settings do not parse ({error})") from None


def pack_bytes(data: bytes, spec, progress: Callable[[int], None] | None = None) -> bytes:
    """A .klc container of ``data``: the bytes coded by the model ``spec`` (decoded back before it is returned)."""
    from .adaptive import code_adaptive

    if len(data):
        coding = code_adaptive(spec, np.frombuffer(data, dtype=np.uint8), alphabet_size=256, verify=True,
                               progress=progress)
        if not coding.verified:
            raise DecodeError(f"the {spec.describe()} code of {len(data):,} bytes did not decode back")
        payload = bytes(coding.payload)
    else:
        payload = b""
    settings = {"model": spec.as_dict(), "model_text": model_text(spec), "alphabet_size": 256, "tokens": "bytes"}
    settings_bytes = json.dumps(settings, sort_keys=True, separators=(",", ":")).encode("utf-8")
    head = (MAGIC + bytes([VERSION]) + struct.pack("<I", len(settings_bytes)) + settings_bytes
            + struct.pack("<QQ", len(data), len(payload)) + hashlib.sha256(data).digest())
    head += struct.pack("<I", zlib.crc32(head))
    return head + payload + struct.pack("<I", zlib.crc32(payload))


def read_header(blob: bytes) -> ContainerHeader:
    """The header of a container, after checking its magic, version, lengths and header CRC-32."""
    size = len(blob)
    if not blob.startswith(MAGIC):
        raise ContainerError(f"not a klcode container (no magic {MAGIC!r} at its start; {size:,} bytes)")
    if size < len(MAGIC) + 5:
        raise ContainerError(f"truncated container: {size:,} bytes, too short for a header")
    version = blob[len(MAGIC)]
    if version != VERSION:
        raise ContainerError(f"unsupported container version {version} (this klcode reads version {VERSION})")
    (settings_length,) = struct.unpack_from("<I", blob, len(MAGIC) + 1)
    if settings_length > MAX_SETTINGS_BYTES:
        raise ContainerError(f"corrupted container: settings length {settings_length:,} bytes is implausible")
    start = len(MAGIC) + 5
    header_end = start + settings_length + 8 + 8 + 32 + 4
    if size < header_end:
        raise ContainerError(f"truncated container: {size:,} bytes, the header alone needs {header_end:,}")
    (stored_crc,) = struct.unpack_from("<I", blob, header_end - 4)
    if zlib.crc32(blob[: header_end - 4]) != stored_crc:
        raise ContainerError("corrupted container: the header's CRC-32 does not match")
    try:
        settings = json.loads(blob[start: start + settings_length].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ContainerError(f"corrupted container: its settings are not JSON ({error})") from None
    original, payload = struct.unpack_from("<QQ", blob, start + settings_length)
    digest = blob[start + settings_length + 16: start + settings_length + 48].hex()
    return ContainerHeader(version, settings, int(original), int(payload), digest, header_end)


def unpack_bytes(blob: bytes, progress: Callable[[int], None] | None = None) -> bytes:
    """The original bytes of a container, checked against its length, CRC-32s and SHA-256 (ContainerError if not)."""
    from .adaptive import decode_adaptive

    header = read_header(blob)
    expected = header.container_bytes
    if len(blob) != expected:
        what = "truncated" if len(blob) < expected else "corrupted"
        raise ContainerError(f"{what} container: {len(blob):,} bytes where its header says {expected:,}")
    payload = blob[header.header_bytes: header.header_bytes + header.payload_bytes]
    (payload_crc,) = struct.unpack_from("<I", blob, expected - 4)
    if zlib.crc32(payload) != payload_crc:
        raise ContainerError("corrupted container: the payload's CRC-32 does not match")
    spec = _spec_from_settings(header.settings)
    if header.settings.get("alphabet_size") != 256 or header.settings.get("tokens") != "bytes":
        raise ContainerError(f"unsupported container settings (tokens {header.settings.get('tokens')!r})")
    if header.original_bytes == 0:
        data = b""
    else:
        try:
            ids = decode_adaptive(spec, payload, header.original_bytes, alphabet_size=256)
        except (ValueError, IndexError) as error:
            raise ContainerError(f"corrupted container: its payload does not decode ({error})") from None
        data = np.asarray(ids, dtype=np.uint8).tobytes()
        if progress is not None:
            progress(header.original_bytes)
    if hashlib.sha256(data).hexdigest() != header.sha256:
        raise ContainerError("corrupted container: the decoded bytes do not have the stored SHA-256")
    return data
