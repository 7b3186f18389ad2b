"""`idpack migrate ucloud EXPORT`: a UCloud installation's users into Keycloak, passwords,
TOTP secrets and WAYF links kept (idpack/migration/ucloud_export.py), through the same
resumable bulk import as `idpack users import`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import click

from idpack.commands.users import import_target, progress_line, realm_option, summary
from idpack.errors import IdpackError
from idpack.keycloak.user_import import (
    Checkpoint,
    Json,
    Refused,
    UserImporter,
    read_json_lines,
    source_identity,
)
from idpack.migration.ucloud_export import PrincipalError, keycloak_user
from idpack.progress import say


@click.group()
def migrate() -> None:
    """Move an existing installation's users into Keycloak."""


@migrate.command("ucloud")
@click.argument("export", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@realm_option
@click.option("--dry-run", is_flag=True, help="Print what would be imported; change nothing.")
def ucloud(export: Path, realm: str | None, dry_run: bool) -> None:
    """Import UCloud's principals from EXPORT (JSON lines, docs/ucloud-export.md): usernames
    kept, roles mapped, passwords and TOTP secrets kept, WAYF users linked to the `wayf`
    identity provider by their WAYF id.

    \b
    Run it twice and nobody is made twice; cut off, it goes on where it stopped. At the
    end it lists every principal it could not import, with the line and the reason.

    \b
      idpack migrate ucloud principals.jsonl --dry-run
      idpack migrate ucloud principals.jsonl --realm mikrocloud
    """
    refused: list[tuple[int, Refused]] = []
    users: list[tuple[int, Json, str]] = []
    for number, user, said, problem in _principals(export):
        if problem is None:
            users.append((number, user, said))
        else:
            refused.append((number, Refused(str(user.get("id", "?")), problem)))
    if dry_run:
        for number, user, said in users:
            print(f"line {number}: {user['username']}: {said}")
        print(f"Would import {len(users):,} users (users Keycloak already has are skipped); "
              f"{len(refused):,} cannot be imported.")
        _list_refused(refused)
        raise SystemExit(1 if refused else 0)
    realm, api = import_target(realm)
    say(f"Migrating {len(users):,} UCloud principals from {export} into realm {realm}")
    lines = {user["username"]: number for number, user, _ in users}
    report = UserImporter(api).run(
        (user for _, user, _ in users),
        checkpoint=Checkpoint(export.with_name(export.name + ".checkpoint"),
                              source_identity(export)),
        progress=progress_line(len(users)))
    print(summary(report))
    refused += [(lines.get(r.username, 0), r) for r in report.refused]
    _list_refused(sorted(refused, key=lambda item: item[0]))
    if refused:
        raise SystemExit(1)


def _principals(export: Path) -> Iterator[tuple[int, Json, str, str | None]]:
    try:
        for number, principal in read_json_lines(export):
            try:
                migrated = keycloak_user(principal)
            except PrincipalError as exc:
                yield number, principal, "", str(exc)
                continue
            yield number, migrated.user, migrated.summary, None
    except ValueError as exc:
        raise IdpackError(str(exc)) from None


def _list_refused(refused: list[tuple[int, Refused]]) -> None:
    if refused:
        print(f"Could not import {len(refused):,}:")
    for number, item in refused:
        print(f"  line {number}: {item.username}: {item.reason}")
