"""The confirmation message is DKIM-signed as a campaign's is, when a key covers the form's From domain."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from sendwell import dkim as sd
from sendwell.db.engine import utcnow
from sendwell.forms.subscribe import Outcome, Submission, page_token, submit

from .helpers import SECRET

dkimpy = pytest.importorskip("dkim", reason="dkimpy is needed to verify signatures")
if not hasattr(dkimpy, "DKIM"):
    pytest.skip("dkimpy is needed to verify signatures", allow_module_level=True)


def test_confirmation_is_signed_for_the_from_domain(engine, settings, form, smtp, tmp_path) -> None:
    keys = tmp_path / "dkim"
    sd.generate_key("acme.example", "s1", sd.Algorithm.RSA, directory=keys)
    records = {f"{e.dns_name}.".encode(): sd.dns_record(keys, e)[1].encode() for e in sd.load_index(keys)}
    signed = replace(settings, dkim=replace(settings.dkim, dir=str(keys)))
    token = page_token(SECRET, form, utcnow() - timedelta(seconds=5))
    result = submit(engine, signed, SECRET, form, Submission("ann@example.org", page_token=token))
    assert result.outcome is Outcome.PENDING
    [mail] = smtp.accepted
    assert mail.data.startswith(b"DKIM-Signature:") and b"d=acme.example" in mail.data[:600]
    assert dkimpy.DKIM(mail.data).verify(dnsfunc=lambda name, timeout=5: records.get(name))
    assert mail.mail_from.endswith("@bounces.test")  # the VERP envelope on the bounce domain
