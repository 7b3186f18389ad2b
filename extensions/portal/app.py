"""The portal's Flask app: `create_app(settings)` builds it.

Sign-in is OpenID Connect's authorization code flow with PKCE (S256) through Authlib, as
the public client `portal`. Authlib keeps each attempt's state, nonce and PKCE verifier in
the signed session cookie until the callback; after it the session holds only the access
token (to call the sidecar), the ID token (the hint for logging out) and the access
token's expiry."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
from authlib.common.errors import AuthlibBaseError  # type: ignore[import-untyped]
from authlib.integrations.flask_client import OAuth  # type: ignore[import-untyped]
from flask import Flask, Response, redirect, render_template, session
from joserfc.errors import JoseError
from werkzeug.wrappers import Response as BaseResponse

from extensions.portal.settings import PortalSettings

log = logging.getLogger("idpack.portal")
TEMPLATES = Path(__file__).parent / "templates"
SESSION_COOKIE = "mikrocloud_portal"
# What the signed-in session holds, and nothing else.
ACCESS_TOKEN, ID_TOKEN, EXPIRES_AT, PROFILE_SEEN = (
    "access_token", "id_token", "expires_at", "profile_seen")


@dataclass(frozen=True)
class SidecarAnswer:
    status: int
    body: dict[str, Any]

    @property
    def error_code(self) -> str:
        return str(self.body.get("errorCode") or "")


def create_app(settings: PortalSettings) -> Flask:
    app = Flask("idpack.portal", template_folder=str(TEMPLATES))
    app.secret_key = settings.secret_key
    app.config.update(
        SESSION_COOKIE_NAME=SESSION_COOKIE,
        SESSION_COOKIE_HTTPONLY=True,
        # Lax still sends the cookie on Keycloak's top-level redirect to /callback.
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.portal_url.startswith("https://"),
    )
    oauth = OAuth(app)
    keycloak = oauth.register(
        "keycloak",
        client_id=settings.client_id,
        server_metadata_url=f"{settings.issuer}/.well-known/openid-configuration",
        client_kwargs={"scope": "openid profile email", "code_challenge_method": "S256",
                       "token_endpoint_auth_method": "none",  # a public client
                       "timeout": settings.timeout},
    )

    @app.get("/")
    def home() -> Response | BaseResponse | str:
        if ACCESS_TOKEN not in session:
            return render_template("welcome.html")
        if float(session.get(EXPIRES_AT, 0)) <= time.time():
            _forget_tokens()
            return redirect("/login")
        answer = _user_info(settings, str(session[ACCESS_TOKEN]))
        if answer.status == 200:
            session[PROFILE_SEEN] = True
            return _page("profile.html", 200, user=answer.body)
        if answer.error_code == "EMAIL_NOT_VERIFIED":
            _forget_tokens()
            return _page("unverified.html", 403, email=None)
        if answer.error_code == "UNAUTHORIZED" and session.get(PROFILE_SEEN):
            # A token that worked before and no longer does (revoked, keys rotated):
            # sign in again. A brand-new one the sidecar refuses would only loop.
            _forget_tokens()
            return redirect("/login")
        log.warning("getUserInfo answered %s: %s", answer.status, answer.body)
        if answer.error_code == "PERMISSION_DENIED":
            return _page("problem.html", 403, title="No access to MikroCloud",
                         message="Your account has no MikroCloud role. Ask support to "
                                 "give you access.")
        return _page("problem.html", 502, title="Your profile is unavailable",
                     message="The profile service is not answering. Please try again in "
                             "a moment.")

    @app.get("/login")
    def login() -> BaseResponse:
        return keycloak.authorize_redirect(settings.redirect_uri)  # type: ignore[no-any-return]

    @app.get("/register")
    def register() -> BaseResponse:
        """Keycloak's registration page, with the same state, nonce and PKCE as /login:
        the authorization request goes to the registrations endpoint beside the
        authorization endpoint of the discovery document."""
        authorization_endpoint = str(keycloak.load_server_metadata()["authorization_endpoint"])
        attempt = keycloak.create_authorization_url(settings.redirect_uri)
        keycloak.save_authorize_data(redirect_uri=settings.redirect_uri, **attempt)
        query = str(attempt["url"]).removeprefix(authorization_endpoint)
        return redirect(_registration_endpoint(authorization_endpoint) + query)

    @app.get("/callback")
    def callback() -> Response | BaseResponse:
        try:
            token = keycloak.authorize_access_token()
        except (AuthlibBaseError, JoseError) as exc:
            # A stale or forged state, a replayed code, a bad ID token, or an error
            # Keycloak sent back (such as the user cancelling).
            log.info("sign-in refused: %s", exc)
            return _page("problem.html", 400, title="Sign-in did not complete",
                         message="The sign-in could not be completed. Please start again.",
                         retry=True)
        claims: dict[str, Any] = dict(token.get("userinfo") or {})
        session.clear()  # drops what is left of earlier, unfinished attempts too
        if claims.get("email_verified") is not True:
            return _page("unverified.html", 403, email=claims.get("email"))
        session[ACCESS_TOKEN] = token["access_token"]
        session[ID_TOKEN] = token.get("id_token")
        session[EXPIRES_AT] = float(token.get("expires_at") or 0)
        return redirect("/")

    @app.route("/logout", methods=["GET", "POST"])
    def logout() -> BaseResponse:
        """RP-initiated logout: Keycloak ends its session and comes back to the portal."""
        id_token = session.get(ID_TOKEN)
        session.clear()
        if not id_token:
            return redirect("/")
        end_session = keycloak.create_logout_url(
            post_logout_redirect_uri=f"{settings.portal_url}/", id_token_hint=id_token,
            client_id=settings.client_id)
        return redirect(str(end_session["url"]))

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.errorhandler(requests.RequestException)
    def keycloak_unreachable(exc: requests.RequestException) -> Response:
        log.warning("Keycloak is unreachable: %s", exc)
        return _page("problem.html", 502, title="Sign-in is unavailable",
                     message="MikroCloud's sign-in service is not answering. Please try "
                             "again in a moment.")

    return app


def _user_info(settings: PortalSettings, access_token: str) -> SidecarAnswer:
    try:
        response = requests.get(f"{settings.sidecar_url}/auth/users/userInfo",
                                headers={"Authorization": f"Bearer {access_token}"},
                                timeout=settings.timeout)
        body = response.json()
    except (requests.RequestException, ValueError) as exc:
        return SidecarAnswer(502, {"why": str(exc)})
    return SidecarAnswer(response.status_code, body if isinstance(body, dict) else {})


def _registration_endpoint(authorization_endpoint: str) -> str:
    base, _, last = authorization_endpoint.rpartition("/")
    if last != "auth":
        raise RuntimeError(f"{authorization_endpoint} is not Keycloak's authorization endpoint")
    return f"{base}/registrations"


def _forget_tokens() -> None:
    for key in (ACCESS_TOKEN, ID_TOKEN, EXPIRES_AT, PROFILE_SEEN):
        session.pop(key, None)


def _page(template: str, status: int, **context: Any) -> Response:
    response = Response(render_template(template, **context), status=status)
    response.headers["Cache-Control"] = "no-store"
    return response
