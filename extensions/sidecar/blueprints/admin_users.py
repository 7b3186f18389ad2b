"""createNewUser: ADMINs and services create PASSWORD users."""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, Response

from extensions.sidecar.access import caller
from extensions.sidecar.context import directory, settings
from extensions.sidecar.errors import RpcError
from extensions.sidecar.index import Entry
from extensions.sidecar.models import (
    CreatedUser,
    CreateNewUserRequest,
    CreateNewUserResponse,
    CreateSingleUserRequest,
)
from extensions.sidecar.roles import PRIVILEGED, Role
from extensions.sidecar.rpc import json_response, parse, rpc
from idpack.keycloak.errors import KeycloakRequestError

blueprint = Blueprint("admin_users", __name__)
log = logging.getLogger("idpack.sidecar.users")
CREATABLE_ROLES = (Role.USER, Role.ADMIN, Role.SERVICE)
# PASSWORD users set up 2FA at first login (UCloud), and verify their email (MikroCloud).
REQUIRED_ACTIONS = ["CONFIGURE_TOTP", "VERIFY_EMAIL"]
# A user made without a password is mailed a link that leads through all of it.
FIRST_SIGN_IN = ["UPDATE_PASSWORD", "VERIFY_EMAIL", "CONFIGURE_TOTP"]


@rpc(blueprint, "createNewUser", "POST", "/auth/users/register",
     roles=(Role.ADMIN, Role.SERVICE), request_model=CreateNewUserRequest,
     response_model=CreateNewUserResponse)
def create_new_user() -> Response:
    """Create PASSWORD users; all are checked before any is created."""
    items = parse(CreateNewUserRequest).root
    if not items:
        raise RpcError(400, "No users to create", "BAD_REQUEST")
    seen: set[str] = set()
    for index, item in enumerate(items):
        if item.role is not None and item.role not in CREATABLE_ROLES:
            raise RpcError(400, f"[{index}].role: must be one of USER, ADMIN, SERVICE",
                           "BAD_REQUEST")
        if item.role in PRIVILEGED and caller().role != Role.ADMIN:
            raise RpcError(403, f"[{index}].role: only an ADMIN may create {item.role} users",
                           "FORBIDDEN")
        if not item.email:
            # Without an address a PASSWORD user can never verify one, and is refused
            # everywhere that needs a verified address: a dead account.
            raise RpcError(400, f"[{index}].email: is required: a PASSWORD user verifies "
                                "the address and gets the sign-in mails there", "BAD_REQUEST")
        if item.username.lower() in seen:
            raise RpcError(400, f"[{index}].username: appears twice in the request",
                           "BAD_REQUEST")
        seen.add(item.username.lower())
    people = directory()
    for item in items:
        if people.find_by_username(item.username) is not None:
            raise RpcError(409, f"User '{item.username}' already exists", "CONFLICT")
    created: list[CreatedUser] = []
    # Each a uid of its own, never handed out before (user_index.py); without the index,
    # the sidecar's follower cannot run, and users get theirs from another replica's.
    uids: list[int | None] = list(people.index.new_uids(len(items))) \
        if people.index is not None else [None] * len(items)
    try:
        for index, (item, uid) in enumerate(zip(items, uids, strict=True)):
            created.append(CreatedUser(username=item.username,
                                       userId=_create(item, index, uid)))
    except BaseException:
        # All or nothing: a request that fails half-way leaves no user behind.
        for user in created:
            people.api.delete_user(user.userId)
        raise
    log.info("created %d user(s): %s", len(created), ", ".join(u.username for u in created))
    if people.index is not None:
        people.index.remember(Entry(user.username.lower(), user.userId,
                                    item.role or Role.USER, uid)
                              for item, user, uid in zip(items, created, uids, strict=True))
    for item, user in zip(items, created, strict=True):
        if item.password is None:
            log.info("mailed %s a link to set a password, verify the address and set up "
                     "TOTP", user.username)
    return json_response(CreateNewUserResponse(created))


def _create(item: CreateSingleUserRequest, index: int, uid: int | None) -> str:
    people = directory()
    # What UCloud's tokens carry (the ucloud-claims scope reads these attributes).
    attributes: dict[str, Any] = {"principalType": ["password"],
                                  "ucloudRole": [(item.role or Role.USER).value]}
    if uid is not None:
        attributes["uid"] = [str(uid)]
    if item.orgId:
        attributes["orgId"] = [item.orgId]
    actions = REQUIRED_ACTIONS if item.password is not None else FIRST_SIGN_IN
    representation: dict[str, Any] = {
        "username": item.username, "enabled": True, "email": item.email,
        "emailVerified": False, "firstName": item.firstnames, "lastName": item.lastname,
        "requiredActions": actions, "attributes": attributes,
    }
    try:
        user_id = people.api.create_user({k: v for k, v in representation.items()
                                          if v is not None})
    except KeycloakRequestError as exc:
        if exc.status == 409:
            raise RpcError(409, f"[{index}]: {exc.reason}", "CONFLICT") from None
        if exc.status == 400:
            raise RpcError(400, f"[{index}]: {exc.reason}", "BAD_REQUEST") from None
        raise
    try:
        if item.password is not None:
            people.api.reset_password(user_id, item.password)
        role = item.role or Role.USER
        if role != Role.USER:  # USER comes with the realm's default roles
            people.api.add_realm_role_mappings(user_id, [people.role_representation(role)])
        if item.password is None:
            # Without it the account opens only through "forgot password": mail the
            # way in, valid as long as a verification link.
            people.api.send_required_actions_email(user_id, FIRST_SIGN_IN,
                                                   settings().action_link_lifespan)
    except KeycloakRequestError as exc:
        people.api.delete_user(user_id)
        if exc.status == 400:
            raise RpcError(400, f"[{index}].password: {exc.reason}", "BAD_REQUEST") from None
        if exc.status == 500 and "execute-actions-email" in exc.path:
            raise RpcError(503, f"[{index}]: the sign-in mail could not be sent; nothing "
                                "was created, try again later", "MAIL_UNAVAILABLE") from None
        raise
    return user_id
