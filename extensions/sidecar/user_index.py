"""Every username of the realm with its user id, UCloud role and uid, in a table that the
workers of a replica (SQLite) or all replicas (Redis) share, so that lookupUsers answers
a hundred names without a hundred Keycloak requests, and the cost to Keycloak grows with
the changes, not with the directory times the workers.

One follower at a time (whichever worker holds the table's lease) keeps it:
- builds it once, a page of users at a time, applying events between pages, so what the
  table holds is current even while it is incomplete; a build cut off goes on where it
  stopped, and a restarted sidecar finds the table built and only catches up;
- then applies the realm's admin events and REGISTER events every `poll_seconds`: a
  creation, deletion, rename or role change each costs nothing or one request
  (events.py), whatever the directory's size;
- and checks the table against Keycloak in the background, one page of users every
  `scan_seconds`, so drift that no event told of (a user deleted in the database) heals
  at a bounded rate; the same pages find the users who have yet to accept a newer
  service licence than theirs (licence.py).

A lookup reads the table. A name it lacks either does not exist or was made after the
last applied event; one read of each event stream since then (two requests, however
many names) settles them all. Lookups share such reads: one that began at most
`fresh_seconds` (1 s) before a lookup answers it, and under steady load the next read
starts in the background before that runs out, so lookups do not wait for Keycloak and
a worker reads the events at most twice a second, however many lookups it serves. A
user made elsewhere than this sidecar (the hosted registration page, the Admin API)
therefore shows within about a second; one made through this sidecar shows at once
(`remember`); a uid is never handed out without a read begun after it was asked for
(`new_uids`). While the table is incomplete, or the follower has fallen behind, the
names it lacks are asked of Keycloak one by one: slower, never wrong."""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import redis

from extensions.sidecar.index import events as ev
from extensions.sidecar.index.table import Entry, IndexState, IndexTable, uid_of
from extensions.sidecar.licence import REQUIRED_ACTION, Licence
from extensions.sidecar.roles import PRECEDENCE, PRIVILEGED, Role, ucloud_role
from idpack.errors import IdpackError
from idpack.keycloak.errors import KeycloakRequestError
from idpack.keycloak.realm_admin import RealmAdmin
from idpack.keycloak.user_writes import UserWrites

log = logging.getLogger("idpack.sidecar.index")
Json = dict[str, Any]
Answer = Entry | None
Resolver = Callable[[list[str]], dict[str, Answer]]
# The privileged roles, least to most, so the most privileged one is written last.
LOADED_ROLES = tuple(role for role in reversed(PRECEDENCE) if role in PRIVILEGED)
EVENT_PAGE = 5000
MAX_WAITING = 1000  # users waiting for their uid; the background check adds no more


@dataclass(frozen=True)
class IndexTiming:
    poll_seconds: float = 2.5  # events read every ...: 0.8 requests a second
    scan_seconds: float = 10.0  # one page of the background check every ...
    scan_page: int = 200
    build_page: int = 5000
    lease_seconds: float = 15.0
    overlap_ms: int = 5000  # events re-read, in case one committed late
    stale_seconds: float = 30.0  # a follower silent this long: lookups ask Keycloak
    settle_ms: int = 6000  # an entry changed this recently is checked against the events
    # A lookup may answer from a read of the events that began this long before it: a user
    # made elsewhere than this sidecar shows within that (one made here shows at once).
    fresh_seconds: float = 1.0
    describe_per_step: int = 20  # new users given uid and UCloud attributes a turn
    backfill: bool = False  # the check also queues users from before uids (one-off)
    describe_seconds: float = 2.0  # at most this long describing, a turn
    max_cursor_age_seconds: float = 6 * 24 * 3600  # past this, events may be expired


class UserIndex:
    def __init__(self, api: RealmAdmin, table: IndexTable, role_of: Callable[[str], Role],
                 resolve: Resolver, timing: IndexTiming | None = None,
                 licence: Callable[[], Licence | None] = lambda: None,
                 writes: UserWrites | None = None) -> None:
        self.api = api
        self.writes = writes or UserWrites(api)
        self._licence = licence
        self.table = table
        self._role_of = role_of
        self._resolve = resolve
        self.timing = timing or IndexTiming()
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
        self._realm_id: str | None = None
        self._last_scan = time.monotonic()  # the first check page after scan_seconds
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._recent = SharedRead(self._recent_creations)
        self._readers = ThreadPoolExecutor(1, thread_name_prefix="index-events")

    # Reading

    def lookup(self, usernames: Iterable[str]) -> dict[str, Answer]:
        """The entry of each name, None for a name nobody has."""
        names = list(dict.fromkeys(usernames))
        lowered = {name: name.lower() for name in names}
        found = self.table.get_many(lowered.values())
        answers: dict[str, Answer] = {}
        missing: list[str] = []
        settling: dict[str, Entry] = {}
        recently = int(time.time() * 1000) - self.timing.settle_ms
        for name in names:
            entry = found.get(lowered[name])
            if entry is None:
                missing.append(name)
            elif entry.changed_ms > recently:  # more of its events may be on their way
                settling[name] = entry
            else:
                answers[name] = entry
        if missing or settling:
            answers |= self._settle(missing, settling)
        return answers

    def _settle(self, missing: list[str], settling: dict[str, Entry]) -> dict[str, Answer]:
        state = self.table.state()
        lag = time.time() - state.updated_ms / 1000
        try:
            recent = self._recent.get(self.timing.fresh_seconds) \
                if state.complete and lag < self.timing.stale_seconds else None
        except IdpackError:
            if missing:
                raise  # whether they exist, only Keycloak can say: 503
            return dict(settling)  # Keycloak down: the table's answer beats none
        if recent is None:
            return self._resolve([*missing, *settling])
        answers: dict[str, Answer] = {name: recent.made.get(name.lower()) for name in missing}
        for name, entry in settling.items():
            if entry.user_id in recent.deleted:
                answers[name] = None
            elif entry.user_id in recent.roles_changed:
                answers[name] = Entry(entry.username, entry.user_id,
                                      self._role_of(entry.user_id), entry.uid)
            else:
                answers[name] = recent.made.get(entry.username, entry)
        return answers

    def new_uids(self, count: int) -> list[int]:
        """uids for new users, never one a user holds: from the table's counter, which
        never goes below a uid the table holds nor one the events since its cursors
        name (a user given a uid a moment ago, or before a Redis that lost its last
        second of writes rolled the table and its cursors back together). Keycloak's
        own search by attribute cannot serve here: it reads every user (18 s at a
        million, README "Scale")."""
        recent = self._recent.get()
        if recent is None:
            log.warning("uids from the counter alone: the events since the index's "
                        "cursors could not be read in one page")
        highest = recent.highest_uid if recent is not None else 0
        return self.table.next_uids(count, at_least=highest + 1)

    def remember(self, entries: Iterable[Entry]) -> None:
        """Users this sidecar just made: in the table at once (their events follow)."""
        now = int(time.time() * 1000)
        self.table.put_many(e.stamped(now) for e in entries)

    def _recent_creations(self) -> Recent | None:
        """What the events since the table's cursors say: the users made and still
        there, by name, the users deleted, and those whose roles changed; one read of
        each event stream. None when those reads cannot settle it (too many events, or
        events without the names), so the caller asks Keycloak name by name."""
        state = self.table.state()
        # Both streams at once: a lookup waits for the slower read, not for both.
        admin_read = self._readers.submit(
            self.api.admin_events, max(0, state.admin_cursor - self.timing.overlap_ms),
            ev.ADMIN_RESOURCE_TYPES, limit=EVENT_PAGE)
        users = self.api.events(ev.USER_EVENT_TYPES,
                                max(0, state.user_cursor - self.timing.overlap_ms),
                                limit=EVENT_PAGE)
        admin = admin_read.result()
        if len(admin) >= EVENT_PAGE or len(users) >= EVENT_PAGE:
            return None
        made: dict[str, tuple[str, set[str]]] = {}  # id -> (name, realm roles)
        uids: dict[str, int | None] = {}
        deleted: set[str] = set()
        roles_changed: set[str] = set()
        highest_uid = 0
        for event in sorted([*map(ev.admin_event, admin), *map(ev.user_event, users)],
                            key=lambda e: e.time):
            change = event.change
            if isinstance(change, ev.Created | ev.Updated) and change.uid is not None:
                highest_uid = max(highest_uid, change.uid)
            if isinstance(change, ev.Created):
                if change.username is None:
                    log.warning("an admin event of a new user has no representation: turn "
                                "on adminEventsDetailsEnabled (realm-config does), or "
                                "unknown names are asked of Keycloak one by one")
                    return None
                made[change.user_id] = (change.username, set(change.roles))
                uids[change.user_id] = change.uid
            elif isinstance(change, ev.Deleted):
                made.pop(change.user_id, None)
                deleted.add(change.user_id)
            elif isinstance(change, ev.RolesChanged) and change.user_id not in made:
                roles_changed.add(change.user_id)
            elif isinstance(change, ev.RolesChanged):
                if change.added is None or change.removed is None:
                    name, _ = made[change.user_id]
                    made[change.user_id] = (name, {self._role_of(change.user_id).value})
                else:
                    name, roles = made[change.user_id]
                    made[change.user_id] = (name, (roles | set(change.added))
                                            - set(change.removed))
            elif isinstance(change, ev.Updated) and change.user_id in made:
                if change.username:
                    made[change.user_id] = (change.username, made[change.user_id][1])
                if change.uid is not None:
                    uids[change.user_id] = change.uid
        return Recent({name: Entry(name, user_id, ucloud_role(roles | {Role.USER.value}),
                                   uids.get(user_id))
                       for user_id, (name, roles) in made.items()}, deleted, roles_changed,
                      highest_uid)

    def by_uid(self, uids: Iterable[int]) -> dict[int, Entry | None] | None:
        """The entry of each uid, None for a uid nobody holds; None altogether while
        the index cannot say (incomplete, or its follower behind)."""
        wanted = list(dict.fromkeys(uids))
        state = self.table.state()
        lag = time.time() - state.updated_ms / 1000
        if not state.complete or lag >= self.timing.stale_seconds:
            return None
        found = self.table.by_uid(wanted)
        return {uid: found.get(uid) for uid in wanted}

    def status(self) -> Json:
        state = self.table.state()
        return {"users": self.table.count(), "complete": state.complete,
                "waitingForUid": len(state.to_describe),
                "lagSeconds": round(max(0.0, time.time() - state.updated_ms / 1000), 1)
                if state.updated_ms else None}

    # Following

    def start(self) -> None:
        """Follow in the background (in every worker; the lease picks one)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._follow, name="user-index",
                                            daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)
        self.table.release(self.holder)

    def _follow(self) -> None:
        while not self._stop.is_set():
            building = False
            try:
                if self.table.lease(self.holder, self.timing.lease_seconds):
                    self.step()
                    building = not self.table.state().complete
            except (IdpackError, OSError, KeyError, ValueError) as exc:
                log.warning("user index not current: %s", exc)
            except (redis.ConnectionError, redis.TimeoutError) as exc:
                log.warning("user index not current: its Redis is unavailable (%s)", exc)
            except Exception:
                log.exception("user index follower failed; trying again")
            if not building:  # a build goes on page after page
                self._stop.wait(self.timing.poll_seconds)

    def step(self) -> None:
        """One turn of the follower: a page of the build (until complete), the events
        since the cursors, and now and then a page of the background check."""
        state = self._fresh_state()
        self.table.cycle = state.scan_cycle
        if not state.complete:
            self._build_page(state)
        self._apply_events(state)
        self.table.save_state(state)  # current now: what follows must not look like lag
        self._describe_some(state)
        if state.complete and time.monotonic() - self._last_scan >= self.timing.scan_seconds:
            self._last_scan = time.monotonic()
            self._scan_page(state)
        self.table.save_state(state)

    def catch_up(self) -> None:
        """Steps until the table is complete and current (tests, and a first start)."""
        while True:
            self.step()
            if self.table.state().complete:
                return

    def _fresh_state(self) -> IndexState:
        state = self.table.state()
        if self._realm_id is None:
            self._realm_id = str(self.api.get()["id"])
        now_ms = int(time.time() * 1000)
        too_old = (state.complete and now_ms - state.admin_cursor
                   > self.timing.max_cursor_age_seconds * 1000)
        if state.realm_id != self._realm_id or too_old:
            if state.realm_id:
                log.warning("user index rebuilt: %s", "events since its cursor may have "
                            "expired" if too_old else "the realm is another one")
            self.table.clear()
            # Events from just before the first page on: nothing falls between the two.
            state = IndexState(realm_id=self._realm_id, admin_cursor=now_ms - 1000,
                               user_cursor=now_ms - 1000, updated_ms=now_ms)
            log.info("building the user index")
        return state

    def _build_page(self, state: IndexState) -> None:
        started = time.monotonic()
        page = self.api.users_page(state.build_offset, self.timing.build_page)
        self.table.put_many(Entry(u["username"], u["id"], Role.USER, uid_of(u)) for u in page)
        state.build_offset += len(page)
        if len(page) < self.timing.build_page:
            for role in LOADED_ROLES:
                members = self.api.role_members(role.value)
                known = self.table.get_many(str(m["username"]) for m in members)
                self.table.put_many(Entry(e.username, e.user_id, role, e.uid)
                                    for e in known.values())
            state.complete = True
            log.info("user index complete: %d users", self.table.count())
        else:
            log.info("user index: %d users read (%.1f s a page)", state.build_offset,
                     time.monotonic() - started)

    def _apply_events(self, state: IndexState) -> None:
        seen = set(state.seen)
        fresh: list[ev.Event] = []
        window: set[str] = set()  # ids the next read's overlap will show again
        for stream in ("admin", "user"):
            cursor = state.admin_cursor if stream == "admin" else state.user_cursor
            since = max(0, cursor - self.timing.overlap_ms)
            events = self._read_all(stream, since)
            fresh += [e for e in events if e.id not in seen]
            newest = max([cursor, *(e.time for e in events)])
            window |= {e.id for e in events if e.time >= newest - self.timing.overlap_ms}
            if stream == "admin":
                state.admin_cursor = newest
            else:
                state.user_cursor = newest
        for event in sorted(fresh, key=lambda e: e.time):
            if event.change is not None:
                self._apply(event.change, state)
        state.seen = sorted(window)
        state.updated_ms = int(time.time() * 1000)

    def _read_all(self, stream: str, since: int) -> list[ev.Event]:
        read: list[ev.Event] = []
        while True:
            if stream == "admin":
                page = [ev.admin_event(e) for e in self.api.admin_events(
                    since, ev.ADMIN_RESOURCE_TYPES, first=len(read), limit=EVENT_PAGE)]
            else:
                page = [ev.user_event(e) for e in self.api.events(
                    ev.USER_EVENT_TYPES, since, first=len(read), limit=EVENT_PAGE)]
            read += page
            if len(page) < EVENT_PAGE:
                return read

    def _apply(self, change: ev.Change, state: IndexState) -> None:
        if isinstance(change, ev.Deleted):
            self.table.forget([change.user_id])
        elif isinstance(change, ev.Created):
            if change.username is None:
                self._refresh(change.user_id)
                return
            roles = set(change.roles) | {Role.USER.value}
            entry = Entry(change.username, change.user_id, ucloud_role(roles), change.uid,
                          _now_ms())
            self.table.put_many([entry])
            if entry.uid is None or not change.described:
                state.to_describe.append([change.user_id, change.provider or ""])
        elif isinstance(change, ev.RolesChanged):
            name = self.table.name_of(change.user_id)
            if name is None:
                return  # deleted since, or made by an event still to come
            entry = self.table.get_many([name])[name]
            try:
                role = self._role_of(change.user_id)
            except KeycloakRequestError as exc:
                if exc.status == 404:
                    return
                raise
            if role != entry.role:
                self.table.put_many([Entry(entry.username, entry.user_id, role, entry.uid,
                                           _now_ms())])
                state.to_describe.append([change.user_id, ""])
        elif isinstance(change, ev.Updated):
            name = self.table.name_of(change.user_id)
            if name is None:
                self._refresh(change.user_id)
                return
            entry = self.table.get_many([name])[name]
            self.table.put_many([Entry(change.username or entry.username, entry.user_id,
                                       entry.role,
                                       change.uid if change.uid is not None else entry.uid,
                                       _now_ms())])

    def _describe_some(self, state: IndexState) -> None:
        """A few of the users waiting for their UCloud attributes, oldest first: a burst
        of new users costs Keycloak a bounded rate, and applying events never waits."""
        batch = state.to_describe[:self.timing.describe_per_step]
        deadline = time.monotonic() + self.timing.describe_seconds
        done = 0
        for user_id, provider in batch:
            if time.monotonic() > deadline:
                break  # the rest next turn: a turn stays short whatever Keycloak's pace
            name = self.table.name_of(user_id)
            entry = self.table.get_many([name]).get(name) if name else None
            if entry is not None:
                self._describe(entry, provider or None)
            done += 1
        del state.to_describe[:done]

    def _describe(self, entry: Entry, provider: str | None = None) -> None:
        """Give a user what UCloud's tokens and RPCs read (the ucloud-claims scope): a
        uid if it has none, its UCloud role, and how it signs in. One read and one
        write of the user, once per new user and per role change."""
        held: dict[str, list[str]] = {}

        def wanted(user: dict[str, Any]) -> dict[str, list[str]]:
            held.update(user.get("attributes") or {})
            wanted = {"ucloudRole": [entry.role.value]}
            if not held.get("uid"):
                wanted["uid"] = [str(self.new_uids(1)[0])]
            if not held.get("principalType"):
                wanted["principalType"] = ["wayf" if provider == "wayf" else "password"]
            return wanted

        changes = self.writes.set_attributes(entry.user_id, wanted)
        if not changes:
            return  # gone, or nothing to change
        uid_text = (changes.get("uid") or held.get("uid") or ["0"])[0]
        self.table.put_many([Entry(entry.username, entry.user_id, entry.role,
                                   int(uid_text) or None, entry.changed_ms)])

    def _refresh(self, user_id: str) -> None:
        """Read one user whose event did not say enough."""
        try:
            user = self.api.user(user_id)
            role = self._role_of(user_id)
        except KeycloakRequestError as exc:
            if exc.status != 404:
                raise
            self.table.forget([user_id])
            return
        self.table.put_many([Entry(str(user["username"]), user_id, role, uid_of(user),
                                   _now_ms())])

    def _scan_page(self, state: IndexState) -> None:
        """Compare one page of Keycloak's users with the table and mend what differs;
        mark the entries seen. At the end of a round, an entry no page and no event
        marked is asked about: gone from Keycloak without an event, it is removed."""
        page = self.api.users_page(state.scan_offset, self.timing.scan_page, brief=False)
        held = self.table.get_many(str(u["username"]) for u in page)
        licence = self._licence()
        for user in page:
            entry = held.get(str(user["username"]))
            if entry is None or entry.user_id != user["id"]:
                log.info("user index mended: %s was missing", user["username"])
                self._refresh(str(user["id"]))
            attributes = user.get("attributes") or {}
            if licence is not None and licence.needs_acceptance(user):
                # A newer service licence than the user accepted: Keycloak asks them at
                # the next sign-in (extensions/sidecar/licence.py).
                self.writes.add_required_action(str(user["id"]), REQUIRED_ACTION)
                log.info("%s is to accept service licence version %d at the next sign-in",
                         user["username"], licence.current)
            # Users from before uids (and UCloud's attributes): the one-off backfill, when
            # asked for, at the pace of this check, through the same queue as new users
            # (about 20 Keycloak requests a second while it runs).
            if self.timing.backfill and len(state.to_describe) < MAX_WAITING \
                    and not all(attributes.get(k) for k in ("uid", "ucloudRole",
                                                            "principalType")):
                state.to_describe.append([str(user["id"]), ""])
        self.table.stamp([str(u["username"]) for u in page], state.scan_cycle)
        if len(page) == self.timing.scan_page:
            state.scan_offset += len(page)
            return
        for entry in self.table.unstamped(state.scan_cycle):
            log.info("user index: checking %s, which the last round did not see",
                     entry.username)
            self._refresh(entry.user_id)
        state.scan_offset = 0
        state.scan_cycle += 1
        self.table.cycle = state.scan_cycle


@dataclass(frozen=True)
class Recent:
    made: dict[str, Entry]  # by username
    deleted: set[str]  # user ids
    roles_changed: set[str]  # user ids, made before the cursors
    highest_uid: int  # the highest uid the events name


class SharedRead:
    """One read at a time, shared. A strict caller (`get()`) gets the result of the first
    read that began after it called, so nothing made before the call is missed, and
    callers arriving while a read runs wait for one more read together instead of one
    each. A caller that accepts `fresh_within` seconds of staleness gets the last read if
    it began that recently, at once; past half that age the first such caller also
    starts the next read in the background, so under steady load nobody waits and
    Keycloak sees at most two reads a `fresh_within`, whatever the number of calls."""

    def __init__(self, read: Callable[[], Recent | None],
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._read = read
        self._clock = clock
        self._cond = threading.Condition()
        self._started = self._finished = 0
        self._running = False
        self._began = 0.0  # when the read whose result is kept began
        self._result: Recent | None = None
        self._error: BaseException | None = None

    def get(self, fresh_within: float = 0.0) -> Recent | None:
        with self._cond:
            age = self._clock() - self._began
            if fresh_within > 0 and self._finished and self._error is None \
                    and age <= fresh_within:
                if age > fresh_within / 2 and not self._running:
                    ticket = self._begin()
                    threading.Thread(target=self._run, args=ticket, daemon=True,
                                     name="index-events-ahead").start()
                return self._result
            need = self._started + 1
            while True:
                if self._finished >= need:
                    if self._error is not None:
                        raise self._error
                    return self._result
                if not self._running:
                    break
                self._cond.wait()
            ticket = self._begin()
        result, error = self._run(*ticket)
        if error is not None:
            raise error
        return result

    def _begin(self) -> tuple[int, float]:
        """(Under the lock.) The next read's number and start."""
        self._running = True
        self._started += 1
        return self._started, self._clock()

    def _run(self, number: int, began: float) -> tuple[Recent | None, BaseException | None]:
        result: Recent | None = None
        error: BaseException | None = None
        try:
            result = self._read()
        except BaseException as exc:  # handed to the callers waiting for this read
            error = exc
        with self._cond:
            self._finished, self._began = number, began
            self._result, self._error = result, error
            self._running = False
            self._cond.notify_all()
        return result, error


def _now_ms() -> int:
    return int(time.time() * 1000)

