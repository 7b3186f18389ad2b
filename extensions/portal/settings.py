"""The portal's settings (idpack.settings): its public URL, where Keycloak and the sidecar
are (the local stack's when unset), its client, and how it serves."""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import urlsplit

from pydantic import field_validator

from idpack.keycloak.oidc import issuer
from idpack.settings import RealmServiceSettings, StoreLocation, setting


def _bound(data: dict[str, Any]) -> tuple[str, int]:
    """Host and port the public URL names (behind a proxy, set them apart)."""
    parts = urlsplit(str(data.get("portal_url", "")))
    try:
        port = parts.port
    except ValueError:
        port = None
    return parts.hostname or "127.0.0.1", port or (443 if parts.scheme == "https" else 80)


class PortalSettings(RealmServiceSettings):
    service = "portal"
    portal_url: str = setting("http://127.0.0.1:3000", "IDPACK_PORTAL_URL",
                              "The portal's public URL; its redirect URIs hang under it")
    sidecar_url: str = setting("http://127.0.0.1:8000", "IDPACK_SIDECAR_URL",
                               "The sidecar", stack_key="sidecar_url")
    secret_key: str = setting(..., "IDPACK_PORTAL_SECRET_KEY", "Signs the session cookie "
                              "(generated at start when unset)", secret=True,
                              derived=lambda _: secrets.token_urlsafe(32))
    store: StoreLocation = setting(
        ..., "IDPACK_STORE", "Where signed-in sessions live: an SQLite file or a redis:// "
        "URL (default IDPACK_HOME/store.sqlite)",
        derived=lambda s: str(s["home"] / "store.sqlite"))
    client_id: str = setting("portal", "IDPACK_PORTAL_CLIENT_ID",
                             "The portal's public client")
    host: str = setting(..., "IDPACK_PORTAL_HOST", "The address to listen on (default: "
                        "IDPACK_PORTAL_URL's host)", derived=lambda s: _bound(s)[0])
    port: int = setting(..., "IDPACK_PORTAL_PORT", "The port to listen on (default: "
                        "IDPACK_PORTAL_URL's port)", derived=lambda s: _bound(s)[1])
    workers: int = setting(2, "IDPACK_PORTAL_WORKERS", "gunicorn worker processes")
    timeout: float = setting(5.0, "IDPACK_PORTAL_TIMEOUT",
                             "Seconds a call to Keycloak or the sidecar may take")
    keycloak_public_url: str | None = setting(
        None, "IDPACK_KEYCLOAK_PUBLIC_URL", "Keycloak as browsers reach it, when the "
        "portal reaches it elsewhere (behind a proxy); sign-out ends there")

    @field_validator("portal_url", "keycloak_url", "sidecar_url")
    @classmethod
    def _url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("is not an http(s) URL")
        return value.rstrip("/")

    @property
    def browser_keycloak_url(self) -> str:
        return (self.keycloak_public_url or self.keycloak_url).rstrip("/")

    @property
    def issuer(self) -> str:
        return issuer(self.keycloak_url, self.realm)

    @property
    def redirect_uri(self) -> str:
        return f"{self.portal_url}/callback"
