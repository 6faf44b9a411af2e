"""Dump what every surface answers for the eval queries, to diff two versions.

For each query of the eval set (multi-turn items with their history) this
writes, as JSON lines: the ``/api/search`` body (hybrid, k=10), the
``/api/chat`` body, the SSE stream's events, and the Slack Block Kit reply;
plus ``/api/facets``, ``/api/questions`` and every ``/api/questions/{id}``.
Values that differ on every call (``took_ms``, ``message_id``) are masked.

Used to prove that a refactor changes no response:

    .venv/bin/python scripts/dump_responses.py --out /tmp/before.jsonl   # on the old commit
    .venv/bin/python scripts/dump_responses.py --out /tmp/after.jsonl    # on the new one
    diff /tmp/before.jsonl /tmp/after.jsonl && echo identical

It needs a built index (``qbank ingest``; default ``QBANK_INDEX_DIR``).
"""

from __future__ import annotations

import argparse
import inspect
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def _masked(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: ("*" if k in ("took_ms", "message_id") else _masked(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [_masked(v) for v in value]
    return value


def _sse(text: str) -> list[Any]:
    events = []
    for frame in text.strip().split("\n\n"):
        event, data = frame.split("\n", 1)
        events.append([event.removeprefix("event: "), json.loads(data.removeprefix("data: "))])
    return events


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, required=True, help="JSON-lines file to write")
    parser.add_argument("--index", type=Path, default=None, help="index directory (default: QBANK_INDEX_DIR)")
    parser.add_argument("--queries", type=Path, default=REPO / "eval" / "data" / "queries.jsonl")
    args = parser.parse_args()

    from fastapi.testclient import TestClient

    from qbank.settings import Settings
    from service.app import create_app

    items = [json.loads(line) for line in args.queries.read_text(encoding="utf-8").splitlines() if line.strip()]
    with tempfile.TemporaryDirectory() as tmp:
        overrides: dict[str, Any] = {
            "database_url": f"sqlite:///{Path(tmp) / 'qbank.sqlite3'}",
            "feedback_path": Path(tmp) / "feedback.sqlite3",
            "llm_base_url": None,
            "llm_model": None,
            "slack_bot_token": None,
            "slack_signing_secret": None,
            "chat_rate_limit": 0,
        }
        if args.index is not None:
            overrides["index_dir"] = args.index
        settings = Settings(_env_file=None, **overrides)  # type: ignore[call-arg]
        app = create_app(settings, background_load=False)
        out: list[str] = []

        def emit(kind: str, key: str, body: Any) -> None:
            out.append(
                json.dumps({"kind": kind, "key": key, "body": _masked(body)}, ensure_ascii=False, sort_keys=True)
            )

        with TestClient(app) as client:
            from service.slack.blocks import answer_blocks, fallback_text

            try:
                from service.slack.short import short_blocks
            except ImportError:  # before answers started short
                short_blocks = None

            state = app.state.qbank
            for item in items:
                key = item["id"]
                emit("search", key, client.get("/api/search", params={"q": item["query"], "k": 10}).json())
                messages = [{"role": "user", "content": h} for h in item.get("history", [])]
                messages.append({"role": "user", "content": item["query"]})
                emit("chat", key, client.post("/api/chat", json={"messages": messages}).json())
                streamed = client.post("/api/chat", json={"messages": messages, "stream": True})
                emit("chat-sse", key, _sse(streamed.text))
                turns = [(m["role"], m["content"]) for m in messages]
                composed = state.engine.composer.compose(turns)
                if len(inspect.signature(answer_blocks).parameters) == 3:  # before the typed Answer
                    blocks = answer_blocks(composed, settings.public_url, item["query"])  # type: ignore[call-arg]
                else:
                    blocks = answer_blocks(composed, settings.public_url)
                emit("slack", key, {"text": fallback_text(composed), "blocks": blocks})
                if short_blocks is not None:  # what Slack replies with first, since answers start short
                    emit("slack-short", key, {"blocks": short_blocks(composed, settings.public_url)})
            emit("facets", "-", client.get("/api/facets").json())
            page = client.get("/api/questions", params={"limit": 200}).json()
            emit("questions", "-", page)
            for summary in page["items"]:
                emit("question", summary["id"], client.get(f"/api/questions/{summary['id']}").json())
            emit("browse", "gradient", client.get("/browse", params={"q": "gradient descent"}).text)
    args.out.write_text("\n".join(out) + "\n", encoding="utf-8")
    print(f"{len(out)} responses written to {args.out}")


if __name__ == "__main__":
    main()
