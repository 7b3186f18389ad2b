"""`idpack users import`, run as an operator runs it, against the real Keycloak: what it
imports, what it refuses and why, that a second run creates nobody twice, and that a run
cut off goes on where it stopped."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from idpack.keycloak.admin import KeycloakAdminClient
from idpack.keycloak.target import KeycloakTarget
from idpack.keycloak.user_import import Checkpoint, source_identity
from tests.support.realm import idpack


def write_users(path: Path, count: int, refused: tuple[int, ...] = ()) -> Path:
    lines = []
    for n in range(count):
        user: dict[str, object] = {"username": f"imported-{n:03d}", "enabled": True,
                                   "email": f"imported-{n:03d}@example.org",
                                   "firstName": "Im", "lastName": f"Ported {n}"}
        if n in refused[:1]:  # Keycloak would make the user without the role, silently
            user["realmRoles"] = ["NO-SUCH-ROLE"]
        if n in refused[1:]:  # an address another user in the same request has
            user["email"] = f"imported-{n - 1:03d}@example.org"
        lines.append(json.dumps(user))
    path.write_text("\n".join(lines) + "\n")
    return path


def usernames(keycloak_admin: KeycloakAdminClient, realm: str) -> list[str]:
    return sorted(u["username"] for u in keycloak_admin.realm(realm).all_users())


def test_an_import_run_twice_creates_nobody_twice_and_names_who_was_refused(
        keycloak: KeycloakTarget, keycloak_admin: KeycloakAdminClient, realm: str,
        tmp_path: Path) -> None:
    source = write_users(tmp_path / "users.jsonl", 120, refused=(77, 91))

    first = idpack(keycloak, "users", "import", str(source), "--realm", realm,
                   "--batch-size", "25")

    assert first.returncode == 1, first.stderr  # two users could not be imported
    assert "118 added" in first.stdout, first.stdout
    assert "refused imported-077: realm role 'NO-SUCH-ROLE' does not exist" in first.stdout
    assert "refused imported-091:" in first.stdout
    names = usernames(keycloak_admin, realm)
    assert len(names) == 118
    assert "imported-077" not in names
    assert "imported-091" not in names
    imported = keycloak_admin.realm(realm).users_by_username("imported-005")[0]
    roles = {r["name"] for r in keycloak_admin.realm(realm).effective_realm_roles_of_user(
        imported["id"])}
    assert f"default-roles-{realm}" in roles  # as a user made through the API has

    again = idpack(keycloak, "users", "import", str(source), "--realm", realm,
                   "--checkpoint", str(tmp_path / "fresh.checkpoint"))
    assert "0 added, 118 already in Keycloak (skipped)" in again.stdout, again.stdout
    assert usernames(keycloak_admin, realm) == names


def test_a_cut_off_import_goes_on_where_it_stopped(
        keycloak: KeycloakTarget, keycloak_admin: KeycloakAdminClient, realm: str,
        tmp_path: Path) -> None:
    source = write_users(tmp_path / "more.jsonl", 40)
    source.write_text(source.read_text().replace("imported-", "resumed-"))
    # What a run killed after its first 30 users leaves beside the file.
    Checkpoint(tmp_path / "more.jsonl.checkpoint", source_identity(source)).save(
        30, str(keycloak_admin.realm(realm).get()["id"]))

    resumed = idpack(keycloak, "users", "import", str(source), "--realm", realm)

    assert resumed.returncode == 0, resumed.stderr
    assert "10 added" in resumed.stdout
    assert "30 done by an earlier run" in resumed.stdout
    assert sorted(n for n in usernames(keycloak_admin, realm) if n.startswith("resumed-")) \
        == [f"resumed-{n:03d}" for n in range(30, 40)]


def test_the_same_file_into_another_realm_imports_every_user(
        keycloak: KeycloakTarget, keycloak_admin: KeycloakAdminClient, realm: str,
        fresh_realm_name: str, tmp_path: Path) -> None:
    """A checkpoint is of a file into one realm: the file's next import elsewhere (a
    staging realm, or the realm deleted and made again) must not skip what went to the
    first."""
    source = write_users(tmp_path / "again.jsonl", 12)
    source.write_text(source.read_text().replace("imported-", "twice-"))
    first = idpack(keycloak, "users", "import", str(source), "--realm", realm)
    assert "12 added" in first.stdout, first.stdout
    keycloak_admin.create_realm({"realm": fresh_realm_name, "enabled": True})

    second = idpack(keycloak, "users", "import", str(source), "--realm", fresh_realm_name)

    assert second.returncode == 0, second.stderr
    assert "12 added" in second.stdout, second.stdout
    assert len(usernames(keycloak_admin, fresh_realm_name)) == 12


def test_a_file_that_is_not_json_lines_is_named_with_its_line(
        keycloak: KeycloakTarget, realm: str, tmp_path: Path) -> None:
    source = tmp_path / "broken.jsonl"
    source.write_text('{"username": "fine"}\n{"username": \n')
    broken = idpack(keycloak, "users", "import", str(source), "--realm", realm)
    assert broken.returncode == 1
    assert f"{source}:2: not JSON" in broken.stderr


@pytest.mark.parametrize("command", [("users", "import"), ("migrate", "ucloud")])
def test_a_realm_keycloak_does_not_have_is_refused_before_anything_is_written(
        keycloak: KeycloakTarget, tmp_path: Path, command: tuple[str, str]) -> None:
    source = write_users(tmp_path / "users.jsonl", 0)
    refused = idpack(keycloak, *command, str(source), "--realm", "no-such-realm")
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert "Keycloak has no realm 'no-such-realm': apply realm-config first " \
           "(idpack realm apply)" in refused.stderr
    assert list(tmp_path.iterdir()) == [source]  # no checkpoint either
