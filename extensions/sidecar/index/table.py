"""What the index keeps, and the small interface both of its tables (SQLite, Redis) offer.
Usernames are kept as Keycloak keeps them: lower case."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

from extensions.sidecar.roles import BY_VALUE, Role


def uid_of(user: dict[str, Any]) -> int | None:
    """A user representation's uid attribute as a number; None without one."""
    values = (user.get("attributes") or {}).get("uid") or []
    try:
        return int(values[0]) if values else None
    except (TypeError, ValueError):
        return None


@dataclass(frozen=True)
class Entry:
    username: str
    user_id: str
    role: Role
    uid: int | None = None
    # When the table last changed it (epoch ms; 0: from the build): a lookup checks an
    # entry changed a moment ago against the newest events (a role given right after)
    changed_ms: int = field(default=0, compare=False)

    def to_json(self) -> dict[str, Any]:
        return {"i": self.user_id, "r": self.role.value, "u": self.uid, "t": self.changed_ms}

    @classmethod
    def from_json(cls, username: str, value: dict[str, Any]) -> Entry:
        uid = value.get("u")
        return cls(username, str(value["i"]), BY_VALUE[value["r"]], int(uid) if uid is not None
                   else None, int(value.get("t") or 0))

    def stamped(self, now_ms: int) -> Entry:
        return Entry(self.username, self.user_id, self.role, self.uid, now_ms)


@dataclass
class IndexState:
    """How far the index got. `complete`: every user Keycloak held when the build began is
    in, and every event since `admin_cursor`/`user_cursor` (epoch ms) is applied; the ids
    of the events at and just before the cursors are remembered so a re-read of that
    overlap applies none twice."""

    realm_id: str = ""
    complete: bool = False
    build_offset: int = 0  # users read so far by a build under way
    admin_cursor: int = 0
    user_cursor: int = 0
    seen: list[str] = field(default_factory=list)
    scan_offset: int = 0  # where the background check goes on
    scan_cycle: int = 1  # the check's round: entries it saw carry this number
    updated_ms: int = 0  # when the follower last applied events (lag = now - this)
    # users to give a uid, UCloud role and principal type: [user id, identity provider]
    to_describe: list[list[str]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, value: dict[str, Any] | None) -> IndexState:
        if not value:
            return cls()
        known = {k: v for k, v in value.items() if k in cls.__dataclass_fields__}
        return cls(**known)


class IndexTable(Protocol):
    cycle: int  # what put_many marks entries with (the background check's round)

    def get_many(self, usernames: Iterable[str]) -> dict[str, Entry]:
        """The entries of these (lower-case) usernames that exist."""

    def name_of(self, user_id: str) -> str | None:
        """The username the index holds for a Keycloak id."""

    def by_uid(self, uids: Iterable[int]) -> dict[int, Entry]:
        """The entries of these uids that exist."""

    def put_many(self, entries: Iterable[Entry]) -> None:
        """Add or replace entries (a user renamed loses the old name)."""

    def forget(self, user_ids: Iterable[str]) -> None:
        """Remove the entries of these Keycloak ids."""

    def stamp(self, usernames: Iterable[str], cycle: int) -> None:
        """Mark these entries as seen in Keycloak by the background check's `cycle`
        (put_many marks what it writes with the table's `cycle` too)."""

    def unstamped(self, cycle: int) -> list[Entry]:
        """The entries no one marked since `cycle` began: gone from Keycloak, unless an
        event that told of it is still to come."""

    def count(self) -> int:
        """How many users the index holds."""

    def state(self) -> IndexState:
        ...

    def save_state(self, state: IndexState) -> None:
        ...

    def clear(self) -> None:
        """Forget every entry and the state (a rebuild follows)."""

    def next_uids(self, count: int, at_least: int = 1) -> list[int]:
        """`count` uids never handed out before: above the counter, above every uid the
        table holds (the uids Keycloak holds, as the events told), and from `at_least` on.
        A counter that lost its last increments (Redis saving every second, then
        crashing) therefore never goes back below a uid a user has."""

    def lease(self, holder: str, seconds: float) -> bool:
        """Take or renew the follower's lease: True while `holder` holds it (one holder
        per table at a time; a holder that stops renewing loses it after `seconds`)."""

    def release(self, holder: str) -> None:
        ...
