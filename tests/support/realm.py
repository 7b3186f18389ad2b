"""The MikroCloud realm file with test secrets, applied through the engine or the real CLI
(the realm-as-code tests, the sidecar's and the portal's, and the benchmarks)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from idpack.keycloak.admin import KeycloakAdminClient
from idpack.keycloak.target import KeycloakTarget
from provisioning.config import LoadedConfig, load_config
from provisioning.engine import apply_plan, plan_realm
from provisioning.plan import Plan

REPO = Path(__file__).resolve().parents[2]
MIKROCLOUD = REPO / "realm-config" / "mikrocloud.yaml"
SECRETS = {
    "IDPACK_SIDECAR_CLIENT_SECRET": "sidecar-secret-4f1c",
    "IDPACK_PASSWORD_CHECK_CLIENT_SECRET": "password-check-secret-77ab",
    "EXAMPLE_SERVICE_CLIENT_SECRET": "example-service-secret-0d2e",
    "GOOGLE_CLIENT_ID": "google-client", "GOOGLE_CLIENT_SECRET": "google-secret-9c1a",
    "GITHUB_CLIENT_ID": "github-client", "GITHUB_CLIENT_SECRET": "github-secret-5b7d",
    "MICROSOFT_CLIENT_ID": "microsoft-client", "MICROSOFT_CLIENT_SECRET": "ms-secret-3e8f",
}


def token_client(name: str, secret_env: str, attributes: str | None = None) -> str:
    """Realm-file YAML (under `clients:`) for a client that only the tests and benchmarks
    use: user tokens by password (the portal uses the browser flow), carrying the
    sidecar's audience as the portal's do. The realm's own direct-grant flow wants a
    TOTP code always; this client uses Keycloak's built-in one, which asks users who
    have TOTP for the code (as `totp`) and the others for nothing more."""
    extra = f"\n    attributes: {attributes}" if attributes else ""
    return f"""
  {name}:
    publicClient: false
    standardFlowEnabled: false
    directAccessGrantsEnabled: true
    authenticationFlowBindingOverrides: {{direct_grant: direct grant}}
    secret: "${{env:{secret_env}}}"{extra}
    protocolMappers:
      audience: {{type: oidc-audience-mapper, config: {{
        included.client.audience: idpack-sidecar, access.token.claim: true}}}}"""


@contextmanager
def applied(admin: KeycloakAdminClient, realm: str, *overlays: Path) -> Iterator[str]:
    """The MikroCloud file applied to a realm of this name (made afresh), deleted after."""
    if realm in admin.realm_names():
        admin.delete_realm(realm)
    apply(admin, load(realm, *overlays))
    try:
        yield realm
    finally:
        admin.delete_realm(realm)


def written(path: Path, text: str, env: dict[str, str], realm: str) -> LoadedConfig:
    """A realm file of the test's own, written to `path` and loaded."""
    path.write_text(text, encoding="utf-8")
    return load_config([path], env, realm=realm)


@contextmanager
def realm_from(admin: KeycloakAdminClient, loaded: LoadedConfig) -> Iterator[str]:
    """The file applied to a realm made afresh, deleted after."""
    name = loaded.config.realm
    if name in admin.realm_names():
        admin.delete_realm(name)
    apply(admin, loaded)
    try:
        yield name
    finally:
        if name in admin.realm_names():
            admin.delete_realm(name)


def load(realm: str, *overlays: Path, env: dict[str, str] | None = None) -> LoadedConfig:
    return load_config([MIKROCLOUD, *overlays], env or SECRETS, realm=realm)


def plan(admin: KeycloakAdminClient, loaded: LoadedConfig, prune_all: bool = False) -> Plan:
    return plan_realm(admin.realm(loaded.config.realm), loaded.config,
                      base_dir=MIKROCLOUD.parent, prune_all=prune_all)


def apply(admin: KeycloakAdminClient, loaded: LoadedConfig, prune_all: bool = False) -> Plan:
    result = plan(admin, loaded, prune_all)
    apply_plan(admin.realm(loaded.config.realm), result, lambda line: None)
    return result


def idpack(keycloak: KeycloakTarget, *args: str, env: dict[str, str] | None = None,
           timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """The real CLI, as CI or a person runs it."""
    full_env = {**os.environ, **SECRETS, **(env or {}), "KEYCLOAK_URL": keycloak.url,
                "KEYCLOAK_ADMIN": keycloak.admin_user,
                "KEYCLOAK_ADMIN_PASSWORD": keycloak.admin_password}
    return subprocess.run([sys.executable, "-m", "idpack", *args], env=full_env, cwd=REPO,
                          capture_output=True, text=True, timeout=timeout, check=False)
