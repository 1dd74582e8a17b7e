"""Property-based tests of the API from its own OpenAPI spec (schemathesis): whatever a client sends,
no route answers with a server error. Bounded: a couple of dozen generated requests per operation.

(Hypothesis drives each operation directly: schemathesis' pytest plugin does not load under pytest 9.)
"""

from __future__ import annotations

import io
from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings

schemathesis = pytest.importorskip("schemathesis", reason="pip install schemathesis to run the API property tests")
from schemathesis.checks import not_a_server_error  # noqa: E402

from sendwell import campaigns, contacts, segments  # noqa: E402
from sendwell.auth import create_token  # noqa: E402
from sendwell.db.engine import make_engine  # noqa: E402
from sendwell.web import create_app  # noqa: E402

from .helpers import MAX_UPLOAD, settings_for  # noqa: E402

EXAMPLES = 12  # per operation and database: ~400 requests on each of SQLite and PostgreSQL


def test_no_generated_request_makes_a_server_error(db_url: str) -> None:
    engine = make_engine(db_url)
    # Some data, so generated names and ids sometimes hit real rows (id 1 / name "s1" / "c1").
    contacts.import_contacts(engine, io.BytesIO(b"email,first name\na@example.com,A\nb@example.com,B\n"))
    segments.create(engine, "s1")
    segments.add(engine, "s1", ["a@example.com"])
    campaigns.create_campaign(engine, name="c1", subject="Hi", from_addr="shop@example.com", text="t", exclude=["s1"])
    headers = {"Authorization": f"Bearer {create_token(engine, 'schemathesis')[1]}"}
    app = create_app(settings_for(db_url), engine, max_upload=MAX_UPLOAD)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    # /verify looks domains up in the DNS by default: tested offline in test_api_verify.py, not fuzzed here.
    operations = [op for op in (result.ok() for result in schema.get_all_operations()) if op.path != "/api/v1/verify"]
    assert len(operations) >= 25
    tried, seen = [], Counter()
    try:
        for operation in operations:

            @given(case=operation.as_strategy())
            @settings(
                max_examples=EXAMPLES,
                deadline=None,
                derandomize=True,
                database=None,
                suppress_health_check=list(HealthCheck),
            )
            def call(case: schemathesis.Case) -> None:
                response = case.call_and_validate(headers=headers, checks=[not_a_server_error])
                seen[response.status_code // 100] += 1

            call()
            tried.append(operation.label)
    finally:
        engine.dispose()
    assert len(tried) == len(operations)
    assert seen[2] > 50 and seen[4] > 50, seen  # both valid and refused requests were really made


def test_the_openapi_spec_validates() -> None:
    from sendwell.config import Settings

    spec = create_app(Settings()).openapi()
    schemathesis.openapi.from_dict(spec).validate()  # raises on a spec that breaks the OpenAPI 3 schema
    assert spec["paths"] and all(p.startswith("/api/v1/") for p in spec["paths"])
