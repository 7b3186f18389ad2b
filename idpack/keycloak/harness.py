"""Throwaway Keycloak servers for tests and benchmarks: random free ports, a generated
admin password, a private instance folder."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

from idpack.keycloak.distribution import prepare_distribution
from idpack.keycloak.server import KeycloakServer, PortInUse
from idpack.keycloak.settings import HarnessSettings, existing_keycloak
from idpack.keycloak.target import KeycloakTarget
from idpack.processes import free_port

LOOPBACK = "127.0.0.1"


def start_ephemeral_keycloak(
    instance_dir: Path,
    settings: HarnessSettings | None = None,
    *,
    extra_args: Sequence[str] = (),
    env: Mapping[str, str] = os.environ,
    attempts: int = 3,
) -> KeycloakServer:
    """A started server on fresh random ports. Another process may take a port between
    our choosing it and Java binding it; then we choose again."""
    settings = settings or HarnessSettings.from_env(env)
    dist = prepare_distribution(settings, env)
    password = secrets.token_urlsafe(24)
    database_args, database_env = settings.database_options()
    for attempt in range(1, attempts + 1):
        server = KeycloakServer(
            dist, instance_dir, host=LOOPBACK, http_port=free_port(LOOPBACK),
            management_port=free_port(LOOPBACK), admin_user="admin",
            admin_password=password, extra_args=[*database_args, *extra_args],
            env={**env, **database_env}, themes_dir=settings.themes_dir,
        )
        try:
            server.start(timeout=settings.start_timeout)
        except PortInUse:
            if attempt == attempts:
                raise
            continue
        return server
    raise AssertionError("unreachable")


@contextmanager
def keycloak_from_env_or_ephemeral(instance_dir: Path, env: Mapping[str, str] = os.environ,
                                   settings: HarnessSettings | None = None,
                                   ) -> Iterator[KeycloakTarget]:
    """The Keycloak that KEYCLOAK_URL (with the admin variables) names, else a throwaway
    one started here and stopped afterwards: what tests and benchmarks run against."""
    existing = existing_keycloak(env)
    if existing is not None:
        yield existing
        return
    server = start_ephemeral_keycloak(instance_dir, settings, env=env)
    try:
        yield server.target
    finally:
        server.stop()
