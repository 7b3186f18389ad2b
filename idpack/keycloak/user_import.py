"""Bulk import of users into a running Keycloak: Keycloak's partial import
(`POST /admin/realms/{realm}/partialImport`) in batches, resumable and idempotent.

Why the partial import and not Keycloak's own import of user JSON files (`kc.sh import`):
the file import runs on a Keycloak node that is stopped, with the database to itself,
and skips a realm that exists unless it may overwrite it whole, so it can neither add
users to a live realm nor resume. The partial import runs against the live cluster,
through the Admin API an operator already reaches, one database transaction a batch;
with `ifResourceExists=SKIP` a user who exists is left alone, so running an import
twice creates nobody twice. The two were measured on this machine: see README "Scale".

Resuming: after each batch the checkpoint file records how many users of the source
were handled, and into which realm (its id); a new run into the same realm skips those
without asking Keycloak, and whatever it repeats (the batch a crash cut off) Keycloak
skips. A batch Keycloak refuses (one user it
cannot take fails the whole transaction) is split in halves until the users it cannot
take stand alone; those go into the report with Keycloak's reason, the rest are
imported. Keycloak imports a user whose realm role or identity provider does not exist
without it, silently: such users are refused here before they are sent."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any

from idpack.keycloak.errors import KeycloakRequestError
from idpack.keycloak.realm_admin import RealmAdmin

Json = dict[str, Any]
# Measured on Keycloak 26.7 on PostgreSQL (README "Scale"): a partial import's cost per
# user grows with the batch (one persistence context for the whole request), so small
# batches, several at a time, import fastest: 50 users, 4 in flight.
DEFAULT_BATCH = 50
DEFAULT_PARALLEL = 4


@dataclass
class Refused:
    username: str
    reason: str


@dataclass
class ImportReport:
    added: int = 0
    skipped: int = 0  # already in Keycloak (same username, or its email taken)
    resumed_past: int = 0  # handled by an earlier run, per the checkpoint
    refused: list[Refused] = field(default_factory=list)
    seconds: float = 0.0
    added_ids: dict[str, str] = field(default_factory=dict)  # username -> id, this run

    @property
    def handled(self) -> int:
        return self.added + self.skipped + len(self.refused)


@dataclass(frozen=True)
class Checkpoint:
    """How far an import of one source into one realm got: {"source": ..., "realm": ...,
    "done": N} in a JSON file, replaced atomically after every batch. The realm is its
    id, so the same file imported into another realm (or into the realm deleted and made
    again) starts over instead of skipping what went elsewhere."""

    path: Path
    source: str

    def done(self, realm_id: str) -> int:
        try:
            saved = json.loads(self.path.read_text())
        except (OSError, ValueError):
            return 0
        if saved.get("source") != self.source or saved.get("realm") != realm_id:
            return 0  # another source's or realm's checkpoint: start over
        return int(saved.get("done", 0))

    def save(self, done: int, realm_id: str) -> None:
        partial = self.path.with_name(self.path.name + ".tmp")
        partial.write_text(json.dumps({"source": self.source, "realm": realm_id,
                                       "done": done}))
        partial.replace(self.path)


Progress = Callable[[ImportReport, int], None]  # (report so far, users handled in total)


class UserImporter:
    def __init__(self, api: RealmAdmin, *, batch_size: int = DEFAULT_BATCH,
                 parallel: int = DEFAULT_PARALLEL, default_roles: bool = True) -> None:
        if batch_size < 1 or parallel < 1:
            raise ValueError("batch_size and parallel must be at least 1")
        self.api = api
        self.batch_size = batch_size
        self.parallel = parallel
        self._lock = threading.Lock()
        self._roles: set[str] = set()
        self._providers: set[str] = set()
        # Users made through the API get the realm's default roles; imported ones do not,
        # unless they carry them.
        self._default_role = f"default-roles-{api.name}" if default_roles else None

    def run(self, users: Iterable[Json], *, checkpoint: Checkpoint | None = None,
            progress: Progress | None = None) -> ImportReport:
        report = ImportReport()
        started = time.monotonic()
        self._roles = {str(r["name"]) for r in self.api.realm_roles()}
        self._providers = set(self.api.identity_provider_aliases())
        source = iter(users)
        realm_id = str(self.api.get()["id"]) if checkpoint else ""
        skip = checkpoint.done(realm_id) if checkpoint else 0
        if skip:
            report.resumed_past = sum(1 for _ in islice(source, skip))
        handled = report.resumed_past
        # Batches run `parallel` at a time; the checkpoint moves only past batches that
        # are done with none unfinished before them, so a crash repeats, never skips.
        running: dict[Future[None], int] = {}  # batch -> its number
        sizes: dict[int, int] = {}  # batch number -> users in it, until counted
        done: set[int] = set()
        counted = 0  # batches 0 .. counted-1 are done and counted

        def settle(block_until_below: int) -> None:
            nonlocal handled, counted
            while len(running) >= block_until_below and running:
                finished, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in finished:
                    done.add(running.pop(future))
                    future.result()  # an error Keycloak gave no reason for stops it all
            moved = False
            while counted in done:
                done.discard(counted)
                handled += sizes.pop(counted)
                counted += 1
                moved = True
            if moved:
                if checkpoint:
                    checkpoint.save(handled, realm_id)
                if progress:
                    report.seconds = time.monotonic() - started
                    progress(report, handled)

        with ThreadPoolExecutor(self.parallel, thread_name_prefix="import") as pool:
            for number, batch in enumerate(_batches(source, self.batch_size)):
                settle(self.parallel)
                sizes[number] = len(batch)
                users = [self._with_default_role(u) for u in batch]
                running[pool.submit(self._import, users, report)] = number
            settle(1)
        report.seconds = time.monotonic() - started
        return report

    def _with_default_role(self, user: Json) -> Json:
        if self._default_role is None:
            return user
        roles = list(user.get("realmRoles") or [])
        if self._default_role not in roles:
            roles.insert(0, self._default_role)
        return {**user, "realmRoles": roles}

    def _unknown_references(self, user: Json) -> str | None:
        roles = [str(r) for r in user.get("realmRoles") or [] if str(r) not in self._roles]
        if roles:
            return f"realm role {roles[0]!r} does not exist in realm {self.api.name}"
        for link in user.get("federatedIdentities") or []:
            if str(link.get("identityProvider")) not in self._providers:
                return (f"identity provider {link.get('identityProvider')!r} does not "
                        f"exist in realm {self.api.name}")
        return None

    def _import(self, batch: list[Json], report: ImportReport) -> None:
        checked = []
        for user in batch:
            reason = self._unknown_references(user)
            if reason is None:
                checked.append(user)
            else:
                with self._lock:
                    report.refused.append(Refused(str(user.get("username")), reason))
        if checked:
            self._send(checked, report)

    def _send(self, batch: list[Json], report: ImportReport) -> None:
        try:
            result = self.api.partial_import({"users": batch}, if_exists="SKIP")
        except KeycloakRequestError as exc:
            if exc.status in (401, 403) or exc.status > 500:
                raise  # we may not, or Keycloak is down: splitting cannot help
            if len(batch) == 1:
                with self._lock:
                    report.refused.append(Refused(str(batch[0].get("username")),
                                                  exc.reason or f"HTTP {exc.status}"))
                return
            middle = len(batch) // 2
            self._send(batch[:middle], report)
            self._send(batch[middle:], report)
            return
        with self._lock:
            for item in result.get("results") or []:
                if item.get("resourceType") != "USER":
                    continue
                if item.get("action") == "ADDED":
                    report.added += 1
                    report.added_ids[str(item.get("resourceName"))] = str(item.get("id"))
                else:
                    report.skipped += 1


def _batches(items: Iterator[Json], size: int) -> Iterator[list[Json]]:
    while batch := list(islice(items, size)):
        yield batch


def read_json_lines(path: Path) -> Iterator[tuple[int, Json]]:
    """(line number, object) for each non-empty line of a JSON-lines file; a line that is
    not a JSON object raises ValueError naming the file and line."""
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                value = json.loads(line)
            except ValueError as exc:
                raise ValueError(f"{path}:{number}: not JSON ({exc.args[0]})") from None
            if not isinstance(value, dict):
                raise ValueError(f"{path}:{number}: a line must hold one JSON object")
            yield number, value


def source_identity(path: Path) -> str:
    """What names a source file for its checkpoint: its path, size and modification time
    (a changed file starts over; Keycloak skips what the earlier run imported)."""
    stat = path.stat()
    return f"{path.resolve()}:{stat.st_size}:{stat.st_mtime_ns}"
