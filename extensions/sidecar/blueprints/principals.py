"""UCloud's calls beyond the spec's eleven, for its services: retrievePrincipal, lookupUID,
and the user iterator (openUserIterator, fetchNextIterator, closeIterator).

An iterator is a cursor in the shared store (the sidecar's SQLite file, or Redis for
several replicas), so a page fetched from one replica continues what another opened; it
expires when left alone for ITERATOR_SECONDS. A page is one Keycloak request of
PAGE_SIZE users, their roles from the user index: walking 100,000 users never holds
more than one page."""

from __future__ import annotations

import secrets
from typing import Any

from flask import Blueprint, Response

from extensions.sidecar.context import directory, store
from extensions.sidecar.errors import RpcError
from extensions.sidecar.index import Entry, uid_of
from extensions.sidecar.licence import Licence, recorded_version
from extensions.sidecar.models import (
    Empty,
    FindByStringId,
    LookupUidRequest,
    LookupUidResponse,
    Principal,
    PrincipalPage,
    RetrievePrincipalRequest,
    UserLookup,
    first_attribute,
)
from extensions.sidecar.roles import Role
from extensions.sidecar.rpc import json_response, parse, rpc

blueprint = Blueprint("principals", __name__)
ITERATORS = "user-iterator"
ITERATOR_SECONDS = 15 * 60
PAGE_SIZE = 250
SERVICE_ACCOUNT_PREFIX = "service-account-"


@rpc(blueprint, "retrievePrincipal", "POST", "/auth/users/retrievePrincipal",
     roles=(Role.SERVICE,), request_model=RetrievePrincipalRequest, response_model=Principal)
def retrieve_principal() -> Response:
    """The principal of a username, shaped as UCloud shapes it (Person.ByPassword,
    Person.ByWAYF or ServicePrincipal, told apart by `type`)."""
    body = parse(RetrievePrincipalRequest)
    people = directory()
    user = people.find(body.username)
    if user is None:
        raise RpcError(404, "User not found", "NOT_FOUND")
    entry = people.lookup_entries([str(user["username"])]).get(str(user["username"]))
    role = entry.role if entry is not None else people.role_of(str(user["id"]))
    return json_response(principal(user, role, people.licence()))


@rpc(blueprint, "lookupUID", "POST", "/auth/users/lookupUID", roles=(Role.SERVICE,),
     request_model=LookupUidRequest, response_model=LookupUidResponse)
def lookup_uid() -> Response:
    """Users by their numeric uid: each uid a key of `users`, null when nobody has it."""
    body = parse(LookupUidRequest)
    found = directory().lookup_uids(body.uids)
    return json_response(LookupUidResponse(users={
        str(uid): _lookup(entry) for uid, entry in found.items()}))


@rpc(blueprint, "openUserIterator", "POST", "/auth/users/iterator/open", roles=(Role.SERVICE,),
     response_model=FindByStringId)
def open_user_iterator() -> Response:
    """A cursor over every user of the realm; fetchNextIterator reads it page by page."""
    iterator = secrets.token_urlsafe(18)
    store().put(ITERATORS, iterator, {"offset": 0}, ITERATOR_SECONDS)
    return json_response(FindByStringId(id=iterator))


@rpc(blueprint, "fetchNextIterator", "POST", "/auth/users/iterator/next", roles=(Role.SERVICE,),
     request_model=FindByStringId, response_model=PrincipalPage)
def fetch_next_iterator() -> Response:
    """The next page of principals (at most 250); an empty page at the end."""
    body = parse(FindByStringId)
    # Taken, then put back moved on: of two fetches at once, one gets the page, the
    # other is told to try again (never the same page twice).
    cursor = store().take(ITERATORS, body.id)
    if cursor is None:
        raise RpcError(404, "No such iterator: it was closed, or left alone for more than "
                            f"{ITERATOR_SECONDS // 60} minutes", "NOT_FOUND")
    offset = int(cursor["offset"])
    try:
        page = _principals(offset)
    except BaseException:
        store().put(ITERATORS, body.id, cursor, ITERATOR_SECONDS)
        raise
    store().put(ITERATORS, body.id, {"offset": offset + len(page)}, ITERATOR_SECONDS)
    return json_response(PrincipalPage(page))


@rpc(blueprint, "closeIterator", "POST", "/auth/users/iterator/close", roles=(Role.SERVICE,),
     request_model=FindByStringId, response_model=Empty)
def close_iterator() -> Response:
    """Forget an iterator (it also expires by itself)."""
    store().take(ITERATORS, parse(FindByStringId).id)
    return json_response(Empty())


def _principals(offset: int) -> list[Principal]:
    people = directory()
    users = people.api.users_page(offset, PAGE_SIZE, brief=False)
    licence = people.licence()
    entries = people.lookup_entries(str(u["username"]) for u in users)
    page = []
    for user in users:
        entry = entries.get(str(user["username"]))
        page.append(principal(user, entry.role if entry else people.role_of(str(user["id"])),
                              licence))
    return page


def _lookup(entry: Entry | None) -> UserLookup | None:
    if entry is None:
        return None
    return UserLookup(subject=entry.username, role=entry.role, uid=entry.uid)


def principal(user: dict[str, Any], role: Role, licence: Licence | None) -> Principal:
    username = str(user["username"])
    if username.startswith(SERVICE_ACCOUNT_PREFIX):
        return Principal(type="service", id=username, role=role, uid=uid_of(user))
    wayf_id = first_attribute(user, "wayfTargetedId")
    kind = first_attribute(user, "principalType") or ("wayf" if wayf_id else "password")
    first, last = user.get("firstName"), user.get("lastName")
    return Principal(
        type=kind, id=username, role=role, uid=uid_of(user),
        title=first_attribute(user, "title"), firstNames=first, lastName=last,
        phoneNumber=first_attribute(user, "phoneNumber"),
        orcId=first_attribute(user, "orcId"), email=user.get("email"),
        twoFactorAuthentication=bool(user.get("totp")),
        serviceLicenseAgreement=recorded_version(user, licence),
        organizationId=first_attribute(user, "orgId"),
        wayfId=wayf_id if kind == "wayf" else None,
        displayName=" ".join(p for p in (first, last) if p) or username)
