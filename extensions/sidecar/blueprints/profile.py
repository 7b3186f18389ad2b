"""getUserInfo and the optional information (organization, department, ...)."""

from __future__ import annotations

from flask import Blueprint, Response

from extensions.sidecar.access import Role, caller
from extensions.sidecar.blueprints.lookups import directory
from extensions.sidecar.models import (
    GetUserInfoResponse,
    OptionalUserInformation,
    first_attribute,
)
from extensions.sidecar.rpc import json_response, parse, rpc

blueprint = Blueprint("profile", __name__)
OPTIONAL_FIELDS = tuple(OptionalUserInformation.model_fields)


@rpc(blueprint, "getUserInfo", "GET", "/auth/users/userInfo", roles=(Role.USER, Role.ADMIN),
     response_model=GetUserInfoResponse)
def get_user_info() -> Response:
    """Information about the calling user."""
    user = directory().user(caller().user_id)
    return json_response(GetUserInfoResponse(
        email=user.get("email"), firstNames=user.get("firstName"),
        lastName=user.get("lastName"),
        organization=first_attribute(user, "organizationFullName")))


@rpc(blueprint, "retrieveOptionalUserInfo", "GET", "/auth/users/retrieveOptionalInfo",
     roles=(Role.USER, Role.ADMIN), response_model=OptionalUserInformation)
def retrieve_optional_info() -> Response:
    """The calling user's optional information."""
    user = directory().user(caller().user_id)
    return json_response(OptionalUserInformation(
        **{name: first_attribute(user, name) for name in OPTIONAL_FIELDS}))


@rpc(blueprint, "updateOptionalUserInfo", "POST", "/auth/users/optionalInfo",
     roles=(Role.USER, Role.ADMIN), request_model=OptionalUserInformation)
def update_optional_info() -> Response:
    """Replace the calling user's optional information (a missing field becomes null)."""
    body = parse(OptionalUserInformation)
    api = directory().api
    user = api.user(caller().user_id)
    attributes = dict(user.get("attributes") or {})
    for name in OPTIONAL_FIELDS:
        value = getattr(body, name)
        if value is None:
            attributes.pop(name, None)
        else:
            attributes[name] = [value]
    api.update_user(user["id"], {**user, "attributes": attributes})
    return Response(status=204)
