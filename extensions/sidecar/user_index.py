"""Every username of the realm with its user id and UCloud role, kept in memory, so that
lookupUsers answers a hundred names without a hundred Keycloak requests.

Keycloak has no batch read of users by name, and one exact-name search costs it about
6 ms of CPU: 100 names cannot be answered in 100 ms however the requests are spread.
So each sidecar worker loads the index (users in pages of 5,000, plus the members of
the privileged roles), follows Keycloak's admin events every few seconds (user created,
changed, deleted; role mappings changed) to keep it current, and reloads it whole every
few minutes as a safety net. A name the index does not know is looked up in Keycloak
directly (a user who just registered), and so is a user whose events arrived in the
last two poll intervals (a user is created, then given a role: an answer read between
the two would be stale until the next poll). So the index can only be late about
accounts deleted by their owners until the next reload."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable

from extensions.sidecar.roles import PRECEDENCE, PRIVILEGED, Role
from idpack.errors import IdpackError
from idpack.keycloak.errors import KeycloakRequestError
from idpack.keycloak.realm_admin import RealmAdmin

log = logging.getLogger("idpack.sidecar.index")
# The privileged roles, least to most, so the most privileged one is written last.
LOADED_ROLES = tuple(role for role in reversed(PRECEDENCE) if role in PRIVILEGED)
WATCHED = ["USER", "REALM_ROLE_MAPPING"]


class UserIndex:
    def __init__(self, api: RealmAdmin, role_of: Callable[[str], Role],
                 poll_seconds: float = 2.0, reload_seconds: float = 300.0) -> None:
        self.api = api
        self._role_of = role_of
        self.poll_seconds, self.reload_seconds = poll_seconds, reload_seconds
        self._lock = threading.Lock()
        self._ids: dict[str, str] = {}  # username -> user id
        self._names: dict[str, str] = {}  # user id -> username
        self._roles: dict[str, Role] = {}  # user id -> role
        self._settling: dict[str, float] = {}  # user id -> monotonic time it is trusted from
        self._loaded = False
        self._since_ms = 0
        self._seen_at_since: set[str] = set()  # ids of events at _since_ms, already applied
        self._thread: threading.Thread | None = None

    @property
    def loaded(self) -> bool:
        return self._loaded

    def start(self) -> None:
        """Load in the background and keep following; lookups work meanwhile."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._follow, name="user-index",
                                            daemon=True)
            self._thread.start()

    def lookup(self, usernames: Iterable[str],
               resolve_many: Callable[[list[str]], dict[str, tuple[str, Role] | None]],
               ) -> dict[str, tuple[str, Role] | None]:
        answers: dict[str, tuple[str, Role] | None] = {}
        missing: list[str] = []
        now = time.monotonic()
        with self._lock:
            for name in usernames:
                user_id = self._ids.get(name.lower()) if self._loaded else None
                if user_id is None or self._settling.get(user_id, 0.0) > now:
                    missing.append(name)
                else:
                    answers[name] = (user_id, self._roles.get(user_id, Role.USER))
        if missing:
            found = resolve_many(missing)
            with self._lock:
                for name, hit in found.items():
                    answers[name] = hit
                    if hit is not None:
                        self._put(name.lower(), hit[0], hit[1])
        return answers

    def load(self) -> None:
        started = time.monotonic()
        since_ms = int(time.time() * 1000) - 1000  # events from just before the read
        users = self.api.all_users()
        roles: dict[str, Role] = {}
        for role in LOADED_ROLES:
            for member in self.api.role_members(role.value):
                roles[member["id"]] = role
        with self._lock:
            self._ids = {u["username"]: u["id"] for u in users}
            self._names = {u["id"]: u["username"] for u in users}
            self._roles = roles
            self._since_ms = max(self._since_ms, since_ms)
            self._loaded = True
        log.info("indexed %d users in %.1f s", len(users), time.monotonic() - started)

    def poll(self) -> None:
        """Apply the admin events since the last poll."""
        # dateFrom is inclusive and several events can share a millisecond: remember the
        # ids applied at the newest one so they are neither missed nor applied twice.
        events = [e for e in self.api.admin_events(self._since_ms, WATCHED)
                  if not (int(e["time"]) == self._since_ms and e.get("id") in self._seen_at_since)]
        changed = {e["resourcePath"].split("/")[1] for e in events
                   if str(e.get("resourcePath", "")).startswith("users/")}
        for user_id in changed:
            self._refresh(user_id)
        if events:
            newest = max(int(e["time"]) for e in events)
            if newest != self._since_ms:
                self._since_ms, self._seen_at_since = newest, set()
            self._seen_at_since |= {str(e.get("id")) for e in events if int(e["time"]) == newest}

    def _refresh(self, user_id: str) -> None:
        try:
            user = self.api.user(user_id)
        except KeycloakRequestError as exc:
            if exc.status != 404:
                raise
            with self._lock:
                self._forget(user_id)
            return
        role = self._role_of(user_id)
        with self._lock:
            self._forget(user_id)
            self._put(user["username"], user_id, role)
            # more of its changes may be on their way (a role given just after creation)
            self._settling[user_id] = time.monotonic() + 2 * self.poll_seconds

    def _put(self, username: str, user_id: str, role: Role) -> None:
        self._ids[username] = user_id
        self._names[user_id] = username
        self._roles[user_id] = role

    def _forget(self, user_id: str) -> None:
        name = self._names.pop(user_id, None)
        if name is not None:
            self._ids.pop(name, None)
        self._roles.pop(user_id, None)
        self._settling.pop(user_id, None)

    def _follow(self) -> None:
        last_load = 0.0
        while True:
            try:
                if not self._loaded or time.monotonic() - last_load > self.reload_seconds:
                    self.load()
                    last_load = time.monotonic()
                else:
                    self.poll()
            except (IdpackError, KeyError, ValueError) as exc:
                log.warning("user index not current: %s", exc)
            time.sleep(self.poll_seconds)
