"""Can a signal tell a mid-chat question on another subject ("whats the best laptop for
coding" after gradient boosting) from a follow-up in words of its own ("common mistakes
people make" after cross-validation)?  Both are refused on their own and do not rank the
previous answer near the top, so the chat glues both onto the previous topic.  For every
conversation item of both eval sets that reaches that point, this prints five signals and,
per signal, the best single threshold on the dev split: how many off-topic questions it
would refuse and how many follow-ups it would refuse with them; then the grid of the two
the chat uses together (qbank.answer.conversation.STRAY_DRIFT, STRAY_HEADING).
Run: .venv/bin/python scripts/midchat_signals.py [--anchor-query | --anchor-title]  (about
30 s; eval/README.md "Off-topic questions asked mid-chat").  The drift is measured from the
previous question and from the previous answer's title, the larger taken, as the chat does;
the flags measure one of them alone."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from eval.dataset import index_record_ids, load_items  # noqa: E402
from eval.sets import EVAL_SETS  # noqa: E402
from index.filters import Filters  # noqa: E402
from qbank.answer.conversation import ANAPHORA, FORM_WORDS, INTERVIEWER, ConversationResolver  # noqa: E402
from scripts.lever_support import open_searcher  # noqa: E402


def main() -> None:
    embedder, artifact, searcher = open_searcher()
    items = [
        i
        for name in ("standard", "hard")
        for i in load_items(list(EVAL_SETS[name].files), index_record_ids(artifact))
        if i.history
    ]
    resolver = ConversationResolver(searcher, use_cache=False)
    units = artifact.sentences
    if units is None:
        raise SystemExit("the index has no sentence units: run qbank ingest")
    chunk_doc = np.asarray([c.doc_id for c in artifact.chunks])
    unit_doc = chunk_doc[units.chunks]
    vocabulary = artifact.sparse.term_ids
    # every section heading of the banks' answers, once: the aspects a follow-up may ask about
    headings = sorted({c.heading for c in artifact.chunks if c.kind == "section" and c.heading})
    heading_vectors = embedder.encode(headings)
    rows = []
    for item in items:
        previous = resolver.resolve(list(item.history))
        message = item.query.strip()
        own = [t for t in searcher.analyzer.run(message).topic_terms if t not in FORM_WORDS]
        if previous.record is None or not own or ANAPHORA.search(message):
            continue
        alone = resolver._alone(message, Filters()).result
        if alone is None or alone.answerable or previous.record.id in {h.record.id for h in alone.hits[:3]}:
            continue
        if item.kind != "off_topic" and item.kind not in ("follow_up", "multi_turn"):
            continue
        query = embedder.encode_query(message, use_cache=False)
        chunks = artifact.embeddings[chunk_doc == previous.record.id]
        anchors = {"--anchor-title": (previous.record.title,), "--anchor-both": (previous.query, previous.record.title)}
        # the chat takes the larger of the two (--anchor-both, the default); the others for comparison
        chosen = next((v for k, v in anchors.items() if k in sys.argv[1:]), anchors["--anchor-both"])
        if "--anchor-query" in sys.argv[1:]:
            chosen = (previous.query,)
        drop = max(
            float(
                (chunks @ embedder.encode_query(anchor, use_cache=False)).max()
                - (chunks @ embedder.encode_query(f"{anchor} {message}", use_cache=False)).max()
            )
            for anchor in chosen
        )
        unit = float((units.embeddings[unit_doc == previous.record.id] @ query).max())
        unknown = sum(t not in vocabulary for t in own) / len(own)
        covered = resolver._words_of(previous.record.id)
        uncovered = sum(t not in covered for t in own) / len(own)
        heading = float((heading_vectors @ query).max())
        rows.append((item, drop, unit, unknown, uncovered, heading))
    print(f"{'id':6} {'split':5} {'kind':10} {'drop':>6} {'unit':>6} {'unknown':>8} {'uncov':>6} {'head':>6}  message")
    for item, drop, unit, unknown, uncovered, heading in sorted(rows, key=lambda r: (r[0].split, r[0].kind, r[1])):
        print(
            f"{item.id:6} {item.split:5} {item.kind:10} {drop:6.3f} {unit:6.3f} {unknown:8.2f} {uncovered:6.2f}"
            f" {heading:6.3f}  {item.query[:60]}"
        )
    print()
    signals = (
        ("cosine drop when glued", 1, True),
        ("best unit cosine of the previous answer", 2, False),
        ("share of unknown words", 3, True),
        ("share of words the previous answer lacks", 4, True),
        ("best cosine to a section heading of the banks", 5, False),
    )
    for name, col, above in signals:

        def refused(split: str, t: float, off_topic: bool, col: int = col, above: bool = above) -> int:
            group = [r[col] for r in rows if r[0].split == split and (r[0].kind == "off_topic") == off_topic]
            return sum((v >= t) if above else (v <= t) for v in group)

        # the dev threshold that refuses the most off-topic questions and no follow-up
        candidates = sorted({r[col] for r in rows if r[0].split == "dev"})
        safe = [t for t in candidates if refused("dev", t, False) == 0]
        if not safe:
            print(f"{name}: every dev threshold refuses a follow-up")
            continue
        best = max(safe, key=lambda t: refused("dev", t, True))
        cells = [
            f"{split} {refused(split, best, True)} off-topic refused, {refused(split, best, False)} follow-ups refused"
            for split in ("dev", "test")
        ]
        print(f"{name} >= {best:.3f}" if above else f"{name} <= {best:.3f}", "|", " | ".join(cells))
    # Both at once: a message that moves the glued search away from the previous answer and asks
    # about no aspect an answer of the banks has a heading for (an interviewer's follow-up exempt).
    print("drift >= d and heading cosine <= h (interviewer follow-ups exempt): dev off/follow | test off/follow")
    exempt = {r[0].id for r in rows if INTERVIEWER.search(r[0].query)}
    for d in (0.15, 0.17, 0.19, 0.21):
        cells = []
        for h in (0.28, 0.30, 0.32, 0.34, 0.36):

            def hit(r: tuple, d: float = d, h: float = h) -> bool:
                return r[0].id not in exempt and r[1] >= d and r[5] <= h

            got = {
                (sp, off): sum(hit(r) for r in rows if r[0].split == sp and (r[0].kind == "off_topic") == off)
                for sp in ("dev", "test")
                for off in (True, False)
            }
            cells.append(
                f"h {h:.2f}: {got['dev', True]}/{got['dev', False]} | {got['test', True]}/{got['test', False]}"
            )
        print(f"  d {d:.2f}  " + "   ".join(cells))
    counts = {
        (s, o): sum(r[0].split == s and (r[0].kind == "off_topic") == o for r in rows)
        for s in ("dev", "test")
        for o in (True, False)
    }
    dev, test = (f"{counts[split, True]} off-topic, {counts[split, False]} follow-ups" for split in ("dev", "test"))
    print(f"items: dev {dev}; test {test}")


if __name__ == "__main__":
    main()
