"""The sidecar's tests: a MikroCloud realm of the package's own, a real SMTP peer that
Keycloak and the sidecar mail, and the sidecar app (tests/support/sidecar.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient

from extensions.sidecar.app import create_app
from extensions.sidecar.context import DIRECTORY
from extensions.sidecar.directory import Directory
from idpack.keycloak.admin import KeycloakAdminClient
from idpack.keycloak.target import KeycloakTarget
from tests.support.sidecar import SidecarRealm, sidecar_realm_applied
from tests.support.smtp_peer import Received, smtp_peer


@pytest.fixture(scope="package")
def mail() -> Iterator[tuple[int, Received]]:
    """The SMTP peer both Keycloak and the sidecar send to."""
    with smtp_peer() as peer:
        yield peer


@pytest.fixture(scope="package")
def sidecar_realm(keycloak: KeycloakTarget, keycloak_admin: KeycloakAdminClient,
                  mail: tuple[int, Received],
                  tmp_path_factory: pytest.TempPathFactory) -> Iterator[SidecarRealm]:
    with sidecar_realm_applied(keycloak, keycloak_admin, tmp_path_factory.mktemp("sidecar"),
                               smtp_port=mail[0]) as realm:
        yield realm


@pytest.fixture(scope="package")
def app(sidecar_realm: SidecarRealm, mail: tuple[int, Received],
        tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    store = tmp_path_factory.mktemp("store") / "store.sqlite"
    app = create_app(sidecar_realm.settings(smtp_port=mail[0], store=str(store),
                                            public_url="http://sidecar.test"))
    yield app
    people: Directory = app.extensions[DIRECTORY]
    if people.index is not None:  # before the realm goes: the follower writes to it
        people.index.stop()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


