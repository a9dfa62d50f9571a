"""The .klc container and `klcode pack` / `klcode unpack`: exact round trips, and every damage is one clear error."""

from __future__ import annotations

import hashlib
import json
import os
import struct
import zlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from klcode.cli.main import main
from klcode.coders.container import (
    MAGIC,
    ContainerError,
    pack_bytes,
    read_header,
    unpack_bytes,
)
from klcode.models.context import ContextModelSpec

SPEC = ContextModelSpec.parse("cm:memory=1")
TEXT = (b"It was the best of times, it was the worst of times, it was the age of wisdom, "
        b"it was the age of foolishness.\r\n") * 20


@pytest.fixture(scope="module")
def blob() -> bytes:
    return pack_bytes(TEXT, SPEC)


def test_round_trip_and_header(blob):
    header = read_header(blob)
    assert unpack_bytes(blob) == TEXT
    assert blob.startswith(MAGIC)
    assert header.original_bytes == len(TEXT)
    assert header.sha256 == hashlib.sha256(TEXT).hexdigest()
    assert header.settings["model"] == SPEC.as_dict()
    assert ContextModelSpec.parse(header.model_text) == SPEC
    assert len(blob) == header.header_bytes + header.payload_bytes + 4
    # the payload is the model's code: far below 8 bits per byte on repetitive text
    assert 8 * header.payload_bytes / len(TEXT) < 1.0


@pytest.mark.parametrize("data", [b"", b"\x00", bytes(range(256)), b"a" * 5000,
                                  np.random.default_rng(3).integers(0, 256, 3000, dtype=np.uint8).tobytes()])
def test_round_trips_of_edge_cases(data):
    assert unpack_bytes(pack_bytes(data, SPEC)) == data


def test_every_truncation_is_an_error(blob):
    cuts = sorted(set(range(0, 80)) | set(range(len(blob) - 40, len(blob))) | {len(blob) // 2})
    for cut in cuts:
        with pytest.raises(ContainerError):
            unpack_bytes(blob[:cut])


def test_extra_bytes_are_an_error(blob):
    with pytest.raises(ContainerError, match="corrupted container: .* bytes where its header says"):
        unpack_bytes(blob + b"\x00")


def test_every_flipped_byte_is_an_error(blob):
    positions = sorted(set(range(0, len(blob), max(1, len(blob) // 97))) | {len(blob) - 1, len(blob) - 5})
    for position in positions:
        damaged = bytearray(blob)
        damaged[position] ^= 0x40
        with pytest.raises(ContainerError):
            unpack_bytes(bytes(damaged))


def test_payload_damage_behind_a_matching_crc_is_caught_by_the_sha256(blob):
    header = read_header(blob)
    payload = bytearray(blob[header.header_bytes: header.header_bytes + header.payload_bytes])
    payload[len(payload) // 2] ^= 0x01
    forged = blob[: header.header_bytes] + bytes(payload) + struct.pack("<I", zlib.crc32(bytes(payload)))
    with pytest.raises(ContainerError, match="SHA-256|does not decode"):
        unpack_bytes(forged)


def test_unknown_version_and_model(blob):
    with pytest.raises(ContainerError, match="unsupported container version 9"):
        unpack_bytes(blob[:8] + b"\x09" + blob[9:])
    header = read_header(blob)
    settings = dict(header.settings, model={"kind": "zip", "order": 1, "memory_mib": 1})
    text = json.dumps(settings).encode()
    head = MAGIC + b"\x01" + struct.pack("<I", len(text)) + text + blob[header.header_bytes - 52: header.header_bytes - 4]
    head += struct.pack("<I", zlib.crc32(head))
    with pytest.raises(ContainerError, match="model settings do not parse"):
        unpack_bytes(head + blob[header.header_bytes:])


def test_not_a_container():
    with pytest.raises(ContainerError, match="not a klcode container"):
        unpack_bytes(b"PK\x03\x04 a zip file")


# ----------------------------------------------------------------------- CLI
def test_cli_pack_unpack(tmp_path, capsys):
    source = tmp_path / "text.txt"
    source.write_bytes(TEXT)
    assert main(["pack", str(source), "--model", "cm:memory=1", "--json"]) == 0
    record = json.loads(capsys.readouterr().out)
    packed = tmp_path / "text.txt.klc"
    assert record["container_bytes"] == packed.stat().st_size
    assert record["payload_bytes"] + record["header_bytes"] == record["container_bytes"]
    assert record["original_bytes"] == len(TEXT)
    os.unlink(source)
    assert main(["unpack", str(packed)]) == 0
    assert source.read_bytes() == TEXT


def test_cli_refuses_to_overwrite(tmp_path, capsys):
    source = tmp_path / "a.txt"
    source.write_bytes(TEXT)
    assert main(["pack", str(source), "-o", str(source), "--model", "cm:memory=1"]) == 2
    assert "is the input" in capsys.readouterr().err
    assert source.read_bytes() == TEXT
    target = tmp_path / "a.klc"
    target.write_bytes(b"keep me")
    assert main(["pack", str(source), "-o", str(target), "--model", "cm:memory=1"]) == 2
    assert "give --force" in capsys.readouterr().err
    assert target.read_bytes() == b"keep me"
    assert main(["pack", str(source), "-o", str(target), "--model", "cm:memory=1", "--force", "-q"]) == 0
    capsys.readouterr()
    assert main(["unpack", str(target), "-o", str(source)]) == 2  # exists
    assert main(["unpack", str(target), "-o", str(tmp_path / "b.txt")]) == 0
    assert (tmp_path / "b.txt").read_bytes() == TEXT


def test_cli_damaged_container_is_one_line_exit_1_and_no_output(tmp_path, capsys):
    source = tmp_path / "a.txt"
    source.write_bytes(TEXT)
    assert main(["pack", str(source), "--model", "cm:memory=1", "-q"]) == 0
    packed = tmp_path / "a.txt.klc"
    blob = packed.read_bytes()
    capsys.readouterr()
    packed.write_bytes(blob[:-10])
    out = tmp_path / "restored.txt"
    assert main(["unpack", str(packed), "-o", str(out)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("klcode: error: truncated container") and err.count("\n") == 1
    assert not out.exists() and sorted(os.listdir(tmp_path)) == ["a.txt", "a.txt.klc"]  # no temporary left


def test_cli_usage_errors(tmp_path, capsys):
    source = tmp_path / "a.txt"
    source.write_bytes(b"abc")
    assert main(["pack", str(source), "--model", "cm:order=99"]) == 2
    assert "order of model 'cm' must be in 2..8" in capsys.readouterr().err
    assert main(["unpack", str(source)]) == 2
    assert "does not end in .klc" in capsys.readouterr().err
    assert main(["pack", str(tmp_path / "missing.txt")]) == 1
    assert "no such file" in capsys.readouterr().err


@settings(max_examples=25, deadline=None)
@given(st.binary(max_size=3000) | st.lists(st.sampled_from([b"ab", b"\x00", b"\xff" * 7, b"the "]), max_size=400)
       .map(b"".join))
def test_pack_unpack_round_trips_any_bytes(data):
    blob = pack_bytes(data, SPEC)
    assert unpack_bytes(blob) == data and read_header(blob).original_bytes == len(data)
