"""The web UI: server-rendered pages; every page but the login and the public unsubscribe link asks for a session,
every form for its CSRF token."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from sendwell.web.security import check_csrf, require_user
from sendwell.web.ui import (
    blacklist,
    campaigns,
    contacts,
    dashboard,
    layouts,
    login,
    preview,
    segments,
    settings,
    subscribe,
    subscription_forms,
    unsubscribe,
)

router = APIRouter(include_in_schema=False)
router.include_router(login.router)
router.include_router(unsubscribe.router)  # public: the signed token is the credential
router.include_router(subscribe.router)  # public: subscription forms and their confirmation links
protected = APIRouter(dependencies=[Depends(require_user), Depends(check_csrf)])
for module in (dashboard, contacts, blacklist, segments, subscription_forms, preview, campaigns, layouts, settings):
    protected.include_router(module.router)
router.include_router(protected)
