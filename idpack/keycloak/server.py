"""Start and stop one Keycloak server from the built distribution.

Each server gets an instance folder of its own (its configuration, themes, H2 database,
temporary files and log) whose `lib` and `providers` point at the shared, built
distribution, so starting another server copies nothing big and two servers never share
state. The server listens on loopback over HTTP, with health on its own management port."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Self

import requests

from idpack.errors import IdpackError
from idpack.keycloak.distribution import KeycloakDistribution
from idpack.keycloak.target import KeycloakTarget
from idpack.processes import log_tail, popen_options, port_in_use, stop_process_group
from idpack.progress import ProgressLine

# Variables that would change what the server does behind our back. KEYCLOAK_ADMIN* are
# how idpack names an *existing* server's credentials, and Keycloak 26 still reads them
# as deprecated bootstrap variables.
_SCRUBBED_ENV = ("KEYCLOAK_ADMIN", "KEYCLOAK_ADMIN_PASSWORD", "JAVA_OPTS")


def _link(link: Path, target: Path) -> None:
    """`link` -> `target`, replacing whatever `link` was."""
    if link.is_symlink() and link.resolve() == target.resolve():
        return
    if link.is_symlink() or link.is_file():
        link.unlink()
    elif link.exists():
        shutil.rmtree(link)
    link.symlink_to(target, target_is_directory=True)


class KeycloakStartError(IdpackError):
    """The server did not become ready; the message carries the end of its log."""


class PortInUse(KeycloakStartError):
    pass


def ensure_port_free(host: str, port: int, setting: str, what: str = "Keycloak") -> None:
    """Fail before starting a server when another process already listens on the port."""
    if port_in_use(host, port):
        raise PortInUse(
            f"{host}:{port} is already in use, so {what} cannot listen there. Stop what "
            f"holds it (see `ss -ltnp 'sport = :{port}'`) or choose another port with "
            f"{setting}.")


class KeycloakServer:
    def __init__(
        self,
        dist: KeycloakDistribution,
        instance_dir: Path,
        *,
        host: str,
        http_port: int,
        management_port: int,
        admin_user: str,
        admin_password: str,
        extra_args: Sequence[str] = (),
        themes_dir: Path | None = None,
        start_command: Sequence[str] = ("start", "--optimized"),
        env: Mapping[str, str] = os.environ,
        port_settings: tuple[str, str] = ("IDPACK_KEYCLOAK_PORT",
                                          "IDPACK_KEYCLOAK_MANAGEMENT_PORT"),
    ) -> None:
        self.dist = dist
        self.instance_dir = instance_dir
        self.host = host
        self.http_port = http_port
        self.management_port = management_port
        self.admin_user = admin_user
        self._admin_password = admin_password
        self._extra_args = tuple(extra_args)
        self._themes_dir = themes_dir
        self._start_command = tuple(start_command)
        self._env = env
        self._port_settings = port_settings
        self._process: subprocess.Popen[bytes] | None = None
        self.startup_seconds: float | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.http_port}"

    @property
    def health_url(self) -> str:
        return f"http://{self.host}:{self.management_port}/health/ready"

    @property
    def log_path(self) -> Path:
        return self.instance_dir / "keycloak.log"

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    @property
    def target(self) -> KeycloakTarget:
        return KeycloakTarget(url=self.url, admin_user=self.admin_user,
                              admin_password=self._admin_password)

    def command(self) -> list[str]:
        return [
            str(self.instance_dir / "bin" / "kc.sh"), *self._start_command,
            "--http-enabled=true", f"--http-host={self.host}", f"--http-port={self.http_port}",
            f"--http-management-port={self.management_port}", "--hostname-strict=false",
            # The client's address comes from X-Forwarded-For, trusted from loopback only
            # (a local proxy, or the tests, which choose the IP a registration comes from).
            "--proxy-headers=xforwarded", "--proxy-trusted-addresses=127.0.0.1",
            *self._extra_args,
        ]

    def start(self, timeout: float = 240.0) -> None:
        """Start the server and return once /health/ready says UP."""
        if self.is_running():
            raise RuntimeError("this server is already running")
        self._process = None
        ensure_port_free(self.host, self.http_port, self._port_settings[0])
        ensure_port_free(self.host, self.management_port, self._port_settings[1])
        self._lay_out_instance()
        env = {k: v for k, v in self._env.items() if k not in _SCRUBBED_ENV}
        env |= {
            "JAVA_HOME": str(self.dist.jdk.home),
            "KC_BOOTSTRAP_ADMIN_USERNAME": self.admin_user,
            "KC_BOOTSTRAP_ADMIN_PASSWORD": self._admin_password,
        }
        started = time.monotonic()
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(
                self.command(), cwd=self.instance_dir, env=env, stdin=subprocess.DEVNULL,
                stdout=log, stderr=subprocess.STDOUT,
                **popen_options(),  # type: ignore[call-overload]
            )
        try:
            self._wait_until_ready(started, timeout)
        except BaseException:
            self.stop()
            raise
        self.startup_seconds = time.monotonic() - started

    def _lay_out_instance(self) -> None:
        inst, dist = self.instance_dir, self.dist.home
        (inst / "bin").mkdir(parents=True, exist_ok=True)
        shutil.copy2(dist / "bin" / "kc.sh", inst / "bin" / "kc.sh")
        if not (inst / "conf").is_dir():
            shutil.copytree(dist / "conf", inst / "conf")
        (inst / "themes").mkdir(exist_ok=True)
        themes = self._themes_dir
        for theme in sorted(themes.iterdir()) if themes and themes.is_dir() else ():
            if theme.is_dir():  # e.g. idpack's own, live from the checkout
                _link(inst / "themes" / theme.name, theme)
        for shared in ("lib", "providers"):
            _link(inst / shared, dist / shared)

    def _wait_until_ready(self, started: float, timeout: float) -> None:
        assert self._process is not None
        progress = ProgressLine()
        deadline = started + timeout
        while True:
            code = self._process.poll()
            if code is not None:
                tail = log_tail(self.log_path)
                kind = PortInUse if "Address already in use" in tail else KeycloakStartError
                raise kind(f"Keycloak exited with code {code} while starting. The end of "
                           f"{self.log_path}:\n{tail}")
            if self._is_ready():
                return
            now = time.monotonic()
            if now > deadline:
                raise KeycloakStartError(
                    f"Keycloak was not ready after {timeout:.0f} s (set "
                    f"IDPACK_KEYCLOAK_START_TIMEOUT to wait longer). The end of "
                    f"{self.log_path}:\n{log_tail(self.log_path)}")
            progress.update(f"Starting Keycloak {self.dist.version} on {self.url} "
                            f"({now - started:.0f} s)")
            time.sleep(0.25)

    def _is_ready(self) -> bool:
        try:
            response = requests.get(self.health_url, timeout=2)
        except requests.RequestException:
            return False
        return response.status_code == 200 and response.json().get("status") == "UP"

    def is_running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def wait(self) -> int:
        """Block until the server exits; its exit code."""
        assert self._process is not None
        return self._process.wait()

    def stop(self, timeout: float = 30.0) -> None:
        """Graceful SIGTERM, then SIGKILL after the timeout; returns once it is gone."""
        stop_process_group(self._process, timeout)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
