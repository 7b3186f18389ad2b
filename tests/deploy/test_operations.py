"""What an operator sees and runs: `idpack deploy status` (each check run now, since
podman runs none by itself), a frozen sidecar found unhealthy, the README's backup
(written whole, a real pg_dump), and `idpack deploy up` failing at once, with the
reasons, where compose would have failed late or hung."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

from tests.deploy.stack import Deployment, copy_checkout


def test_status_shows_every_service_healthy_and_the_realm_in_sync(
        deployment: Deployment) -> None:
    done = deployment.idpack("deploy", "status", "--json")

    assert done.returncode == 0, done.stdout + done.stderr
    status = json.loads(done.stdout)
    states = {s["service"]: s for s in status["services"]}
    assert set(states) >= {"postgres", "keycloak-1", "keycloak-2", "redis", "realm",
                           "metadata-refresh", "sidecar-1", "sidecar-2", "relay-1",
                           "relay-2", "geo-worker", "portal", "proxy"}
    for service, state in states.items():
        if service == "realm":
            assert (state["status"], state["exit_code"]) == ("exited", 0)
        else:
            assert (state["status"], state["health"]) == ("running", "healthy"), state
    assert status["realm"] == "in sync with realm-config"


def test_the_keycloak_nodes_started_one_at_a_time_on_the_new_database(
        deployment: Deployment) -> None:
    """Keycloak 26.3+ lets two nodes that start at once on an empty database both create
    the schema (CI saw keycloak-2 exit: "relation databasechangelog already exists");
    the image's start-in-turn makes the second wait for the first to be ready."""
    logs = {node: deployment.logs(node) for node in ("keycloak-1", "keycloak-2")}
    for node, log in logs.items():
        assert "start-in-turn: this node's turn to start" in log, (node, log[-2000:])
        assert "already exists" not in log, (node, log[-3000:])
    assert any("start-in-turn: waiting while another Keycloak node starts" in log
               for log in logs.values()), {node: log[:2000] for node, log in logs.items()}


def test_a_frozen_sidecar_is_reported_unhealthy(deployment: Deployment) -> None:
    deployment.podman("pause", deployment.container("sidecar-2"))
    try:
        done = deployment.idpack("deploy", "status", "--no-plan")
    finally:
        deployment.podman("unpause", deployment.container("sidecar-2"))

    assert done.returncode == 1
    assert re.search(r"sidecar-2\s+paused\s+\S+", done.stdout), done.stdout
    assert re.search(r"sidecar-1\s+running\s+healthy", done.stdout), done.stdout


def test_the_readmes_backup_is_a_whole_pg_dump(deployment: Deployment) -> None:
    [dump] = deployment.checkout.glob("keycloak-*.dump")  # README, "Operating it"
    assert dump.read_bytes()[:5] == b"PGDMP"
    listed = subprocess.run(["pg_restore", "--list", str(dump)], capture_output=True,
                            text=True, check=False)
    assert listed.returncode == 0, listed.stderr
    assert "TABLE DATA public user_entity" in listed.stdout
    assert not list(deployment.checkout.glob(".keycloak-*.partial"))


def test_up_fails_at_once_naming_what_is_missing(deployment: Deployment,
                                                 tmp_path: Path) -> None:
    """A checkout with no secrets, an .env without the mail server, and images of a tag
    nobody built: nothing starts, and each reason is named."""
    checkout = copy_checkout(tmp_path / "checkout")
    shutil.rmtree(checkout / "deploy" / "secrets", ignore_errors=True)
    (checkout / ".env").write_text(
        "COMPOSE_FILE=docker-compose.yml:deploy/compose.host-network.yml\n"
        "PUBLIC_HOST=localhost\nPUBLIC_URL=https://localhost:18443\nIMAGE_TAG=never-built\n")
    env = {**deployment.env, "COMPOSE_PROJECT_NAME": "idpack-preflight"}

    done = subprocess.run([sys.executable, "-m", "idpack", "deploy", "up"], cwd=checkout,
                          env=env, capture_output=True, text=True, timeout=120, check=False)

    assert done.returncode == 1
    assert "RELAY_UPSTREAM is not set" in done.stderr
    assert "secrets missing in" in done.stderr
    assert "image localhost/idpack:never-built is not built: idpack deploy build" in done.stderr
    assert "Traceback" not in done.stderr
    assert deployment.podman("ps", "--all", "--quiet", "--filter",
                             "label=com.docker.compose.project=idpack-preflight") == ""
