"""The harness runs Keycloak on PostgreSQL when IDPACK_KEYCLOAK_DB_URL names one: here a
PostgreSQL started by testcontainers through podman's Docker-compatible socket, from the
image `idpack deploy build` makes (the production stack's database, without the rest of
the stack)."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from testcontainers.community.postgres import PostgresContainer

from idpack.keycloak.admin import KeycloakAdminClient
from idpack.keycloak.harness import start_ephemeral_keycloak
from idpack.processes import free_port
from tests.support.containers import build_images, image, podman_environment, podman_socket
from tests.support.keycloak import harness_settings

PASSWORD = secrets.token_urlsafe(12)


@pytest.fixture(scope="module")
def postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, PostgresContainer]]:
    work = tmp_path_factory.mktemp("postgres")
    with podman_environment(work), podman_socket(work) as socket:
        build_images(only=["postgres"])
        saved = {name: os.environ.get(name) for name in ("DOCKER_HOST",
                                                         "TESTCONTAINERS_RYUK_DISABLED")}
        # testcontainers' reaper image cannot be pulled here; the container is stopped below.
        os.environ.update(DOCKER_HOST=socket, TESTCONTAINERS_RYUK_DISABLED="true")
        port = free_port()
        container = (PostgresContainer(image("postgres"), username="keycloak",
                                       password=PASSWORD, dbname="keycloak")
                     .with_env("PGPORT", str(port))  # the server's port, and psql's
                     .with_command(["postgres", "-c", "listen_addresses=127.0.0.1"])
                     .with_kwargs(network_mode="host"))
        container.ports = {}  # host networking publishes nothing (podman refuses both)
        try:
            with container:
                yield port, container
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value


def test_the_harness_runs_keycloak_on_postgresql(
        postgres: tuple[int, PostgresContainer], tmp_path: Path) -> None:
    port, container = postgres
    settings = harness_settings().model_copy(update={
        "database_url": f"jdbc:postgresql://127.0.0.1:{port}/keycloak",
        "database_user": "keycloak", "database_password": PASSWORD})
    assert settings.database_vendor == "postgres"
    server = start_ephemeral_keycloak(tmp_path / "keycloak", settings)
    try:
        assert server.dist.home.name.endswith("-postgres")  # a build of its own
        admin = KeycloakAdminClient.connect(server.target)
        admin.create_realm({"realm": "on-postgresql", "enabled": True})
        assert "on-postgresql" in admin.realm_names()
    finally:
        server.stop()
    # What Keycloak stored is in PostgreSQL, not in an H2 file of the instance.
    code, output = container.exec(["psql", "-U", "keycloak", "-d", "keycloak", "-At",
                                   "-c", "select name from realm"])
    assert code == 0, output
    assert sorted(output.decode().split()) == ["master", "on-postgresql"]
    assert not list((tmp_path / "keycloak").rglob("*.mv.db"))
