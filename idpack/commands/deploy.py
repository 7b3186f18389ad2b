"""`idpack deploy build|secrets`: the production images, and the secrets
docker-compose.yml reads (README.md, "Deploying")."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any

import click

from idpack.progress import say


@click.group()
def deploy() -> None:
    """The production stack of docker-compose.yml: images, secrets, up, status.

    \b
      idpack deploy build                    # the images, on Debian's public image
      idpack deploy build --base local       # ... on a base made here (mmdebstrap)
      idpack deploy secrets deploy/secrets --public-host id.example.org
      idpack deploy secrets deploy/secrets --idp github --client-id Iv1.8a6...
      idpack deploy up                       # .env beside docker-compose.yml
      idpack deploy status                   # each service's state, health, last line
    """


def _root() -> Path:
    """The checkout `idpack deploy` works in: the current folder (as the README runs
    it), else the one idpack is installed from."""
    for root in (Path.cwd(), Path(__file__).resolve().parents[2]):
        if (root / "deploy" / "images").is_dir() and (root / "docker-compose.yml").is_file():
            return root
    raise click.ClickException("no deploy/images here: run this from a checkout of idpack "
                               "(the recipes and docker-compose.yml live there)")


def _podman_env(engine: str) -> dict[str, str]:
    """CONTAINERS_CONF where podman's defaults fail on this host (deploy_host.py)."""
    if engine != "podman":
        return {}
    from idpack.commands.deploy_host import podman_host_config
    from idpack.commands.stack_files import StackSettings

    host = podman_host_config(StackSettings.from_env(stack_file=False).state_dir)
    if host.path is not None and "CONTAINERS_CONF is set" not in host.reasons:
        say(f"podman on this host: {host.path} ({'; '.join(host.reasons)}). For podman "
            f"commands of your own: export CONTAINERS_CONF={host.path}")
    return host.env()


engine_option = click.option(
    "--engine", type=click.Choice(["podman", "docker"]),
    help="The container engine (default: podman if installed, else docker).")


@deploy.command()
@click.option("--base", default="public", show_default=True, metavar="public|local|IMAGE",
              help="The Debian 12 base: `public` pulls debian:bookworm-slim, `local` makes "
                   "one here from Debian's archive with mmdebstrap (no image registry "
                   "needed), or name any image.")
@engine_option
@click.option("--tag", default="latest", show_default=True, help="The images' tag.")
@click.option("--prefix", default="localhost/idpack", show_default=True,
              help="Image names: PREFIX (the services), PREFIX-keycloak, -postgres, "
                   "-redis, -proxy.")
@click.option("--only", "only", multiple=True, type=click.Choice(
    ["keycloak", "idpack", "postgres", "redis", "proxy"]), help="Build only these images.")
def build(base: str, engine: str | None, tag: str, prefix: str, only: tuple[str, ...]) -> None:
    """Build the images docker-compose.yml runs, from deploy/images/*/Containerfile."""
    from idpack.commands.deploy_images import (
        IMAGES,
        LOCAL_BASE,
        PUBLIC_BASE,
        ImageBuild,
        build_image,
        container_engine,
        make_local_base,
        prepare_context,
    )

    root = _root()
    started = time.monotonic()
    chosen_engine = container_engine(wanted=engine)
    os.environ.update(_podman_env(chosen_engine))  # the builds' containers need it too
    image_base = {"public": PUBLIC_BASE, "local": LOCAL_BASE}.get(base, base)
    if base == "local":
        seconds = make_local_base(chosen_engine, say)
        if seconds:
            say(f"  base image made in {seconds:.0f} s")
    plan = ImageBuild(root=root, engine=chosen_engine, prefix=prefix, tag=tag, base=image_base)
    images = [i for i in IMAGES if not only or i in only]
    version = prepare_context(plan, images, say)
    for image in images:
        say(f"Building {plan.name(image)} on {image_base} ...")
        say(f"  built in {build_image(plan, image, version):.0f} s")
    say(f"Images ready in {time.monotonic() - started:.0f} s. Next: `idpack deploy secrets`, "
        "then `idpack deploy up` (README.md, Deploying).")


@deploy.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path),
                default=Path("deploy/secrets"))
@click.option("--public-host", default="localhost", show_default=True,
              help="The host name the self-signed TLS certificate is made for.")
@click.option("--idp", type=click.Choice(["google", "github", "microsoft", "oidc"]),
              help="Write this identity provider's credentials (its OAuth app's client id "
                   "and secret): the realm job turns it on at its next run.")
@click.option("--client-id", metavar="ID", help="With --idp: the client id (else asked).")
@click.option("--client-secret", metavar="SECRET",
              help="With --idp: the client secret. Better left out: it is then asked "
                   "for without echo on a terminal, or read from standard input.")
@click.option("--issuer", metavar="URL",
              help="With --idp oidc: the provider's issuer URL.")
@click.option("--remove", is_flag=True,
              help="With --idp: remove its credentials (the realm job switches it off).")
@click.option("--realm-file", type=click.Path(dir_okay=False, path_type=Path),
              default=Path("realm-config/mikrocloud.yaml"), show_default=True,
              help="The realm file, which names the variables the credentials become.")
def secrets(directory: Path, public_host: str, idp: str | None, client_id: str | None,
            client_secret: str | None, issuer: str | None, remove: bool,
            realm_file: Path) -> None:
    """Make the secrets docker-compose.yml reads, in DIRECTORY (default deploy/secrets).

    \b
    Each is one file: database and admin passwords, client secrets, the portal's
    session key, the relay's DKIM keys (selector idpack) and a self-signed TLS
    certificate. Existing files are kept; replace tls.crt and tls.key with a real
    certificate. An identity provider is switched on by its credentials:
      idpack deploy secrets deploy/secrets --idp github --client-id Iv1.8a6...
      printf '%s' "$SECRET" | idpack deploy secrets deploy/secrets --idp google \\
          --client-id 1234.apps.googleusercontent.com
      idpack deploy secrets deploy/secrets --idp oidc --issuer https://login.example.org \\
          --client-id idpack
      idpack deploy secrets deploy/secrets --idp microsoft --remove
    then run the realm job again (`idpack deploy up`). Secret values are never printed.
    """
    from idpack.commands.deploy_secrets import (
        provider_variables,
        remove_provider,
        write_provider,
        write_secrets,
    )

    if idp is None:
        if client_id or client_secret or issuer or remove:
            raise click.UsageError("--client-id, --client-secret, --issuer and --remove "
                                   "go with --idp NAME")
        for path, made in write_secrets(directory, public_host):
            click.echo(f"{'made' if made else 'kept'} {path}")
        click.echo(f"Publish the DKIM records: IDPACK_DKIM_KEYS_DIR={directory} idpack dkim dns")
        return
    variables = provider_variables(realm_file, idp)
    write_secrets(directory, public_host)  # the folder and the rest, where missing
    if remove:
        removed = remove_provider(directory, variables)
        click.echo(f"{idp}: removed {', '.join(map(str, removed)) or 'nothing (none set)'}; "
                   "the realm job switches it off at its next run.")
        return
    if "issuer" in variables and not issuer:
        raise click.UsageError(f"--idp {idp} needs --issuer URL")
    if issuer and "issuer" not in variables:
        raise click.UsageError(f"--idp {idp} takes no --issuer")
    values = {"client_id": client_id or _ask(f"{idp} client id", hide=False),
              "client_secret": client_secret or _ask(f"{idp} client secret", hide=True)}
    if issuer:
        values["issuer"] = issuer.rstrip("/")
    for path, made in write_provider(directory, variables, values):
        click.echo(f"{'made' if made else 'replaced'} {path}")
    click.echo(f"{idp}: credentials written; run the realm job again to switch it on "
               "(`idpack deploy up`).")


def _ask(what: str, *, hide: bool) -> str:
    """A value from the terminal (hidden for a secret), or one line of standard input."""
    if sys.stdin.isatty():
        value: str = click.prompt(what.capitalize(), hide_input=hide,
                                  confirmation_prompt=hide)
    else:
        value = sys.stdin.readline().strip()
    if not value:
        raise click.UsageError(f"no {what} given (a flag, the terminal, or standard input)")
    return value


@deploy.command()
@engine_option
@click.option("--timeout", type=click.FloatRange(min=30), default=600, show_default=True,
              metavar="SECONDS", help="How long to wait for every service to be healthy.")
def up(engine: str | None, timeout: float) -> None:
    """Start the stack and wait until every service is healthy and the realm applied.

    \b
    Reads .env beside docker-compose.yml (README.md, "4. Start it"), and the compose
    files its COMPOSE_FILE names (on one machine, the host-network file too). Before starting
    anything it checks what would make compose fail or hang: the values an
    installation must give, the secrets, the images (built, or pullable), and what
    podman needs on this host. Then `compose up -d`, the realm job run again (it
    applies realm-config: new provider credentials, a changed file), and a wait with a
    line of progress; a failing realm job or service stops the wait with its log.
      idpack deploy up
    """
    from idpack.commands.deploy_stack import preflight, render, wait_until_ready

    started = time.monotonic()
    stack = _stack(engine)
    preflight(stack, say)
    say(f"Starting project {stack.project} with {' '.join(stack.tool()[-1:])} ...")
    done = stack.compose("up", "-d", timeout=600)
    if done.returncode != 0:
        raise click.ClickException(f"compose up failed (exit {done.returncode}):\n"
                                   f"{(done.stderr or done.stdout)[-3000:]}")
    realm = stack.state("realm", check_health=False)
    if realm.status == "exited":  # an earlier run's: apply again what the files say now
        stack.engine_run("start", realm.container or "")
    states = wait_until_ready(stack, timeout, say, started)
    click.echo(render(states))
    click.echo(f"Ready in {time.monotonic() - started:.0f} s: {stack.env['PUBLIC_URL']}")


@deploy.command()
@engine_option
@click.option("--no-plan", is_flag=True, help="Skip the realm's plan (it takes seconds).")
@click.option("--json", "as_json", is_flag=True, help="Print it as JSON.")
def status(engine: str | None, no_plan: bool, as_json: bool) -> int:
    """Each service's state, health (its check run now), last log line, and the realm's
    plan against realm-config. Exit 0 when all is well, 1 when something is not."""
    from idpack.commands.deploy_images import container_engine
    from idpack.commands.deploy_stack import Stack, realm_plan_state, render
    from idpack.commands.deploy_stack import as_json as states_json

    chosen = container_engine(wanted=engine)
    stack = Stack.of(_root(), chosen, extra=_podman_env(chosen))
    states = [stack.state(service) for service in stack.services()]
    realm = None if no_plan else realm_plan_state(stack)
    if as_json:
        click.echo(states_json(states, realm))
    else:
        click.echo(render(states))
        if realm is not None:
            click.echo(f"realm: {realm}")
    healthy = all(s.ready for s in states) and (realm is None or realm.startswith("in sync"))
    return 0 if healthy else 1


def _stack(engine: str | None) -> Any:
    from idpack.commands.deploy_images import container_engine
    from idpack.commands.deploy_stack import Stack

    chosen = container_engine(wanted=engine)
    return Stack.of(_root(), chosen, extra=_podman_env(chosen))


@deploy.command("realm")
@engine_option
@click.argument("action", type=click.Choice(["plan", "apply"]))
def realm_command(engine: str | None, action: str) -> int:
    """Plan or apply this checkout's realm-config to the running stack (a team's CI).

    \b
    Runs in the realm job's container, so with the stack's own secrets, provider
    credentials and public URLs (never a laptop's defaults); only realm-config/ is this
    checkout's. Exit codes as `idpack realm plan`: 0 in sync, 2 changes, 1 error.
      idpack deploy realm plan      # a pull request: exit 2 shows the diff
      idpack deploy realm apply     # on merge
    """
    from idpack.commands.deploy_stack import realm_job

    stack = _stack(engine)
    environment = stack.env.get("REALM_ENV", "production")
    extra = ["--auto-approve"] if action == "apply" else []
    return int(realm_job(stack, action, *extra, "--env", environment))


@deploy.command()
@engine_option
@click.argument("target", type=click.Path(dir_okay=False, path_type=Path))
def backup(engine: str | None, target: Path) -> None:
    """Dump Keycloak's database (every user, the realm) into TARGET.

    \b
    pg_dump's custom format, written whole or not at all. Restore into an empty
    database with pg_restore (README.md, "Operating it"):
      idpack deploy backup keycloak-$(date +%F).dump
    """
    from idpack.commands.deploy_stack import backup as dump

    size = dump(_stack(engine), target)
    click.echo(f"{target}: {size / 1e6:.1f} MB (pg_dump -Fc)")
