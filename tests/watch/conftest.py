"""A real Dovecot IMAP server for the watcher tests: started once per session from a throw-away config.

Dovecot comes from Debian's packages (apt-get install dovecot-imapd). Without it the tests skip, or
fail under CI=true. Each test gets its own mail account, seeded by IMAP APPEND, or by a private
Postfix (the `postfix` fixture, apt-get install postfix) delivering its DSNs into the account's Maildir.
"""

from __future__ import annotations

import grp
import imaplib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from .postfix import BOUNCES, KNOWN, KNOWN_USERS, Downstream, Postfix
from .postfix import unavailable as postfix_unavailable

HINT = "Dovecot is not installed: apt-get install dovecot-imapd (the IMAP watcher tests need a real server)"
PASSWORD = "watch-test-password"
MAX_ACCOUNTS = 500  # one fresh mailbox per test


def _dovecot_binary() -> str | None:
    return shutil.which("dovecot") or next((p for p in ("/usr/sbin/dovecot",) if os.path.exists(p)), None)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Dovecot:
    root: Path
    port: int
    conf: Path
    passwd: Path
    uid: int
    gid: int
    tls_port: int
    accounts: int = 0

    @property
    def cafile(self) -> str:
        return str(self.root / "cert.pem")

    def write_users(self, count: int) -> None:
        # All written before start: Dovecot re-reads the file on a new mtime, which a fast test can outrun.
        self.passwd.write_text(
            "".join(
                f"{name}:{{PLAIN}}{PASSWORD}:{self.uid}:{self.gid}::{self.root}/mail/{name}::\n"
                for name in (f"bounces{i}" for i in range(1, count + 1))
            )
        )

    def next_user(self) -> str:
        self.accounts += 1
        return f"bounces{self.accounts}"

    def doveadm(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(["doveadm", "-c", str(self.conf), *args], capture_output=True, text=True, timeout=20)


def _certificate(root: Path) -> None:
    """A self-signed certificate for 127.0.0.1 (cert.pem doubles as the CA file clients trust)."""
    import ipaddress
    from datetime import UTC, datetime, timedelta

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=2))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    (root / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (root / "key.pem").write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    (root / "key.pem").chmod(0o600)


def _config(root: Path, port: int, tls_port: int, run_as: tuple[str, str] | None) -> str:
    # Running as root, Dovecot keeps its own service users; as anyone else, everything runs as that user.
    users = (
        ""
        if run_as is None
        else (
            f"default_login_user = {run_as[0]}\ndefault_internal_user = {run_as[0]}\n"
            f"default_internal_group = {run_as[1]}\n"
        )
    )
    no_chroot = "" if run_as is None else "service anvil {\n  chroot =\n}\n"
    login_chroot = "" if run_as is None else "  chroot =\n"
    return f"""# written by tests/watch/conftest.py
protocols = imap
listen = 127.0.0.1
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
ssl = yes
ssl_cert = <{root}/cert.pem
ssl_key = <{root}/key.pem
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:{root}/mail/%u
{users}passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {root}/passwd
}}
service imap-login {{
{login_chroot}  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {tls_port}
  }}
}}
{no_chroot}"""


@pytest.fixture(scope="session")
def dovecot() -> Iterator[Dovecot]:
    binary = _dovecot_binary()
    if binary is None:
        if os.environ.get("CI") == "true":
            pytest.fail("CI=true but " + HINT)
        pytest.skip(HINT)
    # Not under pytest's tmp dir: that is private to us, and Dovecot's mail processes run as `nobody` for root.
    root = Path(tempfile.mkdtemp(prefix="sendwell-dovecot-"))
    root.chmod(0o755)
    for sub in ("mail", "run", "state"):
        (root / sub).mkdir()
    if os.getuid() == 0:
        uid, gid, run_as = pwd.getpwnam("nobody").pw_uid, grp.getgrnam("nogroup").gr_gid, None
        os.chown(root / "mail", uid, gid)
    else:
        uid, gid = os.getuid(), os.getgid()
        run_as = (pwd.getpwuid(uid).pw_name, grp.getgrgid(gid).gr_name)
    port, tls_port = _free_port(), _free_port()
    _certificate(root)
    conf = root / "dovecot.conf"
    conf.write_text(_config(root, port, tls_port, run_as))
    server = Dovecot(root, port, conf, root / "passwd", uid, gid, tls_port)
    server.write_users(MAX_ACCOUNTS)
    proc = subprocess.Popen([binary, "-F", "-c", str(conf)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                for p in (port, tls_port):
                    socket.create_connection(("127.0.0.1", p), timeout=1).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    log = (root / "dovecot.log").read_text() if (root / "dovecot.log").exists() else ""
                    out = proc.stdout.read().decode() if proc.stdout and proc.poll() is not None else ""
                    pytest.fail(f"Dovecot did not start on port {port}:\n{out}\n{log}")
                time.sleep(0.05)
        yield server
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        shutil.rmtree(root, ignore_errors=True)


@dataclass
class Account:
    server: Dovecot
    user: str

    @property
    def url(self) -> str:
        return f"imap://{self.user}@127.0.0.1:{self.server.port}/INBOX"

    def client(self) -> imaplib.IMAP4:
        conn = imaplib.IMAP4("127.0.0.1", self.server.port, timeout=20)
        conn.login(self.user, PASSWORD)
        return conn

    def append(self, raw: bytes, folder: str = "INBOX") -> None:
        conn = self.client()
        try:
            typ, data = conn.append(folder, None, None, raw)
            assert typ == "OK", data
        finally:
            conn.logout()

    def subjects(self, folder: str = "INBOX") -> list[str]:
        """Subject of every message in the folder (deleted or not), without marking anything \\Seen."""
        conn = self.client()
        try:
            typ, _ = conn.select(folder, readonly=True)
            if typ != "OK":
                return []
            typ, data = conn.uid("FETCH", "1:*", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
            return sorted(
                item[1].decode("utf-8", "replace").split(":", 1)[-1].strip() for item in data if isinstance(item, tuple)
            )
        finally:
            conn.logout()

    def flags(self, folder: str = "INBOX") -> dict[str, str]:
        """Subject → FLAGS of every message in the folder."""
        conn = self.client()
        try:
            conn.select(folder, readonly=True)
            typ, data = conn.uid("FETCH", "1:*", "(FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
            out = {}
            for item in data:
                if isinstance(item, tuple):
                    subject = item[1].decode("utf-8", "replace").split(":", 1)[-1].strip()
                    out[subject] = item[0].decode()
            return out
        finally:
            conn.logout()


@pytest.fixture
def account(dovecot: Dovecot) -> Account:
    return Account(dovecot, dovecot.next_user())


@pytest.fixture
def postfix(account: Account) -> Iterator[Postfix]:
    """A private Postfix relay whose bounce domain delivers into `account`'s Maildir (see postfix.py)."""
    why = postfix_unavailable()
    if why is not None:
        if os.environ.get("CI") == "true":
            pytest.fail("CI=true but " + why)
        pytest.skip(why)
    server = account.server
    mailboxes = {
        f"bounces@{BOUNCES}": f"{account.user}/",  # the Dovecot account's own Maildir
        **{f"{u}@{KNOWN}": f"{account.user}-known/{u}/" for u in KNOWN_USERS},
    }
    with (
        Downstream() as downstream,
        Postfix(
            mail=server.root / "mail",
            uid=server.uid,
            gid=server.gid,
            mailboxes=mailboxes,
            downstream_port=downstream.port,
        ) as mta,
    ):
        mta.downstream = downstream
        yield mta


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[pytest.TestReport]:
    """A failed test that ran a private Postfix shows its maillog beside the traceback."""
    report = yield
    mta = getattr(item, "funcargs", {}).get("postfix")
    if report.when == "call" and report.failed and isinstance(mta, Postfix):
        report.sections.append(("Postfix maillog", mta.log()))
    return report
