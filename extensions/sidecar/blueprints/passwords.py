"""changePassword and changePasswordWithReset."""

from __future__ import annotations

import logging

import requests
from flask import Blueprint, Response

from extensions.sidecar.access import Role, caller
from extensions.sidecar.context import directory, settings
from extensions.sidecar.errors import RpcError
from extensions.sidecar.models import ChangePasswordRequest, ChangePasswordWithResetRequest
from extensions.sidecar.rpc import parse, rpc
from idpack.keycloak.admin import KeycloakRequestError, KeycloakUnavailable
from idpack.keycloak.oidc import logout_session, password_grant

blueprint = Blueprint("passwords", __name__)
log = logging.getLogger("idpack.sidecar.passwords")
# What Keycloak's token endpoint says when the password was right but the account
# still has required actions (verify email, set up TOTP): the password is proven.
NOT_FULLY_SET_UP = "Account is not fully set up"


@rpc(blueprint, "changePassword", "POST", "/auth/users/password",
     roles=(Role.USER, Role.ADMIN), request_model=ChangePasswordRequest)
def change_password() -> Response:
    """Change the calling user's password, given the current one."""
    body = parse(ChangePasswordRequest)
    user_id = caller().user_id
    api = directory().api
    user = api.user(user_id)
    if not any(c.get("type") == "password" for c in api.credentials(user_id)):
        raise RpcError(400, "Cannot change password for this user", "BAD_REQUEST")
    check_current_password(user["username"], body.currentPassword)
    set_password(user_id, body.newPassword)
    return Response(status=204)


@rpc(blueprint, "changePasswordWithReset", "POST", "/auth/users/password/reset",
     roles=(Role.SERVICE,), request_model=ChangePasswordWithResetRequest)
def change_password_with_reset() -> Response:
    """Set a user's password without the current one (the password-reset service)."""
    body = parse(ChangePasswordWithResetRequest)
    try:
        directory().api.user(body.userId)
    except KeycloakRequestError as exc:
        if exc.status == 404:
            raise RpcError(404, "User not found", "NOT_FOUND") from None
        raise
    set_password(body.userId, body.newPassword)
    return Response(status=204)


def check_current_password(username: str, password: str) -> None:
    config = settings()
    try:
        response = password_grant(config.keycloak_url, config.realm,
                                  config.password_check_client_id,
                                  config.password_check_client_secret, username, password,
                                  timeout=config.keycloak_timeout)
    except requests.RequestException as exc:
        raise KeycloakUnavailable(str(exc)) from exc
    if response.status_code == 200:
        # The check opened a session; close it so it does not linger.
        refresh = response.json().get("refresh_token")
        if refresh:
            logout_session(config.keycloak_url, config.realm, config.password_check_client_id,
                           config.password_check_client_secret, refresh,
                           timeout=config.keycloak_timeout)
        return
    if response.status_code >= 500:
        raise KeycloakUnavailable(f"token endpoint answered {response.status_code}")
    description = str(response.json().get("error_description", ""))
    if NOT_FULLY_SET_UP in description:
        return
    raise RpcError(400, "Invalid username or password", "BAD_REQUEST")


def set_password(user_id: str, password: str) -> None:
    try:
        directory().api.reset_password(user_id, password)
    except KeycloakRequestError as exc:
        if exc.status == 400:  # the realm's password policy, in Keycloak's words
            raise RpcError(400, exc.reason, "BAD_REQUEST") from None
        raise
