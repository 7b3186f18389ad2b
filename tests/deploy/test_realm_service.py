"""The one-shot realm service: it applied realm-config to the fresh cluster when the
stack came up (the fixture waits for its exit 0), and run again it plans no changes."""

from __future__ import annotations

from tests.deploy.stack import REALM, Deployment


def test_the_realm_service_applied_realm_config_to_the_fresh_cluster(
        deployment: Deployment) -> None:
    assert deployment.state("realm") == ("exited", 0)
    log = deployment.logs("realm")
    assert "Applied" in log
    api = deployment.admin().realm(REALM)
    clients = {c["clientId"] for c in api.clients()}
    assert {"portal", "idpack-sidecar", "idpack-password-check"} <= clients


def test_a_second_run_plans_no_changes(deployment: Deployment) -> None:
    done = deployment.compose("run", "--rm", "--no-deps", "realm", "realm", "plan",
                              "--env", "staging", check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "matches the configuration: no changes" in done.stdout
