"""Reading corpora: sources, compressed files, stdin, chunks, and decoding with exact error messages."""

import bz2
import gzip
import io
import lzma
import os
import sys
from pathlib import Path

import pytest

from klcode.errors import InputError
from klcode.text.corpus import (
    Source,
    TextDecoder,
    decode_text,
    expand_sources,
    iter_chunks,
    iter_text,
    open_source,
)

GENESIS = Path(__file__).resolve().parent.parent / "corpora" / "genesis"
HINT = "use --encoding ENCODING (e.g. latin-1) or --errors replace"


def write(path: Path, data: bytes) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return str(path)


class FakeStdin:
    """What sys.stdin offers klcode: a binary .buffer."""

    def __init__(self, data: bytes) -> None:
        self.buffer = io.BytesIO(data)


# ------------------------------------------------------------------ sources
def test_a_file_is_one_source_labelled_as_given(tmp_path):
    path = write(tmp_path / "a.txt", b"x")
    assert expand_sources([path]) == (Source(path, path),)


def test_directories_are_walked_recursively_in_sorted_order_skipping_hidden(tmp_path):
    for name in ["d/b.txt", "d/a/z.txt", "d/a/y/x.txt", "d/c.txt", "d/.hidden", "d/.git/config", "d/a/.swp"]:
        write(tmp_path / name, b"x")
    (tmp_path / "d" / "empty").mkdir()
    labels = [source.label for source in expand_sources([str(tmp_path / "d")])]
    assert labels == [str(tmp_path / "d" / name) for name in ["a/y/x.txt", "a/z.txt", "b.txt", "c.txt"]]


def test_several_paths_and_stdin_keep_their_order(tmp_path):
    a, b = write(tmp_path / "a.txt", b"1"), write(tmp_path / "sub" / "b.txt", b"2")
    sources = expand_sources([b, "-", str(tmp_path / "sub"), a])
    assert [s.label for s in sources] == [b, "<stdin>", b, a]
    assert sources[1].is_stdin and sources[1].path == "-"


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda tmp: [], "no input given"),
        (lambda tmp: [str(tmp / "missing.txt")], "cannot read '{tmp}/missing.txt': no such file"),
        (lambda tmp: [str(tmp / "hollow")], "no files under directory '{tmp}/hollow'"),
        (lambda tmp: ["-", "-"], "stdin ('-') can be given only once"),
    ],
)
def test_source_errors_are_one_line(tmp_path, make, message):
    (tmp_path / "hollow" / ".hidden").mkdir(parents=True)
    with pytest.raises(InputError) as error:
        expand_sources(make(tmp_path))
    assert str(error.value) == message.format(tmp=tmp_path)


# ------------------------------------------------------------------ reading
@pytest.mark.parametrize("suffix, compress", [("", bytes), (".gz", gzip.compress), (".bz2", bz2.compress), (".xz", lzma.compress)])
def test_compressed_files_read_transparently_in_chunks(tmp_path, suffix, compress):
    data = bytes(range(256)) * 40
    path = write(tmp_path / f"t.bin{suffix}", compress(data))
    seen = []
    chunks = list(iter_chunks(path, chunk_bytes=1000, progress=seen.append))
    assert b"".join(chunks) == data
    assert max(map(len, chunks)) <= 1000 and sum(seen) == len(data) == 10240
    with open_source(path) as stream:
        assert stream.read() == data


@pytest.mark.parametrize("suffix, kind", [(".gz", "gzip"), (".bz2", "bz2"), (".xz", "xz")])
def test_corrupt_compressed_files_name_the_file(tmp_path, suffix, kind):
    path = write(tmp_path / f"bad{suffix}", b"hello, not compressed at all")
    with pytest.raises(InputError) as error:
        list(iter_chunks(path))
    assert str(error.value).startswith(f"cannot read '{path}': not valid {kind} data (")
    assert "\n" not in str(error.value)


def test_truncated_gzip_is_an_input_error(tmp_path):
    data = gzip.compress(os.urandom(5000))
    path = write(tmp_path / "cut.gz", data[: len(data) // 2])
    with pytest.raises(InputError, match=r"^cannot read '.*cut\.gz': not valid gzip data \(Compressed file ended"):
        list(iter_chunks(path, chunk_bytes=512))


def test_stdin_is_spooled_once_and_can_be_read_twice(monkeypatch):
    data = "é".encode() * 3000
    monkeypatch.setattr(sys, "stdin", FakeStdin(data))
    first = b"".join(iter_chunks("-", chunk_bytes=777))
    second = b"".join(iter_chunks(Source("-", "<stdin>"), chunk_bytes=4096))
    assert first == second == data
    assert "".join(iter_text("-", chunk_bytes=5)) == "é" * 3000
    monkeypatch.setattr(sys, "stdin", FakeStdin(b"new"))  # a new stdin is spooled afresh
    assert b"".join(iter_chunks("-")) == b"new"


def test_read_errors_of_plain_files(tmp_path):
    with pytest.raises(InputError, match=r"^cannot read '.*nothing\.txt': no such file$"):
        list(iter_chunks(str(tmp_path / "nothing.txt")))
    with pytest.raises(InputError, match=r"^cannot read '.*': it is a directory$"):
        list(iter_chunks(str(tmp_path)))
    with pytest.raises(InputError, match=r"chunk size must be at least 1 byte \(got 0\)"):
        list(iter_chunks(str(tmp_path), chunk_bytes=0))


# ------------------------------------------------------------------ decoding
def test_decode_text_message_is_exact():
    with pytest.raises(InputError) as error:
        decode_text(b"caf\xe9", "utf-8", "menu.txt")
    assert str(error.value) == f"cannot decode 'menu.txt' as utf-8 at byte offset 3 (byte 0xe9); {HINT}"
    assert decode_text(b"caf\xe9", "utf-8", "menu.txt", errors="replace") == "caf\ufffd"
    with pytest.raises(InputError, match=r"^unknown encoding 'klingon'$"):
        decode_text(b"x", "klingon", "menu.txt")
    with pytest.raises(InputError, match=r"^'base64' is not a text encoding$"):
        decode_text(b"x", "base64", "menu.txt")


@pytest.mark.parametrize("chunk_bytes", [1, 2, 3, 5, 64])
def test_decode_errors_give_the_absolute_offset_in_any_chunk(tmp_path, chunk_bytes):
    data = "naïve café ".encode() * 3 + b"ok \xff tail"
    path = write(tmp_path / "t.txt", data)
    with pytest.raises(InputError) as error:
        list(iter_text(path, "utf-8", chunk_bytes=chunk_bytes))
    offset = data.index(b"\xff")
    assert offset == 42  # 3 × 13 bytes of "naïve café " + "ok "
    assert str(error.value) == f"cannot decode '{path}' as utf-8 at byte offset {offset} (byte 0xff); {HINT}"


@pytest.mark.parametrize("chunk_bytes", [1, 2, 4])
def test_a_multibyte_character_split_across_chunks_decodes_whole(tmp_path, chunk_bytes):
    text = "a€b𝄞c é"
    path = write(tmp_path / "t.txt", text.encode())
    assert "".join(iter_text(path, chunk_bytes=chunk_bytes)) == text


def test_a_truncated_sequence_at_the_end_of_the_file_is_reported_where_it_starts(tmp_path):
    path = write(tmp_path / "t.txt", b"abc\xe2\x82")
    with pytest.raises(InputError, match=r"at byte offset 3 \(byte 0xe2\)"):
        list(iter_text(path, chunk_bytes=2))
    assert "".join(iter_text(path, errors="replace")) == "abc\ufffd"


def test_decoder_skip_keeps_offsets_absolute():
    decoder = TextDecoder("utf-8", "strict", "x")
    decoder.skip(10)
    with pytest.raises(InputError, match="at byte offset 12 "):
        decoder.decode(b"ab\x80")


def test_genesis_french_is_latin_1_not_utf_8():
    path = str(GENESIS / "french.txt")
    with pytest.raises(InputError) as error:
        list(iter_text(path, "utf-8", chunk_bytes=16))
    assert str(error.value) == f"cannot decode '{path}' as utf-8 at byte offset 24 (byte 0xe9); {HINT}"
    text = "".join(iter_text(path, "latin-1"))
    assert text.startswith("Au commencement, Dieu créa les cieux et la terre.")
    assert len(text) == os.path.getsize(path)


def test_genesis_swedish_reads_as_cp437():
    text = "".join(iter_text(str(GENESIS / "swedish.txt"), "cp437", chunk_bytes=1000))
    assert "Och jorden var öde och tom, och mörker var över djupet" in text
