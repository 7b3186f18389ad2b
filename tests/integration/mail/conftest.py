"""A relay of the test's own: fresh keys, a free port, delivering into a Maildir."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from idpack.keycloak.server import free_port
from mail.delivery import Backoff
from mail.dkim_keys import generate
from mail.relay import Relay
from mail.settings import RelaySettings


@pytest.fixture(params=["sqlite"])
def relay(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Relay]:
    """Parametrize with "redis" (indirect) to keep links and windows in Redis."""
    generate(tmp_path / "dkim", "test")
    settings = replace(RelaySettings.from_env({"IDPACK_HOME": str(tmp_path)}),
                       port=free_port(), dkim_selector="test", max_size=64 * 1024,
                       metrics_port=free_port())
    if request.param == "redis":
        settings = replace(settings, store=request.getfixturevalue("redis_url"))
    running = Relay.build(settings, Backoff(first=1, maximum=2))
    running.start()
    try:
        yield running
    finally:
        running.stop()
