"""Postfix's smtp-sink as a fast receiving server whose log (one dump file) shows every delivered transaction.

Used where a test needs thousands of real deliveries quickly (the crash tests); `available()` is
False when Postfix is not installed, and the tests fall back to the slower aiosmtpd server.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import time
from collections import Counter
from pathlib import Path

from .smtpd import free_port

SMTP_SINK = shutil.which("smtp-sink") or ("/usr/sbin/smtp-sink" if os.path.exists("/usr/sbin/smtp-sink") else None)
_RCPT = re.compile(rb"^X-Rcpt-Args: <([^>]*)>", re.M)


def available() -> bool:
    return SMTP_SINK is not None


class Sink:
    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="sendwell-sink-"))
        self.dir.chmod(0o777)  # smtp-sink drops to `nobody` when run as root
        self.log = self.dir / "transactions"
        self.port = free_port()
        self.proc: subprocess.Popen | None = None

    def start(self) -> Sink:
        args = [SMTP_SINK, "-D", str(self.log), f"127.0.0.1:{self.port}", "256"]
        if os.geteuid() == 0:
            args[1:1] = ["-u", "nobody"]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(100):
            try:
                import socket

                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return self
            except OSError:
                time.sleep(0.02)
        raise RuntimeError("smtp-sink did not start")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def delivered(self) -> int:
        try:
            return self.log.read_bytes().count(b"\nX-Rcpt-Args: ")
        except FileNotFoundError:
            return 0

    def counts(self) -> Counter:
        try:
            return Counter(m.decode().lower() for m in _RCPT.findall(self.log.read_bytes()))
        except FileNotFoundError:
            return Counter()

    def __enter__(self) -> Sink:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
