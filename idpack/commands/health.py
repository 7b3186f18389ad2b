"""`idpack health SERVICE`: the health check of each of idpack's services, as the
compose file runs it inside the service's container (`with-secrets idpack health
sidecar`). Each check reads the service's own settings class from the same environment
the service runs with, so it probes the port the service listens on, in either compose
file, and it checks work the service does, not that its process exists:

    sidecar           /readyz answers 200 within 3 s (Keycloak and the store answer)
    portal            /readyz answers 200 within 3 s (the session store answers)
    relay             the SMTP side answers EHLO within 3 s, and the spool is writable
    geo-worker        its last poll that reached Keycloak was less than 90 s ago
    metadata-refresh  its last good pass was less than --max-age seconds ago

Exit 0 healthy, 1 not, with one line saying why (podman and Docker keep it)."""

from __future__ import annotations

import json
import smtplib
import sys
import tempfile
import time
from collections.abc import Callable

import click
import requests

from idpack.heartbeat import seconds_since

TIMEOUT = 3.0
GEO_MAX_AGE = 90.0


def _local(host: str) -> str:
    """Where to reach a service listening on `host` from inside its container."""
    return "127.0.0.1" if host in ("0.0.0.0", "", "::") else host  # noqa: S104


def _http_ready(url: str) -> str | None:
    try:
        response = requests.get(url, timeout=TIMEOUT)
    except requests.RequestException as exc:
        return f"{url} did not answer within {TIMEOUT:.0f} s ({type(exc).__name__})"
    if response.status_code != 200:
        return f"{url} answered {response.status_code}: {response.text[:200]}"
    return None


def check_sidecar() -> str | None:
    from extensions.sidecar.settings import SidecarSettings

    settings = SidecarSettings.from_env(stack_file=False)
    return _http_ready(f"http://{_local(settings.host)}:{settings.port}/readyz")


def check_portal() -> str | None:
    from extensions.portal.settings import PortalSettings

    settings = PortalSettings.from_env(stack_file=False)
    return _http_ready(f"http://{_local(settings.host)}:{settings.port}/readyz")


def check_relay() -> str | None:
    from mail.settings import RelaySettings

    settings = RelaySettings.from_env(stack_file=False)
    try:
        with smtplib.SMTP(_local(settings.host), settings.port, timeout=TIMEOUT) as smtp:
            code, _ = smtp.ehlo("health-check")
    except (OSError, smtplib.SMTPException) as exc:
        return f"SMTP on port {settings.port} did not answer EHLO: {exc}"
    if code != 250:
        return f"SMTP on port {settings.port} answered EHLO with {code}"
    try:
        with tempfile.NamedTemporaryFile(dir=settings.spool_dir, prefix=".health-"):
            pass
    except OSError as exc:
        return f"the spool {settings.spool_dir} is not writable: {exc.strerror}"
    return None


def check_geo_worker() -> str | None:
    from extensions.geo.settings import GeoSettings

    settings = GeoSettings.from_env(stack_file=False)
    age = seconds_since(settings.heartbeat_file)
    if age is None:
        return "no poll has reached Keycloak yet"
    if age > GEO_MAX_AGE:
        return f"the last poll that reached Keycloak was {age:.0f} s ago"
    return None


def check_metadata_refresh(max_age: float) -> str | None:
    from idpack.commands.stack_files import StackSettings

    status_file = StackSettings.from_env(stack_file=False).state_dir / "metadata-refresh.json"
    try:
        status = json.loads(status_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return "no pass has finished yet"
    last = status.get("last_success")
    if not isinstance(last, int | float):
        return f"no pass has succeeded yet: {status.get('last_error')}"
    age = time.time() - last
    if age > max_age:
        return f"the last good pass was {age:.0f} s ago: {status.get('last_error')}"
    return None


@click.command()
@click.argument("service", type=click.Choice(
    ["sidecar", "portal", "relay", "geo-worker", "metadata-refresh"]))
@click.option("--max-age", type=click.FloatRange(min=1), default=7500, show_default=True,
              metavar="SECONDS", help="metadata-refresh: how old its last good pass may be.")
def health(service: str, max_age: float) -> None:
    """Check one of idpack's services from inside its container (compose health checks).

    \b
    Exit 0 when it is healthy, else 1 with the reason, e.g.:
      with-secrets idpack health sidecar     # /readyz on IDPACK_SIDECAR_PORT
      with-secrets idpack health geo-worker  # its last poll, from IDPACK_HOME
    """
    checks: dict[str, Callable[[], str | None]] = {
        "sidecar": check_sidecar, "portal": check_portal, "relay": check_relay,
        "geo-worker": check_geo_worker,
        "metadata-refresh": lambda: check_metadata_refresh(max_age)}
    problem = checks[service]()
    if problem is None:
        click.echo(f"{service}: healthy")
        return
    click.echo(f"{service}: unhealthy: {problem}", err=True)
    sys.exit(1)

