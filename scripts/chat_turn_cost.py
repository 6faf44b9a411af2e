"""What a chat turn costs in process: the composer answering the last message of every
conversation of the eval sets (history included, each earlier turn answered first, so the
search cache is as warm as in a real chat), per turn kind of the eval item.

    .venv/bin/python scripts/chat_turn_cost.py                  # this checkout
    .venv/bin/python scripts/chat_turn_cost.py --against 670105c  # and a revision, side by side

With ``--against`` the revision is checked out into a temporary git worktree and both trees
are measured in turn, three rounds each, alternating, in fresh processes over the same index
(``QBANK_INDEX_DIR``, default .qbank/index) and the same conversations (this checkout's); the
medians of the per-round medians and their ratio are printed.  BENCHMARKS.md quotes it."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ROUNDS = 3
FILES = ("eval/data/conversations.jsonl", "eval/data/queries.jsonl", "eval/data/hard.jsonl")


def conversations() -> list[tuple[str, list[str]]]:
    """(kind, user messages) of every eval item with a history, from this checkout."""
    out = []
    for name in FILES:
        for line in (ROOT / name).read_text(encoding="utf-8").splitlines():
            if line.strip():
                item = json.loads(line)
                if item.get("history"):
                    out.append((item["kind"], [*item["history"], item["query"]]))
    return out


def measure(tree: Path) -> dict[str, float]:
    """Median milliseconds of the last turn per item kind (and "all"), composed in ``tree``."""
    sys.path.insert(0, str(tree))
    from index.engine import load_or_build, make_searcher
    from qbank.answer.composer import AnswerComposer
    from qbank.answer.markdown import to_markdown
    from qbank.settings import offline_embedder, settings_or_exit

    settings = settings_or_exit()
    embedder = offline_embedder(settings).load()
    artifact = load_or_build(settings.index_dir, settings.content_dir, embedder, neighbours_dir=settings.neighbours_dir)
    composer = AnswerComposer(make_searcher(artifact, embedder))
    times: dict[str, list[float]] = {}
    for kind, said in conversations():
        messages: list[tuple[str, str]] = []
        for i, text in enumerate(said):
            messages.append(("user", text))
            start = time.perf_counter()
            answer = composer.compose(messages)
            took = (time.perf_counter() - start) * 1000
            if i == len(said) - 1:
                times.setdefault(kind, []).append(took)
                times.setdefault("all", []).append(took)
            messages.append(("assistant", to_markdown(answer)))
    return {kind: statistics.median(values) for kind, values in times.items()}


def run(tree: Path) -> dict[str, float]:
    env = {**os.environ, "QBANK_INDEX_DIR": str(Path(os.environ.get("QBANK_INDEX_DIR", ROOT / ".qbank/index")))}
    done = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--measure", str(tree)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    args = sys.argv[1:]
    if args[:1] == ["--measure"]:
        print(json.dumps(measure(Path(args[1]))))
        return
    trees = {"this checkout": ROOT}
    scratch = None
    if args[:1] == ["--against"] and len(args) > 1:
        scratch = Path(tempfile.mkdtemp(prefix="qbank-against-"))
        subprocess.run(["git", "worktree", "add", "--detach", str(scratch), args[1]], cwd=ROOT, check=True)
        trees = {args[1]: scratch, "this checkout": ROOT}
    try:
        rounds: dict[str, list[dict[str, float]]] = {name: [] for name in trees}
        for _ in range(ROUNDS):
            for name, tree in trees.items():
                rounds[name].append(run(tree))
    finally:
        if scratch is not None:
            subprocess.run(["git", "worktree", "remove", "--force", str(scratch)], cwd=ROOT, check=False)
    kinds = sorted({k for results in rounds.values() for r in results for k in r}, key=lambda k: (k != "all", k))
    names = list(trees)
    print(f"last chat turn, median ms over the eval conversations ({ROUNDS} rounds, medians of medians)")
    print(f"{'kind':14}" + "".join(f"{n:>16}" for n in names) + ("      ratio" if len(names) == 2 else ""))
    for kind in kinds:
        cells = [statistics.median(r[kind] for r in rounds[n] if kind in r) for n in names]
        ratio = f"  {cells[1] / cells[0]:8.2f}x" if len(cells) == 2 and cells[0] else ""
        print(f"{kind:14}" + "".join(f"{c:16.1f}" for c in cells) + ratio)


if __name__ == "__main__":
    main()
