"""DKIM signatures per second for a 10 KB HTML+text campaign message: dkimpy against sendwell's signer.

Each message is built by the sending code (PreparedCampaign.render, personalised per recipient), so
the "build only" row is the unsigned cost the signature adds to. "cost at 3,000 msg/s" is the share
of one core the signing alone would take at the sending target (3,000 messages a second).
Rates are per second of this process's CPU time, so other work on a shared machine does not count.

A second table sends through Postfix's smtp-sink over 16 of the sending engine's relay connections
(render → sign → send, no database), unsigned beside signed, to show what signing costs the sending loop itself.
A third runs the whole sending engine (SQLite ledger → claim → render → sign → relay → outcome recorded)
into smtp-sink, unsigned beside Ed25519 and RSA signed inline ([sending] signing_processes = 0) and by
the engine's SigningPool (signing_processes = 1): the figure issue 8 asks for, throughput with signing
beside the unsigned figure (target: at most 25% lower).

    .venv/bin/python bench/bench_dkim.py [--seconds 2] [--messages 3000] [--connections 16] [--recipients 10000]
"""

from __future__ import annotations

import argparse
import base64
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import report

from sendwell import dkim as sd
from sendwell.sending.message import CampaignContent, Links, Personal, PreparedCampaign

HEADERS = [h.decode() for h in sd.SIGN_HEADERS]
TARGET = 3000  # messages a second, the sending target


def campaign() -> PreparedCampaign:
    para = (
        "<p>Hello {{ first_name }}, this week in the shop: new arrivals, the autumn sale and a few words "
        "from the team about how we pack your orders.</p>\n"
    )
    html = "<html><body>\n" + para * 42 + '<p><a href="{{ unsubscribe_url }}">Unsubscribe</a></p></body></html>\n'
    text = (
        "Hello {{ first_name }}, this week in the shop: new arrivals, the autumn sale and a few words.\n" * 36
        + "Unsubscribe: {{ unsubscribe_url }}\n"
    )
    content = CampaignContent(1, "News for {{ first_name }}", "Shop <news@shop.example>", html=html, text=text)
    return PreparedCampaign(content, Links("bench-secret", "bounces.shop.example", "https://mail.shop.example"))


def rate(fn, seconds: float) -> float:
    """Calls per second of this process's CPU time (the machine is shared: wall time would count others' work)."""
    n, start = 0, time.process_time()
    deadline = start + seconds
    while True:
        for _ in range(20):
            fn()
        n += 20
        now = time.process_time()
        if now >= deadline:
            return n / (now - start)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=2.0)
    ap.add_argument("--messages", type=int, default=3000, help="messages per SMTP run")
    ap.add_argument("--connections", type=int, default=16)
    ap.add_argument("--recipients", type=int, default=10_000, help="per engine run (0 skips the engine table)")
    args = ap.parse_args()
    try:
        import dkim  # dkimpy, for comparison only
    except ImportError:
        dkim = None
        print("dkimpy not installed: its rows are left out (pip install dkimpy pynacl)")

    prepared = campaign()
    messages = [
        prepared.render(Personal(i, f"user{i}@example.org", {"first_name": f"Ann{i}"})).data for i in range(200)
    ]
    size = sum(map(len, messages)) // len(messages)
    folder = Path(tempfile.mkdtemp())
    rows = []
    i = 0

    def next_message() -> bytes:
        nonlocal i
        i = (i + 1) % len(messages)
        return messages[i]

    build = rate(lambda: prepared.render(Personal(7, "user7@example.org", {"first_name": "Ann"})), args.seconds)
    rows.append({"signer": "build only (unsigned)", "algorithm": "-", "msg/s": build, "µs/msg": 1e6 / build})
    for algorithm in (sd.Algorithm.ED25519, sd.Algorithm.RSA):
        entry = sd.generate_key("shop.example", f"b{algorithm.value}", algorithm, directory=folder)
        key = sd.load_private_key(folder, entry)
        signer = sd.Signer([sd.SigningKey("shop.example", entry.selector, algorithm, key)])
        if algorithm is sd.Algorithm.RSA:
            privkey = (folder / entry.file).read_bytes()
        else:  # dkimpy takes the 32-byte Ed25519 seed in base64
            from cryptography.hazmat.primitives import serialization

            privkey = base64.b64encode(
                key.private_bytes(
                    serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
                )
            )
        a_tag = algorithm.tag
        floor = rate(_private_key_op(key, algorithm), args.seconds)
        rows.append(
            {
                "signer": "private-key operation alone",
                "algorithm": a_tag.decode(),
                "msg/s": floor,
                "µs/msg": 1e6 / floor,
                "cost at 3,000 msg/s": f"{TARGET / floor:.0%} of a core",
            }
        )

        def with_dkimpy(privkey=privkey, a_tag=a_tag, sel=entry.selector.encode()) -> bytes:
            return dkim.sign(
                next_message(),
                sel,
                b"shop.example",
                privkey,
                canonicalize=(b"relaxed", b"relaxed"),
                signature_algorithm=a_tag,
                include_headers=HEADERS[:-1] + ["content-type"],
            )

        runs = [("dkimpy", with_dkimpy)] if dkim is not None and hasattr(dkim, "sign") else []
        for name, fn in (*runs, ("sendwell Signer", lambda signer=signer: signer.sign(next_message()))):
            r = rate(fn, args.seconds if "sendwell" in name else min(args.seconds, 2.0))
            rows.append(
                {
                    "signer": name,
                    "algorithm": a_tag.decode(),
                    "msg/s": r,
                    "µs/msg": 1e6 / r,
                    "cost at 3,000 msg/s": f"{TARGET / r:.0%} of a core",
                }
            )
        build_and_sign = rate(
            lambda signer=signer: signer.sign(
                prepared.render(Personal(7, "user7@example.org", {"first_name": "Ann"})).data
            ),
            args.seconds,
        )
        rows.append(
            {
                "signer": "build + sendwell Signer",
                "algorithm": a_tag.decode(),
                "msg/s": build_and_sign,
                "µs/msg": 1e6 / build_and_sign,
                "cost at 3,000 msg/s": f"{TARGET / build_and_sign - TARGET / build:.0%} of a core",
            }
        )
        rows.append(pool_row(folder, algorithm, messages, args.seconds))
    print(f"message size: {size:,} bytes (multipart/alternative, HTML + text, personalised)")
    report("dkim", rows, ["signer", "algorithm", "msg/s", "µs/msg", "cost at 3,000 msg/s"])
    print(
        "SigningPool rows: msg/s is wall-clock throughput of the workers, µs/msg the sending process's own CPU "
        "per message (what the pool costs the core that sends)"
    )
    smtp_table(prepared, args.messages, args.connections)
    if args.recipients:
        engine_table(args.recipients, args.connections)


def engine_table(recipients: int, connections: int) -> None:
    """The sending engine end to end, unsigned and signed, each on a fresh SQLite ledger."""
    import os
    from dataclasses import replace

    import bench_sending as bs  # the sending benchmark's ledger fill and sink

    from sendwell.config import Settings
    from sendwell.db.engine import open_database
    from sendwell.sending.engine import send

    if not bs.tool("smtp-sink"):
        print("\nengine table skipped: smtp-sink not found (apt-get install -y postfix; no daemon needed)")
        return
    port = bs.free_port()
    sink = bs.start_sink(port)
    rows = []
    try:
        for algorithm, processes in (
            (None, 0),
            (sd.Algorithm.ED25519, 0),
            (sd.Algorithm.ED25519, 1),
            (sd.Algorithm.RSA, 0),
            (sd.Algorithm.RSA, 1),
            (sd.Algorithm.RSA, 2),
        ):
            folder = Path(tempfile.mkdtemp())
            os.environ[sd.DIR_ENV] = str(folder)
            sd.clear_cache()
            if algorithm is not None:
                sd.generate_key("bench.example", "s", algorithm, directory=folder)
            with bs.sqlite_ledger() as url:
                cid = bs.fill(url, recipients)
                engine = open_database(url)
                base = Settings()
                settings = replace(
                    base,
                    smtp=replace(
                        base.smtp,
                        urls=(f"smtp://127.0.0.1:{port}",),
                        connections=connections,
                        messages_per_connection=10_000,
                    ),
                    sending=replace(base.sending, secret="bench", batch_size=500, signing_processes=processes),
                    limit=replace(base.limit, start=10 * recipients, cap=10 * recipients),
                )
                cpu0, wall0 = time.process_time(), time.perf_counter()
                pool0, sink0 = _children_cpu(), _proc_cpu(sink.pid)
                result = send(engine, settings, [cid], linger=0)  # its signing pool is shut down (reaped) at the end
                cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
                pool_cpu, sink_cpu = _children_cpu() - pool0, _proc_cpu(sink.pid) - sink0
                engine.dispose()
            sent = result.counts["sent"]
            rows.append(
                {
                    "signing": "unsigned"
                    if algorithm is None
                    else ("inline" if processes == 0 else f"SigningPool, {processes} process{'es' * (processes > 1)}"),
                    "algorithm": algorithm.tag.decode() if algorithm else "-",
                    "sent": sent,
                    "msg/s": sent / wall,
                    "sender CPU µs/msg": 1e6 * cpu / max(1, sent),
                    "pool CPU µs/msg": 1e6 * pool_cpu / max(1, sent) if processes and algorithm else "",
                    "sink CPU µs/msg": 1e6 * sink_cpu / max(1, sent),
                    "cores busy": (cpu + pool_cpu + sink_cpu) / wall,
                }
            )
    finally:
        sink.terminate()
        sink.wait()
        os.environ.pop(sd.DIR_ENV, None)
    base_rate = rows[0]["msg/s"]
    for r in rows:
        r["vs unsigned"] = f"{r['msg/s'] / base_rate - 1:+.0%}"
    print(
        f"\nthe sending engine end to end (SQLite ledger, {connections} connections, {recipients:,} recipients "
        f"each), into smtp-sink on this {os.cpu_count()}-core machine:"
    )
    report(
        "dkim_engine",
        rows,
        [
            "signing",
            "algorithm",
            "sent",
            "msg/s",
            "sender CPU µs/msg",
            "pool CPU µs/msg",
            "sink CPU µs/msg",
            "cores busy",
            "vs unsigned",
        ],
    )


def _children_cpu() -> float:
    """CPU seconds of this process's children that have ended (the signing pool's workers, once shut down)."""
    import resource

    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def _proc_cpu(pid: int) -> float:
    """CPU seconds a running process has used so far (the sink), from /proc."""
    import os

    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def smtp_table(prepared: PreparedCampaign, messages: int, connections: int) -> None:
    import asyncio
    import os
    import shutil
    import socket
    import subprocess

    sink_tool = shutil.which("smtp-sink") or ("/usr/sbin/smtp-sink" if os.path.exists("/usr/sbin/smtp-sink") else None)
    if sink_tool is None:
        print("\nSMTP table skipped: smtp-sink not found (apt-get install -y postfix; no daemon needed)")
        return
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    sink = subprocess.Popen(
        [sink_tool, *(["-u", "nobody"] if os.geteuid() == 0 else []), f"127.0.0.1:{port}", "1024"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(0.3)
    rows = []
    try:
        for label, algorithm, pooled in (
            ("unsigned", None, False),
            ("Signer inline", sd.Algorithm.ED25519, False),
            ("Signer inline", sd.Algorithm.RSA, False),
            ("SigningPool", sd.Algorithm.ED25519, True),
            ("SigningPool", sd.Algorithm.RSA, True),
        ):
            folder = Path(tempfile.mkdtemp())
            signer = pool = None
            if algorithm is not None:
                sd.generate_key("shop.example", "s", algorithm, directory=folder)
                signer = sd.Signer.for_from_domain("shop.example", folder)
                pool = sd.SigningPool("shop.example", folder, chunk=16) if pooled else None
            try:
                if pool is not None:
                    pool.sign_many([b"From: a@shop.example\r\n\r\nwarm-up\r\n"] * 4)
                cpu0, wall0 = time.process_time(), time.perf_counter()
                asyncio.run(_send_all(prepared, port, messages, connections, signer, pool))
                cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
            finally:
                if pool is not None:
                    pool.close()
            rows.append(
                {
                    "run": label,
                    "algorithm": algorithm.tag.decode() if algorithm else "-",
                    "msg/s (wall)": messages / wall,
                    "sender CPU µs/msg": 1e6 * cpu / messages,
                    "one-core ceiling msg/s": messages / cpu,
                }
            )
    finally:
        sink.terminate()
        sink.wait()
    base = rows[0]["one-core ceiling msg/s"]
    for r in rows:
        r["ceiling vs unsigned"] = f"{r['one-core ceiling msg/s'] / base:.0%}"
    print(f"\nrender → sign → send through smtp-sink, {connections} connections, {messages:,} messages, no database")
    print("(one-core ceiling = messages per second of the sending process's CPU; the pool's workers use other cores):")
    report(
        "dkim_smtp",
        rows,
        ["run", "algorithm", "msg/s (wall)", "sender CPU µs/msg", "one-core ceiling msg/s", "ceiling vs unsigned"],
    )


async def _send_all(
    prepared: PreparedCampaign,
    port: int,
    messages: int,
    connections: int,
    signer: sd.Signer | None,
    pool: sd.SigningPool | None,
) -> None:
    import asyncio

    from sendwell.sending.relay import Connection, parse_relay

    ids = iter(range(messages))
    relay = parse_relay(f"smtp://127.0.0.1:{port}")

    async def connection() -> None:
        conn = Connection(relay, timeout=30)  # the sending engine's relay connection (pipelined)
        if await conn.open() is not None:
            raise SystemExit("cannot connect to smtp-sink")
        try:
            while True:
                batch = [i for _, i in zip(range(16), ids, strict=False)]  # 16 at a time in every run
                if not batch:
                    return
                rendered = [
                    prepared.render(Personal(i, f"user{i}@example.org", {"first_name": f"Ann{i}"})) for i in batch
                ]
                if pool is not None:
                    data = await pool.sign_batch([r.data for r in rendered])
                elif signer is not None:
                    data = [signer.sign(r.data) for r in rendered]
                else:
                    data = [r.data for r in rendered]
                for r, d in zip(rendered, data, strict=True):
                    reply = await conn.send(r.envelope_from, r.rcpt, d)
                    if reply.code != 250:
                        raise SystemExit(f"smtp-sink refused a message: {reply}")
        finally:
            await conn.close()

    await asyncio.gather(*(connection() for _ in range(connections)))


def _private_key_op(key, algorithm):
    import hashlib

    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    data = b"x" * 600  # about the size of the signed header block
    if algorithm is sd.Algorithm.RSA:
        return lambda: key.sign(data, padding.PKCS1v15(), hashes.SHA256())
    return lambda: key.sign(hashlib.sha256(data).digest())


def pool_row(folder: Path, algorithm: sd.Algorithm, messages: list[bytes], seconds: float) -> dict:
    import os

    workers = os.cpu_count() or 1
    only = Path(tempfile.mkdtemp())  # a directory holding just this algorithm's key
    sd.generate_key("shop.example", "p", algorithm, directory=only)
    with sd.SigningPool("shop.example", only, processes=workers, chunk=32) as pool:
        pool.sign_many(messages[:64])  # start the workers
        n, cpu0, wall0 = 0, time.process_time(), time.perf_counter()
        while time.perf_counter() - wall0 < seconds:
            pool.sign_many(messages)
            n += len(messages)
        cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    return {
        "signer": f"SigningPool, {workers} processes, chunks of 32",
        "algorithm": algorithm.tag.decode(),
        "msg/s": n / wall,
        "µs/msg": 1e6 * cpu / n,
        "cost at 3,000 msg/s": f"{TARGET * cpu / n:.0%} of a core",
    }


if __name__ == "__main__":
    main()
