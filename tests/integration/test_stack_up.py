"""`idpack up`, the command behind `make run`, as a user runs it."""

from __future__ import annotations

import json
import os
import signal
import smtplib
import stat
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import requests

from idpack.keycloak.admin import KeycloakAdminClient
from idpack.keycloak.target import KeycloakTarget
from idpack.processes import free_port
from tests.support.processes import processes_mentioning

REPO = Path(__file__).resolve().parents[2]


def start_up(state: Path, port: int, management_port: int, log: Path,
             sidecar_port: int, relay_port: int, metrics_port: int,
             portal_port: int) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items()
           if k not in {"KEYCLOAK_URL", "KEYCLOAK_ADMIN", "KEYCLOAK_ADMIN_PASSWORD"}}
    env |= {"IDPACK_HOME": str(state), "IDPACK_KEYCLOAK_PORT": str(port),
            "IDPACK_KEYCLOAK_MANAGEMENT_PORT": str(management_port),
            "IDPACK_SIDECAR_PORT": str(sidecar_port), "IDPACK_RELAY_PORT": str(relay_port),
            "IDPACK_RELAY_METRICS_PORT": str(metrics_port),
            "IDPACK_PORTAL_PORT": str(portal_port)}
    with log.open("wb") as out:
        # Started as a shell starts a background job, with SIGINT ignored: Ctrl-C handling
        # must not depend on what idpack inherited.
        return subprocess.Popen([sys.executable, "-m", "idpack", "up"], env=env, cwd=REPO,
                                stdout=out, stderr=subprocess.STDOUT,
                                preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))


def wait_for_stack(process: subprocess.Popen[bytes], stack_json: Path, log: Path) -> dict[str, Any]:
    deadline = time.monotonic() + 300
    while not stack_json.exists():
        assert process.poll() is None, log.read_text()
        assert time.monotonic() < deadline, log.read_text()
        time.sleep(0.5)
    document: dict[str, Any] = json.loads(stack_json.read_text())
    return document


def interrupt(process: subprocess.Popen[bytes]) -> int:
    process.send_signal(signal.SIGINT)  # what Ctrl-C sends
    return process.wait(timeout=60)


def test_up_serves_keycloak_writes_stack_json_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    state = tmp_path / ".idpack"
    port, management_port, sidecar_port, relay_port, metrics_port, portal_port = (
        free_port(), free_port(), free_port(), free_port(), free_port(), free_port())
    log = tmp_path / "up.log"

    process = start_up(state, port, management_port, log, sidecar_port, relay_port,
                       metrics_port, portal_port)
    try:
        stack = wait_for_stack(process, state / "stack.json", log)

        assert stack["keycloak_url"] == f"http://127.0.0.1:{port}"
        assert stack["admin_user"] == "admin"
        password = (state / "admin-password").read_text().strip()
        assert stack["admin_password"] == password
        assert stat.S_IMODE((state / "admin-password").stat().st_mode) == 0o600
        console = requests.get(f"{stack['keycloak_url']}/admin/master/console/", timeout=10)
        assert console.status_code == 200
        assert "Keycloak" in console.text
        target = KeycloakTarget(stack["keycloak_url"], stack["admin_user"], password)
        admin = KeycloakAdminClient.connect(target)
        assert stack["realm"] == "mikrocloud"
        realm = admin.realm("mikrocloud").get()  # applied from realm-config with dev.yaml
        assert realm["verifyEmail"] is True
        assert realm["registrationAllowed"] is True
        assert stack["sidecar_url"] == f"http://127.0.0.1:{sidecar_port}"
        assert requests.get(f"{stack['sidecar_url']}/readyz", timeout=10).status_code == 200
        unauthenticated = requests.get(f"{stack['sidecar_url']}/auth/users/userInfo", timeout=10)
        assert unauthenticated.status_code == 401
        assert (stack["smtp_host"], stack["smtp_port"]) == ("127.0.0.1", relay_port)
        assert stack["mail_dir"] == str(state / "mail")
        with smtplib.SMTP("127.0.0.1", relay_port, timeout=10) as relay:
            assert relay.ehlo()[1].decode().startswith("mailman.mikrocloud.com")
        assert stack["portal_url"] == f"http://127.0.0.1:{portal_port}"
        welcome = requests.get(stack["portal_url"], timeout=10)
        assert welcome.status_code == 200
        assert "Create account" in welcome.text
        portal = admin.realm("mikrocloud").client_by_client_id("portal")
        assert portal is not None
        assert portal["redirectUris"] == [f"{stack['portal_url']}/*"]
        assert "polling every" in (state / "geo-worker.log").read_text()
        metrics = requests.get(f"http://127.0.0.1:{metrics_port}/metrics", timeout=10).text
        assert "idpack_relay_queue_depth 0.0" in metrics
        smtp = admin.realm("mikrocloud").get()["smtpServer"]
        assert (smtp["host"], smtp["port"]) == ("127.0.0.1", str(relay_port))
        assert (state / "keycloak" / "data" / "h2").is_dir()  # the database stays in .idpack
        banner = log.read_text()
        assert f"Admin console:   http://127.0.0.1:{port}/admin/" in banner
        assert f"Register here:   {stack['portal_url']}/register" in banner
        assert password not in banner
        assert processes_mentioning(str(state))

        # What a new user types next, in another shell: the local stack is the target,
        # with its realm files and generated secrets; the DKIM records need no selector.
        shell = {k: v for k, v in os.environ.items()
                 if k not in {"KEYCLOAK_URL", "KEYCLOAK_ADMIN", "KEYCLOAK_ADMIN_PASSWORD"}
                 and not k.endswith("_CLIENT_SECRET")} | {"IDPACK_HOME": str(state)}
        plan = subprocess.run([sys.executable, "-m", "idpack", "realm", "plan"], env=shell,
                              cwd=REPO, capture_output=True, text=True, timeout=120, check=False)
        assert plan.returncode == 0, plan.stdout + plan.stderr
        assert "matches the configuration: no changes" in plan.stdout
        assert "Against the local stack" in plan.stderr
        assert "EXAMPLE_SERVICE_CLIENT_SECRET" in plan.stderr
        records = subprocess.run([sys.executable, "-m", "idpack", "dkim", "dns"], env=shell,
                                 cwd=REPO, capture_output=True, text=True, timeout=60,
                                 check=False)
        assert records.returncode == 0, records.stderr
        assert "idpack-rsa._domainkey.mikrocloud.com. IN TXT" in records.stdout
    finally:
        code = interrupt(process)

    assert code == 0
    assert not (state / "stack.json").exists()
    assert processes_mentioning(str(state)) == []
    with pytest.raises(requests.ConnectionError):
        requests.get(f"http://127.0.0.1:{sidecar_port}/healthz", timeout=5)
    with pytest.raises(ConnectionRefusedError):
        smtplib.SMTP("127.0.0.1", relay_port, timeout=5)

    # A second run finds the same database, so the same generated admin works again.
    process = start_up(state, port, management_port, log, sidecar_port, relay_port,
                       metrics_port, portal_port)
    try:
        again = wait_for_stack(process, state / "stack.json", log)
        assert again["admin_password"] == password
        KeycloakAdminClient.connect(target)
    finally:
        assert interrupt(process) == 0
    assert processes_mentioning(str(state)) == []
