"""Signing in (OpenID Connect's code flow with PKCE, through Authlib), registering
(Keycloak's hosted page, reached with the same state, nonce and PKCE), signing out, and
the home page that shows the signed-in user's profile."""

from __future__ import annotations

import logging
from typing import Any

from authlib.common.errors import AuthlibBaseError  # type: ignore[import-untyped]
from flask import Blueprint, Response, redirect, render_template, request, session
from joserfc.errors import JoseError
from werkzeug.wrappers import Response as BaseResponse

from extensions.portal.context import (
    SESSION_ID,
    foreign_form,
    forget,
    keycloak,
    page,
    sessions,
    settings,
    sidecar,
    signed_in,
)
from idpack.store import StoreUnavailable

blueprint = Blueprint("sign_in", __name__)
# Set when the portal sent a user through Keycloak to accept the service licence.
LICENCE_ASKED = "licence_asked"
log = logging.getLogger("idpack.portal")


@blueprint.get("/")
def home() -> Response | BaseResponse | str:
    current = signed_in()
    if current is None:
        session.pop(SESSION_ID, None)
        return render_template("welcome.html")
    if current.expired:
        forget()
        return redirect("/login")
    answer = sidecar().user_info(current.access_token)
    if answer.status == 200:
        session.pop(LICENCE_ASKED, None)
        sessions().mark_profile_seen(current)
        return page("profile.html", 200, user=answer.body, csrf_token=current.csrf_token,
                    email_confirmed=request.args.get("success"))
    if answer.error_code == "EMAIL_NOT_VERIFIED":
        forget()
        return page("unverified.html", 403, email=None)
    if answer.error_code == "LICENCE_NOT_ACCEPTED":
        return _through_the_terms(answer.why)
    if answer.error_code == "UNAUTHORIZED" and current.profile_seen:
        # A token that worked before and no longer does (revoked, keys rotated): sign
        # in again. A brand-new one the sidecar refuses would only loop.
        forget()
        return redirect("/login")
    log.warning("getUserInfo answered %s: %s", answer.status, answer.body)
    if answer.error_code == "PERMISSION_DENIED":
        return page("problem.html", 403, title="No access to MikroCloud",
                    message="Your account has no MikroCloud role. Ask support to give "
                            "you access.")
    return page("problem.html", 502, title="Your profile is unavailable",
                message="The profile service is not answering. Please try again in a "
                        "moment.")


def _through_the_terms(why: str) -> Response | BaseResponse:
    """The sidecar gave the user Keycloak's terms action: a sign-in through Keycloak
    (its session makes it password-free) shows the terms before coming back. Once only:
    a second refusal straight after means Keycloak did not ask (the action is off)."""
    forget()
    if session.pop(LICENCE_ASKED, None):
        log.warning("the service licence is still not accepted after a sign-in: is "
                    "Keycloak's TERMS_AND_CONDITIONS action enabled in the realm?")
        return page("problem.html", 403, title="The terms could not be shown",
                    message=f"{why}. Keycloak did not show them; please tell support.")
    session[LICENCE_ASKED] = True
    return redirect("/login")


@blueprint.get("/login")
def login() -> BaseResponse:
    return keycloak().authorize_redirect(settings().redirect_uri)  # type: ignore[no-any-return]


@blueprint.get("/register")
def register() -> BaseResponse:
    """Keycloak's registration page, with the same state, nonce and PKCE as /login: the
    authorization request goes to the registrations endpoint beside the authorization
    endpoint of the discovery document."""
    provider, redirect_uri = keycloak(), settings().redirect_uri
    authorization_endpoint = str(provider.load_server_metadata()["authorization_endpoint"])
    attempt = provider.create_authorization_url(redirect_uri)
    provider.save_authorize_data(redirect_uri=redirect_uri, **attempt)
    query = str(attempt["url"]).removeprefix(authorization_endpoint)
    return redirect(registration_endpoint(authorization_endpoint) + query)


@blueprint.get("/callback")
def callback() -> Response | BaseResponse:
    try:
        token = keycloak().authorize_access_token()
    except (AuthlibBaseError, JoseError) as exc:
        # A stale or forged state, a replayed code, a bad ID token, or an error Keycloak
        # sent back (such as the user cancelling).
        log.info("sign-in refused: %s", exc)
        return page("problem.html", 400, title="Sign-in did not complete",
                    message="The sign-in could not be completed. Please start again.",
                    retry=True)
    claims: dict[str, Any] = dict(token.get("userinfo") or {})
    forget()  # a session this browser had before is over
    licence_asked = session.get(LICENCE_ASKED)
    session.clear()  # drops what is left of earlier, unfinished attempts too
    if licence_asked:
        session[LICENCE_ASKED] = True
    if claims.get("email_verified") is not True:
        return page("unverified.html", 403, email=claims.get("email"))
    started = sessions().start(str(token["access_token"]), token.get("id_token"),
                               float(token.get("expires_at") or 0))
    session[SESSION_ID] = started.session_id
    return redirect("/")


@blueprint.get("/logout")
def confirm_logout() -> Response | BaseResponse:
    """Signing out changes state, so it is a POST with the session's CSRF token; a link
    to /logout (from another site, say) only asks."""
    current = signed_in()
    if current is None:
        return redirect("/")
    return page("logout.html", 200, csrf_token=current.csrf_token)


@blueprint.post("/logout")
def logout() -> Response | BaseResponse:
    """RP-initiated logout: the portal's session ends here, Keycloak's at its
    end-session endpoint, which comes back to the portal."""
    current = signed_in()
    if current is None:
        return redirect("/")
    refusal = foreign_form(current, "Sign-out did not complete",
                           "The sign-out form was not this page's. Use the Sign out "
                           "button in MikroCloud.")
    if refusal is not None:
        return refusal
    forget()
    session.clear()
    if not current.id_token:
        return redirect("/")
    config = settings()
    end_session = keycloak().create_logout_url(
        post_logout_redirect_uri=f"{config.portal_url}/", id_token_hint=current.id_token,
        client_id=config.client_id)
    return redirect(str(end_session["url"]))


@blueprint.get("/healthz")
def healthz() -> dict[str, str]:
    """Liveness: the process answers."""
    return {"status": "ok"}


@blueprint.get("/readyz")
def readyz() -> tuple[dict[str, str], int]:
    """Readiness: the store that holds the signed-in sessions answers."""
    try:
        sessions().store.ping()
    except StoreUnavailable:
        return {"status": "unavailable", "store": "unavailable"}, 503
    return {"status": "ready", "store": "ok"}, 200


def registration_endpoint(authorization_endpoint: str) -> str:
    base, _, last = authorization_endpoint.rpartition("/")
    if last != "auth":
        raise RuntimeError(f"{authorization_endpoint} is not Keycloak's authorization endpoint")
    return f"{base}/registrations"
