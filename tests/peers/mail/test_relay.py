"""The relay over real SMTP: what it refuses, what it accepts, and what arrives."""

from __future__ import annotations

import base64
import json
import smtplib
import time
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

import pytest

from idpack.store.short_links import NAMESPACE
from mail.delivery import deliver_due
from mail.dkim_keys import load
from mail.relay import Relay
from tests.support.dkim_check import maildir_messages, verifies


def action_link() -> str:
    claims = base64.urlsafe_b64encode(json.dumps({"exp": int(time.time()) + 86400}).encode())
    return ("http://127.0.0.1:8080/realms/mikrocloud/login-actions/action-token?key=eyJh."
            f"{claims.rstrip(b'=').decode()}.c2ln&client_id=account")


def verification_mail(to: str) -> bytes:
    message = EmailMessage()
    message["From"] = "MikroCloud <no-reply@mikrocloud.com>"
    message["To"] = to
    message["Subject"] = "Verify Email Address"
    message["Date"] = "Mon, 23 Nov 2026 01:00:00 +0000"
    message.set_content(f"Verify your address:\n\n{action_link()}\n\nIt expires in 24 hours.\n")
    return message.as_bytes(policy=policy.SMTP)


def send(relay: Relay, mail_from: str, to: list[str], content: bytes) -> tuple[int, str]:
    with smtplib.SMTP("127.0.0.1", relay.settings.port, timeout=10) as client:
        client.ehlo("keycloak.test")
        code, text = client.mail(mail_from)
        if code != 250:
            return code, text.decode()
        for recipient in to:
            client.rcpt(recipient)
        code, text = client.data(content)
        return code, text.decode()


def test_a_verification_mail_is_shortened_signed_spooled_and_delivered(relay: Relay) -> None:
    code, text = send(relay, "no-reply@mikrocloud.com", ["new.user@example.org"],
                      verification_mail("new.user@example.org"))

    assert code == 250, text
    assert "queued as" in text
    deliver_due(relay.spool, relay.upstream, relay.backoff)
    [raw] = maildir_messages(Path(relay.settings.upstream.removeprefix("maildir:")))
    message = BytesParser(policy=policy.default).parsebytes(raw)
    assert message["Subject"] == "Verify Email Address"
    assert message["From"] == "MikroCloud <no-reply@mikrocloud.com>"
    body = message.get_body().get_content()  # type: ignore[union-attr]
    assert "https://mkcld.link/s/" in body
    assert "action-token" not in body
    keys = load(relay.settings.dkim_keys_dir, relay.settings.dkim_selector)
    assert verifies(raw, keys) == [True, True]


def test_the_relay_announces_itself_as_the_configured_host(relay: Relay) -> None:
    with smtplib.SMTP("127.0.0.1", relay.settings.port, timeout=10) as client:
        code, banner = client.ehlo("keycloak.test")
    assert code == 250
    assert banner.decode().startswith("mailman.mikrocloud.com")


def test_refusals(relay: Relay) -> None:
    good = verification_mail("a@example.org")
    cases = {
        "foreign sender": (send(relay, "ceo@evil.example", ["a@example.org"], good), 550),
        "foreign From": (send(relay, "no-reply@mikrocloud.com", ["a@example.org"],
                              good.replace(b"no-reply@mikrocloud.com", b"x@evil.example")),
                         550),
        "two From": (send(relay, "no-reply@mikrocloud.com", ["a@example.org"],
                          b"From: other@mikrocloud.com\r\n" + good), 550),
        "bare LF": (send(relay, "no-reply@mikrocloud.com", ["a@example.org"],
                         good.replace(b"\r\n\r\n", b"\r\n\nX-Smuggled: 1\r\n\r\n", 1)), 550),
        "oversize": (send(relay, "no-reply@mikrocloud.com", ["a@example.org"],
                          good + (b"x" * 70 + b"\r\n") * 1100), 552),
    }
    for name, ((code, text), expected) in cases.items():
        assert code == expected, (name, text)
    assert relay.spool.queued() == []


@pytest.mark.parametrize("relay", ["sqlite", "redis"], indirect=True)
def test_the_sixth_mail_to_an_address_in_a_minute_is_deferred(relay: Relay) -> None:
    answers = [send(relay, "no-reply@mikrocloud.com", ["busy@example.org"],
                    verification_mail("busy@example.org")) for _ in range(6)]

    assert [code for code, _ in answers] == [250] * 5 + [450]
    assert "4.7.1 Too many mails to <busy@example.org>: at most 5 a minute" in answers[5][1]
    assert len(relay.spool.queued()) == 5
    # each queued mail's short link resolves in the store (SQLite or Redis) to its target
    for entry in relay.spool.queued():
        code = relay.spool.content(entry).split(b"https://mkcld.link/s/")[1][:16].decode()
        stored = relay.pipeline.store.get(NAMESPACE, code)
        assert stored is not None
        assert "/login-actions/action-token?key=" in stored["target"]


def test_a_fault_of_ours_is_451_and_keeps_nothing(relay: Relay, tmp_path: Path) -> None:
    def broken(*args: object) -> str:
        raise OSError("disk full")

    relay.pipeline.spool.accept = broken  # type: ignore[method-assign, assignment]
    code, text = send(relay, "no-reply@mikrocloud.com", ["a@example.org"],
                      verification_mail("a@example.org"))

    assert code == 451
    assert "disk full" not in text
