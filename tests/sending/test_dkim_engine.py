"""The engine signs with the From domain's DKIM key, and warns before sending when there is none."""

from __future__ import annotations

import pytest

from sendwell import dkim as sd
from sendwell.sending.engine import send

from .conftest import make_campaign, sender_settings

dkimpy = pytest.importorskip("dkim", reason="dkimpy is needed to verify signatures (pip install dkimpy pynacl)")
if not hasattr(dkimpy, "DKIM"):
    pytest.skip("dkimpy is needed to verify signatures (pip install dkimpy pynacl)", allow_module_level=True)


def test_campaign_messages_are_signed_and_verify(sqlite_engine, server, tmp_path, monkeypatch):
    monkeypatch.setenv("SENDWELL_DKIM_DIR", str(tmp_path))
    sd.clear_cache()
    sd.generate_key("shop.example", "s1", sd.Algorithm.RSA, directory=tmp_path)
    records = dict(sd.dns_record(tmp_path, e) for e in sd.load_index(tmp_path))
    make_campaign(sqlite_engine, ["ann@example.org", "bob@example.org"])
    report = send(sqlite_engine, sender_settings(server.url))
    assert report.counts["sent"] == 2 and not any("DKIM" in w for w in report.warnings)

    def dnsfunc(name: bytes, timeout: int = 5) -> bytes:
        return records[name.decode().rstrip(".")].encode()

    assert len(server.accepted) == 2
    for accepted in server.accepted:
        assert accepted.data.startswith(b"DKIM-Signature:")
        assert dkimpy.verify(accepted.data, dnsfunc=dnsfunc)
        tampered = accepted.data.replace(b"Hi ", b"Hi! ", 1)
        assert not dkimpy.verify(tampered, dnsfunc=dnsfunc)


def test_no_key_means_a_warning_and_unsigned_mail(sqlite_engine, server, tmp_path, monkeypatch):
    monkeypatch.setenv("SENDWELL_DKIM_DIR", str(tmp_path))
    sd.clear_cache()
    make_campaign(sqlite_engine, ["ann@example.org"])
    report = send(sqlite_engine, sender_settings(server.url))
    assert any("no DKIM key for shop.example" in w for w in report.warnings)
    assert not server.accepted[0].data.startswith(b"DKIM-Signature:")
