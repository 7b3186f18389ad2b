"""The end-to-end stack: `idpack up` (what `make run` starts) in a folder of the tests'
own, against the session's Keycloak, in a realm of its own; the relay delivers to a real
SMTP peer, and the geo worker reads a small MaxMind database the tests wrote. Then
Chromium, driven by Playwright."""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, sync_playwright

from idpack.keycloak.admin import KeycloakAdminClient
from idpack.keycloak.server import free_port
from idpack.keycloak.target import KeycloakTarget
from tests.e2e.browser import launch
from tests.smtp_peer import Received, smtp_peer
from tests.unit.geo.networks import write_database

REPO = Path(__file__).resolve().parents[2]


@dataclass
class Stack:
    document: dict[str, Any]  # stack.json
    home: Path  # IDPACK_HOME
    mail: Received  # what the relay delivered upstream

    @property
    def portal_url(self) -> str:
        return str(self.document["portal_url"])

    @property
    def sidecar_url(self) -> str:
        return str(self.document["sidecar_url"])

    @property
    def realm(self) -> str:
        return str(self.document["realm"])


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = launch(playwright)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="package")
def stack(keycloak: KeycloakTarget, keycloak_admin: KeycloakAdminClient,
          tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    folder = tmp_path_factory.mktemp("e2e")
    home = folder / ".idpack"
    realm = f"e2e-{secrets.token_hex(3)}"
    log = folder / "up.log"
    with smtp_peer() as (upstream_port, received):
        env = {**os.environ, "IDPACK_HOME": str(home), "IDPACK_REALM": realm,
               "KEYCLOAK_URL": keycloak.url, "KEYCLOAK_ADMIN": keycloak.admin_user,
               "KEYCLOAK_ADMIN_PASSWORD": keycloak.admin_password,
               "IDPACK_SIDECAR_PORT": str(free_port()), "IDPACK_RELAY_PORT": str(free_port()),
               "IDPACK_RELAY_METRICS_PORT": str(free_port()),
               "IDPACK_PORTAL_PORT": str(free_port()),
               "IDPACK_RELAY_UPSTREAM": f"smtp://127.0.0.1:{upstream_port}",
               "IDPACK_RELAY_UPSTREAM_STARTTLS": "false",
               "GEOIP_DB": str(write_database(folder / "geo.mmdb"))}
        with log.open("wb") as out:
            process = subprocess.Popen([sys.executable, "-m", "idpack", "up"], env=env,
                                       cwd=REPO, stdout=out, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 240
            while not (home / "stack.json").exists():
                assert process.poll() is None, log.read_text()
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.5)
            yield Stack(json.loads((home / "stack.json").read_text()), home, received)
        finally:
            process.send_signal(signal.SIGINT)
            process.wait(60)
            keycloak_admin.delete_realm(realm)
