"""The sidecar's view of the users Keycloak keeps: what the RPCs ask, in Keycloak's
terms, through the thin client and the sidecar's own service account."""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from extensions.sidecar.index import Entry, open_index_table, uid_of
from extensions.sidecar.licence import Licence
from extensions.sidecar.roles import Role, ucloud_role
from extensions.sidecar.user_index import IndexTiming, UserIndex
from idpack.keycloak.admin import KeycloakAdminClient
from idpack.keycloak.errors import KeycloakRequestError
from idpack.keycloak.realm_admin import RealmAdmin
from idpack.keycloak.user_writes import UserWrites
from idpack.store.base import Store

Json = dict[str, Any]
log = logging.getLogger("idpack.sidecar")
LOOKUP_THREADS = 16
LICENCE_SECONDS = 60.0  # how long the realm's licence versions are kept before a reread
KEYCLOAK_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$",
                         re.IGNORECASE)


class Directory:
    def __init__(self, client: KeycloakAdminClient, realm: str,
                 store: Store | None = None) -> None:
        self.client = client
        self.api: RealmAdmin = client.realm(realm)
        # Writes to a user take turns with the geo worker's through the shared store.
        self.writes = UserWrites(self.api, store)
        self._pool = ThreadPoolExecutor(max_workers=LOOKUP_THREADS,
                                        thread_name_prefix="keycloak-lookup")
        self._role_representations: dict[str, Json] = {}
        self.index: UserIndex | None = None
        self._licence: tuple[float, Licence | None] = (0.0, None)
        self._licence_lock = threading.Lock()

    def licence(self) -> Licence | None:
        """The realm's service licence versions (extensions/sidecar/licence.py), read at
        most once a minute; None where the realm declares none."""
        with self._licence_lock:
            read_at, licence = self._licence
            if time.monotonic() - read_at < LICENCE_SECONDS and read_at:
                return licence
            try:
                licence = Licence.of_realm(self.api.get())
            except ValueError as exc:
                log.warning("the realm's licence versions are not understood: %s", exc)
                licence = None
            self._licence = (time.monotonic(), licence)
            return licence

    def follow_users(self, location: str, timing: IndexTiming | None = None,
                     start: bool = True) -> UserIndex:
        """Answer lookups from the user index at `location` (an SQLite file or a Redis
        URL), kept current from Keycloak's events by whichever worker holds its lease."""
        self.index = UserIndex(self.api, open_index_table(location, self.api.name),
                               self.role_of, self.resolve, timing, licence=self.licence,
                               writes=self.writes)
        if start:
            self.index.start()
        return self.index

    def user(self, user_id: str) -> Json:
        return self.api.user(user_id)

    def find(self, user: str) -> Json | None:
        """A user as UCloud names one (the username) or by Keycloak's id; None when there
        is none. The name never reaches a URL path: it is a search parameter."""
        if KEYCLOAK_ID.match(user):
            try:
                return self.api.user(user)
            except KeycloakRequestError as exc:
                if exc.status != 404:
                    raise
        return self.find_by_username(user)

    def find_by_username(self, username: str) -> Json | None:
        if not username.strip():
            return None
        try:
            found = self.api.users_by_username(username)
        except KeycloakRequestError as exc:
            if exc.status == 400:  # a name Keycloak refuses to search for: nobody has it
                return None
            raise
        return next((u for u in found if u["username"] == username.lower()), None)

    def find_by_verified_email(self, email: str) -> list[Json]:
        """The users who proved they own this address (an address typed into a profile
        and never confirmed belongs to nobody yet)."""
        return [u for u in self.find_by_email(email) if u.get("emailVerified") is True]

    def find_by_email(self, email: str) -> list[Json]:
        if not email.strip():
            return []
        try:
            found = self.api.users_by_email(email)
        except KeycloakRequestError as exc:
            if exc.status == 400:
                return []
            raise
        return [u for u in found if str(u.get("email", "")).lower() == email.lower()]

    def has_password(self, user_id: str) -> bool:
        return any(c.get("type") == "password" for c in self.api.credentials(user_id))

    def role_of(self, user_id: str) -> Role:
        return ucloud_role(r["name"] for r in self.api.effective_realm_roles_of_user(user_id))

    def lookup(self, usernames: Iterable[str]) -> dict[str, tuple[str, Role] | None]:
        """(user id, role) for each username, None for unknown ones."""
        return {name: (e.user_id, e.role) if e else None
                for name, e in self.lookup_entries(usernames).items()}

    def lookup_entries(self, usernames: Iterable[str]) -> dict[str, Entry | None]:
        """Id, role and uid for each username, None for unknown ones: from the index
        when there is one (user_index.py), else from Keycloak, a request a name."""
        names = list(dict.fromkeys(usernames))
        if self.index is None:
            return self.resolve(names)
        return self.index.lookup(names)

    def lookup_uids(self, uids: Iterable[int]) -> dict[int, Entry | None]:
        wanted = list(dict.fromkeys(uids))
        found = self.index.by_uid(wanted) if self.index is not None else None
        if found is not None:
            return found

        def one(uid: int) -> tuple[int, Entry | None]:
            users = self.api.users_by_attribute("uid", str(uid))
            return uid, self._entry(users[0]) if users else None

        return dict(self._pool.map(one, wanted))

    def resolve(self, usernames: Iterable[str]) -> dict[str, Entry | None]:
        """Ask Keycloak, a pool of connections wide."""
        def one(username: str) -> tuple[str, Entry | None]:
            user = self.find_by_username(username)
            return username, self._entry(user) if user is not None else None

        return dict(self._pool.map(one, list(dict.fromkeys(usernames))))

    def _entry(self, user: Json) -> Entry:
        uid = uid_of(user)
        return Entry(str(user["username"]), str(user["id"]), self.role_of(str(user["id"])), uid)

    def role_representation(self, name: str) -> Json:
        if name not in self._role_representations:
            self._role_representations[name] = self.api.role(name)
        return self._role_representations[name]

