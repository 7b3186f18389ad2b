"""`idpack sidecar`, `idpack geo-worker`, `idpack portal`: one service each, configured
from the environment (and the local stack's stack.json for where Keycloak is)."""

from __future__ import annotations

import sys

import click

from extensions.geo.settings import GeoSettings
from extensions.portal.settings import PortalSettings
from extensions.sidecar.settings import SidecarSettings
from idpack.commands.settings_help import settings_epilog


@click.command(epilog=settings_epilog(SidecarSettings))
def sidecar() -> None:
    """Serve UCloud's user RPCs on top of Keycloak (gunicorn, 127.0.0.1:8000).

    Docs at /docs, the API description at /openapi.json, health at /healthz and
    /readyz.
    """
    from extensions.sidecar.server import serve

    serve(SidecarSettings.from_env())


@click.command("geo-worker", epilog=settings_epilog(GeoSettings))
def geo_worker() -> None:
    """Give new users the country and timezone of the address they registered from.

    Follows the realm's REGISTER events (a cursor in the store; each event applied
    once, across restarts and with several workers), looks the address up in a
    MaxMind database and sets `country` (ISO code) and `timezone` (IANA name) only
    where the user has none. Private and loopback addresses set nothing.
    """
    from extensions.geo.worker import serve

    sys.exit(serve(GeoSettings.from_env()))


@click.command(epilog=settings_epilog(PortalSettings))
def portal() -> None:
    """Serve the MikroCloud portal, where users land after verifying (127.0.0.1:3000).

    An OpenID Connect client (code flow with PKCE, public client `portal`) showing the
    user's names, email, country and timezone from the sidecar, with a profile page to
    change them.
    """
    from extensions.portal.server import serve

    serve(PortalSettings.from_env())
