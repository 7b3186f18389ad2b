"""What a user sees when something the harness needs is missing."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from idpack.processes import free_port


def idpack(
    *args: str, env: dict[str, str], timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "idpack", *args], env=env, capture_output=True,
                          text=True, timeout=timeout, check=False)


def bare_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """No Java, no Maven: PATH is an empty folder and no JVM folder exists."""
    empty = tmp_path / "empty-path"
    empty.mkdir(exist_ok=True)
    env = {k: v for k, v in os.environ.items()
           if k not in {"JAVA_HOME", "KEYCLOAK_URL", "KEYCLOAK_ADMIN", "KEYCLOAK_ADMIN_PASSWORD"}}
    return env | {"PATH": str(empty), "IDPACK_JVM_DIRS": str(tmp_path / "no-jvm"),
                  "IDPACK_CACHE_DIR": str(tmp_path / "cache")} | extra


def test_no_java_says_what_to_install(tmp_path: Path) -> None:
    result = idpack("keycloak", "fetch", env=bare_env(tmp_path))

    assert result.returncode == 1
    assert "idpack: error: No Java found" in result.stderr
    assert "apt-get install" in result.stderr
    assert "Traceback" not in result.stderr


def test_no_maven_on_a_cold_cache_says_what_to_install(tmp_path: Path) -> None:
    result = idpack("keycloak", "fetch", env=bare_env(tmp_path, IDPACK_JVM_DIRS="/usr/lib/jvm"))

    assert result.returncode == 1
    assert "Maven (mvn) is needed once" in result.stderr
    assert "apt-get install maven" in result.stderr


def test_keycloak_url_pointing_at_nothing_fails_fast(tmp_path: Path) -> None:
    nothing = f"http://127.0.0.1:{free_port()}"
    # Ports of its own, so a `make run` on this machine cannot answer first.
    env = bare_env(tmp_path, KEYCLOAK_URL=nothing, KEYCLOAK_ADMIN="admin",
                   KEYCLOAK_ADMIN_PASSWORD="whatever", IDPACK_HOME=str(tmp_path / "state"),
                   IDPACK_RELAY_PORT=str(free_port()), IDPACK_SIDECAR_PORT=str(free_port()),
                   IDPACK_PORTAL_PORT=str(free_port()),
                   IDPACK_RELAY_METRICS_PORT=str(free_port()))

    started = time.monotonic()
    result = idpack("up", env=env, timeout=30)

    assert time.monotonic() - started < 15
    assert result.returncode == 1
    assert f"Keycloak at {nothing} is not reachable (connection refused)" in result.stderr
    assert not (tmp_path / "state" / "stack.json").exists()
