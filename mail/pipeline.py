"""Accept one message: check, rewrite links, rate-limit, sign, spool. Each stage is its
own module; this one only runs them in order. The answer is the SMTP reply."""

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
VERIFY_WINDOW = 60.0


@dataclass
class Pipeline:
    domains: frozenset[str]
    links: LinkRewriter
    store: FallbackStore
    signer: Signer
    spool: Spool
    verify_limit: int = 5
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
        if links:  # a verification (action-token) mail: at most N a minute per recipient
            for recipient in recipients:
                verdict = self.store.hit(f"verify-mail:{recipient.lower()}", VERIFY_WINDOW,
                                         self.verify_limit)
                if not verdict.allowed:
                    reply = Refusal(450, f"4.7.1 Too many verification mails to <{recipient}>; "
                                         f"try again in {verdict.retry_after:.0f} s",
                                    "rate-limit")
                    log.info("deferred mail to %s: %s", recipient, reply.text)
                    self.metrics.refused.labels(reply.reason).inc()
                    return reply.reply()
        queue_id = self.spool.accept(mail_from, recipients, self.signer.sign(rewritten))
        self.metrics.accepted.inc()
        for link in links:
            log.info("queued %s to %s: short link %s", queue_id, ", ".join(recipients), link.url)
        if not links:
            log.info("queued %s from <%s> to %s", queue_id, mail_from, ", ".join(recipients))
        return f"250 2.0.0 Ok: queued as {queue_id}"
