"""The engine signs with the From domain's DKIM key, and warns before sending when there is none."""

from __future__ import annotations

import pytest

from sendwell import dkim as sd
from sendwell.sending.engine import send

from .conftest import sender_settings
from factories import started_campaign

dkimpy = pytest.importorskip("dkim", reason="dkimpy is needed to verify signatures (pip install dkimpy pynacl)")
if not hasattr(dkimpy, "DKIM"):
    pytest.skip("dkimpy is needed to verify signatures (pip install dkimpy pynacl)", allow_module_level=True)


@pytest.mark.parametrize(
    "algorithm, processes",
    [(sd.Algorithm.RSA, 0), (sd.Algorithm.RSA, 2), (sd.Algorithm.ED25519, 1)],
    ids=["rsa-inline", "rsa-pool", "ed25519-pool"],
)
def test_campaign_messages_are_signed_and_verify(sqlite_engine, server, tmp_path, monkeypatch, algorithm, processes):
    """Signed in the sending process (signing_processes = 0) or by the pool of worker processes."""
    from dataclasses import replace

    monkeypatch.setenv("SENDWELL_DKIM_DIR", str(tmp_path))
    sd.clear_cache()
    sd.generate_key("shop.example", "s1", algorithm, directory=tmp_path)
    records = dict(sd.dns_record(tmp_path, e) for e in sd.load_index(tmp_path))
    addrs = [f"r{i}@example.org" for i in range(150)]  # more than one claim and one pool chunk
    started_campaign(sqlite_engine, addrs)
    settings = sender_settings(server.url)
    settings = replace(settings, sending=replace(settings.sending, signing_processes=processes))
    report = send(sqlite_engine, settings)
    assert report.counts["sent"] == len(addrs) and not any("DKIM" in w for w in report.warnings)
    assert server.counts() == {a: 1 for a in addrs}

    def dnsfunc(name: bytes, timeout: int = 5) -> bytes:
        return records[name.decode().rstrip(".")].encode()

    for accepted in server.accepted:
        assert accepted.data.startswith(b"DKIM-Signature:")
        assert f"a={algorithm.tag.decode()};".encode() in accepted.data.split(b"\r\n\r\n")[0].replace(b" ", b"")
        assert dkimpy.verify(accepted.data, dnsfunc=dnsfunc)
        tampered = accepted.data.replace(b"Hi ", b"Hi! ", 1)
        assert not dkimpy.verify(tampered, dnsfunc=dnsfunc)


def test_no_key_means_a_warning_and_unsigned_mail(sqlite_engine, server, tmp_path, monkeypatch):
    monkeypatch.setenv("SENDWELL_DKIM_DIR", str(tmp_path))
    sd.clear_cache()
    started_campaign(sqlite_engine, ["ann@example.org"])
    report = send(sqlite_engine, sender_settings(server.url))
    assert any("no DKIM key for shop.example" in w for w in report.warnings)
    assert not server.accepted[0].data.startswith(b"DKIM-Signature:")


def test_a_signing_failure_fails_those_recipients_and_the_run_ends(sqlite_engine, server, tmp_path, monkeypatch):
    """A chunk that cannot be signed (here: the pool and the inline fallback both fail) must not leave
    its recipients claimed forever: they end `failed` with the reason, and `send` returns."""
    monkeypatch.setenv("SENDWELL_DKIM_DIR", str(tmp_path))
    sd.clear_cache()
    sd.generate_key("shop.example", "s1", sd.Algorithm.ED25519, directory=tmp_path)

    def broken(self, messages):
        raise RuntimeError("signing is broken")

    async def broken_batch(self, messages):
        raise RuntimeError("the pool is broken")

    monkeypatch.setattr(sd.Signer, "sign", broken)
    monkeypatch.setattr(sd.SigningPool, "sign_batch", broken_batch)
    addrs = [f"f{i}@example.org" for i in range(70)]  # two chunks
    started_campaign(sqlite_engine, addrs)
    report = send(sqlite_engine, sender_settings(server.url), linger=0.5)
    assert report.stopped == "done" and report.counts["failed"] == len(addrs)
    assert server.accepted == []
    from sqlalchemy import select

    from sendwell.db.schema import recipients

    with sqlite_engine.connect() as conn:
        answers = set(conn.execute(select(recipients.c.status, recipients.c.smtp_answer)).all())
    assert answers == {("failed", "the message could not be built: RuntimeError: signing is broken")}
