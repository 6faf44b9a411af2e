"""Standalone check of eval/data/conversations.jsonl (of the project, it
imports only the company alias table, ``ingest.companies``).

usage: python3 eval/data/check_conversations.py [conversations.jsonl] [records]

``records`` is the index's ``records.json`` (default: .qbank/index/records.json,
built by ``qbank ingest``) or a tab-separated export of it (id, kind, title,
difficulty, companies, tags, linked_question_id); company_list gold is
recomputed from it for the company and narrowing in COMPANY_SIDE.
tests/test_eval_dataset.py runs it against the session index.
"""

import csv
import json
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, ROOT)

from ingest.companies import COMPANY_ALIASES  # noqa: E402

PATH = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "eval", "data", "conversations.jsonl")
MD = os.path.join(ROOT, "content", "machine-learning.md")
RECORDS = sys.argv[2] if len(sys.argv) > 2 else os.path.join(ROOT, ".qbank", "index", "records.json")
FIELDS = ["id", "query", "history", "kind", "gold", "needs_code"]
MIN = {"topic_switch": 45, "follow_up": 35, "company_list": 12}
MIN_THREE_TURN_FOLLOW_UPS = 8
MIN_DISTINCT_GOLD = 35

# company_list side table: id -> (company as named in the records, narrowing); the
# history may name the company by an alias ("facebook" for the records' "Meta")
# narrowing: ("difficulty", "Easy"|"Medium"|"Hard") or ("tags", {tag, ...}) matched against the record's tags
COMPANY_SIDE = {
    "c121": ("Uber", ("difficulty", "Hard")),
    "c122": ("Meta", ("difficulty", "Hard")),
    "c123": ("Meta", ("difficulty", "Easy")),
    "c124": ("Netflix", ("difficulty", "Easy")),
    "c125": ("Netflix", ("difficulty", "Hard")),
    "c126": ("Microsoft", ("difficulty", "Easy")),
    "c127": ("Apple", ("tags", {"Deep Learning"})),
    "c128": ("Netflix", ("tags", {"Ensemble Methods", "Ensemble", "Boosting"})),
    "c129": ("Slack", ("difficulty", "Medium")),
    "c130": ("Airbnb", ("difficulty", "Hard")),
    "c131": ("WhatsApp", ("difficulty", "Hard")),
    "c132": ("Paytm", ("difficulty", "Hard")),
    "c133": ("Ola", ("difficulty", "Hard")),
    "c134": ("Swiggy", ("difficulty", "Medium")),
    "c135": ("Meta", ("tags", {"NLP", "Text Classification"})),
    "c136": ("Meta", ("tags", {"Regularization"})),
    "c137": ("Microsoft", ("tags", {"Deep Learning"})),
    "c138": ("Meta", ("difficulty", "Easy")),
    "c139": ("Netflix", ("tags", {"Production ML", "Production", "MLOps", "Deployment"})),
}


def load_records(path=None):
    path = path or RECORDS
    recs = {}
    if path.endswith(".json"):
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
        for r in [*data["questions"], *data["quick_refs"]]:
            r = {**r, "linked_question_id": r.get("question_id") or ""}
            r["companies_set"], r["tags_set"] = set(r["companies"]), set(r.get("tags", []))
            r["difficulty"] = r.get("difficulty") or "None"
            recs[r["id"]] = r
        return recs
    with open(path, encoding="utf-8") as f:
        for r in csv.DictReader(f, delimiter="\t"):
            r["companies_set"] = {c.strip() for c in r["companies"].split(",") if c.strip()}
            r["tags_set"] = {t.strip() for t in r["tags"].split(",") if t.strip()}
            recs[r["id"]] = r
    return recs


def python_blocks_by_title():
    """Full-question title -> whether its answer section holds a ```python block."""
    with open(MD, encoding="utf-8") as f:
        text = f.read()
    out = {}
    for sec in re.split(r"\n(?=### )", text):
        if not sec.startswith("### "):
            continue
        heading = sec.splitlines()[0][4:]
        title = re.sub(r"\s+-\s+[^-]*Interview Question\s*$", "", heading).strip()
        body = sec.split("\n## ")[0]  # stop at the next level-2 section
        out[title] = "```python" in body
    return out


def expected_company_gold(recs, company, narrowing):
    field, want = narrowing
    got = set()
    for rid, r in recs.items():
        if company not in r["companies_set"]:
            continue
        if (field == "difficulty" and r["difficulty"] == want) or (field == "tags" and r["tags_set"] & want):
            got.add(rid)
    return got


def norm(s):
    return " ".join(s.lower().split())


def main(path=None, records=None):
    recs = load_records(records)
    with open(path or PATH, encoding="utf-8") as f:
        lines = f.read().splitlines()
    code = python_blocks_by_title()
    problems = []
    counts, ids, convs, gold_ids = {}, set(), set(), set()
    three_turn = 0
    seen_company_ids = set()
    for n, line in enumerate(lines, 1):

        def bad(msg, n=n):
            problems.append(f"line {n}: {msg}")

        try:
            o = json.loads(line)
        except json.JSONDecodeError as e:
            bad(f"invalid JSON: {e}")
            continue
        if not isinstance(o, dict) or list(o.keys()) != FIELDS:
            bad(f"fields must be exactly {FIELDS}, got {list(o) if isinstance(o, dict) else type(o)}")
            continue
        if not (isinstance(o["id"], str) and re.fullmatch(r"c\d{3}", o["id"])):
            bad(f"bad id {o['id']!r}")
        if not (isinstance(o["query"], str) and o["query"].strip()):
            bad("query must be a non-empty string")
        if not (
            isinstance(o["history"], list)
            and o["history"]
            and all(isinstance(h, str) and h.strip() for h in o["history"])
        ):
            bad("history must be a non-empty list of non-empty strings")
            continue
        if o["kind"] not in MIN:
            bad(f"unknown kind {o['kind']!r}")
            continue
        if not (isinstance(o["gold"], list) and o["gold"] and all(isinstance(g, str) for g in o["gold"])):
            bad("gold must be a non-empty list of strings")
            continue
        if len(set(o["gold"])) != len(o["gold"]):
            bad("duplicate gold ids")
        if not isinstance(o["needs_code"], bool):
            bad("needs_code must be a bool")
        if o["id"] in ids:
            bad(f"duplicate id {o['id']}")
        ids.add(o["id"])
        conv = tuple(norm(x) for x in o["history"] + [o["query"]])
        if conv in convs:
            bad("duplicate conversation")
        convs.add(conv)
        counts[o["kind"]] = counts.get(o["kind"], 0) + 1
        for g in o["gold"]:
            if g not in recs:
                bad(f"unknown gold id {g}")
        gold_ids.update(o["gold"])
        if o["needs_code"]:
            first = recs.get(o["gold"][0])
            if not first or first["kind"] != "question":
                bad("needs_code: first gold must be a full question")
            elif not code.get(first["title"]):
                bad(f"needs_code: no ```python block in the answer to {first['title']!r}")
        if o["kind"] == "follow_up" and len(o["history"]) >= 2:
            three_turn += 1
        if o["kind"] == "company_list":
            side = COMPANY_SIDE.get(o["id"])
            if side is None:
                bad("company_list item missing from COMPANY_SIDE")
                continue
            seen_company_ids.add(o["id"])
            company, narrowing = side
            names = [company.lower(), *(a for a, c in COMPANY_ALIASES.items() if c == company)]
            if not any(n in h.lower() for n in names for h in o["history"]):
                bad(f"history does not name {company}")
            exp = expected_company_gold(recs, company, narrowing)
            if not exp:
                bad("expected gold is empty")
            if set(o["gold"]) != exp:
                missing, extra = sorted(exp - set(o["gold"])), sorted(set(o["gold"]) - exp)
                bad(f"company gold mismatch: missing {missing}, extra {extra}")
            qs = [recs[g]["kind"] == "question" for g in o["gold"] if g in recs]
            if qs != sorted(qs, reverse=True):
                bad("company gold: full questions should come first")
        else:
            # a full question should come first when a linked quick-reference row is listed with it
            for g in o["gold"]:
                r = recs.get(g)
                linked = r["linked_question_id"] if r and r["kind"] == "quick_reference" else None
                if linked in o["gold"] and o["gold"].index(linked) > o["gold"].index(g):
                    bad(f"{g} is listed before the full question it links to")
    for k, m in MIN.items():
        if counts.get(k, 0) < m:
            problems.append(f"kind {k}: {counts.get(k, 0)} < {m}")
    if three_turn < MIN_THREE_TURN_FOLLOW_UPS:
        problems.append(f"three-turn follow-ups: {three_turn} < {MIN_THREE_TURN_FOLLOW_UPS}")
    if len(gold_ids) < MIN_DISTINCT_GOLD:
        problems.append(f"distinct gold records {len(gold_ids)} < {MIN_DISTINCT_GOLD}")
    for cid in set(COMPANY_SIDE) - seen_company_ids:
        problems.append(f"COMPANY_SIDE entry {cid} not used by a company_list item")
    print(
        "counts:",
        counts,
        "| three-turn follow-ups:",
        three_turn,
        "| distinct gold:",
        len(gold_ids),
        "| full questions covered:",
        sum(1 for g in gold_ids if g in recs and recs[g]["kind"] == "question"),
        "/",
        sum(1 for r in recs.values() if r["kind"] == "question"),
    )
    for p in problems:
        print("PROBLEM", p)
    print("OK" if not problems else f"{len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
