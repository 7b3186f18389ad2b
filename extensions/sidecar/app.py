"""The sidecar's Flask app: `create_app(settings)` builds it, one blueprint per family
of RPCs."""

from __future__ import annotations

import logging
from pathlib import Path

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from extensions.sidecar.blueprints import (
    admin_users,
    lookups,
    passwords,
    principals,
    profile,
    service,
    short_links,
)
from extensions.sidecar.context import ACTIVE_TOKENS, DIRECTORY, SETTINGS, STORE, TOKENS
from extensions.sidecar.directory import Directory
from extensions.sidecar.errors import install_error_handlers
from extensions.sidecar.settings import SidecarSettings
from extensions.sidecar.tokens import ActiveTokens, TokenVerifier
from extensions.sidecar.user_index import IndexTiming
from idpack.keycloak.admin import KeycloakAdminClient, ServiceAccountLogin
from idpack.keycloak.oidc import jwks_uri
from idpack.page_headers import protect_pages
from idpack.store import open_store

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"


def create_app(settings: SidecarSettings) -> Flask:
    # Its own static path: behind one proxy with the portal, /static is the portal's.
    app = Flask("idpack.sidecar", template_folder=str(TEMPLATES), static_folder=str(STATIC),
                static_url_path="/sidecar-static")
    protect_pages(app)  # the short-link pages and /docs
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    app.json.sort_keys = False  # type: ignore[attr-defined]
    keycloak = KeycloakAdminClient.for_service_account(
        settings.keycloak_url,
        ServiceAccountLogin(settings.realm, settings.client_id, settings.client_secret),
        timeout=settings.keycloak_timeout)
    app.extensions[SETTINGS] = settings
    app.extensions[STORE] = open_store(settings.store)
    if settings.trusted_proxies:
        # Behind a reverse proxy the client's address is in X-Forwarded-For.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.trusted_proxies)  # type: ignore[method-assign]
    directory = Directory(keycloak, settings.realm, app.extensions[STORE])
    if settings.index_users:
        directory.follow_users(settings.user_index,
                               IndexTiming(backfill=settings.backfill_uids))
    app.extensions[DIRECTORY] = directory
    app.extensions[TOKENS] = TokenVerifier(
        jwks_uri(settings.keycloak_url, settings.realm), settings.issuer, settings.audience,
        leeway=settings.leeway_seconds)
    app.extensions[ACTIVE_TOKENS] = ActiveTokens(
        settings.keycloak_url, settings.realm, settings.client_id, settings.client_secret,
        timeout=settings.keycloak_timeout)
    for family in (service, lookups, principals, profile, passwords, admin_users, short_links):
        app.register_blueprint(family.blueprint)
    install_error_handlers(app)
    logging.getLogger("idpack").setLevel(logging.INFO)
    return app
