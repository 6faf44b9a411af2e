"""Per-model calibration: the fusion weights and abstention floors fitted for
one embedding model, stored with the index (``calibration.json``).

``qbank tune`` fits them on the eval sets' dev split and writes the file; the
searcher uses it when it was fitted for the model and encoder the index was
built with, and the built-in defaults (fitted for the packaged MiniLM)
otherwise.  A deployment that switches to another model rebuilds its index
and runs ``qbank tune`` once: the best weights differ by model.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from index.components.abstain import EVIDENCE_CHUNKS, EVIDENCE_SENTENCES, AbstentionConfig
from index.components.fusion import FusionWeights

log = logging.getLogger(__name__)

CALIBRATION_FILE = "calibration.json"
FORMAT = 1


class CalibrationError(ValueError):
    """A calibration file that cannot be used (unreadable, wrong fields or values)."""


@dataclass(frozen=True, slots=True)
class Calibration:
    model: str
    encoder: dict[str, str]
    fusion: FusionWeights = field(default_factory=FusionWeights)
    abstention: AbstentionConfig = field(default_factory=AbstentionConfig)
    fitted: dict[str, Any] = field(default_factory=dict)  # when, on what, and the dev figures before and after
    # The dense evidence the floors were fitted on (index.components.abstain): a file from before
    # sentence units has no such key and was fitted on chunk cosines alone.
    abstention_evidence: str = EVIDENCE_SENTENCES

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "model": self.model,
            "encoder": self.encoder,
            "fusion": asdict(self.fusion),
            "abstention": asdict(self.abstention),
            "fitted": self.fitted,
            "abstention_evidence": self.abstention_evidence,
        }

    @classmethod
    def from_dict(cls, data: object) -> Calibration:
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise CalibrationError(f"not a format-{FORMAT} calibration object")
        try:
            return cls(
                model=str(data["model"]),
                encoder={str(k): str(v) for k, v in dict(data.get("encoder") or {}).items()},
                fusion=FusionWeights(**{k: float(v) for k, v in dict(data["fusion"]).items()}),
                abstention=AbstentionConfig(**{k: float(v) for k, v in dict(data["abstention"]).items()}),
                fitted=dict(data.get("fitted") or {}),
                abstention_evidence=str(data.get("abstention_evidence", EVIDENCE_CHUNKS)),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise CalibrationError(f"bad calibration: {exc}") from exc

    def fits(self, model: str, encoder: dict[str, str]) -> bool:
        """Fitted for this model at this precision.  The backend may differ:
        torch and the fp32 ONNX export give the same vectors (cosine 1.0000,
        BENCHMARKS.md); a quantised encoder moves them, so it needs its own."""
        return self.model == model and _precision(self.encoder) == _precision(encoder)


def _precision(encoder: dict[str, str]) -> str:
    return encoder.get("precision", "fp32")


def save_calibration(calibration: Calibration, index_dir: Path) -> Path:
    """Write ``calibration.json`` into the index directory (atomically)."""
    path = Path(index_dir) / CALIBRATION_FILE
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(calibration.to_dict(), indent=2) + "\n", encoding="utf-8")
    tmp.replace(path)
    return path


def load_calibration(index_dir: Path, model: str, encoder: dict[str, str]) -> Calibration | None:
    """The index's calibration when there is one fitted for ``model`` and
    ``encoder``; None (and a logged reason) when absent, unreadable or fitted
    for another model, so the defaults apply and nothing fails to start."""
    path = Path(index_dir) / CALIBRATION_FILE
    if not path.is_file():
        return None
    try:
        calibration = Calibration.from_dict(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError) as exc:  # unreadable, not UTF-8, not JSON, or a bad calibration
        log.warning("%s ignored, the built-in weights apply: %s", path, exc)
        return None
    if not calibration.fits(model, encoder):
        log.warning(
            "%s was fitted for %s (%s), the index uses %s (%s): ignored, the built-in weights apply; run `qbank tune`",
            path,
            calibration.model,
            _precision(calibration.encoder),
            model,
            _precision(encoder),
        )
        return None
    return calibration
