"""Counting on a Dask cluster (klcode.text.distributed, klcode count --dask) equals the serial count, byte for byte."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from klcode.text.corpus import Source
from klcode.text.counts import count_corpus, save_counts
from klcode.text.distributed import ByteRange, count_corpus_distributed, partitions
from klcode.text.tokenize import TokenizerSpec

distributed = pytest.importorskip("distributed")

CORPORA = Path(__file__).resolve().parent.parent / "corpora"


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=":0",
                                       silence_logs=50)
    client = distributed.Client(cluster, timeout=30)
    yield client
    client.close()
    cluster.close()


@pytest.fixture()
def utf8_file(tmp_path) -> Path:
    """A UTF-8 text whose 100-byte partition borders fall inside multi-byte characters and words."""
    line = "Ελληνικά λόγια και Σίσυφος, naïve café — 東京 ΟΔΟΣ\n"
    text = "".join(line[i:] + line[:i] for i in range(0, 40, 3))
    path = tmp_path / "mixed.txt"
    path.write_bytes(text.encode("utf-8"))
    data = path.read_bytes()
    assert any(data[border] & 0xC0 == 0x80 for border in range(100, len(data), 100))  # a border inside a character
    return path


def _same(a, b) -> None:
    assert a.symbols == b.symbols
    assert np.array_equal(a.counts, b.counts)
    assert a.sources == b.sources and a.input_bytes == b.input_bytes and a.spec == b.spec


@pytest.mark.parametrize("spec", [
    TokenizerSpec("bytes"), TokenizerSpec("bytes", ngram=3), TokenizerSpec("chars"), TokenizerSpec("chars", lower=True),
    TokenizerSpec("words"), TokenizerSpec("words", lower=True), TokenizerSpec("words", ngram=2),
])
def test_distributed_count_equals_serial_across_cut_characters(client, utf8_file, spec):
    parts = partitions([Source.of(str(utf8_file))], spec, partition_bytes=100)
    assert len(parts) > 1 or spec.ngram > 1 and spec.kind == "words"
    _same(count_corpus_distributed([utf8_file], spec, client, partition_bytes=100), count_corpus([utf8_file], spec))


def test_text_partitions_end_after_newlines(utf8_file):
    data = utf8_file.read_bytes()
    parts = partitions([Source.of(str(utf8_file))], TokenizerSpec("words"), partition_bytes=100)
    assert all(isinstance(part, ByteRange) for part in parts)
    assert parts[0].start == 0 and parts[-1].end == len(data)
    assert all(data[part.end - 1] == 0x0A for part in parts[:-1])
    assert all(a.end == b.start for a, b in zip(parts, parts[1:]))


def test_byte_partitions_cut_anywhere_and_overlap_for_ngrams(utf8_file):
    parts = partitions([Source.of(str(utf8_file))], TokenizerSpec("bytes", ngram=4), partition_bytes=100)
    assert [part.start for part in parts[:3]] == [0, 100, 200] and parts[0].overlap == 3


@pytest.mark.parametrize("kind", ["bytes", "words", "chars"])
def test_bundled_corpora_counts_files_are_identical(client, tmp_path, kind):
    spec = TokenizerSpec(kind, encoding="latin-1")
    paths = [CORPORA / "genesis", CORPORA / "udhr"]
    serial, dask = tmp_path / "serial.json", tmp_path / "dask.json"
    save_counts(count_corpus(paths, spec), serial)
    save_counts(count_corpus_distributed(paths, spec, client, partition_bytes=50_000), dask)
    assert serial.read_bytes() == dask.read_bytes()


def test_counts_files_among_the_inputs_are_merged_as_serially(client, tmp_path, utf8_file):
    spec = TokenizerSpec("words")
    saved = tmp_path / "saved.json"
    save_counts(count_corpus([CORPORA / "genesis" / "english-kjv.txt"], spec), saved)
    _same(count_corpus_distributed([utf8_file, saved], spec, client, partition_bytes=100),
          count_corpus([utf8_file, saved], spec))


def test_regex_and_compressed_inputs_are_whole_file_partitions(tmp_path):
    import gzip

    path = tmp_path / "t.txt.gz"
    path.write_bytes(gzip.compress(b"a b c\n" * 100))
    assert partitions([Source.of(str(path))], TokenizerSpec("bytes"), 10) == [Source.of(str(path))]
    plain = tmp_path / "t.txt"
    plain.write_bytes(b"a b c\n" * 100)
    assert partitions([Source.of(str(plain))], TokenizerSpec("regex", regex=r"\S+"), 10) == [Source.of(str(plain))]


def test_standard_input_is_refused():
    from klcode.errors import InputError

    with pytest.raises(InputError, match="standard input cannot be split"):
        partitions([Source.of("-")], TokenizerSpec("bytes"))


def test_cli_count_on_a_local_cluster_saves_the_serial_counts_file(tmp_path):
    import subprocess
    import sys

    klcode = [str(Path(sys.executable).parent / "klcode")]
    common = ["count", str(CORPORA / "udhr"), "--tokens", "words", "--encoding", "latin-1", "-q", "--json"]
    serial = subprocess.run(klcode + common + ["-o", str(tmp_path / "s.json")], capture_output=True, text=True, timeout=120)
    dask = subprocess.run(klcode + common + ["-o", str(tmp_path / "d.json"), "--dask", "local:2"],
                          capture_output=True, text=True, timeout=120)
    assert serial.returncode == 0 and dask.returncode == 0, dask.stderr[-500:]
    assert (tmp_path / "s.json").read_bytes() == (tmp_path / "d.json").read_bytes()
    assert serial.stdout == dask.stdout.replace("d.json", "s.json")


def test_missing_dask_extra_is_one_line_naming_pip(monkeypatch):
    import sys

    from klcode.text.distributed import DaskUnavailableError, connect

    monkeypatch.setitem(sys.modules, "distributed", None)
    with pytest.raises(DaskUnavailableError, match=r"^--dask needs the dask extra: pip install 'klcode\[dask\]'$"):
        connect("local:1")


def test_cli_rejects_a_malformed_address():
    from click.testing import CliRunner

    from klcode.cli.main import cli

    result = CliRunner().invoke(cli, ["count", str(CORPORA / "udhr"), "--dask", "nowhere"])
    assert result.exit_code == 2 and "expected a scheduler address" in result.output
