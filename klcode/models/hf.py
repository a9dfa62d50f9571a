"""A local causal language model (transformers) as a per-position source: ``hf:DIR`` and ``hf-int8:DIR``.

Needs the optional extra ``pip install 'klcode[llm]'`` (torch and transformers); nothing is downloaded:
the model and its tokenizer are read from DIR (``local_files_only``).  The text is either a text file,
tokenized with DIR's tokenizer, or a ``.npy`` array of token ids given directly.  The ids are cut into
windows of ``context`` tokens (default: the model's ``max_position_embeddings``, at most 1024); in each
window every token after the first is scored with the window before it as context, like one chunk of
``llama-perplexity`` (which scores only the second half).  Windows run in batches, on CUDA when available
(``device``), and the rows are log-softmax of the logits in float32.

``hf-int8:DIR`` is the same model with every ``torch.nn.Linear`` dynamically quantized to int8 weights
(``torch.ao.quantization.quantize_dynamic``, CPU only): a quantized copy to compare against.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterator

import numpy as np

from ..errors import DataError, InputError, KlcodeError
from .sources import PositionSource

INSTALL_HINT = "pip install 'klcode[llm]'"


class LLMUnavailableError(KlcodeError, ImportError):
    """An hf: model was asked for, and torch or transformers (the extra ``klcode[llm]``) is not installed."""


def _modules():
    try:
        import torch
        import transformers
    except ImportError as error:
        raise LLMUnavailableError(f"hf: models need torch and transformers ({INSTALL_HINT}; missing: {error.name})") from None
    return torch, transformers


class HFSource(PositionSource):
    """Next-token distributions of a local causal LM over a text, window by window."""

    def __init__(self, directory: str, text: str, *, batch: int = 8, device: str | None = None,
                 quantize_int8: bool = False, context: int | None = None, quiet: bool = True) -> None:
        torch, transformers = _modules()
        if not os.path.isdir(directory):
            raise InputError(f"hf: needs a model directory (got {directory!r})")
        self.directory, self.batch = directory, max(1, batch)
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        if quantize_int8 and self.device != "cpu":
            raise DataError(f"hf-int8: dynamic int8 quantization runs on the CPU only (got device {self.device!r})")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            transformers.logging.set_verbosity_error()
            transformers.utils.logging.disable_progress_bar()
            try:
                model = transformers.AutoModelForCausalLM.from_pretrained(directory, local_files_only=True)
            except (OSError, ValueError) as error:
                raise InputError(f"cannot load a causal LM from {directory!r}: {str(error).splitlines()[0]}") from None
            model.eval()
            if quantize_int8:
                model = torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)
        self.model = model.to(self.device)
        self.vocab_size = int(model.config.vocab_size)
        limit = int(getattr(model.config, "max_position_embeddings", 1024) or 1024)
        self.window = max(2, min(context or min(limit, 1024), limit))
        self.ids, self.spellings = self._ids(text, transformers)
        if len(self.ids) < 2:
            raise DataError(f"{text}: at least 2 tokens are needed (got {len(self.ids)})")
        if self.ids.min() < 0 or self.ids.max() >= self.vocab_size:
            raise DataError(f"{text}: token ids must be in [0, {self.vocab_size}) "
                            f"(got {int(self.ids.min())}..{int(self.ids.max())})")
        starts = np.arange(0, len(self.ids), self.window)
        self.windows = [(int(a), int(min(a + self.window, len(self.ids)))) for a in starts
                        if min(a + self.window, len(self.ids)) - a >= 2]
        self.target_index = np.concatenate([np.arange(a + 1, z) for a, z in self.windows])
        self.targets = self.ids[self.target_index]
        self.input_bytes = len(self.targets) * self.vocab_size * 4
        kind = "int8 dynamic" if quantize_int8 else str(next(model.parameters()).dtype).replace("torch.", "")
        self.label = f"{os.path.basename(os.path.normpath(directory))} ({kind})"

    def _ids(self, text: str, transformers) -> tuple[np.ndarray, list[bytes] | None]:
        if text.endswith(".npy"):
            ids = np.load(text)
            if ids.ndim != 1 or not np.issubdtype(ids.dtype, np.integer):
                raise InputError(f"{text!r}: token ids must be a 1-D integer array (got {ids.dtype} {ids.shape})")
            return ids.astype(np.int64), None
        try:
            tokenizer = transformers.AutoTokenizer.from_pretrained(self.directory, local_files_only=True)
        except (OSError, ValueError) as error:
            raise InputError(f"{self.directory!r} has no tokenizer ({str(error).splitlines()[0]}); "
                             f"give the token ids as a .npy file instead") from None
        try:
            with open(text, encoding="utf-8") as file:
                content = file.read()
        except (OSError, UnicodeDecodeError) as error:
            raise InputError(f"cannot read {text!r} as UTF-8 text: {error}") from None
        ids = np.asarray(tokenizer(content)["input_ids"], dtype=np.int64)
        spellings = [tokenizer.convert_tokens_to_string([tokenizer.convert_ids_to_tokens(i)]).encode("utf-8")
                     for i in range(len(tokenizer))]
        return ids, spellings

    def blocks(self, rows: int) -> Iterator[tuple[int, np.ndarray]]:
        torch, _ = _modules()
        start = 0
        for first in range(0, len(self.windows), self.batch):
            group = self.windows[first:first + self.batch]
            width = max(z - a for a, z in group)
            batch = np.zeros((len(group), width), dtype=np.int64)
            mask = np.zeros((len(group), width), dtype=np.int64)
            for j, (a, z) in enumerate(group):
                batch[j, : z - a] = self.ids[a:z]
                mask[j, : z - a] = 1
            with torch.no_grad():
                logits = self.model(input_ids=torch.from_numpy(batch).to(self.device),
                                    attention_mask=torch.from_numpy(mask).to(self.device)).logits
                logs = torch.log_softmax(logits.float(), dim=-1).cpu().numpy()
            for j, (a, z) in enumerate(group):
                block = np.ascontiguousarray(logs[j, : z - a - 1])  # row i predicts ids[a + i + 1]
                if not np.isfinite(block).all():
                    raise DataError(f"{self.label}: the model gave non-finite logits in the window at token {a}")
                yield start, block
                start += len(block)

    def context(self, position: int, width: int) -> np.ndarray:
        index = int(self.target_index[position])
        window_start = index - (index % self.window)
        return self.ids[max(window_start, index - width):index]

    def stream(self) -> np.ndarray | None:
        return self.ids

    def describe(self) -> str:
        return (f"{self.label}: {self.directory}, windows of {self.window} tokens, batch {self.batch}, "
                f"device {self.device}")
