"""Checks of a sending domain's DNS: MX, SPF, DKIM, DMARC and alignment, the relay's reverse DNS, the bounce domain.

Entry point: `sendwell.domaincheck.checks.check_domain(...)` → a `Report` of `Finding`s (ok / warn / error),
each with what to fix in plain words. Every DNS question goes through `lookup.Dns`, whose resolver is
injectable (a nameserver and port), so the tests run against a local DNS server.
"""
