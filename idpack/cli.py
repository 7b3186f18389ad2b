"""The `idpack` command."""

from __future__ import annotations

import os
import sys

import click

from idpack import __version__
from idpack.errors import IdpackError
from idpack.keycloak.distribution import prepare_distribution
from idpack.settings import HarnessSettings


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="idpack")
def cli() -> None:
    """idpack: identity extension pack for Keycloak.

    \b
    Start the whole local stack (Keycloak first) and keep it in the foreground:
      idpack up            # same as `make run`

    Commands that talk to Keycloak use KEYCLOAK_URL, KEYCLOAK_ADMIN and
    KEYCLOAK_ADMIN_PASSWORD, or the running local stack's .idpack/stack.json.
    """


@cli.command()
def up() -> None:
    """Run the local stack until Ctrl-C.

    \b
    Keycloak listens on http://127.0.0.1:8080 (IDPACK_KEYCLOAK_PORT), health on
    127.0.0.1:9000 (IDPACK_KEYCLOAK_MANAGEMENT_PORT). State lives in .idpack/
    (IDPACK_HOME): the H2 database, the generated admin password and, while the
    stack runs, stack.json with every URL and credential scripts need.
    With KEYCLOAK_URL, KEYCLOAK_ADMIN and KEYCLOAK_ADMIN_PASSWORD set, no server is
    started: the stack uses that Keycloak instead.
    """
    from idpack.stack import run_stack

    sys.exit(run_stack(os.environ))


@cli.group()
def keycloak() -> None:
    """The pinned Keycloak server distribution."""


@keycloak.command()
def fetch() -> None:
    """Fetch (with Maven), unpack and build the pinned Keycloak once.

    \b
    The cache is ~/.cache/idpack (IDPACK_CACHE_DIR); later runs reuse it and return
    at once. `make test` and `idpack up` call this themselves.
    """
    dist = prepare_distribution(HarnessSettings.from_env(os.environ), os.environ)
    click.echo(f"Keycloak {dist.version} is ready in {dist.home} (Java {dist.jdk.version} "
               f"at {dist.jdk.home})")


def main() -> None:
    try:
        cli(standalone_mode=True)
    except IdpackError as exc:
        click.echo(f"idpack: error: {exc}", err=True)
        sys.exit(1)
