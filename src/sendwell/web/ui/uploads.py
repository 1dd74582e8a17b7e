"""Uploaded files kept between the import preview (which shows their first rows) and the import itself, and the
reports of finished imports for the page their POST redirects to. Both live on the app (`app.state.uploads`)."""

from __future__ import annotations

import secrets
import shutil
import tempfile
import threading
import time
from collections import OrderedDict
from pathlib import Path
from typing import IO

from fastapi import Request

from sendwell.errors import NotFound
from sendwell.model import ImportReport

KEEP_SECONDS = 3600  # an upload nobody imported within the hour is dropped
KEEP_REPORTS = 50


class Uploads:
    def __init__(self) -> None:
        self._dir: Path | None = None
        self._names: dict[str, str] = {}
        self._reports: OrderedDict[str, ImportReport] = OrderedDict()
        self._lock = threading.Lock()

    def _folder(self) -> Path:
        if self._dir is None or not self._dir.exists():
            self._dir = Path(tempfile.mkdtemp(prefix="sendwell-uploads-"))
        return self._dir

    def keep(self, name: str, stream: IO[bytes]) -> str:
        """Copy an upload aside; the token that finds it again."""
        token = secrets.token_urlsafe(16)
        with self._lock:
            folder = self._folder()
            cutoff = time.time() - KEEP_SECONDS
            for old in folder.iterdir():
                if old.stat().st_mtime < cutoff:
                    old.unlink(missing_ok=True)
                    self._names.pop(old.name, None)
            self._names[token] = name
        with (folder / token).open("wb") as out:
            shutil.copyfileobj(stream, out)
        return token

    def path(self, token: str) -> tuple[str, Path]:
        """(the upload's name, where it is kept)."""
        name = self._names.get(token)
        if name is None or self._dir is None or not (self._dir / token).is_file():
            raise NotFound("this upload is gone (imported already, or older than an hour): choose the file again")
        return name, self._dir / token

    def drop(self, token: str) -> None:
        with self._lock:
            self._names.pop(token, None)
            if self._dir is not None:
                (self._dir / token).unlink(missing_ok=True)

    def report(self, token: str, report: ImportReport | None = None) -> ImportReport:
        """Keep a finished import's report (with `report`), or find it again."""
        with self._lock:
            if report is not None:
                self._reports[token] = report
                while len(self._reports) > KEEP_REPORTS:
                    self._reports.popitem(last=False)
                return report
            found = self._reports.get(token)
        if found is None:
            raise NotFound("this import's report is no longer kept")
        return found


def uploads_of(request: Request) -> Uploads:
    return request.app.state.uploads
