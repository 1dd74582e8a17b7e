"""Address verification speed: offline checks vs bare email-validator, the CLI end to end, DNS throughput.

Generates its own addresses (a realistic mix: big providers, ~20k company domains, typos, disposable,
role and broken addresses, a few internationalized ones), so it runs without shared/.

    python bench/bench_verify.py [--addresses 1000000] [--ev-sample 100000] [--domains 5000]
                                 [--dns-latency 0.02] [--concurrency 200] [--no-cli]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import report

PROVIDERS = [
    "gmail.com",
    "yahoo.com",
    "hotmail.com",
    "outlook.com",
    "aol.com",
    "icloud.com",
    "gmx.de",
    "web.de",
    "yahoo.co.uk",
    "orange.fr",
    "comcast.net",
    "mail.ru",
]
TYPOS = ["gmial.com", "hotmial.com", "yahooo.com", "gmail.con", "outlok.com", "example.cmo"]
DISPOSABLE = ["mailinator.com", "10minutemail.com", "guerrillamail.com"]
SUFFIXES = ["com", "net", "org", "de", "co.uk", "fr", "io", "com.br", "nl", "example"]
FIRST = ["ann", "bob", "carla", "dmitri", "eva", "farid", "grace", "hiro", "ines", "jon", "info", "sales", "noreply"]


def generate(n: int, seed: int = 5) -> list[str]:
    rng = random.Random(seed)
    companies = [
        f"{rng.choice(['acme', 'globex', 'initech', 'umbrella', 'stark', 'wayne'])}{i}.{rng.choice(SUFFIXES)}"
        for i in range(20_000)
    ]
    out = []
    for i in range(n):
        roll = rng.random()
        local = f"{rng.choice(FIRST)}.{rng.choice(FIRST)}{i % 997}"
        if roll < 0.55:
            domain = rng.choice(PROVIDERS)
        elif roll < 0.93:
            domain = rng.choice(companies)
        elif roll < 0.95:
            domain = rng.choice(TYPOS)
        elif roll < 0.96:
            domain = rng.choice(DISPOSABLE)
        elif roll < 0.97:
            local, domain = f"müller{i % 50}", "bücher.de"
        elif roll < 0.98:
            local = f"{local}+news"
            domain = rng.choice(companies)
        else:
            bad = rng.choice([" {}@{}", "{}..x@{}", "{}@{}.", "{}@@{}", "{}@[192.0.2.1]", '"{}"@{}'])
            out.append(bad.format(local, rng.choice(companies)))
            continue
        out.append(f"{local}@{domain}")
    return out


def bench_offline(addresses: list[str], ev_sample: int) -> list[dict]:
    """Ours on every address, bare email-validator on a sample, interleaved chunk by chunk so both see
    the same machine load; rates are per CPU second of this process (wall-clock rates in the note)."""
    from email_validator import EmailNotValidError, validate_email

    from sendwell.verify.checks import OfflineChecker

    started = time.perf_counter()
    checker = OfflineChecker()
    setup = time.perf_counter() - started
    verdicts: dict[str, int] = {}
    every = max(1, len(addresses) // max(1, ev_sample))
    ours_cpu = ours_wall = bare_cpu = bare_wall = 0.0
    bare_count = 0
    chunk = 20_000
    for start in range(0, len(addresses), chunk):
        part = addresses[start : start + chunk]
        wall, cpu = time.perf_counter(), time.process_time()
        for text in part:
            v = checker.check(text).verdict.value
            verdicts[v] = verdicts.get(v, 0) + 1
        ours_cpu += time.process_time() - cpu
        ours_wall += time.perf_counter() - wall
        sample = part[::every]
        wall, cpu = time.perf_counter(), time.process_time()
        for text in sample:
            try:  # noqa: SIM105 - contextlib.suppress would slow the baseline down, flattering us
                validate_email(text, check_deliverability=False)
            except EmailNotValidError:
                pass
        bare_cpu += time.process_time() - cpu
        bare_wall += time.perf_counter() - wall
        bare_count += len(sample)
    distinct = len({a.rpartition("@")[2] for a in addresses})
    ours_rate, bare_rate = len(addresses) / ours_cpu, bare_count / bare_cpu
    return [
        {
            "what": "offline checks (syntax, disposable, role, typo)",
            "addresses": len(addresses),
            "seconds": ours_cpu,
            "per_second": ours_rate,
            "note": f"CPU s; wall {len(addresses) / ours_wall:,.0f}/s; {distinct:,} distinct domains; "
            f"lists loaded in {setup:.2f}s; {verdicts}",
        },
        {
            "what": "bare email-validator syntax check",
            "addresses": bare_count,
            "seconds": bare_cpu,
            "per_second": bare_rate,
            "note": f"CPU s; wall {bare_count / bare_wall:,.0f}/s; validate_email("
            "check_deliverability=False) on every Nth address of the same mix",
        },
        {
            "what": "ratio ours / email-validator",
            "per_second": ours_rate / bare_rate,
            "note": f"target >= 2 (wall-clock ratio {(len(addresses) / ours_wall) / (bare_count / bare_wall):.2f})",
        },
    ]


def bench_cli(addresses: list[str]) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "addresses.txt"
        path.write_text("".join(a + "\n" for a in addresses), encoding="utf-8")
        exe = Path(sys.executable).with_name("sendwell")
        command = [str(exe)] if exe.exists() else [sys.executable, "-m", "sendwell.cli"]
        started = time.perf_counter()
        subprocess.run(
            [*command, "verify", "--offline", "--jsonl", str(path)], check=True, cwd=tmp, stdout=subprocess.DEVNULL
        )
        wall = time.perf_counter() - started
        started = time.perf_counter()
        subprocess.run([*command, "--help"], check=True, stdout=subprocess.DEVNULL)
        startup = time.perf_counter() - started
    return {
        "what": "sendwell verify --offline --jsonl FILE",
        "addresses": len(addresses),
        "seconds": wall,
        "per_second": len(addresses) / wall,
        "note": f"whole command with JSON output; `sendwell --help` alone takes {startup:.2f}s",
    }


def _serve_dns(port_queue: multiprocessing.Queue, latency: float) -> None:
    from sendwell.verify.localdns import LocalDnsServer

    def resolve(name: str):
        if name.endswith(".bench.example"):
            return {"MX": [(10, "mx.bench.example")]}
        return None

    server = LocalDnsServer(resolve=resolve, delay=latency).start()
    port_queue.put(server.port)
    time.sleep(3600)


def bench_dns(domains: int, latency: float, concurrency: int) -> dict:
    from sendwell.verify.run import Verifier, VerifyOptions

    ports: multiprocessing.Queue = multiprocessing.Queue()
    server = multiprocessing.Process(target=_serve_dns, args=(ports, latency), daemon=True)
    server.start()  # its own process: the server must not share our interpreter lock
    try:
        port = ports.get(timeout=30)
        texts = [f"user{i % 7}@d{i}.bench.example" for i in range(domains)] * 3  # 3 addresses per domain
        verifier = Verifier(
            VerifyOptions(nameservers=["127.0.0.1"], dns_port=port, dns_timeout=10, concurrency=concurrency)
        )
        started = time.perf_counter()
        results = verifier.verify(texts)
        seconds = time.perf_counter() - started
    finally:
        server.kill()
    valid = sum(r.verdict.value == "valid" for r in results)
    return {
        "what": f"DNS mail-domain check, local server, {latency * 1000:.0f} ms latency",
        "addresses": len(texts),
        "seconds": seconds,
        "per_second": domains / seconds,
        "note": f"distinct domains/s; {verifier.dns.queries:,} queries for {domains:,} domains; "
        f"max in flight {verifier.dns.max_in_flight} (limit {concurrency}); {valid:,} valid",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--addresses", type=int, default=1_000_000)
    parser.add_argument("--ev-sample", type=int, default=100_000)
    parser.add_argument("--domains", type=int, default=5_000)
    parser.add_argument("--dns-latency", type=float, default=0.02)
    parser.add_argument("--concurrency", type=int, default=200)
    parser.add_argument("--no-cli", action="store_true")
    args, _ = parser.parse_known_args()  # bench/run.py passes its own arguments to every bench

    addresses = generate(args.addresses)
    rows = bench_offline(addresses, args.ev_sample)
    if not args.no_cli:
        rows.append(bench_cli(addresses))
    rows.append(bench_dns(args.domains, args.dns_latency, args.concurrency))
    rows.append(bench_dns(args.domains, 0.0, args.concurrency))
    print(f"machine: {os.cpu_count()} cores; load average {os.getloadavg()[0]:.1f} at the end")
    report("verify", rows, ["what", "addresses", "seconds", "per_second", "note"])


if __name__ == "__main__":
    main()
