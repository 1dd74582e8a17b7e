"""Per-recipient messages for the sending loop: each campaign prepared once (its templates, links and the
DKIM signer of its From domain), each claimed recipient rendered, then signed in the domain's signing
pool BUILD_CHUNK at a time while the loop keeps sending, or in this process when no pool is used.

A message that cannot be built (a template failing on a contact's fields, a broken signer) is handed on
as the exception, so its recipient is recorded `failed` instead of waiting on a lease renewed forever.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from sendwell.config import SendingSettings
from sendwell.sending.message import CampaignContent, Links, PreparedCampaign, Rendered
from sendwell.sending.queue import Job

log = logging.getLogger("sendwell.sending")
BUILD_CHUNK = 64  # messages rendered, then signed in the DKIM pool, at a time

Built = Rendered | Exception  # a message ready for the wire, or why it could not be built


class Builder:
    """The prepared campaigns of one run, their signers and the signing pools (one per From domain)."""

    def __init__(self, settings: SendingSettings, secret: str = "", dkim_dir: str | None = None) -> None:
        self.settings, self.secret, self.dkim_dir = settings, secret, dkim_dir
        self.prepared: dict[int, PreparedCampaign] = {}
        self.signers: dict[int, Any] = {}  # campaign -> dkim.Signer or None
        self.pools: dict[str, Any] = {}  # From domain -> dkim.SigningPool (signing_processes > 0)
        self.signing: dict[int, Any] = {}  # campaign -> its domain's pool, when it signs in one
        self.in_build = 0  # jobs handed out to be built ahead, not yet put
        self._tasks: set[asyncio.Task] = set()

    def knows(self, campaign_id: int) -> bool:
        return campaign_id in self.prepared

    def signs_ahead(self, campaign_id: int | None = None) -> bool:
        """Whether the campaign's messages (any campaign's, without one) are built ahead and signed in a pool."""
        return campaign_id in self.signing if campaign_id is not None else bool(self.signing)

    def prepare(self, content: CampaignContent) -> str | None:
        """Prepare a campaign; returns the warning to show when its From domain has no DKIM key."""
        from sendwell import dkim

        cid = content.id
        links = Links(self.secret, self.settings.bounce_domain, self.settings.public_url)
        self.prepared[cid] = PreparedCampaign(content, links)
        signer = self.signers[cid] = dkim.Signer.for_from_domain(content.from_addr, self.dkim_dir)
        if signer is None:
            return dkim.missing_key_warning(content.from_addr, self.dkim_dir)
        if self.settings.signing_processes > 0:
            if signer.domain not in self.pools:
                self.pools[signer.domain] = dkim.SigningPool(
                    signer.domain, self.dkim_dir, processes=self.settings.signing_processes
                )
            self.signing[cid] = self.pools[signer.domain]
        return None

    def render(self, job: Job) -> Built:
        """The job's message, unsigned, or the exception its template raised for this contact's fields."""
        try:
            return self.prepared[job.campaign_id].render_fields(job.id, job.email, job.fields)
        except Exception as err:  # reported on the recipient's row
            return err

    def build_one(self, job: Job) -> Built:
        """Render and sign in this process (a job that was not built ahead)."""
        rendered = self.render(job)
        signer = self.signers.get(job.campaign_id)
        if signer is not None and not isinstance(rendered, Exception):  # the key of the From domain
            rendered = replace(rendered, data=signer.sign(rendered.data))
        return rendered

    def hand_out(self, jobs: list[Job], put: Callable[[Job, Built | None], None]) -> None:
        """`put` each job for a connection: at once (built when sent), or once built ahead when its
        campaign signs in a pool."""
        ahead = [job for job in jobs if job.campaign_id in self.signing]
        for job in jobs:
            if job.campaign_id not in self.signing:
                put(job, None)
        if ahead:
            self.in_build += len(ahead)
            task = asyncio.create_task(self.build_ahead(ahead, put))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    def stocked(self, queued: int, low: int) -> bool:
        """Enough jobs queued or being built; when campaigns sign, a chunk more, since it spends a while
        in the pool before it can be sent."""
        return queued + self.in_build >= low + BUILD_CHUNK * bool(self.signing)

    async def drain(self) -> None:
        """Until every job handed out to be built was put."""
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def build_ahead(self, jobs: list[Job], put: Callable[[Job, Built | None], None]) -> None:
        """Render `jobs` a chunk at a time and have their domain's pool sign each chunk while the next one
        renders; `put` each job with its message, in order, once its chunk is signed. Jobs of chunks not
        reached when cancelled are put with None (built when sent)."""
        chunks = [jobs[i : i + BUILD_CHUNK] for i in range(0, len(jobs), BUILD_CHUNK)]
        signing: list[asyncio.Future] = []
        try:
            for chunk in chunks:
                signing.append(asyncio.ensure_future(self._sign(chunk, [self.render(j) for j in chunk])))
                await asyncio.sleep(0)
        finally:
            for k, chunk in enumerate(chunks):
                try:
                    built: list[Any] | None = await signing[k] if k < len(signing) else None
                except Exception as err:  # recorded on each recipient of the chunk
                    log.exception("could not build or sign %d messages", len(chunk))
                    built = [err] * len(chunk)
                self.in_build -= len(chunk)
                for k2, job in enumerate(chunk):
                    put(job, None if built is None else built[k2])

    async def _sign(self, chunk: list[Job], built: list[Built]) -> list[Built]:
        by_pool: dict[Any, list[int]] = {}
        for k, item in enumerate(built):
            if not isinstance(item, Exception):
                by_pool.setdefault(self.signing[chunk[k].campaign_id], []).append(k)
        for pool, ks in by_pool.items():
            messages = [item.data for k in ks if isinstance(item := built[k], Rendered)]
            try:
                signed = await pool.sign_batch(messages)
            except Exception:  # a broken pool: sign in this process instead
                log.exception("the DKIM signing pool failed; signing in the sending process")
                signed = [self.signers[chunk[k].campaign_id].sign(data) for k, data in zip(ks, messages, strict=True)]
            for k, data in zip(ks, signed, strict=True):
                item = built[k]
                if isinstance(item, Rendered):
                    built[k] = replace(item, data=data)
        return built

    def close(self) -> None:
        for pool in self.pools.values():
            pool.close()
