"""What Keycloak's events say about users, in the index's terms.

Admin events (with `adminEventsDetailsEnabled`, which realm-config sets) carry the
representation sent, credentials stripped: a creation names the user (and, from a partial
import, its realm roles), a role-mapping change lists the roles, a deletion needs none.
A partial import's users come as resource type REALM with path users/<id>. Users who
sign themselves up (or arrive through an identity provider) make no admin event but a
REGISTER event, whose details name them. So both streams together tell the index every
change without asking Keycloak about each user."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from extensions.sidecar.index.table import uid_of

Json = dict[str, Any]
ADMIN_RESOURCE_TYPES = ["USER", "REALM", "REALM_ROLE_MAPPING", "GROUP_MEMBERSHIP"]
USER_EVENT_TYPES = ["REGISTER", "DELETE_ACCOUNT"]


@dataclass(frozen=True)
class Created:
    user_id: str
    username: str | None  # None: the event had no representation (details off)
    roles: tuple[str, ...] = ()
    uid: int | None = None
    described: bool = False  # the user came with UCloud's attributes (role, principal type)
    provider: str | None = None  # the identity provider it signed up through


@dataclass(frozen=True)
class Updated:
    user_id: str
    username: str | None
    uid: int | None


@dataclass(frozen=True)
class Deleted:
    user_id: str


@dataclass(frozen=True)
class RolesChanged:
    """Realm roles given (added) or taken; None when the event does not list them (a
    group membership, or details off): the user's roles must be read."""

    user_id: str
    added: tuple[str, ...] | None
    removed: tuple[str, ...] | None


Change = Created | Updated | Deleted | RolesChanged


@dataclass(frozen=True)
class Event:
    id: str
    time: int
    change: Change | None


def admin_event(event: Json) -> Event:
    return Event(_event_id(event), int(event["time"]), _admin_change(event))


def user_event(event: Json) -> Event:
    return Event(_event_id(event), int(event["time"]), _user_change(event))


def _event_id(event: Json) -> str:
    return str(event.get("id") or f"{event.get('time')}:{event.get('resourcePath')}:"
               f"{event.get('type') or event.get('operationType')}")


def _admin_change(event: Json) -> Change | None:
    path = str(event.get("resourcePath") or "").split("/")
    if len(path) < 2 or path[0] != "users" or not path[1]:
        return None
    user_id, operation = path[1], event.get("operationType")
    rep = _representation(event)
    if len(path) == 2:
        if operation == "CREATE":
            user = rep if isinstance(rep, dict) else {}
            name = user.get("username")
            attributes = user.get("attributes") or {}
            return Created(user_id, str(name).lower() if name else None,
                           tuple(str(r) for r in user.get("realmRoles") or ()), uid_of(user),
                           "ucloudRole" in attributes and "principalType" in attributes)
        if operation == "DELETE":
            return Deleted(user_id)
        if operation == "UPDATE" and isinstance(rep, dict):
            name = rep.get("username")
            uid = uid_of(rep)
            if name or uid is not None:
                return Updated(user_id, str(name).lower() if name else None, uid)
        return None
    if path[2] == "role-mappings" and path[3:4] == ["realm"]:
        roles = tuple(str(r.get("name")) for r in rep if isinstance(r, dict)) \
            if isinstance(rep, list) else None
        if operation == "CREATE":
            return RolesChanged(user_id, roles, () if roles is not None else None)
        if operation == "DELETE":
            return RolesChanged(user_id, () if roles is not None else None, roles)
    if path[2] == "groups" and operation in ("CREATE", "DELETE"):
        return RolesChanged(user_id, None, None)
    return None


def _user_change(event: Json) -> Change | None:
    user_id = event.get("userId")
    if not user_id or event.get("error"):
        return None
    details = event.get("details") or {}
    if event.get("type") == "REGISTER":
        name = details.get("username")
        provider = details.get("identity_provider")
        return Created(str(user_id), str(name).lower() if name else None,
                       provider=str(provider) if provider else None)
    if event.get("type") == "DELETE_ACCOUNT":
        return Deleted(str(user_id))
    return None


def _representation(event: Json) -> Any:
    raw = event.get("representation")
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return None

