"""The demo's sample list: real-looking contacts, a few broken rows, and which addresses are dead."""

from __future__ import annotations

import random

FIRST = [
    "Ann",
    "Bob",
    "Chloé",
    "Dmitri",
    "Eve",
    "Farid",
    "Grace",
    "Hiro",
    "Ines",
    "José",
    "Kai",
    "Lena",
    "Mia",
    "Noah",
    "Olga",
    "Priya",
    "Quinn",
    "Rosa",
    "Sven",
    "Tariq",
    "Uma",
    "Vera",
    "Wei",
    "Yusuf",
    "Zoë",
]
DOMAINS = ["example.com", "example.org", "example.net", "shop.example", "mail.example"]


def sample(n: int = 120, seed: int = 7) -> tuple[str, dict[str, set[str]]]:
    """(CSV text, {"unknown", "full", "late_bounce"} → addresses) for the demo's receiving server."""
    rng = random.Random(seed)
    rows = ["email;first_name;city"]
    addresses = []
    for i in range(n):
        name = FIRST[i % len(FIRST)]
        addr = f"{name.lower().replace('é', 'e').replace('ë', 'e')}.{i}@{DOMAINS[i % len(DOMAINS)]}"
        addresses.append(addr)
        rows.append(f"{addr};{name};{rng.choice(['Paris', 'Lyon', 'Köln', 'Porto', 'Oslo'])}")
    # what people really paste into spreadsheets
    rows.insert(15, "nobody@;Broken;Nowhere")
    rows.insert(40, "ann.lee at example.com;Ann;Paris")
    rows.insert(77, "@example.org;;")
    rows.append(addresses[5].upper() + ";Duplicate;Paris")  # merges with the earlier row
    shuffled = addresses[:]
    rng.shuffle(shuffled)
    dead = {"unknown": set(shuffled[:9]), "full": set(shuffled[9:11]), "late_bounce": set(shuffled[11:15])}
    return "\n".join(rows) + "\n", dead
