"""The delivery worker against a real SMTP peer (aiosmtpd) that answers as told."""

from __future__ import annotations

import mailbox
from collections.abc import Iterator
from pathlib import Path

import pytest

from idpack.processes import free_port
from mail.delivery import Backoff, MaildirUpstream, SmtpUpstream, deliver_due
from mail.spool import Spool
from tests.support.smtp_peer import Received, smtp_peer

MESSAGE = b"From: no-reply@mikrocloud.com\r\nSubject: hi\r\n\r\nhello\r\n"


@pytest.fixture
def peer() -> Iterator[tuple[Received, int]]:
    with smtp_peer() as (port, received):
        yield received, port


def upstream(port: int) -> SmtpUpstream:
    return SmtpUpstream("127.0.0.1", port, starttls=False)


def test_delivered_messages_leave_the_queue(tmp_path: Path, peer: tuple[Received, int]) -> None:
    handler, port = peer
    spool = Spool(tmp_path)
    spool.accept("no-reply@mikrocloud.com", ["a@example.org", "b@example.org"], MESSAGE)

    assert deliver_due(spool, upstream(port), Backoff()) == 1

    assert handler.raw == [(["a@example.org", "b@example.org"], MESSAGE)]
    assert spool.queued() == []
    assert spool.dead_letters() == []


def test_a_5xx_dead_letters_that_recipient_only(tmp_path: Path, peer: tuple[Received, int]) -> None:
    handler, port = peer
    handler.answers["b@example.org"] = "550 5.1.1 No such user"
    spool = Spool(tmp_path)
    spool.accept("no-reply@mikrocloud.com", ["a@example.org", "b@example.org"], MESSAGE)

    deliver_due(spool, upstream(port), Backoff())

    assert handler.raw == [(["a@example.org"], MESSAGE)]
    [dead] = spool.dead_letters()
    assert dead.failed == {"b@example.org": "550 5.1.1 No such user"}


def test_a_4xx_defers_with_backoff_then_delivers(tmp_path: Path,
                                                 peer: tuple[Received, int]) -> None:
    handler, port = peer
    handler.answers["a@example.org"] = "451 4.3.0 Try again later"
    spool = Spool(tmp_path)
    spool.accept("no-reply@mikrocloud.com", ["a@example.org"], MESSAGE)
    backoff = Backoff(first=60, maximum=600)

    assert deliver_due(spool, upstream(port), backoff) == 0
    [waiting] = spool.queued()
    assert waiting.attempts == 1
    assert 55 < waiting.next_try - waiting.created < 65
    assert "451 4.3.0" in (waiting.last_error or "")
    assert deliver_due(spool, upstream(port), backoff) == 0  # not due yet

    handler.answers.clear()
    assert deliver_due(spool, upstream(port), backoff, now=waiting.next_try + 1) == 1
    assert handler.raw == [(["a@example.org"], MESSAGE)]
    assert backoff.delay(1) == 60
    assert backoff.delay(3) == 240
    assert backoff.delay(10) == 600


def test_no_upstream_defers_and_nothing_is_lost(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    spool.accept("no-reply@mikrocloud.com", ["a@example.org"], MESSAGE)

    assert deliver_due(spool, upstream(free_port()), Backoff()) == 0

    [waiting] = spool.queued()
    assert "no connection" in (waiting.last_error or "")


def test_past_the_maximum_age_a_message_is_dead_lettered(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    spool.accept("no-reply@mikrocloud.com", ["a@example.org"], MESSAGE)

    deliver_due(spool, upstream(free_port()), Backoff(max_age=-1))

    [dead] = spool.dead_letters()
    assert "gave up after 1 attempts" in dead.failed["a@example.org"]


def test_the_embedded_upstream_is_a_maildir(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool")
    spool.accept("no-reply@mikrocloud.com", ["a@example.org"], MESSAGE)

    deliver_due(spool, MaildirUpstream(tmp_path / "mail"), Backoff())

    [stored] = list(mailbox.Maildir(tmp_path / "mail"))
    assert stored.as_bytes().replace(b"\n", b"\r\n").startswith(b"From: no-reply@")
