"""/openapi.json documents what the API returns: each JSON answer has a named schema derived from the service's own
dataclass, and the answers really have those fields (on SQLite and PostgreSQL)."""

from __future__ import annotations

import dataclasses
from typing import Any

from sendwell import campaigns, contactquery, contacts, stats
from sendwell.config import Settings
from sendwell.tracking.report import TrackingStats
from sendwell.web import create_app

from factories import campaign

SHOWN = {  # route → the dataclass(es) its answer is derived from
    ("get", "/api/v1/campaigns/{campaign}"): [campaigns.Campaign],
    ("patch", "/api/v1/campaigns/{campaign}"): [campaigns.Campaign],
    ("get", "/api/v1/campaigns/{campaign}/audience"): [campaigns.AudiencePreview],
    ("get", "/api/v1/campaigns/{campaign}/stats"): [stats.CampaignStats],
    ("get", "/api/v1/campaigns/{campaign}/tracking"): [TrackingStats],
    ("get", "/api/v1/contacts/{email}"): [contacts.Contact, contactquery.ContactHistory],
    ("patch", "/api/v1/contacts/{email}"): [contacts.Contact, contactquery.ContactHistory],
}
# Not shown to clients: what rendering needs (the template's own endpoint has it).
HIDDEN = {"/api/v1/campaigns/{campaign}": set(campaigns.PRIVATE_FIELDS)}


def _spec() -> dict[str, Any]:
    return create_app(Settings()).openapi()


def _schema(spec: dict[str, Any], method: str, path: str) -> dict[str, Any]:
    found = spec["paths"][path][method]["responses"]["200"]["content"]["application/json"]["schema"]
    assert "$ref" in found, f"{method.upper()} {path}: the answer has no named schema ({found})"
    return spec["components"]["schemas"][found["$ref"].rsplit("/", 1)[1]]


def test_every_json_answer_of_the_api_has_a_named_schema() -> None:
    spec = _spec()
    vague = []
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            for code, answer in op["responses"].items():
                schema = answer.get("content", {}).get("application/json", {}).get("schema")
                if code.startswith("2") and schema is not None and "$ref" not in schema and "items" not in schema:
                    vague.append(f"{method.upper()} {path}")
    assert not vague, f"add a response model to: {vague}"


def test_campaign_contact_and_statistics_schemas_are_the_services_dataclasses() -> None:
    spec = _spec()
    for (method, path), shapes in SHOWN.items():
        properties = set(_schema(spec, method, path)["properties"])
        fields = {f.name for shape in shapes for f in dataclasses.fields(shape)} - HIDDEN.get(path, set())
        assert properties == fields, f"{method.upper()} {path}"
    stats_schema = _schema(spec, "get", "/api/v1/campaigns/{campaign}/stats")
    assert stats_schema["properties"]["server_problems"] == {"$ref": "#/components/schemas/ServerProblems"}
    assert "layout_html" not in _schema(spec, "get", "/api/v1/campaigns/{campaign}")["properties"]
    recipients = _schema(spec, "get", "/api/v1/campaigns/{campaign}/recipients")["properties"]
    assert {"total", "limit", "offset", "columns", "items"} <= set(recipients)


def test_the_answers_have_the_documented_fields(api, web_engine) -> None:
    spec = api.get("/openapi.json").json()
    campaign(web_engine, ["ann@example.com", "bob@example.com"], statuses={"ann@example.com": "error"})
    api.post("/api/v1/blacklist", json={"addresses": ["ann@example.com"]})
    answers = {
        ("get", "/api/v1/campaigns/{campaign}"): api.get("/api/v1/campaigns/news"),
        ("get", "/api/v1/campaigns/{campaign}/audience"): api.get("/api/v1/campaigns/news/audience"),
        ("get", "/api/v1/campaigns/{campaign}/stats"): api.get("/api/v1/campaigns/news/stats"),
        ("get", "/api/v1/campaigns/{campaign}/tracking"): api.get("/api/v1/campaigns/news/tracking"),
        ("get", "/api/v1/campaigns/{campaign}/recipients"): api.get("/api/v1/campaigns/news/recipients"),
        ("get", "/api/v1/contacts/{email}"): api.get("/api/v1/contacts/ann@example.com"),
    }
    for (method, path), r in answers.items():
        assert r.status_code == 200, (path, r.text)
        assert set(r.json()) == set(_schema(spec, method, path)["properties"]), path
    ann = answers[("get", "/api/v1/contacts/{email}")].json()
    assert ann["blacklisted"]["reason"] == "manual" and ann["campaigns"][0]["status"] == "error"
    assert answers[("get", "/api/v1/campaigns/{campaign}/stats")].json()["by_status"]["error"] == 1
