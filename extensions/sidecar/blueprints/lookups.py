"""lookupUsers, lookupEmail, lookupUserWithEmail: services asking about users."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Blueprint, Response, jsonify

from extensions.sidecar.context import directory
from extensions.sidecar.errors import RpcError
from extensions.sidecar.index import Entry
from extensions.sidecar.models import (
    LookupEmailRequest,
    LookupEmailResponse,
    LookupUsersRequest,
    LookupUsersResponse,
    LookupUserWithEmailRequest,
    LookupUserWithEmailResponse,
)
from extensions.sidecar.roles import Role
from extensions.sidecar.rpc import json_response, parse, rpc

blueprint = Blueprint("lookups", __name__)
MAX_LOOKUP = 500


@rpc(blueprint, "lookupUsers", "POST", "/auth/users/lookup", roles=(Role.ADMIN, Role.SERVICE),
     request_model=LookupUsersRequest, response_model=LookupUsersResponse)
def lookup_users() -> Response:
    """Look up users by username: each becomes a key of results, null when unknown. The
    subject is the username, as UCloud identifies users (Keycloak keeps them in lower
    case)."""
    body = parse(LookupUsersRequest)
    if len(body.users) > MAX_LOOKUP:
        raise RpcError(400, f"At most {MAX_LOOKUP} users can be looked up at once",
                       "BAD_REQUEST")
    found = directory().lookup_entries(body.users)
    return jsonify(lookup_results(body.users, found))


def lookup_results(names: list[str], found: Mapping[str, Entry | None]) -> dict[str, Any]:
    """LookupUsersResponse as JSON data, built without its models: validating a hundred
    UserLookup models the index just made took a quarter of the call's CPU (py-spy,
    README "Scale"). Unit-tested against the models (test_lookup_results.py)."""
    return {"results": {name: ({"subject": name.lower(), "role": hit.role.value,
                                "uid": hit.uid} if (hit := found[name]) else None)
                        for name in names}}


@rpc(blueprint, "lookupEmail", "POST", "/auth/users/lookup/email",
     roles=(Role.ADMIN, Role.SERVICE), request_model=LookupEmailRequest,
     response_model=LookupEmailResponse)
def lookup_email() -> Response:
    """The verified email address of a user, by username (or Keycloak id)."""
    body = parse(LookupEmailRequest)
    user = directory().find(body.userId) or {}
    if not user.get("email") or user.get("emailVerified") is not True:
        raise RpcError(404, "Email address not found", "NOT_FOUND")
    return json_response(LookupEmailResponse(email=user["email"]))


@rpc(blueprint, "lookupUserWithEmail", "POST", "/auth/users/lookup/with-email",
     roles=(Role.SERVICE,), request_model=LookupUserWithEmailRequest,
     response_model=LookupUserWithEmailResponse)
def lookup_user_with_email() -> Response:
    """The one user who verified this email address."""
    body = parse(LookupUserWithEmailRequest)
    users = directory().find_by_verified_email(body.email)
    if len(users) != 1:
        raise RpcError(404, "User not found", "NOT_FOUND")
    user = users[0]
    return json_response(LookupUserWithEmailResponse(
        userId=user["username"], firstNames=user.get("firstName") or "",
        lastName=user.get("lastName") or ""))
