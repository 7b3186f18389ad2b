"""The SMTP side: aiosmtpd, with a handler that admits only configured networks and
hands whole messages to the pipeline. A fault of ours is 451 (try again), never a 500
that would bounce the mail and leak an exception."""

from __future__ import annotations

import asyncio
import ipaddress
import logging
from typing import Any

from mail.checks import check_sender
from mail.pipeline import Pipeline
from mail.settings import IpNetwork

log = logging.getLogger("idpack.relay.smtp")


class RelayHandler:
    def __init__(self, pipeline: Pipeline, networks: tuple[IpNetwork, ...],
                 login_offered: bool = False) -> None:
        self.pipeline, self.networks, self.login_offered = pipeline, networks, login_offered

    def _client_allowed(self, session: Any) -> bool:
        if session.authenticated:
            return True
        try:
            address = ipaddress.ip_address(session.peer[0])
        except (ValueError, TypeError, IndexError):
            return False
        return any(address in network for network in self.networks)

    async def handle_MAIL(self, server: Any, session: Any, envelope: Any, address: str,
                          mail_options: list[str]) -> str:
        metrics = self.pipeline.metrics
        if not self._client_allowed(session):
            if self.login_offered:
                log.warning("refused client %s: not logged in", session.peer)
                metrics.refused.labels("auth").inc()
                return ("530 5.7.0 Authentication required: STARTTLS, then AUTH, to send "
                        "from outside the relay networks")
            log.warning("refused client %s: not on a relay network", session.peer)
            metrics.refused.labels("client-network").inc()
            return "550 5.7.1 Relaying denied: this client may not send through this relay"
        refusal = check_sender(address, self.pipeline.domains)
        if refusal is not None:
            metrics.refused.labels(refusal.reason).inc()
            return refusal.reply()
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        # Signing and fsync block: they run beside the event loop, not in it.
        content = envelope.original_content or envelope.content
        reply: str = await asyncio.get_running_loop().run_in_executor(
            None, self.pipeline.accept, envelope.mail_from, list(envelope.rcpt_tos), content)
        return reply

    async def handle_exception(self, error: Exception) -> str:
        log.exception("fault while handling a message", exc_info=error)
        self.pipeline.metrics.refused.labels("fault").inc()
        return "451 4.3.0 Local error in processing; try again later"
