"""Which encoder embeds: chosen by ``Settings.encoder``, built here only."""

from __future__ import annotations

from pathlib import Path
from typing import Literal, get_args

from index.embed import Embedder

Encoder = Literal["onnx", "torch"]
ENCODERS: tuple[str, ...] = get_args(Encoder)


def make_embedder(
    model: str,
    encoder: str = "onnx",
    cache_dir: Path | None = None,
    query_cache_size: int = 2048,
    threads: int = 0,
) -> Embedder:
    """``onnx``: ONNX Runtime over an export of ``model`` kept in ``cache_dir``
    (made on first use, which needs torch); ``torch``: sentence-transformers."""
    if encoder == "torch":
        return Embedder(model, query_cache_size=query_cache_size, threads=threads)
    if encoder == "onnx":
        from index.onnx_encoder import OnnxEmbedder

        if cache_dir is None:
            raise ValueError("the onnx encoder needs a cache_dir for its export")
        return OnnxEmbedder(model, cache_dir, query_cache_size=query_cache_size, threads=threads)
    raise ValueError(f"unknown encoder {encoder!r}: use one of {', '.join(ENCODERS)}")
