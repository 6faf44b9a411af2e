"""Validate the retrieval eval set ``eval/data/queries.jsonl`` against the ML bank.

Standalone: it reads ``content/machine-learning.md`` itself (only
``ingest.textutil.slugify`` and ``split_companies`` and the company alias
table of ``ingest.companies`` are borrowed, so ids and company names follow
the ingest scheme) and checks that

* every line is a JSON object with exactly the expected fields and types;
* ``kind`` is one of KINDS and every kind meets its minimum count, and the
  file holds at least MIN_TOTAL queries;
* ids are unique, query strings are unique (case-insensitive, whitespace
  normalised);
* every gold id is a known record id (full question or quick-reference row),
  gold lists hold no duplicates, are empty exactly for ``off_topic``;
* ``code`` queries set ``needs_code`` and their gold are full questions whose
  answers contain a code block; ``quick_ref`` gold are quick-reference rows;
* ``multi_turn`` queries carry a non-empty ``history``, other kinds none;
* ``company`` gold equals the gold *derived* from the markdown (see
  COMPANY_SPECS and ``derive_company_gold``), never a hand-typed list.

Usage::

    python eval/data/check_queries.py                 # validate, exit 1 on error
    python eval/data/check_queries.py --write-company-gold   # recompute company gold in place
    python eval/data/check_queries.py --company Uber [--topic tag:Deep Learning]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
sys.path.insert(0, str(REPO))

from ingest.companies import canonical_company  # noqa: E402
from ingest.textutil import slugify, split_companies  # noqa: E402

BANK_PATH = REPO / "content" / "machine-learning.md"
QUERIES_PATH = HERE / "queries.jsonl"
BANK_SLUG = "machine-learning"

KINDS = {
    "paraphrase": 15,
    "keyword": 15,
    "typo": 15,
    "acronym": 15,
    "code": 15,
    "answer_detail": 15,
    "quick_ref": 15,
    "company": 15,
    "off_topic": 15,
    "multi_turn": 15,
}
MIN_TOTAL = 230
REQUIRED = {"id": str, "query": str, "kind": str, "gold": list, "needs_code": bool}

# -- the bank ------------------------------------------------------------------

H3 = re.compile(r"^###\s+(?P<text>.+?)\s*$")
H2 = re.compile(r"^##\s+(?P<text>.+?)\s*$")
TITLE_TAIL = re.compile(r"^(?P<title>.+?)\s+[-–—]\s+(?P<companies>[^-–—]+?)\s+Interview Questions?\s*$", re.I)
ASKED_BY = re.compile(r"\*\*Asked by:\*\*\s*(?P<companies>[^|]+)")
TAGS = re.compile(r"\*\*Tags:\*\*\s*(?P<tags>[^|]+)")
COMPANY_LIST = re.compile(r"^Questions asked in (?P<company>.+?) interview$", re.I)
LIST_ITEM = re.compile(r"^[-*+]\s+(?P<text>.+?)\s*$")
RULE = re.compile(r"^(?:-{3,}|\*{3,}|_{3,})$")


def canon_company(name: str) -> str:
    """The name as ingestion stores it (one company under two names, such as
    the bank's "Facebook" and "Meta", is one: ``ingest.companies``), lowercased."""
    return canonical_company(re.sub(r"\s+", " ", name.strip().strip("*").strip())).lower()


def canon_companies(text: str) -> list[str]:
    return [canon_company(name) for name in split_companies(text)]


def norm_title(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().lower()


@dataclass
class FullQuestion:
    id: str
    title: str
    heading_companies: list[str]
    asked_by: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    has_code: bool = False


@dataclass
class QuickRefRow:
    id: str
    number: int
    title: str
    companies: list[str]
    topics: list[str]


@dataclass
class Bank:
    questions: list[FullQuestion]
    rows: list[QuickRefRow]
    company_lists: dict[str, list[str]]  # canonical company -> listed titles
    unmatched_list_titles: list[tuple[str, str]]  # (company, title) naming no row

    @property
    def ids(self) -> set[str]:
        return {q.id for q in self.questions} | {r.id for r in self.rows}

    def list_rows(self, company: str) -> list[str]:
        by_title = {norm_title(r.title): r.id for r in self.rows}
        return [by_title[t] for t in map(norm_title, self.company_lists.get(company, [])) if t in by_title]


def load_bank(path: Path = BANK_PATH) -> Bank:
    lines = path.read_text(encoding="utf-8").split("\n")
    questions: list[FullQuestion] = []
    rows: list[QuickRefRow] = []
    lists: dict[str, list[str]] = {}
    h2 = ""
    current: FullQuestion | None = None
    in_fence = False
    for line in lines:
        stripped = line.strip()
        if stripped.startswith(("```", "~~~")):
            in_fence = not in_fence
            if current is not None:
                current.has_code = True
            continue
        if in_fence:
            continue
        if RULE.match(stripped):
            h2 = "" if COMPANY_LIST.match(h2) else h2  # a rule ends a company list
        elif m := H2.match(line):
            h2, current = m.group("text"), None
        elif m := H3.match(line):
            heading = m.group("text")
            if tail := TITLE_TAIL.match(heading):
                title, companies = tail.group("title").strip(), canon_companies(tail.group("companies"))
            else:
                title, companies = heading, []
            current = FullQuestion(id=f"{BANK_SLUG}--{slugify(title)}", title=title, heading_companies=companies)
            questions.append(current)
        elif current is not None and (m := ASKED_BY.search(line)):
            current.asked_by = canon_companies(m.group("companies"))
            if t := TAGS.search(line):
                current.tags = [s.strip().strip("`").strip() for s in t.group("tags").split(",") if s.strip()]
        elif "quick reference" in h2.lower() and stripped.startswith("|"):
            cells = [c.strip() for c in stripped.strip("|").split("|")]
            if len(cells) >= 6 and cells[0].isdigit():
                rows.append(
                    QuickRefRow(
                        id=f"{BANK_SLUG}--qr-{int(cells[0])}",
                        number=int(cells[0]),
                        title=cells[1],
                        companies=canon_companies(cells[3]),
                        topics=[s.strip() for s in cells[5].split(",") if s.strip()],
                    )
                )
        elif (m := COMPANY_LIST.match(h2)) and (item := LIST_ITEM.match(stripped)):
            lists.setdefault(canon_company(m.group("company")), []).append(item.group("text"))
    row_titles = {norm_title(r.title) for r in rows}
    unmatched = [(c, t) for c, ts in lists.items() for t in ts if norm_title(t) not in row_titles]
    return Bank(questions=questions, rows=rows, company_lists=lists, unmatched_list_titles=unmatched)


# -- company gold ----------------------------------------------------------------


def company_records(bank: Bank, company: str) -> list[str]:
    """Every record associated with ``company``: full questions first (those
    whose heading names it, then those whose "Asked by" line names it), then
    quick-reference rows (those named in its "Questions asked in X interview"
    list, then those whose "Companies Asking" column names it)."""
    c = canon_company(company)
    tiers = [
        [q.id for q in bank.questions if c in q.heading_companies],
        [q.id for q in bank.questions if c in q.asked_by],
        bank.list_rows(c),
        [r.id for r in bank.rows if c in r.companies],
    ]
    return list(dict.fromkeys(i for tier in tiers for i in tier))


def topic_ids(bank: Bank, topic: str | list[str] | None) -> list[str] | None:
    """A topic is a hand-picked id list (best first) or ``"tag:<Tag>"``: full
    questions carrying that tag and rows carrying that topic, in bank order."""
    if topic is None or isinstance(topic, list):
        return topic
    if not topic.startswith("tag:"):
        raise ValueError(f"bad topic {topic!r}")
    tag = topic[4:].strip().lower()
    out = [q.id for q in bank.questions if tag in (t.lower() for t in q.tags)]
    return out + [r.id for r in bank.rows if tag in (t.lower() for t in r.topics)]


def derive_company_gold(bank: Bank, company: str, topic: str | list[str] | None = None) -> list[str]:
    """The company's records on the topic; when it has none, the topic's records (the
    bank's answer is still what answers "did uber ask about svms?")."""
    records = company_records(bank, company)
    wanted = topic_ids(bank, topic)
    if wanted is None:
        return records
    allowed = set(records)
    return [i for i in wanted if i in allowed] or wanted


_Q = "machine-learning--"
# query text (normalised) -> (company, topic).  Topic id lists name every record
# on that topic, best first; the gold is the part of it associated with the company.
COMPANY_SPECS: dict[str, tuple[str, str | list[str] | None]] = {
    "what does uber ask?": ("Uber", None),
    "netflix ml interview questions": ("Netflix", None),
    "swiggy data science interview - what ml stuff do they ask": ("Swiggy", None),
    "flipkart ml round prep": ("Flipkart", None),
    "questions ola asks in machine learning interviews": ("Ola", None),
    "paytm ml interview": ("Paytm", None),
    "oyo data scientist interview questions": ("OYO", None),
    "interviewing at whatsapp for ml, what comes up": ("WhatsApp", None),
    "slack ml interview topics": ("Slack", None),
    "airbnb machine learning questions list": ("Airbnb", None),
    "which questions did apple ask": ("Apple", None),
    "nvidia interview question ml": ("NVIDIA", None),
    "openai interview": ("OpenAI", None),
    "anything spotify asks?": ("Spotify", None),
    "google deep learning questions": ("Google", "tag:Deep Learning"),
    "netflix boosting questions": (
        "Netflix",
        [
            _Q + "random-forest-vs-gradient-boosting-when-to-use-which",
            _Q + "what-is-xgboost-and-how-does-it-differ-from-random-forest",
            _Q + "what-is-gradient-boosted-trees-how-does-xgboost-work",
            _Q + "what-is-ensemble-learning-explain-bagging-boosting-and-stacking",
            _Q + "qr-44",
            _Q + "qr-45",
            _Q + "qr-46",
            _Q + "qr-10",
        ],
    ),
    "amazon clustering interview question": (
        "Amazon",
        [_Q + "explain-k-means-clustering", _Q + "qr-31", _Q + "qr-32", _Q + "qr-74", _Q + "qr-93"],
    ),
    "microsoft svm question": (
        "Microsoft",
        [_Q + "what-are-support-vector-machines-svms-when-should-you-use-them", _Q + "qr-12"],
    ),
    "meta transformer interview questions": (
        "Meta",
        [_Q + "explain-attention-mechanisms-and-transformers", _Q + "qr-60", _Q + "qr-81", _Q + "qr-61", _Q + "qr-62"],
    ),
    "did facebook ask about knn": ("Facebook", [_Q + "qr-13"]),
    # The company asks nothing on the topic: the gold is the topic's answers (added 2026-12-02).
    "uber svm questions": ("Uber", [_Q + "what-are-support-vector-machines-svms-when-should-you-use-them"]),
    "did slack ask about random forests": (
        "Slack",
        [
            _Q + "random-forest-vs-gradient-boosting-when-to-use-which",
            _Q + "what-is-xgboost-and-how-does-it-differ-from-random-forest",
        ],
    ),
    "ola interview question on pca": (
        "Ola",
        [
            _Q + "what-is-dimensionality-reduction-explain-pca",
            _Q + "what-is-dimensionality-reduction-compare-pca-and-t-sne",
        ],
    ),
    "paytm batch norm question": ("Paytm", [_Q + "what-is-batch-normalization-and-why-does-it-help"]),
    "swiggy transformers question": ("Swiggy", [_Q + "explain-attention-mechanisms-and-transformers"]),
    "oyo k-means interview question": ("OYO", [_Q + "explain-k-means-clustering"]),
    "whatsapp question about gradient boosting": (
        "WhatsApp",
        [
            _Q + "what-is-gradient-boosted-trees-how-does-xgboost-work",
            _Q + "random-forest-vs-gradient-boosting-when-to-use-which",
            _Q + "what-is-xgboost-and-how-does-it-differ-from-random-forest",
        ],
    ),
    "flipkart dropout question": ("Flipkart", [_Q + "what-is-dropout-and-why-does-it-work"]),
    "uber question on putting models in production": (
        "Uber",
        [_Q + "how-do-you-deploy-ml-models-to-production", _Q + "qr-54"],
    ),
    "apple regularization qs": ("Apple", "tag:Regularization"),
    "flipkart forecasting questions": (
        "Flipkart",
        [_Q + "what-is-time-series-forecasting-explain-arima-and-its-components", _Q + "qr-48", _Q + "qr-49"],
    ),
    "ola lstm interview question": (
        "Ola",
        [_Q + "what-are-recurrent-neural-networks-rnns-and-lstms", _Q + "qr-49", _Q + "qr-19"],
    ),
    "paytm class imbalance question": (
        "Paytm",
        [
            _Q + "how-do-you-handle-imbalanced-datasets",
            _Q + "what-is-imbalanced-data-how-do-you-handle-it-in-classification",
            _Q + "qr-52",
        ],
    ),
    "swiggy missing values question": (
        "Swiggy",
        [_Q + "how-do-you-handle-missing-data", _Q + "qr-15", _Q + "qr-51"],
    ),
    "airbnb interpretability question": (
        "Airbnb",
        [_Q + "what-is-model-interpretability-explain-shap-and-lime", _Q + "qr-42", _Q + "qr-65"],
    ),
    "whatsapp convnet questions": (
        "WhatsApp",
        [_Q + "explain-convolutional-neural-networks-cnns-and-their-architecture", _Q + "qr-18"],
    ),
    "netflix a/b test interview question": ("Netflix", [_Q + "what-is-a-b-testing-in-the-context-of-ml-models"]),
    "amazon recommender system questions": (
        "Amazon",
        [_Q + "explain-different-types-of-recommendation-systems", _Q + "qr-97", _Q + "qr-98"],
    ),
    "google rl questions": ("Google", [_Q + "qr-20", _Q + "qr-69", _Q + "qr-70", _Q + "qr-71"]),
    "microsoft learning rate question": (
        "Microsoft",
        [
            _Q + "what-is-neural-network-optimization-explain-adam-and-learning-rate-schedules",
            _Q + "how-does-gradient-descent-work",
            _Q + "qr-34",
        ],
    ),
}


def norm_query(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().lower()


# -- validation ------------------------------------------------------------------


def load_lines(path: Path) -> list[tuple[int, str]]:
    return [(n, ln) for n, ln in enumerate(path.read_text(encoding="utf-8").split("\n"), 1) if ln.strip()]


def validate(path: Path = QUERIES_PATH, bank: Bank | None = None) -> list[str]:
    bank = bank or load_bank()
    errors: list[str] = []
    known = bank.ids
    qr_ids = {r.id for r in bank.rows}
    code_ids = {q.id for q in bank.questions if q.has_code}
    if len(bank.questions) != 49 or len(bank.rows) != 100:
        errors.append(f"bank: expected 49 questions and 100 rows, got {len(bank.questions)} and {len(bank.rows)}")

    ids: Counter[str] = Counter()
    queries: dict[str, int] = {}
    kinds: Counter[str] = Counter()
    company_seen: set[str] = set()
    total = 0
    for n, raw in load_lines(path):
        where = f"line {n}"
        try:
            rec = json.loads(raw)
        except json.JSONDecodeError as exc:
            errors.append(f"{where}: invalid JSON ({exc})")
            continue
        if not isinstance(rec, dict):
            errors.append(f"{where}: not a JSON object")
            continue
        total += 1
        kind = rec.get("kind")
        allowed = set(REQUIRED) | ({"history"} if kind == "multi_turn" else set())
        for key, typ in REQUIRED.items():
            if key not in rec:
                errors.append(f"{where}: missing field {key!r}")
            elif not isinstance(rec[key], typ):
                errors.append(f"{where}: field {key!r} should be {typ.__name__}")
        if extra := set(rec) - allowed:
            errors.append(f"{where}: unexpected field(s) {sorted(extra)}")
        if any(not isinstance(rec.get(k), t) for k, t in REQUIRED.items()):
            continue
        where = f"line {n} ({rec['id']})"
        ids[rec["id"]] += 1
        if not rec["id"].strip():
            errors.append(f"{where}: empty id")
        q = norm_query(rec["query"])
        if not q:
            errors.append(f"{where}: empty query")
        elif q in queries:
            errors.append(f"{where}: query duplicates line {queries[q]}: {rec['query']!r}")
        else:
            queries[q] = n
        if kind not in KINDS:
            errors.append(f"{where}: unknown kind {kind!r}")
            continue
        kinds[kind] += 1

        gold = rec["gold"]
        if not all(isinstance(g, str) for g in gold):
            errors.append(f"{where}: gold ids must be strings")
            continue
        if len(set(gold)) != len(gold):
            errors.append(f"{where}: duplicate gold ids")
        for g in gold:
            if g not in known:
                errors.append(f"{where}: unknown gold id {g!r}")
        if kind == "off_topic":
            if gold:
                errors.append(f"{where}: off_topic gold must be []")
            if rec["needs_code"]:
                errors.append(f"{where}: off_topic needs_code must be false")
        elif not gold:
            errors.append(f"{where}: empty gold for kind {kind}")
        if kind == "code":
            if not rec["needs_code"]:
                errors.append(f"{where}: code query must set needs_code true")
            for g in gold:
                if g not in code_ids:
                    errors.append(f"{where}: code gold {g!r} has no code in its answer")
        if kind == "quick_ref":
            for g in gold:
                if g not in qr_ids:
                    errors.append(f"{where}: quick_ref gold {g!r} is not a quick-reference row")
        if kind == "multi_turn":
            hist = rec.get("history")
            if not isinstance(hist, list) or not hist or not all(isinstance(h, str) and h.strip() for h in hist):
                errors.append(f"{where}: multi_turn needs a non-empty list of strings in 'history'")
            if rec["needs_code"] and gold and not all(g in code_ids for g in gold):
                errors.append(f"{where}: needs_code multi_turn gold must have code")
        if kind == "company":
            spec = COMPANY_SPECS.get(q)
            if spec is None:
                errors.append(f"{where}: company query has no entry in COMPANY_SPECS")
            else:
                company_seen.add(q)
                derived = derive_company_gold(bank, *spec)
                if not derived:
                    errors.append(f"{where}: derived company gold is empty")
                if gold != derived:
                    errors.append(f"{where}: company gold differs from derived gold (run --write-company-gold)")
            if rec["needs_code"]:
                errors.append(f"{where}: company needs_code must be false")

    for i, c in ids.items():
        if c > 1:
            errors.append(f"id {i!r} used {c} times")
    for kind, minimum in KINDS.items():
        if kinds[kind] < minimum:
            errors.append(f"kind {kind!r}: {kinds[kind]} queries, need at least {minimum}")
    if total < MIN_TOTAL:
        errors.append(f"{total} queries, need at least {MIN_TOTAL}")
    for q in sorted(set(COMPANY_SPECS) - company_seen):
        errors.append(f"COMPANY_SPECS entry {q!r} has no company query in the file")
    return errors


def write_company_gold(path: Path = QUERIES_PATH, bank: Bank | None = None) -> int:
    bank = bank or load_bank()
    out, changed = [], 0
    for line in path.read_text(encoding="utf-8").split("\n"):
        if line.strip():
            rec = json.loads(line)
            spec = COMPANY_SPECS.get(norm_query(rec.get("query", "")))
            if rec.get("kind") == "company" and spec is not None:
                gold = derive_company_gold(bank, *spec)
                if gold != rec.get("gold"):
                    rec["gold"], changed = gold, changed + 1
                line = json.dumps(rec, ensure_ascii=False)
        out.append(line)
    path.write_text("\n".join(out), encoding="utf-8")
    return changed


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("path", nargs="?", type=Path, default=QUERIES_PATH)
    ap.add_argument("--write-company-gold", action="store_true", help="recompute company gold in place")
    ap.add_argument("--company", help="print the derived records for a company and exit")
    ap.add_argument("--topic", help="with --company: 'tag:<Tag>' or comma-separated ids")
    args = ap.parse_args(argv)
    bank = load_bank()
    if args.company:
        raw: str | None = args.topic
        topic: str | list[str] | None = raw
        if raw and not raw.startswith("tag:"):
            topic = [t.strip() if "--" in t else f"{BANK_SLUG}--{t.strip()}" for t in raw.split(",")]
        print("\n".join(derive_company_gold(bank, args.company, topic)))
        return 0
    if args.write_company_gold:
        print(f"company gold rewritten on {write_company_gold(args.path, bank)} line(s)")
    for company, title in bank.unmatched_list_titles:
        print(f"note: {company!r} list names {title!r}, which matches no quick-reference row (no gold)")
    errors = validate(args.path, bank)
    counts = Counter(json.loads(ln)["kind"] for _, ln in load_lines(args.path) if _is_obj(ln))
    print(f"{sum(counts.values())} queries: " + ", ".join(f"{k}={counts[k]}" for k in KINDS))
    for e in errors:
        print(f"ERROR {e}")
    print("FAIL" if errors else "OK")
    return 1 if errors else 0


def _is_obj(line: str) -> bool:
    try:
        return isinstance(json.loads(line), dict)
    except json.JSONDecodeError:
        return False


if __name__ == "__main__":
    sys.exit(main())
