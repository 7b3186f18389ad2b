"""The portal's Flask app: `create_app(settings)` builds it.

Sign-in is OpenID Connect's authorization code flow with PKCE (S256) through Authlib, as
the public client `portal`. Authlib keeps each attempt's state, nonce and PKCE verifier in
the signed session cookie until the callback; after it the cookie holds only the id of a
session kept on the server (extensions/portal/sessions.py), which holds the access token
(to call the sidecar), the ID token (the hint for signing out), the access token's
expiry and the CSRF token of the page's forms."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests
from authlib.common.errors import AuthlibBaseError  # type: ignore[import-untyped]
from authlib.integrations.flask_client import OAuth  # type: ignore[import-untyped]
from flask import Flask, Response, redirect, render_template, request, session
from joserfc.errors import JoseError
from werkzeug.wrappers import Response as BaseResponse

from extensions.portal.sessions import SessionStore, SignedIn
from extensions.portal.settings import PortalSettings
from idpack.page_headers import protect_pages
from idpack.store import open_store

log = logging.getLogger("idpack.portal")
TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"
SESSION_COOKIE = "mikrocloud_portal"
SESSION_ID = "sid"  # what the cookie holds once signed in, and nothing else


@dataclass(frozen=True)
class SidecarAnswer:
    status: int
    body: dict[str, Any]

    @property
    def error_code(self) -> str:
        return str(self.body.get("errorCode") or "")


def create_app(settings: PortalSettings) -> Flask:
    app = Flask("idpack.portal", template_folder=str(TEMPLATES), static_folder=str(STATIC))
    app.secret_key = settings.secret_key
    app.config.update(
        SESSION_COOKIE_NAME=SESSION_COOKIE,
        SESSION_COOKIE_HTTPONLY=True,
        # Lax still sends the cookie on Keycloak's top-level redirect to /callback.
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.portal_url.startswith("https://"),
    )
    sessions = SessionStore(open_store(settings.store))
    # The sign-out form ends at Keycloak's end-session endpoint (a redirect after it).
    protect_pages(app, form_targets=[_origin(settings.keycloak_url)])
    oauth = OAuth(app)
    keycloak = oauth.register(
        "keycloak",
        client_id=settings.client_id,
        server_metadata_url=f"{settings.issuer}/.well-known/openid-configuration",
        client_kwargs={"scope": "openid profile email", "code_challenge_method": "S256",
                       "token_endpoint_auth_method": "none",  # a public client
                       "timeout": settings.timeout},
    )

    def signed_in() -> SignedIn | None:
        return sessions.get(session.get(SESSION_ID))

    def forget() -> None:
        sessions.end(session.pop(SESSION_ID, None))

    @app.get("/")
    def home() -> Response | BaseResponse | str:
        current = signed_in()
        if current is None:
            session.pop(SESSION_ID, None)
            return render_template("welcome.html")
        if current.expired:
            forget()
            return redirect("/login")
        answer = _user_info(settings, current.access_token)
        if answer.status == 200:
            sessions.mark_profile_seen(current)
            return _page("profile.html", 200, user=answer.body, csrf_token=current.csrf_token)
        if answer.error_code == "EMAIL_NOT_VERIFIED":
            forget()
            return _page("unverified.html", 403, email=None)
        if answer.error_code == "UNAUTHORIZED" and current.profile_seen:
            # A token that worked before and no longer does (revoked, keys rotated):
            # sign in again. A brand-new one the sidecar refuses would only loop.
            forget()
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
        forget()  # a session this browser had before is over
        session.clear()  # drops what is left of earlier, unfinished attempts too
        if claims.get("email_verified") is not True:
            return _page("unverified.html", 403, email=claims.get("email"))
        started = sessions.start(str(token["access_token"]), token.get("id_token"),
                                 float(token.get("expires_at") or 0))
        session[SESSION_ID] = started.session_id
        return redirect("/")

    @app.get("/logout")
    def confirm_logout() -> Response | BaseResponse:
        """Signing out changes state, so it is a POST with the session's CSRF token; a
        link to /logout (from another site, say) only asks."""
        current = signed_in()
        if current is None:
            return redirect("/")
        return _page("logout.html", 200, csrf_token=current.csrf_token)

    @app.post("/logout")
    def logout() -> Response | BaseResponse:
        """RP-initiated logout: the portal's session ends here, Keycloak's at its
        end-session endpoint, which comes back to the portal."""
        current = signed_in()
        if current is None:
            return redirect("/")
        if not current.accepts(request.form.get("csrf_token", "")):
            log.warning("sign-out refused: the form's CSRF token does not match")
            return _page("problem.html", 400, title="Sign-out did not complete",
                         message="The sign-out form was not this page's. Use the "
                                 "Sign out button in MikroCloud.")
        forget()
        session.clear()
        if not current.id_token:
            return redirect("/")
        end_session = keycloak.create_logout_url(
            post_logout_redirect_uri=f"{settings.portal_url}/",
            id_token_hint=current.id_token, client_id=settings.client_id)
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


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _page(template: str, status: int, **context: Any) -> Response:
    response = Response(render_template(template, **context), status=status)
    response.headers["Cache-Control"] = "no-store"
    return response
