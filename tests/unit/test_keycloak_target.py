from __future__ import annotations

import json
from pathlib import Path

import pytest

from idpack.errors import IdpackError
from idpack.keycloak.settings import existing_keycloak, keycloak_to_talk_to
from idpack.keycloak.target import KeycloakTarget

ENV = {"KEYCLOAK_URL": "https://id.example.org/", "KEYCLOAK_ADMIN": "ops",
       "KEYCLOAK_ADMIN_PASSWORD": "s3cret-value"}


def test_environment_names_an_existing_server() -> None:
    target = existing_keycloak(ENV)

    assert target == KeycloakTarget("https://id.example.org", "ops", "s3cret-value")


def test_no_keycloak_url_means_start_our_own(tmp_path: Path) -> None:
    (tmp_path / "stack.json").write_text(json.dumps({"keycloak_url": "http://127.0.0.1:8080",
                                                     "admin_user": "a", "admin_password": "p"}))

    # A running local stack is no existing server for tests or `idpack up`.
    assert existing_keycloak({"KEYCLOAK_ADMIN": "ops", "IDPACK_HOME": str(tmp_path)}) is None


def test_url_without_credentials_is_an_error_naming_what_is_missing() -> None:
    with pytest.raises(IdpackError, match="KEYCLOAK_ADMIN_PASSWORD is not"):
        existing_keycloak({"KEYCLOAK_URL": "http://x", "KEYCLOAK_ADMIN": "ops"})


def test_the_password_never_shows_in_repr() -> None:
    target = existing_keycloak(ENV)

    assert "s3cret-value" not in repr(target)
    assert "s3cret-value" not in str(target)


def test_commands_fall_back_to_the_running_stack(tmp_path: Path) -> None:
    (tmp_path / "stack.json").write_text(json.dumps({
        "keycloak_url": "http://127.0.0.1:8080", "admin_user": "admin",
        "admin_password": "pw", "realm": None}))
    home = {"IDPACK_HOME": str(tmp_path)}

    assert keycloak_to_talk_to(home) == KeycloakTarget("http://127.0.0.1:8080", "admin", "pw")
    assert keycloak_to_talk_to({**ENV, **home}).url == "https://id.example.org"


def test_no_environment_and_no_stack_says_how_to_get_one(tmp_path: Path) -> None:
    with pytest.raises(IdpackError, match="make run"):
        keycloak_to_talk_to({"IDPACK_HOME": str(tmp_path)})


def test_a_broken_stack_file_is_named(tmp_path: Path) -> None:
    stack = tmp_path / "stack.json"
    stack.write_text("{not json")

    with pytest.raises(IdpackError, match=f"{stack} is not valid JSON"):
        keycloak_to_talk_to({"IDPACK_HOME": str(tmp_path)})
