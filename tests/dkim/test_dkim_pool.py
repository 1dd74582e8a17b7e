"""Signing batches in worker processes gives the same verifiable signatures as signing inline."""

from __future__ import annotations

import asyncio

import pytest

from sendwell import dkim as sd
from sendwell.errors import UserError

dkimpy = pytest.importorskip("dkim", reason="dkimpy is needed to verify signatures (pip install dkimpy pynacl)")
if not hasattr(dkimpy, "DKIM"):  # without dkimpy, `import dkim` finds this directory as a namespace package
    pytest.skip("dkimpy is needed to verify signatures (pip install dkimpy pynacl)", allow_module_level=True)
pytest.importorskip("nacl", reason="dkimpy needs PyNaCl for ed25519")


def test_pool_signs_batches_that_verify(tmp_path):
    sd.generate_key("shop.example", "s1", sd.Algorithm.RSA, directory=tmp_path, bits=1024)
    sd.generate_key("shop.example", "e1", sd.Algorithm.ED25519, directory=tmp_path)
    records = {f"{e.dns_name}.".encode(): sd.dns_record(tmp_path, e)[1].encode() for e in sd.load_index(tmp_path)}
    messages = [
        f"From: news@shop.example\nTo: u{i}@example.org\nSubject: n{i}\n\nhello {i}  \n".encode() for i in range(7)
    ]
    with sd.SigningPool("shop.example", tmp_path, processes=2, chunk=3) as pool:
        signed = pool.sign_many(messages)
        signed_async = asyncio.run(pool.sign_batch(messages[:4]))
    assert len(signed) == 7 and len(signed_async) == 4
    for i, message in enumerate(signed + signed_async):
        assert f"hello {i % 7}".encode() in message and message.count(b"DKIM-Signature:") == 2
        d = dkimpy.DKIM(message)
        assert d.verify(idx=0, dnsfunc=lambda n, timeout=5: records.get(n))
        assert d.verify(idx=1, dnsfunc=lambda n, timeout=5: records.get(n))


def test_pool_needs_a_key(tmp_path):
    with pytest.raises(UserError, match="no DKIM key"):
        sd.SigningPool("shop.example", tmp_path)
