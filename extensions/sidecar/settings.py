"""The sidecar's settings, from the environment (with the local stack's stack.json as
the fallback for where Keycloak is)."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Self

from idpack.errors import IdpackError
from idpack.keycloak.oidc import issuer


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    try:
        return int(env.get(name) or default)
    except ValueError:
        raise IdpackError(f"{name}={env[name]!r} is not a whole number") from None


@dataclass(frozen=True)
class SidecarSettings:
    keycloak_url: str
    realm: str
    client_id: str
    client_secret: str = field(repr=False)
    password_check_client_id: str
    password_check_client_secret: str = field(repr=False)
    audience: str
    issuer: str
    portal_url: str
    # Short links are followed only to these hosts (the relay stores only these, too).
    short_link_hosts: frozenset[str] = frozenset({"127.0.0.1", "localhost"})
    public_url: str = "http://127.0.0.1:8000"
    store: str = ".idpack/store.sqlite"  # an SQLite file path or a redis:// URL
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 2525
    mail_from: str = "MikroCloud <no-reply@mikrocloud.com>"
    trusted_proxies: int = 0
    index_users: bool = True
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 2
    leeway_seconds: int = 30
    max_body_bytes: int = 256 * 1024
    # Links Keycloak mails for createNewUser's users (set a password, verify, TOTP) live
    # as long as the realm's verification links (actionTokenGeneratedByUserLifespan).
    action_link_lifespan: int = 24 * 3600
    keycloak_timeout: float = 5.0

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ,
                 stack_file: Path | None = None) -> Self:
        stack: dict[str, object] = {}
        stack_file = stack_file or Path(env.get("IDPACK_HOME") or ".idpack") / "stack.json"
        if stack_file.is_file():
            stack = json.loads(stack_file.read_text(encoding="utf-8"))
        keycloak_url = (env.get("KEYCLOAK_URL") or str(stack.get("keycloak_url") or "")).rstrip("/")
        realm = env.get("IDPACK_REALM") or str(stack.get("realm") or "mikrocloud")
        missing = [n for n, v in (("KEYCLOAK_URL", keycloak_url),
                                  ("IDPACK_SIDECAR_CLIENT_SECRET",
                                   env.get("IDPACK_SIDECAR_CLIENT_SECRET"))) if not v]
        if missing:
            raise IdpackError(f"the sidecar needs {' and '.join(missing)} (or a running "
                              "`make run` stack) to reach Keycloak")
        return cls(
            keycloak_url=keycloak_url,
            realm=realm,
            client_id=env.get("IDPACK_SIDECAR_CLIENT_ID") or "idpack-sidecar",
            client_secret=env["IDPACK_SIDECAR_CLIENT_SECRET"],
            password_check_client_id=env.get("IDPACK_PASSWORD_CHECK_CLIENT_ID")
            or "idpack-password-check",
            password_check_client_secret=env.get("IDPACK_PASSWORD_CHECK_CLIENT_SECRET") or "",
            audience=env.get("IDPACK_SIDECAR_AUDIENCE") or "idpack-sidecar",
            issuer=env.get("IDPACK_SIDECAR_ISSUER") or issuer(keycloak_url, realm),
            portal_url=(env.get("IDPACK_PORTAL_URL") or "http://127.0.0.1:3000").rstrip("/"),
            short_link_hosts=frozenset(
                h.strip() for h in (env.get("IDPACK_SHORT_LINK_HOSTS")
                                    or "127.0.0.1,localhost").split(",") if h.strip()),
            public_url=(env.get("IDPACK_SIDECAR_PUBLIC_URL") or
                        f"http://127.0.0.1:{_int(env, 'IDPACK_SIDECAR_PORT', 8000)}").rstrip("/"),
            store=env.get("IDPACK_STORE")
            or str(Path(env.get("IDPACK_HOME") or ".idpack") / "store.sqlite"),
            smtp_host=env.get("IDPACK_SMTP_HOST") or "127.0.0.1",
            smtp_port=_int(env, "IDPACK_SMTP_PORT", 2525),
            mail_from=env.get("IDPACK_MAIL_FROM") or "MikroCloud <no-reply@mikrocloud.com>",
            trusted_proxies=_int(env, "IDPACK_SIDECAR_TRUSTED_PROXIES", 0),
            index_users=(env.get("IDPACK_SIDECAR_INDEX_USERS") or "true").lower() != "false",
            host=env.get("IDPACK_SIDECAR_HOST") or "127.0.0.1",
            port=_int(env, "IDPACK_SIDECAR_PORT", 8000),
            workers=_int(env, "IDPACK_SIDECAR_WORKERS", 2),
        )
