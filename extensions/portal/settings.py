"""The portal's settings, from the environment (with the local stack's stack.json as the
fallback for where Keycloak and the sidecar are, as the sidecar does)."""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Self
from urllib.parse import urlsplit

from idpack.errors import IdpackError
from idpack.keycloak.oidc import issuer
from idpack.settings import DEFAULT_REALM
from idpack.settings import _int as whole_number

DEFAULT_PORTAL_URL = "http://127.0.0.1:3000"
DEFAULT_SIDECAR_URL = "http://127.0.0.1:8000"


@dataclass(frozen=True)
class PortalSettings:
    portal_url: str  # public base URL; the OIDC redirect URIs hang under it
    keycloak_url: str
    realm: str
    sidecar_url: str
    secret_key: str = field(repr=False)  # signs the session cookie
    store: str = ".idpack/store.sqlite"  # signed-in sessions: an SQLite file or redis:// URL
    client_id: str = "portal"
    host: str = "127.0.0.1"
    port: int = 3000
    workers: int = 2
    timeout: float = 5.0  # seconds for each call to Keycloak or the sidecar

    @property
    def issuer(self) -> str:
        return issuer(self.keycloak_url, self.realm)

    @property
    def redirect_uri(self) -> str:
        return f"{self.portal_url}/callback"

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ,
                 stack_file: Path | None = None) -> Self:
        stack = _stack_document(
            stack_file or Path(env.get("IDPACK_HOME") or ".idpack") / "stack.json")
        keycloak_url = (env.get("KEYCLOAK_URL") or str(stack.get("keycloak_url") or "")
                        ).rstrip("/")
        if not keycloak_url:
            raise IdpackError("the portal needs KEYCLOAK_URL (or a running `make run` stack) "
                              "to reach Keycloak")
        portal_url = (env.get("IDPACK_PORTAL_URL") or DEFAULT_PORTAL_URL).rstrip("/")
        bound_host, bound_port = _host_and_port(portal_url)
        return cls(
            portal_url=portal_url,
            keycloak_url=keycloak_url,
            realm=env.get("IDPACK_REALM") or str(stack.get("realm") or DEFAULT_REALM),
            sidecar_url=(env.get("IDPACK_SIDECAR_URL") or str(stack.get("sidecar_url") or "")
                         or DEFAULT_SIDECAR_URL).rstrip("/"),
            # Generated once here, before gunicorn forks, so every worker shares it;
            # sessions then end when the process does.
            secret_key=env.get("IDPACK_PORTAL_SECRET_KEY") or secrets.token_urlsafe(32),
            store=env.get("IDPACK_STORE")
            or str(Path(env.get("IDPACK_HOME") or ".idpack") / "store.sqlite"),
            client_id=env.get("IDPACK_PORTAL_CLIENT_ID") or "portal",
            # Behind a reverse proxy the public URL is not what to bind to.
            host=env.get("IDPACK_PORTAL_HOST") or bound_host,
            port=whole_number(env, "IDPACK_PORTAL_PORT", bound_port),
            workers=whole_number(env, "IDPACK_PORTAL_WORKERS", 2),
        )


def _stack_document(path: Path) -> dict[str, object]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except ValueError as exc:
        raise IdpackError(f"{path} is not valid JSON: {exc}") from None
    return document if isinstance(document, dict) else {}


def _host_and_port(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise IdpackError(f"IDPACK_PORTAL_URL={url!r} is not an http(s) URL")
    try:
        port = parts.port
    except ValueError:
        raise IdpackError(f"IDPACK_PORTAL_URL={url!r} has no valid port") from None
    return parts.hostname, port or (443 if parts.scheme == "https" else 80)
