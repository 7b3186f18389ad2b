"""Accept one message: check, rewrite links, limit mails per address, sign, spool. Each
stage is its own module (the limits are the small class below); this one only runs them
in order. The answer is the SMTP reply."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from idpack.store import FallbackStore
from mail.checks import Refusal, check_message, check_sender, header_block
from mail.links import LinkRewriter
from mail.metrics import RelayMetrics
from mail.signing import Signer
from mail.spool import Spool

log = logging.getLogger("idpack.relay")


@dataclass(frozen=True)
class AddressLimit:
    """At most `count` messages to one address in a sliding window of `seconds`."""
    count: int
    seconds: float

    def describe(self) -> str:
        unit = {60.0: "a minute", 3600.0: "an hour"}.get(self.seconds,
                                                           f"in {self.seconds:g} s")
        return f"{self.count} {unit}"


# Every kind of mail counts (verification, reset, email change, the sidecar's own): a
# user who may ask for mails to any address must not be able to flood one.
ADDRESS_LIMITS = (AddressLimit(5, 60.0), AddressLimit(10, 3600.0))


@dataclass
class Pipeline:
    domains: frozenset[str]
    links: LinkRewriter
    store: FallbackStore
    signer: Signer
    spool: Spool
    limits: tuple[AddressLimit, ...] = ADDRESS_LIMITS
    metrics: RelayMetrics = field(default_factory=RelayMetrics)

    def accept(self, mail_from: str, recipients: list[str], content: bytes) -> str:
        refusal = check_sender(mail_from, self.domains) or check_message(content, self.domains)
        if refusal is not None:
            log.info("refused from <%s> to %s: %s", mail_from, recipients, refusal.text)
            self.metrics.refused.labels(refusal.reason).inc()
            return refusal.reply()
        rewritten, links = self.links.rewrite(content)
        if rewritten is not content:
            # What is signed is checked too, and its header block must be the one we
            # received: the rewrite is never allowed to add or change a header.
            refusal = check_message(rewritten, self.domains)
            if refusal is None and header_block(rewritten) != header_block(content):
                log.error("refused from <%s>: rewriting links changed the headers",
                          mail_from)
                refusal = Refusal(451, "4.3.0 Local error in processing; try again later",
                                  "fault")
            if refusal is not None:
                self.metrics.refused.labels(refusal.reason).inc()
                return refusal.reply()
        refusal = self._over_a_limit(recipients)
        if refusal is not None:
            self.metrics.refused.labels(refusal.reason).inc()
            return refusal.reply()
        queue_id = self.spool.accept(mail_from, recipients, self.signer.sign(rewritten))
        self.metrics.accepted.inc()
        for link in links:
            log.info("queued %s to %s: short link %s", queue_id, ", ".join(recipients), link.url)
        if not links:
            log.info("queued %s from <%s> to %s", queue_id, mail_from, ", ".join(recipients))
        return f"250 2.0.0 Ok: queued as {queue_id}"

    def _over_a_limit(self, recipients: list[str]) -> Refusal | None:
        """Count the message for each recipient in each window, shortest first; the
        first window that is full refuses it (450: the sender may try later). A window
        counts only what it lets through, so a refusal by a longer window costs one
        place in the shorter ones at most, for their length."""
        for recipient in recipients:
            address = recipient.lower()
            for limit in self.limits:
                verdict = self.store.hit(f"mail-to:{limit.seconds:g}:{address}", limit.seconds,
                                         limit.count)
                if not verdict.allowed:
                    wait = max(1, round(verdict.retry_after))
                    refusal = Refusal(450, f"4.7.1 Too many mails to <{recipient}>: at most "
                                           f"{limit.describe()} to one address; try again "
                                           f"in {wait} s", "rate-limit")
                    log.info("deferred mail to %s: %s", recipient, refusal.text)
                    return refusal
        return None
