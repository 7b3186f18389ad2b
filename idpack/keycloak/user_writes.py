"""Changing a user beside other writers.

Keycloak's Admin API has no partial update of a user: a change is a read, then a write of
the whole representation. Two writers of ours act on a new user within the same second
(the geo worker sets country and time zone, the sidecar's follower sets uid, UCloud role
and principal type, each on the user's first event), and while Keycloak itself writes
(the terms accepted, the address verified). A write of everything read moments ago undoes
what happened since: a lost country, a terms acceptance forgotten, a verified address
unverified again. So a change here

- writes back only what it changes, with the profile's own fields that Keycloak's user
  profile would clear if left out (username, email, names): never the user's status
  (enabled, emailVerified) nor required actions it did not mean to change;
- takes a short turn per user in the store our services share (the sidecar's, the geo
  worker's), so that writers of ours read after each other's writes, never between.

A turn is a count of one in a sliding window of `turn_seconds` (the store has no
release): a second writer waits until the first's window ends, a second at most. Where
the store is unavailable, writers go ahead without one (the window of a read and a write
is milliseconds; a turn narrows it to none for our own writers)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from idpack.keycloak.errors import KeycloakRequestError
from idpack.keycloak.realm_admin import RealmAdmin
from idpack.store.base import Store, StoreUnavailable

Json = dict[str, Any]
Attributes = dict[str, list[str]]
# Keycloak's user profile takes one of these left out of an update as one to clear.
PROFILE_FIELDS = ("username", "email", "firstName", "lastName")
TURN_SECONDS = 1.0
log = logging.getLogger("idpack.keycloak")


class UserWrites:
    def __init__(self, api: RealmAdmin, turns: Store | None = None,
                 turn_seconds: float = TURN_SECONDS) -> None:
        self.api = api
        self.turns = turns
        self.turn_seconds = turn_seconds

    def set_attributes(self, user_id: str,
                       wanted: Callable[[Json], Attributes]) -> Attributes | None:
        """Set the attributes `wanted(user)` returns for the user as it is now (an empty
        map: nothing to do); the attributes set, or None when the user is gone."""
        changed = self.update(user_id, lambda user: {"attributes": wanted(user)})
        return None if changed is None else dict(changed.get("attributes") or {})

    def update(self, user_id: str, wanted: Callable[[Json], Json]) -> Json | None:
        """Apply `wanted(user)` to the user as it is now, in the user's turn: top-level
        fields (names, email, emailVerified) as given, and under "attributes" the
        attributes to set, None for one to remove; the others are left as they are.
        What was changed (an empty map: nothing differed), or None when the user is
        gone. The profile's own RPCs write through here as the followers do, so that a
        user's change made while a follower gives the user a uid is never undone."""
        self._take_turn(user_id)
        user = self._read(user_id)
        if user is None:
            return None
        asked = wanted(user)
        held: dict[str, list[str]] = dict(user.get("attributes") or {})
        attributes = {name: values for name, values in (asked.get("attributes") or {}).items()
                      if held.get(name) != values}
        fields = {k: v for k, v in asked.items() if k != "attributes" and user.get(k) != v}
        if not attributes and not fields:
            return {}
        update = {k: user[k] for k in PROFILE_FIELDS if k in user} | fields
        update["attributes"] = {n: v for n, v in (held | attributes).items() if v is not None}
        self.api.update_user(user_id, update)
        return {**fields, "attributes": attributes} if attributes else fields

    def add_required_action(self, user_id: str, action: str) -> bool:
        """Give the user a required action once; whether it was added now."""
        self._take_turn(user_id)
        user = self._read(user_id)
        actions = list((user or {}).get("requiredActions") or [])
        if user is None or action in actions:
            return False
        # Without "attributes" Keycloak keeps the user's own (and the profile's fields).
        self.api.update_user(user_id, {"requiredActions": [*actions, action]})
        return True

    def _read(self, user_id: str) -> Json | None:
        try:
            return self.api.user(user_id)
        except KeycloakRequestError as exc:
            if exc.status == 404:  # deleted since
                return None
            raise

    def _take_turn(self, user_id: str) -> None:
        if self.turns is None:
            return
        key = f"user-write:{self.api.name}:{user_id}"
        deadline = time.monotonic() + 3 * self.turn_seconds
        while True:
            try:
                verdict = self.turns.hit(key, self.turn_seconds, 1)
            except StoreUnavailable:
                return
            if verdict.allowed:
                return
            if time.monotonic() > deadline:
                log.warning("user %s: no turn to write within %.0f s; writing anyway",
                            user_id, 3 * self.turn_seconds)
                return
            time.sleep(min(max(verdict.retry_after, 0.02), 0.25))
