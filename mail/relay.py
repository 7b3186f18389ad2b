"""`idpack relay`: the SMTP server and the delivery worker, in one process."""

from __future__ import annotations

import logging
import signal
import threading
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from urllib.parse import urlsplit

from aiosmtpd.controller import Controller

from idpack.errors import IdpackError
from idpack.store import open_store
from mail.delivery import Backoff, MaildirUpstream, SmtpUpstream, Upstream, deliver_due
from mail.dkim_keys import load
from mail.links import LinkRewriter
from mail.pipeline import Pipeline
from mail.server import RelayHandler
from mail.settings import RelaySettings
from mail.signing import Signer
from mail.spool import Spool

log = logging.getLogger("idpack.relay")


def upstream_of(settings: RelaySettings) -> Upstream:
    if settings.upstream.startswith("maildir:"):
        return MaildirUpstream(Path(settings.upstream.removeprefix("maildir:")))
    parts = urlsplit(settings.upstream)
    if parts.scheme != "smtp" or not parts.hostname:
        raise IdpackError(f"IDPACK_RELAY_UPSTREAM={settings.upstream!r}: use "
                          "smtp://host:port or maildir:/path")
    return SmtpUpstream(parts.hostname, parts.port or 25, starttls=settings.upstream_starttls,
                        verify_certificates=settings.upstream_verify,
                        username=settings.upstream_user, password=settings.upstream_password)


@dataclass
class Relay:
    settings: RelaySettings
    spool: Spool
    pipeline: Pipeline
    upstream: Upstream
    backoff: Backoff
    controller: Controller | None = None
    stopping: threading.Event = field(default_factory=threading.Event)

    @classmethod
    def build(cls, settings: RelaySettings, backoff: Backoff | None = None) -> Relay:
        keys = load(settings.dkim_keys_dir, settings.dkim_selector)  # refuse to start without
        store = open_store(settings.store)
        spool = Spool(settings.spool_dir)
        links = LinkRewriter(store, settings.short_link_base, settings.short_link_hosts)
        pipeline = Pipeline(settings.domains, links, store,
                            Signer(keys, sorted(settings.domains)[0]), spool,
                            settings.verify_limit)
        return cls(settings, spool, pipeline, upstream_of(settings), backoff or Backoff())

    def start(self) -> None:
        self.controller = Controller(
            RelayHandler(self.pipeline, self.settings.networks), hostname=self.settings.host,
            port=self.settings.port, server_hostname=self.settings.hostname,
            data_size_limit=self.settings.max_size, ident="idpack relay")
        self.controller.start()
        log.info("relay %s listening on %s:%d, delivering to %s", self.settings.hostname,
                 self.settings.host, self.settings.port, self.settings.upstream)

    def deliver_forever(self, interval: float = 1.0) -> None:
        while not self.stopping.is_set():
            deliver_due(self.spool, self.upstream, self.backoff)
            self.stopping.wait(interval)

    def stop(self) -> None:
        self.stopping.set()
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


def serve(settings: RelaySettings) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    relay = Relay.build(settings)
    relay.start()

    def stop(signum: int, frame: FrameType | None) -> None:
        relay.stopping.set()

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, stop)
    try:
        relay.deliver_forever()
    finally:
        relay.stop()
        log.info("relay stopped; %d message(s) still queued", len(relay.spool.queued()))
