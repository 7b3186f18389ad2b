"""The composition root: the `idpack` command, and `idpack up`, which wire the towers
(provisioning, the sidecar and its extensions, the mail relay) from their settings. It
is the only package that imports them all; they never import each other (see
pyproject.toml's import-linter contracts)."""

from __future__ import annotations

import sys

import click

from idpack import __version__
from idpack.commands.lazy import LazyCommand, LazyGroup
from idpack.errors import IdpackError

COMMANDS = {
    "up": LazyCommand("idpack.commands.up", "up", "Run the whole local stack until Ctrl-C "
                      "(make run)."),
    "realm": LazyCommand("idpack.commands.realm", "realm", "The realm as code: validate, "
                         "plan, apply, export, convert."),
    "sidecar": LazyCommand("idpack.commands.services", "sidecar", "Serve UCloud's user "
                           "RPCs on top of Keycloak."),
    "relay": LazyCommand("idpack.commands.relay", "relay", "The DKIM mail relay Keycloak "
                         "sends through."),
    "geo-worker": LazyCommand("idpack.commands.services", "geo_worker", "Country and "
                              "timezone from each new user's registration address."),
    "portal": LazyCommand("idpack.commands.services", "portal", "Serve the MikroCloud "
                          "portal, where users land."),
    "dkim": LazyCommand("idpack.commands.dkim", "dkim", "DKIM keys for the relay, and the "
                        "DNS records that publish them."),
    "keycloak": LazyCommand("idpack.commands.keycloak", "keycloak", "The pinned Keycloak "
                            "server distribution."),
    "deploy": LazyCommand("idpack.commands.deploy", "deploy", "The production stack of "
                          "docker-compose.yml: images and secrets."),
    "health": LazyCommand("idpack.commands.health", "health", "Check one of idpack's "
                          "services from inside its container (compose health checks)."),
    "users": LazyCommand("idpack.commands.users", "users", "Users in bulk: a resumable "
                         "import into Keycloak."),
    "migrate": LazyCommand("idpack.commands.migrate", "migrate", "Move an existing "
                           "installation's users (UCloud's) into Keycloak."),
    "config": LazyCommand("idpack.commands.config", "config", "Print each service's "
                          "effective settings, and where each came from."),
}


@click.group(cls=LazyGroup, commands=COMMANDS,
             context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="idpack")
def cli() -> None:
    """idpack: identity extension pack for Keycloak.

    \b
    Start the whole local stack (Keycloak first) and keep it in the foreground:
      idpack up            # same as `make run`
    See what each part is configured with:
      idpack config

    Commands that talk to Keycloak use KEYCLOAK_URL, KEYCLOAK_ADMIN and
    KEYCLOAK_ADMIN_PASSWORD, or the running local stack's .idpack/stack.json.
    """


def main() -> None:
    """Exit codes: 0 done (or in sync), 1 error of any kind, 2 changes pending (plan).
    Click's own usage errors would exit 2 too, so they are mapped to 1."""
    try:
        code = cli.main(standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(1)
    except IdpackError as exc:
        problems = getattr(exc, "problems", None)  # a realm file's, all at once
        if problems:
            click.echo(f"idpack: error: {len(problems)} problem(s):", err=True)
            for problem in problems:
                click.echo(f"  {problem}", err=True)
            hint = getattr(exc, "hint", None)
            if hint:
                click.echo(hint, err=True)
        else:
            click.echo(f"idpack: error: {exc}", err=True)
        sys.exit(1)
    sys.exit(code if isinstance(code, int) else 0)
