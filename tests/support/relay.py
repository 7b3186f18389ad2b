"""A relay of a test's own: fresh DKIM keys, free ports, delivering into a Maildir."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from idpack.processes import free_port
from mail.delivery import Backoff
from mail.dkim_keys import generate
from mail.relay import Relay
from mail.settings import RelaySettings

SELECTOR = "test"


def relay_settings(folder: Path, store: str | None = None) -> RelaySettings:
    generate(folder / "dkim", SELECTOR)
    settings = RelaySettings.from_env({"IDPACK_HOME": str(folder)}, stack_file=False,
                       port=free_port(), dkim_selector=SELECTOR, max_size=64 * 1024,
                       metrics_port=free_port())
    return settings if store is None else settings.model_copy(update={"store": store})


@contextmanager
def running_relay(folder: Path, store: str | None = None) -> Iterator[Relay]:
    """The relay's SMTP side listening until the block ends (delivery is the test's to
    run, with mail.delivery.deliver_due)."""
    relay = Relay.build(relay_settings(folder, store), Backoff(first=1, maximum=2))
    relay.start()
    try:
        yield relay
    finally:
        relay.stop()
