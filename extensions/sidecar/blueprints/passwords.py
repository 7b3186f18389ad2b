"""changePassword and changePasswordWithReset."""

from __future__ import annotations

import logging

import requests
from flask import Blueprint, Response

from extensions.sidecar.access import caller
from extensions.sidecar.context import directory, settings
from extensions.sidecar.errors import RpcError
from extensions.sidecar.models import ChangePasswordRequest, ChangePasswordWithResetRequest
from extensions.sidecar.roles import PRIVILEGED, Role
from extensions.sidecar.rpc import parse, rpc
from idpack.keycloak.errors import KeycloakRequestError, KeycloakUnavailable
from idpack.keycloak.oidc import logout_session, password_grant

blueprint = Blueprint("passwords", __name__)
log = logging.getLogger("idpack.sidecar.passwords")
# What Keycloak's token endpoint says when the password was right but the login asks
# for more: the realm's password-check flow always ends so (realm-config: "idpack
# password check"), so a right password gets this answer and never a token.
NOT_FULLY_SET_UP = "Account is not fully set up"


@rpc(blueprint, "changePassword", "POST", "/auth/users/password",
     roles=(Role.USER, Role.ADMIN), request_model=ChangePasswordRequest)
def change_password() -> Response:
    """Change the calling user's password, given the current one."""
    body = parse(ChangePasswordRequest)
    user_id = caller().user_id
    people = directory()
    user = people.api.user(user_id)
    if not people.has_password(user_id):
        raise RpcError(400, "Cannot change password for this user", "BAD_REQUEST")
    check_current_password(user["username"], body.currentPassword)
    set_password(user_id, body.newPassword)
    end_other_sessions(user_id, keep=caller().token.claims.get("sid"))
    return Response(status=204)


@rpc(blueprint, "changePasswordWithReset", "POST", "/auth/users/password/reset",
     roles=(Role.SERVICE,), request_model=ChangePasswordWithResetRequest)
def change_password_with_reset() -> Response:
    """Set a USER's password without the current one (the password-reset service). A
    privileged account's password is never reset by a service: a leaked service secret
    must not hand over an ADMIN account. Its owner uses "Forgot password?" on the
    sign-in page, or a Keycloak administrator resets it."""
    body = parse(ChangePasswordWithResetRequest)
    people = directory()
    user = people.find(body.userId)
    if user is None:
        raise RpcError(404, "User not found", "NOT_FOUND")
    if not people.has_password(user["id"]):
        # Users of WAYF or a social provider have no password to reset; giving them one
        # would open a way in around their provider.
        raise RpcError(400, "This user has no password to reset: they sign in through an "
                            "identity provider, or have not set one yet", "BAD_REQUEST")
    if people.role_of(user["id"]) in PRIVILEGED:
        raise RpcError(403, "The password of a privileged user (ADMIN, SERVICE, ...) is not "
                            "reset through this RPC: its owner uses \"Forgot password?\" at "
                            "sign-in", "FORBIDDEN")
    set_password(user["id"], body.newPassword)
    # Whoever the reset is for may have lost a device or a session to someone else:
    # every session ends, and every token issued before now (the user's not-before).
    end_other_sessions(user["id"], keep=None)
    log.info("password of %s reset by %s", user["username"], caller().token.subject)
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
        # A realm whose check flow still issues a token (one applied before the flow
        # ended in "not fully set up"): the password was right; close the session.
        log.warning("the password check issued a token: apply realm-config again")
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


def end_other_sessions(user_id: str, keep: object) -> None:
    """After a password change, nothing signed in with the old one goes on: every
    session but `keep` (the one that made the change, from the caller's `sid`) ends,
    and so do the user's offline tokens. Without a session to keep, the user is also
    signed out everywhere, so tokens issued before now stop working (the not-before;
    Keycloak counts it in whole seconds, and leaves offline sessions, hence the
    explicit revocations too)."""
    api = directory().api
    ended = 0
    if not isinstance(keep, str) or not keep:
        api.sign_out_everywhere(user_id)
    else:
        for session in api.user_sessions(user_id):
            if session.get("id") != keep:
                api.delete_session(str(session["id"]))
                ended += 1
    for consent in api.consents(user_id):
        grants = {str(g.get("key", "")) for g in consent.get("additionalGrants") or []}
        if "Offline Token" in grants:
            api.revoke_consent(user_id, str(consent["clientId"]))
            ended += 1
    log.info("password of %s changed: %s", user_id,
             f"{ended} other session(s) and offline grant(s) ended" if keep
             else f"signed out everywhere, {ended} offline grant(s) revoked")
