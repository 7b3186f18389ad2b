"""The compose stack under test: its addresses on loopback (deploy/compose.host-network.yml),
podman-compose to drive it, and podman to stop, kill and restart its parts."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import requests

from idpack.keycloak.admin import KeycloakAdminClient
from idpack.keycloak.target import KeycloakTarget
from tests.support.containers import ROOT, image
from tests.support.geo_database import write_database
from tests.support.smtp_peer import Received, smtp_peer

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


@dataclass
class Deployment:
    files: list[Path]
    variables: dict[str, str]
    secrets_dir: Path
    mail: Received
    ready_seconds: float = 0.0

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

    def public_session(self) -> requests.Session:
        """A client of the public entry that trusts the self-signed certificate (and
        only it: REQUESTS_CA_BUNDLE in the environment would override a session's own)."""
        session = requests.Session()
        session.trust_env = False
        session.verify = str(self.secrets_dir / "tls.crt")
        return session

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


def wait_for(what: str, check: Callable[[], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} was not ready after {timeout:.0f} s")
        time.sleep(1)


def realm_applied(stack: Deployment) -> bool:
    """The one-shot realm service exited 0 (after a failure, restart: on-failure runs
    it again; a lasting one shows in its log)."""
    return stack.state("realm") == ("exited", 0)


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


@contextmanager
def running_deployment(work: Path, logs: Path | None = None,
                       ready_timeout: float = 420) -> Iterator[Deployment]:
    """docker-compose.yml with the host-network file, from the :test images: secrets made
    by `idpack deploy secrets`, mail delivered to an SMTP peer here, a small GeoIP
    database; up until every part answers, taken down (volumes too) afterwards."""
    secrets_dir = work / "secrets"
    subprocess.run([sys.executable, "-m", "idpack", "deploy", "secrets", str(secrets_dir),
                    "--public-host", "localhost"], check=True, capture_output=True)
    geo = work / "geo"
    geo.mkdir(exist_ok=True)
    write_database(geo / "test.mmdb")
    geo.chmod(0o755)
    (geo / "test.mmdb").chmod(0o644)
    overrides = work / "compose.test.yml"
    # Retries after seconds, not minutes: the tests wait for deferred mail.
    retries = {"IDPACK_RELAY_BACKOFF_FIRST": "2", "IDPACK_RELAY_BACKOFF_MAX": "5"}
    overrides.write_text(json.dumps({"services": {
        "geo-worker": {"environment": {"GEOIP_DB": "/srv/geo/test.mmdb"},
                       "volumes": [f"{geo}:/srv/geo:ro"]},
        "relay-1": {"environment": retries}, "relay-2": {"environment": retries}}}),
        encoding="utf-8")
    with smtp_peer() as (mail_port, received):
        stack = Deployment(
            files=[ROOT / "docker-compose.yml", ROOT / "deploy" / "compose.host-network.yml",
                   overrides],
            variables={
                "PUBLIC_URL": PUBLIC_URL, "PUBLIC_HOST": "localhost",
                "IMAGE_TAG": "test", "POSTGRES_IMAGE": image("postgres"),
                "REDIS_IMAGE": image("redis"), "REALM_ENV": "staging",
                "RELAY_UPSTREAM": f"smtp://127.0.0.1:{mail_port}",
                "RELAY_UPSTREAM_STARTTLS": "false", "SECRETS_DIR": str(secrets_dir),
                # The tests stand for a balancer on loopback in front of the proxy: the
                # address a client says it comes from is believed from there.
                "PROXY_TRUSTED_ADDRESSES": "127.0.0.1",
            },
            secrets_dir=secrets_dir, mail=received)
        stack.compose("down", "--volumes", check=False)
        started = time.monotonic()
        stack.compose("up", "-d")
        try:
            wait_until_ready(stack, timeout=ready_timeout)
            stack.ready_seconds = time.monotonic() - started
            yield stack
        finally:
            if logs is not None:
                stack.save_logs(logs)
            stack.compose("down", "--volumes", check=False)
