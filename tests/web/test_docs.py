"""docs/api.md documents every API route the app serves (a new route cannot land undocumented)."""

from __future__ import annotations

from pathlib import Path

from sendwell.config import Settings
from sendwell.web import create_app

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_every_api_route_is_in_docs_api_md() -> None:
    text = (DOCS / "api.md").read_text(encoding="utf-8")
    spec = create_app(Settings()).openapi()  # builds nothing that touches a database
    missing = [
        f"{method.upper()} {path}"
        for path, ops in spec["paths"].items()
        for method in ops
        if f"| {method.upper()} | `{path}` |" not in text
    ]
    assert not missing, f"add to docs/api.md: {missing}"
