"""The `idpack` command."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from idpack import __version__
from idpack.errors import IdpackError
from idpack.keycloak.distribution import prepare_distribution
from idpack.realm_cli import realm
from idpack.settings import HarnessSettings
from provisioning.source import ConfigError


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


cli.add_command(realm)


@cli.command()
def sidecar() -> None:
    """Serve UCloud's user RPCs on top of Keycloak (gunicorn, 127.0.0.1:8000).

    \b
    Settings from the environment:
      KEYCLOAK_URL                    Keycloak (default: .idpack/stack.json's)
      IDPACK_REALM                    realm (default: stack.json's, else mikrocloud)
      IDPACK_SIDECAR_CLIENT_SECRET    secret of the idpack-sidecar client (required)
      IDPACK_PASSWORD_CHECK_CLIENT_SECRET  secret of idpack-password-check
      IDPACK_SIDECAR_AUDIENCE         audience tokens must carry (idpack-sidecar)
      IDPACK_SIDECAR_ISSUER           issuer, when Keycloak's public URL differs
      IDPACK_PORTAL_URL               where verifyUserInfo redirects
      IDPACK_SIDECAR_HOST, _PORT, _WORKERS   127.0.0.1, 8000, 2
    Docs at /docs, the API description at /openapi.json.
    """
    from extensions.sidecar.server import serve
    from extensions.sidecar.settings import SidecarSettings

    serve(SidecarSettings.from_env(os.environ))


@cli.command("geo-worker")
def geo_worker() -> None:
    """Give new users the country and timezone of the address they registered from.

    \b
    Follows the realm's REGISTER events (a cursor in the store; each event applied
    once, across restarts and with several workers), looks the address up in a
    MaxMind database and sets `country` (ISO code) and `timezone` (IANA name) only
    where the user has none. Private and loopback addresses set nothing.
    Settings from the environment:
      GEOIP_DB                   a GeoIP2/GeoLite2 City .mmdb (default: the 2018
                                 GeoLite2 City of the maxminddb-geolite2 package)
      KEYCLOAK_URL, IDPACK_REALM, IDPACK_SIDECAR_CLIENT_SECRET   as for the sidecar
      IDPACK_STORE               where the cursor and claims live (as the sidecar's)
      IDPACK_GEO_POLL_SECONDS    0.5
    """
    from extensions.geo.settings import GeoSettings
    from extensions.geo.worker import serve

    sys.exit(serve(GeoSettings.from_env(os.environ)))


@cli.command()
def portal() -> None:
    """Serve the MikroCloud portal, where users land after verifying (127.0.0.1:3000).

    \b
    A minimal OpenID Connect client (code flow with PKCE, public client `portal`)
    showing the user's names, email, country and timezone from the sidecar.
    Settings from the environment:
      IDPACK_PORTAL_URL          its public URL (http://127.0.0.1:3000); host and port
                                 follow from it unless IDPACK_PORTAL_HOST/_PORT are set
      KEYCLOAK_URL, IDPACK_REALM  (default: .idpack/stack.json's)
      IDPACK_SIDECAR_URL         the sidecar (default: stack.json's)
      IDPACK_PORTAL_CLIENT_ID    portal
      IDPACK_PORTAL_SECRET_KEY   signs the session cookie (generated when unset)
    """
    from extensions.portal.server import serve
    from extensions.portal.settings import PortalSettings

    serve(PortalSettings.from_env(os.environ))


@cli.group(invoke_without_command=True)
@click.pass_context
def relay(ctx: click.Context) -> None:
    """The DKIM mail relay Keycloak sends through (SMTP on 127.0.0.1:2525).

    \b
    It refuses foreign senders and smuggling, shortens Keycloak's action links,
    limits verification mails to 5 a minute per recipient, signs with RSA and
    Ed25519 DKIM, spools durably (fsync) before answering 250, and delivers to
    IDPACK_RELAY_UPSTREAM (smtp://host:port, or maildir:PATH, the default under
    .idpack/mail). Keys: `idpack dkim keygen --selector $IDPACK_DKIM_SELECTOR`.
    Clients on IDPACK_RELAY_NETWORKS (loopback by default) send without a login;
    others must STARTTLS (IDPACK_RELAY_TLS_CERT, IDPACK_RELAY_TLS_KEY) and AUTH as a
    user of IDPACK_RELAY_USERS. Prometheus metrics: IDPACK_RELAY_METRICS_PORT (9025).
    Retries: IDPACK_RELAY_BACKOFF_FIRST (300 s), IDPACK_RELAY_BACKOFF_MAX (4000 s),
    IDPACK_RELAY_MAX_AGE (5 days).
    \b
      idpack relay                  # serve
      idpack relay queue            # what waits, and the dead letters
      idpack relay user add app1    # a login for a client outside the networks
    """
    if ctx.invoked_subcommand is None:
        from mail.relay import serve
        from mail.settings import RelaySettings

        serve(RelaySettings.from_env(os.environ))


@relay.command()
def queue() -> None:
    """List queued messages and dead letters (with their reasons)."""
    from mail.settings import RelaySettings
    from mail.spool import Spool

    spool = Spool(RelaySettings.from_env(os.environ).spool_dir)
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
    """SMTP AUTH users, for clients outside the relay networks (IDPACK_RELAY_USERS,
    default .idpack/relay-users). Only a salted scrypt hash of each password is kept."""


@user.command("add")
@click.argument("name")
@click.option("--password-stdin", is_flag=True,
              help="Read the password from standard input instead of prompting.")
def user_add(name: str, password_stdin: bool) -> None:
    """Add NAME (or give it a new password)."""
    from mail.auth import add_user
    from mail.settings import RelaySettings

    settings = RelaySettings.from_env(os.environ)
    path = settings.users_file or Path(os.environ.get("IDPACK_HOME") or ".idpack") / "relay-users"
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    if len(password) < 12:
        raise click.UsageError("use a password of at least 12 characters")
    add_user(path, name, password)
    click.echo(f"{name} can log in to the relay ({path}). Clients must STARTTLS first: "
               "set IDPACK_RELAY_TLS_CERT and IDPACK_RELAY_TLS_KEY.")


@cli.group()
def dkim() -> None:
    """DKIM keys for the relay: one RSA-2048 and one Ed25519 key per selector.

    \b
      idpack dkim keygen --selector mc2026     # writes .idpack/dkim/mc2026-*.{pem,key}
      idpack dkim dns                          # the TXT records to publish
                                               # (the relay's selector, or --selector)
    Keys live in IDPACK_DKIM_KEYS_DIR (default .idpack/dkim), mode 0600.
    """


def _keys_dir() -> Path:
    return Path(os.environ.get("IDPACK_DKIM_KEYS_DIR") or
                Path(os.environ.get("IDPACK_HOME") or ".idpack") / "dkim")


@dkim.command()
@click.option("--selector", required=True, help="Selector name, e.g. mc2026 (a date is usual).")
@click.option("--overwrite", is_flag=True, help="Replace existing keys of this selector.")
def keygen(selector: str, overwrite: bool) -> None:
    """Write a new RSA-2048 and Ed25519 key pair for SELECTOR."""
    from mail.dkim_keys import generate, key_paths

    generate(_keys_dir(), selector, overwrite=overwrite)
    for path in key_paths(_keys_dir(), selector):
        click.echo(f"wrote {path} (mode 0600)")
    click.echo(f"Publish the records of `idpack dkim dns --selector {selector}` before the "
               "relay signs with them.")


@dkim.command()
@click.option("--selector", help="Selector name given to keygen (default: the relay's, "
                                 "IDPACK_DKIM_SELECTOR, or else the only one with keys).")
@click.option("--domain", help="The signing domain, d= (default: the relay's first of "
                               "IDPACK_RELAY_DOMAINS, mikrocloud.com).")
def dns(selector: str | None, domain: str | None) -> None:
    """Print the DNS TXT records that publish the relay's public keys (zone-file lines),
    ready to paste into the signing domain's zone."""
    from mail.dkim_keys import chosen_selector, load
    from mail.settings import RelaySettings

    settings = RelaySettings.from_env(os.environ)
    selector = selector or chosen_selector(settings.dkim_keys_dir, settings.dkim_selector)
    domain = domain or sorted(settings.domains)[0]
    click.echo(f"; DKIM keys of selector {selector} for {domain} (RSA-2048 and Ed25519)")
    for name, value in load(settings.dkim_keys_dir, selector).txt_records(domain).items():
        chunks = " ".join(f'"{value[i:i + 255]}"' for i in range(0, len(value), 255))
        click.echo(f"{name}. IN TXT ( {chunks} )")


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
    except ConfigError as exc:
        click.echo(f"idpack: error: {len(exc.problems)} problem(s):", err=True)
        for problem in exc.problems:
            click.echo(f"  {problem}", err=True)
        sys.exit(1)
    except IdpackError as exc:
        click.echo(f"idpack: error: {exc}", err=True)
        sys.exit(1)
    sys.exit(code if isinstance(code, int) else 0)
