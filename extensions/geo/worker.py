"""The geo worker: follows Keycloak's REGISTER events and gives each new user the
`country` and `timezone` of the address they registered from, where the user has none.

Each event is applied exactly once, across restarts and with several workers on one
store:

- A cursor in the store (the time of the newest event handled; lower while an older
  one is still unresolved) says where to read from after a restart. Every poll reads
  the REGISTER events from `overlap_seconds` before it, since an event becomes readable
  only when Keycloak commits it, possibly after newer ones, and events of one
  millisecond come in no fixed order.
- Re-reading is harmless because each event is settled in the store: a worker takes a
  short lease on it (`hit` with limit 1, which one worker alone wins), applies it, and
  marks it done for longer than Keycloak keeps events. An event another worker holds
  stays unresolved here until that one marks it done, or its lease runs out (it
  crashed) and this worker takes it over.
- Attributes are written only where empty, so the rare second application (a worker
  stalled past its lease) changes nothing either.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import Enum
from typing import Any

from extensions.geo.lookup import GeoDatabase, Place
from extensions.geo.settings import GeoSettings
from idpack.errors import IdpackError
from idpack.heartbeat import Heartbeat
from idpack.keycloak.admin import KeycloakAdminClient, ServiceAccountLogin
from idpack.keycloak.errors import KeycloakRequestError
from idpack.keycloak.realm_admin import RealmAdmin
from idpack.keycloak.user_writes import UserWrites
from idpack.processes import set_on_signals
from idpack.store import Store, open_store

Json = dict[str, Any]
log = logging.getLogger("idpack.geo")

REGISTER = "REGISTER"
PAGE = 100
ONE_MILLISECOND_MAX = 10_000  # events of a single millisecond read in one request
DONE_SECONDS = 400 * 86400.0  # longer than Keycloak keeps events (MikroCloud: 90 days)
NAMESPACE = "geo"
DONE = "geo-done"
LOG_FORMAT = "%(asctime)s %(name)s %(message)s"


@dataclass(frozen=True)
class Applied:
    """What the worker wrote on one user's profile."""

    user_id: str
    country: str | None
    timezone: str | None
    ip_address: str
    event_time_ms: int  # when Keycloak recorded the registration
    applied_at: float  # epoch seconds, once Keycloak accepted the update

    def describe(self) -> str:
        parts = [f"{name} {value}" for name, value in
                 (("country", self.country), ("timezone", self.timezone)) if value]
        return f"user {self.user_id}: {', '.join(parts)} from {self.ip_address}"


class Outcome(Enum):
    SETTLED = "settled"  # applied now, or nothing to apply, or done before
    UNRESOLVED = "unresolved"  # another worker holds it; look again next poll


def missing_attributes(attributes: dict[str, list[str]] | None,
                       place: Place) -> dict[str, list[str]]:
    """The attributes to add: those the place knows and the user has left empty."""
    attributes = attributes or {}
    changes: dict[str, list[str]] = {}
    for name, value in (("country", place.country), ("timezone", place.timezone)):
        if value and not any(v.strip() for v in attributes.get(name) or []):
            changes[name] = [value]
    return changes


def read_events(fetch: Callable[[int, int | None, int], list[Json]],
                since_ms: int, page: int = PAGE) -> Iterator[Json]:
    """Every event from `since_ms` on, oldest first, through `fetch(since_ms, until_ms,
    limit)`. Pages are chained by time, not offset, because Keycloak orders by time
    alone: an offset could skip an event of a millisecond split between two pages.
    Events at a page's last millisecond may come twice."""
    while True:
        events = fetch(since_ms, None, page)
        yield from events
        if len(events) < page:
            return
        last = int(events[-1]["time"])
        if last > since_ms:
            since_ms = last
            continue
        # A whole page within one millisecond: read that millisecond in one request.
        yield from fetch(last, last, ONE_MILLISECOND_MAX)
        since_ms = last + 1


def event_key(event: Json) -> str:
    if event.get("id"):
        return str(event["id"])
    return f"{event['time']}:{event.get('userId')}:{event.get('ipAddress')}"


class GeoWorker:
    def __init__(self, api: RealmAdmin, places: Callable[[str], Place | None], store: Store,
                 *, overlap_seconds: float = 60.0, lease_seconds: float = 30.0,
                 on_applied: Callable[[Applied], None] | None = None) -> None:
        self.api = api
        self.places = places
        self.store = store
        self.writes = UserWrites(api, store)
        self.overlap_ms = int(overlap_seconds * 1000)
        self.lease_seconds = lease_seconds
        self.on_applied = on_applied
        self.applied_count = 0
        self._cursor_key = f"cursor:{api.name}"
        self._cursor: int | None = None  # every event before it is settled
        self._settled: dict[str, int] = {}  # event key -> time, for the overlap re-read

    def poll(self) -> list[Applied]:
        """Read the REGISTER events since the cursor and settle each."""
        if self._cursor is None:
            saved = self.store.get(NAMESPACE, self._cursor_key)
            self._cursor = int(saved["time"]) if saved else 0  # 0: every event kept
        since = max(0, self._cursor - self.overlap_ms)
        newest, oldest_unresolved = self._cursor, None
        applied: list[Applied] = []

        def fetch(since_ms: int, until_ms: int | None, limit: int) -> list[Json]:
            return self.api.events([REGISTER], since_ms, until_ms=until_ms, limit=limit)

        for event in read_events(fetch, since):
            at = int(event["time"])
            newest = max(newest, at)
            outcome = self._settle(event, applied)
            if outcome is Outcome.UNRESOLVED:
                oldest_unresolved = at if oldest_unresolved is None \
                    else min(oldest_unresolved, at)
        cursor = newest if oldest_unresolved is None else min(newest, oldest_unresolved)
        if cursor != self._cursor:
            self.store.put(NAMESPACE, self._cursor_key, {"time": cursor}, DONE_SECONDS)
            self._cursor = cursor
        horizon = since - self.overlap_ms
        self._settled = {k: t for k, t in self._settled.items() if t >= horizon}
        return applied

    def _settle(self, event: Json, applied: list[Applied]) -> Outcome:
        key = event_key(event)
        if key in self._settled:
            return Outcome.SETTLED
        if self.store.get(DONE, key) is None:
            if not self.store.hit(f"geo-lease:{key}", self.lease_seconds, 1).allowed:
                return Outcome.UNRESOLVED
            # Settled by another worker between our look and our lease?
            if self.store.get(DONE, key) is None:
                result = self._apply(event)
                self.store.put(DONE, key, {"user": event.get("userId")}, DONE_SECONDS)
                if result is not None:
                    applied.append(result)
        self._settled[key] = int(event["time"])
        return Outcome.SETTLED

    def _apply(self, event: Json) -> Applied | None:
        address, user_id = str(event.get("ipAddress") or ""), str(event.get("userId") or "")
        place = self.places(address) if address and user_id else None
        if place is None:
            return None
        try:
            # Only what it adds, in a turn with the sidecar's writes to the same new user
            # (idpack/keycloak/user_writes.py).
            changes = self.writes.set_attributes(
                user_id, lambda user: missing_attributes(user.get("attributes"), place))
        except KeycloakRequestError as exc:
            if exc.status in (401, 403) or exc.status >= 500:
                raise  # our access or Keycloak itself: retried once the lease runs out
            log.warning("user %s: Keycloak refused the country and time zone of %s: %s",
                        user_id, address, exc.reason)
            return None
        if not changes:
            return None  # gone since, or nothing left to fill
        result = Applied(user_id, next(iter(changes.get("country", [])), None),
                         next(iter(changes.get("timezone", [])), None), address,
                         int(event["time"]), time.time())
        self.applied_count += 1
        log.info("%s", result.describe())
        if self.on_applied is not None:
            self.on_applied(result)
        return result


def connect(settings: GeoSettings) -> RealmAdmin:
    client = KeycloakAdminClient.for_service_account(
        settings.keycloak_url,
        ServiceAccountLogin(settings.realm, settings.client_id, settings.client_secret),
        timeout=settings.keycloak_timeout, pool_size=2)
    return client.realm(settings.realm)


def run(settings: GeoSettings, stop_event: threading.Event,
        on_applied: Callable[[Applied], None] | None = None) -> int:
    """Poll until `stop_event` is set; the number of users updated."""
    database = GeoDatabase(settings.database)
    log.info("geo worker: realm %s at %s, %s (%s), polling every %.1f s", settings.realm,
             settings.keycloak_url, database.describe(), settings.database,
             settings.poll_seconds)
    worker = GeoWorker(connect(settings), database.place, open_store(settings.store),
                       overlap_seconds=settings.overlap_seconds,
                       lease_seconds=settings.lease_seconds, on_applied=on_applied)
    heartbeat = Heartbeat(settings.heartbeat_file)
    failures = 0
    try:
        while not stop_event.is_set():
            try:
                worker.poll()
                heartbeat.beat()  # `idpack health geo-worker` reads it
                failures = 0
            except IdpackError as exc:
                failures += 1
                log.warning("geo worker: %s", exc)
            except Exception:  # a store or network hiccup must not end the worker
                failures += 1
                log.exception("geo worker: poll failed")
            stop_event.wait(min(30.0, settings.poll_seconds * 2 ** min(failures, 6)))
    finally:
        database.close()
    return worker.applied_count


def serve(settings: GeoSettings) -> int:
    """`idpack geo-worker`: run in the foreground until SIGINT or SIGTERM."""
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT)
    stop = threading.Event()

    set_on_signals(stop, signal.SIGINT, signal.SIGTERM)
    count = run(settings, stop)
    log.info("geo worker stopped; %d user(s) updated", count)
    return 0
