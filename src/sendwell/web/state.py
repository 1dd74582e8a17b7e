"""What every request of one app shares: settings, the engine (opened on first use), the signing secret and
the session lifetimes."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import Engine

from sendwell.config import Settings
from sendwell.sessions import Lifetimes

DEFAULT_MAX_UPLOAD = 50 * 1024 * 1024


@dataclass
class WebState:
    settings: Settings
    engine_: Engine | None = None
    max_upload: int = DEFAULT_MAX_UPLOAD
    secret_: str | None = None
    owns_engine: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def engine(self) -> Engine:
        # Opened lazily so importing or building the app never touches a database.
        if self.engine_ is None:
            with self._lock:
                if self.engine_ is None:
                    from sendwell.db.engine import open_database

                    self.engine_ = open_database(self.settings.database.url)
                    self.owns_engine = True
        return self.engine_

    @property
    def lifetimes(self) -> Lifetimes:
        return Lifetimes.of(self.settings.web)

    @property
    def secret(self) -> str:
        if self.secret_ is None:
            from sendwell.keys import app_secret

            self.secret_ = app_secret(self.engine, self.settings)
        return self.secret_

    def close(self) -> None:
        if self.owns_engine and self.engine_ is not None:
            self.engine_.dispose()
            self.engine_ = None


def web_state(request: Request) -> WebState:
    return request.app.state.web


def get_engine(request: Request) -> Engine:
    return request.app.state.web.engine


def get_settings(request: Request) -> Settings:
    return request.app.state.web.settings


# Typed dependencies: a route says `engine: EngineDep` instead of repeating `Depends(get_engine)`.
EngineDep = Annotated[Engine, Depends(get_engine)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
