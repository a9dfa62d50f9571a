"""Tokenizers: the spec, every token kind on known inputs, chunk borders, fast paths, ids and labels."""

import re
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

import klcode.text.tokenize as tokenize
from klcode.errors import DataError, InputError
from klcode.text.tokenize import (
    TokenizerSpec,
    iter_tokens,
    symbol_label,
    tally_tokens,
    token_ids,
)

CORPORA = Path(__file__).resolve().parent.parent / "corpora"
HINT = "use --encoding ENCODING (e.g. latin-1) or --errors replace"


def write(tmp_path, data: bytes | str, name: str = "t.txt") -> str:
    path = tmp_path / name
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return str(path)


def stream(paths, spec, chunk_bytes=1 << 22) -> list:
    """Every token in order, as symbols (bytes or str)."""
    tokens = []
    for chunk in iter_tokens(paths, spec, chunk_bytes):
        if isinstance(chunk, np.ndarray):
            tokens.extend(bytes([b]) for b in chunk.tolist()) if chunk.dtype == np.uint8 else tokens.extend(map(chr, chunk.tolist()))
        else:
            tokens.extend(chunk)
    return tokens


def counts(paths, spec, chunk_bytes=1 << 22) -> dict:
    symbols, values = tally_tokens(paths, spec, chunk_bytes)
    assert list(symbols) == sorted(symbols) and values.dtype == np.int64 and (values > 0).all()
    return dict(zip(symbols, values.tolist()))


def expected_tokens(data: bytes, spec: TokenizerSpec) -> list:
    """The definition of each kind, applied to the whole file at once."""
    k = spec.ngram
    if spec.kind == "bytes":
        return [data[i : i + k] for i in range(len(data) - k + 1)]
    text = data.decode(spec.encoding, spec.errors)
    text = text.lower() if spec.lower else text
    if spec.kind == "chars":
        return [text[i : i + k] for i in range(len(text) - k + 1)]
    matches = [m.group() for m in (spec.pattern.finditer(text)) if m.group()]
    return [" ".join(matches[i : i + k]) for i in range(len(matches) - k + 1)]


# ------------------------------------------------------------------ the spec
@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"kind": "syllables"}, "unknown token kind 'syllables' (choose from bytes, chars, words, regex)"),
        ({"ngram": 0}, "n-gram length must be between 1 and 16 (got 0)"),
        ({"ngram": 17}, "n-gram length must be between 1 and 16 (got 17)"),
        ({"ngram": True}, "n-gram length must be an integer (got True)"),
        ({"kind": "regex"}, "regex tokens need a --regex (got None)"),
        ({"kind": "regex", "regex": "("}, "invalid --regex '(': missing ), unterminated subpattern at position 0"),
        ({"kind": "words", "regex": r"\d+"}, "--regex applies to regex tokens only (got it with words tokens)"),
        ({"kind": "bytes", "lower": True}, "--lower applies to text tokens (chars, words, regex), not to bytes"),
        ({"kind": "chars", "encoding": "klingon"}, "unknown encoding 'klingon'"),
        ({"kind": "chars", "errors": "ignore"}, "--errors must be one of strict, replace (got 'ignore')"),
    ],
)
def test_spec_validation_messages(kwargs, message):
    with pytest.raises(DataError) as error:
        TokenizerSpec(**kwargs)
    assert str(error.value) == message


def test_spec_equality_describe_and_dict_round_trip():
    assert TokenizerSpec("chars", encoding="latin-1") == TokenizerSpec("chars", encoding="L1")
    assert TokenizerSpec("chars", encoding="latin-1") != TokenizerSpec("chars", encoding="cp437")
    assert TokenizerSpec("bytes", encoding="latin-1") == TokenizerSpec("bytes")  # bytes are not decoded
    assert len({TokenizerSpec("words"), TokenizerSpec("words", encoding="UTF8"), TokenizerSpec("words", lower=True)}) == 2
    spec = TokenizerSpec("regex", encoding="cp437", errors="replace", lower=True, ngram=3, regex=r"[a-z]+")
    assert spec.describe() == "regex /[a-z]+/, lower-cased, 3-grams, cp437, undecodable bytes replaced"
    assert TokenizerSpec("bytes", ngram=2).describe() == "bytes, 2-grams"
    assert TokenizerSpec.from_dict(spec.to_dict()) == spec
    assert spec.to_dict() == {"kind": "regex", "encoding": "cp437", "errors": "replace", "lower": True, "ngram": 3, "regex": "[a-z]+"}
    with pytest.raises(DataError, match=r"unknown tokenizer field 'case' \(expected kind, encoding"):
        TokenizerSpec.from_dict({"kind": "words", "case": "lower"})


# ------------------------------------------------------------------ every kind on known inputs
TEXT = "The cat sat. THE CAT! the end, é café"


@pytest.mark.parametrize(
    "spec, expected",
    [
        (TokenizerSpec("bytes"), Counter(TEXT.encode()[i : i + 1] for i in range(len(TEXT.encode())))),
        (TokenizerSpec("bytes", ngram=2), {b"ab": 2, b"ba": 1, b"b\xc3": 1, b"\xc3\xa9": 1}),
        (TokenizerSpec("chars"), Counter(TEXT)),
        (TokenizerSpec("chars", lower=True), Counter(TEXT.lower())),
        (TokenizerSpec("chars", ngram=3), None),
        (TokenizerSpec("words"), {"The": 1, "cat": 1, "sat": 1, "THE": 1, "CAT": 1, "the": 1, "end": 1, "é": 1, "café": 1}),
        (TokenizerSpec("words", lower=True), {"the": 3, "cat": 2, "sat": 1, "end": 1, "é": 1, "café": 1}),
        (TokenizerSpec("words", lower=True, ngram=2),
         {"the cat": 2, "cat sat": 1, "sat the": 1, "cat the": 1, "the end": 1, "end é": 1, "é café": 1}),
        (TokenizerSpec("regex", regex=r"[A-Z]+"), {"T": 1, "THE": 1, "CAT": 1}),
        (TokenizerSpec("regex", regex=r"[.!,]"), {".": 1, "!": 1, ",": 1}),
        (TokenizerSpec("regex", regex=r"(c)(a)?|é", lower=True, ngram=2), {"ca ca": 1, "ca é": 2, "é ca": 1}),
    ],
)
def test_every_tokenizer_on_a_known_text(tmp_path, spec, expected):
    data = b"abab\xc3\xa9" if spec.kind == "bytes" and spec.ngram == 2 else TEXT.encode()
    path = write(tmp_path, data)
    if expected is None:
        expected = Counter(TEXT[i : i + 3] for i in range(len(TEXT) - 2))
    assert counts([path], spec) == dict(expected)
    assert Counter(stream([path], spec)) == Counter(expected)


def test_chars_count_code_points_not_bytes(tmp_path):
    path = write(tmp_path, "añ€𝄞a")
    assert counts([path], TokenizerSpec("chars")) == {"a": 2, "ñ": 1, "€": 1, "𝄞": 1}
    chunks = list(iter_tokens([path], TokenizerSpec("chars")))
    assert all(chunk.dtype == np.uint32 for chunk in chunks)
    assert np.concatenate(chunks).tolist() == [97, 241, 8364, 119070, 97]


def test_byte_tokens_come_as_uint8_arrays_and_byte_ngrams_as_bytes(tmp_path):
    path = write(tmp_path, b"\x00\xffab")
    (chunk,) = iter_tokens([path], TokenizerSpec("bytes"))
    assert chunk.dtype == np.uint8 and chunk.tolist() == [0, 255, 97, 98]
    assert stream([path], TokenizerSpec("bytes", ngram=3)) == [b"\x00\xffa", b"\xffab"]


def test_ngrams_restart_at_each_file(tmp_path):
    a, b = write(tmp_path, "ab", "a.txt"), write(tmp_path, "cd", "b.txt")
    assert stream([a, b], TokenizerSpec("chars", ngram=2)) == ["ab", "cd"]
    assert stream([a, b], TokenizerSpec("bytes", ngram=2)) == [b"ab", b"cd"]
    a, b = write(tmp_path, "one two", "a.txt"), write(tmp_path, "three", "b.txt")
    assert stream([a, b], TokenizerSpec("words", ngram=2)) == ["one two"]


def test_words_never_run_across_files(tmp_path):
    a, b = write(tmp_path, "sun", "a.txt"), write(tmp_path, "flower", "b.txt")
    assert stream([a, b], TokenizerSpec("words")) == ["sun", "flower"]


def test_empty_regex_matches_are_not_tokens(tmp_path):
    path = write(tmp_path, "ab  c")
    assert stream([path], TokenizerSpec("regex", regex=r"\w*")) == ["ab", "c"]


# ------------------------------------------------------------------ chunk borders
BORDER_SPECS = [
    TokenizerSpec("bytes"),
    TokenizerSpec("bytes", ngram=3),
    TokenizerSpec("chars"),
    TokenizerSpec("chars", lower=True),
    TokenizerSpec("chars", ngram=2),
    TokenizerSpec("words"),
    TokenizerSpec("words", lower=True),
    TokenizerSpec("words", ngram=3),
    TokenizerSpec("regex", regex=r"(?<=\s)\w{1,4}\b|[.,;:]"),
    TokenizerSpec("regex", regex=r"(\w)(\w)?", lower=True, ngram=2),
]


@pytest.fixture(scope="module")
def border_texts(tmp_path_factory):
    """Real texts with multi-byte characters (Greek with final sigma, Russian, French in UTF-8)."""
    folder = tmp_path_factory.mktemp("border")
    sources = {
        "ell.txt": (CORPORA / "udhr" / "ell_monotonic.txt").read_bytes()[:2500],
        "rus.txt": (CORPORA / "udhr" / "rus.txt").read_bytes()[:2000],
        "fra.txt": (CORPORA / "genesis" / "french.txt").read_bytes()[:1500].decode("latin-1").encode(),
        "alice.txt": (CORPORA / "canterbury" / "alice29.txt").read_bytes()[:1500],
    }
    for name, data in sources.items():
        (folder / name).write_bytes(data.decode("utf-8", "ignore").encode())  # no character cut at the end
    return [str(folder / name) for name in sources]


@pytest.mark.parametrize("spec", BORDER_SPECS, ids=lambda spec: spec.describe())
@pytest.mark.parametrize("chunk_bytes", [7, 13])
def test_tokens_split_across_chunk_borders_come_out_once_whole(monkeypatch, border_texts, spec, chunk_bytes):
    monkeypatch.setattr(tokenize, "REGEX_TAIL_CHARS", 12)  # exercise the regex carry on short texts
    monkeypatch.setattr(tokenize, "REGEX_CONTEXT_CHARS", 3)
    expected = [token for path in border_texts for token in expected_tokens(Path(path).read_bytes(), spec)]
    assert stream(border_texts, spec, chunk_bytes) == expected
    assert counts(border_texts, spec, chunk_bytes) == dict(Counter(expected))


@pytest.mark.parametrize("chunk_bytes", [1, 2, 3])
def test_a_multibyte_character_split_across_chunks_is_one_token(tmp_path, chunk_bytes):
    text = "aé€𝄞 x𝄞"
    path = write(tmp_path, text)
    assert stream([path], TokenizerSpec("chars"), chunk_bytes) == list(text)
    assert counts([path], TokenizerSpec("chars"), chunk_bytes) == dict(Counter(text))
    assert stream([path], TokenizerSpec("words"), chunk_bytes) == re.findall(r"\w+", text) == ["aé", "x"]


@pytest.mark.parametrize("spec", [TokenizerSpec("chars", ngram=3), TokenizerSpec("chars", ngram=4), TokenizerSpec("bytes", ngram=8),
                                  TokenizerSpec("bytes", ngram=2), TokenizerSpec("chars", ngram=2, lower=True)], ids=lambda s: s.describe())
def test_packed_ngram_counts_match_the_definition(tmp_path, monkeypatch, spec):
    monkeypatch.setattr(tokenize._KeyTally, "PENDING_KEYS", 5)  # merge often
    text = "Ab𝄞é€ab𝄞é€ ÉCOLE école 𝄞𝄞𝄞 " * 7
    path = write(tmp_path, text)
    expected = Counter(expected_tokens(text.encode(), spec))
    for chunk_bytes in (3, 11, 1 << 20):
        assert counts([path], spec, chunk_bytes) == dict(expected)


def test_a_word_longer_than_the_limit_is_cut(tmp_path, monkeypatch):
    monkeypatch.setattr(tokenize, "MAX_TOKEN_CHARS", 10)
    path = write(tmp_path, "a" * 25 + " b")
    assert stream([path], TokenizerSpec("words"), chunk_bytes=4) == ["a" * 12, "a" * 12, "a", "b"]


def test_a_regex_match_longer_than_the_limit_is_an_error(tmp_path, monkeypatch):
    monkeypatch.setattr(tokenize, "MAX_TOKEN_CHARS", 30)
    monkeypatch.setattr(tokenize, "REGEX_TAIL_CHARS", 5)
    path = write(tmp_path, "x" * 100)
    with pytest.raises(DataError, match=r"^--regex 'x\+' matches more than 30 characters at once in '.*t\.txt'"):
        stream([path], TokenizerSpec("regex", regex="x+"), chunk_bytes=8)


def test_progress_reports_every_byte_read(tmp_path):
    path = write(tmp_path, "héllo wörld " * 100)
    for spec in (TokenizerSpec("bytes"), TokenizerSpec("chars"), TokenizerSpec("words")):
        seen = []
        tally_tokens([path], spec, chunk_bytes=100, progress=seen.append)
        assert sum(seen) == 1400 and max(seen) == 100


# ------------------------------------------------------------------ decoding in tokenizers
def test_undecodable_input_names_file_offset_and_encoding(tmp_path):
    data = b"good text here " * 5 + b"caf\xe9"
    path = write(tmp_path, data)
    for spec in (TokenizerSpec("chars"), TokenizerSpec("words"), TokenizerSpec("regex", regex="."), TokenizerSpec("chars", ngram=2)):
        with pytest.raises(InputError) as error:
            tally_tokens([path], spec, chunk_bytes=16)
        assert str(error.value) == f"cannot decode '{path}' as utf-8 at byte offset 78 (byte 0xe9); {HINT}"
    assert counts([path], TokenizerSpec("bytes"))[b"\xe9"] == 1  # bytes always work
    assert counts([path], TokenizerSpec("words", errors="replace"))["caf"] == 1
    assert counts([path], TokenizerSpec("chars", errors="replace"))["\ufffd"] == 1


@pytest.mark.parametrize(
    "encoding, data, offset",
    [("ascii", b"plain text\x80", 10), ("cp1252", b"abc \x81 def", 4), ("utf-8", b"abcdefgh\xc3(", 8)],
)
def test_fast_paths_still_report_undecodable_bytes(tmp_path, encoding, data, offset):
    path = write(tmp_path, data)
    with pytest.raises(InputError, match=rf"as {encoding} at byte offset {offset} \(byte 0x{data[offset]:02x}\)"):
        tally_tokens([path], TokenizerSpec("chars", encoding=encoding), chunk_bytes=4)
    replaced = counts([path], TokenizerSpec("chars", encoding=encoding, errors="replace"), chunk_bytes=4)
    assert replaced == dict(Counter(data.decode(encoding, "replace")))


@pytest.mark.parametrize("encoding", ["latin-1", "cp437", "cp1252", "mac-roman", "utf-8", "utf-16", "shift_jis"])
def test_chars_in_every_encoding_match_the_decoded_text(tmp_path, encoding):
    candidates = "Öde och tom — naïve café ½ ∑ 天地創造 かな abc"
    text = "".join(c for c in candidates if c.encode(encoding, "ignore").decode(encoding) == c) * 20
    assert len(set(text)) > 15
    path = write(tmp_path, text.encode(encoding))
    for chunk_bytes in (5, 64, 1 << 20):
        assert stream([path], TokenizerSpec("chars", encoding=encoding), chunk_bytes) == list(text)
        assert counts([path], TokenizerSpec("chars", encoding=encoding), chunk_bytes) == dict(Counter(text))


# ------------------------------------------------------------------ ids
@pytest.mark.parametrize(
    "spec",
    [TokenizerSpec("bytes"), TokenizerSpec("chars"), TokenizerSpec("words"), TokenizerSpec("bytes", ngram=2), TokenizerSpec("chars", ngram=2)],
    ids=lambda spec: spec.describe(),
)
def test_token_ids_map_back_to_the_tokens(border_texts, spec):
    symbols, _ = tally_tokens(border_texts, spec)
    index = {symbol: i for i, symbol in enumerate(symbols)}
    ids = np.concatenate(list(token_ids(iter_tokens(border_texts, spec, chunk_bytes=100), index)))
    assert ids.dtype == (np.uint8 if len(index) <= 256 else np.int64)
    assert [symbols[i] for i in ids.tolist()] == stream(border_texts, spec)


def test_token_ids_of_a_wider_vocabulary_and_missing_tokens():
    index = {b"a": 5, b"b": 7}
    assert next(token_ids([np.frombuffer(b"abba", np.uint8)], index)).tolist() == [5, 7, 7, 5]
    with pytest.raises(DataError, match=r"^token 'c' is not in the vocabulary \(of 2 symbols\)$"):
        next(token_ids([np.frombuffer(b"abc", np.uint8)], index))
    index = {chr(c): c for c in range(300)}
    (ids,) = token_ids([np.array([0, 299, 65], dtype=np.uint32)], index)
    assert ids.dtype == np.int64 and ids.tolist() == [0, 299, 65]
    with pytest.raises(DataError, match=r"^token '€' is not in the vocabulary"):
        next(token_ids([np.array([8364], dtype=np.uint32)], index))
    with pytest.raises(DataError, match=r"^token 'the end' is not in the vocabulary"):
        next(token_ids([["the end"]], {"the": 0}))


# ------------------------------------------------------------------ labels
def test_symbol_labels():
    assert symbol_label(b"a") == "a" and symbol_label(b"\n") == "\\n" and symbol_label(b"\xe9") == "\\xe9"
    assert symbol_label(b"ab\xc3\xa9") == "ab\\xc3\\xa9" and symbol_label(b"a b") == "a b"
    assert symbol_label(" ") == "' '" and symbol_label(b" ") == "' '" and symbol_label("   ") == "'   '"
    assert symbol_label("of the") == "of the" and symbol_label("é\t") == "é\\t" and symbol_label("\u2028") == "\\u2028"
