"""The portal's settings: the environment first, then the local stack's stack.json."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from extensions.portal.settings import PortalSettings
from idpack.errors import IdpackError


def test_settings_come_from_the_environment_then_the_stack_file(tmp_path: Path) -> None:
    stack_file = tmp_path / "stack.json"
    stack_file.write_text(json.dumps({"keycloak_url": "http://127.0.0.1:8080/",
                                      "realm": "mikrocloud",
                                      "sidecar_url": "http://127.0.0.1:8000"}))

    home = {"IDPACK_HOME": str(tmp_path)}
    from_stack = PortalSettings.from_env(home)
    from_env = PortalSettings.from_env({
        "KEYCLOAK_URL": "https://id.mikrocloud.com", "IDPACK_REALM": "other",
        "IDPACK_PORTAL_URL": "https://portal.mikrocloud.com/",
        "IDPACK_SIDECAR_URL": "https://api.mikrocloud.com", "IDPACK_PORTAL_CLIENT_ID": "web",
        "IDPACK_PORTAL_SECRET_KEY": "fixed", **home})

    assert (from_stack.keycloak_url, from_stack.realm, from_stack.sidecar_url) == (
        "http://127.0.0.1:8080", "mikrocloud", "http://127.0.0.1:8000")
    assert (from_stack.portal_url, from_stack.host, from_stack.port, from_stack.client_id) == (
        "http://127.0.0.1:3000", "127.0.0.1", 3000, "portal")
    assert from_stack.issuer == "http://127.0.0.1:8080/realms/mikrocloud"
    assert len(from_stack.secret_key) >= 32
    assert from_stack.secret_key != PortalSettings.from_env(home).secret_key
    assert "secret_key" not in repr(from_stack)
    assert (from_env.keycloak_url, from_env.realm, from_env.sidecar_url, from_env.client_id,
            from_env.secret_key) == ("https://id.mikrocloud.com", "other",
                                     "https://api.mikrocloud.com", "web", "fixed")
    assert (from_env.redirect_uri, from_env.host, from_env.port) == (
        "https://portal.mikrocloud.com/callback", "portal.mikrocloud.com", 443)
    with pytest.raises(IdpackError, match="KEYCLOAK_URL"):
        PortalSettings.from_env({"IDPACK_HOME": str(tmp_path / "elsewhere")})
    with pytest.raises(IdpackError, match="IDPACK_PORTAL_URL"):
        PortalSettings.from_env({"KEYCLOAK_URL": "http://kc", "IDPACK_PORTAL_URL": "portal"},
                                stack_file=False)
