"""The SMTP side: aiosmtpd, with a handler that admits only configured networks and
hands whole messages to the pipeline. A fault of ours is 451 (try again), never a 500
that would bounce the mail and leak an exception."""

from __future__ import annotations

import asyncio
import ipaddress
import logging
from typing import Any, AnyStr

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP

from mail.checks import check_sender
from mail.pipeline import Pipeline
from mail.settings import IpNetwork

log = logging.getLogger("idpack.relay.smtp")
# Recipients in one transaction; RFC 5321 4.5.3.1.8 asks servers to take at least 100,
# and a client with more sends the rest in another transaction after a 452.
MAX_RECIPIENTS = 100


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

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          rcpt_options: list[str]) -> str:
        metrics = self.pipeline.metrics
        local, _, domain = address.strip().strip("<>").rpartition("@")
        if not local or not domain:
            metrics.refused.labels("recipient").inc()
            return "501 5.1.3 Bad recipient address: a full address is required"
        if len(envelope.rcpt_tos) >= MAX_RECIPIENTS:
            metrics.refused.labels("too-many-recipients").inc()
            return (f"452 4.5.3 Too many recipients: at most {MAX_RECIPIENTS} in one "
                    "message; send the rest in another")
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
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


class RelaySmtp(SMTP):
    """aiosmtpd's SMTP session, counting its own size refusals (552 to MAIL with a SIZE
    over the limit, and to DATA that grows past it), which never reach the handler."""

    def __init__(self, handler: RelayHandler, **kwargs: Any) -> None:
        super().__init__(handler, **kwargs)
        self.relay_handler = handler

    async def push(self, status: AnyStr) -> None:
        code = status[:3]
        if code in ("552", b"552"):
            self.relay_handler.pipeline.metrics.refused.labels("too-big").inc()
        await super().push(status)


class RelayController(Controller):
    def factory(self) -> RelaySmtp:
        return RelaySmtp(self.handler, **self.SMTP_kwargs)
