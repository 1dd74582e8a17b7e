"""/api/v1/verify: verify an uploaded or pasted list without importing it (syntax, disposable and role
addresses, typos, and — unless dns=false — the domain's mail servers)."""

from __future__ import annotations

import io
from collections import Counter
from dataclasses import dataclass

from fastapi import APIRouter, File, Form, UploadFile

from sendwell.errors import Hint, UserError
from sendwell.readers import read_rows
from sendwell.verify.verdict import CheckedAddress
from sendwell.web.api.common import upload_name
from sendwell.web.errors import blame
from sendwell.web.state import SettingsDep

router = APIRouter(prefix="/verify", tags=["verification"])
MAX_ADDRESSES = 100_000  # one answer holds every result; bigger lists go through `sendwell verify`


@dataclass(frozen=True, slots=True)
class ListVerified:
    total: int
    counts: dict[str, int]  # {verdict: addresses}
    results: list[CheckedAddress]  # in the order given


@router.post("", response_model=ListVerified)
def verify_list(
    settings: SettingsDep,
    file: UploadFile | None = File(None, description="CSV or list"),
    text: str | None = Form(None, description="Pasted addresses"),
    dns: bool = Form(True, description="Also look up each domain's mail servers"),
) -> ListVerified:
    """Every address with its verdict (valid, risky, invalid, unknown), the reasons and a suggested fix."""
    from sendwell.verify.run import VerifyOptions, verify_texts

    if (file is None) == (text is None):
        raise UserError("give either a file or pasted text", field="file" if file is None else "text", named=True)
    stream, name, field = (
        (file.file, upload_name(file), "file")
        if file is not None
        else (io.BytesIO((text or "").encode("utf-8")), "pasted", "text")
    )
    texts: list[str] = []
    with blame(field):
        for row in read_rows(stream, name):
            texts.append(row.text)
            if len(texts) > MAX_ADDRESSES:
                raise UserError(
                    f"{name}: more than {MAX_ADDRESSES} addresses; split the list or verify it from the command line",
                    field=field,
                    named=True,
                    hint=Hint.VERIFY_OFFLINE,
                )
    options = VerifyOptions.from_settings(settings, dns=dns)
    results = [r.checked() for r in verify_texts(texts, options)]
    return ListVerified(len(results), dict(Counter(r.verdict.value for r in results)), results)
