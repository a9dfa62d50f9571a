"""The hf: source: a tiny randomly initialized causal LM (no download) against its int8-quantized copy."""

from __future__ import annotations

import json

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="the [llm] extra (torch, transformers) is not installed: "
                                           "pip install 'klcode[llm]' to run the hf: tests")
transformers = pytest.importorskip("transformers", reason="the [llm] extra (transformers) is not installed: "
                                                         "pip install 'klcode[llm]' to run the hf: tests")

from klcode.analysis.model_compare import compare_models  # noqa: E402
from klcode.cli import main  # noqa: E402
from klcode.models.hf import HFSource  # noqa: E402


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    """A 2-layer Llama-architecture LM of 40k parameters, randomly initialized (seeded) and saved locally."""
    folder = tmp_path_factory.mktemp("tiny-lm")
    torch.manual_seed(0)
    config = transformers.LlamaConfig(vocab_size=64, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                                      num_attention_heads=4, num_key_value_heads=4, max_position_embeddings=32)
    model = transformers.LlamaForCausalLM(config)
    with torch.no_grad():  # larger weights than the default init, so that the rows are far from uniform
        for parameter in model.parameters():
            if parameter.dim() == 2:
                parameter.normal_(0, 0.3)
    model.save_pretrained(folder / "model")
    ids = np.random.default_rng(0).integers(0, 64, 150)
    np.save(folder / "ids.npy", ids)
    return folder


def test_rows_are_the_models_log_softmax(tiny_model):
    source = HFSource(str(tiny_model / "model"), str(tiny_model / "ids.npy"), batch=2)
    ids = np.load(tiny_model / "ids.npy")
    assert source.window == 32 and source.vocab_size == 64
    # windows of 32 tokens: every token but the first of its window is scored
    assert source.positions == 150 - 5 and source.targets[0] == ids[1] and source.targets[31] == ids[33]
    rows = np.concatenate([b for _, b in source.blocks(1000)])
    model = transformers.AutoModelForCausalLM.from_pretrained(tiny_model / "model")
    with torch.no_grad():
        logits = model(torch.from_numpy(ids[:32][None, :])).logits[0]
    assert np.allclose(rows[:31], torch.log_softmax(logits, -1).numpy()[:31], atol=1e-5)
    assert source.context(30, 4).tolist() == ids[27:31].tolist()   # the context stays inside its window
    assert source.context(31, 4).tolist() == ids[32:33].tolist()


def test_model_against_its_int8_copy(tiny_model, capsys):
    base = HFSource(str(tiny_model / "model"), str(tiny_model / "ids.npy"))
    test = HFSource(str(tiny_model / "model"), str(tiny_model / "ids.npy"), quantize_int8=True)
    c = compare_models(base, test)
    assert 0 < c.kl_base_test_bits.mean < 0.5 and c.same_top > 0.5
    assert c.base_coding.verified and c.test_coding.verified
    slack = (c.base_coding.overhead_bits + c.test_coding.overhead_bits + 16) / c.positions
    assert abs(c.measured_gap_bits_per_token - c.cross_entropy_gap_bits_per_token) <= slack
    code = main(["models", f"hf:{tiny_model / 'model'}", f"hf-int8:{tiny_model / 'model'}",
                 "--text", str(tiny_model / "ids.npy"), "--json", "-q"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert json.loads(out)["kl_base_test"]["mean"] == pytest.approx(c.kl_base_test_bits.mean, rel=1e-9)


def test_missing_directory_is_one_line(capsys, tmp_path):
    code = main(["models", f"hf:{tmp_path / 'nothing'}", "quant:4", "--text", str(tmp_path / "t.npy")])
    _, err = capsys.readouterr()
    assert code == 1 and err.startswith("klcode: error: hf: needs a model directory")
