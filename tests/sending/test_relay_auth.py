"""A password goes over TLS, or over a plain connection only when the relay URL says ?insecure_auth=yes:
checked against a real aiosmtpd server that asks for AUTH, through `sendwell campaigns send`."""

import os
import subprocess
import sys

import pytest

from sendwell import campaigns
from sendwell.db.engine import open_database
from sendwell.errors import UserError
from sendwell.sending.relay import parse_relay

from .smtpd import ScriptedServer
from factories import add_contacts

SENDWELL = [sys.executable, "-m", "sendwell.cli"]


@pytest.mark.parametrize("url", ["smtp://u:secret@h:25", "smtp://u@h", "smtp://u:secret@h?insecure_auth=no"])
def test_login_over_plain_smtp_is_refused_by_name(url):
    with pytest.raises(UserError, match=r"sends the password unencrypted.*\?insecure_auth=yes") as err:
        parse_relay(url)
    assert "secret" not in str(err.value) and "\n" not in str(err.value)


@pytest.mark.parametrize(
    "url, security",
    [
        ("smtp+starttls://u:secret@h", "starttls"),
        ("smtps://u:secret@h", "tls"),
        ("smtp://h:25", "plain"),
        ("smtp://u:secret@h?insecure_auth=yes", "plain"),
    ],
)
def test_tls_or_no_login_or_explicit_consent_is_accepted(url, security):
    assert parse_relay(url).security == security


def test_insecure_auth_takes_only_yes_or_no():
    with pytest.raises(UserError, match="insecure_auth must be yes or no, not 'maybe'"):
        parse_relay("smtp://u:secret@h?insecure_auth=maybe")


def test_send_refuses_before_connecting_then_logs_in_when_allowed(tmp_path):
    db = f"sqlite:///{tmp_path / 'auth.db'}"
    engine = open_database(db)
    add_contacts(engine, ["ann@x.org"])
    campaigns.create_campaign(engine, name="n", subject="Hi", from_addr="n@shop.example", text="Hello")
    engine.dispose()
    with ScriptedServer(auth=("u", "pw")) as smtp:

        def send(url: str) -> subprocess.CompletedProcess:
            env = {**os.environ, "SENDWELL_DATABASE_URL": db, "SENDWELL_SMTP_URL": url, "SENDWELL_SENDING_SECRET": "k"}
            return subprocess.run(
                [*SENDWELL, "campaigns", "send", "n"], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60
            )

        plain = f"smtp://u:pw@127.0.0.1:{smtp.port}"
        r = send(plain)
        assert r.returncode == 2
        assert r.stderr.strip().count("\n") == 0 and "insecure_auth=yes" in r.stderr and "pw@" not in r.stderr
        assert smtp.logins == [] and smtp.counts() == {}  # the password never left
        r = send(plain + "?insecure_auth=yes")
        assert r.returncode == 0, r.stderr
        assert smtp.logins == ["u"] and smtp.counts() == {"ann@x.org": 1}
