"""`idpack realm ...` as CI and people run it: exit codes, output, secrets, export,
and an apply killed halfway."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from idpack.keycloak.admin import KeycloakAdminClient
from idpack.keycloak.oidc import client_credentials_token
from idpack.keycloak.target import KeycloakTarget
from tests.support.realm import REPO, SECRETS, idpack


def test_plan_apply_and_rotate_a_secret_without_ever_printing_one(
        keycloak: KeycloakTarget, keycloak_admin: KeycloakAdminClient,
        fresh_realm_name: str) -> None:
    realm = fresh_realm_name
    first = idpack(keycloak, "realm", "plan", "--realm", realm)
    assert first.returncode == 2, first.stderr
    assert f"+ realm {realm}" in first.stdout

    applied = idpack(keycloak, "realm", "apply", "--realm", realm, "--auto-approve")
    assert applied.returncode == 0, applied.stderr
    assert "Applied" in applied.stderr
    in_sync = idpack(keycloak, "realm", "plan", "--realm", realm, "--json")
    assert in_sync.returncode == 0
    assert json.loads(in_sync.stdout)["in_sync"] is True

    rotated = {"EXAMPLE_SERVICE_CLIENT_SECRET": "rotated-example-secret-61f0"}
    drift = idpack(keycloak, "realm", "plan", "--realm", realm, "--json", env=rotated)
    assert drift.returncode == 2
    assert json.loads(drift.stdout)["changes"] == [{
        "kind": "client", "name": "example-service", "action": "update",
        "fields": [{"path": "secret", "secret": True}]}]
    rotation = idpack(keycloak, "realm", "apply", "--realm", realm, "--auto-approve", env=rotated)
    assert rotation.returncode == 0, rotation.stderr
    assert "secret: (secret changed)" in rotation.stdout

    outputs = "".join(r.stdout + r.stderr for r in (first, applied, in_sync, drift, rotation))
    for secret in [*SECRETS.values(), *rotated.values()]:
        if "secret" in secret:
            assert secret not in outputs
    new = client_credentials_token(keycloak.url, realm, "example-service",
                                   rotated["EXAMPLE_SERVICE_CLIENT_SECRET"])
    old = client_credentials_token(keycloak.url, realm, "example-service",
                                   SECRETS["EXAMPLE_SERVICE_CLIENT_SECRET"])
    assert (new.status_code, old.status_code) == (200, 401)
    assert idpack(keycloak, "realm", "plan", "--realm", realm, env=rotated).returncode == 0


def test_an_invalid_file_is_an_error_naming_the_line_and_changes_nothing(
        keycloak: KeycloakTarget, keycloak_admin: KeycloakAdminClient, fresh_realm_name: str,
        tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("settings:\n  verifyEmail: sometimes\n")

    result = idpack(keycloak, "realm", "apply", "--realm", fresh_realm_name, "--auto-approve",
                    "-f", "realm-config/mikrocloud.yaml", "-f", str(broken))

    assert result.returncode == 1
    assert f"{broken}:2: settings.verifyEmail: Input should be a valid boolean" in result.stderr
    assert "Traceback" not in result.stderr
    assert fresh_realm_name not in keycloak_admin.realm_names()


def test_a_missing_secret_stops_before_any_change(
        keycloak: KeycloakTarget, keycloak_admin: KeycloakAdminClient,
        fresh_realm_name: str) -> None:
    missing = "EXAMPLE_SERVICE_CLIENT_SECRET"  # an enabled client's: required
    env = {k: v for k, v in os.environ.items() if k != missing}
    result = subprocess.run(
        [sys.executable, "-m", "idpack", "realm", "apply", "--realm", fresh_realm_name,
         "--auto-approve"], cwd=REPO, capture_output=True, text=True, check=False, timeout=60,
        env={**env, **{k: v for k, v in SECRETS.items() if k != missing},
             "KEYCLOAK_URL": keycloak.url, "KEYCLOAK_ADMIN": keycloak.admin_user,
             "KEYCLOAK_ADMIN_PASSWORD": keycloak.admin_password})

    assert result.returncode == 1
    assert ("clients.example-service.secret: secret ${env:EXAMPLE_SERVICE_CLIENT_SECRET}: "
            "environment variable EXAMPLE_SERVICE_CLIENT_SECRET is not set") in result.stderr
    # One problem, counted as one; the hint after it is not counted.
    assert "idpack: error: 1 problem(s):" in result.stderr
    assert "Export the variables named above" in result.stderr
    assert fresh_realm_name not in keycloak_admin.realm_names()


def test_social_providers_follow_their_credentials_one_line_each(
        keycloak: KeycloakTarget, keycloak_admin: KeycloakAdminClient,
        fresh_realm_name: str) -> None:
    """mikrocloud.yaml's `enabled: if-configured`: with no credentials GitHub is not made,
    with both it is made and on, without them again it is switched off and kept."""
    realm = fresh_realm_name
    no_github = {"GITHUB_CLIENT_ID": "", "GITHUB_CLIENT_SECRET": ""}
    first = idpack(keycloak, "realm", "apply", "--realm", realm, "--auto-approve", env=no_github)
    assert first.returncode == 0, first.stderr
    assert ("identity provider github: declared but off, its credentials are not set "
            "(GITHUB_CLIENT_ID, GITHUB_CLIENT_SECRET)") in first.stderr
    assert "identity provider google: on (its credentials are set)" in first.stderr
    assert ("identity provider example-oidc: declared but off, its credentials are not set "
            "(EXAMPLE_OIDC_ISSUER, EXAMPLE_OIDC_CLIENT_ID, EXAMPLE_OIDC_CLIENT_SECRET)"
            ) in first.stderr
    providers = {p["alias"]: p for p in keycloak_admin.realm(realm).export(
        clients=False, roles=False)["identityProviders"]}
    assert "github" not in providers
    assert providers["google"]["enabled"] is True
    assert idpack(keycloak, "realm", "plan", "--realm", realm, env=no_github).returncode == 0

    on = idpack(keycloak, "realm", "apply", "--realm", realm, "--auto-approve")
    assert on.returncode == 0, on.stderr
    assert "+ identity provider github" in on.stdout
    assert idpack(keycloak, "realm", "plan", "--realm", realm).returncode == 0

    off = idpack(keycloak, "realm", "apply", "--realm", realm, "--auto-approve", env=no_github)
    assert off.returncode == 0, off.stderr
    assert "enabled: true -> false" in off.stdout
    github = keycloak_admin.send("GET", f"/admin/realms/{realm}/identity-provider/"
                                        "instances/github")
    assert github["enabled"] is False
    assert github["config"]["clientId"] == SECRETS["GITHUB_CLIENT_ID"]
    assert idpack(keycloak, "realm", "plan", "--realm", realm, env=no_github).returncode == 0


def test_export_then_plan_shows_no_changes(keycloak: KeycloakTarget, fresh_realm_name: str,
                                           tmp_path: Path) -> None:
    realm = fresh_realm_name
    assert idpack(keycloak, "realm", "apply", "--realm", realm, "--auto-approve").returncode == 0
    exported = tmp_path / "exported.yaml"

    result = idpack(keycloak, "realm", "export", "--realm", realm, "-o", str(exported))

    assert result.returncode == 0, result.stderr
    text = exported.read_text()
    assert "${env:IDPACK_SIDECAR_CLIENT_SECRET}" in text
    assert not any(secret in text for secret in SECRETS.values() if "secret" in secret)
    replan = idpack(keycloak, "realm", "plan", "-f", str(exported))
    assert replan.returncode == 0, replan.stdout + replan.stderr
    assert "matches the configuration" in replan.stdout


def test_an_apply_killed_halfway_converges_when_run_again(
        keycloak: KeycloakTarget, keycloak_admin: KeycloakAdminClient,
        fresh_realm_name: str) -> None:
    realm = fresh_realm_name
    env = {**os.environ, **SECRETS, "KEYCLOAK_URL": keycloak.url,
           "KEYCLOAK_ADMIN": keycloak.admin_user,
           "KEYCLOAK_ADMIN_PASSWORD": keycloak.admin_password}
    process = subprocess.Popen(
        [sys.executable, "-m", "idpack", "realm", "apply", "--realm", realm, "--auto-approve"],
        cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    assert process.stderr is not None
    for line in process.stderr:
        if line.startswith("[20/"):  # mid-way: clients being created
            process.send_signal(signal.SIGKILL)
            break
    process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL
    halfway = idpack(keycloak, "realm", "plan", "--realm", realm)
    assert halfway.returncode == 2

    again = idpack(keycloak, "realm", "apply", "--realm", realm, "--auto-approve")

    assert again.returncode == 0, again.stderr
    assert idpack(keycloak, "realm", "plan", "--realm", realm).returncode == 0
