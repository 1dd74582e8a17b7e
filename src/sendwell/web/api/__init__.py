"""The HTTP API, version 1: one router per noun, every route behind an API token."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends

from sendwell.web.api import (
    blacklist,
    campaigns,
    contacts,
    forms,
    jobs,
    limit,
    preview,
    segments,
    setup,
    templates,
    verify,
)
from sendwell.web.api.schemas import Problem
from sendwell.web.security import require_token

ERRORS: dict[int | str, dict[str, Any]] = {code: {"model": Problem} for code in (400, 401, 404, 413)}

router = APIRouter(prefix="/api/v1", dependencies=[Depends(require_token)], responses=ERRORS)
for module in (contacts, blacklist, segments, forms, campaigns, templates, preview, limit, setup, verify, jobs):
    router.include_router(module.router)
router.include_router(forms.consents_router)
