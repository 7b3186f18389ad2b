"""The production stack of docker-compose.yml, built and started once for the deploy
tests: images built in the run, secrets made by `idpack deploy secrets`, every
container on host networking (deploy/compose.host-network.yml), mail delivered to an
SMTP peer of the tests, a small GeoIP database. The tests reach the stack through the
proxy only, except where they stop, kill and restart its parts."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest
import requests

from tests.deploy.stack import Deployment, wait_until_ready
from tests.support.containers import ROOT, build_images, image, podman_environment
from tests.support.geo_database import write_database
from tests.support.smtp_peer import smtp_peer

ARTIFACTS = ROOT / "test-artifacts" / "deploy"


@pytest.fixture(scope="session")
def podman(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    with podman_environment(tmp_path_factory.mktemp("podman")) as env:
        yield env


@pytest.fixture(scope="session")
def images(podman: dict[str, str]) -> float:
    seconds = build_images()
    print(f"images built in {seconds:.0f} s", file=sys.stderr)
    return seconds


@pytest.fixture(scope="session")
def deployment(images: float, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    work = tmp_path_factory.mktemp("deployment")
    secrets_dir = work / "secrets"
    subprocess.run([sys.executable, "-m", "idpack", "deploy", "secrets", str(secrets_dir),
                    "--public-host", "localhost"], check=True, capture_output=True)
    geo = work / "geo"
    geo.mkdir()
    write_database(geo / "test.mmdb")
    geo.chmod(0o755)
    (geo / "test.mmdb").chmod(0o644)
    overrides = work / "compose.test.yml"
    # Retries after seconds, not minutes: the tests wait for deferred mail.
    retries = {"IDPACK_RELAY_BACKOFF_FIRST": "2", "IDPACK_RELAY_BACKOFF_MAX": "5"}
    overrides.write_text(json.dumps({"services": {
        "geo-worker": {"environment": {"GEOIP_DB": "/srv/geo/test.mmdb"},
                       "volumes": [f"{geo}:/srv/geo:ro"]},
        "relay-1": {"environment": retries}, "relay-2": {"environment": retries}}}),
        encoding="utf-8")
    with smtp_peer() as (mail_port, received):
        stack = Deployment(
            files=[ROOT / "docker-compose.yml", ROOT / "deploy" / "compose.host-network.yml",
                   overrides],
            variables={
                "PUBLIC_URL": "https://localhost:18443", "PUBLIC_HOST": "localhost",
                "IMAGE_TAG": "test", "POSTGRES_IMAGE": image("postgres"),
                "REDIS_IMAGE": image("redis"), "REALM_ENV": "staging",
                "RELAY_UPSTREAM": f"smtp://127.0.0.1:{mail_port}",
                "RELAY_UPSTREAM_STARTTLS": "false", "SECRETS_DIR": str(secrets_dir),
                # The tests stand for a balancer on loopback in front of the proxy: the
                # address a browser says it comes from is believed from there.
                "PROXY_TRUSTED_ADDRESSES": "127.0.0.1",
            },
            secrets_dir=secrets_dir, mail=received)
        stack.compose("down", "--volumes", check=False)
        started = time.monotonic()
        stack.compose("up", "-d")
        try:
            wait_until_ready(stack, timeout=420)
            stack.ready_seconds = time.monotonic() - started
            print(f"compose up to ready: {stack.ready_seconds:.0f} s", file=sys.stderr)
            yield stack
        finally:
            stack.save_logs(ARTIFACTS)
            stack.compose("down", "--volumes", check=False)


@pytest.fixture
def public(deployment: Deployment) -> requests.Session:
    """A client of the public entry that trusts the deployment's self-signed certificate."""
    session = requests.Session()
    session.verify = str(deployment.secrets_dir / "tls.crt")
    return session

