"""Optional answer generation through an OpenAI-compatible chat endpoint.

Off unless ``QBANK_LLM_BASE_URL`` and ``QBANK_LLM_MODEL`` are set.  The model
sees only the retrieved sections and must cite them; any failure (connect,
timeout, bad status, malformed stream) raises ``LLMError`` and the caller
falls back to the extractive answer.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx

SYSTEM_PROMPT = (
    "You are qbank, an interview-preparation assistant. Answer ONLY from the numbered sources given. "
    "Write a short synthesis: at most three short paragraphs. End every paragraph with the sources it uses, "
    "cited as [1], [2]. Do not write code: the bank's own code is shown below your text. "
    "If the sources do not answer the question, say so."
)
MAX_TOKENS = 300  # a synthesis, not an essay: the curated answer follows it


class LLMError(RuntimeError):
    pass


class LLMClient:
    def __init__(self, base_url: str, model: str, api_key: str | None = None, timeout_s: float = 20.0) -> None:
        if timeout_s <= 0:
            raise ValueError("timeout_s must be positive")
        self.url = base_url.rstrip("/") + "/chat/completions"
        self.model = model
        self.headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.timeout = httpx.Timeout(timeout_s, connect=min(5.0, timeout_s))

    @classmethod
    def from_settings(cls, settings: Any, max_timeout_s: float | None = None) -> LLMClient | None:
        """The client ``QBANK_LLM_*`` configure (its timeout capped at
        ``max_timeout_s``), or None when no LLM is configured."""
        if not (settings.llm_base_url and settings.llm_model):
            return None
        key = settings.llm_api_key.get_secret_value() if settings.llm_api_key else None
        timeout = settings.llm_timeout_s if max_timeout_s is None else min(settings.llm_timeout_s, max_timeout_s)
        return cls(settings.llm_base_url, settings.llm_model, key, timeout)

    @staticmethod
    def build_messages(question: str, sources: list[tuple[str, str]]) -> list[dict[str, str]]:
        context = "\n\n".join(f"[{i}] {title}\n{text}" for i, (title, text) in enumerate(sources, 1))
        return [
            {"role": "system", "content": SYSTEM_PROMPT},
            {"role": "user", "content": f"Sources:\n\n{context}\n\nQuestion: {question}"},
        ]

    def complete(self, messages: list[dict[str, str]], max_tokens: int) -> str:
        """One non-streamed chat completion (the rerank stage's call); ``LLMError`` on any failure."""
        payload = {"model": self.model, "stream": False, "max_tokens": max_tokens, "messages": messages}
        try:
            with httpx.Client(timeout=self.timeout) as client:
                resp = client.post(self.url, json=payload, headers=self.headers)
        except httpx.HTTPError as exc:
            raise LLMError(f"LLM endpoint failed: {type(exc).__name__}: {exc}") from exc
        if resp.status_code != 200:
            raise LLMError(f"LLM endpoint answered HTTP {resp.status_code}")
        try:
            content = resp.json()["choices"][0]["message"]["content"]
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            raise LLMError(f"malformed completion from LLM endpoint: {resp.text[:80]!r}") from exc
        if not isinstance(content, str) or not content:
            raise LLMError("LLM endpoint returned no content")
        return content

    async def stream(self, question: str, sources: list[tuple[str, str]]) -> AsyncIterator[str]:
        payload = {
            "model": self.model,
            "stream": True,
            "max_tokens": MAX_TOKENS,
            "messages": self.build_messages(question, sources),
        }
        try:
            async with (
                httpx.AsyncClient(timeout=self.timeout) as client,
                client.stream("POST", self.url, json=payload, headers=self.headers) as resp,
            ):
                if resp.status_code != 200:
                    raise LLMError(f"LLM endpoint answered HTTP {resp.status_code}")
                got_any = False
                async for line in resp.aiter_lines():
                    if not line.startswith("data:"):
                        continue
                    data = line[5:].strip()
                    if data == "[DONE]":
                        break
                    try:
                        delta = json.loads(data)["choices"][0].get("delta", {}).get("content")
                    except (ValueError, KeyError, IndexError, TypeError) as exc:
                        raise LLMError(f"malformed stream chunk from LLM endpoint: {data[:80]!r}") from exc
                    if delta:
                        got_any = True
                        yield delta
                if not got_any:
                    raise LLMError("LLM endpoint streamed no content")
        except httpx.HTTPError as exc:
            raise LLMError(f"LLM endpoint failed: {type(exc).__name__}: {exc}") from exc
