"""The relay's Prometheus metrics, on a port of their own (IDPACK_RELAY_METRICS_PORT,
default 9025, 0 to turn off):

    idpack_relay_accepted_total                 messages answered 250
    idpack_relay_refused_total{reason=...}      messages refused, by reason
    idpack_relay_delivered_total                recipients the upstream took
    idpack_relay_deferred_total                 recipient attempts deferred (4xx, no connection)
    idpack_relay_dead_lettered_total            recipients given up on (5xx, too old)
    idpack_relay_queue_depth                    messages waiting in the queue
    idpack_relay_store_available                1, or 0 while the shared store is away
    idpack_relay_store_journaled                short links waiting to be written into it

Each relay has a registry of its own, so several can live in one process (tests). The
delivery counts are the delivery worker's (another process): read from its stats file
(mail.delivery.DeliveryStats) when scraped."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from threading import Thread
from typing import Any
from wsgiref.simple_server import WSGIServer

from prometheus_client import CollectorRegistry, Counter, Gauge, start_http_server
from prometheus_client.core import CounterMetricFamily
from prometheus_client.registry import Collector

from mail.delivery import DeliveryStats

# Refusal reasons: one short label per rule in checks.py, pipeline.py and server.py.
REASONS = ("client-network", "auth", "sender-domain", "recipient", "too-many-recipients",
           "too-big", "smuggling", "from-count", "from-address", "from-domain",
           "duplicate-header", "header-injection", "rate-limit", "fault")


class _DeliveryCollector(Collector):
    def __init__(self, stats_file: Path) -> None:
        self.stats_file = stats_file

    def collect(self) -> Iterator[CounterMetricFamily]:
        stats = DeliveryStats.load(self.stats_file)
        yield CounterMetricFamily("idpack_relay_delivered", "Recipients delivered upstream",
                                  value=stats.delivered)
        yield CounterMetricFamily("idpack_relay_deferred",
                                  "Recipient attempts deferred (4xx or no connection)",
                                  value=stats.deferred)
        yield CounterMetricFamily("idpack_relay_dead_lettered",
                                  "Recipients dead-lettered (5xx or too old)",
                                  value=stats.dead_lettered)


class RelayMetrics:
    def __init__(self, delivery_stats: Path | None = None) -> None:
        self.registry = CollectorRegistry()
        self.accepted = Counter("idpack_relay_accepted", "Messages accepted (answered 250)",
                                registry=self.registry)
        self.refused = Counter("idpack_relay_refused", "Messages refused, by reason",
                               ["reason"], registry=self.registry)
        for reason in REASONS:  # every series exists from the start, at 0
            self.refused.labels(reason)
        if delivery_stats is not None:
            self.registry.register(_DeliveryCollector(delivery_stats))
        self.queue_depth = Gauge("idpack_relay_queue_depth", "Messages waiting in the queue",
                                 registry=self.registry)

    def watch_queue(self, depth: Callable[[], float]) -> None:
        """Read the queue depth when scraped, not on every message."""
        self.queue_depth.set_function(depth)

    def watch_store(self, status: Callable[[], dict[str, Any]]) -> None:
        """The shared store's state (idpack.store.fallback), read when scraped."""
        Gauge("idpack_relay_store_available", "1 while the shared store answers, else 0",
              registry=self.registry).set_function(lambda: float(status()["available"]))
        Gauge("idpack_relay_store_journaled",
              "Writes (short links) waiting for the shared store to come back",
              registry=self.registry).set_function(lambda: float(status()["journaled"]))

    def serve(self, host: str, port: int) -> tuple[WSGIServer, Thread]:
        return start_http_server(port, addr=host, registry=self.registry)
