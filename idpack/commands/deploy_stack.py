"""Driving the compose stack for `idpack deploy up|status`: the compose tool of the
engine (podman-compose, or Docker's `docker compose`), the checks that make `up` fail
fast with the reason instead of hanging (values, secrets, images, host), the wait
until every service is healthy, and the status of each service: its state, its health
(podman 4 runs no health checks by itself, so they are run here on demand), its last
log line, and whether the realm matches realm-config."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from idpack.errors import IdpackError

ONE_SHOT = {"realm"}  # services that run once and exit 0
# Log lines that only say a health check ran: the last line worth showing is before them.
HEALTH_NOISE = re.compile(r"/readyz|/healthz|/proxy-health|health-check|\('127\.0\.0\.1', "
                          r"\d+\) (handling connection|connection lost|>> b'QUIT'|"
                          r"Connection lost)")
# The values an installation must give (README.md, "4. Start it").
REQUIRED = {"PUBLIC_URL": "the public base URL, https://id.example.org",
            "PUBLIC_HOST": "the public host name, id.example.org",
            "RELAY_UPSTREAM": "the mail server the relays hand mail to, smtp://host:587"}


def container_status(engine_status: str) -> str:
    """The engine's state of a container, with podman's "stopped" (the process ended,
    podman's cleanup of it not yet run, which on some hosts never comes) read as the
    "exited" it means: its exit code is already recorded."""
    return "exited" if engine_status == "stopped" else engine_status


def read_env_file(path: Path) -> dict[str, str]:
    """KEY=VALUE lines as compose reads them (comments, blank lines, quotes)."""
    values: dict[str, str] = {}
    if not path.is_file():
        return values
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        if not sep or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key.strip()):
            raise IdpackError(f"{path}:{number}: not KEY=VALUE: {line[:60]}")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[key.strip()] = value
    return values


@dataclass
class ServiceState:
    service: str
    container: str | None
    status: str          # running, exited, created, missing, ...
    exit_code: int
    health: str          # healthy, unhealthy: why, starting, none
    last_line: str

    @property
    def ready(self) -> bool:
        if self.service in ONE_SHOT:
            return self.status == "exited" and self.exit_code == 0
        return self.status == "running" and self.health in ("healthy", "none")

    @property
    def failed(self) -> bool:
        if self.service in ONE_SHOT:
            return self.status == "exited" and self.exit_code != 0
        return self.status in ("exited", "dead")


@dataclass
class Stack:
    """One compose project of docker-compose.yml (and the host-network file)."""

    root: Path
    engine: str
    files: list[Path]
    env: dict[str, str]
    project: str = "idpack"
    _config: dict[str, Any] | None = field(default=None, repr=False)

    @classmethod
    def of(cls, root: Path, engine: str, *, env: Mapping[str, str] = os.environ,
           extra: Mapping[str, str] | None = None) -> Stack:
        """The project in `root`: its .env under the environment, as compose reads it,
        and the files COMPOSE_FILE names (docker-compose.yml by default; on one machine
        `docker-compose.yml:deploy/compose.host-network.yml`)."""
        values = {**read_env_file(root / ".env"), **env, **(extra or {})}
        names = values.get("COMPOSE_FILE") or "docker-compose.yml"
        files = [root / name for name in names.split(values.get("COMPOSE_PATH_SEPARATOR",
                                                                 os.pathsep)) if name]
        missing = [str(f) for f in files if not f.is_file()]
        if missing:
            raise IdpackError(f"COMPOSE_FILE names files that are not there: {missing}")
        project = values.get("COMPOSE_PROJECT_NAME", "idpack")
        return cls(root, engine, files, values, project)

    # The compose tool

    def tool(self) -> list[str]:
        if self.engine == "docker":
            return ["docker", "compose"]
        if importlib.util.find_spec("podman_compose") is not None:
            return [sys.executable, "-m", "podman_compose"]
        return ["podman-compose"]

    def compose(self, *args: str, timeout: float | None = None,
                capture: bool = True) -> subprocess.CompletedProcess[str]:
        command = [*self.tool(), "--project-name", self.project,
                   *[a for f in self.files for a in ("-f", str(f))], *args]
        try:
            return subprocess.run(command, cwd=self.root, env=self.env, text=True,
                                  capture_output=capture, timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            raise IdpackError(f"`{' '.join(command[-len(args):])}` did not finish within "
                              f"{timeout:.0f} s") from None

    def config(self) -> dict[str, Any]:
        if self._config is None:
            done = self.compose("config", timeout=60)
            if done.returncode != 0:
                raise IdpackError(f"the compose files do not read: {done.stderr.strip()}")
            self._config = yaml.safe_load(done.stdout) or {}
        return self._config

    def services(self) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = self.config().get("services") or {}
        return found

    # The engine

    def engine_run(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        try:
            return subprocess.run([self.engine, *args], env=self.env, text=True,
                                  capture_output=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            return subprocess.CompletedProcess([self.engine, *args], 124, "",
                                               f"no answer within {timeout:.0f} s")

    def container(self, service: str) -> str | None:
        names = self.engine_run(
            "ps", "--all", "--format", "{{.Names}}",
            "--filter", f"label=com.docker.compose.project={self.project}",
            "--filter", f"label=com.docker.compose.service={service}").stdout.split()
        return names[0] if names else None

    def state(self, service: str, *, check_health: bool = True) -> ServiceState:
        name = self.container(service)
        if name is None:
            return ServiceState(service, None, "missing", 0, "none", "")
        inspected = self.engine_run("inspect", "--format",
                                    "{{.State.Status}} {{.State.ExitCode}}", name).stdout.split()
        raw_status, code = [*inspected, "unknown", "0"][:2]
        status = container_status(raw_status)
        has_check = bool(self.services().get(service, {}).get("healthcheck"))
        health = "none"
        if has_check and status == "running":
            health = self.health(name) if check_health else "starting"
        logs = self.engine_run("logs", "--tail", "40", name)
        lines = [line for line in (logs.stdout + logs.stderr).splitlines()
                 if line.strip() and not HEALTH_NOISE.search(line)]
        return ServiceState(service, name, status, int(code) if code.isdigit() else -1,
                            health, lines[-1][:160] if lines else "")

    def health(self, name: str) -> str:
        """Run the container's health check now (podman 4 does not run them by itself);
        Docker's engine runs them, so its verdict is read."""
        if self.engine == "docker":
            done = self.engine_run("inspect", "--format", "{{.State.Health.Status}}", name)
            return done.stdout.strip() or "none"
        done = self.engine_run("healthcheck", "run", name, timeout=30)
        if done.returncode == 0:
            return "healthy"
        # What the check printed, from the container's health log.
        inspected = self.engine_run("inspect", "--format", "{{json .State.Health}}", name)
        try:
            why = str(json.loads(inspected.stdout)["Log"][-1]["Output"]).strip()
        except (ValueError, KeyError, IndexError, TypeError):
            why = (done.stdout.strip() or done.stderr.strip())
        why = why.splitlines()[-1] if why else ""
        return "unhealthy" + (f": {why[:160]}" if why and why != "unhealthy" else "")

    def logs(self, service: str, lines: int = 20) -> str:
        name = self.container(service)
        if name is None:
            return ""
        done = self.engine_run("logs", "--tail", str(lines), name)
        return (done.stdout + done.stderr).strip()

    def image_exists(self, image: str) -> bool:
        return self.engine_run("image", "inspect", image).returncode == 0


def preflight(stack: Stack, say: Callable[[str], None]) -> None:
    """Every reason `up` would fail or hang, found before anything starts."""
    problems = [f"{name} is not set ({what}): put it in {stack.root / '.env'}"
                for name, what in REQUIRED.items() if not stack.env.get(name)]
    secrets_dir = Path(stack.env.get("SECRETS_DIR", "./deploy/secrets"))
    if not secrets_dir.is_absolute():
        secrets_dir = stack.root / secrets_dir
    missing = [Path(entry["file"]).name for entry in
               (stack.config().get("secrets") or {}).values()
               if not (stack.root / entry["file"]).is_file()]
    if not (secrets_dir / "identity-providers").is_dir():
        missing.append("identity-providers/")
    if missing:
        problems.append(f"secrets missing in {secrets_dir} ({', '.join(missing)}): "
                        f"idpack deploy secrets {secrets_dir} --public-host YOUR_HOST")
    images = sorted({str(s["image"]) for s in stack.services().values() if s.get("image")})
    for image in images:
        if stack.image_exists(image):
            continue
        if image.startswith("localhost/"):
            problems.append(f"image {image} is not built: idpack deploy build [--base local] "
                            "[--tag TAG] (README.md, \"1. Build the images\")")
            continue
        say(f"Pulling {image} ...")
        pulled = stack.engine_run("pull", "--quiet", image, timeout=180)
        if pulled.returncode != 0:
            problems.append(f"image {image} cannot be pulled ({pulled.stderr.strip()[-200:]}); "
                            "the images `idpack deploy build` makes need no registry")
    if problems:
        raise IdpackError("the stack cannot start:\n  " + "\n  ".join(problems))


def wait_until_ready(stack: Stack, timeout: float, say: Callable[[str], None],
                     since: float) -> list[ServiceState]:
    """Poll every service until all are ready; fail at once when the realm job fails or
    a service stops, with its last log lines."""
    deadline = time.monotonic() + timeout
    ready: dict[str, ServiceState] = {}
    names = list(stack.services())
    while True:
        for service in names:
            if service in ready:
                continue
            state = stack.state(service)
            if state.ready:
                ready[service] = state
            elif state.failed:
                raise IdpackError(f"{service} {state.status} (exit {state.exit_code}):\n"
                                  + stack.logs(service))
        waiting = [s for s in names if s not in ready]
        if not waiting:
            return [ready[s] for s in names]
        if time.monotonic() > deadline:
            states = {s: stack.state(s) for s in waiting}
            raise IdpackError(f"not ready after {timeout:.0f} s: " + "; ".join(
                f"{s} {st.status} ({st.health}): {st.last_line}" for s, st in states.items()))
        say(f"{time.monotonic() - since:4.0f} s  ready {len(ready)}/{len(names)}; waiting for "
            + ", ".join(waiting))
        time.sleep(3)


def realm_plan_state(stack: Stack) -> str:
    """Whether the realm matches realm-config: the realm job's image plans it."""
    done = stack.compose("run", "--rm", "--no-deps", "realm", "realm", "plan", "--env",
                         stack.env.get("REALM_ENV", "production"), timeout=300)
    if done.returncode == 0:
        return "in sync with realm-config"
    if done.returncode == 2:
        summary = [line for line in done.stdout.splitlines() if "to add" in line
                   or "change" in line]
        return "changes pending: " + (summary[-1].strip() if summary else "see `realm plan`")
    tail = (done.stderr.strip() or done.stdout.strip()).splitlines()
    return "plan failed: " + (tail[-1] if tail else f"exit {done.returncode}")


def render(states: Sequence[ServiceState]) -> str:
    width = max(len(s.service) for s in states)
    lines = [f"{'SERVICE':<{width}}  {'STATE':<14} {'HEALTH':<10} LAST LOG LINE"]
    for s in states:
        status = s.status if s.status != "exited" else f"exited {s.exit_code}"
        health = s.health.split(":", 1)[0]
        lines.append(f"{s.service:<{width}}  {status:<14} {health:<10} {s.last_line[:90]}")
        if ":" in s.health:
            lines.append(f"{'':<{width}}  {'':<14} {'':<10} ^ {s.health.split(':', 1)[1].strip()}")
    return "\n".join(lines)


def as_json(states: Sequence[ServiceState], realm: str | None) -> str:
    return json.dumps({"services": [s.__dict__ for s in states], "realm": realm}, indent=2)


def realm_job(stack: Stack, *args: str) -> int:
    """`idpack realm ARGS` in the realm job's container, with the stack's own values and
    secrets and this checkout's realm-config in place of the image's; its exit code."""
    config = stack.root / "realm-config"
    done = stack.compose("run", "--rm", "--no-deps", "-v", f"{config}:/srv/idpack/realm-config:ro",
                         "realm", "realm", *args, capture=False, timeout=900)
    return done.returncode


def backup(stack: Stack, target: Path) -> int:
    """pg_dump of Keycloak's database (custom format) into `target`, written whole or
    not at all: a failed dump leaves no file that looks like a backup. Its size."""
    name = stack.container("postgres")
    if name is None:
        raise IdpackError("no postgres container: is the stack up (idpack deploy status)?")
    partial = target.with_name(f".{target.name}.partial")
    with partial.open("wb") as out:
        done = subprocess.run([stack.engine, "exec", name, "pg_dump", "-U", "keycloak", "-Fc",
                               "keycloak"], stdout=out, stderr=subprocess.PIPE,
                              env=stack.env, check=False)
    if done.returncode != 0 or partial.read_bytes()[:5] != b"PGDMP":
        partial.unlink(missing_ok=True)
        raise IdpackError(f"pg_dump failed (exit {done.returncode}): "
                          f"{done.stderr.decode(errors='replace').strip()[-500:]}")
    partial.replace(target)
    return target.stat().st_size
