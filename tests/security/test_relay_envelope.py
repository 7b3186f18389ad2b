"""Security 9: the relay's envelope hygiene: at most 100 recipients a message, no empty
recipient, and refusals for size counted like every other refusal."""

from __future__ import annotations

import smtplib

import pytest

from mail.relay import Relay

pytestmark = pytest.mark.peers
SENDER = "no-reply@mikrocloud.com"


def refused(relay: Relay, reason: str) -> float | None:
    return relay.metrics.registry.get_sample_value("idpack_relay_refused_total",
                                                   {"reason": reason})


def session(relay: Relay) -> smtplib.SMTP:
    client = smtplib.SMTP("127.0.0.1", relay.settings.port, timeout=10)
    client.ehlo("app.test")
    return client


def test_the_101st_recipient_of_a_message_waits_for_another_message(relay: Relay) -> None:
    with session(relay) as client:
        client.mail(SENDER)
        answers = [client.rcpt(f"user{n}@example.org")[0] for n in range(101)]

    assert answers[:100] == [250] * 100
    assert answers[100] == 452
    assert refused(relay, "too-many-recipients") == 1


def test_an_empty_or_partial_recipient_is_refused(relay: Relay) -> None:
    with session(relay) as client:
        client.mail(SENDER)
        answers = [client.docmd(command) for command in
                   ("RCPT TO:<>", "RCPT TO: <>", "RCPT TO:<postmaster>")]
        code, _ = client.rcpt("user@example.org")

    assert [answer[0] for answer in answers] == [501, 501, 501], answers
    assert b"full address" in answers[0][1]
    assert code == 250
    assert refused(relay, "recipient") == 3


def test_refusals_for_size_are_counted(relay: Relay) -> None:
    too_big = relay.settings.max_size + 1
    with session(relay) as client:
        code, _ = client.docmd(f"MAIL FROM:<{SENDER}> SIZE={too_big}")
        assert code == 552
        client.mail(SENDER)
        client.rcpt("user@example.org")
        body = (b"From: <no-reply@mikrocloud.com>\r\nSubject: big\r\n\r\n"
                + b"x" * 998 + b"\r\n") * (too_big // 1000 + 1)
        code, _ = client.data(body)

    assert code == 552
    assert refused(relay, "too-big") == 2
    assert relay.spool.depth() == 0
