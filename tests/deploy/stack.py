"""The compose stack under test, brought up by README.md's deploy steps as printed
(tests/deploy/readme.py) in a copy of the repository on a fresh podman storage: its
addresses on loopback (deploy/compose.host-network.yml), podman-compose and podman to
stop, kill and restart its parts."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests
from playwright.sync_api import Page, expect

from idpack.commands.deploy_stack import container_status
from idpack.keycloak.admin import KeycloakAdminClient
from idpack.keycloak.target import KeycloakTarget
from tests.deploy.readme import run, steps, with_installation
from tests.support.containers import ROOT
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
# An address of DeiC, the Danish research network: the GeoLite2 City database the geo
# worker ships with places it in DK, Europe/Copenhagen (the tests send it as the
# balancer in front would, in X-Forwarded-For; no packet goes there).
DANISH_ADDRESS = "130.225.0.1"


@dataclass
class Deployment:
    checkout: Path           # the copy of the repository the README's steps ran in
    env: dict[str, str]      # what they ran with (fresh podman storage, the stand-ins)
    secrets_dir: Path
    mail: Received
    ready_seconds: float = 0.0

    @property
    def files(self) -> list[Path]:
        return [self.checkout / "docker-compose.yml",
                self.checkout / "deploy" / "compose.host-network.yml"]

    def compose(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "podman_compose", "--project-name", PROJECT,
                   *[arg for f in self.files for arg in ("-f", str(f))], *args]
        done = subprocess.run(command, env=self.env, cwd=self.checkout,
                              capture_output=True, text=True, check=False)
        if check and done.returncode != 0:
            raise AssertionError(f"podman-compose {' '.join(args)} failed "
                                 f"({done.returncode}):\n{done.stdout[-3000:]}\n"
                                 f"{done.stderr[-3000:]}")
        return done

    def idpack(self, *args: str, stdin: str | None = None,
               timeout: float = 600) -> subprocess.CompletedProcess[str]:
        """An `idpack` command in the checkout, as the README runs them."""
        return subprocess.run([sys.executable, "-m", "idpack", *args], env=self.env,
                              cwd=self.checkout, input=stdin, capture_output=True, text=True,
                              timeout=timeout, check=False)

    def container(self, service: str) -> str:
        names = self.podman(
            "ps", "--all", "--format", "{{.Names}}",
            "--filter", f"label=com.docker.compose.project={PROJECT}",
            "--filter", f"label=com.docker.compose.service={service}").split()
        assert len(names) == 1, f"{service}: containers {names}"
        return names[0]

    def podman(self, *args: str) -> str:
        return subprocess.run(["podman", *args], capture_output=True, text=True,
                              env=self.env, check=True).stdout

    def stop(self, service: str) -> None:
        self.podman("stop", "--time", "20", self.container(service))

    def kill(self, service: str) -> None:
        self.podman("kill", "--signal", "KILL", self.container(service))

    def start(self, service: str) -> None:
        self.podman("start", self.container(service))

    def state(self, service: str) -> tuple[str, int]:
        status, code = self.podman("inspect", "--format", "{{.State.Status}} {{.State.ExitCode}}",
                                   self.container(service)).split()
        return container_status(status), int(code)

    def logs(self, service: str) -> str:
        done = subprocess.run(["podman", "logs", self.container(service)], env=self.env,
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
                                  env=self.env, check=False)
            (directory / f"{line}.log").write_text(logs.stdout + logs.stderr,
                                                   encoding="utf-8")


def accept_the_licence(page: Page) -> None:
    """Production asks each new user, at the first sign-in, to accept the service
    licence agreement (Keycloak's terms page) before anything else."""
    accept = page.locator("[name=accept]")
    expect(accept.first).to_be_visible(timeout=30_000)
    expect(page.get_by_text("service licence agreement").first).to_be_visible()
    accept.first.click()


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


def copy_checkout(target: Path) -> Path:
    """The repository's files as they are (committed or not, ignored ones left out), in a
    folder of the test's own: the README's steps write .env, secrets and build/ there."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others",
                             "--exclude-standard"], cwd=ROOT, capture_output=True,
                            check=True).stdout.decode().split("\0")
    for name in filter(None, listed):
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    return target


def fresh_podman_storage(folder: Path) -> dict[str, str]:
    """podman's images, containers and volumes in a folder of the test's own, empty at
    the start, as on a new host (IDPACK_TEST_PODMAN_STORAGE names one to keep between
    runs, which skips rebuilding the images)."""
    kept = os.environ.get("IDPACK_TEST_PODMAN_STORAGE")
    root = Path(kept) if kept else folder
    root.mkdir(parents=True, exist_ok=True)
    config = root / "storage.conf"
    config.write_text(f'[storage]\ndriver = "overlay"\ngraphroot = "{root}/graph"\n'
                      f'runroot = "{root}/run"\n', encoding="utf-8")
    return {"CONTAINERS_STORAGE_CONF": str(config)}


def pass_shim(folder: Path, secrets: dict[str, str]) -> Path:
    """`pass show NAME` as the README's operator's password manager answers it."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "secrets.json").write_text(json.dumps(secrets), encoding="utf-8")
    shim = folder / "pass"
    shim.write_text(f"#!{sys.executable}\nimport json, sys\n"
                    f"print(json.load(open({str(folder / 'secrets.json')!r}))[sys.argv[2]])\n",
                    encoding="utf-8")
    shim.chmod(0o755)
    return folder


@dataclass(frozen=True)
class Installation:
    """What an installation gives the README's steps: `.env` values and its OIDC
    provider's issuer, and the secrets its password manager holds."""

    env_values: dict[str, str]
    issuer: str
    secrets: dict[str, str]


@contextmanager
def running_deployment(work: Path, installation: Installation, logs: Path,
                       mail: tuple[int, Received]) -> Iterator[Deployment]:
    """README.md's deploy steps run as printed, in a copy of the repository, on a fresh
    podman storage; the stack taken down (volumes too) afterwards."""
    checkout = copy_checkout(work / "checkout")
    shim = pass_shim(work / "bin", installation.secrets)
    venv = Path(sys.executable).parent
    env = {k: v for k, v in os.environ.items() if k != "CONTAINERS_CONF"}
    env |= {"PATH": f"{shim}:{venv}:{env.get('PATH', os.defpath)}",
            "COMPOSE_PROJECT_NAME": PROJECT, **fresh_podman_storage(work / "podman")}
    port, received = mail
    values = {"RELAY_UPSTREAM": f"smtp://127.0.0.1:{port}", **installation.env_values}
    replace = {"https://login.example.org": installation.issuer}
    logs.mkdir(parents=True, exist_ok=True)
    log = logs / "readme-steps.log"
    log.write_text("", encoding="utf-8")
    stack = Deployment(checkout, env, checkout / "deploy" / "secrets", received)
    stack.compose("down", "--volumes", check=False)  # what a killed run left behind
    started = time.monotonic()
    try:
        for step in steps(checkout / "README.md"):
            for command in step.commands():
                done = run(with_installation(command, values, replace), checkout, env, log)
                assert done.returncode == 0, (
                    f"README.md line {step.line}: `{command[:80]}` failed "
                    f"(exit {done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
                if "idpack deploy up" in command:
                    stack.ready_seconds = time.monotonic() - started
                    conf = checkout / ".idpack" / "deploy" / "containers.conf"
                    if conf.is_file():  # as `idpack deploy` tells an operator to
                        env["CONTAINERS_CONF"] = str(conf)
        yield stack
    finally:
        stack.save_logs(logs)
        stack.compose("down", "--volumes", check=False)
