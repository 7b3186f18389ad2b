"""getUserInfo and the optional information (organization, department, ...)."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Response, redirect, request
from werkzeug.wrappers import Response as WerkzeugResponse

from extensions.sidecar import email_change
from extensions.sidecar.access import caller
from extensions.sidecar.context import directory, settings, store
from extensions.sidecar.errors import RpcError
from extensions.sidecar.licence import REQUIRED_ACTION
from extensions.sidecar.models import (
    GetUserInfoResponse,
    OptionalUserInformation,
    UpdateUserInfoRequest,
    first_attribute,
)
from extensions.sidecar.pages import Form, page
from extensions.sidecar.roles import Role
from extensions.sidecar.rpc import json_response, parse, rpc
from idpack.keycloak.errors import KeycloakRequestError

blueprint = Blueprint("profile", __name__)
log = logging.getLogger("idpack.sidecar.profile")
OPTIONAL_FIELDS = tuple(OptionalUserInformation.model_fields)
# Email changes (each mails a link to an address nobody proved yet) per user in two
# hours. Per user, not per client address: the portal sends all its users' changes from
# one address, and an account is what it costs to send them.
EMAIL_CHANGE_LIMIT, EMAIL_CHANGE_WINDOW = 10, 2 * 3600


@rpc(blueprint, "updateUserInfo", "POST", "/auth/users/updateUserInfo",
     roles=(Role.USER, Role.ADMIN), request_model=UpdateUserInfoRequest)
def update_user_info() -> Response:
    """Change the calling user's names, country and time zone at once; a new email once
    its owner confirms it."""
    body = parse(UpdateUserInfoRequest)
    people = directory()
    user_id = caller().user_id
    # The user is read only to tell a new address from the one it has.
    new_email = body.email is not None and body.email.lower() != str(
        people.api.user(user_id).get("email", "")).lower()
    if new_email:
        _limit_email_changes(user_id)
    change: dict[str, Any] = {}
    if body.firstNames is not None:
        change["firstName"] = body.firstNames
    if body.lastName is not None:
        change["lastName"] = body.lastName
    attributes: dict[str, list[str] | None] = {}
    for name in ("country", "timezone"):
        value = getattr(body, name)
        if value is not None:
            attributes[name] = [value] if value else None  # "": removed
    if attributes:
        change["attributes"] = attributes
    if change:
        people.writes.update(user_id, lambda _: change)
    if new_email:
        assert body.email is not None
        try:
            email_change.start(store(), settings(), user_id, body.email)
        except email_change.MailCapped as capped:
            log.info("no mail to %s for now: %s", body.email, capped)
            minutes = max(1, round(capped.retry_after / 60))
            raise RpcError(429, "MikroCloud sends at most 5 emails a minute and 10 an hour to "
                                f"one address: try again in {minutes} minute(s)",
                           "TOO_MANY_REQUESTS",
                           headers={"Retry-After": str(max(1, capped.retry_after))}) from None
        except email_change.MailUnavailable as exc:
            log.warning("could not mail %s: %s", body.email, exc)
            raise RpcError(503, "Mail could not be sent; try again later",
                           "MAIL_UNAVAILABLE") from None
        log.info("user %s asked to change email; link mailed", user_id)
    return Response(status=204)


def _limit_email_changes(user_id: str) -> None:
    verdict = store().hit(f"email-change:{user_id}", EMAIL_CHANGE_WINDOW, EMAIL_CHANGE_LIMIT)
    if not verdict.allowed:
        minutes = max(1, round(verdict.retry_after / 60))
        raise RpcError(429, f"Too many email changes: try again in {minutes} minutes",
                       "TOO_MANY_REQUESTS",
                       headers={"Retry-After": str(max(1, round(verdict.retry_after)))})


@rpc(blueprint, "verifyUserInfo", "GET", "/auth/users/verifyUserInfo", roles=None,
     query=("id",), redirect=True)
def verify_user_info() -> WerkzeugResponse:
    """The pending email change the link's token proves, on a page whose button applies
    it (fetching the link changes nothing: mail scanners fetch links); an unknown or
    expired token goes back to the portal."""
    token = request.args.get("id", "")
    pending = email_change.pending(store(), token)
    username = _username(pending["user_id"]) if pending else None
    if pending is None or username is None:
        return _back_to_portal(success=False)
    return page(200, "Use this email address for MikroCloud?",
                f"Account: {username}", f"New email address: {pending['email']}",
                "Nothing changes until you press the button. If you did not ask for this, "
                "close this page.",
                form=Form("/auth/users/verifyUserInfo", "Use this email address",
                          {"id": token}),
                form_targets=[settings().portal_url])


@rpc(blueprint, "confirmUserInfo", "POST", "/auth/users/verifyUserInfo", roles=None,
     redirect=True)
def confirm_user_info() -> WerkzeugResponse:
    """Apply a pending email change (the token the page's form sends back is the proof;
    once); back to the portal."""
    pending = email_change.finish(store(), request.form.get("id", ""))
    success = False
    if pending is not None:
        try:
            success = directory().writes.update(pending["user_id"], lambda _: {
                "email": pending["email"], "emailVerified": True}) is not None
        except KeycloakRequestError as exc:
            log.info("email change for %s not applied: %s", pending["user_id"], exc)
    return _back_to_portal(success)


def _username(user_id: str) -> str | None:
    try:
        return str(directory().api.user(user_id)["username"])
    except KeycloakRequestError:
        return None


def _back_to_portal(success: bool) -> WerkzeugResponse:
    target = f"{settings().portal_url}/?{urlencode({'success': str(success).lower()})}"
    return redirect(target, code=302)


@rpc(blueprint, "getUserInfo", "GET", "/auth/users/userInfo", roles=(Role.USER, Role.ADMIN),
     response_model=GetUserInfoResponse)
def get_user_info() -> Response:
    """Information about the calling user; refused (403, LICENCE_NOT_ACCEPTED) while the
    realm declares a newer service licence than the user accepted, whom Keycloak then
    asks to accept it at the sign-in that follows."""
    people = directory()
    user = people.user(caller().user_id)
    licence = people.licence()
    if licence is not None and licence.outdated(user):
        people.writes.add_required_action(str(user["id"]), REQUIRED_ACTION)
        raise RpcError(403, f"Version {licence.current} of the service licence agreement "
                            "is not accepted yet: sign in again to read and accept it",
                       "LICENCE_NOT_ACCEPTED")
    return json_response(GetUserInfoResponse(
        email=user.get("email"), firstNames=user.get("firstName"),
        lastName=user.get("lastName"),
        # UCloud's organization: the orgId given at creation, or the home organization
        # WAYF sent (realm-config maps schacHomeOrganization to orgId).
        organization=first_attribute(user, "orgId"),
        country=first_attribute(user, "country"), timezone=first_attribute(user, "timezone")))


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
    attributes = {name: None if getattr(body, name) is None else [getattr(body, name)]
                  for name in OPTIONAL_FIELDS}
    directory().writes.update(caller().user_id, lambda _: {"attributes": attributes})
    return Response(status=204)
