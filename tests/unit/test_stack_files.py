from __future__ import annotations

import json
import stat
from pathlib import Path

from idpack.commands.stack_files import (
    StackFiles,
    generated_secret,
    realm_environment,
    write_json_atomically,
)
from idpack.commands.up import stack_document
from idpack.keycloak.target import KeycloakTarget


def admin_password(files: StackFiles) -> str:
    return generated_secret(files.admin_password)

DESIGN_KEYS = {"keycloak_url", "realm", "admin_user", "admin_password", "sidecar_url",
               "portal_url", "smtp_host", "smtp_port", "mail_dir"}


def test_admin_password_is_generated_once_private_and_kept(tmp_path: Path) -> None:
    files = StackFiles(tmp_path)

    first = admin_password(files)
    second = admin_password(files)

    assert first == second
    assert len(first) >= 20
    assert first != "admin"
    assert stat.S_IMODE(files.admin_password.stat().st_mode) == 0o600


def test_each_new_state_folder_gets_a_different_password(tmp_path: Path) -> None:
    assert admin_password(StackFiles(tmp_path / "a")) != admin_password(StackFiles(tmp_path / "b"))


def test_stack_json_has_exactly_the_documented_keys(tmp_path: Path) -> None:
    files = StackFiles(tmp_path)
    document = stack_document(KeycloakTarget("http://127.0.0.1:8080", "admin", "pw"), files,
                              "mikrocloud")

    write_json_atomically(files.stack_json, document)

    written = json.loads(files.stack_json.read_text())
    assert set(written) == DESIGN_KEYS
    assert written["keycloak_url"] == "http://127.0.0.1:8080"
    assert written["realm"] == "mikrocloud"
    assert stat.S_IMODE(files.stack_json.stat().st_mode) == 0o600
    assert not list(tmp_path.glob(".*.tmp"))


def test_the_realm_secrets_are_generated_once_unless_the_environment_sets_them(
        tmp_path: Path) -> None:
    files = StackFiles(tmp_path)

    first = realm_environment(files, {"EXAMPLE_SERVICE_CLIENT_SECRET": "from-env", "PATH": "/x"})
    second = realm_environment(files, {})

    assert first["EXAMPLE_SERVICE_CLIENT_SECRET"] == "from-env"
    assert first["PATH"] == "/x"
    assert first["IDPACK_SIDECAR_CLIENT_SECRET"] == second["IDPACK_SIDECAR_CLIENT_SECRET"]
    assert second["EXAMPLE_SERVICE_CLIENT_SECRET"] != "from-env"
    for secret in files.secrets_dir.iterdir():
        assert stat.S_IMODE(secret.stat().st_mode) == 0o600
