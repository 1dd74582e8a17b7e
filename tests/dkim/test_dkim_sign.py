"""DKIM signatures made by sendwell's signer verify with dkimpy against keys served by a local DNS server.

(No __init__.py in this directory: a package named `dkim` here would hide dkimpy's.)
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sendwell import dkim as sd
from sendwell.errors import UserError
from sendwell.sending.message import CampaignContent, Links, Personal, PreparedCampaign

from domaincheck.dnsserver import ZoneServer

dkimpy = pytest.importorskip("dkim", reason="dkimpy is needed to verify signatures (pip install dkimpy pynacl)")
if not hasattr(dkimpy, "DKIM"):  # without dkimpy, `import dkim` finds this directory as a namespace package
    pytest.skip("dkimpy is needed to verify signatures (pip install dkimpy pynacl)", allow_module_level=True)
pytest.importorskip("nacl", reason="dkimpy needs PyNaCl for ed25519")


@pytest.fixture(scope="module")
def keys(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("dkim")
    sd.generate_key("shop.example", "rsa1", sd.Algorithm.RSA, directory=folder)
    sd.generate_key("shop.example", "ed1", sd.Algorithm.ED25519, directory=folder)
    return folder


@pytest.fixture(scope="module")
def dns(keys: Path):
    zone = {name: {"TXT": [value]} for name, value in (sd.dns_record(keys, e) for e in sd.load_index(keys))}
    with ZoneServer(zone) as server:
        yield server


@pytest.fixture(scope="module")
def records(keys: Path) -> dict[bytes, bytes]:
    """The published records as dkimpy's dnsfunc sees them, for tests that make many signatures."""
    return {f"{e.dns_name}.".encode(): sd.dns_record(keys, e)[1].encode() for e in sd.load_index(keys)}


@pytest.fixture(scope="module")
def ed_signer(keys: Path) -> sd.Signer:
    return signer_for(keys, sd.Algorithm.ED25519)


def signer_for(keys: Path, algorithm: sd.Algorithm) -> sd.Signer:
    entry = next(e for e in sd.load_index(keys) if e.algorithm is algorithm)
    return sd.Signer([sd.SigningKey.from_entry(keys, entry)])


def campaign_message(reply_to: str | None = None, public_url: str = "https://mail.shop.example") -> bytes:
    content = CampaignContent(
        3,
        "Autumn news for {{ first_name }}",
        "Shop <news@shop.example>",
        html="<p>Hello   {{ first_name }},\t<b>sale</b>  </p>\n\n\n",
        text="Hello {{ first_name }}  \nsee you\n",
        reply_to=reply_to,
    )
    prepared = PreparedCampaign(content, Links("s3cret", "bounces.shop.example", public_url))
    return prepared.render(Personal(11, "ann@example.org", {"first_name": "Ann"})).data


def verify(message: bytes, dns: ZoneServer, idx: int = 0) -> bool:
    try:
        return dkimpy.DKIM(message).verify(idx=idx, dnsfunc=dns.txt)
    except dkimpy.DKIMException:
        return False


def tag(message: bytes, name: bytes) -> bytes:
    sig = dkimpy.DKIM(message).headers[0][1]
    return dkimpy.util.parse_tag_value(sig)[name]


@pytest.mark.parametrize("algorithm", list(sd.Algorithm))
def test_signed_campaign_message_verifies_against_published_key(keys, dns, algorithm):
    signed = signer_for(keys, algorithm).sign(campaign_message())
    assert signed.startswith(b"DKIM-Signature: v=1; a=" + algorithm.tag)
    assert verify(signed, dns)
    assert (
        "rsa1._domainkey.shop.example" if algorithm is sd.Algorithm.RSA else "ed1._domainkey.shop.example",
        "TXT",
    ) in dns.queries


@pytest.mark.parametrize("algorithm", list(sd.Algorithm))
def test_tampered_body_fails_verification(keys, dns, algorithm):
    signed = signer_for(keys, algorithm).sign(campaign_message())
    assert verify(signed, dns)
    assert not verify(signed.replace(b"see you", b"see yoU"), dns)


def test_tampered_subject_and_added_from_fail(keys, dns):
    signed = signer_for(keys, sd.Algorithm.RSA).sign(campaign_message())
    assert not verify(signed.replace(b"Autumn news", b"Autumn NEWS"), dns)
    # From is oversigned: a second From added below the signature breaks it.
    cut = signed.index(b"\r\nFrom: ") + 2
    assert not verify(signed[:cut] + b"From: evil@attacker.example\r\n" + signed[cut:], dns)


def test_whitespace_changes_in_transit_still_verify(keys, dns):
    """relaxed/relaxed: refolding headers and trailing blanks added by relays do not break the signature."""
    signed = signer_for(keys, sd.Algorithm.ED25519).sign(campaign_message())
    changed = signed.replace(b"Subject: Autumn news", b"Subject:   Autumn\r\n  news").replace(
        b"see you\r\n", b"see you \t\r\n"
    )
    assert changed != signed
    assert verify(changed + b"\r\n\r\n", dns)


def test_header_list_covers_what_bulk_senders_must_sign(keys):
    signed = signer_for(keys, sd.Algorithm.RSA).sign(campaign_message())
    h = tag(signed, b"h").split(b":")
    assert h == [
        b"from",
        b"to",
        b"subject",
        b"date",
        b"message-id",
        b"list-unsubscribe",
        b"list-unsubscribe-post",
        b"mime-version",
        b"content-type",
        b"from",
    ]
    assert tag(signed, b"c") == b"relaxed/relaxed"
    assert tag(signed, b"d") == b"shop.example"
    with_reply = signer_for(keys, sd.Algorithm.RSA).sign(campaign_message(reply_to="help@shop.example", public_url=""))
    h = tag(with_reply, b"h").split(b":")
    assert b"reply-to" in h and b"list-unsubscribe-post" not in h  # no one-click without a public URL


def test_dual_signature_both_verify(keys, dns):
    signer = sd.Signer.for_from_domain("news@shop.example", keys)
    assert signer is not None
    signed = signer.sign(campaign_message())
    assert signed.count(b"DKIM-Signature:") == 2
    assert verify(signed, dns, 0) and verify(signed, dns, 1)
    algorithms = {
        dkimpy.util.parse_tag_value(v)[b"a"] for n, v in dkimpy.DKIM(signed).headers if n.lower() == b"dkim-signature"
    }
    assert algorithms == {b"rsa-sha256", b"ed25519-sha256"}


def test_wrong_published_key_fails(keys, tmp_path):
    other = sd.generate_key("shop.example", "rsa1", sd.Algorithm.RSA, directory=tmp_path, bits=1024)
    name, value = sd.dns_record(tmp_path, other)
    with ZoneServer({name: {"TXT": [value]}}) as wrong:
        signed = signer_for(keys, sd.Algorithm.RSA).sign(campaign_message())
        assert not verify(signed, wrong)


def test_bare_lf_message_is_signed_as_crlf(keys, dns):
    message = b"From: news@shop.example\nTo: a@example.org\nSubject: hi\n\nline one  \nline two\n\n"
    signed = signer_for(keys, sd.Algorithm.ED25519).sign(message)
    assert b"\n" not in signed.replace(b"\r\n", b"")
    assert verify(signed, dns)


_header_text = st.text(st.sampled_from("ab \tZ:;=<>@."), min_size=0, max_size=30).map(lambda s: "x" + s)
_line = st.text(st.sampled_from("ab c\t  ."), max_size=20)


@settings(max_examples=50, deadline=None)
@given(subject=_header_text, fold=st.booleans(), lines=st.lists(_line, max_size=8), blank_tail=st.integers(0, 3))
def test_canonicalization_agrees_with_dkimpy(ed_signer, records, subject, fold, lines, blank_tail):
    """Any whitespace in header values and body lines: dkimpy's relaxed canonicalization agrees with ours."""
    subject_line = "Subject: " + (subject.replace(" ", "\r\n ", 1) if fold and " " in subject else subject)
    message = (
        f"From: news@shop.example\r\nTo: a@example.org\r\n{subject_line}\r\n\r\n"
        + "".join(line + "\r\n" for line in lines)
        + "\r\n" * blank_tail
    ).encode()
    signed = ed_signer.sign(message)
    assert dkimpy.verify(signed, dnsfunc=lambda name, timeout=5: records.get(name))


def test_key_files_are_private_and_indexed(keys):
    entries = sd.load_index(keys)
    assert {(e.domain, e.selector, e.algorithm) for e in entries} == {
        ("shop.example", "rsa1", sd.Algorithm.RSA),
        ("shop.example", "ed1", sd.Algorithm.ED25519),
    }
    for e in entries:
        assert stat.S_IMODE(os.stat(keys / e.file).st_mode) == 0o600
    with pytest.raises(UserError, match="already exists"):
        sd.generate_key("shop.example", "rsa1", sd.Algorithm.RSA, directory=keys)


def test_signer_found_for_domain_and_sub_domain_only(keys):
    assert sd.Signer.for_from_domain("shop.example", keys) is not None
    sub = sd.Signer.for_from_domain("Shop <news@mail.shop.example>", keys)
    assert sub is not None and sub.domain == "shop.example"  # a parent's key passes relaxed DMARC alignment
    assert sd.Signer.for_from_domain("other.example", keys) is None
    assert sd.Signer.for_from_domain("notshop.example", keys) is None
    assert sd.missing_key_warning("news@shop.example", keys) is None
    warning = sd.missing_key_warning("Other <news@other.example>", keys)
    assert warning and "other.example" in warning and "generate a key" in warning


def test_txt_record_split_into_255_byte_strings(keys):
    entry = next(e for e in sd.load_index(keys) if e.algorithm is sd.Algorithm.RSA)
    name, value = sd.dns_record(keys, entry)
    assert name == "rsa1._domainkey.shop.example"
    assert value.startswith("v=DKIM1; k=rsa; p=MII")
    strings = sd.split_txt(value)
    assert len(strings) == 2 and all(len(s) <= 255 for s in strings) and "".join(strings) == value
    assert sd.zone_line(entry, value).startswith('rsa1._domainkey.shop.example. 3600 IN TXT ( "v=DKIM1; k=rsa; ')


def test_second_key_waits_until_activated(tmp_path):
    first = sd.generate_key("shop.example", "s1", sd.Algorithm.RSA, directory=tmp_path, bits=1024)
    second = sd.generate_key("shop.example", "s2", sd.Algorithm.RSA, directory=tmp_path, bits=1024)
    assert (first.state, second.state) == (sd.KeyState.ACTIVE, sd.KeyState.PENDING)
    signer = sd.Signer.for_from_domain("shop.example", tmp_path)
    assert signer is not None and [k.selector for k in signer.keys] == ["s1"]  # s2's record may not be out yet
    sd.activate_key("shop.example", "s2", tmp_path)
    assert {e.selector: e.state for e in sd.load_index(tmp_path)} == {
        "s1": sd.KeyState.RETIRED,
        "s2": sd.KeyState.ACTIVE,
    }
    signer = sd.Signer.for_from_domain("shop.example", tmp_path)
    assert signer is not None and [k.selector for k in signer.keys] == ["s2"]
    with pytest.raises(UserError, match="no DKIM key with selector 's9'"):
        sd.activate_key("shop.example", "s9", tmp_path)


def test_signer_sees_activation_by_another_process(tmp_path):
    import json

    sd.generate_key("shop.example", "s1", sd.Algorithm.ED25519, directory=tmp_path)
    sd.generate_key("shop.example", "s2", sd.Algorithm.ED25519, directory=tmp_path)
    assert sd.Signer.for_from_domain("shop.example", tmp_path).keys[0].selector == "s1"
    index = tmp_path / sd.INDEX_NAME  # rewritten the way `sendwell dkim activate` in another process does
    data = json.loads(index.read_text())
    data["keys"][0]["state"], data["keys"][1]["state"] = "retired", "active"
    mtime = index.stat().st_mtime_ns
    index.write_text(json.dumps(data))
    os.utime(index, ns=(mtime + 10**9, mtime + 10**9))  # a later mtime even on coarse-grained file systems
    assert sd.Signer.for_from_domain("shop.example", tmp_path).keys[0].selector == "s2"
