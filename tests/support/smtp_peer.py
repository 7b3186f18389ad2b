"""A real SMTP server for tests (aiosmtpd on a free loopback port) that keeps what it
receives and can refuse chosen recipients."""

from __future__ import annotations

import email
import email.policy
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller

from idpack.processes import free_port


@dataclass
class Received:
    messages: list[tuple[list[str], EmailMessage]] = field(default_factory=list)
    raw: list[tuple[list[str], bytes]] = field(default_factory=list)
    answers: dict[str, str] = field(default_factory=dict)  # recipient -> RCPT reply
    greetings: list[str] = field(default_factory=list)  # the sender's EHLO name, per message

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          options: Any) -> str:
        answer = self.answers.get(address, "250 OK")
        if answer.startswith("250"):
            envelope.rcpt_tos.append(address)
        return answer

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append((list(envelope.rcpt_tos), message))
        self.raw.append((list(envelope.rcpt_tos), envelope.content))
        self.greetings.append(str(session.host_name))
        return "250 OK"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for rcpts, m in self.messages if address in rcpts]


@contextmanager
def smtp_peer(port: int | None = None) -> Iterator[tuple[int, Received]]:
    received = Received()
    port = port or free_port()
    controller = Controller(received, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port, received
    finally:
        controller.stop()
