"""The relay while Redis is away (a real redis-server stopped and started): a
verification mail is still accepted, shortened, signed, spooled and delivered; its
short link is journaled in the spool and written into Redis once Redis answers; the
per-address limit is counted in the relay meanwhile. Keycloak never hears a 451, so no
user is left without the mail."""

from __future__ import annotations

import time
from collections.abc import Iterator
from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest

from idpack.store import open_store
from idpack.store.short_links import NAMESPACE
from mail.delivery import deliver_due
from mail.relay import Relay
from tests.peers.mail.test_relay import send, verification_mail
from tests.support.dkim_check import maildir_messages
from tests.support.redis_server import RedisServer, running_redis
from tests.support.relay import running_relay


@pytest.fixture
def redis(tmp_path: Path) -> Iterator[RedisServer]:
    folder = tmp_path / "redis"
    folder.mkdir()
    with running_redis(folder) as server:
        yield server


@pytest.fixture
def relay(tmp_path: Path, redis: RedisServer) -> Iterator[Relay]:
    with running_relay(tmp_path / "relay", redis.url) as running:
        yield running


def short_code(raw: bytes) -> str:
    message = BytesParser(policy=policy.default).parsebytes(raw)
    body = message.get_body().get_content()  # type: ignore[union-attr]
    return str(body.split("https://mkcld.link/s/")[1][:16])


def test_verification_mail_is_accepted_and_delivered_while_redis_is_away(
        relay: Relay, redis: RedisServer) -> None:
    redis.stop()

    answers = [send(relay, "no-reply@mikrocloud.com", ["away@example.org"],
                    verification_mail("away@example.org")) for _ in range(6)]

    assert [code for code, _ in answers] == [250] * 5 + [450], answers  # counted here
    deliver_due(relay.spool, relay.upstream, relay.backoff)
    delivered = maildir_messages(Path(relay.settings.upstream.removeprefix("maildir:")))
    assert len(delivered) == 5
    codes = [short_code(raw) for raw in delivered]
    # each delivered mail's link waits in the journal (and the refused sixth's, made
    # before the limit was counted, which no mail carries)
    assert relay.pipeline.store.status()["journaled"] >= 5

    redis.start()
    deadline = time.monotonic() + 10  # the relay's catching-up thread, every 2 s
    fresh = open_store(redis.url)
    while fresh.get(NAMESPACE, codes[0]) is None:
        assert time.monotonic() < deadline, "the journal was not written into Redis"
        time.sleep(0.2)
    for code in codes:
        stored = fresh.get(NAMESPACE, code)
        assert stored is not None
        assert "/login-actions/action-token?key=" in stored["target"]
    assert relay.pipeline.store.status() == {"available": True, "unavailable_since": None,
                                             "journaled": 0}
