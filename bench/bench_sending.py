"""End-to-end sending throughput into Postfix's smtp-sink, against `smtp-source -d` into the same sink.

Each run is the whole path: ledger claim (SQLite) → personalised ~15 KB HTML + text message →
aiosmtplib relay connection → outcome recorded. Every configuration sends a fresh SQLite ledger
from fresh processes, so peak memory (max RSS) is its own; the last one splits the connections over
several processes sharing the ledger, as several `sendwell worker`s would.

    .venv/bin/python bench/bench_sending.py [--recipients 20000] [--connections 1,4,16] [--processes 2]
                                            [--json out.json]

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


def fill(db_url: str, recipients: int) -> int:
    """A fresh ledger: `recipients` contacts with fields, one started campaign; returns its id."""
    from sendwell import campaigns
    from sendwell.db.engine import open_database, utcnow
    from sendwell.db.schema import contacts

    engine = open_database(db_url)
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
    return cid


def run(db_url: str, cid: int, connections: int, port: int, recipients: int) -> dict:
    """One sending process (the same engine `sendwell worker` runs) until the campaign is done."""
    from dataclasses import replace

    from sendwell.config import Settings
    from sendwell.db.engine import open_database
    from sendwell.sending.engine import send

    engine = open_database(db_url)
    s = Settings()
    settings = replace(s, smtp=replace(s.smtp, urls=(f"smtp://127.0.0.1:{port}",), connections=connections,
                                       messages_per_connection=10_000),
                       sending=replace(s.sending, secret="bench", batch_size=500),
                       limit=replace(s.limit, start=10 * recipients, cap=10 * recipients))
    started = time.time()
    report = send(engine, settings, [cid], linger=0)
    return {"start": started, "end": time.time(), "sent": report.counts["sent"], "stopped": report.stopped,
            "max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}


def configuration(recipients: int, connections: int, processes: int, port: int) -> dict:
    """Fill a fresh SQLite ledger, then send it with `processes` processes sharing `connections`."""
    tmp = Path(tempfile.mkdtemp(prefix="sendwell-bench-"))
    db_url = f"sqlite:///{tmp / 'bench.db'}"
    try:
        cid = int(_child(["--fill", "--db", db_url, "--recipients", str(recipients)]))
        procs = [subprocess.Popen([sys.executable, __file__, "--run", "--db", db_url, "--cid", str(cid),
                                   "--connections", str(connections // processes), "--port", str(port),
                                   "--recipients", str(recipients)], stdout=subprocess.PIPE, text=True)
                 for _ in range(processes)]
        outs = []
        for p in procs:
            out, _ = p.communicate()
            if p.returncode != 0:
                raise SystemExit(f"sender process failed ({p.returncode})")
            outs.append(json.loads(out.strip().splitlines()[-1]))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    elapsed = max(o["end"] for o in outs) - min(o["start"] for o in outs)
    sent = sum(o["sent"] for o in outs)
    return {"connections": connections, "processes": processes, "recipients": recipients, "sent": sent,
            "seconds": round(elapsed, 2), "msg_per_s": round(sent / elapsed, 1),
            "max_rss_mb": max(o["max_rss_mb"] for o in outs)}


def _child(args: list[str]) -> str:
    out = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(out.stderr)
    return out.stdout.strip().splitlines()[-1]


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
    ap.add_argument("--connections", default="1,4,16", help="one sending process with each of these")
    ap.add_argument("--processes", type=int, default=2,
                    help="also run the largest connection count split over this many processes (0: no)")
    ap.add_argument("--json", help="also write the results to this file")
    for hidden in ("--fill", "--run"):
        ap.add_argument(hidden, action="store_true", help=argparse.SUPPRESS)
    for hidden in ("--port", "--cid"):
        ap.add_argument(hidden, type=int, help=argparse.SUPPRESS)
    ap.add_argument("--db", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.fill:
        print(fill(args.db, args.recipients))
        return
    if args.run:
        print(json.dumps(run(args.db, args.cid, int(args.connections), args.port, args.recipients)))
        return
    if not (tool("smtp-sink") and tool("smtp-source")):
        print("skipped: smtp-sink/smtp-source not found (apt-get install -y postfix; no daemon needed)")
        return
    port = free_port()
    sink = start_sink(port)
    results = []
    try:
        counts = [int(x) for x in args.connections.split(",")]
        plan = [(c, 1) for c in counts] + ([(max(counts), args.processes)] if args.processes > 1 else [])
        for c, procs in plan:
            r = configuration(args.recipients, c, procs, port)
            results.append(r)
            print(f"sendwell  {c:>2} connection(s) in {procs} process(es): {r['msg_per_s']:>8.1f} msg/s  "
                  f"({r['sent']} in {r['seconds']} s, max RSS {r['max_rss_mb']} MB)", flush=True)
        top = ceiling(args.recipients, port, 10_240)
        print(f"smtp-source -d, 16 sessions:              {top['msg_per_s']:>8.1f} msg/s  (the ceiling)")
    finally:
        sink.terminate()
        sink.wait()
    best = max(results, key=lambda r: r["msg_per_s"])
    ratio = best["msg_per_s"] / top["msg_per_s"]
    print(f"best: {best['msg_per_s']:.0f} msg/s with {best['connections']} connections in {best['processes']} "
          f"process(es) = {ratio:.2f} of the ceiling (target >= 3,000 msg/s and >= 0.25: "
          f"{'met' if best['msg_per_s'] >= 3000 else 'NOT met'})")
    if args.json:
        Path(args.json).write_text(json.dumps({"sendwell": results, "ceiling": top, "ratio": round(ratio, 3)},
                                              indent=2))


if __name__ == "__main__":
    main()
