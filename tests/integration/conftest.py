"""A PostgreSQL for the integration tests that need one: the image `idpack deploy build`
makes (the production stack's database), started by testcontainers through podman's
Docker-compatible socket, on host networking."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from testcontainers.community.postgres import PostgresContainer

from idpack.processes import free_port
from tests.support.containers import build_images, image, podman_environment, podman_socket


@dataclass(frozen=True)
class Postgres:
    port: int
    user: str
    password: str
    database: str
    container: PostgresContainer

    def psql(self, sql: str) -> str:
        """`sql`'s rows, as psql prints them unaligned, run inside the container."""
        code, output = self.container.exec(["psql", "-U", self.user, "-d", self.database,
                                            "-At", "-c", sql])
        assert code == 0, output
        return str(output.decode())


@pytest.fixture(scope="package")
def postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Postgres]:
    work = tmp_path_factory.mktemp("postgres")
    password = secrets.token_urlsafe(12)
    with podman_environment(work), podman_socket(work) as socket:
        build_images(only=["postgres"])
        saved = {name: os.environ.get(name) for name in ("DOCKER_HOST",
                                                         "TESTCONTAINERS_RYUK_DISABLED")}
        # testcontainers' reaper image cannot be pulled here; the container is stopped below.
        os.environ.update(DOCKER_HOST=socket, TESTCONTAINERS_RYUK_DISABLED="true")
        port = free_port()
        container = (PostgresContainer(image("postgres"), username="keycloak",
                                       password=password, dbname="keycloak")
                     .with_env("PGPORT", str(port))  # the server's port, and psql's
                     .with_command(["postgres", "-c", "listen_addresses=127.0.0.1"])
                     .with_kwargs(network_mode="host"))
        container.ports = {}  # host networking publishes nothing (podman refuses both)
        try:
            with container:
                yield Postgres(port, "keycloak", password, "keycloak", container)
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value
