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

``quantize_int8`` makes a dynamic-int8 variant of that export
(``QBANK_ENCODER=onnx-int8``): MatMul weights quantized per channel, the
activations at run time.  Its vectors are close to fp32's (cosine about
0.98-0.99 on the eval queries), not equal, so an index built by one precision
is refused by the other (``index.store.encoder_mismatch``).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import warnings
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
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
PRECISIONS = ("fp32", "int8")
# Dynamic int8, chosen on the eval queries (cosine to fp32): per-channel weights
# of the MatMuls only (min 0.983) beat per-tensor (0.939) and quantizing every op (0.982, slower).
INT8_OPTIONS: dict[str, Any] = {"op_types_to_quantize": ["MatMul"], "per_channel": True}


@dataclass(frozen=True, slots=True)
class OnnxModel:
    """An exported encoder on disk: the graph, the tokenizer and the graph's hash."""

    directory: Path
    sha256: str
    precision: str = "fp32"

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
    tmp = _scratch(directory)
    trace(model, tmp / ONNX_FILE)
    shutil.copy(Path(model_path(model)) / TOKENIZER_FILE, tmp / TOKENIZER_FILE)
    return _publish(tmp, directory, {"model": model, "precision": "fp32"})


def trace(model: str, target: Path, attention: str | None = None) -> None:
    """The transformer with mean pooling and L2 normalisation, traced into the
    ONNX file ``target``.  ``attention`` picks transformers' attention
    implementation (None: its default; scripts/fused_graph.py measures "eager")."""
    import torch
    from transformers import AutoModel

    options = {"attn_implementation": attention} if attention else {}
    net = AutoModel.from_pretrained(str(model_path(model)), **options).eval()

    class Pooled(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.net = net

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            out = self.net(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids)
            mask = attention_mask.unsqueeze(-1).to(out.last_hidden_state.dtype)
            pooled = (out.last_hidden_state * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, p=2, dim=1)

    ids = torch.ones(2, 8, dtype=torch.long)
    axes = {name: {0: "batch", 1: "tokens"} for name in INPUTS} | {"embedding": {0: "batch"}}
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the tracer's notes on shapes it treats as constants
        torch.onnx.export(
            Pooled(),
            (ids, ids, torch.zeros_like(ids)),
            str(target),
            input_names=list(INPUTS),
            output_names=["embedding"],
            dynamic_axes=axes,
            opset_version=17,
            dynamo=False,
        )


def quantize_int8(model: str, fp32: OnnxModel, directory: Path) -> OnnxModel:
    """A dynamic-int8 copy of the fp32 export ``fp32`` in ``directory`` (needs
    the ``onnx`` package, not torch), published the same way as an export."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    tmp = _scratch(directory)
    root = logging.getLogger()
    quiet = root.disabled
    root.disabled = True  # quantize_dynamic logs advice to pre-process the graph, which changes nothing here
    try:
        quantize_dynamic(str(fp32.onnx), str(tmp / ONNX_FILE), weight_type=QuantType.QInt8, **INT8_OPTIONS)
    finally:
        root.disabled = quiet
    shutil.copy(fp32.tokenizer, tmp / TOKENIZER_FILE)
    info = {"model": model, "precision": "int8", "source_sha256": fp32.sha256, "options": INT8_OPTIONS}
    return _publish(tmp, directory, info)


def _scratch(directory: Path) -> Path:
    """An empty folder beside ``directory`` to write into (one per process: workers may export at once)."""
    directory.parent.mkdir(parents=True, exist_ok=True)
    tmp = directory.with_name(f"{directory.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    return tmp


def _publish(tmp: Path, directory: Path, info: dict[str, Any]) -> OnnxModel:
    """Hash ``tmp``'s graph, write its ``export.json`` and rename it to
    ``directory``, so a crash leaves no half-written export; when another
    process got there first, its export is used."""
    sha = file_sha256(tmp / ONNX_FILE)
    (tmp / INFO_FILE).write_text(json.dumps({**info, "sha256": sha}, indent=2), encoding="utf-8")
    model, precision = str(info["model"]), str(info["precision"])
    done = exported(model, directory, precision)
    if done is not None:  # another process finished first: use its export
        shutil.rmtree(tmp, ignore_errors=True)
        return done
    shutil.rmtree(directory, ignore_errors=True)
    try:
        tmp.rename(directory)
    except OSError:  # lost a race to another process's rename
        shutil.rmtree(tmp, ignore_errors=True)
        done = exported(model, directory, precision)
        if done is None:
            raise
        return done
    log.info("exported %s (%s) to %s", model, precision, directory)
    return OnnxModel(directory, sha, precision)


def exported(model: str, directory: Path, precision: str = "fp32", check: bool = True) -> OnnxModel | None:
    """The export in ``directory`` if it is complete, intact and of ``precision``, else None.
    ``check=False`` leaves the graph's hash to the caller (``OnnxEmbedder.load``
    checks it while the session is built)."""
    try:
        info = json.loads((directory / INFO_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if info.get("model") != model or info.get("precision", "fp32") != precision:
        return None
    if not (directory / TOKENIZER_FILE).is_file():
        return None
    onnx, sha = directory / ONNX_FILE, info.get("sha256")
    if not isinstance(sha, str) or not onnx.is_file() or (check and file_sha256(onnx) != sha):
        return None
    return OnnxModel(directory, sha, precision)


def export_dir(model: str, cache_dir: Path, precision: str = "fp32") -> Path:
    """Where ``model``'s export of ``precision`` is kept in ``cache_dir``."""
    suffix = "" if precision == "fp32" else f"-{precision}"
    return Path(cache_dir) / f"{Path(model).name}-onnx{suffix}"


def prepare(model: str, cache_dir: Path, precision: str = "fp32") -> OnnxModel:
    """The export of ``precision``, made first if it is missing or damaged: fp32
    by tracing the model (needs torch), int8 from the fp32 export (needs onnx)."""
    if precision not in PRECISIONS:
        raise ValueError(f"unknown precision {precision!r}: use one of {', '.join(PRECISIONS)}")
    directory = export_dir(model, cache_dir, precision)
    found = exported(model, directory, precision)
    if found is not None:
        return found
    fp32_dir = export_dir(model, cache_dir)
    fp32 = exported(model, fp32_dir) or _export_or_explain(model, fp32_dir)
    return fp32 if precision == "fp32" else quantize_int8(model, fp32, directory)


def _export_or_explain(model: str, directory: Path) -> OnnxModel:
    try:
        return export_onnx(model, directory)
    except ModuleNotFoundError as exc:
        raise RuntimeError(
            f"no ONNX export of {model} in {directory.parent}, and making one needs {exc.name} "
            "(the build side: pip install 'qbank[export]', then `qbank export`, or copy the export there)"
        ) from exc


class OnnxEmbedder(Embedder):
    """``Embedder`` on ONNX Runtime: same vectors, same query cache, no torch.

    ``cache_dir`` holds the exports (one folder per model and precision);
    ``load()`` uses the one of ``precision``, or makes it first when it is
    missing or damaged (fp32 needs torch; int8 is quantized from fp32)."""

    def __init__(
        self,
        model: str,
        cache_dir: Path,
        batch_size: int = 32,
        query_cache_size: int = 2048,
        threads: int = 0,
        precision: str = "fp32",
        batch_wait_ms: float = 0.0,
    ) -> None:
        if precision not in PRECISIONS:
            raise ValueError(f"unknown precision {precision!r}: use one of {', '.join(PRECISIONS)}")
        if precision == "int8" and batch_wait_ms:
            # Dynamic int8 quantizes each pass's activations with one scale for the whole
            # batch: a query's vector would depend on the queries beside it (cosine down
            # to 0.984 against its vector alone), so int8 encodes every query alone.
            log.info("query batching is off with the int8 encoder (its vectors would depend on the batch)")
            batch_wait_ms = 0.0
        super().__init__(
            model,
            batch_size=batch_size,
            query_cache_size=query_cache_size,
            threads=threads,
            batch_wait_ms=batch_wait_ms,
        )
        self.cache_dir = Path(cache_dir)
        self.precision = precision
        self.directory = export_dir(model, cache_dir, precision)
        self.export: OnnxModel | None = None
        self._session: Any = None
        self._tokenizer: Any = None

    @property
    def dimension(self) -> int:
        self._require()
        shape = self._session.get_outputs()[0].shape
        return int(shape[-1]) if isinstance(shape[-1], int) else int(self.encode(["x"]).shape[1])

    @property
    def tokenizer_file(self) -> Path:
        return self.directory / TOKENIZER_FILE  # the export's copy: serving needs no model package

    def describe(self) -> dict[str, str]:
        self._require()
        assert self.export is not None
        return {"backend": "onnxruntime", "precision": self.precision, "file": ONNX_FILE, "sha256": self.export.sha256}

    def load(self) -> OnnxEmbedder:
        if self._model is not None:  # set last: a load that failed part-way is done again, and fails loudly
            return self
        import onnxruntime
        from tokenizers import Tokenizer

        options = onnxruntime.SessionOptions()
        if self.threads:
            options.intra_op_num_threads = self.threads
            options.inter_op_num_threads = 1

        def session(graph: str) -> Any:
            return onnxruntime.InferenceSession(graph, options, providers=["CPUExecutionProvider"])

        # The usual start: the export is there.  Its file is hashed on a second thread while
        # ONNX Runtime builds the session from it (both let go of the GIL), so the check costs
        # no start-up time on two cores.  (Building from bytes already read would check exactly
        # what is loaded, but ONNX Runtime then holds about 90 MiB more.)  A mismatch drops the
        # session and goes the slow way, which makes the export again.
        found = exported(self.model_name, self.directory, self.precision, check=False)
        if found is not None:
            with ThreadPoolExecutor(1, thread_name_prefix="onnx-hash") as pool:
                digest = pool.submit(file_sha256, found.onnx)
                try:
                    built: Any = session(str(found.onnx))
                    failure: Exception | None = None
                except Exception as exc:  # a damaged graph may not even parse: the hash says which
                    built, failure = None, exc
                try:
                    intact = digest.result() == found.sha256
                except OSError:  # gone or unreadable since: the slow way says what is wrong
                    intact = False
            if not intact:
                log.warning("the ONNX export in %s does not match its hash: making it again", self.directory)
            elif failure is not None:
                raise failure
            else:
                self._session, self.export = built, found
        if self._session is None:
            self.export = prepare(self.model_name, self.cache_dir, self.precision)
            self._session = session(str(self.export.onnx))
        assert self.export is not None
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
