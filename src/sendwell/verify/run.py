"""One verification run: offline checks for every address, then DNS once per domain, then the probe."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from sendwell.verify.checks import OfflineChecker
from sendwell.verify.dns import STATUS_REASON as DNS_REASON
from sendwell.verify.dns import DnsChecker, DomainStatus, MailDomain
from sendwell.verify.probe import STATUS_REASON as PROBE_REASON
from sendwell.verify.probe import ProbeOptions, ProbeOutcome, Prober
from sendwell.verify.verdict import Result, combine

Progress = Callable[[int, int], None]  # (done, total)


@dataclass(frozen=True)
class VerifyOptions:
    dns: bool = True
    nameservers: list[str] | None = None  # None: the system's resolvers
    dns_port: int = 53
    dns_timeout: float = 5.0
    concurrency: int = 200
    probe: bool = False
    probe_options: ProbeOptions = field(default_factory=ProbeOptions)
    disposable_overrides: str | None = None

    @classmethod
    def from_settings(
        cls,
        settings: Any,
        *,
        probe: bool | None = None,
        probe_port: int | None = None,
        probe_from: str | None = None,
        **changes: Any,
    ) -> VerifyOptions:
        v = settings.verify
        probe_options = ProbeOptions()
        if probe_port is not None:
            probe_options = replace(probe_options, port=probe_port)
        if probe_from:
            probe_options = replace(probe_options, mail_from=probe_from)
        if not changes.get("disposable_overrides"):  # the flag beats the setting
            changes["disposable_overrides"] = v.disposable_file or None
        if getattr(v, "dns_server", "") and not changes.get("nameservers"):  # so does --dns-server
            host, _, port = v.dns_server.rpartition(":") if v.dns_server.count(":") == 1 else (v.dns_server, "", "")
            changes["nameservers"] = [host]
            if port.isdigit():
                changes["dns_port"] = int(port)
        return cls(
            dns_timeout=v.dns_timeout,
            concurrency=v.dns_concurrency,
            probe=v.smtp_probe if probe is None else probe,
            probe_options=probe_options,
            **changes,
        )


class Verifier:
    """Holds what a run shares: the offline checker's per-domain answers, the DNS cache, the prober."""

    def __init__(self, options: VerifyOptions | None = None) -> None:
        self.options = options or VerifyOptions()
        self.offline = OfflineChecker(disposable_overrides=self.options.disposable_overrides)
        self.dns = (
            DnsChecker(
                self.options.nameservers, self.options.dns_port, self.options.dns_timeout, self.options.concurrency
            )
            if self.options.dns
            else None
        )
        self.prober = Prober(self.dns, self.options.probe_options) if self.options.probe and self.dns else None

    def verify(self, texts: Sequence[str], progress: Progress | None = None) -> list[Result]:
        return asyncio.run(self.verify_async(texts, progress))

    async def verify_async(self, texts: Sequence[str], progress: Progress | None = None) -> list[Result]:
        base = [self.offline.check(t) for t in texts]
        if self.dns is None:
            return base
        domains = sorted({r.key.rpartition("@")[2] for r in base if r.key})
        mail = await self._domains(domains, progress)
        probed: dict[str, ProbeOutcome] = {}
        if self.prober is not None:
            probed = await self._probe(base, mail)
        return [self._final(r, mail, probed) for r in base]

    async def _domains(self, domains: list[str], progress: Progress | None) -> dict[str, MailDomain]:
        assert self.dns is not None
        found: dict[str, MailDomain] = {}
        tasks = [asyncio.ensure_future(self.dns.check(d)) for d in domains]
        for done, next_done in enumerate(asyncio.as_completed(tasks), start=1):
            result = await next_done
            found[result.domain] = result
            if progress is not None and (done % 100 == 0 or done == len(tasks)):
                progress(done, len(tasks))
        return found

    async def _probe(self, base: list[Result], mail: dict[str, MailDomain]) -> dict[str, ProbeOutcome]:
        assert self.prober is not None
        by_domain: dict[str, list[str]] = {}
        for r in base:
            if r.key:
                domain = r.key.rpartition("@")[2]
                if mail[domain].status is DomainStatus.ACCEPTS and r.key not in by_domain.get(domain, ()):
                    by_domain.setdefault(domain, []).append(r.key)
        outcomes: dict[str, ProbeOutcome] = {}
        jobs = [self.prober.probe(d, mail[d].hosts, keys) for d, keys in by_domain.items()]
        for found in await asyncio.gather(*jobs):
            outcomes.update(found)
        return outcomes

    @staticmethod
    def _final(r: Result, mail: dict[str, MailDomain], probed: dict[str, ProbeOutcome]) -> Result:
        if r.key is None:
            return r
        domain = mail[r.key.rpartition("@")[2]]
        reasons = list(r.reasons)
        details = [r.detail] if r.detail else []
        dns_reason = DNS_REASON[domain.status]
        if dns_reason is not None:
            reasons.append(dns_reason)
            details.append(domain.detail)
        outcome = probed.get(r.key)
        if outcome is not None:
            probe_reason = PROBE_REASON[outcome.status]
            if probe_reason is not None:
                reasons.append(probe_reason)
                details.append(outcome.detail)
        return combine(r.address, r.key, reasons, r.suggestion, "; ".join(details))


def verify_texts(
    texts: Sequence[str], options: VerifyOptions | None = None, progress: Progress | None = None
) -> list[Result]:
    """Verify a list of addresses (as given) in one run; results in input order."""
    return Verifier(options).verify(texts, progress)
