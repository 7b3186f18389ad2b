"""`idpack keycloak fetch`: the pinned distribution, fetched and built ahead of time."""

from __future__ import annotations

import click

from idpack.keycloak.distribution import prepare_distribution
from idpack.keycloak.settings import HarnessSettings


@click.group()
def keycloak() -> None:
    """The pinned Keycloak server distribution."""


@keycloak.command()
def fetch() -> None:
    """Fetch (with Maven), unpack and build the pinned Keycloak once.

    \b
    The cache is ~/.cache/idpack (IDPACK_CACHE_DIR); later runs reuse it and return
    at once. `make test` and `idpack up` call this themselves.
    """
    dist = prepare_distribution(HarnessSettings.from_env())
    click.echo(f"Keycloak {dist.version} is ready in {dist.home} (Java {dist.jdk.version} "
               f"at {dist.jdk.home})")
