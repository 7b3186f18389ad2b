"""`idpack up` (what `make run` starts) for the end-to-end tests, in a folder of the
tests' own, against a given Keycloak, in a realm of its own; the relay delivers to a
real SMTP peer and the geo worker reads a small MaxMind database the tests wrote."""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from idpack.keycloak.admin import KeycloakAdminClient
from idpack.keycloak.target import KeycloakTarget
from idpack.processes import free_port
from tests.support.geo_database import write_database
from tests.support.smtp_peer import Received, smtp_peer

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
    def keycloak_url(self) -> str:
        return str(self.document["keycloak_url"])

    @property
    def realm(self) -> str:
        return str(self.document["realm"])


@contextmanager
def running_stack(keycloak: KeycloakTarget, folder: Path, *,
                  overlays: Sequence[str] = ("dev",),
                  env: Mapping[str, str] | None = None) -> Iterator[Stack]:
    """`idpack up` until the block ends; `overlays` as IDPACK_REALM_ENV takes them (names
    or YAML paths), `env` adds to its environment (secrets the overlays read, say)."""
    home = folder / ".idpack"
    realm = f"e2e-{secrets.token_hex(3)}"
    log = folder / "up.log"
    with smtp_peer() as (upstream_port, received):
        full_env = {**os.environ, "IDPACK_HOME": str(home), "IDPACK_REALM": realm,
                    "IDPACK_REALM_ENV": ",".join(overlays),
                    "KEYCLOAK_URL": keycloak.url, "KEYCLOAK_ADMIN": keycloak.admin_user,
                    "KEYCLOAK_ADMIN_PASSWORD": keycloak.admin_password,
                    "IDPACK_SIDECAR_PORT": str(free_port()),
                    "IDPACK_RELAY_PORT": str(free_port()),
                    "IDPACK_RELAY_METRICS_PORT": str(free_port()),
                    "IDPACK_PORTAL_PORT": str(free_port()),
                    "IDPACK_RELAY_UPSTREAM": f"smtp://127.0.0.1:{upstream_port}",
                    "IDPACK_RELAY_UPSTREAM_STARTTLS": "false",
                    "GEOIP_DB": str(write_database(folder / "geo.mmdb")), **(env or {})}
        with log.open("wb") as out:
            process = subprocess.Popen([sys.executable, "-m", "idpack", "up"], env=full_env,
                                       cwd=REPO, stdout=out, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 360  # generous: CI machines are shared
            while not (home / "stack.json").exists():
                assert process.poll() is None, log.read_text()
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.5)
            yield Stack(json.loads((home / "stack.json").read_text()), home, received)
        finally:
            process.send_signal(signal.SIGINT)
            process.wait(60)
            KeycloakAdminClient.connect(keycloak).delete_realm(realm)
