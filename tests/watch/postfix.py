"""A private Postfix instance for the tests: its own config, queue and log under a temporary folder.

It is the relay sendwell sends through, on 127.0.0.1 and a free port, and knows four domains:

| domain | what Postfix does |
| --- | --- |
| `known.example.com` | virtual mailboxes for the listed users; anyone else is refused at RCPT (550 5.1.1) |
| `dead.example.com` | accepted, relayed to a downstream server that refuses the recipient: Postfix writes the DSN |
| `gone.example.com` | local, no recipient map: accepted, then local(8) finds no such user: Postfix writes the DSN |
| `bounces.example.com` | the VERP bounce domain: `bounces+<token>@` goes to one Maildir (the Dovecot account's) |

Nothing system-wide is touched: `postfix -c DIR` reads our main.cf/master.cf, the queue, data and
log live in DIR, no service is chrooted, and no DNS is asked. Postfix must run as root (its master
drops to the `postfix` user); mail is written as the uid/gid given (the Dovecot account's owner).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

HINT = (
    "Postfix is not installed: apt-get install postfix (the Postfix DSN test runs a private instance "
    "as the relay; it needs root)"
)
HOSTNAME = "mta.example.com"
# example.com: names sendwell accepts (email-validator refuses the special-use .test) and no one else owns
KNOWN, DEAD, GONE, BOUNCES = "known.example.com", "dead.example.com", "gone.example.com", "bounces.example.com"
KNOWN_USERS = ("ann", "bob")  # the only mailboxes of KNOWN


def binary() -> str | None:
    return shutil.which("postfix") or next((p for p in ("/usr/sbin/postfix",) if os.path.exists(p)), None)


def unavailable() -> str | None:
    """Why a private Postfix cannot run here, or None when it can."""
    if binary() is None:
        return HINT
    if os.geteuid() != 0:
        return "the Postfix DSN test starts a private Postfix, which must run as root"
    try:
        import pwd

        pwd.getpwnam("postfix")
    except KeyError:
        return "no `postfix` user: reinstall the Debian package (apt-get install --reinstall postfix)"
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# Every service a delivery and a bounce pass through, none chrooted (no copy of /etc to make).
MASTER_CF = """# written by tests/watch/postfix.py
127.0.0.1:{port} inet n - n - - smtpd
pickup    unix  n - n 60   1 pickup
cleanup   unix  n - n -    0 cleanup
qmgr      unix  n - n 300  1 qmgr
rewrite   unix  - - n -    - trivial-rewrite
bounce    unix  - - n -    0 bounce
defer     unix  - - n -    0 bounce
trace     unix  - - n -    0 bounce
verify    unix  - - n -    1 verify
flush     unix  n - n 1000? 0 flush
proxymap  unix  - - n -    - proxymap
smtp      unix  - - n -    - smtp
relay     unix  - - n -    - smtp
showq     unix  n - n -    - showq
error     unix  - - n -    - error
local     unix  - n n -    - local
retry     unix  - - n -    - error
discard   unix  - - n -    - discard
virtual   unix  - n n -    - virtual
anvil     unix  - - n -    1 anvil
scache    unix  - - n -    1 scache
postlog   unix-dgram n - n - 1 postlogd
"""

MAIN_CF = """# written by tests/watch/postfix.py
compatibility_level = 3.6
queue_directory = {root}/spool
data_directory = {root}/data
mail_owner = postfix
setgid_group = postdrop
maillog_file = {root}/maillog
maillog_file_prefixes = {root}
myhostname = {hostname}
mydomain = example.com
myorigin = $myhostname
mydestination = {gone}
local_recipient_maps =
alias_maps =
alias_database =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtp_dns_support_level = disabled
smtp_host_lookup = native
smtp_connect_timeout = 5s
smtp_tls_security_level = none
smtpd_tls_security_level = none
relay_domains = {dead}
transport_maps = texthash:{root}/etc/transport
virtual_mailbox_domains = {known} {bounces}
virtual_mailbox_base = {mail}
virtual_mailbox_maps = texthash:{root}/etc/mailboxes
virtual_uid_maps = static:{uid}
virtual_gid_maps = static:{gid}
recipient_delimiter = +
smtpd_reject_unlisted_recipient = yes
delay_warning_time = 0
biff = no
"""


class Postfix:
    """`postfix -c DIR start` … `stop`; `log()` shows what it did when a test fails."""

    def __init__(
        self, *, mail: Path, uid: int, gid: int, mailboxes: dict[str, str], downstream_port: int, extra: str = ""
    ) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="sendwell-postfix-"))
        self.root.chmod(0o755)  # the postfix user walks down to its queue
        self.etc = self.root / "etc"
        self.port = free_port()
        self.mail, self.uid, self.gid = mail, uid, gid
        self.mailboxes = mailboxes  # address -> Maildir under `mail` (ending in /)
        self.downstream_port = downstream_port
        self.downstream: Downstream | None = None
        self.extra = extra  # main.cf lines added last (a later line overrides an earlier one)
        self.started = False

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def _postfix(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [binary() or "postfix", "-c", str(self.etc), *args], capture_output=True, text=True, timeout=60
        )

    def write_config(self) -> None:
        self.etc.mkdir()
        (self.root / "spool").mkdir()  # root's; `postfix start` makes the queue's subdirectories
        (self.root / "data").mkdir()
        shutil.chown(self.root / "data", "postfix", "postfix")
        self.etc.joinpath("main.cf").write_text(
            MAIN_CF.format(
                root=self.root,
                hostname=HOSTNAME,
                known=KNOWN,
                dead=DEAD,
                gone=GONE,
                bounces=BOUNCES,
                mail=self.mail,
                uid=self.uid,
                gid=self.gid,
            )
            + self.extra
        )
        self.etc.joinpath("master.cf").write_text(MASTER_CF.format(port=self.port))
        self.etc.joinpath("mailboxes").write_text("".join(f"{a} {p}\n" for a, p in self.mailboxes.items()))
        self.etc.joinpath("transport").write_text(f"{DEAD} smtp:[127.0.0.1]:{self.downstream_port}\n")

    def start(self) -> Postfix:
        self.write_config()
        started = self._postfix("start")  # runs `postfix check` first and makes the queue's directories
        self.started = True  # even a failed start may leave a master behind: stop() runs regardless
        if started.returncode != 0:
            raise RuntimeError(f"postfix start failed:\n{started.stdout}{started.stderr}\n{self.log()}")
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return self
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"Postfix did not listen on 127.0.0.1:{self.port}:\n{self.log()}") from None
                time.sleep(0.05)

    def stop(self) -> None:
        if self.started:
            if self._postfix("stop").returncode != 0:
                self._postfix("abort")
            self._wait_master_gone()
            self.started = False
        shutil.rmtree(self.root, ignore_errors=True)

    def _wait_master_gone(self) -> None:
        pid_file = self.root / "spool" / "pid" / "master.pid"
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                pid = int(pid_file.read_text().split()[0])
                os.kill(pid, 0)
            except (OSError, ValueError, IndexError):
                return
            time.sleep(0.05)

    def log(self) -> str:
        try:
            return (self.root / "maillog").read_text(errors="replace")
        except OSError:
            return "(no maillog)"

    def queue_empty(self) -> bool:
        """No message left in Postfix's queue (every delivery and every bounce done)."""
        out = subprocess.run(["postqueue", "-c", str(self.etc), "-j"], capture_output=True, text=True, timeout=30)
        return out.returncode == 0 and not out.stdout.strip()

    def __enter__(self) -> Postfix:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc: object) -> None:
        self.stop()


class Downstream:
    """The server `dead.example.com` is relayed to: aiosmtpd refusing every recipient as an unknown user at RCPT, the
    way a downstream Postfix words it; Postfix then writes the DSN quoting this answer."""

    ANSWER = "550 5.1.1 <{address}>: Recipient address rejected: User unknown in local recipient table"

    def __init__(self) -> None:
        self.port = free_port()
        self.refused: list[str] = []
        self.controller = None

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        self.refused.append(address)
        return self.ANSWER.format(address=address)

    def __enter__(self) -> Downstream:
        from aiosmtpd.controller import Controller

        self.controller = Controller(self, hostname="127.0.0.1", port=self.port, ready_timeout=10)
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.controller is not None:
            self.controller.stop()
