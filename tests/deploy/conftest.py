"""The production stack of docker-compose.yml, built and started once for the deploy
tests (tests/deploy/stack.py): images built in the run, every container on host
networking. The tests reach the stack through the proxy only, except where they stop,
kill and restart its parts."""

from __future__ import annotations

import sys
from collections.abc import Iterator

import pytest
import requests

from tests.deploy.stack import Deployment, running_deployment
from tests.support.containers import ROOT, build_images, podman_environment


@pytest.fixture(scope="session")
def podman(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    with podman_environment(tmp_path_factory.mktemp("podman")) as env:
        yield env


@pytest.fixture(scope="session")
def images(podman: dict[str, str]) -> float:
    seconds = build_images()
    print(f"images built in {seconds:.0f} s", file=sys.stderr)
    return seconds


@pytest.fixture(scope="package")  # down again before the other test folders run
def deployment(images: float, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    with running_deployment(tmp_path_factory.mktemp("deployment"),
                            logs=ROOT / "test-artifacts" / "deploy") as stack:
        print(f"compose up to ready: {stack.ready_seconds:.0f} s", file=sys.stderr)
        yield stack


@pytest.fixture
def public(deployment: Deployment) -> requests.Session:
    """A client of the public entry that trusts the deployment's self-signed certificate."""
    return deployment.public_session()
