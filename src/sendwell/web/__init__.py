"""The HTTP API and the web UI (FastAPI): formatting only, every decision is made by the core services."""

from sendwell.web.app import create_app

__all__ = ["create_app"]
