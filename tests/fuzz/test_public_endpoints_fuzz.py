"""Random and hostile bodies against every public endpoint of a real `sendwell serve` (issue 14, findings 2 and 7).

The server runs in a child process on loopback with every webhook turned on (so bodies reach the parsers
past the "not enabled" refusal), a login user and a started campaign. Posted: random bytes and random
JSON (Hypothesis), then the hostile set (50 MB bodies with and without Content-Length, three at once,
'[' * 200000, 100000-deep objects, 10000-digit numbers, UTF-16, Latin-1, NUL and lone surrogates,
wrong JSON types) to /webhooks/*, /unsubscribe/<token>, /t/o|c/<token> and /login. No answer may be a 5xx,
and the server's peak resident set (VmHWM of the child, read from /proc) must stay under 200 MB.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

MB = 1024 * 1024
PEAK_LIMIT_MB = 200
TOPIC = "arn:aws:sns:eu-west-1:123456789012:ses-bounces"
WEBHOOKS = ["/webhooks/sendgrid", "/webhooks/mailgun", "/webhooks/postmark", "/webhooks/ses", "/webhooks/other"]
TOKEN_PATHS = ["/unsubscribe/{t}", "/t/o/{t}", "/t/c/{t}"]
POSTMARK_AUTH = ("hook", "s3cret")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _peak_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        return int(next(line.split()[1] for line in status if line.startswith("VmHWM:"))) / 1024


class Server:
    def __init__(self, proc: subprocess.Popen, base: str) -> None:
        self.proc, self.base = proc, base
        self.answers: list[tuple[str, int]] = []

    def send(self, method: str, path: str, **kw: object) -> int:
        try:
            with httpx.Client(base_url=self.base, timeout=60) as client:
                status = client.request(method, path, **kw).status_code
        except (httpx.RemoteProtocolError, httpx.WriteError, httpx.ReadError):
            status = 0  # the server answered 413 and closed while we were still sending: not a 5xx
        self.answers.append((f"{method} {path}", status))
        return status


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("serve")
    url = f"sqlite:///{tmp / 'fuzz.db'}"
    env = {
        **os.environ,
        "SENDWELL_WEBHOOK_MAILGUN_KEY": "key-fuzz",
        "SENDWELL_WEBHOOK_POSTMARK_KEY": "hook:s3cret",
        "SENDWELL_WEBHOOK_SES_TOPICS": TOPIC,
        "SENDWELL_WEBHOOK_SENDGRID_KEY": "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEEVs/o5+uQbTjL3chynL4wXgUg2R9q9UU"
        "8I5mEovUf86QZ7kOBIjJwqnzD1omageEHWwHdBO6B+dFabmdT9POxg==",
    }
    cli = [sys.executable, "-m", "sendwell.cli", "--database", url]
    subprocess.run(
        [*cli, "users", "create", "admin", "--password-stdin"],
        input=b"a fine password\n",
        env=env,
        check=True,
        capture_output=True,
    )
    port = _free_port()
    log = (tmp / "serve.log").open("wb")
    proc = subprocess.Popen(
        [*cli, "serve", "--no-worker", "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("sendwell serve did not start: " + (tmp / "serve.log").read_text()) from None
            time.sleep(0.2)
    srv = Server(proc, f"http://127.0.0.1:{port}")
    try:
        yield srv
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        log.close()
    errors = [a for a in srv.answers if a[1] >= 500]
    assert not errors, f"5xx answers: {errors[:10]}\n" + (tmp / "serve.log").read_text()[-3000:]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=5)
        | st.dictionaries(
            st.sampled_from(
                [
                    "event",
                    "email",
                    "signature",
                    "event-data",
                    "timestamp",
                    "token",
                    "Type",
                    "TopicArn",
                    "Message",
                    "MessageId",
                    "SignatureVersion",
                    "SigningCertURL",
                    "Signature",
                    "RecordType",
                    "Email",
                    "recipient",
                    "x",
                ]
            )
            | st.text(max_size=8),
            inner,
            max_size=6,
        )
    ),
    max_leaves=30,
)
bodies = (
    st.binary(max_size=2000)
    | json_values.map(lambda v: json.dumps(v).encode())
    | st.text(max_size=500).map(lambda t: t.encode("utf-8", "surrogatepass"))
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)
@given(
    body=bodies,
    path=st.sampled_from(WEBHOOKS + TOKEN_PATHS + ["/login"]),
    token=st.text(max_size=60),
    content_type=st.sampled_from(
        ["application/json", "application/x-www-form-urlencoded", "text/plain", "multipart/form-data; boundary=x", ""]
    ),
)
def test_random_bodies_never_get_a_5xx(server: Server, body: bytes, path: str, token: str, content_type: str):
    target = path.format(t=quote(token, safe="") or "x")
    auth = POSTMARK_AUTH if path == "/webhooks/postmark" else None
    status = server.send(
        "POST", target, content=body, auth=auth, headers={"Content-Type": content_type} if content_type else {}
    )
    assert status < 500
    if target.startswith(("/t/", "/unsubscribe/")):
        assert server.send("GET", target) < 500


def _hostile() -> list[bytes]:
    return [
        b"[" * 200_000,
        b'{"a":' * 100_000,
        b"1" * 10_000,
        b"\x00" * 1000,
        b'"\\ud800\\udfff\\ud800"',
        '{"RecordType": "Bounce", "Email": "a@b.c"}'.encode("utf-16"),
        '{"é": 1}'.encode("latin-1"),
        b'{"Type": ["Notification"], "TopicArn": {}}',
        b'{"signature": {"timestamp": true, "token": [], "signature": 1.5}, "event-data": []}',
        b'[{"event": {"x": 1}, "email": ["a"]}]',
        b'{"Type": "Notification", "TopicArn": "' + TOPIC.encode() + b'", "Message": 7, "MessageId": "m", '
        b'"Timestamp": "t", "SignatureVersion": "1", "SigningCertURL": "https://sns.s3.amazonaws.com/x.pem", '
        b'"Signature": "AAAA"}',
        b"\xef\xbb\xbf[]",
        b"\xff" * 100,
    ]


def test_hostile_bodies_never_get_a_5xx(server: Server):
    for body in _hostile():
        for path in [*WEBHOOKS, "/login", "/unsubscribe/abc", "/t/c/abc"]:
            auth = POSTMARK_AUTH if path == "/webhooks/postmark" else None
            for kind in ("application/json", "application/x-www-form-urlencoded"):
                assert server.send("POST", path, content=body, auth=auth, headers={"Content-Type": kind}) < 500


def test_50_mb_bodies_three_at_once_stay_under_200_mb(server: Server):
    """Finding 2: three 50 MB posts took the server to 5.5 GB. Measured: the child server's VmHWM."""
    chunk = b"[" + b"1," * (MB // 2)
    before = _peak_mb(server.proc.pid)

    def streamed() -> Iterator[bytes]:
        for _ in range(50):
            yield chunk

    def one(path: str, sized: bool) -> None:
        auth = POSTMARK_AUTH if path == "/webhooks/postmark" else None
        body = chunk * 50 if sized else streamed()
        assert server.send("POST", path, content=body, auth=auth) in (0, 400, 403, 413)

    for sized in (True, False):
        for group in ([WEBHOOKS[1], WEBHOOKS[3], WEBHOOKS[0]], [WEBHOOKS[2], "/login", "/unsubscribe/abc"]):
            threads = [threading.Thread(target=one, args=(p, sized)) for p in group]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
    peak = _peak_mb(server.proc.pid)
    print(f"sendwell serve peak RSS: {before:.0f} MB before the 50 MB posts, {peak:.0f} MB after")
    Path(os.environ.get("SENDWELL_FUZZ_PEAK_FILE", os.devnull)).write_text(f"{peak:.1f}\n")
    assert peak < PEAK_LIMIT_MB, f"sendwell serve peaked at {peak:.0f} MB"
