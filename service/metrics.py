"""Prometheus metrics: request counts and latency per route, index size, model."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Info


class Metrics:
    """One registry per app, so tests can create several apps in one process."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "qbank_requests_total", "HTTP requests", ["method", "route", "status"], registry=self.registry
        )
        self.latency = Histogram(
            "qbank_request_duration_seconds",
            "HTTP request latency",
            ["method", "route"],
            buckets=(0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=self.registry,
        )
        self.index_chunks = Gauge("qbank_index_chunks", "Chunks in the loaded index", registry=self.registry)
        self.index_records = Gauge(
            "qbank_index_records", "Questions and rows in the loaded index", registry=self.registry
        )
        self.ready = Gauge("qbank_ready", "1 when the index is loaded", registry=self.registry)
        self.model = Info("qbank_model", "Embedding model of the loaded index", registry=self.registry)
        self.feedback = Counter(
            "qbank_feedback_total", "Feedback received", ["source", "helpful"], registry=self.registry
        )
        self.reloads = Counter("qbank_index_reloads_total", "Index reloads", ["outcome"], registry=self.registry)
