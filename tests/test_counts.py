"""Counts: the record, merging, the counts file (atomic save, checked load), and count_corpus on every input kind."""

import bz2
import gzip
import io
import json
import lzma
import re
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from klcode.errors import DataError, InputError, OutputError
from klcode.text.counts import (
    Counts,
    count_corpus,
    count_tokens,
    is_counts_file,
    load_counts,
    save_counts,
)
from klcode.text.tokenize import TokenizerSpec

GENESIS = Path(__file__).resolve().parent.parent / "corpora" / "genesis"
HINT = "use --encoding ENCODING (e.g. latin-1) or --errors replace"
WORDS, CHARS, BYTES = TokenizerSpec("words"), TokenizerSpec("chars"), TokenizerSpec("bytes")


def write(path: Path, data: bytes | str) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return str(path)


# ------------------------------------------------------------------ the record
def test_counts_record_is_sorted_positive_and_read_only():
    counts = Counts.from_mapping(WORDS, {"b": 2, "a": 3, "z": 0}, ("x.txt",), 9)
    assert counts.symbols == ("a", "b") and counts.counts.tolist() == [3, 2]
    assert counts.total_tokens == 5 and counts.types == 2 and counts.index() == {"a": 0, "b": 1}
    assert counts.counts.dtype == np.int64 and not counts.counts.flags.writeable
    p = counts.distribution()
    assert p.symbols == ("a", "b") and p.probabilities.tolist() == [0.6, 0.4] and p.counts.tolist() == [3, 2]


@pytest.mark.parametrize(
    "args, message",
    [
        ((WORDS, ("b", "a"), [1, 1]), "symbols must be sorted and distinct (got 'b' before 'a')"),
        ((WORDS, ("a", "a"), [1, 1]), "symbols must be sorted and distinct (got 'a' before 'a')"),
        ((WORDS, ("a", "b"), [1, 0]), "counts must be positive (got 0 for 'b')"),
        ((WORDS, ("a",), [1, 2]), "counts must be one per symbol (got 1 symbols, counts of shape (2,))"),
        ((WORDS, ("a",), [1.5]), "counts must be integers (got dtype float64)"),
        ((BYTES, ("a",), [1]), "bytes tokens are 1-unit bytes (got 'a')"),
        ((TokenizerSpec("chars", ngram=2), ("abc",), [1]), "chars, 2-grams, utf-8 tokens are 2-unit str (got 'abc')"),
        ((WORDS, ("",), [1]), "words, utf-8 tokens are non-empty str (got '')"),
    ],
)
def test_counts_validation_messages(args, message):
    with pytest.raises(DataError) as error:
        Counts(*args)
    assert str(error.value) == message


def test_merge_adds_counts_sources_and_bytes():
    a = Counts.from_mapping(CHARS, {"a": 2, "b": 1}, ("a.txt",), 3)
    b = Counts.from_mapping(CHARS, {"b": 5, "c": 1}, ("b.txt",), 6)
    merged = a.merge(b)
    assert merged.as_mapping() == {"a": 2, "b": 6, "c": 1}
    assert merged.sources == ("a.txt", "b.txt") and merged.input_bytes == 9
    with pytest.raises(DataError) as error:
        Counts.from_mapping(WORDS, {"a": 1}).merge(a)
    assert str(error.value) == "cannot merge counts of different tokenizers (words, utf-8 vs chars, utf-8)"


def test_empty_counts_merge_but_have_no_distribution(tmp_path):
    empty = count_tokens([write(tmp_path / "e.txt", b"")], WORDS)
    assert empty.types == 0 and empty.total_tokens == 0 and empty.merge(empty).types == 0
    with pytest.raises(DataError, match=r"^no words, utf-8 tokens in '.*e\.txt': nothing to measure$"):
        empty.distribution()


# ------------------------------------------------------------------ files
@pytest.mark.parametrize(
    "spec, text",
    [
        (BYTES, b"\x00\xff caf\xc3\xa9 \n"),
        (TokenizerSpec("bytes", ngram=2), b"\x00\xff\xfe caf"),
        (CHARS, "naïve € 𝄞 \"quotes\" \\ \u2028".encode()),
        (TokenizerSpec("words", lower=True, ngram=2), "The cat, the CAT — ĉu?".encode()),
        (TokenizerSpec("regex", regex=r"\S+", errors="replace", encoding="latin-1"), b"a b\xe9 c"),
    ],
    ids=lambda value: value.describe() if isinstance(value, TokenizerSpec) else "",
)
def test_save_load_round_trip(tmp_path, spec, text):
    counts = count_tokens([write(tmp_path / "t.txt", text)], spec)
    path = tmp_path / "counts.json"
    save_counts(counts, path)
    loaded = load_counts(path)
    assert loaded.spec == spec and loaded.symbols == counts.symbols
    assert loaded.counts.tolist() == counts.counts.tolist()
    assert loaded.sources == counts.sources and loaded.input_bytes == counts.input_bytes == len(text)
    assert is_counts_file(path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["counts.json", "t.txt"]


def test_counts_file_layout(tmp_path):
    counts = count_tokens([write(tmp_path / "t.txt", b"ab\xe9b")], BYTES)
    save_counts(counts, tmp_path / "c.json")
    document = json.loads((tmp_path / "c.json").read_text(encoding="utf-8"))
    assert list(document) == ["format", "version", "tokenizer", "sources", "input_bytes", "total_tokens", "types", "counts"]
    assert document["format"] == "klcode-counts" and document["version"] == 1
    assert document["tokenizer"] == {"kind": "bytes", "encoding": "utf-8", "errors": "strict", "lower": False, "ngram": 1, "regex": None}
    assert document["counts"] == {"a": 1, "b": 2, "é": 1}  # bytes written as Latin-1 characters
    assert (document["input_bytes"], document["total_tokens"], document["types"]) == (4, 4, 3)


def test_save_is_atomic(tmp_path, monkeypatch):
    import klcode.atomic

    target = tmp_path / "c.json"
    target.write_text("previous content")

    def failing_replace(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(klcode.atomic.os, "replace", failing_replace)
    with pytest.raises(OutputError, match=r"^cannot write '.*c\.json': No space left on device$"):
        save_counts(Counts.from_mapping(WORDS, {"a": 1}), target)
    assert target.read_text() == "previous content"
    assert [p.name for p in tmp_path.iterdir()] == ["c.json"]  # no temporary file left


def test_save_into_a_missing_folder_is_an_output_error(tmp_path):
    with pytest.raises(OutputError, match=r"^cannot write '.*nowhere/c\.json': No such file or directory$"):
        save_counts(Counts.from_mapping(WORDS, {"a": 1}), tmp_path / "nowhere" / "c.json")


def good_document() -> dict:
    return {"format": "klcode-counts", "version": 1, "tokenizer": {"kind": "words"}, "sources": ["a.txt"],
            "input_bytes": 10, "total_tokens": 3, "types": 2, "counts": {"a": 2, "b": 1}}


@pytest.mark.parametrize(
    "change, error, message",
    [
        (lambda d: "{not json", InputError, "'{path}' is not valid JSON (Expecting property name enclosed in double quotes: line 1 column 2 (char 1))"),
        (lambda d: {"a": 0.5}, InputError, "'{path}' is not a klcode counts file (no \"format\": \"klcode-counts\")"),
        (lambda d: {**d, "version": 2}, DataError, "'{path}' is a counts file of version 2; this klcode reads version 1"),
        (lambda d: {**d, "tokenizer": {"kind": "runes"}}, DataError, "'{path}': bad tokenizer: unknown token kind 'runes' (choose from bytes, chars, words, regex)"),
        (lambda d: {**d, "counts": {"a": 2, "b": -1}}, DataError, "'{path}': the count of 'b' must be a positive integer (got -1)"),
        (lambda d: {**d, "counts": {"a": 2, "b": True}}, DataError, "'{path}': the count of 'b' must be a positive integer (got True)"),
        (lambda d: {**d, "counts": [["a", 2]]}, DataError, "'{path}': \"counts\" must be a mapping token → count (got list)"),
        (lambda d: {**d, "total_tokens": 4}, DataError, "'{path}' says \"total_tokens\": 4, but its counts give 3"),
        (lambda d: {**d, "tokenizer": {"kind": "bytes"}, "counts": {"€": 1}}, DataError, "'{path}': byte token '€' has a character above U+00FF"),
        (lambda d: json.dumps(d)[:-1] + ', "counts": {}}', DataError, "'{path}' has the key 'counts' twice"),
    ],
)
def test_load_errors_are_one_line(tmp_path, change, error, message):
    path = tmp_path / "c.json"
    document = change(good_document())
    path.write_text(document if isinstance(document, str) else json.dumps(document), encoding="utf-8")
    with pytest.raises(error) as raised:
        load_counts(path)
    assert str(raised.value) == message.format(path=path)


def test_is_counts_file(tmp_path):
    (tmp_path / "c.json").write_text(json.dumps(good_document()))
    (tmp_path / "p.json").write_text('{"a": 0.5, "b": 0.5}')
    (tmp_path / "c.txt").write_text(json.dumps(good_document()))
    assert load_counts(tmp_path / "c.json").as_mapping() == {"a": 2, "b": 1}
    assert is_counts_file(tmp_path / "c.json")
    assert not is_counts_file(tmp_path / "p.json") and not is_counts_file(tmp_path / "c.txt")
    assert not is_counts_file("-") and not is_counts_file(tmp_path / "missing.json") and not is_counts_file(tmp_path)


# ------------------------------------------------------------------ count_corpus on every input kind
def test_count_corpus_of_files_directories_and_compressed_files(tmp_path):
    text = "one fish two fish red fish blue fish\n"
    write(tmp_path / "corpus" / "a.txt", text)
    write(tmp_path / "corpus" / "deep" / "b.txt.gz", gzip.compress(text.encode()))
    write(tmp_path / "corpus" / "c.bz2", bz2.compress(text.encode()))
    write(tmp_path / "corpus" / "d.xz", lzma.compress(text.encode()))
    counts = count_corpus([str(tmp_path / "corpus")], WORDS)
    assert counts.as_mapping() == {"blue": 4, "fish": 16, "one": 4, "red": 4, "two": 4}
    assert counts.input_bytes == 4 * len(text)
    assert [Path(s).name for s in counts.sources] == ["a.txt", "c.bz2", "d.xz", "b.txt.gz"]
    seen = []
    again = count_corpus([str(tmp_path / "corpus" / "a.txt"), str(tmp_path / "corpus" / "d.xz")], CHARS, progress=seen.append)
    assert again.as_mapping() == dict(Counter(text * 2)) and sum(seen) == 2 * len(text)


def test_count_corpus_reads_stdin(monkeypatch, tmp_path):
    class FakeStdin:
        buffer = io.BytesIO(b"from stdin, from stdin")

    monkeypatch.setattr(sys, "stdin", FakeStdin())
    other = write(tmp_path / "x.txt", "and a file")
    counts = count_corpus(["-", other], WORDS)
    assert counts.as_mapping() == {"a": 1, "and": 1, "file": 1, "from": 2, "stdin": 2}
    assert counts.sources == ("<stdin>", other)
    assert count_corpus(["-"], WORDS).as_mapping() == {"from": 2, "stdin": 2}  # stdin read a second time


def test_count_corpus_loads_and_merges_counts_files(tmp_path):
    a = write(tmp_path / "a.txt", "to be or not to be")
    b = write(tmp_path / "b.txt", "to see")
    saved = tmp_path / "a.json"
    save_counts(count_corpus([a], WORDS), saved)
    from_file = count_corpus([str(saved)], WORDS)
    assert from_file.as_mapping() == {"be": 2, "not": 1, "or": 1, "to": 2}
    mixed = count_corpus([str(saved), b], WORDS)
    assert mixed.as_mapping() == count_corpus([a, b], WORDS).as_mapping()
    assert mixed.sources == (a, b) and mixed.input_bytes == 24
    with pytest.raises(DataError) as error:
        count_corpus([str(saved)], TokenizerSpec("words", lower=True))
    assert str(error.value) == (
        f"'{saved}' was counted with words, utf-8, not words, lower-cased, utf-8; "
        f"count the corpus again with these tokenizer options"
    )


def test_count_corpus_input_errors(tmp_path):
    with pytest.raises(InputError, match=r"^no input given$"):
        count_corpus([], WORDS)
    with pytest.raises(InputError, match=r"^cannot read '.*missing\.txt': no such file$"):
        count_corpus([str(tmp_path / "missing.txt")], WORDS)


def test_genesis_french_fails_as_utf_8_and_counts_as_latin_1():
    path = str(GENESIS / "french.txt")
    for kind in ("chars", "words"):
        with pytest.raises(InputError) as error:
            count_corpus([path], TokenizerSpec(kind))
        assert str(error.value) == f"cannot decode '{path}' as utf-8 at byte offset 24 (byte 0xe9); {HINT}"
    words = count_corpus([path], TokenizerSpec("words", encoding="latin-1"))
    assert words.as_mapping()["créa"] >= 1 and words.as_mapping()["Dieu"] > 100
    text = (GENESIS / "french.txt").read_bytes().decode("latin-1")
    assert words.total_tokens == len(re.findall(r"\w+", text))
    chars = count_corpus([path], TokenizerSpec("chars", encoding="latin-1"))
    assert chars.as_mapping() == dict(Counter(text)) and chars.input_bytes == len(text)


def test_genesis_swedish_counts_as_cp437():
    words = count_corpus([str(GENESIS / "swedish.txt")], TokenizerSpec("words", encoding="cp437", lower=True))
    mapping = words.as_mapping()
    assert mapping["öde"] >= 1 and mapping["mörker"] >= 1 and mapping["gud"] > 100
