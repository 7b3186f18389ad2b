"""`idpack config`: each service's effective settings, where each value came from
(environment, the local stack's stack.json, or the default), secrets masked."""

from __future__ import annotations

import click

from idpack.errors import IdpackError
from idpack.settings import IdpackSettings, markdown_table


def services() -> dict[str, type[IdpackSettings]]:
    """Every settings class, by the name `idpack config NAME` takes."""
    from extensions.geo.settings import GeoSettings
    from extensions.portal.settings import PortalSettings
    from extensions.sidecar.settings import SidecarSettings
    from idpack.commands.stack_files import StackSettings
    from idpack.keycloak.settings import HarnessSettings, KeycloakTargetSettings
    from mail.settings import RelaySettings

    return {"stack": StackSettings, "keycloak": KeycloakTargetSettings,
            "harness": HarnessSettings, "relay": RelaySettings, "sidecar": SidecarSettings,
            "geo-worker": GeoSettings, "portal": PortalSettings}


@click.command()
@click.argument("service", required=False)
@click.option("--markdown", is_flag=True,
              help="The tables of every setting, defaults and descriptions (the README's).")
def config(service: str | None, markdown: bool) -> None:
    """Print the settings of SERVICE (all when left out) as they are in force here.

    \b
      idpack config               # every service
      idpack config sidecar       # stack, keycloak, harness, relay, sidecar,
                                  # geo-worker or portal
      idpack config --markdown    # the reference tables
    Values come from the environment, else the running local stack's stack.json (where
    Keycloak, the realm and the sidecar are), else the default. Secrets show as ********.
    """
    known = services()
    if service is not None and service not in known:
        raise click.UsageError(f"no service {service!r}; choose one of "
                               + ", ".join(known))
    chosen = [known[service]] if service else list(known.values())
    if markdown:
        click.echo(markdown_table(chosen), nl=False)
        return
    for settings_class in chosen:
        click.echo(f"{settings_class.service}:")
        try:
            rows = settings_class.from_env().describe()
        except IdpackError as exc:
            click.echo(f"  (cannot be read here: {exc})\n")
            continue
        width = max(len(variable) for variable, _, _ in rows)
        for variable, value, source in rows:
            click.echo(f"  {variable:<{width}}  {value}  ({source})")
        click.echo()
