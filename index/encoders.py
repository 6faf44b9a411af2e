"""Which encoder embeds: chosen by ``Settings.encoder``, built here only."""

from __future__ import annotations

from pathlib import Path
from typing import Literal, get_args

from index.embed import Embedder

Encoder = Literal["onnx", "onnx-int8", "torch"]
ENCODERS: tuple[str, ...] = get_args(Encoder)
ONNX_PRECISION = {"onnx": "fp32", "onnx-int8": "int8"}


def make_embedder(
    model: str,
    encoder: str = "onnx",
    cache_dir: Path | None = None,
    query_cache_size: int = 2048,
    threads: int = 0,
    batch_wait_ms: float = 0.0,
) -> Embedder:
    """``onnx``: ONNX Runtime over an fp32 export of ``model`` kept in
    ``cache_dir`` (made on first use, which needs torch); ``onnx-int8``: the
    same export quantized to dynamic int8 (made from the fp32 one); ``torch``:
    sentence-transformers.  ``batch_wait_ms`` > 0 encodes concurrent queries
    together (``index.batcher``)."""
    if encoder == "torch":
        return Embedder(model, query_cache_size=query_cache_size, threads=threads, batch_wait_ms=batch_wait_ms)
    if encoder in ONNX_PRECISION:
        from index.onnx_encoder import OnnxEmbedder

        if cache_dir is None:
            raise ValueError(f"the {encoder} encoder needs a cache_dir for its export")
        return OnnxEmbedder(
            model,
            cache_dir,
            query_cache_size=query_cache_size,
            threads=threads,
            precision=ONNX_PRECISION[encoder],
            batch_wait_ms=batch_wait_ms,
        )
    raise ValueError(f"unknown encoder {encoder!r}: use one of {', '.join(ENCODERS)}")
