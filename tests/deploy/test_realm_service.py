"""The realm job in production shape: it applied realm-config with REALM_ENV=production
to the fresh cluster (the README's `idpack deploy up` waited for its exit 0), said in
one line per provider which are on, switched WAYF on from its signed metadata; a
provider follows its two credential files and a rerun of the job; and the README's
CI commands plan no changes."""

from __future__ import annotations

from tests.deploy.stack import REALM, Deployment


def providers(deployment: Deployment) -> dict[str, bool]:
    exported = deployment.admin().realm(REALM).export(clients=False, roles=False)
    return {p["alias"]: p["enabled"] for p in exported.get("identityProviders", [])}


def test_the_realm_job_applied_production_with_every_provider_on(
        deployment: Deployment) -> None:
    assert deployment.state("realm") == ("exited", 0)
    log = deployment.logs("realm")
    assert "Applied" in log
    for alias in ("google", "github", "microsoft", "example-oidc"):
        assert f"identity provider {alias}: on (its credentials are set)" in log, log
    assert providers(deployment) == {"google": True, "github": True, "microsoft": True,
                                     "wayf": True, "example-oidc": True}
    clients = {c["clientId"] for c in deployment.admin().realm(REALM).clients()}
    assert {"portal", "idpack-sidecar", "idpack-password-check"} <= clients


def test_a_provider_follows_its_credential_files_and_a_rerun_of_the_realm_job(
        deployment: Deployment) -> None:
    removed = deployment.idpack("deploy", "secrets", "deploy/secrets", "--idp", "microsoft",
                                "--remove")
    assert removed.returncode == 0, removed.stderr
    off = deployment.idpack("deploy", "realm", "apply")
    assert off.returncode == 0, off.stdout + off.stderr
    assert providers(deployment)["microsoft"] is False
    assert ("identity provider microsoft: declared but off, its credentials are not set "
            "(MICROSOFT_CLIENT_ID, MICROSOFT_CLIENT_SECRET)") in off.stdout + off.stderr

    written = deployment.idpack("deploy", "secrets", "deploy/secrets", "--idp", "microsoft",
                                "--client-id", "00000000-0000-4000-8000-000000000000",
                                stdin="ms-secret-again\n")
    assert written.returncode == 0, written.stderr
    on = deployment.idpack("deploy", "realm", "apply")
    assert on.returncode == 0, on.stdout + on.stderr
    assert providers(deployment)["microsoft"] is True
    assert deployment.idpack("deploy", "realm", "plan").returncode == 0

