"""`idpack users import FILE`: many users into Keycloak at once, resumably (see
idpack/keycloak/user_import.py for how, and README "Scale" for the figures)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import click

from idpack.errors import IdpackError
from idpack.keycloak.admin import KeycloakAdminClient
from idpack.keycloak.realm_admin import RealmAdmin
from idpack.keycloak.settings import DEFAULT_REALM, existing_keycloak, keycloak_to_talk_to
from idpack.keycloak.user_import import (
    DEFAULT_BATCH,
    DEFAULT_PARALLEL,
    Checkpoint,
    ImportReport,
    Json,
    UserImporter,
    read_json_lines,
    source_identity,
)
from idpack.progress import ProgressLine, say
from idpack.settings import read_stack_file, state_dir

IMPORT_TIMEOUT = 300.0  # seconds one batch may take on a busy server


@click.group()
def users() -> None:
    """Users in bulk (a few users a realm needs at creation belong in realm-config)."""


realm_option = click.option(
    "--realm", metavar="NAME",
    help="The realm (default: the running local stack's, else mikrocloud).")


@users.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@realm_option
@click.option("--batch-size", type=click.IntRange(1, 1000), default=DEFAULT_BATCH,
              show_default=True, help="Users a partial import request carries.")
@click.option("--parallel", type=click.IntRange(1, 32), default=DEFAULT_PARALLEL,
              show_default=True, help="Requests in flight at once.")
@click.option("--checkpoint", type=click.Path(dir_okay=False, path_type=Path),
              help="Where progress is kept to resume (default: FILE.checkpoint beside it).")
def import_users(file: Path, realm: str | None, batch_size: int, parallel: int,
                 checkpoint: Path | None) -> None:
    """Import the users of FILE, one Keycloak UserRepresentation a line (JSON lines: the
    fields of Keycloak's realm export, with credentials, roles, attributes and linked
    identity providers).

    \b
    Users whose username (or email) Keycloak already holds are skipped, so importing a
    file twice creates nobody twice. Cut off (Ctrl-C, a crash), the same command goes
    on where it stopped. Users Keycloak refuses are listed with its reason at the end;
    the others are imported.

    \b
      idpack users import users.jsonl --realm mikrocloud
      idpack users import users.jsonl --batch-size 50 --parallel 4
    """
    total = sum(1 for _ in _users(file))
    realm, api = import_target(realm)
    saved = Checkpoint(checkpoint or file.with_name(file.name + ".checkpoint"),
                      source_identity(file))
    say(f"Importing {total:,} users from {file} into realm {realm} "
        f"({batch_size} a request, {parallel} at once)")
    report = UserImporter(api, batch_size=batch_size, parallel=parallel).run(
        _users(file), checkpoint=saved, progress=progress_line(total))
    print(summary(report))
    for refused in report.refused:
        print(f"  refused {refused.username}: {refused.reason}")
    if report.refused:
        raise SystemExit(1)


def import_target(realm: str | None) -> tuple[str, RealmAdmin]:
    """The realm users go into (--realm, or the default), with its Admin API; a realm
    Keycloak does not have is refused before anything is read or written."""
    name = realm or default_realm()
    api = KeycloakAdminClient.connect(keycloak_to_talk_to(), timeout=IMPORT_TIMEOUT).realm(name)
    if not api.exists():
        raise IdpackError(f"Keycloak has no realm {name!r}: apply realm-config first "
                          "(idpack realm apply)")
    return name, api


def default_realm() -> str:
    """The running local stack's realm when idpack talks to it (KEYCLOAK_URL unset)."""
    if existing_keycloak() is not None:
        return DEFAULT_REALM
    stack = read_stack_file(state_dir(os.environ) / "stack.json")
    return str(stack.get("realm") or DEFAULT_REALM)


def _users(file: Path) -> Iterator[Json]:
    try:
        for _, user in read_json_lines(file):
            yield user
    except ValueError as exc:
        raise IdpackError(str(exc)) from None


def progress_line(total: int) -> ProgressLineCallback:
    return ProgressLineCallback(total)


class ProgressLineCallback:
    """'12,345/100,000 users (12.3 %), 480 a second, 3 min left', redrawn in place."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.line = ProgressLine()

    def __call__(self, report: ImportReport, handled: int) -> None:
        rate = report.handled / max(report.seconds, 0.001)
        left = (self.total - handled) / max(rate, 0.001)
        share = 100 * handled / max(self.total, 1)
        self.line.update(f"  {handled:,}/{self.total:,} users ({share:.1f} %), "
                         f"{rate:.0f} a second, {left / 60:.0f} min left")


def summary(report: ImportReport) -> str:
    parts = [f"{report.added:,} added", f"{report.skipped:,} already in Keycloak (skipped)"]
    if report.resumed_past:
        parts.append(f"{report.resumed_past:,} done by an earlier run")
    if report.refused:
        parts.append(f"{len(report.refused):,} refused")
    return f"Imported in {report.seconds:.1f} s: " + ", ".join(parts) + "."
