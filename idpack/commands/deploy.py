"""`idpack deploy build|secrets`: the production images, and the secrets
docker-compose.yml reads (README.md, "Deploying")."""

from __future__ import annotations

import time
from pathlib import Path

import click

from idpack.progress import say


@click.group()
def deploy() -> None:
    """The production stack of docker-compose.yml: images and secrets.

    \b
      idpack deploy build                    # the images, on Debian's public image
      idpack deploy build --base local       # ... on a base made here (mmdebstrap)
      idpack deploy secrets deploy/secrets --public-host id.example.org
      PUBLIC_HOST=id.example.org PUBLIC_URL=https://id.example.org \\
        podman-compose up -d                 # or: docker compose up -d
    """


@deploy.command()
@click.option("--base", default="public", show_default=True, metavar="public|local|IMAGE",
              help="The Debian 12 base: `public` pulls debian:bookworm-slim, `local` makes "
                   "one here from Debian's archive with mmdebstrap (no image registry "
                   "needed), or name any image.")
@click.option("--engine", type=click.Choice(["podman", "docker"]),
              help="The container engine (default: podman if installed, else docker).")
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

    root = Path(__file__).resolve().parents[2]
    if not (root / "deploy" / "images").is_dir():
        raise click.ClickException(f"{root}/deploy/images is missing: run this from a "
                                   "checkout of idpack (the recipes live there)")
    started = time.monotonic()
    chosen_engine = container_engine(wanted=engine)
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
        "then `podman-compose up -d` (README.md, Deploying).")


@deploy.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path),
                default=Path("deploy/secrets"))
@click.option("--public-host", default="localhost", show_default=True,
              help="The host name the self-signed TLS certificate is made for.")
def secrets(directory: Path, public_host: str) -> None:
    """Make the secrets docker-compose.yml reads, in DIRECTORY (default deploy/secrets).

    Each is one file: database and admin passwords, client secrets, the portal's session
    key, the relay's DKIM keys (selector idpack) and a self-signed TLS certificate.
    Existing files are kept; replace tls.crt and tls.key with a real certificate.
    """
    from idpack.commands.deploy_secrets import write_secrets

    for path, made in write_secrets(directory, public_host):
        click.echo(f"{'made' if made else 'kept'} {path}")
    click.echo(f"Publish the DKIM records: IDPACK_DKIM_KEYS_DIR={directory} idpack dkim dns")
