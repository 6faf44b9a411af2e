"""Would ONNX Runtime's transformer fusions speed the encoder up?  A measurement,
not used by qbank.  Run: .venv/bin/python scripts/fused_graph.py  (needs the
export extra: torch, transformers, onnx; about a minute).

The shipped export (index/onnx_encoder.py) traces MiniLM with the attention
implementation transformers picks (SDPA), which
``onnxruntime.transformers.optimizer`` does not recognise: it fuses nothing.
Traced with ``attn_implementation="eager"`` the optimizer finds the BERT
pattern (Attention, SkipLayerNormalization, BiasGelu, EmbedLayerNormalization).
This script exports both graphs into a temporary folder, fuses the eager one,
and times the shipped export, the eager export and the fused one side by side:
each eval query encoded alone by all three in a rotating order (one thread),
then the shipped bank's chunks in batches of 16 (every core), alternating,
with each graph's cosine to the shipped export's vectors."""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from index.embed import model_path  # noqa: E402
from index.onnx_encoder import MAX_TOKENS, prepare, trace  # noqa: E402
from qbank.settings import settings_or_exit  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    import onnxruntime as ort
    from onnxruntime.transformers.optimizer import optimize_model
    from tokenizers import Tokenizer

    settings = settings_or_exit()
    shipped = prepare(settings.model, settings.model_cache_dir)
    work = Path(tempfile.mkdtemp(prefix="qbank-fused-"))
    trace(settings.model, work / "eager.onnx", attention="eager")
    from transformers import AutoConfig

    config = AutoConfig.from_pretrained(str(model_path(settings.model)))
    fused = optimize_model(
        str(work / "eager.onnx"),
        model_type="bert",
        num_heads=config.num_attention_heads,
        hidden_size=config.hidden_size,
        opt_level=1,
    )
    stats = {k: v for k, v in fused.get_fused_operator_statistics().items() if v}
    fused.save_model_to_file(str(work / "fused.onnx"))
    plain = optimize_model(str(shipped.onnx), model_type="bert", opt_level=1).get_fused_operator_statistics()
    print("fused operators, shipped export:", {k: v for k, v in plain.items() if v} or "none")
    print("fused operators, eager export:  ", stats)

    tokenizer = Tokenizer.from_file(str(shipped.tokenizer))
    tokenizer.enable_truncation(MAX_TOKENS)
    tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")

    def feed(texts: list[str]) -> dict[str, np.ndarray]:
        batch = tokenizer.encode_batch(texts)
        return {
            "input_ids": np.asarray([e.ids for e in batch], dtype=np.int64),
            "attention_mask": np.asarray([e.attention_mask for e in batch], dtype=np.int64),
            "token_type_ids": np.asarray([e.type_ids for e in batch], dtype=np.int64),
        }

    graphs = {"shipped": str(shipped.onnx), "eager": str(work / "eager.onnx"), "fused": str(work / "fused.onnx")}

    def session(path: str, threads: int) -> Any:
        options = ort.SessionOptions()
        if threads:
            options.intra_op_num_threads, options.inter_op_num_threads = threads, 1
        return ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])

    one = {name: session(path, 1) for name, path in graphs.items()}
    queries = [
        json.loads(line)["query"]
        for f in ("queries.jsonl", "hard.jsonl")
        for line in (ROOT / "eval/data" / f).read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    names = list(graphs)
    ms: dict[str, list[float]] = {n: [] for n in names}
    vectors: dict[str, list[np.ndarray]] = {n: [] for n in names}
    for i, q in enumerate(queries):
        f = feed([q])
        for name in names[i % 3 :] + names[: i % 3]:
            t = time.perf_counter()
            vectors[name].append(one[name].run(None, f)[0][0])
            ms[name].append((time.perf_counter() - t) * 1000)
    base = np.asarray(vectors["shipped"])
    for name in names:
        cosine = (np.asarray(vectors[name]) * base).sum(axis=1)
        print(
            f"{name:8s} query p50 {statistics.median(ms[name]):.2f} ms ({len(queries)} queries, 1 thread), "
            f"cosine to shipped min {cosine.min():.7f}"
        )

    index = Path(settings.index_dir)
    texts = [c["text"] for c in json.loads((index / "chunks.json").read_text(encoding="utf-8"))]
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    every = {name: session(path, 0) for name, path in graphs.items() if name != "eager"}
    rates: dict[str, list[float]] = {n: [] for n in every}
    for r in range(4):
        for name in list(every)[r % 2 :] + list(every)[: r % 2]:
            t = time.perf_counter()
            for start in range(0, len(order), 16):
                every[name].run(None, feed([texts[i] for i in order[start : start + 16]]))
            rates[name].append(len(texts) / (time.perf_counter() - t))
    for name, v in rates.items():
        print(
            f"{name:8s} ingest {statistics.median(v):.1f} chunks/s (median of {len(v)}, {len(texts)} chunks, batch 16)"
        )
    print(f"ratio fused/shipped: {statistics.median(rates['fused']) / statistics.median(rates['shipped']):.2f}x")


if __name__ == "__main__":
    main()
