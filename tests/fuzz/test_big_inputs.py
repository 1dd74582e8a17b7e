"""Big inputs in bounded memory: a 20 MB bounce, a UTF-16 CSV, a ~300 MB CSV, wide rows.

Each run happens in a child process and its peak resident set (ru_maxrss from os.wait4) is read,
so the figure is that of the work alone. Files are generated into tmp, never committed.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

MB = 1024 * 1024
NOTE = "lorem ipsum dolor sit amet, " * 36  # ~1 KB: a CRM export's notes column


# The child's high-water mark, read from /proc at exit: ru_maxrss would also count the pytest
# process it was forked from (Linux keeps the larger value across exec), VmHWM is reset by exec.
WRAPPER = """
import atexit, runpy, sys

hwm, target, *rest = sys.argv[1:]


def report():
    with open("/proc/self/status") as status, open(hwm, "w") as out:
        out.write(next(line.split()[1] for line in status if line.startswith("VmHWM:")))


atexit.register(report)
sys.argv = [target, *rest]
if target == "-m":
    sys.argv = rest
    runpy.run_module(rest[0], run_name="__main__", alter_sys=True)
else:
    runpy.run_path(target, run_name="__main__")
"""


def run_child(args: list[str], cwd: Path) -> tuple[int, str, str, float]:
    """(exit status, stdout, stderr, peak RSS in MB) of a Python child process."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SENDWELL_")}
    (cwd / "hwm_wrapper.py").write_text(WRAPPER)
    hwm = cwd / "child.hwm"
    proc = subprocess.run(
        [sys.executable, "hwm_wrapper.py", str(hwm), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    return proc.returncode, proc.stdout, proc.stderr, int(hwm.read_text()) / 1024  # VmHWM is in KiB


def write_csv(path: Path, megabytes: int, *, note: str = NOTE, encoding: str = "utf-8") -> int:
    """A CSV of about `megabytes` with an email, a name and a note column; returns the row count."""
    rows = 0
    with path.open("w", encoding=encoding, newline="") as f:
        f.write("email,name,note\r\n")
        while f.tell() < megabytes * MB:
            f.write("".join(f'user{i}@example{i % 97}.com,Name {i},"{note}{i}"\r\n' for i in range(rows, rows + 2000)))
            rows += 2000
    return rows


CLASSIFY = """
import sys
from sendwell.bounces import classify
raw = open(sys.argv[1], "rb").read()
r = classify(raw)
print(r.kind.value, r.format, ",".join(x.address for x in r.recipients))
"""


def test_20mb_bounce_is_classified_in_bounded_memory(tmp_path):
    attachment = b"QUJD" * (21 * MB // 4)
    body = b"\r\n".join([attachment[i : i + 76] for i in range(0, len(attachment), 76)])
    head = (
        b"From: MAILER-DAEMON@mx.example.net\r\nTo: bounces@shop.example\r\nSubject: Undelivered Mail\r\n"
        b'MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n\r\n'
        b"--B\r\nContent-Type: text/plain\r\n\r\n<kim@example.org>: host mx.example.org said: 550 5.1.1 "
        b"<kim@example.org>: user unknown (in reply to RCPT TO command)\r\n"
        b"--B\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.net\r\n\r\n"
        b"Final-Recipient: rfc822; kim@example.org\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        b"Diagnostic-Code: smtp; 550 5.1.1 user unknown\r\n\r\n"
        b"--B\r\nContent-Type: message/rfc822\r\n\r\nFrom: news@shop.example\r\nTo: kim@example.org\r\n"
        b'Subject: news\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="A"\r\n\r\n'
        b"--A\r\nContent-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n"
    )
    (tmp_path / "big.eml").write_bytes(head + body + b"\r\n--A--\r\n--B--\r\n")
    assert (tmp_path / "big.eml").stat().st_size > 20 * MB
    (tmp_path / "classify.py").write_text(CLASSIFY)
    small = tmp_path / "small.eml"
    small.write_bytes(head + b"QUJD\r\n--A--\r\n--B--\r\n")

    code, out, err, base = run_child(["classify.py", str(small)], tmp_path)
    assert code == 0, err
    code, out, err, peak = run_child(["classify.py", str(tmp_path / "big.eml")], tmp_path)
    assert code == 0, err
    assert out.split() == ["bounce", "rfc3464", "kim@example.org"]
    print(f"20 MB bounce: peak RSS {peak:.0f} MB (small bounce: {base:.0f} MB)")
    # the input itself is 20 MB in memory; the classifier may add a copy of its 2 MB head, not of it all
    assert peak - base < 2.5 * 20 + 10, f"peak {peak:.0f} MB vs {base:.0f} MB for a small bounce"


READ = """
import sys
from sendwell.readers import read_rows
good = bad = 0
last = None
with open(sys.argv[1], "rb") as f:
    for row in read_rows(f, sys.argv[1]):
        if row.address is None:
            bad += 1
        else:
            good += 1
            last = row
print(good, bad, last.address.key, last.fields["name"], last.line, sep="|")
"""


def test_utf16_csv_streams_in_flat_memory(tmp_path):
    (tmp_path / "read.py").write_text(READ)
    small_rows = write_csv(tmp_path / "small.csv", 2, encoding="utf-16")
    big_rows = write_csv(tmp_path / "big.csv", 40, encoding="utf-16")
    _, _, _, small_peak = run_child(["read.py", "small.csv"], tmp_path)
    code, out, err, big_peak = run_child(["read.py", "big.csv"], tmp_path)
    assert code == 0, err
    good, bad, key, name, line = out.strip().split("|")
    assert (int(good), int(bad)) == (big_rows, 0)
    assert key == f"user{big_rows - 1}@example{(big_rows - 1) % 97}.com"
    assert (name, int(line)) == (f"Name {big_rows - 1}", big_rows + 1)
    assert small_rows * 5 <= big_rows
    print(f"UTF-16 CSV: peak RSS {big_peak:.0f} MB for 40 MB, {small_peak:.0f} MB for 2 MB")
    assert big_peak - small_peak < 15, f"{big_peak:.0f} MB for 40 MB vs {small_peak:.0f} MB for 2 MB"


@pytest.fixture(scope="module")
def csv_300mb(tmp_path_factory) -> tuple[Path, int]:
    path = tmp_path_factory.mktemp("big") / "contacts-300mb.csv"
    rows = write_csv(path, 300)
    yield path, rows
    path.unlink()


@pytest.mark.slow
@pytest.mark.timeout(900)  # writing and importing 300 MB: ~30 s alone, several times that on a loaded machine
@pytest.mark.parametrize("command", ["blacklist", "contacts"])
def test_300mb_csv_import_stays_under_200mb(csv_300mb, tmp_path, command):
    path, rows = csv_300mb
    code, out, err, peak = run_child(
        ["-m", "sendwell.cli", "--database", f"sqlite:///{tmp_path / 'i.db'}", command, "import", str(path), "--json"],
        tmp_path,
    )
    assert code == 0, err
    assert f'"read": {rows}, "imported": {rows}' in out
    print(f"300 MB CSV, {rows} rows, {command} import: peak RSS {peak:.0f} MB")
    assert peak < 200, f"peak RSS {peak:.0f} MB"
