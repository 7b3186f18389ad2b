"""`idpack relay`: the SMTP server and the delivery worker, in one process."""

from __future__ import annotations

import logging
import signal
import threading
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any
from urllib.parse import urlsplit

from aiosmtpd.controller import Controller

from idpack.errors import IdpackError
from idpack.store import open_store
from mail.auth import Authenticator, Users, server_tls
from mail.delivery import Backoff, MaildirUpstream, SmtpUpstream, Upstream, deliver_due
from mail.dkim_keys import load
from mail.links import LinkRewriter
from mail.metrics import RelayMetrics
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
    metrics: RelayMetrics
    controller: Controller | None = None
    metrics_server: Any = None
    stopping: threading.Event = field(default_factory=threading.Event)

    @classmethod
    def build(cls, settings: RelaySettings, backoff: Backoff | None = None) -> Relay:
        keys = load(settings.dkim_keys_dir, settings.dkim_selector)  # refuse to start without
        if settings.users_file is not None and settings.tls_cert is None:
            raise IdpackError(f"SMTP AUTH ({settings.users_file}) is only offered over "
                              "STARTTLS: set IDPACK_RELAY_TLS_CERT and IDPACK_RELAY_TLS_KEY")
        store = open_store(settings.store)
        spool = Spool(settings.spool_dir)
        links = LinkRewriter(store, settings.short_link_base, settings.short_link_hosts)
        metrics = RelayMetrics()
        metrics.watch_queue(spool.depth)
        pipeline = Pipeline(settings.domains, links, store,
                            Signer(keys, sorted(settings.domains)[0]), spool,
                            settings.verify_limit, metrics)
        backoff = backoff or Backoff(settings.backoff_first, settings.backoff_max,
                                     settings.max_age)
        return cls(settings, spool, pipeline, upstream_of(settings), backoff, metrics)

    def start(self) -> None:
        settings = self.settings
        smtp_options: dict[str, Any] = {}
        if settings.tls_cert is not None:
            smtp_options["tls_context"] = server_tls(settings.tls_cert,
                                                     settings.tls_key or settings.tls_cert)
        if settings.users_file is not None:
            smtp_options["authenticator"] = Authenticator(Users.load(settings.users_file))
            smtp_options["auth_require_tls"] = True
        self.controller = Controller(
            RelayHandler(self.pipeline, settings.networks,
                         login_offered=settings.users_file is not None),
            hostname=settings.host, port=settings.port, server_hostname=settings.hostname,
            data_size_limit=settings.max_size, ident="idpack relay", **smtp_options)
        self.controller.start()
        if settings.metrics_port:
            self.metrics_server, _ = self.metrics.serve(settings.metrics_host,
                                                        settings.metrics_port)
        log.info("relay %s listening on %s:%d (%s), delivering to %s%s", settings.hostname,
                 settings.host, settings.port,
                 "STARTTLS and AUTH" if settings.users_file else
                 "STARTTLS" if settings.tls_cert else "no TLS", settings.upstream,
                 f"; metrics on http://{settings.metrics_host}:{settings.metrics_port}/metrics"
                 if settings.metrics_port else "")

    def deliver_forever(self, interval: float = 1.0) -> None:
        while not self.stopping.is_set():
            deliver_due(self.spool, self.upstream, self.backoff, metrics=self.metrics)
            self.stopping.wait(interval)

    def stop(self) -> None:
        self.stopping.set()
        if self.controller is not None:
            self.controller.stop()
            self.controller = None
        if self.metrics_server is not None:
            self.metrics_server.shutdown()
            self.metrics_server.server_close()
            self.metrics_server = None


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
