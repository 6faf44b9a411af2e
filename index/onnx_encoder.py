"""The sentence encoder on ONNX Runtime: the same MiniLM, without torch at run time.

``export_onnx`` (needs torch and transformers, so it runs at build time:
``make setup``, ``qbank ingest``, the Docker build stage) traces the packaged
transformer with mean pooling and L2 normalisation into one ``model.onnx``
beside a copy of the model's ``tokenizer.json``.  ``OnnxEmbedder`` loads those
two files with ``onnxruntime`` and ``tokenizers`` only: no torch import, so a
serving process starts in a fraction of the time and memory.  Measured here
against sentence-transformers on the eval queries: cosine >= 0.9999996 (fp32),
so an index built by either encoder serves the other's queries
(BENCHMARKS.md has the speed figures).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from index.embed import Embedder, model_path
from index.store import file_sha256

log = logging.getLogger(__name__)

MAX_TOKENS = 256  # all-MiniLM-L6-v2's max_seq_length (sentence_bert_config.json)
INPUTS = ("input_ids", "attention_mask", "token_type_ids")
ONNX_FILE = "model.onnx"
TOKENIZER_FILE = "tokenizer.json"
INFO_FILE = "export.json"


@dataclass(frozen=True, slots=True)
class OnnxModel:
    """An exported encoder on disk: the graph, the tokenizer and the graph's hash."""

    directory: Path
    sha256: str

    @property
    def onnx(self) -> Path:
        return self.directory / ONNX_FILE

    @property
    def tokenizer(self) -> Path:
        return self.directory / TOKENIZER_FILE


def export_onnx(model: str, directory: Path) -> OnnxModel:
    """Trace ``model`` (a packaged name or a sentence-transformers folder) into
    ``directory``: written to a temporary folder and renamed, so a crash
    leaves no half-written export."""
    import torch
    from transformers import AutoModel

    source = Path(model_path(model))
    net = AutoModel.from_pretrained(str(source)).eval()

    class Pooled(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.net = net

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            out = self.net(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids)
            mask = attention_mask.unsqueeze(-1).to(out.last_hidden_state.dtype)
            pooled = (out.last_hidden_state * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, p=2, dim=1)

    directory.parent.mkdir(parents=True, exist_ok=True)
    tmp = directory.with_name(f"{directory.name}.tmp-{os.getpid()}")  # workers may export at once
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    ids = torch.ones(2, 8, dtype=torch.long)
    axes = {name: {0: "batch", 1: "tokens"} for name in INPUTS} | {"embedding": {0: "batch"}}
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the tracer's notes on shapes it treats as constants
        torch.onnx.export(
            Pooled(),
            (ids, ids, torch.zeros_like(ids)),
            str(tmp / ONNX_FILE),
            input_names=list(INPUTS),
            output_names=["embedding"],
            dynamic_axes=axes,
            opset_version=17,
            dynamo=False,
        )
    shutil.copy(source / TOKENIZER_FILE, tmp / TOKENIZER_FILE)
    sha = file_sha256(tmp / ONNX_FILE)
    (tmp / INFO_FILE).write_text(json.dumps({"model": model, "sha256": sha}, indent=2), encoding="utf-8")
    done = exported(model, directory)
    if done is not None:  # another process finished first: use its export
        shutil.rmtree(tmp, ignore_errors=True)
        return done
    shutil.rmtree(directory, ignore_errors=True)
    try:
        tmp.rename(directory)
    except OSError:  # lost a race to another process's rename
        shutil.rmtree(tmp, ignore_errors=True)
        done = exported(model, directory)
        if done is None:
            raise
        return done
    log.info("exported %s to %s", model, directory)
    return OnnxModel(directory, sha)


def exported(model: str, directory: Path) -> OnnxModel | None:
    """The export in ``directory`` if it is complete and intact, else None."""
    try:
        info = json.loads((directory / INFO_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if info.get("model") != model or not (directory / TOKENIZER_FILE).is_file():
        return None
    onnx = directory / ONNX_FILE
    if not onnx.is_file() or file_sha256(onnx) != info.get("sha256"):
        return None
    return OnnxModel(directory, str(info["sha256"]))


class OnnxEmbedder(Embedder):
    """``Embedder`` on ONNX Runtime: same vectors, same query cache, no torch.

    ``cache_dir`` holds the export (one folder per model); ``load()`` uses it,
    or exports first when it is missing or damaged (that needs torch)."""

    def __init__(
        self,
        model: str,
        cache_dir: Path,
        batch_size: int = 32,
        query_cache_size: int = 2048,
        threads: int = 0,
    ) -> None:
        super().__init__(model, batch_size=batch_size, query_cache_size=query_cache_size, threads=threads)
        self.directory = Path(cache_dir) / f"{Path(model).name}-onnx"
        self.export: OnnxModel | None = None
        self._session: Any = None
        self._tokenizer: Any = None

    @property
    def dimension(self) -> int:
        self._require()
        shape = self._session.get_outputs()[0].shape
        return int(shape[-1]) if isinstance(shape[-1], int) else int(self.encode(["x"]).shape[1])

    def describe(self) -> dict[str, str]:
        self._require()
        assert self.export is not None
        return {"backend": "onnxruntime", "precision": "fp32", "file": ONNX_FILE, "sha256": self.export.sha256}

    def load(self) -> OnnxEmbedder:
        if self._session is not None:
            return self
        import onnxruntime
        from tokenizers import Tokenizer

        self.export = exported(self.model_name, self.directory) or export_onnx(self.model_name, self.directory)
        options = onnxruntime.SessionOptions()
        if self.threads:
            options.intra_op_num_threads = self.threads
            options.inter_op_num_threads = 1
        self._session = onnxruntime.InferenceSession(str(self.export.onnx), options, providers=["CPUExecutionProvider"])
        tokenizer = Tokenizer.from_file(str(self.export.tokenizer))
        tokenizer.enable_truncation(MAX_TOKENS)
        tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
        self._tokenizer = tokenizer
        self._model = self._session  # what ``Embedder._require`` checks
        return self

    def encode(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        """L2-normalised float32 vectors.  Texts are batched by length (less
        padding per batch, the way sentence-transformers does it) and the
        vectors put back in the order given."""
        self._require()
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.empty((len(texts), 0), dtype=np.float32)
        starts = range(0, len(order), self.batch_size)
        for start in tqdm(starts, desc="embedding", unit="batch", disable=not progress, leave=False):
            picked = order[start : start + self.batch_size]
            batch = self._tokenizer.encode_batch([texts[i] for i in picked])
            feed = {
                "input_ids": np.asarray([e.ids for e in batch], dtype=np.int64),
                "attention_mask": np.asarray([e.attention_mask for e in batch], dtype=np.int64),
                "token_type_ids": np.asarray([e.type_ids for e in batch], dtype=np.int64),
            }
            vectors = self._session.run(None, feed)[0]
            if out.shape[1] == 0:
                out = np.empty((len(texts), vectors.shape[1]), dtype=np.float32)
            out[picked] = vectors
        return out
