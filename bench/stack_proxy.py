"""The compose stack's proxy (its image, its configuration script: TLS, headers, the
retry rules) in front of a benchmark's Keycloak, so that registrations are measured the
way users reach Keycloak in production. Host networking, as every container here; the
image is the one `idpack deploy build` makes (`localhost/idpack-proxy:latest`)."""

from __future__ import annotations

import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import requests

from idpack.processes import free_port
from tests.support.containers import podman_environment
from tests.support.tls_certificates import self_signed

IMAGE = "localhost/idpack-proxy:latest"
UNUSED = "127.0.0.1:9"  # the proxy wants every upstream; the benchmark uses Keycloak's


@dataclass(frozen=True)
class Entry:
    url: str  # the public HTTPS entry, https://127.0.0.1:PORT
    certificate: Path  # what a client verifies it with


@contextmanager
def stack_proxy(keycloak_url: str, image: str = IMAGE) -> Iterator[Entry]:
    keycloak = urlsplit(keycloak_url)
    public, internal, smtp = free_port(), free_port(), free_port()
    name = f"idpack-bench-proxy-{public}"
    with tempfile.TemporaryDirectory(prefix="idpack-bench-proxy-") as folder, \
            podman_environment(Path(folder)) as env:
        secrets = Path(folder) / "secrets"
        secrets.mkdir()
        certificate, _ = self_signed(secrets)
        url = f"https://127.0.0.1:{public}"
        options = {"PROXY_PUBLIC_LISTEN": public, "PROXY_INTERNAL_LISTEN": internal,
                   "PROXY_SMTP_LISTEN": smtp, "PROXY_PUBLIC_URL": url,
                   "PROXY_TLS_CERT": "/run/secrets/cert.pem",
                   "PROXY_TLS_KEY": "/run/secrets/key.pem",
                   "KEYCLOAK_UPSTREAMS": f"{keycloak.hostname}:{keycloak.port}",
                   "SIDECAR_UPSTREAMS": UNUSED, "PORTAL_UPSTREAMS": UNUSED,
                   "RELAY_UPSTREAMS": UNUSED}
        command = ["podman", "run", "--detach", "--rm", "--name", name, "--network", "host",
                   "--volume", f"{secrets}:/run/secrets:ro",
                   *(f"--env={k}={v}" for k, v in options.items()), image]
        started = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
        if started.returncode != 0:
            raise SystemExit(f"the stack's proxy did not start ({image}; build it with "
                             f"`idpack deploy build`): {started.stderr.strip()}")
        try:
            _wait(f"{url}/realms/master", certificate)
            yield Entry(url, certificate)
        finally:
            subprocess.run(["podman", "rm", "--force", name], env=env, capture_output=True,
                           check=False)


def _wait(url: str, certificate: Path) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            # /realms/master is not served at the public entry (404): nginx answers.
            if requests.get(url, verify=str(certificate), timeout=2).status_code < 500:
                return
        except requests.RequestException:
            pass
        if time.monotonic() > deadline:
            raise SystemExit(f"the stack's proxy did not answer at {url} within 60 s")
        time.sleep(0.3)
