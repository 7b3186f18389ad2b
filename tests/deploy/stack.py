"""The compose stack under test: its addresses on loopback (deploy/compose.host-network.yml),
podman-compose to drive it, and podman to stop, kill and restart its parts."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import requests

from idpack.keycloak.admin import KeycloakAdminClient
from idpack.keycloak.target import KeycloakTarget
from tests.support.smtp_peer import Received

PROJECT = "idpack-test"
PUBLIC_URL = "https://localhost:18443"
INTERNAL_URL = "http://127.0.0.1:18081"   # the proxy's inside listener: Keycloak, sidecars
REALM = "mikrocloud"
# Where each part answers on loopback (compose.host-network.yml).
KEYCLOAK_HEALTH = {"keycloak-1": "http://127.0.0.1:19000/health/ready",
                   "keycloak-2": "http://127.0.0.1:19001/health/ready"}
SIDECARS = {"sidecar-1": "http://127.0.0.1:18000", "sidecar-2": "http://127.0.0.1:18001"}
RELAYS = {"relay-1": 12525, "relay-2": 12526}
RELAY_METRICS = {"relay-1": "http://127.0.0.1:19025/metrics",
                 "relay-2": "http://127.0.0.1:19026/metrics"}
PORTAL = "http://127.0.0.1:13000"
REDIS_URL = "redis://127.0.0.1:16379/0"


@dataclass
class Deployment:
    files: list[Path]
    variables: dict[str, str]
    secrets_dir: Path
    mail: Received
    ready_seconds: float = 0.0
    log: list[str] = field(default_factory=list)

    def compose(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "podman_compose", "--project-name", PROJECT,
                   *[arg for f in self.files for arg in ("-f", str(f))], *args]
        done = subprocess.run(command, env={**os.environ, **self.variables},
                              capture_output=True, text=True, check=False)
        if check and done.returncode != 0:
            raise AssertionError(f"podman-compose {' '.join(args)} failed "
                                 f"({done.returncode}):\n{done.stdout[-3000:]}\n"
                                 f"{done.stderr[-3000:]}")
        return done

    def container(self, service: str) -> str:
        names = subprocess.run(
            ["podman", "ps", "--all", "--format", "{{.Names}}",
             "--filter", f"label=com.docker.compose.project={PROJECT}",
             "--filter", f"label=com.docker.compose.service={service}"],
            capture_output=True, text=True, check=True).stdout.split()
        assert len(names) == 1, f"{service}: containers {names}"
        return names[0]

    def podman(self, *args: str) -> str:
        return subprocess.run(["podman", *args], capture_output=True, text=True,
                              check=True).stdout

    def stop(self, service: str) -> None:
        self.podman("stop", "--time", "20", self.container(service))

    def kill(self, service: str) -> None:
        self.podman("kill", "--signal", "KILL", self.container(service))

    def start(self, service: str) -> None:
        self.podman("start", self.container(service))

    def state(self, service: str) -> tuple[str, int]:
        status, code = self.podman("inspect", "--format", "{{.State.Status}} {{.State.ExitCode}}",
                                   self.container(service)).split()
        return status, int(code)

    def logs(self, service: str) -> str:
        done = subprocess.run(["podman", "logs", self.container(service)],
                              capture_output=True, text=True, check=True)
        return done.stdout + done.stderr

    def secret(self, name: str) -> str:
        return (self.secrets_dir / name).read_text(encoding="utf-8").strip()

    def admin(self) -> KeycloakAdminClient:
        """The Admin API through the proxy's inside listener (never the public entry)."""
        return KeycloakAdminClient.connect(KeycloakTarget.of(
            INTERNAL_URL, "admin", self.secret("keycloak_admin_password")))

    def save_logs(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        for line in self.podman("ps", "--all", "--format", "{{.Names}}", "--filter",
                                f"label=com.docker.compose.project={PROJECT}").split():
            logs = subprocess.run(["podman", "logs", line], capture_output=True, text=True,
                                  check=False)
            (directory / f"{line}.log").write_text(logs.stdout + logs.stderr,
                                                   encoding="utf-8")


def answers(url: str, **kwargs: object) -> bool:
    try:
        return requests.get(url, timeout=3, **kwargs).status_code == 200  # type: ignore[arg-type]
    except requests.RequestException:
        return False


def listening(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def wait_for(what: str, check: Callable[[], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} was not ready after {timeout:.0f} s")
        time.sleep(1)


def realm_applied(stack: Deployment) -> bool:
    status, code = stack.state("realm")
    if status == "exited" and code != 0:
        # restart: on-failure brings it back; a lasting failure shows in its log
        return False
    return status == "exited" and code == 0


def wait_until_ready(stack: Deployment, timeout: float) -> None:
    """podman 4.3 runs no health checks by itself: poll what each service's health check
    would, in the order the stack comes up."""
    deadline = time.monotonic() + timeout
    checks = [*((name, url) for name, url in KEYCLOAK_HEALTH.items()),
              *((name, f"{url}/readyz") for name, url in SIDECARS.items()),
              *RELAY_METRICS.items(), ("portal", f"{PORTAL}/healthz")]
    for name, url in checks[:2]:
        wait_for(name, partial(answers, url), deadline - time.monotonic())
    wait_for("the realm service", lambda: realm_applied(stack), deadline - time.monotonic())
    for name, url in checks[2:]:
        wait_for(name, partial(answers, url), deadline - time.monotonic())
    tls = str(stack.secrets_dir / "tls.crt")
    wait_for("the proxy", partial(answers, f"{PUBLIC_URL}/healthz", verify=tls),
             deadline - time.monotonic())
