"""Fuzzing: schemathesis generates requests from the app's own OpenAPI schema,
valid ones and deliberately invalid ones, for every operation.  No answer may
be a 5xx, and every documented answer must match its schema and content type.

The app runs in-process over the session index; schemathesis starts its
lifespan once and keeps it.  Examples per operation are bounded so the whole
module stays within a couple of minutes.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import schemathesis
from fakes import HashEmbedder
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance
from service_support import service_settings

from index.engine import IngestReport
from service.app import create_app

EXAMPLES_PER_OPERATION = 20
CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]


@pytest.fixture(scope="module")
def fuzz_app(
    fake_embedder: HashEmbedder, fake_built: IngestReport, tmp_path_factory: pytest.TempPathFactory
) -> FastAPI:
    """The app over the shipped bank, indexed with the deterministic ``HashEmbedder``:
    these tests check validation and error paths, not meaning."""
    tmp: Path = tmp_path_factory.mktemp("fuzz")
    return create_app(service_settings(fake_built.path, tmp), background_load=False, embedder=fake_embedder)


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=["valid", "invalid"])
def test_no_server_errors_and_responses_match_the_schema(fuzz_app: FastAPI, mode: GenerationMode) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", fuzz_app)
    failures: list[str] = []
    fuzzed: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()  # type: ignore[union-attr]  # an invalid schema fails here, loudly

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def check(case: schemathesis.Case) -> None:
            case.call_and_validate(checks=CHECKS)

        try:
            check()
            fuzzed.append(operation.label)
        except Unsatisfiable:
            pass  # nothing to make invalid: an operation without parameters or body
        except (Exception, BaseExceptionGroup) as exc:  # one operation's failure must not hide the others'
            failures.append(f"{operation.label}:\n{exc}")
    assert not failures, "\n\n".join(failures)
    core = {"GET /api/search", "POST /api/search", "POST /api/chat", "POST /api/feedback", "GET /api/questions"}
    assert core <= set(fuzzed), f"not fuzzed: {core - set(fuzzed)}"
    if mode == GenerationMode.POSITIVE:
        assert {"GET /healthz", "GET /readyz", "GET /api/questions/{record_id}", "GET /api/facets"} <= set(fuzzed)
