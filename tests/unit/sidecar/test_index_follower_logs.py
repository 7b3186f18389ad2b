"""What the index's follower logs while its Redis is away: one line a turn that says
so, not a traceback a turn (the deploy run's sidecars printed 40 lines every 2.5 s)."""

from __future__ import annotations

import logging
import threading
from typing import Any, cast

import pytest
import redis

from extensions.sidecar.index.table import IndexTable
from extensions.sidecar.roles import Role
from extensions.sidecar.user_index import IndexTiming, UserIndex
from idpack.keycloak.realm_admin import RealmAdmin


class AwayTable:
    """A table whose Redis refuses connections; the follower is stopped after `turns`."""

    def __init__(self, stop: threading.Event, turns: int) -> None:
        self.stop, self.turns = stop, turns

    def lease(self, holder: str, seconds: float) -> bool:
        self.turns -= 1
        if self.turns <= 0:
            self.stop.set()
        raise redis.ConnectionError("Error 111 connecting to 127.0.0.1:16379. Connection refused.")

    def release(self, holder: str) -> None:
        pass


def test_a_follower_whose_redis_is_away_says_so_in_one_line(
        caplog: pytest.LogCaptureFixture) -> None:
    stop = threading.Event()
    index = UserIndex(cast(RealmAdmin, object()), cast(IndexTable, AwayTable(stop, 3)),
                      lambda user_id: Role.USER, cast(Any, None),
                      IndexTiming(poll_seconds=0.01))
    index._stop = stop

    with caplog.at_level(logging.INFO, logger="idpack.sidecar.index"):
        index._follow()

    assert [r.getMessage() for r in caplog.records] == [
        "user index not current: its Redis is unavailable (Error 111 connecting to "
        "127.0.0.1:16379. Connection refused.)"] * 3
    assert not any(r.exc_info for r in caplog.records)
