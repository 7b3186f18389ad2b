"""Redis away and back, with a real redis-server stopped and started on its port: the
store counts limits in the process meanwhile, journals the writes it was given a
journal for (and writes them into Redis once it answers), and refuses reads with
StoreUnavailable, which the services turn into "try again" pages."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from idpack.store import StoreUnavailable, open_store
from idpack.store.fallback import Journal
from tests.support.redis_server import RedisServer, running_redis


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RedisServer]:
    with running_redis(tmp_path) as running:
        yield running


def test_limits_are_counted_in_the_process_while_redis_is_away(server: RedisServer) -> None:
    store = open_store(server.url)
    assert store.hit("verify-mail:a@example.org", 60, 3).allowed

    server.stop()
    verdicts = [store.hit("verify-mail:a@example.org", 60, 3) for _ in range(4)]

    assert [v.allowed for v in verdicts] == [True, True, True, False]
    assert 59 < verdicts[-1].retry_after <= 60
    assert store.status()["available"] is False
    server.start()
    assert store.hit("verify-mail:a@example.org", 60, 3).allowed  # a fresh Redis counts anew
    assert store.status()["available"] is True


def test_writes_are_journaled_while_redis_is_away_and_written_once_it_is_back(
        server: RedisServer, tmp_path: Path) -> None:
    journal = tmp_path / "spool" / "store-journal.jsonl"
    journal.parent.mkdir()
    store = open_store(server.url, journal=journal)
    server.stop()

    store.put("short-links", "abc", {"target": "https://kc.test/a"}, ttl=3600)
    store.put("short-links", "gone", {"target": "https://kc.test/b"}, ttl=0.2)

    assert store.status()["journaled"] == 2
    with pytest.raises(StoreUnavailable, match="unavailable"):
        store.get("short-links", "abc")
    assert store.catch_up() == 0  # still away: nothing lost, nothing written
    assert journal.exists()

    time.sleep(0.3)
    server.start()
    assert store.catch_up() == 1  # the expired one is not written
    assert store.get("short-links", "abc") == {"target": "https://kc.test/a"}
    assert store.get("short-links", "gone") is None
    assert not journal.exists()
    ttl = open_store(server.url).backend.client.pttl(  # type: ignore[attr-defined]
        "idpack:short-links:abc")
    assert 3500_000 < ttl <= 3600_000  # the time it had left


def test_without_a_journal_a_write_while_redis_is_away_is_refused(server: RedisServer) -> None:
    store = open_store(server.url)
    server.stop()

    with pytest.raises(StoreUnavailable):
        store.put("portal-sessions", "s", {"token": "t"}, ttl=60)


def test_a_torn_line_from_a_crash_mid_append_costs_only_itself(tmp_path: Path,
                                                               redis_url: str) -> None:
    path = tmp_path / "journal.jsonl"
    journal = Journal(path)
    journal.append("n", "first", {"v": 1}, 60)
    with path.open("ab") as f:
        f.write(b'{"namespace": "n", "key": "torn", "val')  # the crash
    journal.append("n", "second", {"v": 2}, 60)

    store = open_store(redis_url)
    assert journal.replay(store) == 2
    assert store.get("n", "first") == {"v": 1}
    assert store.get("n", "second") == {"v": 2}
