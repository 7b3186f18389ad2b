"""One contract, two backends: the SQLite file and a real Redis behave the same for
everything the sidecar and the relay keep in the store."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from idpack.store import Store, open_store


@pytest.fixture(params=["sqlite", "redis"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    if request.param == "sqlite":
        return open_store(str(tmp_path / "store.sqlite"))
    url: str = request.getfixturevalue("redis_url")
    return open_store(url)


def test_put_get_and_expiry(store: Store) -> None:
    store.put("links", "abc", {"target": "https://x.test/a"}, ttl=0.5)
    store.put("links", "long", {"target": "https://x.test/b"}, ttl=60)

    assert store.get("links", "abc") == {"target": "https://x.test/a"}
    assert store.get("other", "abc") is None  # namespaces are separate
    time.sleep(0.7)
    assert store.get("links", "abc") is None
    assert store.get("links", "long") == {"target": "https://x.test/b"}


def test_put_replaces(store: Store) -> None:
    store.put("n", "k", {"v": 1}, ttl=60)
    store.put("n", "k", {"v": 2}, ttl=60)

    assert store.get("n", "k") == {"v": 2}


def test_take_gives_the_value_to_exactly_one_taker(store: Store) -> None:
    store.put("email-change", "token", {"user": "u1"}, ttl=60)
    results: list[object] = []
    barrier = threading.Barrier(8)

    def taker() -> None:
        barrier.wait()
        results.append(store.take("email-change", "token"))

    threads = [threading.Thread(target=taker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert results.count({"user": "u1"}) == 1
    assert results.count(None) == 7
    assert store.get("email-change", "token") is None


def test_hit_is_a_sliding_window(store: Store) -> None:
    verdicts = [store.hit("verify:a@x.test", window=1.0, limit=3) for _ in range(4)]

    assert [v.allowed for v in verdicts] == [True, True, True, False]
    assert 0 < verdicts[3].retry_after <= 1.0
    assert store.hit("verify:b@x.test", window=1.0, limit=3).allowed  # keys are separate
    time.sleep(verdicts[3].retry_after + 0.05)
    assert store.hit("verify:a@x.test", window=1.0, limit=3).allowed
    # a refused hit is not counted: after the window only the new hit remains
    assert store.hit("verify:a@x.test", window=1.0, limit=3).allowed


def test_hit_counts_exactly_under_concurrency(store: Store) -> None:
    allowed: list[bool] = []
    barrier = threading.Barrier(10)

    def hitter() -> None:
        barrier.wait()
        for _ in range(5):
            allowed.append(store.hit("burst", window=30, limit=17).allowed)

    threads = [threading.Thread(target=hitter) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert allowed.count(True) == 17


def test_sqlite_sweeps_what_expired_and_upgrades_an_older_file(tmp_path: Path) -> None:
    import sqlite3

    from idpack.store.sqlite import SWEEP_EVERY, SqliteStore

    path = tmp_path / "old.sqlite"
    with sqlite3.connect(path) as old:  # the layout before hits kept their expiry
        old.executescript("CREATE TABLE hits (key TEXT NOT NULL, at REAL NOT NULL);"
                          "INSERT INTO hits VALUES ('stale', 1.0);")
    store = SqliteStore(path)
    for number in range(SWEEP_EVERY):
        store.put("links", f"k{number}", {"n": number}, ttl=0.001)
    store.put("links", "kept", {"n": -1}, ttl=60)
    store.hit("lease", window=0.001, limit=1)
    time.sleep(0.01)
    store.sweep()

    db = sqlite3.connect(path)
    assert db.execute("SELECT key FROM entries").fetchall() == [("kept",)]
    assert db.execute("SELECT count(*) FROM hits").fetchone() == (0,)
