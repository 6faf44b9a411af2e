"""Sentence-level dense evidence and bank-only abstention signals, measured on
the kept per-record scores of every single-message eval item (both sets,
dev and test).  Run: .venv/bin/python scripts/levers_sentences.py

The first run retrieves every item once and embeds the bank's sentences with
the packaged encoder (a few minutes on a small machine); both are cached in
/tmp (``--cache DIR``) keyed by the index's content hash.  Nothing here is
used by search; a lever worth keeping becomes a component.

Prints: hybrid hit@1 (dev / test, both sets, hard quick_ref and paraphrase)
for sentence-level dense evidence blended into the default fusion, added
to it, or as a rerank of its top 5 / 10; then abstention (off-topic refused,
answerable refused, per set and split) for bank-only signals: the best
sentence's cosine, max(best chunk, best sentence), idf-weighted vocabulary
coverage, the best-minus-10th cosine gap and the best record's share of the
query's attainable BM25, each as a veto on today's rule or as the rule's
dense side with floors fitted on dev (eval/tune.py's grid, widened).
``--flips LEVER`` lists the dev items a ranking lever wins and loses;
``--plateau`` scores the kept short-query bonus over a grid of its settings;
``--signals`` prints every wrong abstention decision's evidence."""

from __future__ import annotations

import argparse
import hashlib
import pickle
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from eval.dataset import index_record_ids, load_items  # noqa: E402
from eval.runner import EvalRunner  # noqa: E402
from eval.sets import EVAL_SETS  # noqa: E402
from eval.tune import collect  # noqa: E402
from index.components import AbstentionConfig, FusionWeights  # noqa: E402
from index.components.fusion import blend  # noqa: E402
from index.engine import load_or_build, make_searcher  # noqa: E402
from index.sentences import UNIT_KINDS, chunk_body, split_sentences  # noqa: E402
from qbank.settings import offline_embedder, settings_or_exit  # noqa: E402


@dataclass
class Item:
    id: str
    set: str
    split: str
    kind: str
    answerable: bool
    targets: frozenset[int]
    lexical: np.ndarray
    dense: np.ndarray
    pool: np.ndarray
    company_only: bool
    top_dense: float
    top_bm25: float
    vocab_idf: float
    qvec: np.ndarray
    terms: tuple[tuple[str, float | None], ...]  # topic term, its idf or None when not vocabulary


def build_cache(cache: Path) -> dict:
    settings = settings_or_exit()
    embedder = offline_embedder(settings).load()
    artifact = load_or_build(settings.index_dir, settings.content_dir, embedder, neighbours_dir=settings.neighbours_dir)
    key = hashlib.sha256(artifact.manifest.content_hash.encode()).hexdigest()[:12]
    path = cache / f"lev13-{key}.pkl"
    if path.exists():
        data = pickle.loads(path.read_bytes())
        if "window_vecs" not in data:
            add_windows(data, embedder, artifact, make_searcher(artifact, embedder).doc_ids)
            path.write_bytes(pickle.dumps(data))
        if "qtokens" not in data:
            add_tokens(data, make_searcher(artifact, embedder), ids=index_record_ids(artifact))
            path.write_bytes(pickle.dumps(data))
        return data
    searcher = make_searcher(artifact, embedder)
    runner = EvalRunner(searcher, modes=("hybrid",))
    ids = index_record_ids(artifact)
    sparse = searcher.abstention.sparse
    items: list[Item] = []
    for name in ("standard", "hard"):
        chosen = [i for i in load_items(list(EVAL_SETS[name].files), ids) if not i.history]
        for e in collect(searcher, chosen, runner.targets, progress=True):
            analyzed = searcher.analyzer.run(e.item.query)
            terms = tuple(
                (t, float(np.log(sparse.size / sparse.doc_freq[sparse.term_ids[t]])) if t in sparse.term_ids else None)
                for t in analyzed.topic_terms
            )
            items.append(
                Item(
                    e.item.id,
                    name,
                    e.item.split,
                    e.item.kind,
                    e.item.answerable,
                    e.targets,
                    e.lexical,
                    e.dense,
                    e.pool,
                    e.company_only,
                    e.top_dense,
                    e.top_bm25,
                    e.vocab_idf,
                    embedder.encode_query(analyzed.text, use_cache=False),
                    terms,
                )
            )
    doc_index = {d: i for i, d in enumerate(searcher.doc_ids)}
    units: list[tuple[int, str, str]] = []  # record position, chunk kind, text
    for c in artifact.chunks:
        if c.kind in UNIT_KINDS:  # the units the index stores (index/sentences.py)
            for s in split_sentences(chunk_body(c)):
                units.append((doc_index[c.doc_id], c.kind, s))
    t = time.perf_counter()
    unit_vecs = embedder.encode([u[2] for u in units], progress=True)
    print(f"embedded {len(units)} sentences in {time.perf_counter() - t:.0f}s")
    titled_vecs = embedder.encode(
        [f"{searcher.records[searcher.doc_ids[u[0]]].title}: {u[2]}" for u in units], progress=True
    )
    data = {
        "items": items,
        "doc_ids": searcher.doc_ids,
        "title_only": searcher.title_only,
        "chunk_doc": np.asarray([doc_index[c.doc_id] for c in artifact.chunks]),
        "chunk_vecs": artifact.embeddings.astype(np.float32),
        "units": units,
        "unit_vecs": unit_vecs,
        "titled_vecs": titled_vecs,
    }
    add_windows(data, embedder, artifact, searcher.doc_ids)
    add_tokens(data, searcher, ids=ids)
    path.write_bytes(pickle.dumps(data))
    return data


def add_tokens(data: dict, searcher, ids) -> None:  # type: ignore[no-untyped-def]
    """Each item's BM25 query tokens with the best score any chunk gives that token (None: not vocabulary)."""
    from index.tokenize import tokenize

    sparse = searcher.abstention.sparse
    m = sparse.matrix
    best = np.asarray([m.data[m.indptr[c] : m.indptr[c + 1]].max() for c in range(m.shape[1])])
    data["token_best"] = float(best.max())
    out = {}
    for name in ("standard", "hard"):
        for i in load_items(list(EVAL_SETS[name].files), ids):
            toks = tokenize(searcher.analyzer.run(i.query).text)
            out[i.id] = [(t, float(best[sparse.term_ids[t]]) if t in sparse.term_ids else None) for t in toks]
    data["qtokens"] = out


def add_windows(data: dict, embedder, artifact, doc_ids) -> None:  # type: ignore[no-untyped-def]
    """Windows of two consecutive sentences of one chunk (a chunk with one sentence: that sentence)."""
    doc_index = {d: i for i, d in enumerate(doc_ids)}
    windows: list[tuple[int, str]] = []
    for c in artifact.chunks:
        if c.kind in UNIT_KINDS:
            found = split_sentences(chunk_body(c))
            if len(found) == 1:
                windows.append((doc_index[c.doc_id], found[0]))
            for a, b in zip(found, found[1:], strict=False):
                windows.append((doc_index[c.doc_id], f"{a} {b}"))
    data["window_doc"] = np.asarray([w[0] for w in windows])
    data["window_vecs"] = embedder.encode([w[1] for w in windows], progress=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cache", type=Path, default=Path("/tmp"))
    parser.add_argument("--signals", action="store_true")
    parser.add_argument("--flips", help="print dev items this lever wins or loses against the baseline")
    parser.add_argument("--plateau", action="store_true", help="the kept sentence bonus over a grid of its settings")
    args = parser.parse_args()
    data = build_cache(args.cache)
    items: list[Item] = data["items"]
    rows: np.ndarray = data["title_only"]
    n_docs = len(data["doc_ids"])
    unit_doc = np.asarray([u[0] for u in data["units"]])
    unit_vecs: np.ndarray = data["unit_vecs"]
    print(f"{len(items)} items, {len(unit_doc)} sentences over {len(set(unit_doc.tolist()))} records")

    def per_record_max(scores: np.ndarray, owner: np.ndarray) -> np.ndarray:
        out = np.full(n_docs, -np.inf)
        np.maximum.at(out, owner, scores)
        return out

    def per_record_top2(scores: np.ndarray, owner: np.ndarray) -> np.ndarray:
        order = np.lexsort((-scores, owner))
        out = np.full(n_docs, -np.inf)
        first = np.full(n_docs, np.nan)
        for i in order:
            d = owner[i]
            if np.isnan(first[d]):
                first[d] = scores[i]
                out[d] = scores[i]
            elif out[d] == first[d]:
                out[d] = 0.5 * (first[d] + scores[i])
        return out

    # Per item: sentence max / top-2 per record; records without sentences take their dense score.
    smax: dict[str, np.ndarray] = {}
    stop2: dict[str, np.ndarray] = {}
    tmax: dict[str, np.ndarray] = {}
    wmax: dict[str, np.ndarray] = {}
    cmax: dict[str, np.ndarray] = {}
    qmax: dict[str, float] = {}
    titled_vecs: np.ndarray = data["titled_vecs"]
    window_vecs: np.ndarray = data["window_vecs"]
    window_doc: np.ndarray = data["window_doc"]
    for it in items:
        s = unit_vecs @ it.qvec
        m = per_record_max(s, unit_doc)
        t2 = per_record_top2(s, unit_doc)
        smax[it.id] = np.where(np.isfinite(m), m, it.dense)
        stop2[it.id] = np.where(np.isfinite(t2), t2, it.dense)
        tm = per_record_max(titled_vecs @ it.qvec, unit_doc)
        tmax[it.id] = np.where(np.isfinite(tm), tm, it.dense)
        wm = per_record_max(window_vecs @ it.qvec, window_doc)
        wmax[it.id] = np.where(np.isfinite(wm), wm, it.dense)
        cmax[it.id] = np.maximum(it.dense, smax[it.id])
        qmax[it.id] = float(s.max())

    w0 = FusionWeights()

    def sat(x: np.ndarray, k: float = w0.saturation) -> np.ndarray:
        return x / (x + k)

    def base(it: Item, dense: np.ndarray | None = None) -> np.ndarray:
        d = it.dense if dense is None else dense
        return blend(sat(it.lexical), d, w0.dense_weight, w0.bm25_weight, rows, w0.row_weights)[0]

    Lever = Callable[[Item], np.ndarray]

    def add_all(sig: dict[str, np.ndarray], w: float) -> Lever:
        return lambda it: base(it) + w * np.where(rows, it.dense, sig[it.id])

    def replace_dense(sig: dict[str, np.ndarray], a: float) -> Lever:
        return lambda it: base(it, np.where(rows, it.dense, (1 - a) * it.dense + a * sig[it.id]))

    def rerank(sig: dict[str, np.ndarray], w: float, depth: int) -> Lever:
        def f(it: Item) -> np.ndarray:
            fused = base(it)
            allowed = np.full(n_docs, -np.inf)
            allowed[it.pool] = fused[it.pool]
            top = np.argsort(-allowed, kind="stable")[:depth]
            rel = np.where(rows, it.dense, sig[it.id])[top]
            out = fused.copy()
            out[top] += w * (rel - rel.min())
            return out

        return f

    levers: dict[str, Lever] = {"baseline (default fusion)": base}
    for w in (0.1, 0.2, 0.3, 0.5):
        levers[f"+ {w} sentence max"] = add_all(smax, w)
    for w in (0.1, 0.2, 0.3):
        levers[f"+ {w} sentence top-2 mean"] = add_all(stop2, w)
    for a in (0.3, 0.5, 0.7):
        levers[f"dense = {1 - a:.1f} chunk + {a} sentence max"] = replace_dense(smax, a)
    for w in (0.1, 0.2, 0.3):
        levers[f"+ {w} titled sentence max"] = add_all(tmax, w)
        levers[f"+ {w} 2-sentence window max"] = add_all(wmax, w)
    for a in (0.5, 1.0):
        levers[f"dense = max(chunk, sentence) x{a}"] = replace_dense(cmax, a)

    def short_only(sig: dict[str, np.ndarray], w: float, most: float = 7.0) -> Lever:
        """The bonus for queries of at most ``most`` topic words only (SentenceBonus)."""
        return lambda it: base(it) + (w if 0 < len(it.terms) <= most else 0.0) * np.where(rows, it.dense, sig[it.id])

    levers["+ 0.2 sentence max, <= 7 topic words"] = short_only(smax, 0.2)
    levers["+ 0.2 max(chunk, sentence), <= 7 topic words"] = short_only(cmax, 0.2)  # what search does
    for depth in (5, 10):
        for w in (0.2, 0.4, 0.8):
            levers[f"rerank top {depth}, + {w} sentence max"] = rerank(smax, w, depth)
        levers[f"rerank top {depth}, + 0.4 sentence top-2"] = rerank(stop2, 0.4, depth)

    groups: dict[str, list[Item]] = {}
    for it in items:
        if it.targets and not it.company_only:
            groups.setdefault(f"{it.set} {it.split}", []).append(it)
            if it.set == "hard":
                groups.setdefault(f"{it.kind} {it.split}", []).append(it)
    columns = [
        "standard dev",
        "standard test",
        "hard dev",
        "hard test",
        "quick_ref dev",
        "quick_ref test",
        "paraphrase dev",
        "paraphrase test",
        "answer_detail dev",
        "answer_detail test",
    ]
    print(
        f"{'lever':40}"
        + "".join(
            f"{c.replace('paraphrase', 'para').replace('quick_ref', 'qr').replace('answer_detail', 'ad'):>11}"
            for c in columns
        )
    )
    for name, lever in levers.items():
        cells = []
        for column in columns:
            first = 0
            for it in groups[column]:
                scores = np.full(n_docs, -np.inf)
                scores[it.pool] = lever(it)[it.pool]
                first += int(np.argmax(scores)) in it.targets
            cells.append(f"{first:>5}/{len(groups[column]):<3}{first / len(groups[column]):.2f}"[-11:])
        print(f"{name:40}" + "".join(f"{c:>11}" for c in cells))

    if args.plateau:
        print("\nthe kept bonus, + w x max(chunk, sentence) for at most n topic words: hit@1 counts, dev")
        for most in (3.0, 5.0, 7.0, 9.0, 12.0):
            for w in (0.1, 0.15, 0.2, 0.25, 0.3, 0.4):
                lever = short_only(cmax, w, most)
                cells = []
                for column in ("standard dev", "hard dev"):
                    first = 0
                    for it in groups[column]:
                        scores = np.full(n_docs, -np.inf)
                        scores[it.pool] = lever(it)[it.pool]
                        first += int(np.argmax(scores)) in it.targets
                    cells.append(f"{column} {first}/{len(groups[column])}")
                print(f"  n <= {most:4.0f}, w {w:.2f}: " + ", ".join(cells))
        return
    if args.flips:
        titles = list(data["doc_ids"])
        lever = levers[args.flips]
        for it in items:
            if not it.targets or it.company_only or it.split != "dev":
                continue
            a = np.full(n_docs, -np.inf)
            b = np.full(n_docs, -np.inf)
            a[it.pool] = base(it)[it.pool]
            b[it.pool] = lever(it)[it.pool]
            wa, wb = int(np.argmax(a)) in it.targets, int(np.argmax(b)) in it.targets
            if wa != wb:
                gold = min(it.targets, key=lambda t: -b[t])
                print(f"{'WON ' if wb else 'LOST'} {it.set} {it.kind} {it.id}")
                print(f"     top base {titles[int(np.argmax(a))][18:70]}  top lever {titles[int(np.argmax(b))][18:70]}")
                top = int(np.argmax(b))
                print(
                    f"     gold {titles[gold][18:70]} smax {smax[it.id][gold]:.3f} vs lever-top {smax[it.id][top]:.3f}"
                )
        return
    abstention_report(items, qmax, data)


def abstention_report(items: list[Item], qmax: dict[str, float], data: dict) -> None:  # type: ignore[type-arg]
    cfg = AbstentionConfig()
    qtokens = data["qtokens"]

    def bm25_share(it: Item, unknown: float | None = None) -> float:
        """The best record's BM25 over the query's attainable BM25 (each token's best score in any
        chunk; a token the bank lacks counts as ``unknown``, default the median attainable)."""
        known = [b for _, b in qtokens[it.id] if b is not None]
        fill = float(np.median(known)) if (unknown is None and known) else (unknown or 0.0)
        total = sum(b if b is not None else fill for _, b in qtokens[it.id])
        return it.top_bm25 / total if total > 0 else 0.0

    def coverage(it: Item, floor: float) -> float:
        """idf-weighted share of the topic words that are bank vocabulary (unknown words weigh as the rarest)."""
        if not it.terms:
            return 1.0
        known = [idf for _, idf in it.terms if idf is not None]
        top = max([*known, floor])
        weights = [idf if idf is not None else top for _, idf in it.terms]
        return sum(w for (_, idf), w in zip(it.terms, weights, strict=True) if idf is not None) / sum(weights)

    def gap(it: Item) -> float:
        d = np.sort(it.dense)[::-1]
        return float(d[0] - d[9])

    signals: dict[str, Callable[[Item], float]] = {
        "top dense": lambda it: it.top_dense,
        "top sentence cosine": lambda it: qmax[it.id],
        "max(dense, sentence)": lambda it: max(it.top_dense, qmax[it.id]),
        "idf-weighted vocab coverage": lambda it: coverage(it, 6.0),
        "gap best - 10th cosine": gap,
        "bm25 share of attainable": bm25_share,
        "bm25 share, unknown as 0": lambda it: bm25_share(it, 0.0),
    }
    current = lambda it: cfg.answers(it.top_dense, it.top_bm25, it.vocab_idf)  # noqa: E731
    splits = [("standard", "dev"), ("hard", "dev"), ("standard", "test"), ("hard", "test")]

    def figures(answers: Callable[[Item], bool]) -> str:
        cells = []
        for s, sp in splits:
            group = [it for it in items if it.set == s and it.split == sp]
            off = [it for it in group if not it.answerable]
            ok = [it for it in group if it.answerable]
            rec = sum(not (it.company_only or answers(it)) for it in off)
            fa = sum(not (it.company_only or answers(it)) for it in ok)
            cells.append(f"{rec:>2}/{len(off):<2} {fa:>2}/{len(ok):<3}")
        return "".join(f"{c:>14}" for c in cells)

    if "--signals" in sys.argv:
        for it in items:
            refused = not (it.company_only or current(it))
            if it.answerable == refused or (not it.answerable and max(it.top_dense, qmax[it.id]) > 0.3):
                print(
                    f"{it.set[:4]} {it.split:4} {it.id} answerable={it.answerable!s:5} refused={refused!s:5} "
                    f"dense {it.top_dense:.3f} sent {qmax[it.id]:.3f} bm25 {it.top_bm25:5.2f} "
                    f"vocab_idf {it.vocab_idf:.2f} "
                    f"cov {coverage(it, 6.0):.2f} share {bm25_share(it):.2f} n {len(qtokens[it.id])}"
                )
    print()
    print("abstention: off-topic refused / off-topic, answerable refused / answerable")
    print(f"{'rule':58}" + "".join(f"{s + ' ' + sp:>14}" for s, sp in splits))
    print(f"{'current rule':58}" + figures(current))
    # Separation of each signal: AUC off-topic vs answerable, dev items of both sets.
    dev = [it for it in items if it.split == "dev"]
    for name, sig in signals.items():
        off = np.asarray([sig(it) for it in dev if not it.answerable])
        ok = np.asarray([sig(it) for it in dev if it.answerable])
        auc = float(np.mean(ok[:, None] > off[None, :]) + 0.5 * np.mean(ok[:, None] == off[None, :]))
        print(f"  signal {name:40} dev AUC {auc:.3f}  off median {np.median(off):.3f}", end="")
        print(f"  answerable p5 {np.percentile(ok, 5):.3f}")
    # Current rule plus one more veto (refuse also when the signal is below a floor), or swap the dense signal.
    for name in ("max(dense, sentence)", "bm25 share of attainable", "bm25 share, unknown as 0"):
        sig = signals[name]
        vals = sorted({round(sig(it), 3) for it in dev if not it.answerable})
        for floor in vals[:: max(1, len(vals) // 8)]:
            rule = lambda it, f=floor, s=sig: current(it) and s(it) >= f  # noqa: E731
            print(f"{'current and ' + name + f' >= {floor:.3f}':58}" + figures(rule))
    # The tune grid of floors (eval/tune.py ABSTENTION_GRID, widened), per dense-side signal:
    # best pooled dev recall with at most 3% of answerable dev items refused.
    from eval.tune import ABSTENTION_GRID, abstention_settings

    grid = {
        **ABSTENTION_GRID,
        "dense_floor": (0.33, 0.35, 0.37, 0.39, 0.41, 0.43, 0.45, 0.47, 0.49, 0.51),
        "dense_low": (0.13, 0.17, 0.21, 0.25, 0.27, 0.29, 0.31, 0.33),
    }
    dense_side = {
        "top dense (today)": lambda it: it.top_dense,
        "max(dense, sentence)": lambda it: max(it.top_dense, qmax[it.id]),
        "mean(dense, sentence)": lambda it: 0.5 * (it.top_dense + qmax[it.id]),
        "top sentence": lambda it: qmax[it.id],
    }
    off_dev = [it for it in dev if not it.answerable]
    ok_dev = [it for it in dev if it.answerable and not it.company_only]
    for name, sig in dense_side.items():
        best = None
        for c in abstention_settings(grid):
            rec = sum(not c.answers(sig(it), it.top_bm25, it.vocab_idf) for it in off_dev)
            fa = sum(not c.answers(sig(it), it.top_bm25, it.vocab_idf) for it in ok_dev)
            if fa > 0.03 * len(ok_dev):
                continue
            key = (rec, -fa)
            if best is None or key > best[0]:
                best = (key, c)
        assert best is not None
        c = best[1]
        rule = lambda it, c=c, sig=sig: c.answers(sig(it), it.top_bm25, it.vocab_idf)  # noqa: E731
        label = f"fit {name}: {c.dense_floor}/{c.dense_low}/{c.bm25_floor}/{c.min_idf}"
        print(f"{label:58}" + figures(rule))
    # Neighbourhood of the fit on max(dense, sentence), and a fit that leaves no set's dev false abstains higher.
    sig = dense_side["max(dense, sentence)"]
    base_fa = {s_: sum(not current(it) for it in ok_dev if it.set == s_) for s_ in ("standard", "hard")}
    best = None
    for c in abstention_settings(grid):
        fa = {
            s_: sum(not c.answers(sig(it), it.top_bm25, it.vocab_idf) for it in ok_dev if it.set == s_)
            for s_ in base_fa
        }
        if any(fa[s_] > base_fa[s_] for s_ in fa):
            continue
        rec = sum(not c.answers(sig(it), it.top_bm25, it.vocab_idf) for it in off_dev)
        key = (rec, -sum(fa.values()))
        if best is None or key > best[0]:
            best = (key, c)
    assert best is not None
    c = best[1]
    print(
        f"{f'fit max(d,s), no set more false: {c.dense_floor}/{c.dense_low}/{c.bm25_floor}/{c.min_idf}':58}"
        + figures(lambda it, c=c: c.answers(sig(it), it.top_bm25, it.vocab_idf))
    )
    for df in (0.39, 0.41, 0.43):
        for low in (0.27, 0.29, 0.31, 0.33):
            for idf in (3.0, 3.5):
                c = AbstentionConfig(df, 7.5, low, idf)
                print(
                    f"{f'max(d,s) {df}/{low}/7.5/{idf}':58}"
                    + figures(lambda it, c=c: c.answers(sig(it), it.top_bm25, it.vocab_idf))
                )
    for df in (0.41, 0.43, 0.45, 0.47, 0.49):
        for low in (0.17, 0.21, 0.25):
            rule = lambda it, df=df, low=low: AbstentionConfig(df, cfg.bm25_floor, low, cfg.min_idf).answers(  # noqa: E731
                max(it.top_dense, qmax[it.id]), it.top_bm25, it.vocab_idf
            )
            print(f"{f'current rule on max(dense, sentence), floor {df} low {low}':58}" + figures(rule))


if __name__ == "__main__":
    main()
