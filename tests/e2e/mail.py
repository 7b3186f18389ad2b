"""The relay's mail as the end-to-end tests read it at the SMTP peer upstream."""

from __future__ import annotations

import re
import time
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser

from tests.e2e.stack import Stack


def mails_to(stack: Stack, address: str) -> list[bytes]:
    return [raw for recipients, raw in stack.mail.raw if address in recipients]


def wait_for_mails(stack: Stack, address: str, count: int, seconds: float = 60) -> list[bytes]:
    deadline = time.monotonic() + seconds
    while len(mails_to(stack, address)) < count:
        assert time.monotonic() < deadline, f"{count} mail(s) to {address} did not arrive"
        time.sleep(0.2)
    return mails_to(stack, address)


def text_of(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("plain", "html"))
    assert body is not None
    return str(body.get_content())


def short_link_in(stack: Stack, raw: bytes) -> str:
    """The short link of a "Verify Email Address" mail, on the stack's sidecar."""
    message = BytesParser(policy=policy.default).parsebytes(raw)
    assert isinstance(message, EmailMessage)
    assert message["Subject"] == "Verify Email Address"
    found = re.search(rf"{re.escape(stack.sidecar_url)}/s/[A-Za-z0-9_-]+", text_of(message))
    assert found, text_of(message)
    return found.group(0)
