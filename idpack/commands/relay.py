"""`idpack relay`: serve the DKIM mail relay; list its queue; add SMTP AUTH users."""

from __future__ import annotations

import sys

import click

from idpack.commands.settings_help import settings_epilog
from mail.settings import RelaySettings


@click.group(invoke_without_command=True, epilog=settings_epilog(RelaySettings))
@click.pass_context
def relay(ctx: click.Context) -> None:
    """The DKIM mail relay Keycloak sends through (SMTP on 127.0.0.1:2525).

    \b
    It refuses foreign senders and smuggling, shortens Keycloak's action links,
    limits verification mails to 5 a minute per recipient, signs with RSA and
    Ed25519 DKIM, spools durably (fsync) before answering 250, and delivers to the
    upstream (smtp://host:port, or maildir:PATH, the default under .idpack/mail).
    Keys: `idpack dkim keygen --selector <selector>`. Clients on the relay networks
    (loopback by default) send without a login; others must STARTTLS and AUTH as a
    user of the users file.
      idpack relay                  # serve
      idpack relay queue            # what waits, and the dead letters
      idpack relay user add app1    # a login for a client outside the networks
    """
    if ctx.invoked_subcommand is None:
        from mail.relay import serve

        serve(RelaySettings.from_env())


@relay.command()
def queue() -> None:
    """List queued messages and dead letters (with their reasons)."""
    from mail.spool import Spool

    spool = Spool(RelaySettings.from_env().spool_dir, clean=False)
    waiting, dead = spool.queued(), spool.dead_letters()
    click.echo(f"{len(waiting)} queued, {len(dead)} dead-lettered ({spool.root})")
    for entry in waiting:
        click.echo(f"  queued {entry.id} to {', '.join(entry.recipients)}: attempt "
                   f"{entry.attempts}, {entry.last_error or 'not tried yet'}")
    for entry in dead:
        for recipient, reason in entry.failed.items():
            click.echo(f"  dead   {entry.id} to {recipient}: {reason}")


@relay.group()
def user() -> None:
    """SMTP AUTH users, for clients outside the relay networks (the users file, by
    default .idpack/relay-users). Only a salted scrypt hash of each password is kept."""


@user.command("add")
@click.argument("name")
@click.option("--password-stdin", is_flag=True,
              help="Read the password from standard input instead of prompting.")
def user_add(name: str, password_stdin: bool) -> None:
    """Add NAME (or give it a new password)."""
    from mail.auth import add_user

    settings = RelaySettings.from_env()
    path = settings.users_file or settings.home / "relay-users"
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    if len(password) < 12:
        raise click.UsageError("use a password of at least 12 characters")
    add_user(path, name, password)
    click.echo(f"{name} can log in to the relay ({path}). Clients must STARTTLS first: "
               "set the relay's TLS certificate and key (`idpack relay --help`).")
