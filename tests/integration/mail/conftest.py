"""A relay of the test's own: fresh keys, a free port, delivering into a Maildir."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from mail.relay import Relay
from tests.support.relay import running_relay


@pytest.fixture(params=["sqlite"])
def relay(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Relay]:
    """Parametrize with "redis" (indirect) to keep links and windows in Redis."""
    store = request.getfixturevalue("redis_url") if request.param == "redis" else None
    with running_relay(tmp_path, store) as running:
        yield running
