"""`idpack realm validate|plan|apply|export`: the realm as code."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from idpack.commands.stack_files import StackFiles, StackSettings, local_secrets
from idpack.errors import IdpackError
from idpack.keycloak.admin import KeycloakAdminClient
from idpack.keycloak.errors import KeycloakUnavailable
from idpack.keycloak.realm_admin import RealmAdmin
from idpack.keycloak.settings import existing_keycloak, keycloak_to_talk_to
from idpack.progress import say
from idpack.settings import read_stack_file
from provisioning.config import LoadedConfig, load_config
from provisioning.engine import ApplyError, apply_plan, plan_realm
from provisioning.plan import Plan
from provisioning.registry import prunable_text
from provisioning.source import ConfigError

DEFAULT_FILE = Path("realm-config/mikrocloud.yaml")
EXIT_IN_SYNC, EXIT_ERROR, EXIT_CHANGES = 0, 1, 2

file_option = click.option(
    "-f", "--file", "files", multiple=True, type=click.Path(path_type=Path),
    help=f"Realm file (default {DEFAULT_FILE}), or Keycloak's realm JSON (*.json, as "
         "a realm export writes it); more -f files merge over it in order.")
env_option = click.option(
    "-e", "--env", "environment", metavar="NAME",
    help="Merge environments/NAME.yaml (beside the realm file) over it, e.g. --env dev.")
realm_option = click.option(
    "--realm", metavar="NAME", help="Apply the file to a realm of this name instead.")
wait_option = click.option(
    "--wait", "wait_seconds", type=click.FloatRange(min=0), default=0, metavar="SECONDS",
    help="Wait up to this long for Keycloak to answer first (a deployment's one-shot "
         "realm job starts with the servers).")
prune_option = click.option(
    "--prune", is_flag=True,
    help="Delete what is in Keycloak but not in the file, for every prunable kind "
         f"({prunable_text()}). Without it only the kinds listed under prune: are.")


def _paths(files: tuple[Path, ...], environment: str | None) -> list[Path]:
    paths = list(files) or [DEFAULT_FILE]
    if environment:
        overlay = paths[0].parent / "environments" / f"{environment}.yaml"
        if not overlay.is_file():
            raise IdpackError(f"{overlay}: no such environment overlay")
        paths.append(overlay)
    return paths


def _load(files: tuple[Path, ...], environment: str | None, realm: str | None) -> tuple[
        LoadedConfig, list[Path]]:
    """The files with the secrets and defaults of where they go: against the local stack
    (KEYCLOAK_URL unset, `make run` running), what `make run` applied (its realm, realm
    file and overlays, and the client secrets it generated into .idpack/secrets/)."""
    env: dict[str, str] = dict(os.environ)
    local = _local_stack()
    if local is None:
        paths = _paths(files, environment)
        return _with_hint(lambda: load_config(paths, env, realm=realm, notes=say)), paths
    stack, document = local
    paths = _paths(files, environment) if files or environment else stack.realm_files()
    generated = local_secrets(StackFiles(stack.state_dir), env)
    # The plain values the realm file reads, as `make run` gave them (see idpack.stack).
    where = {"IDPACK_PORTAL_URL": document.get("portal_url"),
             "IDPACK_SMTP_HOST": document.get("smtp_host"),
             "IDPACK_SMTP_PORT": document.get("smtp_port")}
    generated |= {name: str(value) for name, value in where.items()
                  if value is not None and not env.get(name)}
    realm = realm or str(document.get("realm") or "") or None
    say(f"Against the local stack ({stack.state_dir / 'stack.json'}): "
        + " + ".join(map(str, paths))
        + (f"; client secrets {', '.join(sorted(set(generated) - set(where)))} from "
           f"{stack.state_dir / 'secrets'}/" if set(generated) - set(where) else "") + ".")
    return _with_hint(lambda: load_config(paths, {**generated, **env}, realm=realm,
                                          notes=say)), paths


def _local_stack() -> tuple[StackSettings, dict[str, object]] | None:
    """`make run`'s settings and stack.json, when it is the target."""
    if existing_keycloak() is not None:
        return None
    stack = StackSettings.from_env(stack_file=False)
    document = read_stack_file(stack.state_dir / "stack.json")
    return (stack, document) if document else None


def _with_hint(load: Callable[[], LoadedConfig]) -> LoadedConfig:
    """A missing secret's error says which variables to export, and where the local
    stack keeps its own."""
    try:
        return load()
    except ConfigError as exc:
        if not any("is not set" in problem for problem in exc.problems):
            raise
        secrets_dir = StackFiles(StackSettings.from_env(stack_file=False).state_dir).secrets_dir
        raise ConfigError(exc.problems, hint=(
            "Export the variables named above, with the secrets of the realm's clients and "
            "identity providers. For the local stack of `make run`, unset KEYCLOAK_URL: "
            f"idpack then reads the secrets it generated from {secrets_dir}/.")) from None


def _realm_api(realm: str, wait_seconds: float = 0) -> RealmAdmin:
    target = keycloak_to_talk_to()
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            # A deployment's job on a busy host: a slow answer is not a dead server.
            client = KeycloakAdminClient.connect(target, timeout=30.0 if wait_seconds else 10.0)
            # A deployment's nodes come up one by one behind the balancer: while the
            # wait lasts, a node answering "still starting" is asked again.
            client.unavailable_grace = (max(120.0, deadline - time.monotonic())
                                        if wait_seconds else 0.0)
            return client.realm(realm)
        except KeycloakUnavailable as exc:
            if time.monotonic() >= deadline:
                raise
            say(f"Waiting for Keycloak at {target.url}: {str(exc).splitlines()[0]}")
            time.sleep(min(5.0, max(0.0, deadline - time.monotonic())))


def _colour(no_colour: bool) -> bool:
    return not no_colour and "NO_COLOR" not in os.environ and sys.stdout.isatty()


@click.group()
def realm() -> None:
    """The realm as code: validate, plan, apply, export, convert.

    \b
    The realm lives in realm-config/mikrocloud.yaml; overlays in
    realm-config/environments/ merge over it. Secrets are references,
    ${env:NAME} or ${file:PATH}, never values. Typical use:
      idpack realm validate
      idpack realm plan            # exit 0 in sync, 2 changes pending, 1 error
      idpack realm apply           # shows the plan, asks, applies
      idpack realm apply --auto-approve --env dev     # in CI
    Coming from a realm export (Keycloak's JSON):
      idpack realm plan -f realm-export.json          # read as it is
      idpack realm convert realm-export.json -o realm-config/mikrocloud.yaml
    """


@realm.command()
@file_option
@env_option
def validate(files: tuple[Path, ...], environment: str | None) -> None:
    """Check the files against the schema without contacting Keycloak."""
    from provisioning.kinds.clients import CLIENTS
    from provisioning.kinds.identity_providers import IDENTITY_PROVIDERS
    from provisioning.kinds.roles import ROLES

    loaded, paths = _load(files, environment, None)
    config = loaded.config
    click.echo(f"{', '.join(map(str, paths))}: valid realm {config.realm} "
               f"({len(CLIENTS.of(config))} clients, {len(ROLES.of(config))} roles, "
               f"{len(IDENTITY_PROVIDERS.of(config))} identity providers)")


def planning_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """The options plan and apply share: what to plan, and against what."""
    for option in reversed((file_option, env_option, realm_option, prune_option, wait_option,
                            click.option("--no-color", "no_colour", is_flag=True,
                                         help="No colour, even on a terminal."))):
        command = option(command)
    return command


@realm.command()
@planning_options
@click.option("--json", "as_json", is_flag=True, help="Print the plan as JSON.")
def plan(files: tuple[Path, ...], environment: str | None, realm: str | None, prune: bool,
         wait_seconds: float, as_json: bool, no_colour: bool) -> int:
    """Show what apply would change, field by field, without changing anything.

    Exit code 0 when Keycloak matches the files, 2 when changes are pending, 1 on
    error: `idpack realm plan || alert` detects drift in CI.
    """
    _, result = _timed_plan(files, environment, realm, prune, wait_seconds)
    click.echo(result.as_json() if as_json else result.render(colour=_colour(no_colour)))
    return EXIT_IN_SYNC if result.empty else EXIT_CHANGES


def _timed_plan(files: tuple[Path, ...], environment: str | None, realm: str | None,
                prune: bool, wait_seconds: float) -> tuple[RealmAdmin, Plan]:
    """The files loaded, Keycloak reached, and the plan, with what reading it took."""
    loaded, paths = _load(files, environment, realm)
    api = _realm_api(loaded.config.realm, wait_seconds)
    started, before = time.monotonic(), api.client.requests_made
    result = plan_realm(api, loaded.config, base_dir=paths[0].parent, prune_all=prune,
                        origin=" + ".join(map(str, paths)))
    say(f"Read realm {api.name} in {api.client.requests_made - before} requests "
        f"({time.monotonic() - started:.2f} s).")
    return api, result


@realm.command()
@planning_options
@click.option("--auto-approve", is_flag=True, help="Apply without asking.")
def apply(files: tuple[Path, ...], environment: str | None, realm: str | None, prune: bool,
          wait_seconds: float, auto_approve: bool, no_colour: bool) -> int:
    """Plan, show the plan, ask, then make Keycloak match the files.

    Safe to interrupt and re-run: each run plans from what Keycloak holds now. With
    --wait, Keycloak going away mid-apply (a node restarting, a request timing out on a
    busy host) within the wait is met by planning again from what it holds.
    """
    deadline = time.monotonic() + wait_seconds
    replanned = False
    while True:
        api, result = _timed_plan(files, environment, realm, prune, wait_seconds)
        click.echo(result.render(colour=_colour(no_colour)))
        if result.empty:
            return EXIT_IN_SYNC
        if not auto_approve:
            if not sys.stdin.isatty():
                raise IdpackError("apply needs a confirmation and there is no terminal to "
                                  "ask: review the plan and pass --auto-approve")
            click.confirm("Apply these changes?", abort=True)
        before = api.client.requests_made
        try:
            seconds = apply_plan(api, result, say)
        except KeycloakUnavailable as exc:
            if time.monotonic() >= deadline:
                raise
            say(f"Keycloak stopped answering mid-apply ({str(exc).splitlines()[0]}); "
                "planning again from what it holds.")
            wait_seconds = max(0.0, deadline - time.monotonic())
            continue
        except ApplyError as exc:
            # Something else changed the realm meanwhile (another job, an admin): the
            # plan is stale. Once, plan again from what Keycloak holds now.
            if not wait_seconds or replanned:
                raise
            replanned = True
            say(f"{exc.problems[0]}; planning again from what Keycloak holds now.")
            continue
        say(f"Applied {len(result.changes)} changes to realm {result.realm} in "
            f"{seconds:.1f} s ({api.client.requests_made - before} requests).")
        return EXIT_IN_SYNC



@realm.command("refresh-metadata")
@file_option
@env_option
@realm_option
@wait_option
@click.option("--every", "every_seconds", type=click.FloatRange(min=10), metavar="SECONDS",
              help="Keep refreshing, a pass every SECONDS (a deployment's metadata-refresh "
                   "service); a refused document changes nothing and is tried again.")
def refresh_metadata(files: tuple[Path, ...], environment: str | None, realm: str | None,
                     wait_seconds: float, every_seconds: float | None) -> int:
    """Follow the signed SAML metadata of providers declared by `metadata: url`.

    \b
    Fetches each document, verifies its signature against the certificates pinned in
    `signedBy`, and applies what changed (a federation's new signing key, moved
    endpoints) to those identity providers alone; nothing else in the realm is touched.
    A federation announces a new key in its metadata before it signs with it, so a
    pass every hour follows a rotation without anyone acting:
      idpack realm refresh-metadata --env production              # once (cron, CI)
      idpack realm refresh-metadata --env production --every 3600 # as a service
    """
    from idpack.commands.metadata_refresh import refresh_pass

    status = StackSettings.from_env(stack_file=False).state_dir / "metadata-refresh.json"
    while True:
        try:
            loaded, paths = _load(files, environment, realm)
            api = _realm_api(loaded.config.realm, wait_seconds)
            if every_seconds is not None and not api.exists():
                # A deployment starts this beside the realm job, which makes the realm.
                say(f"Realm {api.name} does not exist yet (the realm job makes it); "
                    "looking again in 15 s.")
                time.sleep(15)
                continue
            refresh_pass(api, loaded.config, paths[0].parent, status, say)
            pause = every_seconds
        except IdpackError as exc:
            if every_seconds is None:
                raise
            pause = min(every_seconds, 300.0)  # a failed pass is tried again sooner
            say(f"metadata refresh failed, nothing was changed; next pass in "
                f"{pause:.0f} s: {exc}")
        if every_seconds is None or pause is None:
            return EXIT_IN_SYNC
        time.sleep(pause)
        wait_seconds = 0


@realm.command()
@click.option("--realm", "realm_name", metavar="NAME", default="mikrocloud", show_default=True,
              help="The realm to export.")
@click.option("-o", "--output", type=click.Path(path_type=Path),
              help="Write to this file instead of standard output.")
def export(realm_name: str, output: Path | None) -> None:
    """Write the live realm as a realm file (secrets as references).

    \b
    Adopt a realm made by hand, or see what drifted:
      idpack realm export --realm mikrocloud -o realm-config/mikrocloud.yaml
      idpack realm plan       # no changes
    """
    from provisioning.export import export_realm, to_yaml

    api = _realm_api(realm_name)
    try:
        text = to_yaml(export_realm(api))
    except ValueError as exc:
        raise IdpackError(str(exc)) from None
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        say(f"Wrote realm {realm_name} to {output}.")


@realm.command()
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("-o", "--output", type=click.Path(path_type=Path),
              help="Write to this file instead of standard output.")
def convert(source: Path, output: Path | None) -> None:
    """Convert Keycloak's realm JSON (a realm export) into idpack's realm file.

    \b
    Every secret in the JSON becomes a ${env:NAME} reference; the names are listed
    (first lines of the file, and here) and the values never written. Masked secrets
    (**********) are left out, with a warning; what idpack does not manage is listed.
      idpack realm convert mikrocloud-realm.json -o realm-config/mikrocloud.yaml
      idpack realm plan -f realm-config/mikrocloud.yaml      # set the secrets first
    """
    from provisioning.realm_json import read_realm_json, write_yaml

    converted = read_realm_json(source)
    for warning in converted.warnings:
        say(f"warning: {warning}")
    if converted.not_managed:
        say("Not managed by idpack (left out): " + "; ".join(converted.not_managed))
    text = write_yaml(converted)
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        say(f"Wrote {output} (realm {converted.document['realm']}).")
    if converted.secrets:
        say("It reads these secrets, which the JSON held: "
            + ", ".join(sorted(converted.secrets)) + ". Export them (their values are "
            "in the JSON) before `idpack realm plan`.")
