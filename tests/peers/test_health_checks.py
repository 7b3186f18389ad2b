"""`idpack health SERVICE`, as the compose file runs it inside each container: it reads
the service's own settings from the environment and checks work the service does."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

from idpack.heartbeat import Heartbeat
from tests.support.relay import running_relay


def health(service: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("IDPACK_", "KEYCLOAK"))}
    return subprocess.run([sys.executable, "-m", "idpack", "health", service],
                          env={**clean, **env}, capture_output=True, text=True, timeout=30,
                          check=False)


def test_the_relay_is_healthy_while_it_answers_smtp_and_not_after(tmp_path: Path) -> None:
    with running_relay(tmp_path) as relay:
        env = {"IDPACK_HOME": str(tmp_path), "IDPACK_RELAY_PORT": str(relay.settings.port),
               "IDPACK_DKIM_KEYS_DIR": str(relay.settings.dkim_keys_dir),
               "IDPACK_DKIM_SELECTOR": relay.settings.dkim_selector,
               "IDPACK_SPOOL_DIR": str(relay.settings.spool_dir)}
        up = health("relay", env)
    down = health("relay", env)

    assert (up.returncode, up.stdout.strip()) == (0, "relay: healthy"), up.stderr
    assert down.returncode == 1
    assert f"relay: unhealthy: SMTP on port {relay.settings.port} did not answer EHLO" \
        in down.stderr


def test_the_geo_worker_is_healthy_only_while_its_polls_reach_keycloak(tmp_path: Path) -> None:
    env = {"IDPACK_HOME": str(tmp_path), "KEYCLOAK_URL": "http://127.0.0.1:9",
           "IDPACK_REALM": "mikrocloud", "IDPACK_SIDECAR_CLIENT_SECRET": "s"}
    never = health("geo-worker", env)
    Heartbeat(tmp_path / "geo-worker.heartbeat").beat()
    fresh = health("geo-worker", env)
    (tmp_path / "geo-worker.heartbeat").write_text(f"{time.time() - 120}\n")
    stale = health("geo-worker", env)

    assert never.returncode == 1
    assert "no poll has reached Keycloak yet" in never.stderr
    assert fresh.returncode == 0, fresh.stderr
    assert stale.returncode == 1
    assert re.search(r"the last poll that reached Keycloak was 12\d s ago", stale.stderr)
