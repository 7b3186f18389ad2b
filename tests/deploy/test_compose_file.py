"""docker-compose.yml as the compose tools read it: valid for podman-compose (and
Docker's compose where installed), and every IDPACK_* variable it gives a service is a
setting that service reads, with a value its settings class accepts."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from extensions.geo.settings import GeoSettings
from extensions.portal.settings import PortalSettings
from extensions.sidecar.settings import SidecarSettings
from idpack.keycloak.settings import KeycloakTargetSettings
from idpack.settings import IdpackSettings
from mail.settings import RelaySettings
from tests.support.containers import ROOT

COMPOSE = ROOT / "docker-compose.yml"
HOST_NETWORK = ROOT / "deploy" / "compose.host-network.yml"
VARIABLES = {"PUBLIC_URL": "https://id.example.org", "PUBLIC_HOST": "id.example.org",
             "SECRETS_DIR": "/srv/secrets"}
# The settings class of each `idpack` command a service runs.
SETTINGS: dict[str, list[type[IdpackSettings]]] = {
    "sidecar": [SidecarSettings], "relay": [RelaySettings], "geo-worker": [GeoSettings],
    "portal": [PortalSettings], "realm": [KeycloakTargetSettings]}
REALM_REFERENCE = re.compile(r"\$\{env:([A-Z0-9_]+)")


def rendered(*files: Path) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-m", "podman_compose", *[a for f in files for a in ("-f", str(f))],
         "config"], env={**os.environ, **VARIABLES}, capture_output=True, text=True,
        check=False)
    assert done.returncode == 0, done.stderr
    document = yaml.safe_load(done.stdout)
    assert isinstance(document, dict)
    return document


def realm_file_variables() -> set[str]:
    return {name for path in (ROOT / "realm-config").rglob("*.yaml")
            for name in REALM_REFERENCE.findall(path.read_text(encoding="utf-8"))}


def service_environment(service: dict[str, Any]) -> dict[str, str]:
    """What the service's process sees: its environment, and each secret whose target is
    a variable's name (the images' with-secrets entrypoint exports those)."""
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    for secret in service.get("secrets") or []:
        target = secret.get("target") if isinstance(secret, dict) else None
        if target and re.fullmatch(r"[A-Z][A-Z0-9_]*", target):
            env[target] = "a-secret-value"
    return {str(k): "" if v is None else str(v) for k, v in env.items()}


@pytest.mark.parametrize("files", [[COMPOSE], [COMPOSE, HOST_NETWORK]],
                         ids=["production", "host-network"])
def test_every_idpack_variable_is_a_setting_of_the_service(files: list[Path]) -> None:
    document = rendered(*files)
    services = document["services"]
    checked = 0
    realm_variables = realm_file_variables()
    for name, service in services.items():
        command = service.get("command") or []
        command = command.split() if isinstance(command, str) else command
        if not command or command[0] not in SETTINGS:
            assert not [v for v in service_environment(service) if v.startswith("IDPACK_")], \
                f"{name} is no idpack service but sets IDPACK_ variables"
            continue
        classes = SETTINGS[command[0]]
        known = {v for cls in classes for v in cls.variables()}
        if command[0] == "realm":
            known |= realm_variables
        env = service_environment(service)
        unknown = sorted(v for v in env if v.startswith("IDPACK_") and v not in known)
        assert not unknown, f"{name} sets {unknown}, which no setting of {command[0]} reads"
        for cls in classes:  # and the values are ones the settings accept
            cls.from_env({**env, "KEYCLOAK_URL": env.get("KEYCLOAK_URL", "http://kc:8080")},
                         stack_file=False)
        checked += 1
    assert checked == 8  # realm, metadata refresh, 2 sidecars, 2 relays, geo worker,
    # portal; and:
    assert {"postgres", "keycloak-1", "keycloak-2", "redis", "proxy"} <= set(services)


def test_production_keeps_networks_and_the_test_file_uses_the_host_only() -> None:
    production = rendered(COMPOSE)["services"]
    assert not any(s.get("network_mode") == "host" for s in production.values())
    assert [s.get("ports") for s in production.values() if s.get("ports")] == [["443:443"]]
    merged = rendered(COMPOSE, HOST_NETWORK)["services"]
    assert {s.get("network_mode") for s in merged.values()} == {"host"}


def test_no_secret_value_is_in_the_compose_files() -> None:
    for path in (COMPOSE, HOST_NETWORK):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"^\s*[A-Z_]*(PASSWORD|SECRET|_KEY)\s*:\s*\S", text,
                             flags=re.MULTILINE), path
    production = rendered(COMPOSE)
    for secret in production["secrets"].values():
        assert secret["file"].startswith(VARIABLES["SECRETS_DIR"])


def docker_compose() -> list[str]:
    """Docker's compose: the v2 plugin where installed, else Debian's docker-compose
    (1.29, which .ci/run installs): the file must read with either."""
    if shutil.which("docker") and subprocess.run(["docker", "compose", "version"],
                                                 capture_output=True, check=False).returncode == 0:
        return ["docker", "compose"]
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    raise AssertionError("no Docker compose here: apt-get install docker-compose (.ci/run does)")


@pytest.mark.parametrize("files", [[COMPOSE], [COMPOSE, HOST_NETWORK]],
                         ids=["production", "host-network"])
def test_docker_compose_reads_it_too(files: list[Path]) -> None:
    done = subprocess.run([*docker_compose(), *[a for f in files for a in ("-f", str(f))],
                           "config", "--quiet"], env={**os.environ, **VARIABLES},
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
