"""Standalone check of eval/data/hard.jsonl, the harder query set (no project imports).

usage: python3 eval/data/check_hard.py [records.json | records.tsv] [hard.jsonl]

Records are read from the index's ``records.json`` ({"questions": [...], "quick_refs": [...]}, each with id, title
and, for quick-reference rows, question_id), by default .qbank/index/records.json, or from a tab-separated export
(id, kind, title, difficulty, companies, tags, linked_question_id). tests/test_eval_dataset.py runs it on the
session index. Checks fields and types, kinds and minimum counts,
ids h001 upward, unique queries, gold ids present, off_topic gold empty and the rest non-empty, how a quick_ref item's
gold is ordered, coverage (distinct quick-reference rows, distinct full questions), and reports the word overlap of
each query with its gold title: quick_ref must stay under MAX_QR_OVERLAP on average.
"""

import csv
import json
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEFAULT_DATA = os.path.join(ROOT, "eval", "data", "hard.jsonl")
DEFAULT_RECORDS = os.path.join(ROOT, ".qbank", "index", "records.json")  # built by `qbank ingest`
FIELDS = {"id": str, "query": str, "kind": str, "gold": list, "needs_code": bool}
MIN = {"quick_ref": 60, "paraphrase": 60, "off_topic": 20, "answer_detail": 20}
MIN_QR_ROWS = 60
MIN_PARAPHRASE_QUESTIONS = 40
MAX_QR_OVERLAP = 0.2

STOP_WORDS = """
    a about above after again against all am an and any are as at be because been before being below between both
    but by can could did do does doing don down during each even every few for from further get gets got had has have
    having he her here him his how i if in into is isn it its itself just let like me more most much my myself no nor
    not now of off on once one only or other our ours out over own pls same she should so some such than that the their
    them then there these they this those through tho to too under until up us use used using very vs was way we were
    what whats when where which while who whom why will with without would you your yours"""
STOP = set(STOP_WORDS.split())


def stem(word):
    for suffix in ("ing", "ed", "es", "s"):
        if len(word) > 4 and word.endswith(suffix) and not word.endswith("ss"):
            return word[: -len(suffix)]
    return word


def content_words(text):
    return {stem(w) for w in re.findall(r"[a-z0-9]+", text.lower()) if len(w) > 1 and w not in STOP}


def overlap(query, title):
    """Share of the query's content words that also occur in the title (after the same light stemming)."""
    words = content_words(query)
    return len(words & content_words(title)) / len(words) if words else 0.0


def load_records(path):
    """id -> {"kind": "question" | "quick_reference", "title": str, "linked": question id or ""}."""
    recs = {}
    if path.endswith(".json"):
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
        for r in data["questions"]:
            recs[r["id"]] = {"kind": "question", "title": r["title"], "linked": ""}
        for r in data["quick_refs"]:
            recs[r["id"]] = {"kind": "quick_reference", "title": r["title"], "linked": r.get("question_id") or ""}
    else:
        with open(path, encoding="utf-8", newline="") as f:
            for r in csv.DictReader(f, delimiter="\t"):
                linked = r["linked_question_id"] if r["linked_question_id"] not in ("", "None") else ""
                recs[r["id"]] = {"kind": r["kind"], "title": r["title"], "linked": linked}
    return recs


def check(items, recs):
    problems = []
    seen_ids, seen_queries = set(), {}
    counts = {k: 0 for k in MIN}
    for n, (line, item) in enumerate(items, 1):
        where = f"line {line}"
        if not isinstance(item, dict):
            problems.append(f"{where}: not a JSON object")
            continue
        if set(item) - {"history"} != set(FIELDS):
            problems.append(f"{where}: fields {sorted(item)} != {sorted(FIELDS)} (+ history)")
            continue
        history = item.get("history", [])
        if not (isinstance(history, list) and all(isinstance(h, str) and h.strip() for h in history)):
            problems.append(f"{where}: history is not a list of messages")
        elif history and item["kind"] != "off_topic":
            problems.append(f"{where}: only off_topic items have a history (a question asked mid-chat)")
        for field, typ in FIELDS.items():
            if not isinstance(item[field], typ):
                problems.append(f"{where}: {field} is not {typ.__name__}")
        if problems and problems[-1].startswith(where):
            continue
        if item["id"] != f"h{n:03d}":
            problems.append(f"{where}: id {item['id']} (expected h{n:03d})")
        if item["id"] in seen_ids:
            problems.append(f"{where}: duplicate id {item['id']}")
        seen_ids.add(item["id"])
        key = " ".join(" | ".join([*item.get("history", []), item["query"]]).lower().split())
        if not key:
            problems.append(f"{where}: empty query")
        elif key in seen_queries:
            problems.append(f"{where}: same query as line {seen_queries[key]}")
        seen_queries.setdefault(key, line)
        kind, gold = item["kind"], item["gold"]
        if kind not in MIN:
            problems.append(f"{where}: unknown kind {kind!r}")
            continue
        counts[kind] += 1
        if item["needs_code"]:
            problems.append(f"{where}: needs_code should be false in this set")
        if not all(isinstance(g, str) for g in gold):
            problems.append(f"{where}: gold holds a non-string")
            continue
        if len(set(gold)) != len(gold):
            problems.append(f"{where}: gold repeats an id")
        missing = [g for g in gold if g not in recs]
        if missing:
            problems.append(f"{where}: gold ids not in records: {missing}")
            continue
        if kind == "off_topic":
            if gold:
                problems.append(f"{where}: off_topic gold must be empty")
            continue
        if not gold:
            problems.append(f"{where}: {kind} gold is empty")
            continue
        if kind == "quick_ref":
            rows = [g for g in gold if recs[g]["kind"] == "quick_reference"]
            if not rows:
                problems.append(f"{where}: quick_ref gold names no quick-reference row")
                continue
            linked = recs[rows[0]]["linked"]
            expected_head = [linked, rows[0]] if linked else [rows[0]]
            if gold[: len(expected_head)] != expected_head:
                problems.append(f"{where}: quick_ref gold should start {expected_head}")
        if kind == "paraphrase" and recs[gold[0]]["kind"] != "question":
            problems.append(f"{where}: paraphrase gold should start with a full question")
    for kind, need in MIN.items():
        if counts[kind] < need:
            problems.append(f"kind {kind}: {counts[kind]} items, need at least {need}")
    return problems, counts


def row_of(item, recs):
    return next(g for g in item["gold"] if recs[g]["kind"] == "quick_reference")


def report(items, recs):
    """Coverage and overlap figures; returns (problems, lines to print)."""
    problems, lines = [], []
    qr = [i for i in items if i["kind"] == "quick_ref"]
    para = [i for i in items if i["kind"] == "paraphrase"]
    rows = {row_of(i, recs) for i in qr}
    para_questions = {i["gold"][0] for i in para}
    answered = {g for i in items for g in i["gold"]}
    lines.append(
        f"quick_ref rows covered: {len(rows)}; paraphrase first-gold questions: {len(para_questions)}; "
        f"records named in any gold: {len(answered)}"
    )
    if len(rows) < MIN_QR_ROWS:
        problems.append(f"quick_ref covers {len(rows)} distinct rows, need {MIN_QR_ROWS}")
    if len(para_questions) < MIN_PARAPHRASE_QUESTIONS:
        problems.append(f"paraphrases reach {len(para_questions)} questions first, need {MIN_PARAPHRASE_QUESTIONS}")
    qr_scores = [(overlap(i["query"], recs[row_of(i, recs)]["title"]), i) for i in qr]
    para_scores = [(overlap(i["query"], recs[i["gold"][0]]["title"]), i) for i in para]
    for name, scores in (("quick_ref vs gold row title", qr_scores), ("paraphrase vs first gold title", para_scores)):
        mean = sum(s for s, _ in scores) / len(scores) if scores else 0.0
        zero = sum(1 for s, _ in scores if s == 0)
        lines.append(
            f"word overlap, {name}: mean {mean:.3f}, max {max((s for s, _ in scores), default=0):.3f}, "
            f"{zero}/{len(scores)} with none"
        )
        for s, i in sorted(scores, key=lambda x: -x[0])[:3]:
            lines.append(f"  highest {s:.2f} {i['id']}: {i['query'][:90]}")
    qr_mean = sum(s for s, _ in qr_scores) / len(qr_scores) if qr_scores else 0.0
    if qr_mean >= MAX_QR_OVERLAP:
        problems.append(f"quick_ref mean overlap {qr_mean:.3f} is not under {MAX_QR_OVERLAP}")
    return problems, lines


def main(argv):
    data_path, records_path = DEFAULT_DATA, DEFAULT_RECORDS
    for arg in argv:
        if arg.endswith(".jsonl"):
            data_path = arg
        else:
            records_path = arg
    recs = load_records(records_path)
    items, problems = [], []
    with open(data_path, encoding="utf-8") as f:
        for line, text in enumerate(f, 1):
            if not text.strip():
                problems.append(f"line {line}: blank line")
                continue
            try:
                items.append((line, json.loads(text)))
            except json.JSONDecodeError as e:
                problems.append(f"line {line}: invalid JSON ({e})")
    more, counts = check(items, recs)
    problems += more
    lines = []
    if not problems:
        more, lines = report([item for _, item in items], recs)
        problems += more
    print(f"{data_path}: {len(items)} items, records from {records_path} ({len(recs)})")
    print("per kind: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    for text in lines:
        print(text)
    for p in problems:
        print("PROBLEM " + p)
    print("OK" if not problems else f"{len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
