"""End-to-end sending throughput into Postfix's smtp-sink, against `smtp-source -d` into the same sink.

Each run is the whole path: ledger claim (SQLite) → personalised ~10 KB HTML + text message →
aiosmtplib relay connection → outcome recorded. Every configuration runs in a fresh process on a
fresh SQLite file, so its peak memory (max RSS) is its own.

    .venv/bin/python bench/bench_sending.py [--recipients 20000] [--connections 1,4,16] [--json out.json]

Needs /usr/sbin/smtp-sink and smtp-source (`apt-get install postfix`; no daemon needed); skips
with a message when they are missing.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def tool(name: str) -> str | None:
    return shutil.which(name) or (f"/usr/sbin/{name}" if os.path.exists(f"/usr/sbin/{name}") else None)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_sink(port: int) -> subprocess.Popen:
    args = [tool("smtp-sink"), f"127.0.0.1:{port}", "1024"]
    if os.geteuid() == 0:
        args[1:1] = ["-u", "nobody"]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(200):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return proc
        except OSError:
            time.sleep(0.02)
    raise SystemExit("smtp-sink did not start")


HTML = ("<html><body><h1>Hello {{ first_name }}!</h1>\n<p>Our spring news for {{ city }}.</p>\n"
        + "<p>Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor.</p>\n" * 80
        + '<p><a href="{{ unsubscribe_url }}">unsubscribe</a></p></body></html>\n')
TEXT = ("Hello {{ first_name }}!\n\nOur spring news for {{ city }}.\n\n"
        + "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor.\n" * 40
        + "Unsubscribe: {{ unsubscribe_url }}\n")


def one(recipients: int, connections: int, port: int) -> dict:
    """Fill a fresh ledger and send it all (runs in its own process)."""
    from dataclasses import replace

    from sendwell import campaigns
    from sendwell.config import Settings
    from sendwell.db.engine import open_database, utcnow
    from sendwell.db.schema import contacts
    from sendwell.sending.engine import send

    tmp = Path(tempfile.mkdtemp(prefix="sendwell-bench-"))
    engine = open_database(f"sqlite:///{tmp / 'bench.db'}")
    now = utcnow()
    with engine.begin() as conn:
        for start in range(0, recipients, 20_000):
            conn.execute(contacts.insert(), [
                {"email": f"r{i}@bench.example", "display": f"r{i}@bench.example", "domain": "bench.example",
                 "fields": {"first_name": f"Name{i}", "city": "Köln" if i % 3 == 0 else "Paris"},
                 "created_at": now, "updated_at": now} for i in range(start, min(recipients, start + 20_000))])
    cid = campaigns.create_campaign(engine, name="bench", subject="News for {{ first_name }}",
                                    from_addr="Bench <news@bench.example>", html=HTML, text=TEXT)
    campaigns.start_campaign(engine, cid)
    s = Settings()
    settings = replace(s, smtp=replace(s.smtp, urls=(f"smtp://127.0.0.1:{port}",), connections=connections,
                                       messages_per_connection=10_000),
                       sending=replace(s.sending, secret="bench", batch_size=500),
                       limit=replace(s.limit, start=10 * recipients, cap=10 * recipients))
    started = time.perf_counter()
    report = send(engine, settings, [cid], linger=0)
    elapsed = time.perf_counter() - started
    shutil.rmtree(tmp, ignore_errors=True)
    return {"connections": connections, "recipients": recipients, "sent": report.counts["sent"],
            "seconds": round(elapsed, 2), "msg_per_s": round(report.counts["sent"] / elapsed, 1),
            "max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            "stopped": report.stopped}


def ceiling(recipients: int, port: int, size: int) -> dict:
    started = time.perf_counter()
    subprocess.run([tool("smtp-source"), "-d", "-s", "16", "-m", str(recipients), "-l", str(size),
                    "-f", "news@bench.example", "-t", "r@bench.example", f"127.0.0.1:{port}"], check=True,
                   stdout=subprocess.DEVNULL)
    elapsed = time.perf_counter() - started
    return {"recipients": recipients, "seconds": round(elapsed, 2), "msg_per_s": round(recipients / elapsed, 1)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--recipients", type=int, default=20_000)
    ap.add_argument("--connections", default="1,4,16")
    ap.add_argument("--json", help="also write the results to this file")
    ap.add_argument("--one", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        print(json.dumps(one(args.recipients, int(args.connections), args.port)))
        return
    if not (tool("smtp-sink") and tool("smtp-source")):
        print("skipped: smtp-sink/smtp-source not found (apt-get install -y postfix; no daemon needed)")
        return
    port = free_port()
    sink = start_sink(port)
    results = []
    try:
        for c in [int(x) for x in args.connections.split(",")]:
            out = subprocess.run([sys.executable, __file__, "--one", "--recipients", str(args.recipients),
                                  "--connections", str(c), "--port", str(port)], capture_output=True, text=True)
            if out.returncode != 0:
                raise SystemExit(out.stderr)
            results.append(json.loads(out.stdout.strip().splitlines()[-1]))
            r = results[-1]
            print(f"sendwell  {c:>2} connection(s): {r['msg_per_s']:>8.1f} msg/s  ({r['sent']} in {r['seconds']} s, "
                  f"max RSS {r['max_rss_mb']} MB)", flush=True)
        top = ceiling(args.recipients, port, 10_240)
        print(f"smtp-source -d, 16 sessions: {top['msg_per_s']:>8.1f} msg/s  (the ceiling)")
    finally:
        sink.terminate()
        sink.wait()
    best = max(results, key=lambda r: r["connections"])
    ratio = best["msg_per_s"] / top["msg_per_s"]
    print(f"ratio at {best['connections']} connections: {ratio:.2f} of the ceiling "
          f"(target >= 3,000 msg/s; {'met' if best['msg_per_s'] >= 3000 else 'NOT met'})")
    if args.json:
        Path(args.json).write_text(json.dumps({"sendwell": results, "ceiling": top, "ratio": round(ratio, 3)},
                                              indent=2))


if __name__ == "__main__":
    main()
