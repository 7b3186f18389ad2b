"""`idpack relay`: the SMTP side (checks, links, signing, spool; and the metrics) in
this process, and the delivery worker in a child process of its own, as Postfix
splits smtpd from its queue manager: delivery never takes CPU (or the GIL) from
accepting mail, and a fault in one does not stop the other. They share only the spool
directory; the parent restarts the worker if it dies."""

from __future__ import annotations

import fcntl
import logging
import multiprocessing
import os
import signal
import threading
from dataclasses import astuple, dataclass, field
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from idpack.errors import IdpackError
from idpack.processes import die_with_parent, set_on_signals
from idpack.store import open_store
from mail.auth import Authenticator, Users, server_tls
from mail.delivery import (
    Backoff,
    DeliveryStats,
    MaildirUpstream,
    SmtpUpstream,
    Upstream,
    deliver_due,
)
from mail.dkim_keys import load
from mail.links import LinkRewriter
from mail.metrics import RelayMetrics
from mail.pipeline import AddressLimit, Pipeline
from mail.server import RelayController, RelayHandler
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
                        username=settings.upstream_user, password=settings.upstream_password,
                        helo_name=settings.hostname)


def backoff_of(settings: RelaySettings) -> Backoff:
    return Backoff(settings.backoff_first, settings.backoff_max, settings.max_age)


def _try_lock(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


@dataclass
class Delivery:
    """The delivery worker: passes over the due messages until stopped."""

    spool: Spool
    upstream: Upstream
    backoff: Backoff
    stopping: threading.Event = field(default_factory=threading.Event)

    @classmethod
    def build(cls, settings: RelaySettings) -> Delivery:
        return cls(Spool(settings.spool_dir, clean=False), upstream_of(settings),
                   backoff_of(settings))

    def run(self, interval: float = 1.0) -> None:
        # One worker per spool: a second (a restart while the old worker finishes its
        # pass, or two relays given one spool) waits here rather than send twice.
        with (self.spool.root / "delivery.lock").open("w") as lock:
            waited = False
            while not _try_lock(lock.fileno()):
                if not waited:
                    log.warning("another delivery worker holds %s; waiting for it", lock.name)
                    waited = True
                if self.stopping.wait(0.2):
                    return
            stats = DeliveryStats.load(self.spool.stats_file)
            while not self.stopping.is_set():
                before = astuple(stats)
                deliver_due(self.spool, self.upstream, self.backoff, stats=stats)
                if astuple(stats) != before:
                    stats.save(self.spool.stats_file)
                self.stopping.wait(interval)


@dataclass
class Relay:
    settings: RelaySettings
    spool: Spool
    pipeline: Pipeline
    upstream: Upstream
    backoff: Backoff
    metrics: RelayMetrics
    controller: RelayController | None = None
    metrics_server: Any = None
    stopping: threading.Event = field(default_factory=threading.Event)

    @classmethod
    def build(cls, settings: RelaySettings, backoff: Backoff | None = None) -> Relay:
        keys = load(settings.dkim_keys_dir, settings.dkim_selector)  # refuse to start without
        if settings.users_file is not None and settings.tls_cert is None:
            raise IdpackError(f"SMTP AUTH ({settings.users_file}) is only offered over "
                              "STARTTLS: set IDPACK_RELAY_TLS_CERT and IDPACK_RELAY_TLS_KEY")
        spool = Spool(settings.spool_dir)
        # While Redis is away, the short links of accepted mail wait in the spool's
        # volume and are written into Redis once it answers (idpack.store.fallback).
        store = open_store(settings.store, journal=spool.store_journal)
        links = LinkRewriter(store, settings.short_link_base, settings.short_link_hosts)
        metrics = RelayMetrics(spool.stats_file)
        metrics.watch_queue(spool.depth)
        metrics.watch_store(store.status)
        limits = (AddressLimit(settings.minute_limit, 60.0),
                  AddressLimit(settings.hour_limit, 3600.0))
        pipeline = Pipeline(settings.domains, links, store,
                            Signer(keys, sorted(settings.domains)[0]), spool, limits, metrics)
        return cls(settings, spool, pipeline, upstream_of(settings),
                   backoff or backoff_of(settings), metrics)

    def start(self) -> None:
        settings = self.settings
        smtp_options: dict[str, Any] = {}
        if settings.tls_cert is not None:
            smtp_options["tls_context"] = server_tls(settings.tls_cert,
                                                     settings.tls_key or settings.tls_cert)
        if settings.users_file is not None:
            smtp_options["authenticator"] = Authenticator(Users.load(settings.users_file))
            smtp_options["auth_require_tls"] = True
        self.controller = RelayController(
            RelayHandler(self.pipeline, settings.networks,
                         login_offered=settings.users_file is not None),
            hostname=settings.host, port=settings.port, server_hostname=settings.hostname,
            data_size_limit=settings.max_size, ident="idpack relay", **smtp_options)
        self.controller.start()
        threading.Thread(target=self.pipeline.store.catch_up_forever, args=(self.stopping,),
                         name="store-catch-up", daemon=True).start()
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
        """Deliver from this process (tests; `serve` runs a child process instead)."""
        Delivery(self.spool, self.upstream, self.backoff, self.stopping).run(interval)

    def stop(self) -> None:
        self.stopping.set()
        if self.controller is not None:
            self.controller.stop()
            self.controller = None
        if self.metrics_server is not None:
            self.metrics_server.shutdown()
            self.metrics_server.server_close()
            self.metrics_server = None


LOG_FORMAT = "%(asctime)s %(processName)s %(name)s %(message)s"


def _delivery_worker(settings: RelaySettings, parent: int) -> None:
    """The child process: deliver until SIGTERM (or the parent's death)."""
    die_with_parent()
    if os.getppid() != parent:  # the parent died before the line above took effect
        return
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT)
    delivery = Delivery.build(settings)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when to stop
    set_on_signals(delivery.stopping, signal.SIGTERM)
    delivery.run()


def _start_worker(settings: RelaySettings) -> BaseProcess:
    worker = multiprocessing.get_context("spawn").Process(
        target=_delivery_worker, args=(settings, os.getpid()), name="delivery")
    worker.start()
    return worker


def serve(settings: RelaySettings) -> None:
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT)
    relay = Relay.build(settings)  # cleans the spool's tmp/ before anything is accepted
    relay.start()
    worker = _start_worker(settings)

    set_on_signals(relay.stopping, signal.SIGINT, signal.SIGTERM)
    try:
        while not relay.stopping.wait(1.0):
            if not worker.is_alive():
                log.error("the delivery worker exited (code %s); starting it again",
                          worker.exitcode)
                worker = _start_worker(settings)
    finally:
        relay.stop()  # no more acceptance, then let the worker finish its pass
        worker.terminate()
        worker.join(60)
        if worker.is_alive():
            worker.kill()
        log.info("relay stopped; %d message(s) still queued", len(relay.spool.queued()))
