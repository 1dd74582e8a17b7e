"""/api/v1/setup: the installation's set-up check (sendwell.setupcheck), as the doctor command and the pages show it."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from sendwell.setupcheck import check_setup
from sendwell.web.api.schemas import SetupOut
from sendwell.web.state import EngineDep, SettingsDep

router = APIRouter(prefix="/setup", tags=["set-up"])


@router.get("", response_model=SetupOut)
def setup(engine: EngineDep, settings: SettingsDep) -> dict[str, Any]:
    """Every finding (public_url, bounce_mx, dkim, relay, worker) with its level (ok, warn, error), what was found,
    what to do and the next step's hint; `worst` is the worst level. Checked now: it may take a few seconds."""
    return check_setup(engine, settings, relay_timeout=5.0).as_dict()
