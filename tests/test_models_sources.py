"""Per-position model sources: llama.cpp KL-divergence base files, npy/npz/safetensors arrays, re-quantized rows."""

from __future__ import annotations

import json
import struct
import zipfile

import numpy as np
import pytest

from klcode.errors import DataError, InputError
from klcode.models import llama_format as lf
from klcode.models.sources import (
    ArraySource,
    LlamaKLSource,
    MemorySource,
    QuantizedSource,
    open_file_source,
)


def write_llama_by_spec(path, n_ctx, n_vocab, tokens, rows):
    """A KL-divergence base file written from the layout in perplexity.cpp, without klcode's writer.

    rows: list of (scale, min_log_prob, codes) in file order.
    """
    n_chunk = len(tokens) // n_ctx
    nv = 2 * ((n_vocab + 1) // 2) + 4
    with open(path, "wb") as f:
        f.write(b"_logits_")
        f.write(struct.pack("<I", n_ctx))
        f.write(struct.pack("<i", n_vocab))
        f.write(struct.pack("<i", n_chunk))
        f.write(struct.pack(f"<{n_chunk * n_ctx}i", *tokens[: n_chunk * n_ctx]))
        for scale, minimum, codes in rows:
            f.write(struct.pack("<ff", scale, minimum))
            f.write(struct.pack(f"<{n_vocab}H", *codes))
            f.write(b"\0\0" * (nv - 4 - n_vocab))


def spec_rows(rng, count, n_vocab):
    return [(float(np.float32(rng.uniform(1e-5, 3e-4))), float(np.float32(-rng.uniform(10, 20))),
             [int(v) for v in rng.integers(0, 65536, n_vocab)]) for _ in range(count)]


@pytest.mark.parametrize("n_ctx, n_vocab", [(8, 5), (9, 6)])
def test_llama_file_from_the_spec_reads_back_with_llama_conventions(tmp_path, n_ctx, n_vocab):
    rng = np.random.default_rng(n_ctx)
    n_chunk = 3
    tokens = [int(t) for t in rng.integers(0, n_vocab, n_ctx * n_chunk)]
    per_chunk = n_ctx - 1 - n_ctx // 2       # llama.cpp scores the second half of each chunk, less its last token
    rows = spec_rows(rng, n_chunk * per_chunk, n_vocab)
    path = tmp_path / "base.kld"
    write_llama_by_spec(path, n_ctx, n_vocab, tokens, rows)

    source = LlamaKLSource(path)
    assert (source.header.n_ctx, source.vocab_size, source.header.n_chunk) == (n_ctx, n_vocab, n_chunk)
    assert source.positions == n_chunk * per_chunk
    # row r of chunk c predicts tokens[c*n_ctx + n_ctx//2 + r + 1]
    expected_targets = [tokens[c * n_ctx + n_ctx // 2 + r + 1] for c in range(n_chunk) for r in range(per_chunk)]
    assert source.targets.tolist() == expected_targets
    got = np.concatenate([block.copy() for _, block in source.blocks(rows=2)])
    for i, (scale, minimum, codes) in enumerate(rows):
        # log-probability of token j = scale * k_j + min_log_prob, in float32
        want = np.float32(scale) * np.array(codes, dtype=np.float32) + np.float32(minimum)
        assert np.array_equal(got[i], want.astype(np.float32))
    # the context of a position stays inside its chunk
    assert source.context(0, 100).tolist() == tokens[: n_ctx // 2 + 1]


def test_klcode_writer_quantizes_as_llama_cpp(tmp_path):
    logits = np.array([[2.0, 1.0, -3.5, -40.0, 2.0 - 16.0, 0.25],
                       [0.5, 0.5, 0.5, 0.5, 0.5, 0.5]], dtype=np.float32)
    stored = lf.quantize_log_probs(logits)
    top = np.float32(2.0)
    low = np.float32(max(-40.0, 2.0 - 16.0))
    lse = np.float32(np.log(np.sum(np.exp((logits[0] - top).astype(np.float32)), dtype=np.float64)))
    assert stored.scale[0] == np.float32((top - low) / np.float32(65535))
    assert stored.min_log_prob[0] == np.float32(low - top - lse)
    inverse = np.float32(1) / stored.scale[0]
    expected = [int(np.rint(inverse * (v - low))) if v > low else 0 for v in logits[0]]
    assert stored.codes[0].tolist() == expected
    assert stored.codes[0, 0] == 65535 and stored.codes[0, 3] == 0 and stored.codes[0, 4] == 0  # floor: 16 nats
    # all logits equal: scale 0, all codes 0, log-probability -ln V
    assert stored.scale[1] == 0 and not stored.codes[1].any()
    assert stored.min_log_prob[1] == pytest.approx(-np.log(6), abs=1e-6)

    n_ctx, tokens = 4, np.array([1, 2, 3, 4, 0, 5, 1, 2])
    header = lf.write_kl_base(tmp_path / "w.kld", tokens, n_ctx, [np.tile(logits[0], (2, 1))], 6)
    assert header.positions == 2 and header.file_bytes == header.expected_bytes
    raw = (tmp_path / "w.kld").read_bytes()
    assert raw[:8] == b"_logits_" and struct.unpack("<Iii", raw[8:20]) == (4, 6, 2)
    row = np.frombuffer(raw[header.data_offset:header.data_offset + 2 * header.row_words], dtype="<u2")
    assert row[4:].tolist() == expected and np.frombuffer(row[:4].tobytes(), "<f4")[0] == stored.scale[0]


def test_llama_files_truncated_foreign_or_wrong(tmp_path):
    rng = np.random.default_rng(1)
    tokens = [int(t) for t in rng.integers(0, 5, 16)]
    path = tmp_path / "a.kld"
    write_llama_by_spec(path, 8, 5, tokens, spec_rows(rng, 6, 5))
    data = path.read_bytes()
    (tmp_path / "cut.kld").write_bytes(data[:-3])
    with pytest.raises(InputError, match=r"is truncated: n_ctx 8, n_vocab 5, n_chunk 2 make .* bytes \(got"):
        LlamaKLSource(tmp_path / "cut.kld")
    (tmp_path / "foreign.bin").write_bytes(b"GGUF" + data[4:])
    with pytest.raises(InputError, match="not a llama.cpp KL-divergence base file"):
        LlamaKLSource(tmp_path / "foreign.bin")
    bad = bytearray(data)
    bad[20:24] = struct.pack("<i", 9)  # token 9 in a vocabulary of 5
    (tmp_path / "bad.kld").write_bytes(bytes(bad))
    with pytest.raises(InputError, match=r"token 9 at index 0 is outside the vocabulary \[0, 5\)"):
        LlamaKLSource(tmp_path / "bad.kld")
    (tmp_path / "short.kld").write_bytes(b"_logits_\x08\0")
    with pytest.raises(InputError, match="header needs 20 bytes"):
        LlamaKLSource(tmp_path / "short.kld")


def _arrays(rng, n=11, v=7, dtype=np.float32):
    return (rng.normal(size=(n, v)) * 2).astype(dtype), rng.integers(0, v, n + 1)


def write_safetensors(path, tensors):
    """A .safetensors file by its layout: u64 header length, JSON header, raw little-endian data."""
    names = {np.dtype("<f4"): "F32", np.dtype("<f8"): "F64", np.dtype("<f2"): "F16", np.dtype("<i8"): "I64",
             np.dtype("<i4"): "I32"}
    header, blobs, offset = {"__metadata__": {"by": "test"}}, [], 0
    for name, array in tensors.items():
        if isinstance(array, tuple):  # ("BF16", float32 array): the top 16 bits of each float32
            kind, values = array
            blob = (np.ascontiguousarray(values, dtype="<f4").view("<u4") >> 16).astype("<u2").tobytes()
            shape = values.shape
        else:
            kind, blob, shape = names[array.dtype], np.ascontiguousarray(array).tobytes(), array.shape
        header[name] = {"dtype": kind, "shape": list(shape), "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    text = json.dumps(header).encode()
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


@pytest.mark.parametrize("kind", ["npy", "npz-stored", "npz-deflated", "safetensors", "safetensors-f16",
                                  "safetensors-bf16"])
def test_array_files_read_back_in_blocks(tmp_path, kind):
    rng = np.random.default_rng(2)
    logits, stream = _arrays(rng, dtype=np.float64 if kind == "npz-stored" else np.float32)
    if kind == "npy":
        path = tmp_path / "m.npy"
        np.save(path, logits)
        np.save(tmp_path / "m.tokens.npy", stream)
    elif kind.startswith("npz"):
        path = tmp_path / "m.npz"
        (np.savez_compressed if kind == "npz-deflated" else np.savez)(path, log_probs=logits, tokens=stream)
        with zipfile.ZipFile(path) as archive:
            method = archive.getinfo("log_probs.npy").compress_type
        assert method == (zipfile.ZIP_DEFLATED if kind == "npz-deflated" else zipfile.ZIP_STORED)
    else:
        path = tmp_path / "m.safetensors"
        if kind.endswith("-f16"):
            logits = logits.astype(np.float16)
        if kind.endswith("bf16"):
            logits = ((logits.view("<u4") >> 16) << 16).view("<f4")  # exactly representable in bfloat16
            write_safetensors(path, {"tokens": stream.astype("<i4"), "logits": ("BF16", logits)})
        else:
            write_safetensors(path, {"tokens": stream.astype("<i4"), "logits": logits})
    source = open_file_source(str(path))
    assert isinstance(source, ArraySource)
    assert source.vocab_size == 7 and source.positions == 11
    assert source.targets.tolist() == stream[1:].tolist()       # a stream one longer: row i predicts tokens[i+1]
    got = np.concatenate([b.copy() for _, b in source.blocks(rows=3)])
    assert np.array_equal(got, logits.astype(got.dtype)) and got.dtype == (np.float64 if kind == "npz-stored" else np.float32)
    assert source.context(2, 2).tolist() == stream[1:3].tolist()


def test_array_errors(tmp_path):
    rng = np.random.default_rng(3)
    logits, stream = _arrays(rng)
    np.save(tmp_path / "m.npy", logits)
    with pytest.raises(InputError, match="has no token ids"):
        ArraySource(tmp_path / "m.npy")
    with pytest.raises(InputError, match=r"11 rows need 11 target tokens or a stream of 12 \(got 5 tokens\)"):
        ArraySource(tmp_path / "m.npy", tokens=stream[:5])
    logits[4, 2] = np.nan
    np.save(tmp_path / "nan.npy", logits)
    with pytest.raises(DataError, match=r"row 4 has a non-finite value \(nan at token 2\)"):
        list(ArraySource(tmp_path / "nan.npy", tokens=stream).blocks(3))
    write_safetensors(tmp_path / "t.safetensors", {"logits": logits[:, :3], "tokens": stream.astype("<i4")})
    data = (tmp_path / "t.safetensors").read_bytes()
    (tmp_path / "cut.safetensors").write_bytes(data[:-8])
    with pytest.raises(InputError, match="is truncated or inconsistent"):
        ArraySource(tmp_path / "cut.safetensors")
    (tmp_path / "junk.bin").write_bytes(b"hello world, not an array")
    with pytest.raises(InputError, match="is neither .npy, .npz, .safetensors nor a llama.cpp KL base file"):
        open_file_source(str(tmp_path / "junk.bin"))


def test_quantized_source_at_16_bits_is_llama_storage_and_at_4_bits_coarse():
    rng = np.random.default_rng(4)
    logits, stream = _arrays(rng, n=20, v=50)
    base = MemorySource(logits, stream)
    q16 = np.concatenate([b for _, b in QuantizedSource(base, 16).blocks(7)])
    stored = lf.quantize_log_probs(logits)
    assert np.array_equal(q16, lf.dequantize(stored.scale, stored.min_log_prob, stored.codes))
    q4 = np.concatenate([b for _, b in QuantizedSource(base, 4).blocks(7)])
    # 15 steps over 16 nats: every stored value is the floor plus a multiple of the row's step
    steps = (q4 - q4.min(axis=1, keepdims=True)) / ((logits.max(1) - np.maximum(logits.min(1), logits.max(1) - 16)) / 15)[:, None]
    assert np.allclose(steps, np.rint(steps), atol=1e-3) and len(np.unique(np.rint(steps))) <= 16
    with pytest.raises(DataError, match=r"bits must be in 1..16 \(got 17\)"):
        QuantizedSource(base, 17)
