"""The portal's Flask app: `create_app(settings)` builds it, one blueprint per area.

Sign-in is OpenID Connect's authorization code flow with PKCE (S256) through Authlib, as
the public client `portal`. Authlib keeps each attempt's state, nonce and PKCE verifier in
the signed session cookie until the callback; after it the cookie holds only the id of a
session kept on the server (extensions/portal/sessions.py), which holds the access token
(to call the sidecar), the ID token (the hint for signing out), the access token's
expiry and the CSRF token of the page's forms."""

from __future__ import annotations

import logging
from pathlib import Path
from urllib.parse import urlsplit

import requests
from authlib.integrations.flask_client import OAuth  # type: ignore[import-untyped]
from flask import Flask
from flask import Response as FlaskResponse

from extensions.portal.blueprints import profile, sign_in
from extensions.portal.context import KEYCLOAK, SESSIONS, SETTINGS, SIDECAR, page
from extensions.portal.sessions import SessionStore
from extensions.portal.settings import PortalSettings
from extensions.portal.sidecar_client import SidecarClient
from idpack.page_headers import protect_pages
from idpack.places import countries
from idpack.store import StoreUnavailable, open_store

log = logging.getLogger("idpack.portal")
TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"
SESSION_COOKIE = "mikrocloud_portal"


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
    # The sign-out form ends at Keycloak's end-session endpoint (a redirect after it).
    protect_pages(app, form_targets=[_origin(settings.browser_keycloak_url)])
    oauth = OAuth(app)
    app.extensions[KEYCLOAK] = oauth.register(
        "keycloak",
        client_id=settings.client_id,
        server_metadata_url=f"{settings.issuer}/.well-known/openid-configuration",
        client_kwargs={"scope": "openid profile email", "code_challenge_method": "S256",
                       "token_endpoint_auth_method": "none",  # a public client
                       "timeout": settings.timeout},
    )
    app.extensions[SETTINGS] = settings
    app.extensions[SESSIONS] = SessionStore(open_store(settings.store))
    app.extensions[SIDECAR] = SidecarClient(settings.sidecar_url, settings.timeout)
    for area in (sign_in, profile):
        app.register_blueprint(area.blueprint)
    app.jinja_env.globals["country_name"] = lambda code: countries().get(code, code)

    @app.errorhandler(StoreUnavailable)
    def store_away(exc: StoreUnavailable) -> FlaskResponse:
        log.warning("%s", exc)
        response = page("problem.html", 503, title="Please try again in a minute",
                        message="MikroCloud cannot reach your session right now. Nothing "
                                "is lost: try again in a minute.")
        response.headers["Retry-After"] = "30"
        return response

    @app.errorhandler(requests.RequestException)
    def keycloak_unreachable(exc: requests.RequestException) -> FlaskResponse:
        log.warning("Keycloak is unreachable: %s", exc)
        return page("problem.html", 502, title="Sign-in is unavailable",
                    message="MikroCloud's sign-in service is not answering. Please try "
                            "again in a moment.")

    return app


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"
